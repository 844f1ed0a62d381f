/* Unit tests for cm_clock: monotonic and wall clocks, UTC formatting in both
 * forms for known instants (epoch, leap day, past 2038, before 1970), and
 * sleeping (including a restart after a signal interrupts it). */
#include "harness.h"

#include "cm/clock.h"

#include <signal.h>
#include <sys/time.h>
#include <time.h>

static void test_mono_increases(void)
{
    int64_t first = cm_clock_mono_ns(), prev = first;
    int backwards = 0;
    for (int i = 0; i < 100000; i++) {
        int64_t now = cm_clock_mono_ns();
        backwards += now < prev;
        prev = now;
    }
    CHECK_INT(backwards, 0);
    CHECK(first > 0);
    /* It does advance: spin (bounded) until it moves. */
    int64_t start = cm_clock_mono_ns(), later = start;
    for (int i = 0; i < 10000000 && later == start; i++)
        later = cm_clock_mono_ns();
    CHECK(later > start);
}

static void test_wall_is_unix_time(void)
{
    time_t before = time(NULL);
    int64_t wall = cm_clock_wall_ns();
    time_t after = time(NULL);
    CHECK(wall / CM_NS_PER_S >= (int64_t)before - 1);
    CHECK(wall / CM_NS_PER_S <= (int64_t)after + 1);
}

struct utc_case {
    int64_t ns;
    const char *basic, *ext;
};

static void test_format_utc(void)
{
    static const struct utc_case cases[] = {
        {0, "19700101T000000Z", "1970-01-01T00:00:00.000Z"},
        {999999999, "19700101T000000Z", "1970-01-01T00:00:00.999Z"},
        /* 2023-11-14 22:13:20 UTC; milliseconds are truncated, not rounded. */
        {1700000000123999999LL, "20231114T221320Z", "2023-11-14T22:13:20.123Z"},
        /* The AWS SigV4 test suite's date, 2015-08-30T12:36:00Z. */
        {1440938160LL * CM_NS_PER_S, "20150830T123600Z", "2015-08-30T12:36:00.000Z"},
        /* Leap day. */
        {1709164800LL * CM_NS_PER_S + 5 * CM_NS_PER_MS, "20240229T000000Z",
         "2024-02-29T00:00:00.005Z"},
        /* One second past the 32-bit time_t limit. */
        {2147483648LL * CM_NS_PER_S, "20380119T031408Z", "2038-01-19T03:14:08.000Z"},
        /* Before 1970 the fraction still counts up from the second below. */
        {-1, "19691231T235959Z", "1969-12-31T23:59:59.999Z"},
        {-1500 * CM_NS_PER_MS, "19691231T235958Z", "1969-12-31T23:59:58.500Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char b[32], e[32];
        cm_clock_format_utc(cases[i].ns, 1, b);
        cm_clock_format_utc(cases[i].ns, 0, e);
        CHECK_STR(b, cases[i].basic);
        CHECK_STR(e, cases[i].ext);
    }
}

static void test_sleep(void)
{
    int64_t t0 = cm_clock_mono_ns();
    cm_clock_sleep_ns(20 * CM_NS_PER_MS);
    int64_t slept = cm_clock_mono_ns() - t0;
    /* Never short; the upper bound is generous for a loaded machine. */
    CHECK(slept >= 20 * CM_NS_PER_MS);
    CHECK(slept < 5 * CM_NS_PER_S);

    t0 = cm_clock_mono_ns();
    cm_clock_sleep_ns(0);
    cm_clock_sleep_ns(-CM_NS_PER_S);
    CHECK(cm_clock_mono_ns() - t0 < CM_NS_PER_S);
}

static volatile sig_atomic_t g_alarms;

static void on_alarm(int sig)
{
    (void)sig;
    g_alarms++;
}

/* A signal handler without SA_RESTART makes nanosleep fail with EINTR; the
 * sleep must resume for the remaining time. */
static void test_sleep_restarts_after_signal(void)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    CHECK_INT(sigaction(SIGALRM, &sa, &old), 0);
    struct itimerval it = {.it_interval = {0, 5000}, .it_value = {0, 5000}};
    CHECK_INT(setitimer(ITIMER_REAL, &it, NULL), 0);
    int64_t t0 = cm_clock_mono_ns();
    cm_clock_sleep_ns(60 * CM_NS_PER_MS);
    int64_t slept = cm_clock_mono_ns() - t0;
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old, NULL);
    CHECK(g_alarms > 0);
    CHECK(slept >= 60 * CM_NS_PER_MS);
    CHECK(slept < 5 * CM_NS_PER_S);
}

int main(void)
{
    test_mono_increases();
    test_wall_is_unix_time();
    test_format_utc();
    test_sleep();
    test_sleep_restarts_after_signal();
    return TEST_REPORT();
}

/* sd_sched_test.c: schedule expressions (rate, AWS six-field cron with
 * ? , - * / L W #, names, years) and next fire times in UTC. Expected dates
 * were read off a calendar (python3 calendar.month); 2026-11-22 is a Sunday. */
#include "sd_sched.h"
#include "sd_stack.h"

#include "cm/buf.h"
#include "cm/json.h"

#include "../harness.h"

#include "cm/err.h"

#include <string.h>

static int64_t at(int y, int mo, int d, int h, int mi)
{
    return (sd_sched_days_from_civil(y, mo, d) * 1440 + h * 60 + mi) * 60000LL;
}

/* Parses expr, asserts success and returns the next fire after `after`. */
static int64_t next_of(const char *expr, int64_t after)
{
    struct sd_sched s;
    char err[200];
    int rc = sd_sched_parse(expr, strlen(expr), &s, err, sizeof(err), NULL);
    CHECK_MSG(rc == 0, "%s: %s", expr, err);
    if (rc)
        return -2;
    return sd_sched_next(&s, 0, after);
}

#define CHECK_NEXT(expr, after, want)                                                              \
    do {                                                                                           \
        int64_t got_ = next_of(expr, after), want_ = (want);                                       \
        char g_[32] = "none", w_[32] = "none";                                                     \
        if (got_ >= 0)                                                                             \
            sd_sched_format_time(got_, g_, sizeof(g_));                                            \
        if (want_ >= 0)                                                                            \
            sd_sched_format_time(want_, w_, sizeof(w_));                                           \
        CHECK_MSG(got_ == want_, "%s: next %s, want %s", expr, g_, w_);                            \
    } while (0)

static void test_civil(void)
{
    CHECK_INT(sd_sched_days_from_civil(1970, 1, 1), 0);
    CHECK_INT(sd_sched_days_from_civil(2000, 3, 1), 11017);
    int64_t y;
    int m, d;
    sd_sched_civil_from_days(sd_sched_days_from_civil(2028, 2, 29), &y, &m, &d);
    CHECK(y == 2028 && m == 2 && d == 29);
    char buf[32];
    sd_sched_format_time(at(2026, 11, 22, 8, 30) + 7000, buf, sizeof(buf));
    CHECK_STR(buf, "2026-11-22T08:30:07Z");
}

static void test_cron_next(void)
{
    int64_t now = at(2026, 11, 22, 8, 30); /* Sunday */
    CHECK_NEXT("cron(0 12 * * ? *)", now, at(2026, 11, 22, 12, 0));
    CHECK_NEXT("cron(0/15 * * * ? *)", now, at(2026, 11, 22, 8, 45));
    CHECK_NEXT("cron(0/15 * * * ? *)", now - 1, now); /* strictly after */
    CHECK_NEXT("cron(*/5 * * * ? *)", now + 1000, at(2026, 11, 22, 8, 35));
    CHECK_NEXT("cron(5,10 * * * ? *)", now, at(2026, 11, 22, 9, 5));
    CHECK_NEXT("cron(0 10-12/2 * * ? *)", now, at(2026, 11, 22, 10, 0));
    CHECK_NEXT("cron(0 10-12/2 * * ? *)", at(2026, 11, 22, 10, 0), at(2026, 11, 22, 12, 0));
    CHECK_NEXT("cron(0 10-12/2 * * ? *)", at(2026, 11, 22, 12, 0), at(2026, 11, 23, 10, 0));
    CHECK_NEXT("cron(0 8 ? * MON-FRI *)", now, at(2026, 11, 23, 8, 0));
    CHECK_NEXT("cron(0 8 ? * 2-6 *)", at(2026, 11, 27, 9, 0), at(2026, 11, 30, 8, 0));
    CHECK_NEXT("cron(0 18 ? * SAT,SUN *)", now, at(2026, 11, 22, 18, 0));
    CHECK_NEXT("cron(0 18 ? * sat *)", now, at(2026, 11, 28, 18, 0));
    CHECK_NEXT("cron(0 0 ? * L *)", now, at(2026, 11, 28, 0, 0)); /* L alone: Saturday */
    /* Last Friday, first Monday, third Wednesday. */
    CHECK_NEXT("cron(15 10 ? * 6L 2026-2027)", now, at(2026, 11, 27, 10, 15));
    CHECK_NEXT("cron(15 10 ? * FRIL *)", at(2026, 11, 28, 0, 0), at(2026, 12, 25, 10, 15));
    CHECK_NEXT("cron(0 9 ? * 2#1 *)", now, at(2026, 12, 7, 9, 0));
    CHECK_NEXT("cron(0 9 ? * WED#3 *)", now, at(2026, 12, 16, 9, 0));
    CHECK_NEXT("cron(0 9 ? * 1#5 *)", now, at(2026, 11, 29, 9, 0));
    CHECK_NEXT("cron(0 9 ? * 2#5 *)", now, at(2026, 11, 30, 9, 0));
    /* Last day, last weekday, nearest weekday. */
    CHECK_NEXT("cron(0 0 L * ? *)", now, at(2026, 11, 30, 0, 0));
    CHECK_NEXT("cron(0 0 L * ? *)", at(2026, 11, 30, 0, 0), at(2026, 12, 31, 0, 0));
    CHECK_NEXT("cron(0 0 L 2 ? *)", now, at(2027, 2, 28, 0, 0));
    CHECK_NEXT("cron(0 0 L 2 ? 2028)", now, at(2028, 2, 29, 0, 0));
    CHECK_NEXT("cron(0 0 LW * ? *)", now, at(2026, 11, 30, 0, 0));
    CHECK_NEXT("cron(0 0 LW 1 ? *)", now, at(2027, 1, 29, 0, 0)); /* Jan 31 2027 is a Sunday */
    CHECK_NEXT("cron(0 0 1W * ? *)", now, at(2026, 12, 1, 0, 0));
    CHECK_NEXT("cron(0 0 1W 8 ? *)", at(2026, 7, 2, 0, 0), at(2026, 8, 3, 0, 0));      /* Sat 1st */
    CHECK_NEXT("cron(0 0 15W * ? *)", at(2026, 11, 1, 0, 0), at(2026, 11, 16, 0, 0));  /* Sun */
    CHECK_NEXT("cron(0 0 28W 11 ? *)", at(2026, 11, 1, 0, 0), at(2026, 11, 27, 0, 0)); /* Sat */
    CHECK_NEXT("cron(0 0 31W 2 ? 2027)", now, -1); /* no 31 February: never */
    /* Months, names, steps, years. */
    CHECK_NEXT("cron(0 0 1 jan,jul ? *)", now, at(2027, 1, 1, 0, 0));
    CHECK_NEXT("cron(0 0 1 JUN-AUG ? *)", now, at(2027, 6, 1, 0, 0));
    CHECK_NEXT("cron(0 0 1 */3 ? *)", now, at(2027, 1, 1, 0, 0));
    CHECK_NEXT("cron(0 0 1-31/10 * ? *)", now, at(2026, 12, 1, 0, 0));
    CHECK_NEXT("cron(0 0 21-31/10 * ? *)", now, at(2026, 12, 21, 0, 0)); /* no 31 November */
    CHECK_NEXT("cron(0 0 29 FEB ? *)", now, at(2028, 2, 29, 0, 0));
    CHECK_NEXT("cron(0 0 30 2 ? *)", now, -1);
    CHECK_NEXT("cron(0 0 1 1 ? 2025)", now, -1);
    CHECK_NEXT("cron(0 0 1 1 ? 2030/2)", now, at(2030, 1, 1, 0, 0));
    CHECK_NEXT("cron(0 0 1 1 ? 2031/2)", at(2031, 1, 1, 0, 0), at(2033, 1, 1, 0, 0));
    CHECK_NEXT("cron(59 23 31 12 ? 2199)", now, at(2199, 12, 31, 23, 59));
    CHECK_NEXT("cron(59 23 31 12 ? 2199)", at(2199, 12, 31, 23, 59), -1);
    CHECK_NEXT("cron(* * * * ? *)", now + 59999, now + 60000);
    CHECK_NEXT("cron(0 0 1 1 ? *)", -5000000, 0); /* before 1970 */
}

static void test_rate(void)
{
    struct sd_sched s;
    char err[200];
    CHECK_INT(sd_sched_parse("rate(1 minute)", 14, &s, err, sizeof(err), NULL), 0);
    CHECK_INT(s.rate_ms, 60000);
    CHECK_INT(sd_sched_next(&s, 1000, 1000), 61000);
    CHECK_INT(sd_sched_next(&s, 1000, 0), 61000);
    CHECK_INT(sd_sched_next(&s, 1000, 60999), 61000);
    CHECK_INT(sd_sched_next(&s, 1000, 61000), 121000);
    const char *ok[] = {"rate(5 minutes)", "rate(1 hour)", "rate(12 hours)",
                        "rate(1 day)",     "rate(7 days)", "rate( 2 days )"};
    int64_t want[] = {300000, 3600000, 43200000, 86400000, 604800000, 172800000};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        CHECK_MSG(sd_sched_parse(ok[i], strlen(ok[i]), &s, err, sizeof(err), NULL) == 0, "%s: %s",
                  ok[i], err);
        CHECK_INT(s.rate_ms, want[i]);
    }
}

static void test_errors(void)
{
    static const struct {
        const char *expr;
        size_t off; /* where the error points */
        const char *msg_part;
    } bad[] = {
        {"hello", 0, "expected rate"},
        {"rate(1 minutes)", 7, "unit for 1"},
        {"rate(5 minute)", 7, "above 1"},
        {"rate(0 minutes)", 5, "positive"},
        {"rate(-1 minutes)", 5, "positive"},
        {"rate(5 seconds)", 7, "above 1"},
        {"rate()", 5, "positive"},
        {"rate(5)", 6, "unit"},
        {"cron(0 12 * * * *)", 10, "exactly one"},
        {"cron(0 12 ? * ? *)", 10, "exactly one"},
        {"cron(60 * * * ? *)", 5, "minutes value out of range"},
        {"cron(0 24 * * ? *)", 7, "hours value out of range"},
        {"cron(0 12 * * ?)", 15, "six fields"},
        {"cron(0 12 * * ? * *)", 18, "six fields"},
        {"cron(0 12 * * ? 1969)", 16, "year value out of range"},
        {"cron(0 12 * * ? 2200)", 16, "year value out of range"},
        {"cron(0 12 32W * ? *)", 10, "day-of-month value out of range"},
        {"cron(0 12 1W,2 * ? *)", 11, "stand alone"},
        {"cron(0 12 ? * 2#6 *)", 15, "1..5"},
        {"cron(0 12 ? * 8 *)", 14, "day-of-week value out of range"},
        {"cron(0 12 ? * FOO *)", 14, "expected a value"},
        {"cron(0 12 5-1 * ? *)", 10, "range start"},
        {"cron(0 12 1,,2 * ? *)", 12, "empty list item"},
        {"cron(0 12 1, * ? *)", 11, "empty list item"},
        {"cron(*/0 * * * ? *)", 7, "bad step"},
        {"cron(0 12 1 13 ? *)", 12, "month value out of range"},
        {"cron(0 12 1 * ?x *)", 14, "stand alone"},
        {"cron(0 1x * * ? *)", 8, "unexpected character"},
        {"cron(0 12 ? * MON#2,3 *)", 17, "1..5"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sd_sched s;
        char err[200];
        size_t off = 999;
        int rc = sd_sched_parse(bad[i].expr, strlen(bad[i].expr), &s, err, sizeof(err), &off);
        CHECK_MSG(rc == CM_EPARSE, "%s: accepted", bad[i].expr);
        CHECK_MSG(strstr(err, bad[i].msg_part) != NULL, "%s: message \"%s\"", bad[i].expr, err);
        CHECK_MSG(off == bad[i].off, "%s: offset %zu, want %zu (%s)", bad[i].expr, off, bad[i].off,
                  err);
    }
}

/* The stack file's schedules: section and the rules runner. */
static struct {
    int n;
    char fn[16];
    char payload[600];
} fired;

static void on_fire(void *ctx, const char *fn, const char *payload, size_t len)
{
    (void)ctx;
    fired.n++;
    snprintf(fired.fn, sizeof(fired.fn), "%s", fn);
    snprintf(fired.payload, sizeof(fired.payload), "%.*s", (int)len, payload);
}

static void test_stack_rules(void)
{
    const char *ok = "functions:\n  f:\n    bootstrap: /bin/true\n"
                     "schedules:\n"
                     "  - name: tick\n    expression: rate(1 minute)\n    function: f\n"
                     "  - name: noon\n    expression: cron(0 12 * * ? *)\n    function: f\n"
                     "    input: '{\"k\":1}'\n"
                     "  - name: off\n    expression: rate(1 minute)\n    function: f\n"
                     "    enabled: false\n";
    struct sd_stack *st = NULL;
    char err[300];
    int rc = sd_stack_parse(ok, strlen(ok), "s.yaml", "/", &st, err, sizeof(err));
    CHECK_MSG(rc == 0, "%s", err);
    if (rc)
        return;
    CHECK_INT(st->n_schedules, 3);
    CHECK_STR(st->schedules[1].input, "{\"k\":1}");
    CHECK_INT(st->schedules[2].enabled, 0);
    int64_t t0 = at(2026, 11, 22, 11, 59) + 30000; /* 11:59:30 */
    struct sd_sched_rules *r = sd_sched_rules_new(st, t0);
    sd_sched_rules_tick(r, t0 + 29999, on_fire, NULL);
    CHECK_INT(fired.n, 0);
    sd_sched_rules_tick(r, t0 + 30000, on_fire, NULL); /* 12:00:00: noon */
    CHECK_INT(fired.n, 1);
    CHECK_STR(fired.payload, "{\"k\":1}");
    sd_sched_rules_tick(r, t0 + 60000, on_fire, NULL); /* 12:00:30: tick */
    CHECK_INT(fired.n, 2);
    CHECK_STR(fired.fn, "f");
    cJSON *j = cm_json_parse(fired.payload, strlen(fired.payload));
    CHECK_STR(cm_json_str(j, "detail-type", ""), "Scheduled Event");
    CHECK_STR(cm_json_str(j, "source", ""), "aws.events");
    CHECK_STR(cm_json_str(j, "version", ""), "0");
    CHECK_STR(cm_json_str(j, "account", ""), "000000000000");
    CHECK_STR(cm_json_str(j, "region", ""), "us-east-1");
    CHECK_STR(cm_json_str(j, "time", ""), "2026-11-22T12:00:30Z");
    CHECK_INT(strlen(cm_json_str(j, "id", "")), 36);
    CHECK_STR(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "resources"), 0)->valuestring,
              "arn:aws:events:us-east-1:000000000000:rule/tick");
    CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "detail")));
    cJSON_Delete(j);
    /* Missed minutes fire once, then the schedule continues. */
    sd_sched_rules_tick(r, t0 + 10 * 60000 + 5, on_fire, NULL);
    CHECK_INT(fired.n, 3);
    CHECK_INT(sd_sched_rules_fired(r, "tick"), 2);
    CHECK_INT(sd_sched_rules_fired(r, "off"), 0);
    CHECK_INT(sd_sched_rules_fired(r, "nope"), -1);
    sd_sched_rules_free(r);
    sd_stack_free(st);

    static const struct {
        const char *yaml, *want;
    } bad[] = {
        {"functions:\n  f:\n    bootstrap: /x\nschedules:\n  - name: a\n"
         "    expression: cron(0 12 * * ?)\n    function: f\n",
         "s.yaml:6:32: schedules[0].expression: cron: expected six fields"},
        {"functions:\n  f:\n    bootstrap: /x\nschedules:\n  - name: a\n"
         "    expression: rate(1 hours)\n    function: f\n",
         "s.yaml:6:24: schedules[0].expression: rate: the unit for 1"},
        {"functions:\n  f:\n    bootstrap: /x\nschedules:\n  - name: a\n"
         "    expression: rate(1 hour)\n    function: g\n",
         "s.yaml:7:15: schedules[0].function: no such function"},
        {"functions:\n  f:\n    bootstrap: /x\nschedules:\n  - name: a b\n"
         "    expression: rate(1 hour)\n    function: f\n",
         "s.yaml:5:11: schedules[0].name"},
        {"functions:\n  f:\n    bootstrap: /x\nschedules:\n  - name: a\n"
         "    expression: rate(1 hour)\n    function: f\n    input: '{x'\n",
         "s.yaml:8:12: schedules[0].input: not valid JSON"},
        {"functions:\n  f:\n    bootstrap: /x\nschedules:\n  - name: a\n"
         "    expression: rate(1 hour)\n    function: f\n  - name: a\n"
         "    expression: rate(1 hour)\n    function: f\n",
         "s.yaml:8:11: schedules[1].name: duplicate"},
        {"functions:\n  f:\n    bootstrap: /x\nschedules: {a: 1}\n", "s.yaml:4:12: schedules"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        st = NULL;
        rc = sd_stack_parse(bad[i].yaml, strlen(bad[i].yaml), "s.yaml", "/", &st, err, sizeof(err));
        CHECK_MSG(rc < 0 && strncmp(err, bad[i].want, strlen(bad[i].want)) == 0,
                  "case %zu: \"%s\", want \"%s...\"", i, err, bad[i].want);
        sd_stack_free(st);
    }
}

int main(void)
{
    test_civil();
    test_cron_next();
    test_rate();
    test_errors();
    test_stack_rules();
    return TEST_REPORT();
}

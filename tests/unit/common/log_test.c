/* Unit tests for cm_log: level parsing and filtering, the plain text shape,
 * and JSON lines (valid JSON whose msg is the original text after escaping,
 * even for quotes, control bytes, broken UTF-8 and over-long messages).
 * stderr is redirected to a temporary file with dup2 while logging. */
#include "harness.h"

#include "cm/err.h"
#include "cm/log.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static int g_saved_fd = -1;
static int g_file_fd = -1;
static char g_path[64];

/* Points stderr at a fresh temporary file. */
static void capture_begin(void)
{
    snprintf(g_path, sizeof g_path, "/tmp/cm_log_test.XXXXXX");
    g_file_fd = mkstemp(g_path);
    CHECK(g_file_fd >= 0);
    fflush(stderr);
    g_saved_fd = dup(STDERR_FILENO);
    CHECK(g_saved_fd >= 0);
    CHECK(dup2(g_file_fd, STDERR_FILENO) == STDERR_FILENO);
}

/* Restores stderr and returns what was written (free it), NUL terminated. */
static char *capture_end(size_t *len)
{
    fflush(stderr);
    dup2(g_saved_fd, STDERR_FILENO);
    close(g_saved_fd);
    off_t size = lseek(g_file_fd, 0, SEEK_END);
    char *data = malloc((size_t)size + 1);
    size_t got = 0;
    if (data && size >= 0) {
        lseek(g_file_fd, 0, SEEK_SET);
        while (got < (size_t)size) {
            ssize_t r = read(g_file_fd, data + got, (size_t)size - got);
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        data[got] = '\0';
    }
    close(g_file_fd);
    unlink(g_path);
    if (len)
        *len = got;
    return data;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_parse_level(void)
{
    static const char *const names[] = {"debug", "info", "warn", "error", "off"};
    for (int i = 0; i < 5; i++) {
        enum cm_log_level lv = CM_LOG_OFF;
        CHECK_INT(cm_log_parse_level(names[i], &lv), 0);
        CHECK_INT(lv, i);
    }
    enum cm_log_level lv = CM_LOG_WARN;
    CHECK_INT(cm_log_parse_level("verbose", &lv), CM_EINVAL);
    CHECK_INT(cm_log_parse_level("", &lv), CM_EINVAL);
    CHECK_INT(cm_log_parse_level("Info ", &lv), CM_EINVAL);
    CHECK_INT(lv, CM_LOG_WARN);
}

static void test_filtering(void)
{
    cm_log_set_json(0);
    cm_log_set_prog("lt");
    cm_log_set_level(CM_LOG_WARN);
    CHECK(!cm_log_enabled(CM_LOG_DEBUG));
    CHECK(!cm_log_enabled(CM_LOG_INFO));
    CHECK(cm_log_enabled(CM_LOG_WARN));
    CHECK(cm_log_enabled(CM_LOG_ERROR));
    CHECK(!cm_log_enabled(CM_LOG_OFF));
    capture_begin();
    cm_debug("d %d", 1);
    cm_info("i %d", 2);
    cm_warn("w %d", 3);
    cm_error("e %s", "four");
    char *out = capture_end(NULL);
    CHECK_STR(out, "lt: warning: w 3\nlt: error: e four\n");
    free(out);

    cm_log_set_level(CM_LOG_DEBUG);
    capture_begin();
    cm_debug("d");
    cm_info("i");
    cm_log(CM_LOG_OFF, "never printed");
    out = capture_end(NULL);
    CHECK_STR(out, "lt: d\nlt: i\n");
    free(out);

    cm_log_set_level(CM_LOG_OFF);
    capture_begin();
    cm_error("silenced");
    out = capture_end(NULL);
    CHECK_STR(out, "");
    free(out);
    cm_log_set_level(CM_LOG_INFO);
}

/* Parses one JSON line and checks its fields; returns msg (free it) or NULL. */
static char *check_json_line(const char *line, size_t n, const char *level, const char *prog)
{
    cJSON *j = cJSON_ParseWithLength(line, n);
    CHECK_MSG(j != NULL, "not JSON: %.*s", (int)n, line);
    if (!j)
        return NULL;
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(j, "ts");
    const cJSON *lv = cJSON_GetObjectItemCaseSensitive(j, "level");
    const cJSON *pg = cJSON_GetObjectItemCaseSensitive(j, "prog");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "msg");
    CHECK(cJSON_IsString(ts) && strlen(ts->valuestring) == 24 && ts->valuestring[23] == 'Z' &&
          ts->valuestring[10] == 'T');
    CHECK(cJSON_IsString(lv) && strcmp(lv->valuestring, level) == 0);
    if (prog)
        CHECK(cJSON_IsString(pg) && strcmp(pg->valuestring, prog) == 0);
    char *m = cJSON_IsString(msg) ? strdup(msg->valuestring) : NULL;
    CHECK(m != NULL);
    cJSON_Delete(j);
    return m;
}

/* Strict UTF-8 check (what a JSON consumer such as Python's json needs). */
static int valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t len = c < 0x80                 ? 1
                     : c >= 0xc2 && c <= 0xdf ? 2
                     : c >= 0xe0 && c <= 0xef ? 3
                     : c >= 0xf0 && c <= 0xf4 ? 4
                                              : 0;
        if (len == 0 || i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
        i += len;
    }
    return 1;
}

static void test_json_escaping(void)
{
    cm_log_set_json(1);
    cm_log_set_prog("load\"gen");
    cm_log_set_level(CM_LOG_DEBUG);
    const char *tricky = "say \"hi\"\\ then\nnew line\ttab \x01\x1f caf\xc3\xa9 \xe2\x82\xac end";
    capture_begin();
    cm_info("%s", tricky);
    cm_error("plain");
    size_t n;
    char *out = capture_end(&n);
    CHECK_INT(count_lines(out), 2);
    char *nl = strchr(out, '\n');
    CHECK(nl != NULL);
    if (nl) {
        /* The escaped line itself is a single line. */
        char *m = check_json_line(out, (size_t)(nl - out), "info", "load\"gen");
        if (m)
            CHECK_STR(m, tricky);
        free(m);
        m = check_json_line(nl + 1, strlen(nl + 1), "error", "load\"gen");
        if (m)
            CHECK_STR(m, "plain");
        free(m);
    }
    CHECK(valid_utf8((const unsigned char *)out, n));
    free(out);

    /* Bytes that are not UTF-8 become U+FFFD so the line stays valid. */
    capture_begin();
    cm_warn("bad \xff\xc3 x \xed\xa0\x80 y \xc0\xaf z");
    out = capture_end(&n);
    CHECK(valid_utf8((const unsigned char *)out, n));
    char *m = check_json_line(out, n, "warn", NULL);
    if (m)
        CHECK_STR(m, "bad \xef\xbf\xbd\xef\xbf\xbd x \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd y "
                     "\xef\xbf\xbd\xef\xbf\xbd z");
    free(m);
    free(out);
    cm_log_set_prog("loadgen");
    cm_log_set_json(0);
    cm_log_set_level(CM_LOG_INFO);
}

/* Over-long messages are cut, but each record stays one line of valid JSON
 * (and the cut never splits a UTF-8 character). */
static void test_json_long(void)
{
    cm_log_set_json(1);
    static char big[8192];
    const char *fill[] = {"a", "\"", "\x02", "\xe2\x82\xac"};
    for (int f = 0; f < 4; f++) {
        size_t fl = strlen(fill[f]), k = 0;
        while (k + fl < sizeof big) {
            memcpy(big + k, fill[f], fl);
            k += fl;
        }
        big[k] = '\0';
        capture_begin();
        cm_error("%s", big);
        size_t n;
        char *out = capture_end(&n);
        CHECK_INT(count_lines(out), 1);
        CHECK(n > 0 && out[n - 1] == '\n');
        CHECK(valid_utf8((const unsigned char *)out, n));
        char *m = check_json_line(out, n, "error", "loadgen");
        if (m) {
            CHECK(strlen(m) > 500);
            CHECK(strncmp(m, big, strlen(m)) == 0);
        }
        free(m);
        free(out);
    }
    /* A very long program name cannot push the line past its buffer. */
    static char prog[6000];
    memset(prog, 'p', sizeof prog - 1);
    cm_log_set_prog(prog);
    capture_begin();
    cm_error("after a long prog");
    size_t n;
    char *out = capture_end(&n);
    char *m = check_json_line(out, n, "error", NULL);
    if (m)
        CHECK_STR(m, "after a long prog");
    free(m);
    free(out);
    cm_log_set_json(0);
    capture_begin();
    cm_error("%s", big);
    out = capture_end(&n);
    CHECK_INT(count_lines(out), 1);
    CHECK(n > 0 && n < 8192 && out[n - 1] == '\n');
    free(out);
    cm_log_set_prog("loadgen");
}

#define LOG_THREADS 4
#define LOG_LINES   200

static void *log_thread(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < LOG_LINES; i++)
        cm_info("thread %d line %d \"%s\"", id, i,
                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    return NULL;
}

/* Lines written concurrently never interleave: each is one write(). */
static void test_json_threads(void)
{
    cm_log_set_json(1);
    capture_begin();
    pthread_t th[LOG_THREADS];
    for (int i = 0; i < LOG_THREADS; i++)
        pthread_create(&th[i], NULL, log_thread, (void *)(intptr_t)i);
    for (int i = 0; i < LOG_THREADS; i++)
        pthread_join(th[i], NULL);
    size_t n;
    char *out = capture_end(&n);
    CHECK_INT(count_lines(out), LOG_THREADS * LOG_LINES);
    int bad = 0;
    for (char *line = out, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        cJSON *j = cJSON_ParseWithLength(line, (size_t)(nl - line));
        bad += j == NULL;
        cJSON_Delete(j);
    }
    CHECK_INT(bad, 0);
    free(out);
    cm_log_set_json(0);
}

int main(void)
{
    test_parse_level();
    test_filtering();
    test_json_escaping();
    test_json_long();
    test_json_threads();
    return TEST_REPORT();
}

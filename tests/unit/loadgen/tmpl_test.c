/* tmpl_test.c: template compile errors and rendering of every function. */
#include <stdlib.h>
#include <string.h>

#include "cm/buf.h"
#include "cm/err.h"
#include "harness.h"
#include "tmpl.h"

static const char *const cols[] = {"user", "email"};
static const char *const vars[] = {"id"};

static int compile(const char *s, int json, struct lg_tmpl **t, const char **why)
{
    struct lg_tmpl_names nm = {cols, 2, vars, 1};
    size_t at;
    return lg_tmpl_compile(s, strlen(s), &nm, json, t, why, &at);
}

static void render(const char *s, int json, const struct lg_tmpl_ctx *c, char *out, size_t n)
{
    struct lg_tmpl *t = NULL;
    const char *why = NULL;
    out[0] = 0;
    if (compile(s, json, &t, &why) != 0)
        return;
    struct cm_buf b;
    cm_buf_init(&b, 0);
    lg_tmpl_render(t, c, &b);
    snprintf(out, n, "%s", cm_buf_cstr(&b));
    cm_buf_deinit(&b);
    lg_tmpl_free(t);
}

/* Values from outside are escaped for where they land (lg_tmpl_mode). */
static void test_escaping(void)
{
    uint64_t rng = 1;
    const char *row[] = {"a b/c?d&e=f+g#h%i", "x\"y\\z\n\x01"};
    const char *vals[] = {"o/1\r\nX-Evil: 1"};
    size_t lens[] = {14};
    struct lg_tmpl_ctx c = {.seq = 1, .rng = &rng, .data_row = row, .vars = vals, .var_lens = lens};
    char out[256];
    /* path segment: '/', '?', '#', '%', space encoded; sub-delims kept */
    render("/u/{{data.user}}", LG_TMPL_URL, &c, out, sizeof(out));
    CHECK_STR(out, "/u/a%20b%2Fc%3Fd&e=f+g%23h%25i");
    /* query: '&', '=', '+' encoded too; the literal '?' switches the context */
    render("/u/{{data.user}}?q={{data.user}}&id={{id}}", LG_TMPL_URL, &c, out, sizeof(out));
    CHECK_STR(out, "/u/a%20b%2Fc%3Fd&e=f+g%23h%25i?q=a%20b%2Fc%3Fd%26e%3Df%2Bg%23h%25i&id=o%2F1%0D%"
                   "0AX-Evil:%201");
    /* functions are not escaped (their characters are safe) */
    render("/t/{{now_iso}}?s={{seq}}", LG_TMPL_URL, &c, out, sizeof(out));
    CHECK(strchr(out, ':') != NULL && strstr(out, "?s=1") != NULL);
    /* JSON body: quotes, backslashes and controls escaped */
    render("{\"e\": \"{{data.email}}\"}", LG_TMPL_JSON, &c, out, sizeof(out));
    CHECK_STR(out, "{\"e\": \"x\\\"y\\\\z\\u000a\\u0001\"}");
    /* header: no line break can start another header */
    render("Bearer {{id}}", LG_TMPL_HEADER, &c, out, sizeof(out));
    CHECK_STR(out, "Bearer o/1  X-Evil: 1");
    /* raw: as is */
    render("{{id}}", LG_TMPL_RAW, &c, out, sizeof(out));
    CHECK_STR(out, "o/1\r\nX-Evil: 1");
    /* UTF-8 bytes are percent-encoded one by one */
    const char *utf[] = {"\xc3\xa9", ""};
    c.data_row = utf;
    render("/n/{{data.user}}", LG_TMPL_URL, &c, out, sizeof(out));
    CHECK_STR(out, "/n/%C3%A9");
}

int main(void)
{
    uint64_t rng = 42;
    const char *row[] = {"alice", "a\"b@x"};
    const char *vals[] = {"o-42"};
    size_t lens[] = {4};
    struct lg_tmpl_ctx c = {.seq = 7,
                            .corr_id = "0190-corr",
                            .wall_ns = 1700000000123000000LL,
                            .rng = &rng,
                            .data_row = row,
                            .vars = vals,
                            .var_lens = lens};
    char out[256];

    render("/orders/{{id}}", 0, &c, out, sizeof(out));
    CHECK_STR(out, "/orders/o-42");
    render("{{ seq }}-{{now}}", 0, &c, out, sizeof(out));
    CHECK_STR(out, "7-1700000000123");
    render("{{correlation_id}}", 0, &c, out, sizeof(out));
    CHECK_STR(out, "0190-corr");
    render("{{data.user}}", 0, &c, out, sizeof(out));
    CHECK_STR(out, "alice");
    render("\"{{data.email}}\"", 1, &c, out, sizeof(out));
    CHECK_STR(out, "\"a\\\"b@x\"");
    render("no templates here", 0, &c, out, sizeof(out));
    CHECK_STR(out, "no templates here");
    render("{{now_iso}}", 0, &c, out, sizeof(out));
    CHECK_STR(out, "2023-11-14T22:13:20.123Z");

    for (int i = 0; i < 1000; i++) {
        render("{{rand_int 1 6}}", 0, &c, out, sizeof(out));
        int v = (int)strtol(out, NULL, 10);
        CHECK_MSG(v >= 1 && v <= 6, "rand_int out of range: %s", out);
    }
    render("{{rand_int -5 -5}}", 0, &c, out, sizeof(out));
    CHECK_STR(out, "-5");
    render("{{uuid}}", 0, &c, out, sizeof(out));
    CHECK_INT(strlen(out), 36);
    CHECK(out[14] == '4');
    CHECK(strchr("89ab", out[19]) != NULL);

    struct lg_tmpl *t = NULL;
    const char *why = NULL;
    CHECK_INT(compile("{{nope}}", 0, &t, &why), CM_EPARSE);
    CHECK(why && strstr(why, "unknown template name"));
    CHECK_INT(compile("{{data.nope}}", 0, &t, &why), CM_EPARSE);
    CHECK_INT(compile("/a/{{uuid", 0, &t, &why), CM_EPARSE);
    CHECK(why && strstr(why, "unclosed"));
    CHECK_INT(compile("{{rand_int 5 1}}", 0, &t, &why), CM_EPARSE);
    CHECK_INT(compile("{{rand_int 1}}", 0, &t, &why), CM_EPARSE);
    CHECK_INT(compile("{{uuid 1}}", 0, &t, &why), CM_EPARSE);
    CHECK_INT(compile("{{rand_int 1 2 3}}", 0, &t, &why), CM_EPARSE);
    CHECK(t == NULL);

    test_escaping();

    CHECK_INT(compile("/x/{{id}}", 0, &t, &why), 0);
    CHECK(t->uses_vars && t->dynamic);
    lg_tmpl_free(t);
    CHECK_INT(compile("/static", 0, &t, &why), 0);
    CHECK(!t->uses_vars && !t->dynamic);
    lg_tmpl_free(t);
    return TEST_REPORT();
}

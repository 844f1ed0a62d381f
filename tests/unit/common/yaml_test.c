/* Unit tests for cm_yaml: tree shapes (block, flow, quoted, multi-line,
 * anchors, aliases, merge keys, comments), positions, and every error with its
 * exact "name:line:col: reason" message. */
#include "harness.h"

#include "cm/buf.h"
#include "cm/err.h"
#include "cm/yaml.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static struct cm_ydoc *parse_ok(const char *text)
{
    struct cm_ydoc *doc = NULL;
    char err[256];
    int rc = cm_yaml_parse(text, strlen(text), "t.yaml", &doc, err, sizeof err);
    CHECK_MSG(rc == 0 && doc, "parse failed: rc %d: %s", rc, err);
    return doc;
}

static void parse_err(const char *text, const char *want)
{
    struct cm_ydoc *doc = (struct cm_ydoc *)&doc; /* must be reset to NULL */
    char err[256];
    CHECK_INT(cm_yaml_parse(text, strlen(text), "t.yaml", &doc, err, sizeof err), CM_EPARSE);
    CHECK(doc == NULL);
    CHECK_STR(err, want);
}

static int scalar_is(const struct cm_ynode *n, const char *s)
{
    return n && n->type == CM_YNODE_SCALAR && n->len == strlen(s) && strcmp(n->str, s) == 0;
}

static void test_block(void)
{
    struct cm_ydoc *doc = parse_ok("# a scenario\n"
                                   "name: burst   # trailing comment\n"
                                   "phases:\n"
                                   "  - duration: 30s\n"
                                   "    rate: 200/s\n"
                                   "  - duration: 1m\n"
                                   "empty:\n"
                                   "nested:\n"
                                   "  a:\n"
                                   "    b: 1\n");
    if (!doc)
        return;
    const struct cm_ynode *r = doc->root;
    CHECK_STR(doc->name, "t.yaml");
    CHECK_INT(r->type, CM_YNODE_MAP);
    CHECK_INT(r->n, 4);
    CHECK_INT(r->line, 2);
    CHECK_INT(r->col, 1);
    CHECK(scalar_is(r->keys[0], "name"));
    CHECK(scalar_is(r->vals[0], "burst"));
    CHECK_INT(r->vals[0]->line, 2);
    CHECK_INT(r->vals[0]->col, 7);
    CHECK_INT(r->vals[0]->quoted, 0);

    const struct cm_ynode *ph = cm_yaml_get(r, "phases");
    CHECK(ph && ph->type == CM_YNODE_SEQ && ph->n == 2);
    if (ph && ph->n == 2) {
        CHECK_INT(ph->line, 4);
        CHECK_INT(ph->col, 3);
        const struct cm_ynode *p0 = ph->vals[0];
        CHECK_INT(p0->type, CM_YNODE_MAP);
        CHECK_INT(p0->line, 4);
        CHECK_INT(p0->col, 5);
        CHECK(scalar_is(cm_yaml_get(p0, "rate"), "200/s"));
        CHECK_INT(cm_yaml_get(p0, "rate")->line, 5);
        CHECK_INT(cm_yaml_get(p0, "rate")->col, 11);
        CHECK(scalar_is(cm_yaml_get(ph->vals[1], "duration"), "1m"));
        CHECK(cm_yaml_get(ph->vals[1], "rate") == NULL);
    }
    const struct cm_ynode *e = cm_yaml_get(r, "empty");
    CHECK(e && cm_yaml_is_null(e));
    CHECK(scalar_is(cm_yaml_get(cm_yaml_get(cm_yaml_get(r, "nested"), "a"), "b"), "1"));
    CHECK(cm_yaml_get(r, "missing") == NULL);
    CHECK(cm_yaml_get(r->vals[0], "x") == NULL); /* not a map */
    CHECK(cm_yaml_get(NULL, "x") == NULL);
    cm_yaml_free(doc);
}

static void test_flow_and_quotes(void)
{
    struct cm_ydoc *doc = parse_ok("{a: [1, 2, {b: c}], 'q': \"x\\ty\", n: ~, s: 'it''s',\n"
                                   " e: '', t: !!str true, u: \"\\u00e9\\0z\"}\n");
    if (!doc)
        return;
    const struct cm_ynode *r = doc->root;
    CHECK_INT(r->type, CM_YNODE_MAP);
    CHECK_INT(r->n, 7);
    const struct cm_ynode *a = cm_yaml_get(r, "a");
    CHECK(a && a->type == CM_YNODE_SEQ && a->n == 3);
    if (a && a->n == 3) {
        CHECK(scalar_is(a->vals[1], "2"));
        CHECK_INT(a->vals[1]->col, 9);
        CHECK(scalar_is(cm_yaml_get(a->vals[2], "b"), "c"));
    }
    const struct cm_ynode *q = cm_yaml_get(r, "q");
    CHECK(scalar_is(q, "x\ty"));
    CHECK_INT(q->quoted, 1);
    CHECK_INT(r->keys[1]->quoted, 1);
    CHECK(cm_yaml_is_null(cm_yaml_get(r, "n")));
    CHECK(scalar_is(cm_yaml_get(r, "s"), "it's"));
    const struct cm_ynode *e = cm_yaml_get(r, "e");
    CHECK(scalar_is(e, "") && e->quoted && !cm_yaml_is_null(e));
    const struct cm_ynode *t = cm_yaml_get(r, "t");
    CHECK(scalar_is(t, "true") && t->quoted);
    CHECK_INT(t->line, 2);
    CHECK_INT(t->col, 12); /* a node starts at its tag or anchor */
    /* Escapes decode; an embedded NUL is kept and counted in len. */
    const struct cm_ynode *u = cm_yaml_get(r, "u");
    CHECK(u && u->len == 4 && memcmp(u->str, "\xc3\xa9\0z", 4) == 0 && u->str[4] == '\0');
    cm_yaml_free(doc);

    /* Null spellings; quoted ones are strings. */
    doc = parse_ok("[~, null, Null, NULL, '~', \"null\", nil, '']");
    if (doc) {
        const struct cm_ynode *s = doc->root;
        int want[] = {1, 1, 1, 1, 0, 0, 0, 0};
        for (size_t i = 0; i < 8 && i < s->n; i++)
            CHECK_MSG(cm_yaml_is_null(s->vals[i]) == want[i], "null item %zu", i);
        CHECK(!cm_yaml_is_null(s)); /* a sequence is not null */
        CHECK(cm_yaml_is_null(NULL));
        cm_yaml_free(doc);
    }
}

static void test_multiline(void)
{
    struct cm_ydoc *doc = parse_ok("lit: |\n"
                                   "  line one\n"
                                   "  line two\n"
                                   "fold: >\n"
                                   "  folded\n"
                                   "  text\n"
                                   "strip: |-\n"
                                   "  no newline\n"
                                   "plain: a\n"
                                   "  b\n");
    if (!doc)
        return;
    const struct cm_ynode *r = doc->root;
    const struct cm_ynode *lit = cm_yaml_get(r, "lit");
    CHECK(scalar_is(lit, "line one\nline two\n"));
    CHECK_INT(lit->quoted, 1); /* block scalars are never null or bool */
    CHECK_INT(lit->line, 1);
    CHECK_INT(lit->col, 6);
    CHECK(scalar_is(cm_yaml_get(r, "fold"), "folded text\n"));
    CHECK(scalar_is(cm_yaml_get(r, "strip"), "no newline"));
    CHECK(scalar_is(cm_yaml_get(r, "plain"), "a b"));
    cm_yaml_free(doc);
}

static void test_anchors(void)
{
    struct cm_ydoc *doc = parse_ok("base: &b {rate: 10/s, duration: 1m}\n"
                                   "name: &n hello\n"
                                   "copy: *b\n"
                                   "again: *n\n"
                                   "list: [*n, *b]\n");
    if (!doc)
        return;
    const struct cm_ynode *r = doc->root;
    const struct cm_ynode *base = cm_yaml_get(r, "base");
    CHECK(cm_yaml_get(r, "copy") == base); /* an alias is the same node */
    CHECK(cm_yaml_get(r, "again") == cm_yaml_get(r, "name"));
    const struct cm_ynode *l = cm_yaml_get(r, "list");
    CHECK(l && l->n == 2 && l->vals[1] == base && l->vals[0] == cm_yaml_get(r, "name"));
    CHECK_INT(base->line, 1);
    CHECK_INT(base->col, 7);
    cm_yaml_free(doc);

    /* An anchor can be redefined; aliases take the latest definition. */
    doc = parse_ok("a: &x 1\nb: *x\nc: &x 2\nd: *x\n");
    if (doc) {
        CHECK(scalar_is(cm_yaml_get(doc->root, "b"), "1"));
        CHECK(scalar_is(cm_yaml_get(doc->root, "d"), "2"));
        cm_yaml_free(doc);
    }
    /* A scalar alias may be a key. */
    doc = parse_ok("k: &key rate\n*key : 5\n");
    if (doc) {
        CHECK(scalar_is(cm_yaml_get(doc->root, "rate"), "5"));
        cm_yaml_free(doc);
    }
}

static void test_merge_keys(void)
{
    struct cm_ydoc *doc = parse_ok("defaults: &d {rate: 10/s, duration: 1m, conc: 4}\n"
                                   "more: &m {conc: 8, extra: x}\n"
                                   "phase:\n"
                                   "  <<: [*d, *m]\n"
                                   "  rate: 20/s\n");
    if (!doc)
        return;
    const struct cm_ynode *p = cm_yaml_get(doc->root, "phase");
    CHECK_INT(p->n, 4);
    CHECK(scalar_is(cm_yaml_get(p, "rate"), "20/s")); /* explicit wins */
    CHECK(scalar_is(cm_yaml_get(p, "duration"), "1m"));
    CHECK(scalar_is(cm_yaml_get(p, "conc"), "4")); /* earlier source wins */
    CHECK(scalar_is(cm_yaml_get(p, "extra"), "x"));
    CHECK(cm_yaml_get(p, "<<") == NULL);
    CHECK(scalar_is(p->keys[0], "rate")); /* explicit keys first, then merged */
    cm_yaml_free(doc);

    doc = parse_ok("a: &a {x: 1}\nb: {<<: *a, y: 2}\nc: {'<<': 3}\n");
    if (doc) {
        const struct cm_ynode *b = cm_yaml_get(doc->root, "b");
        CHECK(b->n == 2 && scalar_is(cm_yaml_get(b, "x"), "1"));
        CHECK(scalar_is(cm_yaml_get(cm_yaml_get(doc->root, "c"), "<<"), "3")); /* quoted: a key */
        cm_yaml_free(doc);
    }
    parse_err("a: {<<: 5}\n", "t.yaml:1:9: a merge key (<<) needs a mapping or a list of mappings");
    parse_err("a: {<<: [{x: 1}, 2]}\n",
              "t.yaml:1:18: a merge key (<<) needs a mapping or a list of mappings");
    parse_err("a: {<<: {x: 1}, <<: {y: 1}}\n", "t.yaml:1:17: duplicate key '<<' (first at 1:5)");
}

static void test_empty(void)
{
    struct cm_ydoc *doc = parse_ok("");
    if (doc) {
        CHECK(doc->root == NULL);
        cm_yaml_free(doc);
    }
    doc = parse_ok("# only a comment\n\n");
    if (doc) {
        CHECK(doc->root == NULL);
        cm_yaml_free(doc);
    }
    doc = parse_ok("---\n...\n");
    if (doc) {
        CHECK(doc->root && cm_yaml_is_null(doc->root));
        cm_yaml_free(doc);
    }
    doc = parse_ok("--- 5\n");
    if (doc) {
        CHECK(scalar_is(doc->root, "5"));
        cm_yaml_free(doc);
    }
    cm_yaml_free(NULL);

    /* (ptr, len): bytes past len are not read; NULL name gets a placeholder. */
    char err[128];
    CHECK_INT(cm_yaml_parse("a: 1\nb: [", 5, NULL, &doc, err, sizeof err), 0);
    if (doc) {
        CHECK_INT(doc->root->n, 1);
        CHECK_STR(doc->name, "<yaml>");
        cm_yaml_free(doc);
    }
    /* err may be absent. */
    CHECK_INT(cm_yaml_parse("[", 1, "x", &doc, NULL, 0), CM_EPARSE);
}

static void test_structure_errors(void)
{
    parse_err("rate: 1\nduration: 2\nrate: 3\n", "t.yaml:3:1: duplicate key 'rate' (first at 1:1)");
    parse_err("{a: 1, 'a': 2}", "t.yaml:1:8: duplicate key 'a' (first at 1:2)");
    parse_err("top:\n  x: 1\n  y: 2\n  x: 3\n", "t.yaml:4:3: duplicate key 'x' (first at 2:3)");
    parse_err("? [a, b]\n: 1\n", "t.yaml:1:3: mapping keys must be scalars, not a list");
    parse_err("{{a: 1}: 2}", "t.yaml:1:2: mapping keys must be scalars, not a mapping");
    parse_err("m: &m {a: 1}\n*m : 2\n", "t.yaml:2:1: mapping keys must be scalars, not a mapping");
    parse_err("a: 1\n---\nb: 2\n",
              "t.yaml:2:1: a second YAML document; only one is allowed per file");
    parse_err("a: *nope\n", "t.yaml:1:4: unknown anchor 'nope'");
    parse_err("a: &x [1, *x]\n", "t.yaml:1:11: alias '*x' is inside the node it names (recursive "
                                 "alias)");
    /* A long key is shortened in the message. */
    char text[200];
    snprintf(text, sizeof text, "%s: 1\n%s: 2\n",
             "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
             "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk");
    parse_err(text, "t.yaml:2:1: duplicate key "
                    "'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...' (first at "
                    "1:1)");
}

static void test_syntax_errors(void)
{
    /* libyaml's problem and context, at libyaml's 1-based mark. */
    parse_err("a: [1, 2\nb: 3\n",
              "t.yaml:2:2: did not find expected ',' or ']' (while parsing a flow sequence "
              "started at 1:4)");
    parse_err("a: 1\n b: 2\n", "t.yaml:2:3: mapping values are not allowed in this context");
    parse_err("a:\n  - 1\n  b: 2\n",
              "t.yaml:3:3: did not find expected '-' indicator (while parsing a block collection "
              "started at 2:3)");
    parse_err("a: 'unterminated\n",
              "t.yaml:2:1: found unexpected end of stream (while scanning a quoted scalar started "
              "at 1:4)");
    parse_err("a:\n\tb: 1\n",
              "t.yaml:2:1: found character that cannot start any token (while scanning for the "
              "next token started at 2:1)");
    parse_err("a: @x\n", "t.yaml:1:4: found character that cannot start any token (while "
                         "scanning for the next token started at 1:4)");
    parse_err("a: b\n\xff\n", "t.yaml:2:1: invalid leading UTF-8 octet (byte 0xff)");
    struct cm_ydoc *doc = NULL;
    char err[128];
    CHECK_INT(cm_yaml_parse("a: b\0c", 6, "t.yaml", &doc, err, sizeof err), CM_EPARSE);
    CHECK_STR(err, "t.yaml:1:5: control characters are not allowed (byte 0x00)");
}

static void test_limits(void)
{
    /* Depth: 64 levels parse, 65 do not. */
    char deep[200];
    memset(deep, '[', 64);
    memset(deep + 64, ']', 64);
    deep[128] = '\0';
    struct cm_ydoc *doc = parse_ok(deep);
    cm_yaml_free(doc);
    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    deep[130] = '\0';
    parse_err(deep, "t.yaml:1:65: nesting deeper than 64 levels");

    /* An alias bomb: 10 levels of 10 aliases each is 10^10 nodes expanded.
     * It is refused quickly, at the alias that passes the limit. */
    struct cm_buf b;
    cm_buf_init(&b, 0);
    cm_buf_puts(&b, "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int i = 1; i < 10; i++) {
        cm_buf_printf(&b, "l%d: &l%d [", i, i);
        for (int j = 0; j < 10; j++)
            cm_buf_printf(&b, "%s*l%d", j ? ", " : "", i - 1);
        cm_buf_puts(&b, "]\n");
    }
    char err[256];
    CHECK_INT(cm_yaml_parse(b.data, b.len, "bomb.yaml", &doc, err, sizeof err), CM_EPARSE);
    CHECK_STR(err, "bomb.yaml:6:45: document too large: more than 1000000 nodes (aliases "
                   "expanded)");
    cm_buf_deinit(&b);

    /* Many distinct nodes: 1,000,000 is the limit, counting containers. */
    cm_buf_init(&b, 0);
    cm_buf_puts(&b, "[");
    for (int i = 0; i < 999999; i++)
        cm_buf_puts(&b, i ? ",1" : "1");
    cm_buf_puts(&b, "]");
    CHECK_INT(cm_yaml_parse(b.data, b.len, "big", &doc, err, sizeof err), 0);
    if (doc)
        CHECK_INT(doc->root->n, 999999);
    cm_yaml_free(doc);
    cm_buf_puts(&b, "");
    b.data[b.len - 1] = ',';
    cm_buf_puts(&b, "2]");
    CHECK_INT(cm_yaml_parse(b.data, b.len, "big", &doc, err, sizeof err), CM_EPARSE);
    CHECK_STR(err, "big:1:2000000: document too large: more than 1000000 nodes (aliases "
                   "expanded)");
    cm_buf_deinit(&b);

    /* err is truncated to err_size, always terminated. */
    char small[12];
    CHECK_INT(cm_yaml_parse("a: *zz", 6, "file.yaml", &doc, small, sizeof small), CM_EPARSE);
    CHECK_STR(small, "file.yaml:1");
}

static void test_load_file(void)
{
    char path[64], err[256];
    struct cm_ydoc *doc = NULL;
    snprintf(path, sizeof path, "/tmp/cm_yaml_test_%d.yaml", (int)getpid());
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs("duration: 30s\nrate: [\n", f);
    fclose(f);
    CHECK_INT(cm_yaml_load_file(path, &doc, err, sizeof err), CM_EPARSE);
    char want[256];
    snprintf(want, sizeof want,
             "%s:3:1: did not find expected node content (while parsing a flow node started at "
             "3:1)",
             path);
    CHECK_STR(err, want);

    f = fopen(path, "w");
    fputs("duration: 30s\n", f);
    fclose(f);
    CHECK_INT(cm_yaml_load_file(path, &doc, err, sizeof err), 0);
    if (doc) {
        CHECK_STR(doc->name, path);
        CHECK(scalar_is(cm_yaml_get(doc->root, "duration"), "30s"));
        cm_yaml_free(doc);
    }

    /* 16 MiB + 1 byte of comment is too big; 16 MiB is not. */
    static char block[1 << 16];
    memset(block, 'x', sizeof block);
    block[0] = '#';
    f = fopen(path, "w");
    for (size_t i = 0; i < ((size_t)16 << 20) / sizeof block; i++)
        fwrite(block, 1, sizeof block, f);
    fclose(f);
    CHECK_INT(cm_yaml_load_file(path, &doc, err, sizeof err), 0);
    cm_yaml_free(doc);
    f = fopen(path, "a");
    fputc('x', f);
    fclose(f);
    CHECK_INT(cm_yaml_load_file(path, &doc, err, sizeof err), CM_ETOOBIG);
    snprintf(want, sizeof want, "%s: file larger than 16 MiB", path);
    CHECK_STR(err, want);
    CHECK(doc == NULL);
    unlink(path);

    CHECK_INT(cm_yaml_load_file(path, &doc, err, sizeof err), CM_ENOTFOUND);
    snprintf(want, sizeof want, "%s: No such file or directory", path);
    CHECK_STR(err, want);
    CHECK_INT(cm_yaml_load_file("/tmp", &doc, err, sizeof err), CM_EIO);
    CHECK_STR(err, "/tmp: is a directory");
}

/* cm_yaml_set: --set paths over the tree; aliases are copied on write. */
static void test_set(void)
{
    struct cm_ydoc *doc = parse_ok("base: &b {duration: 1s, rate: 5/s}\n"
                                   "phases: [*b, *b, {duration: 2s}]\n"
                                   "name: x\n");
    char err[256];
    if (!doc)
        return;
    CHECK_INT(
        cm_yaml_set(doc, "phases[1].rate", "500/s", 5, "--set phases[1].rate", err, sizeof err), 0);
    const struct cm_ynode *ph = cm_yaml_get(doc->root, "phases");
    CHECK_STR(cm_yaml_get(ph->vals[1], "rate")->str, "500/s");
    CHECK_STR(cm_yaml_get(ph->vals[1], "rate")->origin, "--set phases[1].rate");
    CHECK_STR(cm_yaml_get(ph->vals[0], "rate")->str, "5/s"); /* the alias kept its value */
    CHECK_STR(cm_yaml_get(cm_yaml_get(doc->root, "base"), "rate")->str, "5/s");
    CHECK(cm_yaml_get(ph->vals[0], "rate")->origin == NULL);
    /* new keys and new mappings on the way; value need not be NUL terminated */
    CHECK_INT(cm_yaml_set(doc, "http.timeout", "2sXX", 2, "f", err, sizeof err), 0);
    const struct cm_ynode *h = cm_yaml_get(doc->root, "http");
    CHECK(h && h->type == CM_YNODE_MAP && h->n == 1 && h->origin != NULL);
    CHECK_STR(cm_yaml_get(h, "timeout")->str, "2s");
    CHECK_INT(cm_yaml_set(doc, "phases[2].rate", "1/s", 3, "f", err, sizeof err), 0);
    CHECK_INT((int)cm_yaml_get(doc->root, "phases")->vals[2]->n, 2);
    CHECK_INT(cm_yaml_set(doc, "name", "y", 1, "f", err, sizeof err), 0);
    CHECK_STR(cm_yaml_get(doc->root, "name")->str, "y");
    CHECK_INT((int)doc->root->n, 4); /* base, phases, name, http */
    /* errors */
    CHECK_INT(cm_yaml_set(doc, "phases[3].rate", "1/s", 3, "f", err, sizeof err), CM_ERANGE);
    CHECK_STR(err, "phases[3]: no item 3 (the list has 3)");
    CHECK_INT(cm_yaml_set(doc, "phases.rate", "1", 1, "f", err, sizeof err), CM_EINVAL);
    CHECK_STR(err, "phases is a list (use [N]), not a mapping");
    CHECK_INT(cm_yaml_set(doc, "name.x", "1", 1, "f", err, sizeof err), CM_EINVAL);
    CHECK_STR(err, "name is a scalar, not a mapping");
    CHECK_INT(cm_yaml_set(doc, "name[0]", "1", 1, "f", err, sizeof err), CM_EINVAL);
    CHECK_STR(err, "name is not a list");
    const char *bad[] = {"", ".a", "a.", "a..b", "a[", "a[x]", "a[-1]", "a]b", "a[1]x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(cm_yaml_set(doc, bad[i], "1", 1, "f", err, sizeof err) == CM_EINVAL,
                  "path '%s' accepted", bad[i]);
    cm_yaml_free(doc);
    /* an empty document becomes a mapping */
    doc = parse_ok("");
    if (doc) {
        CHECK_INT(cm_yaml_set(doc, "a.b", "c", 1, NULL, err, sizeof err), 0);
        CHECK_STR(cm_yaml_get(cm_yaml_get(doc->root, "a"), "b")->str, "c");
        cm_yaml_free(doc);
    }
}

int main(void)
{
    test_block();
    test_flow_and_quotes();
    test_multiline();
    test_anchors();
    test_merge_keys();
    test_empty();
    test_structure_errors();
    test_syntax_errors();
    test_limits();
    test_load_file();
    test_set();
    return TEST_REPORT();
}

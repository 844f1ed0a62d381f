/* Unit tests for cm_corr (UUIDv7 ids) and cm_trace (W3C traceparent, AWS
 * X-Ray header): spec examples, round trips, invalid inputs, ordering within
 * a thread and uniqueness across threads and forked processes. */
#include "harness.h"

#include "cm/clock.h"
#include "cm/corr.h"
#include "cm/err.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define TP(s) cm_trace_parse_traceparent((s), strlen(s), &t)
#define XR(s) cm_trace_parse_xray((s), strlen(s), &t)

static int64_t now_ms(void)
{
    return cm_clock_wall_ns() / CM_NS_PER_MS;
}

static void hex16(const uint8_t *p, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[p[i] >> 4];
        out[2 * i + 1] = hx[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* The example in W3C Trace Context section 3.2 and the one in 2.3. */
static void test_traceparent_spec_examples(void)
{
    struct cm_trace t;
    char out[CM_TRACEPARENT_LEN + 1], hx[33];
    const char *ex = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    CHECK_INT(TP(ex), 0);
    hex16(t.trace_id, 16, hx);
    CHECK_STR(hx, "0af7651916cd43dd8448eb211c80319c");
    hex16(t.parent_id, 8, hx);
    CHECK_STR(hx, "b7ad6b7169203331");
    CHECK_INT(t.flags, 1);
    cm_trace_format_traceparent(&t, out);
    CHECK_STR(out, ex);
    CHECK_INT(strlen(out), CM_TRACEPARENT_LEN);

    const char *ex2 = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
    CHECK_INT(TP(ex2), 0);
    CHECK_INT(t.flags, 0);
    cm_trace_format_traceparent(&t, out);
    CHECK_STR(out, ex2);
    char id[CM_TRACE_ID_HEX + 1];
    cm_trace_format_trace_id(&t, id);
    CHECK_STR(id, "4bf92f3577b34da6a3ce929d0e0e4736");

    /* Unknown flag bits are kept as they are. */
    CHECK_INT(TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff"), 0);
    CHECK_INT(t.flags, 0xff);
    /* HTTP optional whitespace around the value. */
    CHECK_INT(TP(" \t00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\t "), 0);
    CHECK_INT(t.flags, 1);
}

static void test_traceparent_invalid(void)
{
    struct cm_trace t;
    static const char *const bad[] = {
        "",
        "00",
        /* version ff is forbidden */
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        /* all-zero trace id / parent id */
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
        /* upper-case hex: HEXDIGLC only, in every field */
        "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-B7AD6B7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0A",
        "0A-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        /* wrong lengths */
        "00-0af7651916cd43dd8448eb211c80319-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319cc-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b71692033311-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-011",
        "0-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        /* version 00 allows nothing after the flags */
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what",
        /* non-hex, wrong separators */
        "00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01",
        "00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331_01",
        "0x-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "00-0af7651916cd43dd 8448eb211c80319c-b7ad6b716920331-01",
        /* a future version must still put a '-' after the flags */
        "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x",
        "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01.what",
        "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01_",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&t, 0x5a, sizeof t);
        CHECK_MSG(TP(bad[i]) == CM_EPARSE, "accepted invalid traceparent \"%s\"", bad[i]);
        CHECK_MSG(t.flags == 0x5a && t.trace_id[0] == 0x5a, "wrote *t on failure: \"%s\"", bad[i]);
    }
    /* Not NUL terminated: the parser reads only n bytes. */
    char buf[64];
    memcpy(buf, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01ZZZZ", 59);
    CHECK_INT(cm_trace_parse_traceparent(buf, 55, &t), 0);
    CHECK_INT(cm_trace_parse_traceparent(buf, 54, &t), CM_EPARSE);
    CHECK_INT(cm_trace_parse_traceparent(NULL, 0, &t), CM_EPARSE);
}

/* W3C versioning: a parser that meets a higher version reads the version 00
 * fields when the flags are followed by the end or a '-'. */
static void test_traceparent_future_version(void)
{
    struct cm_trace t;
    char out[CM_TRACEPARENT_LEN + 1];
    CHECK_INT(TP("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), 0);
    CHECK_INT(TP("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-the-future-will-be"),
              0);
    CHECK_INT(t.flags, 1);
    cm_trace_format_traceparent(&t, out);
    CHECK_STR(out, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    CHECK_INT(TP("fe-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00-"), 0);
    CHECK_INT(t.flags, 0);
}

/* The example in the X-Ray developer guide, "Tracing header". */
static void test_xray_spec_example(void)
{
    struct cm_trace t;
    char out[CM_XRAY_HEADER_MAX], hx[33], root[CM_XRAY_ROOT_LEN + 1];
    const char *ex = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    CHECK_INT(XR(ex), 0);
    hex16(t.trace_id, 16, hx);
    CHECK_STR(hx, "5759e988bd862e3fe1be46a994272793");
    hex16(t.parent_id, 8, hx);
    CHECK_STR(hx, "53995c3f42cd8ad8");
    CHECK_INT(t.flags, CM_TRACE_SAMPLED);
    cm_trace_format_xray(&t, out);
    CHECK_STR(out, ex);
    cm_trace_format_xray_root(&t, root);
    CHECK_STR(root, "1-5759e988-bd862e3fe1be46a994272793");
    /* The same 16 bytes are a W3C trace id. */
    char tp[CM_TRACEPARENT_LEN + 1];
    cm_trace_format_traceparent(&t, tp);
    CHECK_STR(tp, "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01");
    struct cm_trace back;
    CHECK_INT(cm_trace_parse_traceparent(tp, strlen(tp), &back), 0);
    CHECK(memcmp(&back, &t, sizeof t) == 0);

    /* The Lambda-Runtime-Trace-Id example in docs/protocols.md. */
    CHECK_INT(XR("Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"), 0);
    CHECK_INT(t.trace_id[0], 0x5b);
    CHECK_INT(t.parent_id[7], 0x19);
}

static void test_xray_lenient(void)
{
    struct cm_trace t;
    char out[CM_XRAY_HEADER_MAX];
    const char *canon =
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    static const char *const same[] = {
        "Sampled=1;Parent=53995c3f42cd8ad8;Root=1-5759e988-bd862e3fe1be46a994272793",
        "Parent=53995c3f42cd8ad8;Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
        "Root=1-5759e988-bd862e3fe1be46a994272793 ; Parent=53995c3f42cd8ad8 ;\tSampled=1",
        "  Root = 1-5759e988-bd862e3fe1be46a994272793;Parent= 53995c3f42cd8ad8;Sampled =1;",
        ("Self=1-67891234-12456789abcdef012345678;Root=1-5759e988-bd862e3fe1be46a994272793;"
         "Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1|68fd508a:5"),
        "root=1-5759E988-BD862E3FE1BE46A994272793;PARENT=53995C3F42CD8AD8;sampled=1",
        ";;Root=1-5759e988-bd862e3fe1be46a994272793;;Parent=53995c3f42cd8ad8;Sampled=1;;",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Foo=",
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        memset(&t, 0, sizeof t);
        CHECK_MSG(XR(same[i]) == 0, "rejected \"%s\"", same[i]);
        cm_trace_format_xray(&t, out);
        CHECK_MSG(strcmp(out, canon) == 0, "\"%s\" -> \"%s\"", same[i], out);
    }
    /* Sampled=? (decision deferred), 0, or absent: not sampled. No Parent: zero. */
    CHECK_INT(XR("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=?"), 0);
    CHECK_INT(t.flags, 0);
    uint8_t zero[8] = {0};
    CHECK(memcmp(t.parent_id, zero, 8) == 0);
    cm_trace_format_xray(&t, out);
    CHECK_STR(out, "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0");
    CHECK_INT(XR("Root=1-5759e988-bd862e3fe1be46a994272793"), 0);
    CHECK_INT(t.flags, 0);
    CHECK_INT(XR("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0;Parent=53995c3f42cd8ad8"), 0);
    CHECK_INT(t.flags, 0);
    CHECK_INT(t.parent_id[0], 0x53);
}

static void test_xray_invalid(void)
{
    struct cm_trace t;
    static const char *const bad[] = {
        "",
        " ; ",
        "Parent=53995c3f42cd8ad8;Sampled=1",
        "Root=;Parent=53995c3f42cd8ad8",
        "Root=2-5759e988-bd862e3fe1be46a994272793",
        "Root=1-5759e98-bd862e3fe1be46a994272793",
        "Root=1-5759e9888-bd862e3fe1be46a99427279",
        "Root=1-5759e988-bd862e3fe1be46a99427279",
        "Root=1-5759e988-bd862e3fe1be46a9942727933",
        "Root=1-5759e988_bd862e3fe1be46a994272793",
        "Root=1-5759e98g-bd862e3fe1be46a994272793",
        "Root=1-00000000-000000000000000000000000",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8a",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=0000000000000000",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8adx",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=2",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=10",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Root=1-5759e988-bd862e3fe1be46a994272793",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1;Sampled=0",
        "Root=1-5759e988-bd862e3fe1be46a994272793;garbage",
        "Root 1-5759e988-bd862e3fe1be46a994272793",
        "Root=1-5759e988-bd862e3fe1be46a994272793,Parent=53995c3f42cd8ad8",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&t, 0x5a, sizeof t);
        CHECK_MSG(XR(bad[i]) == CM_EPARSE, "accepted invalid x-ray header \"%s\"", bad[i]);
        CHECK_MSG(t.flags == 0x5a && t.trace_id[0] == 0x5a, "wrote *t on failure: \"%s\"", bad[i]);
    }
    CHECK_INT(cm_trace_parse_xray(NULL, 0, &t), CM_EPARSE);
    /* Only n bytes are read. */
    const char *s = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1";
    CHECK_INT(cm_trace_parse_xray(s, 40, &t), 0);
    CHECK_INT(t.flags, 0);
    CHECK_INT(cm_trace_parse_xray(s, 39, &t), CM_EPARSE);
}

static void test_trace_new_round_trip(void)
{
    int64_t now = now_ms();
    for (int i = 0; i < 200; i++) {
        struct cm_trace t, a, b;
        cm_trace_new(now, &t);
        CHECK_INT(t.flags, CM_TRACE_SAMPLED);
        uint32_t secs = (uint32_t)t.trace_id[0] << 24 | (uint32_t)t.trace_id[1] << 16 |
                        (uint32_t)t.trace_id[2] << 8 | t.trace_id[3];
        CHECK_INT(secs, now / 1000);
        char tp[CM_TRACEPARENT_LEN + 1], xr[CM_XRAY_HEADER_MAX];
        cm_trace_format_traceparent(&t, tp);
        cm_trace_format_xray(&t, xr);
        CHECK_INT(strlen(tp), CM_TRACEPARENT_LEN);
        CHECK_INT(cm_trace_parse_traceparent(tp, strlen(tp), &a), 0);
        CHECK_INT(cm_trace_parse_xray(xr, strlen(xr), &b), 0);
        CHECK(memcmp(&a, &t, sizeof t) == 0);
        CHECK(memcmp(&b, &t, sizeof t) == 0);
        /* Root's epoch field is the current time in seconds. */
        char root[CM_XRAY_ROOT_LEN + 1], want[16];
        cm_trace_format_xray_root(&t, root);
        snprintf(want, sizeof want, "1-%08x-", (unsigned)(now / 1000));
        CHECK(strncmp(root, want, 11) == 0);
        if (th_failed)
            break;
    }
    struct cm_trace p, c;
    cm_trace_new(now, &p);
    cm_trace_child(&p, &c);
    CHECK(memcmp(p.trace_id, c.trace_id, 16) == 0);
    CHECK(memcmp(p.parent_id, c.parent_id, 8) != 0);
    CHECK_INT(c.flags, p.flags);
    struct cm_trace same = p;
    cm_trace_child(&same, &same);
    CHECK(memcmp(p.trace_id, same.trace_id, 16) == 0);
    CHECK(memcmp(p.parent_id, same.parent_id, 8) != 0);
}

static void test_uuid7_layout(void)
{
    /* RFC 9562 appendix A.6 example: 2022-02-22 14:22:22 -05:00. */
    const char *rfc = "017f22e2-79b0-7cc3-98c4-dc0c0c07398f";
    CHECK_INT(cm_corr_id_time_ms(rfc, strlen(rfc)), 1645557742000LL);
    const char *rfc_uc = "017F22E2-79B0-7CC3-98C4-DC0C0C07398F";
    CHECK_INT(cm_corr_id_time_ms(rfc_uc, strlen(rfc_uc)), 1645557742000LL);
    static const char *const bad[] = {
        "017f22e2-79b0-4cc3-98c4-dc0c0c07398f", /* version 4 */
        "017f22e2-79b0-7cc3-c8c4-dc0c0c07398f", /* variant 110 */
        "017f22e2-79b0-7cc3-78c4-dc0c0c07398f", /* variant 0 */
        "017f22e2-79b0-7cc3-98c4-dc0c0c07398",  /* short */
        "017f22e2-79b0-7cc3-98c4-dc0c0c07398f0",
        "017f22e279b0-7cc3-98c4-dc0c0c07398f-",
        "017f22e2-79b0-7cc3-98c4_dc0c0c07398f",
        "017f22g2-79b0-7cc3-98c4-dc0c0c07398f",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(cm_corr_id_time_ms(bad[i], strlen(bad[i])) == -1, "accepted \"%s\"", bad[i]);

    /* A timestamp later than anything before starts a fresh millisecond, so
     * the id carries it exactly. */
    int64_t t0 = now_ms() + 100000;
    char id[CM_CORR_ID_LEN + 1];
    cm_corr_new_id(t0, id);
    CHECK_INT(strlen(id), CM_CORR_ID_LEN);
    CHECK_INT(cm_corr_id_time_ms(id, strlen(id)), t0);
    CHECK(id[8] == '-' && id[13] == '-' && id[18] == '-' && id[23] == '-');
    CHECK(id[14] == '7');
    CHECK(strchr("89ab", id[19]) != NULL);
    for (const char *c = id; *c; c++)
        CHECK_MSG((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f') || *c == '-',
                  "not lower-case hex: %s", id);

    /* Byte layout: 48-bit big-endian ms, version 7, variant 10. */
    uint8_t u[16];
    int64_t t1 = t0 + 1;
    cm_corr_uuid7(t1, u);
    int64_t ms = 0;
    for (int i = 0; i < 6; i++)
        ms = ms << 8 | u[i];
    CHECK_INT(ms, t1);
    CHECK_INT(u[6] >> 4, 7);
    CHECK_INT(u[8] >> 6, 2);
    char txt[CM_CORR_ID_LEN + 1];
    cm_corr_format_uuid(u, txt);
    CHECK_INT(cm_corr_id_time_ms(txt, CM_CORR_ID_LEN), t1);
    /* A known timestamp far in the past (a clock step back > 10 s) restarts. */
    cm_corr_new_id(1645557742000LL, id);
    CHECK_INT(cm_corr_id_time_ms(id, CM_CORR_ID_LEN), 1645557742000LL);
    CHECK(strncmp(id, "017f22e2-79b0-7", 15) == 0);
    /* Out-of-range timestamps are clamped. */
    cm_corr_new_id(-5, id);
    CHECK_INT(cm_corr_id_time_ms(id, CM_CORR_ID_LEN), 0);
}

static void test_uuid7_monotonic(void)
{
    char prev[CM_CORR_ID_LEN + 1], cur[CM_CORR_ID_LEN + 1];
    int64_t t0 = now_ms() + 200000;
    cm_corr_new_id(t0, prev);
    int bad = 0;
    /* Same millisecond far past the 12-bit counter (rollover borrows the
     * next ms), then small clock steps back, then real time advancing. */
    for (int i = 0; i < 20000 && bad < 5; i++) {
        int64_t t = i < 10000 ? t0 : i < 15000 ? t0 - (i % 7) : t0 + (i - 15000) / 100;
        cm_corr_new_id(t, cur);
        if (strcmp(prev, cur) >= 0) {
            bad++;
            TH_FAIL_AT("not increasing at %d: %s then %s", i, prev, cur);
        }
        memcpy(prev, cur, sizeof cur);
    }
    CHECK_INT(bad, 0);
    /* 10000 ids in one ms need at most ceil(10000 / 2048) extra ms. */
    int64_t last = cm_corr_id_time_ms(prev, CM_CORR_ID_LEN);
    CHECK(last >= t0 && last <= t0 + 50 + 10);
}

#define N_THREADS      4
#define IDS_PER_THREAD 250000
#define FORK_IDS       20000

struct gen_arg {
    uint8_t (*ids)[16];
    size_t n;
    int non_monotonic;
};

static void *gen_thread(void *p)
{
    struct gen_arg *a = p;
    for (size_t i = 0; i < a->n; i++) {
        cm_corr_uuid7(now_ms(), a->ids[i]);
        if (i > 0 && memcmp(a->ids[i - 1], a->ids[i], 16) >= 0)
            a->non_monotonic++;
    }
    return NULL;
}

static int cmp16(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

static size_t count_dups(uint8_t (*ids)[16], size_t n)
{
    qsort(ids, n, 16, cmp16);
    size_t d = 0;
    for (size_t i = 1; i < n; i++)
        d += memcmp(ids[i - 1], ids[i], 16) == 0;
    return d;
}

static void test_unique_across_threads(void)
{
    size_t total = (size_t)N_THREADS * IDS_PER_THREAD;
    uint8_t(*ids)[16] = calloc(total, 16);
    CHECK(ids != NULL);
    if (!ids)
        return;
    pthread_t th[N_THREADS];
    struct gen_arg args[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        args[i] = (struct gen_arg){.ids = ids + (size_t)i * IDS_PER_THREAD, .n = IDS_PER_THREAD};
        CHECK_INT(pthread_create(&th[i], NULL, gen_thread, &args[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(args[i].non_monotonic, 0);
    }
    CHECK_INT(count_dups(ids, total), 0);
    free(ids);
}

static int write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static size_t read_all(int fd, void *p, size_t n)
{
    uint8_t *b = p;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, b + got, n - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

/* The parent has already used its generator, so the child starts from a copy
 * of that state: it must reseed rather than replay the parent's sequence. */
static void test_unique_across_fork(void)
{
    uint8_t warm[16];
    cm_corr_uuid7(now_ms(), warm);
    uint8_t(*ids)[16] = calloc(2 * FORK_IDS, 16);
    CHECK(ids != NULL);
    if (!ids)
        return;
    int fds[2];
    CHECK_INT(pipe(fds), 0);
    int64_t t = now_ms();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        uint8_t(*mine)[16] = ids + FORK_IDS;
        for (int i = 0; i < FORK_IDS; i++)
            cm_corr_uuid7(t, mine[i]);
        _exit(write_all(fds[1], mine, (size_t)FORK_IDS * 16) == 0 ? 0 : 1);
    }
    close(fds[1]);
    for (int i = 0; i < FORK_IDS; i++)
        cm_corr_uuid7(t, ids[i]);
    size_t got = read_all(fds[0], ids + FORK_IDS, (size_t)FORK_IDS * 16);
    close(fds[0]);
    int status = 0;
    CHECK_INT(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_INT(got, (size_t)FORK_IDS * 16);
    CHECK_INT(count_dups(ids, 2 * FORK_IDS), 0);
    free(ids);

    /* Same for the raw random bytes. */
    CHECK_INT(pipe(fds), 0);
    pid = fork();
    if (pid == 0) {
        uint64_t r = cm_corr_random_u64();
        _exit(write_all(fds[1], &r, sizeof r) == 0 ? 0 : 1);
    }
    close(fds[1]);
    uint64_t mine = cm_corr_random_u64(), theirs = 0;
    CHECK_INT(read_all(fds[0], &theirs, sizeof theirs), sizeof theirs);
    close(fds[0]);
    CHECK_INT(waitpid(pid, &status, 0), pid);
    CHECK(mine != theirs);
}

static void test_random_bytes(void)
{
    uint8_t a[37], b[37];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    cm_corr_random(a, sizeof a);
    cm_corr_random(b, sizeof b);
    CHECK(memcmp(a, b, sizeof a) != 0);
    /* Every byte position is written (a zero tail would show a short fill). */
    int nz = 0;
    for (int i = 0; i < 1000; i++) {
        uint8_t c[3] = {0, 0, 0};
        cm_corr_random(c, 3);
        nz += c[2] != 0;
    }
    CHECK(nz > 900);
    cm_corr_random(a, 0);
}

int main(void)
{
    test_traceparent_spec_examples();
    test_traceparent_invalid();
    test_traceparent_future_version();
    test_xray_spec_example();
    test_xray_lenient();
    test_xray_invalid();
    test_trace_new_round_trip();
    test_uuid7_layout();
    test_uuid7_monotonic();
    test_random_bytes();
    test_unique_across_threads();
    test_unique_across_fork();
    return TEST_REPORT();
}

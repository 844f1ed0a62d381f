/* corr.c: UUIDv7 correlation ids and W3C traceparent / AWS X-Ray trace
 * headers (see corr.h). Randomness comes from a per-thread xoshiro256**
 * generator seeded from getrandom(); it is fast and unpredictable enough to
 * keep ids unique, not a source of secrets.
 *
 * Wire formats:
 *   traceparent (W3C Trace Context): VV-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>
 *     lower-case hex only (HEXDIGLC); version ff is invalid; version 00 is
 *     exactly 55 characters; a higher version is read as 00 when the flags
 *     are followed by the end or a '-'.
 *   X-Amzn-Trace-Id (AWS X-Ray): Root=1-<8 hex epoch s>-<24 hex>;Parent=<16 hex>;Sampled=<0|1|?>
 *     fields in any order, unknown keys (Self, Lineage, ...) ignored. */
#include "cm/corr.h"

#include "cm/clock.h"
#include "cm/err.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

/* A clock step back larger than this restarts the sequence at now_ms instead
 * of reusing the last timestamp (which would otherwise date ids in the
 * future for as long as the step). */
#define CORR_MAX_BACKSTEP_MS 10000
#define CORR_MAX_MS          ((INT64_C(1) << 48) - 1)
#define CORR_COUNTER_MAX     0xfff /* rand_a is 12 bits */
/* A fresh millisecond starts the counter at a random value below 2^11, which
 * leaves at least 2048 increments before it rolls over (RFC 9562 6.2 advises
 * a zero leftmost bit for this reason). */
#define CORR_COUNTER_SEED_MASK 0x7ff

struct corr_state {
    uint64_t s[4];    /* xoshiro256** state, never all zero */
    unsigned gen;     /* g_fork_gen when seeded */
    int seeded;       /* 0 until the first use in this thread */
    int64_t last_ms;  /* timestamp of the last UUIDv7, ms */
    unsigned counter; /* rand_a of the last UUIDv7, 0..CORR_COUNTER_MAX */
};

static _Thread_local struct corr_state g_tls;
/* Bumped in the child after every fork so each thread's state notices that
 * it was copied and reseeds: a child must not replay its parent's ids. */
static atomic_uint g_fork_gen;
static atomic_uint_fast64_t g_seed_salt;
static pthread_once_t g_atfork_once = PTHREAD_ONCE_INIT;

static const char hex_lc[] = "0123456789abcdef";

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t xoshiro_next(uint64_t s[4])
{
    uint64_t out = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return out;
}

static void on_fork_child(void)
{
    atomic_fetch_add_explicit(&g_fork_gen, 1, memory_order_relaxed);
}

static void register_atfork(void)
{
    pthread_atfork(NULL, NULL, on_fork_child);
}

/* 32 bytes from getrandom(); 0 or -1 when the kernel cannot give them. */
static int read_entropy(uint64_t seed[4])
{
    uint8_t *p = (uint8_t *)seed;
    size_t got = 0;
    for (int tries = 0; got < 32 && tries < 8; tries++) {
        ssize_t r = getrandom(p + got, 32 - got, 0);
        if (r > 0)
            got += (size_t)r;
        else if (r < 0 && errno != EINTR)
            break;
    }
    return got == 32 ? 0 : -1;
}

static void seed_state(struct corr_state *st)
{
    pthread_once(&g_atfork_once, register_atfork);
    unsigned gen = atomic_load_explicit(&g_fork_gen, memory_order_relaxed);
    uint64_t seed[4];
    if (read_entropy(seed) != 0) {
        /* No getrandom (very old kernel, seccomp): mix everything that
         * differs between threads and processes started together. */
        seed[0] = (uint64_t)cm_clock_wall_ns();
        seed[1] = (uint64_t)cm_clock_mono_ns() ^ ((uint64_t)getpid() << 32);
        seed[2] = (uint64_t)syscall(SYS_gettid) ^ (uint64_t)(uintptr_t)st;
        seed[3] = atomic_fetch_add_explicit(&g_seed_salt, 1, memory_order_relaxed);
    }
    /* splitmix64 spreads the seed words so the xoshiro state is never all
     * zero in practice; the loop below makes that certain. */
    uint64_t x = seed[0] ^ rotl64(seed[1], 16) ^ rotl64(seed[2], 32) ^ rotl64(seed[3], 48);
    for (int i = 0; i < 4; i++)
        st->s[i] = splitmix64(&x) ^ seed[i];
    while ((st->s[0] | st->s[1] | st->s[2] | st->s[3]) == 0)
        st->s[0] = splitmix64(&x);
    st->gen = gen;
    st->seeded = 1;
    st->last_ms = -1;
    st->counter = 0;
}

static struct corr_state *state(void)
{
    struct corr_state *st = &g_tls;
    if (!st->seeded || st->gen != atomic_load_explicit(&g_fork_gen, memory_order_relaxed))
        seed_state(st);
    return st;
}

uint64_t cm_corr_random_u64(void)
{
    return xoshiro_next(state()->s);
}

void cm_corr_random(void *out, size_t n)
{
    struct corr_state *st = state();
    uint8_t *p = out;
    while (n > 0) {
        uint64_t r = xoshiro_next(st->s);
        size_t k = n < 8 ? n : 8;
        memcpy(p, &r, k);
        p += k;
        n -= k;
    }
}

/* Picks (ms, counter) for the next UUIDv7 of this thread, RFC 9562 6.2
 * method 1 with the 12-bit rand_a as counter. Invariant: (last_ms, counter)
 * strictly increases between calls unless the clock stepped back by more
 * than CORR_MAX_BACKSTEP_MS. */
static void next_stamp(struct corr_state *st, int64_t now_ms)
{
    if (now_ms < 0)
        now_ms = 0;
    if (now_ms > CORR_MAX_MS)
        now_ms = CORR_MAX_MS;
    if (now_ms > st->last_ms || st->last_ms - now_ms > CORR_MAX_BACKSTEP_MS) {
        st->last_ms = now_ms;
        st->counter = (unsigned)(xoshiro_next(st->s) >> 53) & CORR_COUNTER_SEED_MASK;
    } else if (st->counter < CORR_COUNTER_MAX) {
        st->counter++;
    } else {
        /* Rolled over: borrow the next millisecond (RFC 9562 6.2, "counter
         * rollover handling"). At the 48-bit limit there is no next one;
         * ids stay unique through rand_b but lose their order. */
        if (st->last_ms < CORR_MAX_MS)
            st->last_ms++;
        st->counter = (unsigned)(xoshiro_next(st->s) >> 53) & CORR_COUNTER_SEED_MASK;
    }
}

void cm_corr_uuid7(int64_t now_ms, uint8_t out[16])
{
    struct corr_state *st = state();
    next_stamp(st, now_ms);
    uint64_t ms = (uint64_t)st->last_ms;
    for (int i = 0; i < 6; i++)
        out[i] = (uint8_t)(ms >> (40 - 8 * i));
    out[6] = (uint8_t)(0x70 | (st->counter >> 8));
    out[7] = (uint8_t)(st->counter & 0xff);
    uint64_t r = xoshiro_next(st->s);
    memcpy(out + 8, &r, 8);
    out[8] = (uint8_t)(0x80 | (out[8] & 0x3f)); /* variant 10 */
}

static char *put_hex(char *o, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        *o++ = hex_lc[p[i] >> 4];
        *o++ = hex_lc[p[i] & 15];
    }
    return o;
}

void cm_corr_format_uuid(const uint8_t id[16], char out[CM_CORR_ID_LEN + 1])
{
    char *o = out;
    o = put_hex(o, id, 4);
    *o++ = '-';
    o = put_hex(o, id + 4, 2);
    *o++ = '-';
    o = put_hex(o, id + 6, 2);
    *o++ = '-';
    o = put_hex(o, id + 8, 2);
    *o++ = '-';
    o = put_hex(o, id + 10, 6);
    *o = '\0';
}

void cm_corr_new_id(int64_t now_ms, char out[CM_CORR_ID_LEN + 1])
{
    uint8_t id[16];
    cm_corr_uuid7(now_ms, id);
    cm_corr_format_uuid(id, out);
}

/* Hex digit value + 1 per byte, 0 for anything else: one table for
 * HEXDIGLC (W3C) and one accepting either case (UUIDs, X-Ray). A lookup
 * instead of range tests made header parsing about twice as fast. */
#define HEX_DIGITS_LC                                                                              \
    ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,        \
    ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16
static const uint8_t hex_tab_lc[256] = {HEX_DIGITS_LC};
static const uint8_t hex_tab_any[256] = {
    HEX_DIGITS_LC, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16};

/* Decodes 2*n hex digits from p into out; 0 or -1. lower_only: HEXDIGLC. */
static int get_hex(const char *p, size_t n, uint8_t *out, int lower_only)
{
    const uint8_t *tab = lower_only ? hex_tab_lc : hex_tab_any;
    const unsigned char *s = (const unsigned char *)p;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned hi = tab[s[2 * i]], lo = tab[s[2 * i + 1]];
        bad |= hi == 0 || lo == 0;
        out[i] = (uint8_t)((hi - 1) << 4 | ((lo - 1) & 15));
    }
    return bad ? -1 : 0;
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

int64_t cm_corr_id_time_ms(const char *p, size_t n)
{
    if (n != CM_CORR_ID_LEN)
        return -1;
    uint8_t id[16];
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (p[i] != '-')
                return -1;
            i++;
            continue;
        }
        if (get_hex(p + i, 1, &id[k++], 0) != 0)
            return -1;
        i += 2;
    }
    if ((id[6] >> 4) != 7 || (id[8] >> 6) != 2)
        return -1;
    int64_t ms = 0;
    for (int i = 0; i < 6; i++)
        ms = ms << 8 | id[i];
    return ms;
}

void cm_trace_new(int64_t now_ms, struct cm_trace *t)
{
    uint32_t secs = now_ms > 0 ? (uint32_t)(now_ms / 1000) : 0;
    t->trace_id[0] = (uint8_t)(secs >> 24);
    t->trace_id[1] = (uint8_t)(secs >> 16);
    t->trace_id[2] = (uint8_t)(secs >> 8);
    t->trace_id[3] = (uint8_t)secs;
    do
        cm_corr_random(t->trace_id + 4, 12);
    while (all_zero(t->trace_id, 16));
    do
        cm_corr_random(t->parent_id, 8);
    while (all_zero(t->parent_id, 8));
    t->flags = CM_TRACE_SAMPLED;
}

void cm_trace_child(const struct cm_trace *parent, struct cm_trace *child)
{
    if (child != parent)
        *child = *parent;
    do
        cm_corr_random(child->parent_id, 8);
    while (all_zero(child->parent_id, 8));
}

void cm_trace_format_traceparent(const struct cm_trace *t, char out[CM_TRACEPARENT_LEN + 1])
{
    char *o = out;
    *o++ = '0';
    *o++ = '0';
    *o++ = '-';
    o = put_hex(o, t->trace_id, 16);
    *o++ = '-';
    o = put_hex(o, t->parent_id, 8);
    *o++ = '-';
    o = put_hex(o, &t->flags, 1);
    *o = '\0';
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static void trim_ows(const char **p, size_t *n)
{
    while (*n > 0 && is_ows((*p)[0])) {
        (*p)++;
        (*n)--;
    }
    while (*n > 0 && is_ows((*p)[*n - 1]))
        (*n)--;
}

int cm_trace_parse_traceparent(const char *p, size_t n, struct cm_trace *t)
{
    trim_ows(&p, &n);
    if (n < CM_TRACEPARENT_LEN)
        return CM_EPARSE;
    uint8_t version;
    struct cm_trace v;
    if (get_hex(p, 1, &version, 1) != 0 || version == 0xff)
        return CM_EPARSE;
    if (p[2] != '-' || p[35] != '-' || p[52] != '-')
        return CM_EPARSE;
    /* Version 00 has exactly four fields; a later version may append more,
     * each introduced by a '-'. */
    if (n > CM_TRACEPARENT_LEN && (version == 0 || p[55] != '-'))
        return CM_EPARSE;
    if (get_hex(p + 3, 16, v.trace_id, 1) != 0 || get_hex(p + 36, 8, v.parent_id, 1) != 0 ||
        get_hex(p + 53, 1, &v.flags, 1) != 0)
        return CM_EPARSE;
    if (all_zero(v.trace_id, 16) || all_zero(v.parent_id, 8))
        return CM_EPARSE;
    *t = v;
    return 0;
}

void cm_trace_format_xray_root(const struct cm_trace *t, char out[CM_XRAY_ROOT_LEN + 1])
{
    char *o = out;
    *o++ = '1';
    *o++ = '-';
    o = put_hex(o, t->trace_id, 4);
    *o++ = '-';
    o = put_hex(o, t->trace_id + 4, 12);
    *o = '\0';
}

void cm_trace_format_trace_id(const struct cm_trace *t, char out[CM_TRACE_ID_HEX + 1])
{
    *put_hex(out, t->trace_id, 16) = '\0';
}

void cm_trace_format_xray(const struct cm_trace *t, char out[96])
{
    /* Longest output: 5 + 35 + 8 + 16 + 9 = 73 characters. */
    char *o = out;
    memcpy(o, "Root=", 5);
    o += 5;
    cm_trace_format_xray_root(t, o);
    o += CM_XRAY_ROOT_LEN;
    if (!all_zero(t->parent_id, 8)) {
        memcpy(o, ";Parent=", 8);
        o = put_hex(o + 8, t->parent_id, 8);
    }
    memcpy(o, ";Sampled=", 9);
    o += 9;
    *o++ = (t->flags & CM_TRACE_SAMPLED) ? '1' : '0';
    *o = '\0';
}

static int key_is(const char *k, size_t kn, const char *name)
{
    size_t n = strlen(name);
    return kn == n && strncasecmp(k, name, n) == 0;
}

/* "1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx" -> 16 trace id bytes; 0 or -1. */
static int parse_xray_root(const char *v, size_t n, uint8_t id[16])
{
    if (n != CM_XRAY_ROOT_LEN || v[0] != '1' || v[1] != '-' || v[10] != '-')
        return -1;
    if (get_hex(v + 2, 4, id, 0) != 0 || get_hex(v + 11, 12, id + 4, 0) != 0)
        return -1;
    return all_zero(id, 16) ? -1 : 0;
}

/* One "key=value" field, already trimmed. seen: bit 0 Root, 1 Parent, 2 Sampled. */
static int parse_xray_field(const char *f, size_t n, struct cm_trace *v, unsigned *seen)
{
    const char *eq = memchr(f, '=', n);
    if (!eq)
        return CM_EPARSE;
    const char *k = f, *val = eq + 1;
    size_t kn = (size_t)(eq - f), vn = n - kn - 1;
    trim_ows(&k, &kn);
    trim_ows(&val, &vn);
    unsigned bit;
    if (key_is(k, kn, "Root")) {
        bit = 1;
        if (parse_xray_root(val, vn, v->trace_id) != 0)
            return CM_EPARSE;
    } else if (key_is(k, kn, "Parent")) {
        bit = 2;
        if (vn != 16 || get_hex(val, 8, v->parent_id, 0) != 0 || all_zero(v->parent_id, 8))
            return CM_EPARSE;
    } else if (key_is(k, kn, "Sampled")) {
        bit = 4;
        if (vn != 1 || (val[0] != '0' && val[0] != '1' && val[0] != '?'))
            return CM_EPARSE;
        v->flags = val[0] == '1' ? CM_TRACE_SAMPLED : 0;
    } else {
        return 0;
    }
    if (*seen & bit)
        return CM_EPARSE;
    *seen |= bit;
    return 0;
}

int cm_trace_parse_xray(const char *p, size_t n, struct cm_trace *t)
{
    struct cm_trace v;
    memset(&v, 0, sizeof v);
    unsigned seen = 0;
    if (n == 0)
        return CM_EPARSE;
    size_t i = 0;
    while (i <= n) {
        const char *semi = i < n ? memchr(p + i, ';', n - i) : NULL;
        size_t end = semi ? (size_t)(semi - p) : n;
        const char *f = p + i;
        size_t fn = end - i;
        trim_ows(&f, &fn);
        if (fn > 0 && parse_xray_field(f, fn, &v, &seen) != 0)
            return CM_EPARSE;
        i = end + 1;
    }
    if (!(seen & 1))
        return CM_EPARSE;
    *t = v;
    return 0;
}

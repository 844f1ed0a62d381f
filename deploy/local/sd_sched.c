/* sd_sched.c: schedule expressions and next fire times (see sd_sched.h).
 * Dates use the days-from-civil algorithm (proleptic Gregorian, 400-year
 * cycle of 146,097 days); 1970-01-01 was a Thursday. */
#include "sd_sched.h"

#include "sd_lambda.h"
#include "sd_stack.h"

#include "cm/buf.h"
#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS_PER_MIN 60000LL
#define MS_PER_DAY 86400000LL

int64_t sd_sched_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                  /* 0..399 */
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          /* 0..146096 */
    return era * 146097 + doe - 719468;
}

void sd_sched_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int floor_div_days(int64_t ms, int64_t *days)
{
    int64_t q = ms / MS_PER_DAY;
    if (ms % MS_PER_DAY < 0)
        q--;
    *days = q;
    return (int)(ms - q * MS_PER_DAY);
}

void sd_sched_format_time(int64_t ms, char *out, size_t out_size)
{
    int64_t days, y;
    int m, d;
    int rem_ms = floor_div_days(ms, &days);
    sd_sched_civil_from_days(days, &y, &m, &d);
    int s = rem_ms / 1000;
    snprintf(out, out_size, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m, d, s / 3600,
             s / 60 % 60, s % 60);
}

/* ---------- parsing ---------- */

struct field_spec {
    const char *name;
    int min, max;
    const char *const *names; /* names[i] is value min + i, or NULL */
};

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const dow_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

enum { F_MIN, F_HOUR, F_DOM, F_MONTH, F_DOW, F_YEAR, N_FIELDS };

static const struct field_spec specs[N_FIELDS] = {
    {"minutes", 0, 59, NULL},         {"hours", 0, 23, NULL},
    {"day-of-month", 1, 31, NULL},    {"month", 1, 12, month_names},
    {"day-of-week", 1, 7, dow_names}, {"year", SD_SCHED_YEAR_MIN, SD_SCHED_YEAR_MAX, NULL},
};

struct parser {
    const char *s; /* the whole expression, for offsets */
    char *err;
    size_t err_size;
    size_t *err_off;
};

static int fail(struct parser *p, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, const char *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, p->err_size, fmt, ap);
    va_end(ap);
    if (p->err_off)
        *p->err_off = (size_t)(at - p->s);
    return CM_EPARSE;
}

/* A number or (for month/day-of-week) a three-letter name at *pp. */
static int parse_value(struct parser *p, const struct field_spec *f, const char **pp,
                       const char *end, int *out)
{
    const char *q = *pp;
    if (q < end && isdigit((unsigned char)*q)) {
        long v = 0;
        while (q < end && isdigit((unsigned char)*q) && v < 100000)
            v = v * 10 + (*q++ - '0');
        if (v < f->min || v > f->max)
            return fail(p, *pp, "%s value out of range", f->name);
        *out = (int)v;
        *pp = q;
        return 0;
    }
    if (f->names && end - q >= 3) {
        for (int i = 0; i <= f->max - f->min; i++) {
            const char *n = f->names[i];
            if (toupper((unsigned char)q[0]) == n[0] && toupper((unsigned char)q[1]) == n[1] &&
                toupper((unsigned char)q[2]) == n[2]) {
                *out = f->min + i;
                *pp = q + 3;
                return 0;
            }
        }
    }
    return fail(p, q, "%s: expected a value", f->name);
}

static void set_bit(struct sd_sched *sc, int field, int v)
{
    switch (field) {
    case F_MIN:
        sc->minutes |= 1ULL << v;
        break;
    case F_HOUR:
        sc->hours |= 1U << v;
        break;
    case F_DOM:
        sc->dom |= 1U << v;
        break;
    case F_MONTH:
        sc->months |= (uint16_t)(1U << v);
        break;
    case F_DOW:
        sc->dow |= (uint8_t)(1U << v);
        break;
    default: {
        int b = v - SD_SCHED_YEAR_MIN;
        sc->years[b / 64] |= 1ULL << (b % 64);
    }
    }
}

/* One comma-separated item: *, *\/n, a, a-b, a/n, a-b/n. */
static int parse_item(struct parser *p, struct sd_sched *sc, int field, const char *q,
                      const char *end)
{
    const struct field_spec *f = &specs[field];
    int lo = f->min, hi = f->max, step = 1, rc;
    const char *at = q;
    if (q < end && *q == '*') {
        q++;
    } else {
        if ((rc = parse_value(p, f, &q, end, &lo)) < 0)
            return rc;
        hi = lo;
        if (q < end && *q == '-') {
            q++;
            if ((rc = parse_value(p, f, &q, end, &hi)) < 0)
                return rc;
            if (hi < lo)
                return fail(p, at, "%s: range start is after its end", f->name);
        }
    }
    if (q < end && *q == '/') {
        const char *sq = ++q;
        long v = 0;
        while (q < end && isdigit((unsigned char)*q) && v < 100000)
            v = v * 10 + (*q++ - '0');
        if (q == sq || v < 1 || v > f->max - f->min + 1)
            return fail(p, sq, "%s: bad step after '/'", f->name);
        step = (int)v;
        if (hi == lo && at[0] != '*')
            hi = f->max; /* "a/n" means a, a+n, ... up to the maximum */
    }
    if (q != end)
        return fail(p, q, "%s: unexpected character", f->name);
    for (int v = lo; v <= hi; v += step)
        set_bit(sc, field, v);
    return 0;
}

/* Day-of-month and day-of-week forms that stand alone: ? L LW nW nL d#n. */
static int parse_special(struct parser *p, struct sd_sched *sc, int field, const char *q,
                         const char *end, int *handled)
{
    size_t n = (size_t)(end - q);
    int v, rc;
    *handled = 1;
    if (n == 1 && *q == '?') {
        if (field == F_DOM)
            sc->dom_q = 1;
        else
            sc->dow_q = 1;
        return 0;
    }
    if (field == F_DOM) {
        if ((n == 1 && toupper((unsigned char)*q) == 'L')) {
            sc->dom_last = 1;
            return 0;
        }
        if (n == 2 && toupper((unsigned char)q[0]) == 'L' && toupper((unsigned char)q[1]) == 'W') {
            sc->dom_last_weekday = 1;
            return 0;
        }
        if (n >= 2 && toupper((unsigned char)end[-1]) == 'W') {
            const char *vq = q;
            if ((rc = parse_value(p, &specs[F_DOM], &vq, end - 1, &v)) < 0)
                return rc;
            if (vq != end - 1)
                return fail(p, vq, "%s: expected nW", specs[F_DOM].name);
            sc->dom_weekday = (uint8_t)v;
            return 0;
        }
    } else {
        if (n == 1 && toupper((unsigned char)*q) == 'L') {
            sc->dow = 1U << 7; /* L alone: the last day of the week, Saturday (Quartz) */
            return 0;
        }
        const char *hash = memchr(q, '#', n);
        if (n >= 2 && toupper((unsigned char)end[-1]) == 'L' && !hash) {
            const char *vq = q;
            if ((rc = parse_value(p, &specs[F_DOW], &vq, end - 1, &v)) < 0)
                return rc;
            if (vq != end - 1)
                return fail(p, vq, "%s: expected nL", specs[F_DOW].name);
            sc->dow_last = (uint8_t)v;
            return 0;
        }
        if (hash) {
            const char *vq = q;
            if ((rc = parse_value(p, &specs[F_DOW], &vq, hash, &v)) < 0)
                return rc;
            if (vq != hash)
                return fail(p, vq, "%s: expected d#n", specs[F_DOW].name);
            if (end - hash != 2 || hash[1] < '1' || hash[1] > '5')
                return fail(p, hash, "%s: # must be followed by 1..5", specs[F_DOW].name);
            sc->dow_nth_day = (uint8_t)v;
            sc->dow_nth = (uint8_t)(hash[1] - '0');
            return 0;
        }
    }
    *handled = 0;
    return 0;
}

static int parse_field(struct parser *p, struct sd_sched *sc, int field, const char *q,
                       const char *end)
{
    int rc, handled = 0;
    if (field == F_DOM || field == F_DOW) {
        if ((rc = parse_special(p, sc, field, q, end, &handled)) < 0 || handled)
            return rc;
        for (const char *c = q; c < end; c++) {
            if (*c == '?' || *c == '#' ||
                (field == F_DOM &&
                 (toupper((unsigned char)*c) == 'W' || toupper((unsigned char)*c) == 'L')))
                return fail(p, c, "%s: ?, L, W and # stand alone in the field", specs[field].name);
        }
    }
    while (q < end) {
        const char *comma = memchr(q, ',', (size_t)(end - q));
        const char *ie = comma ? comma : end;
        if (ie == q)
            return fail(p, q, "%s: empty list item", specs[field].name);
        if ((rc = parse_item(p, sc, field, q, ie)) < 0)
            return rc;
        q = comma ? comma + 1 : end;
        if (comma && q == end)
            return fail(p, comma, "%s: empty list item", specs[field].name);
    }
    return 0;
}

static int parse_cron(struct parser *p, struct sd_sched *sc, const char *q, const char *end)
{
    const char *fs[N_FIELDS], *fe[N_FIELDS];
    int n = 0, rc;
    while (q < end) {
        while (q < end && *q == ' ')
            q++;
        if (q == end)
            break;
        if (n == N_FIELDS)
            return fail(p, q, "%s",
                        "cron: expected six fields (min hour day-of-month month "
                        "day-of-week year)");
        fs[n] = q;
        while (q < end && *q != ' ')
            q++;
        fe[n++] = q;
    }
    if (n != N_FIELDS)
        return fail(p, end, "%s",
                    "cron: expected six fields (min hour day-of-month month day-of-week year)");
    sc->kind = SD_SCHED_CRON;
    for (int i = 0; i < N_FIELDS; i++) {
        if ((rc = parse_field(p, sc, i, fs[i], fe[i])) < 0)
            return rc;
    }
    if (sc->dom_q == sc->dow_q)
        return fail(p, fs[F_DOM], "%s",
                    "cron: exactly one of day-of-month and day-of-week must be '?'");
    return 0;
}

static int parse_rate(struct parser *p, struct sd_sched *sc, const char *q, const char *end)
{
    static const struct {
        const char *one, *many;
        int64_t ms;
    } units[] = {{"minute", "minutes", MS_PER_MIN},
                 {"hour", "hours", 60 * MS_PER_MIN},
                 {"day", "days", MS_PER_DAY}};
    while (q < end && *q == ' ')
        q++;
    while (end > q && end[-1] == ' ')
        end--;
    const char *vs = q;
    int64_t v = 0;
    while (q < end && isdigit((unsigned char)*q) && v < 1000000000)
        v = v * 10 + (*q++ - '0');
    if (q == vs || v < 1 || v >= 1000000000)
        return fail(p, vs, "%s", "rate: expected a positive whole number like rate(5 minutes)");
    if (q == end || *q != ' ')
        return fail(p, q, "%s", "rate: expected a unit (minute(s), hour(s), day(s))");
    while (q < end && *q == ' ')
        q++;
    size_t un = (size_t)(end - q);
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        const char *want = v == 1 ? units[i].one : units[i].many;
        if (un == strlen(want) && memcmp(q, want, un) == 0) {
            sc->kind = SD_SCHED_RATE;
            sc->rate_ms = v * units[i].ms;
            return 0;
        }
    }
    return fail(p, q, "%s",
                v == 1 ? "rate: the unit for 1 is minute, hour or day"
                       : "rate: the unit for values above 1 is minutes, hours or days");
}

int sd_sched_parse(const char *s, size_t len, struct sd_sched *out, char *err, size_t err_size,
                   size_t *err_off)
{
    struct parser p = {s, err, err_size, err_off};
    memset(out, 0, sizeof(*out));
    if (err_size)
        err[0] = '\0';
    if (err_off)
        *err_off = 0;
    const char *end = s + len;
    if (len >= 6 && memcmp(s, "rate(", 5) == 0 && end[-1] == ')')
        return parse_rate(&p, out, s + 5, end - 1);
    if (len >= 6 && memcmp(s, "cron(", 5) == 0 && end[-1] == ')')
        return parse_cron(&p, out, s + 5, end - 1);
    return fail(&p, s, "%s", "expected rate(value unit) or cron(fields)");
}

/* ---------- next fire time ---------- */

static int days_in_month(int64_t y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return dm[m - 1] + (m == 2 && leap);
}

/* 1 = Sunday .. 7 = Saturday. */
static int weekday(int64_t days)
{
    int64_t w = (days + 4) % 7; /* 1970-01-01 (day 0) was a Thursday (4, Sunday = 0) */
    return (int)(w < 0 ? w + 7 : w) + 1;
}

static int year_ok(const struct sd_sched *s, int64_t y)
{
    if (y < SD_SCHED_YEAR_MIN || y > SD_SCHED_YEAR_MAX)
        return 0;
    int b = (int)(y - SD_SCHED_YEAR_MIN);
    return (int)((s->years[b / 64] >> (b % 64)) & 1);
}

/* The weekday (Mon-Fri) nearest day `target` of the month, not leaving it. */
static int nearest_weekday(int64_t y, int m, int target)
{
    int dim = days_in_month(y, m);
    if (target > dim)
        target = dim;
    int w = weekday(sd_sched_days_from_civil(y, m, target));
    if (w == 7) /* Saturday: Friday before, or Monday after when the 1st */
        return target == 1 ? 3 : target - 1;
    if (w == 1) /* Sunday: Monday after, or Friday before when the last day */
        return target == dim ? target - 2 : target + 1;
    return target;
}

static int day_ok(const struct sd_sched *s, int64_t y, int m, int d, int64_t days)
{
    int dim = days_in_month(y, m);
    if (s->dow_q) {
        if (s->dom_last)
            return d == dim;
        if (s->dom_last_weekday)
            return d == nearest_weekday(y, m, dim);
        if (s->dom_weekday)
            return s->dom_weekday <= dim && d == nearest_weekday(y, m, s->dom_weekday);
        return (int)((s->dom >> d) & 1);
    }
    int w = weekday(days);
    if (s->dow_last)
        return w == s->dow_last && d + 7 > dim;
    if (s->dow_nth)
        return w == s->dow_nth_day && (d - 1) / 7 + 1 == s->dow_nth;
    return (int)((s->dow >> w) & 1);
}

/* First minute of the day (>= from_min) the hour/minute fields allow, or -1. */
static int first_minute(const struct sd_sched *s, int from_min)
{
    for (int t = from_min; t < 1440; t++) {
        if (!((s->hours >> (t / 60)) & 1)) {
            t = (t / 60) * 60 + 59; /* skip the rest of the hour */
            continue;
        }
        if ((s->minutes >> (t % 60)) & 1)
            return t;
    }
    return -1;
}

static int64_t next_cron(const struct sd_sched *s, int64_t after_ms)
{
    /* Start at the next whole minute after after_ms. */
    int64_t start = after_ms + MS_PER_MIN;
    int64_t rem = start % MS_PER_MIN;
    start -= rem < 0 ? rem + MS_PER_MIN : rem;
    int64_t days, y;
    int m, d;
    int from_min = floor_div_days(start, &days) / (int)MS_PER_MIN;
    sd_sched_civil_from_days(days, &y, &m, &d);
    if (y < SD_SCHED_YEAR_MIN) {
        y = SD_SCHED_YEAR_MIN;
        m = d = 1;
        days = 0;
        from_min = 0;
    }
    /* Bounded: at most (2199 - 1970 + 1) * 12 month steps plus 31 days in each
     * matching month. */
    while (y <= SD_SCHED_YEAR_MAX) {
        if (!year_ok(s, y) || !((s->months >> m) & 1)) {
            if (++m > 12) {
                m = 1;
                y++;
            }
            d = 1;
            days = sd_sched_days_from_civil(y, m, 1);
            from_min = 0;
            continue;
        }
        if (day_ok(s, y, m, d, days)) {
            int t = first_minute(s, from_min);
            if (t >= 0)
                return days * MS_PER_DAY + (int64_t)t * MS_PER_MIN;
        }
        from_min = 0;
        days++;
        if (++d > days_in_month(y, m)) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
    }
    return -1;
}

int64_t sd_sched_next(const struct sd_sched *s, int64_t anchor_ms, int64_t after_ms)
{
    if (s->kind == SD_SCHED_RATE) {
        if (s->rate_ms <= 0)
            return -1;
        if (after_ms < anchor_ms)
            return anchor_ms + s->rate_ms;
        int64_t k = (after_ms - anchor_ms) / s->rate_ms + 1;
        return anchor_ms + k * s->rate_ms;
    }
    if (s->kind == SD_SCHED_CRON)
        return next_cron(s, after_ms);
    return -1;
}

/* ---------- scheduled rules ---------- */

struct rule {
    const struct sd_stack_schedule *def; /* borrowed from the stack */
    struct sd_sched expr;
    int64_t anchor_ms, next_ms;
    int64_t fired;
};

struct sd_sched_rules {
    const struct sd_stack *st;
    struct rule *v;
    size_t n;
};

struct sd_sched_rules *sd_sched_rules_new(const struct sd_stack *st, int64_t now_ms)
{
    struct sd_sched_rules *r = cm_xcalloc(1, sizeof(*r));
    char err[200];
    r->st = st;
    r->v = cm_xcalloc(st->n_schedules + 1, sizeof(*r->v));
    for (size_t i = 0; i < st->n_schedules; i++) {
        const struct sd_stack_schedule *d = &st->schedules[i];
        struct rule *ru = &r->v[r->n];
        if (sd_sched_parse(d->expression, strlen(d->expression), &ru->expr, err, sizeof(err),
                           NULL) < 0)
            continue; /* sd_stack validated it; never here */
        ru->def = d;
        ru->anchor_ms = now_ms;
        ru->next_ms = d->enabled ? sd_sched_next(&ru->expr, now_ms, now_ms) : -1;
        r->n++;
    }
    return r;
}

void sd_sched_rules_free(struct sd_sched_rules *r)
{
    if (!r)
        return;
    free(r->v);
    free(r);
}

void sd_sched_event_json(const char *rule, const char *region, const char *account, int64_t time_ms,
                         const char *id, struct cm_buf *b)
{
    char t[32], arn[256];
    sd_sched_format_time(time_ms, t, sizeof(t));
    snprintf(arn, sizeof(arn), "arn:aws:events:%s:%s:rule/%s", region, account, rule);
    cm_buf_puts(b, "{\"version\":\"0\",\"id\":");
    cm_json_append_string(b, id, strlen(id));
    cm_buf_puts(b, ",\"detail-type\":\"Scheduled Event\",\"source\":\"aws.events\",\"account\":");
    cm_json_append_string(b, account, strlen(account));
    cm_buf_puts(b, ",\"time\":");
    cm_json_append_string(b, t, strlen(t));
    cm_buf_puts(b, ",\"region\":");
    cm_json_append_string(b, region, strlen(region));
    cm_buf_puts(b, ",\"resources\":[");
    cm_json_append_string(b, arn, strlen(arn));
    cm_buf_puts(b, "],\"detail\":{}}");
}

void sd_sched_rules_tick(struct sd_sched_rules *r, int64_t now_ms, sd_sched_fire_fn fire, void *ctx)
{
    for (size_t i = 0; r && i < r->n; i++) {
        struct rule *ru = &r->v[i];
        if (ru->next_ms < 0 || now_ms < ru->next_ms)
            continue;
        struct cm_buf b;
        char id[37];
        cm_buf_init(&b, 0);
        if (ru->def->input) {
            cm_buf_puts(&b, ru->def->input);
        } else {
            sd_lambda_uuid(id);
            sd_sched_event_json(ru->def->name, r->st->region, r->st->account_id, ru->next_ms, id,
                                &b);
        }
        fire(ctx, ru->def->function, b.data ? b.data : "", b.len);
        cm_buf_deinit(&b);
        ru->fired++;
        /* Missed times (stackd was stopped or busy) fire once, not repeatedly. */
        ru->next_ms = sd_sched_next(&ru->expr, ru->anchor_ms, now_ms);
    }
}

int64_t sd_sched_rules_fired(const struct sd_sched_rules *r, const char *name)
{
    for (size_t i = 0; r && i < r->n; i++) {
        if (strcmp(r->v[i].def->name, name) == 0)
            return r->v[i].fired;
    }
    return -1;
}

/* sd_sched.h: EventBridge schedule expressions -- rate(value unit) and
 * AWS's six-field cron(minutes hours day-of-month month day-of-week year) --
 * and the next fire time in UTC. Not EventBridge Scheduler's at() or
 * time zones, and no second-level schedules (AWS has none). The parser and
 * sd_sched_next are pure (no clock, no allocation: every time is passed in
 * as epoch milliseconds); sd_sched_rules runs the stack file's rules.
 *
 * cron fields (values, then the wildcards each one accepts):
 *   minutes 0-59 (, - * /)   hours 0-23 (, - * /)
 *   day-of-month 1-31 (, - * ? / L W LW)   month 1-12 or JAN-DEC (, - * /)
 *   day-of-week 1-7 or SUN-SAT, 1 = Sunday (, - * ? L #: 6L last Friday, 2#1 first Monday)
 *   year 1970-2199 (, - * /)
 * L alone in day-of-week is Saturday. Exactly one of day-of-month and day-of-week is '?'. rate: "1
 * minute", "N minutes", "1 hour", "N hours", "1 day", "N days" (singular for 1). */
#ifndef SD_SCHED_H
#define SD_SCHED_H

#include <stddef.h>
#include <stdint.h>

#define SD_SCHED_YEAR_MIN 1970
#define SD_SCHED_YEAR_MAX 2199

enum sd_sched_kind { SD_SCHED_RATE = 1, SD_SCHED_CRON };

struct sd_sched {
    enum sd_sched_kind kind;
    int64_t rate_ms;          /* RATE: the period */
    uint64_t minutes;         /* CRON: bit m for minute m (0..59) */
    uint32_t hours;           /* bit h (0..23) */
    uint32_t dom;             /* bit d (1..31); 0 with dom_any or the special forms */
    uint16_t months;          /* bit m (1..12) */
    uint8_t dow;              /* bit w (1..7, 1 = Sunday) */
    uint8_t dom_q, dow_q;     /* the field was '?' */
    uint8_t dom_last;         /* L: last day of the month */
    uint8_t dom_last_weekday; /* LW */
    uint8_t dom_weekday;      /* nW: weekday nearest day n (1..31), 0 none */
    uint8_t dow_last;         /* nL: last day n (1..7) of the month, 0 none */
    uint8_t dow_nth_day;      /* d#n: day d (1..7) ... */
    uint8_t dow_nth;          /* ... the n-th (1..5) in the month; 0 none */
    uint64_t years[4];        /* bit (y - 1970) for 1970..2199 */
};

/* Parses "rate(...)" or "cron(...)" (len bytes, no NUL needed). 0, or
 * CM_EPARSE with one line in err and *err_off (may be NULL) the byte offset
 * in s where the problem is, for file:line:col messages. */
int sd_sched_parse(const char *s, size_t len, struct sd_sched *out, char *err, size_t err_size,
                   size_t *err_off);

/* The first fire time strictly after after_ms, in epoch ms (UTC). A rate
 * schedule fires at anchor_ms + k * period (k >= 1; anchor_ms is when the
 * rule was created); a cron one at second 0 of each matching minute.
 * Returns -1 when there is none (the year field ended, or e.g. 30 February). */
int64_t sd_sched_next(const struct sd_sched *s, int64_t anchor_ms, int64_t after_ms);

/* ---- scheduled rules (the stack file's schedules:) ---- */

struct sd_stack;
struct sd_sched_rules;

/* Fires one rule: invoke `function` asynchronously with payload. */
typedef void (*sd_sched_fire_fn)(void *ctx, const char *function, const char *payload, size_t len);

/* The stack's enabled schedules, anchored (rate) at now_ms. Expressions
 * were validated by sd_stack. Free with sd_sched_rules_free. */
struct sd_sched_rules *sd_sched_rules_new(const struct sd_stack *st, int64_t now_ms);
void sd_sched_rules_free(struct sd_sched_rules *r);
/* Fires every rule whose time came (once, even if several were missed) with
 * the scheduled event -- or the rule's input -- and plans the next. */
void sd_sched_rules_tick(struct sd_sched_rules *r, int64_t now_ms, sd_sched_fire_fn fire,
                         void *ctx);
/* Times fired so far by rule name (tests, diagnostics); -1 for an unknown rule. */
int64_t sd_sched_rules_fired(const struct sd_sched_rules *r, const char *name);

/* The EventBridge scheduled event: {"version":"0","id":id,"detail-type":
 * "Scheduled Event","source":"aws.events","account":..,"time":..,"region":..,
 * "resources":["arn:aws:events:<region>:<account>:rule/<name>"],"detail":{}}. */
struct cm_buf;
void sd_sched_event_json(const char *rule, const char *region, const char *account, int64_t time_ms,
                         const char *id, struct cm_buf *out);

/* Civil date helpers (proleptic Gregorian, UTC), exposed for tests. */
int64_t sd_sched_days_from_civil(int64_t y, int m, int d);
void sd_sched_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
/* "2026-11-22T08:00:00Z" into out (>= 21 bytes). */
void sd_sched_format_time(int64_t ms, char *out, size_t out_size);

#endif

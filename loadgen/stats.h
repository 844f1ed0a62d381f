/* stats.h: the metrics one worker (or the coordinator) keeps: per endpoint
 * and overall, latency histograms in microseconds (corrected from the
 * intended send time, uncorrected from the actual send, connect, time to
 * first byte) and counters by outcome. Fixed memory; recording never
 * allocates. Not thread-safe: one owner, merged with lg_stats_add. */
#ifndef LG_STATS_H
#define LG_STATS_H

#include <stdint.h>

struct cm_hist;

enum lg_hist_kind {
    LG_H_LATENCY = 0,    /* done - intended send time (CO-corrected), us */
    LG_H_LATENCY_UNCORR, /* curl total time, from the actual send, us */
    LG_H_CONNECT,        /* TCP connect time, new connections only, us */
    LG_H_TTFB,           /* time to first byte from the actual send, us */
    LG_H_COUNT,
};

enum lg_ctr {
    LG_C_REQUESTS = 0, /* sent */
    LG_C_COMPLETED,    /* finished (response or transport error); subset of requests */
    LG_C_OK,           /* status in `expect`; subset of completed */
    LG_C_ERRORS,       /* transport errors + unexpected statuses; completed - ok */
    LG_C_CONNECT_ERR,  /* subset of errors: could not connect / resolve */
    LG_C_TIMEOUT,      /* subset of errors: timed out */
    LG_C_TRANSPORT,    /* subset of errors: other transport failures */
    LG_C_UNEXPECTED,   /* subset of errors: a status not in `expect` */
    LG_C_S1XX,
    LG_C_S2XX,
    LG_C_S3XX,
    LG_C_S4XX,
    LG_C_S5XX,
    LG_C_S429,       /* subset of 4xx */
    LG_C_BYTES_IN,   /* response body bytes */
    LG_C_DROPPED,    /* arrivals dropped: the send queue was full */
    LG_C_QUEUED,     /* arrivals that waited for a free connection */
    LG_C_NO_CAPTURE, /* arrivals redirected: no captured value yet */
    LG_C_COUNT,
};

struct lg_mset {
    struct cm_hist *h[LG_H_COUNT];
    int64_t c[LG_C_COUNT];
};

struct lg_stats {
    int n_ep;                    /* endpoints; ep[n_ep] is the overall set */
    struct lg_mset *ep;          /* n_ep + 1 */
    struct cm_hist *by_class[5]; /* overall corrected latency per status class 1xx..5xx */
    struct cm_hist *sched_lag;   /* scheduler lateness (generator lag), us */
    struct cm_hist *queue_wait;  /* wait for a free connection, us */
};

#define LG_HIST_MAX_US (3600LL * 1000000LL)

const char *lg_hist_kind_name(enum lg_hist_kind k);
const char *lg_ctr_name(enum lg_ctr c);

struct lg_stats *lg_stats_new(int n_ep);
void lg_stats_free(struct lg_stats *s);
void lg_stats_reset(struct lg_stats *s);
/* dst += src (same n_ep). */
void lg_stats_add(struct lg_stats *dst, const struct lg_stats *src);
/* Counts a completion in endpoint ep and overall. */
void lg_stats_count(struct lg_stats *s, int ep, enum lg_ctr c, int64_t n);
void lg_stats_hist(struct lg_stats *s, int ep, enum lg_hist_kind k, int64_t us);

#endif

/* stats.c: see stats.h. Histograms track 1 us .. 1 h at 3 significant
 * digits (0.1% bucket width), enough for the 2% accuracy target. */
#include "stats.h"

#include <stdlib.h>
#include <string.h>

#include "cm/hist.h"
#include "cm/mem.h"

static const char *const hist_names[LG_H_COUNT] = {"latency", "latency_uncorrected", "connect",
                                                   "ttfb"};
static const char *const ctr_names[LG_C_COUNT] = {"requests",
                                                  "completed",
                                                  "ok",
                                                  "errors",
                                                  "connect_errors",
                                                  "timeouts",
                                                  "transport_errors",
                                                  "unexpected_status",
                                                  "status_1xx",
                                                  "status_2xx",
                                                  "status_3xx",
                                                  "status_4xx",
                                                  "status_5xx",
                                                  "status_429",
                                                  "bytes_in",
                                                  "dropped",
                                                  "queued",
                                                  "no_capture"};

const char *lg_hist_kind_name(enum lg_hist_kind k)
{
    return k < LG_H_COUNT ? hist_names[k] : "?";
}

const char *lg_ctr_name(enum lg_ctr c)
{
    return c < LG_C_COUNT ? ctr_names[c] : "?";
}

static struct cm_hist *hist_new(void)
{
    struct cm_hist *h = NULL;
    if (cm_hist_new(1, LG_HIST_MAX_US, 3, &h) != 0)
        abort(); /* constant arguments: cannot fail */
    return h;
}

struct lg_stats *lg_stats_new(int n_ep)
{
    struct lg_stats *s = cm_xcalloc(1, sizeof(*s));
    s->n_ep = n_ep;
    s->ep = cm_xcalloc((size_t)n_ep + 1, sizeof(*s->ep));
    for (int e = 0; e <= n_ep; e++)
        for (int k = 0; k < LG_H_COUNT; k++)
            s->ep[e].h[k] = hist_new();
    for (int i = 0; i < 5; i++)
        s->by_class[i] = hist_new();
    s->sched_lag = hist_new();
    s->queue_wait = hist_new();
    return s;
}

void lg_stats_free(struct lg_stats *s)
{
    if (!s)
        return;
    for (int e = 0; e <= s->n_ep; e++)
        for (int k = 0; k < LG_H_COUNT; k++)
            cm_hist_free(s->ep[e].h[k]);
    for (int i = 0; i < 5; i++)
        cm_hist_free(s->by_class[i]);
    cm_hist_free(s->sched_lag);
    cm_hist_free(s->queue_wait);
    free(s->ep);
    free(s);
}

void lg_stats_reset(struct lg_stats *s)
{
    for (int e = 0; e <= s->n_ep; e++) {
        for (int k = 0; k < LG_H_COUNT; k++)
            if (cm_hist_count(s->ep[e].h[k]))
                cm_hist_reset(s->ep[e].h[k]);
        memset(s->ep[e].c, 0, sizeof(s->ep[e].c));
    }
    for (int i = 0; i < 5; i++)
        if (cm_hist_count(s->by_class[i]))
            cm_hist_reset(s->by_class[i]);
    cm_hist_reset(s->sched_lag);
    cm_hist_reset(s->queue_wait);
}

static void hadd(struct cm_hist *d, const struct cm_hist *s)
{
    if (cm_hist_count(s))
        cm_hist_add(d, s);
}

void lg_stats_add(struct lg_stats *dst, const struct lg_stats *src)
{
    for (int e = 0; e <= dst->n_ep && e <= src->n_ep; e++) {
        for (int k = 0; k < LG_H_COUNT; k++)
            hadd(dst->ep[e].h[k], src->ep[e].h[k]);
        for (int c = 0; c < LG_C_COUNT; c++)
            dst->ep[e].c[c] += src->ep[e].c[c];
    }
    for (int i = 0; i < 5; i++)
        hadd(dst->by_class[i], src->by_class[i]);
    hadd(dst->sched_lag, src->sched_lag);
    hadd(dst->queue_wait, src->queue_wait);
}

void lg_stats_count(struct lg_stats *s, int ep, enum lg_ctr c, int64_t n)
{
    if (ep >= 0 && ep < s->n_ep)
        s->ep[ep].c[c] += n;
    s->ep[s->n_ep].c[c] += n;
}

void lg_stats_hist(struct lg_stats *s, int ep, enum lg_hist_kind k, int64_t us)
{
    if (ep >= 0 && ep < s->n_ep)
        cm_hist_record(s->ep[ep].h[k], us);
    cm_hist_record(s->ep[s->n_ep].h[k], us);
}

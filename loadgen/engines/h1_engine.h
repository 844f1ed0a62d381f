/* engines/h1_engine.h: the lean HTTP/1.1 engine's entry points (engines/h1.c) for the
 * worker loop, until the engines sit behind struct lg_engine_ops. One per
 * worker thread; single-threaded like the lg_loop it runs on. */
#ifndef LG_ENGINES_H1_ENGINE_H
#define LG_ENGINES_H1_ENGINE_H

#include <stdint.h>

#include "h1.h"

struct lg_loop;
struct lg_scenario;
struct lg_tmpl_ctx;
struct lg_h1e;

/* user: what lg_h1e_start was given. r->body / r->headers are valid during
 * the call only. */
typedef void (*lg_h1e_done_fn)(void *user, const struct lg_h1_result *r, int64_t now_ns);

/* Does http.engine pick the lean engine for this target URL? (auto: http://
 * with version 1.1.) */
int lg_h1e_wanted(const struct lg_scenario *sc, const char *base_url);

/* conns connections to base_url (http://host[:port][/prefix]). CM_EINVAL:
 * not http://; CM_ECONN: the host does not resolve; CM_ETOOBIG: no ticker slot
 * left on loop. */
int lg_h1e_new(struct lg_loop *loop, const struct lg_scenario *sc, const char *base_url, int conns,
               lg_h1e_done_fn done, struct lg_h1e **out);
/* Closes everything without callbacks. Accepts NULL. */
void lg_h1e_free(struct lg_h1e *e);
/* 1 when a request can start now (a connection is free). */
int lg_h1e_ready(const struct lg_h1e *e);
/* Starts request ep of the scenario rendered with ctx (needs lg_h1e_ready);
 * done(user, ...) follows, never from inside this call. want_body /
 * want_hdr: keep the response body / header lines for captures. CM_ETOOBIG
 * (nothing started) when the rendered request passes its maximum. */
int lg_h1e_start(struct lg_h1e *e, int ep, const struct lg_tmpl_ctx *ctx, int want_body,
                 int want_hdr, void *user, int64_t now_ns);
/* Ends every request in flight with LG_H1_E_CANCELLED; returns how many. */
int lg_h1e_cancel_all(struct lg_h1e *e, int64_t now_ns);

#endif

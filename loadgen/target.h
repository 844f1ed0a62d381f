/* target.h: where requests go. A URL is used as is (a non-loopback one needs
 * confirmation); `local` reuses a stackd answering on the scenario's
 * local_port or starts one from the build tree and stops it afterwards.
 * stackd serves the stack's HTTP API routes at the root of its edge port,
 * so the base URL for `local` is made in one place: lg_target_local_url. */
#ifndef LG_TARGET_H
#define LG_TARGET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct lg_scenario;

struct lg_target {
    char base_url[1024]; /* no trailing '/' */
    pid_t pid;           /* stackd we started, or 0 */
    char dir[512];       /* its temp dir (port file, data, log) */
};

/* Resolves spec ("local" or a URL). Returns 0; CM_EINVAL for bad usage
 * (malformed URL, non-loopback without yes) or CM_ECONN when the target
 * does not answer; err says why. */
int lg_target_resolve(const char *spec, const struct lg_scenario *sc, int yes, struct lg_target *t,
                      char *err, size_t err_size);
/* Stops what lg_target_resolve started (SIGTERM, then SIGKILL after 5 s). */
void lg_target_stop(struct lg_target *t);
/* 1 when the URL's host is 127.0.0.0/8, ::1 or localhost. */
int lg_target_is_loopback(const char *url);
/* 0 when something accepts a TCP connection for url within timeout. */
int lg_target_probe(const char *url, int64_t timeout_ns);
void lg_target_local_url(int port, char *out, size_t n);

#endif

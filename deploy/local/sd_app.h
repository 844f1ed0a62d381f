/* sd_app.h: one stackd instance: the server loop, the edge listener and its
 * dispatch to the emulated services (Lambda, HTTP API, Logs, CloudWatch),
 * the port file and graceful shutdown. sd_main.c only parses flags. */
#ifndef SD_APP_H
#define SD_APP_H

#include <stdint.h>

struct sd_app_config {
    const char *stack_path;
    const char *bind;      /* "127.0.0.1" */
    int port;              /* 0 picks a free port */
    const char *port_file; /* written atomically after listen, or NULL */
    const char *data_dir;  /* created if missing; NULL for none */
    int64_t drain_ns;      /* graceful shutdown: wait this long for in-flight invocations */
    int64_t kill_grace_ns; /* then SIGTERM environments and SIGKILL after this */
    int use_cgroups;
};

/* Runs until SIGTERM/SIGINT. Returns the process exit code: 0 clean stop,
 * 2 bad stack file or flags, 1 runtime failure (bind, ...). */
int sd_app_run(const struct sd_app_config *cfg);

#endif

/* sd_lambda.c: execution environments, the per-environment Runtime API and
 * invocation lifecycle (see sd_lambda.h for the protocol).
 *
 * Environment states:
 *   INIT      spawned, bootstrap initialising; may hold an assigned invocation
 *   IDLE      parked in /next, ready for an invocation
 *   BUSY      an invocation was delivered; deadline running
 *   RESPONDED answered; the runtime has not come back to /next yet; may hold
 *             an assigned invocation (delivered on the next /next)
 *   DEAD      killed or exited; freed once reaped
 * Concurrency (what reserved/account limits count) = environments holding an
 * invocation (INIT or RESPONDED with one assigned, or BUSY). */
#include "sd_lambda.h"

#include "cm/buf.h"
#include "cm/clock.h"
#include "cm/err.h"
#include "cm/json.h"
#include "cm/log.h"
#include "cm/mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <openssl/evp.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define RT_PREFIX       "/2018-06-01/runtime/"
#define MAX_RESP_BYTES  (6u * 1024 * 1024)
#define TAIL_BYTES      4096
#define EVQ_MAX         10000
#define LINE_MAX_BYTES  (256 * 1024)
#define MAX_EVENT_TRIES 3

enum env_state { ENV_INIT = 1, ENV_IDLE, ENV_BUSY, ENV_RESPONDED, ENV_DEAD };

struct inv {
    char id[37];
    char *payload;
    size_t payload_len;
    char *trace_id;
    char *client_context;
    sd_inv_done_fn done;
    void *ctx;
    int want_tail;
    struct cm_buf tail; /* log text of this invocation when want_tail */
    int64_t start_ns;   /* mono, delivery */
    int64_t deadline_ns;
    int64_t deadline_wall_ms;
    int cold;
    double init_ms;
};

struct env {
    struct sd_lambda *l;
    struct sd_fn *fn;
    enum env_state state;
    pid_t pid;
    int reaped;
    unsigned gen; /* fn->gen at spawn */
    struct sd_listener *lst;
    int port;
    int out_fd; /* read end of the child's stdout+stderr */
    struct sd_watch *out_watch;
    uint64_t out_turn;         /* loop turn of the last read that emptied the pipe, + 1 */
    int out_quiet;             /* pipe not watched while an invocation runs */
    struct cm_buf line;        /* partial output line */
    struct sd_conn *next_conn; /* parked /next */
    struct inv *inv;           /* assigned or delivered */
    int64_t spawn_ns;
    int64_t idle_since_ns;
    int64_t kill_at_ns; /* SIGKILL after a SIGTERM (graceful stop), 0 none */
    int init_done;
    int64_t memory_mb;
    int64_t max_mem_mb;      /* last VmHWM reading */
    int64_t max_mem_read_ns; /* when it was read (mono) */
    char stream[80];
    struct env *next;
};

struct evq_item {
    char *payload;
    size_t len;
    char id[37];
    int tries;
    int64_t not_before_ns;
    struct evq_item *next;
};

struct sd_fn {
    struct sd_fn_config cfg;
    unsigned gen;
    struct env *envs;
    int n_envs;
    int busy; /* concurrency in use */
    char group[96];
    struct evq_item *evq_head, *evq_tail;
    int evq_len;
    int spawn_warned; /* a failed spawn was logged */
};

struct sd_lambda {
    struct sd_server *srv;
    struct sd_lambda_hooks hooks;
    char *region, *account_id, *endpoint_url;
    int64_t account_concurrency, idle_reclaim_ns, init_timeout_ns;
    struct sd_fn **fns;
    size_t n_fns;
    int busy; /* over all functions */
    int children;
    int stopping;
    int cgroups; /* per-environment cgroups: 0 none, 1 v1, 2 v2 */
    char cg_mem_root[512], cg_cpu_root[512];
    uint64_t rnd[2];
};

/* ---------- small helpers ---------- */

static uint64_t rnd_next(struct sd_lambda *l)
{
    /* xorshift128+: ids need uniqueness, not secrecy. */
    uint64_t s1 = l->rnd[0];
    const uint64_t s0 = l->rnd[1];
    l->rnd[0] = s0;
    s1 ^= s1 << 23;
    l->rnd[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
    return l->rnd[1] + s0;
}

static uint64_t g_uuid_rnd[2];

void sd_lambda_uuid(char out[37])
{
    if (!g_uuid_rnd[0] && !g_uuid_rnd[1]) {
        if (getrandom(g_uuid_rnd, sizeof(g_uuid_rnd), 0) != (ssize_t)sizeof(g_uuid_rnd)) {
            g_uuid_rnd[0] = (uint64_t)cm_clock_wall_ns();
            g_uuid_rnd[1] = (uint64_t)getpid() * 0x9E3779B97F4A7C15ull;
        }
    }
    uint8_t b[16];
    for (int k = 0; k < 2; k++) {
        uint64_t s1 = g_uuid_rnd[0];
        const uint64_t s0 = g_uuid_rnd[1];
        g_uuid_rnd[0] = s0;
        s1 ^= s1 << 23;
        g_uuid_rnd[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
        uint64_t v = g_uuid_rnd[1] + s0;
        memcpy(b + 8 * k, &v, 8);
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    static const char hx[] = "0123456789abcdef";
    int o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hx[b[i] >> 4];
        out[o++] = hx[b[i] & 15];
    }
    out[o] = '\0';
}

void sd_lambda_format_report(char *out, size_t out_size, const char *request_id, double duration_ms,
                             int64_t memory_mb, int64_t max_used_mb, double init_ms, int timed_out)
{
    /* Billed Duration = ceil(duration) in whole ms (1 ms granularity). */
    int64_t billed = (int64_t)ceil(duration_ms);
    if (billed < 1)
        billed = 1;
    int n = snprintf(out, out_size,
                     "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %lld ms\t"
                     "Memory Size: %lld MB\tMax Memory Used: %lld MB",
                     request_id, duration_ms, (long long)billed, (long long)memory_mb,
                     (long long)max_used_mb);
    if (n > 0 && (size_t)n < out_size && init_ms >= 0)
        n += snprintf(out + n, out_size - (size_t)n, "\tInit Duration: %.2f ms", init_ms);
    if (n > 0 && (size_t)n < out_size && timed_out)
        snprintf(out + n, out_size - (size_t)n, "\tStatus: timeout");
}

void sd_lambda_format_stream(char *out, size_t out_size, int64_t wall_ns, const uint8_t rnd[16])
{
    time_t t = (time_t)(wall_ns / CM_NS_PER_S);
    struct tm tm;
    gmtime_r(&t, &tm);
    char hex[33];
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        hex[2 * i] = hx[rnd[i] >> 4];
        hex[2 * i + 1] = hx[rnd[i] & 15];
    }
    hex[32] = '\0';
    snprintf(out, out_size, "%04d/%02d/%02d/[$LATEST]%s", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, hex);
}

static int64_t wall_ms(void)
{
    return cm_clock_wall_ns() / CM_NS_PER_MS;
}

static void metric(struct sd_lambda *l, const struct sd_fn *fn, const char *name, double v,
                   const char *unit)
{
    if (l->hooks.metric)
        l->hooks.metric(l->hooks.ctx, "AWS/Lambda", name, "FunctionName", fn->cfg.name, v, unit,
                        wall_ms());
}

/* One platform or function log line: to the log group and the tail. */
static void env_log(struct env *e, const char *msg, size_t len)
{
    struct sd_lambda *l = e->l;
    if (l->hooks.log_put)
        l->hooks.log_put(l->hooks.ctx, e->fn->group, e->stream, wall_ms(), msg, len);
    struct inv *inv = e->inv;
    if (inv && inv->want_tail && inv->start_ns) {
        if (inv->tail.len + len + 1 > 64 * 1024) { /* keep the newest 4 KB */
            size_t keep = inv->tail.len > TAIL_BYTES ? TAIL_BYTES : inv->tail.len;
            memmove(inv->tail.data, inv->tail.data + inv->tail.len - keep, keep);
            inv->tail.len = keep;
        }
        cm_buf_append(&inv->tail, msg, len);
        cm_buf_putc(&inv->tail, '\n');
    }
}

static void env_logf(struct env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void env_logf(struct env *e, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line))
        n = (int)sizeof(line) - 1;
    env_log(e, line, (size_t)n);
}

/* ---------- child output ---------- */

static void out_consume(struct env *e, const char *p, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) : n;
        if (e->line.len + take > LINE_MAX_BYTES) /* flush an over-long line in pieces */
            take = LINE_MAX_BYTES - e->line.len;
        cm_buf_append(&e->line, p, take);
        p += take;
        n -= take;
        if (nl && p == nl) {
            p++;
            n--;
        } else if (e->line.len < LINE_MAX_BYTES) {
            break;
        }
        env_log(e, e->line.data ? e->line.data : "", e->line.len);
        cm_buf_reset(&e->line);
    }
}

/* Reads what the child wrote so far (non-blocking); with full, until the
 * pipe is empty (exit paths), else one short read is enough. */
static void out_drain(struct env *e, int full)
{
    char buf[16384];
    for (int i = 0; i < 256 && e->out_fd >= 0; i++) {
        ssize_t n = read(e->out_fd, buf, sizeof(buf));
        if (n > 0) {
            out_consume(e, buf, (size_t)n);
            if (!full && (size_t)n < sizeof(buf)) {
                e->out_turn = sd_server_turn(e->l->srv) + 1;
                break; /* likely empty now; level-triggered epoll reports the rest */
            }
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (n < 0 && errno != EAGAIN)) {
            if (e->line.len) {
                env_log(e, e->line.data, e->line.len);
                cm_buf_reset(&e->line);
            }
            sd_server_unwatch(e->l->srv, e->out_watch);
            e->out_watch = NULL;
            close(e->out_fd);
            e->out_fd = -1;
        }
        break;
    }
}

/* Read once per turn: if the pipe was emptied after this turn's epoll_wait
 * returned (inv_finish below), whatever came since is reported again by the
 * next epoll_wait (level-triggered), so a read now would only see EAGAIN. */
static int out_read_this_turn(const struct env *e)
{
    return e->out_turn == sd_server_turn(e->l->srv) + 1;
}

/* While an invocation runs the pipe is not watched: the function's lines
 * are read when its result arrives (and every tick, for long invocations),
 * not with one wake-up of stackd per write(). */
static void out_watch_set(struct env *e, int on)
{
    if (!e->out_watch || e->out_quiet == !on)
        return;
    if (sd_server_watch_events(e->l->srv, e->out_watch, on ? EPOLLIN : 0) == 0)
        e->out_quiet = !on;
}

static void on_child_output(void *ctx, int fd, uint32_t events)
{
    (void)fd;
    (void)events;
    if (!out_read_this_turn(ctx))
        out_drain(ctx, 0);
}

/* ---------- memory ---------- */

static int64_t read_vmhwm_mb(const struct env *e);

/* Peak RSS of the environment in MB (VmHWM), at least 1. Re-read at most
 * every 100 ms: the peak only grows, and a /proc read per invocation would
 * cost more than the rest of the platform work. */
static int64_t env_max_mem_mb(struct env *e)
{
    int64_t now = cm_clock_mono_ns();
    if (e->max_mem_mb == 0 || now - e->max_mem_read_ns > 100 * CM_NS_PER_MS) {
        e->max_mem_mb = read_vmhwm_mb(e);
        e->max_mem_read_ns = now;
    }
    return e->max_mem_mb;
}

static int64_t read_vmhwm_mb(const struct env *e)
{
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)e->pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 1;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 1;
    buf[n] = '\0';
    const char *p = strstr(buf, "VmHWM:");
    if (!p)
        return 1;
    long long kb = strtoll(p + 6, NULL, 10);
    int64_t mb = (kb + 1023) / 1024;
    return mb < 1 ? 1 : mb;
}

/* ---------- invocation completion ---------- */

static void inv_free(struct inv *inv)
{
    if (!inv)
        return;
    free(inv->payload);
    free(inv->trace_id);
    free(inv->client_context);
    cm_buf_deinit(&inv->tail);
    free(inv);
}

static void busy_dec(struct env *e)
{
    e->fn->busy--;
    e->l->busy--;
    if (e->fn->busy < 0)
        e->fn->busy = 0;
    if (e->l->busy < 0)
        e->l->busy = 0;
}

/* Finishes e->inv: END/REPORT lines, metrics, callback. The caller sets the
 * environment's next state. */
static void inv_finish(struct env *e, enum sd_inv_status st, const char *body, size_t body_len)
{
    struct sd_lambda *l = e->l;
    struct inv *inv = e->inv;
    int64_t now = cm_clock_mono_ns();
    int delivered = inv->start_ns != 0;
    double dur_ms = delivered ? (double)(now - inv->start_ns) / 1e6 : 0.0;
    /* The function's lines come before END. After a posted result (state
     * RESPONDED) they were written before the POST, whose first bytes were
     * readable when this turn's epoll_wait returned; so if that epoll_wait
     * did not report the pipe, or a read in this turn emptied it, there is
     * nothing of theirs left to read and the read would only see EAGAIN. */
    if (e->out_quiet) { /* not watched during the invocation: read what it wrote */
        if (e->out_fd >= 0)
            out_drain(e, 0);
        out_watch_set(e, 1);
    } else if (e->pid > 0 && e->out_fd >= 0 &&
               (e->state != ENV_RESPONDED ||
                (!out_read_this_turn(e) && sd_watch_reported(l->srv, e->out_watch)))) {
        out_drain(e, 0);
    }
    if (delivered) {
        char report[512];
        if (st == SD_INV_TIMEOUT) {
            char ts[32];
            cm_clock_format_utc(cm_clock_wall_ns(), 0, ts);
            env_logf(e, "%s %s Task timed out after %.2f seconds", ts, inv->id,
                     (double)e->fn->cfg.timeout_ns / 1e9);
        }
        env_logf(e, "END RequestId: %s", inv->id);
        sd_lambda_format_report(report, sizeof(report), inv->id, dur_ms, e->memory_mb,
                                env_max_mem_mb(e), inv->cold ? inv->init_ms : -1.0,
                                st == SD_INV_TIMEOUT);
        env_log(e, report, strlen(report));
        metric(l, e->fn, "Duration", dur_ms, "Milliseconds");
    }
    metric(l, e->fn, "Invocations", 1, "Count");
    if (st != SD_INV_OK)
        metric(l, e->fn, "Errors", 1, "Count");
    busy_dec(e);
    e->inv = NULL;
    struct sd_inv_result res;
    memset(&res, 0, sizeof(res));
    res.status = st;
    res.request_id = inv->id;
    res.body = body;
    res.body_len = body_len;
    res.duration_ms = dur_ms;
    res.cold = inv->cold;
    if (inv->want_tail && inv->tail.len) {
        size_t keep = inv->tail.len > TAIL_BYTES ? TAIL_BYTES : inv->tail.len;
        res.log_tail = inv->tail.data + inv->tail.len - keep;
        res.log_tail_len = keep;
    }
    if (inv->done)
        inv->done(inv->ctx, &res);
    inv_free(inv);
}

/* Finishes with a platform error body {"errorMessage":..,"errorType":..}. */
static void inv_fail(struct env *e, enum sd_inv_status st, const char *type, const char *msg)
{
    struct cm_buf b;
    cm_buf_init(&b, 8192);
    cm_buf_puts(&b, "{\"errorMessage\":");
    cm_json_append_string(&b, msg, strlen(msg));
    cm_buf_puts(&b, ",\"errorType\":");
    cm_json_append_string(&b, type, strlen(type));
    cm_buf_puts(&b, "}");
    inv_finish(e, st, b.data, b.len);
    cm_buf_deinit(&b);
}

/* ---------- environment lifecycle ---------- */

static void env_kill(struct env *e, int sig)
{
    if (e->pid > 0 && !e->reaped)
        kill(-e->pid, sig); /* the environment is its own process group */
}

/* Stops e for good: kills the process group, closes its Runtime API. The
 * struct lives until the child is reaped. */
static void env_destroy(struct env *e)
{
    if (e->state == ENV_DEAD)
        return;
    e->state = ENV_DEAD;
    env_kill(e, SIGKILL);
    if (e->next_conn) {
        sd_conn_release(e->next_conn);
        e->next_conn = NULL;
    }
    sd_server_close_listener(e->l->srv, e->lst);
    e->lst = NULL;
    e->fn->n_envs--;
}

static void env_free(struct env *e)
{
    if (e->out_fd >= 0) {
        sd_server_unwatch(e->l->srv, e->out_watch);
        close(e->out_fd);
    }
    cm_buf_deinit(&e->line);
    free(e);
}

static void unlink_env(struct env *e)
{
    for (struct env **pp = &e->fn->envs; *pp; pp = &(*pp)->next) {
        if (*pp == e) {
            *pp = e->next;
            return;
        }
    }
}

static void env_respond_next(struct env *e);

static void json_env_kv(struct cm_buf *b, const char *k, const char *v)
{
    cm_buf_printf(b, "%s=%s", k, v);
    cm_buf_putc(b, '\0');
}

/* Environment block for the child: AWS's variables, then the function's. */
static char **build_envp(struct env *e, struct cm_buf *store)
{
    struct sd_lambda *l = e->l;
    struct sd_fn_config *c = &e->fn->cfg;
    char tmp[64], dir[PATH_MAX];
    cm_strlcpy(dir, c->bootstrap, sizeof(dir));
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir)
        *slash = '\0';
    else
        cm_strlcpy(dir, ".", sizeof(dir));
    snprintf(tmp, sizeof(tmp), "127.0.0.1:%d", e->port);
    json_env_kv(store, "AWS_LAMBDA_RUNTIME_API", tmp);
    json_env_kv(store, "AWS_LAMBDA_FUNCTION_NAME", c->name);
    snprintf(tmp, sizeof(tmp), "%lld", (long long)c->memory_mb);
    json_env_kv(store, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", tmp);
    json_env_kv(store, "AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
    json_env_kv(store, "AWS_LAMBDA_LOG_GROUP_NAME", e->fn->group);
    json_env_kv(store, "AWS_LAMBDA_LOG_STREAM_NAME", e->stream);
    json_env_kv(store, "AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
    json_env_kv(store, "AWS_REGION", l->region);
    json_env_kv(store, "AWS_DEFAULT_REGION", l->region);
    json_env_kv(store, "_HANDLER", c->handler);
    json_env_kv(store, "LAMBDA_TASK_ROOT", dir);
    json_env_kv(store, "LAMBDA_RUNTIME_DIR", dir);
    json_env_kv(store, "AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023");
    json_env_kv(store, "AWS_ACCESS_KEY_ID", "AKIDSTACKDLOCAL00000");
    json_env_kv(store, "AWS_SECRET_ACCESS_KEY", "stackd-local-secret-key-not-a-real-one00");
    json_env_kv(store, "AWS_SESSION_TOKEN", "stackd-local-session-token");
    json_env_kv(store, "AWS_ENDPOINT_URL", l->endpoint_url);
    /* @connections (sd_wsapi) is on the edge port too. */
    json_env_kv(store, "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI", l->endpoint_url);
    json_env_kv(store, "WS_MANAGEMENT_ENDPOINT", l->endpoint_url);
    json_env_kv(store, "TZ", ":UTC");
    const char *path = getenv("PATH");
    json_env_kv(store, "PATH", path ? path : "/usr/local/bin:/usr/bin:/bin");
    json_env_kv(store, "LD_LIBRARY_PATH", dir);
    for (size_t i = 0; i < c->n_env; i++)
        json_env_kv(store, c->env_keys[i], c->env_vals[i]);
    /* Count and point into the NUL-separated store (stable now). */
    size_t n = 0;
    for (size_t i = 0; i < store->len; i++)
        n += store->data[i] == '\0';
    char **envp = cm_xcalloc(n + 1, sizeof(char *));
    size_t k = 0;
    for (size_t i = 0; i < store->len && k < n; i += strlen(store->data + i) + 1)
        envp[k++] = store->data + i;
    return envp;
}

static void runtime_request(void *ctx, struct sd_conn *conn, struct sd_req *req);

static int write_file(const char *dir, const char *name, const char *val)
{
    char path[800];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return CM_EIO;
    int ok = fputs(val, f) >= 0;
    ok &= fclose(f) == 0;
    return ok ? 0 : CM_EIO;
}

/* Puts the child into per-environment cgroups: memory limit = memory_mb and
 * a CPU quota proportional to memory (1769 MB = one vCPU, period 100 ms).
 * v1: memory.limit_in_bytes and cpu.cfs_quota_us in two hierarchies; v2:
 * memory.max and cpu.max in one. */
static void env_cgroup(struct env *e)
{
    struct sd_lambda *l = e->l;
    if (!l->cgroups)
        return;
    char dir[640], mem[32], quota[32], pid[16], cpumax[48];
    long long q = (long long)(100000.0 * (double)e->memory_mb / 1769.0);
    if (q < 1000)
        q = 1000;
    snprintf(mem, sizeof(mem), "%lld", (long long)e->memory_mb * 1024 * 1024);
    snprintf(quota, sizeof(quota), "%lld", q);
    snprintf(cpumax, sizeof(cpumax), "%lld 100000", q);
    snprintf(pid, sizeof(pid), "%d", (int)e->pid);
    snprintf(dir, sizeof(dir), "%s/stackd-%d-%d", l->cg_mem_root, (int)getpid(), (int)e->pid);
    if (mkdir(dir, 0755) == 0) {
        if (l->cgroups == 2) {
            write_file(dir, "memory.max", mem);
            write_file(dir, "cpu.max", cpumax);
        } else {
            write_file(dir, "memory.limit_in_bytes", mem);
        }
        write_file(dir, "cgroup.procs", pid);
    }
    if (l->cgroups == 2)
        return;
    snprintf(dir, sizeof(dir), "%s/stackd-%d-%d", l->cg_cpu_root, (int)getpid(), (int)e->pid);
    if (mkdir(dir, 0755) == 0) {
        write_file(dir, "cpu.cfs_period_us", "100000");
        write_file(dir, "cpu.cfs_quota_us", quota);
        write_file(dir, "cgroup.procs", pid);
    }
}

static void env_cgroup_remove(struct env *e)
{
    struct sd_lambda *l = e->l;
    if (!l->cgroups)
        return;
    char dir[640];
    snprintf(dir, sizeof(dir), "%s/stackd-%d-%d", l->cg_mem_root, (int)getpid(), (int)e->pid);
    rmdir(dir);
    snprintf(dir, sizeof(dir), "%s/stackd-%d-%d", l->cg_cpu_root, (int)getpid(), (int)e->pid);
    rmdir(dir);
}

static int spawn_child(struct env *e, int out_w)
{
    struct cm_buf store;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, defs;
    char dir[PATH_MAX];
    cm_buf_init(&store, 1 << 20);
    char **envp = build_envp(e, &store);
    cm_strlcpy(dir, e->fn->cfg.bootstrap, sizeof(dir));
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir)
        *slash = '\0';
    else
        cm_strlcpy(dir, ".", sizeof(dir));
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_w, 1);
    posix_spawn_file_actions_adddup2(&fa, out_w, 2);
    posix_spawn_file_actions_addchdir_np(&fa, dir);
    posix_spawnattr_init(&at);
    sigemptyset(&none);
    sigemptyset(&defs);
    sigaddset(&defs, SIGPIPE);
    sigaddset(&defs, SIGTERM);
    sigaddset(&defs, SIGINT);
    sigaddset(&defs, SIGCHLD);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &defs);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETPGROUP);
    char *argv[] = {e->fn->cfg.bootstrap, NULL};
    int rc = posix_spawn(&e->pid, e->fn->cfg.bootstrap, &fa, &at, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    free(envp);
    cm_buf_deinit(&store);
    return rc == 0 ? 0 : cm_err_from_errno(rc);
}

/* Starts a new environment for fn. On failure returns a cm_err with a
 * reason in why. */
static int env_spawn(struct sd_lambda *l, struct sd_fn *fn, struct env **out, const char **why)
{
    struct env *e = cm_xcalloc(1, sizeof(*e));
    /* Bodies up to 20 MB reach rt_result, which answers 413 and fails the
     * invocation with Function.ResponseSizeTooLarge past 6 MB; a parser-level
     * 413 would leave the invocation waiting for its timeout. */
    struct sd_http_limits lim = {16 * 1024, 20u * 1024 * 1024};
    int pfd[2] = {-1, -1};
    int rc;
    e->l = l;
    e->fn = fn;
    e->out_fd = -1;
    e->gen = fn->gen;
    e->memory_mb = fn->cfg.memory_mb;
    cm_buf_init(&e->line, LINE_MAX_BYTES + 16);
    uint8_t r[16];
    uint64_t a = rnd_next(l), b = rnd_next(l);
    memcpy(r, &a, 8);
    memcpy(r + 8, &b, 8);
    sd_lambda_format_stream(e->stream, sizeof(e->stream), cm_clock_wall_ns(), r);
    rc = sd_server_listen(l->srv, "127.0.0.1", 0, &lim, runtime_request, e, &e->lst, &e->port);
    if (rc < 0) {
        *why = "cannot listen for the Runtime API";
        goto fail;
    }
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        rc = cm_err_from_errno(errno);
        *why = "pipe failed";
        goto fail;
    }
    e->spawn_ns = cm_clock_mono_ns();
    rc = spawn_child(e, pfd[1]);
    close(pfd[1]);
    pfd[1] = -1;
    if (rc < 0) {
        *why = "cannot execute the bootstrap";
        goto fail;
    }
    l->children++;
    e->out_fd = pfd[0];
    fcntl(e->out_fd, F_SETFL, fcntl(e->out_fd, F_GETFL) | O_NONBLOCK);
    sd_server_watch(l->srv, e->out_fd, EPOLLIN, on_child_output, e, &e->out_watch);
    env_cgroup(e);
    e->state = ENV_INIT;
    e->next = fn->envs;
    fn->envs = e;
    fn->n_envs++;
    *out = e;
    return 0;
fail:
    if (pfd[0] >= 0)
        close(pfd[0]);
    if (pfd[1] >= 0)
        close(pfd[1]);
    sd_server_close_listener(l->srv, e->lst);
    cm_buf_deinit(&e->line);
    free(e);
    return rc < 0 ? rc : CM_EIO;
}

/* Sends the assigned invocation to the parked /next. */
static void env_deliver(struct env *e)
{
    struct inv *inv = e->inv;
    struct sd_resp r;
    char arn[200], tmp[32];
    sd_resp_init(&r);
    r.status = 200;
    cm_strlcpy(r.content_type, "application/json", sizeof(r.content_type));
    int64_t now = cm_clock_mono_ns();
    inv->start_ns = now;
    inv->deadline_ns = now + e->fn->cfg.timeout_ns;
    inv->deadline_wall_ms = wall_ms() + e->fn->cfg.timeout_ns / CM_NS_PER_MS;
    sd_fn_arn(e->l, e->fn, arn, sizeof(arn));
    sd_resp_header(&r, "Lambda-Runtime-Aws-Request-Id", inv->id);
    snprintf(tmp, sizeof(tmp), "%lld", (long long)inv->deadline_wall_ms);
    sd_resp_header(&r, "Lambda-Runtime-Deadline-Ms", tmp);
    sd_resp_header(&r, "Lambda-Runtime-Invoked-Function-Arn", arn);
    if (inv->trace_id)
        sd_resp_header(&r, "Lambda-Runtime-Trace-Id", inv->trace_id);
    if (inv->client_context)
        sd_resp_header(&r, "Lambda-Runtime-Client-Context", inv->client_context);
    cm_buf_append(&r.body, inv->payload, inv->payload_len);
    e->state = ENV_BUSY;
    env_logf(e, "START RequestId: %s Version: $LATEST", inv->id);
    out_watch_set(e, 0);
    struct sd_conn *c = e->next_conn;
    e->next_conn = NULL;
    sd_conn_reply(c, &r);
    sd_resp_deinit(&r);
    free(inv->payload); /* delivered; keep memory low for big payloads */
    inv->payload = NULL;
}

/* /next arrived (or the environment became ready): deliver or park. */
static void env_respond_next(struct env *e)
{
    if (e->inv)
        env_deliver(e);
    else {
        e->state = ENV_IDLE;
        e->idle_since_ns = cm_clock_mono_ns();
    }
}

/* ---------- Runtime API ---------- */

static void rt_reply(struct sd_conn *c, int status, const char *body)
{
    struct sd_resp r;
    sd_resp_init(&r);
    r.status = status;
    cm_strlcpy(r.content_type, "application/json", sizeof(r.content_type));
    cm_buf_puts(&r.body, body);
    sd_conn_reply(c, &r);
    sd_resp_deinit(&r);
}

static void rt_error(struct sd_conn *c, int status, const char *type, const char *msg)
{
    char body[512];
    snprintf(body, sizeof(body), "{\"errorMessage\":\"%s\",\"errorType\":\"%s\"}", msg, type);
    rt_reply(c, status, body);
}

static void fn_pump_events(struct sd_lambda *l, struct sd_fn *fn);

static void rt_next(struct env *e, struct sd_conn *conn)
{
    if (e->next_conn) { /* a second poller: the old one is stale */
        sd_conn_release(e->next_conn);
        e->next_conn = NULL;
    }
    if (e->state == ENV_BUSY) {
        /* Asked for more work without answering: the invocation fails. */
        inv_fail(e, SD_INV_FN_ERROR, "Runtime.NoResponse",
                 "runtime requested the next invocation without responding");
    }
    if (e->state == ENV_INIT) {
        e->init_done = 1;
        if (e->inv) {
            e->inv->cold = 1;
            e->inv->init_ms = (double)(cm_clock_mono_ns() - e->spawn_ns) / 1e6;
        }
    }
    sd_conn_defer_hold(conn); /* a 202 just written goes out with this answer */
    e->next_conn = conn;
    env_respond_next(e);
    if (e->state == ENV_IDLE)
        fn_pump_events(e->l, e->fn);
}

/* "/2018-06-01/runtime/invocation/<id>/<what>" -> id and what. */
static int split_inv_path(const char *p, char *id, size_t id_size, const char **what)
{
    static const char pre[] = RT_PREFIX "invocation/";
    if (strncmp(p, pre, sizeof(pre) - 1) != 0)
        return -1;
    p += sizeof(pre) - 1;
    const char *slash = strchr(p, '/');
    if (!slash || (size_t)(slash - p) >= id_size || slash == p)
        return -1;
    memcpy(id, p, (size_t)(slash - p));
    id[slash - p] = '\0';
    *what = slash + 1;
    return 0;
}

static void rt_result(struct env *e, struct sd_conn *conn, struct sd_req *req, int is_error)
{
    char id[64];
    const char *what;
    if (split_inv_path(req->path, id, sizeof(id), &what) < 0) {
        rt_error(conn, 404, "NotFound", "unknown path");
        return;
    }
    if (e->state != ENV_BUSY || !e->inv || strcmp(e->inv->id, id) != 0) {
        rt_error(conn, 400, "InvalidRequestID", "unknown or already answered request id");
        return;
    }
    if (!is_error && req->body_len > MAX_RESP_BYTES) {
        rt_error(conn, 413, "RequestEntityTooLarge", "response payload too large");
        e->state = ENV_RESPONDED;
        inv_fail(e, SD_INV_FN_ERROR, "Function.ResponseSizeTooLarge",
                 "Response payload size exceeded maximum allowed payload size (6291556 bytes).");
        return;
    }
    rt_reply(conn, 202, "{\"status\":\"OK\"}");
    e->state = ENV_RESPONDED;
    if (!is_error) {
        inv_finish(e, SD_INV_OK, req->body, req->body_len);
    } else if (req->body_len) {
        inv_finish(e, SD_INV_FN_ERROR, req->body, req->body_len);
    } else {
        size_t tn;
        const char *t = sd_req_header(req, "lambda-runtime-function-error-type", &tn);
        char type[96];
        cm_strlcpy(type, "Runtime.Unknown", sizeof(type));
        if (t && tn < sizeof(type)) {
            memcpy(type, t, tn);
            type[tn] = '\0';
        }
        inv_fail(e, SD_INV_FN_ERROR, type, "Unhandled error");
    }
}

static void rt_init_error(struct env *e, struct sd_conn *conn, struct sd_req *req)
{
    if (e->state != ENV_INIT) {
        rt_error(conn, 403, "InvalidStateTransition", "init/error after init");
        return;
    }
    rt_reply(conn, 202, "{\"status\":\"OK\"}");
    env_logf(e, "INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: error",
             (double)(cm_clock_mono_ns() - e->spawn_ns) / 1e6);
    if (e->inv) {
        if (req->body_len)
            inv_finish(e, SD_INV_INIT_ERROR, req->body, req->body_len);
        else
            inv_fail(e, SD_INV_INIT_ERROR, "Runtime.Unknown", "init error");
    }
    env_destroy(e);
}

static void runtime_request(void *ctx, struct sd_conn *conn, struct sd_req *req)
{
    struct env *e = ctx;
    if (e->state == ENV_DEAD) {
        rt_error(conn, 500, "InternalServerError", "environment stopped");
        return;
    }
    if (strcmp(req->path, RT_PREFIX "invocation/next") == 0 && strcmp(req->method, "GET") == 0) {
        rt_next(e, conn);
        return;
    }
    if (strcmp(req->method, "POST") == 0) {
        if (strcmp(req->path, RT_PREFIX "init/error") == 0) {
            rt_init_error(e, conn, req);
            return;
        }
        size_t n = strlen(req->path);
        if (n > 9 && strcmp(req->path + n - 9, "/response") == 0) {
            rt_result(e, conn, req, 0);
            return;
        }
        if (n > 6 && strcmp(req->path + n - 6, "/error") == 0) {
            rt_result(e, conn, req, 1);
            return;
        }
    }
    rt_error(conn, 404, "NotFound", "unknown Runtime API path");
}

/* ---------- invocations ---------- */

static int fn_limit(const struct sd_lambda *l, const struct sd_fn *fn)
{
    if (fn->cfg.reserved_concurrency >= 0)
        return (int)fn->cfg.reserved_concurrency;
    return (int)l->account_concurrency;
}

int sd_lambda_concurrency(const struct sd_lambda *l, const struct sd_fn *fn)
{
    (void)l;
    return fn->busy;
}

int sd_lambda_inflight(const struct sd_lambda *l)
{
    return l->busy;
}

/* Picks an environment for a new invocation: an idle one, else one that just
 * answered and will poll again, else a new one within the limits. */
static int assign(struct sd_lambda *l, struct sd_fn *fn, struct inv *inv)
{
    struct env *idle = NULL, *responded = NULL;
    for (struct env *e = fn->envs; e; e = e->next) {
        if (e->gen != fn->gen || e->inv)
            continue;
        if (e->state == ENV_IDLE && e->next_conn && sd_conn_alive(e->next_conn)) {
            idle = e;
            break;
        }
        if (e->state == ENV_RESPONDED && !responded)
            responded = e;
    }
    if (fn->busy >= fn_limit(l, fn) || l->busy >= l->account_concurrency || l->stopping)
        return CM_EAGAIN;
    struct env *e = idle ? idle : responded;
    if (!e) {
        const char *why = "";
        int rc = env_spawn(l, fn, &e, &why);
        if (rc < 0) {
            if (!fn->spawn_warned) /* once: never a log line per request */
                cm_warn("function %s: %s (%s): %s", fn->cfg.name, why, fn->cfg.bootstrap,
                        cm_strerror(rc));
            fn->spawn_warned = 1;
            return rc;
        }
    }
    e->inv = inv;
    fn->busy++;
    l->busy++;
    metric(l, fn, "ConcurrentExecutions", fn->busy, "Count");
    if (e->state == ENV_IDLE)
        env_deliver(e);
    return 0;
}

static struct inv *inv_new(const char *payload, size_t len)
{
    struct inv *inv = cm_xcalloc(1, sizeof(*inv));
    sd_lambda_uuid(inv->id);
    inv->payload = cm_xmalloc(len + 1);
    if (len)
        memcpy(inv->payload, payload, len);
    inv->payload[len] = '\0';
    inv->payload_len = len;
    cm_buf_init(&inv->tail, 80 * 1024);
    return inv;
}

int sd_lambda_invoke(struct sd_lambda *l, struct sd_fn *fn, const struct sd_invoke_opts *o)
{
    if (fn->busy >= fn_limit(l, fn) || l->busy >= l->account_concurrency || l->stopping) {
        metric(l, fn, "Throttles", 1, "Count");
        return CM_EAGAIN;
    }
    struct inv *inv = inv_new(o->payload, o->payload_len);
    inv->want_tail = o->want_tail;
    inv->trace_id = o->trace_id ? cm_xstrdup(o->trace_id) : NULL;
    inv->client_context = o->client_context ? cm_xstrdup(o->client_context) : NULL;
    inv->done = o->done;
    inv->ctx = o->ctx;
    int rc = assign(l, fn, inv);
    if (rc < 0) {
        if (rc == CM_EAGAIN)
            metric(l, fn, "Throttles", 1, "Count");
        inv_free(inv);
    }
    return rc;
}

/* ---------- Event invocations ---------- */

struct ev_ctx {
    struct sd_lambda *l;
    struct sd_fn *fn;
    struct evq_item *item;
};

static void evq_push(struct sd_fn *fn, struct evq_item *it)
{
    it->next = NULL;
    if (fn->evq_tail)
        fn->evq_tail->next = it;
    else
        fn->evq_head = it;
    fn->evq_tail = it;
    fn->evq_len++;
}

static void evq_item_free(struct evq_item *it)
{
    if (!it)
        return;
    free(it->payload);
    free(it);
}

static void on_event_done(void *ctx, const struct sd_inv_result *res)
{
    struct ev_ctx *ec = ctx;
    struct evq_item *it = ec->item;
    if (res->status != SD_INV_OK && res->status != SD_INV_SHUTDOWN && it->tries < MAX_EVENT_TRIES) {
        /* Retry later: 1 s, then 2 s (AWS waits ~1 min, then ~2 min). */
        it->not_before_ns = cm_clock_mono_ns() + (int64_t)it->tries * CM_NS_PER_S;
        evq_push(ec->fn, it);
    } else {
        evq_item_free(it);
    }
    free(ec);
}

static void fn_pump_events(struct sd_lambda *l, struct sd_fn *fn)
{
    int64_t now = cm_clock_mono_ns();
    for (int guard = 0; fn->evq_head && guard < 1000; guard++) {
        struct evq_item *it = fn->evq_head;
        if (it->not_before_ns > now)
            break; /* FIFO: later items wait behind a delayed retry (bounded delay) */
        if (fn->busy >= fn_limit(l, fn) || l->busy >= l->account_concurrency || l->stopping)
            break;
        fn->evq_head = it->next;
        if (!fn->evq_head)
            fn->evq_tail = NULL;
        fn->evq_len--;
        it->tries++;
        struct inv *inv = inv_new(it->payload, it->len);
        memcpy(inv->id, it->id, sizeof(inv->id));
        struct ev_ctx *ec = cm_xcalloc(1, sizeof(*ec));
        ec->l = l;
        ec->fn = fn;
        ec->item = it;
        inv->done = on_event_done;
        inv->ctx = ec;
        if (assign(l, fn, inv) < 0) {
            inv_free(inv);
            free(ec);
            it->tries--;
            it->not_before_ns = now + 100 * CM_NS_PER_MS;
            evq_push(fn, it);
            break;
        }
    }
}

int sd_lambda_invoke_event(struct sd_lambda *l, struct sd_fn *fn, const char *payload, size_t len,
                           char *request_id)
{
    if (fn->evq_len >= EVQ_MAX)
        return CM_ETOOBIG;
    struct evq_item *it = cm_xcalloc(1, sizeof(*it));
    it->payload = cm_xmalloc(len + 1);
    if (len)
        memcpy(it->payload, payload, len);
    it->len = len;
    sd_lambda_uuid(it->id);
    if (request_id)
        memcpy(request_id, it->id, sizeof(it->id));
    evq_push(fn, it);
    fn_pump_events(l, fn);
    return 0;
}

/* ---------- tick, child exit ---------- */

static void tick_fn(struct sd_lambda *l, struct sd_fn *fn, int64_t now)
{
    for (struct env *e = fn->envs, *nx; e; e = nx) {
        nx = e->next;
        switch (e->state) {
        case ENV_BUSY:
            if (e->out_quiet && e->out_fd >= 0)
                out_drain(e, 0); /* long invocations: lines flow, the pipe never fills */
            if (e->inv && now >= e->inv->deadline_ns) {
                char body[256];
                snprintf(body, sizeof(body),
                         "{\"errorMessage\":\"%s Task timed out after %.2f seconds\","
                         "\"errorType\":\"Sandbox.Timedout\"}",
                         e->inv->id, (double)fn->cfg.timeout_ns / 1e9);
                inv_finish(e, SD_INV_TIMEOUT, body, strlen(body));
                env_destroy(e);
            }
            break;
        case ENV_INIT:
            if (now - e->spawn_ns >= l->init_timeout_ns) {
                env_logf(e, "INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: timeout",
                         (double)(now - e->spawn_ns) / 1e6);
                if (e->inv)
                    inv_fail(e, SD_INV_INIT_ERROR, "Runtime.InitTimeout",
                             "init did not finish within the 10 s INIT limit");
                env_destroy(e);
            }
            break;
        case ENV_IDLE:
            if (e->gen != fn->gen || now - e->idle_since_ns >= l->idle_reclaim_ns ||
                (e->next_conn && !sd_conn_alive(e->next_conn)))
                env_destroy(e);
            break;
        case ENV_RESPONDED:
        case ENV_DEAD:
            if (e->kill_at_ns && now >= e->kill_at_ns)
                env_kill(e, SIGKILL);
            break;
        }
    }
    fn_pump_events(l, fn);
}

void sd_lambda_tick(struct sd_lambda *l, int64_t now)
{
    for (size_t i = 0; i < l->n_fns; i++)
        tick_fn(l, l->fns[i], now);
}

static struct env *find_pid(struct sd_lambda *l, pid_t pid)
{
    for (size_t i = 0; i < l->n_fns; i++) {
        for (struct env *e = l->fns[i]->envs; e; e = e->next) {
            if (e->pid == pid)
                return e;
        }
    }
    return NULL;
}

static void describe_exit(int status, char *out, size_t n)
{
    if (WIFEXITED(status))
        snprintf(out, n, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, n, "signal: %s", strsignal(WTERMSIG(status)));
    else
        snprintf(out, n, "status %d", status);
}

static void on_exit_env(struct env *e, int status)
{
    char why[96], msg[256];
    describe_exit(status, why, sizeof(why));
    if (e->state != ENV_DEAD) {
        out_drain(e, 1);
        if (e->inv) {
            snprintf(msg, sizeof(msg), "RequestId: %s Error: Runtime exited with error: %s",
                     e->inv->id, why);
            env_log(e, msg, strlen(msg));
            env_log(e, "Runtime.ExitError", 17);
            int init = e->state == ENV_INIT;
            if (init)
                env_logf(e, "INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: error",
                         (double)(cm_clock_mono_ns() - e->spawn_ns) / 1e6);
            inv_fail(e, init ? SD_INV_INIT_ERROR : SD_INV_CRASH, "Runtime.ExitError", msg);
        }
        env_destroy(e);
    }
    e->reaped = 1;
    env_cgroup_remove(e);
    unlink_env(e);
    env_free(e);
}

void sd_lambda_on_sigchld(struct sd_lambda *l)
{
    for (int i = 0; i < 100000; i++) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0)
            break;
        struct env *e = find_pid(l, pid);
        l->children--;
        if (e)
            on_exit_env(e, status);
    }
    for (size_t i = 0; i < l->n_fns; i++)
        fn_pump_events(l, l->fns[i]);
}

int sd_lambda_stop_envs(struct sd_lambda *l, int64_t now, int64_t grace_ns)
{
    l->stopping = 1;
    for (size_t i = 0; i < l->n_fns; i++) {
        for (struct env *e = l->fns[i]->envs; e; e = e->next) {
            if (e->inv && e->state != ENV_DEAD) {
                inv_fail(e, SD_INV_SHUTDOWN, "Sandbox.Failure", "stackd is shutting down");
            }
            if (!e->kill_at_ns) {
                env_kill(e, SIGTERM);
                e->kill_at_ns = now + grace_ns;
            }
            if (e->state != ENV_DEAD) {
                e->state = ENV_DEAD;
                if (e->next_conn) {
                    sd_conn_release(e->next_conn);
                    e->next_conn = NULL;
                }
                sd_server_close_listener(l->srv, e->lst);
                e->lst = NULL;
                e->fn->n_envs--;
            }
        }
    }
    return l->children;
}

int sd_lambda_children(const struct sd_lambda *l)
{
    return l->children;
}

/* ---------- functions ---------- */

static void fill_code_info(struct sd_fn_config *c)
{
    FILE *f = fopen(c->bootstrap, "rb");
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    c->code_size = 0;
    cm_strlcpy(c->code_sha256, "", sizeof(c->code_sha256));
    if (!f)
        return;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        EVP_DigestUpdate(ctx, buf, n);
        c->code_size += (int64_t)n;
    }
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    fclose(f);
    EVP_EncodeBlock((unsigned char *)c->code_sha256, md, (int)mdlen);
}

static void stamp_modified(struct sd_fn_config *c)
{
    int64_t ns = cm_clock_wall_ns();
    time_t t = (time_t)(ns / CM_NS_PER_S);
    struct tm tm;
    gmtime_r(&t, &tm);
    char d[24];
    strftime(d, sizeof(d), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(c->last_modified, sizeof(c->last_modified), "%.19s.%03d+0000", d,
             (int)(ns / CM_NS_PER_MS % 1000));
    sd_lambda_uuid(c->revision_id);
}

static struct sd_fn *fn_new(const struct sd_stack_fn *s)
{
    struct sd_fn *fn = cm_xcalloc(1, sizeof(*fn));
    struct sd_fn_config *c = &fn->cfg;
    c->name = cm_xstrdup(s->name);
    c->bootstrap = cm_xstrdup(s->bootstrap);
    c->handler = cm_xstrdup(s->handler);
    c->memory_mb = s->memory_mb;
    c->timeout_ns = s->timeout_ns;
    c->reserved_concurrency = s->reserved_concurrency;
    c->n_env = s->n_env;
    c->env_keys = cm_xcalloc(s->n_env + 1, sizeof(char *));
    c->env_vals = cm_xcalloc(s->n_env + 1, sizeof(char *));
    for (size_t i = 0; i < s->n_env; i++) {
        c->env_keys[i] = cm_xstrdup(s->env_keys[i]);
        c->env_vals[i] = cm_xstrdup(s->env_vals[i]);
    }
    snprintf(fn->group, sizeof(fn->group), "/aws/lambda/%s", c->name);
    stamp_modified(c);
    fill_code_info(c);
    return fn;
}

static void fn_free(struct sd_fn *fn)
{
    struct sd_fn_config *c = &fn->cfg;
    while (fn->evq_head) {
        struct evq_item *it = fn->evq_head;
        fn->evq_head = it->next;
        evq_item_free(it);
    }
    for (size_t i = 0; i < c->n_env; i++) {
        free(c->env_keys[i]);
        free(c->env_vals[i]);
    }
    free(c->env_keys);
    free(c->env_vals);
    free(c->name);
    free(c->bootstrap);
    free(c->handler);
    free(fn);
}

/* Removes empty per-environment cgroups left by a stackd that was killed
 * (SIGKILL leaves no chance to clean up; its environments exit on their own
 * when their Runtime API connection drops). */
static void remove_stale_cgroups(const char *root)
{
    DIR *d = opendir(root);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        int owner = 0;
        if (strncmp(de->d_name, "stackd-", 7) != 0 || sscanf(de->d_name + 7, "%d", &owner) != 1)
            continue;
        if (owner == (int)getpid() || (kill(owner, 0) < 0 && errno == ESRCH)) {
            char path[900];
            snprintf(path, sizeof(path), "%s/%s", root, de->d_name);
            rmdir(path);
        }
    }
    if (d)
        closedir(d);
}

static int can_mkdir(const char *root)
{
    char probe[700];
    snprintf(probe, sizeof(probe), "%s/stackd-probe-%d", root, (int)getpid());
    if (mkdir(probe, 0755) != 0)
        return 0;
    rmdir(probe);
    return 1;
}

/* cgroup v2 (unified hierarchy mounted at /sys/fs/cgroup): environments go
 * below our own cgroup, which must delegate the memory and cpu controllers
 * (cgroup.subtree_control); we try to enable them, which the kernel refuses
 * while our cgroup holds processes (then: no limits, one warning). Not
 * exercised on the v1 machine these tests run on. */
static int probe_v2(struct sd_lambda *l, const char *path)
{
    char ctl[700], buf[256] = "";
    if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) != 0)
        return 0;
    snprintf(l->cg_mem_root, sizeof(l->cg_mem_root), "/sys/fs/cgroup%s",
             strcmp(path, "/") == 0 ? "" : path);
    cm_strlcpy(l->cg_cpu_root, l->cg_mem_root, sizeof(l->cg_cpu_root));
    snprintf(ctl, sizeof(ctl), "%s/cgroup.subtree_control", l->cg_mem_root);
    FILE *f = fopen(ctl, "r");
    if (f) {
        if (!fgets(buf, sizeof(buf), f))
            buf[0] = '\0';
        fclose(f);
    }
    if (!strstr(buf, "memory") || !strstr(buf, "cpu"))
        write_file(l->cg_mem_root, "cgroup.subtree_control", "+memory +cpu");
    f = fopen(ctl, "r");
    buf[0] = '\0';
    if (f) {
        if (!fgets(buf, sizeof(buf), f))
            buf[0] = '\0';
        fclose(f);
    }
    return strstr(buf, "memory") && strstr(buf, "cpu") && can_mkdir(l->cg_mem_root);
}

/* Finds writable cgroup roots: v1 memory and cpu hierarchies (our own
 * cgroups in each), else v2. */
static void probe_cgroups(struct sd_lambda *l)
{
    FILE *f = fopen("/proc/self/cgroup", "r");
    char line[512], mem[400] = "", cpu[400] = "", unified[400] = "";
    int have_mem = 0, have_cpu = 0, have_unified = 0;
    while (f && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        if (strcmp(c1 + 1, "memory") == 0) {
            cm_strlcpy(mem, c2 + 1, sizeof(mem));
            have_mem = 1;
        } else if (strstr(c1 + 1, "cpu") && !strstr(c1 + 1, "cpuset") &&
                   !strstr(c1 + 1, "cpuacct,") && strcmp(c1 + 1, "cpuacct") != 0) {
            cm_strlcpy(cpu, c2 + 1, sizeof(cpu));
            have_cpu = 1;
        } else if (c1 == line + 1 && line[0] == '0' && c1[1] == '\0') {
            cm_strlcpy(unified, c2 + 1, sizeof(unified));
            have_unified = 1;
        }
    }
    if (f)
        fclose(f);
    if (have_mem && have_cpu) {
        snprintf(l->cg_mem_root, sizeof(l->cg_mem_root), "/sys/fs/cgroup/memory%s",
                 strcmp(mem, "/") == 0 ? "" : mem);
        snprintf(l->cg_cpu_root, sizeof(l->cg_cpu_root), "/sys/fs/cgroup/cpu%s",
                 strcmp(cpu, "/") == 0 ? "" : cpu);
        l->cgroups = can_mkdir(l->cg_mem_root) && can_mkdir(l->cg_cpu_root) ? 1 : 0;
    } else if (have_unified) {
        l->cgroups = probe_v2(l, unified) ? 2 : 0;
    }
    if (l->cgroups) {
        remove_stale_cgroups(l->cg_mem_root);
        if (l->cgroups == 1)
            remove_stale_cgroups(l->cg_cpu_root);
    } else {
        cm_warn("no writable memory+cpu cgroups (v1, or v2 with the controllers delegated): no "
                "memory limit or CPU scaling for functions (Max Memory Used still from /proc)");
    }
}

int sd_lambda_new(struct sd_server *srv, const struct sd_stack *st,
                  const struct sd_lambda_config *cfg, const struct sd_lambda_hooks *hooks,
                  struct sd_lambda **out)
{
    struct sd_lambda *l = cm_xcalloc(1, sizeof(*l));
    l->srv = srv;
    if (hooks)
        l->hooks = *hooks;
    l->region = cm_xstrdup(cfg->region ? cfg->region : "us-east-1");
    l->account_id = cm_xstrdup(cfg->account_id ? cfg->account_id : "000000000000");
    l->endpoint_url = cm_xstrdup(cfg->endpoint_url ? cfg->endpoint_url : "");
    l->account_concurrency = cfg->account_concurrency > 0 ? cfg->account_concurrency : 1000;
    l->idle_reclaim_ns = cfg->idle_reclaim_ns > 0 ? cfg->idle_reclaim_ns : 300 * CM_NS_PER_S;
    l->init_timeout_ns = cfg->init_timeout_ns > 0 ? cfg->init_timeout_ns : 10 * CM_NS_PER_S;
    if (getrandom(l->rnd, sizeof(l->rnd), 0) != (ssize_t)sizeof(l->rnd) ||
        (!l->rnd[0] && !l->rnd[1])) {
        l->rnd[0] = (uint64_t)cm_clock_wall_ns() | 1;
        l->rnd[1] = (uint64_t)getpid();
    }
    l->fns = cm_xcalloc(st->n_fns + 1, sizeof(*l->fns));
    for (size_t i = 0; i < st->n_fns; i++)
        l->fns[l->n_fns++] = fn_new(&st->fns[i]);
    if (cfg->use_cgroups)
        probe_cgroups(l);
    *out = l;
    return 0;
}

void sd_lambda_free(struct sd_lambda *l)
{
    if (!l)
        return;
    sd_lambda_stop_envs(l, cm_clock_mono_ns(), 0);
    for (size_t i = 0; i < l->n_fns; i++) {
        struct sd_fn *fn = l->fns[i];
        while (fn->envs) {
            struct env *e = fn->envs;
            fn->envs = e->next;
            env_kill(e, SIGKILL);
            if (!e->reaped && e->pid > 0 && waitpid(e->pid, NULL, 0) > 0)
                l->children--;
            env_cgroup_remove(e);
            env_free(e);
        }
        fn_free(fn);
    }
    free(l->fns);
    free(l->region);
    free(l->account_id);
    free(l->endpoint_url);
    free(l);
}

struct sd_fn *sd_lambda_find(struct sd_lambda *l, const char *s, size_t n)
{
    /* Full ARN "arn:aws:lambda:r:acct:function:name[:qual]" or partial
     * "acct:function:name[:qual]" or plain "name[:qual]". */
    const char *p = s, *end = s + n;
    for (const char *q = s; q + 10 <= end; q++) {
        if (memcmp(q, ":function:", 10) == 0) {
            p = q + 10;
            break;
        }
    }
    const char *colon = memchr(p, ':', (size_t)(end - p));
    if (colon) {
        size_t ql = (size_t)(end - colon - 1);
        if (!(ql == 7 && memcmp(colon + 1, "$LATEST", 7) == 0))
            return NULL; /* versions/aliases are not emulated */
        end = colon;
    }
    size_t nl = (size_t)(end - p);
    for (size_t i = 0; i < l->n_fns; i++) {
        const char *name = l->fns[i]->cfg.name;
        if (strlen(name) == nl && memcmp(name, p, nl) == 0)
            return l->fns[i];
    }
    return NULL;
}

size_t sd_lambda_count(const struct sd_lambda *l)
{
    return l->n_fns;
}

struct sd_fn *sd_lambda_at(struct sd_lambda *l, size_t i)
{
    return i < l->n_fns ? l->fns[i] : NULL;
}

struct sd_fn_config *sd_fn_config(struct sd_fn *fn)
{
    return &fn->cfg;
}

void sd_fn_arn(const struct sd_lambda *l, const struct sd_fn *fn, char *out, size_t out_size)
{
    snprintf(out, out_size, "arn:aws:lambda:%s:%s:function:%s", l->region, l->account_id,
             fn->cfg.name);
}

void sd_fn_config_changed(struct sd_lambda *l, struct sd_fn *fn)
{
    (void)l;
    fn->gen++;
    fn->spawn_warned = 0;
    stamp_modified(&fn->cfg);
}

/* target.c: see target.h. stackd's command line:
 *   stackd --stack FILE --port 0 --port-file F --data-dir D
 * it writes its edge port to F once listening; /_stackd/health answers 200. */
#include "target.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cm/clock.h"
#include "cm/err.h"
#include "cm/log.h"
#include "cm/mem.h"
#include "scenario.h"

void lg_target_local_url(int port, char *out, size_t n)
{
    snprintf(out, n, "http://127.0.0.1:%d", port);
}

int lg_target_is_loopback(const char *url)
{
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    const char *at = strchr(h, '@'), *slash = strchr(h, '/');
    if (at && (!slash || at < slash))
        h = at + 1;
    size_t l = strcspn(h, ":/?#");
    if (strncmp(h, "[::1]", 5) == 0)
        return 1;
    /* an IPv4 literal in 127.0.0.0/8, not a name such as 127.0.0.1.example.com */
    if (l >= 7 && strncmp(h, "127.", 4) == 0 && strspn(h, "0123456789.") == l)
        return 1;
    return l == 9 && strncasecmp(h, "localhost", 9) == 0;
}

static int probe(const char *url, int64_t timeout_ns, int connect_only)
{
    CURL *e = curl_easy_init();
    if (!e)
        return CM_EIO;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, connect_only ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(timeout_ns / CM_NS_PER_MS));
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(e, CURLOPT_NOBODY, 0L);
    FILE *devnull = fopen("/dev/null", "wb");
    if (devnull)
        curl_easy_setopt(e, CURLOPT_WRITEDATA, devnull);
    CURLcode rc = curl_easy_perform(e);
    curl_easy_cleanup(e);
    if (devnull)
        fclose(devnull);
    return rc == CURLE_OK ? 0 : CM_ECONN;
}

int lg_target_probe(const char *url, int64_t timeout_ns)
{
    return probe(url, timeout_ns, 1);
}

static int exe_dir(char *out, size_t n)
{
    char buf[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (k <= 0)
        return CM_EIO;
    buf[k] = 0;
    char *slash = strrchr(buf, '/');
    if (slash)
        *slash = 0;
    cm_strlcpy(out, buf, n);
    return 0;
}

static int find_stackd(char *out, size_t n)
{
    const char *env = getenv("LOADGEN_STACKD");
    if (env && *env) {
        cm_strlcpy(out, env, n);
        return access(out, X_OK) == 0 ? 0 : CM_ENOTFOUND;
    }
    char dir[PATH_MAX - 64];
    if (exe_dir(dir, sizeof(dir)))
        return CM_ENOTFOUND;
    snprintf(out, n, "%s/stackd", dir);
    if (access(out, X_OK) == 0)
        return 0;
    snprintf(out, n, "%s/../deploy/local/stackd", dir);
    return access(out, X_OK) == 0 ? 0 : CM_ENOTFOUND;
}

static int read_port(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[32] = "";
    if (!fgets(line, sizeof(line), f))
        line[0] = 0;
    fclose(f);
    long p = strtol(line, NULL, 10);
    return p > 0 && p < 65536 ? (int)p : 0;
}

static int start_stackd(const struct lg_scenario *sc, struct lg_target *t, char *err, size_t n)
{
    char bin[PATH_MAX], port_file[600], data_dir[600], log_path[600];
    if (find_stackd(bin, sizeof(bin))) {
        snprintf(err, n,
                 "target local: stackd not found (set LOADGEN_STACKD, or build it next to "
                 "loadgen or in ../deploy/local/)");
        return CM_ECONN;
    }
    cm_strlcpy(t->dir, "/tmp/loadgen-stackd-XXXXXX", sizeof(t->dir));
    if (!mkdtemp(t->dir)) {
        snprintf(err, n, "target local: mkdtemp: %s", strerror(errno));
        return CM_ECONN;
    }
    snprintf(port_file, sizeof(port_file), "%s/port", t->dir);
    snprintf(data_dir, sizeof(data_dir), "%s/data", t->dir);
    snprintf(log_path, sizeof(log_path), "%s/stackd.log", t->dir);
    mkdir(data_dir, 0700);
    /* the stack file: as given (relative to the working directory), else
     * relative to the repository holding the scenario (scenarios/..) */
    char stack[PATH_MAX];
    cm_strlcpy(stack, sc->local_stack, sizeof(stack));
    if (stack[0] != '/' && access(stack, R_OK) != 0) {
        const char *slash = strrchr(sc->path, '/');
        int dl = slash ? (int)(slash - sc->path) : 1;
        snprintf(stack, sizeof(stack), "%.*s/../%s", dl, slash ? sc->path : ".", sc->local_stack);
        if (access(stack, R_OK) != 0)
            cm_strlcpy(stack, sc->local_stack, sizeof(stack));
    }
    /* functions are found through LG_BINARY_DIR (the build dir holding stackd) */
    char bdir[PATH_MAX];
    cm_strlcpy(bdir, bin, sizeof(bdir));
    char *cut = strstr(bdir, "/deploy/local/stackd");
    int set_bdir = !getenv("LG_BINARY_DIR") && cut && cut[20] == 0;
    if (set_bdir)
        *cut = 0;
    pid_t pid = fork();
    if (pid == 0) {
        if (set_bdir)
            setenv("LG_BINARY_DIR", bdir, 1);
        int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(bin, bin, "--stack", stack, "--port", "0", "--port-file", port_file, "--data-dir",
              data_dir, (char *)NULL);
        _exit(127);
    }
    if (pid < 0) {
        snprintf(err, n, "target local: fork: %s", strerror(errno));
        return CM_ECONN;
    }
    t->pid = pid;
    char health[1200];
    for (int i = 0; i < 300; i++) { /* up to 15 s */
        int port = read_port(port_file);
        if (port) {
            lg_target_local_url(port, t->base_url, sizeof(t->base_url));
            snprintf(health, sizeof(health), "%s/_stackd/health", t->base_url);
            if (probe(health, 1 * CM_NS_PER_S, 0) == 0)
                return 0;
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            t->pid = 0;
            snprintf(err, n, "target local: stackd exited during start-up (see %s)", log_path);
            return CM_ECONN;
        }
        cm_clock_sleep_ns(50 * CM_NS_PER_MS);
    }
    snprintf(err, n, "target local: stackd did not become healthy within 15 s (see %s)", log_path);
    return CM_ECONN;
}

static int check_url(const char *u)
{
    if (strncmp(u, "http://", 7) && strncmp(u, "https://", 8))
        return CM_EINVAL;
    const char *h = strstr(u, "://") + 3;
    return (*h && *h != '/' && !strpbrk(u, " \t\r\n")) ? 0 : CM_EINVAL;
}

int lg_target_resolve(const char *spec, const struct lg_scenario *sc, int yes, struct lg_target *t,
                      char *err, size_t n)
{
    memset(t, 0, sizeof(*t));
    if (strcmp(spec, "local") == 0) {
        if (sc->local_port > 0) {
            char health[1200];
            lg_target_local_url((int)sc->local_port, t->base_url, sizeof(t->base_url));
            snprintf(health, sizeof(health), "%s/_stackd/health", t->base_url);
            if (probe(health, 1 * CM_NS_PER_S, 0) == 0)
                return 0;
        }
        int rc = start_stackd(sc, t, err, n);
        if (rc)
            lg_target_stop(t);
        return rc;
    }
    if (check_url(spec)) {
        snprintf(err, n, "target: \"%s\" is neither `local` nor an http:// or https:// URL", spec);
        return CM_EINVAL;
    }
    if (!lg_target_is_loopback(spec) && !yes && !sc->target_confirm) {
        snprintf(err, n,
                 "target: %s is not a loopback address; pass --yes or set "
                 "target_confirm: true to load it",
                 spec);
        return CM_EINVAL;
    }
    cm_strlcpy(t->base_url, spec, sizeof(t->base_url));
    size_t l = strlen(t->base_url);
    while (l > 8 && t->base_url[l - 1] == '/')
        t->base_url[--l] = 0;
    if (lg_target_probe(t->base_url, sc->http.connect_timeout_ns)) {
        snprintf(err, n, "target: %s does not answer (could not connect)", t->base_url);
        return CM_ECONN;
    }
    return 0;
}

void lg_target_stop(struct lg_target *t)
{
    if (t->pid > 0) {
        kill(t->pid, SIGTERM);
        int st;
        for (int i = 0; i < 100; i++) {
            if (waitpid(t->pid, &st, WNOHANG) == t->pid) {
                t->pid = 0;
                break;
            }
            cm_clock_sleep_ns(50 * CM_NS_PER_MS);
        }
        if (t->pid > 0) {
            kill(t->pid, SIGKILL);
            waitpid(t->pid, &st, 0);
            t->pid = 0;
        }
    }
    if (t->dir[0]) {
        char cmd[700];
        /* the data dir is ours (mkdtemp above): remove the tree */
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
        if (system(cmd) != 0)
            cm_warn("could not remove %s", t->dir);
        t->dir[0] = 0;
    }
}

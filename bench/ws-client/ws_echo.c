/* ws_echo.c: a plain WebSocket echo server for the lg_wsc tests and the
 * ws-client benchmark: one thread, epoll, level-triggered, RFC 6455 server
 * side (handshake, masked frames in, unmasked frames out). Not a general
 * server: no extensions, no subprotocols, no fragmented messages (a
 * continuation frame is echoed as its own message).
 *
 *   ws_echo [--port N] [--port-file F] [--bind A] [--mode echo|404|silent]
 *
 * Modes: echo (default) upgrades every GET and echoes each text/binary
 * message; 404 answers every request "HTTP/1.1 404 Not Found" and closes;
 * silent accepts TCP and never answers. In echo mode two text messages are
 * commands instead: "drop" closes the TCP connection at once (no close
 * frame), "close <code>" sends a close frame with that code and closes after
 * the peer's answer, "big <n>" answers with one text message of n bytes (up
 * to 1 MiB), "hdr <name>" answers with the value of that handshake request
 * header ("-" when absent), "ping <text>" sends a ping with that payload and
 * answers the client's pong with the text message "pong <payload>". Pings get pongs; a close frame
 * gets a close frame back.
 * --port-file: the bound port is written to F.tmp and renamed to F. SIGTERM
 * or SIGINT: exit 0. Raises RLIMIT_NOFILE to its hard limit. Exit 2 on bad
 * arguments, 1 when the socket cannot be set up. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define IN_MAX   (1u << 20) /* a client frame larger than this closes the connection */
#define HEAD_MAX 8192

enum mode { M_ECHO, M_404, M_SILENT };

struct conn {
    int fd;
    int upgraded;
    int closing;       /* close frame sent: close after the peer's close or EOF */
    char *head;        /* the handshake request head (NUL-terminated) */
    unsigned char *in; /* received, not yet parsed */
    size_t in_len, in_cap;
    unsigned char *out; /* to send */
    size_t out_len, out_cap, out_off;
    uint32_t events;
};

static volatile sig_atomic_t stop;
static int epfd;
static enum mode mode = M_ECHO;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        fputs("ws_echo: out of memory\n", stderr);
        abort();
    }
    return q;
}

static void reserve(unsigned char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return;
    size_t n = *cap ? *cap : 256;
    while (n < need)
        n *= 2;
    *buf = xrealloc(*buf, n);
    *cap = n;
}

static void conn_free(struct conn *c)
{
    close(c->fd); /* leaves the epoll set with it */
    free(c->head);
    free(c->in);
    free(c->out);
    free(c);
}

static void set_events(struct conn *c, uint32_t ev)
{
    if (c->events == ev)
        return;
    struct epoll_event e = {.events = ev, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e);
    c->events = ev;
}

/* Sends what is queued; 0 ok (maybe partial, EPOLLOUT armed), -1 dead. */
static int flush(struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            if (errno == EINTR)
                continue;
            return -1;
        }
        c->out_off += (size_t)n;
    }
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    set_events(c, EPOLLIN | (c->out_len ? EPOLLOUT : 0));
    return 0;
}

static void queue(struct conn *c, const void *p, size_t n)
{
    reserve(&c->out, &c->out_cap, c->out_len + n);
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
}

static void queue_frame(struct conn *c, int opcode, const unsigned char *p, size_t n)
{
    unsigned char h[10];
    size_t hl = 2;
    h[0] = (unsigned char)(0x80 | opcode);
    if (n < 126) {
        h[1] = (unsigned char)n;
    } else if (n < 65536) {
        h[1] = 126;
        h[2] = (unsigned char)(n >> 8);
        h[3] = (unsigned char)n;
        hl = 4;
    } else {
        h[1] = 127;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
        hl = 10;
    }
    queue(c, h, hl);
    if (n)
        queue(c, p, n);
}

/* Value of header `name` in the request head (NUL-terminated copy), or 0. */
static int find_header(const char *head, const char *name, char *val, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *l = strstr(head, "\r\n"); l && l[2]; l = strstr(l + 2, "\r\n")) {
        const char *p = l + 2;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            p += nl + 1;
            while (*p == ' ' || *p == '\t')
                p++;
            const char *e = strstr(p, "\r\n");
            size_t n = e ? (size_t)(e - p) : strlen(p);
            while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
                n--;
            if (n >= cap)
                return 0;
            memcpy(val, p, n);
            val[n] = 0;
            return 1;
        }
    }
    return 0;
}

static const char R404[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n"
                           "Connection: close\r\n\r\nnot found";

/* Returns 1 when the head was complete and handled, 0 need more, -1 close. */
static int handshake(struct conn *c)
{
    if (c->in_len > HEAD_MAX)
        return -1;
    unsigned char *e = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (!e)
        return 0;
    size_t hl = (size_t)(e - c->in) + 4;
    char head[HEAD_MAX + 1];
    memcpy(head, c->in, hl);
    head[hl] = 0;
    memmove(c->in, c->in + hl, c->in_len - hl);
    c->in_len -= hl;
    char key[64];
    if (mode == M_404 || !find_header(head, "Sec-WebSocket-Key", key, sizeof(key))) {
        queue(c, R404, sizeof(R404) - 1);
        c->closing = 1;
        return 1;
    }
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char cat[128];
    int n = snprintf(cat, sizeof(cat), "%s%s", key, guid);
    unsigned char sha[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)cat, (size_t)n, sha);
    unsigned char acc[64];
    EVP_EncodeBlock(acc, sha, SHA_DIGEST_LENGTH);
    char resp[256];
    n = snprintf(resp, sizeof(resp),
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                 (const char *)acc);
    queue(c, resp, (size_t)n);
    c->upgraded = 1;
    c->head = strdup(head);
    if (!c->head)
        abort();
    return 1;
}

/* One text message that is a command; 1 handled (-1: drop now), 0 not one. */
static int command(struct conn *c, const unsigned char *p, size_t n)
{
    if (n == 4 && memcmp(p, "drop", 4) == 0)
        return -1;
    if (n > 6 && n < 16 && memcmp(p, "close ", 6) == 0) {
        char num[16];
        memcpy(num, p + 6, n - 6);
        num[n - 6] = 0;
        long code = strtol(num, NULL, 10);
        unsigned char b[2] = {(unsigned char)(code >> 8), (unsigned char)code};
        queue_frame(c, 8, b, 2);
        c->closing = 1;
        return 1;
    }
    if (n > 4 && n < 128 && memcmp(p, "hdr ", 4) == 0) {
        char name[128], val[512];
        memcpy(name, p + 4, n - 4);
        name[n - 4] = 0;
        if (!find_header(c->head, name, val, sizeof(val)))
            memcpy(val, "-", 2);
        queue_frame(c, 1, (const unsigned char *)val, strlen(val));
        return 1;
    }
    if (n >= 5 && n < 126 && memcmp(p, "ping ", 5) == 0) {
        queue_frame(c, 9, p + 5, n - 5);
        return 1;
    }
    if (n > 4 && n < 16 && memcmp(p, "big ", 4) == 0) {
        char num[16];
        memcpy(num, p + 4, n - 4);
        num[n - 4] = 0;
        long len = strtol(num, NULL, 10);
        if (len < 0 || len > (long)IN_MAX)
            return -1;
        unsigned char *b = malloc((size_t)len + 1);
        if (!b)
            abort();
        memset(b, 'b', (size_t)len);
        queue_frame(c, 1, b, (size_t)len);
        free(b);
        return 1;
    }
    return 0;
}

/* Parses whole frames from c->in; 0 ok, -1 close the connection now. */
static int frames(struct conn *c)
{
    size_t off = 0;
    int rc = 0;
    while (c->in_len - off >= 2) {
        unsigned char *f = c->in + off;
        int opcode = f[0] & 0x0f, masked = f[1] & 0x80;
        uint64_t n = f[1] & 0x7f;
        size_t hl = 2;
        if (n == 126) {
            if (c->in_len - off < 4)
                break;
            n = ((uint64_t)f[2] << 8) | f[3];
            hl = 4;
        } else if (n == 127) {
            if (c->in_len - off < 10)
                break;
            n = 0;
            for (int i = 0; i < 8; i++)
                n = (n << 8) | f[2 + i];
            hl = 10;
        }
        if (!masked || n > IN_MAX) {
            rc = -1;
            break;
        }
        if (c->in_len - off < hl + 4 + n)
            break;
        unsigned char *mask = f + hl, *p = f + hl + 4;
        for (uint64_t i = 0; i < n; i++)
            p[i] ^= mask[i & 3];
        off += hl + 4 + (size_t)n;
        if (opcode == 8) { /* close: answer (unless we started it) and finish */
            if (!c->closing)
                queue_frame(c, 8, p, n >= 2 ? 2 : 0);
            c->closing = 2;
            break;
        }
        if (opcode == 9) {
            queue_frame(c, 10, p, (size_t)n);
            continue;
        }
        if (opcode == 10 && !c->closing) {
            unsigned char msg[160];
            size_t k = n < 150 ? (size_t)n : 150;
            memcpy(msg, "pong ", 5);
            memcpy(msg + 5, p, k);
            queue_frame(c, 1, msg, 5 + k);
            continue;
        }
        if (opcode == 10 || c->closing)
            continue;
        if (opcode == 1) {
            int k = command(c, p, (size_t)n);
            if (k < 0) {
                rc = -1;
                break;
            }
            if (k)
                continue;
        }
        queue_frame(c, opcode ? opcode : 2, p, (size_t)n);
    }
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
    return rc;
}

static void on_readable(struct conn *c)
{
    reserve(&c->in, &c->in_cap, c->in_len + 16384);
    ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        conn_free(c);
        return;
    }
    if (n < 0 || mode == M_SILENT)
        return;
    c->in_len += (size_t)n;
    int rc = 0;
    if (!c->upgraded && !c->closing)
        rc = handshake(c);
    if (rc >= 0 && c->upgraded)
        rc = frames(c);
    if (rc < 0 || flush(c) < 0 ||
        (c->closing && !c->out_len && (c->closing == 2 || !c->upgraded))) {
        conn_free(c);
        return;
    }
}

static void on_accept(int lfd)
{
    for (int i = 0; i < 256; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        struct conn *c = calloc(1, sizeof(*c));
        if (!c)
            abort();
        c->fd = fd;
        c->events = EPOLLIN;
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e) != 0)
            conn_free(c);
    }
}

static int write_port_file(const char *path, int port)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "%d\n", port);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

static int parse_args(int argc, char **argv, int *port, const char **port_file, const char **bind_a)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            goto bad;
        if (strcmp(a, "--port") == 0) {
            char *end;
            long p = strtol(v, &end, 10);
            if (*end || p < 0 || p > 65535)
                goto bad;
            *port = (int)p;
        } else if (strcmp(a, "--port-file") == 0) {
            *port_file = v;
        } else if (strcmp(a, "--bind") == 0) {
            *bind_a = v;
        } else if (strcmp(a, "--mode") == 0) {
            if (strcmp(v, "echo") == 0)
                mode = M_ECHO;
            else if (strcmp(v, "404") == 0)
                mode = M_404;
            else if (strcmp(v, "silent") == 0)
                mode = M_SILENT;
            else
                goto bad;
        } else {
            goto bad;
        }
        i++;
    }
    return 0;
bad:
    fprintf(stderr, "usage: ws_echo [--port N] [--port-file F] [--bind A] "
                    "[--mode echo|404|silent]\n");
    return -1;
}

int main(int argc, char **argv)
{
    int port = 0;
    const char *port_file = NULL, *bind_a = "127.0.0.1";
    if (parse_args(argc, argv, &port, &port_file, &bind_a))
        return 2;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, bind_a, &sin.sin_addr) != 1) {
        fprintf(stderr, "ws_echo: --bind: not an IPv4 address: %s\n", bind_a);
        return 2;
    }
    socklen_t sl = sizeof(sin);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
        listen(lfd, 65535) != 0 || getsockname(lfd, (struct sockaddr *)&sin, &sl) != 0) {
        perror("ws_echo: listen");
        return 1;
    }
    epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event le = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &le);
    if (port_file && write_port_file(port_file, ntohs(sin.sin_port)) != 0) {
        perror("ws_echo: --port-file");
        return 1;
    }
    struct epoll_event evs[256];
    while (!stop) {
        int n = epoll_wait(epfd, evs, 256, 200);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (!c) {
                on_accept(lfd);
            } else if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                on_readable(c);
            } else if (evs[i].events & EPOLLOUT) {
                if (flush(c) < 0 || (c->closing && !c->out_len))
                    conn_free(c);
            }
        }
    }
    return 0;
}

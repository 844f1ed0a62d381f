/* driver.c: a standalone runner for libFuzzer targets, for builds without
 * libFuzzer (gcc). It runs every seed file, then mutations of the seeds drawn
 * from a fixed-seed generator, until a count or a time budget is reached. It
 * is a smoke test, not a coverage-guided fuzzer: use -DLG_FUZZ=ON with clang
 * for that.
 *
 *   usage: TARGET [-n COUNT] [-t SECONDS] [-s SEED] [-i ITERATION] PATH...
 *
 * PATH is a seed file or a directory of them. Iteration k draws from a
 * generator seeded with (SEED, k) alone, so "-i k" replays exactly the input
 * that iteration k ran. A crash writes that input to ./TARGET-crash.bin and
 * names the iteration. Prints "N passed, N failed" like the unit harness. */
#include "fuzz.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_SEEDS      1024
#define MAX_SEED_SIZE  ((size_t)1 << 20)
#define FUZZ_MAX_INPUT 8192

struct seed {
    uint8_t *data;
    size_t len;
};

static struct seed seeds[MAX_SEEDS];
static size_t nseeds;

/* The input being run, for the crash handler (async-signal-safe writes). */
static const uint8_t *cur_data;
static size_t cur_len;
static long cur_iter = -1;
static char crash_path[512];

/* Sanitizer hook, present only when a sanitizer runtime is linked. */
void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

static void put_str(const char *s)
{
    ssize_t r = write(2, s, strlen(s));
    (void)r;
}

static void put_long(long v)
{
    char b[24];
    int i = (int)sizeof b;
    b[--i] = '\0';
    do {
        b[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0 && i > 0);
    put_str(b + i);
}

static void save_crash(void)
{
    int fd = open(crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        ssize_t r = cur_len ? write(fd, cur_data, cur_len) : 0;
        (void)r;
        close(fd);
    }
    put_str("fuzz driver: crashed on ");
    if (cur_iter < 0) {
        put_str("a seed file");
    } else {
        put_str("iteration ");
        put_long(cur_iter);
        put_str(" (replay with -i ");
        put_long(cur_iter);
        put_str(")");
    }
    put_str("; input saved to ");
    put_str(crash_path);
    put_str("\n");
}

static void on_signal(int sig)
{
    save_crash();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* splitmix64: tiny, fast, and good enough to pick mutations. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t rng_below(uint64_t *s, size_t n)
{
    return n ? (size_t)(rng_next(s) % n) : 0;
}

static void add_seed(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fuzz driver: %s: cannot open\n", path);
        return;
    }
    if (nseeds == MAX_SEEDS) {
        fclose(f);
        return;
    }
    uint8_t *buf = malloc(MAX_SEED_SIZE);
    size_t n = buf ? fread(buf, 1, MAX_SEED_SIZE, f) : 0;
    fclose(f);
    if (!buf)
        return;
    uint8_t *fit = realloc(buf, n ? n : 1);
    if (fit)
        buf = fit;
    seeds[nseeds].data = buf;
    seeds[nseeds].len = n;
    nseeds++;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds a file, or every regular file of a directory in name order. */
static void add_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "fuzz driver: %s: no such file or directory\n", path);
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        add_seed(path);
        return;
    }
    DIR *d = opendir(path);
    if (!d)
        return;
    char *names[MAX_SEEDS];
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < MAX_SEEDS;) {
        if (e->d_name[0] == '.')
            continue;
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        names[n] = malloc(len);
        if (!names[n])
            break;
        snprintf(names[n], len, "%s/%s", path, e->d_name);
        if (stat(names[n], &st) == 0 && S_ISREG(st.st_mode))
            n++;
        else
            free(names[n]);
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp_str);
    for (size_t i = 0; i < n; i++) {
        add_seed(names[i]);
        free(names[i]);
    }
}

/* Bytes that matter to text parsers. */
static const uint8_t interesting[] = {0,   0xff, 0x80, 0xc2, '\n', '\r', '\t', ' ', ':', '-',
                                      '[', ']',  '{',  '}',  ',',  '&',  '*',  '!', '|', '>',
                                      '#', '\'', '"',  '\\', '%',  '/',  '.',  '0', '9', 'e',
                                      'k', 'M',  's',  'm',  'h',  '<',  '?',  '~', '='};

/* One random edit of buf (len bytes, capacity FUZZ_MAX_INPUT). */
static size_t mutate_once(uint64_t *rs, uint8_t *buf, size_t len)
{
    size_t pos = rng_below(rs, len + 1), n;
    switch (rng_below(rs, 8)) {
    case 0: /* flip a bit */
        if (len)
            buf[rng_below(rs, len)] ^= (uint8_t)(1u << rng_below(rs, 8));
        return len;
    case 1: /* replace a byte */
        if (len)
            buf[rng_below(rs, len)] = rng_below(rs, 2)
                                          ? interesting[rng_below(rs, sizeof interesting)]
                                          : (uint8_t)rng_next(rs);
        return len;
    case 2: /* insert a byte */
        if (len == FUZZ_MAX_INPUT)
            return len;
        memmove(buf + pos + 1, buf + pos, len - pos);
        buf[pos] = interesting[rng_below(rs, sizeof interesting)];
        return len + 1;
    case 3: /* delete a range */
        if (pos == len)
            return len;
        n = 1 + rng_below(rs, len - pos < 16 ? len - pos : 16);
        memmove(buf + pos, buf + pos + n, len - pos - n);
        return len - n;
    case 4: /* duplicate a range somewhere else */
        if (!len)
            return len;
        {
            size_t from = rng_below(rs, len);
            n = 1 + rng_below(rs, len - from < 64 ? len - from : 64);
            if (len + n > FUZZ_MAX_INPUT)
                return len;
            uint8_t tmp[64];
            memcpy(tmp, buf + from, n);
            memmove(buf + pos + n, buf + pos, len - pos);
            memcpy(buf + pos, tmp, n);
            return len + n;
        }
    case 5: /* splice in part of another seed */
        if (!nseeds)
            return len;
        {
            const struct seed *s = &seeds[rng_below(rs, nseeds)];
            if (!s->len)
                return len;
            size_t from = rng_below(rs, s->len);
            n = 1 + rng_below(rs, s->len - from < 256 ? s->len - from : 256);
            if (len + n > FUZZ_MAX_INPUT)
                return len;
            memmove(buf + pos + n, buf + pos, len - pos);
            memcpy(buf + pos, s->data + from, n);
            return len + n;
        }
    case 6: /* truncate */
        return pos;
    default: /* random bytes */
        n = 1 + rng_below(rs, 8);
        if (len + n > FUZZ_MAX_INPUT)
            return len;
        memmove(buf + pos + n, buf + pos, len - pos);
        for (size_t i = 0; i < n; i++)
            buf[pos + i] = (uint8_t)rng_next(rs);
        return len + n;
    }
}

/* The input of iteration k: a seed (or nothing) with 1..8 edits. */
static size_t make_input(uint64_t seed, long k, uint8_t *buf)
{
    uint64_t rs = seed ^ ((uint64_t)k * 0x2545f4914f6cdd1dull);
    size_t len = 0;
    rng_next(&rs);
    if (nseeds && rng_below(&rs, 16) != 0) {
        const struct seed *s = &seeds[rng_below(&rs, nseeds)];
        len = s->len < FUZZ_MAX_INPUT ? s->len : FUZZ_MAX_INPUT;
        memcpy(buf, s->data, len);
    }
    for (size_t e = 1 + rng_below(&rs, 8); e > 0; e--)
        len = mutate_once(&rs, buf, len);
    return len;
}

/* Runs one input from an exactly sized heap copy, so ASan sees overreads. */
static void run_one(const uint8_t *data, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        abort();
    if (len)
        memcpy(copy, data, len);
    cur_data = copy;
    cur_len = len;
    LLVMFuzzerTestOneInput(copy, len);
    cur_data = NULL;
    cur_len = 0;
    free(copy);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

int main(int argc, char **argv)
{
    long count = 20000, only = -1;
    double seconds = 10;
    uint64_t seed = 0x6c6f616467656eull; /* "loadgen" */
    int opt;
    while ((opt = getopt(argc, argv, "n:t:s:i:")) != -1) {
        switch (opt) {
        case 'n':
            count = strtol(optarg, NULL, 10);
            break;
        case 't':
            seconds = strtod(optarg, NULL);
            break;
        case 's':
            seed = strtoull(optarg, NULL, 0);
            break;
        case 'i':
            only = strtol(optarg, NULL, 10);
            break;
        default:
            fprintf(stderr, "usage: %s [-n COUNT] [-t SECONDS] [-s SEED] [-i ITER] PATH...\n",
                    argv[0]);
            return 2;
        }
    }
    const char *base = strrchr(argv[0], '/');
    snprintf(crash_path, sizeof crash_path, "%s-crash.bin", base ? base + 1 : argv[0]);
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(save_crash);
    signal(SIGSEGV, on_signal);
    signal(SIGABRT, on_signal);
    signal(SIGBUS, on_signal);
    signal(SIGFPE, on_signal);
    signal(SIGILL, on_signal);
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = optind; i < argc; i++)
        add_path(argv[i]);

    static uint8_t buf[FUZZ_MAX_INPUT];
    long ran = 0;
    double start = now_s();
    if (only >= 0) {
        cur_iter = only;
        run_one(buf, make_input(seed, only, buf));
        ran = 1;
    } else {
        for (size_t i = 0; i < nseeds; i++, ran++)
            run_one(seeds[i].data, seeds[i].len);
        for (long k = 0; k < count; k++, ran++) {
            if ((k & 63) == 0 && now_s() - start > seconds)
                break;
            cur_iter = k;
            run_one(buf, make_input(seed, k, buf));
        }
    }
    fprintf(stderr, "fuzz driver: %zu seeds, %ld inputs in %.2f s\n", nseeds, ran, now_s() - start);
    for (size_t i = 0; i < nseeds; i++)
        free(seeds[i].data);
    printf("%ld passed, 0 failed\n", ran);
    return 0;
}

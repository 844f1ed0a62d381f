/* sd_main.c: the stackd command line. Everything else is in sd_core. */
#include "sd_app.h"

#include "cm/clock.h"
#include "cm/log.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fputs("usage: stackd --stack FILE [--port N] [--port-file F] [--data-dir D] [--bind ADDR]\n"
          "\n"
          "A local AWS-compatible stack: Lambda (Runtime API, Invoke), API Gateway HTTP API,\n"
          "CloudWatch Logs and metrics on one edge port.\n"
          "\n"
          "  --stack FILE      stack definition (YAML), e.g. deploy/local/stack.yaml\n"
          "  --port N          edge port (default 4566; 0 picks a free port)\n"
          "  --port-file F     write the bound port to F (atomically) once listening\n"
          "  --data-dir D      directory for state (created if missing)\n"
          "  --bind ADDR       IPv4 address to bind (default 127.0.0.1)\n"
          "  --no-cgroups      do not try per-environment memory/CPU cgroups\n"
          "  --log-level L     debug|info|warn|error (default info)\n"
          "  --help            this text\n",
          out);
}

static int parse_port(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 0 || v > 65535)
        return -1;
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"stack", required_argument, NULL, 's'},
        {"port", required_argument, NULL, 'p'},
        {"port-file", required_argument, NULL, 'f'},
        {"data-dir", required_argument, NULL, 'd'},
        {"bind", required_argument, NULL, 'b'},
        {"no-cgroups", no_argument, NULL, 'C'},
        {"log-level", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct sd_app_config cfg = {
        NULL, "127.0.0.1", 4566, NULL, NULL, 5 * CM_NS_PER_S, 2 * CM_NS_PER_S, 1};
    enum cm_log_level lvl;
    int c;
    cm_log_set_prog("stackd");
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            cfg.stack_path = optarg;
            break;
        case 'p':
            if (parse_port(optarg, &cfg.port) < 0) {
                fprintf(stderr, "stackd: --port: expected 0..65535, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'f':
            cfg.port_file = optarg;
            break;
        case 'd':
            cfg.data_dir = optarg;
            break;
        case 'b':
            cfg.bind = optarg;
            break;
        case 'C':
            cfg.use_cgroups = 0;
            break;
        case 'l':
            if (cm_log_parse_level(optarg, &lvl) < 0) {
                fprintf(stderr, "stackd: --log-level: unknown level '%s'\n", optarg);
                return 2;
            }
            cm_log_set_level(lvl);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "stackd: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!cfg.stack_path) {
        fprintf(stderr, "stackd: --stack FILE is required (see --help)\n");
        return 2;
    }
    return sd_app_run(&cfg);
}

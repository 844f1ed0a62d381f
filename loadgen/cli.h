/* cli.h: the command line: `loadgen run|validate|docs`, --help, --version.
 * Exit codes are enum lg_exit (run.h), documented in docs/loadgen.md. */
#ifndef LG_CLI_H
#define LG_CLI_H

int lg_cli_main(int argc, char **argv);

#endif

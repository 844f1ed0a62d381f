/* main.c: the loadgen executable; everything else is in lg_core. */
#include "cli.h"

int main(int argc, char **argv)
{
    return lg_cli_main(argc, argv);
}

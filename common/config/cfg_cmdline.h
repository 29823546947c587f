/* cfg_cmdline.h: `--config FILE` and `--check-config` for every program.
 *
 * Each program parses its own options from one table. qs_config_cmdline runs
 * first in main(): when the command line names a qoestor.yaml with --config,
 * the program's section of it is rendered as options (cfg_args.h) and placed
 * before the remaining command-line options, except those the command line
 * gives itself: the file gives the defaults, the command line overrides them.
 * `--check-config` prints the effective configuration (and the command line
 * it makes) and stops. Without either option the command line is untouched.
 */
#ifndef QOESTOR_CONFIG_CFG_CMDLINE_H
#define QOESTOR_CONFIG_CFG_CMDLINE_H

enum qs_cfg_prog { QS_PROG_RECV, QS_PROG_LOADER, QS_PROG_DB };

/* 0: go on with *argc and *argv (possibly replaced; the new vector lives until
 * exit). 1: stop now and exit with *exit_code (0 after --check-config of a
 * valid file, 1 for a configuration with problems, printed to stderr as
 * FILE:LINE:COL lines, 2 for a --config without a file). */
int qs_config_cmdline(enum qs_cfg_prog prog, int *argc, char ***argv, int *exit_code);

/* The usage lines of the two options, for each program's --help. */
#define QS_CONFIG_USAGE                                                                              \
	"  --config FILE                          take the defaults from qoestor.yaml (the command line\n" \
	"                                         overrides them)\n"                                       \
	"  --check-config                         print the effective configuration of FILE and exit:\n"  \
	"                                         0 valid, 1 with each problem as FILE:LINE:COL\n"

#endif

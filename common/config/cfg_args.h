/* cfg_args.h: qoestor.yaml rendered as the command line of each program.
 *
 * The receivers, the loader and qoestor-db each parse their own options from
 * one table (receiver/recv_opts.c, loader/opts.c, db/main.c). The systemd units
 * run `qoestor-config exec ...`, which loads the YAML and execs the program
 * with the options built here, so each key is checked twice by the same rules
 * and the YAML stays the one place settings are written. Settings a program
 * has no option for yet (re-export, writer queue size) are left out; see
 * qs_config_notices.
 *
 * struct qs_cfg_argv is plain storage owned by the caller; argv[] points into
 * its buf and ends with NULL. Pure functions; no I/O.
 */
#ifndef QOESTOR_CONFIG_CFG_ARGS_H
#define QOESTOR_CONFIG_CFG_ARGS_H

#include <stddef.h>

#include "config/config.h"

struct qs_cfg_argv {
	char *argv[96];
	int argc;
	char buf[16384];
	size_t used;
};

/* argv of qoestor-recv for the receiver of stream s of DPI dpi; prog is argv[0].
 * 0, or -1 with a message (receiver not configured, or disabled). */
int qs_cfg_recv_argv(const struct qs_config *c, enum qs_stream s, unsigned dpi, const char *prog,
		     struct qs_cfg_argv *a, char *err, size_t errlen);

/* argv of qoestor-loader (the daemon). */
int qs_cfg_loader_argv(const struct qs_config *c, const char *prog, struct qs_cfg_argv *a, char *err, size_t errlen);

/* argv of qoestor-db. */
int qs_cfg_db_argv(const struct qs_config *c, const char *prog, struct qs_cfg_argv *a, char *err, size_t errlen);

#endif

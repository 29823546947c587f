/* qoestor-config-apply.h: `qoestor-config apply` and `status`, the systemd
 * side of qoestor.yaml (the vendor's qoestor-config.sh, redone).
 *
 * apply: works out the plan (units to enable and start, restart, stop and
 * disable; drop-ins for low ports and log files), prints it, and unless
 * dry_run carries it out with systemctl, reporting each change. A receiver is
 * restarted only when the command line it would run differs from the one
 * recorded at the last apply (state_dir/<unit>.args) or it is not running;
 * the loader is always restarted. When systemd is absent (no systemctl, or
 * not PID 1) the plan is printed with a clear note and nothing is changed.
 *
 * Environment (tests, packagers): QOESTOR_SYSTEMCTL (the systemctl to run),
 * QOESTOR_UNIT_DIR (drop-ins, default /etc/systemd/system). Blocking: runs
 * systemctl and waits for it. Single-threaded.
 */
#ifndef QOESTOR_TOOLS_CONFIG_APPLY_H
#define QOESTOR_TOOLS_CONFIG_APPLY_H

#include "config/config.h"

struct apply_opts {
	int dry_run;
	int restart_all;       /* restart every receiver, as the vendor's script did */
	const char *state_dir; /* default /var/lib/qoestor/applied */
	const char *bindir;    /* where qoestor-recv etc. are (for the recorded command lines) */
};

/* Exit codes of apply. */
enum { APPLY_OK = 0, APPLY_FAILED = 1, APPLY_NO_SYSTEMD = 3 };

int config_apply(const struct qs_config *c, const struct apply_opts *o);

/* Print one line per unit: state, address, listening, last file, backlog. 0. */
int config_status(const struct qs_config *c);

#endif

/* daemon.h: the loader's scheduler, for the daemon and for --once.
 *
 * One libuv loop in the calling thread watches every <spool>/<stream>/<dpi>/
 * (file-system events, plus a rescan every --rescan-seconds and on SIGHUP so
 * nothing is missed, plus a timer for the next file's ready time), claims
 * files oldest first (leftovers in .loading/ before anything new) and hands
 * each to one of --insert-processes worker threads, within the per-stream
 * limits. When a worker is done the loop deletes or archives the file, or
 * quarantines it with its reason; a file whose load was interrupted (stop,
 * out of memory) stays claimed and is loaded again later.
 *
 * Start-up: takes the spool lock, applies the schema (initdb_apply, retried
 * every few seconds while ClickHouse is unreachable, unless --no-init-db),
 * loads the dictionaries (and watches them), starts /metrics.
 * SIGTERM/SIGINT: no new file; workers finish the insert in flight (or stop
 * retrying) and the files not finished stay claimed; a second signal exits
 * at once (the next start loads those files again, tokens make that safe).
 *
 * --once: the same without watching: loads every ready file found at start
 * (or the files named, which are neither moved nor deleted), shows a progress
 * line on a terminal and prints a summary, then returns.
 */
#ifndef QOESTOR_LOADER_DAEMON_H
#define QOESTOR_LOADER_DAEMON_H

#include "loader/opts.h"

/* Exit codes. */
#define LOADER_EXIT_OK 0
#define LOADER_EXIT_FAIL 1        /* spool unusable, lock held, ClickHouse unreachable at --once start */
#define LOADER_EXIT_USAGE 2
#define LOADER_EXIT_QUARANTINE 3  /* --once: some files could not be loaded (quarantined / failed) */

/* Run until stopped (daemon) or done (--once). files: paths named on the
 * command line (--once only), nfiles may be 0. Returns an exit code. */
int daemon_run(const struct loader_config *cfg, char **files, int nfiles);

#endif

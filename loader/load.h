/* load.h: loading one spool file into ClickHouse, exactly once.
 *
 * A worker reads a claimed file block by block (spool_reader.h), maps its
 * columns to the live schema by name, enriches each record (enrich.h),
 * encodes it for the raw table (encoder.h) and folds it into the stream's
 * aggregate (agg.h); fullflow with NAT_IMPORT_FROM_FULLFLOW also makes
 * natflow rows and their natflow_agg.
 *
 * Exactly once. Every INSERT carries insert_deduplication_token, derived
 * from the file and its content position only:
 *   raw rows   "<file id>.<table>.<first block>-<last block>": an insert holds
 *              whole blocks, cut every claim_state.insert_rows rows (or 64 x
 *              insert_rows bytes of string values, counted the same in every
 *              body format);
 *   aggregates "<file id>.<table>.a<flush>.<part>": the groups of the file are
 *              emitted in first-seen order when claim_state.max_groups is
 *              reached and at the end of the file, in parts of insert_rows.
 * The cut points depend only on the file's records and on claim_state, which
 * is written at claim time (spooldir.h) and read back after a crash; so a
 * retried or re-sent insert has the same token as the first attempt and
 * ClickHouse (non_replicated_deduplication_window on every MergeTree table;
 * replicated tables deduplicate by default) stores it once. Changing the
 * enrichment or aggregation settings while a file sits in .loading/ may give
 * its re-sent rows other contents; the token still keeps them from doubling.
 * The body format (--format) and compression may change between attempts
 * too: the token, not the bytes, identifies an insert. Bodies beyond 2 MiB
 * are sent from a file (encoder_set_spill); that changes nothing here. The aggregate groups
 * are folded AGG_BATCH records at a time (agg_add_batch), with the same cut
 * points as one at a time.
 * A file leaves .loading/ only after every insert was acknowledged.
 *
 * The deduplication window. ClickHouse remembers the last W tokens per table
 * (W = --dedup-window, 10000 by default). A retry is a no-op only if fewer
 * than W other inserts reached that table since the lost attempt:
 *   - within a process, a failed insert is retried in place (back-off 1 s,
 *     2 s, ... --retry-max-seconds) and, while it waits, other workers may
 *     not insert into that table more than W/2 times (they wait: struct
 *     load_shared's window guard);
 *   - after a crash, the files left in .loading/ are loaded again before any
 *     new file is claimed; between the lost attempt and its re-send there are
 *     at most (insert processes - 1) x (inserts per file per table) other
 *     inserts; with 4194304-row inserts (the default) that is W/2 for files
 *     of 10 billion rows at 4 processes (650 million with --insert-rows
 *     262144), far above a spool file's size. Deployments that run several
 *     loaders into one ClickHouse must add their rates.
 *
 * Errors. A retryable failure (connection refused, timeout, 5xx, overload)
 * and a configuration problem (authentication, unknown table) are retried
 * with back-off forever (loud log lines), keeping the file. A permanent
 * failure of the file itself (unreadable, schema mismatch, ClickHouse refusing
 * its data) returns LOAD_QUARANTINE with a reason; rows of blocks before a
 * read error are loaded (with their aggregates) and the reason says so.
 *
 * Threads: one worker per thread; workers share a struct load_shared.
 */
#ifndef QOESTOR_LOADER_LOAD_H
#define QOESTOR_LOADER_LOAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "dict/dict_store.h"
#include "loader/metrics.h"
#include "loader/opts.h"
#include "loader/spooldir.h"

#define LOAD_MAX_WORKERS 64

struct load_shared {
	const struct loader_config *cfg;
	struct loader_metrics *m;
	struct dict_store *dicts;       /* NULL: no dictionaries */
	atomic_int stop;                /* set by load_shared_stop */
	atomic_uint_fast64_t progress_rows, progress_bytes; /* for --once's progress bar */
	/* window guard */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t acked[LT_COUNT];       /* inserts acknowledged per table */
	int pend_table[LOAD_MAX_WORKERS]; /* table a worker is retrying, -1 none */
	uint64_t pend_since[LOAD_MAX_WORKERS];
	int nworkers;
};

/* cfg, m, dicts borrowed. 0 or -1. */
int load_shared_init(struct load_shared *s, const struct loader_config *cfg, struct loader_metrics *m,
	struct dict_store *dicts);
void load_shared_destroy(struct load_shared *s);
/* Make every waiting worker give up soon (LOAD_STOPPED). Not async-signal-safe. */
void load_shared_stop(struct load_shared *s);

enum load_result {
	LOAD_OK,          /* everything acknowledged: finish the file */
	LOAD_STOPPED,     /* stopped while retrying (or out of memory): leave it
	                   * claimed, load it again later */
	LOAD_QUARANTINE   /* the file cannot be loaded: reason given */
};

struct load_report {
	uint64_t rows;               /* rows read from the file */
	uint64_t rows_agg;           /* aggregate rows inserted */
	uint64_t rows_nat;           /* natflow rows derived from fullflow */
	char reason[768];            /* LOAD_QUARANTINE: why */
};

struct load_worker;

/* NULL with a message when the ClickHouse client cannot be set up. */
struct load_worker *load_worker_open(struct load_shared *s, char *err, size_t errlen);
void load_worker_close(struct load_worker *w);

/* Load the file at path (claimed, or named on the command line) with the
 * cut points of st. Blocks on reads and HTTP. */
enum load_result load_file(struct load_worker *w, const char *path, const struct claim_state *st,
	struct load_report *rep);

#endif

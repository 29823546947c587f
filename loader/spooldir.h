/* spooldir.h: the loader's side of the spool folders (docs/SPOOL-FORMAT.md).
 *
 *   <spool>/.loader.lock                   flock: one loader per spool (holds its pid)
 *   <spool>/<stream>/<dpi>/NAME.qsp           published files, taken from their ready time on
 *   <spool>/<stream>/<dpi>/.loading/       files claimed by the loader (rename, atomic),
 *                                          each with <name>.state (insert size fixed at claim)
 *   <spool>/<stream>/<dpi>/.quarantine/    files that cannot be loaded, with <name>.reason
 *   <archive>/<stream>/<dpi>/              loaded files, when archiving is configured
 *
 * A file is claimed by renaming it into .loading/; it leaves .loading/ only
 * after every insert of it was acknowledged (deleted or archived) or when it
 * is quarantined. Files found in .loading/ at start were claimed by a loader
 * that died: they are loaded again from the beginning (deduplication tokens
 * make the re-sent inserts no-ops, see load.h) before any new file.
 * Names that are not published spool names (spf_parse_name) are loaded too
 * when they end in .qsp (replay by hand), ordered by modification time. A
 * file copied in with plain cp is visible before it is complete: the daemon
 * does not claim a file without its spool footer (spooldir_complete) until
 * it has been unchanged for --settle-seconds; then it is loaded, or, still
 * torn, its complete blocks are loaded and it is quarantined.
 *
 * Blocking file-system calls; no threads of its own. Errors are returned with
 * a message naming the path and the errno text.
 */
#ifndef QOESTOR_LOADER_SPOOLDIR_H
#define QOESTOR_LOADER_SPOOLDIR_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "schema/schema.h"

struct spool_entry {
	char *path;           /* full path (in .loading/ when claimed) */
	char *dir;            /* <spool>/<stream>/<dpi> */
	const char *name;     /* file name, points into path */
	enum qs_stream stream;
	unsigned dpi;
	int64_t start;        /* epoch s from the name, else mtime */
	int64_t ready;        /* epoch s from the name, else 0 */
	uint64_t size;
	int claimed;          /* found in .loading/ */
};

struct spool_list {
	struct spool_entry *e;
	size_t n, cap;
};

/* Take <spool>/.loader.lock (creating the spool folder if needed). Returns the
 * lock's file descriptor (keep it open while running) or -1 with a message
 * (another loader holds it: its pid is in the message). */
int spooldir_lock(const char *spool, char *err, size_t errlen);

/* List every published and claimed file of every stream and DPI, claimed
 * first, then oldest first (start time, then name). Appends to l (cleared
 * first). 0, or -1 on an unreadable spool root (message in err); unreadable
 * subfolders are logged and skipped. */
int spooldir_scan(const char *spool, struct spool_list *l, char *err, size_t errlen);
void spool_list_free(struct spool_list *l);

/* What a claim fixes for the whole life of a claimed file, so that a load
 * after a crash cuts the file into the same inserts (same tokens) even if
 * the configuration changed meanwhile. */
struct claim_state {
	unsigned insert_rows;  /* rows per raw insert */
	unsigned max_groups;   /* aggregate groups per flush */
	unsigned spill_runs;   /* spilled runs of groups per flush (0: none, first-seen order) */
	unsigned one_block;    /* 1: each INSERT is one block (one part) of up to insert_rows
	                        * rows; 0 (claims of older loaders): ClickHouse's block size */
};

/* Claim a published file: write <dir>/.loading/<name>.state, then rename the
 * file into <dir>/.loading/. On success e->path/name point at the new place
 * and e->claimed is 1. 0; 1 when the file is gone (another claimer, or
 * removed): skip it; -1 on an error (message). */
int spooldir_claim(struct spool_entry *e, const struct claim_state *st, char *err, size_t errlen);

/* The state recorded at claim into *st; fields without a record keep the
 * values *st holds on entry (the current configuration). */
void spooldir_state_read(const struct spool_entry *e, struct claim_state *st);

/* After a complete load: delete the claimed file (archive_dir NULL) or move
 * it to <archive_dir>/<stream>/<dpi>/, and remove its state. 0 or -1. */
int spooldir_done(const struct spool_entry *e, const char *archive_dir, char *err, size_t errlen);

/* Move the claimed file to <dir>/.quarantine/ with <name>.reason holding
 * reason and a hint. 0 or -1. */
int spooldir_quarantine(const struct spool_entry *e, const char *reason, char *err, size_t errlen);

/* Whether the file at path ends in a spool footer (end magic and a trailer
 * offset inside the file): 1 complete, 0 not (still being copied in, or
 * torn), -1 unreadable (gone). *mtime gets its modification time (epoch s).
 * Files published by the receiver are always complete (written elsewhere,
 * renamed in); a file copied in with plain cp is not until cp is done. */
int spooldir_complete(const char *path, int64_t *mtime);

/* Copy an entry (strings duplicated). 0 or -1 without memory. */
int spool_entry_copy(struct spool_entry *dst, const struct spool_entry *src);
void spool_entry_free(struct spool_entry *e);

#endif

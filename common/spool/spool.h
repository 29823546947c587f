/* spool.h: the spool writer, the receiver's side of the receiver -> loader
 * contract (format: spool_format.h, docs/SPOOL-FORMAT.md; reading:
 * spool_reader.h).
 *
 * A writer owns one stream of one DPI written by one instance. Records are
 * copied into an in-memory columnar block; a full block (block_rows rows or
 * about 4 MiB of values) is zstd-compressed and appended to a temporary file
 * <spool_dir>/<stream>/<dpi>/.tmp/<instance>.<file id>.part. spool_writer_rotate
 * appends the trailer, fsyncs the file, renames it without overwriting into
 * <spool_dir>/<stream>/<dpi>/<stream>-<dpi>-<start>-<instance>-<rnd>-r<ready>.qsp
 * and fsyncs the directory; the loader takes it from <ready> on (now +
 * rotate_delay_s). Rotation timing (period, SIGHUP) belongs to the caller.
 *
 * Durability: a record is on disk once the block holding it was written
 * (spool_writer_flush, rotate or close); after a crash the next
 * spool_writer_open of the same instance salvages the temporary files:
 * complete blocks are published with the "salvaged" flag, an unreadable file
 * or a torn tail goes to <spool_dir>/<stream>/<dpi>/.quarantine/ with a
 * .reason file. Nothing is deleted except a temporary file holding no block
 * (logged).
 *
 * Errors: a failed write (ENOSPC, EIO...) leaves the file as it was before the
 * write (truncated back), keeps the block in memory and is retried by the next
 * call; while that block cannot be written new records are refused (-1,
 * errno set) and counted in spool_writer_rows_dropped. Nothing accepted is
 * lost unless spool_writer_close itself fails (it says how many rows).
 *
 * Threads: a writer is used by one thread at a time. Two writers with the
 * same spool_dir/stream/dpi/instance are refused (flock on .tmp/<instance>.lock).
 * Every call may block on disk I/O. Logs through log.h.
 */
#ifndef QOESTOR_SPOOL_H
#define QOESTOR_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "spool/record.h"

struct spool_exporter_stats { /* per exporter, cumulative for the file */
	char peer[64];           /* "192.0.2.1:4739" or "[2001:db8::1]:4739" */
	uint32_t domain;         /* observation domain id */
	uint64_t messages, records, bytes, seq_gaps /* lost records per sequence numbers */,
		 unknown_template_records, malformed_messages;
};

struct spool_writer_opts {
	const char *spool_dir;   /* root; files go to <spool_dir>/<stream>/<dpi>/ */
	const struct qs_stream_def *def;
	unsigned dpi_id;
	const char *instance;    /* e.g. "fullflow-0", goes into names and headers; [A-Za-z0-9_-]{1,64} */
	unsigned rotate_delay_s; /* visibility delay for the loader */
	size_t block_rows;       /* 0 = default (16384); at most 65536 */
	int zstd_level;          /* 0 = default (1) */
	int uncompressed;        /* 1: data blocks stored as they are (codec none): no
	                          * compression CPU, about 3x the bytes (readers of every
	                          * 1.x version read them) */
};

struct spool_writer;

/* Opens the writer; first salvages leftovers from an earlier crash of the same
 * instance. Creates the folders. Returns NULL with a message in err (and
 * errno) on bad options, an unusable folder or a second writer of the same
 * instance (EBUSY). The writer keeps pointers to o->def only (strings copied). */
struct spool_writer *spool_writer_open(const struct spool_writer_opts *o, char *err, size_t errlen);

/* Copies the record (r->def must be the writer's def, or one with the same
 * columns). May write a block (blocking disk I/O). 0 ok, -1 error (errno;
 * e.g. ENOSPC: the record was NOT accepted: counted, caller decides;
 * EMSGSIZE: the record alone exceeds the block size limit; EINVAL: wrong def). */
int spool_writer_add(struct spool_writer *w, const struct qs_record *r);

/* Direct rows: the fast path of a producer that decodes values itself
 * (qoestor-recv's copy plans). Instead of filling a struct qs_record per
 * row for spool_writer_add, it writes the values straight into the block in
 * memory, a batch of rows at a time:
 *
 *   uint32_t room;
 *   struct spool_cols *c = spool_writer_rows_begin(w, str_max, &room);
 *   for each of n <= room rows, for each column i the row has a value for, once:
 *     fixed-width types: spf_type_width(type) bytes, little-endian (ipv6, mac:
 *       their bytes) at c->wp[i], then c->wp[i] += width;
 *     QS_STR: the u32 length (little-endian) at c->wp[i], c->wp[i] += 4, and
 *       the bytes at c->sp[i], c->sp[i] += length;
 *   spool_writer_rows_end(w, n, present, str_bytes);
 *
 * rows_begin makes room for at least one and at most *room rows whose
 * string values total at most str_max bytes altogether (it may write the
 * full block first: blocking disk I/O). NULL: refused, with errno and
 * counting (one row) as spool_writer_add (EMSGSIZE when str_max is above the
 * record limit). The pointers are valid until rows_end; no other call on w in
 * between. A row must be written whole or not at all (there is no undo:
 * validate the input first); rows begun but not written are simply not rows.
 * rows_end: n rows written, all with the presence words present ((ncols +
 * 63) / 64 of them: bit i set exactly for the columns written), str_bytes =
 * the sum over their string values of 4 + length. Rows of both paths mix
 * freely in a block. */
struct spool_cols {
	uint8_t *wp[QS_MAX_COLS];
	uint8_t *sp[QS_MAX_COLS];
};
struct spool_cols *spool_writer_rows_begin(struct spool_writer *w, size_t str_max, uint32_t *room);
void spool_writer_rows_end(struct spool_writer *w, uint32_t n, const uint64_t *present, size_t str_bytes);

/* Write the block in memory now (if any) so every accepted record is in the
 * temporary file (survives a crash of the process; not fsynced: only
 * publication is durable against power loss). 0 ok, -1 error (errno), the
 * block stays in memory. */
int spool_writer_flush(struct spool_writer *w);

/* Replace the exporter counters recorded for this file (called before rotate/close).
 * Copied; cleared when a file is published. */
void spool_writer_set_exporters(struct spool_writer *w, const struct spool_exporter_stats *e, size_t n);

/* Publish the current file (if it has rows) and start a new one. Returns 0 or
 * -1 (errno; nothing lost: the next rotate retries). */
int spool_writer_rotate(struct spool_writer *w);

/* Publish what is held and free. Returns 0, or -1 when publishing failed: the
 * written blocks stay in .tmp/ for the next open to salvage; rows still in
 * memory are lost and logged. w is freed either way. NULL is allowed. */
int spool_writer_close(struct spool_writer *w);

uint64_t spool_writer_rows_dropped(const struct spool_writer *w);

struct spool_writer_stats {
	uint64_t rows_accepted;   /* records accepted by spool_writer_add */
	uint64_t rows_dropped;    /* records refused (same as spool_writer_rows_dropped) */
	uint64_t blocks_written;
	uint64_t bytes_written;   /* compressed bytes, headers and trailers included */
	uint64_t files_published; /* by rotate/close */
	uint64_t files_salvaged;  /* published by salvage at open */
	uint64_t files_quarantined;
	uint64_t write_errors;    /* failed block/trailer/publish attempts */
	uint64_t rows_pending;    /* rows in memory, not yet in the file */
	uint64_t rows_in_file;    /* rows written to the current temporary file */
};
void spool_writer_stats(const struct spool_writer *w, struct spool_writer_stats *out);

/* The path of the folder files are published to (<spool_dir>/<stream>/<dpi>). */
const char *spool_writer_dir(const struct spool_writer *w);

#endif

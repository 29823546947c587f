/* spool_reader.h: reads and verifies spool files (.qsp), block by block with
 * bounded memory; the loader's and qoestor-spool's side of the contract
 * (format: spool_format.h, docs/SPOOL-FORMAT.md; writing: spool.h).
 *
 * Every byte is untrusted. Each check that fails gives -1/NULL and one message
 * naming the file, the byte offset and the block ("<path>: offset 1234, block
 * 3: payload CRC mismatch"). Memory held is bounded by the format's limits
 * (64 MiB decompressed payload, 65536 rows per block), never by a length read
 * from the file alone.
 *
 * Usage:
 *   r = spool_reader_open(path, err, sizeof err);      header verified
 *   while ((rc = spool_reader_next(r, &b)) == 1)        a verified data block
 *       for (row = 0; row < spool_block_rows(b); row++)
 *           spool_block_row(b, row, &rec);              or spool_block_column
 *   rc == 0: trailer and footer verified: spool_reader_trailer(r)
 *   rc == -1: spool_reader_error(r); blocks returned before stay valid data
 *             (that is how salvage keeps the complete blocks of a torn file).
 *   spool_reader_close(r);
 *
 * Ownership: the reader owns the header, blocks and trailer it returns; a
 * block (and every pointer taken from it, records included) is valid until
 * the next spool_reader_next or spool_reader_close. Deduplication: the pair
 * (header file_id, block index) names a block forever.
 * Threads: one reader per thread; readers are independent. Blocks on file I/O.
 */
#ifndef QOESTOR_SPOOL_READER_H
#define QOESTOR_SPOOL_READER_H

#include <stddef.h>
#include <stdint.h>

#include "spool/record.h"
#include "spool/spool.h"

struct spool_header {
	unsigned version_major, version_minor;
	uint32_t flags;              /* SPF_HF_* */
	char stream[65];             /* "fullflow" ... (map with qs_stream_by_name) */
	unsigned dpi_id;
	uint32_t schema_version;     /* QS_SCHEMA_VERSION of the writer */
	uint64_t schema_hash;        /* spf_schema_hash of the columns below */
	uint8_t file_id[16];         /* random, unique per file */
	char file_id_hex[33];
	uint64_t created_ms;         /* epoch ms UTC when the file was opened */
	char instance[65];
	char host[256];
	uint32_t block_rows_max;
	uint32_t header_len;
	/* The columns as written, as a stream definition: id is QS_STREAM_COUNT
	 * (unknown), name is `stream`, cols[i] has name and type only. Records
	 * filled by spool_block_row use it; map to the live schema by name. */
	const struct qs_stream_def *def;
	int schema_hash_ok;          /* 1 when schema_hash matches the column list */
};

struct spool_trailer {
	uint64_t rows;               /* rows in all data blocks */
	uint32_t data_blocks;
	uint32_t flags;              /* SPF_TF_SALVAGED ... */
	uint64_t closed_ms;          /* epoch ms UTC at publication (or salvage) */
	int64_t ready_s;             /* epoch s from which the loader may take it */
	size_t nexporters;
	const struct spool_exporter_stats *exporters;
	uint64_t offset;             /* byte offset of the trailer block */
};

/* One column of a data block, zero-copy. */
struct spool_column {
	const char *name;
	enum qs_type type;
	size_t width;                /* bytes per value; 0 for QS_STR */
	uint32_t rows, npresent;
	const uint8_t *present;      /* bitmap, bit r (byte r/8, LSB first) set = row r has a value;
	                                bits >= rows undefined */
	const uint8_t *values;       /* the npresent values of the present rows, in row order:
	                                fixed width, little-endian (IPv6/MAC as bytes);
	                                QS_STR: the concatenated bytes */
	const uint32_t *str_off;     /* QS_STR: npresent + 1 offsets into values; else NULL */
};

struct spool_reader;
struct spool_block;

/* Open a file and verify its header. NULL on error (message in err). */
struct spool_reader *spool_reader_open(const char *path, char *err, size_t errlen);
/* Same over len bytes at buf (borrowed until close); name is used in messages. */
struct spool_reader *spool_reader_open_mem(const void *buf, size_t len, const char *name, char *err,
					   size_t errlen);

const struct spool_header *spool_reader_header(const struct spool_reader *r);

/* Read and verify the next data block (ancillary blocks of unknown types are
 * skipped). 1: *b is a block; 0: end, the trailer and footer are verified;
 * -1: error (spool_reader_error), and every later call returns -1 too. */
int spool_reader_next(struct spool_reader *r, struct spool_block **b);

/* The trailer, once spool_reader_next returned 0; NULL before. */
const struct spool_trailer *spool_reader_trailer(const struct spool_reader *r);

/* The last error message, or "" if none. */
const char *spool_reader_error(const struct spool_reader *r);

/* Offset just past the last data block that was fully verified (the header
 * end when none was): where a salvage truncates a torn file. */
uint64_t spool_reader_good_end(const struct spool_reader *r);
/* Data blocks and rows returned so far. */
uint32_t spool_reader_blocks_read(const struct spool_reader *r);
uint64_t spool_reader_rows_read(const struct spool_reader *r);
/* Size of the file in bytes. */
uint64_t spool_reader_size(const struct spool_reader *r);

void spool_reader_close(struct spool_reader *r);

uint32_t spool_block_rows(const struct spool_block *b);
uint32_t spool_block_index(const struct spool_block *b);  /* 0, 1, 2 ... data blocks only */
uint64_t spool_block_offset(const struct spool_block *b); /* byte offset of its block header */

/* Column col (header order) of the block; 0, or -1 if col is out of range. */
int spool_block_column(const struct spool_block *b, int col, struct spool_column *out);

/* Fill rec with row `row` of the block (rec->def = header def). Fastest when
 * rows are read in order. 0, or -1 if row is out of range. */
int spool_block_row(struct spool_block *b, uint32_t row, struct qs_record *rec);

/* The deduplication token of a block: "<file id hex>-<block index>" (at most
 * 44 bytes with the NUL). Stable across renames, salvage and reloads. */
void spool_block_token(const struct spool_header *h, uint32_t block_index, char *buf, size_t len);

/* Read a whole file and verify everything. 0 valid (trailer copied to *t if t
 * is not NULL; its exporters pointer is NULL), -1 invalid (reason in err). */
int spool_verify(const char *path, struct spool_trailer *t, char *err, size_t errlen);

#endif

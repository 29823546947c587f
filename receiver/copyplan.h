/* copyplan.h: a template compiled once into copy steps, and the per-record
 * run that turns a data record's wire bytes into a row (struct qs_record).
 *
 * This is the receiver's hot path. It knows neither libfixbuf nor sockets:
 * IPFIX templates (decode.c, from libfixbuf's parsed template) and NetFlow v9
 * templates and the fixed v5 record (netflow.c) are all lists of
 * (enterprise, element, wire length) that cp_compile turns into a plan:
 *   - an element the stream's schema maps to a column becomes a step that
 *     reads the wire bytes (big-endian integers of any length 1..8, reduced
 *     length included; fixed byte strings; RFC 7011 varlen strings);
 *   - every other element is stepped over (fixed lengths are merged into the
 *     next step's skip);
 *   - the first occurrence of an element fills its column, later ones are
 *     skipped; a column whose element is absent stays absent (not zero).
 * Varlen values point into the caller's message bytes: the row is valid only
 * while those bytes are.
 *
 * NetFlow times: with cp_compile's uptime flag, flowStartSysUpTime (22) and
 * flowEndSysUpTime (21) fill the columns of flowStartMilliseconds (152) and
 * flowEndMilliseconds (153) when the template has no such element, as
 * export time - (system uptime - element), from struct cp_msg.
 *
 * Pure functions: plans are immutable after compile, any thread may run them.
 * cp_compile allocates (free() the plan); nothing else does.
 */
#ifndef QOESTOR_RECEIVER_COPYPLAN_H
#define QOESTOR_RECEIVER_COPYPLAN_H

#include <stddef.h>
#include <stdint.h>

#include "schema/schema.h"
#include "spool/record.h"

#define CP_VARLEN 65535u

struct cp_field {            /* one template element as it is on the wire */
	uint32_t pen;            /* enterprise number, 0 = IANA */
	uint16_t ie;             /* element id (enterprise bit removed) */
	uint16_t len;            /* wire length; CP_VARLEN = RFC 7011 variable length */
};

/* A plan cuts a record into segments: a run of fixed-length elements, then
 * at most one varlen element. The fixed elements of a segment are grouped by
 * how they are read (all 1-byte integers, then 2-byte, ...) with their
 * offsets in the segment, so a run is a few tight loops, not a switch per
 * element. Private to copyplan.c except minlen, ncols, has_var, present. */
#define CP_NKINDS 7              /* U8, U16, U32, U64, UN, BYTES, UPTIME */

struct cp_fop {                  /* a fixed element that fills a column */
	uint16_t off;                /* in its segment */
	uint16_t len;
	int32_t col;
};

/* The same fixed elements for cp_run_cols, grouped by how they are written
 * into a column of the spool block (wire length and column width). */
#define CP_NDKINDS 8             /* 1, 2, 4, 8 bytes as is; other integers; bytes; fixed string; uptime */

struct cp_dop {
	uint16_t off;                /* in its segment */
	uint16_t len;                /* on the wire */
	uint16_t width;              /* of the column's values */
	uint16_t col;
};

struct cp_seg {
	uint32_t fixed;              /* bytes of its fixed elements (skipped ones included) */
	uint32_t after;              /* bytes the rest of the record needs after the varlen value */
	int32_t vcol;                /* the varlen element's column, or -1 (skipped) */
	uint16_t has_var;            /* a varlen element ends the segment */
	uint16_t start[CP_NKINDS + 1]; /* fops[start[k]..start[k+1]) are of kind k */
	uint16_t dstart[CP_NDKINDS + 1]; /* dops[dstart[k]..dstart[k+1]) are of direct kind k */
};

struct cp_plan {
	uint32_t minlen;         /* the shortest record (a varlen counts 1 byte); 0 = no record
	                          * can be decoded (withdrawal, or only zero-length elements) */
	uint32_t ncols;          /* columns this template fills */
	int has_var;
	uint64_t present[(QS_MAX_COLS + 63) / 64]; /* the columns every record of it fills */
	uint32_t nsegs;
	struct cp_seg *segs;     /* point into the same allocation */
	struct cp_fop *fops;
	struct cp_dop *dops;
};

/* Per-message context of a run (only NetFlow uptime conversions read it). */
struct cp_msg {
	uint64_t export_ms;      /* message export time, epoch ms */
	uint32_t uptime_ms;      /* exporter's system uptime at export */
};

/* Called by cp_compile for an element that maps to a column but cannot fill
 * it (wrong length for the type): the element is skipped; the caller logs. */
typedef void (*cp_refused_fn)(void *ctx, const struct cp_field *f, const struct qs_column *col);

/* Compile fields[0..n) for stream def. uptime: see above (NetFlow only).
 * Returns a plan (free() it); NULL only when out of memory. */
struct cp_plan *cp_compile(const struct qs_stream_def *def, const struct cp_field *fields, size_t n,
                           int uptime, cp_refused_fn refused, void *ctx);

/* Decode the record at *p (end - *p >= plan->minlen, checked by the caller)
 * into r (cleared and bound to def first). 0: *p advanced past the record;
 * -1: a varlen length runs past end (the record is dropped, *p unchanged). */
int cp_run(const struct cp_plan *plan, const struct qs_stream_def *def, const uint8_t **p,
           const uint8_t *end, const struct cp_msg *m, struct qs_record *r);

/* Decode the record at *p (end - *p >= plan->minlen, checked by the caller)
 * straight into the columns of a spool block (spool.h's direct rows: wp and
 * sp are struct spool_cols' arrays; each value written advances them): every
 * column of plan->present gets exactly one value, in the spool's layout
 * (little-endian, integers cut or widened to the column's width as
 * spool_writer_add would). -1: a varlen length runs past end; what was
 * written of the record is taken back (wp and sp as before), *p unchanged. 0: *p
 * advanced, *str_bytes = the sum over its string values of 4 + length (at
 * most 4 x columns + the record's length). */
int cp_run_cols(const struct cp_plan *plan, const uint8_t **p, const uint8_t *end, const struct cp_msg *m,
                uint8_t **wp, uint8_t **sp, size_t *str_bytes);

/* cp_run_cols for up to max records from *p (while at least plan->minlen
 * bytes remain before end), column by column: each element's values of the
 * batch in one loop (at most CP_BATCH records per call; plans with more than
 * CP_BATCH_SEGS - 1 varlen elements go record by record). *nrec: records
 * written (*p advanced past them), *str_bytes as cp_run_cols for all of
 * them. Returns 0, or -1 when the record after them (*p) has a varlen
 * length that runs past end (nothing of it written). */
#define CP_BATCH 64
#define CP_BATCH_SEGS 16
int cp_run_cols_batch(const struct cp_plan *plan, const uint8_t **p, const uint8_t *end, const struct cp_msg *m,
                      uint32_t max, uint8_t **wp, uint8_t **sp, uint32_t *nrec, size_t *str_bytes);

/* Step over the record at *p without decoding it; as cp_run. */
int cp_skip(const struct cp_plan *plan, const uint8_t **p, const uint8_t *end);

/* Index of the column element (pen, ie) with wire length len fills, or -1. */
int cp_find_col(const struct qs_stream_def *def, uint32_t pen, uint16_t ie, uint16_t len);

#endif

/* record.h: one row as a producer hands it to the spool writer (and as the
 * spool reader hands it back).
 *
 * A record is a fixed-size struct on the caller's stack: a presence bitmap
 * ("absent" is not "zero") and one value slot per column of the stream's
 * definition. Integers, QS_IPV4 (host order) and QS_TIME_* live in `u`;
 * QS_IPV6 (16 bytes), QS_MAC (6 bytes) and QS_STR (len bytes) point at bytes
 * the record does NOT own: they must stay valid until the call that consumes
 * the record returns (spool_writer_add copies them). A record filled by the
 * spool reader points into the reader's current block: valid until the next
 * block is read or the reader is closed.
 * An integer wider than its column's type (QS_U8 given 300) is cut to the
 * type's width by the writer; a QS_IPV6/QS_MAC value of the wrong length is
 * zero-padded or cut to 16/6 bytes. Producers should not rely on either.
 * Header-only; no allocation, no errors, no threads.
 */
#ifndef QOESTOR_SPOOL_RECORD_H
#define QOESTOR_SPOOL_RECORD_H

#include <stdint.h>
#include <string.h>

#include "schema/schema.h"

struct qs_value {            /* one column's value */
	uint64_t u;              /* integers, QS_IPV4 (host order), QS_TIME_* */
	const uint8_t *p;        /* QS_IPV6 (16 bytes), QS_MAC (6), QS_STR (len bytes); borrowed */
	uint32_t len;
};

struct qs_record {
	const struct qs_stream_def *def;
	uint64_t present[(QS_MAX_COLS + 63) / 64]; /* bit i set: column i has a value */
	struct qs_value v[QS_MAX_COLS];
};

/* Empty the record and bind it to a stream definition. Only the presence
 * bitmap is cleared: values of absent columns are never read. */
static inline void qs_record_clear(struct qs_record *r, const struct qs_stream_def *def)
{
	r->def = def;
	memset(r->present, 0, sizeof r->present);
}

/* Set an integer-held column (QS_U*, QS_IPV4, QS_TIME_*). col < def->ncols. */
static inline void qs_record_set_u(struct qs_record *r, int col, uint64_t u)
{
	r->v[col].u = u;
	r->present[col >> 6] |= (uint64_t)1 << (col & 63);
}

/* Set a byte-held column (QS_IPV6: len 16, QS_MAC: len 6, QS_STR: any len).
 * p is borrowed (see above); p may be NULL when len is 0. */
static inline void qs_record_set_bytes(struct qs_record *r, int col, const uint8_t *p, uint32_t len)
{
	r->v[col].p = p;
	r->v[col].len = len;
	r->present[col >> 6] |= (uint64_t)1 << (col & 63);
}

/* 1 when column col has a value, else 0. */
static inline int qs_record_has(const struct qs_record *r, int col)
{
	return (int)((r->present[col >> 6] >> (col & 63)) & 1);
}

/* Mark column col absent again. */
static inline void qs_record_unset(struct qs_record *r, int col)
{
	r->present[col >> 6] &= ~((uint64_t)1 << (col & 63));
}

#endif

/* encoder.h: turns records into the body of one ClickHouse INSERT.
 *
 * The only place that knows the wire format of inserted rows: RowBinary
 * (the default: ClickHouse parses it with far less CPU per row than CSV),
 * Native (columnar) or CSV.
 * An encoder is bound to a stream definition (a raw table, or the synthetic
 * definition of an aggregate table, see agg.h) and emits every stored column
 * (qs_column_stored) in definition order; encoder_columns gives the matching
 * column list for "INSERT INTO t (cols) FORMAT <encoder_format>".
 *
 * RowBinary: each column as its ClickHouse type (qs_column.chtype, with
 * SimpleAggregateFunction and LowCardinality unwrapped) reads it: integers
 * little-endian in the type's width, IPv4 as UInt32, IPv6 16 bytes in network
 * order, DateTime64(p) as Int64 in 10^-p s, DateTime as UInt32 seconds,
 * String as LEB128 length + bytes, FixedString(N) as N bytes (zero padded),
 * Nullable(T) as a 0/1 byte before T. An absent value is NULL in a Nullable
 * QS_F_NULLABLE column and the type's default elsewhere, as in CSV.
 *
 * Native: blocks of columns. Each block: LEB128 number of columns, LEB128
 * number of rows, then per column its name and its type as strings (the
 * column's ClickHouse type without CODEC/DEFAULT clauses, e.g.
 * "Nullable(String)", "SimpleAggregateFunction(sum, UInt64)"; LowCardinality
 * is sent as the plain type inside it) and the values of every row as
 * RowBinary writes one value, except Nullable(T): the null map first (one
 * byte per row), then T's values (the default in NULL rows). The rows are
 * buffered column by column and a block is written (compressed) when it holds
 * 4 MiB of fixed-width values (at most 65536 rows) or 2 MiB of strings, and at
 * encoder_finish: several blocks per body, bounded memory per encoder.
 *
 * CSV values:
 * integers in decimal, IPv4 dotted, IPv6 as eight hex groups ("::" and
 * "::ffff:a.b.c.d" for the unspecified and v4-mapped addresses), times as
 * epoch seconds ("seconds.mmm" for QS_TIME_MS; UTC date-time text before
 * 2001-09-09, see encoder_put_time_s), strings and MACs quoted with
 * '"' doubled (any bytes); an absent value is \N in a QS_F_NULLABLE column
 * and the type's default (0, "", 0.0.0.0, ::) elsewhere.
 *
 * The body is compressed as it grows (zstd or gzip, streaming, or left
 * plain), so memory is the body plus a 256 KiB staging buffer (and Native's
 * block); with encoder_set_spill, the body beyond a threshold goes to a file
 * and memory stays bounded for inserts of any size. To add a format, add it
 * here; callers only see records in and a body out.
 *
 * Ownership: the encoder owns the body returned by encoder_finish until the
 * next encoder_reset/encoder_close. Threads: one encoder per thread.
 * Errors: -1 only when memory runs out or the compressor fails.
 */
#ifndef QOESTOR_LOADER_ENCODER_H
#define QOESTOR_LOADER_ENCODER_H

#include <stddef.h>
#include <stdint.h>

#include "ch/ch.h"
#include "loader/opts.h"
#include "spool/record.h"

struct encoder;

/* NULL when out of memory or when a column of def has no encoding in fmt
 * (encoder_supports says which). def must outlive the encoder. */
struct encoder *encoder_open(const struct qs_stream_def *def, enum loader_format fmt, enum loader_compress c,
	int level);
/* 0 if every stored column of def can be written in fmt; else -1 and why. */
int encoder_supports(const struct qs_stream_def *def, enum loader_format fmt, char *err, size_t errlen);
void encoder_close(struct encoder *e);

/* "RowBinary", "Native" or "CSV" */
const char *encoder_format(const struct encoder *e);
/* "a,b,c": the stored columns in the order rows are written. */
const char *encoder_columns(const struct encoder *e);

/* Append one record (r->def must be the encoder's def). 0 or -1. */
int encoder_add(struct encoder *e, const struct qs_record *r);
uint64_t encoder_rows(const struct encoder *e);
/* Bytes of string and MAC values added since the last reset: the same in
 * every format, so callers may cut inserts by it deterministically. */
uint64_t encoder_str_bytes(const struct encoder *e);
/* Uncompressed bytes written since the last reset. */
uint64_t encoder_raw_bytes(const struct encoder *e);

/* End the body: *body and *len are what to send, *enc its Content-Encoding.
 * 0 or -1. */
int encoder_finish(struct encoder *e, const void **body, size_t *len, enum ch_encoding *enc);

/* Bodies larger than at bytes (compressed, as sent) are moved to a file
 * created (and unlinked at once) in dir as they grow, so the encoder holds at
 * most about 2 x at of body in memory whatever the insert's size. dir is
 * copied; NULL turns spilling off (the default). 0 or -1 (out of memory).
 * A spill file that cannot be written fails encoder_add/encoder_finish. */
int encoder_set_spill(struct encoder *e, const char *dir, size_t at);
/* After encoder_finish: the descriptor of the spilled body and its length
 * (send it from there: ch_insert_fd); -1 when the body is in memory (the
 * body encoder_finish gave). The encoder owns the descriptor. */
int encoder_body_fd(const struct encoder *e, uint64_t *len);

/* Forget the body; the next encoder_add starts a new one. */
void encoder_reset(struct encoder *e);

/* Format helpers, exposed for the unit tests: write the text of one value
 * into p (room for 48 bytes) and return the end. */
char *encoder_put_u64(char *p, uint64_t v);
char *encoder_put_ipv4(char *p, uint32_t host_order);
char *encoder_put_ipv6(char *p, const uint8_t a[16]);
/* Epoch seconds / milliseconds: "1700000000" / "1700000000.250" from 2001-09-09
 * on, "1999-01-01 00:00:00" / "... 00:00:05.250" before (short numbers are
 * ambiguous to ClickHouse's CSV parser). */
char *encoder_put_time_s(char *p, uint64_t t);
char *encoder_put_time_ms(char *p, uint64_t ms);

#endif

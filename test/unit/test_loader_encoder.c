/* test_loader_encoder.c: cmocka tests of the loader's encoder
 * (loader/encoder.h): CSV number, address and time formats (times against
 * gmtime for many values), a full fullflow row with quoting and NULLs in CSV
 * and byte for byte in RowBinary, every table (raw and aggregate) having a
 * RowBinary plan, and the gzip and zstd bodies of every format decompressing
 * to exactly the plain body, also for strings longer than the staging buffer.
 * Native: a small block byte for byte (type names without codecs, null map
 * before the nested column, SimpleAggregateFunction and LowCardinality), and
 * bodies of many blocks (cut by rows and by string bytes) walked by a reader
 * of the format: every row and value in order. Spilled bodies: the file
 * holds exactly the in-memory body, for every format, again after a reset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "loader/agg.h"
#include "loader/encoder.h"

static void check(char *(*f)(char *, uint64_t), uint64_t v, const char *want)
{
	char buf[64];
	*f(buf, v) = 0;
	assert_string_equal(buf, want);
}

static void test_numbers(void **state)
{
	(void)state;
	check(encoder_put_u64, 0, "0");
	check(encoder_put_u64, 9, "9");
	check(encoder_put_u64, 10, "10");
	check(encoder_put_u64, 99, "99");
	check(encoder_put_u64, 100, "100");
	check(encoder_put_u64, 1234567, "1234567");
	check(encoder_put_u64, UINT64_MAX, "18446744073709551615");
	char a[32], b[32];
	for (uint64_t i = 0; i < 200000; i++) {
		uint64_t v = i * 2654435761u ^ (i << 40);
		*encoder_put_u64(a, v) = 0;
		snprintf(b, sizeof b, "%llu", (unsigned long long)v);
		assert_string_equal(a, b);
	}
}

static void test_addresses(void **state)
{
	(void)state;
	char buf[64];
	*encoder_put_ipv4(buf, 0) = 0;
	assert_string_equal(buf, "0.0.0.0");
	*encoder_put_ipv4(buf, 0xffffffffu) = 0;
	assert_string_equal(buf, "255.255.255.255");
	*encoder_put_ipv4(buf, 0x0a400a64u) = 0;
	assert_string_equal(buf, "10.64.10.100");
	uint8_t z[16] = { 0 };
	*encoder_put_ipv6(buf, z) = 0;
	assert_string_equal(buf, "::");
	uint8_t d[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	*encoder_put_ipv6(buf, d) = 0;
	assert_string_equal(buf, "2001:db8:0:0:0:0:0:1");
	uint8_t m[16] = { [10] = 0xff, [11] = 0xff, [12] = 10, [15] = 1 };
	*encoder_put_ipv6(buf, m) = 0;
	assert_string_equal(buf, "::ffff:10.0.0.1");
	uint8_t one[16] = { [15] = 1 };
	*encoder_put_ipv6(buf, one) = 0;
	assert_string_equal(buf, "0:0:0:0:0:0:0:1");
}

static void test_times(void **state)
{
	(void)state;
	check(encoder_put_time_s, 1700000000, "1700000000");
	check(encoder_put_time_s, 0, "1970-01-01 00:00:00");
	check(encoder_put_time_s, 915148800, "1999-01-01 00:00:00");
	check(encoder_put_time_s, 951782400, "2000-02-29 00:00:00");
	check(encoder_put_time_ms, 915148805250ull, "1999-01-01 00:00:05.250");
	check(encoder_put_time_ms, 1700000000007ull, "1700000000.007");
	check(encoder_put_time_ms, 0, "1970-01-01 00:00:00.000");
	/* Every instant before the numeric range against gmtime. */
	char a[64], b[64];
	for (uint64_t t = 0; t < 1000000000u; t += 7777) {
		*encoder_put_time_s(a, t) = 0;
		time_t tt = (time_t)t;
		struct tm tm;
		gmtime_r(&tt, &tm);
		strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S", &tm);
		assert_string_equal(a, b);
	}
}

/* A fullflow record with a few columns set. */
static void fill(struct qs_record *r, const struct qs_stream_def *d, const char *login, size_t llen)
{
	qs_record_clear(r, d);
	qs_record_set_u(r, qs_column_index(d, "flow_start_ms"), 1700000000250ull);
	qs_record_set_u(r, qs_column_index(d, "octets"), 1500);
	qs_record_set_u(r, qs_column_index(d, "source_ipv4"), 0x0a000001u);
	qs_record_set_bytes(r, qs_column_index(d, "login"), (const uint8_t *)login, (uint32_t)llen);
	qs_record_set_u(r, qs_column_index(d, "rtt"), 42);
}

static char *body_of(struct encoder *e, size_t *n)
{
	const void *b;
	enum ch_encoding enc;
	assert_int_equal(encoder_finish(e, &b, n, &enc), 0);
	char *copy = malloc(*n + 1);
	memcpy(copy, b, *n);
	copy[*n] = 0;
	return copy;
}

static void test_row(void **state)
{
	(void)state;
	const struct qs_stream_def *d = qs_stream_by_name("fullflow");
	struct encoder *e = encoder_open(d, LF_CSV, LC_NONE, 1);
	assert_non_null(e);
	/* Column list: stored columns only (no computed flow_start_time). */
	assert_null(strstr(encoder_columns(e), "flow_start_time"));
	assert_non_null(strstr(encoder_columns(e), "flow_start_ms,flow_end_ms,octets"));
	struct qs_record r;
	fill(&r, d, "a\"b,\nc", 6);
	assert_int_equal(encoder_add(e, &r), 0);
	size_t n;
	char *body = body_of(e, &n);
	/* Count fields: one per stored column. */
	size_t cols = 1;
	for (const char *p = encoder_columns(e); *p; p++)
		cols += *p == ',';
	assert_true(strncmp(body, "1700000000.250,1970-01-01 00:00:00.000,1500,", 44) == 0);
	assert_non_null(strstr(body, ",\"a\"\"b,\nc\","));
	assert_non_null(strstr(body, ",10.0.0.1,"));
	assert_non_null(strstr(body, ",42,"));     /* rtt present */
	assert_non_null(strstr(body, ",\\N,"));    /* nullable absent */
	assert_non_null(strstr(body, ",::,")); /* IPv6 absent = :: */
	assert_int_equal(body[n - 1], '\n');
	free(body);
	assert_int_equal(encoder_rows(e), 1);
	encoder_reset(e);
	assert_int_equal(encoder_rows(e), 0);
	encoder_close(e);
	(void)cols;
}

static char *plain_body(const struct qs_stream_def *d, enum loader_format f, size_t rows, size_t *n, const char *s,
	size_t slen)
{
	struct encoder *e = encoder_open(d, f, LC_NONE, 1);
	struct qs_record r;
	for (size_t i = 0; i < rows; i++) {
		fill(&r, d, s, slen);
		qs_record_set_u(&r, qs_column_index(d, "octets"), i);
		assert_int_equal(encoder_add(e, &r), 0);
	}
	char *b = body_of(e, n);
	encoder_close(e);
	return b;
}

static void roundtrip_f(enum loader_format f, enum loader_compress c, size_t rows, const char *s, size_t slen)
{
	const struct qs_stream_def *d = qs_stream_by_name("fullflow");
	size_t pn;
	char *plain = plain_body(d, f, rows, &pn, s, slen);
	struct encoder *e = encoder_open(d, f, c, 3);
	struct qs_record r;
	for (size_t i = 0; i < rows; i++) {
		fill(&r, d, s, slen);
		qs_record_set_u(&r, qs_column_index(d, "octets"), i);
		assert_int_equal(encoder_add(e, &r), 0);
	}
	const void *b;
	size_t n;
	enum ch_encoding enc;
	assert_int_equal(encoder_finish(e, &b, &n, &enc), 0);
	assert_int_equal(encoder_raw_bytes(e), pn);
	char *out = malloc(pn + 1);
	if (c == LC_ZSTD) {
		assert_int_equal(enc, CH_ENC_ZSTD);
		size_t k = ZSTD_decompress(out, pn + 1, b, n);
		assert_false(ZSTD_isError(k));
		assert_int_equal(k, pn);
	} else {
		assert_int_equal(enc, CH_ENC_GZIP);
		z_stream z = { 0 };
		assert_int_equal(inflateInit2(&z, 16 + 15), Z_OK);
		z.next_in = (Bytef *)b;
		z.avail_in = (uInt)n;
		z.next_out = (Bytef *)out;
		z.avail_out = (uInt)pn + 1;
		assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
		assert_int_equal(z.total_out, pn);
		inflateEnd(&z);
	}
	assert_memory_equal(out, plain, pn);
	/* The encoder is reusable: a second body after reset is the same. */
	encoder_reset(e);
	for (size_t i = 0; i < rows; i++) {
		fill(&r, d, s, slen);
		qs_record_set_u(&r, qs_column_index(d, "octets"), i);
		assert_int_equal(encoder_add(e, &r), 0);
	}
	assert_int_equal(encoder_finish(e, &b, &n, &enc), 0);
	assert_int_equal(encoder_raw_bytes(e), pn);
	free(out);
	free(plain);
	encoder_close(e);
}

/* The string byte count (insert cut points) is the same in both formats. */
static void test_str_bytes(void **state)
{
	(void)state;
	const struct qs_stream_def *d = qs_stream_by_name("fullflow");
	struct encoder *a = encoder_open(d, LF_CSV, LC_NONE, 1), *b = encoder_open(d, LF_ROWBINARY, LC_NONE, 1);
	struct encoder *c = encoder_open(d, LF_NATIVE, LC_NONE, 1);
	struct qs_record r;
	uint64_t want = 0;
	for (size_t i = 0; i < 100; i++) {
		char login[40];
		int n = snprintf(login, sizeof login, "user\"%zu,", i * 7919);
		fill(&r, d, login, (size_t)n);
		if (i % 3 == 0)
			qs_record_set_bytes(&r, qs_column_index(d, "host"), (const uint8_t *)"example.com", 11);
		want += (uint64_t)n + (i % 3 == 0 ? 11 : 0);
		assert_int_equal(encoder_add(a, &r), 0);
		assert_int_equal(encoder_add(b, &r), 0);
		assert_int_equal(encoder_add(c, &r), 0);
	}
	assert_int_equal(encoder_str_bytes(a), want);
	assert_int_equal(encoder_str_bytes(b), want);
	assert_int_equal(encoder_str_bytes(c), want);
	encoder_close(c);
	encoder_reset(b);
	assert_int_equal(encoder_str_bytes(b), 0);
	encoder_close(a);
	encoder_close(b);
}

static void roundtrip(enum loader_compress c, size_t rows, const char *s, size_t slen)
{
	roundtrip_f(LF_CSV, c, rows, s, slen);
	roundtrip_f(LF_ROWBINARY, c, rows, s, slen);
	roundtrip_f(LF_NATIVE, c, rows, s, slen);
}

static const uint8_t *le(const uint8_t *p, uint64_t want, unsigned width)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < width; i++)
		v |= (uint64_t)p[i] << (8 * i);
	assert_int_equal(v, want);
	return p + width;
}

/* fullflow's first columns, byte for byte; the login with its LEB128 length. */
static void test_rowbinary_row(void **state)
{
	(void)state;
	const struct qs_stream_def *d = qs_stream_by_name("fullflow");
	struct encoder *e = encoder_open(d, LF_ROWBINARY, LC_NONE, 1);
	assert_non_null(e);
	assert_string_equal(encoder_format(e), "RowBinary");
	struct qs_record r;
	size_t llen = 300; /* two LEB128 bytes: 0xac 0x02 */
	char *login = malloc(llen);
	for (size_t i = 0; i < llen; i++)
		login[i] = (char)i;
	fill(&r, d, login, llen);
	assert_int_equal(encoder_add(e, &r), 0);
	size_t n;
	uint8_t *body = (uint8_t *)body_of(e, &n);
	const uint8_t *p = body;
	p = le(p, 1700000000250ull, 8); /* flow_start_ms DateTime64(3) */
	p = le(p, 0, 8);                /* flow_end_ms absent */
	p = le(p, 1500, 8);             /* octets */
	p = le(p, 0, 8);                /* packets */
	p = le(p, 0, 1);                /* protocol_identifier UInt8 */
	p = le(p, 0, 1);                /* ip_class_of_service */
	p = le(p, 0, 2);                /* source_transport_port UInt16 */
	p = le(p, 0x0a000001u, 4);      /* source_ipv4 as UInt32 */
	(void)p;
	/* The login: 0xac 0x02 then the 300 bytes. */
	const uint8_t *hit = NULL;
	for (size_t i = 0; i + 2 + llen <= n && !hit; i++)
		if (body[i] == 0xac && body[i + 1] == 0x02 && memcmp(body + i + 2, login, llen) == 0)
			hit = body + i;
	assert_non_null(hit);
	/* Every stored column is in the body: its length is the sum of the plan widths. */
	size_t want = 0;
	for (size_t i = 0; i < d->ncols; i++) {
		const struct qs_column *c = &d->cols[i];
		if (!qs_column_stored(c))
			continue;
		int nullable = strncmp(c->chtype, "Nullable(", 9) == 0;
		int has = qs_record_has(&r, (int)i);
		want += (size_t)nullable;
		if (nullable && !has && (c->flags & QS_F_NULLABLE))
			continue;
		const char *t = c->chtype + (nullable ? 9 : 0);
		if (!strncmp(t, "String", 6))
			want += has ? (r.v[i].len < 128 ? 1 : 2) + r.v[i].len : 1;
		else if (!strncmp(t, "FixedString(6)", 14))
			want += 6;
		else if (!strncmp(t, "IPv6", 4))
			want += 16;
		else if (!strncmp(t, "UInt8", 5))
			want += 1;
		else if (!strncmp(t, "UInt16", 6))
			want += 2;
		else if (!strncmp(t, "UInt32", 6) || !strncmp(t, "IPv4", 4) || !strncmp(t, "DateTime(", 9))
			want += 4;
		else
			want += 8;
	}
	assert_int_equal(n, want);
	free(body);
	free(login);
	encoder_close(e);
}

static uint64_t rd_varuint(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;
	for (int s = 0; *p < end; s += 7) {
		uint8_t b = *(*p)++;
		v |= (uint64_t)(b & 0x7f) << s;
		if (!(b & 0x80))
			return v;
	}
	fail_msg("varuint past the end");
	return 0;
}

static int rd_str_is(const uint8_t **p, const uint8_t *end, const char *want)
{
	size_t n = (size_t)rd_varuint(p, end);
	assert_true(*p + n <= end);
	int ok = n == strlen(want) && memcmp(*p, want, n) == 0;
	if (!ok)
		fprintf(stderr, "got '%.*s', want '%s'\n", (int)n, (const char *)*p, want);
	*p += n;
	return ok;
}

/* A two-row block of a four-column table, byte for byte. */
static void test_native_block(void **state)
{
	(void)state;
	static const struct qs_column cols[] = {
		{ .name = "port", .type = QS_U16, .chtype = "UInt16" },
		{ .name = "login", .type = QS_STR, .chtype = "Nullable(String) CODEC(ZSTD(1))", .flags = QS_F_NULLABLE },
		{ .name = "octets", .type = QS_U64, .chtype = "SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(1))" },
		{ .name = "t", .type = QS_TIME_MS, .chtype = "DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1))" },
		{ .name = "host", .type = QS_STR, .chtype = "SimpleAggregateFunction(any, LowCardinality(String))" },
		{ .name = "a6", .type = QS_IPV6, .chtype = "IPv6" },
	};
	struct qs_stream_def d = { .name = "x", .cols = cols, .ncols = 6 };
	struct encoder *e = encoder_open(&d, LF_NATIVE, LC_NONE, 1);
	assert_non_null(e);
	assert_string_equal(encoder_format(e), "Native");
	struct qs_record r;
	qs_record_clear(&r, &d);
	qs_record_set_u(&r, 0, 443);
	qs_record_set_bytes(&r, 1, (const uint8_t *)"ab", 2);
	qs_record_set_u(&r, 2, 0x0102030405060708ull);
	qs_record_set_u(&r, 3, 1700000000250ull);
	qs_record_set_bytes(&r, 4, (const uint8_t *)"h", 1);
	uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 9 };
	qs_record_set_bytes(&r, 5, a6, 16);
	assert_int_equal(encoder_add(e, &r), 0);
	qs_record_clear(&r, &d); /* second row: everything absent */
	assert_int_equal(encoder_add(e, &r), 0);
	size_t n;
	uint8_t *body = (uint8_t *)body_of(e, &n);
	const uint8_t *p = body, *end = body + n;
	assert_int_equal(rd_varuint(&p, end), 6);
	assert_int_equal(rd_varuint(&p, end), 2);
	assert_true(rd_str_is(&p, end, "port") && rd_str_is(&p, end, "UInt16"));
	p = le(p, 443, 2);
	p = le(p, 0, 2);
	assert_true(rd_str_is(&p, end, "login") && rd_str_is(&p, end, "Nullable(String)"));
	assert_int_equal(p[0], 0); /* null map: present, NULL */
	assert_int_equal(p[1], 1);
	p += 2;
	assert_true(rd_str_is(&p, end, "ab") && rd_str_is(&p, end, "")); /* the NULL row holds "" */
	assert_true(rd_str_is(&p, end, "octets") && rd_str_is(&p, end, "SimpleAggregateFunction(sum, UInt64)"));
	p = le(p, 0x0102030405060708ull, 8);
	p = le(p, 0, 8);
	assert_true(rd_str_is(&p, end, "t") && rd_str_is(&p, end, "DateTime64(3, 'UTC')"));
	p = le(p, 1700000000250ull, 8);
	p = le(p, 0, 8);
	assert_true(rd_str_is(&p, end, "host") && rd_str_is(&p, end, "String"));
	assert_true(rd_str_is(&p, end, "h") && rd_str_is(&p, end, ""));
	assert_true(rd_str_is(&p, end, "a6") && rd_str_is(&p, end, "IPv6"));
	assert_memory_equal(p, a6, 16);
	for (int i = 0; i < 16; i++)
		assert_int_equal(p[16 + i], 0);
	p += 32;
	assert_ptr_equal(p, end);
	free(body);
	encoder_close(e);
}

/* Walk a fullflow Native body of plain_body's rows (octets = row number,
 * login s): the blocks, their columns and types, every row's octets and login.
 * Returns the number of blocks. */
static size_t walk_native(const uint8_t *p, size_t n, const struct encoder *e, const struct qs_stream_def *d,
	size_t rows, const char *s, size_t slen)
{
	const uint8_t *end = p + n;
	size_t blocks = 0, seen = 0;
	while (p < end) {
		size_t nc = (size_t)rd_varuint(&p, end), nr = (size_t)rd_varuint(&p, end);
		blocks++;
		assert_true(nr > 0);
		const char *names = encoder_columns(e);
		for (size_t k = 0; k < nc; k++) {
			size_t len = (size_t)rd_varuint(&p, end);
			const char *comma = strchr(names, ',');
			size_t want = comma ? (size_t)(comma - names) : strlen(names);
			assert_int_equal(len, want);
			assert_memory_equal(p, names, len);
			int col = qs_column_index(d, names);
			names += want + (comma != NULL);
			p += len;
			size_t tl = (size_t)rd_varuint(&p, end);
			char type[128];
			assert_true(tl < sizeof type);
			memcpy(type, p, tl);
			type[tl] = 0;
			p += tl;
			const char *t = type;
			int nullable = strncmp(t, "Nullable(", 9) == 0;
			if (nullable) {
				p += nr;
				t += 9;
			}
			size_t w = 0;
			if (!strncmp(t, "String", 6)) {
				for (size_t i = 0; i < nr; i++) {
					size_t sl = (size_t)rd_varuint(&p, end);
					if (col == qs_column_index(d, "login")) {
						assert_int_equal(sl, slen);
						assert_memory_equal(p, s, slen);
					}
					p += sl;
				}
				continue;
			}
			if (!strncmp(t, "FixedString(6)", 14))
				w = 6;
			else if (!strncmp(t, "IPv6", 4))
				w = 16;
			else if (!strncmp(t, "UInt8", 5))
				w = 1;
			else if (!strncmp(t, "UInt16", 6))
				w = 2;
			else if (!strncmp(t, "UInt32", 6) || !strncmp(t, "IPv4", 4) || !strncmp(t, "DateTime(", 9))
				w = 4;
			else if (!strncmp(t, "UInt64", 6) || !strncmp(t, "DateTime64(3, 'UTC')", 20))
				w = 8;
			else
				fail_msg("unexpected type %s", type);
			if (col == qs_column_index(d, "octets"))
				for (size_t i = 0; i < nr; i++)
					le(p + 8 * i, seen + i, 8);
			assert_true(p + w * nr <= end);
			p += w * nr;
		}
		seen += nr;
	}
	assert_int_equal(seen, rows);
	return blocks;
}

/* Many rows: several blocks (cut by rows); long strings: blocks cut by bytes. */
static void test_native_blocks(void **state)
{
	(void)state;
	const struct qs_stream_def *d = qs_stream_by_name("fullflow");
	struct encoder *e = encoder_open(d, LF_NATIVE, LC_NONE, 1);
	assert_non_null(e);
	size_t n;
	char *b = plain_body(d, LF_NATIVE, 100000, &n, "user1", 5);
	size_t blocks = walk_native((const uint8_t *)b, n, e, d, 100000, "user1", 5);
	assert_true(blocks >= 2);
	free(b);
	size_t slen = 300000;
	char *s = malloc(slen);
	for (size_t i = 0; i < slen; i++)
		s[i] = (char)(i * 13);
	b = plain_body(d, LF_NATIVE, 20, &n, s, slen);
	blocks = walk_native((const uint8_t *)b, n, e, d, 20, s, slen);
	assert_true(blocks >= 2 && blocks <= 4); /* 6 MB of strings, 2 MiB a block */
	free(b);
	free(s);
	encoder_close(e);
}

/* A body spilled to a file (64 KiB held in memory) is the body an encoder
 * without spilling makes, byte for byte; again after a reset. */
static void test_spill(void **state)
{
	(void)state;
	const struct qs_stream_def *d = qs_stream_by_name("fullflow");
	const char *dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	for (int f = 0; f < 3; f++) {
		enum loader_format fmt = f == 0 ? LF_ROWBINARY : f == 1 ? LF_NATIVE : LF_CSV;
		for (int comp = 0; comp < 2; comp++) {
			enum loader_compress c = comp ? LC_ZSTD : LC_NONE;
			struct encoder *a = encoder_open(d, fmt, c, 1), *b = encoder_open(d, fmt, c, 1);
			assert_int_equal(encoder_set_spill(b, dir, 64u << 10), 0);
			for (int round = 0; round < 2; round++) {
				struct qs_record r;
				for (size_t i = 0; i < 30000; i++) {
					char login[40];
					int n = snprintf(login, sizeof login, "user%zu", (i * 2654435761u) % 100003);
					fill(&r, d, login, (size_t)n);
					qs_record_set_u(&r, qs_column_index(d, "octets"), i * 7919 + (size_t)round);
					assert_int_equal(encoder_add(a, &r), 0);
					assert_int_equal(encoder_add(b, &r), 0);
				}
				const void *ba, *bb;
				size_t na, nb;
				enum ch_encoding ea, eb;
				assert_int_equal(encoder_finish(a, &ba, &na, &ea), 0);
				assert_int_equal(encoder_finish(b, &bb, &nb, &eb), 0);
				assert_int_equal(ea, eb);
				uint64_t flen = 0;
				assert_int_equal(encoder_body_fd(a, &flen), -1); /* in memory */
				int fd = encoder_body_fd(b, &flen);
				assert_true(fd >= 0);
				assert_true(na > (64u << 10));
				assert_int_equal(flen, na);
				char *got = malloc(na);
				assert_int_equal(pread(fd, got, na, 0), (ssize_t)na);
				assert_memory_equal(got, ba, na);
				free(got);
				encoder_reset(a);
				encoder_reset(b);
				assert_int_equal(encoder_body_fd(b, &flen), -1);
			}
			encoder_close(a);
			encoder_close(b);
		}
	}
}

/* Every raw table and every aggregate insert table has a RowBinary and a Native plan. */
static void test_rowbinary_tables(void **state)
{
	(void)state;
	char err[256];
	for (int i = 0; i < QS_STREAM_COUNT; i++)
		for (int f = 0; f < 2; f++)
			if (encoder_supports(qs_stream_def((enum qs_stream)i), f ? LF_NATIVE : LF_ROWBINARY, err, sizeof err))
				fail_msg("%s", err);
	for (int i = 0; i < QS_AGG_TABLES; i++) {
		const struct qs_agg_def *ad = qs_agg_def((enum qs_agg)i);
		struct agg *a = agg_open(ad, qs_stream_def(ad->stream), 900, NULL, 0x7ff, 1000);
		assert_non_null(a);
		if (encoder_supports(agg_out_def(a), LF_ROWBINARY, err, sizeof err) ||
		    encoder_supports(agg_out_def(a), LF_NATIVE, err, sizeof err))
			fail_msg("%s", err);
		agg_close(a);
	}
	/* A type it cannot write is refused with the column's name. */
	struct qs_column bad = { .name = "f", .type = QS_U32, .chtype = "Float64" };
	struct qs_stream_def d = { .name = "x", .cols = &bad, .ncols = 1 };
	assert_int_equal(encoder_supports(&d, LF_ROWBINARY, err, sizeof err), -1);
	assert_non_null(strstr(err, "column f"));
	assert_null(encoder_open(&d, LF_ROWBINARY, LC_NONE, 1));
	assert_null(encoder_open(&d, LF_NATIVE, LC_NONE, 1));
	struct encoder *e = encoder_open(&d, LF_CSV, LC_NONE, 1); /* CSV writes any column as text */
	assert_non_null(e);
	encoder_close(e);
}

static void test_compressed(void **state)
{
	(void)state;
	roundtrip(LC_ZSTD, 20000, "user1", 5);
	roundtrip(LC_GZIP, 20000, "user1", 5);
	/* A string of 1 MiB full of quotes and every byte value: passes the 256 KiB stage in pieces. */
	size_t n = 1 << 20;
	char *s = malloc(n);
	for (size_t i = 0; i < n; i++)
		s[i] = i % 7 == 0 ? '"' : (char)(i * 31);
	roundtrip(LC_ZSTD, 3, s, n);
	roundtrip(LC_GZIP, 2, s, n);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers), cmocka_unit_test(test_addresses), cmocka_unit_test(test_times),
		cmocka_unit_test(test_row), cmocka_unit_test(test_rowbinary_row), cmocka_unit_test(test_rowbinary_tables),
		cmocka_unit_test(test_str_bytes), cmocka_unit_test(test_compressed),
		cmocka_unit_test(test_native_block), cmocka_unit_test(test_native_blocks), cmocka_unit_test(test_spill),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

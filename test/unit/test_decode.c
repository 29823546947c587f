/* test_decode.c: unit tests of receiver/decode.c (IPFIX -> rows), with
 * messages built by test/unit/ipfix_builder.c and a test-local stream
 * definition (so the tests do not move when the real schema changes).
 * Cases: element subsets and order, reduced-length integers, IPv4 and IPv6
 * templates side by side, one element carrying IPv4 or IPv6 by length, varlen
 * at 0/254/255/max, unknown elements, template redefinition and withdrawal,
 * two observation domains, sequence gaps, unknown templates, options records,
 * truncated sets, lying lengths, varlen overruns, pause and resume; NetFlow
 * v9 (uptime times, vendor types, packet gaps) and v5 when accepted.
 * Direct rows (decode_session_spool): the spool files equal, row for row,
 * those written through emit and spool_writer_add.
 */
#include <dirent.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"
#include "receiver/decode.h"
#include "spool/spool.h"
#include "spool/spool_reader.h"
#include "test/unit/ipfix_builder.h"

#define VAS 43823

enum { C_OCT, C_PKT, C_PROTO, C_SPORT, C_SRC4, C_SRC6, C_START, C_SESS, C_HOST, C_LOGIN,
       C_IPS4, C_IPS6, C_RTT, C_DERIVED, C_TS, C_MAC, NCOLS };

static const struct qs_column cols[NCOLS] = {
	[C_OCT] = { "octets", QS_U64, 0, 1, 0, "UInt64", 0, "" },
	[C_PKT] = { "packets", QS_U64, 0, 2, 0, "UInt64", 0, "" },
	[C_PROTO] = { "proto", QS_U8, 0, 4, 0, "UInt8", 0, "" },
	[C_SPORT] = { "sport", QS_U16, 0, 7, 0, "UInt16", 0, "" },
	[C_SRC4] = { "src4", QS_IPV4, 0, 8, 0, "IPv4", 0, "" },
	[C_SRC6] = { "src6", QS_IPV6, 0, 27, 0, "IPv6", 0, "" },
	[C_START] = { "start", QS_TIME_MS, 0, 152, 0, "DateTime64(3)", 0, "" },
	[C_SESS] = { "session", QS_U64, VAS, 2000, 0, "UInt64", 0, "" },
	[C_HOST] = { "host", QS_STR, VAS, 2001, 0, "String", 0, "" },
	[C_LOGIN] = { "login", QS_STR, VAS, 2003, 0, "String", 0, "" },
	[C_IPS4] = { "ip_src4", QS_IPV4, VAS, 1003, 4, "IPv4", 0, "" },
	[C_IPS6] = { "ip_src6", QS_IPV6, VAS, 1003, 16, "IPv6", 0, "" },
	[C_RTT] = { "rtt", QS_U32, VAS, 2012, 0, "UInt32", 0, "" },
	[C_DERIVED] = { "derived", QS_U8, 0, 4, 0, "UInt8", QS_F_DERIVED, "" },
	[C_TS] = { "ts", QS_TIME_S, VAS, 1001, 0, "DateTime", 0, "" },
	[C_MAC] = { "mac", QS_MAC, 0, 56, 0, "FixedString(6)", 0, "" },
};

static const struct qs_stream_def tdef = { QS_FULLFLOW, "test", 1500, cols, NCOLS, NULL, NULL, NULL };

/* Rows caught by the emit callback, deep-copied. */
#define MAXROWS 64
struct row {
	uint32_t domain;
	uint64_t present;
	uint64_t u[NCOLS];
	uint8_t *p[NCOLS];
	uint32_t len[NCOLS];
};
struct catcher {
	struct row rows[MAXROWS];
	int n;
	int pause_at; /* emit returns 1 once when n == pause_at (-1: never) */
};

static int catch_row(void *ctx, const struct qs_record *r, uint32_t domain)
{
	struct catcher *c = ctx;
	if (c->pause_at >= 0 && c->n == c->pause_at) {
		c->pause_at = -1;
		return 1;
	}
	assert_true(c->n < MAXROWS);
	struct row *w = &c->rows[c->n++];
	memset(w, 0, sizeof *w);
	w->domain = domain;
	w->present = r->present[0];
	for (int i = 0; i < NCOLS; i++) {
		if (!qs_record_has(r, i))
			continue;
		w->u[i] = r->v[i].u;
		if (cols[i].type == QS_IPV6 || cols[i].type == QS_MAC || cols[i].type == QS_STR) {
			w->len[i] = r->v[i].len;
			w->p[i] = malloc(r->v[i].len + 1);
			if (r->v[i].len)
				memcpy(w->p[i], r->v[i].p, r->v[i].len);
		}
	}
	return 0;
}

static void catcher_free(struct catcher *c)
{
	for (int i = 0; i < c->n; i++)
		for (int k = 0; k < NCOLS; k++)
			free(c->rows[i].p[k]);
	c->n = 0;
}

struct fixture {
	struct decode_model *m;
	struct decode_session *s;
	struct catcher c;
	struct ipfix_builder b;
	char tmpdir[256];      /* removed by teardown when set */
};

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw);

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char err[256];
	const char *xml = getenv("QOESTOR_IE_XML"); /* test/run.sh runs tests from the top */
	f->m = decode_model_open(xml ? xml : "dictionaries/vasexperts-ie.xml", err, sizeof err);
	if (!f->m)
		fail_msg("%s", err);
	f->s = decode_session_open(f->m, &tdef, "test-peer");
	f->c.pause_at = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	if (f->tmpdir[0])
		nftw(f->tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	catcher_free(&f->c);
	decode_session_close(f->s);
	decode_model_close(f->m);
	free(f);
	return 0;
}

static enum decode_result feed(struct fixture *f)
{
	struct decode_cursor cur = { 0 };
	size_t len = ib_end(&f->b);
	return decode_message(f->s, f->b.buf, len, catch_row, &f->c, &cur);
}

static const struct decode_counters *counters(struct fixture *f, uint32_t domain)
{
	size_t n;
	const struct decode_domain *d = decode_session_domains(f->s, &n);
	for (size_t i = 0; i < n; i++)
		if (d[i].domain == domain)
			return &d[i].c;
	fail_msg("no counters for domain %u", domain);
	return NULL;
}

static int has(const struct row *w, int col)
{
	return (int)((w->present >> col) & 1);
}

/* A fullflow-like IPv4 template, elements in an unusual order, with an IANA
 * element and a vendor element the schema does not know, and reduced lengths. */
static void test_basic_v4(void **state)
{
	struct fixture *f = *state;
	struct ipfix_builder *b = &f->b;
	ib_begin(b, 7, 0);
	ib_set(b, 2);
	ib_tmpl(b, 300, 9);
	ib_field(b, VAS, 2001, 65535); /* host, varlen */
	ib_field(b, 0, 8, 4);          /* src4 */
	ib_field(b, 0, 85, 8);         /* octetTotalCount: not in the schema */
	ib_field(b, 0, 1, 4);          /* octets, reduced to 4 bytes */
	ib_field(b, 12345, 7, 2);      /* unknown enterprise element */
	ib_field(b, 0, 4, 1);          /* proto */
	ib_field(b, 0, 152, 8);        /* start ms */
	ib_field(b, VAS, 2000, 8);     /* session */
	ib_field(b, VAS, 2012, 2);     /* rtt, reduced to 2 bytes */
	ib_set_end(b);
	ib_set(b, 300);
	for (int i = 0; i < 2; i++) {
		ib_varlen(b, i ? "example.org" : "", i ? 11 : 0);
		ib_u32(b, 0x0a000001u + (uint32_t)i);
		ib_u64(b, 999);
		ib_u32(b, 4000000000u);
		ib_u16(b, 0xbeef);
		ib_u8(b, 6);
		ib_u64(b, 1700000000123ull);
		ib_u64(b, 0x0102030405060708ull);
		ib_u16(b, 65000);
	}
	ib_set_end(b);
	assert_int_equal(feed(f), DECODE_OK);
	assert_int_equal(f->c.n, 2);
	const struct row *w = &f->c.rows[1];
	assert_int_equal(w->domain, 7);
	assert_true(has(w, C_HOST));
	assert_int_equal(w->len[C_HOST], 11);
	assert_memory_equal(w->p[C_HOST], "example.org", 11);
	assert_int_equal(w->u[C_SRC4], 0x0a000002u);
	assert_int_equal(w->u[C_OCT], 4000000000u);
	assert_int_equal(w->u[C_PROTO], 6);
	assert_int_equal(w->u[C_START], 1700000000123ull);
	assert_int_equal(w->u[C_SESS], 0x0102030405060708ull);
	assert_int_equal(w->u[C_RTT], 65000);
	/* absent is not zero */
	assert_false(has(w, C_PKT));
	assert_false(has(w, C_LOGIN));
	assert_false(has(w, C_SRC6));
	assert_false(has(w, C_DERIVED));
	/* an empty varlen is present and empty */
	assert_true(has(&f->c.rows[0], C_HOST));
	assert_int_equal(f->c.rows[0].len[C_HOST], 0);
	const struct decode_counters *c = counters(f, 7);
	assert_int_equal(c->messages, 1);
	assert_int_equal(c->records, 2);
	assert_int_equal(c->rows, 2);
	assert_int_equal(c->templates, 1);
	assert_int_equal(c->malformed_messages, 0);
}

/* IPv4 and IPv6 templates in one message; one vendor element (1003) that
 * carries either family by its length. */
static void test_v4_v6_side_by_side(void **state)
{
	struct fixture *f = *state;
	struct ipfix_builder *b = &f->b;
	static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42 };
	ib_begin(b, 1, 0);
	ib_set(b, 2);
	ib_tmpl(b, 256, 3);
	ib_field(b, 0, 8, 4);
	ib_field(b, VAS, 1003, 4);
	ib_field(b, 0, 2, 8);
	ib_tmpl(b, 257, 3);
	ib_field(b, 0, 27, 16);
	ib_field(b, VAS, 1003, 16);
	ib_field(b, 0, 2, 8);
	ib_set_end(b);
	ib_set(b, 257);
	ib_bytes(b, a6, 16);
	ib_bytes(b, a6, 16);
	ib_u64(b, 5);
	ib_set_end(b);
	ib_set(b, 256);
	ib_u32(b, 0xc0a80001u);
	ib_u32(b, 0xc0a80002u);
	ib_u64(b, 6);
	ib_set_end(b);
	assert_int_equal(feed(f), DECODE_OK);
	assert_int_equal(f->c.n, 2);
	const struct row *v6 = &f->c.rows[0], *v4 = &f->c.rows[1];
	assert_true(has(v6, C_SRC6) && has(v6, C_IPS6));
	assert_false(has(v6, C_SRC4) || has(v6, C_IPS4));
	assert_memory_equal(v6->p[C_SRC6], a6, 16);
	assert_memory_equal(v6->p[C_IPS6], a6, 16);
	assert_int_equal(v6->u[C_PKT], 5);
	assert_true(has(v4, C_SRC4) && has(v4, C_IPS4));
	assert_false(has(v4, C_SRC6) || has(v4, C_IPS6));
	assert_int_equal(v4->u[C_SRC4], 0xc0a80001u);
	assert_int_equal(v4->u[C_IPS4], 0xc0a80002u);
	assert_int_equal(v4->u[C_PKT], 6);
}

/* Varlen strings of 0, 254, 255 and the largest length a message can hold. */
static void test_varlen_lengths(void **state)
{
	struct fixture *f = *state;
	struct ipfix_builder *b = &f->b;
	static char big[65536];
	memset(big, 'x', sizeof big);
	const size_t lens[] = { 0, 1, 254, 255, 256, 1000, 65535 - 16 - 4 - 3 - 4 - 12 };
	uint32_t seq = 0;
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		ib_begin(b, 1, seq);
		if (i == 0) {
			ib_set(b, 2);
			ib_tmpl(b, 256, 2);
			ib_field(b, VAS, 2003, 65535);
			ib_field(b, 0, 4, 1);
			ib_set_end(b);
		}
		ib_set(b, 256);
		big[0] = (char)('a' + i);
		ib_varlen(b, big, lens[i]);
		ib_u8(b, 17);
		ib_set_end(b);
		assert_int_equal(feed(f), DECODE_OK);
		seq++;
		assert_int_equal(f->c.n, (int)i + 1);
		const struct row *w = &f->c.rows[i];
		assert_int_equal(w->len[C_LOGIN], lens[i]);
		if (lens[i])
			assert_int_equal(w->p[C_LOGIN][0], 'a' + (int)i);
		assert_int_equal(w->u[C_PROTO], 17);
	}
	const struct decode_counters *c = counters(f, 1);
	assert_int_equal(c->malformed_messages, 0);
	assert_int_equal(c->seq_gaps, 0);
}

/* Redefinition replaces the template; withdrawal (field count 0) removes it. */
static void test_redefine_and_withdraw(void **state)
{
	struct fixture *f = *state;
	struct ipfix_builder *b = &f->b;
	ib_begin(b, 1, 0);
	ib_set(b, 2);
	ib_tmpl(b, 400, 1);
	ib_field(b, 0, 1, 8);
	ib_set_end(b);
	ib_set(b, 400);
	ib_u64(b, 11);
	ib_set_end(b);
	ib_set(b, 2);
	ib_tmpl(b, 400, 2);
	ib_field(b, 0, 2, 4);
	ib_field(b, 0, 7, 2);
	ib_set_end(b);
	ib_set(b, 400);
	ib_u32(b, 22);
	ib_u16(b, 80);
	ib_set_end(b);
	assert_int_equal(feed(f), DECODE_OK);
	assert_int_equal(f->c.n, 2);
	assert_true(has(&f->c.rows[0], C_OCT));
	assert_false(has(&f->c.rows[0], C_PKT));
	assert_int_equal(f->c.rows[0].u[C_OCT], 11);
	assert_false(has(&f->c.rows[1], C_OCT));
	assert_int_equal(f->c.rows[1].u[C_PKT], 22);
	assert_int_equal(f->c.rows[1].u[C_SPORT], 80);

	/* withdraw 400, then send data for it */
	ib_begin(b, 1, 2);
	ib_set(b, 2);
	ib_tmpl(b, 400, 0);
	ib_set_end(b);
	ib_set(b, 400);
	ib_u32(b, 33);
	ib_u16(b, 81);
	ib_set_end(b);
	assert_int_equal(feed(f), DECODE_OK);
	assert_int_equal(f->c.n, 2);
	const struct decode_counters *c = counters(f, 1);
	assert_int_equal(c->unknown_template_sets, 1);
	assert_int_equal(c->rows, 2);

	/* the next message's sequence number tells how many records were lost */
	ib_begin(b, 1, 3);
	assert_int_equal(feed(f), DECODE_OK);
	assert_int_equal(c->unknown_template_records, 1);
	assert_int_equal(c->seq_gaps, 0);
}

/* The same template id means different things in two domains. */
static void test_two_domains(void **state)
{
	struct fixture *f = *state;
	struct ipfix_builder *b = &f->b;
	for (uint32_t dom = 1; dom <= 2; dom++) {
		ib_begin(b, dom, 0);
		ib_set(b, 2);
		ib_tmpl(b, 256, 1);
		ib_field(b, 0, dom == 1 ? 1 : 2, 8);
		ib_set_end(b);
		assert_int_equal(feed(f), DECODE_OK);
	}
	for (uint32_t dom = 1; dom <= 2; dom++) {
		ib_begin(b, dom, 0);
		ib_set(b, 256);
		ib_u64(b, 100 + dom);
		ib_u64(b, 200 + dom);
		ib_set_end(b);
		assert_int_equal(feed(f), DECODE_OK);
	}
	assert_int_equal(f->c.n, 4);
	assert_int_equal(f->c.rows[0].domain, 1);
	assert_true(has(&f->c.rows[0], C_OCT) && !has(&f->c.rows[0], C_PKT));
	assert_int_equal(f->c.rows[1].u[C_OCT], 201);
	assert_int_equal(f->c.rows[2].domain, 2);
	assert_true(has(&f->c.rows[2], C_PKT) && !has(&f->c.rows[2], C_OCT));
	assert_int_equal(f->c.rows[3].u[C_PKT], 202);
	assert_int_equal(counters(f, 1)->records, 2);
	assert_int_equal(counters(f, 2)->records, 2);
	assert_int_equal(counters(f, 1)->messages, 2);
}

/* Sequence numbers: records the exporter numbered that never arrived. */
static void test_sequence_gap(void **state)
{
	struct fixture *f = *state;
	struct ipfix_builder *b = &f->b;
	ib_begin(b, 3, 100);
	ib_set(b, 2);
	ib_tmpl(b, 256, 1);
	ib_field(b, 0, 1, 8);
	ib_set_end(b);
	ib_set(b, 256);
	ib_u64(b, 1);
	ib_u64(b, 2);
	ib_set_end(b);
	assert_int_equal(feed(f), DECODE_OK);
	ib_begin(b, 3, 102); /* in sequence */
	ib_set(b, 256);
	ib_u64(b, 3);
	ib_set_end(b);
	assert_int_equal(feed(f), DECODE_OK);
	ib_begin(b, 3, 110); /* 7 records lost */
	ib_set(b, 256);
	ib_u64(b, 4);
	ib_set_end(b);
	assert_int_equal(feed(f), DECODE_OK);
	const struct decode_counters *c = counters(f, 3);
	assert_int_equal(c->seq_gaps, 7);
	assert_int_equal(c->records, 4);
}

/* Data before its template: skipped and counted, decoded once it is known. */
static void test_unknown_template(void **state)
{
	struct fixture *f = *state;
	struct ipfix_builder *b = &f->b;
	ib_begin(b, 1, 0);
	ib_set(b, 999);
	ib_u64(b, 1);
	ib_u64(b, 2);
	ib_u64(b, 3);
	ib_set_end(b);
	assert_int_equal(feed(f), DECODE_OK);
	ib_begin(b, 1, 3);
	ib_set(b, 2);
	ib_tmpl(b, 999, 1);
	ib_field(b, 0, 1, 8);
	ib_set_end(b);
	ib_set(b, 999);
	ib_u64(b, 4);
	ib_set_end(b);
	assert_int_equal(feed(f), DECODE_OK);
	assert_int_equal(f->c.n, 1);
	const struct decode_counters *c = counters(f, 1);
	assert_int_equal(c->unknown_template_sets, 1);
	assert_int_equal(c->unknown_template_records, 3);
	assert_int_equal(c->seq_gaps, 0);
}

/* Options records are read and counted, never emitted as rows. */
static void test_options_records(void **state)
{
	struct fixture *f = *state;
	struct ipfix_builder *b = &f->b;
	ib_begin(b, 1, 0);
	ib_set(b, 3);
	ib_opt_tmpl(b, 500, 2, 1);
	ib_field(b, 0, 149, 4); /* observationDomainId (scope) */
	ib_field(b, 0, 1, 8);
	ib_set_end(b);
	ib_set(b, 500);
	ib_u32(b, 1);
	ib_u64(b, 77);
	ib_set_end(b);
	assert_int_equal(feed(f), DECODE_OK);
	assert_int_equal(f->c.n, 0);
	assert_int_equal(counters(f, 1)->options_records, 1);
}

static void build_one_record(struct ipfix_builder *b)
{
	ib_begin(b, 1, 0);
	ib_set(b, 2);
	ib_tmpl(b, 256, 2);
	ib_field(b, 0, 1, 8);
	ib_field(b, VAS, 2001, 65535);
	ib_set_end(b);
	ib_set(b, 256);
	ib_u64(b, 1);
	ib_varlen(b, "abc", 3);
	ib_set_end(b);
}

/* A set that claims to run past the message end. */
static void test_truncated_set(void **state)
{
	struct fixture *f = *state;
	struct ipfix_builder *b = &f->b;
	build_one_record(b);
	ib_set(b, 256);
	ib_u64(b, 2);
	ib_varlen(b, "def", 3);
	ib_set_end(b);
	size_t len = ib_end(b);
	b->buf[len - 16 + 2] = 0x01; /* the second data set's length: 0x01xx */
	struct decode_cursor cur = { 0 };
	assert_int_equal(decode_message(f->s, b->buf, len, catch_row, &f->c, &cur), DECODE_OK);
	assert_int_equal(f->c.n, 1); /* the record before the fault is kept */
	assert_int_equal(counters(f, 1)->malformed_messages, 1);
}

/* A varlen length past the end of its set. */
static void test_varlen_overrun(void **state)
{
	struct fixture *f = *state;
	struct ipfix_builder *b = &f->b;
	build_one_record(b);
	size_t len = ib_end(b);
	b->buf[len - 4] = 200; /* "abc" now claims 200 bytes */
	struct decode_cursor cur = { 0 };
	assert_int_equal(decode_message(f->s, b->buf, len, catch_row, &f->c, &cur), DECODE_OK);
	assert_int_equal(f->c.n, 0);
	assert_int_equal(counters(f, 1)->malformed_messages, 1);
	/* the session still works */
	ib_begin(b, 1, 1);
	ib_set(b, 256);
	ib_u64(b, 5);
	ib_varlen(b, "ok", 2);
	ib_set_end(b);
	assert_int_equal(feed(f), DECODE_OK);
	assert_int_equal(f->c.n, 1);
	assert_int_equal(f->c.rows[0].u[C_OCT], 5);
}

/* Header lies: wrong version, wrong length, too short. */
static void test_bad_headers(void **state)
{
	struct fixture *f = *state;
	struct ipfix_builder *b = &f->b;
	build_one_record(b);
	size_t len = ib_end(b);
	struct decode_cursor cur = { 0 };
	b->buf[1] = 5; /* NetFlow v5 */
	assert_int_equal(decode_message(f->s, b->buf, len, catch_row, &f->c, &cur), DECODE_MALFORMED);
	b->buf[1] = 10;
	memset(&cur, 0, sizeof cur);
	assert_int_equal(decode_message(f->s, b->buf, len - 1, catch_row, &f->c, &cur), DECODE_MALFORMED);
	memset(&cur, 0, sizeof cur);
	assert_int_equal(decode_message(f->s, b->buf, 10, catch_row, &f->c, &cur), DECODE_MALFORMED);
	assert_int_equal(f->c.n, 0);
	/* a header-only message is legal */
	ib_begin(b, 1, 0);
	memset(&cur, 0, sizeof cur);
	assert_int_equal(feed(f), DECODE_OK);
}

/* A template with an absurd field count in a short set. */
static void test_absurd_template(void **state)
{
	struct fixture *f = *state;
	struct ipfix_builder *b = &f->b;
	ib_begin(b, 1, 0);
	ib_set(b, 2);
	ib_tmpl(b, 256, 60000);
	ib_field(b, 0, 1, 8);
	ib_set_end(b);
	assert_int_equal(feed(f), DECODE_OK);
	ib_begin(b, 1, 0);
	ib_set(b, 2);
	ib_tmpl(b, 257, 1);
	ib_field(b, 0, 1, 60000); /* a fixed length longer than any record */
	ib_set_end(b);
	ib_set(b, 257);
	ib_u64(b, 1);
	ib_set_end(b);
	assert_int_equal(feed(f), DECODE_OK);
	assert_int_equal(f->c.n, 0);
}

/* emit pauses (disk full); the repeated message emits each record once. */
static void test_pause_resume(void **state)
{
	struct fixture *f = *state;
	struct ipfix_builder *b = &f->b;
	ib_begin(b, 1, 0);
	ib_set(b, 2);
	ib_tmpl(b, 256, 1);
	ib_field(b, 0, 1, 8);
	ib_set_end(b);
	ib_set(b, 256);
	for (uint64_t i = 0; i < 5; i++)
		ib_u64(b, i);
	ib_set_end(b);
	size_t len = ib_end(b);
	f->c.pause_at = 2;
	struct decode_cursor cur = { 0 };
	assert_int_equal(decode_message(f->s, b->buf, len, catch_row, &f->c, &cur), DECODE_PAUSED);
	assert_int_equal(f->c.n, 2);
	assert_int_equal(decode_message(f->s, b->buf, len, catch_row, &f->c, &cur), DECODE_OK);
	assert_int_equal(f->c.n, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(f->c.rows[i].u[C_OCT], (uint64_t)i);
	const struct decode_counters *c = counters(f, 1);
	assert_int_equal(c->messages, 1);
	assert_int_equal(c->records, 5);
	assert_int_equal(c->rows, 5);
	assert_int_equal(c->templates, 1);
}

/* Element lengths that cannot fill their column are skipped, not misread. */
static void test_bad_element_lengths(void **state)
{
	struct fixture *f = *state;
	struct ipfix_builder *b = &f->b;
	static const uint8_t mac[6] = { 1, 2, 3, 4, 5, 6 };
	ib_begin(b, 1, 0);
	ib_set(b, 2);
	ib_tmpl(b, 256, 5);
	ib_field(b, 0, 8, 6);        /* IPv4 with 6 bytes: skipped */
	ib_field(b, 0, 1, 3);        /* 3-byte reduced octets: fine */
	ib_field(b, VAS, 1003, 8);   /* neither 4 nor 16: skipped */
	ib_field(b, 0, 56, 6);       /* mac */
	ib_field(b, VAS, 1001, 4);   /* dateTimeSeconds */
	ib_set_end(b);
	ib_set(b, 256);
	ib_bytes(b, "\1\2\3\4\5\6", 6);
	ib_uint(b, 0x123456, 3);
	ib_u64(b, 9);
	ib_bytes(b, mac, 6);
	ib_u32(b, 1700000000u);
	ib_set_end(b);
	assert_int_equal(feed(f), DECODE_OK);
	assert_int_equal(f->c.n, 1);
	const struct row *w = &f->c.rows[0];
	assert_false(has(w, C_SRC4));
	assert_false(has(w, C_IPS4) || has(w, C_IPS6));
	assert_int_equal(w->u[C_OCT], 0x123456);
	assert_memory_equal(w->p[C_MAC], mac, 6);
	assert_int_equal(w->u[C_TS], 1700000000u);
}

/* NetFlow v9: refused unless accepted; template with uptime times and a
 * vendor type; times become epoch ms; a packet gap is counted in packets. */
static void test_netflow_v9(void **state)
{
	struct fixture *f = *state;
	struct ipfix_builder *b = &f->b;
	b->len = 0;
	ib_u16(b, 9);
	ib_u16(b, 3);
	ib_u32(b, 100000);            /* sysUptime ms */
	ib_u32(b, 1700000000u);       /* unix_secs */
	ib_u32(b, 7);                 /* packet sequence */
	ib_u32(b, 42);                /* source id */
	ib_set(b, 0);
	ib_u16(b, 256);
	ib_u16(b, 4);
	ib_u16(b, 8); ib_u16(b, 4);
	ib_u16(b, 1); ib_u16(b, 4);
	ib_u16(b, 22); ib_u16(b, 4);
	ib_u16(b, 0x8001); ib_u16(b, 2);
	ib_set_end(b);
	ib_set(b, 256);
	ib_u32(b, 0x0a000001); ib_u32(b, 1234); ib_u32(b, 99000); ib_u16(b, 7);
	ib_u32(b, 0x0a000002); ib_u32(b, 99); ib_u32(b, 100000); ib_u16(b, 7);
	ib_u16(b, 0); /* padding */
	ib_set_end(b);
	size_t len = b->len;
	struct decode_cursor cur = { 0 };
	assert_int_equal(decode_message(f->s, b->buf, len, catch_row, &f->c, &cur), DECODE_MALFORMED);
	assert_int_equal(f->c.n, 0);
	decode_session_accept(f->s, DECODE_NETFLOW9);
	memset(&cur, 0, sizeof cur);
	assert_int_equal(decode_message(f->s, b->buf, len, catch_row, &f->c, &cur), DECODE_OK);
	assert_int_equal(f->c.n, 2);
	assert_int_equal(f->c.rows[0].domain, 42);
	assert_int_equal(f->c.rows[0].u[C_SRC4], 0x0a000001);
	assert_int_equal(f->c.rows[0].u[C_OCT], 1234);
	assert_int_equal(f->c.rows[0].u[C_START], 1699999999000ull);
	assert_int_equal(f->c.rows[1].u[C_START], 1700000000000ull);
	assert_false(has(&f->c.rows[0], C_PKT));
	/* the next packet skips sequence 8: one packet lost */
	b->buf[15] = 9;
	memset(&cur, 0, sizeof cur);
	assert_int_equal(decode_message(f->s, b->buf, len, catch_row, &f->c, &cur), DECODE_OK);
	const struct decode_counters *c = counters(f, 42);
	assert_int_equal(c->records, 4);
	assert_int_equal(c->templates, 2);
	assert_int_equal(c->seq_gaps, 1);
}

/* NetFlow v5: fixed records, uptime times with nanoseconds, engine as domain. */
static void test_netflow_v5(void **state)
{
	struct fixture *f = *state;
	struct ipfix_builder *b = &f->b;
	decode_session_accept(f->s, DECODE_NETFLOW5);
	b->len = 0;
	ib_u16(b, 5);
	ib_u16(b, 2);
	ib_u32(b, 50000);
	ib_u32(b, 1700000000u);
	ib_u32(b, 500000000u);
	ib_u32(b, 100);
	ib_u8(b, 1);
	ib_u8(b, 2);
	ib_u16(b, 0);
	for (unsigned i = 0; i < 2; i++) {
		ib_u32(b, 0xc0a80001 + i); ib_u32(b, 0x08080808); ib_u32(b, 0);
		ib_u16(b, 1); ib_u16(b, 2);
		ib_u32(b, 10 + i); ib_u32(b, 1000 + i);
		ib_u32(b, 40000); ib_u32(b, 49000);
		ib_u16(b, 5000 + (uint16_t)i); ib_u16(b, 53);
		ib_u8(b, 0); ib_u8(b, 0x12); ib_u8(b, 17); ib_u8(b, 0);
		ib_u16(b, 0); ib_u16(b, 0); ib_u8(b, 24); ib_u8(b, 24); ib_u16(b, 0);
	}
	size_t len = b->len;
	struct decode_cursor cur = { 0 };
	assert_int_equal(decode_message(f->s, b->buf, len, catch_row, &f->c, &cur), DECODE_OK);
	assert_int_equal(f->c.n, 2);
	assert_int_equal(f->c.rows[1].domain, 258);
	assert_int_equal(f->c.rows[1].u[C_SRC4], 0xc0a80002);
	assert_int_equal(f->c.rows[1].u[C_OCT], 1001);
	assert_int_equal(f->c.rows[1].u[C_PKT], 11);
	assert_int_equal(f->c.rows[1].u[C_PROTO], 17);
	assert_int_equal(f->c.rows[1].u[C_SPORT], 5001);
	assert_int_equal(f->c.rows[0].u[C_START], 1700000000500ull - 10000);
	/* a length that does not match the count */
	memset(&cur, 0, sizeof cur);
	assert_int_equal(decode_message(f->s, b->buf, len - 1, catch_row, &f->c, &cur), DECODE_MALFORMED);
	/* v5 sequence counts flows: 102 is next; 110 means 8 lost */
	b->buf[19] = 110;
	memset(&cur, 0, sizeof cur);
	assert_int_equal(decode_message(f->s, b->buf, len, catch_row, &f->c, &cur), DECODE_OK);
	assert_int_equal(counters(f, 258)->seq_gaps, 8);
}

/* UDP: a data set before its template is held, then decoded when the
 * template arrives in a later message; counters say so. */
static void test_udp_hold(void **state)
{
	struct fixture *f = *state;
	struct ipfix_builder *b = &f->b;
	decode_session_udp(f->s, 10, 1 << 20, 0);
	ib_begin(b, 1, 0);
	ib_set(b, 256);
	ib_u64(b, 77);
	ib_u64(b, 78);
	ib_set_end(b);
	assert_int_equal(feed(f), DECODE_OK);
	assert_int_equal(f->c.n, 0);
	ib_begin(b, 1, 2);
	ib_set(b, 2);
	ib_tmpl(b, 256, 1);
	ib_field(b, 0, 1, 8);
	ib_set_end(b);
	assert_int_equal(feed(f), DECODE_OK);
	assert_int_equal(f->c.n, 2);
	assert_int_equal(f->c.rows[0].u[C_OCT], 77);
	assert_int_equal(f->c.rows[1].u[C_OCT], 78);
	const struct decode_counters *c = counters(f, 1);
	assert_int_equal(c->held_sets, 1);
	assert_int_equal(c->held_records, 2);
	assert_int_equal(c->unknown_template_sets, 0);
	assert_int_equal(c->rows, 2);
	/* a held set of another domain is not decoded by this domain's template */
	ib_begin(b, 2, 0);
	ib_set(b, 256);
	ib_u64(b, 5);
	ib_set_end(b);
	assert_int_equal(feed(f), DECODE_OK);
	ib_begin(b, 1, 4);
	ib_set(b, 2);
	ib_tmpl(b, 256, 1);
	ib_field(b, 0, 2, 8);
	ib_set_end(b);
	assert_int_equal(feed(f), DECODE_OK);
	assert_int_equal(f->c.n, 2);
	assert_int_equal(counters(f, 2)->held_sets, 1);
}

/* A template set sent again unchanged is not parsed again (counted all the
 * same); a changed one, a redefinition in between or a withdrawal is. */
static void tmpl_msg(struct ipfix_builder *b, uint32_t seq, int def, uint64_t v)
{
	ib_begin(b, 1, seq);
	ib_set(b, 2);
	if (def == 0) {          /* withdrawal */
		ib_tmpl(b, 500, 0);
	} else if (def == 1) {   /* octets (8) */
		ib_tmpl(b, 500, 1);
		ib_field(b, 0, 1, 8);
	} else {                 /* packets (4) */
		ib_tmpl(b, 500, 1);
		ib_field(b, 0, 2, 4);
	}
	ib_set_end(b);
	if (def) {
		ib_set(b, 500);
		if (def == 1)
			ib_u64(b, v);
		else
			ib_u32(b, (uint32_t)v);
		ib_set_end(b);
	}
}

static void test_template_resend(void **state)
{
	struct fixture *f = *state;
	static const struct { int def; uint64_t v; } steps[] = {
		{ 1, 11 }, { 1, 12 }, { 1, 13 }, { 2, 22 }, { 1, 14 }, { 0, 0 }, { 1, 15 }, { 1, 16 },
	};
	int rows = 0;
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		tmpl_msg(&f->b, (uint32_t)rows, steps[i].def, steps[i].v);
		assert_int_equal(feed(f), DECODE_OK);
		if (!steps[i].def)
			continue;
		assert_int_equal(f->c.n, ++rows);
		const struct row *w = &f->c.rows[rows - 1];
		int col = steps[i].def == 1 ? C_OCT : C_PKT;
		assert_true(has(w, col));
		assert_false(has(w, col == C_OCT ? C_PKT : C_OCT));
		assert_int_equal(w->u[col], steps[i].v);
	}
	const struct decode_counters *c = counters(f, 1);
	assert_int_equal(c->templates, 8);
	assert_int_equal(c->rows, 7);
	assert_int_equal(c->unknown_template_sets, 0);
	assert_int_equal(c->malformed_messages, 0);
}

/* ---- direct rows ---------------------------------------------------------- */

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int add_row(void *ctx, const struct qs_record *r, uint32_t domain)
{
	(void)domain;
	assert_non_null(r);
	assert_int_equal(spool_writer_add(ctx, r), 0);
	return 0;
}

/* Every row of the one published file under dir, as text: column by column,
 * "-" when absent, else the integer or the bytes in hex. */
static char *dump_rows(const char *dir, uint64_t *nrows)
{
	char path[1024], err[512];
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	path[0] = 0;
	while ((e = readdir(d)))
		if (strstr(e->d_name, ".qsp"))
			snprintf(path, sizeof path, "%.400s/%.500s", dir, e->d_name);
	closedir(d);
	assert_true(path[0]);
	struct spool_reader *r = spool_reader_open(path, err, sizeof err);
	if (!r)
		fail_msg("%s", err);
	size_t cap = 1 << 20, len = 0;
	char *out = malloc(cap);
	struct spool_block *b;
	struct qs_record rec;
	int rc;
	*nrows = 0;
	while ((rc = spool_reader_next(r, &b)) == 1) {
		for (uint32_t row = 0; row < spool_block_rows(b); row++) {
			assert_int_equal(spool_block_row(b, row, &rec), 0);
			for (int c = 0; c < NCOLS; c++) {
				if (cap - len < 4096) {
					cap *= 2;
					out = realloc(out, cap);
				}
				if (!qs_record_has(&rec, c)) {
					len += (size_t)snprintf(out + len, cap - len, "-|");
				} else if (cols[c].type == QS_IPV6 || cols[c].type == QS_MAC || cols[c].type == QS_STR) {
					for (uint32_t k = 0; k < rec.v[c].len && k < 1000; k++)
						len += (size_t)snprintf(out + len, cap - len, "%02x", rec.v[c].p[k]);
					len += (size_t)snprintf(out + len, cap - len, "/%u|", rec.v[c].len);
				} else {
					len += (size_t)snprintf(out + len, cap - len, "%llu|",
					                        (unsigned long long)rec.v[c].u);
				}
			}
			out[len++] = '\n';
			(*nrows)++;
		}
	}
	if (rc < 0)
		fail_msg("%s", spool_reader_error(r));
	spool_reader_close(r);
	out[len] = 0;
	return out;
}

/* An IPv4 template with every kind of copy (as is, widened, cut, 3-byte,
 * fixed and varlen strings, MAC, an element the schema lacks) and an IPv6
 * one; sets of many records cross blocks of 5 rows; the last message has a
 * varlen overrun after two good records. Decoded once through emit and
 * spool_writer_add, once as direct rows: the files hold the same rows. In
 * the last message a record overruns in its second varlen, after values of
 * every kind were written: they are taken back. */
static void build_direct_msgs(struct ipfix_builder *b, int part, uint32_t seq)
{
	static char big[400];
	memset(big, 'h', sizeof big);
	ib_begin(b, 3, seq);
	if (part == 0) {
		ib_set(b, 2);
		ib_tmpl(b, 256, 13);
		ib_field(b, 0, 1, 4);        /* octets u64 from 4 bytes */
		ib_field(b, 0, 2, 8);        /* packets */
		ib_field(b, 0, 4, 1);        /* proto */
		ib_field(b, 0, 5, 1);        /* not in the schema: stepped over */
		ib_field(b, 0, 7, 2);        /* sport */
		ib_field(b, 0, 8, 4);        /* src4 */
		ib_field(b, 0, 152, 8);      /* start */
		ib_field(b, VAS, 2001, 65535); /* host, varlen */
		ib_field(b, VAS, 2003, 5);   /* login, fixed 5 bytes */
		ib_field(b, VAS, 2012, 3);   /* rtt u32 from 3 bytes */
		ib_field(b, VAS, 1001, 4);   /* ts */
		ib_field(b, 0, 56, 6);       /* mac */
		ib_field(b, VAS, 2000, 2);   /* session u64 from 2 bytes */
		ib_tmpl(b, 257, 6);
		ib_field(b, 0, 4, 2);        /* proto u8 from 2 bytes (cut) */
		ib_field(b, 0, 27, 16);      /* src6 */
		ib_field(b, VAS, 1003, 16);  /* ip_src6 */
		ib_field(b, VAS, 2003, 65535); /* login, varlen */
		ib_field(b, 0, 2, 2);        /* packets from 2 bytes */
		ib_field(b, VAS, 2001, 65535); /* host, varlen */
		ib_set_end(b);
	}
	if (part == 3) { /* two records, then one whose second varlen overruns */
		ib_set(b, 2);
		ib_tmpl(b, 258, 6);
		ib_field(b, VAS, 2003, 4);     /* login, fixed 4 bytes */
		ib_field(b, 0, 56, 6);         /* mac */
		ib_field(b, 0, 4, 1);          /* proto */
		ib_field(b, VAS, 2001, 65535); /* host, varlen */
		ib_field(b, 0, 2, 8);          /* packets */
		ib_field(b, VAS, 9999, 65535); /* not in the schema, varlen */
		ib_set_end(b);
		ib_set(b, 258);
		for (int i = 0; i < 3; i++) {
			ib_bytes(b, "abcd", 4);
			ib_bytes(b, "\1\2\3\4\5\6", 6);
			ib_u8(b, (uint8_t)i);
			ib_varlen(b, "host.example", 12);
			ib_u64(b, 100u + (unsigned)i);
			if (i < 2) {
				ib_varlen(b, "x", 1);
			} else {
				ib_u8(b, 200);
				ib_bytes(b, "......................", 22);
			}
		}
		ib_set_end(b);
		return;
	}
	ib_set(b, 256);
	int n = part == 2 ? 3 : 13;
	for (int i = 0; i < n; i++) {
		uint32_t k = (uint32_t)(part * 100 + i);
		ib_u32(b, 1000000u + k * 7919u);
		ib_u64(b, 0x0102030405060708ull + k);
		ib_u8(b, (uint8_t)(6 + k));
		ib_u8(b, 0xee);
		ib_u16(b, (uint16_t)(40000 + k));
		ib_u32(b, 0x0a000001u + k);
		ib_u64(b, 1700000000000ull + k);
		size_t hl = (size_t[]){ 0, 3, 254, 255, 300 }[k % 5];
		big[0] = (char)('a' + k % 26);
		ib_varlen(b, big, hl);
		ib_bytes(b, "user0", 5);
		ib_uint(b, 0xabcdef + k, 3);
		ib_u32(b, 1700000000u + k);
		ib_bytes(b, "\x00\x11\x22\x33\x44", 5);
		ib_u8(b, (uint8_t)k);
		ib_u16(b, (uint16_t)(k * 3));
	}
	if (part == 2) { /* a record whose host claims more than the set holds */
		ib_u32(b, 1);
		ib_u64(b, 2);
		ib_u8(b, 3);
		ib_u8(b, 0);
		ib_u16(b, 4);
		ib_u32(b, 5);
		ib_u64(b, 6);
		ib_u8(b, 200);
		ib_bytes(b, "xy....................", 22); /* longer than minlen, shorter than 200 */
	}
	ib_set_end(b);
	if (part < 2) {
		ib_set(b, 257);
		for (int i = 0; i < 9; i++) {
			uint32_t k = (uint32_t)(part * 100 + i);
			uint8_t a6[16];
			for (int j = 0; j < 16; j++)
				a6[j] = (uint8_t)(k + (uint32_t)j);
			ib_u16(b, (uint16_t)(0x1100 + k));
			ib_bytes(b, a6, 16);
			a6[0] ^= 0xff;
			ib_bytes(b, a6, 16);
			ib_varlen(b, "someone-somewhere", (k * 2) % 18); /* 0 .. 16 bytes */
			ib_u16(b, (uint16_t)(65535 - k));
			ib_varlen(b, big, k % 2 ? 255 : 1);
		}
		ib_set_end(b);
	}
}

static void test_direct_rows(void **state)
{
	struct fixture *f = *state;
	char err[512], dir[2][300];
	char *root = f->tmpdir;
	snprintf(root, sizeof f->tmpdir, "%s/test_decode.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(root));
	struct decode_session *s[2];
	struct spool_writer *w[2];
	for (int k = 0; k < 2; k++) {
		char sub[280];
		snprintf(sub, sizeof sub, "%s/%d", root, k);
		struct spool_writer_opts o = { .spool_dir = sub, .def = &tdef, .instance = "t", .block_rows = 5 };
		w[k] = spool_writer_open(&o, err, sizeof err);
		if (!w[k])
			fail_msg("%s", err);
		snprintf(dir[k], sizeof dir[k], "%s/test/0", sub);
		s[k] = decode_session_open(f->m, &tdef, "direct-peer");
	}
	decode_session_spool(s[1], w[1]);
	for (int part = 0; part < 4; part++) {
		build_direct_msgs(&f->b, part, (uint32_t)(part * 22));
		size_t len = ib_end(&f->b);
		for (int k = 0; k < 2; k++) {
			struct decode_cursor cur = { 0 };
			assert_int_equal(decode_message(s[k], f->b.buf, len, add_row, w[k], &cur), DECODE_OK);
		}
	}
	uint64_t rows[2];
	char *text[2];
	for (int k = 0; k < 2; k++) {
		size_t n;
		const struct decode_domain *d = decode_session_domains(s[k], &n);
		assert_int_equal(n, 1);
		assert_int_equal(d[0].c.rows, 13 + 9 + 13 + 9 + 3 + 2);
		assert_int_equal(d[0].c.malformed_messages, 2);
		struct spool_writer_stats st;
		spool_writer_stats(w[k], &st);
		assert_int_equal(st.rows_accepted, 49);
		assert_int_equal(spool_writer_close(w[k]), 0);
		decode_session_close(s[k]);
		text[k] = dump_rows(dir[k], &rows[k]);
	}
	assert_int_equal(rows[0], 49);
	assert_int_equal(rows[1], 49);
	assert_string_equal(text[0], text[1]);
	/* spot checks of the conversions (row 1: IPv4 record k = 1) */
	const char *r1 = strchr(text[1], '\n') + 1;
	char want[64];
	snprintf(want, sizeof want, "%u|%llu|7|", 1000000u + 7919u, 0x0102030405060709ull);
	assert_memory_equal(r1, want, strlen(want));
	assert_non_null(strstr(r1, "|1700000000001|3|626868/3|7573657230/5|")); /* session from 2 bytes,
	                                                                          * host, fixed login */
	assert_non_null(strstr(r1, "|11259376|-|1700000001|001122334401/6|"));  /* rtt from 3 bytes, mac */
	assert_non_null(strstr(text[1], "\n-|65535|0|-|-|"));                    /* IPv6: packets, proto cut */
	free(text[0]);
	free(text[1]);
}

int main(void)
{
	log_init("test_decode", LOG_WARN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_basic_v4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v4_v6_side_by_side, setup, teardown),
		cmocka_unit_test_setup_teardown(test_varlen_lengths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redefine_and_withdraw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_domains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sequence_gap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_template, setup, teardown),
		cmocka_unit_test_setup_teardown(test_options_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_varlen_overrun, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_absurd_template, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_element_lengths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_netflow_v9, setup, teardown),
		cmocka_unit_test_setup_teardown(test_netflow_v5, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_template_resend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_direct_rows, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

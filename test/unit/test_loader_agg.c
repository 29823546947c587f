/* test_loader_agg.c: cmocka tests of the loader's aggregation (loader/agg.h):
 * buckets, keys kept or not (by name and by natflow bitmask), every measure
 * kind, first-seen emission order (determinism), flush threshold and reuse
 * after clear, totals preserved over many random records, agg_add_batch
 * giving exactly the rows and flush points of agg_add, and spilling: merged
 * runs equal one unbounded aggregation, repeated emits, run limits, errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader/agg.h"

struct row {
	uint64_t v[QS_MAX_COLS];
	char s[QS_MAX_COLS][32];
	int has[QS_MAX_COLS];
};

struct sink {
	const struct qs_stream_def *d;
	struct row rows[64];
	size_t n;
	uint64_t sum[QS_MAX_COLS];
};

static int collect(void *arg, const struct qs_record *r)
{
	struct sink *s = arg;
	for (size_t c = 0; c < s->d->ncols; c++) {
		int has = qs_record_has(r, (int)c);
		if (s->n < 64) {
			s->rows[s->n].has[c] = has;
			if (has && s->d->cols[c].type == QS_STR) {
				size_t n = r->v[c].len < 31 ? r->v[c].len : 31;
				memcpy(s->rows[s->n].s[c], r->v[c].p, n);
				s->rows[s->n].s[c][n] = 0;
			} else if (has && s->d->cols[c].type != QS_IPV6)
				s->rows[s->n].v[c] = r->v[c].u;
		}
		if (has && s->d->cols[c].type == QS_U64)
			s->sum[c] += r->v[c].u;
	}
	s->n++;
	return 0;
}

static const struct qs_stream_def *ff(void)
{
	return qs_stream_by_name("fullflow");
}

static void rec(struct qs_record *r, uint64_t t_ms, const char *login, uint64_t octets, int rtt, uint64_t session)
{
	const struct qs_stream_def *d = ff();
	qs_record_clear(r, d);
	qs_record_set_u(r, qs_column_index(d, "flow_start_ms"), t_ms);
	qs_record_set_bytes(r, qs_column_index(d, "login"), (const uint8_t *)login, (uint32_t)strlen(login));
	qs_record_set_u(r, qs_column_index(d, "octets"), octets);
	qs_record_set_u(r, qs_column_index(d, "packets"), 1);
	qs_record_set_u(r, qs_column_index(d, "session_id"), session);
	if (rtt >= 0)
		qs_record_set_u(r, qs_column_index(d, "rtt"), (uint64_t)rtt);
}

static void test_fullflow(void **state)
{
	(void)state;
	const struct qs_agg_def *ad = qs_agg_by_name("fullflow_agg");
	struct agg *a = agg_open(ad, ff(), 900, NULL, 0, 1000);
	assert_non_null(a);
	const struct qs_stream_def *out = agg_out_def(a);
	struct qs_record r;
	uint64_t t = 1700000000000ull; /* 22:13:20 -> bucket 22:00:00 = 1699999200 */
	rec(&r, t, "bob", 100, 50, 1);
	assert_int_equal(agg_add(a, &r), 0);
	rec(&r, t + 1000, "bob", 200, -1, 1);
	assert_int_equal(agg_add(a, &r), 0);
	rec(&r, t + 2000, "bob", 300, 70, 2);
	assert_int_equal(agg_add(a, &r), 0);
	rec(&r, t, "amy", 5, -1, 9);
	assert_int_equal(agg_add(a, &r), 0);
	rec(&r, t + 900000, "bob", 1, 10, 1); /* the next bucket */
	assert_int_equal(agg_add(a, &r), 0);
	assert_int_equal(agg_groups(a), 3);
	assert_int_equal(agg_rows_in(a), 5);
	struct sink s = { .d = out };
	assert_int_equal(agg_emit(a, collect, &s), 0);
	assert_int_equal(s.n, 3);
	int ct = qs_column_index(out, "time"), cl = qs_column_index(out, "login"),
	    co = qs_column_index(out, "octets"), cr = qs_column_index(out, "records"),
	    cs = qs_column_index(out, "sessions"), crs = qs_column_index(out, "rtt_sum"),
	    crc = qs_column_index(out, "rtt_count"), crm = qs_column_index(out, "rtt_max");
	/* First-seen order: bob@22:00, amy@22:00, bob@22:15. */
	assert_string_equal(s.rows[0].s[cl], "bob");
	assert_int_equal(s.rows[0].v[ct], 1699999200);
	assert_int_equal(s.rows[0].v[co], 600);
	assert_int_equal(s.rows[0].v[cr], 3);
	assert_int_equal(s.rows[0].v[cs], 2);
	assert_int_equal(s.rows[0].v[crs], 120);
	assert_int_equal(s.rows[0].v[crc], 2);
	assert_int_equal(s.rows[0].v[crm], 70);
	assert_string_equal(s.rows[1].s[cl], "amy");
	assert_int_equal(s.rows[1].v[crm], 0); /* no RTT measured */
	assert_int_equal(s.rows[2].v[ct], 1699999200 + 900);
	/* Emitting again gives the same rows (determinism). */
	struct sink s2 = { .d = out };
	agg_emit(a, collect, &s2);
	assert_memory_equal(s.rows, s2.rows, sizeof s.rows[0] * 3);
	agg_clear(a);
	assert_int_equal(agg_groups(a), 0);
	agg_close(a);
}

static void test_keys_kept(void **state)
{
	(void)state;
	const struct qs_agg_def *ad = qs_agg_by_name("fullflow_agg");
	struct agg *a = agg_open(ad, ff(), 3600, "host", 0, 1000); /* login not kept */
	struct qs_record r;
	rec(&r, 1700000000000ull, "bob", 1, -1, 1);
	agg_add(a, &r);
	rec(&r, 1700000000000ull, "amy", 2, -1, 1);
	agg_add(a, &r);
	assert_int_equal(agg_groups(a), 1);
	struct sink s = { .d = agg_out_def(a) };
	agg_emit(a, collect, &s);
	assert_false(s.rows[0].has[qs_column_index(s.d, "login")]); /* stored as '' */
	assert_int_equal(s.rows[0].v[qs_column_index(s.d, "time")], 1699999200);
	agg_close(a);

	/* natflow_agg by bitmask: 0x40 keeps the public address only. */
	const struct qs_stream_def *nd = qs_stream_by_name("natflow");
	a = agg_open(qs_agg_by_name("natflow_agg"), nd, 60, NULL, 0x40, 1000);
	for (int i = 0; i < 4; i++) {
		qs_record_clear(&r, nd);
		qs_record_set_u(&r, qs_column_index(nd, "time_ms"), 1700000000000ull + (uint64_t)i * 1000);
		qs_record_set_u(&r, qs_column_index(nd, "post_nat_source_ipv4"), 0xc6336401u + (uint32_t)(i & 1));
		qs_record_set_u(&r, qs_column_index(nd, "source_ipv4"), 0x0a000000u + (uint32_t)i);
		agg_add(a, &r);
	}
	assert_int_equal(agg_groups(a), 2);
	struct sink n = { .d = agg_out_def(a) };
	agg_emit(a, collect, &n);
	int fs = qs_column_index(n.d, "first_seen"), ls = qs_column_index(n.d, "last_seen");
	assert_int_equal(n.rows[0].v[fs], 1700000000000ull);
	assert_int_equal(n.rows[0].v[ls], 1700000002000ull);
	assert_int_equal(n.rows[0].v[qs_column_index(n.d, "records")], 2);
	assert_false(n.rows[0].has[qs_column_index(n.d, "source_ipv4")]);
	assert_true(n.rows[0].has[qs_column_index(n.d, "post_nat_source_ipv4")]);
	agg_close(a);
}

static void test_full_and_totals(void **state)
{
	(void)state;
	const struct qs_agg_def *ad = qs_agg_by_name("fullflow_agg");
	struct agg *a = agg_open(ad, ff(), 900, NULL, 0, 100);
	struct qs_record r;
	uint64_t total = 0, rows = 0;
	struct sink s = { .d = agg_out_def(a) };
	int co = qs_column_index(s.d, "octets"), cr = qs_column_index(s.d, "records");
	srand(7);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 50000; i++) {
			char login[16];
			snprintf(login, sizeof login, "u%d", rand() % 500);
			uint64_t o = (uint64_t)(rand() % 100000);
			rec(&r, 1700000000000ull + (uint64_t)(rand() % 7200000), login, o, rand() % 3 ? rand() % 1000 : -1,
			    (uint64_t)(rand() % 50));
			assert_int_equal(agg_add(a, &r), 0);
			total += o;
			rows++;
			if (agg_full(a)) {
				assert_true(agg_groups(a) >= 100);
				agg_emit(a, collect, &s);
				agg_clear(a);
			}
		}
	}
	agg_emit(a, collect, &s);
	assert_int_equal(s.sum[co], total);
	assert_int_equal(s.sum[cr], rows);
	agg_close(a);
}

/* Order-sensitive digest of emitted rows (every column, flush boundaries). */
static int digest(void *arg, const struct qs_record *r)
{
	uint64_t *h = arg;
	for (size_t c = 0; c < r->def->ncols; c++) {
		int has = qs_record_has(r, (int)c);
		uint64_t x = has;
		if (has) {
			enum qs_type t = r->def->cols[c].type;
			if (t == QS_STR || t == QS_IPV6 || t == QS_MAC)
				for (uint32_t i = 0; i < r->v[c].len; i++)
					x = x * 131 + r->v[c].p[i];
			else
				x = x * 131 + r->v[c].u;
		}
		*h = (*h ^ x) * 0x100000001b3ull;
	}
	return 0;
}

static void test_batch_same(void **state)
{
	(void)state;
	enum { N = 30000 };
	static struct qs_record recs[N];
	static char logins[N][16];
	const struct qs_agg_def *ad = qs_agg_by_name("fullflow_agg");
	srand(11);
	for (int i = 0; i < N; i++) {
		snprintf(logins[i], sizeof logins[i], "u%d", rand() % 700);
		rec(&recs[i], 1700000000000ull + (uint64_t)(rand() % 7200000), logins[i], (uint64_t)(rand() % 100000),
		    rand() % 3 ? rand() % 1000 : -1, (uint64_t)(rand() % 50));
	}
	/* One record at a time. */
	struct agg *a = agg_open(ad, ff(), 900, NULL, 0, 1000);
	uint64_t ha = 1;
	int flushes_a = 0;
	for (int i = 0; i < N; i++) {
		assert_int_equal(agg_add(a, &recs[i]), 0);
		if (agg_full(a)) {
			agg_emit(a, digest, &ha);
			agg_clear(a);
			ha = ha * 31 + (uint64_t)++flushes_a;
		}
	}
	agg_emit(a, digest, &ha);
	agg_close(a);
	/* Batches of random sizes, flushing where agg_add_batch stops. */
	struct agg *b = agg_open(ad, ff(), 900, NULL, 0, 1000);
	uint64_t hb = 1;
	int flushes_b = 0;
	const struct qs_record *p[64];
	for (int i = 0; i < N;) {
		size_t n = 1 + (size_t)(rand() % 40);
		if (n > (size_t)(N - i))
			n = (size_t)(N - i);
		for (size_t k = 0; k < n; k++)
			p[k] = &recs[i + (int)k];
		const struct qs_record *const *q = p;
		size_t left = n;
		while (left) {
			size_t done;
			assert_int_equal(agg_add_batch(b, q, left, &done), 0);
			assert_true(done >= 1 && done <= left);
			q += done;
			left -= done;
			if (agg_full(b)) {
				agg_emit(b, digest, &hb);
				agg_clear(b);
				hb = hb * 31 + (uint64_t)++flushes_b;
			} else
				assert_int_equal(left, 0);
		}
		i += (int)n;
	}
	agg_emit(b, digest, &hb);
	agg_close(b);
	assert_true(flushes_a > 5);
	assert_int_equal(flushes_b, flushes_a);
	assert_true(ha == hb);
}

/* Order-free digest: the sum of the rows' digests. */
static int digest_set(void *arg, const struct qs_record *r)
{
	uint64_t h = 1;
	digest(&h, r);
	*(uint64_t *)arg += h * 0x9e3779b97f4a7c15ull ^ (h >> 29);
	return 0;
}

/* N random records over many keys (login, bucket, session). */
enum { SN = 40000 };
static struct qs_record srecs[SN];
static char slogins[SN][16];

static void spill_records(void)
{
	srand(23);
	for (int i = 0; i < SN; i++) {
		snprintf(slogins[i], sizeof slogins[i], "u%d", rand() % 3000);
		rec(&srecs[i], 1700000000000ull + (uint64_t)(rand() % 7200000), slogins[i], (uint64_t)(rand() % 100000),
		    rand() % 3 ? rand() % 1000 : -1, (uint64_t)(rand() % 40));
	}
}

/* Fold srecs into an aggregate of max_groups with runs spill runs (one
 * record at a time, or in batches) and digest what one emit gives; -1 when
 * it got full (a flush would be needed). */
static int spill_digest(size_t max_groups, unsigned runs, int batch, int ordered, uint64_t *h, size_t *nrows)
{
	const struct qs_agg_def *ad = qs_agg_by_name("fullflow_agg");
	struct agg *a = agg_open(ad, ff(), 900, NULL, 0, max_groups);
	assert_int_equal(agg_set_spill(a, getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", runs), 0);
	int full = 0;
	if (batch) {
		const struct qs_record *p[SN];
		for (int i = 0; i < SN; i++)
			p[i] = &srecs[i];
		size_t done;
		assert_int_equal(agg_add_batch(a, p, SN, &done), 0);
		full = done < SN;
	} else {
		for (int i = 0; i < SN && !full; i++) {
			assert_int_equal(agg_add(a, &srecs[i]), 0);
			full = agg_full(a) && i + 1 < SN;
		}
	}
	*h = 1;
	*nrows = agg_groups(a);
	if (!full)
		assert_int_equal(agg_emit(a, ordered ? digest : digest_set, h), 0);
	agg_close(a);
	return full ? -1 : 0;
}

/* Spilled runs merged give exactly the rows one unbounded aggregate gives
 * (sums, max, counts and distinct sessions); the same records in batches
 * give the same rows in the same order. */
static void test_spill_exact(void **state)
{
	(void)state;
	spill_records();
	uint64_t h_mem, h_spill, h_batch, o_spill, o_batch;
	size_t n_mem, n_spill, n_batch;
	assert_int_equal(spill_digest(1000000, 1, 0, 0, &h_mem, &n_mem), 0); /* fits: no run */
	assert_int_equal(spill_digest(2000, 64, 0, 0, &h_spill, &n_spill), 0);
	assert_int_equal(spill_digest(2000, 64, 1, 0, &h_batch, &n_batch), 0);
	assert_true(n_spill > n_mem); /* it did spill: keys counted once per run */
	assert_true(h_mem == h_spill);
	assert_true(h_mem == h_batch);
	/* Determinism: the same rows in the same order, one by one or in batches. */
	assert_int_equal(spill_digest(2000, 64, 0, 1, &o_spill, &n_spill), 0);
	assert_int_equal(spill_digest(2000, 64, 1, 1, &o_batch, &n_batch), 0);
	assert_true(o_spill == o_batch);
	/* Too few runs: full, the caller must flush. */
	assert_int_equal(spill_digest(2000, 2, 0, 0, &h_spill, &n_spill), -1);
	assert_int_equal(spill_digest(2000, 2, 1, 0, &h_spill, &n_spill), -1);
}

static int count_rows(void *arg, const struct qs_record *r)
{
	(void)r;
	++*(size_t *)arg;
	return 0;
}

/* Totals survive spilling and flushing; an emit can be repeated (the runs
 * are read again) and gives the same rows. */
static void test_spill_totals(void **state)
{
	(void)state;
	spill_records();
	const struct qs_agg_def *ad = qs_agg_by_name("fullflow_agg");
	for (int runs = 0; runs <= 3; runs += 3) {
		struct agg *a = agg_open(ad, ff(), 900, NULL, 0, 1500);
		assert_int_equal(agg_set_spill(a, "/tmp", (unsigned)runs), 0);
		struct sink s = { .d = agg_out_def(a) };
		uint64_t total = 0;
		int flushes = 0;
		for (int i = 0; i < SN; i++) {
			assert_int_equal(agg_add(a, &srecs[i]), 0);
			total += srecs[i].v[qs_column_index(ff(), "octets")].u;
			if (agg_full(a)) {
				size_t before = s.n, again = 0;
				assert_int_equal(agg_emit(a, collect, &s), 0);
				assert_int_equal(agg_emit(a, count_rows, &again), 0);
				assert_int_equal(again, s.n - before);
				agg_clear(a);
				flushes++;
			}
		}
		size_t before = s.n, again = 0;
		assert_int_equal(agg_emit(a, collect, &s), 0);
		assert_int_equal(agg_emit(a, count_rows, &again), 0);
		assert_int_equal(again, s.n - before);
		assert_int_equal(s.sum[qs_column_index(s.d, "octets")], total);
		assert_int_equal(s.sum[qs_column_index(s.d, "records")], SN);
		if (runs)
			assert_true(flushes >= 1);
		/* Set only while empty. */
		assert_int_equal(agg_set_spill(a, "/tmp", 1), -1);
		agg_clear(a);
		assert_int_equal(agg_set_spill(a, "/tmp", 1), 0);
		agg_close(a);
	}
}

/* A spill directory that cannot take the file: agg_add fails and says where. */
static void test_spill_error(void **state)
{
	(void)state;
	spill_records();
	const struct qs_agg_def *ad = qs_agg_by_name("fullflow_agg");
	struct agg *a = agg_open(ad, ff(), 900, NULL, 0, 1000);
	assert_int_equal(agg_set_spill(a, "/nonexistent/qoestor-agg", 4), 0);
	int rc = 0;
	for (int i = 0; i < SN && rc == 0; i++)
		rc = agg_add(a, &srecs[i]);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(agg_error(a), "/nonexistent/qoestor-agg"));
	agg_close(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fullflow), cmocka_unit_test(test_keys_kept), cmocka_unit_test(test_full_and_totals),
		cmocka_unit_test(test_batch_same), cmocka_unit_test(test_spill_exact),
		cmocka_unit_test(test_spill_totals), cmocka_unit_test(test_spill_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

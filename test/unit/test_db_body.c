/* test_db_body.c: unit tests of db/body (decoding, spilling, limits, corrupt input). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <zlib.h>
#include <zstd.h>

#include "db/body.h"

static char tmpdir[] = "/tmp/qoestor-body-XXXXXX";

static char *payload(size_t n)
{
	char *p = malloc(n);
	for (size_t i = 0; i < n; i++)
		p[i] = (char)('a' + (i * 7 + i / 13) % 26);
	return p;
}

static size_t gzip_it(const char *in, size_t n, unsigned char *out, size_t cap)
{
	z_stream z = {0};
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	size_t len = z.total_out;
	deflateEnd(&z);
	return len;
}

/* Feed in uneven chunks, like a network would. */
static int feed_chunks(struct body *b, const unsigned char *p, size_t n)
{
	size_t off = 0, step = 1;
	while (off < n) {
		size_t k = step < n - off ? step : n - off;
		if (body_feed(b, p + off, k) != 0)
			return -1;
		off += k;
		step = step * 3 + 1;
	}
	return 0;
}

static void check_roundtrip(enum body_encoding enc, size_t n, size_t spill_at)
{
	char *plain = payload(n);
	size_t cap = ZSTD_compressBound(n) + 1024;
	unsigned char *enc_buf = malloc(cap);
	size_t elen;
	if (enc == BODY_GZIP)
		elen = gzip_it(plain, n, enc_buf, cap);
	else if (enc == BODY_ZSTD)
		elen = ZSTD_compress(enc_buf, cap, plain, n, 3);
	else {
		memcpy(enc_buf, plain, n);
		elen = n;
	}
	struct body *b = body_new(enc, tmpdir, spill_at, 0);
	assert_non_null(b);
	assert_int_equal(feed_chunks(b, enc_buf, elen), 0);
	assert_int_equal(body_finish(b), 0);
	assert_int_equal(body_size(b), n);
	if (n > spill_at) {
		assert_null(body_memory(b));
		assert_non_null(body_path(b));
		assert_int_equal(access(body_path(b), R_OK), 0);
	}
	char path[4200] = "";
	if (body_path(b))
		snprintf(path, sizeof path, "%s", body_path(b));
	assert_int_equal(body_load(b), 0);
	assert_memory_equal(body_memory(b), plain, n);
	body_free(b);
	if (path[0])
		assert_int_not_equal(access(path, F_OK), 0); /* temp file removed */
	free(plain);
	free(enc_buf);
}

static void test_identity(void **s) { (void)s; check_roundtrip(BODY_IDENTITY, 100000, 1 << 20); }
static void test_identity_spill(void **s) { (void)s; check_roundtrip(BODY_IDENTITY, 3000000, 65536); }
static void test_gzip(void **s) { (void)s; check_roundtrip(BODY_GZIP, 2000000, 1 << 30); }
static void test_gzip_spill(void **s) { (void)s; check_roundtrip(BODY_GZIP, 2000000, 100000); }
static void test_zstd(void **s) { (void)s; check_roundtrip(BODY_ZSTD, 2000000, 1 << 30); }
static void test_zstd_spill(void **s) { (void)s; check_roundtrip(BODY_ZSTD, 5000000, 100000); }

static void test_truncated_and_corrupt(void **s)
{
	(void)s;
	size_t n = 200000;
	char *plain = payload(n);
	unsigned char *z = malloc(ZSTD_compressBound(n));
	size_t zl = ZSTD_compress(z, ZSTD_compressBound(n), plain, n, 3);
	struct body *b = body_new(BODY_ZSTD, tmpdir, 1 << 20, 0);
	assert_int_equal(body_feed(b, z, zl / 2), 0);
	assert_int_equal(body_finish(b), -1);
	assert_non_null(strstr(body_error(b), "truncated"));
	body_free(b);

	unsigned char g[300000];
	size_t gl = gzip_it(plain, n, g, sizeof g);
	b = body_new(BODY_GZIP, tmpdir, 1 << 20, 0);
	assert_int_equal(body_feed(b, g, gl - 10), 0);
	assert_int_equal(body_finish(b), -1);
	body_free(b);

	b = body_new(BODY_GZIP, tmpdir, 1 << 20, 0);
	assert_int_equal(body_feed(b, "this is not gzip at all", 23), -1);
	assert_non_null(strstr(body_error(b), "gzip"));
	body_free(b);

	b = body_new(BODY_ZSTD, tmpdir, 1 << 20, 0);
	assert_int_equal(body_feed(b, "garbage garbage garbage", 23), -1);
	body_free(b);
	free(plain);
	free(z);
}

static void test_limit(void **s)
{
	(void)s;
	struct body *b = body_new(BODY_IDENTITY, tmpdir, 1 << 20, 1000);
	char buf[600] = {0};
	assert_int_equal(body_feed(b, buf, sizeof buf), 0);
	assert_int_equal(body_feed(b, buf, sizeof buf), -1);
	assert_non_null(strstr(body_error(b), "limit"));
	body_free(b);
	/* A zstd bomb is bounded by the decoded-size limit too. */
	size_t n = 50 << 20;
	char *zeros = calloc(1, n);
	unsigned char *z = malloc(ZSTD_compressBound(n));
	size_t zl = ZSTD_compress(z, ZSTD_compressBound(n), zeros, n, 1);
	b = body_new(BODY_ZSTD, tmpdir, 1 << 20, 1 << 20);
	assert_int_equal(body_feed(b, z, zl), -1);
	body_free(b);
	free(zeros);
	free(z);
}

static void test_encoding_parse(void **s)
{
	(void)s;
	enum body_encoding e;
	assert_int_equal(body_encoding_parse(NULL, &e), 0);
	assert_int_equal(e, BODY_IDENTITY);
	assert_int_equal(body_encoding_parse("GZIP", &e), 0);
	assert_int_equal(e, BODY_GZIP);
	assert_int_equal(body_encoding_parse("zstd", &e), 0);
	assert_int_equal(e, BODY_ZSTD);
	assert_int_equal(body_encoding_parse("br", &e), -1);
}

static int setup(void **s)
{
	(void)s;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **s)
{
	(void)s;
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),      cmocka_unit_test(test_identity_spill),
		cmocka_unit_test(test_gzip),          cmocka_unit_test(test_gzip_spill),
		cmocka_unit_test(test_zstd),          cmocka_unit_test(test_zstd_spill),
		cmocka_unit_test(test_truncated_and_corrupt), cmocka_unit_test(test_limit),
		cmocka_unit_test(test_encoding_parse),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

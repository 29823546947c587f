/* test_spool.c: cmocka tests of the spool file format library (common/spool).
 *
 * Round trips of every type with absent values, long strings (0 .. 1 MiB),
 * many blocks, rotation and file names, salvage after a simulated crash (a
 * forked writer that _exits without closing), quarantine of unreadable
 * leftovers, RENAME_NOREPLACE never overwriting, ENOSPC on write(2) (through
 * -Wl,--wrap=write) leaving no corrupt file and counting drops, and corrupt
 * files (every single-bit flip, truncation at every offset) rejected with an
 * error naming the offset. Uses a test-local stream definition with every type.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "spool/spool.h"
#include "spool/spool_format.h"
#include "spool/spool_io.h"
#include "spool/spool_reader.h"

/* ---- write(2) failure injection (-Wl,--wrap=write) ---------------------- */
ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
static long write_budget = -1; /* bytes write() may still write; -1 = unlimited */

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	if (fd > 2 && write_budget >= 0) {
		if (write_budget == 0) {
			errno = ENOSPC;
			return -1;
		}
		if ((long)n > write_budget)
			n = (size_t)write_budget; /* a short write, then ENOSPC */
		ssize_t w = __real_write(fd, buf, n);
		if (w > 0)
			write_budget -= w;
		return w;
	}
	return __real_write(fd, buf, n);
}

/* ---- a stream with every type ------------------------------------------- */
static const struct qs_column tcols[] = {
	{ .name = "u8", .type = QS_U8 },         { .name = "u16", .type = QS_U16 },
	{ .name = "u32", .type = QS_U32 },       { .name = "u64", .type = QS_U64 },
	{ .name = "src_ip", .type = QS_IPV4 },   { .name = "src_ip6", .type = QS_IPV6 },
	{ .name = "mac", .type = QS_MAC },       { .name = "t_ms", .type = QS_TIME_MS },
	{ .name = "t_s", .type = QS_TIME_S },    { .name = "host", .type = QS_STR },
	{ .name = "url", .type = QS_STR },       { .name = "always", .type = QS_U32 },
	{ .name = "never", .type = QS_STR },
};
#define NC (sizeof tcols / sizeof tcols[0])
static const struct qs_stream_def tdef = {
	.id = QS_FULLFLOW, .name = "teststream", .default_port = 0, .cols = tcols, .ncols = NC,
};

static char root[256];

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(p);
}

static int setup(void **state)
{
	snprintf(root, sizeof root, "%s/test_spool.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(root));
	write_budget = -1;
	return 0;
}

static int teardown(void **state)
{
	nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static struct spool_writer *wopen(const char *instance, size_t block_rows, unsigned delay)
{
	struct spool_writer_opts o = {
		.spool_dir = root, .def = &tdef, .dpi_id = 7, .instance = instance,
		.rotate_delay_s = delay, .block_rows = block_rows,
	};
	char err[512];
	struct spool_writer *w = spool_writer_open(&o, err, sizeof err);
	if (!w)
		print_error("open: %s\n", err);
	assert_non_null(w);
	return w;
}

/* Deterministic pseudo-random row i: which columns are present and their values. */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

struct rowbuf {
	uint8_t ip6[16], mac[6];
	char host[64], url[300];
};

static void make_row(uint64_t i, struct qs_record *r, struct rowbuf *b)
{
	uint64_t h = mix(i + 1);
	qs_record_clear(r, &tdef);
	if (h & 1) qs_record_set_u(r, 0, (uint8_t)(h >> 8));
	if (h & 2) qs_record_set_u(r, 1, (uint16_t)(h >> 16));
	if (h & 4) qs_record_set_u(r, 2, (uint32_t)(h >> 20));
	if (h & 8) qs_record_set_u(r, 3, h);
	if (h & 16) qs_record_set_u(r, 4, (uint32_t)(h >> 24));
	if (h & 32) {
		for (int k = 0; k < 16; k++)
			b->ip6[k] = (uint8_t)(h >> (k * 4));
		qs_record_set_bytes(r, 5, b->ip6, 16);
	}
	if (h & 64) {
		for (int k = 0; k < 6; k++)
			b->mac[k] = (uint8_t)(h >> (k * 8 + 3));
		qs_record_set_bytes(r, 6, b->mac, 6);
	}
	if (h & 128) qs_record_set_u(r, 7, 1700000000000ull + i);
	if (h & 256) qs_record_set_u(r, 8, 1700000000u + (uint32_t)i);
	if (h & 512) {
		int n = snprintf(b->host, sizeof b->host, "host-%llu.example\t\n\\'", (unsigned long long)(h % 1000));
		qs_record_set_bytes(r, 9, (const uint8_t *)b->host, (uint32_t)n);
	}
	if (h & 1024) {
		size_t n = (h >> 40) % sizeof b->url; /* 0 included: present but empty */
		for (size_t k = 0; k < n; k++)
			b->url[k] = (char)(h >> (k % 56));
		qs_record_set_bytes(r, 10, (const uint8_t *)b->url, (uint32_t)n);
	}
	qs_record_set_u(r, 11, (uint32_t)i);
}

static void expect_same(const struct qs_record *got, const struct qs_record *want, uint64_t row)
{
	for (size_t c = 0; c < NC; c++) {
		int g = qs_record_has(got, (int)c), w = qs_record_has(want, (int)c);
		if (g != w) {
			print_error("row %llu column %s: present %d, want %d\n", (unsigned long long)row,
				    tcols[c].name, g, w);
			fail();
		}
		if (!g)
			continue;
		if (tcols[c].type == QS_STR || tcols[c].type == QS_IPV6 || tcols[c].type == QS_MAC) {
			assert_int_equal(got->v[c].len, want->v[c].len);
			if (want->v[c].len)
				assert_memory_equal(got->v[c].p, want->v[c].p, want->v[c].len);
		} else {
			assert_int_equal(got->v[c].u, want->v[c].u);
		}
	}
}

/* Published .qsp files of the test folder, sorted; returns the count. */
static int published(char names[][700], int max)
{
	char dir[400];
	snprintf(dir, sizeof dir, "%s/teststream/7", root);
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l > 4 && strcmp(e->d_name + l - 4, ".qsp") == 0 && n < max)
			assert_true(snprintf(names[n++], 700, "%s/%s", dir, e->d_name) < 700);
	}
	closedir(d);
	qsort(names, (size_t)n, 700, (int (*)(const void *, const void *))strcmp);
	return n;
}

static int count_in(const char *sub, const char *suffix)
{
	char dir[400];
	snprintf(dir, sizeof dir, "%s/teststream/7/%s", root, sub);
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name), s = strlen(suffix);
		if (l > s && strcmp(e->d_name + l - s, suffix) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* Read a file and check rows [first, first + n) of make_row; returns blocks. */
static uint32_t check_file(const char *path, uint64_t first, uint64_t n, uint32_t want_flags)
{
	char err[512];
	struct spool_reader *r = spool_reader_open(path, err, sizeof err);
	if (!r)
		print_error("%s\n", err);
	assert_non_null(r);
	const struct spool_header *h = spool_reader_header(r);
	assert_string_equal(h->stream, "teststream");
	assert_int_equal(h->dpi_id, 7);
	assert_int_equal(h->schema_version, QS_SCHEMA_VERSION);
	assert_int_equal(h->schema_hash, spf_schema_hash(tcols, NC));
	assert_true(h->schema_hash_ok);
	assert_int_equal(h->def->ncols, NC);
	for (size_t c = 0; c < NC; c++) {
		assert_string_equal(h->def->cols[c].name, tcols[c].name);
		assert_int_equal(h->def->cols[c].type, tcols[c].type);
	}
	struct spool_block *b;
	struct qs_record got, want;
	struct rowbuf rb;
	uint64_t row = first;
	uint32_t blocks = 0;
	int rc;
	while ((rc = spool_reader_next(r, &b)) == 1) {
		assert_int_equal(spool_block_index(b), blocks);
		for (uint32_t i = 0; i < spool_block_rows(b); i++, row++) {
			assert_int_equal(spool_block_row(b, i, &got), 0);
			make_row(row, &want, &rb);
			expect_same(&got, &want, row);
		}
		/* random access gives the same as sequential */
		if (spool_block_rows(b) > 3) {
			uint32_t i = spool_block_rows(b) / 2;
			assert_int_equal(spool_block_row(b, i, &got), 0);
			make_row(row - spool_block_rows(b) + i, &want, &rb);
			expect_same(&got, &want, row);
		}
		blocks++;
	}
	if (rc != 0)
		print_error("%s\n", spool_reader_error(r));
	assert_int_equal(rc, 0);
	assert_int_equal(row - first, n);
	const struct spool_trailer *t = spool_reader_trailer(r);
	assert_non_null(t);
	assert_int_equal(t->rows, n);
	assert_int_equal(t->data_blocks, blocks);
	assert_int_equal(t->flags, want_flags);
	spool_reader_close(r);
	assert_int_equal(spool_verify(path, NULL, err, sizeof err), 0);
	return blocks;
}

static void add_rows(struct spool_writer *w, uint64_t first, uint64_t n)
{
	struct qs_record r;
	struct rowbuf rb;
	for (uint64_t i = first; i < first + n; i++) {
		make_row(i, &r, &rb);
		assert_int_equal(spool_writer_add(w, &r), 0);
	}
}

static void test_round_trip(void **state)
{
	struct spool_writer *w = wopen("inst-a", 0, 0);
	add_rows(w, 0, 5000);
	struct spool_exporter_stats e[2] = {
		{ .peer = "192.0.2.1:4739", .domain = 1, .messages = 10, .records = 5000, .bytes = 123456,
		  .seq_gaps = 3, .unknown_template_records = 4, .malformed_messages = 5 },
		{ .peer = "[2001:db8::1]:4739", .domain = 2, .messages = 1 },
	};
	spool_writer_set_exporters(w, e, 2);
	assert_int_equal(spool_writer_close(w), 0);
	char names[4][700];
	assert_int_equal(published(names, 4), 1);
	check_file(names[0], 0, 5000, 0);

	char err[256];
	struct spool_reader *r = spool_reader_open(names[0], err, sizeof err);
	assert_non_null(r);
	struct spool_block *b;
	char tok[64], want_tok[64];
	while (spool_reader_next(r, &b) == 1) {
		struct spool_column c;
		spool_block_token(spool_reader_header(r), spool_block_index(b), tok, sizeof tok);
		snprintf(want_tok, sizeof want_tok, "%s-%u", spool_reader_header(r)->file_id_hex,
			 spool_block_index(b));
		assert_string_equal(tok, want_tok);
		assert_int_equal(strlen(tok), 33 + (spool_block_index(b) < 10 ? 1 : 2));
		assert_int_equal(spool_block_column(b, 11, &c), 0); /* "always" */
		assert_int_equal(c.npresent, c.rows);
		assert_int_equal(spool_block_column(b, 12, &c), 0); /* "never" */
		assert_int_equal(c.npresent, 0);
		assert_int_equal(spool_block_column(b, (int)NC, &c), -1);
	}
	const struct spool_trailer *t = spool_reader_trailer(r);
	assert_non_null(t);
	assert_int_equal(t->nexporters, 2);
	assert_string_equal(t->exporters[0].peer, "192.0.2.1:4739");
	assert_int_equal(t->exporters[0].records, 5000);
	assert_int_equal(t->exporters[0].seq_gaps, 3);
	assert_int_equal(t->exporters[0].unknown_template_records, 4);
	assert_int_equal(t->exporters[0].malformed_messages, 5);
	assert_string_equal(t->exporters[1].peer, "[2001:db8::1]:4739");
	assert_int_equal(t->exporters[1].domain, 2);
	spool_reader_close(r);
}

static void test_long_strings(void **state)
{
	static const uint32_t lens[] = { 0, 1, 254, 255, 256, 65535, 65536, 1u << 20 };
	uint8_t *big = malloc(1u << 20);
	assert_non_null(big);
	for (uint32_t i = 0; i < (1u << 20); i++)
		big[i] = (uint8_t)(i * 31 + (i >> 8));
	struct spool_writer *w = wopen("inst-s", 0, 0);
	struct qs_record r;
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		qs_record_clear(&r, &tdef);
		qs_record_set_bytes(&r, 10, big, lens[i]);
		qs_record_set_bytes(&r, 9, big + 7, lens[i] / 2);
		assert_int_equal(spool_writer_add(w, &r), 0);
	}
	assert_int_equal(spool_writer_close(w), 0);
	char names[4][700], err[256];
	assert_int_equal(published(names, 4), 1);
	struct spool_reader *rd = spool_reader_open(names[0], err, sizeof err);
	assert_non_null(rd);
	struct spool_block *b;
	size_t i = 0;
	while (spool_reader_next(rd, &b) == 1) {
		for (uint32_t k = 0; k < spool_block_rows(b); k++, i++) {
			assert_int_equal(spool_block_row(b, k, &r), 0);
			assert_true(qs_record_has(&r, 10));
			assert_int_equal(r.v[10].len, lens[i]);
			assert_memory_equal(r.v[10].p, big, lens[i]);
			assert_int_equal(r.v[9].len, lens[i] / 2);
			assert_memory_equal(r.v[9].p, big + 7, lens[i] / 2);
			assert_false(qs_record_has(&r, 0));
		}
	}
	assert_int_equal(i, sizeof lens / sizeof lens[0]);
	assert_non_null(spool_reader_trailer(rd));
	spool_reader_close(rd);
	free(big);
}

static void test_many_blocks_and_rotation(void **state)
{
	time_t before = time(NULL);
	struct spool_writer *w = wopen("inst-m", 100, 400);
	add_rows(w, 0, 10050);
	assert_int_equal(spool_writer_rotate(w), 0);
	assert_int_equal(spool_writer_rotate(w), 0); /* nothing held: no file */
	add_rows(w, 10050, 7);
	struct spool_writer_stats st;
	spool_writer_stats(w, &st);
	assert_int_equal(st.rows_accepted, 10057);
	assert_int_equal(st.files_published, 1);
	assert_int_equal(spool_writer_close(w), 0);
	char names[4][700];
	assert_int_equal(published(names, 4), 2);
	/* the two files, identified by their row counts */
	struct spool_trailer t0;
	char err[256];
	assert_int_equal(spool_verify(names[0], &t0, err, sizeof err), 0);
	int big = t0.rows == 10050 ? 0 : 1;
	assert_int_equal(check_file(names[big], 0, 10050, 0), 101);
	assert_int_equal(check_file(names[1 - big], 10050, 7, 0), 1);
	/* names parse; ready time is publication + delay */
	struct spf_name nm;
	const char *base = strrchr(names[big], '/') + 1;
	assert_int_equal(spf_parse_name(base, &nm), 0);
	assert_string_equal(nm.stream, "teststream");
	assert_string_equal(nm.instance, "inst-m");
	assert_int_equal(nm.dpi, 7);
	assert_true(nm.ready >= before + 400 && nm.ready <= time(NULL) + 400);
	assert_true(nm.start >= before - 1 && nm.start <= time(NULL));
	assert_int_equal(count_in(".tmp", ".part"), 0);
}

/* Uncompressed data blocks (codec none): the same rows, read by the same reader. */
static void test_uncompressed(void **state)
{
	struct spool_writer_opts o = {
		.spool_dir = root, .def = &tdef, .dpi_id = 7, .instance = "inst-r", .block_rows = 100,
		.uncompressed = 1,
	};
	char err[512];
	struct spool_writer *w = spool_writer_open(&o, err, sizeof err);
	assert_non_null(w);
	add_rows(w, 0, 1050);
	assert_int_equal(spool_writer_close(w), 0);
	char names[4][700];
	assert_int_equal(published(names, 4), 1);
	assert_int_equal(check_file(names[0], 0, 1050, 0), 11);
	FILE *f = fopen(names[0], "rb");
	assert_non_null(f);
	uint8_t h[SPF_MAX_HEADER_LEN + SPF_BLOCK_HDR_LEN];
	size_t n = fread(h, 1, sizeof h, f);
	fclose(f);
	assert_true(n > 16);
	uint32_t hl = spf_get32(h + 12);
	assert_true(hl + SPF_BLOCK_HDR_LEN <= n);
	assert_int_equal(h[hl + 4], SPF_BT_DATA);
	assert_int_equal(h[hl + 5], SPF_CODEC_NONE);
	assert_int_equal(spf_get32(h + hl + 16), spf_get32(h + hl + 20)); /* stored = raw */
}

/* Direct rows (spool_writer_rows_begin/rows_end, the receiver's path),
 * mixed with spool_writer_add: big strings cut blocks at about 4 MiB of
 * values even with room for 65536 rows; every row reads back. */
static void test_direct_rows_api(void **state)
{
	struct spool_writer *w = wopen("inst-d", 65536, 0);
	static uint8_t str[5000];
	const uint64_t present = (uint64_t)1 << 0 | (uint64_t)1 << 9 | (uint64_t)1 << 11;
	uint32_t i = 0;
	while (i < 2000) {
		if (i == 1000) { /* one row the general way, in the middle */
			struct qs_record r;
			qs_record_clear(&r, &tdef);
			qs_record_set_u(&r, 0, i & 0xff);
			memset(str, 'a' + (int)(i % 26), sizeof str);
			qs_record_set_bytes(&r, 9, str, sizeof str);
			qs_record_set_u(&r, 11, i);
			assert_int_equal(spool_writer_add(w, &r), 0);
			i++;
			continue;
		}
		uint32_t room = 0;
		struct spool_cols *c = spool_writer_rows_begin(w, 10 * sizeof str, &room);
		assert_non_null(c);
		assert_true(room >= 1);
		uint32_t n = room < 10 ? room : 10;
		if (i < 1000 && i + n > 1000)
			n = 1000 - i;
		if (i + n > 2000)
			n = 2000 - i;
		for (uint32_t k = 0; k < n; k++, i++) {
			*c->wp[0]++ = (uint8_t)(i & 0xff);
			spf_put32(c->wp[9], sizeof str);
			c->wp[9] += 4;
			memset(c->sp[9], 'a' + (int)(i % 26), sizeof str);
			c->sp[9] += sizeof str;
			spf_put32(c->wp[11], i);
			c->wp[11] += 4;
		}
		spool_writer_rows_end(w, n, &present, n * (4 + sizeof str));
	}
	struct spool_writer_stats st;
	spool_writer_stats(w, &st);
	assert_int_equal(st.rows_accepted, 2000);
	assert_int_equal(spool_writer_close(w), 0);
	char names[4][700], err[256];
	assert_int_equal(published(names, 4), 1);
	struct spool_reader *r = spool_reader_open(names[0], err, sizeof err);
	assert_non_null(r);
	struct spool_block *b;
	uint32_t row = 0, blocks = 0;
	while (spool_reader_next(r, &b) == 1) {
		struct spool_column c;
		assert_int_equal(spool_block_column(b, 9, &c), 0);
		assert_true(c.str_off[c.npresent] <= 4u * 1024 * 1024 + 10 * sizeof str);
		blocks++;
		for (uint32_t k = 0; k < spool_block_rows(b); k++, row++) {
			struct qs_record rec;
			assert_int_equal(spool_block_row(b, k, &rec), 0);
			assert_int_equal(rec.present[0], present);
			assert_int_equal(rec.v[0].u, row & 0xff);
			assert_int_equal(rec.v[11].u, row);
			assert_int_equal(rec.v[9].len, sizeof str);
			assert_int_equal(rec.v[9].p[0], 'a' + (int)(row % 26));
			assert_int_equal(rec.v[9].p[sizeof str - 1], 'a' + (int)(row % 26));
		}
	}
	assert_int_equal(row, 2000);
	assert_true(blocks >= 3);
	spool_reader_close(r);
}

static void test_names(void **state)
{
	char buf[256];
	struct spf_name n;
	assert_int_equal(spf_format_name(buf, sizeof buf, "fullflow", 3, 1700000000, "full-flow_0",
					 0xdeadbeef, 1700000400), 0);
	assert_string_equal(buf, "fullflow-3-20231114T221320Z-full-flow_0-deadbeef-r1700000400.qsp");
	assert_int_equal(spf_parse_name(buf, &n), 0);
	assert_string_equal(n.stream, "fullflow");
	assert_int_equal(n.dpi, 3);
	assert_int_equal(n.start, 1700000000);
	assert_string_equal(n.instance, "full-flow_0");
	assert_int_equal(n.rnd, 0xdeadbeef);
	assert_int_equal(n.ready, 1700000400);
	const char *bad[] = { "", "x.qsp", "fullflow-3-20231114T221320Z-i-deadbeef-r1.qsp.part",
			      "fullflow-3-20231114T221320Z-i-deadbeeX-r1.qsp", "fullflow-3-20231114T221320Z--deadbeef-r1.qsp",
			      "full.flow-3-20231114T221320Z-i-deadbeef-r1.qsp", "fullflow-3-2023111XT221320Z-i-deadbeef-r1.qsp",
			      "fullflow-3-20231114T221320Z-i-deadbeef-r.qsp", ".tmp" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (spf_parse_name(bad[i], &n) == 0) {
			print_error("parsed %s\n", bad[i]);
			fail();
		}
	/* schema hash: order, names and types matter */
	struct qs_column a[2] = { { .name = "a", .type = QS_U8 }, { .name = "b", .type = QS_U8 } };
	struct qs_column b[2] = { { .name = "b", .type = QS_U8 }, { .name = "a", .type = QS_U8 } };
	struct qs_column c[2] = { { .name = "a", .type = QS_U8 }, { .name = "b", .type = QS_U16 } };
	assert_true(spf_schema_hash(a, 2) != spf_schema_hash(b, 2));
	assert_true(spf_schema_hash(a, 2) != spf_schema_hash(c, 2));
	assert_true(spf_schema_hash(a, 2) == spf_schema_hash(a, 2));
}

/* Byte planes exactly as docs/SPOOL-FORMAT.md says, for every width and
 * for counts that leave tails after the 4-, 8- and 16-value kernels. */
static void test_shuffle_layout(void **state)
{
	static const size_t widths[] = { 1, 2, 4, 6, 8, 16 };
	uint8_t in[16 * 40], out[16 * 40], back[16 * 40];
	for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++) {
		size_t wd = widths[wi];
		for (size_t n = 0; n <= 40; n++) {
			for (size_t i = 0; i < n * wd; i++)
				in[i] = (uint8_t)(i * 7 + wd);
			spf_shuffle(out, in, n, wd);
			for (size_t k = 0; k < n; k++)
				for (size_t b = 0; b < wd; b++)
					assert_int_equal(out[b * n + k], in[k * wd + b]);
			spf_unshuffle(back, out, n, wd);
			if (n)
				assert_memory_equal(back, in, n * wd);
		}
	}
}

static void test_bad_options_and_lock(void **state)
{
	char err[512];
	struct spool_writer_opts o = { .spool_dir = root, .def = &tdef, .instance = "a.b" };
	assert_null(spool_writer_open(&o, err, sizeof err));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "instance"));
	struct spool_writer *w = wopen("inst-l", 0, 0);
	o.instance = "inst-l";
	o.dpi_id = 7;
	assert_null(spool_writer_open(&o, err, sizeof err));
	assert_int_equal(errno, EBUSY);
	assert_non_null(strstr(err, "inst-l"));
	/* a record of another shape is refused and counted */
	struct qs_column one = { .name = "x", .type = QS_U8 };
	struct qs_stream_def other = { .name = "o", .cols = &one, .ncols = 1 };
	struct qs_record r;
	qs_record_clear(&r, &other);
	assert_int_equal(spool_writer_add(w, &r), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(spool_writer_rows_dropped(w), 1);
	assert_int_equal(spool_writer_close(w), 0);
	/* the lock is released by close */
	w = wopen("inst-l", 0, 0);
	spool_writer_close(w);
}

/* A writer in a child process that writes `rows` rows, flushes, writes `pending`
 * more without flushing and dies without closing. */
static void crash_writer(const char *instance, uint64_t rows, uint64_t pending)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct spool_writer *w = wopen(instance, 10, 0);
		add_rows(w, 0, rows);
		if (spool_writer_flush(w) != 0)
			_exit(2);
		add_rows(w, rows, pending);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void tmp_part(char *out, size_t len)
{
	char dir[400];
	snprintf(dir, sizeof dir, "%s/teststream/7/.tmp", root);
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	out[0] = 0;
	while ((e = readdir(d)) != NULL)
		if (strstr(e->d_name, ".part"))
			assert_true(snprintf(out, len, "%s/%s", dir, e->d_name) < (int)len);
	closedir(d);
	assert_true(out[0] != 0);
}

static void test_salvage(void **state)
{
	crash_writer("inst-c", 35, 4);
	assert_int_equal(count_in(".tmp", ".part"), 1);
	struct spool_writer *w = wopen("inst-c", 10, 0);
	struct spool_writer_stats st;
	spool_writer_stats(w, &st);
	assert_int_equal(st.files_salvaged, 1);
	assert_int_equal(st.files_quarantined, 0);
	spool_writer_close(w);
	char names[4][700];
	assert_int_equal(published(names, 4), 1);
	check_file(names[0], 0, 35, SPF_TF_SALVAGED);
	assert_int_equal(count_in(".tmp", ".part"), 0);
}

static void test_salvage_torn_tail(void **state)
{
	crash_writer("inst-t", 20, 0);
	char part[600];
	tmp_part(part, sizeof part);
	/* a torn block: a valid-looking start, then nothing */
	FILE *f = fopen(part, "ab");
	assert_non_null(f);
	fwrite("QSBK\x81\x01\0\0garbage", 1, 15, f);
	fclose(f);
	struct spool_writer *w = wopen("inst-t", 10, 0);
	spool_writer_close(w);
	char names[4][700];
	assert_int_equal(published(names, 4), 1);
	check_file(names[0], 0, 20, SPF_TF_SALVAGED);
	assert_int_equal(count_in(".quarantine", ".tail"), 1);
	assert_int_equal(count_in(".quarantine", ".reason"), 1);
}

/* A complete file still in .tmp/ (crash between fsync and rename) is published
 * as it is; a header-only leftover is removed. */
static void test_salvage_complete_and_header_only(void **state)
{
	struct spool_writer *w = wopen("inst-k", 10, 0);
	add_rows(w, 0, 25);
	assert_int_equal(spool_writer_close(w), 0);
	char names[4][700], part[800], hdr_only[800];
	assert_int_equal(published(names, 4), 1);
	snprintf(part, sizeof part, "%s/teststream/7/.tmp/inst-k.feed.part", root);
	assert_int_equal(rename(names[0], part), 0);
	/* a header-only leftover made from the same file's header */
	char err[256];
	struct spool_reader *r = spool_reader_open(part, err, sizeof err);
	assert_non_null(r);
	uint32_t hl = spool_reader_header(r)->header_len;
	spool_reader_close(r);
	FILE *in = fopen(part, "rb"), *out;
	uint8_t buf[4096];
	assert_true(hl <= sizeof buf);
	assert_int_equal(fread(buf, 1, hl, in), hl);
	fclose(in);
	snprintf(hdr_only, sizeof hdr_only, "%s/teststream/7/.tmp/inst-k.head.part", root);
	out = fopen(hdr_only, "wb");
	assert_int_equal(fwrite(buf, 1, hl, out), hl);
	fclose(out);
	assert_int_equal(published(names, 4), 0);
	w = wopen("inst-k", 10, 0);
	spool_writer_close(w);
	assert_int_equal(published(names, 4), 1);
	check_file(names[0], 0, 25, 0); /* not flagged: it was complete */
	assert_int_equal(count_in(".tmp", ".part"), 0);
	assert_int_equal(count_in(".quarantine", ".reason"), 0);
}

static void test_salvage_unreadable(void **state)
{
	struct spool_writer *w = wopen("inst-u", 0, 0); /* creates the folders */
	spool_writer_close(w);
	char p[600];
	snprintf(p, sizeof p, "%s/teststream/7/.tmp/inst-u.0123.part", root);
	FILE *f = fopen(p, "wb");
	fputs("this is not a spool file", f);
	fclose(f);
	snprintf(p, sizeof p, "%s/teststream/7/.tmp/inst-u.empty.part", root);
	f = fopen(p, "wb");
	fclose(f);
	snprintf(p, sizeof p, "%s/teststream/7/.tmp/other.0123.part", root); /* not ours */
	f = fopen(p, "wb");
	fputs("x", f);
	fclose(f);
	/* a valid file of another instance under our prefix */
	struct spool_writer *x = wopen("inst-x", 0, 0);
	add_rows(x, 0, 3);
	assert_int_equal(spool_writer_close(x), 0);
	char names[4][700];
	assert_int_equal(published(names, 4), 1);
	snprintf(p, sizeof p, "%s/teststream/7/.tmp/inst-u.foreign.part", root);
	assert_int_equal(rename(names[0], p), 0);
	w = wopen("inst-u", 0, 0);
	struct spool_writer_stats st;
	spool_writer_stats(w, &st);
	assert_int_equal(st.files_quarantined, 2);
	spool_writer_close(w);
	assert_int_equal(count_in(".quarantine", ".part"), 2);
	assert_int_equal(count_in(".quarantine", ".reason"), 2);
	assert_int_equal(count_in(".tmp", ".part"), 1); /* only other's */
	assert_int_equal(published(names, 4), 0);
}

static void test_noreplace(void **state)
{
	struct spool_writer *w = wopen("inst-n", 0, 0);
	const char *dir = spool_writer_dir(w);
	char path[600], name[256];
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	snprintf(path, sizeof path, "%s/.tmp", dir);
	int tmpfd = open(path, O_RDONLY | O_DIRECTORY);
	assert_true(dirfd >= 0 && tmpfd >= 0);
	/* the name the publication would take is already there */
	assert_int_equal(spf_format_name(name, sizeof name, "teststream", 7, 1700000000, "inst-n", 1, 5), 0);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	fputs("precious", f);
	fclose(f);
	snprintf(path, sizeof path, "%s/.tmp/inst-n.x.part", dir);
	int fd = open(path, O_RDWR | O_CREAT, 0640);
	assert_true(fd >= 0);
	struct sio_publish p = {
		.dirfd = dirfd, .tmpfd = tmpfd, .dir = dir, .fd = fd, .tmpname = "inst-n.x.part",
		.good_end = 0, .stream = "teststream", .dpi = 7, .instance = "inst-n",
		.start = 1700000000, .rnd = 1, .ready_s = 5,
	};
	char got[256];
	assert_int_equal(sio_publish(&p, got, sizeof got), 0);
	assert_string_not_equal(got, name);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "rb");
	char buf[32] = { 0 };
	assert_non_null(fgets(buf, sizeof buf, f));
	fclose(f);
	assert_string_equal(buf, "precious");
	close(fd);
	close(dirfd);
	close(tmpfd);
	spool_writer_close(w);
}

static void test_enospc(void **state)
{
	struct spool_writer *w = wopen("inst-f", 10, 0);
	add_rows(w, 0, 10);         /* one full block in memory */
	write_budget = 0;           /* disk full: the header cannot be written */
	struct qs_record r;
	struct rowbuf rb;
	make_row(10, &r, &rb);
	assert_int_equal(spool_writer_add(w, &r), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(spool_writer_rows_dropped(w), 1);
	assert_int_equal(count_in(".tmp", ".part"), 0); /* no half-born file */
	write_budget = -1;
	add_rows(w, 10, 15);        /* space is back: block written, rows accepted */
	assert_int_equal(spool_writer_flush(w), 0);
	/* a short write then ENOSPC in the middle of a block */
	add_rows(w, 25, 10);
	write_budget = 100;
	make_row(35, &r, &rb);
	assert_int_equal(spool_writer_add(w, &r), -1);
	assert_int_equal(spool_writer_add(w, &r), -1);
	assert_int_equal(spool_writer_rows_dropped(w), 3);
	/* the temporary file holds only complete blocks: it salvages cleanly */
	char part[600], err[512];
	tmp_part(part, sizeof part);
	struct spool_reader *rd = spool_reader_open(part, err, sizeof err);
	assert_non_null(rd);
	struct spool_block *b;
	while (spool_reader_next(rd, &b) == 1)
		;
	assert_int_equal(spool_reader_good_end(rd), spool_reader_size(rd));
	assert_int_equal(spool_reader_rows_read(rd), 25);
	spool_reader_close(rd);
	/* rotate fails while the disk is full, leaves the file as it was */
	write_budget = 0;
	assert_int_equal(spool_writer_rotate(w), -1);
	write_budget = 40; /* enough for nothing useful: trailer write fails half-way */
	assert_int_equal(spool_writer_rotate(w), -1);
	char names[4][700];
	assert_int_equal(published(names, 4), 0);
	write_budget = -1;
	add_rows(w, 35, 5);
	assert_int_equal(spool_writer_rotate(w), 0);
	assert_int_equal(published(names, 4), 1);
	check_file(names[0], 0, 40, 0);
	struct spool_writer_stats st;
	spool_writer_stats(w, &st);
	assert_int_equal(st.rows_accepted, 40);
	assert_int_equal(st.rows_dropped, 3);
	assert_true(st.write_errors >= 4);
	spool_writer_close(w);
}

/* A small valid file in memory. */
static uint8_t *small_file(size_t *len)
{
	struct spool_writer *w = wopen("inst-z", 2, 0);
	add_rows(w, 0, 5);
	struct spool_exporter_stats e = { .peer = "10.0.0.1:1500", .domain = 9, .records = 5 };
	spool_writer_set_exporters(w, &e, 1);
	assert_int_equal(spool_writer_close(w), 0);
	char names[4][700];
	assert_int_equal(published(names, 4), 1);
	FILE *f = fopen(names[0], "rb");
	assert_non_null(f);
	static uint8_t buf[1 << 16];
	*len = fread(buf, 1, sizeof buf, f);
	fclose(f);
	assert_true(*len > 100 && *len < sizeof buf);
	unlink(names[0]);
	return buf;
}

/* 0 when the whole buffer reads as a valid file, else -1 with err set. */
static int read_all(const uint8_t *p, size_t len, char *err, size_t errlen, uint64_t *rows)
{
	struct spool_reader *r = spool_reader_open_mem(p, len, "mem.qsp", err, errlen);
	if (!r)
		return -1;
	struct spool_block *b;
	struct qs_record rec;
	int rc;
	*rows = 0;
	while ((rc = spool_reader_next(r, &b)) == 1)
		for (uint32_t i = 0; i < spool_block_rows(b); i++, (*rows)++)
			assert_int_equal(spool_block_row(b, i, &rec), 0);
	if (rc < 0)
		snprintf(err, errlen, "%s", spool_reader_error(r));
	else if (!spool_reader_header(r)->schema_hash_ok)
		rc = -1, snprintf(err, errlen, "mem.qsp: schema hash");
	spool_reader_close(r);
	return rc < 0 ? -1 : 0;
}

static void test_corrupt_every_bit_and_truncation(void **state)
{
	size_t len;
	uint8_t *good = small_file(&len);
	char err[512];
	uint64_t rows;
	const char *seeds = getenv("TEST_SPOOL_SEED_DIR"); /* fuzz corpus: see test/fuzz */
	if (seeds) {
		char p[600];
		snprintf(p, sizeof p, "%s/all-types-5-rows.qsp", seeds);
		FILE *f = fopen(p, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(good, 1, len, f), len);
		fclose(f);
	}
	assert_int_equal(read_all(good, len, err, sizeof err, &rows), 0);
	assert_int_equal(rows, 5);
	uint8_t *copy = malloc(len);
	assert_non_null(copy);
	for (size_t off = 0; off < len; off++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(copy, good, len);
			copy[off] ^= (uint8_t)(1u << bit);
			if (read_all(copy, len, err, sizeof err, &rows) == 0) {
				print_error("bit %d of byte %zu flipped: not detected\n", bit, off);
				fail();
			}
			assert_non_null(strstr(err, "mem.qsp"));
			assert_non_null(strstr(err, "offset"));
		}
	}
	for (size_t cut = 0; cut < len; cut++) {
		memcpy(copy, good, cut);
		if (read_all(copy, cut, err, sizeof err, &rows) == 0) {
			print_error("truncated at %zu: not detected\n", cut);
			fail();
		}
		assert_non_null(strstr(err, "mem.qsp"));
	}
	/* bytes after the footer */
	uint8_t *longer = malloc(len + 1);
	memcpy(longer, good, len);
	longer[len] = 0;
	assert_int_equal(read_all(longer, len + 1, err, sizeof err, &rows), -1);
	assert_non_null(strstr(err, "after the footer"));
	free(longer);
	/* a newer major version is refused by name */
	memcpy(copy, good, len);
	copy[8] = 2;
	assert_int_equal(read_all(copy, len, err, sizeof err, &rows), -1);
	assert_non_null(strstr(err, "version 2.0 is not supported"));
	free(copy);
}

static void test_unknown_blocks(void **state)
{
	size_t len;
	uint8_t *good = small_file(&len);
	struct spool_reader *r = spool_reader_open_mem(good, len, "m", NULL, 0);
	assert_non_null(r);
	uint32_t hl = spool_reader_header(r)->header_len;
	spool_reader_close(r);
	/* insert an ancillary block (type 0x05) after the header: skipped; with the
	 * critical bit (0x85): refused. The footer's trailer offset moves by 40. */
	for (int critical = 0; critical < 2; critical++) {
		uint8_t *f = malloc(len + 40);
		memcpy(f, good, hl);
		uint8_t *blk = f + hl;
		const uint8_t payload[8] = "ancillar";
		sio_block_header(blk, critical ? 0x85 : 0x05, SPF_CODEC_NONE, 0, 0, 8, 8,
				 spf_crc32(0, payload, 8));
		memcpy(blk + 32, payload, 8);
		memcpy(f + hl + 40, good + hl, len - hl);
		spf_put64(f + len + 40 - 8, spf_get64(good + len - 8) + 40);
		char err[512];
		uint64_t rows;
		int rc = read_all(f, len + 40, err, sizeof err, &rows);
		if (critical) {
			assert_int_equal(rc, -1);
			assert_non_null(strstr(err, "unknown critical block type 0x85"));
		} else {
			if (rc)
				print_error("%s\n", err);
			assert_int_equal(rc, 0);
			assert_int_equal(rows, 5);
		}
		free(f);
	}
}

int main(void)
{
	log_init("test_spool", LOG_ERR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_strings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_blocks_and_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test(test_shuffle_layout),
		cmocka_unit_test_setup_teardown(test_uncompressed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_direct_rows_api, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_options_and_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_salvage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_salvage_torn_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_salvage_complete_and_header_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_salvage_unreadable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_noreplace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enospc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_every_bit_and_truncation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_blocks, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

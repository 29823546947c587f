/* test_loader_opts.c: cmocka tests of the loader's settings (loader/opts.h):
 * the memory budget (--memory-limit into aggregate groups per process:
 * defaults, more processes get less each, explicit settings win, the
 * minimum; large inserts whatever the budget, since bodies spill to files),
 * the spill directory, auto compression by URL, and --format native.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "loader/opts.h"

static void set(struct loader_config *c, const char *name, const char *value)
{
	char err[256];
	if (loader_opt_set(c, name, value, err, sizeof err))
		fail_msg("%s", err);
}

static void test_budget(void **state)
{
	(void)state;
	struct loader_config c;
	loader_config_defaults(&c);
	assert_int_equal(c.memory_limit_mib, 200);
	assert_int_equal(c.insert_rows, 0);
	assert_int_equal(c.max_groups, 0);
	/* Bodies spill to files: inserts are large whatever the budget. */
	assert_int_equal(loader_insert_rows(&c), LOADER_AUTO_ROWS);
	/* 2 processes: (200 - 16 - 2 x 22) MiB / 2 = 70 MiB each for groups of 384 bytes. */
	assert_int_equal(loader_max_groups(&c), (70u << 20) / 384);
	unsigned groups2 = loader_max_groups(&c);
	set(&c, "insert-processes", "4");
	assert_true(loader_max_groups(&c) < groups2 / 2);
	/* What the processes may hold together stays within the budget. */
	uint64_t held = 4 * ((uint64_t)loader_max_groups(&c) * 384 + (22u << 20)) + (16u << 20);
	assert_true(held <= (uint64_t)200 << 20);
	set(&c, "memory-limit", "1000");
	assert_int_equal(loader_max_groups(&c), 262144); /* at most 262144 when derived */
	set(&c, "memory-limit", "64");
	set(&c, "insert-processes", "64");
	assert_int_equal(loader_max_groups(&c), 1000); /* the minimum */
	assert_int_equal(loader_insert_rows(&c), LOADER_AUTO_ROWS);
	set(&c, "insert-rows", "500000");
	set(&c, "max-groups", "300000");
	assert_int_equal(loader_insert_rows(&c), 500000); /* explicit settings win */
	assert_int_equal(loader_max_groups(&c), 300000);
	char err[256];
	assert_int_equal(loader_opt_set(&c, "memory-limit", "10", err, sizeof err), -1);
	/* Spill directory: the spool, else TMPDIR. */
	set(&c, "spool", "/srv/spool");
	assert_string_equal(loader_spill_dir(&c), "/srv/spool");
	loader_config_free(&c);
}

/* auto compression: none when every URL is this host, zstd otherwise. */
static void test_compress(void **state)
{
	(void)state;
	struct loader_config c;
	loader_config_defaults(&c);
	assert_int_equal(c.compress, LC_AUTO);
	assert_int_equal(loader_compress(&c), LC_ZSTD); /* no URL yet */
	set(&c, "clickhouse", "http://127.0.0.1:8123,http://localhost:8124/,https://u:p@[::1]:8443");
	assert_int_equal(loader_compress(&c), LC_NONE);
	set(&c, "clickhouse", "http://127.9.9.9");
	assert_int_equal(loader_compress(&c), LC_NONE);
	set(&c, "clickhouse", "http://127.example.net:8123");
	assert_int_equal(loader_compress(&c), LC_ZSTD);
	loader_config_free(&c);
	loader_config_defaults(&c);
	set(&c, "clickhouse", "http://127.0.0.1:8123,http://10.1.2.3:8123");
	assert_int_equal(loader_compress(&c), LC_ZSTD); /* a remote replica */
	set(&c, "compression", "gzip");
	assert_int_equal(loader_compress(&c), LC_GZIP); /* explicit wins */
	loader_config_free(&c);
	loader_config_defaults(&c);
	set(&c, "clickhouse", "http://[::1]:8123");
	set(&c, "compression", "zstd");
	assert_int_equal(loader_compress(&c), LC_ZSTD);
	loader_config_free(&c);
}

static void test_format(void **state)
{
	(void)state;
	struct loader_config c;
	loader_config_defaults(&c);
	assert_int_equal(c.format, LF_ROWBINARY);
	set(&c, "format", "native");
	assert_int_equal(c.format, LF_NATIVE);
	set(&c, "format", "CSV");
	assert_int_equal(c.format, LF_CSV);
	char err[256];
	assert_int_equal(loader_opt_set(&c, "format", "parquet", err, sizeof err), -1);
	loader_config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_budget), cmocka_unit_test(test_compress), cmocka_unit_test(test_format) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_loader_opts.c: cmocka tests of the loader's settings (loader/opts.h):
 * the memory budget's split (--memory-limit into rows per insert and
 * aggregate groups per process: defaults, more processes get less each, plain
 * bodies get fewer rows, explicit settings win, the minimums), and
 * --format native.
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
	/* 2 processes: (200 - 16 - 2 x 18) MiB / 2 = 74 MiB each, 2/3 for groups. */
	assert_int_equal(loader_insert_rows(&c), 262144);
	assert_int_equal(loader_max_groups(&c), (74u << 20) * 2 / 3 / 384);
	unsigned rows2 = loader_insert_rows(&c), groups2 = loader_max_groups(&c);
	set(&c, "insert-processes", "4");
	assert_true(loader_insert_rows(&c) < rows2);
	assert_true(loader_max_groups(&c) < groups2 / 2);
	assert_int_equal(loader_insert_rows(&c) % 16384, 0);
	/* What the processes may hold together stays within the budget's variable part. */
	uint64_t held = 4 * ((uint64_t)loader_insert_rows(&c) * 96 + (uint64_t)loader_max_groups(&c) * 384);
	assert_true(held <= (uint64_t)(200 - 16 - 4 * 18) << 20);
	unsigned rows4 = loader_insert_rows(&c);
	set(&c, "compression", "none");
	assert_true(loader_insert_rows(&c) < rows4);
	set(&c, "memory-limit", "1000");
	assert_int_equal(loader_insert_rows(&c), 262144); /* at most 262144 when derived */
	assert_int_equal(loader_max_groups(&c), 262144);
	set(&c, "memory-limit", "64");
	set(&c, "insert-processes", "64");
	assert_int_equal(loader_insert_rows(&c), 16384); /* the minimums */
	assert_int_equal(loader_max_groups(&c), 1000);
	set(&c, "insert-rows", "500000");
	set(&c, "max-groups", "300000");
	assert_int_equal(loader_insert_rows(&c), 500000); /* explicit settings win */
	assert_int_equal(loader_max_groups(&c), 300000);
	char err[256];
	assert_int_equal(loader_opt_set(&c, "memory-limit", "10", err, sizeof err), -1);
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
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_budget), cmocka_unit_test(test_format) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}

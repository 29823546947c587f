/* test_db_sqlscan.c: unit tests of db/sqlscan (INSERT rewrite eligibility, output format). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "db/sqlscan.h"

static long pos(const char *s) { return sqlscan_insert_format_pos(s, strlen(s)); }

static void test_insert_rewritable(void **state)
{
	(void)state;
	assert_int_equal(pos("INSERT INTO t FORMAT CSV"), 14);
	const char *q = "insert into qoestor.fullflow (a, b, `c d`) format CSVWithNames";
	assert_int_equal(pos(q), strstr(q, "format") - q);
	assert_int_equal(pos("  INSERT /* c */ INTO TABLE db.t FORMAT TSV  \n"), 33);
	assert_true(pos("INSERT INTO t -- note\n FORMAT CSV") > 0);
}

static void test_insert_not_rewritable(void **state)
{
	(void)state;
	assert_int_equal(pos("INSERT INTO t VALUES"), -1);
	assert_int_equal(pos("INSERT INTO t SELECT 1 FORMAT CSV"), -1);
	assert_int_equal(pos("INSERT INTO t SETTINGS x=1 FORMAT CSV"), -1);
	assert_int_equal(pos("INSERT INTO FUNCTION file('x') FORMAT CSV"), -1);
	assert_int_equal(pos("INSERT INTO t FROM INFILE 'x' FORMAT CSV"), -1);
	assert_int_equal(pos("INSERT INTO t FORMAT CSV; DROP TABLE t"), -1);
	assert_int_equal(pos("INSERT INTO t FORMAT"), -1);
	assert_int_equal(pos("INSERT INTO t FORMAT CSV extra"), -1);
	assert_int_equal(pos("SELECT 1 FORMAT CSV"), -1);
	const char *q = "INSERT INTO t (`a'`) FORMAT CSV"; /* a quote inside an identifier */
	assert_int_equal(pos(q), strstr(q, "FORMAT") - q);
	assert_int_equal(pos("INSERT INTO t ('a') FORMAT CSV"), -1);
	assert_int_equal(pos(""), -1);
	assert_int_equal(pos("INSERT"), -1);
	assert_int_equal(pos("INSERT INTO t /* unterminated FORMAT CSV"), -1);
}

static void test_output_format(void **state)
{
	(void)state;
	char f[32];
	const char *q = "SELECT 1 FORMAT JSON";
	assert_true(sqlscan_output_format(q, strlen(q), f, sizeof f));
	assert_string_equal(f, "JSON");
	q = "select * from t where s = 'FORMAT x' format CSV";
	assert_true(sqlscan_output_format(q, strlen(q), f, sizeof f));
	assert_string_equal(f, "CSV");
	q = "SELECT * FROM (SELECT 1 FORMAT TSV)";
	assert_false(sqlscan_output_format(q, strlen(q), f, sizeof f));
	q = "SELECT 'FORMAT JSON'";
	assert_false(sqlscan_output_format(q, strlen(q), f, sizeof f));
	q = "SELECT 1 FORMAT VeryLongFormatNameThatDoesNotFitInTheBuffer";
	assert_true(sqlscan_output_format(q, strlen(q), f, 8));
	assert_string_equal(f, "VeryLon");
}

static void test_is_insert(void **state)
{
	(void)state;
	assert_true(sqlscan_is_insert(" insert into t values (1)", 25));
	assert_false(sqlscan_is_insert("SELECT 1", 8));
	assert_false(sqlscan_is_insert("", 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_rewritable),
		cmocka_unit_test(test_insert_not_rewritable),
		cmocka_unit_test(test_output_format),
		cmocka_unit_test(test_is_insert),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

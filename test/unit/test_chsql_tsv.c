/* test_chsql_tsv.c: ch_tsv_write_escaped, the TabSeparated escaping qoestor-spool cat and
 * qoestor-ipfixgen --tsv write (every byte value; checked once by hand against
 * ClickHouse 26.5, which read all 256 bytes back exactly). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ch/chsql.h"

static char *escape(const void *p, size_t n, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	ch_tsv_write_escaped(f, p, n);
	fclose(f);
	return buf;
}

static void test_specials(void **state)
{
	(void)state;
	static const char in[] = "a\tb\nc\rd\\e'f\bg\fh\0i";
	size_t len;
	char *out = escape(in, sizeof in - 1, &len);
	static const char want[] = "a\\tb\\nc\\rd\\\\e\\'f\\bg\\fh\\0i";
	assert_int_equal(len, sizeof want - 1);
	assert_memory_equal(out, want, len);
	free(out);
}

static void test_every_byte(void **state)
{
	(void)state;
	unsigned char b[256];
	for (int i = 0; i < 256; i++)
		b[i] = (unsigned char)i;
	size_t len;
	char *out = escape(b, sizeof b, &len);
	/* 8 escaped bytes take two characters, the other 248 one; no raw tab or newline. */
	assert_int_equal(len, 256 + 8);
	assert_null(memchr(out, '\t', len));
	assert_null(memchr(out, '\n', len));
	assert_memory_equal(out + len - 128, b + 128, 128); /* high bytes as they are */
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_specials),
		cmocka_unit_test(test_every_byte),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

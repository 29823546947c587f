/* test_dict_parse.c: cmocka tests of the dictionary parser and validator (common/dict).
 *
 * Every accepted oddity (BOM, CRLF, trailing tabs, comments, blank lines, spaces around
 * values, empty files, optional trailing columns) and every rejected one (spaces instead
 * of tabs, wrong column count, bad numbers, IPs, CIDRs, MACs, text, duplicate keys,
 * missing or looping upstream switches), with the exact FILE:LINE:COLUMN of the message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dict/dict_parse.h"
#include "dict/dict_table.h"

static struct dict_errors errs;

/* Parse text as dictionary name; NULL when it has errors (then in errs). */
static struct dict_data *parse(const char *name, const char *text, size_t len)
{
	const struct dict_def *def = dict_def_by_name(name);
	assert_non_null(def);
	dict_errors_free(&errs);
	dict_errors_init(&errs, 100);
	struct dict_data *d = NULL;
	int rc = dict_parse(def, "f.txt", text, len, &d, &errs);
	assert_int_equal(rc == 0, d != NULL);
	if (rc == 0)
		assert_int_equal(errs.total, 0);
	else
		assert_true(errs.total > 0);
	return d;
}

#define P(name, lit) parse(name, lit, sizeof lit - 1)

/* The one error of a failed parse must be exactly want. */
static void expect_error(const char *name, const char *text, size_t len, const char *want)
{
	struct dict_data *d = parse(name, text, len);
	assert_null(d);
	if (errs.total != 1 || strcmp(errs.msg[0], want) != 0) {
		for (size_t i = 0; i < errs.nkept; i++)
			print_error("got: %s\n", errs.msg[i]);
		print_error("want: %s\n", want);
		fail();
	}
}
#define E(name, lit, want) expect_error(name, lit, sizeof lit - 1, want)

static const char *text(const struct dict_data *d, size_t row, const char *col)
{
	static char buf[DICT_IP_STRLEN];
	int c = dict_column_index(dict_data_def(d), col);
	assert_true(c >= 0);
	return dict_data_text(d, row, (size_t)c, buf);
}

static void test_samples_are_valid(void **state)
{
	for (unsigned i = 0; i < DICT_COUNT; i++) {
		const struct dict_def *def = dict_def((enum dict_id)i);
		char path[256];
		snprintf(path, sizeof path, "dictionaries/%s.sample.txt", def->name);
		struct dict_data *d = NULL;
		dict_errors_free(&errs);
		dict_errors_init(&errs, 10);
		int rc = dict_load_file(def, path, &d, &errs);
		if (rc != 0)
			dict_errors_print(&errs, stderr);
		assert_int_equal(rc, 0);
		assert_true(dict_data_rows(d) > 0);
		dict_data_free(d);
	}
}

static void test_manual_examples(void **state)
{
	struct dict_data *d = P("subnets_local_dic",
		"192.168.1.0/24\tLOCAL\n10.64.66.0/24\tLOCAL\n172.16.0.0\tLOCAL\n2a02:2168:aaa:bbb::2\tLOCAL\n");
	assert_non_null(d);
	assert_int_equal(dict_data_rows(d), 4);
	assert_string_equal(text(d, 2, "prefix"), "172.16.0.0/32");
	assert_string_equal(text(d, 3, "prefix"), "2a02:2168:aaa:bbb::2/128");
	assert_string_equal(text(d, 0, "name"), "LOCAL");
	dict_data_free(d);
	/* switches_dic as in the manual: trunk and upstream given, no port or owner */
	d = P("switches_dic", "1\tSwitch_1\tEthernet\tRegion_1\tAddress_1\t10.140.1.18\tISP_1\t0\t0\n"
			      "3\tSwitch_3\tEthernet\tRegion_3\tAddress_3\t10.140.3.18\tISP_1\t0\t1\tport1\n");
	assert_non_null(d);
	assert_string_equal(text(d, 1, "upstream_id"), "1");
	assert_string_equal(text(d, 1, "upstream_port"), "port1");
	assert_string_equal(text(d, 1, "owner"), "");
	assert_string_equal(text(d, 0, "upstream_port"), "");
	dict_data_free(d);
}

static void test_format_oddities_accepted(void **state)
{
	/* BOM, CRLF, comments (also indented), blank lines, spaces around values, trailing tabs */
	struct dict_data *d = P("asnum_local_dic", "\xef\xbb\xbf# comment\r\n12345\tLOCAL\r\n\r\n"
						   "   # indented comment\n \t \n 65535 \t UNKNOWN \t\t\n"
						   "1\tname # not a comment\n");
	assert_non_null(d);
	assert_int_equal(dict_data_rows(d), 3);
	assert_string_equal(text(d, 0, "asn"), "12345");
	assert_string_equal(text(d, 0, "name"), "LOCAL");
	assert_string_equal(text(d, 1, "name"), "UNKNOWN");
	assert_string_equal(text(d, 2, "name"), "name # not a comment");
	assert_int_equal(dict_data_line(d, 1), 6);
	dict_data_free(d);
	/* no newline at the end */
	d = P("asnum_local_dic", "1\ta");
	assert_non_null(d);
	assert_int_equal(dict_data_rows(d), 1);
	dict_data_free(d);
	/* UTF-8 text kept as is */
	d = P("asnum_dic", "13238\tЯндекс\n");
	assert_non_null(d);
	assert_string_equal(text(d, 0, "name"), "Яндекс");
	dict_data_free(d);
}

static void test_empty_files(void **state)
{
	for (unsigned i = 0; i < DICT_COUNT; i++) {
		const char *name = dict_def((enum dict_id)i)->name;
		struct dict_data *d = parse(name, "", 0);
		assert_non_null(d);
		assert_int_equal(dict_data_rows(d), 0);
		dict_data_free(d);
		d = P(name, "\xef\xbb\xbf# only a comment\r\n\n");
		assert_non_null(d);
		assert_int_equal(dict_data_rows(d), 0);
		dict_data_free(d);
	}
	struct dict_data *e = dict_data_empty(dict_def(DICT_subnets_local_dic));
	assert_int_equal(dict_data_rows(e), 0);
	dict_data_free(e);
}

static void test_column_count(void **state)
{
	E("asnum_local_dic", "12345 LOCAL\n",
	  "f.txt:1:1: expected 2 columns separated by a tab, found 1: did you use spaces? (value '12345 LOCAL')");
	E("asnum_local_dic", "1\ta\n12345\n",
	  "f.txt:2:1: expected 2 columns separated by a tab, found 1 (value '12345')");
	E("asnum_local_dic", "1\ta\tb\n",
	  "f.txt:1:5: expected 2 columns separated by a tab, found 3 (value 'b')");
	E("asnum_local_dic", "1\ta\t\tb\t\n",
	  "f.txt:1:6: expected 2 columns separated by a tab, found 4 (value 'b')");
	E("switches_dic", "1\tS\tE\tR\tA\n",
	  "f.txt:1:1: expected 7 to 11 columns separated by a tab, found 5 (value '1\\x09S\\x09E\\x09R\\x09A')");
	E("switches_dic", "1\tS\tE\tR\tA\t10.0.0.1\tI\t0\t0\tp\to\textra\n",
	  "f.txt:1:30: expected 7 to 11 columns separated by a tab, found 12 (value 'extra')");
	/* with CRLF the column is still right and \r is not part of the value */
	E("subnets_local_dic", "10.0.0.0/8 LOCAL\r\n",
	  "f.txt:1:1: expected 2 columns separated by a tab, found 1: did you use spaces? (value '10.0.0.0/8 LOCAL')");
	/* BOM not counted in columns */
	E("asnum_local_dic", "\xef\xbb\xbf" "x\ty\n",
	  "f.txt:1:1: bad asn: expected an integer 0..4294967295 (value 'x')");
}

static void test_numbers(void **state)
{
	E("asnum_local_dic", "4294967296\tX\n",
	  "f.txt:1:1: bad asn: expected an integer 0..4294967295 (value '4294967296')");
	E("asnum_local_dic", "-1\tX\n", "f.txt:1:1: bad asn: expected an integer 0..4294967295 (value '-1')");
	E("asnum_local_dic", "+1\tX\n", "f.txt:1:1: bad asn: expected an integer 0..4294967295 (value '+1')");
	E("asnum_local_dic", "AS123\tX\n",
	  "f.txt:1:1: bad asn: expected an integer 0..4294967295 (value 'AS123')");
	E("asnum_local_dic", "\tX\n", "f.txt:1:1: empty asn: expected an integer 0..4294967295");
	E("protocols_dic", "65536\tX\n", "f.txt:1:1: bad id: expected an integer 0..65535 (value '65536')");
	E("crc_dic", "1\tp\t18446744073709551616\n",
	  "f.txt:1:5: bad crc: expected an integer 0..18446744073709551615 (value '18446744073709551616')");
	E("switches_dic", "1\tS\tE\tR\tA\t10.0.0.1\tI\t2\n",
	  "f.txt:1:22: bad trunk: expected 0 or 1 (value '2')");
	E("switches_dic", "0\tS\tE\tR\tA\t10.0.0.1\tI\n", "f.txt:1:1: id must not be 0 (value '0')");
	struct dict_data *d = P("crc_dic", "18446744073709551615\tp\t0\n");
	assert_non_null(d);
	assert_string_equal(text(d, 0, "switch_id"), "18446744073709551615");
	dict_data_free(d);
	d = P("protocols_dic", "007\tX\n");
	assert_non_null(d);
	assert_string_equal(text(d, 0, "id"), "7");
	dict_data_free(d);
}

static void test_addresses(void **state)
{
	E("subnets_local_dic", "10.64.66.1/24\tX\n",
	  "f.txt:1:1: bad prefix: address has bits set after the prefix length /24: did you mean 10.64.66.0/24? (value '10.64.66.1/24')");
	E("subnets_local_dic", "2001:db8::1/32\tX\n",
	  "f.txt:1:1: bad prefix: address has bits set after the prefix length /32: did you mean 2001:db8::/32? (value '2001:db8::1/32')");
	E("subnets_local_dic", "10.0.0.0/33\tX\n",
	  "f.txt:1:1: bad prefix: prefix length must be 0..32; expected an IPv4 or IPv6 address or CIDR such as 10.0.0.0/8 or 2001:db8::/32 (value '10.0.0.0/33')");
	E("subnets_local_dic", "::/129\tX\n",
	  "f.txt:1:1: bad prefix: prefix length must be 0..128; expected an IPv4 or IPv6 address or CIDR such as 10.0.0.0/8 or 2001:db8::/32 (value '::/129')");
	E("subnets_local_dic", "10.0.0.0/\tX\n",
	  "f.txt:1:1: bad prefix: prefix length must be 0..32; expected an IPv4 or IPv6 address or CIDR such as 10.0.0.0/8 or 2001:db8::/32 (value '10.0.0.0/')");
	E("subnets_local_dic", "1.2.3\tX\n",
	  "f.txt:1:1: bad prefix: not an IPv4 or IPv6 address; expected an IPv4 or IPv6 address or CIDR such as 10.0.0.0/8 or 2001:db8::/32 (value '1.2.3')");
	E("subnets_local_dic", "256.1.1.1\tX\n",
	  "f.txt:1:1: bad prefix: not an IPv4 or IPv6 address; expected an IPv4 or IPv6 address or CIDR such as 10.0.0.0/8 or 2001:db8::/32 (value '256.1.1.1')");
	E("subscribers_dic", "10.0.0.0/24\tl\t1\tp\tv\tc\tk\n",
	  "f.txt:1:1: bad ip: expected an IPv4 or IPv6 address such as 10.0.0.1 or 2001:db8::1 without a prefix length (value '10.0.0.0/24')");
	E("subscribers_dic", "10.0.0.1\tl\t1\tp\tv\tc\tk\ts\tmac\n",
	  "f.txt:1:24: bad mac: expected a MAC address such as 00:11:22:aa:bb:cc, or nothing (value 'mac')");
	/* large prefixes are fine: no limit on addresses per entry */
	struct dict_data *d = P("subnets_local_dic", "10.0.0.0/8\ta\n0.0.0.0/0\tb\n::/0\tc\n8000::/1\td\n"
						     "2001:db8::/32\te\n");
	assert_non_null(d);
	assert_string_equal(text(d, 0, "prefix"), "10.0.0.0/8");
	assert_string_equal(text(d, 1, "prefix"), "0.0.0.0/0");
	assert_string_equal(text(d, 2, "prefix"), "::/0");
	assert_string_equal(text(d, 3, "prefix"), "8000::/1");
	dict_data_free(d);
	/* MAC forms */
	d = P("subscribers_dic", "10.0.0.1\tl\t1\tp\tv\tc\tk\ts\t00:11:22:AA:bb:cc\n"
				 "10.0.0.2\tl\t1\tp\tv\tc\tk\ts\t00-11-22-aa-bb-cd\n"
				 "10.0.0.3\tl\t1\tp\tv\tc\tk\ts\t0011.22aa.bbce\n"
				 "10.0.0.4\tl\t1\tp\tv\tc\tk\ts\t001122aabbcf\n"
				 "10.0.0.5\tl\t1\tp\tv\tc\tk\n"
				 "::ffff:10.0.0.6\tl\t1\tp\tv\tc\tk\ts\t\n");
	assert_non_null(d);
	assert_string_equal(text(d, 0, "mac"), "00:11:22:aa:bb:cc");
	assert_string_equal(text(d, 1, "mac"), "00:11:22:aa:bb:cd");
	assert_string_equal(text(d, 2, "mac"), "00:11:22:aa:bb:ce");
	assert_string_equal(text(d, 3, "mac"), "00:11:22:aa:bb:cf");
	assert_string_equal(text(d, 4, "mac"), "");
	assert_string_equal(text(d, 4, "services"), "");
	assert_string_equal(text(d, 5, "ip"), "::ffff:10.0.0.6");
	dict_data_free(d);
}

static void test_text(void **state)
{
	E("asnum_dic", "1\tbad\xc0name\n",
	  "f.txt:1:6: not UTF-8: convert the file, e.g. iconv -f cp1251 -t utf-8 (value 'bad\\xc0name')");
	E("asnum_dic", "1\tbad\x01name\n", "f.txt:1:6: control character 0x01 in text (value 'bad\\x01name')");
	E("asnum_dic", "1\tmac\rline\n",
	  "f.txt:1:6: carriage return inside a line: save the file with LF or CRLF line ends (value 'mac\\x0dline')");
	E("asnum_dic", "1\tnul\0x\n", "f.txt:1:6: NUL byte: is this a text file? (value 'nul\\x00x')");
	E("urlcats_host_dic", "\t1\n", "f.txt:1:1: empty host: expected a host name without spaces");
	E("urlcats_host_dic", "a b.ru\t1\n",
	  "f.txt:1:2: space inside host: expected a host name without spaces (value 'a b.ru')");
	struct dict_data *d = P("urlcats_host_dic", "Yandex.RU\t1\n");
	assert_non_null(d);
	assert_string_equal(text(d, 0, "host"), "yandex.ru");
	dict_data_free(d);
	/* long values are cut in messages */
	char line[300];
	memset(line, 'x', 200);
	memcpy(line + 200, "\t1\n", 4);
	d = parse("protocols_dic", line, strlen(line));
	assert_null(d);
	assert_non_null(strstr(errs.msg[0], "xxx...')"));
}

static void test_duplicates(void **state)
{
	E("asnum_local_dic", "12345\tA\n# c\n12345\tB\n",
	  "f.txt:3:1: duplicate key: the same asn is on line 1 (value '12345')");
	E("asnum_local_dic", "012345\tA\n12345\tB\n",
	  "f.txt:2:1: duplicate key: the same asn is on line 1 (value '12345')");
	E("subnets_local_dic", "172.16.0.0\tA\n172.16.0.0/32\tB\n",
	  "f.txt:2:1: duplicate key: the same prefix is on line 1 (value '172.16.0.0/32')");
	E("subnets_local_dic", "2001:db8::/32\tA\n2001:0db8:0::/32\tB\n",
	  "f.txt:2:1: duplicate key: the same prefix is on line 1 (value '2001:db8::/32')");
	E("crc_dic", "2\tport_1\t1\n2\tport_2\t1\n2\tport_1\t5\n",
	  "f.txt:3:1: duplicate key: the same switch_id is on line 1 (value '2, port_1')");
	E("urlcats_host_dic", "vk.com\t1\nVK.com\t2\n",
	  "f.txt:2:1: duplicate key: the same host is on line 1 (value 'vk.com')");
	/* same address, different length, and v4 vs v4-mapped v6: all distinct */
	struct dict_data *d = P("subnets_local_dic", "10.0.0.0/8\ta\n10.0.0.0/16\tb\n10.0.0.0\tc\n"
						     "::ffff:10.0.0.0/104\td\n");
	assert_non_null(d);
	assert_int_equal(dict_data_rows(d), 4);
	dict_data_free(d);
}

static void test_hierarchy(void **state)
{
	E("switches_dic", "1\tS\tE\tR\tA\t10.0.0.1\tI\t0\t0\n2\tS\tE\tR\tA\t10.0.0.2\tI\t0\t7\tp\n",
	  "f.txt:2:24: upstream_id 7 is not the id of any line (use 0 for none) (value '7')");
	E("switches_dic", "1\tS\tE\tR\tA\t10.0.0.1\tI\t0\t1\n",
	  "f.txt:1:24: upstream_id loops back to itself (value '1 -> 1')");
	E("switches_dic", "1\tS\tE\tR\tA\t10.0.0.1\tI\t0\t0\n"
			  "2\tS\tE\tR\tA\t10.0.0.1\tI\t0\t3\n"
			  "3\tS\tE\tR\tA\t10.0.0.1\tI\t0\t4\n"
			  "4\tS\tE\tR\tA\t10.0.0.1\tI\t0\t2\n",
	  "f.txt:2:24: upstream_id loops back to itself (value '2 -> 3 -> 4 -> 2')");
	/* parents may come after children; empty upstream is none */
	struct dict_data *d = P("switches_dic", "5\tS\tE\tR\tA\t10.0.0.5\tI\t0\t4\tp\n"
						"4\tS\tE\tR\tA\t10.0.0.4\tI\t1\t\tp\n"
						"6\tS\tE\tR\tA\t2001:db8::6\tI\n");
	assert_non_null(d);
	assert_string_equal(text(d, 1, "upstream_id"), "0");
	assert_string_equal(text(d, 1, "trunk"), "1");
	assert_string_equal(text(d, 2, "ip"), "2001:db8::6");
	dict_data_free(d);
}

static void test_nothing_partial_and_all_errors_listed(void **state)
{
	/* 150 bad lines among good ones: no result, all counted, the first 100 kept */
	size_t cap = 64 * 400, o = 0;
	char *buf = malloc(cap);
	assert_non_null(buf);
	for (int i = 0; i < 300; i++)
		o += (size_t)snprintf(buf + o, cap - o, i % 2 ? "%d\tok\n" : "%d ok\n", i);
	struct dict_data *d = parse("asnum_local_dic", buf, o);
	assert_null(d);
	assert_int_equal(errs.total, 150);
	assert_int_equal(errs.nkept, 100);
	assert_string_equal(errs.msg[99],
		"f.txt:199:1: expected 2 columns separated by a tab, found 1: did you use spaces? (value '198 ok')");
	free(buf);
}

static void test_load_file_errors(void **state)
{
	struct dict_data *d = NULL;
	dict_errors_free(&errs);
	dict_errors_init(&errs, 10);
	assert_int_equal(dict_load_file(dict_def(DICT_asnum_dic), "/nonexistent/asnum_dic.txt", &d, &errs), -1);
	assert_null(d);
	assert_string_equal(errs.msg[0], "/nonexistent/asnum_dic.txt: cannot open: No such file or directory");
	dict_errors_free(&errs);
	dict_errors_init(&errs, 10);
	assert_int_equal(dict_load_file(dict_def(DICT_asnum_dic), "/tmp", &d, &errs), -1);
	assert_string_equal(errs.msg[0], "/tmp: not a regular file");
}

static void test_table(void **state)
{
	/* every dictionary: key first or composite, optional columns only at the end */
	for (unsigned i = 0; i < DICT_COUNT; i++) {
		const struct dict_def *def = dict_def((enum dict_id)i);
		assert_int_equal(def->id, i);
		assert_ptr_equal(dict_def_by_name(def->name), def);
		assert_int_equal(dict_key_column(def), 0);
		size_t req = dict_nrequired(def);
		for (size_t c = req; c < def->ncols; c++)
			assert_true(def->cols[c].flags & DC_OPT);
		if (def->layout == DL_IP_TRIE)
			assert_true(def->cols[0].type == DT_CIDR);
		if (def->layout == DL_IP_EXACT)
			assert_true(def->cols[0].type == DT_IP);
	}
	assert_null(dict_def_by_name("nope"));
	assert_int_equal(dict_column_index(dict_def(DICT_subscribers_dic), "login"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_samples_are_valid),
		cmocka_unit_test(test_manual_examples),
		cmocka_unit_test(test_format_oddities_accepted),
		cmocka_unit_test(test_empty_files),
		cmocka_unit_test(test_column_count),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_hierarchy),
		cmocka_unit_test(test_nothing_partial_and_all_errors_listed),
		cmocka_unit_test(test_load_file_errors),
	};
	dict_errors_init(&errs, 100);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	dict_errors_free(&errs);
	return rc;
}

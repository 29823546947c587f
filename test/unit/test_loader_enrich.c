/* test_loader_enrich.c: cmocka tests of the loader's enrichment
 * (loader/enrich.h) without dictionaries: every column the rules read exists
 * in the schema (a renamed column fails here, not silently in production),
 * the DPI's direction flags, unknown sides, login replacement by number, and
 * the natflow row made from a fullflow record. The dictionary-driven modes
 * are tested end to end in test/integration/loader-enrich.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "loader/enrich.h"

static const struct qs_stream_def *ff(void)
{
	return qs_stream_by_name("fullflow");
}

static void test_columns_exist(void **state)
{
	(void)state;
	struct enrich e;
	struct enrich_cfg cfg = { 0 };
	enrich_init(&e, &cfg, ff());
	for (int i = 0; i < EC_COUNT; i++)
		if (i != EC_ORIGIN)
			assert_true(e.c[i] >= 0);
	assert_true(e.has_as);
	enrich_init(&e, &cfg, qs_stream_by_name("clickstream"));
	assert_false(e.has_as);
	assert_true(e.c[EC_SUBIP] >= 0 && e.c[EC_SIDE] >= 0 && e.c[EC_DPI] >= 0);
	enrich_init(&e, &cfg, qs_stream_by_name("natflow"));
	assert_true(e.c[EC_ORIGIN] >= 0);
	/* AS modes on a stream without AS: 1 -> 0, 3/4 -> 2. */
	struct enrich_cfg m = { 1, 3, 4, 0, 0, 0 };
	enrich_init(&e, &m, qs_stream_by_name("clickstream"));
	assert_int_equal(e.cfg.dir_mode, 0);
	assert_int_equal(e.cfg.filter_mode, 2);
	assert_int_equal(e.cfg.exclude_mode, 2);
}

static void flow(struct qs_record *r, uint32_t src, uint32_t dst, unsigned flag)
{
	const struct qs_stream_def *d = ff();
	qs_record_clear(r, d);
	qs_record_set_u(r, qs_column_index(d, "source_ipv4"), src);
	qs_record_set_u(r, qs_column_index(d, "destination_ipv4"), dst);
	qs_record_set_u(r, qs_column_index(d, "ip_version"), 4);
	qs_record_set_u(r, qs_column_index(d, "bgp_source_as_number"), 100);
	qs_record_set_u(r, qs_column_index(d, "bgp_destination_as_number"), 200);
	if (flag)
		qs_record_set_u(r, qs_column_index(d, "ingress_interface"), flag);
}

static void test_flags(void **state)
{
	(void)state;
	struct enrich e;
	struct enrich_cfg cfg = { .dir_mode = 2 }; /* no dictionaries: falls back to the flags */
	enrich_init(&e, &cfg, ff());
	struct qs_record r;
	flow(&r, 0x5db8d822u, 0x0a000001u, 1);
	assert_int_equal(enrich_record(&e, NULL, 4, &r), ENRICH_AGG);
	assert_int_equal(r.v[e.c[EC_DPI]].u, 4);
	assert_int_equal(r.v[e.c[EC_SIDE]].u, 2);
	assert_int_equal(r.v[e.c[EC_DIR]].u, 1);
	static const uint8_t sub[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 1 };
	assert_memory_equal(r.v[e.c[EC_SUBIP]].p, sub, 16);
	assert_int_equal(r.v[e.c[EC_HOSTAS]].u, 100);
	assert_int_equal(r.v[e.c[EC_SUBAS]].u, 200);
	flow(&r, 0x0a000001u, 0x5db8d822u, 2);
	enrich_record(&e, NULL, 0, &r);
	assert_int_equal(r.v[e.c[EC_SIDE]].u, 1);
	assert_int_equal(r.v[e.c[EC_DIR]].u, 2);
	assert_int_equal(r.v[e.c[EC_HOSTAS]].u, 200);
	flow(&r, 1, 2, 0);
	enrich_record(&e, NULL, 0, &r);
	assert_int_equal(r.v[e.c[EC_SIDE]].u, 0);
	assert_int_equal(r.v[e.c[EC_DIR]].u, 0);
	/* A filter with no dictionary keeps nothing in the aggregates. */
	struct enrich_cfg f = { .filter_mode = 2 };
	enrich_init(&e, &f, ff());
	flow(&r, 1, 2, 1);
	assert_int_equal(enrich_record(&e, NULL, 0, &r), 0);
}

static void test_login_and_nat(void **state)
{
	(void)state;
	const struct qs_stream_def *d = ff();
	struct enrich e;
	struct enrich_cfg cfg = { .replace_login = 2, .use_dic = 1, .nat_from_fullflow = 1 };
	enrich_init(&e, &cfg, d);
	struct qs_record r, n;
	flow(&r, 0x0a000006u, 0x5db8d826u, 2);
	qs_record_set_u(&r, qs_column_index(d, "vchannel"), 12);
	qs_record_set_bytes(&r, qs_column_index(d, "login"), (const uint8_t *)"", 0);
	qs_record_set_u(&r, qs_column_index(d, "post_nat_source_ipv4"), 0xcb007105u);
	qs_record_set_u(&r, qs_column_index(d, "post_napt_source_transport_port"), 40000);
	qs_record_set_u(&r, qs_column_index(d, "source_transport_port"), 50006);
	qs_record_set_u(&r, qs_column_index(d, "flow_start_ms"), 1700000005000ull);
	enrich_record(&e, NULL, 3, &r);
	int lc = qs_column_index(d, "login");
	assert_int_equal(r.v[lc].len, 2);
	assert_memory_equal(r.v[lc].p, "12", 2);
	const struct qs_stream_def *nd = qs_stream_by_name("natflow");
	assert_int_equal(enrich_nat_row(&e, &r, nd, &n), 1);
	assert_int_equal(n.v[qs_column_index(nd, "post_nat_source_ipv4")].u, 0xcb007105u);
	assert_int_equal(n.v[qs_column_index(nd, "post_napt_source_transport_port")].u, 40000);
	assert_int_equal(n.v[qs_column_index(nd, "source_ipv4")].u, 0x0a000006u);
	assert_int_equal(n.v[qs_column_index(nd, "time_ms")].u, 1700000005000ull);
	assert_int_equal(n.v[qs_column_index(nd, "origin")].u, 1);
	assert_int_equal(n.v[qs_column_index(nd, "dpi_id")].u, 3);
	/* A non-empty login is kept in mode 2; no post-NAT port: no NAT row. */
	flow(&r, 1, 2, 2);
	qs_record_set_u(&r, qs_column_index(d, "vchannel"), 12);
	qs_record_set_bytes(&r, lc, (const uint8_t *)"bob", 3);
	qs_record_set_u(&r, qs_column_index(d, "post_nat_source_ipv4"), 0xcb007105u);
	enrich_record(&e, NULL, 0, &r);
	assert_memory_equal(r.v[lc].p, "bob", 3);
	assert_int_equal(enrich_nat_row(&e, &r, nd, &n), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_columns_exist), cmocka_unit_test(test_flags),
		cmocka_unit_test(test_login_and_nat),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

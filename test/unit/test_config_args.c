/* test_config_args.c: the command lines built from qoestor.yaml (cfg_args.c)
 * go through the programs' own option tables (receiver/recv_opts.c,
 * loader/opts.c) and come out as the same settings. This is the drift check
 * between the YAML keys and the options each program accepts: an option
 * renamed or a range narrowed in a program fails here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/cfg_args.h"
#include "config/config.h"
#include "loader/opts.h"
#include "receiver/recv_opts.h"

static struct qs_config cfg;
static char err[8192];

static const char yaml[] =
	"receivers:\n"
	"  - dpi: 2\n"
	"    listen: 0.0.0.0\n"
	"    fullflow: {rotate_minutes: 5, rotate_delay_seconds: 30, dump_insert_processes: 3,\n"
	"               export: [10.0.0.2/9920/tcp, 10.0.0.3/3440/udp]}\n"
	"    clickstream: {transport: udp, port: 2001, listen: \"::1\", udp_timeout_seconds: 60, udp_rcvbuf_mb: 8,\n"
	"                  udp_hold_seconds: 5, udp_hold_kb: 100, udp_template_lifetime_seconds: 600,\n"
	"                  accept: \"ipfix,netflow9\", metrics: \"127.0.0.1:9470\", export_queue_mb: 2,\n"
	"                  spool_compression: none}\n"
	"loader:\n"
	"  clickhouse: [http://127.0.0.1:8123, http://127.0.0.2:8123]\n"
	"  user: qoe\n"
	"  database: qoe2\n"
	"  raw_ttl_hours: 48\n"
	"  traffic_dir_def_mode: 3\n"
	"  subscriber_filter_mode: 2\n"
	"  subscriber_exclude_mode: 4\n"
	"  ulr_replace_login_with_vchannel: 2\n"
	"  nat_import_from_fullflow: 1\n"
	"  nat_agg_log_fields_to_save_bitmask: 0x7ff\n"
	"  nat_agg_log_group_time_interval: 5\n"
	"  fullflow_agg_period: 5\n"
	"  compression: gzip\n"
	"  format: csv\n"
	"  settle_seconds: 5\n"
	"  tls_ca_file: /etc/ssl/ca.pem\n"
	"  insert_settings: max_insert_threads=2\n"
	"  metrics: 127.0.0.1:9465\n"
	"paths:\n"
	"  spool: /srv/spool\n"
	"  log_level: 7\n"
	"dictionaries:\n"
	"  dir: /srv/dict\n";

static void test_recv(void **state)
{
	(void)state;
	static struct qs_cfg_argv a;
	struct recv_opts o;
	assert_int_equal(qs_config_load_buf("t.yaml", yaml, sizeof yaml - 1, &cfg, err, sizeof err), 0);
	assert_int_equal(qs_cfg_recv_argv(&cfg, QS_FULLFLOW, 2, "qoestor-recv", &a, err, sizeof err), 0);
	if (recv_opts_parse(&o, a.argc, a.argv, err, sizeof err) != 0)
		fail_msg("qoestor-recv refused the generated options: %s", err);
	assert_int_equal(o.def->id, QS_FULLFLOW);
	assert_int_equal(o.dpi, 2);
	assert_string_equal(o.instance, "fullflow-2");
	assert_string_equal(o.listen, "tcp://0.0.0.0:1520");
	assert_string_equal(o.spool, "/srv/spool");
	assert_int_equal(o.rotate_s, 300);
	assert_int_equal(o.delay_s, 30);
	assert_int_equal(o.log_level, 7);
	assert_string_equal(o.export_spec, "10.0.0.2/9920/tcp,10.0.0.3/3440/udp");
	assert_int_equal(o.uncompressed, 0);
	assert_int_equal(qs_cfg_recv_argv(&cfg, QS_CLICKSTREAM, 2, "qoestor-recv", &a, err, sizeof err), 0);
	if (recv_opts_parse(&o, a.argc, a.argv, err, sizeof err) != 0)
		fail_msg("qoestor-recv refused the generated options: %s", err);
	assert_string_equal(o.listen, "udp://[::1]:2001");
	assert_int_equal(o.rotate_s, 720);
	assert_int_equal(o.delay_s, 400);
	assert_int_equal(o.udp_timeout_s, 60);
	assert_int_equal(o.udp_rcvbuf_mb, 8);
	assert_string_equal(o.export_spec, "");
	assert_int_equal(o.udp_hold_s, 5);
	assert_int_equal(o.udp_hold_kb, 100);
	assert_int_equal(o.udp_lifetime_s, 600);
	assert_int_equal(o.export_queue_mb, 2);
	assert_string_equal(o.accept_s, "ipfix,netflow9");
	assert_string_equal(o.metrics, "127.0.0.1:9470");
	assert_int_equal(o.uncompressed, 1);
}

static void test_loader(void **state)
{
	(void)state;
	static struct qs_cfg_argv a;
	struct loader_config lc;
	assert_int_equal(qs_config_load_buf("t.yaml", yaml, sizeof yaml - 1, &cfg, err, sizeof err), 0);
	assert_int_equal(qs_cfg_loader_argv(&cfg, "qoestor-loader", &a, err, sizeof err), 0);
	loader_config_defaults(&lc);
	/* The loader's own loop (loader/main.c): getopt_long over its table. */
	optind = 1;
	opterr = 0;
	int o;
	while ((o = getopt_long(a.argc, a.argv, "", loader_getopt_table(), NULL)) != -1) {
		const char *name = loader_opt_name(o);
		if (!name)
			fail_msg("qoestor-loader does not know option %s", a.argv[optind - 1]);
		if (loader_opt_set(&lc, name, optarg, err, sizeof err) != 0)
			fail_msg("qoestor-loader refused --%s %s: %s", name, optarg ? optarg : "", err);
	}
	assert_int_equal(optind, a.argc);
	if (loader_config_check(&lc, err, sizeof err) != 0)
		fail_msg("loader_config_check: %s", err);
	assert_int_equal(lc.nurls, 2);
	assert_string_equal(lc.urls[1], "http://127.0.0.2:8123");
	assert_string_equal(lc.user, "qoe");
	assert_string_equal(lc.database, "qoe2");
	assert_int_equal(lc.raw_ttl_hours, 48);
	assert_string_equal(lc.spool_dir, "/srv/spool");
	assert_string_equal(lc.dict_dir, "/srv/dict");
	assert_int_equal(lc.traffic_dir_def_mode, 3);
	assert_int_equal(lc.subscriber_filter_mode, 2);
	assert_int_equal(lc.subscriber_exclude_mode, 4);
	assert_int_equal(lc.ulr_replace_login, 2);
	assert_int_equal(lc.nat_import_from_fullflow, 1);
	assert_int_equal(lc.nat_agg_bitmask, 0x7ff);
	assert_int_equal(lc.nat_agg_interval_min, 5);
	assert_int_equal(lc.fullflow_agg_period_min, 5);
	assert_int_equal(lc.compress, LC_GZIP);
	assert_int_equal(lc.format, LF_CSV);
	assert_int_equal(lc.settle_s, 5);
	assert_string_equal(lc.tls_ca_file, "/etc/ssl/ca.pem");
	assert_string_equal(lc.insert_settings, "max_insert_threads=2");
	assert_int_equal(lc.max_groups, 0); /* the shared budget, the loader's default */
	assert_int_equal(lc.stream_processes[QS_FULLFLOW], 3);
	assert_string_equal(lc.metrics_listen, "127.0.0.1:9465");
	loader_config_free(&lc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recv),
		cmocka_unit_test(test_loader),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

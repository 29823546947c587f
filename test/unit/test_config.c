/* test_config.c: unit tests of qoestor.yaml's parser, checks, printer and
 * .env import: the manual's defaults, computed defaults per stream and DPI,
 * every bad-config case with its message (file:line:col and key path), the
 * print -> load round trip, and the manual's .env examples verbatim.
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
#include "config/cfg_env.h"
#include "config/cfg_table.h"
#include "config/config.h"
#include "config/config_print.h"

static struct qs_config cfg;
static char err[16384];

static int load(const char *yaml)
{
	return qs_config_load_buf("t.yaml", yaml, strlen(yaml), &cfg, err, sizeof err);
}

/* The load fails and the messages hold want. */
static void bad(const char *yaml, const char *want)
{
	int n = load(yaml);
	if (n == 0 || !strstr(err, want)) {
		fprintf(stderr, "yaml:\n%s\nproblems (%d):\n%s\nwanted: %s\n", yaml, n, err, want);
		fail();
	}
}

static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(load(""), 0);
	assert_int_equal(cfg.ndpis, 1);
	const struct qs_cfg_receiver *f = qs_config_receiver(&cfg, 0, QS_FULLFLOW);
	const struct qs_cfg_receiver *c = qs_config_receiver(&cfg, 0, QS_CLICKSTREAM);
	assert_non_null(f);
	assert_non_null(c);
	assert_int_equal(f->port, 1500);
	assert_int_equal(c->port, 1501);
	assert_int_equal(qs_config_receiver(&cfg, 0, QS_GTPFLOW)->port, 1502);
	assert_int_equal(qs_config_receiver(&cfg, 0, QS_NATFLOW)->port, 1503);
	assert_null(qs_config_receiver(&cfg, 0, QS_DNSFLOW));
	/* The manual's commented defaults. */
	assert_int_equal(f->rotate_minutes, 10);
	assert_int_equal(c->rotate_minutes, 12);
	assert_int_equal(f->rotate_delay_seconds, 0);
	assert_int_equal(c->rotate_delay_seconds, 400);
	assert_int_equal(f->fw_max_queue_size, 10);
	assert_int_equal(f->dump_insert_processes, 0);
	assert_int_equal(f->transport, QS_CFG_TCP);
	assert_string_equal(f->listen, "127.0.0.1");
	assert_int_equal(cfg.loader.traffic_dir_def_mode, 0);
	assert_int_equal(cfg.loader.subscriber_filter_mode, 0);
	assert_int_equal(cfg.loader.nat_agg_log_group_time_interval, 15);
	assert_int_equal(cfg.dicts.urlcats_autoload, 1);
	assert_int_equal(cfg.dicts.asnum_autoload, 1);
	assert_int_equal(cfg.dicts.vchannel_name_autoload, 0);
	assert_string_equal(cfg.loader.database, "qoestor");
	assert_int_equal(cfg.loader.nclickhouse, 1);
	assert_string_equal(cfg.loader.clickhouse[0], "http://127.0.0.1:8123");
	assert_string_equal(cfg.db.listen, "127.0.0.1:8123");
	/* A file of comments only is the defaults too. */
	assert_int_equal(load("# nothing\n"), 0);
	assert_int_equal(cfg.ndpis, 1);
}

static void test_multi_dpi(void **state)
{
	(void)state;
	assert_int_equal(load("receivers:\n"
			      "  - dpi: 0\n    fullflow:\n    clickstream: {}\n"
			      "  - dpi: 1\n    listen: 0.0.0.0\n    fullflow: {}\n    clickstream:\n      transport: udp\n"
			      "  - dpi: 2\n    fullflow: {port: 1520, rotate_minutes: 5}\n    natflow: {}\n"),
			 0);
	assert_int_equal(cfg.ndpis, 3);
	assert_int_equal(qs_config_receiver(&cfg, 1, QS_FULLFLOW)->port, 1510);
	assert_int_equal(qs_config_receiver(&cfg, 1, QS_CLICKSTREAM)->port, 1511);
	assert_int_equal(qs_config_receiver(&cfg, 1, QS_CLICKSTREAM)->transport, QS_CFG_UDP);
	assert_string_equal(qs_config_receiver(&cfg, 1, QS_FULLFLOW)->listen, "0.0.0.0");
	assert_int_equal(qs_config_receiver(&cfg, 2, QS_FULLFLOW)->rotate_minutes, 5);
	assert_int_equal(qs_config_receiver(&cfg, 2, QS_NATFLOW)->port, 1523);
	assert_null(qs_config_receiver(&cfg, 2, QS_CLICKSTREAM));
	assert_null(qs_config_receiver(&cfg, 0, QS_GTPFLOW));
	/* No receivers at all: a loader-only host. */
	assert_int_equal(load("receivers: []\n"), 0);
	assert_int_equal(cfg.ndpis, 0);
}

static void test_values(void **state)
{
	(void)state;
	assert_int_equal(load("receivers:\n  - dpi: 3\n    fullflow:\n      export: [10.0.0.2/9920/tcp, 10.0.0.3/3440/udp]\n"
			      "    clickstream:\n      export: 10.0.0.2/9921/tcp,10.0.0.3/3441/udp\n"
			      "loader:\n  clickhouse: [http://a:8123, https://b:8443]\n"
			      "  nat_agg_log_fields_to_save_bitmask: 0x7ff\n  compression: gzip\n"
			      "  fullflow_agg_keys: \"\"\n  password: 'p#w: \"x\"'\n"
			      "db:\n  enabled: no\n"),
			 0);
	const struct qs_cfg_receiver *f = qs_config_receiver(&cfg, 3, QS_FULLFLOW);
	assert_int_equal(f->nexports, 2);
	assert_string_equal(f->exports[1].host, "10.0.0.3");
	assert_int_equal(f->exports[1].port, 3440);
	assert_int_equal(f->exports[1].transport, QS_CFG_UDP);
	assert_int_equal(qs_config_receiver(&cfg, 3, QS_CLICKSTREAM)->nexports, 2);
	assert_int_equal(cfg.loader.nclickhouse, 2);
	assert_int_equal(cfg.loader.nat_agg_log_fields_to_save_bitmask, 0x7ff);
	assert_int_equal(cfg.loader.compression, 1);
	assert_string_equal(cfg.loader.password, "p#w: \"x\"");
	assert_int_equal(cfg.db.enabled, 0);
}

static void test_errors(void **state)
{
	(void)state;
	bad("loader:\n  traffic_dir_def_mod: 2\n", "t.yaml:2:3: unknown key 'loader.traffic_dir_def_mod'; did you mean "
						   "'traffic_dir_def_mode'?");
	bad("recievers: []\n", "t.yaml:1:1: unknown key 'recievers'; did you mean 'receivers'?");
	bad("zzz: 1\n", "unknown key 'zzz'");
	bad("receivers:\n  - dpi: 0\n    fullflow:\n      port: 70000\n",
	    "t.yaml:4:13: receivers[0].fullflow.port: '70000' is not an integer in 1..65535");
	bad("receivers:\n  - dpi: 0\n    fullflow:\n      port: 0\n", "is not an integer in 1..65535");
	bad("receivers:\n  - dpi: 0\n    fullflow:\n      port: -1\n", "'-1' is not an integer");
	bad("receivers:\n  - dpi: 0\n    fullflow:\n      port: abc\n", "'abc' is not an integer");
	bad("receivers:\n  - dpi: 0\n    fullflow:\n      port: [1]\n", "receivers[0].fullflow.port: expected integer "
										"1..65535, got a list");
	bad("receivers:\n  - dpi: 0\n    fullflow:\n      port:\n", "receivers[0].fullflow.port: needs a value");
	bad("receivers:\n  - dpi: 0\n    fullflow:\n      transport: sctp\n", "'sctp' is not one of tcp|udp");
	bad("receivers:\n  - dpi: 0\n    fullflow: {port: 1600}\n    clickstream: {port: 1600}\n",
	    "t.yaml:4:25: receivers[0].clickstream.port: tcp port 1600 on 127.0.0.1 is already taken by "
	    "receivers[0].fullflow (line 3)");
	/* The same port on udp is another socket; on a wildcard address it collides. */
	assert_int_equal(load("receivers:\n  - dpi: 0\n    fullflow: {port: 1600}\n    clickstream: {port: 1600, "
			      "transport: udp}\n"),
			 0);
	bad("receivers:\n  - dpi: 0\n    fullflow: {port: 1600}\n  - dpi: 1\n    listen: 0.0.0.0\n    fullflow: {port: "
	    "1600}\n",
	    "receivers[1].fullflow.port: tcp port 1600 on 0.0.0.0 is already taken by receivers[0].fullflow");
	bad("receivers:\n  - dpi: 0\n    fullflow: {port: 8123}\n", "tcp 8123 is qoestor-db's port");
	bad("receivers:\n  - dpi: 1\n    fullflow: {}\n  - dpi: 1\n    clickstream: {}\n",
	    "t.yaml:4:10: receivers[1].dpi: DPI 1 is already configured by receivers[0] (line 2)");
	bad("receivers:\n  - fullflow: {}\n", "t.yaml:2:5: receivers[0]: missing 'dpi: N'");
	bad("receivers:\n  - dpi: 1000\n", "'1000' is not an integer in 0..999");
	bad("loader:\n  database: a\n  database: b\n", "t.yaml:3:3: key 'loader.database' given twice (first on line 2)");
	bad("receivers:\n  - dpi: 0\n    fullflow:\n      export: [10.0.0.2/9920]\n", "'10.0.0.2/9920' is not "
											"ip/port/proto");
	bad("receivers:\n  - dpi: 0\n    fullflow:\n      export: [10.0.0.2/9920/sctp]\n", "proto 'sctp' is not tcp or udp");
	bad("receivers:\n  - dpi: 0\n    fullflow:\n      export: [host.example/9920/tcp]\n", "not a numeric IP address");
	bad("receivers:\n  - dpi: 0\n    listen: localhost\n", "'localhost' is not a numeric IPv4 or IPv6 address");
	bad("loader:\n  password: x\n  password_file: /etc/hostname\n", "loader: give password or password_file, not both");
	bad("loader:\n  password_file: /nonexistent/qoestor-pw\n",
	    "t.yaml:2:18: loader.password_file: cannot read /nonexistent/qoestor-pw: No such file or directory");
	bad("db:\n  libchdb: /nonexistent/libchdb.so\n", "db.libchdb: cannot read /nonexistent/libchdb.so");
	bad("paths:\n  spool: relative/dir\n", "'relative/dir' is not an absolute path");
	bad("paths:\n  spool: /a b\n", "spaces (not allowed in paths)");
	bad("loader:\n  clickhouse: [ftp://x]\n", "'ftp://x' is not an http:// or https:// URL");
	bad("loader:\n  clickhouse: []\n", "loader.clickhouse: at least one URL is needed");
	bad("loader:\n  fullflow_agg_period: 7\n", "loader.fullflow_agg_period: 7 does not divide 15 minutes");
	bad("loader:\n  clickstream_agg_period: 7\n", "does not divide a day");
	bad("loader:\n  nat_agg_log_group_time_interval: 7\n", "7 is not 1, 5, 10, 15, 30 or 60");
	bad("loader:\n  nat_agg_log_fields_to_save_bitmask: 0x800\n", "'0x800' is not an integer in 0..2047");
	bad("loader:\n  traffic_dir_def_mode: 5\n", "'5' is not an integer in 0..4");
	bad("loader:\n  fullflow_agg_keys: host,nonsense\n", "'nonsense' is not a key of fullflow_agg");
	bad("loader:\n  metrics: 127.0.0.1\n", "is not ADDRESS:PORT");
	bad("loader:\n  auth_headers: maybe\n", "'maybe' is not true or false");
	bad("loader: 5\n", "loader: expected a mapping");
	bad("receivers:\n  dpi: 0\n", "receivers: expected a list");
	bad("- a\n- b\n", "the file must be a mapping of sections");
	bad("loader:\n  user: [a\n", "t.yaml:3:1: YAML syntax:");
	bad("loader:\n\tuser: a\n", "YAML syntax");
	bad("db: {}\n---\ndb: {}\n", "a second YAML document");
	bad("loader:\n  user: \"a\\u0001b\"\n", "has control characters");
	/* Every problem is reported, not only the first. */
	assert_int_equal(load("loader:\n  traffic_dir_def_mode: 9\n  subscriber_filter_mode: 9\nfoo: 1\n"), 3);
}

static void test_print_roundtrip(void **state)
{
	(void)state;
	const char *y = "receivers:\n  - dpi: 4\n    listen: \"::\"\n    fullflow:\n      export: [10.0.0.2/1/udp]\n"
			"    dnsflow: {enabled: false}\nloader:\n  user: \"yes\"\n  metrics: \"[::1]:9465\"\n"
			"  archive: /var/tmp/archive\nstorage:\n  hot_cold: true\n";
	assert_int_equal(load(y), 0);
	char *a = NULL, *b = NULL;
	size_t al, bl;
	FILE *f = open_memstream(&a, &al);
	qs_config_print(&cfg, f, 0, 1);
	fclose(f);
	assert_int_equal(qs_config_load_buf("p.yaml", a, al, &cfg, err, sizeof err), 0);
	f = open_memstream(&b, &bl);
	qs_config_print(&cfg, f, 0, 1);
	fclose(f);
	assert_string_equal(a, b);
	assert_string_equal(qs_config_receiver(&cfg, 4, QS_FULLFLOW)->listen, "::");
	assert_int_equal(qs_config_receiver(&cfg, 4, QS_DNSFLOW)->enabled, 0);
	assert_string_equal(cfg.loader.user, "yes");
	free(a);
	free(b);
	/* The generated reference file is itself a valid config equal to the defaults. */
	f = open_memstream(&a, &al);
	qs_config_write_reference(f);
	fclose(f);
	assert_int_equal(qs_config_load_buf("reference", a, al, &cfg, err, sizeof err), 0);
	assert_int_equal(cfg.ndpis, 1);
	assert_int_equal(qs_config_receiver(&cfg, 0, QS_NATFLOW)->port, 1503);
	free(a);
	/* Secrets are hidden unless asked for. */
	assert_int_equal(load("loader:\n  password: s3cret\n"), 0);
	f = open_memstream(&a, &al);
	qs_config_print(&cfg, f, 0, 0);
	fclose(f);
	assert_null(strstr(a, "s3cret"));
	assert_non_null(strstr(a, "password: \"(hidden)\""));
	free(a);
}

/* The manual's default .env, verbatim (the three code blocks of its Configuration section). */
static const char manual_env[] =
	"#Ipfix form DPI 0\n"
	"IPFIX_FULLFLOW_PORT_TYPE[0]=tcp\n"
	"IPFIX_FULLFLOW_PORT[0]=1500\n"
	"#IPFIX_FULLFLOW_ROTATE_MINUTES[0]=10\n"
	"#IPFIX_FULLFLOW_ROTATE_DELAY_SECONDS[0]=0\n"
	"#IPFIX_FULLFLOW_FW_MAX_QUEUE_SIZE[0]=10\n"
	"#IPFIX_FULLFLOW_DUMP_INSERT_PROCESSES[0]=0\n"
	"#IPFIX_FULLFLOW_EXPORT[0]=10.0.0.2/9920/tcp,10.0.0.3/3440/udp\n"
	"\n"
	"IPFIX_CLICKSTREAM_PORT_TYPE[0]=tcp\n"
	"IPFIX_CLICKSTREAM_PORT[0]=1501\n"
	"#IPFIX_CLICKSTREAM_ROTATE_MINUTES[0]=12\n"
	"#IPFIX_CLICKSTREAM_ROTATE_DELAY_SECONDS[0]=400\n"
	"#IPFIX_CLICKSTREAM_FW_MAX_QUEUE_SIZE[0]=10\n"
	"#IPFIX_CLICKSTREAM_DUMP_INSERT_PROCESSES[0]=0\n"
	"#IPFIX_CLICKSTREAM_EXPORT[0]=10.0.0.2/9921/tcp,10.0.0.3/3441/udp\n"
	"\n"
	"IPFIX_GTPFLOW_PORT_TYPE[0]=tcp\n"
	"IPFIX_GTPFLOW_PORT[0]=1502\n"
	"\n"
	"IPFIX_NATFLOW_PORT_TYPE[0]=tcp\n"
	"IPFIX_NATFLOW_PORT[0]=1503\n"
	"#Traffic direction definition\n"
	"# 0 - as is\n"
	"TRAFFIC_DIR_DEF_MODE=0\n"
	"SUBSCRIBER_FILTER_MODE=0\n"
	"SUBSCRIBER_EXCLUDE_MODE=0\n"
	"#Enable host (url) categories dics autoload\n"
	"URLS_CATEGORIES_DIC_AUTOLOAD_ENABLED=1\n"
	"ASNUM_DIC_AUTOLOAD_ENABLED=1\n"
	"ULR_REPLACE_LOGIN_WITH_VCHANNEL=0\n"
	"ULR_USE_DIC_WHEN_REPLACING_LOGIN=0\n"
	"ULR_VCHANNEL_NAME_DIC_AUTOLOAD_ENABLED=0\n"
	"ULR_VCHANNEL_NAME_DIC_URL=\n"
	"#Import NAT events from fullflow\n"
	"NAT_IMPORT_FROM_FULLFLOW\n"
	"# 0 - Disabled\n"
	"# 1 - Enabled\n"
	"NAT_AGG_LOG_FIELDS_TO_SAVE_BITMASK=0\n"
	"#Time interval for aggregating NAT logs\n"
	"NAT_AGG_LOG_GROUP_TIME_INTERVAL\n"
	"# 1 - 1 minute\n";

static void test_import_env(void **state)
{
	(void)state;
	struct qs_env_stats st;
	int n = qs_config_import_env(".env", manual_env, sizeof manual_env - 1, NULL, &cfg, &st, err, sizeof err);
	assert_int_equal(n, 2);
	assert_non_null(strstr(err, ".env:36:1: NAT_IMPORT_FROM_FULLFLOW has no '=' and no value"));
	assert_non_null(strstr(err, ".env:41:1: NAT_AGG_LOG_GROUP_TIME_INTERVAL has no '='"));
	assert_int_equal(st.commented, 10);
	assert_int_equal(cfg.ndpis, 1);
	for (unsigned s = 0; s < 4; s++) {
		static const unsigned port[] = { 1500, 1501, 1503, 1502 }; /* enum order: full, click, nat, gtp */
		assert_non_null(qs_config_receiver(&cfg, 0, (enum qs_stream)s));
		assert_int_equal(qs_config_receiver(&cfg, 0, (enum qs_stream)s)->port, port[s]);
	}
	assert_int_equal(qs_config_receiver(&cfg, 0, QS_FULLFLOW)->nexports, 0);
	const char ex[] = "IPFIX_FULLFLOW_PORT_TYPE[1]=udp\nIPFIX_FULLFLOW_PORT[1]=1510\n"
			  "IPFIX_FULLFLOW_EXPORT[1]=10.0.0.2/1600/tcp\nexport TRAFFIC_DIR_DEF_MODE=\"2\"\n"
			  "SUBSCRIBER_FILTER_MODE=2 # by CIDR\nNAT_AGG_LOG_FIELDS_TO_SAVE_BITMASK=0x41\n"
			  "WHAT_IS_THIS=1\nIPFIX_FULLFLOW_PORT=1500\nTRAFFIC_DIR_DEF_MODE[2]=1\nIPFIX_NATFLOW_PORT[0]=http\n"
			  "lowercase=1\r\n";
	n = qs_config_import_env("x.env", ex, sizeof ex - 1, "0.0.0.0", &cfg, &st, err, sizeof err);
	assert_int_equal(n, 5);
	assert_non_null(strstr(err, "x.env:7:1: WHAT_IS_THIS: not a key qoestor knows"));
	assert_non_null(strstr(err, "x.env:8:1: IPFIX_FULLFLOW_PORT: needs a DPI index"));
	assert_non_null(strstr(err, "x.env:9:1: TRAFFIC_DIR_DEF_MODE[2]: this key has no index"));
	assert_non_null(strstr(err, "x.env:10:23: IPFIX_NATFLOW_PORT[0]: 'http' is not an integer"));
	assert_non_null(strstr(err, "x.env:11:1: not a KEY=VALUE line"));
	const struct qs_cfg_receiver *r = qs_config_receiver(&cfg, 1, QS_FULLFLOW);
	assert_non_null(r);
	assert_int_equal(r->transport, QS_CFG_UDP);
	assert_string_equal(r->listen, "0.0.0.0");
	assert_int_equal(r->nexports, 1);
	assert_null(qs_config_receiver(&cfg, 0, QS_NATFLOW));
	assert_int_equal(cfg.loader.traffic_dir_def_mode, 2);
	assert_int_equal(cfg.loader.subscriber_filter_mode, 2);
	assert_int_equal(cfg.loader.nat_agg_log_fields_to_save_bitmask, 0x41);
}

/* Bytes YAML cannot carry are refused with their place, never printed into
 * a config that would not load (fuzz_config_env found a lone 0xff). */
static void test_import_env_bad_bytes(void **state)
{
	(void)state;
	static char ex[8192];
	struct qs_env_stats st;
	int l = snprintf(ex, sizeof ex, "ULR_VCHANNEL_NAME_DIC_URL=http://x/\xff\n"
			 "ULR_VCHANNEL_NAME_DIC_URL=http://x/\xc3\xa9\n" /* valid: e-acute */
			 "ULR_VCHANNEL_NAME_DIC_URL=http://x/\xc3\n" /* cut character */
			 "ULR_VCHANNEL_NAME_DIC_URL=http://x/\xed\xa0\x80\n" /* surrogate */
			 "ULR_VCHANNEL_NAME_DIC_URL=http://");
	memset(ex + l, 'a', 1500); /* a value longer than the import takes: refused, not cut */
	l += 1500;
	ex[l++] = '\n';
	memset(ex + l, 'b', 3000); /* a line longer than the import takes */
	l += 3000;
	ex[l++] = '\n';
	int n = qs_config_import_env("u.env", ex, (size_t)l, NULL, &cfg, &st, err, sizeof err);
	assert_int_equal(n, 5);
	assert_non_null(strstr(err, "u.env:1:27: ULR_VCHANNEL_NAME_DIC_URL: not valid UTF-8 (byte 0xff at character 10"));
	assert_null(strstr(err, "u.env:2:"));
	assert_non_null(strstr(err, "u.env:3:27: ULR_VCHANNEL_NAME_DIC_URL: not valid UTF-8 (byte 0xc3"));
	assert_non_null(strstr(err, "u.env:4:27: ULR_VCHANNEL_NAME_DIC_URL: not valid UTF-8 (byte 0xed"));
	assert_non_null(strstr(err, "u.env:5:27: ULR_VCHANNEL_NAME_DIC_URL: value longer than 1023 bytes"));
	assert_non_null(strstr(err, "u.env:6:1: line longer than 2047 bytes; ignored"));
	assert_string_equal(cfg.dicts.vchannel_name_url, "http://x/\xc3\xa9");
	/* The same check guards YAML and command-line values (libyaml itself
	 * refuses invalid UTF-8 in a file; a flag's bytes come from argv). */
	const struct cfg_key *k = NULL;
	size_t off = 0;
	for (size_t i = 0; i < cfg_root.nkeys; i++)
		if (cfg_root.keys[i].sub && strcmp(cfg_root.keys[i].name, "loader") == 0)
			for (size_t j = 0; j < cfg_root.keys[i].sub->nkeys; j++)
				if (strcmp(cfg_root.keys[i].sub->keys[j].name, "user") == 0) {
					k = &cfg_root.keys[i].sub->keys[j];
					off = cfg_root.keys[i].off;
				}
	assert_non_null(k);
	assert_int_equal(off, offsetof(struct qs_config, loader));
	char e2[256];
	assert_int_equal(cfg_set(k, &cfg.loader, "us\x80" "er", e2, sizeof e2), -1);
	assert_non_null(strstr(e2, "not valid UTF-8 (byte 0x80 at character 3"));
	assert_int_equal(cfg_set(k, &cfg.loader, "\xd0\xbf\xd0\xbe", e2, sizeof e2), 0);
}

static int has_pair(const struct qs_cfg_argv *a, const char *opt, const char *val)
{
	for (int i = 1; i + 1 < a->argc; i++)
		if (strcmp(a->argv[i], opt) == 0 && strcmp(a->argv[i + 1], val) == 0)
			return 1;
	return 0;
}

static void test_args(void **state)
{
	(void)state;
	static struct qs_cfg_argv a;
	assert_int_equal(load("receivers:\n  - dpi: 1\n    listen: \"::\"\n    clickstream: {dump_insert_processes: 2}\n"
			      "  - dpi: 2\n    clickstream: {dump_insert_processes: 3, transport: udp}\n"
			      "loader:\n  password_file: /etc/hostname\n"),
			 0);
	assert_int_equal(qs_cfg_recv_argv(&cfg, QS_CLICKSTREAM, 1, "r", &a, err, sizeof err), 0);
	assert_true(has_pair(&a, "--instance", "clickstream-1"));
	assert_true(has_pair(&a, "--listen", "tcp://[::]:1511"));
	assert_true(has_pair(&a, "--rotate-seconds", "720"));
	assert_true(has_pair(&a, "--delay-seconds", "400"));
	assert_null(a.argv[a.argc]);
	assert_int_equal(qs_cfg_recv_argv(&cfg, QS_CLICKSTREAM, 2, "r", &a, err, sizeof err), 0);
	assert_true(has_pair(&a, "--listen", "udp://127.0.0.1:1521"));
	assert_int_equal(qs_cfg_recv_argv(&cfg, QS_FULLFLOW, 1, "r", &a, err, sizeof err), -1);
	assert_non_null(strstr(err, "no receiver fullflow for DPI 1"));
	assert_int_equal(qs_cfg_loader_argv(&cfg, "l", &a, err, sizeof err), 0);
	assert_true(has_pair(&a, "--clickstream-insert-processes", "5"));
	assert_true(has_pair(&a, "--password-file", "/etc/hostname"));
	assert_true(has_pair(&a, "--spool", "/var/qoestor/backend/dump"));
	assert_int_equal(qs_cfg_db_argv(&cfg, "d", &a, err, sizeof err), 0);
	assert_true(has_pair(&a, "--listen", "127.0.0.1:8123"));
	enum qs_stream s;
	unsigned dpi;
	assert_int_equal(qs_config_parse_instance("natflow-12", &s, &dpi), 0);
	assert_int_equal(s, QS_NATFLOW);
	assert_int_equal(dpi, 12);
	assert_int_equal(qs_config_parse_instance("natflow-", &s, &dpi), -1);
	assert_int_equal(qs_config_parse_instance("nat-1", &s, &dpi), -1);
	assert_int_equal(qs_config_parse_instance("fullflow-1x", &s, &dpi), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_multi_dpi),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_print_roundtrip),
		cmocka_unit_test(test_import_env),
		cmocka_unit_test(test_import_env_bad_bytes),
		cmocka_unit_test(test_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

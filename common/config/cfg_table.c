/* cfg_table.c: every key of qoestor.yaml, and the typed setter and formatter
 * that parse and print one value (contract in cfg_table.h). Defaults are the
 * vendor manual's; ranges are those the programs accept (recv_opts.c,
 * loader/opts.c, db/main.c).
 */
#include "config/cfg_table.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "utf8.h"

#define FS(st, f) sizeof(((st *)0)->f)
#define UINT(st, n, f, lo, hi, d, e, dc) \
	{ .name = n, .type = CT_UINT, .off = offsetof(st, f), .min = lo, .max = hi, .def = d, .env = e, .doc = dc }
#define U64(st, n, f, lo, hi, d, dc) \
	{ .name = n, .type = CT_U64, .off = offsetof(st, f), .min = lo, .max = hi, .def = d, .doc = dc }
#define BOOL(st, n, f, d, e, dc) { .name = n, .type = CT_BOOL, .off = offsetof(st, f), .def = d, .env = e, .doc = dc }
#define TEXT(st, t, n, f, lo, d, dc) \
	{ .name = n, .type = t, .off = offsetof(st, f), .size = FS(st, f), .min = lo, .def = d, .doc = dc }
#define ENUM(st, n, f, ch, d, e, dc) \
	{ .name = n, .type = CT_ENUM, .off = offsetof(st, f), .choices = ch, .def = d, .env = e, .doc = dc }

/* ---- receivers ------------------------------------------------------------- */
#define R struct qs_cfg_receiver
static const struct cfg_key receiver_keys[] = {
	BOOL(R, "enabled", enabled, "true", NULL,
	     "false keeps the receiver configured but stopped (apply disables its unit)"),
	ENUM(R, "transport", transport, "tcp|udp", "tcp", "IPFIX_%s_PORT_TYPE",
	     "tcp or udp; prefer tcp: udp loses messages larger than the MTU"),
	UINT(R, "port", port, 1, 65535, NULL, "IPFIX_%s_PORT",
	     "port to listen on; default 1500 fullflow, 1501 clickstream, 1502 gtpflow, 1503 natflow, "
	     "1504 dnsflow, plus 10 x DPI id"),
	TEXT(R, CT_ADDR, "listen", listen, 0, NULL,
	     "address to listen on; default the DPI's listen (127.0.0.1). A DPI on another host needs "
	     "0.0.0.0 (or this host's address)"),
	UINT(R, "rotate_minutes", rotate_minutes, 1, 1440, NULL, "IPFIX_%s_ROTATE_MINUTES",
	     "publish a spool file every N minutes (default 10; clickstream 12)"),
	UINT(R, "rotate_delay_seconds", rotate_delay_seconds, 0, 86400, NULL, "IPFIX_%s_ROTATE_DELAY_SECONDS",
	     "the loader takes a file N seconds after it is published (default 0; clickstream 400)"),
	UINT(R, "fw_max_queue_size", fw_max_queue_size, 1, 100000, "10", "IPFIX_%s_FW_MAX_QUEUE_SIZE",
	     "accepted for compatibility; qoestor-recv writes spool blocks itself (no writer queue), a slow disk makes TCP push back"),
	UINT(R, "dump_insert_processes", dump_insert_processes, 0, 64, "0", "IPFIX_%s_DUMP_INSERT_PROCESSES",
	     "files of this receiver the loader inserts in parallel (summed per stream); 0 = the "
	     "loader's overall limit only"),
	{ .name = "export", .type = CT_EXPORTS, .off = offsetof(R, exports), .def = "", .env = "IPFIX_%s_EXPORT",
	  .doc = "re-export the IPFIX stream to third-party collectors: a list of ip/port/proto "
		 "(proto tcp or udp), e.g. [10.0.0.2/9920/tcp, 10.0.0.3/3440/udp]" },
	UINT(R, "udp_timeout_seconds", udp_timeout_seconds, 1, 86400, "1800", NULL,
	     "udp: forget an exporter (and its templates) silent for N seconds"),
	UINT(R, "udp_rcvbuf_mb", udp_rcvbuf_mb, 1, 2048, "64", NULL,
	     "udp: socket receive buffer in MiB (the kernel caps it at net.core.rmem_max)"),
	UINT(R, "udp_hold_seconds", udp_hold_seconds, 0, 3600, "10", NULL,
	     "udp: keep data that arrives before its template this long (0 = count it as unknown at once)"),
	UINT(R, "udp_hold_kb", udp_hold_kb, 0, 1048576, "4096", NULL, "udp: memory for such held data, KiB"),
	UINT(R, "udp_template_lifetime_seconds", udp_template_lifetime_seconds, 0, 86400, "1800", NULL,
	     "udp: forget a template the exporter has not sent again for N seconds (0 = never)"),
	UINT(R, "export_queue_mb", export_queue_mb, 1, 4096, "16", NULL,
	     "re-export: buffer per target, MiB; what does not fit is dropped and counted"),
	TEXT(R, CT_STR, "accept", accept, 1, "ipfix",
	     "formats taken on this port: ipfix, netflow9, netflow5, comma-separated (the DPI's "
	     "netflow_full_collector_type 0 sends NetFlow v5)"),
	TEXT(R, CT_HOSTPORT, "metrics", metrics, 0, "",
	     "ADDR:PORT where this receiver serves Prometheus metrics; empty = none"),
	ENUM(R, "spool_compression", spool_compression, "zstd|none", "zstd", NULL,
	     "spool file blocks: zstd (about 52 bytes per fullflow row) or none (about 146 bytes, about "
	     "half the receiver's CPU); the loader reads both"),
};
#undef R

const struct cfg_section cfg_receiver_section = {
	"receiver", receiver_keys, sizeof receiver_keys / sizeof receiver_keys[0], sizeof(struct qs_cfg_receiver),
	"One receiver (systemd unit qoestor-recv@<stream>-<dpi>): a stream of one DPI. A stream "
	"key that is present (even empty: `natflow: {}`) configures the receiver; an absent one "
	"does not."
};

#define D struct qs_cfg_dpi
#define STREAM_KEY(n, id, dc) \
	{ .name = n, .type = CT_SECTION, .off = offsetof(D, recv) + (id) * sizeof(struct qs_cfg_receiver), \
	  .sub = &cfg_receiver_section, .doc = dc }
static const struct cfg_key dpi_keys[] = {
	UINT(D, "dpi", id, 0, 999, NULL, NULL,
	     "DPI id: the [N] of the manual's IPFIX_*_PORT[N] keys and the dpi_id column; required"),
	TEXT(D, CT_ADDR, "listen", listen, 1, "127.0.0.1", "default listen address of this DPI's receivers"),
	STREAM_KEY("fullflow", QS_FULLFLOW, "full netflow statistics (netflow_full_collector on the DPI)"),
	STREAM_KEY("clickstream", QS_CLICKSTREAM, "clickstream (ipfix_tcp_collectors / ipfix_udp_collectors)"),
	STREAM_KEY("gtpflow", QS_GTPFLOW, "GTP flows"),
	STREAM_KEY("natflow", QS_NATFLOW, "NAT log"),
	STREAM_KEY("dnsflow", QS_DNSFLOW, "DNS flows (not in the vendor manual)"),
};
#undef D

const struct cfg_section cfg_dpi_section = {
	"dpi", dpi_keys, sizeof dpi_keys / sizeof dpi_keys[0], sizeof(struct qs_cfg_dpi),
	"One DPI that exports to this host."
};

/* ---- loader ------------------------------------------------------------------ */
#define L struct qs_cfg_loader
static const struct cfg_key loader_keys[] = {
	{ .name = "clickhouse", .type = CT_URLS, .off = offsetof(L, clickhouse), .def = "http://127.0.0.1:8123",
	  .doc = "ClickHouse HTTP URL(s); several for replicas (tried in turn)" },
	TEXT(L, CT_STR, "user", user, 0, "", "ClickHouse user; empty: the server's default user"),
	TEXT(L, CT_STR, "password", password, 0, "",
	     "its password; visible in the process list: prefer password_file"),
	TEXT(L, CT_PATH, "password_file", password_file, 0, "", "read the password from the first line of this file"),
	TEXT(L, CT_PATH, "tls_ca_file", tls_ca_file, 0, "", "https URLs: trust the CA certificates in this PEM file; empty: the system's"),
	BOOL(L, "auth_headers", auth_headers, "false", NULL, "send X-ClickHouse-User/Key headers instead of basic auth"),
	TEXT(L, CT_STR, "database", database, 1, "qoestor", "database name"),
	UINT(L, "raw_ttl_hours", raw_ttl_hours, 0, 87600, "24", NULL,
	     "retention of the raw tables (fullflow, clickstream, ...), hours; 0 = forever"),
	UINT(L, "agg_ttl_days", agg_ttl_days, 0, 36500, "0", NULL, "retention of the aggregates, days; 0 = forever"),
	UINT(L, "dedup_window", dedup_window, 100, 10000000, "10000", NULL,
	     "inserts each table remembers for exactly-once loading (non_replicated_deduplication_window)"),
	TEXT(L, CT_PATH, "archive", archive, 0, "", "move loaded spool files here instead of deleting them"),
	UINT(L, "insert_processes", insert_processes, 1, 64, "2", NULL, "files loaded in parallel, all streams together"),
	UINT(L, "memory_limit", memory_limit, 64, 1048576, "200", NULL,
	     "the loader's memory budget, MiB, shared by the insert processes (gives max_groups 0, the default, its "
	     "value); at least 16 + 24 per insert process; insert bodies beyond 2 MiB wait in a file in the spool"),
	UINT(L, "insert_rows", insert_rows, 0, 16777216, "0", NULL,
	     "rows per INSERT, each one part in ClickHouse (fewer parts to merge; ClickHouse holds the block in "
	     "memory, ~300 bytes a fullflow row); 0 = 4194304"),
	ENUM(L, "format", format, "rowbinary|csv|native", "rowbinary", NULL,
	     "INSERT body format: rowbinary, native (columnar) or csv"),
	TEXT(L, CT_STR, "insert_settings", insert_settings, 0, "",
	     "ClickHouse settings for every INSERT as URL parameters, e.g. max_insert_threads=2"),
	ENUM(L, "compression", compression, "none|gzip|zstd|auto", "auto", NULL,
	     "INSERT body encoding; auto: none when every ClickHouse URL is loopback, else zstd"),
	UINT(L, "compression_level", compression_level, 1, 19, "1", NULL, "zstd or gzip level"),
	UINT(L, "rescan_seconds", rescan_seconds, 1, 3600, "10", NULL, "list the spool at least this often"),
	UINT(L, "retry_max_seconds", retry_max_seconds, 1, 3600, "60", NULL, "longest back-off between retries"),
	UINT(L, "timeout_seconds", timeout_seconds, 1, 86400, "300", NULL, "time limit of one HTTP request"),
	UINT(L, "max_groups", max_groups, 0, 100000000, "0", NULL,
	     "aggregate groups held per file before they are inserted (bounds memory); 0 = from memory_limit, at most 262144"),
	UINT(L, "agg_spill_runs", agg_spill_runs, 0, 64, "16", NULL,
	     "groups that fill the memory are sorted and written to a file in the spool, up to this many runs, then "
	     "merged: one row per key and file (0: no spilling); disk: about 200 bytes per group"),
	UINT(L, "settle_seconds", settle_seconds, 0, 86400, "60", NULL,
	     "a spool file still being copied in (no footer) waits until unchanged this long"),
	UINT(L, "traffic_dir_def_mode", traffic_dir_def_mode, 0, 4, "0", "TRAFFIC_DIR_DEF_MODE",
	     "traffic direction: 0 as is, 1 by AS (fullflow only), 2 by CIDR, 3 by AS and CIDR, 4 by AS or CIDR"),
	UINT(L, "subscriber_filter_mode", subscriber_filter_mode, 0, 4, "0", "SUBSCRIBER_FILTER_MODE",
	     "subscriber filter: 0 none, 1 by AS (fullflow only), 2 by CIDR, 3 AS and CIDR, 4 AS or CIDR"),
	UINT(L, "subscriber_exclude_mode", subscriber_exclude_mode, 0, 4, "0", "SUBSCRIBER_EXCLUDE_MODE",
	     "subscriber exclude: 0 none, 1 by AS (fullflow only), 2 by CIDR, 3 AS and CIDR, 4 AS or CIDR"),
	UINT(L, "ulr_replace_login_with_vchannel", ulr_replace_login_with_vchannel, 0, 2, "0",
	     "ULR_REPLACE_LOGIN_WITH_VCHANNEL", "login := virtual channel on insert: 0 off, 1 always, 2 if the login is empty"),
	UINT(L, "ulr_use_dic_when_replacing_login", ulr_use_dic_when_replacing_login, 0, 1, "0",
	     "ULR_USE_DIC_WHEN_REPLACING_LOGIN", "1: the channel's name from vchannel_name_dic"),
	UINT(L, "nat_import_from_fullflow", nat_import_from_fullflow, 0, 1, "0", "NAT_IMPORT_FROM_FULLFLOW",
	     "1: NAT events from fullflow records that carry a post-NAT address"),
	UINT(L, "nat_agg_log_fields_to_save_bitmask", nat_agg_log_fields_to_save_bitmask, 0, 0x7ff, "0",
	     "NAT_AGG_LOG_FIELDS_TO_SAVE_BITMASK",
	     "natflow_agg keys: 0x1 protocol, 0x2 event, 0x4 source ipv4, 0x8 source port, 0x10 destination "
	     "ipv4, 0x20 destination port, 0x40 post-NAT ipv4, 0x80 post-NAT port, 0x100 session, 0x200 "
	     "login, 0x400 DPI id; 0 = no NAT aggregation"),
	UINT(L, "nat_agg_log_group_time_interval", nat_agg_log_group_time_interval, 1, 60, "15",
	     "NAT_AGG_LOG_GROUP_TIME_INTERVAL", "NAT log aggregation interval, minutes: 1, 5, 10, 15, 30 or 60"),
	UINT(L, "fullflow_agg_period", fullflow_agg_period, 1, 15, "15", NULL,
	     "fullflow_agg bucket, minutes: 1, 3, 5 or 15"),
	TEXT(L, CT_STR, "fullflow_agg_keys", fullflow_agg_keys, 0, "",
	     "comma list of fullflow_agg keys kept; empty = all"),
	UINT(L, "clickstream_agg_period", clickstream_agg_period, 1, 1440, "15", NULL,
	     "clickstream_agg bucket, minutes (divides 1440)"),
	TEXT(L, CT_STR, "clickstream_agg_keys", clickstream_agg_keys, 0, "",
	     "comma list of clickstream_agg keys kept; empty = all"),
	TEXT(L, CT_HOSTPORT, "metrics", metrics, 0, "", "serve Prometheus metrics on ADDR:PORT; empty = off"),
};
#undef L

static const struct cfg_section loader_section = {
	"loader", loader_keys, sizeof loader_keys / sizeof loader_keys[0], sizeof(struct qs_cfg_loader),
	"qoestor-loader: enrichment, aggregation and loading into ClickHouse (unit qoestor-loader). "
	"Keys named like the manual's .env keys have the same values and meaning."
};

/* ---- db ------------------------------------------------------------------------ */
#define B struct qs_cfg_db
static const struct cfg_key db_keys[] = {
	BOOL(B, "enabled", enabled, "true", NULL,
	     "run the embedded ClickHouse (unit qoestor-db); false when loader.clickhouse is an external server"),
	TEXT(B, CT_HOSTPORT, "listen", listen, 1, "127.0.0.1:8123",
	     "HTTP address; anything but loopback needs a password"),
	TEXT(B, CT_PATH, "path", path, 1, "/var/lib/qoestor/db", "data directory"),
	TEXT(B, CT_STR, "user", user, 1, "default", "the user clients authenticate as"),
	TEXT(B, CT_STR, "password", password, 0, "", "its password; empty = none (prefer password_file)"),
	TEXT(B, CT_PATH, "password_file", password_file, 0, "", "read the password from the first line of this file"),
	TEXT(B, CT_PATH, "libchdb", libchdb, 0, "", "libchdb.so to load; empty = the one qoestor-db was built with"),
	TEXT(B, CT_PATH, "clickhouse_config", clickhouse_config, 0, "",
	     "ClickHouse server configuration for the engine, e.g. the storage_configuration of hot/cold disks"),
	TEXT(B, CT_STR, "timezone", timezone, 1, "UTC", "server time zone (now(), bare DateTime)"),
	U64(B, "max_body", max_body, 0, 1ull << 40, "0", "largest decoded request body, bytes; 0 = no limit"),
	UINT(B, "max_connections", max_connections, 1, 100000, "256", NULL, "concurrent HTTP connections"),
	U64(B, "spill_at", spill_at, 0, 1ull << 40, "1048576", "request bodies larger than this go to a temporary file"),
};
#undef B

static const struct cfg_section db_section = {
	"db", db_keys, sizeof db_keys / sizeof db_keys[0], sizeof(struct qs_cfg_db),
	"qoestor-db: the embedded ClickHouse serving ClickHouse's HTTP interface (unit qoestor-db)."
};

/* ---- dictionaries -------------------------------------------------------------- */
#define C struct qs_cfg_dicts
static const struct cfg_key dict_keys[] = {
	TEXT(C, CT_PATH, "dir", dir, 1, "/var/qoestor/backend/etc/db", "the dictionaries' folder (<name>.txt files)"),
	BOOL(C, "urlcats_autoload", urlcats_autoload, "true", "URLS_CATEGORIES_DIC_AUTOLOAD_ENABLED",
	     "refresh urlcats_dic and urlcats_host_dic daily from their URLs"),
	TEXT(C, CT_STR, "urlcats_url", urlcats_url, 0, "", "where urlcats_dic comes from (http(s):// or file://)"),
	TEXT(C, CT_STR, "urlcats_host_url", urlcats_host_url, 0, "", "where urlcats_host_dic comes from"),
	BOOL(C, "asnum_autoload", asnum_autoload, "true", "ASNUM_DIC_AUTOLOAD_ENABLED",
	     "refresh asnum_dic daily from its URL"),
	TEXT(C, CT_STR, "asnum_url", asnum_url, 0, "", "where asnum_dic comes from"),
	BOOL(C, "vchannel_name_autoload", vchannel_name_autoload, "false", "ULR_VCHANNEL_NAME_DIC_AUTOLOAD_ENABLED",
	     "refresh vchannel_name_dic daily from its URL"),
	{ .name = "vchannel_name_url", .type = CT_STR, .off = offsetof(C, vchannel_name_url),
	  .size = FS(C, vchannel_name_url), .def = "", .env = "ULR_VCHANNEL_NAME_DIC_URL",
	  .doc = "where vchannel_name_dic comes from (the manual's vchannel_name_dic remote url)" },
};
#undef C

static const struct cfg_section dict_section = {
	"dictionaries", dict_keys, sizeof dict_keys / sizeof dict_keys[0], sizeof(struct qs_cfg_dicts),
	"Dictionaries (tab-separated <name>.txt files, reloaded on change) and their daily "
	"autoload (unit qoestor-dict-refresh.timer). An autoload switch without a URL does nothing."
};

/* ---- storage --------------------------------------------------------------------- */
#define S struct qs_cfg_storage
static const struct cfg_key storage_keys[] = {
	BOOL(S, "hot_cold", hot_cold, "false", NULL,
	     "keep recent parts on the hot disk and move older ones to the cold volume (docs/STORAGE.md)"),
	TEXT(S, CT_STR, "policy", policy, 1, "hot_cold", "ClickHouse storage policy (defined in the server config)"),
	TEXT(S, CT_STR, "cold_volume", cold_volume, 1, "cold", "the policy's volume older parts move to"),
	UINT(S, "move_after_days", move_after_days, 1, 36500, "7", NULL, "parts older than this many days move to cold"),
};
#undef S

static const struct cfg_section storage_section = {
	"storage", storage_keys, sizeof storage_keys / sizeof storage_keys[0], sizeof(struct qs_cfg_storage),
	"Hot/cold storage of the ClickHouse tables (see docs/STORAGE.md for the server-side snippet)."
};

/* ---- paths ------------------------------------------------------------------------ */
#define P struct qs_cfg_paths
static const struct cfg_key path_keys[] = {
	TEXT(P, CT_PATH, "spool", spool, 1, "/var/qoestor/backend/dump",
	     "spool root: receivers write <spool>/<stream>/<dpi>/*.qsp, the loader reads them"),
	TEXT(P, CT_PATH, "ie_file", ie_file, 1, "/usr/share/qoestor/vasexperts-ie.xml",
	     "the DPI vendor's IPFIX information elements"),
	TEXT(P, CT_PATH, "log_dir", log_dir, 0, "",
	     "empty: logs go to the journal (journalctl -u 'qoestor-*'); a folder: apply makes the units "
	     "append to <log_dir>/<unit>.log"),
	UINT(P, "log_level", log_level, 3, 7, "6", NULL, "3 errors, 4 warnings, 5 notices, 6 info, 7 debug"),
};
#undef P

static const struct cfg_section paths_section = {
	"paths", path_keys, sizeof path_keys / sizeof path_keys[0], sizeof(struct qs_cfg_paths),
	"Files and folders shared by the programs, and logging."
};

/* ---- root ---------------------------------------------------------------------------- */
#define Q struct qs_config
static const struct cfg_key root_keys[] = {
	{ .name = "receivers", .type = CT_LIST, .off = offsetof(Q, dpis), .max = QS_CFG_MAX_DPIS,
	  .count_off = offsetof(Q, ndpis), .sub = &cfg_dpi_section,
	  .doc = "the DPIs that export to this host and their receivers (default: DPI 0 with fullflow, "
		 "clickstream, gtpflow and natflow on tcp 1500..1503)" },
	{ .name = "loader", .type = CT_SECTION, .off = offsetof(Q, loader), .sub = &loader_section, .doc = "" },
	{ .name = "db", .type = CT_SECTION, .off = offsetof(Q, db), .sub = &db_section, .doc = "" },
	{ .name = "dictionaries", .type = CT_SECTION, .off = offsetof(Q, dicts), .sub = &dict_section, .doc = "" },
	{ .name = "storage", .type = CT_SECTION, .off = offsetof(Q, storage), .sub = &storage_section, .doc = "" },
	{ .name = "paths", .type = CT_SECTION, .off = offsetof(Q, paths), .sub = &paths_section, .doc = "" },
};
#undef Q

const struct cfg_section cfg_root = {
	"", root_keys, sizeof root_keys / sizeof root_keys[0], sizeof(struct qs_config), ""
};

/* ---- values ------------------------------------------------------------------------ */

const struct cfg_key *cfg_find(const struct cfg_section *s, const char *name)
{
	for (size_t i = 0; i < s->nkeys; i++)
		if (strcmp(s->keys[i].name, name) == 0)
			return &s->keys[i];
	return NULL;
}

static int parse_ull(const char *v, unsigned long long *out)
{
	char *end;
	if (!*v || *v == '-' || *v == '+' || *v == ' ')
		return -1;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 0);
	if (errno || *end)
		return -1;
	*out = x;
	return 0;
}

static int parse_bool(const char *v)
{
	static const char *yes[] = { "true", "yes", "on", "1" }, *no[] = { "false", "no", "off", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	}
	return -1;
}

static int is_addr(const char *v)
{
	unsigned char b[16];
	return inet_pton(AF_INET, v, b) == 1 || inet_pton(AF_INET6, v, b) == 1;
}

/* ADDR:PORT or [V6]:PORT with a numeric address. */
static int is_hostport(const char *v)
{
	char host[64];
	const char *colon;
	if (*v == '[') {
		const char *rb = strchr(v, ']');
		if (!rb || rb[1] != ':' || (size_t)(rb - v - 1) >= sizeof host)
			return 0;
		memcpy(host, v + 1, (size_t)(rb - v - 1));
		host[rb - v - 1] = 0;
		colon = rb + 1;
		unsigned char b[16];
		if (inet_pton(AF_INET6, host, b) != 1)
			return 0;
	} else {
		colon = strrchr(v, ':');
		if (!colon || (size_t)(colon - v) >= sizeof host)
			return 0;
		memcpy(host, v, (size_t)(colon - v));
		host[colon - v] = 0;
		unsigned char b[4];
		if (inet_pton(AF_INET, host, b) != 1)
			return 0;
	}
	unsigned long long p;
	return parse_ull(colon + 1, &p) == 0 && p >= 1 && p <= 65535;
}

static int has_ctl(const char *v, int no_space)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f || (no_space && *p == ' '))
			return 1;
	return 0;
}

/* One ip/port/proto target into e. */
static int parse_export(const char *v, size_t n, struct qs_cfg_export *e, char *err, size_t errlen)
{
	char t[128];
	if (n >= sizeof t) {
		snprintf(err, errlen, "export target too long; expected ip/port/proto");
		return -1;
	}
	memcpy(t, v, n);
	t[n] = 0;
	char *s1 = strchr(t, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
	if (!s1 || !s2 || strchr(s2 + 1, '/')) {
		snprintf(err, errlen, "'%s' is not ip/port/proto (e.g. 10.0.0.2/9920/tcp)", t);
		return -1;
	}
	*s1 = *s2 = 0;
	unsigned long long port;
	if (!is_addr(t) || strlen(t) >= sizeof e->host) {
		snprintf(err, errlen, "export target '%s': not a numeric IP address", t);
		return -1;
	}
	if (parse_ull(s1 + 1, &port) || port < 1 || port > 65535) {
		snprintf(err, errlen, "export target %s: port '%s' is not in 1..65535", t, s1 + 1);
		return -1;
	}
	if (strcasecmp(s2 + 1, "tcp") && strcasecmp(s2 + 1, "udp")) {
		snprintf(err, errlen, "export target %s/%s: proto '%s' is not tcp or udp", t, s1 + 1, s2 + 1);
		return -1;
	}
	memcpy(e->host, t, strlen(t) + 1); /* fits: checked above */
	e->port = (unsigned)port;
	e->transport = strcasecmp(s2 + 1, "udp") == 0 ? QS_CFG_UDP : QS_CFG_TCP;
	return 0;
}

/* Split v on commas (and spaces around them); call one() for each piece. */
static int set_list(const struct cfg_key *k, char *base, const char *v, char *err, size_t errlen)
{
	const char *s = v;
	while (*s) {
		while (*s == ' ' || *s == ',')
			s++;
		if (!*s)
			break;
		size_t n = strcspn(s, ", ");
		if (k->type == CT_EXPORTS) {
			struct qs_cfg_receiver *r = (struct qs_cfg_receiver *)(base - offsetof(struct qs_cfg_receiver, exports));
			if (r->nexports >= QS_CFG_MAX_EXPORTS) {
				snprintf(err, errlen, "more than %d export targets", QS_CFG_MAX_EXPORTS);
				return -1;
			}
			if (parse_export(s, n, &r->exports[r->nexports], err, errlen))
				return -1;
			r->nexports++;
		} else {
			struct qs_cfg_loader *l = (struct qs_cfg_loader *)(base - offsetof(struct qs_cfg_loader, clickhouse));
			if (l->nclickhouse >= QS_CFG_MAX_URLS) {
				snprintf(err, errlen, "more than %d URLs", QS_CFG_MAX_URLS);
				return -1;
			}
			if ((strncmp(s, "http://", 7) && strncmp(s, "https://", 8)) || n >= QS_CFG_PATH ||
			    n <= 8) {
				snprintf(err, errlen, "'%.*s' is not an http:// or https:// URL", (int)(n > 200 ? 200 : n), s);
				return -1;
			}
			memcpy(l->clickhouse[l->nclickhouse], s, n);
			l->clickhouse[l->nclickhouse][n] = 0;
			l->nclickhouse++;
		}
		s += n;
	}
	return 0;
}

int cfg_set(const struct cfg_key *k, void *basev, const char *v, char *err, size_t errlen)
{
	char *p = (char *)basev + k->off;
	unsigned long long x;
	/* Every value is printed back as YAML, which is UTF-8 only. */
	size_t vlen = strlen(v), bad = qs_utf8_check(v, vlen);
	if (bad < vlen) {
		snprintf(err, errlen, "not valid UTF-8 (byte 0x%02x at character %zu of the value)",
			 (unsigned char)v[bad], bad + 1);
		return -1;
	}
	switch (k->type) {
	case CT_UINT:
	case CT_U64:
		if (parse_ull(v, &x) || x < k->min || x > k->max) {
			snprintf(err, errlen, "'%.100s' is not an integer in %llu..%llu", v, k->min, k->max);
			return -1;
		}
		if (k->type == CT_UINT) {
			unsigned u = (unsigned)x;
			memcpy(p, &u, sizeof u);
		} else {
			memcpy(p, &x, sizeof x);
		}
		return 0;
	case CT_BOOL: {
		int b = parse_bool(v);
		if (b < 0) {
			snprintf(err, errlen, "'%.100s' is not true or false", v);
			return -1;
		}
		memcpy(p, &b, sizeof b);
		return 0;
	}
	case CT_ENUM: {
		const char *c = k->choices;
		for (unsigned i = 0; *c; i++) {
			size_t n = strcspn(c, "|");
			if (strlen(v) == n && strncasecmp(v, c, n) == 0) {
				memcpy(p, &i, sizeof i);
				return 0;
			}
			c += n + (c[n] == '|');
		}
		snprintf(err, errlen, "'%.100s' is not one of %s", v, k->choices);
		return -1;
	}
	case CT_STR:
	case CT_PATH:
	case CT_ADDR:
	case CT_HOSTPORT:
		if (strlen(v) >= k->size) {
			snprintf(err, errlen, "value is too long (at most %zu characters)", k->size - 1);
			return -1;
		}
		if (!*v && k->min) {
			snprintf(err, errlen, "must not be empty");
			return -1;
		}
		if (has_ctl(v, k->type == CT_PATH)) {
			snprintf(err, errlen, "'%.100s' has control characters%s", v,
				 k->type == CT_PATH ? " or spaces (not allowed in paths)" : "");
			return -1;
		}
		if (*v && k->type == CT_PATH && v[0] != '/') {
			snprintf(err, errlen, "'%.100s' is not an absolute path", v);
			return -1;
		}
		if (*v && k->type == CT_ADDR && !is_addr(v)) {
			snprintf(err, errlen, "'%.100s' is not a numeric IPv4 or IPv6 address (e.g. 127.0.0.1, 0.0.0.0, ::)", v);
			return -1;
		}
		if (*v && k->type == CT_HOSTPORT && !is_hostport(v)) {
			snprintf(err, errlen, "'%.100s' is not ADDRESS:PORT (e.g. 127.0.0.1:8123 or [::1]:8123)", v);
			return -1;
		}
		memcpy(p, v, strlen(v) + 1);
		return 0;
	case CT_URLS:
	case CT_EXPORTS:
		return set_list(k, p, v, err, errlen);
	case CT_SECTION:
	case CT_LIST:
		break;
	}
	snprintf(err, errlen, "is a section, not a value");
	return -1;
}

void cfg_defaults(const struct cfg_section *s, void *basev)
{
	char *base = basev, err[256];
	for (size_t i = 0; i < s->nkeys; i++) {
		const struct cfg_key *k = &s->keys[i];
		if (k->type == CT_SECTION) {
			memset(base + k->off, 0, k->sub->size);
			cfg_defaults(k->sub, base + k->off);
		} else if (k->type == CT_LIST) {
			memset(base + k->count_off, 0, sizeof(unsigned));
		} else if (k->type == CT_URLS) {
			((struct qs_cfg_loader *)(base + k->off - offsetof(struct qs_cfg_loader, clickhouse)))->nclickhouse = 0;
			cfg_set(k, base, k->def, err, sizeof err);
		} else if (k->type == CT_EXPORTS) {
			((struct qs_cfg_receiver *)(base + k->off - offsetof(struct qs_cfg_receiver, exports)))->nexports = 0;
		} else if (k->def) {
			cfg_set(k, base, k->def, err, sizeof err);
		} else if (k->type == CT_UINT) {
			unsigned u = QS_CFG_UNSET;
			memcpy(base + k->off, &u, sizeof u);
		} else if (k->size) {
			base[k->off] = 0;
		}
	}
}

/* Plain YAML scalars need no quotes; anything else is double-quoted. */
static void quote(const char *v, char *out, size_t outlen)
{
	int plain = *v != 0 && strchr("-?:,[]{}#&*!|>'\"%@` ", v[0]) == NULL;
	for (const char *p = v; *p && plain; p++)
		if (*p == '#' || *p == '"' || *p == '\\' || (*p == ':' && (p[1] == ' ' || !p[1])) ||
		    (unsigned char)*p < 0x20 || (*p == ' ' && !p[1]))
			plain = 0;
	if (plain && (parse_bool(v) >= 0 || strcmp(v, "null") == 0 || strcmp(v, "~") == 0))
		plain = 0;
	if (plain) {
		snprintf(out, outlen, "%s", v);
		return;
	}
	size_t o = 0;
	if (outlen < 3)
		return;
	out[o++] = '"';
	for (const char *p = v; *p && o + 3 < outlen; p++) {
		if (*p == '"' || *p == '\\')
			out[o++] = '\\';
		out[o++] = *p;
	}
	out[o++] = '"';
	out[o] = 0;
}

void cfg_format(const struct cfg_key *k, const void *basev, char *out, size_t outlen)
{
	const char *p = (const char *)basev + k->off;
	unsigned u;
	unsigned long long x;
	int b;
	out[0] = 0;
	switch (k->type) {
	case CT_UINT:
		memcpy(&u, p, sizeof u);
		if (u == QS_CFG_UNSET)
			snprintf(out, outlen, "~");
		else if (k->max == 0x7ff)
			snprintf(out, outlen, "0x%x", u);
		else
			snprintf(out, outlen, "%u", u);
		return;
	case CT_U64:
		memcpy(&x, p, sizeof x);
		snprintf(out, outlen, "%llu", x);
		return;
	case CT_BOOL:
		memcpy(&b, p, sizeof b);
		snprintf(out, outlen, "%s", b ? "true" : "false");
		return;
	case CT_ENUM: {
		memcpy(&u, p, sizeof u);
		const char *c = k->choices;
		for (unsigned i = 0; *c && i < u; i++)
			c += strcspn(c, "|") + (c[strcspn(c, "|")] == '|');
		snprintf(out, outlen, "%.*s", (int)strcspn(c, "|"), c);
		return;
	}
	case CT_STR:
	case CT_PATH:
	case CT_ADDR:
	case CT_HOSTPORT:
		quote(p, out, outlen);
		return;
	case CT_URLS: {
		const struct qs_cfg_loader *l =
			(const struct qs_cfg_loader *)(p - offsetof(struct qs_cfg_loader, clickhouse));
		size_t o = (size_t)snprintf(out, outlen, "[");
		for (unsigned i = 0; i < l->nclickhouse && o < outlen; i++)
			o += (size_t)snprintf(out + o, outlen - o, "%s%s", i ? ", " : "", l->clickhouse[i]);
		if (o < outlen)
			snprintf(out + o, outlen - o, "]");
		return;
	}
	case CT_EXPORTS: {
		const struct qs_cfg_receiver *r =
			(const struct qs_cfg_receiver *)(p - offsetof(struct qs_cfg_receiver, exports));
		size_t o = (size_t)snprintf(out, outlen, "[");
		for (unsigned i = 0; i < r->nexports && o < outlen; i++)
			o += (size_t)snprintf(out + o, outlen - o, "%s%s/%u/%s", i ? ", " : "", r->exports[i].host,
					      r->exports[i].port, r->exports[i].transport == QS_CFG_UDP ? "udp" : "tcp");
		if (o < outlen)
			snprintf(out + o, outlen - o, "]");
		return;
	}
	case CT_SECTION:
	case CT_LIST:
		return;
	}
}

void cfg_describe(const struct cfg_key *k, char *out, size_t outlen)
{
	switch (k->type) {
	case CT_UINT:
	case CT_U64:
		if (k->max == 0x7ff)
			snprintf(out, outlen, "bitmask 0x0..0x%llx", k->max);
		else
			snprintf(out, outlen, "integer %llu..%llu", k->min, k->max);
		return;
	case CT_BOOL: snprintf(out, outlen, "true or false"); return;
	case CT_ENUM: snprintf(out, outlen, "one of %s", k->choices); return;
	case CT_STR: snprintf(out, outlen, "text%s", k->min ? ", not empty" : ""); return;
	case CT_PATH: snprintf(out, outlen, "absolute path%s", k->min ? "" : " or empty"); return;
	case CT_ADDR: snprintf(out, outlen, "IPv4 or IPv6 address"); return;
	case CT_HOSTPORT: snprintf(out, outlen, "ADDRESS:PORT%s", k->min ? "" : " or empty"); return;
	case CT_URLS: snprintf(out, outlen, "list of URLs (1..%d)", QS_CFG_MAX_URLS); return;
	case CT_EXPORTS: snprintf(out, outlen, "list of ip/port/proto (0..%d)", QS_CFG_MAX_EXPORTS); return;
	case CT_SECTION: snprintf(out, outlen, "section"); return;
	case CT_LIST: snprintf(out, outlen, "list of sections (at most %llu)", k->max); return;
	}
}

void cfg_clear_list(const struct cfg_key *k, void *basev)
{
	char *p = (char *)basev + k->off;
	if (k->type == CT_URLS)
		((struct qs_cfg_loader *)(p - offsetof(struct qs_cfg_loader, clickhouse)))->nclickhouse = 0;
	else if (k->type == CT_EXPORTS)
		((struct qs_cfg_receiver *)(p - offsetof(struct qs_cfg_receiver, exports)))->nexports = 0;
}

void cfg_receiver_computed(const struct qs_cfg_dpi *d, enum qs_stream s, struct qs_cfg_receiver *r)
{
	int click = s == QS_CLICKSTREAM;
	if (r->port == QS_CFG_UNSET)
		r->port = qs_stream_def(s)->default_port + 10u * (d->id == QS_CFG_UNSET ? 0 : d->id);
	if (!r->listen[0])
		snprintf(r->listen, sizeof r->listen, "%s", d->listen);
	if (r->rotate_minutes == QS_CFG_UNSET)
		r->rotate_minutes = click ? 12 : 10;
	if (r->rotate_delay_seconds == QS_CFG_UNSET)
		r->rotate_delay_seconds = click ? 400 : 0;
}

void cfg_err(struct cfg_errs *e, unsigned line, unsigned col, const char *fmt, ...)
{
	char msg[768], full[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (line)
		snprintf(full, sizeof full, "%s:%u:%u: %s\n", e->file, line, col, msg);
	else
		snprintf(full, sizeof full, "%s: %s\n", e->file, msg);
	e->n++;
	size_t used = strlen(e->buf), n = strlen(full);
	if (used + n < e->len)
		memcpy(e->buf + used, full, n + 1);
}

void cfg_mark(struct qs_config *c, const void *addr, unsigned line, unsigned col)
{
	for (unsigned i = 0; i < c->nmarks; i++)
		if (c->marks[i].addr == addr) {
			c->marks[i].line = line;
			c->marks[i].col = col;
			return;
		}
	if (c->nmarks < QS_CFG_MAX_MARKS)
		c->marks[c->nmarks++] = (struct qs_cfg_mark){ addr, line, col };
}

int cfg_where(const struct qs_config *c, const void *addr, unsigned *line, unsigned *col)
{
	for (unsigned i = 0; i < c->nmarks; i++)
		if (c->marks[i].addr == addr) {
			*line = c->marks[i].line;
			*col = c->marks[i].col;
			return 1;
		}
	*line = *col = 0;
	return 0;
}

/* opts.c: the loader's settings table (see opts.h). One row per setting:
 * command-line name, manual key, kind, range, default (as text, parsed by the
 * same code as user input), place in struct loader_config, documentation.
 */
#include "loader/opts.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "schema/schema.h"

enum kind { K_UINT, K_STR, K_FLAG, K_URLS, K_COMPRESS, K_FORMAT };

struct opt {
	const char *name;   /* command line, without "--" */
	const char *key;    /* the manual's .env key, or NULL */
	enum kind kind;
	unsigned min, max;
	const char *def;    /* default as text; NULL = unset */
	size_t off;
	const char *doc;
};

#define OFF(f) offsetof(struct loader_config, f)
#define SP(s) (OFF(stream_processes) + (s) * sizeof(unsigned))

static const struct opt opts[] = {
	{ "clickhouse", NULL, K_URLS, 0, 0, NULL, OFF(urls),
	  "ClickHouse HTTP URL(s), e.g. http://127.0.0.1:8123; repeat or comma-separate for replicas" },
	{ "user", NULL, K_STR, 0, 0, NULL, OFF(user), "ClickHouse user (default: the server's default)" },
	{ "password", NULL, K_STR, 0, 0, NULL, OFF(password), "its password (visible in ps: prefer --password-file)" },
	{ "password-file", NULL, K_STR, 0, 0, NULL, OFF(password_file), "read the password from the first line of F" },
	{ "auth-headers", NULL, K_FLAG, 0, 0, NULL, OFF(auth_headers), "send X-ClickHouse-User/Key instead of basic auth" },
	{ "tls-ca-file", NULL, K_STR, 0, 0, NULL, OFF(tls_ca_file),
	  "https URLs: trust the CA certificates in this PEM file (default: the system's store)" },
	{ "database", NULL, K_STR, 0, 0, "qoestor", OFF(database), "database name" },
	{ "raw-ttl-hours", NULL, K_UINT, 0, 87600, "24", OFF(raw_ttl_hours), "retention of the raw tables, hours; 0 = forever" },
	{ "agg-ttl-days", NULL, K_UINT, 0, 36500, "0", OFF(agg_ttl_days), "retention of the aggregates, days; 0 = forever" },
	{ "dedup-window", NULL, K_UINT, 100, 10000000, "10000", OFF(dedup_window),
	  "non_replicated_deduplication_window of every table (inserts remembered)" },
	{ "storage-policy", NULL, K_STR, 0, 0, NULL, OFF(storage_policy),
	  "hot/cold storage: the ClickHouse storage policy of every table (docs/STORAGE.md)" },
	{ "cold-volume", NULL, K_STR, 0, 0, "cold", OFF(cold_volume), "the policy's volume old parts move to" },
	{ "move-after-days", NULL, K_UINT, 0, 36500, "0", OFF(move_after_days),
	  "move parts older than N days to the cold volume; 0 = never" },
	{ "spool", NULL, K_STR, 0, 0, NULL, OFF(spool_dir), "spool root: files in <spool>/<stream>/<dpi>/*.qsp" },
	{ "dictionaries", NULL, K_STR, 0, 0, NULL, OFF(dict_dir), "dictionaries directory (<name>.txt; reloaded on change)" },
	{ "archive", NULL, K_STR, 0, 0, NULL, OFF(archive_dir), "move loaded files into DIR/<stream>/<dpi>/ instead of deleting them" },
	{ "insert-processes", NULL, K_UINT, 1, 64, "2", OFF(insert_processes), "files loaded in parallel, all streams together" },
	{ "fullflow-insert-processes", "IPFIX_FULLFLOW_DUMP_INSERT_PROCESSES", K_UINT, 0, 64, "0", SP(QS_FULLFLOW),
	  "at most N fullflow files in parallel; 0 = only the overall limit" },
	{ "clickstream-insert-processes", "IPFIX_CLICKSTREAM_DUMP_INSERT_PROCESSES", K_UINT, 0, 64, "0", SP(QS_CLICKSTREAM),
	  "the same for clickstream" },
	{ "natflow-insert-processes", "IPFIX_NATFLOW_DUMP_INSERT_PROCESSES", K_UINT, 0, 64, "0", SP(QS_NATFLOW),
	  "the same for natflow" },
	{ "gtpflow-insert-processes", "IPFIX_GTPFLOW_DUMP_INSERT_PROCESSES", K_UINT, 0, 64, "0", SP(QS_GTPFLOW),
	  "the same for gtpflow" },
	{ "dnsflow-insert-processes", NULL, K_UINT, 0, 64, "0", SP(QS_DNSFLOW), "the same for dnsflow" },
	{ "memory-limit", NULL, K_UINT, 64, 1048576, "200", OFF(memory_limit_mib),
	  "the loader's memory budget, MiB, shared by the insert processes: gives --max-groups 0 (the default) "
	  "its value; at least 16 + 24 per insert process; insert bodies beyond 2 MiB wait in a file in the spool" },
	{ "insert-rows", NULL, K_UINT, 0, 16777216, "0", OFF(insert_rows),
	  "rows per INSERT, each one part in ClickHouse (whole spool blocks; fixed per file once it is claimed); "
	  "0 = 4194304" },
	{ "format", NULL, K_FORMAT, 0, 0, "rowbinary", OFF(format),
	  "INSERT body format: rowbinary, native (columnar) or csv" },
	{ "insert-settings", NULL, K_STR, 0, 0, NULL, OFF(insert_settings),
	  "ClickHouse settings for every INSERT as URL parameters, e.g. optimize_on_insert=0&max_insert_threads=2" },
	{ "compression", NULL, K_COMPRESS, 0, 0, "auto", OFF(compress),
	  "INSERT body encoding: auto (none when every ClickHouse URL is loopback, else zstd), none, gzip or zstd" },
	{ "compression-level", NULL, K_UINT, 1, 19, "1", OFF(compress_level), "zstd or gzip level" },
	{ "rescan-seconds", NULL, K_UINT, 1, 3600, "10", OFF(rescan_s), "list the spool at least this often (besides file events)" },
	{ "settle-seconds", NULL, K_UINT, 0, 86400, "60", OFF(settle_s),
	  "a file without its spool footer (a copy in progress) waits until unchanged this long, then is loaded or quarantined" },
	{ "retry-max-seconds", NULL, K_UINT, 1, 3600, "60", OFF(retry_max_s), "longest back-off between retries of a failed insert" },
	{ "timeout-seconds", NULL, K_UINT, 1, 86400, "300", OFF(timeout_s), "time limit of one HTTP request" },
	{ "max-groups", NULL, K_UINT, 0, 100000000, "0", OFF(max_groups),
	  "aggregate groups held per file before they are inserted (bounds memory); 0 = from --memory-limit, "
	  "at most 262144" },
	{ "agg-spill-runs", NULL, K_UINT, 0, 64, "16", OFF(agg_spill_runs),
	  "aggregate groups that fill the memory are sorted and written to a file in the spool, up to this many "
	  "runs, then merged: one row per key and file (0: no spilling, each full memory is inserted as "
	  "partial rows); disk: about 200 bytes per group" },
	{ "traffic-dir-def-mode", "TRAFFIC_DIR_DEF_MODE", K_UINT, 0, 4, "0", OFF(traffic_dir_def_mode),
	  "subscriber side: 0 as is (DPI flags), 1 by AS (fullflow), 2 by CIDR, 3 AS and CIDR, 4 AS or CIDR" },
	{ "subscriber-filter-mode", "SUBSCRIBER_FILTER_MODE", K_UINT, 0, 4, "0", OFF(subscriber_filter_mode),
	  "aggregate only local subscribers: 0 no filter, 1 AS, 2 CIDR, 3 AS and CIDR, 4 AS or CIDR" },
	{ "subscriber-exclude-mode", "SUBSCRIBER_EXCLUDE_MODE", K_UINT, 0, 4, "0", OFF(subscriber_exclude_mode),
	  "keep excluded AS/subnets out of the aggregates: 0 none, 1 AS, 2 CIDR, 3 AS and CIDR, 4 AS or CIDR" },
	{ "ulr-replace-login-with-vchannel", "ULR_REPLACE_LOGIN_WITH_VCHANNEL", K_UINT, 0, 2, "0", OFF(ulr_replace_login),
	  "login := virtual channel: 0 off, 1 always, 2 when the login is empty" },
	{ "ulr-use-dic-when-replacing-login", "ULR_USE_DIC_WHEN_REPLACING_LOGIN", K_UINT, 0, 1, "0", OFF(ulr_use_dic),
	  "1: the channel's name from vchannel_name_dic (else its number)" },
	{ "nat-import-from-fullflow", "NAT_IMPORT_FROM_FULLFLOW", K_UINT, 0, 1, "0", OFF(nat_import_from_fullflow),
	  "1: natflow rows from fullflow records that carry a post-NAT address and port" },
	{ "nat-agg-log-fields-to-save-bitmask", "NAT_AGG_LOG_FIELDS_TO_SAVE_BITMASK", K_UINT, 0, 0x7ff, "0",
	  OFF(nat_agg_bitmask), "natflow_agg keys (0x1 protocol ... 0x400 DPI id, see the manual); 0 = no natflow_agg" },
	{ "nat-agg-log-group-time-interval", "NAT_AGG_LOG_GROUP_TIME_INTERVAL", K_UINT, 1, 60, "15",
	  OFF(nat_agg_interval_min), "natflow_agg bucket, minutes: 1, 5, 10, 15, 30 or 60" },
	{ "fullflow-agg-period", NULL, K_UINT, 1, 15, "15", OFF(fullflow_agg_period_min),
	  "fullflow_agg bucket, minutes, dividing 15 (1, 3, 5, 15): the 30-min and 1-h rollups build on it" },
	{ "fullflow-agg-keys", NULL, K_STR, 0, 0, NULL, OFF(fullflow_agg_keys),
	  "comma list of fullflow_agg keys kept (others stored as 0/''); default all" },
	{ "clickstream-agg-period", NULL, K_UINT, 1, 1440, "15", OFF(clickstream_agg_period_min),
	  "clickstream_agg bucket, minutes (divides 1440)" },
	{ "clickstream-agg-keys", NULL, K_STR, 0, 0, NULL, OFF(clickstream_agg_keys),
	  "comma list of clickstream_agg keys kept; default all" },
	{ "metrics", NULL, K_STR, 0, 0, NULL, OFF(metrics_listen), "serve Prometheus metrics on ADDR:PORT (e.g. 127.0.0.1:9465)" },
	{ "once", NULL, K_FLAG, 0, 0, NULL, OFF(once), "load what is there (or the FILEs given) and exit" },
	{ "ignore-ready", NULL, K_FLAG, 0, 0, NULL, OFF(ignore_ready), "with --once: also files whose ready time is still ahead" },
	{ "init-db", NULL, K_FLAG, 0, 0, NULL, OFF(init_db), "create or migrate the database, then exit" },
	{ "print-ddl", NULL, K_FLAG, 0, 0, NULL, OFF(print_ddl), "print the DDL for these settings and exit" },
	{ "no-init-db", NULL, K_FLAG, 0, 0, NULL, OFF(no_init), "do not apply the schema at start" },
	{ "verbose", NULL, K_FLAG, 0, 0, NULL, OFF(verbose), "log each step" },
};
#define NOPTS (sizeof opts / sizeof opts[0])

static const struct opt *find(const char *name)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (strcmp(opts[i].name, name) == 0 || (opts[i].key && strcmp(opts[i].key, name) == 0))
			return &opts[i];
	return NULL;
}

static int set(struct loader_config *c, const struct opt *o, const char *v, char *err, size_t errlen)
{
	void *p = (char *)c + o->off;
	switch (o->kind) {
	case K_FLAG:
		*(int *)p = v ? atoi(v) != 0 : 1;
		return 0;
	case K_STR:
		*(const char **)p = v;
		return 0;
	case K_URLS: {
		/* Borrowed pieces of v: split in place on a private copy kept for the run. */
		char *copy = c->ncopies < CH_MAX_URLS ? strdup(v) : NULL, *save = NULL;
		if (!copy) {
			snprintf(err, errlen, "--%s: out of memory or too many URL options", o->name);
			return -1;
		}
		c->url_copies[c->ncopies++] = copy;
		for (char *u = strtok_r(copy, ",", &save); u; u = strtok_r(NULL, ",", &save)) {
			if (c->nurls == CH_MAX_URLS) {
				snprintf(err, errlen, "--%s: at most %d URLs", o->name, CH_MAX_URLS);
				return -1;
			}
			c->urls[c->nurls++] = u;
		}
		return 0;
	}
	case K_COMPRESS:
		if (strcasecmp(v, "none") == 0)
			c->compress = LC_NONE;
		else if (strcasecmp(v, "gzip") == 0)
			c->compress = LC_GZIP;
		else if (strcasecmp(v, "zstd") == 0)
			c->compress = LC_ZSTD;
		else if (strcasecmp(v, "auto") == 0)
			c->compress = LC_AUTO;
		else {
			snprintf(err, errlen, "--%s: expected auto, none, gzip or zstd, got '%s'", o->name, v);
			return -1;
		}
		return 0;
	case K_FORMAT:
		if (strcasecmp(v, "rowbinary") == 0)
			c->format = LF_ROWBINARY;
		else if (strcasecmp(v, "csv") == 0)
			c->format = LF_CSV;
		else if (strcasecmp(v, "native") == 0)
			c->format = LF_NATIVE;
		else {
			snprintf(err, errlen, "--%s: expected rowbinary, native or csv, got '%s'", o->name, v);
			return -1;
		}
		return 0;
	case K_UINT: {
		char *end;
		errno = 0;
		unsigned long long x = strtoull(v, &end, 0);
		if (!*v || *end || errno || *v == '-' || x < o->min || x > o->max) {
			snprintf(err, errlen, "--%s%s%s: expected an integer from %u to %u, got '%s'", o->name,
				 o->key ? " / " : "", o->key ? o->key : "", o->min, o->max, v);
			return -1;
		}
		*(unsigned *)p = (unsigned)x;
		return 0;
	}
	}
	return -1;
}

void loader_config_defaults(struct loader_config *c)
{
	char err[256];
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < NOPTS; i++)
		if (opts[i].def)
			set(c, &opts[i], opts[i].def, err, sizeof err);
}

void loader_config_free(struct loader_config *c)
{
	for (size_t i = 0; i < c->ncopies; i++)
		free(c->url_copies[i]);
	c->ncopies = 0;
	c->nurls = 0;
}

int loader_opt_set(struct loader_config *c, const char *name, const char *value, char *err, size_t errlen)
{
	const struct opt *o = find(name);
	if (!o) {
		snprintf(err, errlen, "unknown setting '%s'", name);
		return -1;
	}
	if (o->kind != K_FLAG && !value) {
		snprintf(err, errlen, "--%s needs a value", o->name);
		return -1;
	}
	return set(c, o, value, err, errlen);
}

/* 1 when every name of the comma list is a key of the aggregate. */
static int keys_ok(const char *list, enum qs_agg id, char *err, size_t errlen, const char *opt)
{
	if (!list)
		return 1;
	const struct qs_agg_def *d = qs_agg_def(id);
	const char *s = list;
	while (*s) {
		size_t n = strcspn(s, ",");
		int found = 0;
		for (size_t i = 0; i < d->ncols; i++)
			if (d->cols[i].kind == QS_AGG_KEY && strlen(d->cols[i].name) == n &&
			    strncmp(d->cols[i].name, s, n) == 0)
				found = 1;
		if (!found) {
			int len = snprintf(err, errlen, "--%s: '%.*s' is not a key of %s; keys:", opt, (int)n, s,
					   d->name);
			for (size_t i = 0; i < d->ncols && len > 0 && (size_t)len < errlen; i++)
				if (d->cols[i].kind == QS_AGG_KEY)
					len += snprintf(err + len, errlen - (size_t)len, " %s", d->cols[i].name);
			return 0;
		}
		s += n;
		if (*s == ',')
			s++;
	}
	return 1;
}

/* The memory budget (see opts.h): the process's base, per insert process a
 * fixed part (spool reader, encoders with their spill buffers, HTTP client,
 * thread), and the rest per process for aggregate groups: ~384 bytes each
 * with hash slots and distinct-session entries, measured on worst-case data
 * (qoestor-spoolgen --any: random values, random-byte strings). Insert
 * bodies are not in the budget: beyond LOADER_SPILL_AT they go to a file. */
#define BASE_MIB 16u
#define WORKER_MIB 22u
#define GROUP_BYTES 384u
#define MAX_GROUPS_AUTO 262144u

/* The variable part of one insert process's share, in bytes. */
static uint64_t worker_share(const struct loader_config *c)
{
	uint64_t p = c->insert_processes ? c->insert_processes : 1;
	uint64_t total = (uint64_t)c->memory_limit_mib << 20, base = (BASE_MIB + WORKER_MIB * p) << 20;
	return total > base ? (total - base) / p : 0;
}

unsigned loader_max_groups(const struct loader_config *c)
{
	if (c->max_groups)
		return c->max_groups < 1000 ? 1000 : c->max_groups;
	uint64_t n = worker_share(c) / GROUP_BYTES;
	return n > MAX_GROUPS_AUTO ? MAX_GROUPS_AUTO : n < 1000u ? 1000u : (unsigned)n;
}

unsigned loader_insert_rows(const struct loader_config *c)
{
	if (c->insert_rows)
		return c->insert_rows < 1000 ? 1000 : c->insert_rows;
	return LOADER_AUTO_ROWS;
}

/* 1 when URL u names this host: 127.0.0.0/8, [::1] or localhost. */
static int url_is_loopback(const char *u)
{
	const char *h = strstr(u, "://");
	h = h ? h + 3 : u;
	size_t len = strcspn(h, "/?#");
	const char *at = memchr(h, '@', len); /* user:password@ */
	if (at)
		h = at + 1;
	if (*h == '[')
		return strncmp(h, "[::1]", 5) == 0;
	size_t n = strcspn(h, ":/?#");
	if (n == 9 && strncasecmp(h, "localhost", 9) == 0)
		return 1;
	if (n < 7 || strncmp(h, "127.", 4) != 0)
		return 0;
	return strspn(h, "0123456789.") == n; /* 127.x.y.z, not a name such as 127.example.net */
}

enum loader_compress loader_compress(const struct loader_config *c)
{
	if (c->compress != LC_AUTO)
		return c->compress;
	for (size_t i = 0; i < c->nurls; i++)
		if (!url_is_loopback(c->urls[i]))
			return LC_ZSTD;
	return c->nurls ? LC_NONE : LC_ZSTD;
}

const char *loader_spill_dir(const struct loader_config *c)
{
	if (c->spool_dir)
		return c->spool_dir;
	const char *t = getenv("TMPDIR");
	return t && *t ? t : "/var/tmp";
}

int loader_config_check(const struct loader_config *c, char *err, size_t errlen)
{
	if (15 % c->fullflow_agg_period_min) {
		snprintf(err, errlen, "--fullflow-agg-period %u does not divide 15 minutes (use 1, 3, 5 or 15)",
			 c->fullflow_agg_period_min);
		return -1;
	}
	if (1440 % c->clickstream_agg_period_min) {
		snprintf(err, errlen, "--clickstream-agg-period %u does not divide a day", c->clickstream_agg_period_min);
		return -1;
	}
	switch (c->nat_agg_interval_min) {
	case 1: case 5: case 10: case 15: case 30: case 60: break;
	default:
		snprintf(err, errlen, "NAT_AGG_LOG_GROUP_TIME_INTERVAL must be 1, 5, 10, 15, 30 or 60, got %u",
			 c->nat_agg_interval_min);
		return -1;
	}
	if (!keys_ok(c->fullflow_agg_keys, QS_FULLFLOW_AGG, err, errlen, "fullflow-agg-keys") ||
	    !keys_ok(c->clickstream_agg_keys, QS_CLICKSTREAM_AGG, err, errlen, "clickstream-agg-keys"))
		return -1;
	if (c->password && c->password_file) {
		snprintf(err, errlen, "give --password or --password-file, not both");
		return -1;
	}
	return 0;
}

const struct option *loader_getopt_table(void)
{
	static struct option t[NOPTS + 2];
	for (size_t i = 0; i < NOPTS; i++)
		t[i] = (struct option){ opts[i].name, opts[i].kind == K_FLAG ? no_argument : required_argument,
					NULL, 1000 + (int)i };
	t[NOPTS] = (struct option){ "help", no_argument, NULL, 'h' };
	t[NOPTS + 1] = (struct option){ NULL, 0, NULL, 0 };
	return t;
}

const char *loader_opt_name(int val)
{
	return val >= 1000 && (size_t)(val - 1000) < NOPTS ? opts[val - 1000].name : NULL;
}

void loader_opts_usage(FILE *f)
{
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];
		char lhs[64];
		snprintf(lhs, sizeof lhs, "--%s%s", o->name, o->kind == K_FLAG ? "" : " X");
		fprintf(f, "  %-38s %s", lhs, o->doc);
		if (o->def && o->kind != K_FLAG)
			fprintf(f, " [%s]", o->def);
		if (o->key)
			fprintf(f, " (%s)", o->key);
		fputc('\n', f);
	}
}

void loader_ddl_params(const struct loader_config *c, struct qs_ddl_params *p)
{
	qs_ddl_defaults(p);
	p->database = c->database;
	for (int s = 0; s < QS_STREAM_COUNT; s++)
		p->raw_ttl_hours[s] = c->raw_ttl_hours;
	p->agg_ttl_days = c->agg_ttl_days;
	p->dedup_window = c->dedup_window;
	p->storage_policy = c->storage_policy ? c->storage_policy : "";
	p->cold_volume = c->cold_volume ? c->cold_volume : "cold";
	p->move_after_days = c->move_after_days;
}

/* qoestor-loader: enriches, aggregates and bulk-loads spool files into
 * ClickHouse. For now it applies the schema (--init-db) and prints the DDL
 * (--print-ddl); the loading daemon comes with the loader issue and will
 * run initdb_apply at start-up.
 *
 * Exit codes: 0 ok, 1 runtime failure (ClickHouse unreachable or refusing
 * a statement), 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ch/ch.h"
#include "loader/initdb.h"
#include "log.h"
#include "schema/ddl.h"

static void usage(FILE *f)
{
	fputs("usage: qoestor-loader --clickhouse URL[,URL...] [--user U] [--password P | --password-file F]\n"
	      "                      [--database NAME] [--raw-ttl-hours N] [--agg-ttl-days N] --init-db\n"
	      "       qoestor-loader [--database NAME] [--raw-ttl-hours N] [--agg-ttl-days N] --print-ddl\n"
	      "\n"
	      "  --clickhouse URL     ClickHouse HTTP interface, e.g. http://127.0.0.1:8123; repeat the\n"
	      "                       option or give a comma list for replicas (tried in order)\n"
	      "  --user U             ClickHouse user (default: the server's default user)\n"
	      "  --password P         its password (visible in ps: prefer --password-file)\n"
	      "  --password-file F    read the password from the first line of F\n"
	      "  --auth-headers       send X-ClickHouse-User/Key instead of HTTP basic auth\n"
	      "  --database NAME      database to create or migrate (default qoestor)\n"
	      "  --raw-ttl-hours N    retention of the raw tables, hours; 0 = forever (default 24)\n"
	      "  --agg-ttl-days N     retention of the aggregates, days; 0 = forever (default 0)\n"
	      "  --init-db            create or migrate the database, print the number of changes, exit\n"
	      "  --print-ddl          print the DDL for these settings (as sql/qoestor.sql) and exit\n"
	      "  --verbose            log each step\n"
	      "  --help               this text\n"
	      "\n"
	      "Exit codes: 0 ok, 1 ClickHouse unreachable or a statement failed, 2 usage error.\n", f);
}

static int parse_uint(const char *opt, const char *s, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v > UINT_MAX || *s == '-') {
		fprintf(stderr, "qoestor-loader: %s needs a non-negative integer, got '%s'\n", opt, s);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

/* Append the comma-separated URLs of arg to urls. */
static int add_urls(char *arg, const char **urls, size_t *n)
{
	for (char *save = NULL, *u = strtok_r(arg, ",", &save); u; u = strtok_r(NULL, ",", &save)) {
		if (*n == CH_MAX_URLS) {
			fprintf(stderr, "qoestor-loader: at most %d ClickHouse URLs\n", CH_MAX_URLS);
			return -1;
		}
		urls[(*n)++] = u;
	}
	return 0;
}

static char *read_password_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "qoestor-loader: cannot read --password-file %s: %s\n", path, strerror(errno));
		return NULL;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, f);
	fclose(f);
	if (n < 0) {
		free(line);
		return strdup("");
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = 0;
	return line;
}

enum { OPT_CH = 1000, OPT_USER, OPT_PASS, OPT_PASSFILE, OPT_DB, OPT_INIT, OPT_PRINT, OPT_RAWTTL,
	OPT_AGGTTL, OPT_HDR, OPT_VERBOSE, OPT_HELP };

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "clickhouse", required_argument, NULL, OPT_CH },
		{ "user", required_argument, NULL, OPT_USER },
		{ "password", required_argument, NULL, OPT_PASS },
		{ "password-file", required_argument, NULL, OPT_PASSFILE },
		{ "database", required_argument, NULL, OPT_DB },
		{ "init-db", no_argument, NULL, OPT_INIT },
		{ "print-ddl", no_argument, NULL, OPT_PRINT },
		{ "raw-ttl-hours", required_argument, NULL, OPT_RAWTTL },
		{ "agg-ttl-days", required_argument, NULL, OPT_AGGTTL },
		{ "auth-headers", no_argument, NULL, OPT_HDR },
		{ "verbose", no_argument, NULL, OPT_VERBOSE },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char *urls[CH_MAX_URLS];
	size_t nurls = 0;
	const char *user = NULL, *password = NULL, *password_file = NULL;
	int init = 0, print = 0, verbose = 0, rc = 2;
	enum ch_auth auth = CH_AUTH_BASIC;
	struct qs_ddl_params p;
	char err[256];
	char *pw = NULL;
	struct ch_client *c = NULL;
	qs_ddl_defaults(&p);
	log_init("qoestor-loader", LOG_NOTICE);

	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		unsigned u;
		switch (o) {
		case OPT_CH: if (add_urls(optarg, urls, &nurls)) return 2; break;
		case OPT_USER: user = optarg; break;
		case OPT_PASS: password = optarg; break;
		case OPT_PASSFILE: password_file = optarg; break;
		case OPT_DB: p.database = optarg; break;
		case OPT_INIT: init = 1; break;
		case OPT_PRINT: print = 1; break;
		case OPT_HDR: auth = CH_AUTH_HEADERS; break;
		case OPT_VERBOSE: verbose = 1; break;
		case OPT_RAWTTL:
			if (parse_uint("--raw-ttl-hours", optarg, &u))
				return 2;
			for (int s = 0; s < QS_STREAM_COUNT; s++)
				p.raw_ttl_hours[s] = u;
			break;
		case OPT_AGGTTL:
			if (parse_uint("--agg-ttl-days", optarg, &p.agg_ttl_days))
				return 2;
			break;
		case OPT_HELP: usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "qoestor-loader: unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}
	if (verbose)
		log_set_level(LOG_DEBUG);
	if (qs_ddl_check_params(&p, err, sizeof err) != 0) {
		fprintf(stderr, "qoestor-loader: %s\n", err);
		return 2;
	}
	if (print) {
		struct qs_ddl *d = qs_ddl_build(&p);
		if (!d || qs_ddl_write_script(d, stdout) != 0 || fflush(stdout) != 0) {
			qs_ddl_free(d);
			fprintf(stderr, "qoestor-loader: cannot write the DDL\n");
			return 1;
		}
		qs_ddl_free(d);
		if (!init)
			return 0;
	}
	if (!init) {
		fprintf(stderr, "qoestor-loader: the loading daemon is not implemented yet; use --init-db or "
				"--print-ddl (see --help)\n");
		return 2;
	}
	if (!nurls) {
		fprintf(stderr, "qoestor-loader: --init-db needs --clickhouse URL (e.g. http://127.0.0.1:8123)\n");
		return 2;
	}
	if (password && password_file) {
		fprintf(stderr, "qoestor-loader: give --password or --password-file, not both\n");
		return 2;
	}
	if (password_file && !(pw = read_password_file(password_file)))
		return 2;
	if (ch_global_init() != 0) {
		fprintf(stderr, "qoestor-loader: libcurl initialisation failed\n");
		rc = 1;
		goto out;
	}
	struct ch_config cfg = {
		.urls = urls, .nurls = nurls, .user = user, .password = pw ? pw : password,
		.database = NULL, .auth = auth, .connect_timeout_ms = 5000, .timeout_ms = 120000,
	};
	c = ch_client_open(&cfg, err, sizeof err);
	if (!c) {
		fprintf(stderr, "qoestor-loader: %s\n", err);
		goto out;
	}
	struct initdb_report rep;
	if (initdb_apply(c, &p, &rep) != 0) {
		log_err("--init-db failed after %u changes; check that ClickHouse runs at the URL above "
			"and that the user may create databases and tables, then run it again "
			"(every step is idempotent)", rep.changes);
		rc = 1;
		goto out;
	}
	log_notice("schema %s is up to date: %u changes, %u warnings", p.database, rep.changes, rep.warnings);
	rc = 0;
out:
	ch_client_close(c);
	if (pw) {
		memset(pw, 0, strlen(pw));
		free(pw);
	}
	return rc;
}

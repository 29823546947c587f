/* qoestor-loader: enriches, aggregates and bulk-loads spool files into
 * ClickHouse (the daemon), loads a backlog and exits (--once), or only
 * applies the schema (--init-db) / prints it (--print-ddl).
 *
 * Settings come from one table (opts.h), named after the vendor manual's
 * .env keys where it has them. Exit codes: 0 ok, 1 runtime failure
 * (ClickHouse unreachable, a statement refused, spool unusable or locked),
 * 2 usage error, 3 --once finished but some files could not be loaded.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ch/ch.h"
#include "config/cfg_cmdline.h"
#include "loader/daemon.h"
#include "loader/initdb.h"
#include "loader/opts.h"
#include "log.h"
#include "schema/ddl.h"

static void usage(FILE *f)
{
	fputs("usage: qoestor-loader --spool DIR --clickhouse URL [options]          the daemon\n"
	      "       qoestor-loader --spool DIR --clickhouse URL --once [FILE...]   load what is there, exit\n"
	      "       qoestor-loader --clickhouse URL --init-db                      create/migrate the schema\n"
	      "       qoestor-loader --print-ddl                                     print the schema\n"
	      "\n"
	      "The daemon applies the schema, then loads every <spool>/<stream>/<dpi>/NAME.qsp from its ready\n"
	      "time on, oldest first, with exactly-once inserts (deduplication tokens); loaded files are\n"
	      "deleted (or archived), unloadable ones moved to .quarantine/ with a .reason file.\n"
	      "\n", f);
	loader_opts_usage(f);
	fputs(QS_CONFIG_USAGE, f);
	fputs("  --help                                 this text\n"
	      "\n"
	      "Signals: SIGHUP rescans the spool and the dictionaries; SIGTERM finishes the inserts in flight.\n"
	      "Exit codes: 0 ok, 1 runtime failure (ClickHouse unreachable, spool locked or unusable),\n"
	      "2 usage error, 3 --once: some files could not be loaded.\n", f);
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

static int init_db(const struct loader_config *cfg, const struct qs_ddl_params *p)
{
	char err[256];
	if (ch_global_init() != 0) {
		fprintf(stderr, "qoestor-loader: libcurl initialisation failed\n");
		return 1;
	}
	struct ch_config cc = {
		.urls = cfg->urls, .nurls = cfg->nurls, .user = cfg->user, .password = cfg->password,
		.auth = cfg->auth_headers ? CH_AUTH_HEADERS : CH_AUTH_BASIC, .connect_timeout_ms = 5000,
		.timeout_ms = 120000, .ca_file = cfg->tls_ca_file,
	};
	struct ch_client *c = ch_client_open(&cc, err, sizeof err);
	if (!c) {
		fprintf(stderr, "qoestor-loader: %s\n", err);
		return 2;
	}
	struct initdb_report rep;
	int rc = initdb_apply(c, p, &rep);
	ch_client_close(c);
	if (rc != 0) {
		log_err("--init-db failed after %u changes; check that ClickHouse runs at the URL above "
			"and that the user may create databases and tables, then run it again "
			"(every step is idempotent)", rep.changes);
		return 1;
	}
	log_notice("schema %s is up to date: %u changes, %u warnings", p->database, rep.changes, rep.warnings);
	return 0;
}

static int run(struct loader_config *cfg, int argc, char **argv)
{
	char err[512];
	char *pw = NULL;
	loader_config_defaults(cfg);
	log_init("qoestor-loader", LOG_NOTICE);
	const struct option *opts = loader_getopt_table();
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'h') {
			usage(stdout);
			return 0;
		}
		const char *name = loader_opt_name(o);
		if (!name) {
			usage(stderr);
			return 2;
		}
		if (loader_opt_set(cfg, name, optarg, err, sizeof err) != 0) {
			fprintf(stderr, "qoestor-loader: %s\n", err);
			return 2;
		}
	}
	if (cfg->verbose)
		log_set_level(LOG_DEBUG);
	else if (!cfg->init_db && !cfg->print_ddl)
		log_set_level(LOG_INFO);
	if (loader_config_check(cfg, err, sizeof err) != 0) {
		fprintf(stderr, "qoestor-loader: %s\n", err);
		return 2;
	}
	struct qs_ddl_params p;
	loader_ddl_params(cfg, &p);
	if (qs_ddl_check_params(&p, err, sizeof err) != 0) {
		fprintf(stderr, "qoestor-loader: %s\n", err);
		return 2;
	}
	if (cfg->print_ddl) {
		struct qs_ddl *d = qs_ddl_build(&p);
		if (!d || qs_ddl_write_script(d, stdout) != 0 || fflush(stdout) != 0) {
			qs_ddl_free(d);
			fprintf(stderr, "qoestor-loader: cannot write the DDL\n");
			return 1;
		}
		qs_ddl_free(d);
		if (!cfg->init_db)
			return 0;
	}
	if (optind < argc && !cfg->once) {
		fprintf(stderr, "qoestor-loader: unexpected argument '%s' (files are loaded with --once; see --help)\n",
			argv[optind]);
		return 2;
	}
	if (!cfg->nurls) {
		fprintf(stderr, "qoestor-loader: %s needs --clickhouse URL (e.g. http://127.0.0.1:8123)\n",
			cfg->init_db ? "--init-db" : "loading");
		return 2;
	}
	if (!cfg->init_db && !cfg->spool_dir && optind == argc) {
		fprintf(stderr, "qoestor-loader: give --spool DIR (or --once FILE...; see --help)\n");
		return 2;
	}
	if (cfg->password_file) {
		if (!(pw = read_password_file(cfg->password_file)))
			return 2;
		cfg->password = pw;
	}
	int rc;
	if (cfg->init_db)
		rc = init_db(cfg, &p);
	else if (ch_global_init() != 0) {
		fprintf(stderr, "qoestor-loader: libcurl initialisation failed\n");
		rc = 1;
	} else {
		static const char *const comp[] = { "none", "gzip", "zstd", "auto" };
		log_info("memory: --memory-limit %u MiB over %u insert processes: %u aggregate groups per process%s; "
			 "inserts of %u rows, %s bodies, compression %s%s (bodies beyond %u MiB wait in a file in %s)",
			 cfg->memory_limit_mib, cfg->insert_processes, loader_max_groups(cfg),
			 cfg->max_groups ? " (set explicitly)" : "", loader_insert_rows(cfg),
			 cfg->format == LF_NATIVE ? "Native" : cfg->format == LF_CSV ? "CSV" : "RowBinary",
			 comp[loader_compress(cfg)], cfg->compress == LC_AUTO ? " (auto)" : "", LOADER_SPILL_AT >> 20,
			 loader_spill_dir(cfg));
		rc = daemon_run(cfg, argv + optind, argc - optind);
	}
	if (pw) {
		memset(pw, 0, strlen(pw));
		free(pw);
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct loader_config cfg;
	int code;
	if (qs_config_cmdline(QS_PROG_LOADER, &argc, &argv, &code))
		return code;
	int rc = run(&cfg, argc, argv);
	loader_config_free(&cfg);
	return rc;
}

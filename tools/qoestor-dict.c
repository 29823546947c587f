/* qoestor-dict: check, describe and load the dictionaries.
 *
 *   qoestor-dict check [--samples] DIR|FILE...   validate without loading; exit 0 if all good
 *   qoestor-dict load [DIR] [CH OPTIONS]         validate and upload every dictionary once
 *   qoestor-dict watch [DIR] [CH OPTIONS]        the same, then again on every file change
 *   qoestor-dict refresh [--config FILE] ...     download the autoloaded dictionaries
 *   qoestor-dict sql [--database DB]             the ClickHouse DDL of every dictionary
 *   qoestor-dict docs                            the column reference (docs/DICTIONARIES.md)
 *
 * The work is done by common/dict; this file is only the command line.
 * Exit codes: 0 all good, 1 a dictionary has errors (each printed as
 * FILE:LINE:COLUMN: message) or a refresh failed, 2 bad usage, 3 ClickHouse failed.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ch/ch.h"
#include "config/config.h"
#include "dict/dict_ch.h"
#include "dict/dict_fetch.h"
#include "dict/dict_parse.h"
#include "dict/dict_sql.h"
#include "dict/dict_store.h"
#include "dict/dict_table.h"
#include "dict/dict_watch.h"
#include "log.h"

#define MAX_ERRORS_SHOWN 100

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: qoestor-dict COMMAND [OPTIONS] ...\n"
		"\n"
		"Commands:\n"
		"  check [--samples] DIR|FILE...  validate dictionary files without loading them.\n"
		"        DIR: every <name>.txt of a known dictionary in DIR (a missing file means\n"
		"        'no entries'); with --samples the <name>.sample.txt files instead.\n"
		"        FILE: one file; its dictionary is the file name up to the first dot.\n"
		"        Prints each error as FILE:LINE:COLUMN: message (value 'x').\n"
		"        Exit 0 when every file is valid, 1 when any is not, 2 on bad usage.\n"
		"  load [DIR] [CH OPTIONS]  validate every <name>.txt of DIR and upload each valid\n"
		"        one into ClickHouse (a missing file uploads an empty dictionary; a file\n"
		"        with errors is skipped and ClickHouse keeps its previous version).\n"
		"        Exit 0 when all were loaded, 1 when a file has errors, 3 when ClickHouse failed.\n"
		"  watch [DIR] [CH OPTIONS] [--debounce MS]  load, then load again each file that\n"
		"        changes (inotify, debounced, default 300 ms; rescans every 60 s too);\n"
		"        runs until SIGTERM/SIGINT. Failed uploads are retried every 5 s.\n"
		"  refresh [--config FILE] [--dir DIR] [--asnum-url URL] [--urlcats-url URL]\n"
		"        [--urlcats-host-url URL] [--vchannel-name-url URL] [--timeout S]\n"
		"        [--max-bytes N] [--allow-empty]\n"
		"        the daily autoload (systemd qoestor-dict-refresh.timer): download each\n"
		"        dictionary that has a URL (http://, https://, file://), validate it and\n"
		"        replace DIR/<name>.txt atomically; on any failure the old file stays.\n"
		"        --config reads dictionaries.dir and the autoload switches and URLs of\n"
		"        qoestor.yaml (ASNUM_DIC_AUTOLOAD_ENABLED, URLS_CATEGORIES_DIC_AUTOLOAD_\n"
		"        ENABLED, ULR_VCHANNEL_NAME_DIC_AUTOLOAD_ENABLED, ULR_VCHANNEL_NAME_DIC_URL);\n"
		"        a --*-url option refreshes that dictionary whatever its switch says and\n"
		"        --dir overrides the folder. A download with no entries is refused unless\n"
		"        --allow-empty. Timeout 600 s, limit 1 GiB by default.\n"
		"        Exit 0 when every download replaced or matched its file (or none is\n"
		"        configured), 1 when any failed (its old file kept), 2 on bad usage or config.\n"
		"  sql [--database DB]  print the DDL of every dictionary's table and dictionary\n"
		"  docs   print the column reference of every dictionary (Markdown)\n"
		"\n"
		"CH OPTIONS:\n"
		"  --clickhouse URL       ClickHouse HTTP interface (default http://127.0.0.1:8123);\n"
		"                         repeat for replicas (fail-over, not broadcast)\n"
		"  --database DB          database (default qoestor)\n"
		"  --user NAME            user (default: the server's default user)\n"
		"  --password-file FILE   the user's password, first line of FILE\n"
		"  --config FILE          qoestor.yaml: what the options above and DIR leave unset\n"
		"                         comes from its loader section (clickhouse, user,\n"
		"                         password[_file], auth_headers, database) and\n"
		"                         dictionaries.dir\n"
		"\n"
		"Options:\n"
		"  -h, --help   this text\n"
		"\n"
		"The file format is described in docs/DICTIONARIES.md.\n");
}

/* Check one file as dictionary def; print its errors; 0 if valid. */
static int check_file(const struct dict_def *def, const char *path)
{
	struct dict_errors errs;
	struct dict_data *d = NULL;
	dict_errors_init(&errs, MAX_ERRORS_SHOWN);
	int rc = dict_load_file(def, path, &d, &errs);
	if (rc == 0) {
		printf("%s: ok, %zu entries (%s)\n", path, dict_data_rows(d), def->name);
		dict_data_free(d);
		fflush(stdout);
	} else {
		fflush(stdout);
		dict_errors_print(&errs, stderr);
		fflush(stderr);
		printf("%s: %zu error%s (%s); fix them and run the check again\n", path, errs.total,
		       errs.total == 1 ? "" : "s", def->name);
	}
	dict_errors_free(&errs);
	return rc == 0 ? 0 : 1;
}

static int check_dir(const char *dir, int samples)
{
	int bad = 0;
	const char *suffix = samples ? ".sample.txt" : ".txt";
	for (unsigned i = 0; i < DICT_COUNT; i++) {
		const struct dict_def *def = dict_def((enum dict_id)i);
		char path[4096];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s%s", dir, def->name, suffix);
		if (stat(path, &st) != 0 && errno == ENOENT) {
			printf("%s: missing, so %s has no entries\n", path, def->name);
			continue;
		}
		bad |= check_file(def, path);
	}
	/* Files that look like dictionaries but are none: most likely a misspelt name. */
	DIR *dh = opendir(dir);
	if (!dh) {
		fprintf(stderr, "%s: cannot open the directory: %s\n", dir, strerror(errno));
		return 1;
	}
	struct dirent *de;
	while ((de = readdir(dh))) {
		size_t n = strlen(de->d_name), sl = strlen(".txt");
		if (n <= sl || strcmp(de->d_name + n - sl, ".txt") != 0)
			continue;
		char base[256];
		snprintf(base, sizeof base, "%.*s", (int)strcspn(de->d_name, "."), de->d_name);
		if (!dict_def_by_name(base))
			fprintf(stderr, "%s/%s: warning: not a known dictionary (known: see "
				"'qoestor-dict docs'); ignored\n", dir, de->d_name);
	}
	closedir(dh);
	return bad;
}

static int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "samples", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int samples = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "sh", opts, NULL)) != -1) {
		if (c == 's') {
			samples = 1;
		} else if (c == 'h') {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "qoestor-dict check: name a directory or file (see --help)\n");
		return 2;
	}
	int bad = 0;
	for (int i = optind; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			bad = 1;
		} else if (S_ISDIR(st.st_mode)) {
			bad |= check_dir(argv[i], samples);
		} else {
			const char *b = strrchr(argv[i], '/');
			b = b ? b + 1 : argv[i];
			char name[256];
			snprintf(name, sizeof name, "%.*s", (int)strcspn(b, "."), b);
			const struct dict_def *def = dict_def_by_name(name);
			if (!def) {
				fprintf(stderr, "%s: '%s' is not a known dictionary; name the file "
					"<dictionary>.txt (see 'qoestor-dict docs')\n", argv[i], name);
				bad = 1;
				continue;
			}
			bad |= check_file(def, argv[i]);
		}
	}
	return bad ? 1 : 0;
}

static const char *type_doc(enum dict_type t)
{
	switch (t) {
	case DT_U16: return "UInt16";
	case DT_U32: return "UInt32";
	case DT_U64: return "UInt64";
	case DT_BOOL: return "0/1";
	case DT_STR: return "text";
	case DT_HOST: return "host";
	case DT_IP: return "IP";
	case DT_CIDR: return "IP or CIDR";
	case DT_MAC: return "MAC";
	}
	return "?";
}

static int cmd_docs(void)
{
	for (unsigned i = 0; i < DICT_COUNT; i++) {
		const struct dict_def *def = dict_def((enum dict_id)i);
		printf("### %s\n\n%s\n\nFile `%s.txt`, ClickHouse dictionary `qoestor.%s`, layout %s%s.\n\n",
		       def->name, def->doc, def->name, def->name, dict_layout_name(def->layout),
		       def->layout == DL_HASHED_HIER ? " with a HIERARCHICAL attribute" : "");
		printf("| # | column | type | | description |\n|---|---|---|---|---|\n");
		for (size_t c = 0; c < def->ncols; c++) {
			const struct dict_column *col = &def->cols[c];
			printf("| %zu | `%s` | %s | %s | %s |\n", c + 1, col->name, type_doc(col->type),
			       col->flags & DC_KEY ? "key" : col->flags & DC_OPT ? "optional" : "",
			       col->doc);
		}
		printf("\n");
	}
	return 0;
}

/* ---- ClickHouse commands ------------------------------------------------------- */

struct chopts {
	const char *urls[CH_MAX_URLS];
	size_t nurls;
	const char *database;
	const char *user;
	char password[512];
	int has_password;
	int auth_headers;
	int debounce_ms;
	const char *dir;
	struct qs_config *cfg; /* --config: the_config */
};

static struct qs_config the_config; /* large: static rather than on the stack */

static int read_password(const char *path, struct chopts *o)
{
	FILE *f = fopen(path, "r");
	if (!f || !fgets(o->password, sizeof o->password, f)) {
		fprintf(stderr, "qoestor-dict: cannot read the password from %s: %s\n", path,
			f ? "empty file" : strerror(errno));
		if (f)
			fclose(f);
		return 2;
	}
	fclose(f);
	o->password[strcspn(o->password, "\r\n")] = '\0';
	o->has_password = 1;
	return 0;
}

/* --config FILE: what the command line left unset comes from qoestor.yaml: the
 * loader's ClickHouse (clickhouse, user, password or password_file, auth_headers,
 * database) and dictionaries.dir. 0, or 2 after printing why. */
static int apply_config(const char *path, struct chopts *o, int urls_given, int user_given,
			int database_given)
{
	char err[4096] = "";
	o->cfg = &the_config;
	if (qs_config_load(path, o->cfg, err, sizeof err) != 0) {
		fprintf(stderr, "%s\nqoestor-dict: fix %s (check it with: qoestor-config check %s)\n", err,
			path, path);
		return 2;
	}
	const struct qs_cfg_loader *l = &o->cfg->loader;
	if (!urls_given)
		for (unsigned i = 0; i < l->nclickhouse && o->nurls < CH_MAX_URLS; i++)
			o->urls[o->nurls++] = l->clickhouse[i];
	if (!user_given && l->user[0])
		o->user = l->user;
	if (!database_given)
		o->database = l->database;
	if (!o->has_password && l->password_file[0] && read_password(l->password_file, o) != 0)
		return 2;
	if (!o->has_password && l->password[0]) {
		snprintf(o->password, sizeof o->password, "%s", l->password);
		o->has_password = 1;
	}
	o->auth_headers = l->auth_headers;
	if (!o->dir)
		o->dir = o->cfg->dicts.dir;
	return 0;
}

/* Parse CH OPTIONS and one DIR (optional with --config); 0, or 2 after printing why. */
static int parse_chopts(int argc, char **argv, int want_dir, struct chopts *o)
{
	static const struct option opts[] = {
		{ "clickhouse", required_argument, NULL, 'c' },
		{ "database", required_argument, NULL, 'D' },
		{ "user", required_argument, NULL, 'u' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "debounce", required_argument, NULL, 'b' },
		{ "config", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	memset(o, 0, sizeof *o);
	o->database = "qoestor";
	o->debounce_ms = 300;
	optind = 1;
	int c, database_given = 0;
	const char *config = NULL;
	char *end;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (o->nurls == CH_MAX_URLS) {
				fprintf(stderr, "qoestor-dict: at most %d --clickhouse URLs\n", CH_MAX_URLS);
				return 2;
			}
			o->urls[o->nurls++] = optarg;
			break;
		case 'D': o->database = optarg; database_given = 1; break;
		case 'u': o->user = optarg; break;
		case 'C': config = optarg; break;
		case 'b':
			o->debounce_ms = (int)strtol(optarg, &end, 10);
			if (end == optarg || *end || o->debounce_ms < 0 || o->debounce_ms > 60000) {
				fprintf(stderr, "qoestor-dict: --debounce wants milliseconds 0..60000, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'p':
			if (read_password(optarg, o) != 0)
				return 2;
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return 2;
		}
	}
	if (want_dir && optind + 1 == argc)
		o->dir = argv[optind++];
	if (config && apply_config(config, o, o->nurls > 0, o->user != NULL, database_given) != 0)
		return 2;
	if (!o->nurls)
		o->urls[o->nurls++] = "http://127.0.0.1:8123";
	if (optind != argc) {
		fprintf(stderr, "qoestor-dict: unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}
	if (want_dir && !o->dir) {
		fprintf(stderr, "qoestor-dict: name one dictionaries directory, or --config (see --help)\n");
		return 2;
	}
	return 0;
}

static struct ch_client *open_client(const struct chopts *o)
{
	struct ch_config cfg = { .urls = o->urls, .nurls = o->nurls, .user = o->user,
				 .password = o->has_password ? o->password : NULL,
				 .auth = o->auth_headers ? CH_AUTH_HEADERS : CH_AUTH_BASIC,
				 .timeout_ms = 600000 };
	char err[256];
	if (ch_global_init() != 0) {
		fprintf(stderr, "qoestor-dict: libcurl failed to initialise\n");
		return NULL;
	}
	struct ch_client *c = ch_client_open(&cfg, err, sizeof err);
	if (!c)
		fprintf(stderr, "qoestor-dict: %s\n", err);
	return c;
}

static int cmd_sql(int argc, char **argv)
{
	struct chopts o;
	int rc = parse_chopts(argc, argv, 0, &o);
	if (rc)
		return rc;
	for (unsigned i = 0; i < DICT_COUNT; i++)
		if (dict_sql_ddl(dict_def((enum dict_id)i), o.database, stdout) != 0)
			return 1;
	return 0;
}

/* Upload the dictionaries of mask from snap; returns the mask of those that failed. */
static uint32_t upload(struct ch_client *c, const struct chopts *o, struct dict_snap *snap,
		       uint32_t mask, int *permanent)
{
	uint32_t failed = 0;
	for (unsigned i = 0; i < DICT_COUNT; i++) {
		if (!(mask & (1u << i)))
			continue;
		const struct dict_data *d = dict_snap_data(snap, (enum dict_id)i);
		char err[1024];
		struct dict_ch_stats cs;
		enum ch_status st = dict_ch_upload(c, o->database, d, &cs, err, sizeof err);
		if (st == CH_OK) {
			log_info("dictionary %s: %zu entries are live in ClickHouse as %s.%s%s "
				 "(encode %.2f s, insert %.2f s, reload %.2f s)",
				 dict_def((enum dict_id)i)->name, dict_data_rows(d), o->database,
				 dict_def((enum dict_id)i)->name, cs.recreated ? ", (re)created" : "",
				 cs.encode_s, cs.insert_s, cs.reload_s);
		} else {
			log_err("%s%s", err, st == CH_RETRY ? " (will retry)" : "");
			failed |= 1u << i;
			if (st == CH_PERMANENT && permanent)
				*permanent = 1;
		}
	}
	return failed;
}

static int cmd_load(int argc, char **argv)
{
	struct chopts o;
	int rc = parse_chopts(argc, argv, 1, &o);
	if (rc)
		return rc;
	log_init("qoestor-dict", LOG_INFO);
	struct dict_store *s = NULL;
	if (dict_store_open(o.dir, &s) != 0)
		return 1;
	uint32_t changed = 0;
	dict_store_refresh(s, 1, &changed);
	int file_errors = dict_store_errors(s) != 0;
	struct ch_client *c = open_client(&o);
	if (!c) {
		dict_store_close(s);
		return 2;
	}
	struct dict_snap *snap = dict_store_acquire(s);
	uint32_t failed = upload(c, &o, snap, changed, NULL);
	dict_snap_release(snap);
	ch_client_close(c);
	dict_store_close(s);
	return failed ? 3 : file_errors ? 1 : 0;
}

/* ---- refresh --------------------------------------------------------------------- */

enum { R_ASNUM, R_URLCATS, R_URLCATS_HOST, R_VCHANNEL, R_COUNT };

static int cmd_refresh(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dir", required_argument, NULL, 'd' },
		{ "asnum-url", required_argument, NULL, 'A' },
		{ "urlcats-url", required_argument, NULL, 'U' },
		{ "urlcats-host-url", required_argument, NULL, 'H' },
		{ "vchannel-name-url", required_argument, NULL, 'V' },
		{ "timeout", required_argument, NULL, 't' },
		{ "max-bytes", required_argument, NULL, 'm' },
		{ "allow-empty", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const enum dict_id ids[R_COUNT] = { DICT_asnum_dic, DICT_urlcats_dic, DICT_urlcats_host_dic,
						   DICT_vchannel_name_dic };
	const char *config = NULL, *dir = NULL, *url[R_COUNT] = { NULL };
	struct dict_fetch_opts fo = { 0, 0, 0 };
	char *end;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'd': dir = optarg; break;
		case 'A': url[R_ASNUM] = optarg; break;
		case 'U': url[R_URLCATS] = optarg; break;
		case 'H': url[R_URLCATS_HOST] = optarg; break;
		case 'V': url[R_VCHANNEL] = optarg; break;
		case 'e': fo.allow_empty = 1; break;
		case 't':
		case 'm':
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || v == 0) {
				fprintf(stderr, "qoestor-dict refresh: --%s wants a positive number, not '%s'\n",
					c == 't' ? "timeout" : "max-bytes", optarg);
				return 2;
			}
			if (c == 't')
				fo.timeout_s = v > 86400 ? 86400 : (long)v;
			else
				fo.max_bytes = (size_t)v;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "qoestor-dict refresh: unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}
	log_init("qoestor-dict", LOG_INFO);
	struct qs_config *cfg = NULL;
	if (config) {
		char err[4096] = "";
		cfg = &the_config;
		if (qs_config_load(config, cfg, err, sizeof err) != 0) {
			log_err("%s", err);
			log_err("fix %s (check it with: qoestor-config check %s)", config, config);
			return 2;
		}
		const struct qs_cfg_dicts *cd = &cfg->dicts;
		const struct { int on; const char *url; } from[R_COUNT] = {
			{ cd->asnum_autoload, cd->asnum_url },
			{ cd->urlcats_autoload, cd->urlcats_url },
			{ cd->urlcats_autoload, cd->urlcats_host_url },
			{ cd->vchannel_name_autoload, cd->vchannel_name_url },
		};
		for (int i = 0; i < R_COUNT; i++)
			if (!url[i] && from[i].on && from[i].url[0])
				url[i] = from[i].url;
		if (!dir)
			dir = cd->dir;
	}
	if (!dir) {
		log_err("refresh: name the dictionaries folder with --dir DIR or --config FILE");
		return 2;
	}
	if (ch_global_init() != 0) {
		log_err("refresh: libcurl failed to initialise");
		return 2;
	}
	int failed = 0, any = 0;
	for (int i = 0; i < R_COUNT; i++) {
		if (!url[i])
			continue;
		any = 1;
		const struct dict_def *def = dict_def(ids[i]);
		struct dict_errors errs;
		char msg[8192];
		dict_errors_init(&errs, 20);
		enum dict_fetch_result r = dict_fetch(def, url[i], dir, &fo, &errs, msg, sizeof msg);
		for (size_t k = 0; k < errs.nkept; k++)
			log_err("%s", errs.msg[k]);
		if (errs.total > errs.nkept)
			log_err("%s: ... and %zu more errors", url[i], errs.total - errs.nkept);
		dict_errors_free(&errs);
		if (r == DICT_FETCH_FAILED) {
			log_err("%s", msg);
			failed = 1;
		} else {
			log_info("%s", msg);
		}
	}
	if (!any)
		log_notice("refresh: no dictionary has autoload on and a URL%s; nothing to do",
			   config ? " in the config" : " (see --help)");
	return failed ? 1 : 0;
}

static struct dict_watch *the_watch;

static void on_signal(int sig)
{
	(void)sig;
	if (the_watch)
		dict_watch_stop(the_watch);
}

static int cmd_watch(int argc, char **argv)
{
	struct chopts o;
	int rc = parse_chopts(argc, argv, 1, &o);
	if (rc)
		return rc;
	log_init("qoestor-dict", LOG_INFO);
	struct dict_store *s = NULL;
	struct dict_watch *w = NULL;
	if (dict_store_open(o.dir, &s) != 0)
		return 1;
	if (dict_watch_open(o.dir, o.debounce_ms, &w) != 0) {
		log_err("cannot watch %s: %s; create the directory or fix its permissions", o.dir,
			strerror(errno));
		dict_store_close(s);
		return 1;
	}
	struct ch_client *c = open_client(&o);
	if (!c) {
		dict_watch_close(w);
		dict_store_close(s);
		return 2;
	}
	the_watch = w;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	log_notice("watching %s for dictionary changes; loading into %s on %s", o.dir, o.database,
		   o.urls[0]);
	uint32_t pending = 0;
	dict_store_refresh(s, 1, &pending);
	int force = 0;
	for (;;) {
		if (pending) {
			struct dict_snap *snap = dict_store_acquire(s);
			pending = upload(c, &o, snap, pending, NULL);
			dict_snap_release(snap);
		}
		int r = dict_watch_wait(w, pending ? 5000 : 60000);
		if (r < 0)
			break;
		uint32_t changed = 0;
		dict_store_refresh(s, force, &changed);
		pending |= changed;
	}
	log_notice("stopping");
	the_watch = NULL;
	ch_client_close(c);
	dict_watch_close(w);
	dict_store_close(s);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(cmd, "docs") == 0)
		return cmd_docs();
	if (strcmp(cmd, "sql") == 0)
		return cmd_sql(argc - 1, argv + 1);
	if (strcmp(cmd, "load") == 0)
		return cmd_load(argc - 1, argv + 1);
	if (strcmp(cmd, "watch") == 0)
		return cmd_watch(argc - 1, argv + 1);
	if (strcmp(cmd, "refresh") == 0)
		return cmd_refresh(argc - 1, argv + 1);
	fprintf(stderr, "qoestor-dict: unknown command '%s' (see --help)\n", cmd);
	return 2;
}

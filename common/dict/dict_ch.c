/* dict_ch.c: the ClickHouse upload declared in dict_ch.h. */
#include "dict/dict_ch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ch/chsql.h"
#include "dict/dict_sql.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run sql (taking it; NULL means out of memory); on failure fill err with what and where.
 * With out, the result body is handed over (the caller frees it). */
static enum ch_status run_out(struct ch_client *c, const char *what, const char *name, char *sql,
			      char **out, char *err, size_t errlen)
{
	struct ch_result res;
	memset(&res, 0, sizeof res);
	enum ch_status st = sql ? ch_query(c, sql, NULL, &res) : CH_RETRY;
	if (st != CH_OK)
		snprintf(err, errlen, "dictionary %s: %s failed: %s", name, what,
			 sql ? res.msg : "out of memory");
	if (st == CH_OK && out) {
		*out = res.body;
		res.body = NULL;
	}
	ch_result_free(&res);
	free(sql);
	return st;
}

static enum ch_status run(struct ch_client *c, const char *what, const char *name, char *sql,
			  char *err, size_t errlen)
{
	return run_out(c, what, name, sql, NULL, err, errlen);
}

/* vasprintf into a new string; names are quoted by the caller. */
__attribute__((format(printf, 1, 2)))
static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* The text of a dict_sql writer, or NULL. */
static char *ddl(int (*fn)(const struct dict_def *, const char *, const char *, FILE *),
		 const struct dict_def *def, const char *db, const char *suffix)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (!m)
		return NULL;
	int rc = fn(def, db, suffix, m);
	if (fclose(m) != 0 || rc != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

enum state { ABSENT, CURRENT, STALE };

/* What ClickHouse holds now: the backing table and the dictionary, each absent, of the
 * current structure or of another one. */
static enum ch_status states(struct ch_client *c, const struct dict_def *def, const char *db,
			     enum state *table, enum state *dict, char *err, size_t errlen)
{
	char token[DICT_SQL_TOKEN_LEN], data[256];
	dict_sql_token(def, db, token);
	snprintf(data, sizeof data, "%s_data", def->name);
	char *qdb = ch_sql_string(db), *qtok = ch_sql_string(token);
	char *qname = ch_sql_string(def->name), *qdata = ch_sql_string(data);
	char *sql = qdb && qtok && qname && qdata
		? fmt("SELECT name, position(comment, %s) > 0 FROM system.tables "
		      "WHERE database = %s AND name IN (%s, %s)", qtok, qdb, qname, qdata)
		: NULL;
	free(qdb);
	free(qtok);
	free(qname);
	free(qdata);
	char *body = NULL;
	enum ch_status st = run_out(c, "reading its structure", def->name, sql, &body, err, errlen);
	*table = *dict = ABSENT;
	if (st != CH_OK)
		return st;
	for (char *line = body, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *tab = strchr(line, '\t');
		if (!tab)
			continue;
		*tab = '\0';
		enum state s = strcmp(tab + 1, "1") == 0 ? CURRENT : STALE;
		if (strcmp(line, def->name) == 0)
			*dict = s;
		else if (strcmp(line, data) == 0)
			*table = s;
	}
	free(body);
	return CH_OK;
}

/* Steps 1 and 2 of dict_ch.h: the new rows replace the backing table's. */
static enum ch_status replace_rows(struct ch_client *c, const struct dict_data *d, const char *db,
				   const char *qdb, enum state table, struct dict_ch_stats *stats,
				   char *err, size_t errlen)
{
	const struct dict_def *def = dict_data_def(d);
	const char *name = def->name;
	enum ch_status st;
	st = run(c, "dropping a leftover table", name,
		 fmt("DROP TABLE IF EXISTS %s.`%s_data_new`", qdb, name), err, errlen);
	if (st == CH_OK)
		st = run(c, "creating the new table", name, ddl(dict_sql_create_table, def, db, "_new"),
			 err, errlen);
	if (st != CH_OK)
		return st;

	double t = now();
	size_t blen = 0, clen = 0;
	char *body = dict_sql_tsv(d, &blen), *cols = NULL;
	FILE *mc = open_memstream(&cols, &clen);
	int rc = !body || !mc;
	if (mc)
		rc |= dict_sql_columns(def, mc), rc |= fclose(mc) != 0;
	char *table_new = fmt("%s.`%s_data_new`", qdb, name);
	stats->encode_s = now() - t;
	t = now();
	if (rc || !table_new) {
		snprintf(err, errlen, "dictionary %s: out of memory preparing %zu rows", name,
			 dict_data_rows(d));
		st = CH_RETRY;
	} else if (dict_data_rows(d) > 0) { /* ClickHouse refuses an empty INSERT; an empty table is right */
		struct ch_result res;
		memset(&res, 0, sizeof res);
		st = ch_insert(c, table_new, cols, "TabSeparated", body, blen, CH_ENC_NONE, NULL, NULL, &res);
		if (st != CH_OK)
			snprintf(err, errlen, "dictionary %s: inserting %zu rows failed: %s", name,
				 dict_data_rows(d), res.msg);
		ch_result_free(&res);
	}
	stats->insert_s = now() - t;
	free(body);
	free(cols);
	free(table_new);
	if (st != CH_OK)
		return st;

	/* the swap: from here on the new rows are the dictionary's */
	if (table == ABSENT)
		return run(c, "naming the new table", name,
			   fmt("RENAME TABLE %s.`%s_data_new` TO %s.`%s_data`", qdb, name, qdb, name),
			   err, errlen);
	st = run(c, "swapping in the new rows", name,
		 fmt("EXCHANGE TABLES %s.`%s_data_new` AND %s.`%s_data`", qdb, name, qdb, name), err, errlen);
	if (st == CH_OK) {
		char ignored[512];
		run(c, "dropping the old rows", name, fmt("DROP TABLE IF EXISTS %s.`%s_data_new`", qdb, name),
		    ignored, sizeof ignored);
	}
	return st;
}

/* Step 3: load the dictionary, creating or recreating it when needed. */
static enum ch_status reload(struct ch_client *c, const struct dict_def *def, const char *db,
			     const char *qdb, enum state dict, struct dict_ch_stats *stats,
			     char *err, size_t errlen)
{
	const char *name = def->name;
	enum ch_status st;
	double t = now();
	if (dict == CURRENT || dict == ABSENT) {
		st = CH_OK;
		if (dict == ABSENT)
			st = run(c, "creating the dictionary", name,
				 ddl(dict_sql_create_dictionary, def, db, NULL), err, errlen);
		if (st == CH_OK)
			st = run(c, "reloading", name, fmt("SYSTEM RELOAD DICTIONARY %s.`%s`", qdb, name),
				 err, errlen);
		stats->recreated = dict == ABSENT;
		stats->reload_s = now() - t;
		return st;
	}
	/* another structure: build the new one beside it, then swap */
	st = run(c, "dropping a leftover dictionary", name,
		 fmt("DROP DICTIONARY IF EXISTS %s.`%s_new`", qdb, name), err, errlen);
	if (st == CH_OK)
		st = run(c, "creating the dictionary's new structure", name,
			 ddl(dict_sql_create_dictionary, def, db, "_new"), err, errlen);
	if (st == CH_OK)
		st = run(c, "loading the dictionary's new structure", name,
			 fmt("SYSTEM RELOAD DICTIONARY %s.`%s_new`", qdb, name), err, errlen);
	if (st == CH_OK)
		st = run(c, "swapping in the new structure", name,
			 fmt("EXCHANGE DICTIONARIES %s.`%s_new` AND %s.`%s`", qdb, name, qdb, name), err,
			 errlen);
	if (st == CH_OK) {
		char ignored[512];
		run(c, "dropping the old structure", name,
		    fmt("DROP DICTIONARY IF EXISTS %s.`%s_new`", qdb, name), ignored, sizeof ignored);
		stats->recreated = 1;
	}
	stats->reload_s = now() - t;
	return st;
}

enum ch_status dict_ch_upload(struct ch_client *c, const char *db, const struct dict_data *d,
			      struct dict_ch_stats *stats, char *err, size_t errlen)
{
	const struct dict_def *def = dict_data_def(d);
	struct dict_ch_stats ignored;
	if (!stats)
		stats = &ignored;
	memset(stats, 0, sizeof *stats);
	char *qdb = ch_sql_ident(db);
	if (!qdb) {
		snprintf(err, errlen, "dictionary %s: out of memory", def->name);
		return CH_RETRY;
	}
	enum state table, dict;
	enum ch_status st = run(c, "creating the database", def->name,
				fmt("CREATE DATABASE IF NOT EXISTS %s", qdb), err, errlen);
	if (st == CH_OK)
		st = states(c, def, db, &table, &dict, err, errlen);
	if (st == CH_OK)
		st = replace_rows(c, d, db, qdb, table, stats, err, errlen);
	if (st == CH_OK)
		st = reload(c, def, db, qdb, dict, stats, err, errlen);
	free(qdb);
	return st;
}

/* dict_ch.c: the ClickHouse upload declared in dict_ch.h. */
#include "dict/dict_ch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ch/chsql.h"
#include "dict/dict_sql.h"

/* Run the SQL that fn writes; on failure fill err with what and where. */
static enum ch_status run(struct ch_client *c, const char *what, const char *name, char *sql,
			  char *err, size_t errlen)
{
	struct ch_result res;
	memset(&res, 0, sizeof res);
	enum ch_status st = sql ? ch_query(c, sql, NULL, &res) : CH_PERMANENT;
	if (st != CH_OK)
		snprintf(err, errlen, "dictionary %s: %s failed: %s", name, what,
			 sql ? res.msg : "out of memory");
	ch_result_free(&res);
	free(sql);
	return st;
}

/* sprintf-like into a new string with db and table names quoted by the caller. */
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

static char *memtext(int (*fn)(const struct dict_def *, const char *, FILE *),
		     const struct dict_def *def, const char *db)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (!m)
		return NULL;
	int rc = fn(def, db, m);
	if (fclose(m) != 0 || rc != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int create_table(const struct dict_def *def, const char *db, FILE *out)
{
	return dict_sql_create_table(def, db, NULL, out);
}

enum ch_status dict_ch_upload(struct ch_client *c, const char *db, const struct dict_data *d,
			      char *err, size_t errlen)
{
	const struct dict_def *def = dict_data_def(d);
	const char *name = def->name;
	enum ch_status st;
	char *qdb = ch_sql_ident(db);
	char *body = NULL, *cols = NULL, *table_new = NULL;
	size_t blen = 0, clen = 0;
	if (!qdb) {
		snprintf(err, errlen, "dictionary %s: out of memory", name);
		return CH_RETRY;
	}

	st = run(c, "creating the database", name, fmt("CREATE DATABASE IF NOT EXISTS %s", qdb), err, errlen);
	if (st == CH_OK)
		st = run(c, "creating the backing table", name, memtext(create_table, def, db), err, errlen);
	if (st == CH_OK)
		st = run(c, "creating the dictionary", name, memtext(dict_sql_create_dictionary, def, db),
			 err, errlen);
	if (st != CH_OK)
		goto out;

	/* the new rows, in a fresh table shaped like the backing table */
	st = run(c, "dropping a leftover table", name,
		 fmt("DROP TABLE IF EXISTS %s.`%s_data_new`", qdb, name), err, errlen);
	if (st == CH_OK)
		st = run(c, "creating the new table", name,
			 fmt("CREATE TABLE %s.`%s_data_new` AS %s.`%s_data`", qdb, name, qdb, name), err, errlen);
	if (st != CH_OK)
		goto out;
	FILE *m = open_memstream(&body, &blen);
	FILE *mc = open_memstream(&cols, &clen);
	int rc = !m || !mc;
	if (m)
		rc |= dict_sql_tsv(d, m), rc |= fclose(m) != 0;
	if (mc)
		rc |= dict_sql_columns(def, mc), rc |= fclose(mc) != 0;
	table_new = fmt("%s.`%s_data_new`", qdb, name);
	if (rc || !table_new) {
		snprintf(err, errlen, "dictionary %s: out of memory preparing %zu rows", name,
			 dict_data_rows(d));
		st = CH_RETRY;
		goto out;
	}
	struct ch_result res;
	memset(&res, 0, sizeof res);
	if (dict_data_rows(d) > 0) /* ClickHouse refuses an empty INSERT; an empty table is right */
		st = ch_insert(c, table_new, cols, "TabSeparated", body, blen, CH_ENC_NONE, NULL, NULL, &res);
	if (st != CH_OK)
		snprintf(err, errlen, "dictionary %s: inserting %zu rows failed: %s", name,
			 dict_data_rows(d), res.msg);
	ch_result_free(&res);
	if (st != CH_OK)
		goto out;

	/* the swap: from here on the new rows are the dictionary's */
	st = run(c, "swapping in the new rows", name,
		 fmt("EXCHANGE TABLES %s.`%s_data_new` AND %s.`%s_data`", qdb, name, qdb, name), err, errlen);
	if (st != CH_OK)
		goto out;
	char ignored[512];
	run(c, "dropping the old rows", name, fmt("DROP TABLE IF EXISTS %s.`%s_data_new`", qdb, name),
	    ignored, sizeof ignored);
	st = run(c, "reloading", name, fmt("SYSTEM RELOAD DICTIONARY %s.`%s`", qdb, name), err, errlen);
out:
	free(qdb);
	free(body);
	free(cols);
	free(table_new);
	return st;
}

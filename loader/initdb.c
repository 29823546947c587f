/* initdb.c: schema apply and migration (see initdb.h).
 *
 * The catalogue is read once, as TabSeparatedRaw text (names, types and
 * engine clauses hold no tabs or newlines), into small arrays; then each
 * generated object is checked in dependency order.
 */
#include "loader/initdb.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ch/chsql.h"
#include "log.h"

struct row {
	char *f[5];
};

struct rows {
	struct row *r;
	size_t n;
	char *text; /* owns the strings */
};

static void rows_free(struct rows *rs)
{
	free(rs->r);
	free(rs->text);
	memset(rs, 0, sizeof *rs);
}

/* Split body into rows of nf tab-separated fields (takes ownership of body). */
static int rows_parse(struct rows *rs, char *body, int nf)
{
	memset(rs, 0, sizeof *rs);
	rs->text = body;
	for (char *line = body; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		struct row *grown = realloc(rs->r, (rs->n + 1) * sizeof *grown);
		if (!grown)
			return -1;
		rs->r = grown;
		struct row *row = &rs->r[rs->n++];
		char *p = line;
		for (int i = 0; i < (int)(sizeof row->f / sizeof row->f[0]); i++) {
			row->f[i] = p ? p : "";
			if (p && i + 1 < nf) {
				char *t = strchr(p, '\t');
				if (t)
					*t++ = 0;
				p = t;
			} else {
				p = NULL;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return 0;
}

static int fetch(struct ch_client *c, const char *sql, int nf, struct rows *rs)
{
	struct ch_result res;
	if (ch_query(c, sql, NULL, &res) != CH_OK) {
		log_err("%s", res.msg);
		ch_result_free(&res);
		return -1;
	}
	char *body = res.body;
	res.body = NULL;
	if (rows_parse(rs, body, nf) != 0) {
		log_err("out of memory reading the ClickHouse catalogue");
		rows_free(rs);
		return -1;
	}
	return 0;
}

static int exec(struct ch_client *c, const char *sql, const char *what, struct initdb_report *rep)
{
	struct ch_result res;
	enum ch_status s = ch_query(c, sql, NULL, &res);
	if (s != CH_OK) {
		log_err("%s; the statement was:\n%s", res.msg, sql);
		ch_result_free(&res);
		return -1;
	}
	ch_result_free(&res);
	rep->changes++;
	log_notice("%s", what);
	return 0;
}

static const struct row *find_row(const struct rows *rs, const char *f0, const char *f1)
{
	for (size_t i = 0; i < rs->n; i++)
		if (strcmp(rs->r[i].f[0], f0) == 0 && (!f1 || strcmp(rs->r[i].f[1], f1) == 0))
			return &rs->r[i];
	return NULL;
}

/* Compare ignoring blanks (ClickHouse reformats clauses). */
static int same_text(const char *a, const char *b)
{
	for (;;) {
		while (*a == ' ')
			a++;
		while (*b == ' ')
			b++;
		if (*a != *b)
			return 0;
		if (!*a)
			return 1;
		a++;
		b++;
	}
}

/* The expression of " TTL ..." in engine_full (up to " SETTINGS "), as a
 * string the caller frees ("" when none; NULL when out of memory). TTL GROUP
 * BY rules make it a few kilobytes. */
static char *ttl_of(const char *engine_full)
{
	const char *t = strstr(engine_full, " TTL ");
	if (!t)
		return strdup("");
	t += 5;
	const char *e = strstr(t, " SETTINGS ");
	size_t n = e ? (size_t)(e - t) : strlen(t);
	return strndup(t, n);
}

static int alter(struct ch_client *c, const char *db, const char *table, const char *clause,
	const char *what, struct initdb_report *rep)
{
	char *sql = NULL;
	if (asprintf(&sql, "ALTER TABLE %s.%s %s", db, table, clause) < 0)
		return -1;
	int r = exec(c, sql, what, rep);
	free(sql);
	return r;
}

/* 1 when engine_full's SETTINGS clause has the item "name = value" exactly. */
static int has_setting(const char *engine_full, const char *item, size_t len)
{
	const char *s = strstr(engine_full, " SETTINGS ");
	while (s && (s = strstr(s, " ")) != NULL) {
		s++;
		if (strncmp(s, item, len) == 0 && (s[len] == ',' || s[len] == 0))
			return 1;
	}
	return 0;
}

/* The settings the schema keeps in line (o->settings: "name = value, ..."):
 * each one the table lacks or has with another value is changed in place. */
static int check_settings(struct ch_client *c, const char *db, const struct qs_ddl_object *o,
	const struct row *t, struct initdb_report *rep)
{
	char what[1024];
	for (const char *item = o->settings; item && *item;) {
		const char *comma = strchr(item, ',');
		size_t len = comma ? (size_t)(comma - item) : strlen(item);
		if (!has_setting(t->f[2], item, len)) {
			char *clause = NULL;
			if (asprintf(&clause, "MODIFY SETTING %.*s", (int)len, item) < 0)
				return -1;
			snprintf(what, sizeof what, "changed a setting of %s.%s: %.*s", db, o->name, (int)len, item);
			int r = alter(c, db, o->name, clause, what, rep);
			free(clause);
			if (r != 0)
				return -1;
		}
		item = comma ? comma + 1 : NULL;
		while (item && *item == ' ')
			item++;
	}
	return 0;
}

static int check_table(struct ch_client *c, const char *db, const struct qs_ddl_object *o,
	const struct row *t, const struct rows *cols, const struct qs_ddl_params *p, struct initdb_report *rep)
{
	char what[1024];
	/* Storage policy first: a TTL that moves parts to a volume needs it. A
	 * table can only move to a policy that keeps its current disks (ClickHouse
	 * refuses otherwise, and says why). */
	if (p->storage_policy && *p->storage_policy && strcmp(t->f[4], p->storage_policy) != 0) {
		char *clause = NULL;
		if (asprintf(&clause, "MODIFY SETTING storage_policy = '%s'", p->storage_policy) < 0)
			return -1;
		snprintf(what, sizeof what, "moved %s.%s to storage policy %s (was %s)", db, o->name,
			p->storage_policy, t->f[4]);
		int r = alter(c, db, o->name, clause, what, rep);
		free(clause);
		if (r != 0)
			return -1;
	}
	/* Columns the schema defines. */
	for (size_t i = 0; i < o->ncols; i++) {
		const struct qs_ddl_column *col = &o->cols[i];
		const struct row *have = find_row(cols, o->name, col->name);
		if (have) {
			if (strcmp(have->f[2], col->type) != 0) {
				rep->warnings++;
				log_warn("column %s.%s.%s has type %s but the schema says %s; left as is "
					 "(convert it by hand with ALTER TABLE %s.%s MODIFY COLUMN %s %s)",
					 db, o->name, col->name, have->f[2], col->type, db, o->name, col->name, col->type);
			}
			continue;
		}
		char *clause = NULL;
		if (asprintf(&clause, "ADD COLUMN IF NOT EXISTS %s %s%s", col->def, i ? "AFTER " : "FIRST",
			i ? o->cols[i - 1].name : "") < 0)
			return -1;
		snprintf(what, sizeof what, "added column %s.%s.%s %s", db, o->name, col->name, col->type);
		int r = alter(c, db, o->name, clause, what, rep);
		free(clause);
		if (r != 0)
			return -1;
	}
	/* Columns that exist but are no longer defined. */
	for (size_t i = 0; i < cols->n; i++) {
		const struct row *have = &cols->r[i];
		if (strcmp(have->f[0], o->name) != 0)
			continue;
		size_t j;
		for (j = 0; j < o->ncols && strcmp(o->cols[j].name, have->f[1]) != 0; j++)
			;
		if (j == o->ncols) {
			rep->warnings++;
			log_warn("column %s.%s.%s (%s) is not in the schema; kept with its data "
				 "(drop it by hand if unneeded: ALTER TABLE %s.%s DROP COLUMN %s)",
				 db, o->name, have->f[1], have->f[2], db, o->name, have->f[1]);
		}
	}
	/* Engine. */
	if (strcmp(t->f[1], o->engine) != 0) {
		rep->warnings++;
		log_warn("%s.%s has engine %s but the schema says %s; left as is (recreate the table to change it)",
			 db, o->name, t->f[1], o->engine);
	}
	/* Retention: TTL and the comment that states it. */
	char *ttl = ttl_of(t->f[2]);
	if (!ttl)
		return -1;
	if (o->ttl && !same_text(ttl, o->ttl)) {
		char *clause = NULL;
		if (asprintf(&clause, "MODIFY TTL %s", o->ttl) < 0) {
			free(ttl);
			return -1;
		}
		snprintf(what, sizeof what, "changed the retention of %s.%s: TTL %.400s (was %.400s)", db, o->name, o->ttl,
			ttl[0] ? ttl : "none");
		int r = alter(c, db, o->name, clause, what, rep);
		free(clause);
		if (r != 0) {
			free(ttl);
			return -1;
		}
	} else if (!o->ttl && ttl[0]) {
		snprintf(what, sizeof what, "removed the retention of %s.%s (was TTL %.400s)", db, o->name, ttl);
		if (alter(c, db, o->name, "REMOVE TTL", what, rep) != 0) {
			free(ttl);
			return -1;
		}
	}
	free(ttl);
	if (check_settings(c, db, o, t, rep) != 0)
		return -1;
	if (strcmp(t->f[3], o->comment) != 0) {
		char *q = ch_sql_string(o->comment), *clause = NULL;
		if (!q || asprintf(&clause, "MODIFY COMMENT %s", q) < 0) {
			free(q);
			return -1;
		}
		snprintf(what, sizeof what, "updated the comment of %s.%s: %s", db, o->name, o->comment);
		int r = alter(c, db, o->name, clause, what, rep);
		free(clause);
		free(q);
		if (r != 0)
			return -1;
	}
	return 0;
}

static int check_version(struct ch_client *c)
{
	struct rows rs;
	if (fetch(c, "SELECT version()", 1, &rs) != 0)
		return -1;
	int major = 0, minor = 0;
	const char *v = rs.n ? rs.r[0].f[0] : "";
	int ok = sscanf(v, "%d.%d", &major, &minor) == 2;
	if (!ok || major < 23 || (major == 23 && minor < 8)) {
		log_err("ClickHouse '%s' is older than 23.8, the oldest version qoestor supports; upgrade it", v);
		rows_free(&rs);
		return -1;
	}
	log_info("ClickHouse %s", v);
	rows_free(&rs);
	return 0;
}

static const char *kind_engine(enum qs_ddl_kind k)
{
	switch (k) {
	case QS_DDL_MV: return "MaterializedView";
	case QS_DDL_VIEW: return "View";
	default: return NULL;
	}
}

/* ---- migration from the per-resolution layout --------------------------------
 * Earlier versions stored an aggregate with rollups
 * as <name>_15m (the loader's inserts), <name>_30m and <name>_1h (filled by
 * the materialized views <name>_30m_mv and <name>_1h_mv) and a view <name>
 * reading each age range from the finest of them. Now <name> is one table
 * regrouped by TTL GROUP BY. The migration creates it as <name>_migrating,
 * copies the old view's rows into it (all history, each age range from the
 * right table), drops the views, and renames in one RENAME: <name>_migrating
 * to <name>, the old tables to <name>_15m_old, ... (kept with their data;
 * docs/UPGRADING.md says how to drop them). An interrupted run is finished
 * by the next: a leftover <name>_migrating is dropped and copied again while
 * the old view exists, and only renamed once the view is gone. */
static const char *const old_suffixes[] = { "_15m", "_30m", "_1h" };

static int run(struct ch_client *c, struct initdb_report *rep, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int run(struct ch_client *c, struct initdb_report *rep, const char *what, const char *fmt, ...)
{
	char *sql = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&sql, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	int r = exec(c, sql, what, rep);
	free(sql);
	return r;
}

static int migrate_rollup(struct ch_client *c, const char *db, const struct qs_agg_def *a,
	const struct qs_ddl_object *o, const struct rows *tables, struct initdb_report *rep)
{
	char name[128], what[512];
	const char *n = a->name;
	const struct row *cur = find_row(tables, n, NULL);
	snprintf(name, sizeof name, "%s_15m", n);
	if (!find_row(tables, name, NULL))
		return 0;
	snprintf(name, sizeof name, "%s_migrating", n);
	int have_new = find_row(tables, name, NULL) != NULL;
	if (cur && strcmp(cur->f[1], "View") != 0)
		return 0; /* already one table (the old ones were renamed by hand?): nothing to do */
	if (!cur && !have_new) {
		rep->warnings++;
		log_warn("%s.%s_15m exists but neither the view %s.%s nor %s.%s_migrating: not migrated "
			 "(the old tables keep their data; %s.%s is created empty)", db, n, db, n, db, n, db, n);
		return 0;
	}
	if (cur) {
		/* CREATE TABLE IF NOT EXISTS db.name\n... as db.name_migrating */
		const char *body = strchr(o->sql, '\n');
		char *cols = NULL;
		size_t cols_len = 0;
		FILE *cf = body ? open_memstream(&cols, &cols_len) : NULL;
		if (!cf)
			return -1;
		for (size_t i = 0; i < a->ncols; i++)
			fprintf(cf, "%s%s", i ? ", " : "", a->cols[i].name);
		if (fclose(cf) != 0) {
			free(cols);
			return -1;
		}
		snprintf(what, sizeof what, "dropped %s.%s_migrating (left by an interrupted migration)", db, n);
		int r = have_new ? run(c, rep, what, "DROP TABLE IF EXISTS %s.%s_migrating", db, n) : 0;
		snprintf(what, sizeof what, "created %s.%s_migrating (the new %s, one table regrouped by age)", db, n, n);
		if (r == 0)
			r = run(c, rep, what, "CREATE TABLE %s.%s_migrating%s", db, n, body);
		snprintf(what, sizeof what, "copied the rows of the view %s.%s into %s.%s_migrating", db, n, db, n);
		if (r == 0)
			r = run(c, rep, what, "INSERT INTO %s.%s_migrating (%s) SELECT %s FROM %s.%s "
				"SETTINGS insert_deduplicate = 0", db, n, cols, cols, db, n);
		free(cols);
		if (r != 0)
			return -1;
	}
	for (int i = 1; i < 3; i++) {
		snprintf(name, sizeof name, "%s%s_mv", n, old_suffixes[i]);
		if (!find_row(tables, name, NULL))
			continue;
		snprintf(what, sizeof what, "dropped the materialized view %s.%s", db, name);
		if (run(c, rep, what, "DROP TABLE IF EXISTS %s.%s", db, name) != 0)
			return -1;
	}
	if (cur) {
		snprintf(what, sizeof what, "dropped the view %s.%s", db, n);
		if (run(c, rep, what, "DROP VIEW IF EXISTS %s.%s", db, n) != 0)
			return -1;
	}
	char renames[1024];
	int len = snprintf(renames, sizeof renames, "%s.%s_migrating TO %s.%s", db, n, db, n);
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof name, "%s%s", n, old_suffixes[i]);
		if (find_row(tables, name, NULL))
			len += snprintf(renames + len, sizeof renames - (size_t)len, ", %s.%s TO %s.%s_old", db, name, db, name);
	}
	snprintf(what, sizeof what, "renamed %s.%s_migrating to %s.%s and the old tables %s_15m, _30m, _1h to *_old "
		"(kept with their data; docs/UPGRADING.md says how to drop them)", db, n, db, n, n);
	return run(c, rep, what, "RENAME TABLE %s", renames);
}

static int migrate_rollups(struct ch_client *c, const struct qs_ddl *d, const char *db, const char *qdb,
	struct initdb_report *rep)
{
	struct rows tables;
	char *sql = NULL;
	if (asprintf(&sql, "SELECT name, engine FROM system.tables WHERE database = %s FORMAT TabSeparatedRaw", qdb) < 0)
		return -1;
	int r = fetch(c, sql, 2, &tables);
	free(sql);
	if (r != 0)
		return -1;
	for (int i = 0; r == 0 && i < QS_AGG_TABLES; i++) {
		const struct qs_agg_def *a = qs_agg_def((enum qs_agg)i);
		const struct qs_ddl_object *o = qs_ddl_find(d, a->name);
		if (a->rollups && o && o->kind == QS_DDL_TABLE)
			r = migrate_rollup(c, db, a, o, &tables, rep);
	}
	rows_free(&tables);
	return r;
}

int initdb_apply(struct ch_client *c, const struct qs_ddl_params *p, struct initdb_report *rep)
{
	char err[256], what[512], *sql = NULL;
	struct rows dbs = { 0 }, tables = { 0 }, cols = { 0 };
	int rc = -1;
	memset(rep, 0, sizeof *rep);
	if (qs_ddl_check_params(p, err, sizeof err) != 0) {
		log_err("schema parameters: %s", err);
		return -1;
	}
	struct qs_ddl *d = qs_ddl_build(p);
	if (!d) {
		log_err("out of memory generating the DDL");
		return -1;
	}
	const char *db = p->database;
	char *qdb = ch_sql_string(db);
	if (!qdb || check_version(c) != 0)
		goto out;
	if (asprintf(&sql, "SELECT name FROM system.databases WHERE name = %s FORMAT TabSeparatedRaw", qdb) < 0 ||
	    fetch(c, sql, 1, &dbs) != 0)
		goto out;
	if (!dbs.n) {
		snprintf(what, sizeof what, "created database %s", db);
		if (exec(c, d->obj[0].sql, what, rep) != 0)
			goto out;
	}
	free(sql);
	sql = NULL;
	if (migrate_rollups(c, d, db, qdb, rep) != 0)
		goto out;
	if (asprintf(&sql, "SELECT name, engine, engine_full, comment, storage_policy FROM system.tables "
		"WHERE database = %s FORMAT TabSeparatedRaw", qdb) < 0 || fetch(c, sql, 5, &tables) != 0)
		goto out;
	free(sql);
	sql = NULL;
	if (asprintf(&sql, "SELECT table, name, type FROM system.columns WHERE database = %s "
		"ORDER BY table, position FORMAT TabSeparatedRaw", qdb) < 0 || fetch(c, sql, 3, &cols) != 0)
		goto out;
	for (size_t i = 1; i < d->n; i++) {
		const struct qs_ddl_object *o = &d->obj[i];
		const struct row *t = find_row(&tables, o->name, NULL);
		if (!t) {
			snprintf(what, sizeof what, "created %s %s.%s",
				o->kind == QS_DDL_TABLE ? "table" : o->kind == QS_DDL_MV ? "materialized view" : "view",
				db, o->name);
			if (exec(c, o->sql, what, rep) != 0)
				goto out;
			continue;
		}
		const char *want = kind_engine(o->kind);
		int is_view = strcmp(t->f[1], "View") == 0 || strcmp(t->f[1], "MaterializedView") == 0;
		if (want ? strcmp(t->f[1], want) != 0 : is_view) {
			rep->warnings++;
			log_warn("%s.%s is a %s, but the schema defines a %s there; left as is (drop it and run --init-db)",
				 db, o->name, t->f[1], want ? want : o->engine);
			continue;
		}
		if (o->kind == QS_DDL_TABLE && check_table(c, db, o, t, &cols, p, rep) != 0)
			goto out;
	}
	rc = 0;
out:
	free(sql);
	free(qdb);
	rows_free(&dbs);
	rows_free(&tables);
	rows_free(&cols);
	qs_ddl_free(d);
	return rc;
}

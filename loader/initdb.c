/* initdb.c: schema apply and migration (see initdb.h).
 *
 * The catalogue is read once, as TabSeparatedRaw text (names, types and
 * engine clauses hold no tabs or newlines), into small arrays; then each
 * generated object is checked in dependency order.
 */
#include "loader/initdb.h"

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

/* The expression of " TTL ..." in engine_full (up to " SETTINGS "), copied to out. */
static void ttl_of(const char *engine_full, char *out, size_t len)
{
	const char *t = strstr(engine_full, " TTL ");
	out[0] = 0;
	if (!t)
		return;
	t += 5;
	const char *e = strstr(t, " SETTINGS ");
	size_t n = e ? (size_t)(e - t) : strlen(t);
	snprintf(out, len, "%.*s", (int)n, t);
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
	char ttl[512];
	ttl_of(t->f[2], ttl, sizeof ttl);
	if (o->ttl && !same_text(ttl, o->ttl)) {
		char *clause = NULL;
		if (asprintf(&clause, "MODIFY TTL %s", o->ttl) < 0)
			return -1;
		snprintf(what, sizeof what, "changed the retention of %s.%s: TTL %.200s (was %.200s)", db, o->name, o->ttl,
			ttl[0] ? ttl : "none");
		int r = alter(c, db, o->name, clause, what, rep);
		free(clause);
		if (r != 0)
			return -1;
	} else if (!o->ttl && ttl[0]) {
		snprintf(what, sizeof what, "removed the retention of %s.%s (was TTL %.200s)", db, o->name, ttl);
		if (alter(c, db, o->name, "REMOVE TTL", what, rep) != 0)
			return -1;
	}
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

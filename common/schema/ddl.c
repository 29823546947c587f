/* ddl.c: ClickHouse DDL generated from the schema table (see ddl.h).
 *
 * Layout decisions live here, in one place:
 * - raw tables: MergeTree, partitioned by hour when retention is at most
 *   72 h (by day otherwise) so that TTL with ttl_only_drop_parts drops whole
 *   parts; ORDER BY and skip indexes come from the stream definition;
 * - aggregates: AggregatingMergeTree whose measures are
 *   SimpleAggregateFunction, so rows with equal keys combine on merge and
 *   plain sum()/max() queries are right before merges too;
 * - fullflow_agg: the loader inserts <name>_15m; materialized views regroup
 *   into <name>_30m and <name>_1h, each table with its own TTL; the view
 *   <name> reads each age range from the finest table that holds it;
 * - every MergeTree keeps non_replicated_deduplication_window insert
 *   tokens, so a retried insert is not stored twice;
 * - raw tables cap their merges (RAW_MERGE_MAX_BYTES), see below.
 * Statements are built with open_memstream; any allocation failure makes
 * qs_ddl_build return NULL.
 */
#include "schema/ddl.h"

#include <stdlib.h>
#include <string.h>

#include "ch/chsql.h"

void qs_ddl_defaults(struct qs_ddl_params *p)
{
	memset(p, 0, sizeof *p);
	p->database = "qoestor";
	for (int i = 0; i < QS_STREAM_COUNT; i++)
		p->raw_ttl_hours[i] = 24;
	p->agg_30m_after_days = 7;
	p->agg_1h_after_days = 30;
	p->agg_ttl_days = 0;
	p->dedup_window = 10000;
	p->storage_policy = "";
	p->cold_volume = "cold";
	p->move_after_days = 0;
}

int qs_ddl_check_params(const struct qs_ddl_params *p, char *err, size_t errlen)
{
	if (!p->database || !ch_sql_is_plain_ident(p->database)) {
		snprintf(err, errlen, "database name '%s' is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)",
			p->database ? p->database : "");
		return -1;
	}
	for (int i = 0; i < QS_STREAM_COUNT; i++)
		if (p->raw_ttl_hours[i] > 24u * 366u * 10u) {
			snprintf(err, errlen, "%s raw retention %u h is more than 10 years",
				qs_stream_def((enum qs_stream)i)->name, p->raw_ttl_hours[i]);
			return -1;
		}
	if (p->agg_30m_after_days < 1 || p->agg_1h_after_days <= p->agg_30m_after_days) {
		snprintf(err, errlen, "aggregate regrouping ages must satisfy 1 <= 30-min age (%u d) < 1-h age (%u d)",
			p->agg_30m_after_days, p->agg_1h_after_days);
		return -1;
	}
	if (p->agg_1h_after_days > 3660) {
		snprintf(err, errlen, "1-h regrouping age %u d is more than 10 years", p->agg_1h_after_days);
		return -1;
	}
	if (p->agg_ttl_days != 0 && p->agg_ttl_days <= p->agg_1h_after_days) {
		snprintf(err, errlen, "aggregate retention %u d must be 0 (unlimited) or more than the 1-h age (%u d)",
			p->agg_ttl_days, p->agg_1h_after_days);
		return -1;
	}
	if (p->storage_policy && *p->storage_policy && !ch_sql_is_plain_ident(p->storage_policy)) {
		snprintf(err, errlen, "storage policy '%s' is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)",
			p->storage_policy);
		return -1;
	}
	if (p->move_after_days) {
		if (!p->storage_policy || !*p->storage_policy) {
			snprintf(err, errlen, "moving parts to a cold volume after %u d needs a storage policy "
				"(the server's storage_configuration names it)", p->move_after_days);
			return -1;
		}
		if (!p->cold_volume || !ch_sql_is_plain_ident(p->cold_volume)) {
			snprintf(err, errlen, "cold volume '%s' is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)",
				p->cold_volume ? p->cold_volume : "");
			return -1;
		}
		if (p->move_after_days > 36500) {
			snprintf(err, errlen, "move to the cold volume after %u d is more than 100 years", p->move_after_days);
			return -1;
		}
	}
	if (p->dedup_window > 1000000) {
		snprintf(err, errlen, "deduplication window %u is more than 1000000", p->dedup_window);
		return -1;
	}
	return 0;
}

/* ---- small helpers ---------------------------------------------------------- */

struct sbuf {
	char *p;
	size_t n;
	FILE *f;
};

static int sb_open(struct sbuf *b)
{
	b->p = NULL;
	b->n = 0;
	b->f = open_memstream(&b->p, &b->n);
	return b->f ? 0 : -1;
}

/* Close and hand over the string (NULL on any earlier write error). */
static char *sb_take(struct sbuf *b)
{
	int bad = ferror(b->f);
	if (fclose(b->f) != 0 || bad) {
		free(b->p);
		return NULL;
	}
	return b->p;
}

static char *xstrndup(const char *s, size_t n)
{
	char *r = malloc(n + 1);
	if (r) {
		memcpy(r, s, n);
		r[n] = 0;
	}
	return r;
}

/* Split "Type[ DEFAULT expr][ CODEC(..)]" into its parts (pointers into chtype). */
struct chtype_parts {
	const char *type;
	size_t type_len;
	const char *deflt; /* "DEFAULT expr" or NULL */
	size_t deflt_len;
	const char *codec; /* "CODEC(..)" or NULL */
};

static void split_chtype(const char *chtype, struct chtype_parts *cp)
{
	const char *d = strstr(chtype, " DEFAULT ");
	const char *c = strstr(chtype, " CODEC(");
	const char *end = chtype + strlen(chtype);
	cp->type = chtype;
	cp->type_len = (size_t)((d ? d : c ? c : end) - chtype);
	cp->deflt = d ? d + 1 : NULL;
	cp->deflt_len = d ? (size_t)((c && c > d ? c : end) - (d + 1)) : 0;
	cp->codec = c ? c + 1 : NULL;
}

static int make_column(struct qs_ddl_column *col, const char *name, const char *chtype, const char *doc)
{
	struct chtype_parts cp;
	struct sbuf b;
	split_chtype(chtype, &cp);
	col->name = strdup(name);
	col->type = xstrndup(cp.type, cp.type_len);
	if (sb_open(&b) != 0)
		return -1;
	fprintf(b.f, "`%s` %.*s", name, (int)cp.type_len, cp.type);
	if (cp.deflt)
		fprintf(b.f, " %.*s", (int)cp.deflt_len, cp.deflt);
	fputs(" COMMENT ", b.f);
	ch_sql_write_string(b.f, doc, strlen(doc));
	if (cp.codec)
		fprintf(b.f, " %s", cp.codec);
	col->def = sb_take(&b);
	return (col->name && col->type && col->def) ? 0 : -1;
}

static struct qs_ddl_object *add_object(struct qs_ddl *d, enum qs_ddl_kind kind, const char *name)
{
	struct qs_ddl_object *o = realloc(d->obj, (d->n + 1) * sizeof *o);
	if (!o)
		return NULL;
	d->obj = o;
	o = &d->obj[d->n++];
	memset(o, 0, sizeof *o);
	o->kind = kind;
	o->name = strdup(name);
	return o->name ? o : NULL;
}

/* Write the table body: "(\n    col,\n    ...\n)" */
static void write_columns(FILE *f, const struct qs_ddl_object *o, const char *indexes)
{
	fputs("(\n", f);
	for (size_t i = 0; i < o->ncols; i++)
		fprintf(f, "    %s%s\n", o->cols[i].def,
			(i + 1 < o->ncols || indexes) ? "," : "");
	while (indexes && *indexes) {
		const char *semi = strchr(indexes, ';');
		size_t len = semi ? (size_t)(semi - indexes) : strlen(indexes);
		fprintf(f, "    INDEX %.*s%s\n", (int)len, indexes, semi ? "," : "");
		indexes = semi ? semi + 1 : NULL;
	}
	fputs(")\n", f);
}

/* Raw tables: merges make parts of at most this many bytes. Raw rows live
 * hours (24 h by default) and arrive at up to hundreds of thousands per
 * second as one part per loader INSERT (262,144 fullflow rows: about 11 MiB
 * on disk). Uncapped, ClickHouse keeps merging an hour partition's parts into
 * ever larger ones (up to 150 GiB), rewriting each row about log5(parts) times
 * (5-6 times over an hour at 300,000 rows/s): most of qoestor-db's merge CPU.
 * Capped, a row is rewritten about twice, and an hour partition at 300,000
 * fullflow rows/s (about 46 GB) stays near 200 parts, far below
 * parts_to_delay_insert (1000). Queries of one subscriber read the primary
 * index of every part of the hours they ask for: a few hundred is cheap.
 * docs/PERFORMANCE.md ("qoestor-db under sustained load") has the estimate
 * and what was measured. */
#define RAW_MERGE_MAX_BYTES (256u << 20)

/* The settings ALTER TABLE ... MODIFY SETTING can change (o->settings). */
static char *tunable_settings(const struct qs_ddl_params *p, int raw)
{
	struct sbuf b;
	if (sb_open(&b) != 0)
		return NULL;
	fprintf(b.f, "non_replicated_deduplication_window = %u", p->dedup_window);
	if (raw)
		fprintf(b.f, ", max_bytes_to_merge_at_max_space_in_pool = %u", RAW_MERGE_MAX_BYTES);
	return sb_take(&b);
}

static void write_settings(FILE *f, const struct qs_ddl_params *p, int ttl, const char *tunable)
{
	fprintf(f, "SETTINGS index_granularity = 8192%s, %s", ttl ? ", ttl_only_drop_parts = 1" : "", tunable);
	if (p->storage_policy && *p->storage_policy)
		fprintf(f, ", storage_policy = '%s'", p->storage_policy);
}

static int finish_table(struct qs_ddl_object *o, const struct qs_ddl_params *p, const char *indexes,
	const char *engine, const char *partition, const char *order_by, const char *comment)
{
	struct sbuf b;
	if (!(o->settings = tunable_settings(p, strcmp(engine, "MergeTree") == 0)) || sb_open(&b) != 0)
		return -1;
	fprintf(b.f, "CREATE TABLE IF NOT EXISTS %s.%s\n", p->database, o->name);
	write_columns(b.f, o, indexes);
	fprintf(b.f, "ENGINE = %s\nPARTITION BY %s\nORDER BY (%s)\n", engine, partition, order_by);
	if (o->ttl)
		fprintf(b.f, "TTL %s\n", o->ttl);
	write_settings(b.f, p, o->ttl != NULL, o->settings);
	fputs("\nCOMMENT ", b.f);
	ch_sql_write_string(b.f, comment, strlen(comment));
	o->sql = sb_take(&b);
	o->comment = strdup(comment);
	o->engine = strdup(engine);
	return o->sql && o->comment && o->engine ? 0 : -1;
}

/* The TTL expression of a table whose time column is col: parts move to the
 * cold volume after the configured days (when that comes before deletion),
 * and rows are deleted after n units (0 = never). NULL when there is neither
 * (or on allocation failure: callers tell the two apart with ttl_wanted). */
static int ttl_wanted(const struct qs_ddl_params *p, unsigned hours)
{
	int move = p->move_after_days && (hours == 0 || p->move_after_days * 24u < hours);
	return move || hours;
}

static char *ttl_expr(const struct qs_ddl_params *p, const char *col, const char *unit, unsigned n)
{
	unsigned hours = !strcmp(unit, "Day") ? n * 24u : n;
	struct sbuf b;
	if (!ttl_wanted(p, hours) || sb_open(&b) != 0)
		return NULL;
	int move = p->move_after_days && (hours == 0 || p->move_after_days * 24u < hours);
	if (move)
		fprintf(b.f, "%s + toIntervalDay(%u) TO VOLUME '%s'", col, p->move_after_days, p->cold_volume);
	if (n)
		fprintf(b.f, "%s%s + toInterval%s(%u)", move ? ", " : "", col, unit, n);
	return sb_take(&b);
}

/* ---- raw tables ------------------------------------------------------------- */

static int add_raw(struct qs_ddl *d, const struct qs_ddl_params *p, const struct qs_stream_def *s)
{
	struct qs_ddl_object *o = add_object(d, QS_DDL_TABLE, s->name);
	unsigned hours = p->raw_ttl_hours[s->id];
	char partition[128], comment[256];
	if (!o || !(o->cols = calloc(s->ncols, sizeof *o->cols)))
		return -1;
	for (size_t i = 0; i < s->ncols; i++, o->ncols++)
		if (make_column(&o->cols[i], s->cols[i].name, s->cols[i].chtype, s->cols[i].doc) != 0)
			return -1;
	if (ttl_wanted(p, hours) && !(o->ttl = ttl_expr(p, s->time_col, "Hour", hours)))
		return -1;
	if (hours && hours <= 72)
		snprintf(partition, sizeof partition, "toStartOfHour(%s)", s->time_col);
	else
		snprintf(partition, sizeof partition, "toDate(%s)", s->time_col);
	if (hours)
		snprintf(comment, sizeof comment, "qoestor %s raw log, times in UTC, kept %u h", s->name, hours);
	else
		snprintf(comment, sizeof comment, "qoestor %s raw log, times in UTC, kept forever", s->name);
	return finish_table(o, p, s->indexes, "MergeTree", partition, s->order_by, comment);
}

/* ---- aggregates --------------------------------------------------------------- */

struct level {
	const char *suffix;   /* "_15m" */
	unsigned minutes;     /* bucket length the MV regroups to (0: the loader's) */
	const char *partition;
	unsigned ttl_days;    /* 0 = none */
};

static int add_agg_table(struct qs_ddl *d, const struct qs_ddl_params *p, const struct qs_agg_def *a,
	const struct level *lv)
{
	char name[128], comment[256];
	snprintf(name, sizeof name, "%s%s", a->name, lv->suffix);
	struct qs_ddl_object *o = add_object(d, QS_DDL_TABLE, name);
	if (!o || !(o->cols = calloc(a->ncols, sizeof *o->cols)))
		return -1;
	for (size_t i = 0; i < a->ncols; i++, o->ncols++)
		if (make_column(&o->cols[i], a->cols[i].name, a->cols[i].chtype, a->cols[i].doc) != 0)
			return -1;
	if (ttl_wanted(p, lv->ttl_days * 24u) && !(o->ttl = ttl_expr(p, a->cols[0].name, "Day", lv->ttl_days)))
		return -1;
	char kept[32] = "kept forever";
	if (lv->ttl_days)
		snprintf(kept, sizeof kept, "kept %u d", lv->ttl_days);
	if (lv->minutes)
		snprintf(comment, sizeof comment, "qoestor %s, %u-minute buckets (UTC), %s", a->name,
			lv->minutes, kept);
	else
		snprintf(comment, sizeof comment, "qoestor %s, buckets of the loader's period (UTC), %s",
			a->name, kept);
	char partition[128];
	snprintf(partition, sizeof partition, lv->partition, a->cols[0].name);
	return finish_table(o, p, NULL, "AggregatingMergeTree", partition, a->order_by, comment);
}

static const char *combine_fn(enum qs_agg_kind k)
{
	switch (k) {
	case QS_AGG_MAX: return "max";
	case QS_AGG_MIN: return "min";
	case QS_AGG_BUCKET:
	case QS_AGG_KEY: return NULL;
	default: return "sum";
	}
}

static int add_rollup_mv(struct qs_ddl *d, const struct qs_ddl_params *p, const struct qs_agg_def *a,
	const struct level *lv)
{
	char name[128];
	struct sbuf b;
	snprintf(name, sizeof name, "%s%s_mv", a->name, lv->suffix);
	struct qs_ddl_object *o = add_object(d, QS_DDL_MV, name);
	if (!o || sb_open(&b) != 0)
		return -1;
	fprintf(b.f, "CREATE MATERIALIZED VIEW IF NOT EXISTS %s.%s TO %s.%s%s AS\nSELECT\n", p->database, name,
		p->database, a->name, lv->suffix);
	for (size_t i = 0; i < a->ncols; i++) {
		const struct qs_agg_column *c = &a->cols[i];
		const char *fn = combine_fn(c->kind);
		const char *sep = i + 1 < a->ncols ? "," : "";
		if (c->kind == QS_AGG_BUCKET)
			fprintf(b.f, "    toStartOfInterval(src.%s, toIntervalMinute(%u)) AS %s%s\n", c->name,
				lv->minutes, c->name, sep);
		else if (fn)
			fprintf(b.f, "    %s(src.%s) AS %s%s\n", fn, c->name, c->name, sep);
		else
			fprintf(b.f, "    src.%s AS %s%s\n", c->name, c->name, sep);
	}
	fprintf(b.f, "FROM %s.%s AS src\nGROUP BY", p->database, a->insert_table);
	int first = 1;
	for (size_t i = 0; i < a->ncols; i++) {
		const struct qs_agg_column *c = &a->cols[i];
		if (c->kind == QS_AGG_BUCKET)
			fprintf(b.f, "%s toStartOfInterval(src.%s, toIntervalMinute(%u))", first ? "" : ",",
				c->name, lv->minutes);
		else if (c->kind == QS_AGG_KEY)
			fprintf(b.f, "%s src.%s", first ? "" : ",", c->name);
		else
			continue;
		first = 0;
	}
	o->sql = sb_take(&b);
	return o->sql ? 0 : -1;
}

static void write_select_cols(FILE *f, const struct qs_agg_def *a)
{
	fputs("SELECT ", f);
	for (size_t i = 0; i < a->ncols; i++)
		fprintf(f, "%s%s", a->cols[i].name, i + 1 < a->ncols ? ", " : "");
}

static int add_rollup_view(struct qs_ddl *d, const struct qs_ddl_params *p, const struct qs_agg_def *a)
{
	struct sbuf b;
	const char *t = a->cols[0].name;
	struct qs_ddl_object *o = add_object(d, QS_DDL_VIEW, a->name);
	if (!o || sb_open(&b) != 0)
		return -1;
	fprintf(b.f, "CREATE VIEW IF NOT EXISTS %s.%s AS\n", p->database, a->name);
	write_select_cols(b.f, a);
	fprintf(b.f, "\nFROM %s.%s_15m\nWHERE %s >= toStartOfHour(now() - toIntervalDay(%u))\nUNION ALL\n",
		p->database, a->name, t, p->agg_30m_after_days);
	write_select_cols(b.f, a);
	fprintf(b.f, "\nFROM %s.%s_30m\nWHERE %s < toStartOfHour(now() - toIntervalDay(%u))"
		" AND %s >= toStartOfHour(now() - toIntervalDay(%u))\nUNION ALL\n",
		p->database, a->name, t, p->agg_30m_after_days, t, p->agg_1h_after_days);
	write_select_cols(b.f, a);
	fprintf(b.f, "\nFROM %s.%s_1h\nWHERE %s < toStartOfHour(now() - toIntervalDay(%u))",
		p->database, a->name, t, p->agg_1h_after_days);
	o->sql = sb_take(&b);
	return o->sql ? 0 : -1;
}

static int add_agg(struct qs_ddl *d, const struct qs_ddl_params *p, const struct qs_agg_def *a)
{
	if (!a->rollups) {
		struct level one = { "", 0, "toYYYYMM(%s)", p->agg_ttl_days };
		return add_agg_table(d, p, a, &one);
	}
	/* Each finer table keeps one day more than the view reads from it. */
	struct level lv[3] = {
		{ "_15m", 0, "toDate(%s)", p->agg_30m_after_days + 1 },
		{ "_30m", 30, "toDate(%s)", p->agg_1h_after_days + 1 },
		{ "_1h", 60, "toYYYYMM(%s)", p->agg_ttl_days },
	};
	for (int i = 0; i < 3; i++)
		if (add_agg_table(d, p, a, &lv[i]) != 0)
			return -1;
	for (int i = 1; i < 3; i++)
		if (add_rollup_mv(d, p, a, &lv[i]) != 0)
			return -1;
	return add_rollup_view(d, p, a);
}

/* ---- the whole DDL -------------------------------------------------------------- */

struct qs_ddl *qs_ddl_build(const struct qs_ddl_params *p)
{
	char err[256];
	struct qs_ddl *d;
	struct sbuf b;
	if (qs_ddl_check_params(p, err, sizeof err) != 0 || !(d = calloc(1, sizeof *d)))
		return NULL;
	struct qs_ddl_object *o = add_object(d, QS_DDL_DATABASE, p->database);
	if (!o || sb_open(&b) != 0)
		goto fail;
	fprintf(b.f, "CREATE DATABASE IF NOT EXISTS %s", p->database);
	if (!(o->sql = sb_take(&b)))
		goto fail;
	for (int i = 0; i < QS_STREAM_COUNT; i++)
		if (add_raw(d, p, qs_stream_def((enum qs_stream)i)) != 0)
			goto fail;
	for (int i = 0; i < QS_AGG_TABLES; i++)
		if (add_agg(d, p, qs_agg_def((enum qs_agg)i)) != 0)
			goto fail;
	return d;
fail:
	qs_ddl_free(d);
	return NULL;
}

void qs_ddl_free(struct qs_ddl *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		struct qs_ddl_object *o = &d->obj[i];
		for (size_t j = 0; j < o->ncols; j++) {
			free(o->cols[j].name);
			free(o->cols[j].type);
			free(o->cols[j].def);
		}
		free(o->cols);
		free(o->name);
		free(o->sql);
		free(o->ttl);
		free(o->comment);
		free(o->engine);
		free(o->settings);
	}
	free(d->obj);
	free(d);
}

const struct qs_ddl_object *qs_ddl_find(const struct qs_ddl *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->obj[i].name, name) == 0)
			return &d->obj[i];
	return NULL;
}

int qs_ddl_write_script(const struct qs_ddl *d, FILE *out)
{
	fprintf(out, "-- qoestor.sql: the qoestor database, generated from common/schema/*.def by\n"
		"-- `make sql` (bin/qoestor-schema ddl). Do not edit: change the .def files and\n"
		"-- regenerate. Schema version %d. Apply with\n"
		"--   clickhouse-client -n < sql/qoestor.sql   or   qoestor-loader --init-db\n"
		"-- All times are instants in UTC.\n\n", QS_SCHEMA_VERSION);
	for (size_t i = 0; i < d->n; i++)
		fprintf(out, "%s;\n\n", d->obj[i].sql);
	return ferror(out) ? -1 : 0;
}

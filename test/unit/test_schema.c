/* test_schema.c: unit tests of the schema table, the DDL generator and the
 * SQL quoting: the table is self-consistent (types agree with ClickHouse
 * types, every time column says UTC, aggregate keys are in ORDER BY, sources
 * exist), the manual's names exist, and the generator follows its parameters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ch/ch.h"
#include "ch/chsql.h"
#include "schema/ddl.h"
#include "schema/schema.h"

static const char *base_type(enum qs_type t)
{
	switch (t) {
	case QS_U8: return "UInt8";
	case QS_U16: return "UInt16";
	case QS_U32: return "UInt32";
	case QS_U64: return "UInt64";
	case QS_IPV4: return "IPv4";
	case QS_IPV6: return "IPv6";
	case QS_MAC: return "FixedString(6)";
	case QS_TIME_MS: return "DateTime64(3, 'UTC')";
	case QS_TIME_S: return "DateTime('UTC')";
	case QS_STR: return "String";
	}
	return "?";
}

/* 1 if the comma-separated list holds name as an element. */
static int in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; p && *p;) {
		while (*p == ' ')
			p++;
		size_t len = strcspn(p, ",");
		while (len && p[len - 1] == ' ')
			len--;
		if (len == n && strncmp(p, name, n) == 0)
			return 1;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return 0;
}

static void test_streams_consistent(void **state)
{
	(void)state;
	for (int s = 0; s < QS_STREAM_COUNT; s++) {
		const struct qs_stream_def *d = qs_stream_def((enum qs_stream)s);
		assert_non_null(d);
		assert_int_equal(d->id, s);
		assert_ptr_equal(qs_stream_by_name(d->name), d);
		assert_true(d->ncols > 0 && d->ncols <= QS_MAX_COLS);
		assert_true(qs_column_index(d, d->time_col) >= 0);
		int ntime = 0;
		for (size_t i = 0; i < d->ncols; i++) {
			const struct qs_column *c = &d->cols[i];
			char what[160];
			snprintf(what, sizeof what, "%s.%s", d->name, c->name);
			assert_int_equal(qs_column_index(d, c->name), (int)i); /* names unique */
			const char *ch = c->chtype;
			int nullable = strncmp(ch, "Nullable(", 9) == 0;
			if (nullable != !!(c->flags & QS_F_NULLABLE))
				fail_msg("%s: Nullable type and QS_F_NULLABLE disagree", what);
			if (nullable)
				ch += 9;
			if (c->flags & QS_F_COMPUTED) {
				if (c->ie != 0 || !strstr(c->chtype, " DEFAULT "))
					fail_msg("%s: computed columns have ie 0 and a DEFAULT", what);
				if (strncmp(ch, "Date ", 5) != 0 && strncmp(ch, base_type(c->type), strlen(base_type(c->type))) != 0)
					fail_msg("%s: type %s does not match %s", what, c->chtype, qs_type_name(c->type));
				assert_false(qs_column_stored(c));
				continue;
			}
			assert_true(qs_column_stored(c));
			if (strstr(c->chtype, " DEFAULT "))
				fail_msg("%s: DEFAULT without QS_F_COMPUTED", what);
			if (strncmp(ch, base_type(c->type), strlen(base_type(c->type))) != 0)
				fail_msg("%s: type %s does not match %s", what, c->chtype, qs_type_name(c->type));
			if (strstr(c->chtype, "DateTime") && !strstr(c->chtype, "'UTC'"))
				fail_msg("%s: time column without an explicit UTC zone", what);
			if ((c->flags & QS_F_DERIVED) ? c->ie != 0 : c->ie == 0)
				fail_msg("%s: derived columns and only they have ie 0", what);
			if (c->flags & QS_F_TIME)
				ntime++;
			/* (pen, ie, ielen) identifies one column */
			for (size_t j = 0; j < i; j++) {
				const struct qs_column *o = &d->cols[j];
				if (c->ie && o->pen == c->pen && o->ie == c->ie && o->ielen == c->ielen)
					fail_msg("%s: element %u/%u also feeds %s", what, c->pen, c->ie, o->name);
			}
		}
		assert_int_equal(ntime, 1);
		/* ORDER BY names existing columns */
		char ob[256];
		snprintf(ob, sizeof ob, "%s", d->order_by);
		for (char *save = NULL, *t = strtok_r(ob, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
			if (qs_column_index(d, t) < 0)
				fail_msg("%s ORDER BY: no column %s", d->name, t);
	}
	assert_null(qs_stream_by_name("nosuch"));
	assert_null(qs_stream_by_name(NULL));
	assert_int_equal(qs_stream_def(QS_FULLFLOW)->default_port, 1500);
	assert_int_equal(qs_stream_def(QS_NATFLOW)->default_port, 1503);
}

static void test_manual_names(void **state)
{
	(void)state;
	const struct qs_stream_def *ff = qs_stream_by_name("fullflow");
	static const char *const ff_names[] = { "flow_start_time", "flow_start_date", "source_ipv4",
		"destination_ipv4", "host", "login", "dpi_id", "direction", "subscriber_ip", "post_nat_source_ipv4",
		"source_ipv6", "destination_ipv6", "rtt", "session_id" };
	for (size_t i = 0; i < sizeof ff_names / sizeof ff_names[0]; i++)
		if (qs_column_index(ff, ff_names[i]) < 0)
			fail_msg("fullflow lacks %s", ff_names[i]);
	assert_string_equal(ff->cols[qs_column_index(ff, "source_ipv4")].chtype, "IPv4 CODEC(ZSTD(1))");
	assert_true(qs_column_index(qs_stream_by_name("clickstream"), "time") >= 0);
	/* clickstream 1003 feeds a v4 and a v6 column by length */
	const struct qs_stream_def *cs = qs_stream_by_name("clickstream");
	assert_int_equal(cs->cols[qs_column_index(cs, "source_ipv4")].ielen, 4);
	assert_int_equal(cs->cols[qs_column_index(cs, "source_ipv6")].ielen, 16);
}

static void test_aggs_consistent(void **state)
{
	(void)state;
	for (int a = 0; a < QS_AGG_TABLES; a++) {
		const struct qs_agg_def *d = qs_agg_def((enum qs_agg)a);
		const struct qs_stream_def *s = qs_stream_def(d->stream);
		assert_ptr_equal(qs_agg_by_name(d->name), d);
		assert_int_equal(d->cols[0].kind, QS_AGG_BUCKET);
		for (size_t i = 0; i < d->ncols; i++) {
			const struct qs_agg_column *c = &d->cols[i];
			assert_int_equal(qs_agg_column_index(d, c->name), (int)i);
			int src = qs_column_index(s, c->src);
			if (c->kind == QS_AGG_COUNT) {
				assert_string_equal(c->src, "");
			} else if (src < 0) {
				fail_msg("%s.%s: no source column %s in %s", d->name, c->name, c->src, s->name);
			}
			int key = c->kind == QS_AGG_KEY || c->kind == QS_AGG_BUCKET;
			if (key != in_list(d->order_by, c->name))
				fail_msg("%s.%s: keys and only keys belong in ORDER BY", d->name, c->name);
			if (key && strstr(c->chtype, "AggregateFunction"))
				fail_msg("%s.%s: a key cannot be an aggregate function", d->name, c->name);
			if (!key) {
				const char *fn = c->kind == QS_AGG_MAX ? "SimpleAggregateFunction(max,"
					: c->kind == QS_AGG_MIN ? "SimpleAggregateFunction(min,"
					: "SimpleAggregateFunction(sum,";
				if (strncmp(c->chtype, fn, strlen(fn)) != 0)
					fail_msg("%s.%s: %s measure must be %s", d->name, c->name,
						qs_agg_kind_name(c->kind), fn);
			}
			if (c->kind == QS_AGG_KEY && src >= 0 && !(s->cols[src].flags & QS_F_AGG_KEY))
				fail_msg("%s.%s: source %s lacks QS_F_AGG_KEY", d->name, c->name, c->src);
			if (!key && src >= 0 && !(s->cols[src].flags & (QS_F_AGG_SUM | QS_F_TIME)) &&
			    c->kind != QS_AGG_COUNT_DISTINCT)
				fail_msg("%s.%s: source %s lacks QS_F_AGG_SUM", d->name, c->name, c->src);
		}
	}
	/* NAT bitmask bits of the manual, each used once */
	const struct qs_agg_def *nat = qs_agg_by_name("natflow_agg");
	uint32_t seen = 0;
	for (size_t i = 0; i < nat->ncols; i++) {
		assert_int_equal(seen & nat->cols[i].keep_bit, 0);
		seen |= nat->cols[i].keep_bit;
	}
	assert_int_equal(seen, 0x7ff);
}

static void test_ddl_defaults(void **state)
{
	(void)state;
	struct qs_ddl_params p;
	qs_ddl_defaults(&p);
	struct qs_ddl *d = qs_ddl_build(&p);
	assert_non_null(d);
	assert_int_equal(d->obj[0].kind, QS_DDL_DATABASE);
	assert_string_equal(d->obj[0].sql, "CREATE DATABASE IF NOT EXISTS qoestor");
	const struct qs_ddl_object *ff = qs_ddl_find(d, "fullflow");
	assert_non_null(ff);
	assert_string_equal(ff->ttl, "flow_start_time + toIntervalHour(24)");
	assert_non_null(strstr(ff->sql, "PARTITION BY toStartOfHour(flow_start_time)"));
	assert_non_null(strstr(ff->sql, "non_replicated_deduplication_window = 10000"));
	assert_non_null(strstr(ff->sql, "ttl_only_drop_parts = 1"));
	assert_int_equal(ff->ncols, qs_stream_def(QS_FULLFLOW)->ncols);
	assert_string_equal(ff->cols[qs_column_index(qs_stream_def(QS_FULLFLOW), "rtt")].type, "Nullable(UInt32)");
	/* the comment goes before the codec, quotes escaped */
	const char *def = ff->cols[qs_column_index(qs_stream_def(QS_FULLFLOW), "flow_start_time")].def;
	assert_non_null(strstr(def, "DEFAULT toDateTime(flow_start_ms, 'UTC') COMMENT '"));
	assert_non_null(strstr(def, "manual\\'s column)' CODEC(Delta, ZSTD(1))"));
	/* rollups: tables, MVs, view in dependency order */
	const struct qs_ddl_object *t15 = qs_ddl_find(d, "fullflow_agg_15m"), *mv = qs_ddl_find(d, "fullflow_agg_30m_mv"),
		*v = qs_ddl_find(d, "fullflow_agg");
	assert_non_null(t15);
	assert_non_null(mv);
	assert_non_null(v);
	assert_true(t15 < mv && mv < v);
	assert_int_equal(v->kind, QS_DDL_VIEW);
	assert_string_equal(t15->ttl, "time + toIntervalDay(8)");
	assert_null(qs_ddl_find(d, "fullflow_agg_1h")->ttl);
	assert_non_null(strstr(mv->sql, "toStartOfInterval(src.time, toIntervalMinute(30)) AS time"));
	assert_non_null(strstr(mv->sql, "max(src.rtt_max) AS rtt_max"));
	assert_non_null(strstr(v->sql, "toIntervalDay(7)"));
	assert_string_equal(qs_agg_by_name("fullflow_agg")->insert_table, "fullflow_agg_15m");
	assert_non_null(qs_ddl_find(d, qs_agg_by_name("natflow_agg")->insert_table));
	qs_ddl_free(d);
}

static void test_ddl_params(void **state)
{
	(void)state;
	struct qs_ddl_params p;
	char err[256];
	qs_ddl_defaults(&p);
	p.raw_ttl_hours[QS_FULLFLOW] = 0;
	p.raw_ttl_hours[QS_CLICKSTREAM] = 24 * 30;
	p.agg_ttl_days = 400;
	p.database = "qs_test";
	struct qs_ddl *d = qs_ddl_build(&p);
	assert_non_null(d);
	const struct qs_ddl_object *ff = qs_ddl_find(d, "fullflow"), *cs = qs_ddl_find(d, "clickstream");
	assert_null(ff->ttl);
	assert_null(strstr(ff->sql, "\nTTL "));
	assert_non_null(strstr(ff->sql, "PARTITION BY toDate(flow_start_time)"));
	assert_non_null(strstr(ff->sql, "kept forever"));
	assert_non_null(strstr(ff->sql, "CREATE TABLE IF NOT EXISTS qs_test.fullflow"));
	assert_non_null(strstr(cs->sql, "PARTITION BY toDate(time)"));
	assert_string_equal(cs->ttl, "time + toIntervalHour(720)");
	assert_string_equal(qs_ddl_find(d, "fullflow_agg_1h")->ttl, "time + toIntervalDay(400)");
	assert_string_equal(qs_ddl_find(d, "natflow_agg")->ttl, "time + toIntervalDay(400)");
	qs_ddl_free(d);

	qs_ddl_defaults(&p);
	p.database = "qoestor; DROP DATABASE x";
	assert_int_equal(qs_ddl_check_params(&p, err, sizeof err), -1);
	assert_non_null(strstr(err, "not a plain identifier"));
	assert_null(qs_ddl_build(&p));
	qs_ddl_defaults(&p);
	p.agg_1h_after_days = p.agg_30m_after_days;
	assert_int_equal(qs_ddl_check_params(&p, err, sizeof err), -1);
	qs_ddl_defaults(&p);
	p.agg_ttl_days = 10;
	assert_int_equal(qs_ddl_check_params(&p, err, sizeof err), -1);
	assert_non_null(strstr(err, "retention"));
}

static void test_ddl_script(void **state)
{
	(void)state;
	struct qs_ddl_params p;
	qs_ddl_defaults(&p);
	struct qs_ddl *d = qs_ddl_build(&p);
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_int_equal(qs_ddl_write_script(d, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "CREATE DATABASE IF NOT EXISTS qoestor;\n\n"));
	size_t creates = 0;
	for (const char *p2 = buf; (p2 = strstr(p2, "\nCREATE ")); p2++)
		creates++;
	assert_int_equal(creates, d->n);
	free(buf);
	qs_ddl_free(d);
}

static void test_sql_quoting(void **state)
{
	(void)state;
	char *s = ch_sql_string("it's a \\ test\n\t\x01");
	assert_string_equal(s, "'it\\'s a \\\\ test\\n\\t\\x01'");
	free(s);
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_int_equal(ch_sql_write_string(f, "a\0b", 3), 0);
	fclose(f);
	assert_string_equal(buf, "'a\\0b'");
	free(buf);
	s = ch_sql_string("\xd0\xbf\xd1\x80\xd0\xb8");  /* UTF-8 passes through */
	assert_string_equal(s, "'\xd0\xbf\xd1\x80\xd0\xb8'");
	free(s);
	s = ch_sql_ident("we`ird");
	assert_string_equal(s, "`we\\`ird`");
	free(s);
	assert_true(ch_sql_is_plain_ident("qoestor"));
	assert_true(ch_sql_is_plain_ident("_a1"));
	assert_false(ch_sql_is_plain_ident("1a"));
	assert_false(ch_sql_is_plain_ident("a-b"));
	assert_false(ch_sql_is_plain_ident(""));
	assert_false(ch_sql_is_plain_ident(NULL));
}

static void test_url_and_classes(void **state)
{
	(void)state;
	char *u = ch_url_escape("SELECT 1 & 'a=b'");
	assert_string_equal(u, "SELECT%201%20%26%20%27a%3Db%27");
	free(u);
	assert_int_equal(ch_classify_exception(252), CH_RETRY);      /* TOO_MANY_PARTS */
	assert_int_equal(ch_classify_exception(159), CH_RETRY);      /* TIMEOUT_EXCEEDED */
	assert_int_equal(ch_classify_exception(241), CH_RETRY);      /* MEMORY_LIMIT_EXCEEDED */
	assert_int_equal(ch_classify_exception(62), CH_PERMANENT);   /* SYNTAX_ERROR */
	assert_int_equal(ch_classify_exception(16), CH_PERMANENT);   /* NO_SUCH_COLUMN_IN_TABLE */
	assert_int_equal(ch_classify_exception(60), CH_PERMANENT);   /* UNKNOWN_TABLE */
	assert_int_equal(ch_classify_exception(27), CH_PERMANENT);   /* CANNOT_PARSE_INPUT_ASSERTION_FAILED */
	assert_int_equal(ch_classify_exception(516), CH_PERMANENT);  /* AUTHENTICATION_FAILED */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_streams_consistent),
		cmocka_unit_test(test_manual_names),
		cmocka_unit_test(test_aggs_consistent),
		cmocka_unit_test(test_ddl_defaults),
		cmocka_unit_test(test_ddl_params),
		cmocka_unit_test(test_ddl_script),
		cmocka_unit_test(test_sql_quoting),
		cmocka_unit_test(test_url_and_classes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

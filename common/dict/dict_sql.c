/* dict_sql.c: the DDL and TabSeparated writers declared in dict_sql.h. */
#include "dict/dict_sql.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ch/chsql.h"

const char *dict_sql_type(const struct dict_def *def, size_t col)
{
	const struct dict_column *c = &def->cols[col];
	int key = (c->flags & DC_KEY) != 0;
	int hashed_key = key && (def->layout == DL_HASHED || def->layout == DL_HASHED_HIER);
	switch (c->type) {
	case DT_U16: return hashed_key ? "UInt64" : "UInt16";
	case DT_U32: return hashed_key ? "UInt64" : "UInt32";
	case DT_U64: return "UInt64";
	case DT_BOOL: return "UInt8";
	case DT_IP: return key && def->layout == DL_IP_EXACT ? "IPv6" : "String";
	default: return "String";
	}
}

static int put(FILE *out, const char *s)
{
	return fputs(s, out) < 0 ? -1 : 0;
}

/* db.`<name><mid><suffix>` */
static int put_name(FILE *out, const struct dict_def *def, const char *db, const char *mid,
		    const char *suffix)
{
	char name[256];
	snprintf(name, sizeof name, "%s%s%s", def->name, mid, suffix ? suffix : "");
	int rc = ch_sql_write_ident(out, db);
	rc |= put(out, ".");
	rc |= ch_sql_write_ident(out, name);
	return rc;
}

static int put_comment(FILE *out, const char *text, const char *token)
{
	char c[1024];
	snprintf(c, sizeof c, "%s %s", text, token);
	int rc = put(out, " COMMENT ");
	rc |= ch_sql_write_string(out, c, strlen(c));
	return rc;
}

/* CREATE TABLE without the IF NOT EXISTS and the comment when token is NULL. */
static int write_table(const struct dict_def *def, const char *db, const char *suffix,
		       const char *token, FILE *out)
{
	int rc = put(out, token ? "CREATE TABLE IF NOT EXISTS " : "CREATE TABLE ");
	rc |= put_name(out, def, db, "_data", suffix);
	rc |= put(out, " (");
	for (size_t c = 0; c < def->ncols; c++) {
		rc |= put(out, c ? ", " : "");
		rc |= ch_sql_write_ident(out, def->cols[c].name);
		rc |= fprintf(out, " %s", dict_sql_type(def, c)) < 0;
	}
	rc |= put(out, ") ENGINE = MergeTree ORDER BY tuple()");
	if (token) {
		char text[512];
		snprintf(text, sizeof text, "rows of dictionary %s, written by qoestor-dict", def->name);
		rc |= put_comment(out, text, token);
	}
	return rc ? -1 : 0;
}

/* The source: the backing table; for IP_TRIE a query that sorts the rows by address
 * and prefix length, the order IP_TRIE sorts them in (it loads sorted input ~2x faster). */
static int write_source(const struct dict_def *def, const char *db, FILE *out)
{
	char table[256];
	snprintf(table, sizeof table, "%s_data", def->name);
	int rc = put(out, " SOURCE(CLICKHOUSE(");
	if (def->layout != DL_IP_TRIE) {
		rc |= put(out, "TABLE ");
		rc |= ch_sql_write_string(out, table, strlen(table));
		rc |= put(out, " DB ");
		rc |= ch_sql_write_string(out, db, strlen(db));
		rc |= put(out, "))");
		return rc ? -1 : 0;
	}
	char *q = NULL;
	size_t qlen = 0;
	FILE *m = open_memstream(&q, &qlen);
	if (!m)
		return -1;
	int qrc = put(m, "SELECT ");
	qrc |= dict_sql_columns(def, m);
	qrc |= put(m, " FROM ");
	qrc |= put_name(m, def, db, "_data", NULL);
	qrc |= put(m, " ORDER BY toIPv6(splitByChar('/', ");
	qrc |= ch_sql_write_ident(m, def->cols[0].name);
	qrc |= put(m, ")[1]), toUInt8OrZero(splitByChar('/', ");
	qrc |= ch_sql_write_ident(m, def->cols[0].name);
	qrc |= put(m, ")[2])");
	if (fclose(m) != 0 || qrc) {
		free(q);
		return -1;
	}
	rc |= put(out, "QUERY ");
	rc |= ch_sql_write_string(out, q, qlen);
	rc |= put(out, "))");
	free(q);
	return rc ? -1 : 0;
}

static const char *layout_params(const struct dict_def *def)
{
	/* loads in 2 threads: 1M subscribers in ~0.9 s instead of 1.6 s */
	return def->layout == DL_IP_EXACT ? "SHARDS 2" : "";
}

static int write_dictionary(const struct dict_def *def, const char *db, const char *suffix,
			    const char *token, FILE *out)
{
	int rc = put(out, token ? "CREATE DICTIONARY IF NOT EXISTS " : "CREATE DICTIONARY ");
	rc |= put_name(out, def, db, "", suffix);
	rc |= put(out, " (");
	for (size_t c = 0; c < def->ncols; c++) {
		const struct dict_column *col = &def->cols[c];
		const char *type = dict_sql_type(def, c);
		rc |= put(out, c ? ", " : "");
		rc |= ch_sql_write_ident(out, col->name);
		rc |= fprintf(out, " %s", type) < 0;
		if (!(col->flags & DC_KEY))
			rc |= put(out, strcmp(type, "String") == 0 ? " DEFAULT ''" : " DEFAULT 0");
		if (col->flags & DC_PARENT)
			rc |= put(out, " HIERARCHICAL");
	}
	rc |= put(out, ") PRIMARY KEY ");
	int first = 1;
	for (size_t c = 0; c < def->ncols; c++) {
		if (!(def->cols[c].flags & DC_KEY))
			continue;
		rc |= put(out, first ? "" : ", ");
		rc |= ch_sql_write_ident(out, def->cols[c].name);
		first = 0;
	}
	rc |= write_source(def, db, out);
	rc |= fprintf(out, " LAYOUT(%s(%s)) LIFETIME(0)", dict_layout_name(def->layout),
		      layout_params(def)) < 0;
	if (token)
		rc |= put_comment(out, def->doc, token);
	return rc ? -1 : 0;
}

void dict_sql_token(const struct dict_def *def, const char *db, char token[DICT_SQL_TOKEN_LEN])
{
	char *buf = NULL;
	size_t len = 0;
	uint64_t h = 0;
	FILE *m = open_memstream(&buf, &len);
	if (m) {
		int rc = write_table(def, db, NULL, NULL, m);
		rc |= put(m, ";\n");
		rc |= write_dictionary(def, db, NULL, NULL, m);
		if (fclose(m) == 0 && rc == 0)
			h = dict_hash_bytes(buf, len);
	}
	free(buf);
	snprintf(token, DICT_SQL_TOKEN_LEN, "[structure %016llx]", (unsigned long long)h);
}

int dict_sql_create_table(const struct dict_def *def, const char *db, const char *suffix, FILE *out)
{
	char token[DICT_SQL_TOKEN_LEN];
	dict_sql_token(def, db, token);
	return write_table(def, db, suffix, token, out);
}

int dict_sql_create_dictionary(const struct dict_def *def, const char *db, const char *suffix,
			       FILE *out)
{
	char token[DICT_SQL_TOKEN_LEN];
	dict_sql_token(def, db, token);
	return write_dictionary(def, db, suffix, token, out);
}

int dict_sql_ddl(const struct dict_def *def, const char *db, FILE *out)
{
	int rc = put(out, "CREATE DATABASE IF NOT EXISTS ");
	rc |= ch_sql_write_ident(out, db);
	rc |= put(out, ";\n");
	rc |= dict_sql_create_table(def, db, NULL, out);
	rc |= put(out, ";\n");
	rc |= dict_sql_create_dictionary(def, db, NULL, out);
	rc |= put(out, ";\n");
	return rc ? -1 : 0;
}

int dict_sql_columns(const struct dict_def *def, FILE *out)
{
	int rc = 0;
	for (size_t c = 0; c < def->ncols; c++) {
		rc |= put(out, c ? ", " : "");
		rc |= ch_sql_write_ident(out, def->cols[c].name);
	}
	return rc ? -1 : 0;
}

/* A growing output buffer. */
struct obuf {
	char *p;
	size_t len, cap;
	int oom;
};

static void reserve(struct obuf *b, size_t more)
{
	if (b->oom || b->len + more <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->oom = 1;
		return;
	}
	b->p = p;
	b->cap = cap;
}

/* TabSeparated escaping: \\ \t \n \r (validated text has no other control bytes). The
 * common case, nothing to escape, is one memcpy. */
static void tsv_value(struct obuf *b, const char *s)
{
	size_t n = strlen(s);
	reserve(b, 2 * n + 1);
	if (b->oom)
		return;
	if (strcspn(s, "\\\t\n\r") == n) {
		memcpy(b->p + b->len, s, n);
		b->len += n;
		return;
	}
	for (; *s; s++) {
		const char *e = NULL;
		switch (*s) {
		case '\\': e = "\\\\"; break;
		case '\t': e = "\\t"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		}
		if (e) {
			b->p[b->len++] = e[0];
			b->p[b->len++] = e[1];
		} else {
			b->p[b->len++] = *s;
		}
	}
}

char *dict_sql_tsv(const struct dict_data *d, size_t *len)
{
	const struct dict_def *def = dict_data_def(d);
	size_t rows = dict_data_rows(d);
	struct obuf b = { NULL, 0, 0, 0 };
	char buf[DICT_IP_STRLEN];
	reserve(&b, rows * def->ncols * 8 + 1);
	for (size_t r = 0; r < rows && !b.oom; r++)
		for (size_t c = 0; c < def->ncols; c++) {
			tsv_value(&b, dict_data_text(d, r, c, buf));
			reserve(&b, 1);
			if (b.oom)
				break;
			b.p[b.len++] = c + 1 < def->ncols ? '\t' : '\n';
		}
	reserve(&b, 1); /* never return NULL for no rows */
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

/* dict_sql.c: the DDL and TabSeparated writers declared in dict_sql.h. */
#include "dict/dict_sql.h"

#include <string.h>

#include "ch/chsql.h"

const char *dict_sql_type(const struct dict_def *def, size_t col)
{
	const struct dict_column *c = &def->cols[col];
	int hashed_key = (c->flags & DC_KEY) &&
			 (def->layout == DL_HASHED || def->layout == DL_HASHED_HIER);
	switch (c->type) {
	case DT_U16: return hashed_key ? "UInt64" : "UInt16";
	case DT_U32: return hashed_key ? "UInt64" : "UInt32";
	case DT_U64: return "UInt64";
	case DT_BOOL: return "UInt8";
	default: return "String";
	}
}

static int put(FILE *out, const char *s)
{
	return fputs(s, out) < 0 ? -1 : 0;
}

int dict_sql_create_table(const struct dict_def *def, const char *db, const char *suffix, FILE *out)
{
	char table[256];
	snprintf(table, sizeof table, "%s_data%s", def->name, suffix ? suffix : "");
	int rc = put(out, "CREATE TABLE IF NOT EXISTS ");
	rc |= ch_sql_write_ident(out, db);
	rc |= put(out, ".");
	rc |= ch_sql_write_ident(out, table);
	rc |= put(out, " (");
	for (size_t c = 0; c < def->ncols; c++) {
		rc |= put(out, c ? ", " : "");
		rc |= ch_sql_write_ident(out, def->cols[c].name);
		rc |= fprintf(out, " %s", dict_sql_type(def, c)) < 0;
	}
	rc |= put(out, ") ENGINE = MergeTree ORDER BY tuple() COMMENT ");
	char comment[512];
	snprintf(comment, sizeof comment, "rows of dictionary %s, written by qoestor-dict", def->name);
	rc |= ch_sql_write_string(out, comment, strlen(comment));
	return rc ? -1 : 0;
}

int dict_sql_create_dictionary(const struct dict_def *def, const char *db, FILE *out)
{
	int rc = put(out, "CREATE DICTIONARY IF NOT EXISTS ");
	rc |= ch_sql_write_ident(out, db);
	rc |= put(out, ".");
	rc |= ch_sql_write_ident(out, def->name);
	rc |= put(out, " (");
	for (size_t c = 0; c < def->ncols; c++) {
		const struct dict_column *col = &def->cols[c];
		rc |= put(out, c ? ", " : "");
		rc |= ch_sql_write_ident(out, col->name);
		rc |= fprintf(out, " %s", dict_sql_type(def, c)) < 0;
		if (!(col->flags & DC_KEY))
			rc |= put(out, strcmp(dict_sql_type(def, c), "String") == 0 ? " DEFAULT ''" : " DEFAULT 0");
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
	char table[256];
	snprintf(table, sizeof table, "%s_data", def->name);
	rc |= put(out, " SOURCE(CLICKHOUSE(TABLE ");
	rc |= ch_sql_write_string(out, table, strlen(table));
	rc |= put(out, " DB ");
	rc |= ch_sql_write_string(out, db, strlen(db));
	rc |= fprintf(out, ")) LAYOUT(%s()) LIFETIME(0) COMMENT ", dict_layout_name(def->layout)) < 0;
	rc |= ch_sql_write_string(out, def->doc, strlen(def->doc));
	return rc ? -1 : 0;
}

int dict_sql_ddl(const struct dict_def *def, const char *db, FILE *out)
{
	int rc = put(out, "CREATE DATABASE IF NOT EXISTS ");
	rc |= ch_sql_write_ident(out, db);
	rc |= put(out, ";\n");
	rc |= dict_sql_create_table(def, db, NULL, out);
	rc |= put(out, ";\n");
	rc |= dict_sql_create_dictionary(def, db, out);
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

/* TabSeparated escaping: \\ \t \n \r \0 (validated text has no other control bytes). */
static int tsv_value(FILE *out, const char *s)
{
	for (; *s; s++) {
		int rc;
		switch (*s) {
		case '\\': rc = fputs("\\\\", out); break;
		case '\t': rc = fputs("\\t", out); break;
		case '\n': rc = fputs("\\n", out); break;
		case '\r': rc = fputs("\\r", out); break;
		default: rc = fputc(*s, out); break;
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

int dict_sql_tsv(const struct dict_data *d, FILE *out)
{
	const struct dict_def *def = dict_data_def(d);
	size_t rows = dict_data_rows(d);
	char buf[DICT_IP_STRLEN];
	for (size_t r = 0; r < rows; r++)
		for (size_t c = 0; c < def->ncols; c++) {
			if (tsv_value(out, dict_data_text(d, r, c, buf)) != 0 ||
			    fputc(c + 1 < def->ncols ? '\t' : '\n', out) < 0)
				return -1;
		}
	return 0;
}

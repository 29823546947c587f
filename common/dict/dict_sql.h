/* dict_sql.h: the ClickHouse side of the dictionaries as text: DDL and TabSeparated data.
 *
 * Each dictionary <name> of dict_table.h becomes, in database db (normally qoestor):
 *   - a backing table db.<name>_data (MergeTree) holding the rows, and
 *   - a dictionary db.<name> with SOURCE(CLICKHOUSE(TABLE '<name>_data' DB db)),
 *     LIFETIME(0) (reloaded only when qoestor-dict replaces the data or on SYSTEM
 *     RELOAD DICTIONARIES) and the layout of the table: IP_TRIE for address keys,
 *     HASHED for a numeric key (HIERARCHICAL parent for switches_dic), and
 *     COMPLEX_KEY_HASHED for text or composite keys.
 * Addresses, CIDRs and MACs are String columns holding the canonical text. Numeric keys
 * of HASHED dictionaries are UInt64 (ClickHouse requires it; dictGet converts).
 * Pure functions writing to a FILE; they return 0, or -1 when writing failed.
 */
#ifndef QOESTOR_DICT_SQL_H
#define QOESTOR_DICT_SQL_H

#include <stdio.h>

#include "dict/dict_parse.h"
#include "dict/dict_table.h"

/* The statements that create def's table and dictionary if they do not exist (and the
 * database), each ending with ";\n". */
int dict_sql_ddl(const struct dict_def *def, const char *db, FILE *out);

/* One statement, no ';': create db.<name>_data if missing / db.<name> if missing. */
int dict_sql_create_table(const struct dict_def *def, const char *db, const char *suffix, FILE *out);
int dict_sql_create_dictionary(const struct dict_def *def, const char *db, FILE *out);

/* The column list "`a`, `b`" of the backing table, for ch_insert. */
int dict_sql_columns(const struct dict_def *def, FILE *out);

/* d's rows as TabSeparated (escaped), in the backing table's column order. */
int dict_sql_tsv(const struct dict_data *d, FILE *out);

/* ClickHouse type of a column in the backing table and in the dictionary. */
const char *dict_sql_type(const struct dict_def *def, size_t col);

#endif

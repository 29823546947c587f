/* dict_sql.h: the ClickHouse side of the dictionaries as text: DDL and TabSeparated data.
 *
 * Each dictionary <name> of dict_table.h becomes, in database db (normally qoestor):
 *   - a backing table db.<name>_data (MergeTree) holding the rows, and
 *   - a dictionary db.<name> reading that table, LIFETIME(0) (reloaded only when
 *     qoestor-dict replaces the data or on SYSTEM RELOAD DICTIONARIES), in the layout of
 *     the table: IP_TRIE for prefixes (its source query sorts the rows the way IP_TRIE
 *     sorts them, which halves its load time), COMPLEX_KEY_HASHED_ARRAY on an IPv6 key
 *     for exact addresses (IPv4 stored v4-mapped), HASHED for a numeric key
 *     (HIERARCHICAL parent for switches_dic) and COMPLEX_KEY_HASHED for text or
 *     composite keys.
 * Other addresses, CIDRs and MACs are String columns holding the canonical text. Numeric
 * keys of HASHED dictionaries are UInt64 (ClickHouse requires it; dictGet converts).
 *
 * Both objects carry a structure token "[structure <16 hex digits>]" in their COMMENT: a
 * hash of their generated DDL. dict_ch.h compares it with what ClickHouse holds and
 * recreates a table or dictionary whose structure changed.
 * Pure functions; the writers return 0, or -1 when writing failed.
 */
#ifndef QOESTOR_DICT_SQL_H
#define QOESTOR_DICT_SQL_H

#include <stddef.h>
#include <stdio.h>

#include "dict/dict_parse.h"
#include "dict/dict_table.h"

/* "[structure 0123456789abcdef]" plus NUL */
#define DICT_SQL_TOKEN_LEN 30

/* The structure token of def's table and dictionary in db. */
void dict_sql_token(const struct dict_def *def, const char *db, char token[DICT_SQL_TOKEN_LEN]);

/* The statements that create def's table and dictionary if they do not exist (and the
 * database), each ending with ";\n". */
int dict_sql_ddl(const struct dict_def *def, const char *db, FILE *out);

/* One statement, no ';': CREATE TABLE IF NOT EXISTS db.<name>_data<suffix> /
 * CREATE DICTIONARY IF NOT EXISTS db.<name><suffix> (always reading db.<name>_data).
 * suffix may be NULL. */
int dict_sql_create_table(const struct dict_def *def, const char *db, const char *suffix, FILE *out);
int dict_sql_create_dictionary(const struct dict_def *def, const char *db, const char *suffix,
			       FILE *out);

/* The column list "`a`, `b`" of the backing table, for ch_insert. */
int dict_sql_columns(const struct dict_def *def, FILE *out);

/* d's rows as TabSeparated (escaped), in the backing table's column order, in a new
 * buffer of *len bytes (the caller frees it). NULL when memory runs out. */
char *dict_sql_tsv(const struct dict_data *d, size_t *len);

/* ClickHouse type of a column in the backing table and in the dictionary. */
const char *dict_sql_type(const struct dict_def *def, size_t col);

#endif

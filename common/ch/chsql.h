/* chsql.h: quoting of text for ClickHouse SQL, without any I/O.
 *
 * Every piece of text that goes into SQL and is not a fixed part of the
 * program (a login, a host, a table name from the command line, a column
 * comment) passes through one of these. Pure functions; thread-safe.
 */
#ifndef QOESTOR_CH_CHSQL_H
#define QOESTOR_CH_CHSQL_H

#include <stddef.h>
#include <stdio.h>

/* Write s (len bytes, may hold any byte including NUL) to out as a ClickHouse
 * string literal with its single quotes: backslash, quote, and control bytes
 * escaped (\\ \' \n \t \r \0 \xHH); bytes >= 0x80 unchanged. Returns 0, or -1
 * when writing to out failed. */
int ch_sql_write_string(FILE *out, const char *s, size_t len);

/* Same as an identifier in backquotes (`name`), for names of databases,
 * tables and columns that are not plain [A-Za-z_][A-Za-z0-9_]*. */
int ch_sql_write_ident(FILE *out, const char *s);

/* Newly allocated quoted literal of the NUL-terminated s ("'it\'s'"); the
 * caller frees it. NULL only when out of memory. */
char *ch_sql_string(const char *s);

/* Newly allocated quoted identifier; the caller frees it. NULL when out of memory. */
char *ch_sql_ident(const char *s);

/* 1 if s is a plain identifier ([A-Za-z_][A-Za-z0-9_]*, at most 200 bytes), else 0. */
int ch_sql_is_plain_ident(const char *s);

/* Write n bytes as a value of ClickHouse's TabSeparated format: backspace,
 * form feed, CR, LF, tab, NUL, quote and backslash escaped, other bytes as
 * they are. */
void ch_tsv_write_escaped(FILE *out, const void *p, size_t n);

#endif

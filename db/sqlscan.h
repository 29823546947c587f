/* sqlscan.h: the little SQL lexing qoestor-db needs, without parsing SQL.
 *
 * qoestor-db hands every statement to the ClickHouse engine unchanged, with
 * one exception: a large INSERT body is written to a temporary file and the
 * statement rewritten to read it with FROM INFILE, which ClickHouse parses in
 * parallel (about 5x faster than inline data on 2 cores). sqlscan recognises
 * the one statement shape where that rewrite is safe, and finds a trailing
 * FORMAT clause (for the response's Content-Type). It skips comments, quoted
 * identifiers and string literals. Pure functions, thread-safe.
 */
#ifndef QOESTOR_DB_SQLSCAN_H
#define QOESTOR_DB_SQLSCAN_H

#include <stddef.h>

/* If sql is exactly `INSERT INTO [TABLE] name [(columns)] FORMAT fmt` (any
 * case, comments and whitespace allowed, no string literals, no SETTINGS,
 * SELECT, VALUES, FUNCTION, INFILE, no semicolon), return the offset of the
 * FORMAT keyword; otherwise -1. */
long sqlscan_insert_format_pos(const char *sql, size_t len);

/* Copy the name of the statement's last top-level `FORMAT name` into out
 * (NUL-terminated, truncated to outlen) and return 1; 0 when there is none. */
int sqlscan_output_format(const char *sql, size_t len, char *out, size_t outlen);

/* 1 if the first keyword of sql is INSERT (case-insensitive). */
int sqlscan_is_insert(const char *sql, size_t len);

#endif

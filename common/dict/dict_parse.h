/* dict_parse.h: reading and validating one dictionary file into an immutable struct dict_data.
 *
 * The file format (docs/DICTIONARIES.md): UTF-8 text, one entry per line, columns in the
 * order of dicts.def separated by one tab. Accepted and ignored: a UTF-8 byte order mark,
 * CRLF line ends, blank lines, lines whose first non-blank character is '#', spaces around
 * a value, and empty columns after the last one (trailing tabs). Everything else that is
 * not right is an error: wrong column count (with a hint when the line has spaces), bad
 * number, IP, CIDR (host bits set too), MAC, text that is not UTF-8 or holds control
 * characters, duplicate key, an upstream id that does not exist or loops.
 *
 * Each error is one line "FILE:LINE:COLUMN: message (value 'x')" (LINE and COLUMN count
 * from 1; COLUMN in bytes, the BOM not counted). Parsing goes on after an error so that
 * one run lists them all; with any error there is no result: nothing partial.
 *
 * Memory: the result holds a copy of the file plus 8 bytes per value and 20 bytes per
 * IP value; the parse needs 4 more bytes per value transiently. Files of 4 GiB or more
 * are refused. Nothing here logs; nothing blocks except dict_load_file's read.
 * A struct dict_data is immutable once returned: any number of threads may read it.
 */
#ifndef QOESTOR_DICT_PARSE_H
#define QOESTOR_DICT_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dict/dict_table.h"
#include "dict/dict_value.h"

/* Error messages collected by a parse; owned by the caller. */
struct dict_errors {
	char **msg;      /* the first nkept messages, each malloc'ed */
	size_t nkept;
	size_t total;    /* how many errors there were, kept or not */
	size_t max_kept; /* set by dict_errors_init */
};

void dict_errors_init(struct dict_errors *e, size_t max_kept);
void dict_errors_free(struct dict_errors *e);
/* Add one message (printf-style); counts it even when no longer kept. */
void dict_errors_add(struct dict_errors *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print the kept messages, one a line, and "... and N more errors" when some were cut. */
void dict_errors_print(const struct dict_errors *e, FILE *f);

struct dict_data;

/* Parse and validate buf[0..len) as dictionary def; name is what messages call the file.
 * Returns 0 and *out (free with dict_data_free), or -1 with *out NULL and the errors
 * added to errs (out of memory is reported as an error too). */
int dict_parse(const struct dict_def *def, const char *name, const char *buf, size_t len,
	       struct dict_data **out, struct dict_errors *errs);

/* Read path and dict_parse it. A file that cannot be read is an error naming it. */
int dict_load_file(const struct dict_def *def, const char *path, struct dict_data **out,
		   struct dict_errors *errs);

/* A valid dictionary with no entries (what a missing file means). NULL without memory. */
struct dict_data *dict_data_empty(const struct dict_def *def);

void dict_data_free(struct dict_data *d);

const struct dict_def *dict_data_def(const struct dict_data *d);
size_t dict_data_rows(const struct dict_data *d);
/* A 64-bit hash of the file's bytes as read (to tell contents apart). */
uint64_t dict_data_hash(const struct dict_data *d);
uint64_t dict_hash_bytes(const void *p, size_t n);

/* Line of the file a row came from. */
uint32_t dict_data_line(const struct dict_data *d, size_t row);

/* Accessors; row < rows, col < def->ncols and of the right type, else the result is
 * undefined. Absent optional columns read as 0, "" or no MAC. */
uint64_t dict_data_uint(const struct dict_data *d, size_t row, size_t col); /* U16..U64, BOOL */
const char *dict_data_str(const struct dict_data *d, size_t row, size_t col); /* STR, HOST: NUL-terminated */
const struct dict_ip *dict_data_ip(const struct dict_data *d, size_t row, size_t col); /* IP, CIDR */
int dict_data_mac(const struct dict_data *d, size_t row, size_t col, uint64_t *mac); /* 1 if present */

/* The canonical text of a value (what ClickHouse receives): numbers in decimal, IP as
 * "10.0.0.1", CIDR as "10.0.0.0/8", MAC as "00:11:..." or "", text as is. Returns the
 * text, either buf (of DICT_IP_STRLEN bytes) or a pointer into d. */
const char *dict_data_text(const struct dict_data *d, size_t row, size_t col, char *buf);

#endif

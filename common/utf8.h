/* utf8.h: UTF-8 validation shared by the parsers of text that reaches YAML,
 * CSV and ClickHouse (config values, dictionary cells). Strict RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF.
 */
#ifndef QS_UTF8_H
#define QS_UTF8_H

#include <stddef.h>

/* Length (1-4) of the valid UTF-8 character at u, reading at most n (>= 1)
 * bytes; 0 if the bytes there are not one. */
size_t qs_utf8_char(const unsigned char *u, size_t n);

/* Offset of the first byte of s[0..n) that does not start a valid UTF-8
 * character; n if all of s is valid. */
size_t qs_utf8_check(const char *s, size_t n);

#endif

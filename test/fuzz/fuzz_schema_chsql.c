/* fuzz_schema_chsql.c: libFuzzer target for the SQL string quoting of
 * common/ch/chsql.c, the guard between untrusted text (logins, hosts, URLs
 * from the DPI) and SQL. For any bytes, the literal must start and end with
 * a quote, contain no unescaped quote or control byte inside, and decode
 * back (ClickHouse's escape rules) to exactly the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ch/chsql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	if (!f)
		return 0;
	if (ch_sql_write_string(f, (const char *)data, size) != 0)
		abort();
	fclose(f);
	if (n < 2 || buf[0] != '\'' || buf[n - 1] != '\'')
		abort();
	uint8_t *out = malloc(size + 1);
	size_t o = 0;
	for (size_t i = 1; i + 1 < n; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c == '\'' || c < 0x20 || c == 0x7f)
			abort(); /* bare quote or control byte inside the literal */
		if (c != '\\') {
			out[o++] = c;
			continue;
		}
		if (++i + 1 >= n)
			abort(); /* escape swallowing the closing quote */
		switch (buf[i]) {
		case 'n': out[o++] = '\n'; break;
		case 't': out[o++] = '\t'; break;
		case 'r': out[o++] = '\r'; break;
		case '0': out[o++] = 0; break;
		case '\\': out[o++] = '\\'; break;
		case '\'': out[o++] = '\''; break;
		case 'x': {
			if (i + 3 >= n)
				abort();
			int h = hexval(buf[i + 1]), l = hexval(buf[i + 2]);
			if (h < 0 || l < 0)
				abort();
			out[o++] = (uint8_t)(h * 16 + l);
			i += 2;
			break;
		}
		default:
			abort();
		}
		if (o > size)
			abort();
	}
	if (o != size || (size && memcmp(out, data, size) != 0))
		abort();
	free(out);
	free(buf);
	return 0;
}

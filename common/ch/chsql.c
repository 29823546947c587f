/* chsql.c: ClickHouse SQL quoting (see chsql.h). open_memstream builds the
 * allocated variants so there is one escaping loop per kind.
 */
#include "ch/chsql.h"

#include <stdlib.h>
#include <string.h>

static int write_escaped(FILE *out, const char *s, size_t len, char quote)
{
	static const char hex[] = "0123456789ABCDEF";
	if (fputc(quote, out) == EOF)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int r;
		if (c == (unsigned char)quote || c == '\\')
			r = fprintf(out, "\\%c", c);
		else if (c == '\n')
			r = fputs("\\n", out);
		else if (c == '\t')
			r = fputs("\\t", out);
		else if (c == '\r')
			r = fputs("\\r", out);
		else if (c == 0)
			r = fputs("\\0", out);
		else if (c < 0x20 || c == 0x7f)
			r = fprintf(out, "\\x%c%c", hex[c >> 4], hex[c & 15]);
		else
			r = fputc(c, out);
		if (r < 0)
			return -1;
	}
	return fputc(quote, out) == EOF ? -1 : 0;
}

int ch_sql_write_string(FILE *out, const char *s, size_t len)
{
	return write_escaped(out, s, len, '\'');
}

int ch_sql_write_ident(FILE *out, const char *s)
{
	return write_escaped(out, s, strlen(s), '`');
}

static char *quoted(const char *s, char quote)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	if (!f)
		return NULL;
	int r = write_escaped(f, s, strlen(s), quote);
	if (fclose(f) != 0 || r != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

char *ch_sql_string(const char *s)
{
	return quoted(s, '\'');
}

char *ch_sql_ident(const char *s)
{
	return quoted(s, '`');
}

int ch_sql_is_plain_ident(const char *s)
{
	size_t n = 0;
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
			return 0;
	}
	return n <= 200;
}

void ch_tsv_write_escaped(FILE *o, const void *data, size_t n)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < n; i++) {
		switch (p[i]) {
		case '\b': fputs("\\b", o); break;
		case '\f': fputs("\\f", o); break;
		case '\r': fputs("\\r", o); break;
		case '\n': fputs("\\n", o); break;
		case '\t': fputs("\\t", o); break;
		case '\0': fputs("\\0", o); break;
		case '\'': fputs("\\'", o); break;
		case '\\': fputs("\\\\", o); break;
		default: putc(p[i], o);
		}
	}
}

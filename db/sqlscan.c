/* sqlscan.c: see sqlscan.h. A tokenizer that knows words, quotes, comments. */
#include "sqlscan.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

enum tok { T_END, T_WORD, T_STRING, T_QIDENT, T_PUNCT };

struct lex {
	const char *s;
	size_t len, pos;
	size_t tstart, tlen; /* current token */
	char punct;
};

static int is_word_start(char c) { return isalpha((unsigned char)c) || c == '_'; }
static int is_word_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

static enum tok next(struct lex *l)
{
	for (;;) {
		while (l->pos < l->len && isspace((unsigned char)l->s[l->pos]))
			l->pos++;
		if (l->pos + 1 < l->len && l->s[l->pos] == '-' && l->s[l->pos + 1] == '-') {
			while (l->pos < l->len && l->s[l->pos] != '\n')
				l->pos++;
			continue;
		}
		if (l->pos + 1 < l->len && l->s[l->pos] == '/' && l->s[l->pos + 1] == '*') {
			l->pos += 2;
			while (l->pos + 1 < l->len && !(l->s[l->pos] == '*' && l->s[l->pos + 1] == '/'))
				l->pos++;
			l->pos = l->pos + 2 <= l->len ? l->pos + 2 : l->len;
			continue;
		}
		break;
	}
	if (l->pos >= l->len)
		return T_END;
	l->tstart = l->pos;
	char c = l->s[l->pos];
	if (is_word_start(c)) {
		while (l->pos < l->len && is_word_char(l->s[l->pos]))
			l->pos++;
		l->tlen = l->pos - l->tstart;
		return T_WORD;
	}
	if (c == '\'' || c == '"' || c == '`') {
		l->pos++;
		while (l->pos < l->len && l->s[l->pos] != c) {
			if (l->s[l->pos] == '\\' && l->pos + 1 < l->len)
				l->pos++;
			l->pos++;
		}
		if (l->pos < l->len)
			l->pos++;
		l->tlen = l->pos - l->tstart;
		return c == '\'' ? T_STRING : T_QIDENT;
	}
	l->pos++;
	l->tlen = 1;
	l->punct = c;
	return T_PUNCT;
}

static int word_is(const struct lex *l, const char *w)
{
	size_t n = strlen(w);
	return l->tlen == n && strncasecmp(l->s + l->tstart, w, n) == 0;
}

int sqlscan_is_insert(const char *sql, size_t len)
{
	struct lex l = {.s = sql, .len = len};
	return next(&l) == T_WORD && word_is(&l, "INSERT");
}

long sqlscan_insert_format_pos(const char *sql, size_t len)
{
	struct lex l = {.s = sql, .len = len};
	if (next(&l) != T_WORD || !word_is(&l, "INSERT"))
		return -1;
	if (next(&l) != T_WORD || !word_is(&l, "INTO"))
		return -1;
	long fmt_pos = -1;
	int after_format = 0, words_after_format = 0;
	enum tok t;
	while ((t = next(&l)) != T_END) {
		if (t == T_STRING)
			return -1;
		if (t == T_PUNCT && l.punct == ';')
			return -1;
		if (t != T_WORD)
			continue;
		if (after_format) {
			words_after_format++;
			continue;
		}
		static const char *const forbidden[] = {"SETTINGS", "SELECT", "VALUES", "FUNCTION",
							"INFILE", "WITH", "FROM", NULL};
		for (int i = 0; forbidden[i]; i++)
			if (word_is(&l, forbidden[i]))
				return -1;
		if (word_is(&l, "FORMAT")) {
			fmt_pos = (long)l.tstart;
			after_format = 1;
		}
	}
	return (fmt_pos >= 0 && words_after_format == 1) ? fmt_pos : -1;
}

int sqlscan_output_format(const char *sql, size_t len, char *out, size_t outlen)
{
	struct lex l = {.s = sql, .len = len};
	int depth = 0, found = 0, want_name = 0;
	enum tok t;
	while ((t = next(&l)) != T_END) {
		if (t == T_PUNCT) {
			if (l.punct == '(')
				depth++;
			else if (l.punct == ')' && depth > 0)
				depth--;
			want_name = 0;
			continue;
		}
		if (t != T_WORD) {
			want_name = 0;
			continue;
		}
		if (want_name) {
			size_t n = l.tlen < outlen - 1 ? l.tlen : outlen - 1;
			memcpy(out, l.s + l.tstart, n);
			out[n] = 0;
			found = 1;
			want_name = 0;
			continue;
		}
		if (depth == 0 && word_is(&l, "FORMAT"))
			want_name = 1;
	}
	return found;
}

/* cfg_env.c: the vendor's .env into a config (see cfg_env.h). */
#include "config/cfg_env.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg_table.h"

struct imp {
	struct qs_config *c;
	struct cfg_errs e;
	struct qs_env_stats *st;
	const char *listen;
};

/* A key of a section (other than receivers) whose .env name is key. */
static const struct cfg_key *global_key(const char *key, size_t *section_off)
{
	for (size_t i = 1; i < cfg_root.nkeys; i++) {
		const struct cfg_section *s = cfg_root.keys[i].sub;
		for (size_t j = 0; j < s->nkeys; j++)
			if (s->keys[j].env && strcmp(s->keys[j].env, key) == 0) {
				*section_off = cfg_root.keys[i].off;
				return &s->keys[j];
			}
	}
	return NULL;
}

/* IPFIX_<STREAM>_<FIELD>: the stream and the receiver key, or NULL. */
static const struct cfg_key *receiver_key(const char *key, enum qs_stream *s)
{
	if (strncmp(key, "IPFIX_", 6))
		return NULL;
	for (unsigned i = 0; i < QS_STREAM_COUNT; i++) {
		char up[32];
		snprintf(up, sizeof up, "%s", qs_stream_def((enum qs_stream)i)->name);
		for (char *p = up; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		size_t n = strlen(up);
		if (strncmp(key + 6, up, n) || key[6 + n] != '_')
			continue;
		for (size_t j = 0; j < cfg_receiver_section.nkeys; j++) {
			const struct cfg_key *k = &cfg_receiver_section.keys[j];
			char env[96];
			if (!k->env)
				continue;
			snprintf(env, sizeof env, k->env, up);
			if (strcmp(env, key) == 0) {
				*s = (enum qs_stream)i;
				return k;
			}
		}
	}
	return NULL;
}

/* The DPI entry with id, created on first use. */
static struct qs_cfg_dpi *dpi_entry(struct imp *m, unsigned id, unsigned line)
{
	struct qs_config *c = m->c;
	for (unsigned i = 0; i < c->ndpis; i++)
		if (c->dpis[i].id == id)
			return &c->dpis[i];
	if (c->ndpis >= QS_CFG_MAX_DPIS)
		return NULL;
	struct qs_cfg_dpi *d = &c->dpis[c->ndpis++];
	memset(d, 0, sizeof *d);
	cfg_defaults(&cfg_dpi_section, d);
	d->id = id;
	d->loc = (struct qs_cfg_loc){ line, 1, 1 };
	if (m->listen)
		snprintf(d->listen, sizeof d->listen, "%s", m->listen);
	return d;
}

/* Key part "NAME" or "NAME[N]" of text (up to '=' or the end). -1 if malformed. */
static int split_key(const char *t, size_t n, char *name, size_t namelen, long *index)
{
	size_t i = 0;
	*index = -1;
	while (i < n && (isupper((unsigned char)t[i]) || isdigit((unsigned char)t[i]) || t[i] == '_'))
		i++;
	if (i == 0 || i >= namelen || !isupper((unsigned char)t[0]))
		return -1;
	memcpy(name, t, i);
	name[i] = 0;
	if (i < n && t[i] == '[') {
		char *end;
		long x = strtol(t + i + 1, &end, 10);
		if (end == t + i + 1 || *end != ']' || x < 0 || x > 999)
			return -1;
		*index = x;
		i = (size_t)(end - t) + 1;
	}
	return i == n ? 0 : -1;
}

/* The value after '=': quotes removed, or unquoted up to " #". -1 if it does
 * not fit out (a cut value would be a wrong one). */
static int unquote(const char *v, char *out, size_t outlen)
{
	size_t n = strlen(v);
	if (n >= 2 && (v[0] == '"' || v[0] == '\'')) {
		const char *end = strchr(v + 1, v[0]);
		if (end)
			n = (size_t)(end - v - 1);
		else
			n -= 1;
		v++;
	} else {
		const char *hash = strstr(v, " #");
		if (hash)
			n = (size_t)(hash - v);
		while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
	}
	if (n >= outlen)
		return -1;
	memcpy(out, v, n);
	out[n] = 0;
	return 0;
}

static void line_of(struct imp *m, const char *t, unsigned lineno)
{
	while (*t == ' ' || *t == '\t')
		t++;
	if (!*t)
		return;
	char name[96], value[1024];
	long idx;
	int commented = 0;
	if (*t == '#') {
		commented = 1;
		t++;
		while (*t == ' ')
			t++;
	}
	if (strncmp(t, "export ", 7) == 0)
		t += 7;
	const char *eq = strchr(t, '=');
	size_t kn = eq ? (size_t)(eq - t) : strlen(t);
	while (kn && (t[kn - 1] == ' ' || t[kn - 1] == '\t'))
		kn--;
	if (split_key(t, kn, name, sizeof name, &idx)) {
		if (!commented)
			cfg_err(&m->e, lineno, 1, "not a KEY=VALUE line: '%.80s'; ignored", t);
		if (!commented)
			m->st->problems++;
		return;
	}
	enum qs_stream s = QS_FULLFLOW;
	size_t soff = 0;
	const struct cfg_key *rk = receiver_key(name, &s);
	const struct cfg_key *gk = rk ? NULL : global_key(name, &soff);
	if (commented) {
		if (eq && (rk || gk))
			m->st->commented++;
		return; /* prose, or a default shown commented out */
	}
	if (!rk && !gk) {
		cfg_err(&m->e, lineno, 1, "%s: not a key qoestor knows; not converted", name);
		m->st->problems++;
		return;
	}
	if (rk && idx < 0) {
		cfg_err(&m->e, lineno, 1, "%s: needs a DPI index (%s[N]=...); not converted", name, name);
		m->st->problems++;
		return;
	}
	if (gk && idx >= 0) {
		cfg_err(&m->e, lineno, 1, "%s[%ld]: this key has no index; not converted", name, idx);
		m->st->problems++;
		return;
	}
	if (!eq) {
		char def[256] = "";
		if (gk)
			cfg_format(gk, (const char *)m->c + soff, def, sizeof def);
		cfg_err(&m->e, lineno, 1, "%s has no '=' and no value (the lines after it list the choices); "
			"kept the default%s%s", name, def[0] ? " " : "", def);
		m->st->problems++;
		return;
	}
	if (unquote(eq + 1, value, sizeof value)) {
		cfg_err(&m->e, lineno, (unsigned)(eq - t) + 2, "%s: value longer than %zu bytes; not converted", name,
			sizeof value - 1);
		m->st->problems++;
		return;
	}
	char err[512];
	if (gk) {
		if (cfg_set(gk, (char *)m->c + soff, value, err, sizeof err)) {
			cfg_err(&m->e, lineno, (unsigned)(eq - t) + 2, "%s: %s; not converted", name, err);
			m->st->problems++;
			return;
		}
		m->st->converted++;
		return;
	}
	struct qs_cfg_dpi *d = dpi_entry(m, (unsigned)idx, lineno);
	if (!d) {
		cfg_err(&m->e, lineno, 1, "%s[%ld]: more than %d DPIs; not converted", name, idx, QS_CFG_MAX_DPIS);
		m->st->problems++;
		return;
	}
	struct qs_cfg_receiver *r = &d->recv[s];
	if (rk->type == CT_EXPORTS)
		cfg_clear_list(rk, r);
	if (cfg_set(rk, r, value, err, sizeof err)) {
		cfg_err(&m->e, lineno, (unsigned)(eq - t) + 2, "%s[%ld]: %s; not converted", name, idx, err);
		m->st->problems++;
		return;
	}
	if (!r->loc.present)
		r->loc = (struct qs_cfg_loc){ lineno, 1, 1 };
	m->st->converted++;
}

static int by_id(const void *a, const void *b)
{
	unsigned x = ((const struct qs_cfg_dpi *)a)->id, y = ((const struct qs_cfg_dpi *)b)->id;
	return x < y ? -1 : x > y;
}

int qs_config_import_env(const char *name, const char *buf, size_t len, const char *listen, struct qs_config *c,
			 struct qs_env_stats *st, char *report, size_t replen)
{
	struct qs_env_stats dummy;
	if (!st)
		st = &dummy;
	memset(st, 0, sizeof *st);
	qs_config_defaults(c);
	c->ndpis = 0;
	snprintf(c->file, sizeof c->file, "%s", name);
	if (replen)
		report[0] = 0;
	struct imp m = { c, { report, replen, 0, name }, st, listen };
	unsigned lineno = 0;
	size_t i = 0;
	while (i < len) {
		size_t n = 0;
		while (i + n < len && buf[i + n] != '\n')
			n++;
		char line[2048];
		size_t k = n < sizeof line - 1 ? n : sizeof line - 1;
		memcpy(line, buf + i, k);
		line[k] = 0;
		if (k && line[k - 1] == '\r')
			line[--k] = 0;
		lineno++;
		if (k < n - (n && buf[i + n - 1] == '\r')) {
			cfg_err(&m.e, lineno, 1, "line longer than %zu bytes; ignored", sizeof line - 1);
			st->problems++;
		} else if (strlen(line) != k) {
			cfg_err(&m.e, lineno, 1, "a NUL byte in the line; ignored");
			st->problems++;
		} else {
			line_of(&m, line, lineno);
		}
		i += n + 1;
	}
	qsort(c->dpis, c->ndpis, sizeof c->dpis[0], by_id);
	/* Check what came out; problems there are the import's too. */
	char chk[4096] = "";
	int n = qs_config_check(c, chk, sizeof chk);
	if (n) {
		size_t u = strlen(report);
		snprintf(report + u, replen > u ? replen - u : 0, "%s", chk);
		st->problems += (unsigned)n;
	}
	return (int)st->problems;
}

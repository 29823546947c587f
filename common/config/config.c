/* config.c: loading and checking qoestor.yaml (contract in config.h): the
 * defaults, the file, the computed defaults and the checks across keys.
 */
#include "config/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/cfg_table.h"
#include "config/cfg_yaml.h"

#define MAX_FILE (1u << 20)

void qs_config_defaults(struct qs_config *c)
{
	memset(c, 0, sizeof *c);
	cfg_defaults(&cfg_root, c);
	/* The manual's default .env: DPI 0, the four streams, tcp 1500..1503. */
	struct qs_cfg_dpi *d = &c->dpis[0];
	cfg_defaults(&cfg_dpi_section, d);
	d->id = 0;
	d->loc.present = 1;
	static const enum qs_stream four[] = { QS_FULLFLOW, QS_CLICKSTREAM, QS_GTPFLOW, QS_NATFLOW };
	for (size_t i = 0; i < 4; i++)
		d->recv[four[i]].loc.present = 1;
	c->ndpis = 1;
	for (unsigned s = 0; s < QS_STREAM_COUNT; s++)
		cfg_receiver_computed(d, (enum qs_stream)s, &d->recv[s]);
}

int qs_config_load_buf(const char *name, const char *buf, size_t len, struct qs_config *c, char *err, size_t errlen)
{
	qs_config_defaults(c);
	snprintf(c->file, sizeof c->file, "%s", name);
	if (errlen)
		err[0] = 0;
	struct cfg_errs e = { err, errlen, 0, name };
	if (len > MAX_FILE) {
		cfg_err(&e, 0, 0, "larger than %u bytes: not a qoestor.yaml", MAX_FILE);
		return e.n;
	}
	cfg_yaml_parse(buf, len, c, &e);
	return e.n + qs_config_check(c, err, errlen);
}

int qs_config_load(const char *path, struct qs_config *c, char *err, size_t errlen)
{
	int use_stdin = !path || strcmp(path, "-") == 0;
	const char *name = use_stdin ? "<stdin>" : path;
	FILE *f = use_stdin ? stdin : fopen(path, "r");
	if (!f) {
		int e = errno;
		qs_config_defaults(c);
		snprintf(err, errlen, "%s: cannot open the configuration file: %s (give --config FILE; the "
			 "reference is /etc/qoestor/qoestor.yaml)\n", name, strerror(e));
		return 1;
	}
	char *buf = malloc(MAX_FILE + 1);
	size_t n = buf ? fread(buf, 1, MAX_FILE + 1, f) : 0;
	int rerr = buf ? ferror(f) : ENOMEM;
	if (!use_stdin)
		fclose(f);
	if (!buf || rerr) {
		free(buf);
		qs_config_defaults(c);
		snprintf(err, errlen, "%s: cannot read the configuration file\n", name);
		return 1;
	}
	int r = qs_config_load_buf(name, buf, n, c, err, errlen);
	free(buf);
	return r;
}

/* "receivers[i].stream" into out. */
static void rname(const struct qs_config *c, const struct qs_cfg_receiver *r, char *out, size_t len)
{
	for (unsigned i = 0; i < c->ndpis; i++)
		for (unsigned s = 0; s < QS_STREAM_COUNT; s++)
			if (&c->dpis[i].recv[s] == r) {
				snprintf(out, len, "receivers[%u].%s", i, qs_stream_def((enum qs_stream)s)->name);
				return;
			}
	snprintf(out, len, "?");
}

static int wildcard(const char *a)
{
	return strcmp(a, "0.0.0.0") == 0 || strcmp(a, "::") == 0;
}

/* Two listening sockets collide: same port and transport, and the same
 * address or either one is a wildcard. */
static int collide(const struct qs_cfg_receiver *a, const struct qs_cfg_receiver *b)
{
	return a->port == b->port && a->transport == b->transport &&
	       (strcmp(a->listen, b->listen) == 0 || wildcard(a->listen) || wildcard(b->listen));
}

/* Where a key is, or its section when it came from a default. */
static void at(const struct qs_config *c, const void *addr, const struct qs_cfg_loc *sec, unsigned *l, unsigned *col)
{
	if (!cfg_where(c, addr, l, col) && sec) {
		*l = sec->line;
		*col = sec->col;
	}
}

static void check_file(const struct qs_config *c, struct cfg_errs *e, const char *path, const char *key,
		       const struct qs_cfg_loc *sec)
{
	if (!*path || access(path, R_OK) == 0)
		return;
	int er = errno;
	unsigned l, col;
	at(c, path, sec, &l, &col);
	cfg_err(e, l, col, "%s: cannot read %s: %s", key, path, strerror(er));
}

static void check_agg_keys(const struct qs_config *c, struct cfg_errs *e, const char *list, enum qs_agg id,
			   const char *key)
{
	const struct qs_agg_def *d = qs_agg_def(id);
	const char *s = list;
	while (*s) {
		size_t n = strcspn(s, ", ");
		int found = 0;
		for (size_t i = 0; i < d->ncols && n; i++)
			if (d->cols[i].kind == QS_AGG_KEY && strlen(d->cols[i].name) == n && !strncmp(d->cols[i].name, s, n))
				found = 1;
		if (n && !found) {
			char keys[600] = "";
			for (size_t i = 0; i < d->ncols; i++)
				if (d->cols[i].kind == QS_AGG_KEY) {
					size_t u = strlen(keys);
					snprintf(keys + u, sizeof keys - u, "%s%s", u ? ", " : "", d->cols[i].name);
				}
			unsigned l, col;
			at(c, list, &c->loader.loc, &l, &col);
			cfg_err(e, l, col, "loader.%s: '%.*s' is not a key of %s (keys: %s)", key, (int)n, s, d->name, keys);
		}
		s += n;
		while (*s == ',' || *s == ' ')
			s++;
	}
}

int qs_config_check(struct qs_config *c, char *err, size_t errlen)
{
	struct cfg_errs e = { err, errlen, 0, c->file[0] ? c->file : "<config>" };
	unsigned l, col;
	char a[64], b[64];
	/* DPIs: an id each, unique; computed defaults of their receivers. */
	for (unsigned i = 0; i < c->ndpis; i++) {
		struct qs_cfg_dpi *d = &c->dpis[i];
		if (d->id == QS_CFG_UNSET) {
			cfg_err(&e, d->loc.line, d->loc.col, "receivers[%u]: missing 'dpi: N' (the DPI's id, 0..999)", i);
			continue;
		}
		for (unsigned j = 0; j < i; j++)
			if (c->dpis[j].id == d->id) {
				at(c, &d->id, &d->loc, &l, &col);
				cfg_err(&e, l, col, "receivers[%u].dpi: DPI %u is already configured by receivers[%u] (line %u)",
					i, d->id, j, c->dpis[j].loc.line);
			}
		for (unsigned s = 0; s < QS_STREAM_COUNT; s++) {
			cfg_receiver_computed(d, (enum qs_stream)s, &d->recv[s]);
			if (d->recv[s].port > 65535) {
				cfg_err(&e, d->recv[s].loc.line, d->recv[s].loc.col,
					"receivers[%u].%s: the default port %u is over 65535; give 'port:'", i,
					qs_stream_def((enum qs_stream)s)->name, d->recv[s].port);
			}
		}
	}
	/* Ports: no two configured receivers on one socket. */
	for (unsigned i = 0; i < c->ndpis; i++)
		for (unsigned s = 0; s < QS_STREAM_COUNT; s++) {
			const struct qs_cfg_receiver *r = &c->dpis[i].recv[s];
			if (!r->loc.present)
				continue;
			int reported = 0;
			for (unsigned j = 0; j <= i && !reported; j++)
				for (unsigned t = 0; t < QS_STREAM_COUNT && !reported; t++) {
					const struct qs_cfg_receiver *o = &c->dpis[j].recv[t];
					if (o == r)
						break;
					if (!o->loc.present || !collide(r, o))
						continue;
					rname(c, r, a, sizeof a);
					rname(c, o, b, sizeof b);
					at(c, &r->port, &r->loc, &l, &col);
					unsigned ol, oc;
					at(c, &o->port, &o->loc, &ol, &oc);
					cfg_err(&e, l, col, "%s.port: %s port %u on %s is already taken by %s (line %u); "
						"every receiver needs its own port", a, r->transport ? "udp" : "tcp", r->port,
						r->listen, b, ol);
					reported = 1;
				}
			if (c->db.enabled && r->transport == QS_CFG_TCP) {
				const char *colon = strrchr(c->db.listen, ':');
				if (colon && (unsigned)atoi(colon + 1) == r->port) {
					rname(c, r, a, sizeof a);
					at(c, &r->port, &r->loc, &l, &col);
					cfg_err(&e, l, col, "%s.port: tcp %u is qoestor-db's port (db.listen %s)", a, r->port,
						c->db.listen);
				}
			}
		}
	/* Loader. */
	struct qs_cfg_loader *ld = &c->loader;
	if (ld->nclickhouse == 0) {
		at(c, ld->clickhouse, &ld->loc, &l, &col);
		cfg_err(&e, l, col, "loader.clickhouse: at least one URL is needed (e.g. http://127.0.0.1:8123)");
	}
	if (ld->password[0] && ld->password_file[0]) {
		at(c, ld->password_file, &ld->loc, &l, &col);
		cfg_err(&e, l, col, "loader: give password or password_file, not both");
	}
	check_file(c, &e, ld->password_file, "loader.password_file", &ld->loc);
	if (15 % ld->fullflow_agg_period) {
		at(c, &ld->fullflow_agg_period, &ld->loc, &l, &col);
		cfg_err(&e, l, col, "loader.fullflow_agg_period: %u does not divide 15 minutes (use 1, 3, 5 or 15)",
			ld->fullflow_agg_period);
	}
	if (1440 % ld->clickstream_agg_period) {
		at(c, &ld->clickstream_agg_period, &ld->loc, &l, &col);
		cfg_err(&e, l, col, "loader.clickstream_agg_period: %u does not divide a day (1440 minutes)",
			ld->clickstream_agg_period);
	}
	switch (ld->nat_agg_log_group_time_interval) {
	case 1: case 5: case 10: case 15: case 30: case 60: break;
	default:
		at(c, &ld->nat_agg_log_group_time_interval, &ld->loc, &l, &col);
		cfg_err(&e, l, col, "loader.nat_agg_log_group_time_interval: %u is not 1, 5, 10, 15, 30 or 60",
			ld->nat_agg_log_group_time_interval);
	}
	check_agg_keys(c, &e, ld->fullflow_agg_keys, QS_FULLFLOW_AGG, "fullflow_agg_keys");
	check_agg_keys(c, &e, ld->clickstream_agg_keys, QS_CLICKSTREAM_AGG, "clickstream_agg_keys");
	/* qoestor-db. */
	if (c->db.password[0] && c->db.password_file[0]) {
		at(c, c->db.password_file, &c->db.loc, &l, &col);
		cfg_err(&e, l, col, "db: give password or password_file, not both");
	}
	if (c->db.enabled) {
		check_file(c, &e, c->db.password_file, "db.password_file", &c->db.loc);
		check_file(c, &e, c->db.libchdb, "db.libchdb", &c->db.loc);
	}
	if (c->loader.metrics[0] && c->db.enabled && strcmp(c->loader.metrics, c->db.listen) == 0) {
		at(c, c->loader.metrics, &ld->loc, &l, &col);
		cfg_err(&e, l, col, "loader.metrics: %s is qoestor-db's address (db.listen)", c->loader.metrics);
	}
	return e.n;
}

static void notice(char *out, size_t outlen, int *n, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void notice(char *out, size_t outlen, int *n, const char *fmt, ...)
{
	size_t u = strlen(out);
	(*n)++;
	if (u + 2 >= outlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out + u, outlen - u - 1, fmt, ap);
	va_end(ap);
	u = strlen(out);
	out[u] = '\n';
	out[u + 1] = 0;
}

int qs_config_notices(const struct qs_config *c, char *out, size_t outlen)
{
	int n = 0;
	if (outlen)
		out[0] = 0;
	for (unsigned i = 0; i < c->ndpis; i++)
		for (unsigned s = 0; s < QS_STREAM_COUNT; s++) {
			const struct qs_cfg_receiver *r = &c->dpis[i].recv[s];
			const char *sn = qs_stream_def((enum qs_stream)s)->name;
			if (!r->loc.present)
				continue;
			if (r->transport == QS_CFG_UDP)
				notice(out, outlen, &n, "receivers[%u].%s: udp loses IPFIX messages larger than the MTU; "
				       "prefer tcp", i, sn);
			if (r->port < 1024)
				notice(out, outlen, &n, "receivers[%u].%s: port %u is privileged; qoestor-config apply "
				       "grants CAP_NET_BIND_SERVICE to that unit only", i, sn, r->port);
		}
	if (c->loader.password[0])
		notice(out, outlen, &n, "loader.password: visible in the process list; prefer loader.password_file");
	if (c->db.enabled && !c->db.password[0] && !c->db.password_file[0] &&
	    strncmp(c->db.listen, "127.", 4) != 0 && strncmp(c->db.listen, "[::1]", 5) != 0)
		notice(out, outlen, &n, "db.listen %s is reachable from other hosts and there is no password: "
		       "set db.password_file", c->db.listen);
	static const struct { size_t en, url; const char *dict, *key; } al[] = {
		{ offsetof(struct qs_cfg_dicts, urlcats_autoload), offsetof(struct qs_cfg_dicts, urlcats_url),
		  "urlcats_dic", "urlcats_url" },
		{ offsetof(struct qs_cfg_dicts, asnum_autoload), offsetof(struct qs_cfg_dicts, asnum_url), "asnum_dic",
		  "asnum_url" },
		{ offsetof(struct qs_cfg_dicts, vchannel_name_autoload), offsetof(struct qs_cfg_dicts, vchannel_name_url),
		  "vchannel_name_dic", "vchannel_name_url" },
	};
	for (size_t i = 0; i < sizeof al / sizeof al[0]; i++) {
		int en;
		memcpy(&en, (const char *)&c->dicts + al[i].en, sizeof en);
		if (en && !((const char *)&c->dicts + al[i].url)[0])
			notice(out, outlen, &n, "dictionaries: autoload of %s is on but dictionaries.%s is empty: "
			       "nothing is downloaded", al[i].dict, al[i].key);
	}
	return n;
}

const struct qs_cfg_receiver *qs_config_receiver(const struct qs_config *c, unsigned dpi, enum qs_stream s)
{
	if ((unsigned)s >= QS_STREAM_COUNT)
		return NULL;
	for (unsigned i = 0; i < c->ndpis; i++)
		if (c->dpis[i].id == dpi && c->dpis[i].recv[s].loc.present)
			return &c->dpis[i].recv[s];
	return NULL;
}

int qs_config_parse_instance(const char *inst, enum qs_stream *s, unsigned *dpi)
{
	const char *dash = strrchr(inst, '-');
	char name[32];
	if (!dash || (size_t)(dash - inst) >= sizeof name || !dash[1] || strlen(dash + 1) > 3)
		return -1;
	memcpy(name, inst, (size_t)(dash - inst));
	name[dash - inst] = 0;
	const struct qs_stream_def *d = qs_stream_by_name(name);
	if (!d)
		return -1;
	for (const char *p = dash + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return -1;
	*s = d->id;
	*dpi = (unsigned)atoi(dash + 1);
	return 0;
}

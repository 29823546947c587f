/* dict_parse.c: the dictionary file parser and validator declared in dict_parse.h.
 *
 * One pass over the lines splits and types the values (writing NULs into a private
 * copy of the file so text values are C strings); a second pass over the rows checks
 * keys for duplicates and the hierarchy (DC_PARENT) for missing parents and loops.
 */
#include "dict/dict_parse.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dict/dict_map.h"

#define MAX_COLS 16                   /* more than any dictionary has */
#define MAX_FILE ((size_t)UINT32_MAX) /* offsets are 32-bit */
#define MAC_PRESENT (1ULL << 63)

union dval {
	uint64_t u; /* numbers, bool; MAC with MAC_PRESENT */
	struct {
		uint32_t off, len;
	} s;        /* text: d->buf + off */
	uint32_t ip; /* index into d->ips */
};

struct dict_data {
	const struct dict_def *def;
	char *buf; /* the file, NULs written after each text value */
	size_t nrows, cap;
	union dval *vals; /* nrows * ncols */
	uint32_t *lines;
	struct dict_ip *ips;
	size_t nips, capips;
	uint64_t hash; /* of the file as read */
};

struct parse {
	struct dict_data *d;
	const char *name;
	struct dict_errors *errs;
	uint32_t *colpos; /* nrows * ncols: 1-based byte column of each value */
	int oom;
};

/* ---- errors ------------------------------------------------------------------- */

void dict_errors_init(struct dict_errors *e, size_t max_kept)
{
	memset(e, 0, sizeof *e);
	e->max_kept = max_kept;
}

void dict_errors_free(struct dict_errors *e)
{
	for (size_t i = 0; i < e->nkept; i++)
		free(e->msg[i]);
	free(e->msg);
	e->msg = NULL;
	e->nkept = e->total = 0;
}

static void errors_vadd(struct dict_errors *e, const char *fmt, va_list ap)
{
	e->total++;
	if (e->nkept >= e->max_kept)
		return;
	char *m = NULL;
	if (vasprintf(&m, fmt, ap) < 0)
		return;
	char **nm = realloc(e->msg, (e->nkept + 1) * sizeof *nm);
	if (!nm) {
		free(m);
		return;
	}
	e->msg = nm;
	e->msg[e->nkept++] = m;
}

void dict_errors_add(struct dict_errors *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	errors_vadd(e, fmt, ap);
	va_end(ap);
}

void dict_errors_print(const struct dict_errors *e, FILE *f)
{
	for (size_t i = 0; i < e->nkept; i++)
		fprintf(f, "%s\n", e->msg[i]);
	if (e->total > e->nkept)
		fprintf(f, "... and %zu more errors\n", e->total - e->nkept);
}

/* "name:line:col: <msg> (value 'v')" */
__attribute__((format(printf, 6, 7)))
static void perr(struct parse *p, uint32_t line, size_t col, const char *v, size_t vlen,
		 const char *fmt, ...)
{
	char msg[512], q[DICT_QUOTE_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (v) {
		dict_quote(v, vlen, q);
		dict_errors_add(p->errs, "%s:%u:%zu: %s (value '%s')", p->name, line, col, msg, q);
	} else {
		dict_errors_add(p->errs, "%s:%u:%zu: %s", p->name, line, col, msg);
	}
}

/* ---- the result ------------------------------------------------------------------ */

static struct dict_data *data_new(const struct dict_def *def, char *buf)
{
	struct dict_data *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->def = def;
	d->buf = buf;
	return d;
}

struct dict_data *dict_data_empty(const struct dict_def *def)
{
	char *buf = calloc(1, 1);
	struct dict_data *d = buf ? data_new(def, buf) : NULL;
	if (!d)
		free(buf);
	return d;
}

void dict_data_free(struct dict_data *d)
{
	if (!d)
		return;
	free(d->buf);
	free(d->vals);
	free(d->lines);
	free(d->ips);
	free(d);
}

const struct dict_def *dict_data_def(const struct dict_data *d) { return d->def; }
size_t dict_data_rows(const struct dict_data *d) { return d->nrows; }
uint32_t dict_data_line(const struct dict_data *d, size_t row) { return d->lines[row]; }
uint64_t dict_data_hash(const struct dict_data *d) { return d->hash; }

uint64_t dict_hash_bytes(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, b + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 29;
	}
	for (; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

static const union dval *val(const struct dict_data *d, size_t row, size_t col)
{
	return &d->vals[row * d->def->ncols + col];
}

uint64_t dict_data_uint(const struct dict_data *d, size_t row, size_t col)
{
	return val(d, row, col)->u;
}

const char *dict_data_str(const struct dict_data *d, size_t row, size_t col)
{
	return d->buf + val(d, row, col)->s.off;
}

const struct dict_ip *dict_data_ip(const struct dict_data *d, size_t row, size_t col)
{
	return &d->ips[val(d, row, col)->ip];
}

int dict_data_mac(const struct dict_data *d, size_t row, size_t col, uint64_t *mac)
{
	uint64_t u = val(d, row, col)->u;
	*mac = u & ~MAC_PRESENT;
	return (u & MAC_PRESENT) != 0;
}

const char *dict_data_text(const struct dict_data *d, size_t row, size_t col, char *buf)
{
	uint64_t mac;
	switch (d->def->cols[col].type) {
	case DT_STR:
	case DT_HOST:
		return dict_data_str(d, row, col);
	case DT_IP:
		dict_format_ip(dict_data_ip(d, row, col), 0, buf);
		return buf;
	case DT_CIDR:
		dict_format_ip(dict_data_ip(d, row, col), 1, buf);
		return buf;
	case DT_MAC:
		if (dict_data_mac(d, row, col, &mac))
			dict_format_mac(mac, buf);
		else
			buf[0] = '\0';
		return buf;
	default:
		dict_format_uint(dict_data_uint(d, row, col), buf);
		return buf;
	}
}

/* ---- pass 1: lines ------------------------------------------------------------- */

static int grow_rows(struct parse *p)
{
	struct dict_data *d = p->d;
	size_t nc = d->def->ncols;
	if (d->nrows < d->cap)
		return 0;
	size_t cap = d->cap ? d->cap * 2 : 256;
	union dval *v = realloc(d->vals, cap * nc * sizeof *v);
	if (!v)
		return -1;
	d->vals = v;
	uint32_t *l = realloc(d->lines, cap * sizeof *l);
	if (!l)
		return -1;
	d->lines = l;
	uint32_t *c = realloc(p->colpos, cap * nc * sizeof *c);
	if (!c)
		return -1;
	p->colpos = c;
	d->cap = cap;
	return 0;
}

static int add_ip(struct parse *p, const struct dict_ip *ip, uint32_t *idx)
{
	struct dict_data *d = p->d;
	if (d->nips == d->capips) {
		size_t cap = d->capips ? d->capips * 2 : 256;
		struct dict_ip *n = realloc(d->ips, cap * sizeof *n);
		if (!n)
			return -1;
		d->ips = n;
		d->capips = cap;
	}
	d->ips[d->nips] = *ip;
	*idx = (uint32_t)d->nips++;
	return 0;
}

static void text_error(struct parse *p, uint32_t line, size_t col, const char *a, size_t n,
		       size_t bad)
{
	unsigned char c = (unsigned char)a[bad];
	if (c == '\r')
		perr(p, line, col + bad, a, n,
		     "carriage return inside a line: save the file with LF or CRLF line ends");
	else if (c == 0)
		perr(p, line, col + bad, a, n, "NUL byte: is this a text file?");
	else if (c < 0x20 || c == 0x7f)
		perr(p, line, col + bad, a, n, "control character 0x%02x in text", c);
	else
		perr(p, line, col + bad, a, n,
		     "not UTF-8: convert the file, e.g. iconv -f cp1251 -t utf-8");
}

/* Type one value a[0..n) (already trimmed) of column c into *v; 0 or -1 (reported). */
static int parse_value(struct parse *p, const struct dict_column *c, char *a, size_t n,
		       uint32_t line, size_t col, union dval *v)
{
	struct dict_ip ip;
	const char *why;
	char want[DICT_IP_STRLEN];
	uint64_t max = UINT64_MAX;
	size_t bad;

	switch (c->type) {
	case DT_U16:
	case DT_U32:
	case DT_U64:
	case DT_BOOL:
		if (c->type == DT_U16)
			max = UINT16_MAX;
		else if (c->type == DT_U32)
			max = UINT32_MAX;
		else if (c->type == DT_BOOL)
			max = 1;
		if (n == 0 && (c->flags & DC_OPT)) {
			v->u = 0;
			return 0;
		}
		if (n == 0) {
			perr(p, line, col, NULL, 0, "empty %s: expected %s", c->name,
			     dict_type_expect(c->type));
			return -1;
		}
		if (dict_parse_uint(a, n, max, &v->u) != 0) {
			perr(p, line, col, a, n, "bad %s: expected %s", c->name,
			     dict_type_expect(c->type));
			return -1;
		}
		if (v->u == 0 && (c->flags & DC_NONZERO)) {
			perr(p, line, col, a, n, "%s must not be 0", c->name);
			return -1;
		}
		return 0;
	case DT_HOST:
		if (n == 0) {
			perr(p, line, col, NULL, 0, "empty %s: expected %s", c->name,
			     dict_type_expect(c->type));
			return -1;
		}
		for (size_t i = 0; i < n; i++) {
			if (a[i] == ' ') {
				perr(p, line, col + i, a, n, "space inside %s: expected %s", c->name,
				     dict_type_expect(c->type));
				return -1;
			}
			if (a[i] >= 'A' && a[i] <= 'Z')
				a[i] = (char)(a[i] - 'A' + 'a');
		}
		/* fall through */
	case DT_STR:
		bad = dict_text_check(a, n);
		if (bad != n) {
			text_error(p, line, col, a, n, bad);
			return -1;
		}
		a[n] = '\0';
		v->s.off = (uint32_t)(a - p->d->buf);
		v->s.len = (uint32_t)n;
		return 0;
	case DT_IP:
		if (dict_parse_ip(a, n, &ip) != 0) {
			perr(p, line, col, a, n, "bad %s: expected %s%s", c->name,
			     dict_type_expect(c->type),
			     memchr(a, '/', n) ? " without a prefix length" : "");
			return -1;
		}
		break;
	case DT_CIDR:
		if (dict_parse_cidr(a, n, &ip, &why) != 0) {
			if (strcmp(why, "host bits") == 0) {
				dict_format_ip(&ip, 1, want);
				perr(p, line, col, a, n,
				     "bad %s: address has bits set after the prefix length /%u: "
				     "did you mean %s?", c->name, (unsigned)ip.plen, want);
			} else {
				perr(p, line, col, a, n, "bad %s: %s; expected %s", c->name, why,
				     dict_type_expect(c->type));
			}
			return -1;
		}
		break;
	case DT_MAC:
		if (n == 0) {
			v->u = 0;
			return 0;
		}
		if (dict_parse_mac(a, n, &v->u) != 0) {
			perr(p, line, col, a, n, "bad %s: expected %s", c->name,
			     dict_type_expect(c->type));
			return -1;
		}
		v->u |= MAC_PRESENT;
		return 0;
	}
	if (add_ip(p, &ip, &v->ip) != 0) {
		p->oom = 1;
		return -1;
	}
	return 0;
}

static void columns_expected(const struct dict_def *def, char *buf, size_t len)
{
	size_t req = dict_nrequired(def);
	if (req == def->ncols)
		snprintf(buf, len, "%zu", req);
	else
		snprintf(buf, len, "%zu to %zu", req, def->ncols);
}

/* One line s[0..e), without its '\n'; base is the column of s (1). */
static void parse_line(struct parse *p, char *s, char *e, uint32_t line)
{
	const struct dict_def *def = p->d->def;
	const size_t nc = def->ncols;
	if (e > s && e[-1] == '\r')
		*--e = '\0';
	char *t = s;
	while (t < e && (*t == ' ' || *t == '\t'))
		t++;
	if (t == e || *t == '#')
		return; /* blank or comment */

	char *fs[MAX_COLS], *fe[MAX_COLS];
	char *extra = NULL, *extra_end = NULL;
	size_t nall = 0, last_nonempty = 0;
	for (char *f = s;;) {
		char *tab = memchr(f, '\t', (size_t)(e - f));
		char *a = f, *b = tab ? tab : e;
		while (a < b && *a == ' ')
			a++;
		while (b > a && b[-1] == ' ')
			b--;
		if (nall < nc) {
			fs[nall] = a;
			fe[nall] = b;
		} else if (b > a && !extra) {
			extra = a;
			extra_end = b;
		}
		nall++;
		if (b > a)
			last_nonempty = nall;
		if (!tab)
			break;
		f = tab + 1;
	}
	size_t nf = extra ? last_nonempty : (nall < nc ? nall : nc);

	char want[32];
	if (nf > nc) {
		columns_expected(def, want, sizeof want);
		perr(p, line, (size_t)(extra - s) + 1, extra, (size_t)(extra_end - extra),
		     "expected %s columns separated by a tab, found %zu", want, nf);
		return;
	}
	if (nf < dict_nrequired(def)) {
		columns_expected(def, want, sizeof want);
		perr(p, line, 1, s, (size_t)(e - s), "expected %s columns separated by a tab, found %zu%s",
		     want, nf, memchr(s, ' ', (size_t)(e - s)) ? ": did you use spaces?" : "");
		return;
	}
	if (grow_rows(p) != 0) {
		p->oom = 1;
		return;
	}
	struct dict_data *d = p->d;
	union dval *row = &d->vals[d->nrows * nc];
	uint32_t *pos = &p->colpos[d->nrows * nc];
	int bad = 0;
	for (size_t i = 0; i < nc; i++) {
		char empty[1] = "";
		char *a = i < nf ? fs[i] : empty;
		size_t n = i < nf ? (size_t)(fe[i] - fs[i]) : 0;
		size_t col = i < nf ? (size_t)(a - s) + 1 : (size_t)(e - s) + 1;
		pos[i] = (uint32_t)col;
		if (i >= nf && (def->cols[i].type == DT_STR || def->cols[i].type == DT_HOST)) {
			/* absent optional text: "" at the NUL that ends this line */
			row[i].s.off = (uint32_t)(e - d->buf);
			row[i].s.len = 0;
			continue;
		}
		if (parse_value(p, &def->cols[i], a, n, line, col, &row[i]) != 0)
			bad = 1;
	}
	if (!bad) {
		d->lines[d->nrows] = line;
		d->nrows++;
	}
}

/* ---- pass 2: keys and hierarchy ---------------------------------------------------- */

static uint64_t mix(uint64_t h, uint64_t k)
{
	h ^= k + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static uint64_t key_hash(const struct dict_data *d, size_t r)
{
	uint64_t h = 0;
	for (size_t c = 0; c < d->def->ncols; c++) {
		if (!(d->def->cols[c].flags & DC_KEY))
			continue;
		enum dict_type t = d->def->cols[c].type;
		if (t == DT_IP || t == DT_CIDR) {
			const struct dict_ip *ip = dict_data_ip(d, r, c);
			uint64_t a = 0, b = 0;
			memcpy(&a, ip->addr, 8);
			memcpy(&b, ip->addr + 8, 8);
			h = mix(mix(mix(h, a), b), (uint64_t)ip->plen << 8 | ip->v6);
		} else if (t == DT_STR || t == DT_HOST) {
			const union dval *v = val(d, r, c);
			uint64_t f = 0xcbf29ce484222325ULL;
			for (uint32_t i = 0; i < v->s.len; i++)
				f = (f ^ (unsigned char)d->buf[v->s.off + i]) * 0x100000001b3ULL;
			h = mix(h, f);
		} else {
			h = mix(h, val(d, r, c)->u);
		}
	}
	return h;
}

static int key_eq(const struct dict_data *d, size_t r1, size_t r2)
{
	for (size_t c = 0; c < d->def->ncols; c++) {
		if (!(d->def->cols[c].flags & DC_KEY))
			continue;
		enum dict_type t = d->def->cols[c].type;
		if (t == DT_IP || t == DT_CIDR) {
			const struct dict_ip *a = dict_data_ip(d, r1, c), *b = dict_data_ip(d, r2, c);
			if (a->v6 != b->v6 || a->plen != b->plen || memcmp(a->addr, b->addr, 16) != 0)
				return 0;
		} else if (t == DT_STR || t == DT_HOST) {
			const union dval *a = val(d, r1, c), *b = val(d, r2, c);
			if (a->s.len != b->s.len ||
			    memcmp(d->buf + a->s.off, d->buf + b->s.off, a->s.len) != 0)
				return 0;
		} else if (val(d, r1, c)->u != val(d, r2, c)->u) {
			return 0;
		}
	}
	return 1;
}

static void key_text(const struct dict_data *d, size_t r, char *out, size_t len)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t c = 0; c < d->def->ncols && o < len; c++) {
		if (!(d->def->cols[c].flags & DC_KEY))
			continue;
		char buf[DICT_IP_STRLEN];
		o += (size_t)snprintf(out + o, len - o, "%s%s", o ? ", " : "",
				      dict_data_text(d, r, c, buf));
	}
}

static void check_duplicates(struct parse *p)
{
	const struct dict_data *d = p->d;
	size_t cap = 16;
	while (cap < d->nrows * 2)
		cap <<= 1;
	uint32_t *tab = calloc(cap, sizeof *tab); /* row + 1; 0 = empty */
	if (!tab) {
		p->oom = 1;
		return;
	}
	int kc = dict_key_column(d->def);
	for (size_t r = 0; r < d->nrows; r++) {
		size_t h = key_hash(d, r) & (cap - 1);
		for (; tab[h]; h = (h + 1) & (cap - 1)) {
			size_t other = tab[h] - 1;
			if (key_eq(d, other, r)) {
				char k[256];
				key_text(d, r, k, sizeof k);
				perr(p, d->lines[r], p->colpos[r * d->def->ncols + (size_t)kc], k,
				     strlen(k), "duplicate key: the same %s is on line %u",
				     d->def->cols[kc].name, d->lines[other]);
				break;
			}
		}
		if (!tab[h])
			tab[h] = (uint32_t)(r + 1);
	}
	free(tab);
}

static void check_hierarchy(struct parse *p)
{
	const struct dict_data *d = p->d;
	const struct dict_def *def = d->def;
	int kc = dict_key_column(def), pc = -1;
	for (size_t c = 0; c < def->ncols; c++)
		if (def->cols[c].flags & DC_PARENT)
			pc = (int)c;
	if (pc < 0 || d->nrows == 0)
		return;
	uint64_t *keys = malloc(d->nrows * sizeof *keys);
	uint32_t *up = malloc(d->nrows * sizeof *up); /* parent row or NONE */
	uint8_t *state = calloc(d->nrows, 1);
	struct dict_map64 *m = NULL;
	if (!keys || !up || !state) {
		p->oom = 1;
		goto out;
	}
	for (size_t r = 0; r < d->nrows; r++)
		keys[r] = dict_data_uint(d, r, (size_t)kc);
	if (dict_map64_build(keys, d->nrows, &m) != 0) {
		p->oom = 1;
		goto out;
	}
	for (size_t r = 0; r < d->nrows; r++) {
		uint64_t par = dict_data_uint(d, r, (size_t)pc);
		up[r] = par ? dict_map64_get(m, par) : DICT_MAP_NONE;
		if (par && up[r] == DICT_MAP_NONE) {
			char v[24];
			snprintf(v, sizeof v, "%llu", (unsigned long long)par);
			perr(p, d->lines[r], p->colpos[r * def->ncols + (size_t)pc], v, strlen(v),
			     "%s %s is not the %s of any line (use 0 for none)", def->cols[pc].name,
			     v, def->cols[kc].name);
		}
	}
	/* Loops: walk up from each row not yet done; state 1 = on the current walk. */
	for (size_t r = 0; r < d->nrows; r++) {
		uint32_t cur = (uint32_t)r;
		while (cur != DICT_MAP_NONE && state[cur] == 0) {
			state[cur] = 1;
			cur = up[cur];
		}
		if (cur != DICT_MAP_NONE && state[cur] == 1) {
			char chain[256];
			size_t o = 0;
			uint32_t x = cur;
			int i = 0;
			do {
				o += (size_t)snprintf(chain + o, sizeof chain - o, "%llu -> ",
						      (unsigned long long)keys[x]);
				x = up[x];
			} while (x != cur && ++i < 8 && o < sizeof chain);
			if (o < sizeof chain)
				snprintf(chain + o, sizeof chain - o, "%s",
					 x == cur ? "" : "... -> ");
			o = strlen(chain);
			if (o < sizeof chain)
				snprintf(chain + o, sizeof chain - o, "%llu", (unsigned long long)keys[cur]);
			perr(p, d->lines[cur], p->colpos[cur * def->ncols + (size_t)pc], chain,
			     strlen(chain), "%s loops back to itself", def->cols[pc].name);
		}
		for (cur = (uint32_t)r; cur != DICT_MAP_NONE && state[cur] == 1; cur = up[cur])
			state[cur] = 2;
	}
out:
	dict_map64_free(m);
	free(keys);
	free(up);
	free(state);
}

/* ---- entry points ----------------------------------------------------------------- */

/* Parse buf[0..len) (buf[len] == '\0'); takes ownership of buf. */
static int parse_owned(const struct dict_def *def, const char *name, char *buf, size_t len,
		       struct dict_data **out, struct dict_errors *errs)
{
	*out = NULL;
	size_t before = errs->total;
	struct parse p = { .name = name, .errs = errs };
	if (len >= MAX_FILE) {
		dict_errors_add(errs, "%s: file too large (%zu bytes; at most 4 GiB)", name, len);
		free(buf);
		return -1;
	}
	p.d = data_new(def, buf);
	if (!p.d) {
		free(buf);
		dict_errors_add(errs, "%s: out of memory", name);
		return -1;
	}
	p.d->hash = dict_hash_bytes(buf, len);
	char *s = buf, *end = buf + len;
	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	for (uint32_t line = 1; s < end && !p.oom; line++) {
		char *nl = memchr(s, '\n', (size_t)(end - s));
		char *e = nl ? nl : end;
		*e = '\0';
		parse_line(&p, s, e, line);
		s = e + 1;
	}
	if (!p.oom && p.d->nrows > 0) {
		check_duplicates(&p);
		check_hierarchy(&p);
	}
	if (p.oom)
		dict_errors_add(errs, "%s: out of memory", name);
	free(p.colpos);
	if (errs->total != before) {
		dict_data_free(p.d);
		return -1;
	}
	*out = p.d;
	return 0;
}

int dict_parse(const struct dict_def *def, const char *name, const char *buf, size_t len,
	       struct dict_data **out, struct dict_errors *errs)
{
	*out = NULL;
	char *copy = len < MAX_FILE ? malloc(len + 1) : NULL;
	if (!copy) {
		dict_errors_add(errs, "%s: %s", name,
				len < MAX_FILE ? "out of memory" : "file too large (at most 4 GiB)");
		return -1;
	}
	if (len)
		memcpy(copy, buf, len);
	copy[len] = '\0';
	return parse_owned(def, name, copy, len, out, errs);
}

int dict_load_file(const struct dict_def *def, const char *path, struct dict_data **out,
		   struct dict_errors *errs)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		dict_errors_add(errs, "%s: cannot open: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		dict_errors_add(errs, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	size_t cap = (size_t)st.st_size + 1, len = 0;
	char *buf = NULL;
	for (;;) {
		if (cap >= MAX_FILE) {
			dict_errors_add(errs, "%s: file too large (at most 4 GiB)", path);
			goto fail;
		}
		char *nb = realloc(buf, cap + 1);
		if (!nb) {
			dict_errors_add(errs, "%s: out of memory reading %zu bytes", path, cap);
			goto fail;
		}
		buf = nb;
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			dict_errors_add(errs, "%s: read failed: %s", path, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == cap)
			cap *= 2;
	}
	close(fd);
	buf[len] = '\0';
	return parse_owned(def, path, buf, len, out, errs);
fail:
	free(buf);
	close(fd);
	return -1;
}

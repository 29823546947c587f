/* agg.c: open-addressing hash aggregation over serialized keys (see agg.h).
 *
 * A group is [header | measures | key bytes] in an append-only arena, so
 * emission in first-seen order is a walk of the arena. The table holds
 * (hash, group) slots at a load factor of at most 1/2. Distinct counts use a
 * second table of (group, value) pairs.
 */
#include "loader/agg.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

#define CHUNK_SIZE (4u << 20)

struct acol {
	enum qs_agg_kind kind;
	int raw;            /* raw column index (-1 for count) */
	enum qs_type type;  /* raw type */
	size_t width;       /* key bytes for fixed types */
	int kept;           /* keys */
	int m;              /* measure index */
};

struct group {
	uint32_t klen;
	uint32_t pad;
	uint64_t m[];       /* nmeas measures, then klen key bytes */
};

struct chunk {
	struct chunk *next;
	size_t used, cap;
	uint8_t data[];
};

struct slot {
	uint64_t h;
	struct group *g;
};

struct dslot {
	const struct group *g;
	uint64_t v;
};

struct agg {
	const struct qs_agg_def *def;
	struct qs_stream_def out;
	struct qs_column outcols[QS_MAX_COLS];
	struct acol c[QS_MAX_COLS];
	size_t nc, nmeas;
	unsigned period_s;
	size_t max_groups;
	struct chunk *head, *tail;
	struct slot *tab;
	size_t tcap, ngroups;
	size_t bytes;           /* group memory in use (deterministic: from key sizes) */
	struct dslot *dtab;
	size_t dcap, dn;
	int dcol;               /* raw column of the distinct count, -1 none */
	uint8_t *kb;
	size_t kcap;
	uint64_t rows;
	struct qs_record rec;
};

static const uint8_t zero16[16];

static int key_listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *s = list; *s;) {
		size_t k = strcspn(s, ",");
		if (k == n && strncmp(s, name, n) == 0)
			return 1;
		s += k;
		if (*s == ',')
			s++;
	}
	return 0;
}

struct agg *agg_open(const struct qs_agg_def *def, const struct qs_stream_def *raw, unsigned period_s,
	const char *keys, uint32_t keep_bits, size_t max_groups)
{
	struct agg *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->def = def;
	a->period_s = period_s ? period_s : 900;
	a->max_groups = max_groups ? max_groups : 262144;
	a->nc = def->ncols;
	a->dcol = -1;
	for (size_t i = 0; i < def->ncols; i++) {
		const struct qs_agg_column *ac = &def->cols[i];
		struct acol *c = &a->c[i];
		c->kind = ac->kind;
		c->raw = -1;
		c->m = -1;
		c->type = QS_U64;
		if (ac->kind != QS_AGG_COUNT) {
			c->raw = qs_column_index(raw, ac->src);
			if (c->raw < 0) {
				log_err("aggregate %s: column %s needs %s, which %s lacks (schema table bug)", def->name,
					ac->name, ac->src, raw->name);
				free(a);
				return NULL;
			}
			c->type = raw->cols[c->raw].type;
			c->width = qs_type_width(c->type);
		}
		enum qs_type otype = QS_U64;
		if (ac->kind == QS_AGG_BUCKET)
			otype = QS_TIME_S;
		else if (ac->kind == QS_AGG_KEY || ac->kind == QS_AGG_MAX || ac->kind == QS_AGG_MIN)
			otype = c->type;
		if (ac->kind == QS_AGG_KEY) {
			if (keep_bits)
				c->kept = !ac->keep_bit || (ac->keep_bit & keep_bits);
			else
				c->kept = !keys || key_listed(keys, ac->name);
		} else if (ac->kind != QS_AGG_BUCKET)
			c->m = (int)a->nmeas++;
		if (ac->kind == QS_AGG_COUNT_DISTINCT && a->dcol < 0)
			a->dcol = c->raw;
		a->outcols[i] = (struct qs_column){ .name = ac->name, .type = otype, .chtype = ac->chtype,
						    .doc = ac->doc };
	}
	a->out = (struct qs_stream_def){ .id = QS_STREAM_COUNT, .name = def->insert_table, .cols = a->outcols,
					 .ncols = a->nc };
	a->tcap = 1024;
	a->tab = calloc(a->tcap, sizeof *a->tab);
	a->kcap = 4096;
	a->kb = malloc(a->kcap);
	if (!a->tab || !a->kb) {
		agg_close(a);
		return NULL;
	}
	return a;
}

static void free_chunks(struct chunk *c)
{
	while (c) {
		struct chunk *n = c->next;
		free(c);
		c = n;
	}
}

void agg_close(struct agg *a)
{
	if (!a)
		return;
	free_chunks(a->head);
	free(a->tab);
	free(a->dtab);
	free(a->kb);
	free(a);
}

size_t agg_groups(const struct agg *a)
{
	return a->ngroups;
}

uint64_t agg_rows_in(const struct agg *a)
{
	return a->rows;
}

void agg_set_max_groups(struct agg *a, size_t max_groups)
{
	if (max_groups)
		a->max_groups = max_groups;
}

int agg_full(const struct agg *a)
{
	return a->ngroups >= a->max_groups || a->dn >= 4 * a->max_groups || a->bytes >= AGG_GROUP_BYTES * a->max_groups;
}

const struct qs_stream_def *agg_out_def(const struct agg *a)
{
	return &a->out;
}

static inline uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = (h ^ w) * 0x100000001b3ull;
		h = (h << 29) | (h >> 35);
		p += 8;
		n -= 8;
	}
	uint64_t w = 0;
	memcpy(&w, p, n);
	h = (h ^ w) * 0x100000001b3ull;
	return mix(h);
}

static int kb_reserve(struct agg *a, size_t need)
{
	if (need <= a->kcap)
		return 0;
	size_t cap = a->kcap;
	while (cap < need)
		cap *= 2;
	uint8_t *k = realloc(a->kb, cap);
	if (!k)
		return -1;
	a->kb = k;
	a->kcap = cap;
	return 0;
}

/* Serialize the kept keys of r into a->kb from offset off; returns the
 * length or -1. */
static long build_key(struct agg *a, const struct qs_record *r, size_t off)
{
	size_t n = off;
	for (size_t i = 0; i < a->nc; i++) {
		const struct acol *c = &a->c[i];
		if (c->kind == QS_AGG_BUCKET) {
			uint64_t t = qs_record_has(r, c->raw) ? r->v[c->raw].u : 0;
			if (c->type == QS_TIME_MS)
				t /= 1000;
			t -= t % a->period_s;
			if (kb_reserve(a, n + 8))
				return -1;
			memcpy(a->kb + n, &t, 8);
			n += 8;
			continue;
		}
		if (c->kind != QS_AGG_KEY || !c->kept)
			continue;
		int present = qs_record_has(r, c->raw);
		const struct qs_value *v = &r->v[c->raw];
		if (c->type == QS_STR) {
			uint32_t len = present ? v->len : 0;
			if (kb_reserve(a, n + 4 + len))
				return -1;
			memcpy(a->kb + n, &len, 4);
			if (len)
				memcpy(a->kb + n + 4, v->p, len);
			n += 4 + len;
		} else if (c->type == QS_IPV6 || c->type == QS_MAC) {
			if (kb_reserve(a, n + c->width))
				return -1;
			const uint8_t *p = present && v->p && v->len >= c->width ? v->p : zero16;
			memcpy(a->kb + n, p, c->width);
			n += c->width;
		} else {
			uint64_t x = present ? v->u : 0;
			if (kb_reserve(a, n + 8))
				return -1;
			memcpy(a->kb + n, &x, c->width); /* little-endian host: the low bytes */
			n += c->width;
		}
	}
	return (long)(n - off);
}

static int grow_table(struct agg *a)
{
	size_t cap = a->tcap * 2;
	struct slot *t = calloc(cap, sizeof *t);
	if (!t)
		return -1;
	for (size_t i = 0; i < a->tcap; i++)
		if (a->tab[i].g) {
			size_t j = a->tab[i].h & (cap - 1);
			while (t[j].g)
				j = (j + 1) & (cap - 1);
			t[j] = a->tab[i];
		}
	free(a->tab);
	a->tab = t;
	a->tcap = cap;
	return 0;
}

static struct group *new_group(struct agg *a, size_t klen)
{
	size_t size = sizeof(struct group) + a->nmeas * 8 + klen;
	size = (size + 7) & ~(size_t)7;
	if (!a->tail || a->tail->used + size > a->tail->cap) {
		if (a->tail && a->tail->next) { /* reuse a chunk kept by agg_clear */
			a->tail = a->tail->next;
			a->tail->used = 0;
		}
		if (!a->tail || a->tail->used + size > a->tail->cap) {
			size_t cap = size > CHUNK_SIZE ? size : CHUNK_SIZE;
			struct chunk *c = malloc(sizeof *c + cap);
			if (!c)
				return NULL;
			c->next = a->tail ? a->tail->next : NULL;
			c->used = 0;
			c->cap = cap;
			if (a->tail)
				a->tail->next = c;
			else
				a->head = c;
			a->tail = c;
		}
	}
	struct group *g = (struct group *)(a->tail->data + a->tail->used);
	a->tail->used += size;
	a->bytes += size;
	g->klen = (uint32_t)klen;
	g->pad = 0;
	for (size_t i = 0; i < a->nc; i++)
		if (a->c[i].m >= 0)
			g->m[a->c[i].m] = a->c[i].kind == QS_AGG_MIN ? UINT64_MAX : 0;
	return g;
}

static const uint8_t *gkey(const struct agg *a, const struct group *g)
{
	return (const uint8_t *)&g->m[a->nmeas];
}

/* 1 when (g, v) was not seen before (and remembers it), 0 if seen, -1 oom. */
static int distinct_new(struct agg *a, const struct group *g, uint64_t v)
{
	if (2 * (a->dn + 1) > a->dcap) {
		size_t cap = a->dcap ? a->dcap * 2 : 4096;
		struct dslot *t = calloc(cap, sizeof *t);
		if (!t)
			return -1;
		for (size_t i = 0; i < a->dcap; i++)
			if (a->dtab[i].g) {
				size_t j = mix((uintptr_t)a->dtab[i].g ^ mix(a->dtab[i].v)) & (cap - 1);
				while (t[j].g)
					j = (j + 1) & (cap - 1);
				t[j] = a->dtab[i];
			}
		free(a->dtab);
		a->dtab = t;
		a->dcap = cap;
	}
	size_t j = mix((uintptr_t)g ^ mix(v)) & (a->dcap - 1);
	while (a->dtab[j].g) {
		if (a->dtab[j].g == g && a->dtab[j].v == v)
			return 0;
		j = (j + 1) & (a->dcap - 1);
	}
	a->dtab[j] = (struct dslot){ g, v };
	a->dn++;
	return 1;
}

/* Fold r in, its key (kl bytes at a->kb + off) and hash h already made. */
static int add_keyed(struct agg *a, const struct qs_record *r, size_t off, size_t kl, uint64_t h)
{
	const uint8_t *key = a->kb + off;
	size_t j = h & (a->tcap - 1);
	struct group *g = NULL;
	while (a->tab[j].g) {
		if (a->tab[j].h == h && a->tab[j].g->klen == (uint32_t)kl && memcmp(gkey(a, a->tab[j].g), key, kl) == 0) {
			g = a->tab[j].g;
			break;
		}
		j = (j + 1) & (a->tcap - 1);
	}
	if (!g) {
		if (!(g = new_group(a, kl)))
			return -1;
		memcpy((uint8_t *)gkey(a, g), key, kl);
		a->tab[j] = (struct slot){ h, g };
		a->ngroups++;
		if (2 * a->ngroups > a->tcap && grow_table(a))
			return -1;
	}
	for (size_t i = 0; i < a->nc; i++) {
		const struct acol *c = &a->c[i];
		if (c->m < 0)
			continue;
		uint64_t *m = &g->m[c->m];
		int present = c->raw >= 0 && qs_record_has(r, c->raw);
		uint64_t v = present ? r->v[c->raw].u : 0;
		switch (c->kind) {
		case QS_AGG_SUM: *m += v; break;
		case QS_AGG_MAX: if (present && v > *m) *m = v; break;
		case QS_AGG_MIN: if (present && v < *m) *m = v; break;
		case QS_AGG_COUNT: (*m)++; break;
		case QS_AGG_COUNT_PRESENT: *m += (uint64_t)present; break;
		case QS_AGG_COUNT_NONZERO: *m += (uint64_t)(present && v != 0); break;
		case QS_AGG_COUNT_DISTINCT:
			if (present) {
				int n = distinct_new(a, g, v);
				if (n < 0)
					return -1;
				*m += (uint64_t)n;
			}
			break;
		default: break;
		}
	}
	a->rows++;
	return 0;
}

int agg_add(struct agg *a, const struct qs_record *r)
{
	long kl = build_key(a, r, 0);
	if (kl < 0)
		return -1;
	return add_keyed(a, r, 0, (size_t)kl, hash_bytes(a->kb, (size_t)kl));
}

int agg_add_batch(struct agg *a, const struct qs_record *const *r, size_t n, size_t *done)
{
	size_t off[AGG_BATCH + 1], len[AGG_BATCH];
	uint64_t h[AGG_BATCH];
	*done = 0;
	while (n) {
		size_t b = n < AGG_BATCH ? n : AGG_BATCH;
		/* 1: keys and hashes; fetch the hash slots. */
		off[0] = 0;
		for (size_t i = 0; i < b; i++) {
			long kl = build_key(a, r[i], off[i]);
			if (kl < 0)
				return -1;
			len[i] = (size_t)kl;
			off[i + 1] = off[i] + (size_t)kl;
			h[i] = hash_bytes(a->kb + off[i], len[i]);
			__builtin_prefetch(&a->tab[h[i] & (a->tcap - 1)]);
		}
		/* 2: fetch the groups those slots point at (and their distinct entries). */
		for (size_t i = 0; i < b; i++) {
			const struct slot *sl = &a->tab[h[i] & (a->tcap - 1)];
			if (sl->g && sl->h == h[i]) {
				__builtin_prefetch(sl->g);
				if (a->dcol >= 0 && a->dcap && qs_record_has(r[i], a->dcol))
					__builtin_prefetch(&a->dtab[mix((uintptr_t)sl->g ^ mix(r[i]->v[a->dcol].u)) &
								    (a->dcap - 1)]);
			}
		}
		/* 3: fold in, in order, stopping when full. */
		for (size_t i = 0; i < b; i++) {
			if (add_keyed(a, r[i], off[i], len[i], h[i]))
				return -1;
			++*done;
			if (agg_full(a))
				return 0;
		}
		r += b;
		n -= b;
	}
	return 0;
}

/* Fill a->rec from group g. */
static void decode(struct agg *a, const struct group *g)
{
	struct qs_record *r = &a->rec;
	qs_record_clear(r, &a->out);
	const uint8_t *k = gkey(a, g);
	for (size_t i = 0; i < a->nc; i++) {
		const struct acol *c = &a->c[i];
		if (c->kind == QS_AGG_BUCKET) {
			uint64_t t;
			memcpy(&t, k, 8);
			k += 8;
			qs_record_set_u(r, (int)i, t);
		} else if (c->kind == QS_AGG_KEY) {
			if (!c->kept)
				continue; /* absent: the encoder writes the type's default */
			if (c->type == QS_STR) {
				uint32_t len;
				memcpy(&len, k, 4);
				qs_record_set_bytes(r, (int)i, k + 4, len);
				k += 4 + len;
			} else if (c->type == QS_IPV6 || c->type == QS_MAC) {
				qs_record_set_bytes(r, (int)i, k, (uint32_t)c->width);
				k += c->width;
			} else {
				uint64_t x = 0;
				memcpy(&x, k, c->width);
				k += c->width;
				qs_record_set_u(r, (int)i, x);
			}
		} else {
			uint64_t m = g->m[c->m];
			qs_record_set_u(r, (int)i, c->kind == QS_AGG_MIN && m == UINT64_MAX ? 0 : m);
		}
	}
}

int agg_emit(struct agg *a, int (*cb)(void *arg, const struct qs_record *r), void *arg)
{
	for (struct chunk *ch = a->head; ch; ch = ch->next) {
		size_t off = 0;
		while (off < ch->used) {
			const struct group *g = (const struct group *)(ch->data + off);
			decode(a, g);
			int rc = cb(arg, &a->rec);
			if (rc)
				return rc;
			size_t size = sizeof(struct group) + a->nmeas * 8 + g->klen;
			off += (size + 7) & ~(size_t)7;
		}
		if (ch == a->tail)
			break;
	}
	return 0;
}

void agg_clear(struct agg *a)
{
	/* Keep up to 4 chunks (16 MiB) for reuse; free the rest. */
	size_t kept = 0;
	for (struct chunk *c = a->head; c; c = c->next) {
		c->used = 0;
		if (++kept == 4) {
			free_chunks(c->next);
			c->next = NULL;
			break;
		}
	}
	a->tail = a->head;
	memset(a->tab, 0, a->tcap * sizeof *a->tab);
	if (a->dcap > (1u << 20)) { /* a big distinct-count table goes; it regrows if needed */
		free(a->dtab);
		a->dtab = NULL;
		a->dcap = 0;
	} else if (a->dtab)
		memset(a->dtab, 0, a->dcap * sizeof *a->dtab);
	a->ngroups = 0;
	a->bytes = 0;
	a->dn = 0;
	a->rows = 0;
}

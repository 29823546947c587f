/* agg.c: open-addressing hash aggregation over serialized keys (see agg.h).
 *
 * A group is [header | measures | key bytes] in an append-only arena, so
 * emission in first-seen order is a walk of the arena. The table holds
 * (hash, group) slots at a load factor of at most 1/2. Distinct counts use a
 * second table of (group, value) pairs.
 *
 * Spilling (agg_set_spill): when the groups fill their memory, they are sorted
 * by (key hash, key) and appended as a run to an unlinked file; each run
 * entry is [klen u32 | nd u32 | hash u64 | measures | key | nd sorted
 * distinct values]. agg_emit merges the runs (a heap over one reader per
 * run) and combines entries with equal keys: sums add, max/min fold, distinct
 * lists are united and counted.
 */
#include "loader/agg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "spool/spool_io.h"

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
	int dm;                 /* measure index of the distinct count, -1 none */
	/* spilling */
	unsigned max_runs;      /* 0: no spilling, first-seen order */
	char spill_dir[512];
	int sfd;
	uint64_t sbytes;        /* bytes in the spill file */
	size_t sgroups;         /* groups in its runs */
	struct run { uint64_t off, end; } runs[AGG_MAX_RUNS + 1];
	size_t nruns;
	uint8_t *wbuf;
	size_t wlen;
	char err[768];
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
	a->dm = -1;
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
		if (ac->kind == QS_AGG_COUNT_DISTINCT && a->dcol < 0) {
			a->dcol = c->raw;
			a->dm = c->m;
		}
		a->outcols[i] = (struct qs_column){ .name = ac->name, .type = otype, .chtype = ac->chtype,
						    .doc = ac->doc };
	}
	a->out = (struct qs_stream_def){ .id = QS_STREAM_COUNT, .name = def->insert_table, .cols = a->outcols,
					 .ncols = a->nc };
	a->sfd = -1;
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
	free(a->wbuf);
	if (a->sfd >= 0)
		close(a->sfd);
	free(a);
}

size_t agg_groups(const struct agg *a)
{
	return a->ngroups + a->sgroups;
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

/* The groups in memory are at their bound. */
static int mem_full(const struct agg *a)
{
	return a->ngroups >= a->max_groups || a->dn >= 4 * a->max_groups || a->bytes >= AGG_GROUP_BYTES * a->max_groups;
}

int agg_full(const struct agg *a)
{
	return mem_full(a) && a->nruns >= a->max_runs;
}

const char *agg_error(const struct agg *a)
{
	return a->err;
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

/* Arena bytes of a group with a key of klen bytes (8-aligned). */
static size_t group_size(const struct agg *a, size_t klen)
{
	return (sizeof(struct group) + a->nmeas * 8 + klen + 7) & ~(size_t)7;
}

static struct group *new_group(struct agg *a, size_t klen)
{
	size_t size = group_size(a, klen);
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

/* ---- spilling -------------------------------------------------------------- */

/* Runs are sorted by (hash, key length, key bytes): a total order that is
 * cheap to compare (the hash decides all but collisions). Not the table's
 * ORDER BY: ClickHouse sorts the block, which costs it less than sorting by
 * variable-length keys costs here. */
struct sk {
	uint64_t h;
	struct group *g;
};

/* The run order of two keys given by hash, length and bytes. */
static int run_cmp(uint64_t hx, uint32_t kx, const uint8_t *x, uint64_t hy, uint32_t ky, const uint8_t *y)
{
	if (hx != hy)
		return hx < hy ? -1 : 1;
	if (kx != ky)
		return kx < ky ? -1 : 1;
	return memcmp(x, y, kx);
}

static int sk_cmp(const void *x, const void *y, void *arg)
{
	const struct agg *a = arg;
	const struct sk *u = x, *v = y;
	return run_cmp(u->h, u->g->klen, gkey(a, u->g), v->h, v->g->klen, gkey(a, v->g));
}

static int u64_cmp(const void *x, const void *y)
{
	uint64_t u = *(const uint64_t *)x, v = *(const uint64_t *)y;
	return u < v ? -1 : u > v;
}

/* The groups in memory in run order (malloc'd; NULL when out of memory). */
static struct sk *sorted_groups(struct agg *a)
{
	struct sk *k = malloc((a->ngroups ? a->ngroups : 1) * sizeof *k);
	if (!k)
		return NULL;
	size_t n = 0;
	for (struct chunk *ch = a->head; ch; ch = ch->next) {
		size_t off = 0;
		while (off < ch->used) {
			struct group *g = (struct group *)(ch->data + off);
			k[n++] = (struct sk){ hash_bytes(gkey(a, g), g->klen), g };
			off += group_size(a, g->klen);
		}
		if (ch == a->tail)
			break;
	}
	qsort_r(k, n, sizeof *k, sk_cmp, a);
	return k;
}

static int spill_flush(struct agg *a)
{
	if (sio_write_at(a->sfd, a->sbytes, a->wbuf, a->wlen)) {
		snprintf(a->err, sizeof a->err, "writing aggregate groups to a file in %s: %s", a->spill_dir,
			 strerror(errno));
		return -1;
	}
	a->sbytes += a->wlen;
	a->wlen = 0;
	return 0;
}

#define SPILL_BUF (256u << 10)

static int spill_put(struct agg *a, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n) {
		if (a->wlen == SPILL_BUF && spill_flush(a))
			return -1;
		size_t k = SPILL_BUF - a->wlen < n ? SPILL_BUF - a->wlen : n;
		memcpy(a->wbuf + a->wlen, b, k);
		a->wlen += k;
		b += k;
		n -= k;
	}
	return 0;
}

static void clear_groups(struct agg *a);

/* A run entry: klen, nd (u32 each), the key's hash (u64); measures; key;
 * nd distinct values, ascending. */
#define ENTRY_HEAD 16u

/* Write the groups in memory as one sorted run and forget them. */
static int spill_run(struct agg *a)
{
	if (a->sfd < 0) {
		a->sfd = sio_tmpfile(a->spill_dir, ".qoestor-agg-");
		if (a->sfd < 0) {
			snprintf(a->err, sizeof a->err, "cannot create a file for aggregate groups in %s: %s",
				 a->spill_dir, strerror(errno));
			return -1;
		}
	}
	if (!a->wbuf && !(a->wbuf = malloc(SPILL_BUF))) {
		snprintf(a->err, sizeof a->err, "out of memory spilling aggregate groups");
		return -1;
	}
	struct sk *gp = sorted_groups(a);
	/* Distinct values by group, in key order: a counting sort by rank. */
	uint32_t *cnt = NULL;
	uint64_t *dv = NULL;
	if (gp && a->dn) {
		cnt = calloc(a->ngroups + 1, sizeof *cnt);
		dv = malloc(a->dn * sizeof *dv);
	}
	if (!gp || (a->dn && (!cnt || !dv))) {
		free(gp);
		free(cnt);
		free(dv);
		snprintf(a->err, sizeof a->err, "out of memory spilling aggregate groups");
		return -1;
	}
	for (size_t i = 0; i < a->ngroups; i++)
		gp[i].g->pad = (uint32_t)i;
	if (a->dn) {
		for (size_t i = 0; i < a->dcap; i++)
			if (a->dtab[i].g)
				cnt[a->dtab[i].g->pad + 1]++;
		for (size_t i = 0; i < a->ngroups; i++)
			cnt[i + 1] += cnt[i];
		for (size_t i = 0; i < a->dcap; i++)
			if (a->dtab[i].g)
				dv[cnt[a->dtab[i].g->pad]++] = a->dtab[i].v;
		/* cnt[i] is now the end of group i's values */
	}
	struct run *r = &a->runs[a->nruns];
	r->off = a->sbytes;
	int rc = 0;
	size_t start = 0;
	for (size_t i = 0; i < a->ngroups && !rc; i++) {
		const struct group *g = gp[i].g;
		uint32_t nd = 0;
		if (a->dn) {
			nd = (uint32_t)(cnt[i] - start);
			if (nd > 1)
				qsort(dv + start, nd, sizeof *dv, u64_cmp);
		}
		uint32_t h[ENTRY_HEAD / 4] = { g->klen, nd, (uint32_t)gp[i].h, (uint32_t)(gp[i].h >> 32) };
		rc = spill_put(a, h, sizeof h) || spill_put(a, g->m, a->nmeas * 8) ||
		     spill_put(a, gkey(a, g), g->klen) || (nd && spill_put(a, dv + start, nd * sizeof *dv));
		start += nd;
	}
	free(gp);
	free(cnt);
	free(dv);
	if (rc || spill_flush(a))
		return -1;
	r->end = a->sbytes;
	a->nruns++;
	a->sgroups += a->ngroups;
	clear_groups(a);
	return 0;
}

/* After a group was added: spill when memory is full and runs remain.
 * 0, or -1 (a->err says why). */
static int maybe_spill(struct agg *a)
{
	if (a->max_runs && a->nruns < a->max_runs && mem_full(a))
		return spill_run(a);
	return 0;
}

int agg_set_spill(struct agg *a, const char *dir, unsigned max_runs)
{
	if (max_runs > AGG_MAX_RUNS)
		max_runs = AGG_MAX_RUNS;
	if (a->nruns || a->ngroups)
		return -1;
	a->max_runs = max_runs;
	snprintf(a->spill_dir, sizeof a->spill_dir, "%s", dir ? dir : "/var/tmp");
	return 0;
}

int agg_add(struct agg *a, const struct qs_record *r)
{
	long kl = build_key(a, r, 0);
	if (kl < 0)
		return -1;
	if (add_keyed(a, r, 0, (size_t)kl, hash_bytes(a->kb, (size_t)kl)))
		return -1;
	return maybe_spill(a);
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
			/* The rest of the batch's keys stay valid in a->kb. */
			if (maybe_spill(a))
				return -1;
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

/* One run being read back: the entry at buf + pos (klen, nd) is current. */
struct reader {
	uint64_t off, end;  /* file bytes not yet in buf */
	uint8_t *buf;
	size_t cap, len, pos;
	uint32_t klen, nd;
	uint64_t h;
	size_t size;        /* of the current entry */
};

/* Make the next entry current. 1 done, 0 end of run, -1 error. */
static int reader_next(struct agg *a, struct reader *rd)
{
	rd->pos += rd->size;
	rd->size = 0;
	for (int pass = 0;; pass++) {
		size_t have = rd->len - rd->pos;
		size_t need = ENTRY_HEAD;
		if (have >= ENTRY_HEAD) {
			uint32_t h[ENTRY_HEAD / 4];
			memcpy(h, rd->buf + rd->pos, ENTRY_HEAD);
			need = ENTRY_HEAD + a->nmeas * 8 + (size_t)h[0] + (size_t)h[1] * 8;
			if (have >= need) {
				rd->klen = h[0];
				rd->nd = h[1];
				rd->h = h[2] | (uint64_t)h[3] << 32;
				rd->size = need;
				return 1;
			}
		}
		if (rd->off == rd->end) {
			if (have == 0)
				return 0;
			snprintf(a->err, sizeof a->err, "aggregate spill file: a torn entry");
			return -1;
		}
		memmove(rd->buf, rd->buf + rd->pos, have);
		rd->pos = 0;
		rd->len = have;
		if (need > rd->cap) {
			size_t cap = rd->cap;
			while (cap < need)
				cap *= 2;
			uint8_t *b = realloc(rd->buf, cap);
			if (!b) {
				snprintf(a->err, sizeof a->err, "out of memory reading aggregate groups back");
				return -1;
			}
			rd->buf = b;
			rd->cap = cap;
		}
		size_t want = rd->cap - rd->len;
		if (want > rd->end - rd->off)
			want = (size_t)(rd->end - rd->off);
		ssize_t got = pread(a->sfd, rd->buf + rd->len, want, (off_t)rd->off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			snprintf(a->err, sizeof a->err, "reading aggregate groups back from %s: %s", a->spill_dir,
				 got < 0 ? strerror(errno) : "short read");
			return -1;
		}
		rd->off += (uint64_t)got;
		rd->len += (size_t)got;
	}
}

static const uint8_t *rd_key(const struct agg *a, const struct reader *rd)
{
	return rd->buf + rd->pos + ENTRY_HEAD + a->nmeas * 8;
}

static const uint8_t *rd_meas(const struct reader *rd)
{
	return rd->buf + rd->pos + ENTRY_HEAD;
}

static const uint8_t *rd_dv(const struct agg *a, const struct reader *rd)
{
	return rd_key(a, rd) + rd->klen;
}


struct merge {
	struct agg *a;
	struct reader rd[AGG_MAX_RUNS + 1];
	size_t heap[AGG_MAX_RUNS + 1], nheap;
	struct group *g;    /* the combined entry */
	size_t gcap;
	uint64_t h;         /* its key's hash */
	uint64_t *dv, *tmp; /* its distinct values (sorted), scratch */
	size_t ndv, dvcap;
};

static int heap_less(struct merge *m, size_t x, size_t y)
{
	const struct reader *u = &m->rd[x], *v = &m->rd[y];
	int c = run_cmp(u->h, u->klen, rd_key(m->a, u), v->h, v->klen, rd_key(m->a, v));
	return c ? c < 0 : x < y; /* equal keys: the earlier run first (determinism) */
}

static void heap_down(struct merge *m, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, s = i;
		if (l < m->nheap && heap_less(m, m->heap[l], m->heap[s]))
			s = l;
		if (r < m->nheap && heap_less(m, m->heap[r], m->heap[s]))
			s = r;
		if (s == i)
			return;
		size_t t = m->heap[i];
		m->heap[i] = m->heap[s];
		m->heap[s] = t;
		i = s;
	}
}

static int dv_reserve(struct merge *m, size_t n)
{
	if (n <= m->dvcap)
		return 0;
	size_t cap = m->dvcap ? m->dvcap : 1024;
	while (cap < n)
		cap *= 2;
	uint64_t *d = realloc(m->dv, cap * sizeof *d), *t;
	if (!d)
		return -1;
	m->dv = d;
	if (!(t = realloc(m->tmp, cap * sizeof *t)))
		return -1;
	m->tmp = t;
	m->dvcap = cap;
	return 0;
}

/* Start the combined entry from reader rd's current one. */
static int merge_take(struct merge *m, const struct reader *rd)
{
	struct agg *a = m->a;
	size_t need = sizeof(struct group) + a->nmeas * 8 + rd->klen;
	if (need > m->gcap) {
		struct group *g = realloc(m->g, need);
		if (!g)
			return -1;
		m->g = g;
		m->gcap = need;
	}
	m->g->klen = rd->klen;
	m->g->pad = 0;
	memcpy(m->g->m, rd_meas(rd), a->nmeas * 8);
	memcpy((uint8_t *)gkey(a, m->g), rd_key(a, rd), rd->klen);
	m->h = rd->h;
	if (dv_reserve(m, rd->nd))
		return -1;
	if (rd->nd)
		memcpy(m->dv, rd_dv(a, rd), (size_t)rd->nd * 8);
	m->ndv = rd->nd;
	return 0;
}

/* Fold reader rd's current entry (same key) into the combined one. */
static int merge_fold(struct merge *m, const struct reader *rd)
{
	struct agg *a = m->a;
	const uint8_t *meas = rd_meas(rd);
	for (size_t i = 0; i < a->nc; i++) {
		const struct acol *c = &a->c[i];
		if (c->m < 0)
			continue;
		uint64_t v, *x = &m->g->m[c->m];
		memcpy(&v, meas + 8 * (size_t)c->m, 8);
		if (c->kind == QS_AGG_MAX)
			*x = v > *x ? v : *x;
		else if (c->kind == QS_AGG_MIN)
			*x = v < *x ? v : *x;
		else
			*x += v; /* sums and counts; the distinct count is redone below */
	}
	if (!rd->nd)
		return 0;
	if (dv_reserve(m, m->ndv + rd->nd))
		return -1;
	const uint8_t *p = rd_dv(a, rd);
	size_t i = 0, j = 0, n = 0;
	while (i < m->ndv || j < rd->nd) {
		uint64_t y = 0;
		if (j < rd->nd)
			memcpy(&y, p + 8 * j, 8);
		if (j == rd->nd || (i < m->ndv && m->dv[i] < y))
			m->tmp[n++] = m->dv[i++];
		else if (i < m->ndv && m->dv[i] == y) {
			m->tmp[n++] = y;
			i++;
			j++;
		} else {
			m->tmp[n++] = y;
			j++;
		}
	}
	uint64_t *t = m->dv;
	m->dv = m->tmp;
	m->tmp = t;
	m->ndv = n;
	return 0;
}

static void merge_free(struct merge *m)
{
	for (size_t i = 0; i <= AGG_MAX_RUNS; i++)
		free(m->rd[i].buf);
	free(m->g);
	free(m->dv);
	free(m->tmp);
}

static void decode(struct agg *a, const struct group *g);

/* agg_emit over the runs (the groups in memory spilled as the last one). */
static int emit_merged(struct agg *a, int (*cb)(void *arg, const struct qs_record *r), void *arg)
{
	if (a->ngroups && spill_run(a))
		return -1;
	struct merge m = { .a = a };
	int rc = 0;
	for (size_t i = 0; i < a->nruns && !rc; i++) {
		struct reader *rd = &m.rd[i];
		rd->off = a->runs[i].off;
		rd->end = a->runs[i].end;
		rd->cap = 64u << 10;
		if (!(rd->buf = malloc(rd->cap))) {
			snprintf(a->err, sizeof a->err, "out of memory reading aggregate groups back");
			rc = -1;
			break;
		}
		int n = reader_next(a, rd);
		if (n < 0)
			rc = -1;
		else if (n)
			m.heap[m.nheap++] = i;
	}
	for (size_t i = m.nheap; i-- > 0;)
		heap_down(&m, i);
	while (!rc && m.nheap) {
		struct reader *top = &m.rd[m.heap[0]];
		if (merge_take(&m, top)) {
			rc = -1;
			break;
		}
		for (;;) {
			int n = reader_next(a, top);
			if (n < 0) {
				rc = -1;
				break;
			}
			if (!n)
				m.heap[0] = m.heap[--m.nheap];
			if (m.nheap)
				heap_down(&m, 0);
			if (!m.nheap)
				break;
			top = &m.rd[m.heap[0]];
			if (run_cmp(top->h, top->klen, rd_key(a, top), m.h, m.g->klen, gkey(a, m.g)) != 0)
				break;
			if (merge_fold(&m, top)) {
				rc = -1;
				break;
			}
		}
		if (rc)
			break;
		if (a->dm >= 0)
			m.g->m[a->dm] = m.ndv;
		decode(a, m.g);
		if ((rc = cb(arg, &a->rec)) != 0)
			break;
	}
	if (rc < 0 && !a->err[0])
		snprintf(a->err, sizeof a->err, "out of memory merging aggregate groups");
	merge_free(&m);
	return rc;
}

int agg_emit(struct agg *a, int (*cb)(void *arg, const struct qs_record *r), void *arg)
{
	if (a->nruns)
		return emit_merged(a, cb, arg);
	for (struct chunk *ch = a->head; ch; ch = ch->next) {
		size_t off = 0;
		while (off < ch->used) {
			const struct group *g = (const struct group *)(ch->data + off);
			decode(a, g);
			int rc = cb(arg, &a->rec);
			if (rc)
				return rc;
			off += group_size(a, g->klen);
		}
		if (ch == a->tail)
			break;
	}
	return 0;
}

void agg_clear(struct agg *a)
{
	clear_groups(a);
	if (a->sfd >= 0 && a->sbytes && ftruncate(a->sfd, 0) != 0)
		log_warn("aggregate spill file: truncating: %s", strerror(errno));
	a->sbytes = 0;
	a->sgroups = 0;
	a->nruns = 0;
	a->wlen = 0;
	a->rows = 0;
	a->err[0] = 0;
}

static void clear_groups(struct agg *a)
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
}

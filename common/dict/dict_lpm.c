/* dict_lpm.c: the longest-prefix match declared in dict_lpm.h.
 *
 * Build: sort the prefixes of a family by (first address, length), then sweep them
 * with a stack of the prefixes that enclose the current address (prefixes are nested
 * or disjoint, so the stack is at most 129 deep); every time the innermost enclosing
 * prefix changes, a range starts. Adjacent ranges with the same value are merged.
 * Lookup: the last range starting at or below the address holds the answer.
 */
#include "dict/dict_lpm.h"

#include <stdlib.h>
#include <string.h>

__extension__ typedef unsigned __int128 u128;

/* The index has 2^bits + 1 entries, bits between 8 and 20 growing with the number of
 * ranges, so a bucket holds a few ranges on average: a few hundred bytes for a small
 * set, 4 MiB for a million ranges. */
#define MIN_BITS 8
#define MAX_BITS 20

struct family4 {
	uint32_t *start;
	uint32_t *val;
	size_t n;
	unsigned bits;
	uint32_t *index; /* index[t]: last range starting at or below t << (32 - bits) */
};

struct family6 {
	u128 *start;
	uint32_t *val;
	size_t n;
	unsigned bits;
	uint32_t *index; /* index[t]: last range starting at or below t << (128 - bits) */
};

static unsigned bits_for(size_t n)
{
	unsigned b = MIN_BITS;
	while (b < MAX_BITS && ((size_t)1 << b) < n)
		b++;
	return b;
}

struct dict_lpm {
	struct family4 f4;
	struct family6 f6;
};

/* One prefix of a family, as the range [first, last] in 128-bit space. */
struct item {
	u128 first, last;
	uint32_t plen;
	uint32_t val;
};

static int item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	if (x->plen != y->plen)
		return x->plen < y->plen ? -1 : 1;
	return x->val < y->val ? -1 : x->val > y->val;
}

/* Growing output of the sweep. */
struct ranges {
	u128 *start;
	uint32_t *val;
	size_t n;
};

static void emit(struct ranges *r, u128 pos, uint32_t v)
{
	if (r->n && r->start[r->n - 1] == pos) {
		r->val[r->n - 1] = v;
		if (r->n > 1 && r->val[r->n - 2] == v)
			r->n--;
		return;
	}
	if (r->n && r->val[r->n - 1] == v)
		return;
	r->start[r->n] = pos;
	r->val[r->n] = v;
	r->n++;
}

/* Flatten items[0..n) (sorted) into r, whose arrays hold 2n+1 entries. */
static void sweep(const struct item *items, size_t n, u128 max, struct ranges *r)
{
	struct {
		u128 last;
		uint32_t val;
	} stack[130];
	size_t sp = 0;
	r->n = 0;
	emit(r, 0, DICT_LPM_NONE);
	for (size_t i = 0; i < n; i++) {
		if (i && items[i].first == items[i - 1].first && items[i].plen == items[i - 1].plen)
			continue; /* the same prefix again: the first wins */
		while (sp && stack[sp - 1].last < items[i].first) {
			u128 next = stack[--sp].last + 1;
			emit(r, next, sp ? stack[sp - 1].val : DICT_LPM_NONE);
		}
		emit(r, items[i].first, items[i].val);
		stack[sp].last = items[i].last;
		stack[sp].val = items[i].val;
		sp++;
	}
	while (sp) {
		u128 last = stack[--sp].last;
		if (last != max)
			emit(r, last + 1, sp ? stack[sp - 1].val : DICT_LPM_NONE);
	}
}

static u128 addr128(const uint8_t *a, unsigned bytes)
{
	u128 v = 0;
	for (unsigned i = 0; i < bytes; i++)
		v = v << 8 | a[i];
	return v;
}

/* Collect the prefixes of one family into items; returns how many. */
static size_t collect(const struct dict_ip *p, size_t n, int v6, struct item *items)
{
	size_t k = 0;
	unsigned bits = v6 ? 128 : 32;
	for (size_t i = 0; i < n; i++) {
		if (p[i].v6 != v6)
			continue;
		u128 first = addr128(p[i].addr, bits / 8);
		unsigned host = bits - p[i].plen;
		u128 hostmask = host == 0 ? 0 : host >= 128 ? ~(u128)0 : (((u128)1 << host) - 1);
		items[k].first = first & ~hostmask;
		items[k].last = items[k].first | hostmask;
		items[k].plen = p[i].plen;
		items[k].val = (uint32_t)i;
		k++;
	}
	qsort(items, k, sizeof *items, item_cmp);
	return k;
}

/* index[t] = last range whose start <= t << (width - bits), t in 0..2^bits. */
static void build_index4(struct family4 *f)
{
	size_t r = 0, len = ((size_t)1 << f->bits) + 1;
	for (uint64_t t = 0; t < len - 1; t++) {
		uint64_t pos = t << (32 - f->bits);
		while (r + 1 < f->n && f->start[r + 1] <= pos)
			r++;
		f->index[t] = (uint32_t)r;
	}
	f->index[len - 1] = (uint32_t)(f->n - 1);
}

static void build_index6(struct family6 *f)
{
	size_t r = 0, len = ((size_t)1 << f->bits) + 1;
	for (uint64_t t = 0; t < len - 1; t++) {
		u128 pos = (u128)t << (128 - f->bits);
		while (r + 1 < f->n && f->start[r + 1] <= pos)
			r++;
		f->index[t] = (uint32_t)r;
	}
	f->index[len - 1] = (uint32_t)(f->n - 1);
}

void dict_lpm_free(struct dict_lpm *l)
{
	if (!l)
		return;
	free(l->f4.start);
	free(l->f4.val);
	free(l->f4.index);
	free(l->f6.start);
	free(l->f6.val);
	free(l->f6.index);
	free(l);
}

int dict_lpm_build(const struct dict_ip *prefixes, size_t n, struct dict_lpm **out)
{
	*out = NULL;
	if (n >= ((size_t)1 << 30))
		return -1;
	struct dict_lpm *l = calloc(1, sizeof *l);
	struct item *items = malloc((n ? n : 1) * sizeof *items);
	struct ranges r = { malloc((2 * n + 1) * sizeof(u128)), malloc((2 * n + 1) * sizeof(uint32_t)), 0 };
	if (!l || !items || !r.start || !r.val)
		goto fail;

	size_t k = collect(prefixes, n, 0, items);
	sweep(items, k, (u128)UINT32_MAX, &r);
	l->f4.n = r.n;
	l->f4.start = malloc(r.n * sizeof *l->f4.start);
	l->f4.val = malloc(r.n * sizeof *l->f4.val);
	l->f4.bits = bits_for(r.n);
	l->f4.index = malloc((((size_t)1 << l->f4.bits) + 1) * sizeof *l->f4.index);
	if (!l->f4.start || !l->f4.val || !l->f4.index)
		goto fail;
	for (size_t i = 0; i < r.n; i++) {
		l->f4.start[i] = (uint32_t)r.start[i];
		l->f4.val[i] = r.val[i];
	}
	build_index4(&l->f4);

	k = collect(prefixes, n, 1, items);
	sweep(items, k, ~(u128)0, &r);
	l->f6.n = r.n;
	l->f6.start = malloc(r.n * sizeof *l->f6.start);
	l->f6.val = malloc(r.n * sizeof *l->f6.val);
	l->f6.bits = bits_for(r.n);
	l->f6.index = malloc((((size_t)1 << l->f6.bits) + 1) * sizeof *l->f6.index);
	if (!l->f6.start || !l->f6.val || !l->f6.index)
		goto fail;
	memcpy(l->f6.start, r.start, r.n * sizeof *r.start);
	memcpy(l->f6.val, r.val, r.n * sizeof *r.val);
	build_index6(&l->f6);

	free(items);
	free(r.start);
	free(r.val);
	*out = l;
	return 0;
fail:
	free(items);
	free(r.start);
	free(r.val);
	dict_lpm_free(l);
	return -1;
}

uint32_t dict_lpm_get4(const struct dict_lpm *l, uint32_t addr)
{
	const struct family4 *f = &l->f4;
	uint32_t t = addr >> (32 - f->bits);
	uint32_t lo = f->index[t], hi = f->index[t + 1];
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo + 1) / 2;
		if (f->start[mid] <= addr)
			lo = mid;
		else
			hi = mid - 1;
	}
	return f->val[lo];
}

uint32_t dict_lpm_get6(const struct dict_lpm *l, const uint8_t addr6[16])
{
	const struct family6 *f = &l->f6;
	u128 a = addr128(addr6, 16);
	uint32_t t = (uint32_t)(a >> (128 - f->bits));
	uint32_t lo = f->index[t], hi = f->index[t + 1];
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo + 1) / 2;
		if (f->start[mid] <= a)
			lo = mid;
		else
			hi = mid - 1;
	}
	return f->val[lo];
}

size_t dict_lpm_bytes(const struct dict_lpm *l)
{
	return sizeof *l + ((((size_t)1 << l->f4.bits) + ((size_t)1 << l->f6.bits) + 2) * 4) +
	       l->f4.n * 8 + l->f6.n * 20;
}

size_t dict_lpm_ranges(const struct dict_lpm *l, int v6)
{
	return v6 ? l->f6.n : l->f4.n;
}

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

/* The index: a tree of nodes, each a table of 2^bits entries indexed by the address bits
 * right after the bits that all range starts of the node share (path compression), so
 * clustered prefixes (everything under one /32) spread as well as scattered ones. An
 * entry holds the last range starting at or below its bucket's first address; a bucket
 * with more than LEAF candidate ranges gets a child node. A lookup: one or two nodes,
 * then a binary search over at most LEAF ranges. */
#define LEAF 8
#define ROOT_MIN_BITS 8
#define ROOT_MAX_BITS 20
#define CHILD_MAX_BITS 16

struct node {
	u128 prefix;       /* a >> cmp_shift equals it inside; below: range lo, above: range hi */
	uint32_t lo, hi;   /* the ranges that may hold an address of the node */
	uint32_t tab;      /* first entry (of 2^bits + 1) */
	uint8_t cmp_shift; /* 128: nothing to compare (the root of a spread-out set) */
	uint8_t idx_shift, bits;
};

struct entry {
	uint32_t lo;    /* last range starting at or below the bucket's first address */
	uint32_t child; /* 0: a leaf, the candidates are lo .. next entry's lo; else a node */
};

struct family {
	unsigned width;   /* 32 or 128: address bits; the low 128 - width of s[] are 0 */
	uint32_t *start4; /* IPv4: range starts */
	u128 *start6;     /* IPv6: range starts */
	uint32_t *val;
	size_t n;
	struct node *nodes;
	size_t nnodes;
	struct entry *tab;
	size_t ntab;
};

struct dict_lpm {
	struct family f4, f6;
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

static unsigned ceil_log2(size_t n)
{
	unsigned b = 0;
	while (b < 63 && ((size_t)1 << b) < n)
		b++;
	return b;
}

static unsigned clz128(u128 x)
{
	uint64_t hi = (uint64_t)(x >> 64), lo = (uint64_t)x;
	if (hi)
		return (unsigned)__builtin_clzll(hi);
	if (lo)
		return 64 + (unsigned)__builtin_clzll(lo);
	return 128;
}

/* Append a node for candidate ranges lo..hi (their starts after lo lie in the node's
 * region); returns its index or -1 without memory. */
static long add_node(struct family *f, size_t *cap, uint32_t lo, uint32_t hi)
{
	if (f->nnodes == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct node *nn = realloc(f->nodes, nc * sizeof *nn);
		if (!nn)
			return -1;
		f->nodes = nn;
		*cap = nc;
	}
	memset(&f->nodes[f->nnodes], 0, sizeof f->nodes[0]);
	f->nodes[f->nnodes].lo = lo;
	f->nodes[f->nnodes].hi = hi;
	return (long)f->nnodes++;
}

/* Fill node i over the top-aligned starts s; queue its children. 0 or -1. */
static int build_node(struct family *f, const u128 *s, size_t i, size_t *ncap, size_t *tcap)
{
	struct node nd = f->nodes[i];
	size_t count = (size_t)nd.hi - nd.lo + 1;
	unsigned bits;
	if (nd.hi == nd.lo) { /* a single range: nothing to index */
		nd.cmp_shift = 128;
		nd.idx_shift = (uint8_t)(128 - f->width);
		bits = 0;
	} else {
		unsigned cp = clz128(s[nd.lo + 1] ^ s[nd.hi]); /* < width unless lo + 1 == hi */
		if (cp > f->width)
			cp = f->width;
		nd.cmp_shift = (uint8_t)(128 - cp);
		nd.prefix = cp == 0 ? 0 : s[nd.lo + 1] >> nd.cmp_shift;
		bits = ceil_log2(count);
		if (i == 0)
			bits = bits < ROOT_MIN_BITS ? ROOT_MIN_BITS : bits > ROOT_MAX_BITS ? ROOT_MAX_BITS : bits;
		else
			bits = bits < 2 ? 2 : bits > CHILD_MAX_BITS ? CHILD_MAX_BITS : bits;
		if (bits > nd.cmp_shift - (128u - f->width)) /* no index on always-0 bits */
			bits = nd.cmp_shift - (128u - f->width);
		nd.idx_shift = (uint8_t)(nd.cmp_shift - bits);
	}
	nd.bits = (uint8_t)bits;
	size_t len = ((size_t)1 << bits) + 1;
	if (f->ntab + len > *tcap) {
		size_t nc = *tcap ? *tcap : 1024;
		while (nc < f->ntab + len)
			nc *= 2;
		struct entry *nt = realloc(f->tab, nc * sizeof *nt);
		if (!nt)
			return -1;
		f->tab = nt;
		*tcap = nc;
	}
	nd.tab = (uint32_t)f->ntab;
	f->ntab += len;
	struct entry *e = &f->tab[nd.tab];
	u128 base = nd.cmp_shift >= 128 ? 0 : nd.prefix << nd.cmp_shift;
	uint32_t r = nd.lo;
	for (size_t t = 0; t + 1 < len; t++) {
		u128 b = base | ((u128)t << nd.idx_shift);
		while (r < nd.hi && s[r + 1] <= b)
			r++;
		e[t].lo = r;
		e[t].child = 0;
	}
	e[len - 1].lo = nd.hi;
	e[len - 1].child = 0;
	f->nodes[i] = nd;
	for (size_t t = 0; t + 1 < len; t++) {
		uint32_t lo = e[t].lo, hi = e[t + 1].lo;
		if (t + 2 < len && s[hi] == (base | ((u128)(t + 1) << nd.idx_shift)))
			hi--; /* starts the next bucket */
		if (hi - lo + 1 <= LEAF)
			continue;
		long c = add_node(f, ncap, lo, hi);
		if (c < 0)
			return -1;
		e[t].child = (uint32_t)c;
	}
	return 0;
}

/* The index over the family's n range starts (top-aligned in s). 0 or -1. */
static int build_index(struct family *f, const u128 *s)
{
	size_t ncap = 0, tcap = 0;
	if (add_node(f, &ncap, 0, (uint32_t)(f->n - 1)) < 0)
		return -1;
	for (size_t i = 0; i < f->nnodes; i++)
		if (build_node(f, s, i, &ncap, &tcap) != 0)
			return -1;
	return 0;
}

static void family_free(struct family *f)
{
	free(f->start4);
	free(f->start6);
	free(f->val);
	free(f->nodes);
	free(f->tab);
}

void dict_lpm_free(struct dict_lpm *l)
{
	if (!l)
		return;
	family_free(&l->f4);
	family_free(&l->f6);
	free(l);
}

/* Flatten the prefixes of one family into f: ranges, then the index. 0 or -1. */
static int build_family(struct family *f, const struct dict_ip *prefixes, size_t n, int v6,
			struct item *items, struct ranges *r)
{
	f->width = v6 ? 128 : 32;
	size_t k = collect(prefixes, n, v6, items);
	sweep(items, k, v6 ? ~(u128)0 : (u128)UINT32_MAX, r);
	f->n = r->n;
	f->val = malloc(r->n * sizeof *f->val);
	if (v6)
		f->start6 = malloc(r->n * sizeof *f->start6);
	else
		f->start4 = malloc(r->n * sizeof *f->start4);
	if (!f->val || (v6 ? !f->start6 : !f->start4))
		return -1;
	for (size_t i = 0; i < r->n; i++) {
		f->val[i] = r->val[i];
		if (v6)
			f->start6[i] = r->start[i];
		else
			f->start4[i] = (uint32_t)r->start[i];
		if (!v6)
			r->start[i] <<= 96; /* the index works on top-aligned addresses */
	}
	return build_index(f, r->start);
}

int dict_lpm_build(const struct dict_ip *prefixes, size_t n, struct dict_lpm **out)
{
	*out = NULL;
	if (n >= ((size_t)1 << 30))
		return -1;
	struct dict_lpm *l = calloc(1, sizeof *l);
	struct item *items = malloc((n ? n : 1) * sizeof *items);
	struct ranges r = { malloc((2 * n + 1) * sizeof(u128)), malloc((2 * n + 1) * sizeof(uint32_t)), 0 };
	int ok = l && items && r.start && r.val && build_family(&l->f4, prefixes, n, 0, items, &r) == 0 &&
		 build_family(&l->f6, prefixes, n, 1, items, &r) == 0;
	free(items);
	free(r.start);
	free(r.val);
	if (!ok) {
		dict_lpm_free(l);
		return -1;
	}
	*out = l;
	return 0;
}

/* Walk the index for the top-aligned address a: the candidate ranges lo..hi. */
static inline void walk(const struct family *f, u128 a, uint32_t *lo, uint32_t *hi)
{
	const struct node *nd = f->nodes;
	for (;;) {
		if (nd->cmp_shift < 128) {
			u128 x = a >> nd->cmp_shift;
			if (x != nd->prefix) {
				*lo = *hi = x < nd->prefix ? nd->lo : nd->hi;
				return;
			}
		}
		uint32_t t = (uint32_t)(a >> nd->idx_shift) & (((uint32_t)1 << nd->bits) - 1);
		const struct entry *e = &f->tab[nd->tab + t];
		if (e->child) {
			nd = &f->nodes[e->child];
			continue;
		}
		*lo = e[0].lo;
		*hi = e[1].lo;
		return;
	}
}

/* walk() for IPv4 in 64-bit arithmetic: every shift of an IPv4 node is >= 96 (the
 * index never looks at the 96 always-zero bits), so a >> k == a4 >> (k - 96). */
static inline void walk4(const struct family *f, uint32_t a4, uint32_t *lo, uint32_t *hi)
{
	const struct node *nd = f->nodes;
	uint64_t a = a4;
	for (;;) {
		if (nd->cmp_shift < 128) {
			uint64_t x = a >> (nd->cmp_shift - 96), p = (uint64_t)nd->prefix;
			if (x != p) {
				*lo = *hi = x < p ? nd->lo : nd->hi;
				return;
			}
		}
		uint32_t t = (uint32_t)(a >> (nd->idx_shift - 96)) & (((uint32_t)1 << nd->bits) - 1);
		const struct entry *e = &f->tab[nd->tab + t];
		if (e->child) {
			nd = &f->nodes[e->child];
			continue;
		}
		*lo = e[0].lo;
		*hi = e[1].lo;
		return;
	}
}

uint32_t dict_lpm_get4(const struct dict_lpm *l, uint32_t addr)
{
	const struct family *f = &l->f4;
	uint32_t lo, hi;
	walk4(f, addr, &lo, &hi);
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo + 1) / 2;
		if (f->start4[mid] <= addr)
			lo = mid;
		else
			hi = mid - 1;
	}
	return f->val[lo];
}

uint32_t dict_lpm_get6(const struct dict_lpm *l, const uint8_t addr6[16])
{
	const struct family *f = &l->f6;
	u128 a = addr128(addr6, 16);
	uint32_t lo, hi;
	walk(f, a, &lo, &hi);
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo + 1) / 2;
		if (f->start6[mid] <= a)
			lo = mid;
		else
			hi = mid - 1;
	}
	return f->val[lo];
}

size_t dict_lpm_bytes(const struct dict_lpm *l)
{
	return sizeof *l + l->f4.n * 8 + l->f6.n * 20 +
	       (l->f4.ntab + l->f6.ntab) * sizeof(struct entry) +
	       (l->f4.nnodes + l->f6.nnodes) * sizeof(struct node);
}

size_t dict_lpm_ranges(const struct dict_lpm *l, int v6)
{
	return v6 ? l->f6.n : l->f4.n;
}

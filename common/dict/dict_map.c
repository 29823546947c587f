/* dict_map.c: the hash maps declared in dict_map.h. */
#include "dict/dict_map.h"

#include <stdlib.h>
#include <string.h>

struct slot64 {
	uint64_t key;
	uint32_t val; /* DICT_MAP_NONE marks an empty slot */
};

struct slot128 {
	uint64_t hi, lo;
	uint32_t val;
};

struct dict_map64 {
	uint64_t mask;
	struct slot64 *slots;
};

struct dict_map128 {
	uint64_t mask;
	struct slot128 *slots;
};

/* The finaliser of MurmurHash3: every key bit affects every hash bit. */
static inline uint64_t mix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

static uint64_t capacity_for(size_t n)
{
	uint64_t cap = 16;
	while (cap < (uint64_t)n * 2)
		cap <<= 1;
	return cap;
}

int dict_map64_build(const uint64_t *keys, size_t n, struct dict_map64 **out)
{
	*out = NULL;
	if (n >= DICT_MAP_MAX)
		return -1;
	struct dict_map64 *m = malloc(sizeof *m);
	uint64_t cap = capacity_for(n);
	if (!m || !(m->slots = malloc(cap * sizeof *m->slots))) {
		free(m);
		return -1;
	}
	m->mask = cap - 1;
	for (uint64_t i = 0; i < cap; i++)
		m->slots[i].val = DICT_MAP_NONE;
	for (size_t i = 0; i < n; i++) {
		uint64_t h = mix64(keys[i]) & m->mask;
		while (m->slots[h].val != DICT_MAP_NONE && m->slots[h].key != keys[i])
			h = (h + 1) & m->mask;
		if (m->slots[h].val == DICT_MAP_NONE) {
			m->slots[h].key = keys[i];
			m->slots[h].val = (uint32_t)i;
		}
	}
	*out = m;
	return 0;
}

void dict_map64_free(struct dict_map64 *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}

uint32_t dict_map64_get(const struct dict_map64 *m, uint64_t key)
{
	uint64_t h = mix64(key) & m->mask;
	for (;;) {
		const struct slot64 *s = &m->slots[h];
		if (s->val == DICT_MAP_NONE || s->key == key)
			return s->val;
		h = (h + 1) & m->mask;
	}
}

size_t dict_map64_bytes(const struct dict_map64 *m)
{
	return m ? sizeof *m + (m->mask + 1) * sizeof(struct slot64) : 0;
}

static inline void split128(const uint8_t *k, uint64_t *hi, uint64_t *lo)
{
	uint64_t a = 0, b = 0;
	for (int i = 0; i < 8; i++) {
		a = a << 8 | k[i];
		b = b << 8 | k[8 + i];
	}
	*hi = a;
	*lo = b;
}

int dict_map128_build(const uint8_t *keys, size_t n, struct dict_map128 **out)
{
	*out = NULL;
	if (n >= DICT_MAP_MAX)
		return -1;
	struct dict_map128 *m = malloc(sizeof *m);
	uint64_t cap = capacity_for(n);
	if (!m || !(m->slots = malloc(cap * sizeof *m->slots))) {
		free(m);
		return -1;
	}
	m->mask = cap - 1;
	for (uint64_t i = 0; i < cap; i++)
		m->slots[i].val = DICT_MAP_NONE;
	for (size_t i = 0; i < n; i++) {
		uint64_t hi, lo;
		split128(keys + 16 * i, &hi, &lo);
		uint64_t h = mix64(hi ^ mix64(lo)) & m->mask;
		while (m->slots[h].val != DICT_MAP_NONE &&
		       (m->slots[h].hi != hi || m->slots[h].lo != lo))
			h = (h + 1) & m->mask;
		if (m->slots[h].val == DICT_MAP_NONE) {
			m->slots[h].hi = hi;
			m->slots[h].lo = lo;
			m->slots[h].val = (uint32_t)i;
		}
	}
	*out = m;
	return 0;
}

void dict_map128_free(struct dict_map128 *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}

uint32_t dict_map128_get(const struct dict_map128 *m, const uint8_t key[16])
{
	uint64_t hi, lo;
	split128(key, &hi, &lo);
	uint64_t h = mix64(hi ^ mix64(lo)) & m->mask;
	for (;;) {
		const struct slot128 *s = &m->slots[h];
		if (s->val == DICT_MAP_NONE || (s->hi == hi && s->lo == lo))
			return s->val;
		h = (h + 1) & m->mask;
	}
}

size_t dict_map128_bytes(const struct dict_map128 *m)
{
	return m ? sizeof *m + (m->mask + 1) * sizeof(struct slot128) : 0;
}

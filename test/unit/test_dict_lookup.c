/* test_dict_lookup.c: cmocka tests of the loader's lookup structures (common/dict):
 * longest-prefix match (dict_lpm) for IPv4 and IPv6 against a brute-force reference on
 * random nested prefix sets, on clustered sets (all under one /32, nested outliers),
 * the hash maps (dict_map) against linear search, and the value formatters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "dict/dict_lpm.h"
#include "dict/dict_map.h"
#include "dict/dict_value.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static void seed(void)
{
	const char *s = getenv("TEST_SEED");
	rng_state = s ? strtoull(s, NULL, 0) : 0x9e3779b97f4a7c15ULL;
	if (!rng_state)
		rng_state = 1;
	print_message("seed %llu (set TEST_SEED to repeat)\n", (unsigned long long)rng_state);
}

static void mask(struct dict_ip *p)
{
	unsigned bits = p->v6 ? 128 : 32;
	for (unsigned b = p->plen; b < bits; b++)
		p->addr[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
}

static int contains(const struct dict_ip *p, const uint8_t *a, int v6)
{
	if (p->v6 != v6)
		return 0;
	for (unsigned b = 0; b < p->plen; b++) {
		unsigned m = 0x80u >> (b % 8);
		if ((p->addr[b / 8] & m) != (a[b / 8] & m))
			return 0;
	}
	return 1;
}

static uint32_t brute(const struct dict_ip *p, size_t n, const uint8_t *a, int v6)
{
	uint32_t best = DICT_LPM_NONE;
	int bestlen = -1;
	for (size_t i = 0; i < n; i++)
		if (contains(&p[i], a, v6) && (int)p[i].plen > bestlen) {
			best = (uint32_t)i;
			bestlen = p[i].plen;
		}
	return best;
}

/* Random prefixes clustered so that they nest: IPv4 under a few /8s, IPv6 under 2001:db8::/32
 * and a few other /16s; some very short ones (/0../4) too. */
static void random_prefix(struct dict_ip *p, int v6)
{
	memset(p, 0, sizeof *p);
	p->v6 = (uint8_t)v6;
	uint64_t r = rnd();
	for (int i = 0; i < 16; i++)
		p->addr[i] = (uint8_t)(rnd() >> 24);
	if (!v6) {
		static const uint8_t firsts[] = { 10, 100, 172, 192 };
		p->addr[0] = firsts[r % 4];
		memset(p->addr + 4, 0, 12);
		unsigned x = (unsigned)(r >> 8) % 100;
		p->plen = (uint8_t)(x < 3 ? x : x < 10 ? 8 + x % 4 : 12 + (r >> 16) % 21);
	} else {
		static const uint8_t firsts[][2] = { { 0x20, 0x01 }, { 0x2a, 0x02 }, { 0xfe, 0x80 } };
		memcpy(p->addr, firsts[r % 3], 2);
		if (r % 3 == 0) {
			p->addr[2] = 0x0d;
			p->addr[3] = 0xb8;
		}
		unsigned x = (unsigned)(r >> 8) % 100;
		p->plen = (uint8_t)(x < 3 ? x : x < 10 ? 16 + x : 32 + (r >> 16) % 97);
	}
	mask(p);
}

static void add128(uint8_t *a, int delta, unsigned bytes)
{
	/* a += delta (delta = +1 or -1), wrapping, over the first `bytes` bytes */
	for (int i = (int)bytes - 1; i >= 0; i--) {
		if (delta > 0) {
			if (++a[i] != 0)
				return;
		} else {
			if (a[i]-- != 0)
				return;
		}
	}
}

static uint32_t v4(const uint8_t *a)
{
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

static void check_random(size_t n, size_t probes)
{
	struct dict_ip *p = calloc(n, sizeof *p);
	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		random_prefix(&p[i], (int)(rnd() % 2));
	/* a few duplicates: the first must win */
	for (size_t i = 0; i + 1 < n && i < 10; i += 2)
		p[n - 1 - i] = p[i];
	struct dict_lpm *l = NULL;
	assert_int_equal(dict_lpm_build(p, n, &l), 0);
	size_t checked = 0;
	for (size_t k = 0; k < probes; k++) {
		uint8_t a[16];
		int fam;
		if (k % 2) { /* near a prefix boundary */
			const struct dict_ip *q = &p[rnd() % n];
			fam = q->v6;
			memcpy(a, q->addr, 16);
			unsigned bits = fam ? 128 : 32;
			if (rnd() % 2) /* last address of q */
				for (unsigned b = q->plen; b < bits; b++)
					a[b / 8] |= (uint8_t)(0x80u >> (b % 8));
			int d = (int)(rnd() % 3) - 1;
			if (d)
				add128(a, d, fam ? 16 : 4);
		} else { /* random inside a cluster */
			struct dict_ip q;
			fam = (int)(rnd() % 2);
			random_prefix(&q, fam);
			memcpy(a, q.addr, 16);
			for (unsigned i = fam ? 4 : 1; i < (fam ? 16u : 4u); i++)
				a[i] = (uint8_t)rnd();
		}
		uint32_t want = brute(p, n, a, fam);
		uint32_t got = fam ? dict_lpm_get6(l, a) : dict_lpm_get4(l, v4(a));
		if (got != want) {
			char buf[DICT_IP_STRLEN];
			struct dict_ip x = { .plen = fam ? 128 : 32, .v6 = (uint8_t)fam };
			memcpy(x.addr, a, 16);
			dict_format_ip(&x, 0, buf);
			print_error("address %s: got %u, want %u\n", buf, got, want);
			fail();
		}
		checked++;
	}
	assert_int_equal(checked, probes);
	dict_lpm_free(l);
	free(p);
}

static void test_lpm_random_small(void **state)
{
	for (int round = 0; round < 200; round++)
		check_random(1 + rnd() % 20, 400);
}

static void test_lpm_random_large(void **state)
{
	check_random(3000, 100000);
}

/* Prefixes all under one /32 (the case a top-bits index handles badly), under one /8
 * for IPv4, and a nested "outlier + cluster" pattern at every level, which makes the
 * index several levels deep; against brute force. */
static void test_lpm_clustered(void **state)
{
	size_t n = 6000;
	struct dict_ip *p = calloc(n, sizeof *p);
	assert_non_null(p);
	for (size_t i = 0; i < n; i++) {
		struct dict_ip *q = &p[i];
		q->v6 = (uint8_t)(i % 2);
		for (int b = 0; b < 16; b++)
			q->addr[b] = (uint8_t)rnd();
		if (q->v6) {
			static const uint8_t db8[4] = { 0x20, 0x01, 0x0d, 0xb8 };
			memcpy(q->addr, db8, 4);
			if (i % 6 == 1) /* deep cluster: 2001:db8:0:0:0:0:xxxx:xxxx */
				memset(q->addr + 4, 0, 8);
			q->plen = (uint8_t)(i % 10 == 1 ? 33 + rnd() % 32 : 48 + rnd() % 81);
		} else {
			memset(q->addr + 4, 0, 12);
			q->addr[0] = 10;
			if (i % 6 == 0) /* 10.0.0.x */
				q->addr[1] = q->addr[2] = 0;
			q->plen = (uint8_t)(i % 10 == 0 ? 9 + rnd() % 8 : 20 + rnd() % 13);
		}
		mask(q);
	}
	/* outlier + cluster at every bit: 2001:db8::/32 + one host per level */
	for (size_t i = 0; i < 100; i++) {
		struct dict_ip *q = &p[n - 1 - i];
		memset(q, 0, sizeof *q);
		q->v6 = 1;
		q->plen = 128;
		q->addr[0] = 0x20;
		q->addr[1] = 0x01;
		unsigned bit = 16 + (unsigned)i;
		q->addr[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
	}
	struct dict_lpm *l = NULL;
	assert_int_equal(dict_lpm_build(p, n, &l), 0);
	for (size_t k = 0; k < 8000; k++) {
		const struct dict_ip *q = &p[rnd() % n];
		uint8_t a[16];
		memcpy(a, q->addr, 16);
		unsigned bits = q->v6 ? 128 : 32;
		for (unsigned b = q->plen; b < bits; b++)
			if (rnd() % 2)
				a[b / 8] |= (uint8_t)(0x80u >> (b % 8));
		if (k % 3 == 0)
			add128(a, k % 2 ? 1 : -1, q->v6 ? 16 : 4);
		uint32_t want = brute(p, n, a, q->v6);
		uint32_t got = q->v6 ? dict_lpm_get6(l, a) : dict_lpm_get4(l, v4(a));
		if (got != want) {
			char buf[DICT_IP_STRLEN];
			struct dict_ip x = { .plen = q->v6 ? 128 : 32, .v6 = q->v6 };
			memcpy(x.addr, a, 16);
			dict_format_ip(&x, 0, buf);
			print_error("address %s: got %u, want %u\n", buf, got, want);
			fail();
		}
	}
	/* memory stays proportional to the ranges, deep or not */
	assert_true(dict_lpm_bytes(l) < 200 * (dict_lpm_ranges(l, 0) + dict_lpm_ranges(l, 1)) + (1u << 20));
	dict_lpm_free(l);
	free(p);
}

/* The fast formatters agree with inet_ntop and printf. */
static void test_format(void **state)
{
	for (int k = 0; k < 20000; k++) {
		struct dict_ip ip;
		memset(&ip, 0, sizeof ip);
		ip.v6 = (uint8_t)(k % 2);
		for (int b = 0; b < (ip.v6 ? 16 : 4); b++)
			ip.addr[b] = (uint8_t)(k % 7 == 0 ? 0 : rnd());
		ip.plen = (uint8_t)(rnd() % (ip.v6 ? 129 : 33));
		char got[DICT_IP_STRLEN], want[DICT_IP_STRLEN + 8];
		dict_format_ip(&ip, 1, got);
		assert_non_null(inet_ntop(ip.v6 ? AF_INET6 : AF_INET, ip.addr, want, sizeof want));
		snprintf(want + strlen(want), 8, "/%u", ip.plen);
		assert_string_equal(got, want);
		uint64_t mac = rnd() & 0xffffffffffffULL;
		dict_format_mac(mac, got);
		snprintf(want, sizeof want, "%02x:%02x:%02x:%02x:%02x:%02x", (unsigned)(mac >> 40) & 255,
			 (unsigned)(mac >> 32) & 255, (unsigned)(mac >> 24) & 255, (unsigned)(mac >> 16) & 255,
			 (unsigned)(mac >> 8) & 255, (unsigned)mac & 255);
		assert_string_equal(got, want);
		uint64_t v = k % 3 ? rnd() >> (rnd() % 64) : (uint64_t)k;
		size_t len = dict_format_uint(v, got);
		assert_int_equal(len, strlen(got));
		snprintf(want, sizeof want, "%llu", (unsigned long long)v);
		assert_string_equal(got, want);
	}
	char buf[24];
	dict_format_uint(UINT64_MAX, buf);
	assert_string_equal(buf, "18446744073709551615");
}

static struct dict_ip P(const char *s)
{
	struct dict_ip ip;
	const char *why;
	assert_int_equal(dict_parse_cidr(s, strlen(s), &ip, &why), 0);
	return ip;
}

static uint32_t get(const struct dict_lpm *l, const char *addr)
{
	struct dict_ip ip;
	assert_int_equal(dict_parse_ip(addr, strlen(addr), &ip), 0);
	return ip.v6 ? dict_lpm_get6(l, ip.addr) : dict_lpm_get4(l, v4(ip.addr));
}

static void test_lpm_edges(void **state)
{
	struct dict_lpm *l = NULL;
	/* empty set */
	assert_int_equal(dict_lpm_build(NULL, 0, &l), 0);
	assert_int_equal(get(l, "0.0.0.0"), DICT_LPM_NONE);
	assert_int_equal(get(l, "255.255.255.255"), DICT_LPM_NONE);
	assert_int_equal(get(l, "::"), DICT_LPM_NONE);
	dict_lpm_free(l);
	/* the manual's example plus /8, /0 and host routes at the ends of the space */
	struct dict_ip p[] = { P("192.168.1.0/24"), P("10.64.66.0/24"), P("172.16.0.0"),
			       P("2a02:2168:aaa:bbb::2"), P("10.0.0.0/8"), P("255.255.255.255"),
			       P("0.0.0.0"), P("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), P("::/0") };
	assert_int_equal(dict_lpm_build(p, sizeof p / sizeof p[0], &l), 0);
	assert_int_equal(get(l, "192.168.1.77"), 0);
	assert_int_equal(get(l, "192.168.2.1"), DICT_LPM_NONE);
	assert_int_equal(get(l, "10.64.66.1"), 1);
	assert_int_equal(get(l, "10.64.67.1"), 4);
	assert_int_equal(get(l, "10.255.255.255"), 4);
	assert_int_equal(get(l, "11.0.0.0"), DICT_LPM_NONE);
	assert_int_equal(get(l, "9.255.255.255"), DICT_LPM_NONE);
	assert_int_equal(get(l, "172.16.0.0"), 2);
	assert_int_equal(get(l, "172.16.0.1"), DICT_LPM_NONE);
	assert_int_equal(get(l, "255.255.255.255"), 5);
	assert_int_equal(get(l, "255.255.255.254"), DICT_LPM_NONE);
	assert_int_equal(get(l, "0.0.0.0"), 6);
	assert_int_equal(get(l, "0.0.0.1"), DICT_LPM_NONE);
	assert_int_equal(get(l, "2a02:2168:aaa:bbb::2"), 3);
	assert_int_equal(get(l, "2a02:2168:aaa:bbb::3"), 8);
	assert_int_equal(get(l, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 7);
	assert_int_equal(get(l, "::"), 8);
	/* an IPv4-mapped IPv6 address is IPv6: the IPv4 prefixes do not apply */
	assert_int_equal(get(l, "::ffff:10.0.0.1"), 8);
	assert_true(dict_lpm_ranges(l, 0) >= 9);
	dict_lpm_free(l);
}

static void test_map64(void **state)
{
	size_t n = 50000;
	uint64_t *keys = malloc(n * sizeof *keys);
	assert_non_null(keys);
	for (size_t i = 0; i < n; i++)
		keys[i] = i % 7 == 0 ? i : rnd() % 1000000; /* duplicates likely */
	struct dict_map64 *m = NULL;
	assert_int_equal(dict_map64_build(keys, n, &m), 0);
	for (size_t k = 0; k < 20000; k++) {
		uint64_t key = k % 2 ? keys[rnd() % n] : rnd() % 2000000;
		uint32_t want = DICT_MAP_NONE;
		for (size_t i = 0; i < n; i++)
			if (keys[i] == key) {
				want = (uint32_t)i;
				break;
			}
		assert_int_equal(dict_map64_get(m, key), want);
	}
	dict_map64_free(m);
	assert_int_equal(dict_map64_build(keys, 0, &m), 0);
	assert_int_equal(dict_map64_get(m, 0), DICT_MAP_NONE);
	dict_map64_free(m);
	free(keys);
}

static void test_map128(void **state)
{
	size_t n = 20000;
	uint8_t *keys = malloc(n * 16);
	assert_non_null(keys);
	for (size_t i = 0; i < n; i++)
		for (int b = 0; b < 16; b++)
			keys[16 * i + b] = (uint8_t)(b < 14 ? 0x20 : rnd() % 64); /* 4096 distinct */
	struct dict_map128 *m = NULL;
	assert_int_equal(dict_map128_build(keys, n, &m), 0);
	for (size_t k = 0; k < 5000; k++) {
		uint8_t key[16];
		memcpy(key, keys + 16 * (rnd() % n), 16);
		if (k % 2)
			key[15] = (uint8_t)(rnd() % 80);
		uint32_t want = DICT_MAP_NONE;
		for (size_t i = 0; i < n; i++)
			if (memcmp(keys + 16 * i, key, 16) == 0) {
				want = (uint32_t)i;
				break;
			}
		assert_int_equal(dict_map128_get(m, key), want);
	}
	dict_map128_free(m);
	free(keys);
}

int main(void)
{
	seed();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lpm_edges),
		cmocka_unit_test(test_lpm_random_small),
		cmocka_unit_test(test_lpm_random_large),
		cmocka_unit_test(test_lpm_clustered),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_map64),
		cmocka_unit_test(test_map128),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* bench-dict: how fast the dictionaries load and how fast the loader looks them up.
 *
 *   bench-dict [--lines N] [--dir DIR]
 *
 * Writes a subnets_local_dic.txt (N lines: IPv4 /16../32 and IPv6 /32../128 prefixes,
 * nested) and a subscribers_dic.txt (N lines, 9 columns, 7/8 IPv4) into DIR (default a
 * fresh temporary directory, removed afterwards), then reports:
 *   - parse + validate time of each file (dict_load_file),
 *   - the time to build its lookup structure and swap it in (dict_store_refresh),
 *   - single-thread lookups per second through a snapshot: subnet LPM (IPv4, IPv6),
 *     subscriber by IPv4, AS number set; half the probes hit, half miss. Timed in the
 *     thread's CPU time (per core: the machine is shared; other processes' slices
 *     do not count).
 * The numbers go to docs/PERFORMANCE.md by hand, with the command line.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dict/dict_parse.h"
#include "dict/dict_store.h"
#include "log.h"

static uint64_t rs = 88172645463325252ULL;
static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this thread: lookups per second per core, whatever else the (shared,
 * busy) machine runs; time slices given to other processes do not count. */
static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void write_subnets(const char *path, size_t n)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(2);
	}
	/* distinct by construction: line i -> a prefix derived from i */
	for (size_t i = 0; i < n; i++) {
		if (i % 8 == 7) {
			fprintf(f, "2001:db8:%x:%x::/64\tLOCAL%zu\n", (unsigned)(i >> 16) & 0xffff,
				(unsigned)i & 0xffff, i);
		} else {
			uint32_t a = (uint32_t)(10u << 24) + (uint32_t)i * 64; /* /26 each, within 10/8.. */
			unsigned len = i % 5 == 0 ? 24 : 26;
			if (len == 24)
				a &= ~0xffu;
			if (i % 1024 == 0) { /* some big ones so prefixes nest */
				len = 16;
				a &= ~0xffffu;
			}
			fprintf(f, "%u.%u.%u.%u/%u\tLOCAL%zu\n", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
				a & 255, len, i);
		}
	}
	fclose(f);
}

static void write_subscribers(const char *path, size_t n)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(2);
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t a = (uint32_t)(100u << 24) + (uint32_t)i;
		if (i % 8 == 7)
			fprintf(f, "2001:db8::%x:%x", (unsigned)(i >> 16), (unsigned)i & 0xffff);
		else
			fprintf(f, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
		fprintf(f, "\tlogin%zu\t%zu\tport%zu\tvendor\tcable\tcontract%zu\tinternet\t"
			"00:11:22:%02x:%02x:%02x\n", i, i % 5000 + 1, i % 48, i, (unsigned)(i >> 16) & 255,
			(unsigned)(i >> 8) & 255, (unsigned)i & 255);
	}
	fclose(f);
}

static void write_asn(const char *path)
{
	FILE *f = fopen(path, "w");
	for (unsigned i = 0; f && i < 100; i++)
		fprintf(f, "%u\tLOCAL\n", 64512 + i * 7);
	if (f)
		fclose(f);
}

static void time_parse(const char *name, const char *path)
{
	struct dict_errors errs;
	struct dict_data *d = NULL;
	dict_errors_init(&errs, 5);
	double t = now();
	int rc = dict_load_file(dict_def_by_name(name), path, &d, &errs);
	t = now() - t;
	if (rc != 0) {
		dict_errors_print(&errs, stderr);
		exit(1);
	}
	printf("%-20s parse+validate %zu lines: %.3f s\n", name, dict_data_rows(d), t);
	dict_data_free(d);
	dict_errors_free(&errs);
}

#define PROBES (1u << 22)
#define ROUNDS 8

static void report(const char *what, double best, double total, size_t hits)
{
	printf("%-34s %6.1f million/s per core (best of %d rounds; mean %.1f; %zu of %zu hit)\n", what,
	       PROBES / best / 1e6, ROUNDS, (double)PROBES * ROUNDS / total / 1e6, hits,
	       (size_t)PROBES * ROUNDS);
}

/* Time ROUNDS passes of EXPR over i = 0..PROBES-1 in CPU time; report the best pass (the
 * least disturbed by other processes' cache use) and the mean. */
#define MEASURE(what, EXPR)                                                        \
	do {                                                                       \
		double best_ = 1e30, total_ = 0;                                   \
		size_t hits_ = 0;                                                  \
		for (int r_ = 0; r_ < ROUNDS; r_++) {                              \
			double t0_ = cpu_now();                                    \
			for (size_t i = 0; i < PROBES; i++) {                      \
				uint32_t x_ = (EXPR);                              \
				hits_ += x_ != DICT_NONE;                          \
				sink ^= x_;                                        \
			}                                                          \
			double dt_ = cpu_now() - t0_;                              \
			total_ += dt_;                                             \
			if (dt_ < best_)                                           \
				best_ = dt_;                                       \
		}                                                                  \
		report(what, best_, total_, hits_);                                \
	} while (0)

int main(int argc, char **argv)
{
	size_t lines = 1000000;
	const char *dir = NULL;
	static const struct option opts[] = { { "lines", required_argument, NULL, 'n' },
					      { "dir", required_argument, NULL, 'd' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	int c;
	while ((c = getopt_long(argc, argv, "n:d:h", opts, NULL)) != -1) {
		if (c == 'n')
			lines = strtoul(optarg, NULL, 10);
		else if (c == 'd')
			dir = optarg;
		else {
			printf("Usage: bench-dict [--lines N] [--dir DIR]\n"
			       "Generates N-line subnets_local_dic and subscribers_dic files and\n"
			       "reports parse time, index build time and lookups per second.\n");
			return c == 'h' ? 0 : 2;
		}
	}
	log_init("bench-dict", LOG_WARN);
	char tmp[] = "/tmp/bench-dict.XXXXXX";
	if (!dir && !(dir = mkdtemp(tmp))) {
		perror("mkdtemp");
		return 2;
	}
	char sub[4096], subs[4096], asn[4096];
	snprintf(sub, sizeof sub, "%s/subnets_local_dic.txt", dir);
	snprintf(subs, sizeof subs, "%s/subscribers_dic.txt", dir);
	snprintf(asn, sizeof asn, "%s/asnum_local_dic.txt", dir);
	write_subnets(sub, lines);
	write_subscribers(subs, lines);
	write_asn(asn);

	time_parse("subnets_local_dic", sub);
	time_parse("subscribers_dic", subs);

	struct dict_store *s = NULL;
	if (dict_store_open(dir, &s) != 0)
		return 2;
	double t = now();
	dict_store_refresh(s, 1, NULL);
	printf("%-20s load all (parse, validate, index, swap): %.3f s\n", "dict_store", now() - t);
	if (dict_store_errors(s))
		return 1;

	uint32_t *a4 = malloc(PROBES * sizeof *a4);
	uint8_t (*a6)[16] = malloc(PROBES * sizeof *a6);
	if (!a4 || !a6)
		return 2;
	struct dict_snap *snap = dict_store_acquire(s);
	volatile uint32_t sink = 0;

	/* subnets: half inside 10.0.0.0/8 (where the prefixes are), half anywhere */
	for (size_t i = 0; i < PROBES; i++)
		a4[i] = i % 2 ? (uint32_t)(10u << 24) + (uint32_t)(rnd() % ((uint64_t)lines * 64))
			      : (uint32_t)rnd();
	MEASURE("subnets_local_dic LPM IPv4", dict_snap_find_ip4(snap, DICT_subnets_local_dic, a4[i]));

	for (size_t i = 0; i < PROBES; i++) {
		uint64_t r = rnd();
		memset(a6[i], 0, 16);
		a6[i][0] = 0x20; a6[i][1] = 0x01; a6[i][2] = 0x0d; a6[i][3] = i % 2 ? 0xb8 : 0xb9;
		a6[i][4] = 0; a6[i][5] = (uint8_t)((r >> 8) % (lines / 65536 + 1));
		a6[i][6] = (uint8_t)(r >> 16); a6[i][7] = (uint8_t)(r >> 24);
		a6[i][15] = (uint8_t)r;
	}
	MEASURE("subnets_local_dic LPM IPv6", dict_snap_find_ip6(snap, DICT_subnets_local_dic, a6[i]));

	for (size_t i = 0; i < PROBES; i++)
		a4[i] = (uint32_t)(100u << 24) + (uint32_t)(rnd() % (lines * 2));
	MEASURE("subscribers_dic by IPv4 (hash)", dict_snap_find_ip4(snap, DICT_subscribers_dic, a4[i]));

	for (size_t i = 0; i < PROBES; i++)
		a4[i] = 64512 + (uint32_t)(rnd() % 1400);
	MEASURE("asnum_local_dic by AS (hash)", dict_snap_find_u64(snap, DICT_asnum_local_dic, a4[i]));
	(void)sink;

	dict_snap_release(snap);
	dict_store_close(s);
	free(a4);
	free(a6);
	if (dir == tmp) {
		unlink(sub);
		unlink(subs);
		unlink(asn);
		rmdir(tmp);
	}
	return 0;
}

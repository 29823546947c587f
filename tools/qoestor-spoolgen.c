/* qoestor-spoolgen: writes spool files (.qsp) of any stream through the real
 * spool writer, for the loader's tests and benchmarks, and prints what it
 * wrote so a test can compare with what ClickHouse holds.
 *
 * Two sources of rows:
 *   random (default): plausible values (fullflow: subscribers in 10.0.0.0/16
 *     with logins user<N>, skewed activity, each with a few favourite hosts
 *     among 400 on public addresses, recurring sessions, DPI direction flags,
 *     AS numbers, some post-NAT and RTT; clickstream and natflow alike; other
 *     streams: every column random by type, some absent, some strings of
 *     random bytes), deterministic for a --seed;
 *   --any: that random-by-type generator for any stream (the encoders' test);
 *   --tsv FILE: exact rows; the first line names the columns (schema names),
 *     each further line gives values as text: integers, dotted IPv4, IPv6,
 *     times as epoch numbers, strings as they are; \N or an empty field for
 *     an absent value.
 *
 * Printed at the end, one "key=value" per line: rows, files, sum_octets,
 * sum_packets (fullflow: octet/packet_delta_count), and with --per-login one
 * "login <name> rows=R octets=O packets=P" line per login.
 *
 * Exit codes: 0 ok, 1 write error, 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "schema/schema.h"
#include "spool/spool.h"

static uint64_t rng_state = 0x853c49e6748fea9bull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

static uint64_t rr(uint64_t n) /* 0..n-1 */
{
	return n ? rnd() % n : 0;
}

struct totals {
	uint64_t rows, octets, packets;
};

#define MAX_LOGINS 100000
static struct totals per_login[MAX_LOGINS];
static struct totals all;

static int col(const struct qs_stream_def *d, const char *name)
{
	return qs_column_index(d, name);
}

/* A column the generator knows must exist: a renamed column is a loud error. */
static int need(const struct qs_stream_def *d, const char *name)
{
	int c = col(d, name);
	if (c < 0) {
		fprintf(stderr, "qoestor-spoolgen: stream %s has no column %s (schema changed? update the generator)\n",
			d->name, name);
		exit(2);
	}
	return c;
}

static void setu(struct qs_record *r, const struct qs_stream_def *d, const char *name, uint64_t v)
{
	int c = need(d, name);
	if (c >= 0)
		qs_record_set_u(r, c, v);
}

static void setb(struct qs_record *r, const struct qs_stream_def *d, const char *name, const void *p, size_t n)
{
	int c = need(d, name);
	if (c >= 0)
		qs_record_set_bytes(r, c, p, (uint32_t)n);
}

static const char *hosts[] = { "google.com", "youtube.com", "vk.com", "yandex.ru", "example.com", "mail.ru",
			       "cdn.example.net", "telegram.org", "ok.ru", "wikipedia.org", "github.com",
			       "netflix.com" };
#define NHOSTS (sizeof hosts / sizeof hosts[0])

struct gen {
	const struct qs_stream_def *d;
	unsigned logins;
	uint64_t t0_ms, span_ms;
	char login[32], path[64], host[32];
	uint8_t v6a[16], v6b[16], mac[6];
};

/* A skewed pick in 0..n-1: small values far more often (u^3), like the
 * activity of subscribers and the popularity of hosts in real traffic. */
static unsigned skew(unsigned n)
{
	double u = (double)(rnd() >> 11) * (1.0 / 9007199254740992.0);
	unsigned x = (unsigned)((double)n * u * u * u);
	return x < n ? x : n - 1;
}

#define NHOSTS_ALL 400u /* the named hosts, then h<N>.example.net */

static const char *host_name(struct gen *g, unsigned hi)
{
	if (hi < NHOSTS)
		return hosts[hi];
	snprintf(g->host, sizeof g->host, "h%u.example.net", hi);
	return g->host;
}

static void gen_fullflow(struct gen *g, struct qs_record *r, unsigned li)
{
	const struct qs_stream_def *d = g->d;
	/* As in real traffic, subscriber, host, protocol and session recur: a
	 * subscriber mostly talks to a few favourite hosts (8 in 10 records),
	 * otherwise to popular ones; a session (subscriber, host, 1 of 2)
	 * reports several slices; protocol, class and AS follow the host; most
	 * records are downloads. */
	unsigned hi = rr(10) < 8 ? (unsigned)((li * 2654435761u + skew(6) * 40503u) % NHOSTS_ALL) : skew(NHOSTS_ALL);
	uint32_t sub = 0x0a000000u | (li & 0xffff), host = 0x5db8d800u + hi * 16 + (uint32_t)(li % 4);
	int down = rr(10) < 8, v6 = (li % 10) == 0;
	uint64_t t = g->t0_ms + rr(g->span_ms);
	uint64_t oct = 40 + rr(1500000), pk = oct / 1000 + 1;
	setu(r, d, "flow_start_ms", t);
	setu(r, d, "flow_end_ms", t + rr(30000));
	setu(r, d, "octets", oct);
	setu(r, d, "packets", pk);
	setu(r, d, "protocol_identifier", rr(5) ? 6 : 17);
	setu(r, d, "ip_class_of_service", hi % 4 ? 0 : hi % 8);
	setu(r, d, "source_transport_port", down ? 443 : 1024 + rr(60000));
	setu(r, d, "destination_transport_port", down ? 1024 + rr(60000) : 443);
	if (v6) {
		memset(g->v6a, 0, 16);
		memset(g->v6b, 0, 16);
		g->v6a[0] = 0x20, g->v6a[1] = 0x01, g->v6a[2] = 0x0d, g->v6a[3] = 0xb8;
		g->v6a[14] = (uint8_t)(li >> 8), g->v6a[15] = (uint8_t)li;
		g->v6b[0] = 0x2a, g->v6b[1] = 0x00, g->v6b[15] = (uint8_t)hi;
		setb(r, d, "source_ipv6", down ? g->v6b : g->v6a, 16);
		setb(r, d, "destination_ipv6", down ? g->v6a : g->v6b, 16);
		setu(r, d, "source_ipv4", 0);
		setu(r, d, "destination_ipv4", 0);
	} else {
		setu(r, d, "source_ipv4", down ? host : sub);
		setu(r, d, "destination_ipv4", down ? sub : host);
		setb(r, d, "source_ipv6", (const uint8_t *)"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
		setb(r, d, "destination_ipv6", (const uint8_t *)"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	}
	uint32_t has = 15169 + hi, sas = 64512;
	setu(r, d, "bgp_source_as_number", down ? has : sas);
	setu(r, d, "bgp_destination_as_number", down ? sas : has);
	setu(r, d, "ingress_interface", down ? 1 : 2);
	setu(r, d, "egress_interface", down ? 2 : 1);
	setu(r, d, "ip_version", v6 ? 6 : 4);
	setu(r, d, "session_id", ((uint64_t)li << 20) | (uint64_t)hi << 1 | rr(2));
	const char *h = host_name(g, hi);
	setb(r, d, "host", h, strlen(h));
	setu(r, d, "dpi_protocol", 1 + (hi * 7) % 40);
	setb(r, d, "login", g->login, strlen(g->login));
	if (!v6 && rr(3) == 0) {
		setu(r, d, "post_nat_source_ipv4", 0xc6336400u + rr(256));
		setu(r, d, "post_napt_source_transport_port", 1024 + rr(60000));
	}
	setu(r, d, "frgmt_delta_packs", rr(3));
	setu(r, d, "repeat_delta_pack", rr(5));
	if (rr(10) < 7)
		setu(r, d, "rtt", 1000 + rr(100000));
	if (rr(2))
		setu(r, d, "vchannel", 1 + rr(8));
	all.octets += oct;
	all.packets += pk;
	per_login[li].octets += oct;
	per_login[li].packets += pk;
}

static void gen_clickstream(struct gen *g, struct qs_record *r, unsigned li)
{
	const struct qs_stream_def *d = g->d;
	setu(r, d, "time", (g->t0_ms + rr(g->span_ms)) / 1000);
	setb(r, d, "login", g->login, strlen(g->login));
	setu(r, d, "source_ipv4", 0x0a000000u | (li & 0xffff));
	setu(r, d, "destination_ipv4", 0x5db8d800u + (uint32_t)rr(4096));
	const char *h = hosts[rr(NHOSTS)];
	setb(r, d, "host", h, strlen(h));
	int n = snprintf(g->path, sizeof g->path, "/p/%u?q=\"%u\"", (unsigned)rr(1000), (unsigned)rr(100));
	setb(r, d, "path", g->path, (size_t)n);
	setb(r, d, "user_agent", "Mozilla/5.0 (X11; Linux x86_64)", 31);
	setu(r, d, "session_id", ((uint64_t)li << 20) | rr(8));
	setu(r, d, "locked", rr(10) ? 0 : 1 + rr(3));
	setu(r, d, "host_type", 1 + rr(4));
	setu(r, d, "method", rr(5));
}

static void gen_natflow(struct gen *g, struct qs_record *r, unsigned li)
{
	const struct qs_stream_def *d = g->d;
	setu(r, d, "time_ms", g->t0_ms + rr(g->span_ms));
	setu(r, d, "protocol_identifier", rr(5) ? 6 : 17);
	setu(r, d, "nat_event", 1 + rr(2));
	setu(r, d, "source_ipv4", 0x0a000000u | (li & 0xffff));
	setu(r, d, "post_nat_source_ipv4", 0xc6336400u + rr(256));
	setu(r, d, "source_transport_port", 1024 + rr(60000));
	setu(r, d, "post_napt_source_transport_port", 1024 + rr(60000));
	setu(r, d, "destination_ipv4", 0x5db8d800u + (uint32_t)rr(4096));
	setu(r, d, "destination_transport_port", 443);
	setu(r, d, "session_id", ((uint64_t)li << 20) | rr(8));
	setb(r, d, "login", g->login, strlen(g->login));
}

/* Any stream: every raw column random by type, one in eight absent (NULL
 * where the column is nullable); strings are the login, or every 4th time
 * random bytes (quotes, commas, newlines, NULs, high bytes) up to 40 bytes,
 * and every 1000th time 70,000 random bytes (beyond a 64 KiB buffer). */
static void gen_any(struct gen *g, struct qs_record *r)
{
	static uint8_t sbuf[4 * 70000]; /* the strings of one record, one after the other */
	size_t used = 0;
	const struct qs_stream_def *d = g->d;
	for (size_t i = 0; i < d->ncols; i++) {
		const struct qs_column *c = &d->cols[i];
		if (!qs_column_stored(c) || (c->flags & QS_F_DERIVED))
			continue;
		if (rr(8) == 0 && !(c->flags & QS_F_TIME))
			continue;
		if (c->type == QS_STR && rr(4) == 0) {
			size_t n = rr(1000) == 0 ? 70000 : rr(41);
			if (n > sizeof sbuf - used)
				n = 0;
			for (size_t k = 0; k < n; k++)
				sbuf[used + k] = (uint8_t)rnd();
			qs_record_set_bytes(r, (int)i, sbuf + used, (uint32_t)n);
			used += n;
			continue;
		}
		switch (c->type) {
		case QS_U8: qs_record_set_u(r, (int)i, rr(256)); break;
		case QS_U16: qs_record_set_u(r, (int)i, rr(65536)); break;
		case QS_U32: case QS_IPV4: qs_record_set_u(r, (int)i, rnd() & 0xffffffffu); break;
		case QS_U64: qs_record_set_u(r, (int)i, rnd() >> 8); break;
		case QS_TIME_MS: qs_record_set_u(r, (int)i, g->t0_ms + rr(g->span_ms)); break;
		case QS_TIME_S: qs_record_set_u(r, (int)i, (g->t0_ms + rr(g->span_ms)) / 1000); break;
		case QS_IPV6: for (int k = 0; k < 16; k++) g->v6a[k] = (uint8_t)rnd();
			qs_record_set_bytes(r, (int)i, g->v6a, 16); break;
		case QS_MAC: for (int k = 0; k < 6; k++) g->mac[k] = (uint8_t)rnd();
			qs_record_set_bytes(r, (int)i, g->mac, 6); break;
		case QS_STR: qs_record_set_bytes(r, (int)i, (const uint8_t *)g->login, (uint32_t)strlen(g->login)); break;
		}
	}
}

/* ---- TSV ----------------------------------------------------------------------------- */

static int parse_field(struct qs_record *r, const struct qs_stream_def *d, int c, char *s, uint8_t *store)
{
	if (!*s || strcmp(s, "\\N") == 0)
		return 0;
	enum qs_type t = d->cols[c].type;
	if (t == QS_STR) {
		qs_record_set_bytes(r, c, (const uint8_t *)s, (uint32_t)strlen(s));
		return 0;
	}
	if (t == QS_IPV4) {
		struct in_addr a;
		if (inet_pton(AF_INET, s, &a) != 1)
			return -1;
		qs_record_set_u(r, c, ntohl(a.s_addr));
		return 0;
	}
	if (t == QS_IPV6) {
		if (inet_pton(AF_INET6, s, store) != 1)
			return -1;
		qs_record_set_bytes(r, c, store, 16);
		return 0;
	}
	if (t == QS_MAC) {
		memset(store, 0, 6);
		memcpy(store, s, strlen(s) < 6 ? strlen(s) : 6);
		qs_record_set_bytes(r, c, store, 6);
		return 0;
	}
	char *end;
	errno = 0;
	uint64_t v = strtoull(s, &end, 10);
	if (*end || errno)
		return -1;
	qs_record_set_u(r, c, v);
	return 0;
}

static int write_tsv(struct spool_writer *w, const struct qs_stream_def *d, const char *path, int login_col)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "qoestor-spoolgen: cannot read %s: %s\n", path, strerror(errno));
		return 2;
	}
	char *line = NULL;
	size_t cap = 0;
	int cols[QS_MAX_COLS], ncols = 0, lineno = 0;
	static uint8_t store[QS_MAX_COLS][16];
	struct qs_record r;
	int oc = col(d, "octets"), pc = col(d, "packets");
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		line[strcspn(line, "\r\n")] = 0;
		if (lineno == 1) {
			for (char *s = NULL, *t = strtok_r(line, "\t", &s); t; t = strtok_r(NULL, "\t", &s)) {
				if ((cols[ncols] = col(d, t)) < 0) {
					fprintf(stderr, "qoestor-spoolgen: %s:1: %s has no column %s\n", path, d->name, t);
					return 2;
				}
				ncols++;
			}
			continue;
		}
		if (!*line)
			continue;
		qs_record_clear(&r, d);
		char *p = line;
		for (int i = 0; i < ncols; i++) {
			char *tab = strchr(p, '\t');
			if (tab)
				*tab = 0;
			if (parse_field(&r, d, cols[i], p, store[i])) {
				fprintf(stderr, "qoestor-spoolgen: %s:%d: bad value '%s' for %s\n", path, lineno, p,
					d->cols[cols[i]].name);
				return 2;
			}
			if (!tab)
				break;
			p = tab + 1;
		}
		if (spool_writer_add(w, &r) != 0) {
			fprintf(stderr, "qoestor-spoolgen: write failed: %s\n", strerror(errno));
			return 1;
		}
		all.rows++;
		if (oc >= 0 && qs_record_has(&r, oc))
			all.octets += r.v[oc].u;
		if (pc >= 0 && qs_record_has(&r, pc))
			all.packets += r.v[pc].u;
		(void)login_col;
	}
	free(line);
	fclose(f);
	return 0;
}

static void usage(FILE *f)
{
	fputs("usage: qoestor-spoolgen --spool DIR [--stream fullflow] [--dpi 0] [--rows 100000] [--files 1]\n"
	      "                        [--logins 1000] [--seed 1] [--time EPOCH_S] [--span-seconds 3600]\n"
	      "                        [--instance gen] [--block-rows 16384] [--ready-delay 0] [--per-login]\n"
	      "                        [--tsv FILE] [--any]\n"
	      "Writes spool files through the spool writer and prints rows, sum_octets, sum_packets\n"
	      "(and per-login totals with --per-login). --tsv: exact rows from a TSV whose first line\n"
	      "names the columns. --any: every column random by type\n"
	      "(some absent, some strings of random bytes) in any stream. Exit codes: 0 ok, 1 write error, 2 usage.\n", f);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "spool", 1, NULL, 's' }, { "stream", 1, NULL, 'S' }, { "dpi", 1, NULL, 'd' },
		{ "rows", 1, NULL, 'r' }, { "files", 1, NULL, 'f' }, { "logins", 1, NULL, 'l' },
		{ "seed", 1, NULL, 'x' }, { "time", 1, NULL, 't' }, { "span-seconds", 1, NULL, 'p' },
		{ "instance", 1, NULL, 'i' }, { "block-rows", 1, NULL, 'b' }, { "ready-delay", 1, NULL, 'y' },
		{ "per-login", 0, NULL, 'L' }, { "tsv", 1, NULL, 'T' }, { "any", 0, NULL, 'A' },
		{ "help", 0, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *spool = NULL, *stream = "fullflow", *instance = "gen", *tsv = NULL;
	unsigned long long rows = 100000, files = 1, logins = 1000, seed = 1, block_rows = 0, delay = 0, dpi = 0;
	long long t0 = (long long)time(NULL) - 1800, span = 3600;
	int per = 0, any = 0, o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 's': spool = optarg; break;
		case 'S': stream = optarg; break;
		case 'd': dpi = strtoull(optarg, NULL, 10); break;
		case 'r': rows = strtoull(optarg, NULL, 10); break;
		case 'f': files = strtoull(optarg, NULL, 10); break;
		case 'l': logins = strtoull(optarg, NULL, 10); break;
		case 'x': seed = strtoull(optarg, NULL, 10); break;
		case 't': t0 = strtoll(optarg, NULL, 10); break;
		case 'p': span = strtoll(optarg, NULL, 10); break;
		case 'i': instance = optarg; break;
		case 'b': block_rows = strtoull(optarg, NULL, 10); break;
		case 'y': delay = strtoull(optarg, NULL, 10); break;
		case 'L': per = 1; break;
		case 'T': tsv = optarg; break;
		case 'A': any = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	const struct qs_stream_def *d = qs_stream_by_name(stream);
	if (!spool || !d || !files || !logins || logins > MAX_LOGINS || span <= 0) {
		if (!d)
			fprintf(stderr, "qoestor-spoolgen: unknown stream '%s'\n", stream);
		usage(stderr);
		return 2;
	}
	log_init("qoestor-spoolgen", LOG_WARN);
	rng_state ^= seed * 0x9e3779b97f4a7c15ull;
	rnd();
	struct spool_writer_opts wo = { .spool_dir = spool, .def = d, .dpi_id = (unsigned)dpi, .instance = instance,
					.rotate_delay_s = (unsigned)delay, .block_rows = (size_t)block_rows };
	char err[256];
	struct spool_writer *w = spool_writer_open(&wo, err, sizeof err);
	if (!w) {
		fprintf(stderr, "qoestor-spoolgen: %s\n", err);
		return 1;
	}
	int rc = 0;
	uint64_t rotations = 0;
	if (tsv)
		rc = write_tsv(w, d, tsv, col(d, "login"));
	else {
		struct gen g = { .d = d, .logins = (unsigned)logins, .t0_ms = (uint64_t)t0 * 1000,
				 .span_ms = (uint64_t)span * 1000 };
		uint64_t per_file = (rows + files - 1) / files;
		struct qs_record r;
		for (uint64_t i = 0; i < rows && rc == 0; i++) {
			unsigned li = skew((unsigned)logins);
			snprintf(g.login, sizeof g.login, "user%u", li);
			qs_record_clear(&r, d);
			if (any)
				gen_any(&g, &r);
			else if (d->id == QS_FULLFLOW)
				gen_fullflow(&g, &r, li);
			else if (d->id == QS_CLICKSTREAM)
				gen_clickstream(&g, &r, li);
			else if (d->id == QS_NATFLOW)
				gen_natflow(&g, &r, li);
			else
				gen_any(&g, &r);
			if (spool_writer_add(w, &r) != 0) {
				fprintf(stderr, "qoestor-spoolgen: write failed: %s\n", strerror(errno));
				rc = 1;
				break;
			}
			all.rows++;
			per_login[li].rows++;
			if ((i + 1) % per_file == 0 && i + 1 < rows) {
				if (spool_writer_rotate(w) != 0) {
					fprintf(stderr, "qoestor-spoolgen: rotate failed: %s\n", strerror(errno));
					rc = 1;
				}
				rotations++;
			}
		}
	}
	if (spool_writer_close(w) != 0 && !rc)
		rc = 1;
	printf("rows=%" PRIu64 "\nfiles=%" PRIu64 "\nsum_octets=%" PRIu64 "\nsum_packets=%" PRIu64 "\n", all.rows,
	       all.rows ? rotations + 1 : 0, all.octets, all.packets);
	if (per)
		for (unsigned i = 0; i < logins; i++)
			if (per_login[i].rows)
				printf("login user%u rows=%" PRIu64 " octets=%" PRIu64 " packets=%" PRIu64 "\n", i,
				       per_login[i].rows, per_login[i].octets, per_login[i].packets);
	return rc;
}

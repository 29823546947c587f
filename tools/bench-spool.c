/* bench-spool.c: micro benchmark of the spool writer and reader on
 * fullflow-shaped rows (the live schema's fullflow columns that come from
 * IPFIX: IPv4 flows with host and login strings from realistic pools).
 *
 *   bench-spool [--rows N] [--block-rows B] [--zstd-level L] [--dir DIR] [--keep] [--write-only]
 *
 * Prints rows per CPU-second for writing (copy into blocks, compression,
 * writes, publication with fsync) and for reading back (verification,
 * decompression, rows into struct qs_record), and compressed bytes per row.
 * Not a test: numbers go to docs/PERFORMANCE.md with the command line. Also
 * used to make small seed files for the fuzz corpus (--rows 5 --block-rows 2 --keep).
 */
#include <dirent.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "schema/schema.h"
#include "spool/spool.h"
#include "spool/spool_reader.h"

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(p);
}

#define NPOOL 64 /* records cycled through: a decoder fills one record that stays in cache */
static char hosts[1000][48], logins[10000][16];

/* Fill r with a plausible fullflow record number i. */
static void make(const struct qs_stream_def *d, struct qs_record *r, uint64_t i)
{
	qs_record_clear(r, d);
	uint64_t h = next();
	for (size_t c = 0; c < d->ncols; c++) {
		const struct qs_column *col = &d->cols[c];
		if (col->ie == 0 || col->type == QS_IPV6 || ((col->flags & QS_F_NULLABLE) && (h & 3)))
			continue; /* derived/computed by the loader; IPv4 flows; mostly absent nullables */
		const char *n = col->name;
		switch (col->type) {
		case QS_TIME_MS: qs_record_set_u(r, (int)c, 1700000000000ull + i * 3 + (h & 1023)); break;
		case QS_TIME_S: qs_record_set_u(r, (int)c, 1700000000u + (uint32_t)(i / 1000)); break;
		case QS_IPV4:
			qs_record_set_u(r, (int)c, strstr(n, "destination") ? 0x0a000000u + (uint32_t)(h % 50000)
									    : 0x5db80000u + (uint32_t)((h >> 20) % 4000));
			break;
		case QS_STR:
			if (!strcmp(n, "host"))
				qs_record_set_bytes(r, (int)c, (const uint8_t *)hosts[(h >> 8) % 1000],
						    (uint32_t)strlen(hosts[(h >> 8) % 1000]));
			else if (!strcmp(n, "login"))
				qs_record_set_bytes(r, (int)c, (const uint8_t *)logins[(h >> 24) % 10000],
						    (uint32_t)strlen(logins[(h >> 24) % 10000]));
			break;
		case QS_U8: qs_record_set_u(r, (int)c, !strcmp(n, "ip_version") ? 4 : (h >> 5) % 8); break;
		case QS_U16: qs_record_set_u(r, (int)c, strstr(n, "port") ? (h >> 16) % 65536 : (h >> 30) % 4); break;
		case QS_U32: qs_record_set_u(r, (int)c, (h >> 12) % 70000); break;
		case QS_U64: qs_record_set_u(r, (int)c, strstr(n, "octet") ? (h >> 40) % 1500000 : (h >> 36) % 1200); break;
		default: break;
		}
	}
}

struct cols_of_interest {
	int t, o, p, d, h, l;
};

/* What changes from flow to flow, as a decoder would fill it. */
static struct qs_record *vary(struct qs_record *pool, const struct cols_of_interest *ci, uint64_t i)
{
	struct qs_record *r = &pool[i % NPOOL];
	uint64_t h = next();
	if (ci->t >= 0)
		qs_record_set_u(r, ci->t, 1700000000000ull + i); /* time grows */
	if (ci->o >= 0)
		qs_record_set_u(r, ci->o, h % 1500000);
	if (ci->p >= 0)
		qs_record_set_u(r, ci->p, (h >> 32) % 65536);
	if (ci->d >= 0)
		qs_record_set_u(r, ci->d, 0x0a000000u + (uint32_t)((h >> 16) % 50000));
	if (ci->h >= 0) {
		const char *hs = hosts[(h >> 48) % 1000];
		qs_record_set_bytes(r, ci->h, (const uint8_t *)hs, (uint32_t)strlen(hs));
	}
	if (ci->l >= 0) {
		const char *ls = logins[(h >> 20) % 10000];
		qs_record_set_bytes(r, ci->l, (const uint8_t *)ls, (uint32_t)strlen(ls));
	}
	return r;
}

int main(int argc, char **argv)
{
	uint64_t rows = 5000000;
	size_t block_rows = 0;
	int level = 0, keep = 0, write_only = 0;
	const char *dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--rows") && i + 1 < argc)
			rows = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--block-rows") && i + 1 < argc)
			block_rows = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--zstd-level") && i + 1 < argc)
			level = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "--keep"))
			keep = 1;
		else if (!strcmp(argv[i], "--write-only"))
			write_only = 1;
		else {
			fprintf(stderr, "usage: bench-spool [--rows N] [--block-rows B] [--zstd-level L] "
					"[--dir DIR] [--keep] [--write-only]\n");
			return !!strcmp(argv[i], "--help") * 2;
		}
	}
	log_init("bench-spool", LOG_WARN);
	char tmpl[] = "/tmp/bench-spool.XXXXXX";
	if (!dir && !(dir = mkdtemp(tmpl))) {
		perror("mkdtemp");
		return 2;
	}
	for (int i = 0; i < 1000; i++)
		snprintf(hosts[i], sizeof hosts[i], "%s%d.%s", i % 3 ? "cdn-" : "www.", i,
			 i % 2 ? "example.com" : "video.example.net");
	for (int i = 0; i < 10000; i++)
		snprintf(logins[i], sizeof logins[i], "user%05d", i);

	const struct qs_stream_def *d = qs_stream_def(QS_FULLFLOW);
	struct qs_record *pool = malloc(NPOOL * sizeof *pool);
	for (uint64_t i = 0; i < NPOOL; i++)
		make(d, &pool[i], i);

	struct spool_writer_opts o = { .spool_dir = dir, .def = d, .dpi_id = 0, .instance = "bench",
				       .block_rows = block_rows, .zstd_level = level };
	char err[512];
	double c0 = cpu_now(), w0 = wall_now();
	struct spool_writer *w = spool_writer_open(&o, err, sizeof err);
	if (!w) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	struct cols_of_interest ci = {
		qs_column_index(d, "flow_start_ms"), qs_column_index(d, "octets"),
		qs_column_index(d, "source_transport_port"), qs_column_index(d, "destination_ipv4"),
		qs_column_index(d, "host"), qs_column_index(d, "login"),
	};
	int tcol = ci.t;
	for (uint64_t i = 0; i < rows; i++) {
		struct qs_record *r = vary(pool, &ci, i);
		if (spool_writer_add(w, r) < 0) {
			perror("spool_writer_add");
			return 1;
		}
	}
	struct spool_writer_stats st;
	spool_writer_stats(w, &st);
	char pubdir[4096];
	snprintf(pubdir, sizeof pubdir, "%s", spool_writer_dir(w));
	if (spool_writer_close(w) < 0)
		return 1;
	double wc = cpu_now() - c0, ww = wall_now() - w0;
	/* the generator alone, to subtract it */
	uint64_t saved_rng = rng, sink = 0;
	double g0 = cpu_now();
	for (uint64_t i = 0; i < rows; i++)
		sink += vary(pool, &ci, i)->v[0].u;
	double gc = cpu_now() - g0;
	rng = saved_rng;
	uint64_t bytes = st.bytes_written;

	/* read back every published file */
	double c1 = cpu_now(), w1 = wall_now();
	uint64_t got = 0, sum = 0;
	DIR *dd = opendir(pubdir);
	struct dirent *e;
	while (dd && !write_only && (e = readdir(dd)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 4 || strcmp(e->d_name + l - 4, ".qsp"))
			continue;
		char p[8192];
		snprintf(p, sizeof p, "%s/%s", pubdir, e->d_name);
		struct spool_reader *rd = spool_reader_open(p, err, sizeof err);
		if (!rd) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		struct spool_block *b;
		struct qs_record rec;
		int rc;
		while ((rc = spool_reader_next(rd, &b)) == 1)
			for (uint32_t i = 0; i < spool_block_rows(b); i++, got++) {
				spool_block_row(b, i, &rec);
				sum += tcol >= 0 ? rec.v[tcol].u : 0;
			}
		if (rc < 0) {
			fprintf(stderr, "%s\n", spool_reader_error(rd));
			return 1;
		}
		if (keep)
			printf("file %s\n", p);
		spool_reader_close(rd);
	}
	if (dd)
		closedir(dd);
	double rc_ = cpu_now() - c1, rw = wall_now() - w1;
	printf("rows %" PRIu64 ", columns %zu, blocks %" PRIu64 ", %.1f bytes/row compressed\n", rows,
	       d->ncols, st.blocks_written, (double)bytes / (double)(rows ? rows : 1));
	printf("write: %.0f rows per CPU-second (%.3f s CPU, %.3f s wall; generating the rows took "
	       "%.3f s CPU of it: writer alone %.0f rows per CPU-second)\n",
	       (double)rows / wc, wc, ww, gc, (double)rows / (wc - gc));
	if (sink == 1)
		puts("");
	printf("read:  %.0f rows per CPU-second (%.3f s CPU, %.3f s wall; checksum %" PRIu64 ")\n",
	       (double)got / rc_, rc_, rw, sum % 1000);
	if (got != rows && !write_only) {
		fprintf(stderr, "read %" PRIu64 " rows, wrote %" PRIu64 "\n", got, rows);
		return 1;
	}
	if (!keep && dir == tmpl)
		nftw(tmpl, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(pool);
	return 0;
}

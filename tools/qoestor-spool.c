/* qoestor-spool.c: look into spool files (.qsp) written by qoestor-recv.
 *
 *   qoestor-spool cat [--raw-time] [--no-header] FILE...   rows as TSV
 *   qoestor-spool check FILE...                            verify every byte
 *   qoestor-spool info FILE...                             header, blocks, trailer, exporters
 *
 * TSV follows ClickHouse's TabSeparated: one header line of column names,
 * absent values as \N, strings escaped (\b \f \r \n \t \0 \' \\), IPs and MACs
 * in text form, times as UTC "YYYY-MM-DD hh:mm:ss[.mmm]" (or epoch numbers
 * with --raw-time). Exit codes: 0 every file valid, 1 a file is invalid (the
 * reason, with file and byte offset, on stderr), 2 usage error.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ch/chsql.h"
#include "spool/spool_format.h"
#include "spool/spool_reader.h"

static void usage(FILE *f)
{
	fputs("usage: qoestor-spool COMMAND [OPTIONS] FILE...\n"
	      "Look into the spool files (.qsp) qoestor-recv writes and qoestor-loader loads.\n"
	      "\n"
	      "commands:\n"
	      "  cat FILE...    print the rows as ClickHouse TSV: a header line of column names,\n"
	      "                 absent values as \\N, strings escaped, times in UTC\n"
	      "      --raw-time     print times as epoch numbers (ms or s)\n"
	      "      --no-header    no header line\n"
	      "  check FILE...  verify every header, block, checksum and count;\n"
	      "                 prints 'FILE: ok (N rows in M blocks)' or the reason it is invalid\n"
	      "  info FILE...   header, columns, blocks, trailer and exporter counters\n"
	      "\n"
	      "exit status: 0 all files valid, 1 a file is invalid (reason on stderr), 2 usage error.\n"
	      "The format is described in docs/SPOOL-FORMAT.md.\n",
	      f);
}


static void put_time(FILE *o, uint64_t v, int ms, int raw)
{
	if (raw) {
		fprintf(o, "%" PRIu64, v);
		return;
	}
	time_t s = (time_t)(ms ? v / 1000 : v);
	struct tm tm;
	char buf[40];
	if (!gmtime_r(&s, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm)) {
		fprintf(o, "%" PRIu64, v);
		return;
	}
	fputs(buf, o);
	if (ms)
		fprintf(o, ".%03u", (unsigned)(v % 1000));
}

static void put_value(FILE *o, enum qs_type t, const struct qs_value *v, int raw)
{
	char buf[INET6_ADDRSTRLEN];
	switch (t) {
	case QS_U8: case QS_U16: case QS_U32: case QS_U64:
		fprintf(o, "%" PRIu64, v->u);
		break;
	case QS_IPV4: {
		uint32_t a = (uint32_t)v->u;
		fprintf(o, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
		break;
	}
	case QS_IPV6:
		fputs(inet_ntop(AF_INET6, v->p, buf, sizeof buf) ? buf : "::", o);
		break;
	case QS_MAC:
		fprintf(o, "%02x:%02x:%02x:%02x:%02x:%02x", v->p[0], v->p[1], v->p[2], v->p[3], v->p[4],
			v->p[5]);
		break;
	case QS_TIME_MS: put_time(o, v->u, 1, raw); break;
	case QS_TIME_S: put_time(o, v->u, 0, raw); break;
	case QS_STR: ch_tsv_write_escaped(o, v->p, v->len); break;
	}
}

static int cmd_cat(const char *path, int raw, int header)
{
	char err[600];
	struct spool_reader *r = spool_reader_open(path, err, sizeof err);
	if (!r) {
		fprintf(stderr, "qoestor-spool: %s\n", err);
		return 1;
	}
	const struct qs_stream_def *def = spool_reader_header(r)->def;
	if (header) {
		for (size_t c = 0; c < def->ncols; c++) {
			if (c)
				putchar('\t');
			ch_tsv_write_escaped(stdout, (const uint8_t *)def->cols[c].name, strlen(def->cols[c].name));
		}
		putchar('\n');
	}
	struct spool_block *b;
	struct qs_record rec;
	int rc;
	while ((rc = spool_reader_next(r, &b)) == 1) {
		for (uint32_t i = 0; i < spool_block_rows(b); i++) {
			spool_block_row(b, i, &rec);
			for (size_t c = 0; c < def->ncols; c++) {
				if (c)
					putchar('\t');
				if (qs_record_has(&rec, (int)c))
					put_value(stdout, def->cols[c].type, &rec.v[c], raw);
				else
					fputs("\\N", stdout);
			}
			putchar('\n');
		}
	}
	if (rc < 0)
		fprintf(stderr, "qoestor-spool: %s\n", spool_reader_error(r));
	spool_reader_close(r);
	return rc < 0 ? 1 : 0;
}

static int cmd_check(const char *path)
{
	char err[600];
	struct spool_trailer t;
	if (spool_verify(path, &t, err, sizeof err) < 0) {
		fprintf(stderr, "invalid: %s\n", err);
		return 1;
	}
	printf("%s: ok (%" PRIu64 " rows in %" PRIu32 " blocks%s)\n", path, t.rows, t.data_blocks,
	       (t.flags & SPF_TF_SALVAGED) ? ", salvaged" : "");
	return 0;
}

static void put_ms(const char *label, uint64_t ms)
{
	printf("%-16s", label);
	put_time(stdout, ms, 1, 0);
	printf(" UTC (%" PRIu64 ")\n", ms);
}

static int cmd_info(const char *path)
{
	char err[600];
	struct spool_reader *r = spool_reader_open(path, err, sizeof err);
	if (!r) {
		fprintf(stderr, "qoestor-spool: %s\n", err);
		return 1;
	}
	const struct spool_header *h = spool_reader_header(r);
	printf("file            %s\n", path);
	printf("format          %u.%u\n", h->version_major, h->version_minor);
	printf("file id         %s\n", h->file_id_hex);
	printf("stream          %s\n", h->stream);
	printf("dpi             %u\n", h->dpi_id);
	printf("instance        %s\n", h->instance);
	printf("host            ");
	ch_tsv_write_escaped(stdout, (const uint8_t *)h->host, strlen(h->host));
	printf("\nschema version  %" PRIu32 "\n", h->schema_version);
	printf("schema hash     %016" PRIx64 "%s\n", h->schema_hash,
	       h->schema_hash_ok ? "" : " (DOES NOT MATCH the column list)");
	put_ms("created", h->created_ms);
	printf("block rows max  %" PRIu32 "\n", h->block_rows_max);
	printf("columns         %zu\n", h->def->ncols);
	for (size_t c = 0; c < h->def->ncols; c++)
		printf("  %3zu %-8s %s\n", c, spf_type_name(h->def->cols[c].type), h->def->cols[c].name);
	struct spool_block *b;
	int rc;
	printf("blocks          index offset rows\n");
	while ((rc = spool_reader_next(r, &b)) == 1)
		printf("  %6" PRIu32 " %10" PRIu64 " %6" PRIu32 "\n", spool_block_index(b),
		       spool_block_offset(b), spool_block_rows(b));
	const struct spool_trailer *t = spool_reader_trailer(r);
	if (t) {
		printf("rows            %" PRIu64 "\n", t->rows);
		printf("data blocks     %" PRIu32 "\n", t->data_blocks);
		printf("flags           %s\n", (t->flags & SPF_TF_SALVAGED) ? "salvaged" : "-");
		put_ms("closed", t->closed_ms);
		printf("ready           %" PRId64 "\n", t->ready_s);
		printf("exporters       %zu\n", t->nexporters);
		for (size_t i = 0; i < t->nexporters; i++) {
			const struct spool_exporter_stats *e = &t->exporters[i];
			printf("  %s domain %" PRIu32 ": messages %" PRIu64 " records %" PRIu64
			       " bytes %" PRIu64 " seq_gaps %" PRIu64 " unknown_template_records %" PRIu64
			       " malformed_messages %" PRIu64 "\n", e->peer, e->domain, e->messages,
			       e->records, e->bytes, e->seq_gaps, e->unknown_template_records,
			       e->malformed_messages);
		}
	}
	if (rc < 0)
		fprintf(stderr, "qoestor-spool: %s\n", spool_reader_error(r));
	spool_reader_close(r);
	return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	static char obuf[1 << 16];
	setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	int raw = 0, header = 1, i = 2, bad = 0;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else if (!strcmp(argv[i], "--raw-time") && !strcmp(cmd, "cat")) {
			raw = 1;
		} else if (!strcmp(argv[i], "--no-header") && !strcmp(cmd, "cat")) {
			header = 0;
		} else if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "qoestor-spool: unknown option %s for %s (see --help)\n", argv[i], cmd);
			return 2;
		}
	}
	if (strcmp(cmd, "cat") && strcmp(cmd, "check") && strcmp(cmd, "info")) {
		fprintf(stderr, "qoestor-spool: unknown command %s (see --help)\n", cmd);
		return 2;
	}
	if (i >= argc) {
		fprintf(stderr, "qoestor-spool: %s needs at least one FILE (see --help)\n", cmd);
		return 2;
	}
	for (; i < argc; i++) {
		int rc;
		if (!strcmp(cmd, "cat"))
			rc = cmd_cat(argv[i], raw, header), header = 0; /* one header line for all files */
		else if (!strcmp(cmd, "check"))
			rc = cmd_check(argv[i]);
		else
			rc = cmd_info(argv[i]);
		fflush(stdout);
		bad |= rc;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("qoestor-spool: stdout");
		return 2;
	}
	return bad ? 1 : 0;
}

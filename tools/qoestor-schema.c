/* qoestor-schema: prints what the schema table generates.
 *
 *   qoestor-schema ddl [options]   the ClickHouse DDL (sql/qoestor.sql)
 *   qoestor-schema doc             docs/SCHEMA.md
 *   qoestor-schema columns STREAM  one line per column: name, type, pen/ie, flags
 *
 * `make sql` writes both committed files with default options;
 * tools/qoestor-schema-check.sh compares them with this program's output.
 * The DDL itself comes from common/schema/ddl.c, shared with
 * `qoestor-loader --init-db`. Exit codes: 0 ok, 1 write error, 2 usage.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/ddl.h"
#include "schema/schema.h"
#include "tools/qoestor-schema-doc.h"

static void usage(FILE *f)
{
	fputs("usage: qoestor-schema ddl [--database NAME] [--raw-ttl-hours N] [--STREAM-ttl-hours N]\n"
	      "                          [--agg-30m-after-days N] [--agg-1h-after-days N]\n"
	      "                          [--agg-ttl-days N] [--dedup-window N]\n"
	      "                          [--storage-policy NAME [--cold-volume NAME] --move-after-days N]\n"
	      "       qoestor-schema doc\n"
	      "       qoestor-schema columns STREAM\n"
	      "\n"
	      "ddl      print the ClickHouse DDL (defaults: database qoestor, raw tables kept\n"
	      "         24 h, fullflow_agg regrouped to 30 min after 7 days and 1 h after 30,\n"
	      "         aggregates kept forever (0), dedup window 10000; with a storage policy,\n"
	      "         parts older than --move-after-days move to --cold-volume, default 'cold')\n"
	      "doc      print docs/SCHEMA.md\n"
	      "columns  list a stream's columns (fullflow, clickstream, natflow, gtpflow, dnsflow)\n"
	      "\n"
	      "Exit codes: 0 ok, 1 write error or invalid parameters, 2 usage error.\n", f);
}

static int parse_uint(const char *opt, const char *s, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s ? s : "", &end, 10);
	if (!s || !*s || *end || errno || v > UINT_MAX || *s == '-') {
		fprintf(stderr, "qoestor-schema: %s needs a non-negative integer, got '%s'\n", opt, s ? s : "");
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int cmd_ddl(int argc, char **argv)
{
	struct qs_ddl_params p;
	char err[256];
	qs_ddl_defaults(&p);
	for (int i = 0; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		unsigned u = 0;
		char name[64];
		if (strcmp(o, "--database") == 0 && v) {
			p.database = v;
		} else if (strcmp(o, "--raw-ttl-hours") == 0) {
			if (parse_uint(o, v, &u))
				return 2;
			for (int s = 0; s < QS_STREAM_COUNT; s++)
				p.raw_ttl_hours[s] = u;
		} else if (strcmp(o, "--agg-30m-after-days") == 0) {
			if (parse_uint(o, v, &p.agg_30m_after_days))
				return 2;
		} else if (strcmp(o, "--agg-1h-after-days") == 0) {
			if (parse_uint(o, v, &p.agg_1h_after_days))
				return 2;
		} else if (strcmp(o, "--agg-ttl-days") == 0) {
			if (parse_uint(o, v, &p.agg_ttl_days))
				return 2;
		} else if (strcmp(o, "--storage-policy") == 0 && v) {
			p.storage_policy = v;
		} else if (strcmp(o, "--cold-volume") == 0 && v) {
			p.cold_volume = v;
		} else if (strcmp(o, "--move-after-days") == 0) {
			if (parse_uint(o, v, &p.move_after_days))
				return 2;
		} else if (strcmp(o, "--dedup-window") == 0) {
			if (parse_uint(o, v, &p.dedup_window))
				return 2;
		} else {
			int s;
			for (s = 0; s < QS_STREAM_COUNT; s++) {
				snprintf(name, sizeof name, "--%s-ttl-hours", qs_stream_def((enum qs_stream)s)->name);
				if (strcmp(o, name) == 0)
					break;
			}
			if (s == QS_STREAM_COUNT) {
				fprintf(stderr, "qoestor-schema: unknown option '%s' (see --help)\n", o);
				return 2;
			}
			if (parse_uint(o, v, &p.raw_ttl_hours[s]))
				return 2;
		}
		i++;
	}
	if (qs_ddl_check_params(&p, err, sizeof err) != 0) {
		fprintf(stderr, "qoestor-schema: %s\n", err);
		return 1;
	}
	struct qs_ddl *d = qs_ddl_build(&p);
	if (!d) {
		fprintf(stderr, "qoestor-schema: out of memory\n");
		return 1;
	}
	int r = qs_ddl_write_script(d, stdout);
	qs_ddl_free(d);
	return r == 0 && fflush(stdout) == 0 ? 0 : 1;
}

static int cmd_columns(const char *stream)
{
	const struct qs_stream_def *s = qs_stream_by_name(stream);
	if (!s) {
		fprintf(stderr, "qoestor-schema: unknown stream '%s'\n", stream);
		return 2;
	}
	for (size_t i = 0; i < s->ncols; i++) {
		const struct qs_column *c = &s->cols[i];
		printf("%s\t%s\t%u/%u\t0x%04x\n", c->name, qs_type_name(c->type), c->pen, c->ie, c->flags);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "ddl") == 0)
		return cmd_ddl(argc - 2, argv + 2);
	if (strcmp(argv[1], "doc") == 0 && argc == 2)
		return qs_schema_doc_write(stdout) == 0 && fflush(stdout) == 0 ? 0 : 1;
	if (strcmp(argv[1], "columns") == 0 && argc == 3)
		return cmd_columns(argv[2]);
	usage(stderr);
	return 2;
}

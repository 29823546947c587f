/* config_print.c: the effective config, the reference file and the docs,
 * all written from the key table (contract in config_print.h).
 */
#include "config/config_print.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg_table.h"

static const enum qs_stream order[] = { QS_FULLFLOW, QS_CLICKSTREAM, QS_GTPFLOW, QS_NATFLOW, QS_DNSFLOW };

static int secret(const struct cfg_key *k)
{
	return strcmp(k->name, "password") == 0;
}

static void value(const struct cfg_key *k, const void *base, int show_secrets, char *out, size_t len)
{
	cfg_format(k, base, out, len);
	if (secret(k) && !show_secrets && ((const char *)base + k->off)[0])
		snprintf(out, len, "\"(hidden)\"");
}

/* Keys of section s at indent; only those differing from def when def != NULL
 * (forced ones always). Returns the number printed. */
static int print_keys(FILE *f, const struct cfg_section *s, const void *base, const void *def, int indent,
		      int show_secrets, const char *const *forced)
{
	int n = 0;
	for (size_t i = 0; i < s->nkeys; i++) {
		const struct cfg_key *k = &s->keys[i];
		if (k->type == CT_SECTION || k->type == CT_LIST)
			continue;
		char v[2048], d[2048];
		value(k, base, show_secrets, v, sizeof v);
		int force = 0;
		for (const char *const *p = forced; p && *p; p++)
			force |= strcmp(*p, k->name) == 0;
		if (def && !force) {
			cfg_format(k, def, d, sizeof d);
			cfg_format(k, base, v, sizeof v);
			if (strcmp(v, d) == 0)
				continue;
			value(k, base, show_secrets, v, sizeof v);
		}
		fprintf(f, "%*s%s: %s\n", indent, "", k->name, v);
		n++;
	}
	return n;
}

void qs_config_print(const struct qs_config *c, FILE *f, int only_changed, int show_secrets)
{
	static const char *const dpi_forced[] = { "dpi", NULL };
	static const char *const recv_forced[] = { "transport", "port", NULL };
	fprintf(f, "receivers:%s\n", c->ndpis ? "" : " []");
	for (unsigned i = 0; i < c->ndpis; i++) {
		const struct qs_cfg_dpi *d = &c->dpis[i];
		struct qs_cfg_dpi *dd = calloc(1, sizeof *dd);
		if (!dd)
			return;
		cfg_defaults(&cfg_dpi_section, dd);
		dd->id = d->id;
		fprintf(f, "  - dpi: %u\n", d->id);
		const struct cfg_section *ds = &cfg_dpi_section;
		struct cfg_section rest = *ds;
		rest.keys++;
		rest.nkeys--; /* dpi printed above */
		print_keys(f, &rest, d, only_changed ? dd : NULL, 4, show_secrets, dpi_forced);
		for (size_t o = 0; o < sizeof order / sizeof order[0]; o++) {
			const struct qs_cfg_receiver *r = &d->recv[order[o]];
			if (!r->loc.present)
				continue;
			struct qs_cfg_receiver dr;
			memset(&dr, 0, sizeof dr);
			cfg_defaults(&cfg_receiver_section, &dr);
			cfg_receiver_computed(d, order[o], &dr);
			fprintf(f, "    %s:\n", qs_stream_def(order[o])->name);
			print_keys(f, &cfg_receiver_section, r, only_changed ? &dr : NULL, 6, show_secrets, recv_forced);
		}
		free(dd);
	}
	for (size_t i = 1; i < cfg_root.nkeys; i++) {
		const struct cfg_key *k = &cfg_root.keys[i];
		const void *base = (const char *)c + k->off;
		void *def = NULL;
		if (only_changed) {
			def = calloc(1, k->sub->size);
			if (!def)
				return;
			cfg_defaults(k->sub, def);
			char probe[4096];
			FILE *nf = fmemopen(probe, sizeof probe, "w");
			int n = nf ? print_keys(nf, k->sub, base, def, 2, show_secrets, NULL) : 1;
			if (nf)
				fclose(nf);
			if (n == 0) {
				free(def);
				continue;
			}
		}
		fprintf(f, "%s:\n", k->name);
		print_keys(f, k->sub, base, def, 2, show_secrets, NULL);
		free(def);
	}
}

/* "# text" lines wrapped at 100 columns, at indent. */
static void comment(FILE *f, int indent, const char *text)
{
	const char *p = text;
	int width = 98 - indent;
	while (*p) {
		int n = (int)strlen(p);
		if (n > width) {
			n = width;
			while (n > 20 && p[n] != ' ')
				n--;
		}
		fprintf(f, "%*s# %.*s\n", indent, "", n, p);
		p += n;
		while (*p == ' ')
			p++;
	}
}

static void env_name(const struct cfg_key *k, enum qs_stream s, char *out, size_t len)
{
	char up[32];
	snprintf(up, sizeof up, "%s", qs_stream_def(s)->name);
	for (char *p = up; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	if (strstr(k->env, "%s")) {
		char tmp[96];
		snprintf(tmp, sizeof tmp, "%s[N]", k->env);
		snprintf(out, len, tmp, up);
	} else {
		snprintf(out, len, "%s", k->env);
	}
}

static void ref_keys(FILE *f, const struct cfg_section *s, const void *base, int indent, enum qs_stream st,
		     const char *first_prefix)
{
	for (size_t i = 0; i < s->nkeys; i++) {
		const struct cfg_key *k = &s->keys[i];
		if (k->type == CT_SECTION || k->type == CT_LIST)
			continue;
		char v[1024], d[128], line[1024], env[96] = "";
		cfg_format(k, base, v, sizeof v);
		cfg_describe(k, d, sizeof d);
		if (k->env)
			env_name(k, st, env, sizeof env);
		snprintf(line, sizeof line, "%s [%s%s%s]", k->doc, d, env[0] ? "; .env " : "", env);
		fputc('\n', f);
		comment(f, indent, line);
		if (i == 0 && first_prefix)
			fprintf(f, "%*s%s%s: %s\n", indent - 2, "", first_prefix, k->name, v);
		else
			fprintf(f, "%*s%s: %s\n", indent, "", k->name, v);
	}
}

void qs_config_write_reference(FILE *f)
{
	struct qs_config *c = malloc(sizeof *c);
	if (!c)
		return;
	qs_config_defaults(c);
	fputs("# qoestor.yaml: the one configuration file of qoestor (receivers, loader, qoestor-db,\n"
	      "# dictionaries, hot/cold storage). Installed as /etc/qoestor/qoestor.yaml.\n"
	      "#\n"
	      "# Generated by `qoestor-config reference` from the key table (common/config/cfg_table.c);\n"
	      "# every value below is the default, which is the vendor manual's default. Every key is\n"
	      "# optional. Unknown keys, wrong types and out-of-range values are errors naming the line.\n"
	      "#   qoestor-config check [FILE]       print the effective configuration, exit 0 or 1\n"
	      "#   qoestor-config apply [--dry-run]  start/stop the receivers to match, restart the loader\n"
	      "#   qoestor-config import-env .env    convert the vendor's /var/qoestor/backend/.env\n"
	      "# docs/CONFIGURATION.md has the same reference as tables.\n\n", f);
	const struct cfg_key *rk = &cfg_root.keys[0];
	comment(f, 0, rk->doc);
	comment(f, 0, cfg_dpi_section.doc);
	comment(f, 0, cfg_receiver_section.doc);
	fputs("receivers:\n", f);
	const struct qs_cfg_dpi *d = &c->dpis[0];
	ref_keys(f, &cfg_dpi_section, d, 4, QS_FULLFLOW, "- ");
	for (size_t o = 0; o < 4; o++) {
		const struct cfg_key *sk = cfg_find(&cfg_dpi_section, qs_stream_def(order[o])->name);
		fputc('\n', f);
		comment(f, 4, sk->doc);
		fprintf(f, "    %s:\n", sk->name);
		if (o == 0) {
			ref_keys(f, &cfg_receiver_section, &d->recv[order[o]], 6, order[o], NULL);
		} else {
			fprintf(f, "      # the same keys as fullflow; defaults differ only where noted there\n");
			fprintf(f, "      port: %u\n", d->recv[order[o]].port);
		}
	}
	fputs("\n    # dnsflow: {}   # DNS flows on 1504 (+ 10 x dpi), if the DPI exports them\n", f);
	fputs("\n  # The manual's several-DPI example: each DPI its own ports (here DPI 1 on 1510/1511).\n"
	      "  # - dpi: 1\n"
	      "  #   listen: 0.0.0.0        # a DPI on another host needs 0.0.0.0 (or this host's address)\n"
	      "  #   fullflow:\n"
	      "  #     port: 1510\n"
	      "  #     export: [10.0.0.2/1600/tcp]\n"
	      "  #   clickstream:\n"
	      "  #     port: 1511\n", f);
	for (size_t i = 1; i < cfg_root.nkeys; i++) {
		const struct cfg_key *k = &cfg_root.keys[i];
		fputc('\n', f);
		comment(f, 0, k->sub->doc);
		fprintf(f, "%s:\n", k->name);
		ref_keys(f, k->sub, (const char *)c + k->off, 2, QS_FULLFLOW, NULL);
	}
	free(c);
}

/* Markdown table cell: no '|' or newlines. */
static void cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s != '\n')
			fputc(*s, f);
	}
}

static void doc_table(FILE *f, const struct cfg_section *s, const void *base, enum qs_stream st)
{
	fputs("| key | type | default | vendor .env key | meaning |\n|---|---|---|---|---|\n", f);
	for (size_t i = 0; i < s->nkeys; i++) {
		const struct cfg_key *k = &s->keys[i];
		char v[1024], d[128], env[96] = "";
		if (k->type == CT_SECTION || k->type == CT_LIST) {
			snprintf(v, sizeof v, "absent");
			snprintf(d, sizeof d, "section");
		} else {
			cfg_format(k, base, v, sizeof v);
			cfg_describe(k, d, sizeof d);
		}
		if (k->env)
			env_name(k, st, env, sizeof env);
		if (!k->def && k->type != CT_SECTION && k->type != CT_LIST)
			snprintf(v, sizeof v, "%s", k->min || k->type != CT_UINT || k->max != 999 ? "computed" : "required");
		fprintf(f, "| `%s` | ", k->name);
		cell(f, d);
		fputs(" | `", f);
		cell(f, v);
		fprintf(f, "` | %s%s%s | ", env[0] ? "`" : "", env, env[0] ? "`" : "");
		cell(f, k->doc);
		fputs(" |\n", f);
	}
	fputc('\n', f);
}

void qs_config_write_doc(FILE *f)
{
	struct qs_config *c = malloc(sizeof *c);
	if (!c)
		return;
	qs_config_defaults(c);
	fputs("# Configuration reference\n\n"
	      "<!-- Generated by `bin/qoestor-config doc` from common/config/cfg_table.c. Do not edit:\n"
	      "     change the table and regenerate (test/integration/config-docs.sh checks for drift). -->\n\n"
	      "qoestor reads one file, `/etc/qoestor/qoestor.yaml` (`--config FILE` or `$QOESTOR_CONFIG`\n"
	      "elsewhere). The commented reference is `conf/qoestor.yaml`. Every key is optional and\n"
	      "defaults to the vendor manual's default. Unknown keys, keys given twice, wrong types and\n"
	      "out-of-range values are errors that name the file, line and column, e.g.\n\n"
	      "```\n/etc/qoestor/qoestor.yaml:7:13: receivers[0].fullflow.port: '70000' is not an integer in "
	      "1..65535\n```\n\n"
	      "Commands:\n\n"
	      "- `qoestor-config check [FILE]` (also `--check-config`): print the effective configuration\n"
	      "  (defaults filled in, passwords hidden) and exit 0, or print every problem and exit 1.\n"
	      "- `qoestor-config apply [--dry-run]`: make the running units match the file (docs/OPERATIONS.md).\n"
	      "- `qoestor-config import-env FILE`: convert the vendor's `.env` (section below).\n"
	      "- `qoestor-config args recv STREAM-DPI | loader | db`: the command line a unit runs.\n\n"
	      "Computed defaults: a receiver's `port` is 1500 fullflow, 1501 clickstream, 1502 gtpflow,\n"
	      "1503 natflow, 1504 dnsflow, plus 10 x its DPI id (DPI 1: 1510, 1511, ...);\n"
	      "`rotate_minutes` is 10 (clickstream 12); `rotate_delay_seconds` 0 (clickstream 400);\n"
	      "`listen` is the DPI's `listen` (127.0.0.1: loopback only; **a DPI on another host needs\n"
	      "`listen: 0.0.0.0`** or this host's address).\n\n", f);
	fputs("## receivers\n\n", f);
	fprintf(f, "A list, one entry per DPI. %s\n\n", cfg_dpi_section.doc);
	doc_table(f, &cfg_dpi_section, &c->dpis[0], QS_FULLFLOW);
	fprintf(f, "### receivers[].STREAM (fullflow, clickstream, gtpflow, natflow, dnsflow)\n\n%s "
		   "`N` in the .env key is the DPI id.\n\n", cfg_receiver_section.doc);
	doc_table(f, &cfg_receiver_section, &c->dpis[0].recv[QS_FULLFLOW], QS_FULLFLOW);
	fputs("`STREAM` in the .env keys is FULLFLOW, CLICKSTREAM, GTPFLOW or NATFLOW.\n\n", f);
	for (size_t i = 1; i < cfg_root.nkeys; i++) {
		const struct cfg_key *k = &cfg_root.keys[i];
		fprintf(f, "## %s\n\n%s\n\n", k->name, k->sub->doc);
		doc_table(f, k->sub, (const char *)c + k->off, QS_FULLFLOW);
	}
	fputs("## The vendor's .env\n\n"
	      "`qoestor-config import-env /var/qoestor/backend/.env > /etc/qoestor/qoestor.yaml` converts\n"
	      "the manual's file: `IPFIX_<STREAM>_<KEY>[N]` becomes `receivers: - dpi: N` / `<stream>:` /\n"
	      "`<key>`; the global keys map as the tables above show. Commented-out lines (`#KEY=...`) are\n"
	      "the manual's defaults and stay defaults; a key without `=` (the manual's own\n"
	      "`NAT_IMPORT_FROM_FULLFLOW` and `NAT_AGG_LOG_GROUP_TIME_INTERVAL` lines) keeps the default\n"
	      "and is reported; unknown keys and bad values are reported with their line and left out.\n"
	      "The output is only what differs from the defaults (plus every receiver's port and\n"
	      "transport). Receivers listen on 127.0.0.1 unless `--listen 0.0.0.0` is given: the vendor's\n"
	      "listened on every address, so a DPI on another host needs it.\n", f);
	free(c);
}

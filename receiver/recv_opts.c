/* recv_opts.c: the settings table of qoestor-recv (contract in recv_opts.h). */
#include "receiver/recv_opts.h"

#include <stdlib.h>
#include <string.h>

#include "receiver/decode.h"

enum opt_type { O_STREAM, O_UINT, O_INT, O_STR, O_INSTANCE, O_FLAG };

struct opt {
	const char *name;
	enum opt_type type;
	size_t off;
	size_t size;         /* O_STR: buffer size */
	long min, max;
	const char *def;     /* default as text; "" = computed from the stream */
	const char *doc;
};

#define OFF(f) offsetof(struct recv_opts, f)
static const struct opt opts[] = {
	{ "stream", O_STREAM, OFF(def), 0, 0, 0, "", "fullflow, clickstream, natflow, gtpflow or dnsflow" },
	{ "dpi", O_UINT, OFF(dpi), 0, 0, 999, "0", "DPI number N (the [N] of the manual's IPFIX_*_PORT[N])" },
	{ "instance", O_INSTANCE, OFF(instance), sizeof(((struct recv_opts *)0)->instance), 0, 0, "",
	  "STREAM-DPI, as qoestor-recv@fullflow-0.service passes it; sets --stream and --dpi" },
	{ "listen", O_STR, OFF(listen), sizeof(((struct recv_opts *)0)->listen), 0, 0, "",
	  "tcp://HOST:PORT or udp://HOST:PORT ([::1] for IPv6); default tcp://127.0.0.1:PORT with "
	  "PORT 1500 fullflow, 1501 clickstream, 1502 gtpflow, 1503 natflow, 1504 dnsflow, plus 10 x DPI" },
	{ "spool", O_STR, OFF(spool), sizeof(((struct recv_opts *)0)->spool), 0, 0, "/var/qoestor/backend/dump",
	  "spool root; files go to SPOOL/STREAM/DPI/" },
	{ "rotate-seconds", O_UINT, OFF(rotate_s), 0, 1, 86400, "",
	  "publish a file every N seconds, on multiples of N (default 600; clickstream 720)" },
	{ "delay-seconds", O_UINT, OFF(delay_s), 0, 0, 86400, "",
	  "the loader takes a file N seconds after it is published (default 0; clickstream 400)" },
	{ "udp-timeout", O_UINT, OFF(udp_timeout_s), 0, 1, 86400, "1800",
	  "UDP: forget an exporter (and its templates) silent for N seconds" },
	{ "udp-rcvbuf-mb", O_UINT, OFF(udp_rcvbuf_mb), 0, 1, 2048, "64",
	  "UDP: socket receive buffer in MiB (the kernel caps it at net.core.rmem_max)" },
	{ "udp-hold-seconds", O_UINT, OFF(udp_hold_s), 0, 0, 3600, "10",
	  "UDP: keep data that arrives before its template up to N seconds and decode it when the template "
	  "comes (0 = drop and count at once)" },
	{ "udp-hold-kb", O_UINT, OFF(udp_hold_kb), 0, 0, 1048576, "4096",
	  "UDP: at most this much held data per exporter" },
	{ "udp-template-lifetime", O_UINT, OFF(udp_lifetime_s), 0, 0, 86400, "1800",
	  "UDP: forget a template the exporter has not refreshed for N seconds (0 = never)" },
	{ "ie-file", O_STR, OFF(ie_file), sizeof(((struct recv_opts *)0)->ie_file), 0, 0,
	  "dictionaries/vasexperts-ie.xml", "the vendor's information elements (IANA registry XML)" },
	{ "export", O_STR, OFF(export_spec), sizeof(((struct recv_opts *)0)->export_spec), 0, 0, "",
	  "re-export every message unchanged to ip/port/proto[,ip/port/proto] (the manual's "
	  "IPFIX_*_EXPORT, e.g. 10.0.0.2/9920/tcp,10.0.0.3/3440/udp)" },
	{ "export-queue-mb", O_UINT, OFF(export_queue_mb), 0, 1, 4096, "16",
	  "re-export: bytes waiting per TCP target before messages are dropped (counted)" },
	{ "metrics", O_STR, OFF(metrics), sizeof(((struct recv_opts *)0)->metrics), 0, 0, "",
	  "serve Prometheus text on http://ADDR:PORT/metrics (e.g. 127.0.0.1:9466; off by default)" },
	{ "accept", O_STR, OFF(accept_s), sizeof(((struct recv_opts *)0)->accept_s), 0, 0, "ipfix",
	  "formats decoded, comma-separated: ipfix, netflow9, netflow5 (NetFlow over UDP only; "
	  "the DPI's netflow_full_collector_type=0 exports v5)" },
	{ "zstd-level", O_INT, OFF(zstd_level), 0, -50, 9, "-3",
	  "spool compression level: negative levels are zstd's fast modes (less CPU, bigger files)" },
	{ "spool-uncompressed", O_FLAG, OFF(uncompressed), 0, 0, 0, "0",
	  "write spool blocks uncompressed: about half the receiver's CPU for about 3x the bytes on disk "
	  "(the loader then skips decompression)" },
	{ "log-level", O_INT, OFF(log_level), 0, 3, 7, "6", "3 errors ... 6 info (default) ... 7 debug" },
	{ "help", O_FLAG, OFF(help), 0, 0, 0, "0", "this text" },
};
#define NOPTS (sizeof opts / sizeof opts[0])

void recv_opts_usage(FILE *f)
{
	fputs("usage: qoestor-recv --stream NAME [--dpi N] [OPTIONS]\n"
	      "       qoestor-recv --instance STREAM-DPI [OPTIONS]\n"
	      "Receive one DPI's IPFIX stream (RFC 7011, TCP or UDP; NetFlow v9/v5 over UDP with\n"
	      "--accept) and write rotated spool files for qoestor-loader. SIGHUP publishes the\n"
	      "current file at once; SIGTERM publishes what is held and exits 0. Operators'\n"
	      "guide: docs/RECEIVER.md (logs, counters, troubleshooting).\n\noptions:\n", f);
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];
		fprintf(f, "  --%-21s %s", o->name, o->doc);
		if (o->def[0] && o->type != O_FLAG)
			fprintf(f, " [%s]", o->def);
		fputc('\n', f);
	}
	fputs("\nexit status: 0 stopped by SIGTERM/SIGINT, 1 runtime error (listen, spool, metrics address),\n"
	      "2 usage error (options, --export targets).\n", f);
}

static int set(struct recv_opts *r, const struct opt *o, const char *v, char *err, size_t errlen)
{
	char *p = (char *)r + o->off;
	switch (o->type) {
	case O_STREAM: {
		const struct qs_stream_def *d = qs_stream_by_name(v);
		if (!d) {
			snprintf(err, errlen, "--%s: unknown stream '%s' (fullflow, clickstream, natflow, gtpflow, dnsflow)",
			         o->name, v);
			return -1;
		}
		memcpy(p, &d, sizeof d);
		return 0;
	}
	case O_UINT:
	case O_INT: {
		char *end;
		long u = strtol(v, &end, 10);
		if (!*v || *end || u < o->min || u > o->max) {
			snprintf(err, errlen, "--%s: '%s' is not a number in %ld..%ld", o->name, v, o->min, o->max);
			return -1;
		}
		if (o->type == O_INT) {
			int y = (int)u;
			memcpy(p, &y, sizeof y);
		} else {
			unsigned x = (unsigned)u;
			memcpy(p, &x, sizeof x);
		}
		return 0;
	}
	case O_STR:
	case O_INSTANCE:
		if (strlen(v) >= o->size) {
			snprintf(err, errlen, "--%s: too long", o->name);
			return -1;
		}
		strcpy(p, v);
		if (o->type == O_INSTANCE) {
			const char *dash = strrchr(v, '-');
			char sname[32];
			if (!dash || (size_t)(dash - v) >= sizeof sname) {
				snprintf(err, errlen, "--instance: '%s' is not STREAM-DPI (e.g. fullflow-0)", v);
				return -1;
			}
			memcpy(sname, v, (size_t)(dash - v));
			sname[dash - v] = 0;
			if (set(r, &opts[0], sname, err, errlen) || set(r, &opts[1], dash + 1, err, errlen))
				return -1;
		}
		return 0;
	case O_FLAG: {
		int one = 1;
		memcpy(p, &one, sizeof one);
		return 0;
	}
	}
	return -1;
}

int recv_opts_parse(struct recv_opts *o, int argc, char **argv, char *err, size_t errlen)
{
	memset(o, 0, sizeof *o);
	for (size_t i = 0; i < NOPTS; i++)
		if (opts[i].def[0] && opts[i].type != O_FLAG && set(o, &opts[i], opts[i].def, err, errlen))
			return -1;
	int have_rotate = 0, have_delay = 0;
	for (int a = 1; a < argc; a++) {
		const char *arg = argv[a];
		if (strncmp(arg, "--", 2)) {
			snprintf(err, errlen, "unexpected argument '%s' (see --help)", arg);
			return -1;
		}
		arg += 2;
		const char *eq = strchr(arg, '=');
		size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
		const struct opt *op = NULL;
		for (size_t i = 0; i < NOPTS; i++)
			if (strlen(opts[i].name) == n && !strncmp(opts[i].name, arg, n))
				op = &opts[i];
		if (!op) {
			snprintf(err, errlen, "unknown option '%s' (see --help)", argv[a]);
			return -1;
		}
		const char *v = eq ? eq + 1 : NULL;
		if (op->type != O_FLAG && !v) {
			if (a + 1 >= argc) {
				snprintf(err, errlen, "--%s needs a value", op->name);
				return -1;
			}
			v = argv[++a];
		}
		if (set(o, op, v ? v : "1", err, errlen))
			return -1;
		have_rotate |= op->off == OFF(rotate_s);
		have_delay |= op->off == OFF(delay_s);
	}
	if (o->help)
		return 0;
	if (!o->def) {
		snprintf(err, errlen, "--stream or --instance is required (see --help)");
		return -1;
	}
	int click = o->def->id == QS_CLICKSTREAM;
	if (!have_rotate)
		o->rotate_s = click ? 720 : 600;
	if (!have_delay)
		o->delay_s = click ? 400 : 0;
	char acc[sizeof o->accept_s];
	snprintf(acc, sizeof acc, "%s", o->accept_s);
	for (char *save = NULL, *t = strtok_r(acc, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!strcmp(t, "netflow9"))
			o->accept |= DECODE_NETFLOW9;
		else if (!strcmp(t, "netflow5"))
			o->accept |= DECODE_NETFLOW5;
		else if (strcmp(t, "ipfix")) {
			snprintf(err, errlen, "--accept: unknown format '%s' (ipfix, netflow9, netflow5)", t);
			return -1;
		}
	}
	if (!o->instance[0])
		snprintf(o->instance, sizeof o->instance, "%s-%u", o->def->name, o->dpi);
	if (!o->listen[0])
		snprintf(o->listen, sizeof o->listen, "tcp://127.0.0.1:%u", o->def->default_port + 10 * o->dpi);
	return 0;
}

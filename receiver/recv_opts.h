/* recv_opts.h: the settings of one qoestor-recv instance, as one table.
 *
 * Each setting has a name (the command-line option without "--", and the
 * future YAML key), a type, a default that may depend on the stream (the
 * manual's .env defaults: rotation 10 min, clickstream 12 min; delay 0 s,
 * clickstream 400 s; port 1500 + stream offset + 10 x DPI number), a range and
 * one line of doc. --help is generated from the table. Parsing never exits:
 * errors come back as text for the caller to print.
 */
#ifndef QOESTOR_RECEIVER_RECV_OPTS_H
#define QOESTOR_RECEIVER_RECV_OPTS_H

#include <stddef.h>
#include <stdio.h>

#include "schema/schema.h"

struct recv_opts {
	const struct qs_stream_def *def; /* --stream */
	unsigned dpi;                    /* --dpi */
	char instance[64];               /* "<stream>-<dpi>" unless given */
	char listen[300];                /* tcp://HOST:PORT or udp://HOST:PORT */
	char spool[512];                 /* spool root */
	char ie_file[512];               /* vendor information elements */
	unsigned rotate_s;
	unsigned delay_s;
	unsigned udp_timeout_s;          /* forget a silent UDP exporter (and its templates) */
	unsigned udp_rcvbuf_mb;
	unsigned udp_hold_s;             /* hold data sets before their template */
	unsigned udp_hold_kb;
	unsigned udp_lifetime_s;         /* template lifetime; 0 = never expire */
	char export_spec[1024];          /* --export ip/port/proto,... ("" = none) */
	unsigned export_queue_mb;
	char metrics[128];               /* ADDR:PORT of GET /metrics; "" = off */
	char accept_s[64];               /* --accept as given */
	unsigned accept;                 /* DECODE_NETFLOW* bits parsed from it */
	int zstd_level;                  /* spool compression (negative: zstd fast modes) */
	int uncompressed;                /* --spool-uncompressed: blocks with codec none */
	int log_level;                   /* 3..7 */
	int help;
};

/* Parse argv into o (defaults first, then the stream's defaults for settings
 * not given). 0 ok, -1 with a message in err. */
int recv_opts_parse(struct recv_opts *o, int argc, char **argv, char *err, size_t errlen);

/* Print --help, generated from the table. */
void recv_opts_usage(FILE *f);

#endif

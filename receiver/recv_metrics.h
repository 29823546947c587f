/* recv_metrics.h: qoestor-recv's counters as Prometheus text, served over HTTP.
 *
 * The receiver's loop thread owns every counter. Once a second it formats
 * them (recv_metrics_format) and hands the text to the server
 * (recv_metrics_publish), which copies it under a mutex; libmicrohttpd's own
 * thread answers GET /metrics with the latest copy. So a scrape never touches
 * a live counter (no data race) and sees values at most a second old.
 *
 * Listen address: "ADDR:PORT" or "[ADDR6]:PORT"; loopback unless the
 * operator gives another address explicitly.
 */
#ifndef QOESTOR_RECEIVER_RECV_METRICS_H
#define QOESTOR_RECEIVER_RECV_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "receiver/decode.h"
#include "spool/spool.h"

/* One exporter (address, without the port that changes per TCP connection)
 * and observation domain: counters since the receiver started. */
struct recv_metrics_exporter {
	char addr[64];
	uint32_t domain;
	struct decode_counters c;
};

struct recv_metrics_global {
	const char *stream;               /* label values */
	const char *instance;
	uint64_t connections_total;       /* TCP connections accepted */
	uint64_t sessions_open;           /* TCP connections / UDP exporters held now */
	uint64_t sessions_paused;         /* TCP connections not read: the spool refuses rows */
	uint64_t framing_errors;          /* TCP streams closed as unframeable */
	uint64_t rows_refused;            /* rows the spool refused (TCP: retried later) */
	uint64_t udp_rows_dropped;        /* UDP rows dropped because the spool refused them */
	int64_t kernel_udp_drops;         /* /proc/net/udp drops of our socket; -1 unknown/TCP */
	uint64_t export_dropped;          /* messages not re-exported (buffer full, no target) */
	struct spool_writer_stats spool;
	double start_time_s;
};

/* Format the exposition into f. */
void recv_metrics_format(FILE *f, const struct recv_metrics_global *g, const struct recv_metrics_exporter *e,
                         size_t n);

struct recv_metrics;
/* Start serving on listen. NULL with a message in err on a bad address or a
 * port in use. */
struct recv_metrics *recv_metrics_open(const char *listen, char *err, size_t errlen);
/* Replace the text served (copied). Any thread. */
void recv_metrics_publish(struct recv_metrics *m, const char *text, size_t len);
/* Stop the server and free. NULL allowed. */
void recv_metrics_close(struct recv_metrics *m);

/* The kernel's drop counter of the UDP socket fd (from /proc/net/udp or
 * udp6, matched by inode); -1 if not found. */
int64_t recv_metrics_udp_drops(int fd);

#endif

/* metrics.h: the loader's counters and their Prometheus text exposition.
 *
 * Counters are atomics any thread may bump; the exposition reads them
 * without locks (each value is consistent on its own). metrics_serve runs
 * libmicrohttpd's own thread answering GET /metrics on the given address
 * (loopback by default; anything else must be given explicitly).
 */
#ifndef QOESTOR_LOADER_METRICS_H
#define QOESTOR_LOADER_METRICS_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "schema/schema.h"

/* Tables the loader inserts into: raw streams, then aggregates. */
#define LT_COUNT (QS_STREAM_COUNT + QS_AGG_TABLES)
#define LT_AGG(id) (QS_STREAM_COUNT + (int)(id))

#define METRICS_LAT_BUCKETS 9

struct loader_metrics {
	atomic_uint_fast64_t rows[LT_COUNT];        /* rows acknowledged per table */
	atomic_uint_fast64_t inserts[LT_COUNT];     /* inserts acknowledged per table */
	atomic_uint_fast64_t body_bytes[LT_COUNT];  /* bytes sent (compressed) per table */
	atomic_uint_fast64_t lat_bucket[METRICS_LAT_BUCKETS + 1]; /* insert latency histogram */
	atomic_uint_fast64_t lat_us_sum, lat_count;
	atomic_uint_fast64_t retries;               /* failed attempts that will be retried */
	atomic_uint_fast64_t quarantined;           /* files moved to quarantine */
	atomic_uint_fast64_t files_loaded, bytes_loaded, rows_read;
	atomic_uint_fast64_t backlog_files, backlog_bytes; /* set at each scan */
	atomic_int_fast64_t oldest_start_s;         /* start time of the oldest file waiting; 0 none */
	atomic_uint_fast64_t dict_errors;
};

/* Record one acknowledged insert. */
void metrics_insert(struct loader_metrics *m, int table, uint64_t rows, uint64_t bytes, uint64_t us);

/* Write the exposition text. 0 or -1 (write error). */
int metrics_write(const struct loader_metrics *m, FILE *f);

struct metrics_server;
/* Serve GET /metrics on "ADDR:PORT" ("127.0.0.1:9465", "[::1]:9465").
 * NULL with a message when the address is bad or the port taken. */
struct metrics_server *metrics_serve(const struct loader_metrics *m, const char *listen, char *err, size_t errlen);
void metrics_stop(struct metrics_server *s);

#endif

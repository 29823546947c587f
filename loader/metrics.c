/* metrics.c: counters and the /metrics endpoint (libmicrohttpd, internal
 * thread) of the loader (see metrics.h).
 */
#include "loader/metrics.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "netaddr.h"

static const double lat_le[METRICS_LAT_BUCKETS] = { 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60 };

void metrics_insert(struct loader_metrics *m, int table, uint64_t rows, uint64_t bytes, uint64_t us)
{
	atomic_fetch_add(&m->rows[table], rows);
	atomic_fetch_add(&m->inserts[table], 1);
	atomic_fetch_add(&m->body_bytes[table], bytes);
	atomic_fetch_add(&m->lat_us_sum, us);
	atomic_fetch_add(&m->lat_count, 1);
	int b = 0;
	while (b < METRICS_LAT_BUCKETS && (double)us / 1e6 > lat_le[b])
		b++;
	atomic_fetch_add(&m->lat_bucket[b], 1);
}

static const char *table_name(int t)
{
	return t < QS_STREAM_COUNT ? qs_stream_def((enum qs_stream)t)->name
				   : qs_agg_def((enum qs_agg)(t - QS_STREAM_COUNT))->name;
}

int metrics_write(const struct loader_metrics *m, FILE *f)
{
	fputs("# HELP qoestor_loader_rows_inserted_total Rows acknowledged by ClickHouse, per table.\n"
	      "# TYPE qoestor_loader_rows_inserted_total counter\n", f);
	for (int t = 0; t < LT_COUNT; t++)
		fprintf(f, "qoestor_loader_rows_inserted_total{table=\"%s\"} %llu\n", table_name(t),
			(unsigned long long)m->rows[t]);
	fputs("# HELP qoestor_loader_inserts_total INSERT requests acknowledged, per table.\n"
	      "# TYPE qoestor_loader_inserts_total counter\n", f);
	for (int t = 0; t < LT_COUNT; t++)
		fprintf(f, "qoestor_loader_inserts_total{table=\"%s\"} %llu\n", table_name(t),
			(unsigned long long)m->inserts[t]);
	fputs("# HELP qoestor_loader_insert_body_bytes_total INSERT body bytes sent (as encoded), per table.\n"
	      "# TYPE qoestor_loader_insert_body_bytes_total counter\n", f);
	for (int t = 0; t < LT_COUNT; t++)
		fprintf(f, "qoestor_loader_insert_body_bytes_total{table=\"%s\"} %llu\n", table_name(t),
			(unsigned long long)m->body_bytes[t]);
	fputs("# HELP qoestor_loader_insert_seconds Latency of acknowledged INSERT requests.\n"
	      "# TYPE qoestor_loader_insert_seconds histogram\n", f);
	uint64_t cum = 0;
	for (int b = 0; b <= METRICS_LAT_BUCKETS; b++) {
		cum += m->lat_bucket[b];
		if (b < METRICS_LAT_BUCKETS)
			fprintf(f, "qoestor_loader_insert_seconds_bucket{le=\"%g\"} %llu\n", lat_le[b],
				(unsigned long long)cum);
		else
			fprintf(f, "qoestor_loader_insert_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
	}
	fprintf(f, "qoestor_loader_insert_seconds_sum %.6f\nqoestor_loader_insert_seconds_count %llu\n",
		(double)m->lat_us_sum / 1e6, (unsigned long long)m->lat_count);
	int64_t oldest = m->oldest_start_s;
	double age = oldest ? (double)(time(NULL) - oldest) : 0;
	fprintf(f,
		"# HELP qoestor_loader_retries_total Failed insert attempts that are retried.\n"
		"# TYPE qoestor_loader_retries_total counter\nqoestor_loader_retries_total %llu\n"
		"# HELP qoestor_loader_quarantined_files_total Files moved to a .quarantine folder.\n"
		"# TYPE qoestor_loader_quarantined_files_total counter\nqoestor_loader_quarantined_files_total %llu\n"
		"# HELP qoestor_loader_files_loaded_total Spool files loaded completely.\n"
		"# TYPE qoestor_loader_files_loaded_total counter\nqoestor_loader_files_loaded_total %llu\n"
		"# HELP qoestor_loader_bytes_loaded_total Spool bytes of the files loaded.\n"
		"# TYPE qoestor_loader_bytes_loaded_total counter\nqoestor_loader_bytes_loaded_total %llu\n"
		"# HELP qoestor_loader_rows_read_total Spool rows read.\n"
		"# TYPE qoestor_loader_rows_read_total counter\nqoestor_loader_rows_read_total %llu\n"
		"# HELP qoestor_loader_backlog_files Spool files waiting or being loaded.\n"
		"# TYPE qoestor_loader_backlog_files gauge\nqoestor_loader_backlog_files %llu\n"
		"# HELP qoestor_loader_backlog_bytes Bytes of those files.\n"
		"# TYPE qoestor_loader_backlog_bytes gauge\nqoestor_loader_backlog_bytes %llu\n"
		"# HELP qoestor_loader_backlog_oldest_seconds Age of the oldest file waiting (by its start time).\n"
		"# TYPE qoestor_loader_backlog_oldest_seconds gauge\nqoestor_loader_backlog_oldest_seconds %.0f\n"
		"# HELP qoestor_loader_dictionary_errors_total Dictionary files rejected.\n"
		"# TYPE qoestor_loader_dictionary_errors_total counter\nqoestor_loader_dictionary_errors_total %llu\n",
		(unsigned long long)m->retries, (unsigned long long)m->quarantined,
		(unsigned long long)m->files_loaded, (unsigned long long)m->bytes_loaded,
		(unsigned long long)m->rows_read, (unsigned long long)m->backlog_files,
		(unsigned long long)m->backlog_bytes, age, (unsigned long long)m->dict_errors);
	return ferror(f) ? -1 : 0;
}

struct metrics_server {
	struct MHD_Daemon *d;
	const struct loader_metrics *m;
};

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
	const char *version, const char *upload, size_t *upload_len, void **state)
{
	struct metrics_server *s = cls;
	(void)version;
	(void)upload;
	(void)state;
	*upload_len = 0;
	const char *text = "not found: try /metrics\n";
	char *buf = NULL;
	size_t len = 0;
	unsigned code = MHD_HTTP_NOT_FOUND;
	if (strcmp(method, "GET") == 0 && strcmp(url, "/metrics") == 0) {
		FILE *f = open_memstream(&buf, &len);
		if (f) {
			metrics_write(s->m, f);
			fclose(f);
			code = MHD_HTTP_OK;
		}
	}
	struct MHD_Response *r = buf ? MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE)
				     : MHD_create_response_from_buffer(strlen(text), (void *)text,
								       MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4");
	enum MHD_Result rc = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return rc;
}

struct metrics_server *metrics_serve(const struct loader_metrics *m, const char *listen, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	if (netaddr_parse(listen, &ss) != 0) {
		snprintf(err, errlen, "--metrics %s: not a numeric IP address and port: use ADDRESS:PORT, e.g. 127.0.0.1:9465 or [::1]:9465", listen);
		return NULL;
	}
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
	unsigned port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						     : ((struct sockaddr_in *)&ss)->sin_port);
	struct metrics_server *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->m = m;
	s->d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &ss,
				MHD_OPTION_END);
	if (!s->d) {
		snprintf(err, errlen, "--metrics %s: cannot listen (address in use or not local?)", listen);
		free(s);
		return NULL;
	}
	return s;
}

void metrics_stop(struct metrics_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	free(s);
}

/* recv_metrics.c: Prometheus text of qoestor-recv and its HTTP server
 * (contract in recv_metrics.h). */
#include "receiver/recv_metrics.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "netaddr.h"

struct recv_metrics {
	struct MHD_Daemon *d;
	pthread_mutex_t mu;
	char *text;
	size_t len;
};

/* ---- exposition ------------------------------------------------------------ */

static void put_label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

struct per_exporter {
	const char *name;
	const char *help;
	size_t off;
};

#define PE(f, n, h) { "qoestor_recv_" n, h, offsetof(struct decode_counters, f) }
static const struct per_exporter pe[] = {
	PE(messages, "messages_total", "IPFIX messages / NetFlow packets received"),
	PE(bytes, "bytes_total", "bytes of those messages"),
	PE(records, "records_total", "data records decoded"),
	PE(rows, "rows_total", "rows handed to the spool"),
	PE(seq_gaps, "sequence_lost_total",
	   "records (NetFlow v9: packets) the exporter numbered that never arrived"),
	PE(unknown_template_records, "unknown_template_records_total",
	   "records dropped because their template was not known yet"),
	PE(unknown_template_sets, "unknown_template_sets_total", "data sets skipped for an unknown template"),
	PE(malformed_messages, "malformed_messages_total", "messages cut short by a format error"),
	PE(templates, "templates_total", "template records received"),
	PE(options_records, "options_records_total", "options data records (read, not stored)"),
	PE(unmapped_records, "unmapped_records_total", "data records without any column of the stream"),
	PE(held_sets, "held_sets_total", "UDP data sets held until their template arrived"),
	PE(held_records, "held_records_total", "records of held sets decoded when their template arrived"),
	PE(expired_templates, "expired_templates_total", "UDP templates forgotten after --udp-template-lifetime"),
};

void recv_metrics_format(FILE *f, const struct recv_metrics_global *g, const struct recv_metrics_exporter *e,
                         size_t n)
{
	for (size_t k = 0; k < sizeof pe / sizeof pe[0]; k++) {
		fprintf(f, "# HELP %s %s\n# TYPE %s counter\n", pe[k].name, pe[k].help, pe[k].name);
		for (size_t i = 0; i < n; i++) {
			uint64_t v;
			memcpy(&v, (const char *)&e[i].c + pe[k].off, sizeof v);
			fprintf(f, "%s{stream=\"%s\",instance=\"", pe[k].name, g->stream);
			put_label_value(f, g->instance);
			fputs("\",exporter=\"", f);
			put_label_value(f, e[i].addr);
			fprintf(f, "\",domain=\"%" PRIu32 "\"} %" PRIu64 "\n", e[i].domain, v);
		}
	}
	char lb[200];
	snprintf(lb, sizeof lb, "{stream=\"%s\",instance=\"%s\"}", g->stream, g->instance);
	struct { const char *name, *type, *help; double v; } gl[] = {
		{ "connections_total", "counter", "TCP connections accepted", (double)g->connections_total },
		{ "sessions_open", "gauge", "TCP connections and UDP exporters held now", (double)g->sessions_open },
		{ "sessions_paused", "gauge", "TCP connections not being read because the spool refuses rows "
		  "(backpressure: check disk space)", (double)g->sessions_paused },
		{ "framing_errors_total", "counter", "TCP streams closed because they could not be framed",
		  (double)g->framing_errors },
		{ "spool_rows_refused_total", "counter", "rows the spool refused (disk full or write error)",
		  (double)g->rows_refused },
		{ "udp_rows_dropped_total", "counter", "UDP rows dropped because the spool refused them",
		  (double)g->udp_rows_dropped },
		{ "kernel_udp_drops_total", "counter", "datagrams the kernel dropped on our UDP socket "
		  "(receive buffer full: raise --udp-rcvbuf-mb); -1 when not known", (double)g->kernel_udp_drops },
		{ "export_dropped_total", "counter", "messages not re-exported (target buffer full)",
		  (double)g->export_dropped },
		{ "spool_rows_accepted_total", "counter", "rows accepted by the spool", (double)g->spool.rows_accepted },
		{ "spool_blocks_written_total", "counter", "spool blocks written", (double)g->spool.blocks_written },
		{ "spool_bytes_written_total", "counter", "spool bytes written (compressed)",
		  (double)g->spool.bytes_written },
		{ "spool_files_published_total", "counter", "spool files published", (double)g->spool.files_published },
		{ "spool_files_salvaged_total", "counter", "files salvaged at start from a crash",
		  (double)g->spool.files_salvaged },
		{ "spool_write_errors_total", "counter", "failed spool writes", (double)g->spool.write_errors },
		{ "spool_rows_pending", "gauge", "rows in memory, not yet in the spool file",
		  (double)g->spool.rows_pending },
		{ "start_time_seconds", "gauge", "when the receiver started (epoch seconds)", g->start_time_s },
	};
	for (size_t k = 0; k < sizeof gl / sizeof gl[0]; k++)
		fprintf(f, "# HELP qoestor_recv_%s %s\n# TYPE qoestor_recv_%s %s\nqoestor_recv_%s%s %.17g\n",
		        gl[k].name, gl[k].help, gl[k].name, gl[k].type, gl[k].name, lb, gl[k].v);
}

/* ---- kernel UDP drops ---------------------------------------------------------- */

int64_t recv_metrics_udp_drops(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -1;
	static const char *files[] = { "/proc/net/udp", "/proc/net/udp6" };
	for (size_t k = 0; k < 2; k++) {
		FILE *f = fopen(files[k], "r");
		if (!f)
			continue;
		char line[512];
		int64_t found = -1;
		while (found < 0 && fgets(line, sizeof line, f)) {
			/* sl local rem st tx:rx tr:when retr uid timeout inode ref pointer drops */
			unsigned long long inode = 0, drops;
			char *p = line;
			int field = 0;
			char *tok, *save = NULL;
			for (tok = strtok_r(p, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save), field++) {
				if (field == 9)
					inode = strtoull(tok, NULL, 10);
				if (field == 12) {
					drops = strtoull(tok, NULL, 10);
					if (inode == (unsigned long long)st.st_ino)
						found = (int64_t)drops;
				}
			}
		}
		fclose(f);
		if (found >= 0)
			return found;
	}
	return -1;
}

/* ---- server --------------------------------------------------------------------- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_len, void **state)
{
	struct recv_metrics *m = cls;
	(void)version;
	(void)upload;
	(void)state;
	*upload_len = 0;
	struct MHD_Response *r;
	unsigned code;
	if (strcmp(method, "GET") == 0 && strcmp(url, "/metrics") == 0) {
		pthread_mutex_lock(&m->mu);
		char *copy = malloc(m->len ? m->len : 1);
		size_t len = m->len;
		if (copy && len)
			memcpy(copy, m->text, len);
		pthread_mutex_unlock(&m->mu);
		if (!copy)
			return MHD_NO;
		r = MHD_create_response_from_buffer(len, copy, MHD_RESPMEM_MUST_FREE);
		code = MHD_HTTP_OK;
	} else {
		static const char nf[] = "not found: try /metrics\n";
		r = MHD_create_response_from_buffer(sizeof nf - 1, (void *)nf, MHD_RESPMEM_PERSISTENT);
		code = MHD_HTTP_NOT_FOUND;
	}
	MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4");
	enum MHD_Result rc = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return rc;
}

struct recv_metrics *recv_metrics_open(const char *listen, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	if (netaddr_parse(listen, &ss) != 0) {
		snprintf(err, errlen, "--metrics %s: not a numeric IP address and port: use ADDRESS:PORT, e.g. 127.0.0.1:9466 or [::1]:9466", listen);
		return NULL;
	}
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
	unsigned port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						     : ((struct sockaddr_in *)&ss)->sin_port);
	struct recv_metrics *m = calloc(1, sizeof *m);
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&m->mu, NULL);
	m->d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, m, MHD_OPTION_SOCK_ADDR, &ss,
	                        MHD_OPTION_END);
	if (!m->d) {
		snprintf(err, errlen, "--metrics %s: cannot listen (address in use or not local?)", listen);
		pthread_mutex_destroy(&m->mu);
		free(m);
		return NULL;
	}
	return m;
}

void recv_metrics_publish(struct recv_metrics *m, const char *text, size_t len)
{
	char *copy = malloc(len ? len : 1);
	if (!copy)
		return;
	memcpy(copy, text, len);
	pthread_mutex_lock(&m->mu);
	free(m->text);
	m->text = copy;
	m->len = len;
	pthread_mutex_unlock(&m->mu);
}

void recv_metrics_close(struct recv_metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->d);
	pthread_mutex_destroy(&m->mu);
	free(m->text);
	free(m);
}

/* recv.c: qoestor-recv, one process per stream and DPI.
 *
 * One libuv loop in one thread: a TCP listener (each connection is a decode
 * session) or a UDP socket (each exporter address:port is a decode session),
 * a timer that rotates the spool file on multiples of the rotation period,
 * and signal handlers (SIGHUP rotates now, SIGTERM/SIGINT publish and exit).
 * libuv was chosen over libfixbuf's own fbListener because fbListener blocks
 * per call and owns the sockets: we need non-blocking reads across many
 * exporters, a framing-error policy of our own (close and count), TCP
 * backpressure (stop reading one connection while the spool refuses rows),
 * and timers for rotation; libfixbuf stays the decoder (decode.c).
 *
 * Backpressure, not loss: over TCP, when the spool refuses a row (disk full),
 * the connection stops being read (the exporter sees TCP flow control) and the
 * message is retried every second from where it stopped; over UDP the row is
 * dropped and counted. Spool writes may block the loop on disk I/O, which
 * also slows every TCP reader: that is the intended backpressure.
 *
 * Durability: every second the rows held in the spool's memory block are
 * written to its temporary file, so kill -9 loses at most about a second of
 * rows; the next start salvages the temporary file (spool.h).
 *
 * Counters per exporter (peer address and observation domain) are logged at
 * every rotation and stored in the file's trailer, for that file's period.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "config/cfg_cmdline.h"
#include "log.h"
#include "receiver/decode.h"
#include "receiver/frame.h"
#include "receiver/recv_export.h"
#include "receiver/recv_metrics.h"
#include "receiver/recv_opts.h"
#include "spool/spool.h"

#define TCP_BUF (2 * 65536)
#define UDP_MMSG 32

/* One exporter's counters already moved into the current file period. */
struct done_stats {
	struct spool_exporter_stats s;
	struct done_stats *next;
};

/* One exporter address and domain: counters since start (for --metrics). */
struct exp_total {
	struct recv_metrics_exporter m;
	struct exp_total *next;
};

struct sess {                      /* a TCP connection or a UDP exporter */
	struct recv *r;
	struct decode_session *ds;
	char peer[64];
	struct decode_counters *snap;  /* counters at the last rotation, per domain index */
	size_t nsnap;
	struct sess *next, *prev;
	/* TCP */
	uv_tcp_t tcp;
	uint8_t *buf;
	size_t len;
	struct decode_cursor cur;
	int paused, closing;
	/* UDP */
	struct sockaddr_storage addr;
	uint64_t last_seen;
};

struct recv {
	struct recv_opts o;
	uv_loop_t *loop;
	struct decode_model *model;
	struct spool_writer *w;
	int udp;
	uv_tcp_t tcp_srv;
	uv_udp_t udp_sock;
	uv_timer_t tick;
	uv_signal_t sig_hup, sig_term, sig_int;
	struct sess *sessions;
	struct done_stats *done;
	struct exp_total *totals;
	struct recv_metrics *metrics;
	struct recv_export *exp;
	double start_time;
	uint64_t next_rotate;          /* epoch seconds */
	uint64_t udp_rows_dropped, rows_refused, connections, framing_errors;
	struct log_ratelimit rl;
	int stopping;
	uint8_t udp_buf[65536];
	uint8_t *mmsg_buf;             /* UDP: room for UDP_MMSG datagrams per recvmmsg */
};

static uint64_t now_s(void)
{
	return (uint64_t)time(NULL);
}

static void peer_name(const struct sockaddr *sa, char *out, size_t n)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
		port = ntohs(a->sin_port);
		snprintf(out, n, "%s:%u", ip, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
		port = ntohs(a->sin6_port);
		snprintf(out, n, "[%s]:%u", ip, port);
	} else {
		snprintf(out, n, "?");
	}
}

/* ---- exporter counters ------------------------------------------------------- */

static void add_total(struct recv *r, const char *peer, uint32_t domain, const struct decode_counters *now,
                      const struct decode_counters *then)
{
	char addr[64];
	snprintf(addr, sizeof addr, "%s", peer);
	char *colon = strrchr(addr, ':');
	if (colon)
		*colon = 0; /* the port changes with every TCP connection */
	struct exp_total *t;
	for (t = r->totals; t; t = t->next)
		if (t->m.domain == domain && !strcmp(t->m.addr, addr))
			break;
	if (!t) {
		t = calloc(1, sizeof *t);
		if (!t)
			abort();
		snprintf(t->m.addr, sizeof t->m.addr, "%s", addr);
		t->m.domain = domain;
		t->next = r->totals;
		r->totals = t;
	}
	uint64_t *dst = (uint64_t *)&t->m.c;
	const uint64_t *a = (const uint64_t *)now, *b = (const uint64_t *)then;
	for (size_t i = 0; i < sizeof t->m.c / sizeof(uint64_t); i++)
		dst[i] += a[i] - (b ? b[i] : 0);
}

static void add_delta(struct spool_exporter_stats *e, const struct decode_counters *now,
                      const struct decode_counters *then)
{
	static const struct decode_counters zero;
	if (!then)
		then = &zero;
	e->messages += now->messages - then->messages;
	e->records += now->records - then->records;
	e->bytes += now->bytes - then->bytes;
	e->seq_gaps += now->seq_gaps - then->seq_gaps;
	e->unknown_template_records += now->unknown_template_records - then->unknown_template_records;
	e->malformed_messages += now->malformed_messages - then->malformed_messages;
}

/* Move the session's counters since the last rotation into r->done. */
static void sess_harvest(struct recv *r, struct sess *s)
{
	size_t n;
	const struct decode_domain *d = decode_session_domains(s->ds, &n);
	for (size_t i = 0; i < n; i++) {
		const struct decode_counters *then = i < s->nsnap ? &s->snap[i] : NULL;
		if (then && !memcmp(then, &d[i].c, sizeof *then))
			continue;
		struct done_stats *x;
		for (x = r->done; x; x = x->next)
			if (x->s.domain == d[i].domain && !strcmp(x->s.peer, s->peer))
				break;
		if (!x) {
			x = calloc(1, sizeof *x);
			if (!x)
				abort();
			snprintf(x->s.peer, sizeof x->s.peer, "%s", s->peer);
			x->s.domain = d[i].domain;
			x->next = r->done;
			r->done = x;
		}
		add_delta(&x->s, &d[i].c, then);
		add_total(r, s->peer, d[i].domain, &d[i].c, then);
	}
	struct decode_counters *ns = realloc(s->snap, (n ? n : 1) * sizeof *ns);
	if (!ns)
		abort();
	for (size_t i = 0; i < n; i++)
		ns[i] = d[i].c;
	s->snap = ns;
	s->nsnap = n;
}

static void rotate(struct recv *r, const char *why)
{
	for (struct sess *s = r->sessions; s; s = s->next)
		sess_harvest(r, s);
	size_t n = 0;
	for (struct done_stats *x = r->done; x; x = x->next)
		n++;
	struct spool_exporter_stats *arr = calloc(n ? n : 1, sizeof *arr);
	if (!arr)
		abort();
	size_t i = 0;
	for (struct done_stats *x = r->done; x; x = x->next) {
		arr[i++] = x->s;
		log_info("exporter %s domain %u: %" PRIu64 " messages, %" PRIu64 " records, %" PRIu64
		         " bytes, %" PRIu64 " lost (sequence), %" PRIu64 " unknown-template records, %" PRIu64
		         " malformed messages", x->s.peer, x->s.domain, x->s.messages, x->s.records, x->s.bytes,
		         x->s.seq_gaps, x->s.unknown_template_records, x->s.malformed_messages);
	}
	spool_writer_set_exporters(r->w, arr, n);
	free(arr);
	recv_export_log_stats(r->exp);
	struct spool_writer_stats st;
	spool_writer_stats(r->w, &st);
	if (spool_writer_rotate(r->w))
		log_err("rotation (%s) failed: %s; the rows stay in the spool's temporary file and the next "
		        "rotation retries; check free space and permissions of %s", why, strerror(errno),
		        spool_writer_dir(r->w));
	else
		log_info("rotated (%s): %" PRIu64 " rows in the file; totals: %" PRIu64 " rows refused by the spool, "
		         "%" PRIu64 " UDP rows dropped", why, st.rows_in_file + st.rows_pending, r->rows_refused,
		         r->udp_rows_dropped);
	while (r->done) {
		struct done_stats *x = r->done;
		r->done = x->next;
		free(x);
	}
}

/* ---- records into the spool -------------------------------------------------- */

/* IPFIX rows go straight into the spool (decode_session_spool): these see
 * NetFlow records, and (rec NULL) the rows the spool refused. */
static int emit_tcp(void *ctx, const struct qs_record *rec, uint32_t domain)
{
	struct sess *s = ctx;
	(void)domain;
	if (rec && spool_writer_add(s->r->w, rec) == 0)
		return 0;
	if (errno == EMSGSIZE || errno == EINVAL) { /* this row can never be written */
		log_ratelimited(&s->r->rl, LOG_ERR, "%s: row refused by the spool (%s); dropped", s->peer, strerror(errno));
		s->r->rows_refused++;
		return 0;
	}
	s->r->rows_refused++;
	log_ratelimited(&s->r->rl, LOG_ERR, "%s: the spool refuses rows (%s): not reading from this exporter "
	                "until it accepts them again (TCP backpressure); free space in %s", s->peer,
	                strerror(errno), spool_writer_dir(s->r->w));
	return 1;
}

static int emit_udp(void *ctx, const struct qs_record *rec, uint32_t domain)
{
	struct sess *s = ctx;
	(void)domain;
	if (rec && spool_writer_add(s->r->w, rec) == 0)
		return 0;
	s->r->udp_rows_dropped++;
	log_ratelimited(&s->r->rl, LOG_ERR, "%s: the spool refuses rows (%s): UDP rows are dropped and counted; "
	                "free space in %s", s->peer, strerror(errno), spool_writer_dir(s->r->w));
	return 0;
}

/* ---- sessions ------------------------------------------------------------------ */

static void sess_init(struct recv *r, struct sess *s, const char *peer)
{
	s->r = r;
	snprintf(s->peer, sizeof s->peer, "%s", peer);
	s->ds = decode_session_open(r->model, r->o.def, peer);
	decode_session_accept(s->ds, r->o.accept);
	decode_session_spool(s->ds, r->w);
	s->next = r->sessions;
	if (r->sessions)
		r->sessions->prev = s;
	r->sessions = s;
}

static struct sess *sess_new(struct recv *r, const char *peer)
{
	struct sess *s = calloc(1, sizeof *s);
	if (!s)
		abort();
	sess_init(r, s, peer);
	return s;
}

static void sess_free(struct sess *s)
{
	struct recv *r = s->r;
	sess_harvest(r, s);
	if (s->prev)
		s->prev->next = s->next;
	else
		r->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	decode_session_close(s->ds);
	free(s->snap);
	free(s->buf);
	free(s);
}

/* ---- TCP --------------------------------------------------------------------------- */

static void on_tcp_closed(uv_handle_t *h)
{
	sess_free(h->data);
}

static void tcp_close(struct sess *s, const char *why)
{
	if (s->closing)
		return;
	s->closing = 1;
	size_t n;
	const struct decode_domain *d = decode_session_domains(s->ds, &n);
	uint64_t recs = 0;
	for (size_t i = 0; i < n; i++)
		recs += d[i].c.records;
	log_info("%s: connection closed (%s) after %" PRIu64 " records", s->peer, why, recs);
	uv_close((uv_handle_t *)&s->tcp, on_tcp_closed);
}

static void tcp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct sess *s = h->data;
	(void)hint;
	b->base = (char *)s->buf + s->len;
	b->len = TCP_BUF - s->len;
}

/* Decode the complete messages held; 0 ok, -1 the connection was closed. */
static int tcp_drain(struct sess *s)
{
	size_t off = 0, mlen;
	char why[300];
	while (!s->paused) {
		enum frame_result fr = frame_ipfix(s->buf + off, s->len - off, &mlen, why, sizeof why);
		if (fr == FRAME_NEED_MORE)
			break;
		if (fr == FRAME_BAD) {
			s->r->framing_errors++;
			struct decode_cursor c = { 0 };
			decode_message(s->ds, s->buf + off, s->len - off < 16 ? s->len - off : 16, NULL, NULL, &c);
			log_ratelimited(&s->r->rl, LOG_ERR, "%s: %s; closing the connection", s->peer, why);
			tcp_close(s, "unframeable bytes");
			return -1;
		}
		if (s->r->exp && !s->cur.started) /* once per message, not again when resumed */
			recv_export_ipfix(s->r->exp, s->buf + off, mlen);
		enum decode_result dr = decode_message(s->ds, s->buf + off, mlen, emit_tcp, s, &s->cur);
		if (dr == DECODE_PAUSED) {
			s->paused = 1;
			uv_read_stop((uv_stream_t *)&s->tcp);
			break;
		}
		memset(&s->cur, 0, sizeof s->cur);
		off += mlen;
	}
	memmove(s->buf, s->buf + off, s->len - off);
	s->len -= off;
	return 0;
}

static void tcp_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
	struct sess *s = st->data;
	(void)b;
	if (nread < 0) {
		if (s->len && nread == UV_EOF)
			log_ratelimited(&s->r->rl, LOG_WARN, "%s: %zu bytes of an unfinished message at end of stream",
			                s->peer, s->len);
		tcp_close(s, nread == UV_EOF ? "end of stream" : uv_strerror((int)nread));
		return;
	}
	s->len += (size_t)nread;
	tcp_drain(s);
}

static void on_connection(uv_stream_t *srv, int status)
{
	struct recv *r = srv->data;
	if (status < 0) {
		log_err("accept: %s", uv_strerror(status));
		return;
	}
	struct sess *s = calloc(1, sizeof *s);
	if (!s)
		abort();
	uv_tcp_init(r->loop, &s->tcp);
	if (uv_accept(srv, (uv_stream_t *)&s->tcp)) {
		uv_close((uv_handle_t *)&s->tcp, (uv_close_cb)free);
		return;
	}
	struct sockaddr_storage ss;
	int sl = sizeof ss;
	char peer[64] = "?";
	if (!uv_tcp_getpeername(&s->tcp, (struct sockaddr *)&ss, &sl))
		peer_name((struct sockaddr *)&ss, peer, sizeof peer);
	sess_init(r, s, peer);
	s->tcp.data = s;
	s->buf = malloc(TCP_BUF);
	if (!s->buf)
		abort();
	r->connections++;
	log_info("%s: connected", peer);
	uv_read_start((uv_stream_t *)&s->tcp, tcp_alloc, tcp_read);
}

/* ---- UDP -------------------------------------------------------------------------- */

static void udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct recv *r = h->data;
	(void)hint;
	if (r->mmsg_buf) { /* libuv reads up to UDP_MMSG datagrams per system call into it */
		b->base = (char *)r->mmsg_buf;
		b->len = UDP_MMSG * 65536;
		return;
	}
	b->base = (char *)r->udp_buf;
	b->len = sizeof r->udp_buf;
}

static void udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *b, const struct sockaddr *addr, unsigned flags)
{
	struct recv *r = h->data;
	if (nread <= 0 || !addr)
		return;
	if (flags & UV_UDP_PARTIAL)
		log_ratelimited(&r->rl, LOG_WARN, "UDP datagram truncated to %zd bytes", nread);
	socklen_t al = addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	struct sess *s;
	for (s = r->sessions; s; s = s->next)
		if (!memcmp(&s->addr, addr, al))
			break;
	if (!s) {
		char peer[64];
		peer_name(addr, peer, sizeof peer);
		s = sess_new(r, peer);
		decode_session_udp(s->ds, r->o.udp_hold_s, (size_t)r->o.udp_hold_kb << 10, r->o.udp_lifetime_s);
		memcpy(&s->addr, addr, al);
		log_info("%s: first UDP message", peer);
	}
	s->last_seen = now_s();
	const uint8_t *p = (const uint8_t *)b->base;
	size_t off = 0, mlen, len = (size_t)nread;
	char why[300];
	unsigned version = len >= 2 ? (unsigned)(p[0] << 8 | p[1]) : 0;
	if ((version == 9 && (r->o.accept & DECODE_NETFLOW9)) || (version == 5 && (r->o.accept & DECODE_NETFLOW5))) {
		struct decode_cursor c = { 0 };
		if (r->exp)
			recv_export_netflow(r->exp, p, len);
		decode_message(s->ds, p, len, emit_udp, s, &c); /* one NetFlow packet per datagram */
		return;
	}
	while (off < len) {
		enum frame_result fr = frame_ipfix(p + off, len - off, &mlen, why, sizeof why);
		if (fr != FRAME_OK) {
			struct decode_cursor c = { 0 };
			decode_message(s->ds, p + off, len - off, NULL, NULL, &c); /* counts it as malformed */
			if (fr == FRAME_BAD)
				log_ratelimited(&r->rl, LOG_ERR, "%s: %s", s->peer, why);
			break;
		}
		struct decode_cursor c = { 0 };
		if (r->exp)
			recv_export_ipfix(r->exp, p + off, mlen);
		decode_message(s->ds, p + off, mlen, emit_udp, s, &c);
		off += mlen;
	}
}

/* ---- metrics ------------------------------------------------------------------ */

static void publish_metrics(struct recv *r)
{
	struct recv_metrics_global g = { .stream = r->o.def->name, .instance = r->o.instance,
		.connections_total = r->connections, .framing_errors = r->framing_errors,
		.rows_refused = r->rows_refused, .udp_rows_dropped = r->udp_rows_dropped, .kernel_udp_drops = -1,
		.export_dropped = recv_export_dropped(r->exp),
		.start_time_s = r->start_time };
	for (struct sess *s = r->sessions; s; s = s->next) {
		sess_harvest(r, s);
		g.sessions_open++;
		g.sessions_paused += s->paused != 0;
	}
	uv_os_fd_t fd;
	if (r->udp && uv_fileno((uv_handle_t *)&r->udp_sock, &fd) == 0)
		g.kernel_udp_drops = recv_metrics_udp_drops(fd);
	spool_writer_stats(r->w, &g.spool);
	size_t n = 0;
	for (struct exp_total *t = r->totals; t; t = t->next)
		n++;
	struct recv_metrics_exporter *e = calloc(n ? n : 1, sizeof *e);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!e || !f) {
		free(e);
		if (f)
			fclose(f);
		free(buf);
		return;
	}
	size_t i = 0;
	for (struct exp_total *t = r->totals; t; t = t->next)
		e[i++] = t->m;
	recv_metrics_format(f, &g, e, n);
	fclose(f);
	recv_metrics_publish(r->metrics, buf, len);
	free(buf);
	free(e);
}

/* ---- timers, signals, shutdown --------------------------------------------- */

static void on_tick(uv_timer_t *t)
{
	struct recv *r = t->data;
	uint64_t now = now_s();
	if (now >= r->next_rotate) {
		rotate(r, "period");
		r->next_rotate = (now / r->o.rotate_s + 1) * r->o.rotate_s;
	}
	/* Rows still in the spool's memory block go to its temporary file every
	 * second, so a crash (kill -9, power aside) loses at most a second. */
	struct spool_writer_stats st;
	spool_writer_stats(r->w, &st);
	if (st.rows_pending) {
		if (spool_writer_flush(r->w) == 0)
			log_debug("spool: %" PRIu64 " rows written to the temporary file (flush)", st.rows_pending);
	}
	if (r->exp)
		recv_export_tick(r->exp);
	if (r->metrics)
		publish_metrics(r);
	/* TCP sessions paused by the spool: try again */
	for (struct sess *s = r->sessions, *nx; s; s = nx) {
		nx = s->next;
		if (s->paused && !s->closing) {
			s->paused = 0;
			if (tcp_drain(s) == 0 && !s->paused)
				uv_read_start((uv_stream_t *)&s->tcp, tcp_alloc, tcp_read);
		}
	}
	/* UDP exporters silent too long: forget them and their templates */
	if (r->udp)
		for (struct sess *s = r->sessions, *nx; s; s = nx) {
			nx = s->next;
			if (now - s->last_seen > r->o.udp_timeout_s) {
				log_info("%s: silent for %u s, its templates are forgotten", s->peer, r->o.udp_timeout_s);
				sess_free(s);
			}
		}
}

static void on_close_noop(uv_handle_t *h)
{
	(void)h;
}

static void on_signal(uv_signal_t *sg, int signum)
{
	struct recv *r = sg->data;
	if (signum == SIGHUP) {
		rotate(r, "SIGHUP");
		return;
	}
	if (r->stopping)
		return;
	r->stopping = 1;
	log_notice("%s: stopping; publishing what is held", signum == SIGTERM ? "SIGTERM" : "SIGINT");
	/* Read what the kernel already holds is not attempted: the exporter
	 * resends over a new connection; rows already accepted are published. */
	for (struct sess *s = r->sessions, *nx; s; s = nx) {
		nx = s->next;
		if (!r->udp)
			tcp_close(s, "shutdown");
	}
	if (r->udp) {
		/* Decode every datagram the kernel already holds before closing. */
		uv_os_fd_t fd;
		if (uv_fileno((uv_handle_t *)&r->udp_sock, &fd) == 0) {
			struct sockaddr_storage from;
			for (;;) {
				socklen_t fl = sizeof from;
				ssize_t n = recvfrom(fd, r->udp_buf, sizeof r->udp_buf, MSG_DONTWAIT,
				                     (struct sockaddr *)&from, &fl);
				if (n < 0)
					break;
				uv_buf_t b = uv_buf_init((char *)r->udp_buf, (unsigned)sizeof r->udp_buf);
				udp_recv(&r->udp_sock, n, &b, (struct sockaddr *)&from, 0);
			}
		}
		uv_close((uv_handle_t *)&r->udp_sock, on_close_noop);
	}
	else
		uv_close((uv_handle_t *)&r->tcp_srv, on_close_noop);
	recv_export_shutdown(r->exp);
	uv_close((uv_handle_t *)&r->tick, on_close_noop);
	uv_close((uv_handle_t *)&r->sig_hup, on_close_noop);
	uv_close((uv_handle_t *)&r->sig_term, on_close_noop);
	uv_close((uv_handle_t *)&r->sig_int, on_close_noop);
}

static int parse_listen(const char *spec, int *udp, struct sockaddr_storage *ss)
{
	const char *hp;
	if (!strncmp(spec, "tcp://", 6))
		*udp = 0, hp = spec + 6;
	else if (!strncmp(spec, "udp://", 6))
		*udp = 1, hp = spec + 6;
	else
		return -1;
	const char *colon = strrchr(hp, ':');
	if (!colon)
		return -1;
	char host[256];
	size_t n = (size_t)(colon - hp);
	if (hp[0] == '[' && n >= 2 && colon[-1] == ']')
		hp++, n -= 2;
	if (n >= sizeof host)
		return -1;
	memcpy(host, hp, n);
	host[n] = 0;
	char *end;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (*end || !colon[1] || port > 65535)
		return -1;
	if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) == 0)
		return 0;
	if (uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss) == 0)
		return 0;
	return -1;
}

int main(int argc, char **argv)
{
	static struct recv R;
	struct recv *r = &R;
	char err[600];
	int code;
	if (qs_config_cmdline(QS_PROG_RECV, &argc, &argv, &code))
		return code;
	if (recv_opts_parse(&r->o, argc, argv, err, sizeof err)) {
		fprintf(stderr, "qoestor-recv: %s\n", err);
		return 2;
	}
	if (r->o.help) {
		recv_opts_usage(stdout);
		fputs(QS_CONFIG_USAGE, stdout);
		return 0;
	}
	char tag[96];
	snprintf(tag, sizeof tag, "qoestor-recv[%.63s]", r->o.instance);
	log_init(tag, (enum log_level)r->o.log_level);
	r->rl.interval_s = 10;
	r->rl.burst = 5;
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	if (parse_listen(r->o.listen, &r->udp, &ss)) {
		fprintf(stderr, "qoestor-recv: --listen '%s' is not tcp://HOST:PORT or udp://HOST:PORT "
		        "(HOST a numeric address, [::1] for IPv6)\n", r->o.listen);
		return 2;
	}
	r->model = decode_model_open(r->o.ie_file, err, sizeof err);
	if (!r->model) {
		log_err("%s; pass --ie-file with the path of dictionaries/vasexperts-ie.xml", err);
		return 1;
	}
	struct spool_writer_opts so = { .spool_dir = r->o.spool, .def = r->o.def, .dpi_id = r->o.dpi,
		.instance = r->o.instance, .rotate_delay_s = r->o.delay_s,
		.zstd_level = r->o.zstd_level, .uncompressed = r->o.uncompressed };
	r->w = spool_writer_open(&so, err, sizeof err);
	if (!r->w) {
		log_err("spool: %s", err);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	r->loop = uv_default_loop();
	if (r->o.export_spec[0]) {
		r->exp = recv_export_open(r->loop, r->o.export_spec, (size_t)r->o.export_queue_mb << 20, err, sizeof err);
		if (!r->exp) {
			log_err("%s", err);
			spool_writer_close(r->w);
			return 2;
		}
	}
	int rc;
	if (r->udp) {
		/* recvmmsg: one system call for up to UDP_MMSG datagrams */
		r->mmsg_buf = malloc((size_t)UDP_MMSG * 65536);
		if (!r->mmsg_buf || uv_udp_init_ex(r->loop, &r->udp_sock, AF_UNSPEC | UV_UDP_RECVMMSG) != 0) {
			free(r->mmsg_buf);
			r->mmsg_buf = NULL;
			uv_udp_init(r->loop, &r->udp_sock);
		}
		r->udp_sock.data = r;
		rc = uv_udp_bind(&r->udp_sock, (struct sockaddr *)&ss, 0);
		if (!rc) {
			int sz = (int)(r->o.udp_rcvbuf_mb * 1024u * 1024u);
			uv_os_fd_t fd;
			/* as root, SO_RCVBUFFORCE passes net.core.rmem_max; else the kernel caps it */
			if (uv_fileno((uv_handle_t *)&r->udp_sock, &fd) != 0 ||
			    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) != 0)
				uv_recv_buffer_size((uv_handle_t *)&r->udp_sock, &sz);
			rc = uv_udp_recv_start(&r->udp_sock, udp_alloc, udp_recv);
		}
	} else {
		uv_tcp_init(r->loop, &r->tcp_srv);
		r->tcp_srv.data = r;
		rc = uv_tcp_bind(&r->tcp_srv, (struct sockaddr *)&ss, 0);
		if (!rc)
			rc = uv_listen((uv_stream_t *)&r->tcp_srv, 128, on_connection);
	}
	if (rc) {
		log_err("cannot listen on %s: %s; is another receiver on that port?", r->o.listen, uv_strerror(rc));
		spool_writer_close(r->w);
		return 1;
	}
	if (r->o.metrics[0]) {
		r->metrics = recv_metrics_open(r->o.metrics, err, sizeof err);
		if (!r->metrics) {
			log_err("%s", err);
			spool_writer_close(r->w);
			return 1;
		}
	}
	struct timespec ts0;
	clock_gettime(CLOCK_REALTIME, &ts0);
	r->start_time = (double)ts0.tv_sec + (double)ts0.tv_nsec / 1e9;
	r->next_rotate = (now_s() / r->o.rotate_s + 1) * r->o.rotate_s;
	uv_timer_init(r->loop, &r->tick);
	r->tick.data = r;
	uv_timer_start(&r->tick, on_tick, 1000, 1000);
	uv_signal_t *sigs[] = { &r->sig_hup, &r->sig_term, &r->sig_int };
	int nums[] = { SIGHUP, SIGTERM, SIGINT };
	for (int i = 0; i < 3; i++) {
		uv_signal_init(r->loop, sigs[i]);
		sigs[i]->data = r;
		uv_signal_start(sigs[i], on_signal, nums[i]);
	}
	log_info("listening on %s for %s of DPI %u; spool %s; rotation every %u s, visible after %u s",
	         r->o.listen, r->o.def->name, r->o.dpi, spool_writer_dir(r->w), r->o.rotate_s, r->o.delay_s);
	uv_run(r->loop, UV_RUN_DEFAULT);
	while (r->sessions) /* UDP sessions (TCP ones were freed by their close callbacks) */
		sess_free(r->sessions);
	rotate(r, "shutdown");
	int crc = spool_writer_close(r->w);
	uv_loop_close(r->loop);
	decode_model_close(r->model);
	recv_metrics_close(r->metrics);
	recv_export_free(r->exp);
	free(r->mmsg_buf);
	while (r->totals) {
		struct exp_total *t = r->totals;
		r->totals = t->next;
		free(t);
	}
	if (crc) {
		log_err("publishing at shutdown failed: the written blocks stay in the spool's .tmp/ and are "
		        "salvaged by the next start");
		return 1;
	}
	log_info("stopped");
	return 0;
}

/* recv_export.c: raw re-export to third-party collectors (contract in recv_export.h). */
#include "receiver/recv_export.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define UDP_MAX 65507u
#define TMPL_MSG_MAX 60000u
#define UDP_TMPL_EVERY_S 10

struct tstore {                  /* the latest template record of (domain, tid) */
	uint32_t domain;
	uint16_t tid;
	uint16_t setid;              /* 2 template, 3 options template */
	uint16_t len;
	uint8_t *rec;
};

struct dseq {
	uint32_t domain;
	uint32_t seq;                /* the sequence number of its last message */
};

struct qmsg {                    /* a message waiting for a TCP connection */
	struct qmsg *next;
	size_t len;
	uint8_t data[];
};

struct wreq {                    /* a write in flight */
	uv_write_t req;
	struct target *t;
	size_t len;
	uint8_t data[];
};

struct target {
	struct recv_export *x;
	char name[300];
	int tcp;
	struct sockaddr_storage addr;
	uv_tcp_t th;
	uv_udp_t uh;
	uv_connect_t conn;
	uv_timer_t retry;
	int handle_open, connected, closing;
	unsigned backoff_ms;
	struct qmsg *head, *tail;
	size_t queued;               /* bytes queued + in flight */
	uint64_t sent, dropped;
	time_t last_tmpl;
	int tmpl_sent;
	struct log_ratelimit rl;
};

struct recv_export {
	uv_loop_t *loop;
	size_t limit;
	struct target *t;
	size_t nt;
	struct tstore *ts;
	size_t nts, capts;
	struct dseq *ds;
	size_t nds, capds;
	int shutting;
};

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

/* ---- template store ------------------------------------------------------------ */

static void tstore_del(struct recv_export *x, uint32_t domain, uint16_t tid, int all)
{
	for (size_t i = 0; i < x->nts;) {
		if (x->ts[i].domain == domain && (all || x->ts[i].tid == tid)) {
			free(x->ts[i].rec);
			x->ts[i] = x->ts[--x->nts];
		} else {
			i++;
		}
	}
}

static void tstore_put(struct recv_export *x, uint32_t domain, uint16_t setid, const uint8_t *rec, size_t len)
{
	uint16_t tid = rd16(rec);
	tstore_del(x, domain, tid, 0);
	if (x->nts == x->capts) {
		size_t cap = x->capts ? x->capts * 2 : 16;
		struct tstore *n = realloc(x->ts, cap * sizeof *n);
		if (!n)
			abort();
		x->ts = n;
		x->capts = cap;
	}
	struct tstore *s = &x->ts[x->nts];
	s->rec = malloc(len);
	if (!s->rec)
		abort();
	memcpy(s->rec, rec, len);
	s->len = (uint16_t)len;
	s->domain = domain;
	s->tid = tid;
	s->setid = setid;
	x->nts++;
}

/* Keep the template records of one template set (id 2 or 3). */
static void scan_template_set(struct recv_export *x, uint32_t domain, uint16_t setid, const uint8_t *p,
                              const uint8_t *end)
{
	while (end - p >= 4) {
		uint16_t tid = rd16(p), cnt = rd16(p + 2);
		if (tid < 256) {
			if (tid == setid && cnt == 0) /* withdraw all of this kind */
				tstore_del(x, domain, 0, 1);
			return;
		}
		if (cnt == 0) {
			tstore_del(x, domain, tid, 0);
			p += 4;
			continue;
		}
		size_t hl = setid == 3 ? 6 : 4;
		if ((size_t)(end - p) < hl)
			return;
		const uint8_t *q = p + hl;
		for (unsigned i = 0; i < cnt; i++) {
			if (end - q < 4)
				return;
			unsigned id = rd16(q);
			q += (id & 0x8000) ? 8 : 4;
			if (q > end)
				return;
		}
		tstore_put(x, domain, setid, p, (size_t)(q - p));
		p = q;
	}
}

static uint32_t domain_seq(struct recv_export *x, uint32_t domain, const uint32_t *set)
{
	for (size_t i = 0; i < x->nds; i++)
		if (x->ds[i].domain == domain) {
			if (set)
				x->ds[i].seq = *set;
			return x->ds[i].seq;
		}
	if (!set)
		return 0;
	if (x->nds == x->capds) {
		size_t cap = x->capds ? x->capds * 2 : 4;
		struct dseq *n = realloc(x->ds, cap * sizeof *n);
		if (!n)
			abort();
		x->ds = n;
		x->capds = cap;
	}
	x->ds[x->nds].domain = domain;
	x->ds[x->nds].seq = *set;
	x->nds++;
	return *set;
}

/* Call fn for each message holding the stored templates (one or more per domain). */
static void template_messages(struct recv_export *x, void (*fn)(struct target *, const uint8_t *, size_t),
                              struct target *t)
{
	static uint8_t buf[TMPL_MSG_MAX + 4096];
	for (size_t d = 0; d < x->nds; d++) {
		uint32_t domain = x->ds[d].domain;
		for (uint16_t setid = 2; setid <= 3; setid++) {
			size_t len = 0, set_at = 0;
			for (size_t i = 0; i <= x->nts; i++) {
				const struct tstore *s = i < x->nts ? &x->ts[i] : NULL;
				if (s && (s->domain != domain || s->setid != setid))
					continue;
				if (len && (!s || len + s->len > TMPL_MSG_MAX)) { /* emit */
					wr16(buf + set_at + 2, (uint16_t)(len - set_at));
					wr16(buf + 2, (uint16_t)len);
					fn(t, buf, len);
					len = 0;
				}
				if (!s)
					break;
				if (!len) {
					wr16(buf, 10);
					wr32(buf + 4, (uint32_t)time(NULL));
					wr32(buf + 8, x->ds[d].seq);
					wr32(buf + 12, domain);
					wr16(buf + 16, setid);
					set_at = 16;
					len = 20;
				}
				memcpy(buf + len, s->rec, s->len);
				len += s->len;
			}
		}
	}
}

/* ---- targets -------------------------------------------------------------------- */

static void tcp_connect(struct target *t);

static void on_retry(uv_timer_t *h)
{
	tcp_connect(h->data);
}

static void on_tcp_closed(uv_handle_t *h)
{
	struct target *t = h->data;
	t->handle_open = 0;
	t->connected = 0;
	t->closing = 0;
	if (t->x->shutting)
		return;
	uv_timer_start(&t->retry, on_retry, t->backoff_ms, 0);
	t->backoff_ms = t->backoff_ms >= 15000 ? 30000 : t->backoff_ms * 2;
}

static void tcp_drop_conn(struct target *t, const char *why)
{
	if (t->closing || !t->handle_open)
		return;
	t->closing = 1;
	log_ratelimited(&t->rl, LOG_WARN, "export %s: %s; retrying in %u ms", t->name, why, t->backoff_ms);
	uv_close((uv_handle_t *)&t->th, on_tcp_closed);
}

static void on_write(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct target *t = w->t;
	t->queued -= w->len;
	if (status < 0) {
		t->dropped++;
		if (status != UV_ECANCELED)
			tcp_drop_conn(t, uv_strerror(status));
	} else {
		t->sent++;
	}
	free(w);
}

static void tcp_write(struct target *t, const uint8_t *msg, size_t len)
{
	struct wreq *w = malloc(sizeof *w + len);
	if (!w) {
		t->dropped++;
		return;
	}
	w->t = t;
	w->len = len;
	memcpy(w->data, msg, len);
	uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)len);
	t->queued += len;
	int rc = uv_write(&w->req, (uv_stream_t *)&t->th, &b, 1, on_write);
	if (rc < 0) {
		t->queued -= len;
		t->dropped++;
		free(w);
		tcp_drop_conn(t, uv_strerror(rc));
	}
}

static void tmpl_to_tcp(struct target *t, const uint8_t *m, size_t len)
{
	tcp_write(t, m, len);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	static char sink[4096];
	(void)h;
	(void)hint;
	*b = uv_buf_init(sink, sizeof sink);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	(void)b;
	if (n < 0)
		tcp_drop_conn(s->data, n == UV_EOF ? "the collector closed the connection" : uv_strerror((int)n));
}

static void on_connect(uv_connect_t *req, int status)
{
	struct target *t = req->data;
	if (status < 0) {
		if (status != UV_ECANCELED)
			tcp_drop_conn(t, uv_strerror(status));
		return;
	}
	t->connected = 1;
	t->backoff_ms = 1000;
	log_notice("export %s: connected; sending %zu templates, then %zu queued bytes", t->name, t->x->nts,
	           t->queued);
	uv_read_start((uv_stream_t *)&t->th, on_alloc, on_read);
	template_messages(t->x, tmpl_to_tcp, t);
	while (t->head && t->connected && !t->closing) {
		struct qmsg *q = t->head;
		t->head = q->next;
		if (!t->head)
			t->tail = NULL;
		t->queued -= q->len;
		tcp_write(t, q->data, q->len);
		free(q);
	}
}

static void tcp_connect(struct target *t)
{
	if (t->x->shutting || t->handle_open)
		return;
	uv_tcp_init(t->x->loop, &t->th);
	t->th.data = t;
	t->handle_open = 1;
	t->conn.data = t;
	int rc = uv_tcp_connect(&t->conn, &t->th, (struct sockaddr *)&t->addr, on_connect);
	if (rc < 0)
		tcp_drop_conn(t, uv_strerror(rc));
}

static void tcp_send(struct target *t, const uint8_t *msg, size_t len)
{
	if (t->connected && !t->closing) {
		if (t->queued + len > t->x->limit) {
			t->dropped++;
			log_ratelimited(&t->rl, LOG_WARN, "export %s: %zu bytes waiting for the collector; messages are "
			                "dropped and counted (a slow collector never slows reception)", t->name, t->queued);
			return;
		}
		tcp_write(t, msg, len);
		return;
	}
	if (t->queued + len > t->x->limit) {
		t->dropped++;
		log_ratelimited(&t->rl, LOG_WARN, "export %s: not connected and %zu bytes queued; messages are dropped "
		                "and counted until it connects", t->name, t->queued);
		return;
	}
	struct qmsg *q = malloc(sizeof *q + len);
	if (!q) {
		t->dropped++;
		return;
	}
	q->next = NULL;
	q->len = len;
	memcpy(q->data, msg, len);
	if (t->tail)
		t->tail->next = q;
	else
		t->head = q;
	t->tail = q;
	t->queued += len;
}

static void udp_send(struct target *t, const uint8_t *msg, size_t len)
{
	if (len > UDP_MAX) {
		t->dropped++;
		log_ratelimited(&t->rl, LOG_WARN, "export %s: a %zu-byte message does not fit a UDP datagram; dropped",
		                t->name, len);
		return;
	}
	uv_buf_t b = uv_buf_init((char *)msg, (unsigned)len);
	int rc = uv_udp_try_send(&t->uh, &b, 1, (const struct sockaddr *)&t->addr);
	if (rc < 0) {
		t->dropped++;
		log_ratelimited(&t->rl, LOG_WARN, "export %s: %s; message dropped", t->name, uv_strerror(rc));
	} else {
		t->sent++;
	}
}

static void tmpl_to_udp(struct target *t, const uint8_t *m, size_t len)
{
	udp_send(t, m, len);
}

static int parse_target(const char *spec, size_t n, struct target *t, char *err, size_t errlen)
{
	if (n >= sizeof t->name) {
		snprintf(err, errlen, "--export: target too long");
		return -1;
	}
	memcpy(t->name, spec, n);
	t->name[n] = 0;
	char tmp[sizeof t->name];
	snprintf(tmp, sizeof tmp, "%s", t->name);
	char *proto = strrchr(tmp, '/');
	if (!proto)
		goto bad;
	*proto++ = 0;
	char *port = strrchr(tmp, '/');
	if (!port)
		goto bad;
	*port++ = 0;
	char *host = tmp;
	size_t hl = strlen(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = 0;
		host++;
	}
	char *end;
	unsigned long p = strtoul(port, &end, 10);
	if (!*port || *end || p == 0 || p > 65535)
		goto bad;
	if (!strcmp(proto, "tcp"))
		t->tcp = 1;
	else if (strcmp(proto, "udp"))
		goto bad;
	if (uv_ip4_addr(host, (int)p, (struct sockaddr_in *)&t->addr) &&
	    uv_ip6_addr(host, (int)p, (struct sockaddr_in6 *)&t->addr))
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "--export: '%s' is not IP/PORT/PROTO (e.g. 10.0.0.2/9920/tcp, proto tcp or udp, "
	         "a numeric address)", t->name);
	return -1;
}

struct recv_export *recv_export_open(uv_loop_t *loop, const char *spec, size_t queue_bytes, char *err,
                                     size_t errlen)
{
	struct recv_export *x = calloc(1, sizeof *x);
	if (!x)
		abort();
	x->loop = loop;
	x->limit = queue_bytes;
	size_t n = 1;
	for (const char *c = spec; *c; c++)
		n += *c == ',';
	x->t = calloc(n, sizeof *x->t);
	if (!x->t)
		abort();
	for (const char *p = spec; *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		struct target *t = &x->t[x->nt];
		if (len && parse_target(p, len, t, err, errlen) < 0) {
			free(x->t);
			free(x);
			return NULL;
		}
		if (len) {
			t->x = x;
			t->backoff_ms = 1000;
			t->rl.interval_s = 10;
			t->rl.burst = 3;
			x->nt++;
		}
		p += len + (comma ? 1 : 0);
	}
	for (size_t i = 0; i < x->nt; i++) {
		struct target *t = &x->t[i];
		uv_timer_init(loop, &t->retry);
		t->retry.data = t;
		if (t->tcp) {
			tcp_connect(t);
		} else {
			uv_udp_init(loop, &t->uh);
			t->uh.data = t;
			t->handle_open = 1;
		}
		log_info("export %s: %s", t->name, t->tcp ? "connecting" : "sending datagrams");
	}
	return x;
}

void recv_export_ipfix(struct recv_export *x, const uint8_t *msg, size_t len)
{
	uint32_t domain = (uint32_t)msg[12] << 24 | (uint32_t)msg[13] << 16 | (uint32_t)msg[14] << 8 | msg[15];
	uint32_t seq = (uint32_t)msg[8] << 24 | (uint32_t)msg[9] << 16 | (uint32_t)msg[10] << 8 | msg[11];
	domain_seq(x, domain, &seq);
	for (size_t off = 16; len - off >= 4;) {
		uint16_t id = rd16(msg + off), sl = rd16(msg + off + 2);
		if (sl < 4 || sl > len - off)
			break;
		if (id == 2 || id == 3)
			scan_template_set(x, domain, id, msg + off + 4, msg + off + sl);
		off += sl;
	}
	for (size_t i = 0; i < x->nt; i++) {
		struct target *t = &x->t[i];
		if (t->tcp) {
			tcp_send(t, msg, len);
		} else {
			if (!t->tmpl_sent) {
				template_messages(x, tmpl_to_udp, t);
				t->tmpl_sent = 1;
				t->last_tmpl = time(NULL);
			}
			udp_send(t, msg, len);
		}
	}
}

void recv_export_netflow(struct recv_export *x, const uint8_t *pkt, size_t len)
{
	for (size_t i = 0; i < x->nt; i++)
		if (!x->t[i].tcp)
			udp_send(&x->t[i], pkt, len);
}

void recv_export_tick(struct recv_export *x)
{
	time_t now = time(NULL);
	for (size_t i = 0; i < x->nt; i++) {
		struct target *t = &x->t[i];
		if (!t->tcp && t->tmpl_sent && now - t->last_tmpl >= UDP_TMPL_EVERY_S) {
			template_messages(x, tmpl_to_udp, t);
			t->last_tmpl = now;
		}
	}
}

uint64_t recv_export_dropped(const struct recv_export *x)
{
	uint64_t d = 0;
	for (size_t i = 0; x && i < x->nt; i++)
		d += x->t[i].dropped;
	return d;
}

void recv_export_log_stats(const struct recv_export *x)
{
	for (size_t i = 0; x && i < x->nt; i++) {
		const struct target *t = &x->t[i];
		log_info("export %s: %" PRIu64 " messages sent, %" PRIu64 " dropped%s", t->name, t->sent, t->dropped,
		         t->tcp ? (t->connected ? ", connected" : ", not connected") : "");
	}
}

void recv_export_shutdown(struct recv_export *x)
{
	if (!x)
		return;
	x->shutting = 1;
	for (size_t i = 0; i < x->nt; i++) {
		struct target *t = &x->t[i];
		uv_timer_stop(&t->retry);
		uv_close((uv_handle_t *)&t->retry, NULL);
		while (t->head) {
			struct qmsg *q = t->head;
			t->head = q->next;
			t->dropped++;
			free(q);
		}
		t->tail = NULL;
		if (t->handle_open && !t->closing) {
			t->closing = 1;
			uv_close(t->tcp ? (uv_handle_t *)&t->th : (uv_handle_t *)&t->uh, NULL);
		}
	}
	recv_export_log_stats(x);
}

void recv_export_free(struct recv_export *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->nts; i++)
		free(x->ts[i].rec);
	free(x->ts);
	free(x->ds);
	free(x->t);
	free(x);
}

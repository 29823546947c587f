/* decode.c: IPFIX decoding (contract in decode.h).
 *
 * Templates go through libfixbuf 2.4; data records do not. The receiver
 * frames messages itself and walks their sets here:
 *   - a template or options template set (ids 2, 3) is handed to libfixbuf as
 *     a message of its own (the header, then that set), "connection-less",
 *     with fBufSetBuffer(); libfixbuf keeps templates per session and domain,
 *     handles withdrawals and redefinitions, and calls tmpl_new for each new
 *     template, which compiles it once into a copy plan (copyplan.h) attached
 *     as the template's context (libfixbuf frees it when the template goes);
 *   - a data set (id >= 256) is looked up in libfixbuf's session for the
 *     message's domain and its records are decoded straight from the message
 *     bytes by the plan: no per-record transcoding, allocation or copy.
 * Sets are taken in message order, so a template redefined in the middle of
 * a message applies to the data sets after it only.
 *
 * libfixbuf reports some events only through GLib log lines; a GLib log
 * handler turns them into our logger (rate-limited per session).
 * Sequence numbers are checked here, per domain, from the message headers.
 */
#include "receiver/decode.h"

#include <fixbuf/public.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "receiver/copyplan.h"
#include "receiver/netflow.h"
#include "spool/spool.h"

/* Exported by libfixbuf 2.4 but declared only in its private.h: forget the
 * position in an abandoned message (fBufSetBuffer alone keeps the set state). */
void fBufRewind(fBuf_t *fbuf);

#define DEC_MAX_MSG 65535

struct decode_model {
	fbInfoModel_t *im;
};

struct tmpl_ctx {
	int options;
	time_t seen;           /* when it arrived (UDP lifetime) */
	struct cp_plan *plan;
};

struct held {              /* a UDP data set waiting for its template */
	struct held *next;
	uint32_t domain;
	uint16_t tid;
	time_t at;
	size_t len;
	uint8_t set[];
};

struct dom_extra {
	uint32_t next_seq;
	int have_seq;
	int skipped_last; /* the previous message had sets with unknown templates */
};

struct decode_session {
	struct decode_model *m;
	const struct qs_stream_def *def;
	char peer[96];
	fbSession_t *fs;
	fBuf_t *fb;
	struct decode_domain *doms;
	struct dom_extra *dx;
	size_t ndoms, capdoms;
	size_t cur;            /* index of the domain of the message being decoded */
	uint16_t tmpl_tid;     /* the template being compiled (for log lines) */
	unsigned accept;       /* DECODE_NETFLOW* */
	unsigned hold_s, lifetime_s;
	size_t hold_max, held_bytes;
	struct held *held;
	time_t now;            /* of the message being decoded (UDP rules only) */
	struct nf_templates *nf;
	uint32_t skipped_sets; /* in the message being decoded */
	struct log_ratelimit rl;
	struct qs_record r;
	struct spool_writer *w; /* direct rows (decode_session_spool), or NULL */
	uint8_t *tset;          /* the last template set libfixbuf took, as it came */
	size_t tset_len;        /* 0: none */
	uint32_t tset_domain;
	uint8_t buf[DEC_MAX_MSG + 1];
};

static _Thread_local struct decode_session *tl_cur;

/* ---- GLib log lines from libfixbuf -------------------------------------- */

static void glib_log(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data)
{
	struct decode_session *s = tl_cur;
	(void)data;
	if (strstr(msg, "out of sequence"))
		return; /* counted from the headers in decode_message */
	enum log_level lvl = (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) ? LOG_ERR
	                   : (level & G_LOG_LEVEL_WARNING) ? LOG_WARN
	                   : (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO)) ? LOG_INFO : LOG_DEBUG;
	if (s)
		log_ratelimited(&s->rl, lvl, "%s: libfixbuf: %s", s->peer, msg);
	else
		log_msg(lvl, "libfixbuf%s%s: %s", domain ? " " : "", domain ? domain : "", msg);
}

/* ---- model ------------------------------------------------------------------ */

struct decode_model *decode_model_open(const char *ie_xml, char *err, size_t errlen)
{
	static int handler_set;
	if (!handler_set) {
		g_log_set_default_handler(glib_log, NULL);
		handler_set = 1;
	}
	struct decode_model *m = calloc(1, sizeof *m);
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->im = fbInfoModelAlloc();
	if (ie_xml) {
		GError *ge = NULL;
		if (!fbInfoModelReadXMLFile(m->im, ie_xml, &ge)) {
			snprintf(err, errlen, "%s: cannot read information elements: %s", ie_xml,
			         ge ? ge->message : "unknown error");
			g_clear_error(&ge);
			fbInfoModelFree(m->im);
			free(m);
			return NULL;
		}
	}
	return m;
}

void decode_model_close(struct decode_model *m)
{
	if (!m)
		return;
	fbInfoModelFree(m->im);
	free(m);
}

/* ---- template compilation ---------------------------------------------- */

static const struct qs_stream_def no_columns; /* options templates: every element skipped */

static void refused(void *ctx, const struct cp_field *f, const struct qs_column *col)
{
	struct decode_session *s = ctx;
	log_ratelimited(&s->rl, LOG_WARN, "%s domain %u template %u: element %u/%u with length %u "
	                "cannot fill column %s (%s); the element is skipped", s->peer, s->doms[s->cur].domain,
	                s->tmpl_tid, f->pen, f->ie, f->len, col->name, qs_type_name(col->type));
}

static void tmpl_free(void *tctx, void *app)
{
	struct tmpl_ctx *c = tctx;
	(void)app;
	if (!c)
		return;
	free(c->plan);
	free(c);
}

static void tmpl_new(fbSession_t *fs, uint16_t tid, fbTemplate_t *t, void *app, void **tctx,
                     fbTemplateCtxFree_fn *fn)
{
	struct decode_session *s = app;
	uint32_t n = fbTemplateCountElements(t);
	uint32_t domain = fbSessionGetDomain(fs);
	s->doms[s->cur].c.templates++;
	struct tmpl_ctx *c = calloc(1, sizeof *c);
	struct cp_field *f = calloc(n ? n : 1, sizeof *f);
	if (!c || !f)
		abort();
	c->options = fbTemplateGetOptionsScope(t) > 0;
	c->seen = s->now;
	for (uint32_t i = 0; i < n; i++) {
		const fbInfoElement_t *ie = fbTemplateGetIndexedIE(t, i);
		f[i].pen = ie ? ie->ent : 0;
		f[i].ie = ie ? ie->num : 0;
		f[i].len = ie ? ie->len : 0;
	}
	s->tmpl_tid = tid;
	c->plan = cp_compile(c->options ? &no_columns : s->def, f, n, 0, refused, s);
	free(f);
	if (!c->plan)
		abort();
	if (c->plan->minlen == 0 && n == 0)
		log_debug("%s domain %u: template %u withdrawn", s->peer, domain, tid);
	else if (c->plan->minlen == 0)
		log_ratelimited(&s->rl, LOG_WARN, "%s domain %u template %u: all %u fields have length 0; "
		                "its data sets are skipped", s->peer, domain, tid, n);
	log_debug("%s domain %u: template %u: %u elements, %u columns%s", s->peer, domain, tid, n,
	          c->plan->ncols, c->options ? " (options)" : "");
	*tctx = c;
	*fn = tmpl_free;
}

/* ---- sessions --------------------------------------------------------------- */

struct decode_session *decode_session_open(struct decode_model *m, const struct qs_stream_def *def,
                                           const char *peer)
{
	struct decode_session *s = calloc(1, sizeof *s);
	if (!s)
		abort();
	s->m = m;
	s->def = def;
	snprintf(s->peer, sizeof s->peer, "%s", peer ? peer : "?");
	s->rl.interval_s = 10;
	s->rl.burst = 5;
	s->fs = fbSessionAlloc(m->im);
	fbSessionAddNewTemplateCallback(s->fs, tmpl_new, s);
	s->fb = fBufAllocForCollection(s->fs, NULL);
	fBufSetAutomaticMode(s->fb, FALSE);
	return s;
}

void decode_session_close(struct decode_session *s)
{
	if (!s)
		return;
	fBufFree(s->fb); /* frees the session, its templates and their contexts */
	nf_templates_free(s->nf);
	while (s->held) {
		struct held *h = s->held;
		s->held = h->next;
		free(h);
	}
	free(s->tset);
	free(s->doms);
	free(s->dx);
	free(s);
}

const struct decode_domain *decode_session_domains(const struct decode_session *s, size_t *n)
{
	*n = s->ndoms;
	return s->doms;
}

void decode_session_udp(struct decode_session *s, unsigned hold_s, size_t hold_bytes, unsigned lifetime_s)
{
	s->hold_s = hold_s;
	s->hold_max = hold_bytes;
	s->lifetime_s = lifetime_s;
}

void decode_session_accept(struct decode_session *s, unsigned formats)
{
	s->accept = formats;
	if ((formats & (DECODE_NETFLOW9 | DECODE_NETFLOW5)) && !s->nf)
		s->nf = nf_templates_new();
}

void decode_session_spool(struct decode_session *s, struct spool_writer *w)
{
	s->w = w;
}

const char *decode_session_peer(const struct decode_session *s)
{
	return s->peer;
}

static size_t domain_index(struct decode_session *s, uint32_t domain)
{
	for (size_t i = 0; i < s->ndoms; i++)
		if (s->doms[i].domain == domain)
			return i;
	if (s->ndoms == s->capdoms) {
		size_t cap = s->capdoms ? s->capdoms * 2 : 4;
		struct decode_domain *d = realloc(s->doms, cap * sizeof *d);
		struct dom_extra *x = realloc(s->dx, cap * sizeof *x);
		if (!d || !x)
			abort();
		s->doms = d;
		s->dx = x;
		s->capdoms = cap;
	}
	memset(&s->doms[s->ndoms], 0, sizeof s->doms[0]);
	memset(&s->dx[s->ndoms], 0, sizeof s->dx[0]);
	s->doms[s->ndoms].domain = domain;
	return s->ndoms++;
}

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Walk the set headers; NULL if they tile the message, else what is wrong. */
static const char *check_sets(const uint8_t *msg, size_t len)
{
	size_t off = 16;
	while (off < len) {
		if (len - off < 4)
			return "set header past the message end";
		uint16_t id = rd16(msg + off), slen = rd16(msg + off + 2);
		if (slen < 4)
			return "set length below 4";
		if (slen > len - off)
			return "set runs past the message end";
		if (id < 2 || (id > 3 && id < 256))
			return "reserved set id";
		off += slen;
	}
	return NULL;
}

/* Hand one template set (at set, slen bytes) to libfixbuf as a message of
 * its own. 0 ok, -1 libfixbuf found it malformed (logged). */
static int feed_templates(struct decode_session *s, const uint8_t *msg, const uint8_t *set, size_t slen)
{
	memcpy(s->buf, msg, 16);
	memcpy(s->buf + 16, set, slen);
	s->buf[2] = (uint8_t)((16 + slen) >> 8);
	s->buf[3] = (uint8_t)(16 + slen);
	fBufRewind(s->fb);
	fBufSetBuffer(s->fb, s->buf, 16 + slen);
	GError *ge = NULL;
	uint16_t tid;
	while (fBufNextCollectionTemplate(s->fb, &tid, &ge))
		; /* a template set holds no data set: libfixbuf ends at the message end */
	int rc = 0;
	if (ge) {
		int normal_end = g_error_matches(ge, FB_ERROR_DOMAIN, FB_ERROR_EOM) && !strstr(ge->message, "Underrun");
		normal_end |= g_error_matches(ge, FB_ERROR_DOMAIN, FB_ERROR_BUFSZ);
		if (!normal_end) {
			log_ratelimited(&s->rl, LOG_WARN, "%s domain %u: malformed template set: %s; "
			                "the rest of the message is dropped", s->peer, s->doms[s->cur].domain, ge->message);
			rc = -1;
		}
	}
	g_clear_error(&ge);
	return rc;
}

/* A template set equal, byte for byte, to the last one libfixbuf took for
 * this domain (exporters over UDP resend their templates every few hundred
 * records): its templates are all still defined as it says, so instead of
 * parsing and compiling them again, refresh them (UDP lifetime) and count
 * them. 0 done; -1 not the same set, or one of its templates is gone
 * (expired) or it withdraws one: the caller feeds it to libfixbuf. */
static int refresh_same_templates(struct decode_session *s, uint16_t set_id, const uint8_t *set, size_t slen,
                                  uint32_t domain)
{
	if (!s->tset_len || s->tset_len != slen || s->tset_domain != domain || memcmp(s->tset, set, slen))
		return -1;
	size_t hdr = set_id == 3 ? 6 : 4, off = 4, n = 0;
	struct tmpl_ctx *ctx[64];
	while (slen - off >= hdr) {
		uint16_t tid = rd16(set + off), count = rd16(set + off + 2);
		if (count == 0 || n == sizeof ctx / sizeof ctx[0])
			return -1;
		fbTemplate_t *t = fbSessionGetTemplate(s->fs, FALSE, tid, NULL);
		if (!t || !(ctx[n] = fbTemplateGetContext(t)))
			return -1;
		n++;
		off += hdr;
		for (uint16_t i = 0; i < count; i++) {
			if (slen - off < 4)
				return -1;
			off += rd16(set + off) & 0x8000 ? 8 : 4;
			if (off > slen)
				return -1;
		}
	}
	for (size_t i = 0; i < n; i++)
		ctx[i]->seen = s->now;
	s->doms[s->cur].c.templates += n;
	return 0;
}

/* Remember the template set libfixbuf just took (or forget: len 0). */
static void remember_templates(struct decode_session *s, const uint8_t *set, size_t slen, uint32_t domain)
{
	s->tset_len = 0;
	if (!slen)
		return;
	uint8_t *p = realloc(s->tset, slen);
	if (!p)
		return;
	s->tset = p;
	memcpy(s->tset, set, slen);
	s->tset_len = slen;
	s->tset_domain = domain;
}

/* The compiled template of data set tid in the current domain, or NULL
 * (unknown, or expired under the UDP lifetime rule: then forgotten). */
static struct tmpl_ctx *lookup(struct decode_session *s, uint16_t tid, uint32_t domain)
{
	fbTemplate_t *t = fbSessionGetTemplate(s->fs, FALSE, tid, NULL);
	struct tmpl_ctx *c = t ? fbTemplateGetContext(t) : NULL;
	if (c && s->lifetime_s && s->now - c->seen > (time_t)s->lifetime_s) {
		s->doms[s->cur].c.expired_templates++;
		log_ratelimited(&s->rl, LOG_WARN, "%s domain %u: template %u not refreshed for %u s: forgotten "
		                "(UDP template lifetime)", s->peer, domain, tid, s->lifetime_s);
		GError *ge = NULL;
		fbSessionRemoveTemplate(s->fs, FALSE, tid, &ge);
		g_clear_error(&ge);
		remember_templates(s, NULL, 0, 0); /* the remembered set may define it */
		return NULL;
	}
	return c;
}

/* Direct rows of one data set: a batch begun in the session's spool writer. */
struct direct {
	struct spool_cols *c;
	uint32_t room, n;       /* rows the batch may still take; rows written */
	size_t sb;              /* their string bytes */
};

/* End the batch (the rows written go into the block). */
static void direct_end(struct decode_session *s, const struct cp_plan *pl, struct direct *d)
{
	if (d->n)
		spool_writer_rows_end(s->w, d->n, pl->present, d->sb);
	memset(d, 0, sizeof *d);
}

/* Records of a data set straight into the spool writer, a batch at a
 * time (copyplan.h's cp_run_cols_batch). *n: records written. 0: done;
 * -1: the record after them is malformed (nothing of it written); 1: the
 * writer refused the next row (nothing written; errno from the writer). */
static int run_batch(struct decode_session *s, const struct cp_plan *pl, const uint8_t **p, const uint8_t *end,
                     struct direct *d, uint32_t *n)
{
	*n = 0;
	if (!d->room) {
		direct_end(s, pl, d);
		d->c = spool_writer_rows_begin(s->w, (size_t)(end - *p), &d->room);
		if (!d->c)
			return 1;
	}
	size_t sb;
	int rc = cp_run_cols_batch(pl, p, end, NULL, d->room, d->c->wp, d->c->sp, n, &sb);
	d->n += *n;
	d->room -= *n;
	d->sb += sb;
	return rc;
}

/* Decode the records of one data set with its template; counts; returns the
 * records handled, or -1 after a malformed record (logged). For held sets:
 * emit must not pause. */
static int decode_set(struct decode_session *s, struct tmpl_ctx *c, const uint8_t *set, size_t slen,
                      uint32_t domain, decode_emit_fn emit, void *ctx)
{
	struct decode_counters *cn = &s->doms[s->cur].c;
	const struct cp_plan *pl = c->plan;
	const uint8_t *p = set + 4, *end = set + slen;
	int n = 0;
	struct direct d = { 0 };
	while ((size_t)(end - p) >= pl->minlen) {
		int refused = 0, bad;
		if (s->w && !c->options && pl->ncols) {
			uint32_t nb = 0;
			int rc = run_batch(s, pl, &p, end, &d, &nb);
			n += (int)nb;
			cn->records += nb;
			cn->rows += nb;
			cn->held_records += nb;
			if (rc == 0 && nb)
				continue;
			refused = rc > 0;
			bad = refused ? cp_skip(pl, &p, end) : -1;
		} else {
			bad = c->options || pl->ncols == 0 ? cp_skip(pl, &p, end) : cp_run(pl, s->def, &p, end, NULL, &s->r);
		}
		if (bad < 0) {
			direct_end(s, pl, &d);
			cn->malformed_messages++;
			return -1;
		}
		n++;
		cn->records++;
		if (c->options)
			cn->options_records++;
		else if (pl->ncols == 0)
			cn->unmapped_records++;
		else {
			if (emit && (refused || !s->w))
				emit(ctx, refused ? NULL : &s->r, domain);
			cn->rows++;
			cn->held_records++;
		}
	}
	direct_end(s, pl, &d);
	return n;
}

/* Hold a UDP data set whose template is unknown; 0 held, -1 not (no room). */
static int hold(struct decode_session *s, uint32_t domain, uint16_t tid, const uint8_t *set, size_t slen)
{
	if (!s->hold_s || s->held_bytes + slen > s->hold_max)
		return -1;
	struct held *h = malloc(sizeof *h + slen);
	if (!h)
		return -1;
	h->domain = domain;
	h->tid = tid;
	h->at = s->now;
	h->len = slen;
	memcpy(h->set, set, slen);
	struct held **pp = &s->held;
	while (*pp)
		pp = &(*pp)->next;
	h->next = NULL;
	*pp = h;
	s->held_bytes += slen;
	s->doms[s->cur].c.held_sets++;
	return 0;
}

/* Drop (and count) held sets older than the hold time; with decode set,
 * also decode the held sets of domain a template set just made decodable.
 * The list is in arrival order: expiring alone stops at the first young set. */
static void release_held(struct decode_session *s, uint32_t domain, int decode, decode_emit_fn emit, void *ctx)
{
	for (struct held **pp = &s->held; *pp;) {
		struct held *h = *pp;
		struct tmpl_ctx *c = NULL;
		int expired = s->now - h->at > (time_t)s->hold_s;
		if (!expired && !decode)
			break;
		if (!expired && h->domain == domain)
			c = lookup(s, h->tid, domain);
		if (!expired && (!c || c->plan->minlen == 0)) {
			pp = &h->next;
			continue;
		}
		*pp = h->next;
		s->held_bytes -= h->len;
		if (expired) {
			size_t keep = s->cur;
			s->cur = domain_index(s, h->domain);
			s->doms[s->cur].c.unknown_template_sets++;
			log_ratelimited(&s->rl, LOG_WARN, "%s domain %u: a held data set of template %u expired after %u s "
			                "without its template; counted as unknown_template", s->peer, h->domain, h->tid,
			                s->hold_s);
			s->cur = keep;
		} else if (decode_set(s, c, h->set, h->len, domain, emit, ctx) < 0) {
			log_ratelimited(&s->rl, LOG_WARN, "%s domain %u: a held data set of template %u is malformed",
			                s->peer, domain, h->tid);
		}
		free(h);
	}
}

/* Compare a header's sequence number with the one expected; count the gap. */
static void seq_check(struct decode_session *s, uint32_t seq, uint32_t domain, const char *unit)
{
	struct decode_counters *cn = &s->doms[s->cur].c;
	struct dom_extra *dx = &s->dx[s->cur];
	if (!dx->have_seq)
		return;
	int32_t diff = (int32_t)(seq - dx->next_seq);
	if (diff <= 0)
		return;
	if (dx->skipped_last) {
		cn->unknown_template_records += (uint64_t)diff;
		return;
	}
	cn->seq_gaps += (uint64_t)diff;
	log_ratelimited(&s->rl, LOG_NOTICE, "%s domain %u: sequence gap: expected %u, got %u "
	                "(%d %s lost before reaching us)", s->peer, domain, dx->next_seq, seq, diff, unit);
}

/* A NetFlow v9 or v5 packet (version already read). */
static enum decode_result decode_netflow(struct decode_session *s, const uint8_t *msg, size_t len,
                                         decode_emit_fn emit, void *ctx, struct decode_cursor *cur)
{
	unsigned v = rd16(msg);
	uint32_t domain = 0, seq = 0;
	const char *why = NULL;
	if (nf_header(msg, len, &domain, &seq, &why) < 0) {
		if (!cur->started) {
			s->cur = s->ndoms ? 0 : domain_index(s, 0);
			s->doms[s->cur].c.malformed_messages++;
			cur->started = 1;
		}
		log_ratelimited(&s->rl, LOG_WARN, "%s: %s (%zu bytes)", s->peer, why, len);
		return DECODE_MALFORMED;
	}
	s->cur = domain_index(s, domain);
	struct decode_counters *cn = &s->doms[s->cur].c;
	if (!cur->started) {
		cur->started = 1;
		cn->messages++;
		cn->bytes += len;
		seq_check(s, seq, domain, v == 9 ? "packets" : "records");
	}
	struct nf_call call = { .def = s->def, .peer = s->peer, .rl = &s->rl, .r = &s->r, .c = cn,
		                .emit = emit, .emit_ctx = ctx, .cur = cur };
	uint32_t n = 0;
	enum decode_result res = v == 9 ? nf_v9(s->nf, msg, len, domain, &call, &n) : nf_v5(s->nf, msg, len, &call, &n);
	if (res == DECODE_OK) {
		struct dom_extra *dx = &s->dx[s->cur];
		dx->next_seq = seq + (v == 9 ? 1 : n);
		dx->have_seq = 1;
		dx->skipped_last = 0;
		memset(cur, 0, sizeof *cur);
	}
	return res;
}

enum decode_result decode_message(struct decode_session *s, const uint8_t *msg, size_t len,
                                  decode_emit_fn emit, void *ctx, struct decode_cursor *cur)
{
	if (len >= 2 && ((rd16(msg) == 9 && (s->accept & DECODE_NETFLOW9)) ||
	                 (rd16(msg) == 5 && (s->accept & DECODE_NETFLOW5))))
		return decode_netflow(s, msg, len, emit, ctx, cur);
	if (len < 16 || len > DEC_MAX_MSG || rd16(msg) != 10 || rd16(msg + 2) != len) {
		/* No domain to charge: charge the first (or a new domain 0). */
		if (!cur->started) {
			s->cur = s->ndoms ? 0 : domain_index(s, 0);
			s->doms[s->cur].c.malformed_messages++;
			cur->started = 1;
		}
		unsigned v = len >= 2 ? rd16(msg) : 0;
		if (v == 9 || v == 5)
			log_ratelimited(&s->rl, LOG_WARN, "%s: NetFlow v%u packet, not IPFIX: start the receiver with "
			                "--accept netflow%u (UDP) or set the exporter to IPFIX", s->peer, v, v);
		else
			log_ratelimited(&s->rl, LOG_WARN, "%s: not an IPFIX message (version 0x%04x, length %zu, "
			                "header says %u)", s->peer, v, len, len >= 4 ? rd16(msg + 2) : 0);
		return DECODE_MALFORMED;
	}
	uint32_t seq = rd32(msg + 8), domain = rd32(msg + 12);
	s->cur = domain_index(s, domain);
	struct decode_counters *cn = &s->doms[s->cur].c;
	struct dom_extra *dx = &s->dx[s->cur];
	/* A resumed message starts again at the set where it paused (cur->set_off):
	 * the sets before it, templates included, were handled. */
	if (!cur->started) {
		cur->started = 1;
		cur->set_off = 16;
		cn->messages++;
		cn->bytes += len;
		seq_check(s, seq, domain, "records");
		const char *bad = check_sets(msg, len);
		if (bad) {
			cn->malformed_messages++;
			log_ratelimited(&s->rl, LOG_WARN, "%s domain %u: malformed IPFIX message (%s); "
			                "records before the fault are kept", s->peer, domain, bad);
		}
		s->skipped_sets = 0;
	}
	fbSessionSetDomain(s->fs, domain);
	if (s->hold_s || s->lifetime_s)
		s->now = time(NULL);
	if (s->held && !cur->done)
		release_held(s, domain, 0, emit, ctx); /* expire old ones */
	uint32_t idx = cur->idx_at_set;
	enum decode_result res = DECODE_OK;
	size_t off = cur->set_off;
	int stop = 0;
	while (!stop && len - off >= 4) {
		uint16_t id = rd16(msg + off), slen = rd16(msg + off + 2);
		if (slen < 4 || slen > len - off || id < 2 || (id > 3 && id < 256))
			break; /* counted by check_sets */
		const uint8_t *set = msg + off;
		if (id == 2 || id == 3) {
			if (refresh_same_templates(s, id, set, slen, domain) < 0) {
				tl_cur = s;
				int frc = feed_templates(s, msg, set, slen);
				tl_cur = NULL;
				remember_templates(s, set, frc < 0 ? 0 : slen, domain);
				if (frc < 0) {
					cn->malformed_messages++;
					break;
				}
				fbSessionSetDomain(s->fs, domain);
			}
			if (s->held)
				release_held(s, domain, 1, emit, ctx);
			off += slen;
			cur->set_off = (uint32_t)off;
			cur->idx_at_set = idx;
			continue;
		}
		struct tmpl_ctx *c = lookup(s, id, domain);
		if (!c && hold(s, domain, id, set, slen) == 0) {
			s->skipped_sets++;
			log_ratelimited(&s->rl, LOG_INFO, "%s domain %u: data set for unknown template %u held for up to "
			                "%u s until its template arrives", s->peer, domain, id, s->hold_s);
			off += slen;
			cur->set_off = (uint32_t)off;
			cur->idx_at_set = idx;
			continue;
		}
		if (!c || c->plan->minlen == 0) {
			cn->unknown_template_sets++;
			s->skipped_sets++;
			log_ratelimited(&s->rl, LOG_WARN, "%s domain %u: data set for %s template %u skipped; "
			                "counted as unknown_template; over UDP the exporter resends templates "
			                "periodically", s->peer, domain, c ? "withdrawn or empty" : "unknown", id);
			off += slen;
			cur->set_off = (uint32_t)off;
			cur->idx_at_set = idx;
			continue;
		}
		const struct cp_plan *pl = c->plan;
		const uint8_t *p = set + 4, *end = set + slen;
		struct direct d = { 0 };
		while ((size_t)(end - p) >= pl->minlen) {
			if (idx < cur->done) { /* emitted before a pause */
				if (cp_skip(pl, &p, end) < 0)
					break;
				idx++;
				continue;
			}
			int refused = 0, bad_rec;
			if (s->w && !c->options && pl->ncols) {
				uint32_t nb = 0;
				int rc = run_batch(s, pl, &p, end, &d, &nb);
				idx += nb;
				cn->records += nb;
				cn->rows += nb;
				if (rc == 0 && nb)
					continue;
				refused = rc > 0;
				bad_rec = refused ? cp_skip(pl, &p, end) : -1;
			} else {
				bad_rec = c->options || pl->ncols == 0 ? cp_skip(pl, &p, end)
				                                       : cp_run(pl, s->def, &p, end, NULL, &s->r);
			}
			if (bad_rec < 0) {
				cn->malformed_messages++;
				log_ratelimited(&s->rl, LOG_WARN, "%s domain %u: malformed IPFIX message after %u records: "
				                "a variable-length field of template %u runs past its set; the rest of the "
				                "message is dropped", s->peer, domain, idx, id);
				stop = 1;
				break;
			}
			idx++;
			cn->records++;
			if (c->options) {
				cn->options_records++;
				continue;
			}
			if (pl->ncols == 0) {
				cn->unmapped_records++;
				continue;
			}
			if (emit && (refused || !s->w) && emit(ctx, refused ? NULL : &s->r, domain)) {
				cn->records--; /* counted again when the message is repeated */
				cur->done = idx - 1;
				res = DECODE_PAUSED;
				stop = 1;
				break;
			}
			cn->rows++;
		}
		direct_end(s, pl, &d);
		if (!stop) {
			off += slen;
			cur->set_off = (uint32_t)off;
			cur->idx_at_set = idx;
		}
	}
	if (res == DECODE_OK) {
		dx->next_seq = seq + idx;
		dx->have_seq = 1;
		dx->skipped_last = s->skipped_sets > 0;
		memset(cur, 0, sizeof *cur);
	}
	return res;
}

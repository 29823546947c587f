/* decode.c: IPFIX decoding with libfixbuf 2.4 (contract in decode.h).
 *
 * libfixbuf is used "connection-less": the receiver frames messages itself and
 * hands each one to an fBuf with fBufSetBuffer(). Per session there is one
 * fbSession_t (libfixbuf keeps templates per session and domain). When a
 * template arrives, the new-template callback compiles it (struct tmpl_ctx,
 * attached as the template's context; libfixbuf frees it on withdrawal,
 * redefinition or session end):
 *   - for each element the stream's schema maps to a column, an internal
 *     template element and a copy step (offset in the decoded record -> column);
 *     integers are widened by libfixbuf (reduced-length encoding) to 8 bytes
 *     in host order, strings stay fbVarfield_t pointing into the message;
 *   - the internal template is added to the session under a private id.
 * Per data record: fBufNextCollectionTemplate -> the template's context ->
 * fBufSetInternalTemplate -> fBufNext -> run the copy steps -> emit.
 *
 * libfixbuf reports some events only through GLib log lines (a set skipped for
 * a missing template, sequence complaints); a GLib log handler turns them into
 * counters of the session being decoded on this thread and into our logger.
 * Sequence numbers are checked here, per domain, from the message headers.
 */
#include "receiver/decode.h"

#include <fixbuf/public.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Exported by libfixbuf 2.4 but declared only in its private.h: forget the
 * position in an abandoned message (fBufSetBuffer alone keeps the set state). */
void fBufRewind(fBuf_t *fbuf);

#define DEC_MAX_MSG 65535
#define NULL_TID 256u      /* the session's empty internal template */

struct decode_model {
	fbInfoModel_t *im;
};

enum step_kind {
	K_HOST,     /* len = 1, 2, 4 or 8 bytes in host order (libfixbuf widened and swapped it) */
	K_BE,       /* len bytes, network order (element without endian flag) */
	K_BYTES,    /* len fixed bytes */
	K_VAR,      /* fbVarfield_t */
};

struct step {
	uint32_t off;
	uint16_t len;
	uint8_t kind;
	uint8_t pad;
	int32_t col;
};

struct tmpl_ctx {
	struct decode_session *s;
	uint16_t int_tid;
	uint16_t nsteps;
	int options;
	int empty;       /* records of zero bytes: a withdrawal (field count 0) or
	                  * only zero-length fields; libfixbuf would loop on them */
	struct step steps[];
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
	uint16_t next_tid;
	int closing;
	int resuming;          /* repeating a paused message: do not count again */
	uint32_t skipped_sets; /* in the message being decoded */
	struct log_ratelimit rl;
	uint8_t *rec;
	size_t rec_cap;
	struct qs_record r;
	uint8_t buf[DEC_MAX_MSG + 1];
};

static _Thread_local struct decode_session *tl_cur;

/* ---- GLib log lines from libfixbuf -------------------------------------- */

static void glib_log(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data)
{
	struct decode_session *s = tl_cur;
	(void)data;
	if (s && strncmp(msg, "Skipping set", 12) == 0) {
		if (!s->resuming) {
			s->doms[s->cur].c.unknown_template_sets++;
			s->skipped_sets++;
		}
		log_ratelimited(&s->rl, LOG_WARN, "%s domain %u: data set with unknown template skipped (%s); "
		                "counted as unknown_template; over UDP the exporter resends templates periodically",
		                s->peer, s->doms[s->cur].domain, msg);
		return;
	}
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

static int find_col(const struct qs_stream_def *def, uint32_t pen, uint16_t ie, uint16_t len)
{
	for (size_t i = 0; i < def->ncols; i++) {
		const struct qs_column *c = &def->cols[i];
		if (c->ie != ie || c->pen != pen || c->ie == 0)
			continue;
		if (c->flags & (QS_F_DERIVED | QS_F_COMPUTED))
			continue;
		if (c->ielen && c->ielen != len)
			continue;
		return (int)i;
	}
	return -1;
}

/* Decide how element ie (wire length len) fills a column of type t: the
 * internal length and the copy step. 0 if the length does not fit the type. */
static int plan_step(fbInfoModel_t *im, enum qs_type t, const fbInfoElement_t *ie, uint16_t *ilen,
                     struct step *st)
{
	uint16_t len = ie->len;
	int endian = (ie->flags & FB_IE_F_ENDIAN) != 0;
	switch (t) {
	case QS_U8: case QS_U16: case QS_U32: case QS_U64: case QS_TIME_MS: case QS_TIME_S:
		if (len == FB_IE_VARLEN || len == 0 || len > 8)
			return 0;
		if (endian) {
			/* Decode into the element's own width (reduced-length encoding
			 * widens to it); a wire length above it gets 8 bytes. */
			const fbInfoElement_t *canon = fbInfoModelGetElementByID(im, ie->num, ie->ent);
			uint16_t w = canon ? canon->len : 8;
			if ((w != 1 && w != 2 && w != 4 && w != 8) || len > w)
				w = 8;
			*ilen = w;
			st->kind = K_HOST;
			st->len = w;
		} else {
			*ilen = len;
			st->kind = K_BE;
			st->len = len;
		}
		return 1;
	case QS_IPV4:
		if (len != 4)
			return 0;
		*ilen = 4;
		st->kind = endian ? K_HOST : K_BE;
		st->len = 4;
		return 1;
	case QS_IPV6:
	case QS_MAC:
		if (len != (t == QS_IPV6 ? 16 : 6))
			return 0;
		*ilen = len;
		st->kind = K_BYTES;
		st->len = len;
		return 1;
	case QS_STR:
		*ilen = len;
		st->kind = len == FB_IE_VARLEN ? K_VAR : K_BYTES;
		st->len = len == FB_IE_VARLEN ? 0 : len;
		return 1;
	}
	return 0;
}

static uint16_t alloc_tid(struct decode_session *s)
{
	for (unsigned tries = 0; tries < 65536; tries++) {
		uint16_t tid = s->next_tid++;
		if (s->next_tid == 0)
			s->next_tid = NULL_TID + 1;
		if (tid <= NULL_TID)
			continue;
		if (!fbSessionGetTemplate(s->fs, TRUE, tid, NULL))
			return tid;
	}
	return 0;
}

static void tmpl_free(void *tctx, void *app)
{
	struct tmpl_ctx *c = tctx;
	(void)app;
	if (!c)
		return;
	struct decode_session *s = c->s;
	if (!s->closing && c->int_tid) {
		GError *ge = NULL;
		/* Never leave the fBuf pointing at a freed internal template. */
		fBufSetInternalTemplate(s->fb, NULL_TID, &ge);
		g_clear_error(&ge);
		fbSessionRemoveTemplate(s->fs, TRUE, c->int_tid, &ge);
		g_clear_error(&ge);
	}
	free(c);
}

static void tmpl_new(fbSession_t *fs, uint16_t tid, fbTemplate_t *t, void *app, void **tctx,
                     fbTemplateCtxFree_fn *fn)
{
	struct decode_session *s = app;
	uint32_t n = fbTemplateCountElements(t);
	uint32_t domain = fbSessionGetDomain(fs);
	if (!s->resuming)
		s->doms[s->cur].c.templates++;

	struct tmpl_ctx *c = calloc(1, sizeof *c + (n ? n : 1) * sizeof(struct step));
	if (!c)
		abort();
	c->s = s;
	c->options = fbTemplateGetOptionsScope(t) > 0;
	fbTemplate_t *it = fbTemplateAlloc(s->m->im);
	uint64_t used[(QS_MAX_COLS + 63) / 64] = { 0 };
	uint32_t off = 0, minlen = 0;
	for (uint32_t i = 0; i < n; i++) {
		const fbInfoElement_t *ie = fbTemplateGetIndexedIE(t, i);
		minlen += ie && ie->len == FB_IE_VARLEN ? 1 : ie ? ie->len : 0;
	}
	c->empty = minlen == 0;
	if (c->empty && n == 0)
		log_debug("%s domain %u: template %u withdrawn", s->peer, domain, tid);
	else if (c->empty)
		log_ratelimited(&s->rl, LOG_WARN, "%s domain %u template %u: all %u fields have length 0; "
		                "its data sets are skipped", s->peer, domain, tid, n);
	for (uint32_t i = 0; i < n && !c->options && !c->empty; i++) {
		const fbInfoElement_t *ie = fbTemplateGetIndexedIE(t, i);
		if (!ie || ie->midx != 0)
			continue; /* a repeated element: the first occurrence fills the column */
		int col = find_col(s->def, ie->ent, ie->num, ie->len);
		if (col < 0 || (used[col >> 6] >> (col & 63)) & 1)
			continue;
		struct step st = { .col = col };
		uint16_t ilen = 0;
		if (!plan_step(s->m->im, s->def->cols[col].type, ie, &ilen, &st)) {
			log_ratelimited(&s->rl, LOG_WARN, "%s domain %u template %u: element %u/%u with length %u "
			                "cannot fill column %s (%s); the element is skipped",
			                s->peer, domain, tid, ie->ent, ie->num, ie->len,
			                s->def->cols[col].name, qs_type_name(s->def->cols[col].type));
			continue;
		}
		fbInfoElement_t x;
		memset(&x, 0, sizeof x);
		x.ent = ie->ent;
		x.num = ie->num;
		x.len = ilen;
		GError *ge = NULL;
		if (!fbTemplateAppend(it, &x, &ge)) {
			log_ratelimited(&s->rl, LOG_WARN, "%s domain %u template %u: element %u/%u: %s; skipped",
			                s->peer, domain, tid, ie->ent, ie->num, ge ? ge->message : "?");
			g_clear_error(&ge);
			continue;
		}
		st.off = off;
		off += ilen == FB_IE_VARLEN ? (uint32_t)sizeof(fbVarfield_t) : ilen;
		used[col >> 6] |= (uint64_t)1 << (col & 63);
		c->steps[c->nsteps++] = st;
	}
	if (off > s->rec_cap) {
		uint8_t *nr = realloc(s->rec, off);
		if (!nr)
			abort();
		s->rec = nr;
		s->rec_cap = off;
	}
	GError *ge = NULL;
	c->int_tid = alloc_tid(s);
	if (!c->int_tid || !fbSessionAddTemplate(fs, TRUE, c->int_tid, it, &ge)) {
		log_ratelimited(&s->rl, LOG_ERR, "%s domain %u template %u: cannot add its internal template (%s); "
		                "its records will be skipped", s->peer, domain, tid, ge ? ge->message : "no free id");
		g_clear_error(&ge);
		fbTemplateFreeUnused(it);
		c->int_tid = 0;
		c->nsteps = 0;
		c->options = 1; /* read and drop */
	}
	log_debug("%s domain %u: template %u: %u elements, %u columns%s", s->peer, domain, tid, n,
	          c->nsteps, c->options ? " (options)" : "");
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
	s->next_tid = NULL_TID + 1;
	s->fs = fbSessionAlloc(m->im);
	fbSessionAddNewTemplateCallback(s->fs, tmpl_new, s);
	GError *ge = NULL;
	if (!fbSessionAddTemplate(s->fs, TRUE, NULL_TID, fbTemplateAlloc(m->im), &ge)) {
		log_err("libfixbuf refused an empty internal template: %s", ge ? ge->message : "?");
		abort();
	}
	s->fb = fBufAllocForCollection(s->fs, NULL);
	fBufSetAutomaticMode(s->fb, FALSE);
	s->rec_cap = 256;
	s->rec = malloc(s->rec_cap);
	if (!s->rec)
		abort();
	return s;
}

void decode_session_close(struct decode_session *s)
{
	if (!s)
		return;
	s->closing = 1;
	fBufFree(s->fb); /* frees the session, its templates and their contexts */
	free(s->rec);
	free(s->doms);
	free(s->dx);
	free(s);
}

const struct decode_domain *decode_session_domains(const struct decode_session *s, size_t *n)
{
	*n = s->ndoms;
	return s->doms;
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

static void fill_record(struct decode_session *s, const struct tmpl_ctx *c)
{
	struct qs_record *r = &s->r;
	const uint8_t *rec = s->rec;
	qs_record_clear(r, s->def);
	for (unsigned i = 0; i < c->nsteps; i++) {
		const struct step *st = &c->steps[i];
		const uint8_t *p = rec + st->off;
		switch (st->kind) {
		case K_HOST: {
			uint64_t u;
			if (st->len == 8) {
				memcpy(&u, p, 8);
			} else if (st->len == 4) {
				uint32_t x;
				memcpy(&x, p, 4);
				u = x;
			} else if (st->len == 2) {
				uint16_t x;
				memcpy(&x, p, 2);
				u = x;
			} else {
				u = p[0];
			}
			qs_record_set_u(r, st->col, u);
			break;
		}
		case K_BE: {
			uint64_t u = 0;
			for (unsigned k = 0; k < st->len; k++)
				u = u << 8 | p[k];
			qs_record_set_u(r, st->col, u);
			break;
		}
		case K_BYTES:
			qs_record_set_bytes(r, st->col, p, st->len);
			break;
		case K_VAR: {
			fbVarfield_t vf;
			memcpy(&vf, p, sizeof vf);
			qs_record_set_bytes(r, st->col, vf.len ? vf.buf : NULL, (uint32_t)vf.len);
			break;
		}
		}
	}
}

enum decode_result decode_message(struct decode_session *s, const uint8_t *msg, size_t len,
                                  decode_emit_fn emit, void *ctx, struct decode_cursor *cur)
{
	if (len < 16 || len > DEC_MAX_MSG || rd16(msg) != 10 || rd16(msg + 2) != len) {
		/* No domain to charge: charge the first (or a new domain 0). */
		if (!cur->started) {
			s->cur = s->ndoms ? 0 : domain_index(s, 0);
			s->doms[s->cur].c.malformed_messages++;
			cur->started = 1;
		}
		log_ratelimited(&s->rl, LOG_WARN, "%s: not an IPFIX message (version 0x%04x, length %zu, header says %u)",
		                s->peer, len >= 2 ? rd16(msg) : 0, len, len >= 4 ? rd16(msg + 2) : 0);
		return DECODE_MALFORMED;
	}
	uint32_t seq = rd32(msg + 8), domain = rd32(msg + 12);
	s->cur = domain_index(s, domain);
	struct decode_counters *cn = &s->doms[s->cur].c;
	struct dom_extra *dx = &s->dx[s->cur];
	const char *bad = check_sets(msg, len);
	s->resuming = cur->started;
	if (!cur->started) {
		cur->started = 1;
		cn->messages++;
		cn->bytes += len;
		if (dx->have_seq) {
			int32_t diff = (int32_t)(seq - dx->next_seq);
			if (diff > 0) {
				if (dx->skipped_last)
					cn->unknown_template_records += (uint64_t)diff;
				else {
					cn->seq_gaps += (uint64_t)diff;
					log_ratelimited(&s->rl, LOG_NOTICE, "%s domain %u: sequence gap: expected %u, got %u "
					                "(%d records lost before reaching us)", s->peer, domain,
					                dx->next_seq, seq, diff);
				}
			}
		}
		if (bad) {
			cn->malformed_messages++;
			log_ratelimited(&s->rl, LOG_WARN, "%s domain %u: malformed IPFIX message (%s); "
			                "records before the fault are kept", s->peer, domain, bad);
		}
		s->skipped_sets = 0;
	}
	memcpy(s->buf, msg, len);
	fBufRewind(s->fb);
	fBufSetBuffer(s->fb, s->buf, len);
	tl_cur = s;
	uint32_t idx = 0;
	GError *ge = NULL;
	enum decode_result res = DECODE_OK;
	for (;;) {
		uint16_t tid = 0;
		fbTemplate_t *t = fBufNextCollectionTemplate(s->fb, &tid, &ge);
		if (!t)
			break;
		struct tmpl_ctx *c = fbTemplateGetContext(t);
		if (c && c->empty) {
			/* libfixbuf cannot step over zero-byte records: drop the rest of the message */
			if (!s->resuming) {
				cn->unknown_template_sets++;
				s->skipped_sets++;
			}
			log_ratelimited(&s->rl, LOG_WARN, "%s domain %u: data set for withdrawn or empty template %u; "
			                "the rest of the message is skipped", s->peer, domain, tid);
			break;
		}
		uint16_t itid = c && c->int_tid ? c->int_tid : NULL_TID;
		if (!fBufSetInternalTemplate(s->fb, itid, &ge))
			break;
		size_t rl = s->rec_cap;
		if (!fBufNext(s->fb, s->rec, &rl, &ge))
			break;
		if (idx++ < cur->done)
			continue;
		cn->records++;
		if (!c || c->options || !c->int_tid) {
			cn->options_records++;
			continue;
		}
		if (c->nsteps == 0) {
			cn->unmapped_records++;
			continue;
		}
		fill_record(s, c);
		if (emit && emit(ctx, &s->r, domain)) {
			cn->records--; /* counted again when the message is repeated */
			cur->done = idx - 1;
			res = DECODE_PAUSED;
			break;
		}
		cn->rows++;
	}
	if (res == DECODE_OK && ge) {
		int normal_end = g_error_matches(ge, FB_ERROR_DOMAIN, FB_ERROR_EOM) && !strstr(ge->message, "Underrun");
		normal_end |= g_error_matches(ge, FB_ERROR_DOMAIN, FB_ERROR_BUFSZ);
		if (!normal_end && !bad && !s->resuming) {
			cn->malformed_messages++;
			log_ratelimited(&s->rl, LOG_WARN, "%s domain %u: malformed IPFIX message after %u records: %s; "
			                "the rest of the message is dropped", s->peer, domain, idx, ge->message);
		}
	}
	g_clear_error(&ge);
	tl_cur = NULL;
	if (res == DECODE_OK) {
		dx->next_seq = seq + idx;
		dx->have_seq = 1;
		dx->skipped_last = s->skipped_sets > 0;
		cur->done = 0;
	}
	s->resuming = 0;
	return res;
}

/* netflow.c: NetFlow v9 and v5 decoding through copy plans (contract in netflow.h). */
#include "receiver/netflow.h"

#include <stdlib.h>
#include <string.h>

#define V9_HDR 20
#define V5_HDR 24
#define V5_REC 48
#define V5_MAX 30

struct nf_tmpl {
	uint32_t domain;
	uint16_t tid;
	uint8_t options;
	struct cp_plan *plan;
};

struct nf_templates {
	struct nf_tmpl *a;
	size_t n, cap;
	struct cp_plan *v5;
	const struct qs_stream_def *v5def;
};

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

struct nf_templates *nf_templates_new(void)
{
	struct nf_templates *t = calloc(1, sizeof *t);
	if (!t)
		abort();
	return t;
}

void nf_templates_free(struct nf_templates *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->a[i].plan);
	free(t->a);
	free(t->v5);
	free(t);
}

int nf_header(const uint8_t *p, size_t len, uint32_t *domain, uint32_t *seq, const char **why)
{
	unsigned v = len >= 2 ? rd16(p) : 0;
	if (v == 9) {
		if (len < V9_HDR) {
			*why = "NetFlow v9 packet shorter than its 20-byte header";
			return -1;
		}
		*seq = rd32(p + 12);
		*domain = rd32(p + 16);
		return 0;
	}
	if (v == 5) {
		if (len < V5_HDR) {
			*why = "NetFlow v5 packet shorter than its 24-byte header";
			return -1;
		}
		unsigned n = rd16(p + 2);
		if (n == 0 || n > V5_MAX || len != V5_HDR + (size_t)n * V5_REC) {
			*why = "NetFlow v5 packet length does not match its record count (1..30 records of 48 bytes)";
			return -1;
		}
		*seq = rd32(p + 16);
		*domain = (uint32_t)p[20] << 8 | p[21];
		return 0;
	}
	*why = "not NetFlow v9 or v5";
	return -1;
}

static struct nf_tmpl *find(struct nf_templates *t, uint32_t domain, uint16_t tid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->a[i].tid == tid && t->a[i].domain == domain)
			return &t->a[i];
	return NULL;
}

static void refused(void *ctx, const struct cp_field *f, const struct qs_column *col)
{
	const struct nf_call *call = ctx;
	log_ratelimited(call->rl, LOG_WARN, "%s: NetFlow v9 field type %u with length %u cannot fill column %s (%s); "
	                "the field is skipped", call->peer, f->ie, f->len, col->name, qs_type_name(col->type));
}

static const struct qs_stream_def no_columns;

/* Store a compiled template; replaces an older one with the same id. */
static void put(struct nf_templates *t, uint32_t domain, uint16_t tid, int options, struct cp_plan *plan)
{
	struct nf_tmpl *x = find(t, domain, tid);
	if (!x) {
		if (t->n == t->cap) {
			size_t cap = t->cap ? t->cap * 2 : 8;
			struct nf_tmpl *a = realloc(t->a, cap * sizeof *a);
			if (!a)
				abort();
			t->a = a;
			t->cap = cap;
		}
		x = &t->a[t->n++];
		x->domain = domain;
		x->tid = tid;
		x->plan = NULL;
	}
	free(x->plan);
	x->plan = plan;
	x->options = (uint8_t)options;
}

/* Template flowset (id 0) or options template flowset (id 1). 0 ok, -1 malformed. */
static int templates(struct nf_templates *t, const uint8_t *p, const uint8_t *end, int options, uint32_t domain,
                     const struct nf_call *call)
{
	struct cp_field f[512];
	while (end - p >= 4) {
		uint16_t tid = rd16(p), n;
		size_t nf;
		if (!options) {
			n = rd16(p + 2);
			p += 4;
			nf = n;
		} else {
			if (end - p < 6)
				return 0; /* padding */
			uint16_t scope = rd16(p + 2), opt = rd16(p + 4);
			p += 6;
			if (scope % 4 || opt % 4)
				return -1;
			nf = (size_t)(scope + opt) / 4;
		}
		if (tid < 256) {
			if (tid == 0 && nf == 0)
				return 0; /* padding */
			return -1;
		}
		if (nf > sizeof f / sizeof f[0] || (size_t)(end - p) < nf * 4)
			return -1;
		for (size_t i = 0; i < nf; i++, p += 4) {
			uint16_t type = rd16(p), len = rd16(p + 2);
			/* v9 vendor types (high bit) are not IANA elements: skipped */
			f[i].pen = type & 0x8000 ? 0xffffffffu : 0;
			f[i].ie = type;
			if (len == CP_VARLEN)
				return -1; /* v9 has no variable-length fields */
			f[i].len = len;
		}
		struct cp_plan *plan = cp_compile(options ? &no_columns : call->def, f, nf, 1, refused, (void *)call);
		if (!plan)
			abort();
		put(t, domain, tid, options, plan);
		call->c->templates++;
	}
	return 0;
}

enum decode_result nf_v9(struct nf_templates *t, const uint8_t *p, size_t len, uint32_t domain,
                         const struct nf_call *call, uint32_t *nrec)
{
	struct cp_msg m = { .export_ms = (uint64_t)rd32(p + 8) * 1000, .uptime_ms = rd32(p + 4) };
	struct decode_counters *c = call->c;
	uint32_t idx = 0;
	size_t off = V9_HDR;
	*nrec = 0;
	while (len - off >= 4) {
		uint16_t id = rd16(p + off), slen = rd16(p + off + 2);
		if (slen < 4 || slen > len - off) {
			if (!call->cur->done)
				c->malformed_messages++;
			log_ratelimited(call->rl, LOG_WARN, "%s source id %u: malformed NetFlow v9 packet (flowset "
			                "length %u at offset %zu of %zu); records before the fault are kept",
			                call->peer, domain, slen, off, len);
			break;
		}
		const uint8_t *set = p + off, *end = set + slen;
		off += slen;
		if (id == 0 || id == 1) {
			if (call->cur->done)
				continue; /* a repeated packet: its templates are in already */
			if (templates(t, set + 4, end, id == 1, domain, call) < 0) {
				c->malformed_messages++;
				log_ratelimited(call->rl, LOG_WARN, "%s source id %u: malformed NetFlow v9 template flowset; "
				                "the rest of the packet is dropped", call->peer, domain);
				break;
			}
			continue;
		}
		if (id < 256)
			continue; /* reserved flowset ids: skipped */
		struct nf_tmpl *x = find(t, domain, id);
		if (!x || x->plan->minlen == 0) {
			if (!call->cur->done)
				c->unknown_template_sets++;
			log_ratelimited(call->rl, LOG_WARN, "%s source id %u: NetFlow v9 data flowset for unknown template %u "
			                "skipped; the exporter resends templates periodically", call->peer, domain, id);
			continue;
		}
		const struct cp_plan *pl = x->plan;
		const uint8_t *q = set + 4;
		while ((size_t)(end - q) >= pl->minlen) {
			if (idx < call->cur->done) {
				q += pl->minlen;
				idx++;
				continue;
			}
			idx++;
			c->records++;
			if (x->options || pl->ncols == 0) {
				q += pl->minlen;
				if (x->options)
					c->options_records++;
				else
					c->unmapped_records++;
				continue;
			}
			cp_run(pl, call->def, &q, end, &m, call->r); /* no varlen in v9: cannot fail */
			if (call->emit && call->emit(call->emit_ctx, call->r, domain)) {
				c->records--;
				call->cur->done = idx - 1;
				*nrec = idx - 1;
				return DECODE_PAUSED;
			}
			c->rows++;
		}
	}
	*nrec = idx;
	return DECODE_OK;
}

static const struct cp_field v5_fields[] = {
	{ 0, 8, 4 }, { 0, 12, 4 }, { 0, 15, 4 }, { 0, 10, 2 }, { 0, 14, 2 }, { 0, 2, 4 }, { 0, 1, 4 },
	{ 0, 22, 4 }, { 0, 21, 4 }, { 0, 7, 2 }, { 0, 11, 2 }, { 0, 210, 1 }, { 0, 6, 1 }, { 0, 4, 1 },
	{ 0, 5, 1 }, { 0, 16, 2 }, { 0, 17, 2 }, { 0, 9, 1 }, { 0, 13, 1 }, { 0, 210, 2 },
};

enum decode_result nf_v5(struct nf_templates *t, const uint8_t *p, size_t len, const struct nf_call *call,
                         uint32_t *nrec)
{
	if (!t->v5 || t->v5def != call->def) {
		free(t->v5);
		t->v5 = cp_compile(call->def, v5_fields, sizeof v5_fields / sizeof v5_fields[0], 1, NULL, NULL);
		if (!t->v5)
			abort();
		t->v5def = call->def;
	}
	struct cp_msg m = { .export_ms = (uint64_t)rd32(p + 8) * 1000 + rd32(p + 12) / 1000000,
		            .uptime_ms = rd32(p + 4) };
	unsigned n = rd16(p + 2);
	if (t->v5->ncols == 0) {
		call->c->records += n - call->cur->done;
		call->c->unmapped_records += n - call->cur->done;
		*nrec = n;
		return DECODE_OK;
	}
	const uint8_t *q = p + V5_HDR + (size_t)call->cur->done * V5_REC, *end = p + len;
	for (uint32_t i = call->cur->done; i < n; i++) {
		call->c->records++;
		cp_run(t->v5, call->def, &q, end, &m, call->r);
		if (call->emit && call->emit(call->emit_ctx, call->r, (uint32_t)p[20] << 8 | p[21])) {
			call->c->records--;
			call->cur->done = i;
			*nrec = i;
			return DECODE_PAUSED;
		}
		call->c->rows++;
	}
	*nrec = n;
	return DECODE_OK;
}

/* copyplan.c: templates compiled into copy steps, and the per-record run
 * (contract in copyplan.h). */
#include "receiver/copyplan.h"

#include <stdlib.h>
#include <string.h>

enum op_kind {
	OP_U8,      /* 1-byte integer */
	OP_U16,     /* big-endian integers of 2, 4, 8 bytes */
	OP_U32,
	OP_U64,
	OP_UN,      /* big-endian integer of 3, 5, 6 or 7 bytes */
	OP_BYTES,   /* fixed byte string (IPv6, MAC, fixed-length text) */
	OP_VAR,     /* RFC 7011 varlen into a column */
	OP_VARSKIP, /* varlen stepped over */
	OP_UPTIME,  /* NetFlow sysUpTime (ms, 4 bytes) -> epoch ms */
};

int cp_find_col(const struct qs_stream_def *def, uint32_t pen, uint16_t ie, uint16_t len)
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

/* The op kind for element length len into a column of type t; -1 if it cannot fill it. */
static int plan_kind(enum qs_type t, uint16_t len)
{
	switch (t) {
	case QS_U8: case QS_U16: case QS_U32: case QS_U64: case QS_TIME_MS: case QS_TIME_S:
		if (len == CP_VARLEN || len == 0 || len > 8)
			return -1;
		return len == 1 ? OP_U8 : len == 2 ? OP_U16 : len == 4 ? OP_U32 : len == 8 ? OP_U64 : OP_UN;
	case QS_IPV4:
		return len == 4 ? OP_U32 : -1;
	case QS_IPV6:
		return len == 16 ? OP_BYTES : -1;
	case QS_MAC:
		return len == 6 ? OP_BYTES : -1;
	case QS_STR:
		return len == CP_VARLEN ? OP_VAR : OP_BYTES;
	}
	return -1;
}

static int has_field(const struct cp_field *f, size_t n, uint32_t pen, uint16_t ie)
{
	for (size_t i = 0; i < n; i++)
		if (f[i].pen == pen && f[i].ie == ie)
			return 1;
	return 0;
}

struct cp_plan *cp_compile(const struct qs_stream_def *def, const struct cp_field *fields, size_t n,
                           int uptime, cp_refused_fn refused, void *ctx)
{
	struct cp_plan *p = calloc(1, sizeof *p + (n ? n : 1) * sizeof(struct cp_op));
	if (!p)
		return NULL;
	uint64_t used[(QS_MAX_COLS + 63) / 64] = { 0 };
	uint32_t skip = 0;
	int start_col = -1, end_col = -1;
	if (uptime) {
		if (!has_field(fields, n, 0, 152))
			start_col = cp_find_col(def, 0, 152, 8);
		if (!has_field(fields, n, 0, 153))
			end_col = cp_find_col(def, 0, 153, 8);
	}
	for (size_t i = 0; i < n; i++) {
		const struct cp_field *f = &fields[i];
		int var = f->len == CP_VARLEN;
		p->minlen += var ? 1 : f->len;
		int col = cp_find_col(def, f->pen, f->ie, f->len);
		int kind = -1;
		if (uptime && f->pen == 0 && f->len == 4 && (f->ie == 22 || f->ie == 21)) {
			col = f->ie == 22 ? start_col : end_col;
			if (col >= 0 && def->cols[col].type == QS_TIME_MS)
				kind = OP_UPTIME;
			else
				col = -1;
		}
		if (col >= 0 && (used[col >> 6] >> (col & 63)) & 1)
			col = -1; /* a repeated element: the first occurrence fills the column */
		if (col >= 0 && kind < 0) {
			kind = plan_kind(def->cols[col].type, f->len);
			if (kind < 0) {
				if (refused)
					refused(ctx, f, &def->cols[col]);
				col = -1;
			}
		}
		if (col < 0 && !var) {
			skip += f->len;
			continue;
		}
		struct cp_op *op = &p->ops[p->nops++];
		op->skip = skip;
		skip = 0;
		op->col = col;
		op->kind = (uint8_t)(col < 0 ? OP_VARSKIP : kind);
		op->len = var ? 0 : f->len;
		if (col >= 0) {
			used[col >> 6] |= (uint64_t)1 << (col & 63);
			p->present[col >> 6] |= (uint64_t)1 << (col & 63);
			p->ncols++;
		}
		if (var)
			p->has_var = 1;
	}
	p->tail = skip;
	/* after: the bytes the record still needs once a varlen value is read */
	uint32_t need = p->tail;
	for (size_t i = p->nops; i-- > 0;) {
		struct cp_op *op = &p->ops[i];
		op->after = need;
		need += op->skip + (op->kind == OP_VAR || op->kind == OP_VARSKIP ? 1u : op->len);
	}
	return p;
}

static inline uint64_t be_n(const uint8_t *q, unsigned len)
{
	uint64_t u = 0;
	for (unsigned k = 0; k < len; k++)
		u = u << 8 | q[k];
	return u;
}

/* Read a varlen prefix at q (at least 1 byte, checked); -1 if it overruns end. */
static inline int varlen(const uint8_t **q, const uint8_t *end, uint32_t after, uint32_t *len)
{
	const uint8_t *x = *q;
	uint32_t l = x[0];
	x++;
	if (l == 255) {
		if (end - x < 2)
			return -1;
		l = (uint32_t)x[0] << 8 | x[1];
		x += 2;
	}
	if ((size_t)(end - x) < (size_t)l + after)
		return -1;
	*len = l;
	*q = x;
	return 0;
}

int cp_run(const struct cp_plan *plan, const struct qs_stream_def *def, const uint8_t **p,
           const uint8_t *end, const struct cp_msg *m, struct qs_record *r)
{
	const uint8_t *q = *p;
	struct qs_value *v = r->v;
	r->def = def;
	memcpy(r->present, plan->present, sizeof r->present);
	for (uint32_t i = 0; i < plan->nops; i++) {
		const struct cp_op *op = &plan->ops[i];
		q += op->skip;
		uint32_t x32;
		uint16_t x16;
		uint64_t x64;
		switch (op->kind) {
		case OP_U8:
			v[op->col].u = q[0];
			q += 1;
			break;
		case OP_U16:
			memcpy(&x16, q, 2);
			v[op->col].u = __builtin_bswap16(x16);
			q += 2;
			break;
		case OP_U32:
			memcpy(&x32, q, 4);
			v[op->col].u = __builtin_bswap32(x32);
			q += 4;
			break;
		case OP_U64:
			memcpy(&x64, q, 8);
			v[op->col].u = __builtin_bswap64(x64);
			q += 8;
			break;
		case OP_UN:
			v[op->col].u = be_n(q, op->len);
			q += op->len;
			break;
		case OP_BYTES:
			v[op->col].p = q;
			v[op->col].len = op->len;
			q += op->len;
			break;
		case OP_VAR:
		case OP_VARSKIP: {
			uint32_t l;
			if (varlen(&q, end, op->after, &l) < 0)
				return -1;
			if (op->kind == OP_VAR) {
				v[op->col].p = l ? q : NULL;
				v[op->col].len = l;
			}
			q += l;
			break;
		}
		case OP_UPTIME: {
			memcpy(&x32, q, 4);
			x32 = __builtin_bswap32(x32);
			/* uptime arithmetic in 32 bits wraps with the exporter's counter */
			uint32_t ago = m ? m->uptime_ms - x32 : 0;
			uint64_t base = m ? m->export_ms : 0;
			v[op->col].u = base >= ago ? base - ago : 0;
			q += 4;
			break;
		}
		}
	}
	*p = q + plan->tail;
	return 0;
}

int cp_skip(const struct cp_plan *plan, const uint8_t **p, const uint8_t *end)
{
	if (!plan->has_var) {
		*p += plan->minlen;
		return 0;
	}
	const uint8_t *q = *p;
	for (uint32_t i = 0; i < plan->nops; i++) {
		const struct cp_op *op = &plan->ops[i];
		q += op->skip;
		if (op->kind == OP_VAR || op->kind == OP_VARSKIP) {
			uint32_t l;
			if (varlen(&q, end, op->after, &l) < 0)
				return -1;
			q += l;
		} else {
			q += op->len;
		}
	}
	*p = q + plan->tail;
	return 0;
}

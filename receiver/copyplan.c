/* copyplan.c: templates compiled into copy steps, and the per-record run
 * (contract in copyplan.h). */
#include "receiver/copyplan.h"

#include <stdlib.h>
#include <string.h>

#include "spool/spool_format.h"

enum op_kind {      /* the order of the groups in a segment */
	OP_U8,          /* 1-byte integer */
	OP_U16,         /* big-endian integers of 2, 4, 8 bytes */
	OP_U32,
	OP_U64,
	OP_UN,          /* big-endian integer of 3, 5, 6 or 7 bytes */
	OP_BYTES,       /* fixed byte string (IPv6, MAC, fixed-length text) */
	OP_UPTIME,      /* NetFlow sysUpTime (ms, 4 bytes) -> epoch ms */
	OP_VAR,         /* RFC 7011 varlen into a column (ends a segment) */
};

enum dop_kind {     /* the order of the groups of cp_run_cols in a segment */
	DK_1,           /* 1-byte integer into a 1-byte column */
	DK_2,           /* big-endian 2, 4, 8 bytes into a column as wide */
	DK_4,
	DK_8,
	DK_CONV,        /* any other integer: read len bytes, write width bytes */
	DK_COPY,        /* bytes as they are (IPv6, MAC) */
	DK_STRFIX,      /* fixed-length element into a string column */
	DK_UPTIME,      /* NetFlow sysUpTime -> epoch ms (8 bytes) */
};

/* The direct kind of an element of op kind k and length len into a column of type t. */
static int dop_kind(int k, enum qs_type t, uint16_t len)
{
	size_t w = qs_type_width(t);
	switch (k) {
	case OP_U8: return w == 1 ? DK_1 : DK_CONV;
	case OP_U16: return w == 2 ? DK_2 : DK_CONV;
	case OP_U32: return w == 4 ? DK_4 : DK_CONV;
	case OP_U64: return w == 8 ? DK_8 : DK_CONV;
	case OP_UN: return DK_CONV;
	case OP_BYTES: return t == QS_STR ? DK_STRFIX : DK_COPY;
	case OP_UPTIME: return DK_UPTIME;
	}
	(void)len;
	return DK_CONV;
}

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
	/* first pass: each element's kind and column (-1: skipped) */
	struct el { int kind, dkind, col; uint16_t len; } *e = calloc(n ? n : 1, sizeof *e);
	if (!e)
		return NULL;
	uint64_t used[(QS_MAX_COLS + 63) / 64] = { 0 };
	int start_col = -1, end_col = -1;
	if (uptime) {
		if (!has_field(fields, n, 0, 152))
			start_col = cp_find_col(def, 0, 152, 8);
		if (!has_field(fields, n, 0, 153))
			end_col = cp_find_col(def, 0, 153, 8);
	}
	size_t nsegs = 1, nfops = 0;
	for (size_t i = 0; i < n; i++) {
		const struct cp_field *f = &fields[i];
		int var = f->len == CP_VARLEN;
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
		if (col >= 0)
			used[col >> 6] |= (uint64_t)1 << (col & 63);
		e[i].kind = var ? OP_VAR : kind;
		e[i].dkind = !var && col >= 0 ? dop_kind(kind, def->cols[col].type, f->len) : -1;
		e[i].col = col;
		e[i].len = var ? 0 : f->len;
		nsegs += var;
		nfops += !var && col >= 0;
	}
	size_t nf1 = nfops ? nfops : 1;
	struct cp_plan *p = calloc(1, sizeof *p + nsegs * sizeof(struct cp_seg) + nf1 * sizeof(struct cp_fop) +
	                                  nf1 * sizeof(struct cp_dop));
	if (!p) {
		free(e);
		return NULL;
	}
	p->segs = (struct cp_seg *)(p + 1);
	p->fops = (struct cp_fop *)(p->segs + nsegs);
	p->dops = (struct cp_dop *)(p->fops + nf1);
	/* second pass: segments; in each, the fixed elements grouped by kind */
	size_t seg_first = 0, nf = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && e[i].kind != OP_VAR)
			continue;
		struct cp_seg *sg = &p->segs[p->nsegs++];
		for (int k = 0; k < CP_NKINDS; k++) {
			sg->start[k] = (uint16_t)nf;
			uint32_t off = 0;
			for (size_t j = seg_first; j < i; j++) {
				if (e[j].col >= 0 && e[j].kind == k) {
					p->fops[nf].off = (uint16_t)off;
					p->fops[nf].len = e[j].len;
					p->fops[nf].col = e[j].col;
					nf++;
				}
				off += e[j].len;
			}
			sg->fixed = off;
		}
		sg->start[CP_NKINDS] = (uint16_t)nf;
		size_t nd = sg->start[0];
		for (int k = 0; k < CP_NDKINDS; k++) {
			sg->dstart[k] = (uint16_t)nd;
			uint32_t off = 0;
			for (size_t j = seg_first; j < i; j++) {
				if (e[j].col >= 0 && e[j].dkind == k) {
					p->dops[nd].off = (uint16_t)off;
					p->dops[nd].len = e[j].len;
					p->dops[nd].width = (uint16_t)qs_type_width(def->cols[e[j].col].type);
					p->dops[nd].col = (uint16_t)e[j].col;
					nd++;
				}
				off += e[j].len;
			}
		}
		sg->dstart[CP_NDKINDS] = (uint16_t)nd;
		sg->vcol = -1;
		if (i < n) {
			sg->has_var = 1;
			sg->vcol = e[i].col;
			p->has_var = 1;
		}
		p->minlen += sg->fixed + sg->has_var;
		seg_first = i + 1;
	}
	for (size_t i = 0; i < n; i++)
		if (e[i].col >= 0) {
			p->present[e[i].col >> 6] |= (uint64_t)1 << (e[i].col & 63);
			p->ncols++;
		}
	/* after: the bytes the record still needs once a segment's varlen value is read */
	uint32_t need = 0;
	for (size_t k = p->nsegs; k-- > 0;) {
		p->segs[k].after = need;
		need += p->segs[k].fixed + p->segs[k].has_var;
	}
	free(e);
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
	for (uint32_t s = 0; s < plan->nsegs; s++) {
		const struct cp_seg *sg = &plan->segs[s];
		const struct cp_fop *f = plan->fops;
		unsigned j = sg->start[OP_U8];
		for (; j < sg->start[OP_U16]; j++)
			v[f[j].col].u = q[f[j].off];
		for (; j < sg->start[OP_U32]; j++) {
			uint16_t x;
			memcpy(&x, q + f[j].off, 2);
			v[f[j].col].u = __builtin_bswap16(x);
		}
		for (; j < sg->start[OP_U64]; j++) {
			uint32_t x;
			memcpy(&x, q + f[j].off, 4);
			v[f[j].col].u = __builtin_bswap32(x);
		}
		for (; j < sg->start[OP_UN]; j++) {
			uint64_t x;
			memcpy(&x, q + f[j].off, 8);
			v[f[j].col].u = __builtin_bswap64(x);
		}
		for (; j < sg->start[OP_BYTES]; j++)
			v[f[j].col].u = be_n(q + f[j].off, f[j].len);
		for (; j < sg->start[OP_UPTIME]; j++) {
			v[f[j].col].p = q + f[j].off;
			v[f[j].col].len = f[j].len;
		}
		for (; j < sg->start[CP_NKINDS]; j++) {
			uint32_t x;
			memcpy(&x, q + f[j].off, 4);
			x = __builtin_bswap32(x);
			/* uptime arithmetic in 32 bits wraps with the exporter's counter */
			uint32_t ago = m ? m->uptime_ms - x : 0;
			uint64_t base = m ? m->export_ms : 0;
			v[f[j].col].u = base >= ago ? base - ago : 0;
		}
		q += sg->fixed;
		if (sg->has_var) {
			uint32_t l;
			if (varlen(&q, end, sg->after, &l) < 0)
				return -1;
			if (sg->vcol >= 0) {
				v[sg->vcol].p = l ? q : NULL;
				v[sg->vcol].len = l;
			}
			q += l;
		}
	}
	*p = q;
	return 0;
}

int cp_skip(const struct cp_plan *plan, const uint8_t **p, const uint8_t *end)
{
	if (!plan->has_var) {
		*p += plan->minlen;
		return 0;
	}
	const uint8_t *q = *p;
	for (uint32_t s = 0; s < plan->nsegs; s++) {
		const struct cp_seg *sg = &plan->segs[s];
		q += sg->fixed;
		if (sg->has_var) {
			uint32_t l;
			if (varlen(&q, end, sg->after, &l) < 0)
				return -1;
			q += l;
		}
	}
	*p = q;
	return 0;
}

/* Copy a string value: short ones (most hosts and logins) with two
 * overlapping loads and stores, no call. */
static inline void copy_str(uint8_t *d, const uint8_t *q, uint32_t l)
{
	if (l >= 8 && l <= 16) {
		uint64_t a, b;
		memcpy(&a, q, 8);
		memcpy(&b, q + l - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + l - 8, &b, 8);
	} else if (l >= 4 && l < 8) {
		uint32_t a, b;
		memcpy(&a, q, 4);
		memcpy(&b, q + l - 4, 4);
		memcpy(d, &a, 4);
		memcpy(d + l - 4, &b, 4);
	} else {
		memcpy(d, q, l);
	}
}

/* Take back what cp_run_cols wrote of the record at q before a varlen
 * length of segment bad ran past the end: every fixed element of segments
 * 0..bad and the varlen values of segments 0..bad-1 (the record's bytes up
 * to there were checked). The slow path of malformed records only. */
static void undo_cols(const struct cp_plan *plan, const uint8_t *q, uint32_t bad, uint8_t **wp, uint8_t **sp)
{
	for (uint32_t s = 0; s <= bad; s++) {
		const struct cp_seg *sg = &plan->segs[s];
		for (unsigned j = sg->dstart[0]; j < sg->dstart[CP_NDKINDS]; j++) {
			const struct cp_dop *f = &plan->dops[j];
			if (j >= sg->dstart[DK_STRFIX] && j < sg->dstart[DK_UPTIME]) {
				wp[f->col] -= 4;
				sp[f->col] -= f->len;
			} else {
				wp[f->col] -= j >= sg->dstart[DK_COPY] && j < sg->dstart[DK_STRFIX] ? f->len
				            : j >= sg->dstart[DK_UPTIME] ? 8 : f->width;
			}
		}
		if (s == bad)
			break;
		q += sg->fixed;
		uint32_t l = q[0];
		q++;
		if (l == 255) {
			l = (uint32_t)q[0] << 8 | q[1];
			q += 2;
		}
		if (sg->vcol >= 0) {
			wp[sg->vcol] -= 4;
			sp[sg->vcol] -= l;
		}
		q += l;
	}
}

int cp_run_cols(const struct cp_plan *plan, const uint8_t **p, const uint8_t *end, const struct cp_msg *m,
                uint8_t **wp, uint8_t **sp, size_t *str_bytes)
{
	const uint8_t *q = *p;
	size_t sb = 0;
	for (uint32_t s = 0; s < plan->nsegs; s++) {
		const struct cp_seg *sg = &plan->segs[s];
		const struct cp_dop *f = plan->dops;
		unsigned j = sg->dstart[DK_1];
		for (; j < sg->dstart[DK_2]; j++)
			*wp[f[j].col]++ = q[f[j].off];
		for (; j < sg->dstart[DK_4]; j++) {
			uint16_t x;
			memcpy(&x, q + f[j].off, 2);
			spf_put16(wp[f[j].col], __builtin_bswap16(x));
			wp[f[j].col] += 2;
		}
		for (; j < sg->dstart[DK_8]; j++) {
			uint32_t x;
			memcpy(&x, q + f[j].off, 4);
			spf_put32(wp[f[j].col], __builtin_bswap32(x));
			wp[f[j].col] += 4;
		}
		for (; j < sg->dstart[DK_CONV]; j++) {
			uint64_t x;
			memcpy(&x, q + f[j].off, 8);
			spf_put64(wp[f[j].col], __builtin_bswap64(x));
			wp[f[j].col] += 8;
		}
		for (; j < sg->dstart[DK_COPY]; j++) {
			uint64_t x = be_n(q + f[j].off, f[j].len);
			uint8_t *d = wp[f[j].col];
			switch (f[j].width) {
			case 1: *d = (uint8_t)x; break;
			case 2: spf_put16(d, (uint16_t)x); break;
			case 4: spf_put32(d, (uint32_t)x); break;
			default: spf_put64(d, x); break;
			}
			wp[f[j].col] = d + f[j].width;
		}
		for (; j < sg->dstart[DK_STRFIX]; j++) {
			memcpy(wp[f[j].col], q + f[j].off, f[j].len);
			wp[f[j].col] += f[j].len;
		}
		for (; j < sg->dstart[DK_UPTIME]; j++) {
			spf_put32(wp[f[j].col], f[j].len);
			wp[f[j].col] += 4;
			memcpy(sp[f[j].col], q + f[j].off, f[j].len);
			sp[f[j].col] += f[j].len;
			sb += 4 + (size_t)f[j].len;
		}
		for (; j < sg->dstart[CP_NDKINDS]; j++) {
			uint32_t x;
			memcpy(&x, q + f[j].off, 4);
			x = __builtin_bswap32(x);
			uint32_t ago = m ? m->uptime_ms - x : 0;
			uint64_t base = m ? m->export_ms : 0;
			spf_put64(wp[f[j].col], base >= ago ? base - ago : 0);
			wp[f[j].col] += 8;
		}
		q += sg->fixed;
		if (sg->has_var) {
			uint32_t l;
			if (varlen(&q, end, sg->after, &l) < 0) {
				undo_cols(plan, *p, s, wp, sp);
				return -1;
			}
			if (sg->vcol >= 0) {
				spf_put32(wp[sg->vcol], l);
				wp[sg->vcol] += 4;
				copy_str(sp[sg->vcol], q, l);
				sp[sg->vcol] += l;
				sb += 4 + (size_t)l;
			}
			q += l;
		}
	}
	*p = q;
	*str_bytes = sb;
	return 0;
}

int cp_run_cols_batch(const struct cp_plan *plan, const uint8_t **p, const uint8_t *end, const struct cp_msg *m,
                      uint32_t max, uint8_t **wp, uint8_t **sp, uint32_t *nrec, size_t *str_bytes)
{
	uint32_t n = 0;
	size_t sb = 0;
	if (plan->nsegs > CP_BATCH_SEGS) { /* many varlen elements: record by record */
		int rc = 0;
		for (; n < max && (size_t)(end - *p) >= plan->minlen; n++) {
			size_t x;
			if ((rc = cp_run_cols(plan, p, end, m, wp, sp, &x)) < 0)
				break;
			sb += x;
		}
		*nrec = n;
		*str_bytes = sb;
		return rc;
	}
	if (max > CP_BATCH)
		max = CP_BATCH;
	/* pass 1: where each segment of each record starts, varlen lengths checked */
	const uint8_t *segp[CP_BATCH_SEGS][CP_BATCH];
	uint32_t vl[CP_BATCH_SEGS][CP_BATCH];
	const uint32_t nsegs = plan->nsegs;
	const uint8_t *q = *p;
	int bad = 0;
	for (; n < max && (size_t)(end - q) >= plan->minlen; n++) {
		const uint8_t *x = q;
		for (uint32_t s = 0; s < nsegs && !bad; s++) {
			const struct cp_seg *sg = &plan->segs[s];
			segp[s][n] = x;
			x += sg->fixed;
			if (sg->has_var) {
				uint32_t l = 0;
				if (varlen(&x, end, sg->after, &l) < 0)
					bad = 1;
				vl[s][n] = l;
				x += l;
			}
		}
		if (bad)
			break;
		q = x;
	}
	/* pass 2: column by column, each column's values in one tight loop */
	for (uint32_t s = 0; s < nsegs; s++) {
		const struct cp_seg *sg = &plan->segs[s];
		const uint8_t *const *b = segp[s];
		const struct cp_dop *f = plan->dops + sg->dstart[DK_1], *e = plan->dops + sg->dstart[DK_2];
		for (; f < e; f++) {
			uint8_t *d = wp[f->col];
			const unsigned off = f->off;
			for (uint32_t r = 0; r < n; r++)
				d[r] = b[r][off];
			wp[f->col] = d + n;
		}
		for (e = plan->dops + sg->dstart[DK_4]; f < e; f++) {
			uint8_t *d = wp[f->col];
			const unsigned off = f->off;
			for (uint32_t r = 0; r < n; r++) {
				uint16_t x;
				memcpy(&x, b[r] + off, 2);
				spf_put16(d + 2 * r, __builtin_bswap16(x));
			}
			wp[f->col] = d + 2 * n;
		}
		for (e = plan->dops + sg->dstart[DK_8]; f < e; f++) {
			uint8_t *d = wp[f->col];
			const unsigned off = f->off;
			for (uint32_t r = 0; r < n; r++) {
				uint32_t x;
				memcpy(&x, b[r] + off, 4);
				spf_put32(d + 4 * r, __builtin_bswap32(x));
			}
			wp[f->col] = d + 4 * n;
		}
		for (e = plan->dops + sg->dstart[DK_CONV]; f < e; f++) {
			uint8_t *d = wp[f->col];
			const unsigned off = f->off;
			for (uint32_t r = 0; r < n; r++) {
				uint64_t x;
				memcpy(&x, b[r] + off, 8);
				spf_put64(d + 8 * r, __builtin_bswap64(x));
			}
			wp[f->col] = d + 8 * n;
		}
		for (e = plan->dops + sg->dstart[DK_COPY]; f < e; f++) {
			uint8_t *d = wp[f->col];
			for (uint32_t r = 0; r < n; r++, d += f->width) {
				uint64_t x = be_n(b[r] + f->off, f->len);
				switch (f->width) {
				case 1: *d = (uint8_t)x; break;
				case 2: spf_put16(d, (uint16_t)x); break;
				case 4: spf_put32(d, (uint32_t)x); break;
				default: spf_put64(d, x); break;
				}
			}
			wp[f->col] = d;
		}
		for (e = plan->dops + sg->dstart[DK_STRFIX]; f < e; f++) {
			uint8_t *d = wp[f->col];
			const unsigned off = f->off, len = f->len;
			if (len == 16)
				for (uint32_t r = 0; r < n; r++, d += 16)
					memcpy(d, b[r] + off, 16);
			else
				for (uint32_t r = 0; r < n; r++, d += len)
					memcpy(d, b[r] + off, len);
			wp[f->col] = d;
		}
		for (e = plan->dops + sg->dstart[DK_UPTIME]; f < e; f++) {
			uint8_t *d = wp[f->col], *t = sp[f->col];
			for (uint32_t r = 0; r < n; r++, t += f->len) {
				spf_put32(d + 4 * r, f->len);
				memcpy(t, b[r] + f->off, f->len);
			}
			wp[f->col] = d + 4 * n;
			sp[f->col] = t;
			sb += n * (4 + (size_t)f->len);
		}
		for (e = plan->dops + sg->dstart[CP_NDKINDS]; f < e; f++) {
			uint8_t *d = wp[f->col];
			for (uint32_t r = 0; r < n; r++) {
				uint32_t x;
				memcpy(&x, b[r] + f->off, 4);
				x = __builtin_bswap32(x);
				uint32_t ago = m ? m->uptime_ms - x : 0;
				uint64_t base = m ? m->export_ms : 0;
				spf_put64(d + 8 * r, base >= ago ? base - ago : 0);
			}
			wp[f->col] = d + 8 * n;
		}
		if (sg->has_var && sg->vcol >= 0) { /* the value ends where the next segment starts */
			uint8_t *d = wp[sg->vcol], *t = sp[sg->vcol];
			const uint8_t *const *nx = segp[s + 1];
			for (uint32_t r = 0; r < n; r++) {
				uint32_t l = vl[s][r];
				spf_put32(d + 4 * r, l);
				copy_str(t, nx[r] - l, l);
				t += l;
				sb += 4 + (size_t)l;
			}
			wp[sg->vcol] = d + 4 * n;
			sp[sg->vcol] = t;
		}
	}
	*p = q;
	*nrec = n;
	*str_bytes = sb;
	return bad ? -1 : 0;
}

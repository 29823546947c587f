/* encoder.c: CSV bodies for ClickHouse inserts, compressed as they grow (see
 * encoder.h). The hot path of the loader: no printf per field; numbers go
 * through a two-digits-at-a-time table, each row is written into a staging
 * buffer that is handed to the compressor every 256 KiB.
 */
#include "loader/encoder.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#define STAGE_SIZE (256u * 1024u)
#define FIELD_ROOM 64u  /* every non-string field fits */

struct encoder {
	const struct qs_stream_def *def;
	int cols[QS_MAX_COLS];
	size_t ncols;
	char *colnames;
	enum loader_compress comp;
	int level;
	ZSTD_CCtx *zc;
	z_stream gz;
	int gz_ready;
	char *stage;
	size_t slen;
	char *out;       /* the body (compressed or not) */
	size_t olen, ocap;
	uint64_t rows, raw;
	int finished;
};

static const char digits2[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

char *encoder_put_u64(char *p, uint64_t v)
{
	char tmp[24];
	char *t = tmp + sizeof tmp;
	while (v >= 100) {
		unsigned i = (unsigned)(v % 100) * 2;
		v /= 100;
		*--t = digits2[i + 1];
		*--t = digits2[i];
	}
	if (v >= 10) {
		*--t = digits2[v * 2 + 1];
		*--t = digits2[v * 2];
	} else
		*--t = (char)('0' + v);
	size_t n = (size_t)(tmp + sizeof tmp - t);
	memcpy(p, t, n);
	return p + n;
}

static char *put_small(char *p, unsigned v) /* 0..255 */
{
	if (v >= 100) {
		*p++ = (char)('0' + v / 100);
		v %= 100;
		*p++ = digits2[v * 2];
		*p++ = digits2[v * 2 + 1];
	} else if (v >= 10) {
		*p++ = digits2[v * 2];
		*p++ = digits2[v * 2 + 1];
	} else
		*p++ = (char)('0' + v);
	return p;
}

char *encoder_put_ipv4(char *p, uint32_t a)
{
	p = put_small(p, a >> 24);
	*p++ = '.';
	p = put_small(p, (a >> 16) & 0xff);
	*p++ = '.';
	p = put_small(p, (a >> 8) & 0xff);
	*p++ = '.';
	return put_small(p, a & 0xff);
}

char *encoder_put_ipv6(char *p, const uint8_t a[16])
{
	static const char hex[] = "0123456789abcdef";
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	/* The common cases, short: :: (IPv4 records) and ::ffff:a.b.c.d (v4-mapped). */
	if (memcmp(a, mapped, 10) == 0) {
		if (memcmp(a + 10, mapped + 10, 2) == 0) {
			memcpy(p, "::ffff:", 7);
			return encoder_put_ipv4(p + 7, (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 |
							       (uint32_t)a[14] << 8 | a[15]);
		}
		uint64_t lo;
		memcpy(&lo, a + 8, 8);
		if (!lo) {
			memcpy(p, "::", 2);
			return p + 2;
		}
	}
	for (int g = 0; g < 8; g++) {
		unsigned v = (unsigned)a[2 * g] << 8 | a[2 * g + 1];
		if (g)
			*p++ = ':';
		int started = 0;
		for (int s = 12; s >= 0; s -= 4) {
			unsigned d = (v >> s) & 0xf;
			if (d || started || s == 0) {
				*p++ = hex[d];
				started = 1;
			}
		}
	}
	return p;
}

/* "YYYY-MM-DD hh:mm:ss" of epoch seconds t (UTC; days_from_civil inverted,
 * H. Hinnant's algorithm). */
static char *put_datetime(char *p, uint64_t t)
{
	int64_t days = (int64_t)(t / 86400);
	unsigned sod = (unsigned)(t % 86400);
	days += 719468;
	int64_t era = days / 146097;
	unsigned doe = (unsigned)(days - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	unsigned yy = (unsigned)y;
	*p++ = (char)('0' + yy / 1000 % 10);
	*p++ = (char)('0' + yy / 100 % 10);
	memcpy(p, digits2 + (yy % 100) * 2, 2), p += 2;
	*p++ = '-';
	memcpy(p, digits2 + m * 2, 2), p += 2;
	*p++ = '-';
	memcpy(p, digits2 + d * 2, 2), p += 2;
	*p++ = ' ';
	memcpy(p, digits2 + (sod / 3600) * 2, 2), p += 2;
	*p++ = ':';
	memcpy(p, digits2 + (sod / 60 % 60) * 2, 2), p += 2;
	*p++ = ':';
	memcpy(p, digits2 + (sod % 60) * 2, 2), p += 2;
	return p;
}

/* Epoch seconds as ClickHouse reads them in CSV: plain numbers are only
 * unambiguous from 10 digits on (a short number reads as a date), so
 * earlier instants are written as date-time text. */
#define NUMERIC_FROM 1000000000u

char *encoder_put_time_s(char *p, uint64_t t)
{
	return t >= NUMERIC_FROM ? encoder_put_u64(p, t) : put_datetime(p, t);
}

char *encoder_put_time_ms(char *p, uint64_t ms)
{
	uint64_t s = ms / 1000;
	unsigned f = (unsigned)(ms % 1000);
	p = s >= NUMERIC_FROM ? encoder_put_u64(p, s) : put_datetime(p, s);
	*p++ = '.';
	*p++ = (char)('0' + f / 100);
	*p++ = digits2[(f % 100) * 2];
	*p++ = digits2[(f % 100) * 2 + 1];
	return p;
}

/* ---- body ------------------------------------------------------------------ */

static int out_reserve(struct encoder *e, size_t add)
{
	if (e->olen + add <= e->ocap)
		return 0;
	size_t cap = e->ocap ? e->ocap : 1u << 20;
	while (cap < e->olen + add)
		cap *= 2;
	char *o = realloc(e->out, cap);
	if (!o)
		return -1;
	e->out = o;
	e->ocap = cap;
	return 0;
}

/* Hand the staging buffer to the compressor (or the body). */
static int drain(struct encoder *e, int end)
{
	if (e->comp == LC_NONE) {
		if (out_reserve(e, e->slen))
			return -1;
		memcpy(e->out + e->olen, e->stage, e->slen);
		e->olen += e->slen;
		e->slen = 0;
		return 0;
	}
	if (e->comp == LC_ZSTD) {
		ZSTD_inBuffer in = { e->stage, e->slen, 0 };
		for (;;) {
			if (out_reserve(e, ZSTD_CStreamOutSize()))
				return -1;
			ZSTD_outBuffer ob = { e->out + e->olen, e->ocap - e->olen, 0 };
			size_t r = ZSTD_compressStream2(e->zc, &ob, &in, end ? ZSTD_e_end : ZSTD_e_continue);
			if (ZSTD_isError(r))
				return -1;
			e->olen += ob.pos;
			if (end ? r == 0 : in.pos == in.size)
				break;
		}
		e->slen = 0;
		return 0;
	}
	e->gz.next_in = (Bytef *)e->stage;
	e->gz.avail_in = (uInt)e->slen;
	for (;;) {
		if (out_reserve(e, 64u * 1024u))
			return -1;
		e->gz.next_out = (Bytef *)e->out + e->olen;
		e->gz.avail_out = (uInt)(e->ocap - e->olen);
		int r = deflate(&e->gz, end ? Z_FINISH : Z_NO_FLUSH);
		if (r == Z_STREAM_ERROR)
			return -1;
		e->olen = (size_t)((char *)e->gz.next_out - e->out);
		if (end ? r == Z_STREAM_END : e->gz.avail_in == 0)
			break;
	}
	e->slen = 0;
	return 0;
}

struct encoder *encoder_open(const struct qs_stream_def *def, enum loader_compress c, int level)
{
	struct encoder *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	e->def = def;
	e->comp = c;
	e->level = level > 0 ? level : 1;
	size_t namelen = 1;
	for (size_t i = 0; i < def->ncols; i++)
		if (qs_column_stored(&def->cols[i])) {
			e->cols[e->ncols++] = (int)i;
			namelen += strlen(def->cols[i].name) + 1;
		}
	e->colnames = calloc(1, namelen);
	e->stage = malloc(STAGE_SIZE);
	if (!e->colnames || !e->stage)
		goto fail;
	for (size_t i = 0; i < e->ncols; i++) {
		if (i)
			strcat(e->colnames, ",");
		strcat(e->colnames, def->cols[e->cols[i]].name);
	}
	if (c == LC_ZSTD) {
		if (!(e->zc = ZSTD_createCCtx()))
			goto fail;
		ZSTD_CCtx_setParameter(e->zc, ZSTD_c_compressionLevel, e->level);
	}
	encoder_reset(e);
	if (c == LC_GZIP && !e->gz_ready)
		goto fail;
	return e;
fail:
	encoder_close(e);
	return NULL;
}

void encoder_close(struct encoder *e)
{
	if (!e)
		return;
	if (e->zc)
		ZSTD_freeCCtx(e->zc);
	if (e->gz_ready)
		deflateEnd(&e->gz);
	free(e->colnames);
	free(e->stage);
	free(e->out);
	free(e);
}

const char *encoder_format(const struct encoder *e)
{
	(void)e;
	return "CSV";
}

const char *encoder_columns(const struct encoder *e)
{
	return e->colnames;
}

uint64_t encoder_rows(const struct encoder *e)
{
	return e->rows;
}

uint64_t encoder_raw_bytes(const struct encoder *e)
{
	return e->raw + e->slen;
}

void encoder_reset(struct encoder *e)
{
	e->olen = 0;
	e->slen = 0;
	e->rows = 0;
	e->raw = 0;
	e->finished = 0;
	if (e->zc)
		ZSTD_CCtx_reset(e->zc, ZSTD_reset_session_only);
	if (e->comp == LC_GZIP) {
		if (e->gz_ready)
			deflateEnd(&e->gz);
		memset(&e->gz, 0, sizeof e->gz);
		/* 16 + 15: gzip wrapper, 32 KiB window. */
		e->gz_ready = deflateInit2(&e->gz, e->level, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY) == Z_OK;
	}
	/* A shrink after a huge body keeps memory bounded between files. */
	if (e->ocap > (64u << 20)) {
		free(e->out);
		e->out = NULL;
		e->ocap = 0;
	}
}

/* Room for n more staging bytes; drains first when needed. */
static inline int room(struct encoder *e, size_t n)
{
	if (e->slen + n <= STAGE_SIZE)
		return 0;
	e->raw += e->slen;
	return drain(e, 0);
}

/* A quoted CSV string; long ones pass through the staging buffer in pieces. */
static int put_str(struct encoder *e, const uint8_t *s, size_t n)
{
	if (room(e, 1))
		return -1;
	e->stage[e->slen++] = '"';
	while (n) {
		size_t chunk = n < STAGE_SIZE / 4 ? n : STAGE_SIZE / 4;
		if (room(e, 2 * chunk + 2))
			return -1;
		char *p = e->stage + e->slen;
		const uint8_t *q = memchr(s, '"', chunk);
		if (!q) {
			memcpy(p, s, chunk);
			p += chunk;
		} else {
			for (size_t i = 0; i < chunk; i++) {
				if (s[i] == '"')
					*p++ = '"';
				*p++ = (char)s[i];
			}
		}
		e->slen = (size_t)(p - e->stage);
		s += chunk;
		n -= chunk;
	}
	if (room(e, 1))
		return -1;
	e->stage[e->slen++] = '"';
	return 0;
}

static const uint8_t zero16[16];

int encoder_add(struct encoder *e, const struct qs_record *r)
{
	const struct qs_column *cols = e->def->cols;
	for (size_t k = 0; k < e->ncols; k++) {
		int c = e->cols[k];
		const struct qs_column *col = &cols[c];
		int has = qs_record_has(r, c);
		const struct qs_value *v = &r->v[c];
		if (col->type == QS_STR || col->type == QS_MAC) {
			if (!has && (col->flags & QS_F_NULLABLE)) {
				if (room(e, 3))
					return -1;
				memcpy(e->stage + e->slen, "\\N", 2);
				e->slen += 2;
			} else if (put_str(e, has ? v->p : NULL, has ? v->len : 0))
				return -1;
			if (room(e, 1))
				return -1;
			e->stage[e->slen++] = k + 1 < e->ncols ? ',' : '\n';
			continue;
		}
		if (room(e, FIELD_ROOM))
			return -1;
		char *p = e->stage + e->slen;
		if (!has && (col->flags & QS_F_NULLABLE)) {
			*p++ = '\\';
			*p++ = 'N';
		} else {
			switch (col->type) {
			case QS_IPV4:
				p = encoder_put_ipv4(p, has ? (uint32_t)v->u : 0);
				break;
			case QS_IPV6:
				p = encoder_put_ipv6(p, has && v->p && v->len >= 16 ? v->p : zero16);
				break;
			case QS_TIME_MS:
				p = encoder_put_time_ms(p, has ? v->u : 0);
				break;
			case QS_TIME_S:
				p = encoder_put_time_s(p, has ? v->u : 0);
				break;
			default:
				p = encoder_put_u64(p, has ? v->u : 0);
				break;
			}
		}
		*p++ = k + 1 < e->ncols ? ',' : '\n';
		e->slen = (size_t)(p - e->stage);
	}
	e->rows++;
	return 0;
}

int encoder_finish(struct encoder *e, const void **body, size_t *len, enum ch_encoding *enc)
{
	if (!e->finished) {
		e->raw += e->slen;
		if (drain(e, 1))
			return -1;
		e->finished = 1;
	}
	*body = e->out;
	*len = e->olen;
	*enc = e->comp == LC_ZSTD ? CH_ENC_ZSTD : e->comp == LC_GZIP ? CH_ENC_GZIP : CH_ENC_NONE;
	return 0;
}

/* encoder.c: RowBinary, Native or CSV bodies for ClickHouse inserts,
 * compressed as they grow (see encoder.h). The hot path of the loader: no
 * printf per field. RowBinary and Native write each column with a wire plan
 * made once from its ClickHouse type (width, Nullable byte, time scale);
 * Native appends each value to its column's buffer (fixed-width columns are
 * sized for a whole block up front, so no checks per value); CSV numbers go through a
 * two-digits-at-a-time table. Each row is written into a staging buffer that
 * is handed to the compressor every 256 KiB.
 */
#include "loader/encoder.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "spool/spool_io.h"

#define STAGE_SIZE (256u * 1024u)
#define FIELD_ROOM 64u  /* every non-string field fits */

/* Native: a block is cut at NATIVE_FIXED bytes of fixed-width values
 * (block_rows, from the row width) or NATIVE_VAR bytes of strings. */
#define NATIVE_FIXED (4u << 20)
#define NATIVE_VAR (2u << 20)
#define NATIVE_MAX_ROWS 65536u

/* One column of a Native block. */
struct colbuf {
	uint8_t *p;
	size_t len, cap;
};

/* RowBinary and Native wire type of one column. */
enum wire { W_INT, W_STR, W_FIXED, W_IPV6 };

struct plan {
	uint8_t wire;      /* enum wire */
	uint8_t width;     /* W_INT: 1, 2, 4, 8 */
	uint8_t nullable;  /* the ClickHouse type is Nullable(...): a 0/1 byte first */
	uint8_t null_abs;  /* absent is NULL (QS_F_NULLABLE and nullable) */
	uint32_t fixed;    /* W_FIXED: N of FixedString(N) */
	int32_t scale;     /* time: 0 as is, >0 multiply, <0 divide by 10^-scale */
	uint32_t reserve;  /* RowBinary: staging bytes the columns from here to the
	                    * next string need (set at the first column and after
	                    * each string), 0 elsewhere */
};

struct encoder {
	const struct qs_stream_def *def;
	enum loader_format fmt;
	struct plan plan[QS_MAX_COLS];
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
	uint64_t strbytes; /* string and MAC bytes added, whatever the format */
	int finished;
	/* spill: the body beyond spill_at bytes goes to an unlinked file in spill_dir */
	char *spill_dir;
	size_t spill_at;
	int spill_fd;      /* -1 until the first spill */
	uint64_t spilled;  /* body bytes in the file */
	int checked;       /* RowBinary: a row's fixed part may not fit reserve: check every column */
	/* Native: the current block, column by column (allocated at the first row) */
	struct colbuf *data, *nulls;   /* [ncols] */
	char *typenames[QS_MAX_COLS];  /* the type each column is sent as */
	uint32_t brows, block_rows;    /* rows in the block; cut at block_rows */
	size_t bvar;                   /* string bytes in the block */
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

/* Move the body held in memory to the spill file (opened at the first use). */
static int spill(struct encoder *e)
{
	if (e->spill_fd < 0 && (e->spill_fd = sio_tmpfile(e->spill_dir, ".qoestor-loader-body.")) < 0)
		return -1;
	for (size_t done = 0; done < e->olen;) {
		ssize_t w = pwrite(e->spill_fd, e->out + done, e->olen - done, (off_t)(e->spilled + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		done += (size_t)w;
	}
	e->spilled += e->olen;
	e->olen = 0;
	return 0;
}

static int out_reserve(struct encoder *e, size_t add)
{
	if (e->spill_at && e->olen && e->olen + add > e->spill_at && spill(e))
		return -1;
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

/* Hand n bytes at src to the compressor (or the body); end closes the frame. */
static int feed(struct encoder *e, const char *src, size_t n, int end)
{
	if (e->comp == LC_NONE) {
		if (out_reserve(e, n))
			return -1;
		memcpy(e->out + e->olen, src, n);
		e->olen += n;
		return 0;
	}
	if (e->comp == LC_ZSTD) {
		ZSTD_inBuffer in = { src, n, 0 };
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
		return 0;
	}
	e->gz.next_in = (Bytef *)src;
	e->gz.avail_in = (uInt)n;
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
	return 0;
}

/* Hand the staging buffer to the compressor (or the body). */
static int drain(struct encoder *e, int end)
{
	if (feed(e, e->stage, e->slen, end))
		return -1;
	e->slen = 0;
	return 0;
}

/* ---- RowBinary wire plans ------------------------------------------------------ */

static int starts(const char **t, const char *w)
{
	size_t n = strlen(w);
	if (strncmp(*t, w, n) != 0)
		return 0;
	*t += n;
	return 1;
}

/* The wire plan of col from its ClickHouse type; -1 with a message if none. */
static int plan_col(const struct qs_column *col, struct plan *p, char *err, size_t errlen)
{
	memset(p, 0, sizeof *p);
	const char *t = col->chtype ? col->chtype : "";
	/* SimpleAggregateFunction(f, T) and LowCardinality(T) are written as T. */
	if (starts(&t, "SimpleAggregateFunction(")) {
		const char *comma = strchr(t, ',');
		if (!comma)
			goto bad;
		for (t = comma + 1; *t == ' '; t++)
			;
	}
	(void)starts(&t, "LowCardinality(");
	p->nullable = (uint8_t)starts(&t, "Nullable(");
	(void)starts(&t, "LowCardinality(");
	p->null_abs = p->nullable && (col->flags & QS_F_NULLABLE);
	int is_time = col->type == QS_TIME_MS || col->type == QS_TIME_S;
	int from_digits = col->type == QS_TIME_MS ? 3 : 0;
	p->wire = W_INT;
	if (starts(&t, "UInt8") || starts(&t, "Int8") || starts(&t, "Bool"))
		p->width = 1;
	else if (starts(&t, "UInt16") || starts(&t, "Int16"))
		p->width = 2;
	else if (starts(&t, "UInt32") || starts(&t, "Int32") || starts(&t, "IPv4"))
		p->width = 4;
	else if (starts(&t, "UInt64") || starts(&t, "Int64"))
		p->width = 8;
	else if (starts(&t, "DateTime64(")) {
		if (*t < '0' || *t > '9' || !is_time)
			goto bad;
		p->width = 8;
		p->scale = (*t - '0') - from_digits;
	} else if (starts(&t, "DateTime")) {
		if (!is_time)
			goto bad;
		p->width = 4;
		p->scale = -from_digits;
	} else if (starts(&t, "IPv6"))
		p->wire = W_IPV6;
	else if (starts(&t, "FixedString(")) {
		p->wire = W_FIXED;
		p->fixed = (uint32_t)strtoul(t, NULL, 10);
		if (!p->fixed || p->fixed > 4096)
			goto bad;
	} else if (starts(&t, "String"))
		p->wire = W_STR;
	else
		goto bad; /* Date, Float, Decimal...: no column of the schema is inserted so */
	int bytes = col->type == QS_STR || col->type == QS_MAC || col->type == QS_IPV6;
	if ((p->wire == W_INT) == bytes && p->wire != W_FIXED)
		goto bad;
	if (p->wire == W_IPV6 && col->type != QS_IPV6)
		goto bad;
	if (p->wire == W_FIXED && !bytes)
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "column %s: no binary (RowBinary, Native) encoding for %s holding %s", col->name,
		 col->chtype ? col->chtype : "(no type)", qs_type_name(col->type));
	return -1;
}

/* RowBinary: what each run of fixed-width columns (up to the next string)
 * writes at most, reserved once per run. */
static void plan_reserves(struct encoder *e)
{
	size_t start = 0, need = 0;
	for (size_t k = 0; k <= e->ncols; k++) {
		const struct plan *pl = k < e->ncols ? &e->plan[k] : NULL;
		if (!pl || pl->wire == W_STR) {
			if (start < e->ncols)
				e->plan[start].reserve = (uint32_t)(need + 10 + 8); /* + the string's length, put_le's 8 */
			if (need + 18 > STAGE_SIZE / 4)
				e->checked = 1;
			start = k + 1;
			need = 0;
			continue;
		}
		need += pl->nullable + (pl->wire == W_INT ? pl->width : pl->wire == W_IPV6 ? 16 : pl->fixed);
	}
}

/* The type a Native block names column col with: its ClickHouse type
 * without CODEC or DEFAULT clauses (the first space outside parentheses and
 * quotes ends it). LowCardinality has its own Native serialization: such a
 * column is sent as the plain type inside (and ClickHouse converts it), as
 * plan_col writes it. NULL when out of memory. */
static char *native_type(const struct qs_column *col)
{
	const char *t = col->chtype ? col->chtype : "";
	size_t n = 0;
	int depth = 0, quote = 0;
	for (; t[n]; n++) {
		char ch = t[n];
		if (quote) {
			if (ch == '\\' && t[n + 1])
				n++;
			else if (ch == '\'')
				quote = 0;
		} else if (ch == '\'')
			quote = 1;
		else if (ch == '(')
			depth++;
		else if (ch == ')')
			depth--;
		else if (ch == ' ' && depth == 0)
			break;
	}
	char *r = strndup(t, n);
	if (!r || !strstr(r, "LowCardinality("))
		return r;
	/* Unwrap: SimpleAggregateFunction(f, X) -> X, then drop LowCardinality( ... ). */
	const char *x = r;
	if (starts(&x, "SimpleAggregateFunction(")) {
		x = strchr(x, ',');
		for (x = x ? x + 1 : r; *x == ' '; x++)
			;
	}
	char *o = malloc(strlen(x) + 1), *w = o;
	if (!o) {
		free(r);
		return NULL;
	}
	/* Copy x, skipping each "LowCardinality(" and its closing parenthesis. */
	int skip[32], top = 0;
	depth = 0;
	for (const char *c = x; *c;) {
		if (!strncmp(c, "LowCardinality(", 15) && top < 32) {
			skip[top++] = ++depth;
			c += 15;
			continue;
		}
		if (*c == '(')
			depth++;
		if (*c == ')') {
			if (top && skip[top - 1] == depth) {
				top--;
				depth--;
				c++;
				continue;
			}
			depth--;
		}
		*w++ = *c++;
	}
	*w = 0;
	/* x came from inside SimpleAggregateFunction(...): drop its closing parenthesis. */
	if (x != r && w > o && w[-1] == ')')
		w[-1] = 0;
	free(r);
	return o;
}

int encoder_supports(const struct qs_stream_def *def, enum loader_format fmt, char *err, size_t errlen)
{
	if (fmt == LF_CSV)
		return 0;
	struct plan p;
	for (size_t i = 0; i < def->ncols; i++)
		if (qs_column_stored(&def->cols[i]) && plan_col(&def->cols[i], &p, err, errlen))
			return -1;
	return 0;
}

struct encoder *encoder_open(const struct qs_stream_def *def, enum loader_format fmt, enum loader_compress c,
	int level)
{
	struct encoder *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	e->def = def;
	e->fmt = fmt;
	e->comp = c;
	e->spill_fd = -1;
	e->level = level > 0 ? level : 1;
	size_t namelen = 1;
	for (size_t i = 0; i < def->ncols; i++)
		if (qs_column_stored(&def->cols[i])) {
			char err[256];
			if (fmt != LF_CSV && plan_col(&def->cols[i], &e->plan[e->ncols], err, sizeof err))
				goto fail;
			if (fmt == LF_NATIVE && !(e->typenames[e->ncols] = native_type(&def->cols[i])))
				goto fail;
			e->cols[e->ncols++] = (int)i;
			namelen += strlen(def->cols[i].name) + 1;
		}
	if (fmt == LF_ROWBINARY)
		plan_reserves(e);
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
	if (e->spill_fd >= 0)
		close(e->spill_fd);
	free(e->spill_dir);
	free(e->colnames);
	free(e->stage);
	free(e->out);
	for (size_t k = 0; k < e->ncols; k++) {
		free(e->typenames[k]);
		if (e->data)
			free(e->data[k].p);
		if (e->nulls)
			free(e->nulls[k].p);
	}
	free(e->data);
	free(e->nulls);
	free(e);
}

const char *encoder_format(const struct encoder *e)
{
	return e->fmt == LF_ROWBINARY ? "RowBinary" : e->fmt == LF_NATIVE ? "Native" : "CSV";
}

const char *encoder_columns(const struct encoder *e)
{
	return e->colnames;
}

uint64_t encoder_rows(const struct encoder *e)
{
	return e->rows;
}

uint64_t encoder_str_bytes(const struct encoder *e)
{
	return e->strbytes;
}

uint64_t encoder_raw_bytes(const struct encoder *e)
{
	uint64_t n = e->raw + e->slen;
	for (size_t k = 0; e->data && k < e->ncols; k++)
		n += e->data[k].len + e->nulls[k].len;
	return n;
}

int encoder_set_spill(struct encoder *e, const char *dir, size_t at)
{
	char *d = dir ? strdup(dir) : NULL;
	if (dir && !d)
		return -1;
	free(e->spill_dir);
	e->spill_dir = d;
	e->spill_at = d ? at : 0;
	return 0;
}

int encoder_body_fd(const struct encoder *e, uint64_t *len)
{
	if (!e->finished || !e->spilled)
		return -1;
	*len = e->spilled;
	return e->spill_fd;
}

void encoder_reset(struct encoder *e)
{
	if (e->spilled && ftruncate(e->spill_fd, 0) != 0) {
		close(e->spill_fd); /* a new file next time */
		e->spill_fd = -1;
	}
	e->spilled = 0;
	e->olen = 0;
	e->slen = 0;
	e->rows = 0;
	e->raw = 0;
	e->strbytes = 0;
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
	e->brows = 0;
	e->bvar = 0;
	for (size_t k = 0; e->data && k < e->ncols; k++) {
		e->data[k].len = 0;
		e->nulls[k].len = 0;
		/* string columns grown by a long value (fixed-width ones keep their block size) */
		if (e->plan[k].wire == W_STR && e->data[k].cap > 2 * (size_t)NATIVE_VAR) {
			free(e->data[k].p);
			e->data[k] = (struct colbuf){ 0 };
		}
	}
	/* A shrink after a huge body keeps memory bounded between files. */
	if (e->ocap > (32u << 20)) {
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

/* ---- RowBinary ------------------------------------------------------------------ */

static const uint64_t pow10[10] = { 1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
				    1000000000 };

static inline char *put_le(char *p, uint64_t v, unsigned width)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(p, &v, 8); /* FIELD_ROOM leaves space; only width bytes count */
#else
	for (unsigned i = 0; i < 8; i++)
		p[i] = (char)(v >> (8 * i));
#endif
	return p + width;
}

/* LEB128 (ClickHouse's VarUInt) of n at p (at most 10 bytes); returns the end. */
static inline char *put_leb128(char *p, uint64_t n)
{
	do {
		uint8_t b = n & 0x7f;
		n >>= 7;
		*p++ = (char)(n ? b | 0x80 : b);
	} while (n);
	return p;
}

/* An integer (scaled to the column's unit) or an IPv6 address, the fixed-width
 * RowBinary values both row paths share; returns the end. */
static inline char *put_number(const struct plan *pl, int has, const struct qs_value *v, char *p)
{
	if (pl->wire == W_IPV6) {
		memcpy(p, has && v->p && v->len >= 16 ? v->p : zero16, 16);
		return p + 16;
	}
	uint64_t x = has ? v->u : 0;
	if (pl->scale > 0)
		x *= pow10[pl->scale];
	else if (pl->scale < 0)
		x /= pow10[-pl->scale];
	return put_le(p, x, pl->width);
}

/* A FixedString(N) value: what fits of the bytes, zero padded to N; counted in
 * strbytes like a string. Room for N bytes at p is the caller's; returns the end. */
static inline char *put_fixed(struct encoder *e, const struct plan *pl, int has, const struct qs_value *v, char *p)
{
	size_t n = has && v->p ? (v->len < pl->fixed ? v->len : pl->fixed) : 0;
	e->strbytes += has ? v->len : 0;
	if (n)
		memcpy(p, v->p, n);
	memset(p + n, 0, pl->fixed - n);
	return p + pl->fixed;
}

/* LEB128 length and the bytes; long strings pass through the staging buffer in pieces. */
static int put_bin_str(struct encoder *e, const uint8_t *s, size_t n)
{
	if (room(e, 10))
		return -1;
	e->slen = (size_t)(put_leb128(e->stage + e->slen, n) - e->stage);
	while (n) {
		size_t chunk = n < STAGE_SIZE / 2 ? n : STAGE_SIZE / 2;
		if (room(e, chunk))
			return -1;
		memcpy(e->stage + e->slen, s, chunk);
		e->slen += chunk;
		s += chunk;
		n -= chunk;
	}
	return 0;
}

/* One row, a staging check per run of fixed-width columns (plan.reserve). */
static int add_rowbinary_fast(struct encoder *e, const struct qs_record *r)
{
	char *p = e->stage + e->slen;
	for (size_t k = 0; k < e->ncols; k++) {
		int c = e->cols[k];
		const struct plan *pl = &e->plan[k];
		if (pl->reserve) {
			e->slen = (size_t)(p - e->stage);
			if (room(e, pl->reserve))
				return -1;
			p = e->stage + e->slen;
		}
		int has = qs_record_has(r, c);
		const struct qs_value *v = &r->v[c];
		if (pl->nullable) {
			int null = !has && pl->null_abs;
			*p++ = (char)null;
			if (null) {
				if (pl->wire == W_STR)
					e->slen = (size_t)(p - e->stage);
				continue;
			}
		}
		switch (pl->wire) {
		case W_INT:
		case W_IPV6:
			p = put_number(pl, has, v, p);
			break;
		case W_FIXED:
			p = put_fixed(e, pl, has, v, p);
			break;
		default: { /* W_STR: the length (room reserved), then the bytes */
			size_t n = has ? v->len : 0;
			e->strbytes += n;
			if (n <= STAGE_SIZE - (size_t)(p - e->stage) - 10) {
				p = put_leb128(p, n);
				if (n)
					memcpy(p, v->p, n);
				p += n;
				e->slen = (size_t)(p - e->stage);
			} else {
				e->slen = (size_t)(p - e->stage);
				if (put_bin_str(e, v->p, n))
					return -1;
				p = e->stage + e->slen;
			}
			break;
		}
		}
	}
	e->slen = (size_t)(p - e->stage);
	e->rows++;
	return 0;
}

static int add_rowbinary(struct encoder *e, const struct qs_record *r)
{
	if (!e->checked)
		return add_rowbinary_fast(e, r);
	for (size_t k = 0; k < e->ncols; k++) {
		int c = e->cols[k];
		const struct plan *pl = &e->plan[k];
		int has = qs_record_has(r, c);
		const struct qs_value *v = &r->v[c];
		if (room(e, FIELD_ROOM))
			return -1;
		char *p = e->stage + e->slen;
		if (pl->nullable) {
			*p++ = (char)(!has && pl->null_abs);
			if (!has && pl->null_abs) {
				e->slen = (size_t)(p - e->stage);
				continue;
			}
		}
		switch (pl->wire) {
		case W_INT:
		case W_IPV6:
			p = put_number(pl, has, v, p);
			break;
		case W_FIXED: {
			e->slen = (size_t)(p - e->stage);
			if (room(e, pl->fixed))
				return -1;
			p = put_fixed(e, pl, has, v, e->stage + e->slen);
			break;
		}
		default: /* W_STR */
			e->slen = (size_t)(p - e->stage);
			e->strbytes += has ? v->len : 0;
			if (put_bin_str(e, has ? v->p : NULL, has ? v->len : 0))
				return -1;
			continue;
		}
		e->slen = (size_t)(p - e->stage);
	}
	e->rows++;
	return 0;
}

/* ---- Native ---------------------------------------------------------------------- */

static int cb_reserve(struct colbuf *b, size_t add)
{
	if (b->len + add <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64u * 1024u;
	while (cap < b->len + add)
		cap *= 2;
	uint8_t *p = realloc(b->p, cap);
	if (!p)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

static size_t put_varuint(uint8_t *p, uint64_t x)
{
	size_t n = 0;
	do {
		uint8_t b = x & 0x7f;
		x >>= 7;
		p[n++] = x ? b | 0x80 : b;
	} while (x);
	return n;
}

/* Bytes of one row of column plan pl in a block, strings not counted. */
static size_t fixed_width(const struct plan *pl)
{
	size_t w = pl->wire == W_INT ? pl->width : pl->wire == W_IPV6 ? 16 : pl->wire == W_FIXED ? pl->fixed : 0;
	return w + pl->nullable;
}

/* The first row of a body allocates the block: fixed-width columns get room
 * for block_rows rows (+8: put_le writes 8 bytes), so rows are added without
 * checks; string columns grow. */
static int native_alloc(struct encoder *e)
{
	size_t row = 1;
	for (size_t k = 0; k < e->ncols; k++)
		row += fixed_width(&e->plan[k]);
	size_t br = NATIVE_FIXED / row;
	e->block_rows = (uint32_t)(br < 256 ? 256 : br > NATIVE_MAX_ROWS ? NATIVE_MAX_ROWS : br);
	e->data = calloc(e->ncols, sizeof *e->data);
	e->nulls = calloc(e->ncols, sizeof *e->nulls);
	if (!e->data || !e->nulls)
		return -1;
	for (size_t k = 0; k < e->ncols; k++) {
		const struct plan *pl = &e->plan[k];
		if (pl->nullable && cb_reserve(&e->nulls[k], e->block_rows))
			return -1;
		size_t w = fixed_width(pl) - pl->nullable;
		if (w && cb_reserve(&e->data[k], (size_t)e->block_rows * w + 8))
			return -1;
	}
	return 0;
}

/* n bytes at p into the body: through the staging buffer when small,
 * straight to the compressor when large. */
static int emit(struct encoder *e, const void *p, size_t n)
{
	if (n <= STAGE_SIZE - e->slen) {
		memcpy(e->stage + e->slen, p, n);
		e->slen += n;
		return 0;
	}
	e->raw += e->slen;
	if (drain(e, 0))
		return -1;
	if (n <= STAGE_SIZE) {
		memcpy(e->stage, p, n);
		e->slen = n;
		return 0;
	}
	e->raw += n;
	return feed(e, p, n, 0);
}

static int emit_str(struct encoder *e, const char *s)
{
	uint8_t v[10];
	size_t n = strlen(s);
	return emit(e, v, put_varuint(v, n)) || emit(e, s, n) ? -1 : 0;
}

/* Write the block: number of columns, number of rows, then per column its
 * name, its type and its data (the null map first for Nullable). */
static int native_block(struct encoder *e)
{
	if (!e->brows)
		return 0;
	uint8_t v[20];
	size_t n = put_varuint(v, e->ncols);
	n += put_varuint(v + n, e->brows);
	if (emit(e, v, n))
		return -1;
	for (size_t k = 0; k < e->ncols; k++) {
		if (emit_str(e, e->def->cols[e->cols[k]].name) || emit_str(e, e->typenames[k]))
			return -1;
		if (e->plan[k].nullable && emit(e, e->nulls[k].p, e->nulls[k].len))
			return -1;
		if (emit(e, e->data[k].p, e->data[k].len))
			return -1;
		e->data[k].len = 0;
		e->nulls[k].len = 0;
	}
	e->brows = 0;
	e->bvar = 0;
	return 0;
}

static int add_native(struct encoder *e, const struct qs_record *r)
{
	if (!e->data && native_alloc(e))
		return -1;
	for (size_t k = 0; k < e->ncols; k++) {
		int c = e->cols[k];
		const struct plan *pl = &e->plan[k];
		int has = qs_record_has(r, c);
		const struct qs_value *v = &r->v[c];
		struct colbuf *d = &e->data[k];
		if (pl->nullable) {
			int null = !has && pl->null_abs;
			e->nulls[k].p[e->nulls[k].len++] = (uint8_t)null;
			if (null)
				has = 0; /* the nested column holds the default */
		}
		switch (pl->wire) {
		case W_INT: {
			uint64_t x = has ? v->u : 0;
			if (pl->scale > 0)
				x *= pow10[pl->scale];
			else if (pl->scale < 0)
				x /= pow10[-pl->scale];
			put_le((char *)d->p + d->len, x, pl->width);
			d->len += pl->width;
			break;
		}
		case W_IPV6:
			memcpy(d->p + d->len, has && v->p && v->len >= 16 ? v->p : zero16, 16);
			d->len += 16;
			break;
		case W_FIXED: {
			size_t n = has && v->p ? (v->len < pl->fixed ? v->len : pl->fixed) : 0;
			e->strbytes += has ? v->len : 0;
			if (n)
				memcpy(d->p + d->len, v->p, n);
			memset(d->p + d->len + n, 0, pl->fixed - n);
			d->len += pl->fixed;
			break;
		}
		default: { /* W_STR */
			size_t n = has ? v->len : 0;
			e->strbytes += n;
			if (cb_reserve(d, n + 10))
				return -1;
			d->len += put_varuint(d->p + d->len, n);
			if (n)
				memcpy(d->p + d->len, v->p, n);
			d->len += n;
			e->bvar += n;
			break;
		}
		}
	}
	e->rows++;
	if (++e->brows == e->block_rows || e->bvar >= NATIVE_VAR)
		return native_block(e);
	return 0;
}

/* ---- CSV ------------------------------------------------------------------------ */

int encoder_add(struct encoder *e, const struct qs_record *r)
{
	if (e->fmt == LF_ROWBINARY)
		return add_rowbinary(e, r);
	if (e->fmt == LF_NATIVE)
		return add_native(e, r);
	const struct qs_column *cols = e->def->cols;
	for (size_t k = 0; k < e->ncols; k++) {
		int c = e->cols[k];
		const struct qs_column *col = &cols[c];
		int has = qs_record_has(r, c);
		const struct qs_value *v = &r->v[c];
		if (col->type == QS_STR || col->type == QS_MAC) {
			e->strbytes += has ? v->len : 0;
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
		if (e->fmt == LF_NATIVE && native_block(e))
			return -1;
		e->raw += e->slen;
		if (drain(e, 1))
			return -1;
		if (e->spilled && e->olen && spill(e))
			return -1;
		e->finished = 1;
	}
	*body = e->out;
	*len = e->olen;
	*enc = e->comp == LC_ZSTD ? CH_ENC_ZSTD : e->comp == LC_GZIP ? CH_ENC_GZIP : CH_ENC_NONE;
	return 0;
}

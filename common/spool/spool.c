/* spool.c: the spool writer declared in spool.h: columnar blocks in memory,
 * zstd-compressed and appended to a temporary file, published by
 * fsync + renameat2(RENAME_NOREPLACE) + fsync(dir). Salvage of a crashed
 * instance's temporary files lives in spool_salvage.c. */
#include "spool/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "log.h"
#include "spool/spool_format.h"
#include "spool/spool_io.h"
#include "spool/spool_salvage.h"

#define DEFAULT_BLOCK_ROWS 16384u
#define DEFAULT_ZSTD_LEVEL 1
#define BLOCK_VALUE_BYTES (4u * 1024u * 1024u) /* flush a block at this much value data */
#define MAX_RECORD_BYTES (SPF_MAX_RAW_LEN / 4) /* one record's bytes, strings included */

struct col_buf {
	enum qs_type type;
	size_t width;
	uint8_t *vals;           /* fixed: npresent * width; str: npresent u32 lengths */
	size_t vcap;
	uint8_t *sbytes;         /* str: concatenated bytes (the writer's sp[] says how many) */
	size_t scap;
};

/* How append stores a column: integer widths, byte strings of fixed width, str
 * (the order of the groups in struct shape). */
enum col_kind { K_U8, K_U16, K_U32, K_U64, K_B16, K_B6, K_STR };

#define SHAPES 4
struct shape {
	uint64_t present[(QS_MAX_COLS + 63) / 64];
	uint16_t start[K_STR + 2];   /* cols[start[k]..start[k+1]) are the columns of kind k */
	uint16_t cols[QS_MAX_COLS];
	int valid;
};

struct spool_writer {
	const struct qs_stream_def *def;
	unsigned dpi;
	char instance[65];
	char host[256];
	unsigned delay_s;
	uint32_t block_rows;
	int level;
	int uncompressed;
	uint64_t schema_hash;
	char dir[PATH_MAX];
	int dirfd, tmpfd, lockfd;

	/* current temporary file */
	int fd;                  /* -1: none yet (created at the first block) */
	char tmpname[128];
	uint8_t file_id[16];
	int64_t created_ms;
	uint64_t good_end;       /* end of the last block written */
	uint32_t nblocks;
	uint64_t file_rows;

	/* block in memory; the per-column hot fields of append as flat arrays */
	uint32_t rows;
	size_t str_bytes;          /* string bytes and their 4-byte lengths */
	struct col_buf *cols;
	struct spool_cols pos;     /* wp[i]: next value goes here (in cols[i].vals);
	                            * sp[i]: str: next bytes go here (in cols[i].sbytes) */
	struct shape shapes[SHAPES];
	unsigned next_shape;
	uint64_t *rowpres;         /* per row: the record's presence words (pw of them);
	                            * the column bitmaps are built from them per block */
	size_t pw;
	uint64_t *colbits;         /* build_raw: per column, its presence bits, 64 rows a word */
	uint8_t kind[QS_MAX_COLS]; /* enum col_kind */
	int str_cols[QS_MAX_COLS]; /* indexes of the QS_STR columns */
	size_t nstr;
	size_t fixed_max;          /* bytes of a record with every fixed column present */
	uint8_t *raw;
	size_t rawcap;
	uint8_t *out;
	size_t outcap;
	ZSTD_CCtx *cctx;

	struct spool_exporter_stats *exp;
	size_t nexp;

	struct spool_writer_stats st;
	struct log_ratelimit rl;
	int failing;               /* the last write failed */
	uint64_t dropped_at_fail;  /* rows_dropped when it started failing */
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 4096;
	while (n < need)
		n *= 2;
	uint8_t *p = realloc(*buf, n);
	if (!p)
		return -1;
	*buf = p;
	*cap = n;
	return 0;
}

static void free_cols(struct spool_writer *w)
{
	if (!w->cols)
		return;
	for (size_t i = 0; i < w->def->ncols; i++) {
		free(w->cols[i].vals);
		free(w->cols[i].sbytes);
	}
	free(w->cols);
}

static void free_writer(struct spool_writer *w)
{
	free_cols(w);
	free(w->rowpres);
	free(w->colbits);
	free(w->raw);
	free(w->out);
	free(w->exp);
	ZSTD_freeCCtx(w->cctx);
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmpfd >= 0)
		close(w->tmpfd);
	if (w->dirfd >= 0)
		close(w->dirfd);
	if (w->lockfd >= 0)
		close(w->lockfd); /* releases the flock */
	free(w);
}

static int open_checks(const struct spool_writer_opts *o, char *err, size_t errlen)
{
	const char *why = NULL;
	if (!o || !o->spool_dir || !*o->spool_dir)
		why = "no spool folder";
	else if (!o->def || o->def->ncols == 0 || o->def->ncols > QS_MAX_COLS)
		why = "no stream definition (or too many columns)";
	else if (!o->instance || !spf_valid_token(o->instance, 1))
		why = "instance must be 1..64 characters of [A-Za-z0-9_-]";
	else if (!o->def->name || !spf_valid_token(o->def->name, 0))
		why = "stream name must be 1..64 characters of [A-Za-z0-9_]";
	else if (o->block_rows > SPF_MAX_BLOCK_ROWS)
		why = "block_rows above 65536";
	if (why) {
		snprintf(err, errlen, "spool writer: %s", why);
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; i < o->def->ncols; i++) {
		const char *n = o->def->cols[i].name;
		if (!n || !spf_valid_token(n, 0) || spf_type_code(o->def->cols[i].type) == 0) {
			snprintf(err, errlen, "spool writer: column %zu of %s has a bad name or type", i,
				 o->def->name);
			errno = EINVAL;
			return -1;
		}
	}
	return 0;
}

static int alloc_cols(struct spool_writer *w)
{
	w->cols = calloc(w->def->ncols, sizeof *w->cols);
	w->pw = (w->def->ncols + 63) / 64;
	w->rowpres = calloc((size_t)w->block_rows * w->pw, sizeof *w->rowpres);
	w->colbits = calloc((size_t)w->def->ncols * ((w->block_rows + 63) / 64), sizeof *w->colbits);
	if (!w->cols || !w->rowpres || !w->colbits)
		return -1;
	for (size_t i = 0; i < w->def->ncols; i++) {
		struct col_buf *c = &w->cols[i];
		c->type = w->def->cols[i].type;
		c->width = spf_type_width(c->type);
		if (c->type == QS_STR)
			w->str_cols[w->nstr++] = (int)i;
		w->fixed_max += c->width;
		c->vcap = (size_t)w->block_rows * (c->type == QS_STR ? 4 : c->width);
		c->vals = malloc(c->vcap);
		if (!c->vals)
			return -1;
		w->pos.wp[i] = c->vals;
		if (c->type == QS_STR) {
			c->scap = 65536;
			c->sbytes = malloc(c->scap);
			if (!c->sbytes)
				return -1;
			w->pos.sp[i] = c->sbytes;
		}
		switch (c->type) {
		case QS_U8: w->kind[i] = K_U8; break;
		case QS_U16: w->kind[i] = K_U16; break;
		case QS_U32: case QS_IPV4: case QS_TIME_S: w->kind[i] = K_U32; break;
		case QS_U64: case QS_TIME_MS: w->kind[i] = K_U64; break;
		case QS_IPV6: w->kind[i] = K_B16; break;
		case QS_MAC: w->kind[i] = K_B6; break;
		case QS_STR: w->kind[i] = K_STR; break;
		}
	}
	return 0;
}

struct spool_writer *spool_writer_open(const struct spool_writer_opts *o, char *err, size_t errlen)
{
	if (open_checks(o, err, errlen) < 0)
		return NULL;
	struct spool_writer *w = calloc(1, sizeof *w);
	if (!w) {
		snprintf(err, errlen, "spool writer: out of memory");
		return NULL;
	}
	w->fd = w->tmpfd = w->dirfd = w->lockfd = -1;
	w->def = o->def;
	w->dpi = o->dpi_id;
	snprintf(w->instance, sizeof w->instance, "%s", o->instance);
	if (gethostname(w->host, sizeof w->host - 1) < 0 || !w->host[0])
		snprintf(w->host, sizeof w->host, "unknown");
	for (char *p = w->host; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	w->delay_s = o->rotate_delay_s;
	w->block_rows = o->block_rows ? (uint32_t)o->block_rows : DEFAULT_BLOCK_ROWS;
	w->level = o->zstd_level ? o->zstd_level : DEFAULT_ZSTD_LEVEL;
	w->uncompressed = o->uncompressed;
	w->schema_hash = spf_schema_hash(o->def->cols, o->def->ncols);
	w->rl.interval_s = 10;
	w->rl.burst = 3;
	int n = snprintf(w->dir, sizeof w->dir, "%s/%s/%u", o->spool_dir, o->def->name, o->dpi_id);
	if (n < 0 || (size_t)n >= sizeof w->dir - 64) {
		snprintf(err, errlen, "spool writer: path too long: %s", o->spool_dir);
		free_writer(w);
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (sio_open_dirs(w->dir, &w->dirfd, &w->tmpfd, err, errlen) < 0 ||
	    sio_lock_instance(w->tmpfd, w->dir, w->instance, &w->lockfd, err, errlen) < 0) {
		int e = errno;
		free_writer(w);
		errno = e;
		return NULL;
	}
	/* Fast levels with 7-byte minimum matches: 5% fewer instructions for
	 * about 1% larger blocks on byte planes (docs/PERFORMANCE.md). */
	if (alloc_cols(w) < 0 || !(w->cctx = ZSTD_createCCtx()) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, w->level)) ||
	    (w->level < 0 && ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_minMatch, 7)))) {
		snprintf(err, errlen, "spool writer: out of memory");
		free_writer(w);
		errno = ENOMEM;
		return NULL;
	}
	struct salvage_result sr;
	salvage_instance(w->dirfd, w->tmpfd, w->dir, w->def->name, w->dpi, w->instance, w->delay_s, &sr);
	w->st.files_salvaged = sr.published;
	w->st.files_quarantined = sr.quarantined;
	return w;
}

/* A presence set compiled for append: the present columns grouped by how
 * they are stored, so append runs one tight loop per kind instead of a
 * switch per value. A few are cached (a stream's templates give a handful of
 * shapes, e.g. IPv4 and IPv6 fullflow records). */
static const struct shape *shape_of(struct spool_writer *w, const uint64_t *present)
{
	for (unsigned k = 0; k < SHAPES; k++) {
		const struct shape *sh = &w->shapes[k];
		if (sh->valid && !memcmp(sh->present, present, w->pw * sizeof *present))
			return sh;
	}
	struct shape *sh = &w->shapes[w->next_shape++ % SHAPES];
	memset(sh, 0, sizeof *sh);
	memcpy(sh->present, present, w->pw * sizeof *present);
	uint16_t n = 0;
	for (unsigned kind = 0; kind <= K_STR; kind++) {
		sh->start[kind] = n;
		for (size_t i = 0; i < w->def->ncols; i++)
			if (((present[i >> 6] >> (i & 63)) & 1) && w->kind[i] == kind)
				sh->cols[n++] = (uint16_t)i;
	}
	sh->start[K_STR + 1] = n;
	sh->valid = 1;
	return sh;
}

/* A fixed-width byte value (IPv6 16, MAC 6): a wrong length keeps what fits,
 * zero-padded. Returns the end. */
static inline uint8_t *put_padded(uint8_t *d, const struct qs_value *v, size_t width)
{
	if (v->p && v->len == width) {
		memcpy(d, v->p, width);
	} else {
		memset(d, 0, width);
		if (v->p)
			memcpy(d, v->p, v->len < width ? v->len : width);
	}
	return d + width;
}

/* Append one record's values to the column buffers; the caller checked sizes
 * and reserved the string bytes. The hot loop of the writer. */
static void append(struct spool_writer *w, const struct qs_record *r)
{
	size_t ncols = w->def->ncols;
	uint64_t *rp = w->rowpres + (size_t)w->rows * w->pw;
	for (size_t k = 0; k < w->pw; k++) {
		uint64_t bits = r->present[k];
		if ((k + 1) * 64 > ncols)
			bits &= ((uint64_t)1 << (ncols - k * 64)) - 1;
		rp[k] = bits;
	}
	const struct shape *sh = shape_of(w, rp);
	const struct qs_value *v = r->v;
	uint8_t **wp = w->pos.wp;
	const uint16_t *c = sh->cols;
	unsigned j = sh->start[K_U8];
	for (; j < sh->start[K_U16]; j++) {
		unsigned i = c[j];
		*wp[i]++ = (uint8_t)v[i].u;
	}
	for (; j < sh->start[K_U32]; j++) {
		unsigned i = c[j];
		spf_put16(wp[i], (uint16_t)v[i].u);
		wp[i] += 2;
	}
	for (; j < sh->start[K_U64]; j++) {
		unsigned i = c[j];
		spf_put32(wp[i], (uint32_t)v[i].u);
		wp[i] += 4;
	}
	for (; j < sh->start[K_B16]; j++) {
		unsigned i = c[j];
		spf_put64(wp[i], v[i].u);
		wp[i] += 8;
	}
	for (; j < sh->start[K_B6]; j++) {
		unsigned i = c[j];
		wp[i] = put_padded(wp[i], &v[i], 16);
	}
	for (; j < sh->start[K_STR]; j++) {
		unsigned i = c[j];
		wp[i] = put_padded(wp[i], &v[i], 6);
	}
	for (; j < sh->start[K_STR + 1]; j++) {
		unsigned i = c[j];
		spf_put32(wp[i], v[i].len);
		wp[i] += 4;
		if (v[i].len) { /* room reserved by reserve_strings */
			memcpy(w->pos.sp[i], v[i].p, v[i].len);
			w->pos.sp[i] += v[i].len;
		}
		w->str_bytes += 4 + (size_t)v[i].len;
	}
	w->rows++;
}

/* Bytes one record adds to the block (an upper bound: every fixed column
 * counted), after checking its strings. */
static int reserve(struct spool_writer *w, const struct qs_record *r, size_t *bytes)
{
	size_t total = w->fixed_max;
	for (size_t k = 0; k < w->nstr; k++) {
		int i = w->str_cols[k];
		if (!qs_record_has(r, i))
			continue;
		if (r->v[i].len > MAX_RECORD_BYTES || (r->v[i].len && !r->v[i].p)) {
			errno = r->v[i].len > MAX_RECORD_BYTES ? EMSGSIZE : EINVAL;
			return -1;
		}
		total += 4 + r->v[i].len;
	}
	if (total > MAX_RECORD_BYTES) {
		errno = EMSGSIZE;
		return -1;
	}
	*bytes = total;
	return 0;
}

/* Room for len more string bytes in column i (sp[i] follows a move). */
static int grow_str(struct spool_writer *w, int i, size_t len)
{
	struct col_buf *c = &w->cols[i];
	size_t used = (size_t)(w->pos.sp[i] - c->sbytes);
	if (grow(&c->sbytes, &c->scap, used + len) < 0) {
		errno = ENOMEM;
		return -1;
	}
	w->pos.sp[i] = c->sbytes + used;
	return 0;
}

/* Room for the record's string bytes, so append cannot fail half-way. */
static int reserve_strings(struct spool_writer *w, const struct qs_record *r)
{
	for (size_t k = 0; k < w->nstr; k++) {
		int i = w->str_cols[k];
		if (qs_record_has(r, i) && grow_str(w, i, r->v[i].len) < 0)
			return -1;
	}
	return 0;
}

/* a[r] bit c <-> a[c] bit r: a 64 x 64 bit matrix transposed in place
 * (six rounds of block swaps, Hacker's Delight 7-3). */
static void transpose64(uint64_t a[64])
{
	uint64_t m = 0x00000000ffffffffull;
	for (unsigned j = 32; j; j >>= 1, m ^= m << j)
		for (unsigned k = 0; k < 64; k = ((k | j) + 1) & ~j) {
			uint64_t t = ((a[k] >> j) ^ a[k | j]) & m;
			a[k] ^= t << j;
			a[k | j] ^= t;
		}
}

/* The presence bits of the columns that need a bitmap (some rows have a
 * value, not all), 64 rows per word, into w->colbits: the per-row presence
 * words transposed 64 rows at a time. */
static void build_colbits(struct spool_writer *w, const uint32_t *npresent)
{
	size_t ng = (w->rows + 63) / 64;
	for (size_t k = 0; k < w->pw; k++) {
		uint64_t need = 0;
		for (size_t c = 0; c < 64 && k * 64 + c < w->def->ncols; c++)
			if (npresent[k * 64 + c] && npresent[k * 64 + c] != w->rows)
				need |= (uint64_t)1 << c;
		if (!need)
			continue;
		for (size_t g = 0; g < ng; g++) {
			uint64_t a[64];
			const uint64_t *rp = w->rowpres + g * 64 * w->pw + k;
			size_t n = w->rows - g * 64 < 64 ? w->rows - g * 64 : 64;
			for (size_t j = 0; j < n; j++)
				a[j] = rp[j * w->pw];
			for (size_t j = n; j < 64; j++)
				a[j] = 0;
			transpose64(a);
			for (uint64_t x = need; x; x &= x - 1) {
				unsigned c = (unsigned)__builtin_ctzll(x);
				w->colbits[(k * 64 + c) * ng + g] = a[c];
			}
		}
	}
}

/* Serialise the block in memory into raw (room checked); returns its length. */
static size_t build_raw(struct spool_writer *w, uint8_t *raw)
{
	size_t bm = (w->rows + 7) / 8;
	size_t pos = 0;
	uint32_t npresent_of[QS_MAX_COLS];
	for (size_t i = 0; i < w->def->ncols; i++) {
		const struct col_buf *c = &w->cols[i];
		npresent_of[i] = (uint32_t)((size_t)(w->pos.wp[i] - c->vals) / (c->type == QS_STR ? 4 : c->width));
	}
	build_colbits(w, npresent_of);
	size_t ng = (w->rows + 63) / 64;
	for (size_t i = 0; i < w->def->ncols; i++) {
		struct col_buf *c = &w->cols[i];
		size_t vlen = (size_t)(w->pos.wp[i] - c->vals);
		uint32_t npresent = (uint32_t)(vlen / (c->type == QS_STR ? 4 : c->width));
		if (npresent == 0) {
			raw[pos++] = SPF_PRES_NONE;
			continue;
		}
		if (npresent == w->rows) {
			raw[pos++] = SPF_PRES_ALL;
		} else {
			raw[pos++] = SPF_PRES_BITMAP;
			uint8_t *b = raw + pos;
			const uint64_t *cb = w->colbits + i * ng;
			for (size_t g = 0; g + 1 < ng; g++)
				spf_put64(b + g * 8, cb[g]);
			uint8_t last[8];
			spf_put64(last, cb[ng - 1]); /* rows past the end are 0 */
			memcpy(b + (ng - 1) * 8, last, bm - (ng - 1) * 8);
			pos += bm;
		}
		if (c->type != QS_STR)
			spf_shuffle(raw + pos, c->vals, npresent, c->width);
		else
			memcpy(raw + pos, c->vals, vlen);
		pos += vlen;
		if (c->type == QS_STR) {
			size_t slen = (size_t)(w->pos.sp[i] - c->sbytes);
			memcpy(raw + pos, c->sbytes, slen);
			pos += slen;
		}
	}
	return pos;
}

static void reset_block(struct spool_writer *w)
{
	for (size_t i = 0; i < w->def->ncols; i++) {
		struct col_buf *c = &w->cols[i];
		w->pos.wp[i] = c->vals;
		w->pos.sp[i] = c->sbytes;
	}
	w->rows = 0;
	w->str_bytes = 0;
}

/* Create the temporary file and write the header. 0 or -1 (errno). */
static int start_file(struct spool_writer *w)
{
	if (getrandom(w->file_id, sizeof w->file_id, 0) != (ssize_t)sizeof w->file_id)
		return -1;
	char hex[33];
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", w->file_id[i]);
	snprintf(w->tmpname, sizeof w->tmpname, "%s.%s.part", w->instance, hex);
	struct sio_header_fields f = {
		.stream = w->def->name, .instance = w->instance, .host = w->host, .dpi = w->dpi,
		.block_rows = w->block_rows, .schema_hash = w->schema_hash, .file_id = w->file_id,
		.created_ms = (uint64_t)w->created_ms, .cols = w->def->cols, .ncols = w->def->ncols,
	};
	uint8_t *hdr = malloc(SPF_MAX_HEADER_LEN);
	if (!hdr) {
		errno = ENOMEM;
		return -1;
	}
	size_t len = sio_build_header(hdr, SPF_MAX_HEADER_LEN, &f);
	int fd = len ? openat(w->tmpfd, w->tmpname, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640) : -1;
	if (fd < 0 || sio_write_all(fd, hdr, len) < 0) {
		int e = len == 0 ? ENAMETOOLONG : errno;
		if (fd >= 0) {
			close(fd);
			unlinkat(w->tmpfd, w->tmpname, 0);
		}
		free(hdr);
		errno = e;
		return -1;
	}
	free(hdr);
	w->fd = fd;
	w->good_end = len;
	w->nblocks = 0;
	w->file_rows = 0;
	w->st.bytes_written += len;
	return 0;
}

/* Write the block in memory to the file. 0 or -1 (errno; file unchanged, block kept). */
static int write_block(struct spool_writer *w)
{
	if (w->rows == 0)
		return 0;
	size_t raw_max = (size_t)w->rows * w->fixed_max + w->str_bytes +
			 w->def->ncols * (1 + (w->rows + 7) / 8);
	if (grow(&w->raw, &w->rawcap, raw_max) < 0 ||
	    grow(&w->out, &w->outcap, SPF_BLOCK_HDR_LEN + ZSTD_compressBound(raw_max)) < 0) {
		errno = ENOMEM;
		return -1;
	}
	size_t raw_len, clen;
	if (w->uncompressed) {
		raw_len = clen = build_raw(w, w->out + SPF_BLOCK_HDR_LEN);
	} else {
		raw_len = build_raw(w, w->raw);
		clen = ZSTD_compress2(w->cctx, w->out + SPF_BLOCK_HDR_LEN, w->outcap - SPF_BLOCK_HDR_LEN, w->raw,
				      raw_len);
	}
	if (ZSTD_isError(clen)) {
		log_ratelimited(&w->rl, LOG_ERR, "spool %s: zstd: %s", w->dir, ZSTD_getErrorName(clen));
		errno = EIO;
		return -1;
	}
	sio_block_header(w->out, SPF_BT_DATA, w->uncompressed ? SPF_CODEC_NONE : SPF_CODEC_ZSTD, w->nblocks,
			 w->rows, (uint32_t)clen,
			 (uint32_t)raw_len, spf_crc32(0, w->out + SPF_BLOCK_HDR_LEN, clen));
	if (w->fd < 0 && start_file(w) < 0)
		goto fail;
	if (sio_write_at(w->fd, w->good_end, w->out, SPF_BLOCK_HDR_LEN + clen) < 0)
		goto fail;
	w->good_end += SPF_BLOCK_HDR_LEN + clen;
	w->nblocks++;
	w->file_rows += w->rows;
	w->st.blocks_written++;
	w->st.bytes_written += SPF_BLOCK_HDR_LEN + clen;
	reset_block(w);
	if (w->failing) {
		w->failing = 0;
		log_notice("spool %s: writing again; %" PRIu64 " records were refused meanwhile", w->dir,
			   w->st.rows_dropped - w->dropped_at_fail);
	}
	return 0;
fail:;
	int e = errno;
	w->st.write_errors++;
	if (!w->failing) {
		w->failing = 1;
		w->dropped_at_fail = w->st.rows_dropped;
	}
	log_ratelimited(&w->rl, LOG_ERR,
			"spool %s: cannot write a block of %" PRIu32 " rows: %s; new records are "
			"refused and counted until it can be written (free disk space)",
			w->dir, w->rows, strerror(e));
	errno = e;
	return -1;
}

int spool_writer_add(struct spool_writer *w, const struct qs_record *r)
{
	size_t bytes;
	if (!r->def || r->def->ncols != w->def->ncols) {
		w->st.rows_dropped++;
		errno = EINVAL;
		return -1;
	}
	if (reserve(w, r, &bytes) < 0) {
		int e = errno;
		w->st.rows_dropped++;
		errno = e;
		return -1;
	}
	if (w->rows == w->block_rows ||
	    (w->rows && (size_t)w->rows * w->fixed_max + w->str_bytes + bytes > BLOCK_VALUE_BYTES)) {
		if (write_block(w) < 0) {
			int e = errno;
			w->st.rows_dropped++;
			errno = e;
			return -1;
		}
	}
	if (reserve_strings(w, r) < 0) {
		w->st.rows_dropped++;
		return -1;
	}
	if (w->rows == 0 && w->fd < 0 && w->file_rows == 0)
		w->created_ms = now_ms();
	append(w, r);
	w->st.rows_accepted++;
	return 0;
}

/* Rows of at most row_max bytes each that still fit the block in memory
 * (the first row always does), besides str_max bytes of strings. */
static uint32_t rows_that_fit(const struct spool_writer *w, size_t row_max, size_t str_max)
{
	uint32_t n = w->block_rows - w->rows;
	size_t used = (size_t)w->rows * w->fixed_max + w->str_bytes + str_max;
	size_t m = used < BLOCK_VALUE_BYTES ? (BLOCK_VALUE_BYTES - used) / row_max : 0;
	if (m < n)
		n = (uint32_t)m;
	return n == 0 && w->rows == 0 ? 1 : n;
}

struct spool_cols *spool_writer_rows_begin(struct spool_writer *w, size_t str_max, uint32_t *n)
{
	size_t row_max = w->fixed_max + 4 * w->nstr;
	if (str_max > MAX_RECORD_BYTES - row_max) {
		w->st.rows_dropped++;
		errno = EMSGSIZE;
		return NULL;
	}
	uint32_t fit = rows_that_fit(w, row_max, str_max);
	if (fit == 0) {
		if (write_block(w) < 0) {
			int e = errno;
			w->st.rows_dropped++;
			errno = e;
			return NULL;
		}
		fit = rows_that_fit(w, row_max, str_max);
	}
	for (size_t k = 0; k < w->nstr; k++) {
		int i = w->str_cols[k];
		const struct col_buf *c = &w->cols[i];
		if (c->scap - (size_t)(w->pos.sp[i] - c->sbytes) < str_max && grow_str(w, i, str_max) < 0) {
			w->st.rows_dropped++;
			return NULL;
		}
	}
	if (w->rows == 0 && w->fd < 0 && w->file_rows == 0)
		w->created_ms = now_ms();
	*n = fit;
	return &w->pos;
}

void spool_writer_rows_end(struct spool_writer *w, uint32_t n, const uint64_t *present, size_t str_bytes)
{
	uint64_t *rp = w->rowpres + (size_t)w->rows * w->pw;
	for (uint32_t k = 0; k < n; k++, rp += w->pw)
		memcpy(rp, present, w->pw * sizeof *present);
	w->str_bytes += str_bytes;
	w->rows += n;
	w->st.rows_accepted += n;
}

int spool_writer_flush(struct spool_writer *w)
{
	return write_block(w);
}

void spool_writer_set_exporters(struct spool_writer *w, const struct spool_exporter_stats *e, size_t n)
{
	if (n > SPF_MAX_EXPORTERS)
		n = SPF_MAX_EXPORTERS;
	struct spool_exporter_stats *c = n ? malloc(n * sizeof *c) : NULL;
	if (n && !c) {
		log_ratelimited(&w->rl, LOG_ERR, "spool %s: out of memory for exporter counters", w->dir);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		c[i] = e[i];
		c[i].peer[sizeof c[i].peer - 1] = 0;
	}
	free(w->exp);
	w->exp = c;
	w->nexp = n;
}

int spool_writer_rotate(struct spool_writer *w)
{
	if (write_block(w) < 0)
		return -1;
	if (w->fd < 0)
		return 0;
	int64_t now = now_ms();
	int64_t ready = now / 1000 + w->delay_s;
	struct sio_publish p = {
		.dirfd = w->dirfd, .tmpfd = w->tmpfd, .dir = w->dir, .fd = w->fd,
		.tmpname = w->tmpname, .good_end = w->good_end, .rows = w->file_rows,
		.nblocks = w->nblocks, .flags = 0, .closed_ms = (uint64_t)now, .ready_s = ready,
		.exp = w->exp, .nexp = w->nexp, .stream = w->def->name, .dpi = w->dpi,
		.instance = w->instance, .start = (time_t)(w->created_ms / 1000),
		.rnd = spf_get32(w->file_id),
	};
	char name[256];
	if (sio_publish(&p, name, sizeof name) < 0) {
		int e = errno;
		w->st.write_errors++;
		log_ratelimited(&w->rl, LOG_ERR, "spool %s: cannot publish %s: %s; will retry at the next "
				"rotation", w->dir, w->tmpname, strerror(e));
		errno = e;
		return -1;
	}
	close(w->fd);
	w->fd = -1;
	w->nblocks = 0;
	w->file_rows = 0;
	w->st.files_published++;
	log_debug("spool %s: published %s", w->dir, name);
	spool_writer_set_exporters(w, NULL, 0);
	return 0;
}

int spool_writer_close(struct spool_writer *w)
{
	if (!w)
		return 0;
	int rc = spool_writer_rotate(w);
	if (rc < 0) {
		log_err("spool %s: closing without publishing: %" PRIu64 " rows stay in .tmp/%s for "
			"salvage at the next start, %" PRIu32 " rows in memory are lost",
			w->dir, w->file_rows, w->fd >= 0 ? w->tmpname : "(none)", w->rows);
	}
	free_writer(w);
	return rc;
}

uint64_t spool_writer_rows_dropped(const struct spool_writer *w)
{
	return w->st.rows_dropped;
}

void spool_writer_stats(const struct spool_writer *w, struct spool_writer_stats *out)
{
	*out = w->st;
	out->rows_pending = w->rows;
	out->rows_in_file = w->file_rows;
}

const char *spool_writer_dir(const struct spool_writer *w)
{
	return w->dir;
}

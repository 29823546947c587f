/* spool_reader.c: the spool file reader and verifier declared in
 * spool_reader.h. Reads through pread (or a borrowed memory buffer), checks
 * every CRC, length and count against the file size and the format limits
 * before allocating, and decodes a data block into zero-copy column views. */
#include "spool/spool_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "spool/spool_format.h"

/* The fuzz build (make VARIANT=fuzz) ignores CRC mismatches so the fuzzer
 * reaches the parsers behind them; every other build checks them. */
#ifdef QOESTOR_FUZZ
#define CRC_BAD(got, want) ((void)(got), (void)(want), 0)
#else
#define CRC_BAD(got, want) ((got) != (want))
#endif

struct col_state {
	struct spool_column c;
	uint32_t next_row, next_idx; /* row cursor for spool_block_row */
};

struct spool_block {
	uint32_t rows, index;
	uint64_t offset;
	const struct spool_header *h;
	struct col_state *cols;
};

struct spool_reader {
	char *path;
	int fd;                 /* -1 in memory mode */
	const uint8_t *mem;
	uint64_t size;
	uint64_t pos;           /* offset of the next block header */
	uint64_t good_end;
	uint32_t blocks, ancillary;
	uint64_t rows;
	int state;              /* 0 reading, 1 end, -1 error */
	char err[512];

	struct spool_header h;
	struct qs_stream_def def;
	struct qs_column *cols;
	char *names;            /* column names, NUL-separated */

	uint8_t *stored;        /* block payload as stored */
	size_t stored_cap;
	uint8_t *raw;           /* decompressed payload */
	size_t raw_cap;
	uint8_t *fixed;         /* fixed-width values of the current block, un-shuffled */
	size_t fixed_cap;
	uint32_t *offs;         /* string offsets of the current block */
	size_t offs_cap;
	uint8_t *ones;          /* SPF_MAX_BLOCK_ROWS bits set: SPF_PRES_ALL */
	uint8_t *zeros;         /* SPF_PRES_NONE */
	ZSTD_DCtx *dctx;

	struct spool_block block;
	struct spool_trailer trailer;
	struct spool_exporter_stats *exporters;
};

static void fail(struct spool_reader *r, uint64_t off, long block, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void fail(struct spool_reader *r, uint64_t off, long block, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (block >= 0)
		snprintf(r->err, sizeof r->err, "%s: offset %" PRIu64 ", block %ld: %s", r->path, off,
			 block, why);
	else
		snprintf(r->err, sizeof r->err, "%s: offset %" PRIu64 ": %s", r->path, off, why);
	r->state = -1;
}

/* Read exactly len bytes at off; the caller checked off + len <= size. */
static int src_read(struct spool_reader *r, uint64_t off, void *buf, size_t len)
{
	if (r->fd < 0) {
		memcpy(buf, r->mem + off, len);
		return 0;
	}
	uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = pread(r->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fail(r, off, -1, "read failed: %s", n < 0 ? strerror(errno) : "file shrank");
			return -1;
		}
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int grow(void **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 4096;
	while (n < need)
		n *= 2;
	void *p = realloc(*buf, n);
	if (!p)
		return -1;
	*buf = p;
	*cap = n;
	return 0;
}

/* A cursor over a byte range that never reads past its end. */
struct cur {
	const uint8_t *p;
	size_t len, pos;
	int bad;
};

static const uint8_t *take(struct cur *c, size_t n)
{
	if (c->bad || n > c->len - c->pos) {
		c->bad = 1;
		return NULL;
	}
	const uint8_t *p = c->p + c->pos;
	c->pos += n;
	return p;
}

static uint8_t take8(struct cur *c)
{
	const uint8_t *p = take(c, 1);
	return p ? p[0] : 0;
}

static uint32_t take32(struct cur *c)
{
	const uint8_t *p = take(c, 4);
	return p ? spf_get32(p) : 0;
}

static uint64_t take64(struct cur *c)
{
	const uint8_t *p = take(c, 8);
	return p ? spf_get64(p) : 0;
}

/* A length-prefixed (u8) token copied into out (cap >= 256); 0 ok. */
static int take_str(struct cur *c, char *out, size_t maxlen)
{
	uint8_t n = take8(c);
	const uint8_t *p = take(c, n);
	if (!p || n > maxlen)
		return -1;
	memcpy(out, p, n);
	out[n] = 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return -1;
	return 0;
}

static int parse_header(struct spool_reader *r)
{
	uint8_t fixed[16];
	if (r->size < 16) {
		fail(r, 0, -1, "file of %" PRIu64 " bytes is shorter than a spool header", r->size);
		return -1;
	}
	if (src_read(r, 0, fixed, sizeof fixed) < 0)
		return -1;
	if (memcmp(fixed, SPF_MAGIC, SPF_MAGIC_LEN) != 0) {
		fail(r, 0, -1, "not a spool file (bad magic)");
		return -1;
	}
	struct spool_header *h = &r->h;
	h->version_major = spf_get16(fixed + 8);
	h->version_minor = spf_get16(fixed + 10);
	h->header_len = spf_get32(fixed + 12);
	if (h->version_major != SPF_VERSION_MAJOR) {
		fail(r, 8, -1, "format version %u.%u is not supported (this reader reads %u.x)",
		     h->version_major, h->version_minor, SPF_VERSION_MAJOR);
		return -1;
	}
	if (h->header_len < 72 || h->header_len > SPF_MAX_HEADER_LEN || h->header_len > r->size) {
		fail(r, 12, -1, "header length %" PRIu32 " is out of range (file size %" PRIu64 ")",
		     h->header_len, r->size);
		return -1;
	}
	uint8_t *buf = malloc(h->header_len);
	if (!buf) {
		fail(r, 0, -1, "out of memory");
		return -1;
	}
	if (src_read(r, 0, buf, h->header_len) < 0) {
		free(buf);
		return -1;
	}
	uint32_t want = spf_get32(buf + h->header_len - 4);
	if (CRC_BAD(spf_crc32(0, buf, h->header_len - 4), want)) {
		fail(r, h->header_len - 4, -1, "header CRC mismatch");
		free(buf);
		return -1;
	}
	struct cur c = { buf, h->header_len - 4, 16, 0 };
	h->flags = take32(&c);
	h->dpi_id = take32(&c);
	h->schema_version = take32(&c);
	h->block_rows_max = take32(&c);
	h->schema_hash = take64(&c);
	memcpy(h->file_id, take(&c, 16), 16);
	for (int i = 0; i < 16; i++)
		snprintf(h->file_id_hex + 2 * i, 3, "%02x", h->file_id[i]);
	h->created_ms = take64(&c);
	unsigned ncols = spf_get16(take(&c, 2));
	const char *what = NULL;
	if (h->block_rows_max == 0 || h->block_rows_max > SPF_MAX_BLOCK_ROWS)
		what = "block_rows_max out of range";
	else if (ncols == 0 || ncols > QS_MAX_COLS)
		what = "column count out of range";
	else if (take_str(&c, h->stream, 64) < 0 || !spf_valid_token(h->stream, 0))
		what = "bad stream name";
	else if (take_str(&c, h->instance, 64) < 0 || !spf_valid_token(h->instance, 1))
		what = "bad instance name";
	else if (take_str(&c, h->host, 255) < 0)
		what = "bad host name";
	if (what) {
		fail(r, c.pos, -1, "header: %s", what);
		free(buf);
		return -1;
	}
	r->cols = calloc(ncols, sizeof *r->cols);
	r->names = malloc((size_t)ncols * 256);
	if (!r->cols || !r->names) {
		fail(r, 0, -1, "out of memory");
		free(buf);
		return -1;
	}
	for (unsigned i = 0; i < ncols && !what; i++) {
		uint8_t code = take8(&c);
		uint8_t reserved = take8(&c);
		char *name = r->names + (size_t)i * 256;
		enum qs_type t = QS_U8;
		if (c.bad || spf_type_from_code(code, &t) < 0)
			what = "unknown column type";
		else if (reserved != 0)
			what = "reserved column byte is not 0";
		else if (take_str(&c, name, 255) < 0 || !spf_valid_token(name, 0) ||
			 strlen(name) == 0)
			what = "bad column name";
		for (unsigned k = 0; k < i && !what; k++)
			if (strcmp(r->cols[k].name, name) == 0)
				what = "duplicate column name";
		r->cols[i].name = name;
		r->cols[i].type = t;
		if (what)
			fail(r, c.pos, -1, "header: column %u: %s", i, what);
	}
	if (!what && c.bad)
		fail(r, c.pos, -1, "header: truncated");
	else if (!what && c.pos != c.len && h->version_minor == 0)
		fail(r, c.pos, -1, "header: %zu unexpected bytes before the CRC", c.len - c.pos);
	free(buf);
	if (r->state < 0)
		return -1;
	r->def.id = QS_STREAM_COUNT;
	r->def.name = h->stream;
	r->def.cols = r->cols;
	r->def.ncols = ncols;
	h->def = &r->def;
	h->schema_hash_ok = spf_schema_hash(r->cols, ncols) == h->schema_hash;
	r->pos = r->good_end = h->header_len;
	return 0;
}

static struct spool_reader *open_common(struct spool_reader *r, const char *name, char *err,
					size_t errlen)
{
	r->path = strdup(name);
	r->block.cols = NULL;
	if (r->path && parse_header(r) == 0) {
		r->block.cols = calloc(r->def.ncols, sizeof *r->block.cols);
		r->ones = malloc(SPF_MAX_BLOCK_ROWS / 8);
		r->zeros = calloc(1, SPF_MAX_BLOCK_ROWS / 8);
		r->dctx = ZSTD_createDCtx();
		if (r->block.cols && r->ones && r->zeros && r->dctx) {
			memset(r->ones, 0xff, SPF_MAX_BLOCK_ROWS / 8);
			r->block.h = &r->h;
			return r;
		}
		fail(r, 0, -1, "out of memory");
	} else if (!r->path) {
		snprintf(r->err, sizeof r->err, "out of memory");
	}
	if (err && errlen)
		snprintf(err, errlen, "%s", r->err);
	spool_reader_close(r);
	return NULL;
}

struct spool_reader *spool_reader_open(const char *path, char *err, size_t errlen)
{
	struct spool_reader *r = calloc(1, sizeof *r);
	if (!r) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (r->fd < 0 || fstat(r->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int e = r->fd < 0 ? errno : (S_ISREG(st.st_mode) ? errno : EINVAL);
		snprintf(err, errlen, "%s: cannot open: %s", path,
			 e == EINVAL ? "not a regular file" : strerror(e));
		if (r->fd >= 0)
			close(r->fd);
		free(r);
		errno = e;
		return NULL;
	}
	r->size = (uint64_t)st.st_size;
	return open_common(r, path, err, errlen);
}

struct spool_reader *spool_reader_open_mem(const void *buf, size_t len, const char *name, char *err,
					   size_t errlen)
{
	struct spool_reader *r = calloc(1, sizeof *r);
	if (!r) {
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	r->fd = -1;
	r->mem = buf;
	r->size = len;
	return open_common(r, name, err, errlen);
}

const struct spool_header *spool_reader_header(const struct spool_reader *r)
{
	return &r->h;
}

/* Decode the raw payload of a data block into column views. */
static int decode_data(struct spool_reader *r, uint32_t rows, size_t raw_len, uint64_t off, long bi)
{
	struct cur c = { r->raw, raw_len, 0, 0 };
	size_t bm_len = (rows + 7) / 8;
	size_t noffs = 0, nfixed = 0;
	/* Worst case: every string column has raw_len/4 values. */
	size_t need = (raw_len / 4 + r->def.ncols) * sizeof(uint32_t);
	if (grow((void **)&r->offs, &r->offs_cap, need) < 0 ||
	    grow((void **)&r->fixed, &r->fixed_cap, raw_len ? raw_len : 1) < 0) {
		fail(r, off, bi, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < r->def.ncols; i++) {
		struct col_state *cs = &r->block.cols[i];
		struct spool_column *col = &cs->c;
		memset(cs, 0, sizeof *cs);
		col->name = r->cols[i].name;
		col->type = r->cols[i].type;
		col->width = spf_type_width(col->type);
		col->rows = rows;
		uint8_t mode = take8(&c);
		if (c.bad)
			goto truncated;
		if (mode == SPF_PRES_NONE) {
			col->present = r->zeros;
			col->npresent = 0;
		} else if (mode == SPF_PRES_ALL) {
			col->present = r->ones;
			col->npresent = rows;
		} else if (mode == SPF_PRES_BITMAP) {
			const uint8_t *bm = take(&c, bm_len);
			if (!bm)
				goto truncated;
			uint32_t n = 0;
			for (size_t k = 0; k < bm_len; k++)
				n += (uint32_t)__builtin_popcount(bm[k]);
			if ((rows & 7) && (bm[bm_len - 1] >> (rows & 7))) {
				fail(r, off, bi, "column %s: presence bits set beyond row %u", col->name, rows);
				return -1;
			}
			col->present = bm;
			col->npresent = n;
		} else {
			fail(r, off, bi, "column %s: unknown presence encoding %u", col->name, mode);
			return -1;
		}
		if (col->type != QS_STR) {
			size_t n = (size_t)col->npresent * col->width;
			const uint8_t *planes = take(&c, n);
			if (!planes)
				goto truncated;
			spf_unshuffle(r->fixed + nfixed, planes, col->npresent, col->width);
			col->values = r->fixed + nfixed;
			nfixed += n;
			continue;
		}
		const uint8_t *lens = take(&c, (size_t)col->npresent * 4);
		if (!lens && col->npresent)
			goto truncated;
		uint32_t *o = r->offs + noffs;
		uint64_t total = 0;
		o[0] = 0;
		for (uint32_t k = 0; k < col->npresent; k++) {
			total += spf_get32(lens + 4 * (size_t)k);
			if (total > raw_len)
				goto truncated;
			o[k + 1] = (uint32_t)total;
		}
		noffs += col->npresent + 1;
		col->str_off = o;
		col->values = take(&c, (size_t)total);
		if (!col->values && total)
			goto truncated;
		if (!col->values)
			col->values = r->zeros;
	}
	if (c.pos != raw_len) {
		fail(r, off, bi, "%zu bytes left after the last column", raw_len - c.pos);
		return -1;
	}
	return 0;
truncated:
	fail(r, off, bi, "payload ends inside a column (at payload byte %zu of %zu)", c.pos, raw_len);
	return -1;
}

static int parse_trailer(struct spool_reader *r, const uint8_t *p, size_t len, uint64_t off)
{
	struct cur c = { p, len, 0, 0 };
	struct spool_trailer *t = &r->trailer;
	long bi = (long)r->blocks;
	t->rows = take64(&c);
	t->data_blocks = take32(&c);
	t->flags = take32(&c);
	t->closed_ms = take64(&c);
	t->ready_s = (int64_t)take64(&c);
	uint32_t n = take32(&c);
	t->offset = off;
	if (c.bad) {
		fail(r, off, bi, "trailer: truncated");
		return -1;
	}
	if (t->rows != r->rows || t->data_blocks != r->blocks) {
		fail(r, off, bi, "trailer: says %" PRIu64 " rows in %" PRIu32 " blocks, file holds %" PRIu64
		     " rows in %" PRIu32 " blocks", t->rows, t->data_blocks, r->rows, r->blocks);
		return -1;
	}
	/* Each exporter takes at least 53 bytes: check before allocating. */
	if (n > SPF_MAX_EXPORTERS || (uint64_t)n * 53 > len - c.pos) {
		fail(r, off, bi, "trailer: exporter count %" PRIu32 " does not fit", n);
		return -1;
	}
	free(r->exporters);
	r->exporters = calloc(n ? n : 1, sizeof *r->exporters);
	if (!r->exporters) {
		fail(r, off, bi, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct spool_exporter_stats *e = &r->exporters[i];
		if (take_str(&c, e->peer, SPF_MAX_PEER_LEN) < 0) {
			fail(r, off, bi, "trailer: exporter %" PRIu32 ": bad peer", i);
			return -1;
		}
		e->domain = take32(&c);
		e->messages = take64(&c);
		e->records = take64(&c);
		e->bytes = take64(&c);
		e->seq_gaps = take64(&c);
		e->unknown_template_records = take64(&c);
		e->malformed_messages = take64(&c);
	}
	if (c.bad) {
		fail(r, off, bi, "trailer: truncated in the exporter list");
		return -1;
	}
	if (c.pos != len && r->h.version_minor == 0) {
		fail(r, off, bi, "trailer: %zu unexpected bytes at its end", len - c.pos);
		return -1;
	}
	t->nexporters = n;
	t->exporters = r->exporters;
	return 0;
}

static int finish(struct spool_reader *r, uint64_t trailer_off, uint64_t end)
{
	uint8_t foot[SPF_FOOTER_LEN];
	if (r->size - end < SPF_FOOTER_LEN) {
		fail(r, end, -1, "footer missing (file truncated after the trailer)");
		return -1;
	}
	if (src_read(r, end, foot, sizeof foot) < 0)
		return -1;
	if (memcmp(foot, SPF_END_MAGIC, 8) != 0 || spf_get64(foot + 8) != trailer_off) {
		fail(r, end, -1, "bad footer");
		return -1;
	}
	if (r->size != end + SPF_FOOTER_LEN) {
		fail(r, end + SPF_FOOTER_LEN, -1, "%" PRIu64 " bytes after the footer",
		     r->size - end - SPF_FOOTER_LEN);
		return -1;
	}
	r->state = 1;
	return 0;
}

int spool_reader_next(struct spool_reader *r, struct spool_block **b)
{
	*b = NULL;
	for (;;) {
		if (r->state != 0)
			return r->state > 0 ? 0 : -1;
		uint64_t off = r->pos;
		long bi = (long)r->blocks;
		uint8_t hdr[SPF_BLOCK_HDR_LEN];
		if (r->size - off < SPF_BLOCK_HDR_LEN) {
			fail(r, off, bi, off == r->size ? "file ends without a trailer (truncated)"
							: "truncated block header");
			return -1;
		}
		if (src_read(r, off, hdr, sizeof hdr) < 0)
			return -1;
		if (spf_get32(hdr) != SPF_BLOCK_MAGIC) {
			fail(r, off, bi, "bad block magic");
			return -1;
		}
		if (CRC_BAD(spf_crc32(0, hdr, 28), spf_get32(hdr + 28))) {
			fail(r, off, bi, "block header CRC mismatch");
			return -1;
		}
		uint8_t type = hdr[4], codec = hdr[5];
		uint32_t index = spf_get32(hdr + 8), rows = spf_get32(hdr + 12);
		uint32_t stored_len = spf_get32(hdr + 16), raw_len = spf_get32(hdr + 20);
		uint32_t crc = spf_get32(hdr + 24);
		uint64_t end = off + SPF_BLOCK_HDR_LEN + stored_len;
		if (spf_get16(hdr + 6) != 0) {
			fail(r, off, bi, "reserved block header bytes are not 0");
			return -1;
		}
		if (stored_len > r->size - off - SPF_BLOCK_HDR_LEN) {
			fail(r, off, bi, "block of %" PRIu32 " bytes runs past the end of the file "
			     "(truncated)", stored_len);
			return -1;
		}
		if (stored_len > SPF_MAX_RAW_LEN || raw_len > SPF_MAX_RAW_LEN) {
			fail(r, off, bi, "block sizes %" PRIu32 "/%" PRIu32 " exceed the format limit",
			     stored_len, raw_len);
			return -1;
		}
		int known = type == SPF_BT_DATA || type == SPF_BT_TRAILER;
		if (!known && (type & 0x80)) {
			fail(r, off, bi, "unknown critical block type 0x%02x (written by a newer version?)",
			     type);
			return -1;
		}
		if (grow((void **)&r->stored, &r->stored_cap, stored_len ? stored_len : 1) < 0) {
			fail(r, off, bi, "out of memory");
			return -1;
		}
		if (src_read(r, off + SPF_BLOCK_HDR_LEN, r->stored, stored_len) < 0)
			return -1;
		if (CRC_BAD(spf_crc32(0, r->stored, stored_len), crc)) {
			fail(r, off, bi, "payload CRC mismatch");
			return -1;
		}
		if (!known) { /* ancillary: skip */
			r->ancillary++;
			r->pos = end;
			continue;
		}
		if (type == SPF_BT_TRAILER) {
			if (codec != SPF_CODEC_NONE || raw_len != stored_len || rows != 0 ||
			    index != r->blocks) {
				fail(r, off, bi, "trailer block header fields are inconsistent");
				return -1;
			}
			if (stored_len > SPF_MAX_TRAILER_LEN) {
				fail(r, off, bi, "trailer too large");
				return -1;
			}
			if (parse_trailer(r, r->stored, stored_len, off) < 0 || finish(r, off, end) < 0)
				return -1;
			return 0;
		}
		/* data block */
		if (index != r->blocks) {
			fail(r, off, bi, "block index %" PRIu32 ", expected %" PRIu32, index, r->blocks);
			return -1;
		}
		if (rows == 0 || rows > r->h.block_rows_max) {
			fail(r, off, bi, "row count %" PRIu32 " out of range 1..%" PRIu32, rows,
			     r->h.block_rows_max);
			return -1;
		}
		if (grow((void **)&r->raw, &r->raw_cap, raw_len ? raw_len : 1) < 0) {
			fail(r, off, bi, "out of memory");
			return -1;
		}
		if (codec == SPF_CODEC_NONE) {
			if (raw_len != stored_len) {
				fail(r, off, bi, "uncompressed block with different sizes");
				return -1;
			}
			memcpy(r->raw, r->stored, raw_len);
		} else if (codec == SPF_CODEC_ZSTD) {
			unsigned long long cs = ZSTD_getFrameContentSize(r->stored, stored_len);
			if (cs != raw_len) {
				fail(r, off, bi, "zstd frame size does not match the block header");
				return -1;
			}
			size_t n = ZSTD_decompressDCtx(r->dctx, r->raw, raw_len, r->stored, stored_len);
			if (ZSTD_isError(n) || n != raw_len) {
				fail(r, off, bi, "zstd: %s",
				     ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short payload");
				return -1;
			}
		} else {
			fail(r, off, bi, "unknown codec %u", codec);
			return -1;
		}
		if (decode_data(r, rows, raw_len, off, bi) < 0)
			return -1;
		r->block.rows = rows;
		r->block.index = index;
		r->block.offset = off;
		r->blocks++;
		r->rows += rows;
		r->pos = r->good_end = end;
		*b = &r->block;
		return 1;
	}
}

const struct spool_trailer *spool_reader_trailer(const struct spool_reader *r)
{
	return r->state > 0 ? &r->trailer : NULL;
}

const char *spool_reader_error(const struct spool_reader *r)
{
	return r->err;
}

uint64_t spool_reader_good_end(const struct spool_reader *r)
{
	return r->good_end;
}

uint32_t spool_reader_blocks_read(const struct spool_reader *r)
{
	return r->blocks;
}

uint64_t spool_reader_rows_read(const struct spool_reader *r)
{
	return r->rows;
}

uint64_t spool_reader_size(const struct spool_reader *r)
{
	return r->size;
}

void spool_reader_close(struct spool_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	free(r->path);
	free(r->cols);
	free(r->names);
	free(r->stored);
	free(r->raw);
	free(r->offs);
	free(r->fixed);
	free(r->ones);
	free(r->zeros);
	free(r->block.cols);
	free(r->exporters);
	ZSTD_freeDCtx(r->dctx);
	free(r);
}

uint32_t spool_block_rows(const struct spool_block *b)
{
	return b->rows;
}

uint32_t spool_block_index(const struct spool_block *b)
{
	return b->index;
}

uint64_t spool_block_offset(const struct spool_block *b)
{
	return b->offset;
}

int spool_block_column(const struct spool_block *b, int col, struct spool_column *out)
{
	if (col < 0 || (size_t)col >= b->h->def->ncols)
		return -1;
	*out = b->cols[col].c;
	return 0;
}

static uint64_t get_le(const uint8_t *p, size_t width)
{
	switch (width) {
	case 1: return p[0];
	case 2: return spf_get16(p);
	case 4: return spf_get32(p);
	default: return spf_get64(p);
	}
}

/* Number of set bits among the first `row` bits of bm. */
static uint32_t rank(const uint8_t *bm, uint32_t row)
{
	uint32_t n = 0, k = 0;
	for (; k + 8 <= row; k += 8)
		n += (uint32_t)__builtin_popcount(bm[k / 8]);
	if (k < row)
		n += (uint32_t)__builtin_popcount(bm[k / 8] & ((1u << (row - k)) - 1));
	return n;
}

int spool_block_row(struct spool_block *b, uint32_t row, struct qs_record *rec)
{
	if (row >= b->rows)
		return -1;
	qs_record_clear(rec, b->h->def);
	for (size_t i = 0; i < b->h->def->ncols; i++) {
		struct col_state *cs = &b->cols[i];
		const struct spool_column *c = &cs->c;
		if (c->npresent == 0)
			continue;
		uint32_t idx;
		if (c->npresent == c->rows) {
			idx = row;
		} else {
			if (cs->next_row != row)
				cs->next_idx = rank(c->present, row);
			idx = cs->next_idx;
			int has = (c->present[row / 8] >> (row & 7)) & 1;
			cs->next_row = row + 1;
			cs->next_idx = idx + (uint32_t)has;
			if (!has)
				continue;
		}
		if (c->type == QS_STR)
			qs_record_set_bytes(rec, (int)i, c->values + c->str_off[idx],
					    c->str_off[idx + 1] - c->str_off[idx]);
		else if (c->type == QS_IPV6 || c->type == QS_MAC)
			qs_record_set_bytes(rec, (int)i, c->values + (size_t)idx * c->width,
					    (uint32_t)c->width);
		else
			qs_record_set_u(rec, (int)i, get_le(c->values + (size_t)idx * c->width, c->width));
	}
	return 0;
}

void spool_block_token(const struct spool_header *h, uint32_t block_index, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%" PRIu32, h->file_id_hex, block_index);
}

int spool_verify(const char *path, struct spool_trailer *t, char *err, size_t errlen)
{
	struct spool_reader *r = spool_reader_open(path, err, errlen);
	if (!r)
		return -1;
	struct spool_block *b;
	int rc;
	while ((rc = spool_reader_next(r, &b)) == 1)
		;
	if (rc == 0 && !r->h.schema_hash_ok) {
		fail(r, 32, -1, "schema hash does not match the column list");
		rc = -1;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s", r->err);
	} else if (t) {
		*t = r->trailer;
		t->exporters = NULL;
	}
	spool_reader_close(r);
	return rc < 0 ? -1 : 0;
}

/* body.c: see body.h. zlib for gzip/deflate, libzstd for zstd. */
#include "body.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

struct body {
	enum body_encoding enc;
	z_stream z;
	int z_init;
	ZSTD_DCtx *zd;
	size_t zstd_last; /* last ZSTD_decompressStream hint: 0 = frame complete */
	char *mem;
	size_t len, cap;
	int fd;
	char path[PATH_MAX + 16];
	char tmpdir[PATH_MAX];
	size_t spill_at;
	uint64_t limit, total, raw;
	int z_done;
	char err[256];
};

int body_encoding_parse(const char *v, enum body_encoding *out)
{
	if (!v || !*v || !strcasecmp(v, "identity"))
		*out = BODY_IDENTITY;
	else if (!strcasecmp(v, "gzip") || !strcasecmp(v, "x-gzip"))
		*out = BODY_GZIP;
	else if (!strcasecmp(v, "deflate"))
		*out = BODY_DEFLATE;
	else if (!strcasecmp(v, "zstd"))
		*out = BODY_ZSTD;
	else
		return -1;
	return 0;
}

struct body *body_new(enum body_encoding enc, const char *tmpdir, size_t spill_at, uint64_t limit)
{
	struct body *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	b->enc = enc;
	b->fd = -1;
	b->spill_at = spill_at;
	b->limit = limit;
	snprintf(b->tmpdir, sizeof b->tmpdir, "%s", tmpdir);
	if (enc == BODY_GZIP || enc == BODY_DEFLATE) {
		/* 15+32: zlib or gzip header auto-detected; deflate per HTTP is zlib-wrapped. */
		if (inflateInit2(&b->z, enc == BODY_GZIP ? 15 + 16 : 15 + 32) != Z_OK) {
			free(b);
			return NULL;
		}
		b->z_init = 1;
	} else if (enc == BODY_ZSTD) {
		b->zd = ZSTD_createDCtx();
		if (!b->zd) {
			free(b);
			return NULL;
		}
		/* Bound the window a hostile frame may ask for (128 MiB). */
		ZSTD_DCtx_setParameter(b->zd, ZSTD_d_windowLogMax, 27);
	}
	return b;
}

static int fail(struct body *b, const char *fmt, const char *detail)
{
	snprintf(b->err, sizeof b->err, fmt, detail);
	return -1;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int spill(struct body *b)
{
	snprintf(b->path, sizeof b->path, "%s/body-XXXXXX", b->tmpdir);
	b->fd = mkstemp(b->path);
	if (b->fd < 0) {
		b->path[0] = 0;
		return fail(b, "cannot create a temporary file for the request body: %s", strerror(errno));
	}
	if (write_all(b->fd, b->mem, b->len) != 0)
		return fail(b, "cannot write the request body to a temporary file: %s", strerror(errno));
	free(b->mem);
	b->mem = NULL;
	b->len = b->cap = 0;
	return 0;
}

static int sink(struct body *b, const char *p, size_t n)
{
	if (n == 0)
		return 0;
	b->total += n;
	if (b->limit && b->total > b->limit)
		return fail(b, "request body larger than the limit%s (see --max-body)", "");
	if (b->fd >= 0) {
		if (write_all(b->fd, p, n) != 0)
			return fail(b, "cannot write the request body to a temporary file: %s", strerror(errno));
		return 0;
	}
	if (b->len + n > b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 65536;
		while (nc < b->len + n)
			nc *= 2;
		char *m = realloc(b->mem, nc + 1);
		if (!m)
			return fail(b, "out of memory for the request body%s", "");
		b->mem = m;
		b->cap = nc;
	}
	memcpy(b->mem + b->len, p, n);
	b->len += n;
	b->mem[b->len] = 0;
	if (b->len > b->spill_at && b->tmpdir[0])
		return spill(b);
	return 0;
}

int body_feed(struct body *b, const void *data, size_t len)
{
	b->raw += len;
	if (b->enc == BODY_IDENTITY)
		return sink(b, data, len);
	char out[65536];
	if (b->z_init) {
		if (b->z_done && len > 0)
			return fail(b, "data after the end of the %s stream", "gzip/deflate");
		b->z.next_in = (Bytef *)(uintptr_t)data;
		b->z.avail_in = (uInt)len;
		while (b->z.avail_in > 0 && !b->z_done) {
			b->z.next_out = (Bytef *)out;
			b->z.avail_out = sizeof out;
			int rc = inflate(&b->z, Z_NO_FLUSH);
			if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
				return fail(b, "cannot decompress the gzip/deflate request body: %s",
					    b->z.msg ? b->z.msg : "corrupt data");
			if (sink(b, out, sizeof out - b->z.avail_out) != 0)
				return -1;
			if (rc == Z_STREAM_END)
				b->z_done = 1;
			else if (rc == Z_BUF_ERROR && b->z.avail_out != 0)
				break;
		}
		return 0;
	}
	ZSTD_inBuffer in = {data, len, 0};
	for (;;) {
		ZSTD_outBuffer o = {out, sizeof out, 0};
		size_t rc = ZSTD_decompressStream(b->zd, &o, &in);
		if (ZSTD_isError(rc))
			return fail(b, "cannot decompress the zstd request body: %s", ZSTD_getErrorName(rc));
		b->zstd_last = rc; /* 0: a frame just ended */
		if (sink(b, out, o.pos) != 0)
			return -1;
		if (in.pos == in.size && o.pos < o.size)
			break;
	}
	return 0;
}

int body_finish(struct body *b)
{
	if (b->z_init && b->raw > 0 && !b->z_done)
		return fail(b, "the gzip/deflate request body is truncated%s", "");
	if (b->zd && b->raw > 0 && b->zstd_last != 0)
		return fail(b, "the zstd request body is truncated%s", "");
	return 0;
}

const char *body_error(const struct body *b) { return b->err; }
uint64_t body_size(const struct body *b) { return b->total; }
uint64_t body_raw_size(const struct body *b) { return b->raw; }
const char *body_memory(const struct body *b) { return b->fd >= 0 ? NULL : (b->mem ? b->mem : ""); }
const char *body_path(const struct body *b) { return b->fd >= 0 ? b->path : NULL; }

int body_load(struct body *b)
{
	if (b->fd < 0)
		return 0;
	size_t n = (size_t)b->total;
	char *m = malloc(n + 1);
	if (!m)
		return fail(b, "out of memory loading the request body%s", "");
	size_t off = 0;
	while (off < n) {
		ssize_t r = pread(b->fd, m + off, n - off, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(m);
			return fail(b, "cannot read back the request body: %s", r < 0 ? strerror(errno) : "short file");
		}
		off += (size_t)r;
	}
	m[n] = 0;
	close(b->fd);
	unlink(b->path);
	b->fd = -1;
	b->path[0] = 0;
	b->mem = m;
	b->len = b->cap = n;
	return 0;
}

int body_spill(struct body *b)
{
	if (b->fd >= 0)
		return 0;
	if (!b->tmpdir[0])
		return fail(b, "no directory for the request body's temporary file%s", "");
	return spill(b);
}

void body_free(struct body *b)
{
	if (!b)
		return;
	if (b->fd >= 0) {
		close(b->fd);
		unlink(b->path);
	}
	if (b->z_init)
		inflateEnd(&b->z);
	if (b->zd)
		ZSTD_freeDCtx(b->zd);
	free(b->mem);
	free(b);
}

/* spool_io.c: folders, lock, encoding and atomic publication for the spool
 * writer (see spool_io.h). */
#include "spool/spool_io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "spool/spool_format.h"

static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/* mkdir -p; fsync the parent of every folder created. */
static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != 0)
			continue;
		char c = buf[i];
		buf[i] = 0;
		if (mkdir(buf, 0750) == 0) {
			char *slash = strrchr(buf, '/');
			if (slash == buf)
				fsync_path("/");
			else if (slash) {
				*slash = 0;
				fsync_path(buf);
				*slash = '/';
			} else {
				fsync_path(".");
			}
		} else if (errno != EEXIST) {
			return -1;
		}
		buf[i] = c;
	}
	return 0;
}

int sio_open_dirs(const char *dir, int *dirfd, int *tmpfd, char *err, size_t errlen)
{
	char p[PATH_MAX];
	const char *sub[] = { "", "/.tmp", "/.quarantine" };
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s%s", dir, sub[i]);
		if (mkdir_p(p) < 0) {
			int e = errno;
			snprintf(err, errlen, "spool: cannot create folder %s: %s (check the spool path and "
				 "its permissions)", p, strerror(e));
			errno = e;
			return -1;
		}
	}
	*dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(p, sizeof p, "%s/.tmp", dir);
	*tmpfd = *dirfd >= 0 ? open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (*dirfd < 0 || *tmpfd < 0) {
		int e = errno;
		snprintf(err, errlen, "spool: cannot open folder %s: %s", *dirfd < 0 ? dir : p, strerror(e));
		errno = e;
		return -1;
	}
	return 0;
}

int sio_lock_instance(int tmpfd, const char *dir, const char *instance, int *lockfd, char *err,
		      size_t errlen)
{
	char name[96];
	snprintf(name, sizeof name, "%s.lock", instance);
	int fd = openat(tmpfd, name, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "spool: cannot open lock %s/.tmp/%s: %s", dir, name, strerror(e));
		errno = e;
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno == EWOULDBLOCK ? EBUSY : errno;
		snprintf(err, errlen, "spool: another writer with instance '%s' is running on %s "
			 "(lock %s/.tmp/%s held); give each receiver its own instance name",
			 instance, dir, dir, name);
		close(fd);
		errno = e;
		return -1;
	}
	*lockfd = fd;
	return 0;
}

static size_t put_str(uint8_t *p, const char *s)
{
	size_t n = strlen(s);
	p[0] = (uint8_t)n;
	memcpy(p + 1, s, n);
	return 1 + n;
}

size_t sio_build_header(uint8_t *buf, size_t cap, const struct sio_header_fields *f)
{
	size_t need = 66 + 3 + strlen(f->stream) + strlen(f->instance) + strlen(f->host) + 4;
	for (size_t i = 0; i < f->ncols; i++)
		need += 3 + strlen(f->cols[i].name);
	if (need > cap || need > SPF_MAX_HEADER_LEN || strlen(f->host) > SPF_MAX_NAME_LEN)
		return 0;
	memset(buf, 0, need);
	memcpy(buf, SPF_MAGIC, SPF_MAGIC_LEN);
	spf_put16(buf + 8, SPF_VERSION_MAJOR);
	spf_put16(buf + 10, SPF_VERSION_MINOR);
	spf_put32(buf + 12, (uint32_t)need);
	spf_put32(buf + 16, SPF_HF_NONE);
	spf_put32(buf + 20, f->dpi);
	spf_put32(buf + 24, QS_SCHEMA_VERSION);
	spf_put32(buf + 28, f->block_rows);
	spf_put64(buf + 32, f->schema_hash);
	memcpy(buf + 40, f->file_id, 16);
	spf_put64(buf + 56, f->created_ms);
	spf_put16(buf + 64, (uint16_t)f->ncols);
	size_t pos = 66;
	pos += put_str(buf + pos, f->stream);
	pos += put_str(buf + pos, f->instance);
	pos += put_str(buf + pos, f->host);
	for (size_t i = 0; i < f->ncols; i++) {
		buf[pos++] = spf_type_code(f->cols[i].type);
		buf[pos++] = 0;
		pos += put_str(buf + pos, f->cols[i].name);
	}
	spf_put32(buf + pos, spf_crc32(0, buf, pos));
	return pos + 4;
}

void sio_block_header(uint8_t *h, uint8_t type, uint8_t codec, uint32_t index, uint32_t rows,
		      uint32_t stored_len, uint32_t raw_len, uint32_t crc)
{
	spf_put32(h, SPF_BLOCK_MAGIC);
	h[4] = type;
	h[5] = codec;
	spf_put16(h + 6, 0);
	spf_put32(h + 8, index);
	spf_put32(h + 12, rows);
	spf_put32(h + 16, stored_len);
	spf_put32(h + 20, raw_len);
	spf_put32(h + 24, crc);
	spf_put32(h + 28, spf_crc32(0, h, 28));
}

int sio_tmpfile(const char *dir, const char *prefix)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	char path[PATH_MAX];
	if (snprintf(path, sizeof path, "%s/%sXXXXXX", dir, prefix) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

int sio_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int sio_write_at(int fd, uint64_t off, const void *buf, size_t len)
{
	if (lseek(fd, (off_t)off, SEEK_SET) < 0)
		return -1;
	if (sio_write_all(fd, buf, len) == 0)
		return 0;
	int e = errno;
	/* Undo the partial write: ftruncate needs no free blocks. */
	if (ftruncate(fd, (off_t)off) < 0)
		log_err("spool: cannot truncate a failed write back to offset %llu: %s",
			(unsigned long long)off, strerror(errno));
	errno = e;
	return -1;
}

/* Trailer block + footer for p, in a malloc'ed buffer; *len set. */
static uint8_t *build_trailer(const struct sio_publish *p, size_t *len)
{
	size_t plen = 36;
	for (size_t i = 0; i < p->nexp; i++)
		plen += 1 + strnlen(p->exp[i].peer, SPF_MAX_PEER_LEN) + 4 + 48;
	uint8_t *b = malloc(SPF_BLOCK_HDR_LEN + plen + SPF_FOOTER_LEN);
	if (!b)
		return NULL;
	uint8_t *t = b + SPF_BLOCK_HDR_LEN;
	spf_put64(t, p->rows);
	spf_put32(t + 8, p->nblocks);
	spf_put32(t + 12, p->flags);
	spf_put64(t + 16, p->closed_ms);
	spf_put64(t + 24, (uint64_t)p->ready_s);
	spf_put32(t + 32, (uint32_t)p->nexp);
	size_t pos = 36;
	for (size_t i = 0; i < p->nexp; i++) {
		const struct spool_exporter_stats *e = &p->exp[i];
		size_t n = strnlen(e->peer, SPF_MAX_PEER_LEN);
		t[pos++] = (uint8_t)n;
		for (size_t k = 0; k < n; k++) /* printable ASCII only, as readers require */
			t[pos++] = (e->peer[k] >= 0x20 && e->peer[k] <= 0x7e) ? (uint8_t)e->peer[k] : '?';
		spf_put32(t + pos, e->domain);
		uint64_t v[6] = { e->messages, e->records, e->bytes, e->seq_gaps,
				  e->unknown_template_records, e->malformed_messages };
		for (int k = 0; k < 6; k++)
			spf_put64(t + pos + 4 + 8 * k, v[k]);
		pos += 52;
	}
	sio_block_header(b, SPF_BT_TRAILER, SPF_CODEC_NONE, p->nblocks, 0, (uint32_t)plen,
			 (uint32_t)plen, spf_crc32(0, t, plen));
	memcpy(t + plen, SPF_END_MAGIC, 8);
	spf_put64(t + plen + 8, p->good_end);
	*len = SPF_BLOCK_HDR_LEN + plen + SPF_FOOTER_LEN;
	return b;
}

/* Rename without overwriting; falls back to link + unlink where the file
 * system has no renameat2 (same guarantee, not atomic against a crash). */
static int rename_noreplace(int fromfd, const char *from, int tofd, const char *to)
{
	if (renameat2(fromfd, from, tofd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (linkat(fromfd, from, tofd, to, 0) < 0)
		return -1;
	unlinkat(fromfd, from, 0);
	return 0;
}

int sio_publish(const struct sio_publish *p, char *name, size_t namelen)
{
	if (!p->trailer_written) {
		size_t len;
		uint8_t *b = build_trailer(p, &len);
		if (!b) {
			errno = ENOMEM;
			return -1;
		}
		int rc = sio_write_at(p->fd, p->good_end, b, len);
		free(b);
		if (rc < 0)
			return -1;
	}
	if (fsync(p->fd) < 0)
		goto undo;
	uint32_t rnd = p->rnd;
	for (int tries = 0;; tries++) {
		if (spf_format_name(name, namelen, p->stream, p->dpi, p->start, p->instance, rnd,
				    p->ready_s) < 0) {
			errno = ENAMETOOLONG;
			goto undo;
		}
		if (rename_noreplace(p->tmpfd, p->tmpname, p->dirfd, name) == 0)
			break;
		if (errno != EEXIST || tries >= 16)
			goto undo;
		if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
			goto undo;
	}
	if (fsync(p->dirfd) < 0)
		log_err("spool: fsync of %s failed after publishing %s: %s", p->dir, name, strerror(errno));
	fsync(p->tmpfd);
	return 0;
undo:;
	int e = errno;
	if (!p->trailer_written && ftruncate(p->fd, (off_t)p->good_end) < 0)
		log_err("spool: cannot truncate %s/.tmp/%s: %s", p->dir, p->tmpname, strerror(errno));
	errno = e;
	return -1;
}

static int write_reason(const char *qdir, const char *name, const char *reason)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s.reason", qdir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	int rc = sio_write_all(fd, reason, strlen(reason));
	if (rc == 0)
		rc = sio_write_all(fd, "\n", 1);
	if (rc == 0)
		rc = fsync(fd);
	close(fd);
	return rc;
}

/* A name in .quarantine/ not used yet: base, base.1, base.2 ... */
static int free_name(int qfd, const char *base, char *out, size_t outlen)
{
	for (int i = 0; i < 1000; i++) {
		int n = i ? snprintf(out, outlen, "%s.%d", base, i) : snprintf(out, outlen, "%s", base);
		if (n < 0 || (size_t)n >= outlen) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (faccessat(qfd, out, F_OK, 0) < 0 && errno == ENOENT)
			return 0;
	}
	errno = EEXIST;
	return -1;
}

int sio_quarantine(int tmpfd, const char *dir, const char *name, const char *reason, char *out,
		   size_t outlen)
{
	char qdir[PATH_MAX];
	snprintf(qdir, sizeof qdir, "%s/.quarantine", dir);
	int qfd = open(qdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (qfd < 0)
		return -1;
	int rc = -1;
	for (int tries = 0; tries < 4; tries++) {
		if (free_name(qfd, name, out, outlen) < 0)
			break;
		if (rename_noreplace(tmpfd, name, qfd, out) == 0) {
			rc = 0;
			break;
		}
		if (errno != EEXIST)
			break;
	}
	int e = errno;
	if (rc == 0) {
		write_reason(qdir, out, reason);
		fsync(qfd);
		fsync(tmpfd);
	}
	close(qfd);
	errno = e;
	return rc;
}

int sio_quarantine_tail(const char *dir, const char *name, int fd, uint64_t from, uint64_t size,
			const char *reason, char *out, size_t outlen)
{
	char qdir[PATH_MAX], base[300], path[PATH_MAX + 320];
	snprintf(qdir, sizeof qdir, "%s/.quarantine", dir);
	snprintf(base, sizeof base, "%s.tail", name);
	int qfd = open(qdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (qfd < 0)
		return -1;
	int rc = -1, ofd = -1;
	uint8_t *buf = malloc(1 << 16);
	if (!buf || free_name(qfd, base, out, outlen) < 0)
		goto out;
	snprintf(path, sizeof path, "%s/%s", qdir, out);
	ofd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (ofd < 0)
		goto out;
	for (uint64_t off = from; off < size;) {
		size_t want = size - off > (1 << 16) ? (1 << 16) : (size_t)(size - off);
		ssize_t n = pread(fd, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			goto out;
		}
		if (sio_write_all(ofd, buf, (size_t)n) < 0)
			goto out;
		off += (uint64_t)n;
	}
	if (fsync(ofd) < 0 || write_reason(qdir, out, reason) < 0)
		goto out;
	fsync(qfd);
	rc = 0;
out:;
	int e = errno;
	if (ofd >= 0)
		close(ofd);
	if (rc < 0 && ofd >= 0)
		unlinkat(qfd, out, 0);
	free(buf);
	close(qfd);
	errno = e;
	return rc;
}

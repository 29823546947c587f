/* spool_io.h: the file-system side of the spool writer, shared by the writer
 * (spool.c) and the salvage at start (spool_salvage.c): folder creation with
 * fsync, the per-instance lock, header and block-header encoding, writes that
 * leave the file as it was when they fail, publication (trailer, footer,
 * fsync, renameat2 RENAME_NOREPLACE, fsync of the folder) and quarantine.
 * All calls block on disk I/O; none keeps state; -1 means errno is set.
 */
#ifndef QOESTOR_SPOOL_IO_H
#define QOESTOR_SPOOL_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "spool/spool.h"

/* mkdir -p dir, dir/.tmp and dir/.quarantine (fsyncing the parent of each
 * folder it creates); opens dir and dir/.tmp as O_DIRECTORY fds. */
int sio_open_dirs(const char *dir, int *dirfd, int *tmpfd, char *err, size_t errlen);

/* Take the exclusive lock .tmp/<instance>.lock (flock, non-blocking) and keep
 * it open in *lockfd. EBUSY when another process holds it. */
int sio_lock_instance(int tmpfd, const char *dir, const char *instance, int *lockfd, char *err,
		      size_t errlen);

struct sio_header_fields {
	const char *stream, *instance, *host;
	unsigned dpi;
	uint32_t block_rows;
	uint64_t schema_hash;
	const uint8_t *file_id; /* 16 bytes */
	uint64_t created_ms;
	const struct qs_column *cols;
	size_t ncols;
};
/* Encode a file header into buf; returns its length, 0 if it does not fit. */
size_t sio_build_header(uint8_t *buf, size_t cap, const struct sio_header_fields *f);

/* Encode a 32-byte block header. */
void sio_block_header(uint8_t *h, uint8_t type, uint8_t codec, uint32_t index, uint32_t rows,
		      uint32_t stored_len, uint32_t raw_len, uint32_t crc);

/* A new file in dir that has no name (O_TMPFILE, or on file systems without
 * it <dir>/<prefix>XXXXXX made by mkostemp, then unlinked), open for reading
 * and writing: scratch space that vanishes with the process. -1, errno set. */
int sio_tmpfile(const char *dir, const char *prefix);

/* write(2) until done (EINTR retried). */
int sio_write_all(int fd, const void *buf, size_t len);
/* Write len bytes at offset off; on failure truncate the file back to off. */
int sio_write_at(int fd, uint64_t off, const void *buf, size_t len);

struct sio_publish {
	int dirfd, tmpfd;
	const char *dir;
	int fd;                 /* the temporary file, open for writing; not closed */
	const char *tmpname;    /* its name in .tmp/ */
	uint64_t good_end;      /* where the trailer goes */
	uint64_t rows;
	uint32_t nblocks;
	uint32_t flags;         /* SPF_TF_* */
	uint64_t closed_ms;
	int64_t ready_s;
	const struct spool_exporter_stats *exp;
	size_t nexp;
	const char *stream, *instance;
	unsigned dpi;
	time_t start;
	uint32_t rnd;           /* preferred random part of the name */
	int trailer_written;    /* 1: the file is already complete, only fsync + rename */
};
/* Append trailer and footer (unless trailer_written), fsync, rename into
 * dir without overwriting (a new random part on EEXIST), fsync dir. The
 * published name goes to name. On failure the file is truncated back to
 * good_end and stays in .tmp/. */
int sio_publish(const struct sio_publish *p, char *name, size_t namelen);

/* Move .tmp/<name> (or, with tail_fd >= 0, the bytes [from, size) of
 * tail_fd into a new file) to dir/.quarantine/ and write a .reason file next
 * to it. The final name goes to out. */
int sio_quarantine(int tmpfd, const char *dir, const char *name, const char *reason, char *out,
		   size_t outlen);
int sio_quarantine_tail(const char *dir, const char *name, int fd, uint64_t from, uint64_t size,
			const char *reason, char *out, size_t outlen);

#endif

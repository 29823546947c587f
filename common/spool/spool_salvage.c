/* spool_salvage.c: recovery of a crashed writer's temporary files (see
 * spool_salvage.h). Reads each leftover with the verifying reader, so only
 * blocks that pass every check are ever published. */
#include "spool/spool_salvage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "spool/spool_format.h"
#include "spool/spool_io.h"
#include "spool/spool_reader.h"

static void quarantine(int tmpfd, const char *dir, const char *name, const char *reason,
		       struct salvage_result *res)
{
	char out[300];
	if (sio_quarantine(tmpfd, dir, name, reason, out, sizeof out) < 0) {
		log_err("spool %s: cannot move unreadable .tmp/%s to .quarantine/: %s; left in place "
			"(%s)", dir, name, strerror(errno), reason);
		res->failed++;
		return;
	}
	log_warn("spool %s: moved unreadable .tmp/%s to .quarantine/%s: %s", dir, name, out, reason);
	res->quarantined++;
}

static void salvage_one(int dirfd, int tmpfd, const char *dir, const char *name,
			const char *stream_name, unsigned dpi, const char *instance, unsigned delay_s,
			struct salvage_result *res)
{
	char path[PATH_MAX + 300], err[512];
	snprintf(path, sizeof path, "%s/.tmp/%s", dir, name);
	struct spool_reader *r = spool_reader_open(path, err, sizeof err);
	if (!r) {
		int fd = openat(tmpfd, name, O_RDONLY | O_CLOEXEC);
		off_t size = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
		if (fd >= 0)
			close(fd);
		if (size == 0) {
			unlinkat(tmpfd, name, 0);
			log_notice("spool %s: removed empty leftover .tmp/%s", dir, name);
			res->removed++;
			return;
		}
		quarantine(tmpfd, dir, name, err, res);
		return;
	}
	const struct spool_header *h = spool_reader_header(r);
	if (strcmp(h->stream, stream_name) != 0 || h->dpi_id != dpi || strcmp(h->instance, instance) != 0) {
		snprintf(err, sizeof err, "written for stream %s, dpi %u, instance %s: not this folder's",
			 h->stream, h->dpi_id, h->instance);
		spool_reader_close(r);
		quarantine(tmpfd, dir, name, err, res);
		return;
	}
	struct spool_block *b;
	int rc;
	while ((rc = spool_reader_next(r, &b)) == 1)
		;
	uint64_t good_end = spool_reader_good_end(r), size = spool_reader_size(r);
	uint32_t nblocks = spool_reader_blocks_read(r);
	uint64_t rows = spool_reader_rows_read(r);
	snprintf(err, sizeof err, "%s", spool_reader_error(r));
	struct sio_publish p = {
		.dirfd = dirfd, .tmpfd = tmpfd, .dir = dir, .fd = -1, .tmpname = name,
		.good_end = good_end, .rows = rows, .nblocks = nblocks, .flags = SPF_TF_SALVAGED,
		.closed_ms = (uint64_t)time(NULL) * 1000, .ready_s = (int64_t)time(NULL) + delay_s,
		.stream = stream_name, .dpi = dpi, .instance = instance, /* checked equal above */
		.start = (time_t)(h->created_ms / 1000), .rnd = spf_get32(h->file_id),
		.trailer_written = rc == 0,
	};
	uint64_t header_len = h->header_len;
	spool_reader_close(r);

	if (rc < 0 && nblocks == 0) {
		if (size == header_len) {
			unlinkat(tmpfd, name, 0);
			log_notice("spool %s: removed leftover .tmp/%s (a header, no rows)", dir, name);
			res->removed++;
		} else {
			quarantine(tmpfd, dir, name, err, res);
		}
		return;
	}
	int fd = openat(tmpfd, name, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		log_err("spool %s: cannot open .tmp/%s to salvage it: %s", dir, name, strerror(errno));
		res->failed++;
		return;
	}
	p.fd = fd;
	if (rc < 0 && size > good_end) {
		char out[300];
		if (sio_quarantine_tail(dir, name, fd, good_end, size, err, out, sizeof out) < 0) {
			log_err("spool %s: cannot save the torn end of .tmp/%s: %s; left in place, "
				"retried at the next start", dir, name, strerror(errno));
			close(fd);
			res->failed++;
			return;
		}
		log_warn("spool %s: torn end of .tmp/%s (%" PRIu64 " bytes) saved as .quarantine/%s: %s",
			 dir, name, size - good_end, out, err);
		res->quarantined++;
		if (ftruncate(fd, (off_t)good_end) < 0) {
			log_err("spool %s: cannot truncate .tmp/%s: %s", dir, name, strerror(errno));
			close(fd);
			res->failed++;
			return;
		}
	}
	char pub[256];
	if (sio_publish(&p, pub, sizeof pub) < 0) {
		log_err("spool %s: cannot publish salvaged .tmp/%s: %s; left in place, retried at the "
			"next start", dir, name, strerror(errno));
		close(fd);
		res->failed++;
		return;
	}
	close(fd);
	res->published++;
	res->rows += rows;
	log_warn("spool %s: salvaged %" PRIu64 " rows in %" PRIu32 " blocks from a previous run as %s%s",
		 dir, rows, nblocks, pub, rc == 0 ? " (it was complete)" : "");
}

void salvage_instance(int dirfd, int tmpfd, const char *dir, const char *stream, unsigned dpi,
		      const char *instance, unsigned delay_s, struct salvage_result *res)
{
	memset(res, 0, sizeof *res);
	int fd = dup(tmpfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		log_err("spool %s: cannot list .tmp/ for salvage: %s", dir, strerror(errno));
		return;
	}
	size_t ilen = strlen(instance);
	/* Collect first: salvage renames entries of the folder being listed. */
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (len <= ilen + 6 || strncmp(e->d_name, instance, ilen) != 0 || e->d_name[ilen] != '.' ||
		    strcmp(e->d_name + len - 5, ".part") != 0)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			char **nn = realloc(names, nc * sizeof *nn);
			if (!nn)
				break;
			names = nn;
			cap = nc;
		}
		if (!(names[n] = strdup(e->d_name)))
			break;
		n++;
	}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		salvage_one(dirfd, tmpfd, dir, names[i], stream, dpi, instance, delay_s, res);
		free(names[i]);
	}
	free(names);
}

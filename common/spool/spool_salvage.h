/* spool_salvage.h: recovery of the temporary files a crashed writer left in
 * <dir>/.tmp/ (called by spool_writer_open, under the instance lock).
 *
 * For each .tmp/<instance>.*.part:
 *  - complete (trailer and footer valid): published as it is;
 *  - torn with >= 1 verified data block: bytes after the last verified block
 *    are copied to .quarantine/<name>.tail (+ .reason), the file is cut there,
 *    given a trailer flagged SPF_TF_SALVAGED and published;
 *  - a header and nothing else (or an empty file): removed, with a log line;
 *  - anything else (unreadable header, no verified block, a header naming
 *    another stream, DPI or instance): moved whole to .quarantine/ with a
 *    .reason file.
 * A step that fails (disk full...) leaves the file where it is for the next
 * start, with an error log line. Blocks on disk I/O; logs through log.h.
 */
#ifndef QOESTOR_SPOOL_SALVAGE_H
#define QOESTOR_SPOOL_SALVAGE_H

#include <stdint.h>

struct salvage_result {
	unsigned published;    /* files published (complete or salvaged) */
	unsigned quarantined;  /* files (or tails) moved to .quarantine/ */
	unsigned removed;      /* empty leftovers removed */
	unsigned failed;       /* left in place after an error */
	uint64_t rows;         /* rows published by salvage */
};

void salvage_instance(int dirfd, int tmpfd, const char *dir, const char *stream, unsigned dpi,
		      const char *instance, unsigned delay_s, struct salvage_result *res);

#endif

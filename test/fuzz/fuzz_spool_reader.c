/* fuzz_spool_reader.c: libFuzzer target over the spool reader
 * (common/spool/spool_reader.c), the parser of untrusted spool files.
 *
 * Opens the input as an in-memory spool file, walks every block, reads every
 * row into a qs_record and every column view, touches every value byte (so
 * ASan sees an out-of-bounds pointer) and the trailer. Any crash, leak,
 * sanitizer report or allocation beyond -rss_limit_mb is a bug. Seeds in
 * test/fuzz/fuzz_spool_reader/corpus/ are small files made by the writer.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "spool/spool_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t sink;

static void touch(const uint8_t *p, size_t n)
{
	uint64_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += p[i];
	sink += s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	struct spool_reader *r = spool_reader_open_mem(data, size, "fuzz.qsp", err, sizeof err);
	if (!r)
		return 0;
	const struct spool_header *h = spool_reader_header(r);
	struct spool_block *b;
	struct qs_record rec;
	while (spool_reader_next(r, &b) == 1) {
		uint32_t rows = spool_block_rows(b);
		for (uint32_t i = 0; i < rows; i++) {
			spool_block_row(b, i, &rec);
			for (size_t c = 0; c < h->def->ncols; c++) {
				enum qs_type t = h->def->cols[c].type;
				if (!qs_record_has(&rec, (int)c))
					continue;
				if (t == QS_STR || t == QS_IPV6 || t == QS_MAC)
					touch(rec.v[c].p, rec.v[c].len);
				else
					sink += rec.v[c].u;
			}
		}
		if (rows > 2)
			spool_block_row(b, rows / 2, &rec); /* random access path */
		for (size_t c = 0; c < h->def->ncols; c++) {
			struct spool_column col;
			spool_block_column(b, (int)c, &col);
			touch(col.present, (col.rows + 7) / 8);
			if (col.type == QS_STR)
				touch(col.values, col.str_off[col.npresent]);
			else if (col.npresent)
				touch(col.values, (size_t)col.npresent * col.width);
		}
	}
	const struct spool_trailer *t = spool_reader_trailer(r);
	if (t)
		for (size_t i = 0; i < t->nexporters; i++)
			touch((const uint8_t *)t->exporters[i].peer, strlen(t->exporters[i].peer));
	sink += strlen(spool_reader_error(r));
	spool_reader_close(r);
	return 0;
}

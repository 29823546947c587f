/* fuzz_db_body.c: libFuzzer target for qoestor-db's request-body decoder and SQL scanner.
 *
 * The first byte picks the Content-Encoding (identity, gzip, deflate, zstd) and
 * how the rest is cut into network-sized chunks; the rest is the body. The
 * decoded body is then scanned as SQL (sqlscan), as qoestor-db does with a body
 * that carries the statement. Bodies spill to a temporary directory past 4 KiB
 * and are bounded at 8 MiB, so bombs end in an error, not in memory growth.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/body.h"
#include "db/sqlscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char tmpdir[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof tmpdir, "/tmp/qoestor-fuzz-body-XXXXXX");
		if (!mkdtemp(tmpdir))
			abort();
	}
	enum body_encoding enc = (enum body_encoding)(data[0] & 3);
	size_t chunk = 1 + (data[0] >> 2) * 37;
	data++;
	size--;
	struct body *b = body_new(enc, tmpdir, 4096, 8u << 20);
	if (!b)
		return 0;
	int ok = 1;
	for (size_t off = 0; off < size && ok; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;
		ok = body_feed(b, data + off, n) == 0;
	}
	if (ok && body_finish(b) == 0 && body_load(b) == 0) {
		const char *m = body_memory(b);
		size_t len = (size_t)body_size(b);
		char fmt[64];
		(void)sqlscan_insert_format_pos(m, len);
		(void)sqlscan_output_format(m, len, fmt, sizeof fmt);
		(void)sqlscan_is_insert(m, len);
	}
	body_free(b);
	return 0;
}

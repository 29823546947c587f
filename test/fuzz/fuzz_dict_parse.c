/* fuzz_dict_parse.c: libFuzzer target for the dictionary parser and validator.
 *
 * The first input byte picks the dictionary (every layout and column type gets
 * fuzzed); the rest is the file. A successful parse is then walked in full (every
 * value formatted), encoded as the TabSeparated body of an upload (one line per row,
 * one tab between columns, whatever the text holds) and, for prefix keys, fed to the
 * longest-prefix match builder: each prefix's first and last address must find a
 * prefix at least as long. So the accessors, dict_sql and dict_lpm see whatever the
 * parser accepts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dict/dict_lpm.h"
#include "dict/dict_parse.h"
#include "dict/dict_sql.h"
#include "dict/dict_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const struct dict_def *def = dict_def((enum dict_id)(data[0] % DICT_COUNT));
	struct dict_errors errs;
	struct dict_data *d = NULL;
	dict_errors_init(&errs, 5);
	if (dict_parse(def, "fuzz.txt", (const char *)data + 1, size - 1, &d, &errs) == 0) {
		size_t rows = dict_data_rows(d);
		size_t total = 0;
		char buf[DICT_IP_STRLEN];
		for (size_t r = 0; r < rows; r++)
			for (size_t c = 0; c < def->ncols; c++)
				total += strlen(dict_data_text(d, r, c, buf));
		if (total > size * 8 + 64 * rows * def->ncols)
			abort(); /* values cannot be longer than the file, bar canonical forms */
		size_t tlen = 0, nl = 0, tabs = 0;
		char *tsv = dict_sql_tsv(d, &tlen);
		if (!tsv)
			abort();
		for (size_t i = 0; i < tlen; i++) {
			nl += tsv[i] == '\n';
			tabs += tsv[i] == '\t';
		}
		if (nl != rows || tabs != rows * (def->ncols - 1))
			abort(); /* an escaping hole would shift columns in ClickHouse */
		free(tsv);
		if (def->cols[0].type == DT_CIDR && rows) {
			struct dict_ip *p = malloc(rows * sizeof *p);
			struct dict_lpm *l = NULL;
			for (size_t r = 0; p && r < rows; r++)
				p[r] = *dict_data_ip(d, r, 0);
			if (p && dict_lpm_build(p, rows, &l) == 0) {
				for (size_t r = 0; r < rows; r++)
					for (int last = 0; last < 2; last++) {
						struct dict_ip a = p[r];
						unsigned bits = a.v6 ? 128 : 32;
						for (unsigned b = a.plen; last && b < bits; b++)
							a.addr[b / 8] |= (uint8_t)(0x80u >> (b % 8));
						uint32_t got = a.v6 ? dict_lpm_get6(l, a.addr)
							: dict_lpm_get4(l, (uint32_t)a.addr[0] << 24 |
									  (uint32_t)a.addr[1] << 16 |
									  (uint32_t)a.addr[2] << 8 | a.addr[3]);
						if (got == DICT_LPM_NONE || got >= rows || p[got].v6 != a.v6 ||
						    p[got].plen < p[r].plen)
							abort(); /* the longest match is at least this prefix */
					}
				dict_lpm_free(l);
			}
			free(p);
		}
		dict_data_free(d);
	} else if (errs.total == 0) {
		abort(); /* a failure must say why */
	}
	dict_errors_free(&errs);
	return 0;
}

/* fuzz_dict_parse.c: libFuzzer target for the dictionary parser and validator.
 *
 * The first input byte picks the dictionary (every layout and column type gets
 * fuzzed); the rest is the file. A successful parse is then walked in full (every
 * value formatted) and, for prefix keys, fed to the longest-prefix match builder, so
 * the accessors and dict_lpm see whatever the parser accepts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dict/dict_lpm.h"
#include "dict/dict_parse.h"
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
		if (def->cols[0].type == DT_CIDR && rows) {
			struct dict_ip *p = malloc(rows * sizeof *p);
			struct dict_lpm *l = NULL;
			for (size_t r = 0; p && r < rows; r++)
				p[r] = *dict_data_ip(d, r, 0);
			if (p && dict_lpm_build(p, rows, &l) == 0) {
				for (size_t r = 0; r < rows; r++)
					if (!p[r].v6 && dict_lpm_get4(l, (uint32_t)p[r].addr[0] << 24 |
							  (uint32_t)p[r].addr[1] << 16 |
							  (uint32_t)p[r].addr[2] << 8 | p[r].addr[3]) == DICT_LPM_NONE)
						abort(); /* a prefix's own first address must match something */
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

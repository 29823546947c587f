/* fuzz_config_env.c: libFuzzer target for the vendor .env import. An import
 * without problems must print as YAML that loads without problems and
 * prints the same again (the YAML writer quotes whatever the .env held).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg_env.h"
#include "config/config.h"
#include "config/config_print.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct qs_config c1, c2;
static char report[8192], err[8192];

static char *print(const struct qs_config *c, size_t *len, int changed)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (!f)
		abort();
	qs_config_print(c, f, changed, 1);
	fclose(f);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qs_env_stats st;
	int n = qs_config_import_env("fuzz.env", (const char *)data, size, NULL, &c1, &st, report, sizeof report);
	if (n != 0)
		return 0;
	size_t l1, l2, l3;
	char *p1 = print(&c1, &l1, 1);
	if (qs_config_load_buf("printed.yaml", p1, l1, &c2, err, sizeof err) != 0) {
		fprintf(stderr, "imported config prints as YAML that does not load:\n%s\n%s", p1, err);
		abort();
	}
	char *full1 = print(&c1, &l2, 0), *full2 = print(&c2, &l3, 0);
	if (strcmp(full1, full2) != 0) {
		fprintf(stderr, "import and its YAML differ:\n%s\n----\n%s", full1, full2);
		abort();
	}
	free(p1);
	free(full1);
	free(full2);
	return 0;
}

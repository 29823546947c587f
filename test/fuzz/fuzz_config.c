/* fuzz_config.c: libFuzzer target for the qoestor.yaml reader (libyaml plus
 * the table-driven walker and checks). Whatever it accepts must print as
 * YAML that loads again without problems and prints the same (the
 * round-trip property), and must render every program's command line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg_args.h"
#include "config/config.h"
#include "config/config_print.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct qs_config c1, c2;
static char err[8192];
static struct qs_cfg_argv a;

static char *print(const struct qs_config *c, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (!f)
		abort();
	qs_config_print(c, f, 0, 1);
	fclose(f);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (qs_config_load_buf("fuzz.yaml", (const char *)data, size, &c1, err, sizeof err) != 0)
		return 0;
	size_t l1, l2;
	char *p1 = print(&c1, &l1);
	if (qs_config_load_buf("printed.yaml", p1, l1, &c2, err, sizeof err) != 0) {
		fprintf(stderr, "accepted config prints as YAML that does not load:\n%s\n%s", p1, err);
		abort();
	}
	char *p2 = print(&c2, &l2);
	if (strcmp(p1, p2) != 0) {
		fprintf(stderr, "round trip differs:\n%s\n----\n%s", p1, p2);
		abort();
	}
	free(p1);
	free(p2);
	for (unsigned i = 0; i < c1.ndpis; i++)
		for (unsigned s = 0; s < QS_STREAM_COUNT; s++)
			qs_cfg_recv_argv(&c1, (enum qs_stream)s, c1.dpis[i].id, "r", &a, err, sizeof err);
	qs_cfg_loader_argv(&c1, "l", &a, err, sizeof err);
	qs_cfg_db_argv(&c1, "d", &a, err, sizeof err);
	return 0;
}

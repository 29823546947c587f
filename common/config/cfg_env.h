/* cfg_env.h: the vendor's /var/qoestor/backend/.env converted to a config.
 *
 * Reads the manual's format: KEY=VALUE and KEY[N]=VALUE lines, '#' comments
 * (commented-out assignments are the manual's defaults and stay defaults),
 * optional quotes, and the manual's own oddity: a key alone on a line with its
 * values listed in the comments below. Each key is mapped through the key
 * table's .env names and set with the same setter as the YAML, so values are
 * checked by the same rules. Never fails on input: what it cannot convert is
 * reported, one line each ("FILE:LINE: KEY: what; what was done"), and left out.
 * Pure computation over a buffer; the caller owns c and report.
 */
#ifndef QOESTOR_CONFIG_CFG_ENV_H
#define QOESTOR_CONFIG_CFG_ENV_H

#include <stddef.h>

#include "config/config.h"

struct qs_env_stats {
	unsigned converted;   /* assignments applied */
	unsigned commented;   /* commented-out assignments of known keys (defaults) */
	unsigned problems;    /* keys not understood, without a value, or with bad values */
};

/* Convert the .env text in buf into c (defaults, receivers from the file
 * only; listen is the receivers' address, NULL for 127.0.0.1), then run
 * qs_config_check. Messages go to report (lines, truncated to replen).
 * Returns the number of problems (also in st->problems). */
int qs_config_import_env(const char *name, const char *buf, size_t len, const char *listen, struct qs_config *c,
			 struct qs_env_stats *st, char *report, size_t replen);

#endif

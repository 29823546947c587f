/* config_print.h: qoestor.yaml written out from the key table: the effective
 * configuration (--check-config, import-env), the fully commented reference
 * file (conf/qoestor.yaml) and the Markdown reference (docs/CONFIGURATION.md).
 * The last two are generated, committed, and checked for drift by the tests.
 * Pure output to a FILE the caller owns; no other side effects.
 */
#ifndef QOESTOR_CONFIG_CONFIG_PRINT_H
#define QOESTOR_CONFIG_CONFIG_PRINT_H

#include <stdio.h>

#include "config/config.h"

/* Print c as YAML that qs_config_load accepts. only_changed: leave out keys
 * equal to their (computed) default, except each receiver's port and
 * transport (import-env). Passwords print as "(hidden)" unless show_secrets. */
void qs_config_print(const struct qs_config *c, FILE *f, int only_changed, int show_secrets);

/* The fully commented reference file (conf/qoestor.yaml). */
void qs_config_write_reference(FILE *f);

/* The configuration reference in Markdown (docs/CONFIGURATION.md). */
void qs_config_write_doc(FILE *f);

#endif

/* cfg_yaml.h: the table-driven reader of qoestor.yaml (libyaml's document
 * API). Internal to common/config; qs_config_load_buf is the public entry.
 *
 * Walks the document against cfg_root: every mapping key must be a row of
 * its section's table (else "unknown key" with a suggestion), every value of
 * the row's type and range, no key twice in one mapping. Values are written
 * over the defaults already in c; the line of each value is remembered
 * (cfg_mark) for later cross-key messages. Problems go to e; parsing goes on
 * after a bad value so one run reports them all. Never aborts on input.
 */
#ifndef QOESTOR_CONFIG_CFG_YAML_H
#define QOESTOR_CONFIG_CFG_YAML_H

#include <stddef.h>

#include "config/cfg_table.h"

/* Parse buf (len bytes, no NUL needed) into c. Returns e->n afterwards. */
int cfg_yaml_parse(const char *buf, size_t len, struct qs_config *c, struct cfg_errs *e);

#endif

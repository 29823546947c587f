/* dict_lpm.h: longest-prefix match over a set of IPv4 and IPv6 prefixes (immutable).
 *
 * Built once from prefixes (the value of prefixes[i] is i); then any number of threads
 * may look up concurrently without locks. The prefixes are flattened into sorted,
 * disjoint address ranges, each holding the value of the longest prefix covering it,
 * with an index on the top 8..20 address bits (more for more ranges); a lookup is the
 * index read plus a binary search over the few ranges of that bucket. No limit on
 * prefix sizes (/0 works). Memory: about 8 bytes (IPv4) or 20 bytes (IPv6) per range,
 * at most 2 ranges per prefix, plus an index of 1 KiB .. 4 MiB per family.
 */
#ifndef QOESTOR_DICT_LPM_H
#define QOESTOR_DICT_LPM_H

#include <stddef.h>
#include <stdint.h>

#include "dict/dict_value.h"

#define DICT_LPM_NONE UINT32_MAX /* no prefix covers the address */

struct dict_lpm;

/* Build from n prefixes (host bits must be zero, as dict_parse guarantees; with the
 * same prefix twice the first wins). -1 only when memory runs out or n >= 2^30. */
int dict_lpm_build(const struct dict_ip *prefixes, size_t n, struct dict_lpm **out);
void dict_lpm_free(struct dict_lpm *l);

/* Index of the longest prefix holding addr, or DICT_LPM_NONE.
 * addr4 is in host byte order (as the schema's QS_IPV4 holds it). */
uint32_t dict_lpm_get4(const struct dict_lpm *l, uint32_t addr4);
uint32_t dict_lpm_get6(const struct dict_lpm *l, const uint8_t addr6[16]);

/* Bytes the structure holds, and how many ranges each family has (for the benchmark). */
size_t dict_lpm_bytes(const struct dict_lpm *l);
size_t dict_lpm_ranges(const struct dict_lpm *l, int v6);

#endif

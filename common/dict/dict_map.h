/* dict_map.h: immutable hash maps from a 64-bit or 128-bit key to a 32-bit value (a row).
 *
 * Built once from a key array (the value of keys[i] is i), then only read: any number of
 * threads may look up concurrently without locks. Open addressing with linear probing at
 * a load factor of at most 1/2, so a lookup is one or two cache lines. Used for AS
 * numbers, switch ids and subscriber addresses (IPv4 as a 64-bit key, IPv6 as 128).
 * Errors: _build returns -1 only when memory runs out or n >= DICT_MAP_MAX.
 */
#ifndef QOESTOR_DICT_MAP_H
#define QOESTOR_DICT_MAP_H

#include <stddef.h>
#include <stdint.h>

#define DICT_MAP_NONE UINT32_MAX        /* "not found" */
#define DICT_MAP_MAX ((size_t)1 << 30) /* most keys in one map */

struct dict_map64;
struct dict_map128;

/* Build a map of keys[0..n) to their index. With duplicate keys the first wins.
 * The caller keeps keys; the map copies what it needs. */
int dict_map64_build(const uint64_t *keys, size_t n, struct dict_map64 **out);
void dict_map64_free(struct dict_map64 *m);
uint32_t dict_map64_get(const struct dict_map64 *m, uint64_t key);

/* Same with 16-byte keys (keys + 16*i). */
int dict_map128_build(const uint8_t *keys, size_t n, struct dict_map128 **out);
void dict_map128_free(struct dict_map128 *m);
uint32_t dict_map128_get(const struct dict_map128 *m, const uint8_t key[16]);

/* Bytes a map holds (for logs and the benchmark). */
size_t dict_map64_bytes(const struct dict_map64 *m);
size_t dict_map128_bytes(const struct dict_map128 *m);

#endif

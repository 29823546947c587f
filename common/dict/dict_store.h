/* dict_store.h: the current version of every dictionary of a directory, for the loader.
 *
 * A store reads <dir>/<name>.txt for every dictionary of dict_table.h, validates it
 * (dict_parse.h) and builds its lookup structure: a longest-prefix match for the
 * subnet dictionaries, hash maps for the IP of subscribers_dic and for numeric keys.
 * A missing file means "no entries". A file with any error is not used: the error is
 * logged as FILE:LINE:COLUMN and the previous version stays (nothing partial).
 *
 * Versions are immutable snapshots, swapped RCU-style:
 *   - readers (any thread, any number) take a snapshot with dict_store_acquire (a mutex
 *     held for a pointer copy and a reference count), do any number of lock-free lookups,
 *     and give it back with dict_snap_release; take one per batch of records, not per record;
 *   - dict_store_refresh (one thread at a time, normally the store's own watcher thread)
 *     builds a new snapshot sharing the unchanged dictionaries and swaps the pointer; the
 *     old one is freed when its last reader releases it.
 * Files are compared by inode, size, mtime and ctime; a file that changes while it is
 * read is read again at the next refresh.
 */
#ifndef QOESTOR_DICT_STORE_H
#define QOESTOR_DICT_STORE_H

#include <stdint.h>

#include "dict/dict_parse.h"
#include "dict/dict_table.h"

#define DICT_NONE UINT32_MAX /* "no entry" from the dict_snap_find_* calls */

struct dict_store;
struct dict_snap;

/* A store for dir with no dictionary loaded yet (every one empty); call
 * dict_store_refresh to load. Copies dir. -1 only without memory. */
int dict_store_open(const char *dir, struct dict_store **out);

/* Stops the watcher thread if running, then frees the store. Snapshots still held stay
 * valid until released. */
void dict_store_close(struct dict_store *s);

/* Load every dictionary whose file changed since the last attempt (all with force).
 * Returns how many dictionaries were replaced; *changed (if not NULL) gets a bit
 * (1u << id) per replaced dictionary. Errors are logged (log.h) and counted in
 * dict_store_errors. Blocks on file reads; one caller at a time. */
int dict_store_refresh(struct dict_store *s, int force, uint32_t *changed);

/* Called from the refreshing thread after each swap that replaced something. */
typedef void dict_store_cb(struct dict_store *s, uint32_t changed, void *arg);
void dict_store_on_change(struct dict_store *s, dict_store_cb *cb, void *arg);

/* Start a thread that refreshes on file events (debounced by debounce_ms) and at least
 * every rescan_s seconds. -1 when the directory cannot be watched (errno set). */
int dict_store_watch_start(struct dict_store *s, int debounce_ms, int rescan_s);

/* Files that failed validation (or could not be read) since the store was opened. */
uint64_t dict_store_errors(const struct dict_store *s);
/* Successful replacements since the store was opened. */
uint64_t dict_store_loads(const struct dict_store *s);

/* The current snapshot; never NULL. Release it with dict_snap_release. */
struct dict_snap *dict_store_acquire(struct dict_store *s);
void dict_snap_release(struct dict_snap *snap);

/* The parsed rows of one dictionary in the snapshot (never NULL; maybe 0 rows). */
const struct dict_data *dict_snap_data(const struct dict_snap *snap, enum dict_id id);

/* Lookups; each returns a row of dict_snap_data(snap, id) or DICT_NONE.
 * _ip4/_ip6 on DL_IP_TRIE and DL_IP_EXACT dictionaries: longest prefix for a DT_CIDR
 * key, the exact address for a DT_IP key (ip4 in host byte order). _u64 on
 * DL_HASHED/_HIER ones.
 * On a dictionary of another layout they return DICT_NONE. */
uint32_t dict_snap_find_ip4(const struct dict_snap *snap, enum dict_id id, uint32_t ip4);
uint32_t dict_snap_find_ip6(const struct dict_snap *snap, enum dict_id id, const uint8_t ip6[16]);
uint32_t dict_snap_find_u64(const struct dict_snap *snap, enum dict_id id, uint64_t key);

#endif

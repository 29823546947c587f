/* agg.h: the loader's in-memory aggregation of raw records into an aggregate
 * table's rows (fullflow_agg, clickstream_agg, natflow_agg), driven by the
 * schema table (qs_agg_def): time bucket, keys, and measures by kind (sum,
 * max, min, count, count present, count non-zero, count distinct).
 *
 * Configurable per the vendor's "flexible aggregation": the bucket length, and
 * which keys are kept, either by name (a comma list) or by the bits of
 * qs_agg_column.keep_bit (natflow: NAT_AGG_LOG_FIELDS_TO_SAVE_BITMASK). A key
 * that is not kept is stored as its type's default, so rows still combine.
 *
 * Determinism (needed for retried inserts, see load.h): groups are emitted in
 * the order they were first seen, or when spilled runs are merged in the
 * order of (key hash, key), so the same records in the same order give the
 * same rows in the same order. Measures combine in ClickHouse by
 * SimpleAggregateFunction(sum|max|min), so the rows of different files (or of
 * two flushes of one file) add up to the same totals.
 *
 * Memory: about 150 bytes per group plus 32 per distinct-count entry, at
 * most AGG_GROUP_BYTES x max_groups of groups; the caller flushes
 * (agg_emit) when agg_full says so. One agg per thread.
 *
 * Spilling: with agg_set_spill(a, dir, runs), groups that fill the memory
 * are sorted and written as a run to an unlinked file in dir instead, up to
 * runs runs; agg_emit merges them, so one flush gives one row per key for
 * everything folded in since agg_clear, and a file of N records needs a
 * flush (partial rows) only after runs x max_groups groups. Disk: about the
 * groups' size (~100-200 bytes each) per run.
 */
#ifndef QOESTOR_LOADER_AGG_H
#define QOESTOR_LOADER_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "spool/record.h"

struct agg;

/* def: the aggregate; raw: the stream definition records are given in;
 * period_s: bucket length in seconds (> 0); keys: comma list of kept key
 * names, NULL = all (unless keep_bits is used); keep_bits: when not 0, keys
 * whose keep_bit is set are kept (keys with keep_bit 0 always);
 * max_groups: agg_full threshold. NULL when out of memory or when a source
 * column is missing from raw (a schema bug: logged). */
struct agg *agg_open(const struct qs_agg_def *def, const struct qs_stream_def *raw, unsigned period_s,
	const char *keys, uint32_t keep_bits, size_t max_groups);
void agg_close(struct agg *a);

/* Fold one record in. 0, or -1 when memory runs out. */
int agg_add(struct agg *a, const struct qs_record *r);

/* agg_add for n records in order, the same result as n agg_add calls, but
 * faster: keys are made AGG_BATCH at a time and the memory of their hash
 * slots and groups is fetched ahead (those cache misses are most of the
 * aggregation's CPU). Stops after the record that makes the aggregate full
 * (agg_full): *done = records folded in (n, or fewer when full); the caller
 * flushes and calls again with the rest. 0, or -1 when memory runs out. */
#define AGG_BATCH 16
int agg_add_batch(struct agg *a, const struct qs_record *const *r, size_t n, size_t *done);

/* Spill to an unlinked file in dir, at most runs (<= AGG_MAX_RUNS) runs
 * before agg_full says 1; 0 runs: no spilling. Only while empty (after
 * agg_open or agg_clear): -1 otherwise. */
#define AGG_MAX_RUNS 64
int agg_set_spill(struct agg *a, const char *dir, unsigned runs);

/* Why the last agg_add, agg_add_batch or agg_emit failed ("" when for lack
 * of memory). */
const char *agg_error(const struct agg *a);

/* Change the agg_full threshold (max_groups > 0; 0 keeps it). */
void agg_set_max_groups(struct agg *a, size_t max_groups);

/* Groups held: in memory plus in spilled runs (a key in several runs counts
 * once per run). */
size_t agg_groups(const struct agg *a);
uint64_t agg_rows_in(const struct agg *a);   /* records folded since the last clear */
/* 1: emit and clear before adding more: the memory holds max_groups groups,
 * or 4 x max_groups distinct-count entries, or AGG_GROUP_BYTES x max_groups
 * bytes of groups (long string keys), and no spill run is left. All depend
 * only on the records folded in. */
#define AGG_GROUP_BYTES 128
int agg_full(const struct agg *a);

/* The definition rows are emitted in: one column per aggregate column, typed
 * for the encoder (bucket: time_s; keys: the raw type; sums and counts: u64;
 * max/min: the raw type). Valid while a lives. */
const struct qs_stream_def *agg_out_def(const struct agg *a);

/* Call cb for every group, in first-seen order (hash order when runs were
 * spilled), with a record over agg_out_def (valid during the call). Stops at and
 * returns the first non-zero cb result; 0 when all went through, -1 when
 * reading the runs back failed (agg_error). Does not clear. */
int agg_emit(struct agg *a, int (*cb)(void *arg, const struct qs_record *r), void *arg);

/* Forget every group (memory is kept for reuse, up to a bound). */
void agg_clear(struct agg *a);

#endif

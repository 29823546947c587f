/* schema.h: the one schema definition of qoestor, as a const table.
 *
 * Every stream (fullflow, clickstream, natflow, gtpflow, dnsflow) is described
 * once, in common/schema/<stream>.def, as a list of X-macro lines:
 *
 *   COL(name, type, pen, ie, ielen, chtype, flags, doc)
 *
 *   name    column name in ClickHouse and in the spool (C identifier)
 *   type    enum qs_type: how the value is held in memory and in the spool
 *   pen     IPFIX private enterprise number (0 = IANA, 43823 = VAS Experts)
 *   ie      IPFIX information element id; 0 for columns the loader derives
 *   ielen   wire length this column takes from the element: 0 = any; 4 or 16
 *           when one element carries IPv4 or IPv6 by length (clickstream 1003)
 *   chtype  ClickHouse type, codec included, e.g. "IPv4 CODEC(ZSTD(1))"
 *   flags   QS_F_* bits below
 *   doc     one line for the generated docs
 *
 * The table is expanded once (schema.c). The receiver's decoder, the spool,
 * the loader's encoder and aggregations, the DDL generator (sql/qoestor.sql)
 * and docs/SCHEMA.md all read it; nothing else names a column.
 * The table is immutable and safe to read from any thread.
 */
#ifndef QOESTOR_SCHEMA_H
#define QOESTOR_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

/* The schema version written into spool files; bump it with any change to a
 * .def file that changes the column list or a column's type. */
#define QS_SCHEMA_VERSION 1

/* Upper bound on columns in any stream (raw columns plus derived ones). */
#define QS_MAX_COLS 128

enum qs_stream {
	QS_FULLFLOW = 0,
	QS_CLICKSTREAM,
	QS_NATFLOW,
	QS_GTPFLOW,
	QS_DNSFLOW,
	QS_STREAM_COUNT
};

/* In-memory and spool representation of a value. */
enum qs_type {
	QS_U8,      /* unsigned, 1 byte */
	QS_U16,     /* unsigned, 2 bytes */
	QS_U32,     /* unsigned, 4 bytes */
	QS_U64,     /* unsigned, 8 bytes */
	QS_IPV4,    /* IPv4 address, held as uint32 in host order */
	QS_IPV6,    /* IPv6 address, 16 bytes in network order */
	QS_MAC,     /* MAC address, 6 bytes */
	QS_TIME_MS, /* instant, epoch milliseconds UTC, uint64 */
	QS_TIME_S,  /* instant, epoch seconds UTC, uint32 */
	QS_STR      /* byte string of any length, not necessarily UTF-8 */
};

/* Column flags. */
#define QS_F_DERIVED  0x0001u /* filled by the loader (enrichment), never by IPFIX */
#define QS_F_NULLABLE 0x0002u /* absent is stored as NULL (otherwise as the type's default) */
#define QS_F_AGG_KEY  0x0004u /* part of the stream's default aggregate key */
#define QS_F_AGG_SUM  0x0008u /* summed in the stream's aggregate */
#define QS_F_TIME     0x0010u /* the stream's event time (drives partitioning and buckets) */
#define QS_F_COMPUTED 0x0020u /* computed by ClickHouse from other columns (a DEFAULT
                               * expression in chtype); ie is 0; the receiver, the spool
                               * and the loader's inserts skip it (see qs_column_stored) */

struct qs_column {
	const char *name;
	enum qs_type type;
	uint32_t pen;
	uint16_t ie;
	uint16_t ielen;
	const char *chtype;
	unsigned flags;
	const char *doc;
};

struct qs_stream_def {
	enum qs_stream id;
	const char *name;            /* "fullflow" ... : spool folder, table name, --stream value */
	uint16_t default_port;       /* 1500 ... */
	const struct qs_column *cols;
	size_t ncols;
	/* Raw table layout, for the DDL generator (ClickHouse expressions over the
	 * columns above): */
	const char *time_col;        /* DateTime('UTC') column driving PARTITION BY and TTL */
	const char *order_by;        /* ORDER BY tuple, e.g. "subscriber_ip, flow_start_time" */
	const char *indexes;         /* data-skipping indexes "name expr TYPE t GRANULARITY n;..." or NULL */
};

/* ---- aggregates -------------------------------------------------------------
 * Each aggregate table is described in common/schema/<table>.def as lines
 *
 *   AGG(name, kind, src, keep_bit, chtype, doc)
 *
 *   name      column name in the aggregate table
 *   kind      enum qs_agg_kind: how the loader computes it from raw rows, and
 *             how rows with equal keys combine (in ClickHouse and in rollups)
 *   src       the raw column it is computed from ("" for QS_AGG_COUNT)
 *   keep_bit  for keys: the configuration bit that keeps the key (natflow:
 *             NAT_AGG_LOG_FIELDS_TO_SAVE_BITMASK); 0 = always kept. A key that
 *             is not kept is stored as its type's default.
 *   chtype    ClickHouse type; measures are SimpleAggregateFunction(f, T) so
 *             partial aggregates from different files (or retried inserts
 *             that slipped past deduplication windows) combine by f.
 *   doc       one line for the generated docs
 *
 * The loader computes rows itself and inserts plain values (CSV); queries
 * combine with sum()/max()/min() grouped by the keys.
 */
enum qs_agg_kind {
	QS_AGG_BUCKET,        /* key: start of the time bucket holding src (DateTime('UTC')) */
	QS_AGG_KEY,           /* key: src copied */
	QS_AGG_SUM,           /* sum of src over the rows (absent adds nothing) */
	QS_AGG_MAX,           /* max of src over the rows where present */
	QS_AGG_MIN,           /* min of src over the rows where present */
	QS_AGG_COUNT,         /* number of raw rows */
	QS_AGG_COUNT_PRESENT, /* number of raw rows where src is present */
	QS_AGG_COUNT_NONZERO, /* number of raw rows where src is present and not 0 */
	QS_AGG_COUNT_DISTINCT /* distinct src values among the rows of one insert
	                       * (one spool file); summed across inserts */
};

struct qs_agg_column {
	const char *name;
	enum qs_agg_kind kind;
	const char *src;
	uint32_t keep_bit;
	const char *chtype;
	const char *doc;
};

enum qs_agg {
	QS_FULLFLOW_AGG = 0,
	QS_CLICKSTREAM_AGG,
	QS_NATFLOW_AGG,
	QS_AGG_TABLES    /* number of aggregate tables */
};

struct qs_agg_def {
	enum qs_agg id;
	const char *name;           /* user-facing name: "fullflow_agg" */
	enum qs_stream stream;      /* the raw stream it is computed from */
	const struct qs_agg_column *cols;
	size_t ncols;
	const char *order_by;       /* ORDER BY tuple (the keys, most selective first) */
	int rollups;                /* 1: stored per resolution (<name>_15m, _30m, _1h)
	                             * and read through a view called name;
	                             * 0: one table called name */
	const char *insert_table;   /* the table the loader inserts into */
};

/* The definition of one aggregate; never NULL for a valid id. */
const struct qs_agg_def *qs_agg_def(enum qs_agg id);

/* Look an aggregate up by name ("fullflow_agg"); NULL when unknown. */
const struct qs_agg_def *qs_agg_by_name(const char *name);

/* Index of the aggregate column called name, or -1. */
int qs_agg_column_index(const struct qs_agg_def *def, const char *name);

/* 1 if the column is held by the receiver, the spool and the loader's
 * inserts; 0 for QS_F_COMPUTED columns that only ClickHouse holds. */
int qs_column_stored(const struct qs_column *c);

/* Name of an aggregate kind ("sum", ...), for tools and docs. */
const char *qs_agg_kind_name(enum qs_agg_kind k);

/* The definition of one stream; never NULL for a valid id. */
const struct qs_stream_def *qs_stream_def(enum qs_stream id);

/* Look a stream up by name ("fullflow"); NULL when unknown. */
const struct qs_stream_def *qs_stream_by_name(const char *name);

/* Index of the column called name in def, or -1. */
int qs_column_index(const struct qs_stream_def *def, const char *name);

/* Fixed width in bytes of a type's value in memory; 0 for QS_STR. */
size_t qs_type_width(enum qs_type t);

/* Name of a type ("u64", "ipv4", ...), for tools and docs. */
const char *qs_type_name(enum qs_type t);

#endif

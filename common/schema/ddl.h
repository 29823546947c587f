/* ddl.h: the ClickHouse DDL of qoestor, generated from the schema table.
 *
 * One generator serves `qoestor-schema ddl` (which writes the committed
 * sql/qoestor.sql with default parameters) and `qoestor-loader --init-db`
 * (which applies it with the configured retention). The result is a list of
 * objects in dependency order: the database, raw tables, aggregate tables,
 * materialized views, views. Each object has one CREATE ... IF NOT EXISTS
 * statement (no trailing ';', one statement per HTTP request) and, for
 * tables, the expected columns so a migration can compare them with
 * system.columns. Pure computation: no I/O, no threads; the caller owns the
 * result and frees it with qs_ddl_free.
 */
#ifndef QOESTOR_SCHEMA_DDL_H
#define QOESTOR_SCHEMA_DDL_H

#include <stddef.h>
#include <stdio.h>

#include "schema/schema.h"

/* Generation parameters. Take qs_ddl_defaults() and change what is configured. */
struct qs_ddl_params {
	const char *database;                     /* "qoestor" */
	unsigned raw_ttl_hours[QS_STREAM_COUNT];  /* raw retention; 0 = keep forever (24) */
	unsigned agg_30m_after_days;              /* fullflow_agg: 30-min buckets after (7) */
	unsigned agg_1h_after_days;               /* fullflow_agg: 1-h buckets after (30) */
	unsigned agg_ttl_days;                    /* aggregates' retention; 0 = unlimited (0) */
	unsigned dedup_window;                    /* non_replicated_deduplication_window (10000) */
	/* Hot/cold storage: with a storage policy whose volumes include cold_volume,
	 * parts older than move_after_days move there (TTL ... TO VOLUME). The
	 * policy is the server's (its storage_configuration); "" = its default. */
	const char *storage_policy;               /* ("") */
	const char *cold_volume;                  /* ("cold") */
	unsigned move_after_days;                 /* 0 = no moves (0) */
};

void qs_ddl_defaults(struct qs_ddl_params *p);

/* Check parameters; on error returns -1 and writes a message naming the
 * parameter into err. */
int qs_ddl_check_params(const struct qs_ddl_params *p, char *err, size_t errlen);

enum qs_ddl_kind { QS_DDL_DATABASE, QS_DDL_TABLE, QS_DDL_MV, QS_DDL_VIEW };

struct qs_ddl_column {
	char *name;
	char *type;     /* ClickHouse type as system.columns shows it, e.g. "Nullable(UInt32)" */
	char *def;      /* full definition for CREATE / ADD COLUMN: `name` type DEFAULT .. COMMENT .. CODEC(..) */
};

struct qs_ddl_object {
	enum qs_ddl_kind kind;
	char *name;               /* object name without the database ("fullflow") */
	char *sql;                /* CREATE ... IF NOT EXISTS ..., no trailing ';' */
	char *ttl;                /* tables: the TTL clause's expression, NULL when none */
	char *comment;            /* tables: the table comment (unquoted) */
	char *engine;             /* tables: "MergeTree" / "AggregatingMergeTree" */
	char *settings;           /* tables: the settings a migration can change in place
	                           * (ALTER TABLE ... MODIFY SETTING), "name = value, ..." */
	struct qs_ddl_column *cols; /* tables only */
	size_t ncols;
};

struct qs_ddl {
	struct qs_ddl_object *obj;
	size_t n;
};

/* Build the DDL for p. NULL when out of memory or p is invalid (check first). */
struct qs_ddl *qs_ddl_build(const struct qs_ddl_params *p);
void qs_ddl_free(struct qs_ddl *d);

/* The object called name, or NULL. */
const struct qs_ddl_object *qs_ddl_find(const struct qs_ddl *d, const char *name);

/* Write the whole DDL as a script (sql/qoestor.sql: header comment, each
 * statement followed by ";" and a blank line). 0, or -1 on a write error. */
int qs_ddl_write_script(const struct qs_ddl *d, FILE *out);

#endif

/* initdb.h: create or migrate the qoestor database (qoestor-loader --init-db,
 * and the loader's start-up later).
 *
 * Compares what exists (system.databases, system.tables, system.columns)
 * with what the schema table generates (common/schema/ddl.h) and applies
 * only the differences, one idempotent step at a time:
 *   - missing database, table, materialized view or view: CREATE ... IF NOT EXISTS;
 *   - missing column: ALTER TABLE ... ADD COLUMN IF NOT EXISTS ... AFTER <previous>;
 *   - table TTL differs from the configured retention: MODIFY TTL / REMOVE TTL,
 *     and the table comment that states the retention: MODIFY COMMENT.
 * What it will not change is reported as a warning, never dropped or
 * converted silently: columns that exist but are no longer defined, column
 * types that differ, a different engine or partition key, an object of
 * another kind under a defined name. A second run makes 0 changes.
 * Blocking (HTTP requests through the client); single-threaded.
 */
#ifndef QOESTOR_LOADER_INITDB_H
#define QOESTOR_LOADER_INITDB_H

#include "ch/ch.h"
#include "schema/ddl.h"

struct initdb_report {
	unsigned changes;   /* statements that changed the database */
	unsigned warnings;  /* differences left as they are */
};

/* Apply the schema for p through c (a client opened without a default
 * database: every name is qualified). Logs each change and warning.
 * Returns 0 when the database matches the schema up to the reported
 * warnings, -1 on a failure (logged, naming the URL and the statement). */
int initdb_apply(struct ch_client *c, const struct qs_ddl_params *p, struct initdb_report *rep);

#endif

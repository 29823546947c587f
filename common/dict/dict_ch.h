/* dict_ch.h: put a validated dictionary into ClickHouse over its HTTP interface.
 *
 * dict_ch_upload makes ClickHouse hold d as dictionary db.<name> (see dict_sql.h):
 *   1. the rows go into a new table <name>_data_new (created from the current DDL);
 *   2. it replaces <name>_data atomically (EXCHANGE TABLES; RENAME the first time), and
 *      the old rows are dropped;
 *   3. the dictionary is reloaded (SYSTEM RELOAD DICTIONARY, which returns once the new
 *      version is loaded; queries get the previous version until then).
 * Structure changes: the structure token in each object's COMMENT (dict_sql_token) is
 * compared with ClickHouse's; a backing table with another structure is replaced by the
 * new one in step 2 anyway, and a dictionary with another structure is replaced by a new
 * one created as <name>_new, loaded, then swapped in with EXCHANGE DICTIONARIES and the
 * old one dropped. So an upgrade that changes a dictionary's columns or layout is
 * applied by the next upload, atomically, and a second upload changes nothing more.
 * If any step fails before the swap, the previous version stays as it was.
 * Needs an Atomic database (ClickHouse's default). Works the same against qoestor-db or a
 * remote ClickHouse: no file paths on the server.
 * Blocking (HTTP); the client is used by one thread at a time (see ch.h).
 */
#ifndef QOESTOR_DICT_CH_H
#define QOESTOR_DICT_CH_H

#include <stddef.h>

#include "ch/ch.h"
#include "dict/dict_parse.h"

/* What an upload did and how long its parts took (seconds), for logs and benchmarks. */
struct dict_ch_stats {
	double encode_s, insert_s, reload_s;
	int recreated; /* 1: the dictionary was created or recreated (structure changed) */
};

/* Upload d into db. Returns CH_OK, or CH_RETRY / CH_PERMANENT with a one-line message
 * in err (naming the dictionary, the step and ClickHouse's answer). stats may be NULL. */
enum ch_status dict_ch_upload(struct ch_client *c, const char *db, const struct dict_data *d,
			      struct dict_ch_stats *stats, char *err, size_t errlen);

#endif

/* dict_ch.h: put a validated dictionary into ClickHouse over its HTTP interface.
 *
 * dict_ch_upload creates what is missing (database, backing table, dictionary; see
 * dict_sql.h), then replaces the rows atomically: the rows go into a new table
 * <name>_data_new, which is swapped with <name>_data (EXCHANGE TABLES, atomic in
 * ClickHouse's Atomic databases), the old rows are dropped and the dictionary is
 * reloaded (SYSTEM RELOAD DICTIONARY). Until the reload ends, queries see the previous
 * version; if any step fails before the swap, the previous version stays as it was.
 * Works the same against qoestor-db or a remote ClickHouse: no file paths on the server.
 * Blocking (HTTP); the client is used by one thread at a time (see ch.h).
 */
#ifndef QOESTOR_DICT_CH_H
#define QOESTOR_DICT_CH_H

#include <stddef.h>

#include "ch/ch.h"
#include "dict/dict_parse.h"

/* Upload d into db. Returns CH_OK, or CH_RETRY / CH_PERMANENT with a one-line message
 * in err (naming the dictionary, the step and ClickHouse's answer). */
enum ch_status dict_ch_upload(struct ch_client *c, const char *db, const struct dict_data *d,
			      char *err, size_t errlen);

#endif

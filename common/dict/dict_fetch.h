/* dict_fetch.h: the daily refresh of a dictionary from a URL (the manual's cron_daily.sh).
 *
 * dict_fetch downloads a URL (libcurl: http://, https://, file:// for offline sites;
 * redirects only to http(s)), validates the bytes as the dictionary (dict_parse.h, the
 * same rules as a hand-edited file; errors are named URL:LINE:COLUMN) and replaces
 * <dir>/<name>.txt atomically: a temporary file in dir, fsync, rename over the old
 * file, fsync of dir. Whoever reads the file (the loader, `qoestor-dict watch`) sees
 * the old or the new version, never a mix. Anything that goes wrong (connection, HTTP
 * status, timeout, size limit, invalid content, a download with no entries, a write
 * error) leaves the old file as it was. Identical content is not rewritten.
 *
 * Call curl_global_init (or ch_global_init) once before. Blocking (network and disk);
 * no shared state: calls may run in parallel on different dictionaries. Nothing here
 * logs: the outcome is the return value, a one-line message and the validation errors.
 */
#ifndef QOESTOR_DICT_FETCH_H
#define QOESTOR_DICT_FETCH_H

#include <stddef.h>

#include "dict/dict_parse.h"
#include "dict/dict_table.h"

struct dict_fetch_opts {
	long timeout_s;   /* whole download; 0: 600 */
	size_t max_bytes; /* larger downloads fail; 0: 1 GiB */
	int allow_empty;  /* 1: a download with no entries replaces the file too */
};

enum dict_fetch_result {
	DICT_FETCH_REPLACED,  /* the file now holds the new version */
	DICT_FETCH_UNCHANGED, /* the download equals the file: nothing written */
	DICT_FETCH_FAILED     /* the old file is kept; msg (and errs) say why */
};

/* Refresh def's file in dir from url. msg gets one line saying what happened, e.g.
 * "asnum_dic: 1234 entries from URL replaced DIR/asnum_dic.txt" or
 * "asnum_dic: download from URL failed: HTTP 404; keeping DIR/asnum_dic.txt". */
enum dict_fetch_result dict_fetch(const struct dict_def *def, const char *url, const char *dir,
				  const struct dict_fetch_opts *opts, struct dict_errors *errs,
				  char *msg, size_t msglen);

#endif

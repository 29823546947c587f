/* engine.h: the ClickHouse engine of qoestor-db, libchdb loaded at run time.
 *
 * This is the only file that knows libchdb's ABI. libchdb (npm package
 * @chdb/lib-linux-x64-gnu, pinned in db/libchdb.sha256) is dlopen'ed, never
 * linked, so the binary builds and starts without it and can name the missing
 * file. One engine per process and per data directory (a libchdb limit).
 *
 * A session is one libchdb connection: its own current database and settings.
 * qoestor-db opens one session per HTTP request, so requests never see each
 * other's SET or USE. Sessions are cheap (~0.2 ms) once the engine is booted.
 * Different sessions may run queries concurrently from different threads; one
 * session must not be used by two threads at once.
 */
#ifndef QOESTOR_DB_ENGINE_H
#define QOESTOR_DB_ENGINE_H

#include <stddef.h>
#include <stdint.h>

struct engine;
struct engine_session;

/* The outcome of one query. Owned by the caller: free with engine_result_free. */
struct engine_result {
	const char *data; /* output bytes (not NUL-terminated); NULL on error */
	size_t len;
	const char *error; /* NUL-terminated ClickHouse message, or NULL on success */
	int code;          /* ClickHouse exception code parsed from error, 0 if none */
	uint64_t rows_read, bytes_read, rows_written, bytes_written;
	double elapsed;    /* seconds */
	void *priv;        /* libchdb's result */
	const struct engine *owner;
};

/* Load libchdb from libpath and boot the engine on data directory path, with
 * server_config (NULL: none) as ClickHouse's server configuration file (XML or
 * YAML: storage_configuration for hot/cold disks, ...).
 * On failure returns NULL with a message in err saying what to do. Blocks
 * while the engine starts (tables are attached). */
struct engine *engine_open(const char *libpath, const char *path, const char *server_config, char *err,
			   size_t errlen);

/* Close the engine: every session must be closed first. */
void engine_close(struct engine *e);

/* A new session (connection); NULL with err on failure. Thread-safe. */
struct engine_session *engine_session_open(struct engine *e, char *err, size_t errlen);
void engine_session_close(struct engine_session *s);

/* Run one statement. sql may contain any bytes (binary-safe, length given);
 * format is the output format used when the statement has no FORMAT clause.
 * names/values: query parameters bound to {name:Type} placeholders (may be
 * 0/NULL). Blocks until the statement finishes. Always returns a result. */
void engine_query(struct engine_session *s, const char *sql, size_t len, const char *format,
		  const char *const *names, const char *const *values, size_t nparams,
		  struct engine_result *out);

void engine_result_free(struct engine_result *r);

/* A query whose output is read in chunks as the engine produces it, so a
 * result of any size passes through bounded memory (SELECT-like statements;
 * libchdb does not stream DDL or INSERT). */
struct engine_stream;

/* Start statement sql as a stream on session s (which it then owns until
 * engine_stream_close). 0: *out is the stream. -1: the statement failed at
 * once; *err holds the error (free it with engine_result_free). 1: this
 * statement cannot stream: run it with engine_query instead. */
int engine_stream_open(struct engine_session *s, const char *sql, size_t len, const char *format,
		       const char *const *names, const char *const *values, size_t nparams,
		       struct engine_stream **out, struct engine_result *err);

/* The next chunk: 1 with chunk->data/len (free with engine_result_free), 0 at
 * the end, -1 on an error in the middle (chunk->error, chunk->code; free it). */
int engine_stream_next(struct engine_stream *st, struct engine_result *chunk);

/* Cancel if unfinished, free. */
void engine_stream_close(struct engine_stream *st);

/* ClickHouse error name for a code ("SYNTAX_ERROR"), from the engine itself;
 * NULL when unknown. Valid after engine_open, until engine_close. */
const char *engine_error_name(const struct engine *e, int code);

/* The engine's version string ("26.5.1.1"). */
const char *engine_version(const struct engine *e);

#endif

/* engine.c: libchdb loaded with dlopen (see engine.h). */
#include "engine.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* libchdb's C ABI (chdb.h of chdb 26.x), declared here rather than included:
 * the npm package ships no header. Handles are opaque. */
typedef struct chdb_result_ chdb_result;
typedef struct chdb_connection_ *chdb_connection;

#define ENGINE_MAX_CODE 2048

struct engine {
	void *dl;
	chdb_connection *main; /* kept open for the engine's lifetime */
	char path[4096];
	char version[64];
	char *error_names[ENGINE_MAX_CODE];
	chdb_connection *(*connect)(int, char **);
	void (*close_conn)(chdb_connection *);
	chdb_result *(*query_n)(chdb_connection, const char *, size_t, const char *, size_t);
	chdb_result *(*query_params)(chdb_connection, const char *, const char *, const char *const *,
				     const char *const *, size_t);
	void (*destroy)(chdb_result *);
	char *(*buffer)(chdb_result *);
	size_t (*length)(chdb_result *);
	const char *(*error)(chdb_result *);
	double (*elapsed)(chdb_result *);
	uint64_t (*rows_read)(chdb_result *);
	uint64_t (*bytes_read)(chdb_result *);
	uint64_t (*rows_written)(chdb_result *);
	uint64_t (*bytes_written)(chdb_result *);
	void (*signals_enabled)(bool);
	chdb_result *(*stream_n)(chdb_connection, const char *, size_t, const char *, size_t);
	chdb_result *(*stream_params)(chdb_connection, const char *, const char *, const char *const *,
				      const char *const *, size_t);
	chdb_result *(*stream_fetch)(chdb_connection, chdb_result *);
	void (*stream_cancel)(chdb_connection, chdb_result *);
};

struct engine_stream {
	struct engine_session *s;
	chdb_result *r;
	int done;
};

struct engine_session {
	struct engine *e;
	chdb_connection *conn;
};

static int load_symbols(struct engine *e, char *err, size_t errlen)
{
	struct {
		const char *name;
		void **slot;
		bool optional;
	} syms[] = {
		{"chdb_connect", (void **)&e->connect, false},
		{"chdb_close_conn", (void **)&e->close_conn, false},
		{"chdb_query_n", (void **)&e->query_n, false},
		{"chdb_query_with_params", (void **)&e->query_params, true},
		{"chdb_destroy_query_result", (void **)&e->destroy, false},
		{"chdb_result_buffer", (void **)&e->buffer, false},
		{"chdb_result_length", (void **)&e->length, false},
		{"chdb_result_error", (void **)&e->error, false},
		{"chdb_result_elapsed", (void **)&e->elapsed, false},
		{"chdb_result_rows_read", (void **)&e->rows_read, false},
		{"chdb_result_bytes_read", (void **)&e->bytes_read, false},
		{"chdb_result_rows_written", (void **)&e->rows_written, true},
		{"chdb_result_bytes_written", (void **)&e->bytes_written, true},
		{"chdb_set_signal_handlers_enabled", (void **)&e->signals_enabled, true},
		{"chdb_stream_query_n", (void **)&e->stream_n, true},
		{"chdb_stream_query_with_params", (void **)&e->stream_params, true},
		{"chdb_stream_fetch_result", (void **)&e->stream_fetch, true},
		{"chdb_stream_cancel_query", (void **)&e->stream_cancel, true},
	};
	for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
		*syms[i].slot = dlsym(e->dl, syms[i].name);
		if (!*syms[i].slot && !syms[i].optional) {
			snprintf(err, errlen,
				 "libchdb has no symbol %s: this libchdb is not the version qoestor-db "
				 "supports; run `make deps` to install the pinned one",
				 syms[i].name);
			return -1;
		}
	}
	return 0;
}

static int parse_code(const char *msg)
{
	/* ClickHouse messages start "Code: 62. DB::Exception: ..." */
	const char *p = msg ? strstr(msg, "Code: ") : NULL;
	if (!p)
		return msg ? 1000 /* POCO_EXCEPTION: unknown */ : 0;
	return atoi(p + 6);
}

void engine_query(struct engine_session *s, const char *sql, size_t len, const char *format,
		  const char *const *names, const char *const *values, size_t nparams,
		  struct engine_result *out)
{
	struct engine *e = s->e;
	memset(out, 0, sizeof *out);
	chdb_result *r;
	if (nparams > 0 && e->query_params) {
		/* The params call takes a NUL-terminated query. */
		char *q = malloc(len + 1);
		if (!q) {
			out->error = "Code: 241. DB::Exception: qoestor-db: out of memory. (MEMORY_LIMIT_EXCEEDED)";
			out->code = 241;
			return;
		}
		memcpy(q, sql, len);
		q[len] = 0;
		r = e->query_params(*s->conn, q, format, names, values, nparams);
		free(q);
	} else {
		r = e->query_n(*s->conn, sql, len, format, strlen(format));
	}
	out->priv = r;
	out->owner = e;
	if (!r) {
		out->error = "Code: 1001. DB::Exception: libchdb returned no result. (STD_EXCEPTION)";
		out->code = 1001;
		return;
	}
	const char *msg = e->error(r);
	if (msg && *msg) {
		out->error = msg;
		out->code = parse_code(msg);
		return;
	}
	out->data = e->buffer(r);
	out->len = e->length(r);
	if (!out->data)
		out->len = 0;
	out->elapsed = e->elapsed(r);
	out->rows_read = e->rows_read(r);
	out->bytes_read = e->bytes_read(r);
	if (e->rows_written)
		out->rows_written = e->rows_written(r);
	if (e->bytes_written)
		out->bytes_written = e->bytes_written(r);
}

static void fill_error(struct engine_result *out, const struct engine *e, chdb_result *r, const char *msg)
{
	out->priv = r;
	out->owner = e;
	out->error = msg;
	out->code = parse_code(msg);
}

int engine_stream_open(struct engine_session *s, const char *sql, size_t len, const char *format,
		       const char *const *names, const char *const *values, size_t nparams,
		       struct engine_stream **out, struct engine_result *err)
{
	struct engine *e = s->e;
	memset(err, 0, sizeof *err);
	if (!e->stream_n || !e->stream_fetch || (nparams > 0 && !e->stream_params))
		return 1;
	chdb_result *r;
	if (nparams > 0) {
		char *q = strndup(sql, len);
		if (!q)
			return 1;
		r = e->stream_params(*s->conn, q, format, names, values, nparams);
		free(q);
	} else {
		r = e->stream_n(*s->conn, sql, len, format, strlen(format));
	}
	if (!r)
		return 1;
	const char *msg = e->error(r);
	if (msg && *msg) {
		if (strstr(msg, "Streaming query is not supported")) {
			e->destroy(r);
			return 1;
		}
		fill_error(err, e, r, msg);
		return -1;
	}
	struct engine_stream *st = calloc(1, sizeof *st);
	if (!st) {
		e->destroy(r);
		return 1;
	}
	st->s = s;
	st->r = r;
	*out = st;
	return 0;
}

int engine_stream_next(struct engine_stream *st, struct engine_result *chunk)
{
	struct engine *e = st->s->e;
	memset(chunk, 0, sizeof *chunk);
	if (st->done)
		return 0;
	chdb_result *c = e->stream_fetch(*st->s->conn, st->r);
	if (!c) {
		st->done = 1;
		chunk->error = "Code: 1001. DB::Exception: libchdb returned no result. (STD_EXCEPTION)";
		chunk->code = 1001;
		return -1;
	}
	const char *msg = e->error(c);
	if (msg && *msg) {
		st->done = 1;
		fill_error(chunk, e, c, msg);
		return -1;
	}
	size_t n = e->length(c);
	if (n == 0) {
		st->done = 1;
		e->destroy(c);
		return 0;
	}
	chunk->priv = c;
	chunk->owner = e;
	chunk->data = e->buffer(c);
	chunk->len = n;
	return 1;
}

void engine_stream_close(struct engine_stream *st)
{
	if (!st)
		return;
	struct engine *e = st->s->e;
	if (!st->done && e->stream_cancel)
		e->stream_cancel(*st->s->conn, st->r);
	e->destroy(st->r);
	free(st);
}

void engine_result_free(struct engine_result *r)
{
	if (r->priv && r->owner)
		r->owner->destroy(r->priv);
	memset(r, 0, sizeof *r);
}

struct engine_session *engine_session_open(struct engine *e, char *err, size_t errlen)
{
	struct engine_session *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	char arg0[] = "qoestor-db";
	char argpath[4200];
	snprintf(argpath, sizeof argpath, "--path=%s", e->path);
	char *argv[] = {arg0, argpath, NULL};
	s->e = e;
	s->conn = e->connect(2, argv);
	if (!s->conn || !*s->conn) {
		snprintf(err, errlen, "libchdb could not open a connection on %s", e->path);
		free(s);
		return NULL;
	}
	/* Server defaults, not clickhouse-local's: synchronous inserts, so an
	 * acknowledged INSERT is in the table, and deduplication tokens apply. */
	static const char init[] = "SET async_insert = 0";
	struct engine_result r;
	engine_query(s, init, sizeof init - 1, "TabSeparated", NULL, NULL, 0, &r);
	if (r.error) {
		snprintf(err, errlen, "libchdb session set-up failed: %s", r.error);
		engine_result_free(&r);
		engine_session_close(s);
		return NULL;
	}
	engine_result_free(&r);
	return s;
}

void engine_session_close(struct engine_session *s)
{
	if (!s)
		return;
	if (s->conn)
		s->e->close_conn(s->conn);
	free(s);
}

static void load_error_names(struct engine *e)
{
	struct engine_session s = {.e = e, .conn = e->main};
	static const char q[] =
		"SELECT number, errorCodeToName(number) FROM numbers(2048) WHERE errorCodeToName(number) != ''";
	struct engine_result r;
	engine_query(&s, q, sizeof q - 1, "TabSeparated", NULL, NULL, 0, &r);
	if (!r.error) {
		const char *p = r.data, *end = r.data + r.len;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			if (!nl)
				nl = end;
			const char *tab = memchr(p, '\t', (size_t)(nl - p));
			if (tab) {
				int code = atoi(p);
				if (code > 0 && code < ENGINE_MAX_CODE)
					e->error_names[code] = strndup(tab + 1, (size_t)(nl - tab - 1));
			}
			p = nl + 1;
		}
	}
	engine_result_free(&r);
	static const char v[] = "SELECT version()";
	engine_query(&s, v, sizeof v - 1, "TabSeparated", NULL, NULL, 0, &r);
	if (!r.error && r.len > 0) {
		size_t n = r.len < sizeof e->version ? r.len : sizeof e->version - 1;
		memcpy(e->version, r.data, n);
		e->version[n] = 0;
		e->version[strcspn(e->version, "\n")] = 0;
	}
	engine_result_free(&r);
}

struct engine *engine_open(const char *libpath, const char *path, const char *server_config, char *err,
			   size_t errlen)
{
	struct stat st;
	if (stat(libpath, &st) != 0) {
		snprintf(err, errlen,
			 "cannot find libchdb at %s (%s): run `make deps` to fetch the pinned libchdb, "
			 "or point --libchdb / LIBCHDB at an installed libchdb.so",
			 libpath, strerror(errno));
		return NULL;
	}
	struct engine *e = calloc(1, sizeof *e);
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(e->path, sizeof e->path, "%s", path);
	e->dl = dlopen(libpath, RTLD_NOW | RTLD_LOCAL);
	if (!e->dl) {
		snprintf(err, errlen, "cannot load libchdb %s: %s", libpath, dlerror());
		free(e);
		return NULL;
	}
	if (load_symbols(e, err, errlen) != 0) {
		dlclose(e->dl);
		free(e);
		return NULL;
	}
	if (e->signals_enabled)
		e->signals_enabled(false); /* qoestor-db handles its own signals */
	if (server_config && stat(server_config, &st) != 0) {
		snprintf(err, errlen, "cannot read the ClickHouse server configuration %s: %s", server_config,
			 strerror(errno));
		free(e);
		return NULL;
	}
	char arg0[] = "qoestor-db";
	char argpath[4200], argconf[4200];
	snprintf(argpath, sizeof argpath, "--path=%s", path);
	snprintf(argconf, sizeof argconf, "--config-file=%s", server_config ? server_config : "");
	char *argv[] = {arg0, argpath, argconf, NULL};
	e->main = e->connect(server_config ? 3 : 2, argv);
	if (!e->main || !*e->main) {
		snprintf(err, errlen,
			 "libchdb could not open data directory %s%s%s: check that it exists, is writable "
			 "and is not used by another process%s",
			 path, server_config ? " with " : "", server_config ? server_config : "",
			 server_config ? ", and that the server configuration is valid ClickHouse configuration" : "");
		free(e);
		return NULL;
	}
	load_error_names(e);
	return e;
}

void engine_close(struct engine *e)
{
	if (!e)
		return;
	if (e->main)
		e->close_conn(e->main);
	for (int i = 0; i < ENGINE_MAX_CODE; i++)
		free(e->error_names[i]);
	/* libchdb does not support being unloaded; leave it mapped. */
	free(e);
}

const char *engine_error_name(const struct engine *e, int code)
{
	if (code <= 0 || code >= ENGINE_MAX_CODE)
		return NULL;
	return e->error_names[code];
}

const char *engine_version(const struct engine *e)
{
	return e->version;
}

/* server.h: qoestor-db's HTTP front end: ClickHouse's HTTP interface over libmicrohttpd.
 *
 * Serves GET/POST /?query=..., the query in the URL or the body (with the body
 * as INSERT data when the URL has the query), the database, default_format,
 * query_id, user/password and param_* parameters, any other parameter as a
 * ClickHouse setting, /ping and / ("Ok."), Content-Encoding gzip/deflate/zstd
 * request bodies, errors with ClickHouse's status, message and
 * X-ClickHouse-Exception-Code, and authentication by basic auth, the
 * X-ClickHouse-User/X-ClickHouse-Key headers or user/password parameters.
 * Each request runs on its own connection thread in its own engine session.
 */
#ifndef QOESTOR_DB_SERVER_H
#define QOESTOR_DB_SERVER_H

#include <stddef.h>
#include <stdint.h>

struct engine;

struct server_opts {
	const char *listen;   /* "127.0.0.1:8123", "[::1]:8123", "0.0.0.0:8123" */
	const char *user;     /* the one user; default "default" */
	const char *password; /* "" = none */
	const char *tmpdir;   /* for spilled request bodies */
	const char *display_name;
	size_t spill_at;      /* body bytes kept in memory */
	uint64_t max_body;    /* decoded body limit; 0 = none */
	unsigned max_connections;
};

struct server;

/* Bind and start serving (threads of its own). NULL with err on failure. */
struct server *server_start(struct engine *e, const struct server_opts *o, char *err, size_t errlen);

/* Stop accepting, let running requests finish, free. Blocks until done. */
void server_stop(struct server *s);

/* Requests served so far, and failed ones (for the shutdown log line). */
void server_counts(const struct server *s, uint64_t *requests, uint64_t *errors);

#endif

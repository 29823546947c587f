/* ch.h: a ClickHouse client over the HTTP interface (libcurl).
 *
 * One handle talks to one logical ClickHouse given as a list of URLs
 * (replicas or a single server; http:// or https://). A request goes to the
 * URL that last worked and fails over to the next on connection-level
 * errors (refused, unresolvable, timed out, reset), each URL tried at most
 * once per call. Queries are POSTed (query text as the body); inserts put
 * the INSERT statement in the URL (?query=) and the data as the body, with
 * Content-Encoding for a gzip/zstd body the caller has already compressed.
 *
 * Threads: a handle is used by one thread at a time; separate handles may
 * run in parallel (call ch_global_init once before any thread starts).
 * Blocking: ch_query and ch_insert block up to the configured timeouts per URL.
 * Errors: every call fills struct ch_result; status says whether a retry
 * may succeed (CH_RETRY: network, timeouts, overload such as TOO_MANY_PARTS)
 * or not (CH_PERMANENT: syntax, unknown table/column, type or parse errors,
 * authentication). The message names the URL and the server's exception.
 */
#ifndef QOESTOR_CH_CH_H
#define QOESTOR_CH_CH_H

#include <stddef.h>
#include <stdint.h>

#define CH_MAX_URLS 16

enum ch_auth {
	CH_AUTH_BASIC,   /* HTTP basic authentication */
	CH_AUTH_HEADERS  /* X-ClickHouse-User / X-ClickHouse-Key */
};

struct ch_config {
	const char *const *urls; /* 1..CH_MAX_URLS base URLs, e.g. "http://127.0.0.1:8123" */
	size_t nurls;
	const char *user;        /* NULL: no credentials sent (server's default user) */
	const char *password;    /* NULL: empty */
	const char *database;    /* sent as ?database=; NULL: server default */
	enum ch_auth auth;
	long connect_timeout_ms; /* 0: 5000 */
	long timeout_ms;         /* whole request; 0: 300000 */
	int insecure_tls;        /* 1: do not verify https certificates (testing only) */
	const char *ca_file;     /* https: trust the CA certificates in this PEM file; NULL: system store */
};

enum ch_status {
	CH_OK = 0,
	CH_RETRY = 1,     /* may succeed later: network, timeout, overload */
	CH_PERMANENT = 2  /* will fail again as is: fix the query, data or config */
};

enum ch_encoding { CH_ENC_NONE, CH_ENC_GZIP, CH_ENC_ZSTD };

struct ch_result {
	enum ch_status status;
	long http_code;      /* 0 when no HTTP response arrived */
	int exception_code;  /* X-ClickHouse-Exception-Code; 0 when none */
	char *body;          /* response body, NUL-terminated (result or error text); owned */
	size_t len;
	const char *url;     /* the URL that answered or failed last; valid while the handle lives */
	char msg[512];       /* one line for logs: what failed, where, and the server's message */
};

/* Once per process, before threads: curl_global_init. 0 or -1. */
int ch_global_init(void);

/* Copy cfg into a new handle. NULL with a message in err when cfg is invalid
 * (no URL, too many, a URL that is not http(s)://) or out of memory. */
struct ch_client *ch_client_open(const struct ch_config *cfg, char *err, size_t errlen);
void ch_client_close(struct ch_client *c);

/* Run one SQL statement; the result text (default format TabSeparated
 * unless the statement says FORMAT) is in res->body. Returns res->status.
 * Release res with ch_result_free. settings: extra URL parameters already
 * URL-encoded ("max_execution_time=10&..."), or NULL. */
enum ch_status ch_query(struct ch_client *c, const char *sql, const char *settings, struct ch_result *res);

/* INSERT INTO table (columns) FORMAT fmt with body as data. table and
 * columns are SQL text the caller built from trusted names (quote with
 * chsql.h); fmt e.g. "CSV"; dedup_token (NULL: none) is sent as
 * insert_deduplication_token; settings as for ch_query. */
enum ch_status ch_insert(struct ch_client *c, const char *table, const char *columns, const char *fmt,
	const void *body, size_t len, enum ch_encoding enc, const char *dedup_token, const char *settings,
	struct ch_result *res);

/* The same with the body read from fd (len bytes from offset 0, with pread:
 * the file offset is not used; read again from 0 on a failover). fd stays
 * the caller's. A read error fails the call as CH_RETRY naming it. */
enum ch_status ch_insert_fd(struct ch_client *c, const char *table, const char *columns, const char *fmt, int fd,
	uint64_t len, enum ch_encoding enc, const char *dedup_token, const char *settings, struct ch_result *res);

void ch_result_free(struct ch_result *res);

/* Classify a ClickHouse exception code: CH_RETRY or CH_PERMANENT. */
enum ch_status ch_classify_exception(int code);

/* URL-encode s (RFC 3986 unreserved kept). Newly allocated; NULL when out of memory. */
char *ch_url_escape(const char *s);

#endif

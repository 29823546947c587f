/* server.c: ClickHouse's HTTP interface on libmicrohttpd (see server.h).
 *
 * One thread per connection (libmicrohttpd's THREAD_PER_CONNECTION), one
 * engine session per request. A request is handled in three steps: headers
 * (auth, encoding), body chunks (decoded into a struct body), then the
 * statement, built from the URL's query and the body the way ClickHouse does:
 * query parameter + "\n" + body, or the body alone.
 */
#include "server.h"

#include "body.h"
#include "engine.h"
#include "log.h"
#include "netaddr.h"
#include "sqlscan.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

struct server {
	struct MHD_Daemon *d;
	struct engine *e;
	char *listen, *user, *password, *tmpdir, *display_name;
	size_t spill_at;
	uint64_t max_body;
	atomic_uint_fast64_t requests, errors;
};

struct req {
	struct body *b;
	int body_failed;
	int auth_failed;
	int bad_encoding;
	char user[128];
	char encoding[64];
};

/* ---- small helpers ------------------------------------------------------- */

struct strbuf {
	char *p;
	size_t len, cap;
	int oom;
};

static void sb_add(struct strbuf *s, const char *p, size_t n)
{
	if (s->oom)
		return;
	if (s->len + n + 1 > s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 1024;
		while (nc < s->len + n + 1)
			nc *= 2;
		char *m = realloc(s->p, nc);
		if (!m) {
			s->oom = 1;
			return;
		}
		s->p = m;
		s->cap = nc;
	}
	memcpy(s->p + s->len, p, n);
	s->len += n;
	s->p[s->len] = 0;
}

static void sb_str(struct strbuf *s, const char *p) { sb_add(s, p, strlen(p)); }

/* Append v between quote characters q (' for a string literal, ` for an
 * identifier), with q and backslashes escaped. */
static void sb_quoted(struct strbuf *s, const char *v, char q)
{
	sb_add(s, &q, 1);
	for (const char *p = v; *p; p++) {
		if (*p == q || *p == '\\')
			sb_add(s, "\\", 1);
		sb_add(s, p, 1);
	}
	sb_add(s, &q, 1);
}

static void sb_literal(struct strbuf *s, const char *v) { sb_quoted(s, v, '\''); }
static void sb_ident(struct strbuf *s, const char *v) { sb_quoted(s, v, '`'); }

static int is_ident(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

static int consttime_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = (unsigned char)(la != lb);
	for (size_t i = 0; i < la; i++)
		d |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
	return d == 0;
}

static void new_query_id(char out[37])
{
	unsigned char r[16];
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		memcpy(r, &ts, sizeof r < sizeof ts ? sizeof r : sizeof ts);
	}
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
		 r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
}

/* ClickHouse's mapping of exception codes to HTTP statuses (by error name,
 * from src/Server/HTTP/exceptionCodeToHTTPStatus.cpp). */
static unsigned status_for(const struct engine *e, int code)
{
	static const struct {
		const char *name;
		unsigned status;
	} map[] = {
		{"REQUIRED_PASSWORD", 401},
		{"UNKNOWN_USER", 403}, {"WRONG_PASSWORD", 403}, {"AUTHENTICATION_FAILED", 403},
		{"SET_NON_GRANTED_ROLE", 403}, {"ACCESS_DENIED", 403}, {"READONLY", 403},
		{"BAD_ARGUMENTS", 400}, {"CANNOT_COMPILE_REGEXP", 400}, {"CANNOT_PARSE_TEXT", 400},
		{"CANNOT_PARSE_ESCAPE_SEQUENCE", 400}, {"CANNOT_PARSE_QUOTED_STRING", 400},
		{"CANNOT_PARSE_DATE", 400}, {"CANNOT_PARSE_DATETIME", 400}, {"CANNOT_PARSE_NUMBER", 400},
		{"CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING", 400}, {"CANNOT_PARSE_IPV4", 400},
		{"CANNOT_PARSE_IPV6", 400}, {"CANNOT_PARSE_INPUT_ASSERTION_FAILED", 400},
		{"CANNOT_PARSE_UUID", 400}, {"DUPLICATE_COLUMN", 400}, {"ILLEGAL_COLUMN", 400},
		{"UNKNOWN_ELEMENT_IN_AST", 400}, {"UNKNOWN_TYPE_OF_AST_NODE", 400},
		{"THERE_IS_NO_COLUMN", 400}, {"TOO_DEEP_AST", 400}, {"TOO_BIG_AST", 400},
		{"UNEXPECTED_AST_STRUCTURE", 400}, {"SYNTAX_ERROR", 400}, {"INCORRECT_DATA", 400},
		{"TYPE_MISMATCH", 400}, {"VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE", 400},
		{"UNKNOWN_TABLE", 404}, {"UNKNOWN_FUNCTION", 404}, {"UNKNOWN_IDENTIFIER", 404},
		{"UNKNOWN_TYPE", 404}, {"UNKNOWN_STORAGE", 404}, {"UNKNOWN_DATABASE", 404},
		{"UNKNOWN_SETTING", 404}, {"UNKNOWN_DIRECTION_OF_SORTING", 404},
		{"UNKNOWN_AGGREGATE_FUNCTION", 404}, {"UNKNOWN_FORMAT", 404},
		{"UNKNOWN_DATABASE_ENGINE", 404}, {"UNKNOWN_TYPE_OF_QUERY", 404}, {"UNKNOWN_ROLE", 404},
		{"QUERY_IS_TOO_LARGE", 413}, {"NOT_IMPLEMENTED", 501}, {"SOCKET_TIMEOUT", 503},
		{"CANNOT_OPEN_FILE", 503}, {"HTTP_LENGTH_REQUIRED", 411}, {"TIMEOUT_EXCEEDED", 408},
		{"CANNOT_SCHEDULE_TASK", 503}, {"UNSUPPORTED_MEDIA_TYPE", 415},
	};
	const char *name = engine_error_name(e, code);
	if (name)
		for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
			if (!strcmp(map[i].name, name))
				return map[i].status;
	return 500;
}

static const char *content_type_for(const char *fmt)
{
	if (!strncasecmp(fmt, "TabSeparated", 12) || !strncasecmp(fmt, "TSV", 3))
		return "text/tab-separated-values; charset=UTF-8";
	if (!strncasecmp(fmt, "CSV", 3))
		return "text/csv; charset=UTF-8; header=absent";
	if (!strncasecmp(fmt, "JSON", 4))
		return !strncasecmp(fmt, "JSONEachRow", 11) || !strncasecmp(fmt, "JSONCompactEachRow", 18)
			       ? "application/x-ndjson; charset=UTF-8"
			       : "application/json; charset=UTF-8";
	if (!strcasecmp(fmt, "XML"))
		return "application/xml; charset=UTF-8";
	if (!strcasecmp(fmt, "Parquet") || !strcasecmp(fmt, "Arrow") || !strcasecmp(fmt, "Native") ||
	    !strncasecmp(fmt, "RowBinary", 9) || !strcasecmp(fmt, "ORC") || !strcasecmp(fmt, "Avro"))
		return "application/octet-stream";
	return "text/plain; charset=UTF-8";
}

/* ---- responses ----------------------------------------------------------- */

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *text,
				 const char *display_name)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(text), (void *)(uintptr_t)text, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "text/plain; charset=UTF-8");
	if (display_name)
		MHD_add_response_header(r, "X-ClickHouse-Server-Display-Name", display_name);
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_error(struct server *s, struct MHD_Connection *c, int code, const char *msg,
				  const char *query_id)
{
	atomic_fetch_add(&s->errors, 1);
	char codebuf[16];
	snprintf(codebuf, sizeof codebuf, "%d", code);
	size_t n = strlen(msg);
	char *body = malloc(n + 2);
	if (!body)
		return MHD_NO;
	memcpy(body, msg, n);
	if (n == 0 || msg[n - 1] != '\n')
		body[n++] = '\n';
	struct MHD_Response *r = MHD_create_response_from_buffer(n, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "text/plain; charset=UTF-8");
	MHD_add_response_header(r, "X-ClickHouse-Exception-Code", codebuf);
	MHD_add_response_header(r, "X-ClickHouse-Server-Display-Name", s->display_name);
	if (query_id)
		MHD_add_response_header(r, "X-ClickHouse-Query-Id", query_id);
	enum MHD_Result ret = MHD_queue_response(c, status_for(s->e, code), r);
	MHD_destroy_response(r);
	return ret;
}

/* The successful result, sent straight from the engine's buffer. */
struct out {
	struct engine_session *ss;
	struct engine_result res;
};

static ssize_t out_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct out *o = cls;
	if (pos >= o->res.len)
		return MHD_CONTENT_READER_END_OF_STREAM;
	size_t n = o->res.len - (size_t)pos;
	if (n > max)
		n = max;
	memcpy(buf, o->res.data + pos, n);
	return (ssize_t)n;
}

static void out_free(void *cls)
{
	struct out *o = cls;
	engine_result_free(&o->res);
	engine_session_close(o->ss);
	free(o);
}

/* A streamed result: chunks are fetched as libmicrohttpd asks for bytes
 * (chunked transfer encoding). An error after the first chunk cannot change
 * the status any more; as ClickHouse does, its message ends the body. */
struct sout {
	struct server *srv;
	struct engine_session *ss;
	struct engine_stream *st;
	struct engine_result chunk;
	size_t off;
	char *tail;       /* error text to send last, or NULL */
	size_t tail_len, tail_off;
	int ended;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sout *o = cls;
	(void)pos;
	for (;;) {
		if (o->chunk.data && o->off < o->chunk.len) {
			size_t n = o->chunk.len - o->off;
			if (n > max)
				n = max;
			memcpy(buf, o->chunk.data + o->off, n);
			o->off += n;
			return (ssize_t)n;
		}
		if (o->tail) {
			if (o->tail_off >= o->tail_len)
				return MHD_CONTENT_READER_END_OF_STREAM;
			size_t n = o->tail_len - o->tail_off;
			if (n > max)
				n = max;
			memcpy(buf, o->tail + o->tail_off, n);
			o->tail_off += n;
			return (ssize_t)n;
		}
		if (o->ended)
			return MHD_CONTENT_READER_END_OF_STREAM;
		engine_result_free(&o->chunk);
		o->off = 0;
		int r = engine_stream_next(o->st, &o->chunk);
		if (r == 0) {
			o->ended = 1;
		} else if (r < 0) {
			atomic_fetch_add(&o->srv->errors, 1);
			log_info("query failed while its result was being sent: %s", o->chunk.error);
			if (asprintf(&o->tail, "\n%s\n", o->chunk.error) < 0)
				o->tail = NULL;
			o->tail_len = o->tail ? strlen(o->tail) : 0;
			engine_result_free(&o->chunk);
			o->ended = 1;
			if (!o->tail)
				return MHD_CONTENT_READER_END_WITH_ERROR;
		}
	}
}

static void stream_free(void *cls)
{
	struct sout *o = cls;
	engine_result_free(&o->chunk);
	engine_stream_close(o->st);
	engine_session_close(o->ss);
	free(o->tail);
	free(o);
}

static void add_result_headers(struct server *s, struct MHD_Response *resp, const char *outfmt, const char *qid)
{
	MHD_add_response_header(resp, "Content-Type", content_type_for(outfmt));
	MHD_add_response_header(resp, "X-ClickHouse-Format", outfmt);
	MHD_add_response_header(resp, "X-ClickHouse-Query-Id", qid);
	MHD_add_response_header(resp, "X-ClickHouse-Timezone", "UTC");
	MHD_add_response_header(resp, "X-ClickHouse-Server-Display-Name", s->display_name);
}

/* Takes ss and st. The first chunk is fetched before the status is sent, so a
 * statement that fails at once gets its proper error status. */
static enum MHD_Result send_stream(struct server *s, struct MHD_Connection *c, struct engine_session *ss,
				   struct engine_stream *st, const char *outfmt, const char *qid)
{
	struct sout *o = calloc(1, sizeof *o);
	if (!o) {
		engine_stream_close(st);
		engine_session_close(ss);
		return MHD_NO;
	}
	o->srv = s;
	o->ss = ss;
	o->st = st;
	int r = engine_stream_next(st, &o->chunk);
	if (r < 0) {
		log_debug("query %s failed: %s", qid, o->chunk.error);
		enum MHD_Result ret = send_error(s, c, o->chunk.code, o->chunk.error, qid);
		stream_free(o);
		return ret;
	}
	if (r == 0)
		o->ended = 1;
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 256 * 1024, stream_read, o,
								      stream_free);
	if (!resp) {
		stream_free(o);
		return MHD_NO;
	}
	add_result_headers(s, resp, outfmt, qid);
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- request parameters --------------------------------------------------- */

struct params {
	const char *query, *database, *default_format, *query_id, *user, *password, *readonly;
	const char *names[64], *values[64];
	size_t nparams;
	char bad[160];
	int nsettings;
	const char *setting_stmts[128];
};

static enum MHD_Result param_cb(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct params *p = cls;
	if (!value)
		value = "";
	if (!strcmp(key, "query"))
		p->query = value;
	else if (!strcmp(key, "database"))
		p->database = value;
	else if (!strcmp(key, "default_format"))
		p->default_format = value;
	else if (!strcmp(key, "query_id"))
		p->query_id = value;
	else if (!strcmp(key, "user"))
		p->user = value;
	else if (!strcmp(key, "password"))
		p->password = value;
	else if (!strncmp(key, "param_", 6)) {
		if (p->nparams < sizeof p->names / sizeof p->names[0]) {
			p->names[p->nparams] = key + 6;
			p->values[p->nparams] = value;
			p->nparams++;
		} else {
			snprintf(p->bad, sizeof p->bad, "too many query parameters (at most 64)");
		}
	} else if (!strcmp(key, "session_id") || !strcmp(key, "session_timeout") ||
		   !strcmp(key, "session_check") || !strcmp(key, "buffer_size") ||
		   !strcmp(key, "wait_end_of_query") || !strcmp(key, "quota_key") ||
		   !strcmp(key, "client_protocol_version") || !strcmp(key, "stacktrace")) {
		/* Accepted and ignored: each request is its own session. */
	} else if (!strcmp(key, "compress") || !strcmp(key, "decompress")) {
		if (strcmp(value, "0") != 0)
			snprintf(p->bad, sizeof p->bad,
				 "%s=1 (ClickHouse's native block compression) is not supported by qoestor-db: "
				 "use Content-Encoding gzip or zstd for request bodies", key);
	} else {
		if (!strcmp(key, "readonly"))
			p->readonly = value;
		if (!is_ident(key)) {
			snprintf(p->bad, sizeof p->bad, "invalid setting name '%.100s' in the URL", key);
			return MHD_YES;
		}
		if (p->nsettings >= (int)(sizeof p->setting_stmts / sizeof p->setting_stmts[0])) {
			snprintf(p->bad, sizeof p->bad, "too many settings in the URL (at most 128)");
			return MHD_YES;
		}
		p->setting_stmts[p->nsettings++] = key; /* value looked up again below */
	}
	(void)kind;
	return MHD_YES;
}

/* ---- the handler ------------------------------------------------------------ */

/* Only printable ASCII, tab, CR, LF. */
static int plain_text(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch >= 0x7f || (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r'))
			return 0;
	}
	return 1;
}

/* A plain INSERT whose data is not text (RowBinary, Native, Parquet...): its
 * body always goes through a file and FROM INFILE, since binary data inline
 * after the query text is not parsed reliably by libchdb. */
static int insert_is_binary(struct MHD_Connection *c)
{
	const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "query");
	long fpos = q ? sqlscan_insert_format_pos(q, strlen(q)) : -1;
	if (fpos < 0)
		return 0;
	const char *f = q + fpos + 6; /* past FORMAT */
	while (*f && isspace((unsigned char)*f))
		f++;
	static const char *const text[] = {"CSV", "TSV", "TabSeparated", "JSON", "Values", "CustomSeparated",
					   "Template", "Regexp", "LineAsString", NULL};
	for (int i = 0; text[i]; i++)
		if (!strncasecmp(f, text[i], strlen(text[i])))
			return 0;
	return 1;
}

static int check_auth(struct server *s, struct MHD_Connection *c, struct req *r)
{
	const char *u = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-ClickHouse-User");
	const char *k = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-ClickHouse-Key");
	char *bpass = NULL;
	char *buser = MHD_basic_auth_get_username_password(c, &bpass);
	const char *pu = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "user");
	const char *pp = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "password");
	const char *user = "default", *pass = "";
	if (u || k) {
		user = u ? u : "default";
		pass = k ? k : "";
	} else if (buser) {
		user = buser;
		pass = bpass ? bpass : "";
	} else if (pu || pp) {
		user = pu ? pu : "default";
		pass = pp ? pp : "";
	}
	snprintf(r->user, sizeof r->user, "%s", user);
	int ok = consttime_eq(user, s->user) & consttime_eq(pass, s->password);
	if (buser)
		MHD_free(buser);
	if (bpass)
		MHD_free(bpass);
	return ok;
}

static enum MHD_Result run_query(struct server *s, struct MHD_Connection *c, struct req *r, int is_get)
{
	struct params p;
	memset(&p, 0, sizeof p);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, param_cb, &p);
	char qid[64];
	if (p.query_id && *p.query_id)
		snprintf(qid, sizeof qid, "%s", p.query_id);
	else
		new_query_id(qid);
	if (p.bad[0]) {
		char msg[256];
		snprintf(msg, sizeof msg, "Code: 36. DB::Exception: %s. (BAD_ARGUMENTS)", p.bad);
		return send_error(s, c, 36, msg, qid);
	}
	struct body *b = r->b;
	struct strbuf sql = {0};
	const char *q = p.query;
	uint64_t blen = b ? body_size(b) : 0;
	long fpos;
	fpos = q && blen > 0 ? sqlscan_insert_format_pos(q, strlen(q)) : -1;
	/* Bytes that are not plain text (high bytes, control characters) in inline
	 * INSERT data can be misread by libchdb's query lexer: such bodies go
	 * through the file path too. */
	if (fpos >= 0 && !body_path(b) && !plain_text(body_memory(b), (size_t)blen) && body_spill(b) != 0) {
		char msg[400];
		snprintf(msg, sizeof msg, "Code: 1000. DB::Exception: %s. (POCO_EXCEPTION)", body_error(b));
		return send_error(s, c, 1000, msg, qid);
	}
	if (fpos >= 0 && body_path(b)) {
		/* Large INSERT body: let ClickHouse read the file, parsed in parallel. */
		sb_add(&sql, q, (size_t)fpos);
		sb_str(&sql, " FROM INFILE ");
		sb_literal(&sql, body_path(b));
		sb_str(&sql, " ");
		sb_str(&sql, q + fpos);
	} else {
		if (b && body_load(b) != 0) {
			char msg[400];
			snprintf(msg, sizeof msg, "Code: 1000. DB::Exception: %s. (POCO_EXCEPTION)", body_error(b));
			return send_error(s, c, 1000, msg, qid);
		}
		if (q)
			sb_str(&sql, q);
		if (q && blen > 0)
			sb_add(&sql, "\n", 1);
		if (blen > 0)
			sb_add(&sql, body_memory(b), (size_t)blen);
	}
	if (sql.oom) {
		free(sql.p);
		return send_error(s, c, 241, "Code: 241. DB::Exception: qoestor-db: out of memory. (MEMORY_LIMIT_EXCEEDED)", qid);
	}
	size_t k = 0;
	while (k < sql.len && isspace((unsigned char)sql.p[k]))
		k++;
	if (k == sql.len) {
		free(sql.p);
		return send_error(s, c, 62, "Code: 62. DB::Exception: Empty query. (SYNTAX_ERROR)", qid);
	}

	char err[512];
	struct engine_session *ss = engine_session_open(s->e, err, sizeof err);
	if (!ss) {
		free(sql.p);
		char msg[700];
		snprintf(msg, sizeof msg, "Code: 1000. DB::Exception: qoestor-db: %s. (POCO_EXCEPTION)", err);
		return send_error(s, c, 1000, msg, qid);
	}
	/* Session set-up: settings from the URL, GET is read-only, then the database. */
	struct engine_result res;
	struct strbuf st = {0};
	int failed = 0;
	for (int i = 0; i < p.nsettings && !failed; i++) {
		const char *key = p.setting_stmts[i];
		const char *val = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
		st.len = 0;
		sb_str(&st, "SET ");
		sb_str(&st, key);
		sb_str(&st, " = ");
		sb_literal(&st, val ? val : "");
		if (is_get && !strcmp(key, "readonly") && val && !strcmp(val, "0"))
			continue; /* GET stays read-only */
		engine_query(ss, st.p, st.len, "TabSeparated", NULL, NULL, 0, &res);
		if (res.error)
			failed = 1;
		else
			engine_result_free(&res);
	}
	if (!failed && is_get && !(p.readonly && strcmp(p.readonly, "0"))) {
		static const char ro[] = "SET readonly = 2";
		engine_query(ss, ro, sizeof ro - 1, "TabSeparated", NULL, NULL, 0, &res);
		if (res.error)
			failed = 1;
		else
			engine_result_free(&res);
	}
	if (!failed && p.database && *p.database) {
		st.len = 0;
		sb_str(&st, "USE ");
		sb_ident(&st, p.database);
		engine_query(ss, st.p, st.len, "TabSeparated", NULL, NULL, 0, &res);
		if (res.error)
			failed = 1;
		else
			engine_result_free(&res);
	}
	free(st.p);
	const char *fmt = p.default_format && *p.default_format ? p.default_format : "TabSeparated";
	char outfmt[64];
	if (!sqlscan_output_format(sql.p, sql.len, outfmt, sizeof outfmt))
		snprintf(outfmt, sizeof outfmt, "%s", fmt);
	int is_insert = sqlscan_is_insert(sql.p, sql.len);
	if (!failed && !is_insert) {
		/* Results of any size: streamed when the engine can stream the statement. */
		struct engine_stream *stream = NULL;
		int so = engine_stream_open(ss, sql.p, sql.len, fmt, p.names, p.values, p.nparams, &stream, &res);
		if (so == 0) {
			free(sql.p);
			return send_stream(s, c, ss, stream, outfmt, qid);
		}
		if (so < 0)
			failed = 1;
	}
	if (!failed)
		engine_query(ss, sql.p, sql.len, fmt, p.names, p.values, p.nparams, &res);
	free(sql.p);
	if (res.error) {
		log_debug("query %s failed: %s", qid, res.error);
		enum MHD_Result ret = send_error(s, c, res.code, res.error, qid);
		engine_result_free(&res);
		engine_session_close(ss);
		return ret;
	}
	struct out *o = malloc(sizeof *o);
	if (!o) {
		engine_result_free(&res);
		engine_session_close(ss);
		return MHD_NO;
	}
	o->ss = ss;
	o->res = res;
	struct MHD_Response *resp = MHD_create_response_from_callback(res.len, 256 * 1024, out_read, o, out_free);
	if (!resp) {
		out_free(o);
		return MHD_NO;
	}
	char summary[512];
	snprintf(summary, sizeof summary,
		 "{\"read_rows\":\"%llu\",\"read_bytes\":\"%llu\",\"written_rows\":\"%llu\","
		 "\"written_bytes\":\"%llu\",\"total_rows_to_read\":\"0\",\"result_rows\":\"0\","
		 "\"result_bytes\":\"%zu\",\"elapsed_ns\":\"%llu\"}",
		 (unsigned long long)res.rows_read, (unsigned long long)res.bytes_read,
		 (unsigned long long)res.rows_written, (unsigned long long)res.bytes_written, res.len,
		 (unsigned long long)(res.elapsed * 1e9));
	if (is_insert) {
		MHD_add_response_header(resp, "Content-Type", "text/plain; charset=UTF-8");
		MHD_add_response_header(resp, "X-ClickHouse-Query-Id", qid);
		MHD_add_response_header(resp, "X-ClickHouse-Timezone", "UTC");
		MHD_add_response_header(resp, "X-ClickHouse-Server-Display-Name", s->display_name);
	} else {
		add_result_headers(s, resp, outfmt, qid);
	}
	MHD_add_response_header(resp, "X-ClickHouse-Summary", summary);
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			       const char *version, const char *upload_data, size_t *upload_data_size,
			       void **con_cls)
{
	struct server *s = cls;
	struct req *r = *con_cls;
	(void)version;
	if (!r) {
		r = calloc(1, sizeof *r);
		if (!r)
			return MHD_NO;
		*con_cls = r;
		atomic_fetch_add(&s->requests, 1);
		/* Health checks answer without credentials, as in ClickHouse. */
		int health = !strcmp(url, "/ping") || !strcmp(url, "/replicas_status");
		if (!health && !check_auth(s, c, r)) {
			r->auth_failed = 1;
			return MHD_YES;
		}
		const char *ce = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Encoding");
		enum body_encoding enc;
		if (body_encoding_parse(ce, &enc) != 0) {
			r->bad_encoding = 1;
			snprintf(r->encoding, sizeof r->encoding, "%s", ce);
			return MHD_YES;
		}
		r->b = body_new(enc, s->tmpdir, insert_is_binary(c) ? 0 : s->spill_at, s->max_body);
		if (!r->b)
			return MHD_NO;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (r->b && !r->body_failed && body_feed(r->b, upload_data, *upload_data_size) != 0)
			r->body_failed = 1;
		*upload_data_size = 0;
		return MHD_YES;
	}
	/* The whole request is in. */
	if (r->auth_failed) {
		char msg[300];
		snprintf(msg, sizeof msg,
			 "Code: 516. DB::Exception: %.100s: Authentication failed: password is incorrect, or "
			 "there is no user with such name. (AUTHENTICATION_FAILED)",
			 r->user);
		log_info("authentication failed for user '%.100s'", r->user);
		return send_error(s, c, 516, msg, NULL);
	}
	if (r->bad_encoding) {
		char msg[200];
		snprintf(msg, sizeof msg,
			 "Code: 36. DB::Exception: Unsupported Content-Encoding '%.60s': use gzip, deflate or "
			 "zstd. (BAD_ARGUMENTS)",
			 r->encoding);
		return send_error(s, c, 36, msg, NULL);
	}
	if (!r->body_failed && body_finish(r->b) != 0)
		r->body_failed = 1;
	if (r->body_failed) {
		char msg[400];
		snprintf(msg, sizeof msg, "Code: 1000. DB::Exception: %s. (POCO_EXCEPTION)", body_error(r->b));
		return send_error(s, c, 1000, msg, NULL);
	}
	int is_get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	if (!is_get && strcmp(method, "POST") != 0)
		return send_text(c, 405, "Only GET and POST are supported.\n", s->display_name);
	if (!strcmp(url, "/ping") || !strcmp(url, "/replicas_status"))
		return send_text(c, 200, "Ok.\n", s->display_name);
	if (strcmp(url, "/") != 0) {
		char msg[300];
		snprintf(msg, sizeof msg, "There is no handle %.200s\n", url);
		return send_text(c, 404, msg, s->display_name);
	}
	if (!MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "query") && body_size(r->b) == 0)
		return send_text(c, 200, "Ok.\n", s->display_name);
	return run_query(s, c, r, is_get);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;
	(void)cls;
	(void)c;
	(void)toe;
	if (r) {
		body_free(r->b);
		free(r);
		*con_cls = NULL;
	}
}

static int parse_listen(const char *spec, struct sockaddr_storage *ss, char *err, size_t errlen)
{
	if (netaddr_parse(spec, ss) == 0)
		return 0;
	snprintf(err, errlen, "bad listen address '%s': use ADDRESS:PORT, e.g. 127.0.0.1:8123 or [::1]:8123",
		 spec);
	return -1;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char line[512];
	vsnprintf(line, sizeof line, fmt, ap);
	line[strcspn(line, "\n")] = 0;
	log_info("http: %s", line);
}

struct server *server_start(struct engine *e, const struct server_opts *o, char *err, size_t errlen)
{
	struct sockaddr_storage addr;
	if (parse_listen(o->listen, &addr, err, errlen) != 0)
		return NULL;
	struct server *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->e = e;
	s->listen = strdup(o->listen);
	s->user = strdup(o->user ? o->user : "default");
	s->password = strdup(o->password ? o->password : "");
	s->tmpdir = strdup(o->tmpdir);
	s->display_name = strdup(o->display_name ? o->display_name : "qoestor-db");
	s->spill_at = o->spill_at ? o->spill_at : 1 << 20;
	s->max_body = o->max_body;
	/* poll(), not select(): the engine keeps a file descriptor per column file
	 * of every part it reads, writes or merges, so under a sustained load
	 * sockets get numbers above FD_SETSIZE (1024), which select() cannot
	 * watch (MHD refused those connections: loader inserts failed and were
	 * retried after a back-off). */
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
			 MHD_USE_ITC;
	if (addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	s->d = MHD_start_daemon(flags, 0, NULL, NULL, handler, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
				MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_CONNECTION_LIMIT,
				(unsigned)(o->max_connections ? o->max_connections : 256),
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)3600, MHD_OPTION_END);
	if (!s->d) {
		snprintf(err, errlen,
			 "cannot listen on %s: the address is in use or not available (is another qoestor-db "
			 "or ClickHouse running? choose another --listen)",
			 o->listen);
		free(s->listen);
		free(s->user);
		free(s->password);
		free(s->tmpdir);
		free(s->display_name);
		free(s);
		return NULL;
	}
	return s;
}

void server_stop(struct server *s)
{
	if (!s)
		return;
	/* Stop accepting first, then join the connection threads: requests in
	 * progress run to completion and get their answer. */
	MHD_socket fd = MHD_quiesce_daemon(s->d);
	MHD_stop_daemon(s->d);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	free(s->listen);
	free(s->user);
	free(s->password);
	free(s->tmpdir);
	free(s->display_name);
	free(s);
}

void server_counts(const struct server *s, uint64_t *requests, uint64_t *errors)
{
	*requests = atomic_load(&((struct server *)s)->requests);
	*errors = atomic_load(&((struct server *)s)->errors);
}

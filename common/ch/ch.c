/* ch.c: ClickHouse HTTP client on libcurl (see ch.h).
 *
 * One easy handle per client, reset before each request so no option leaks
 * from one request to the next. The response body grows in a malloc'ed
 * buffer (capped at CH_MAX_BODY); the exception code comes from the
 * X-ClickHouse-Exception-Code header, or from "Code: N." in the body when a
 * proxy dropped the header.
 */
#include "ch/ch.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CH_MAX_BODY (512u * 1024u * 1024u)

struct ch_client {
	CURL *curl;
	char *urls[CH_MAX_URLS];
	size_t nurls;
	size_t cur;               /* index of the URL that last worked */
	char *user, *password, *database, *ca_file;
	enum ch_auth auth;
	long connect_timeout_ms, timeout_ms;
	int insecure_tls;
};

int ch_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

struct ch_client *ch_client_open(const struct ch_config *cfg, char *err, size_t errlen)
{
	if (!cfg->nurls || cfg->nurls > CH_MAX_URLS) {
		snprintf(err, errlen, "need 1 to %d ClickHouse URLs, got %zu", CH_MAX_URLS, cfg->nurls);
		return NULL;
	}
	for (size_t i = 0; i < cfg->nurls; i++)
		if (!cfg->urls[i] || (strncasecmp(cfg->urls[i], "http://", 7) != 0 &&
		                      strncasecmp(cfg->urls[i], "https://", 8) != 0)) {
			snprintf(err, errlen, "ClickHouse URL '%s' must start with http:// or https://",
				cfg->urls[i] ? cfg->urls[i] : "");
			return NULL;
		}
	struct ch_client *c = calloc(1, sizeof *c);
	if (!c)
		goto oom;
	c->curl = curl_easy_init();
	if (!c->curl)
		goto oom;
	for (size_t i = 0; i < cfg->nurls; i++, c->nurls++) {
		size_t n = strlen(cfg->urls[i]);
		while (n > 0 && cfg->urls[i][n - 1] == '/')
			n--;
		if (!(c->urls[i] = strndup(cfg->urls[i], n)))
			goto oom;
	}
	c->user = dup_or_null(cfg->user);
	c->password = dup_or_null(cfg->password ? cfg->password : "");
	c->database = dup_or_null(cfg->database);
	if ((cfg->user && !c->user) || !c->password || (cfg->database && !c->database))
		goto oom;
	c->auth = cfg->auth;
	c->connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 5000;
	c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 300000;
	c->insecure_tls = cfg->insecure_tls;
	if (cfg->ca_file && !(c->ca_file = strdup(cfg->ca_file)))
		goto oom;
	return c;
oom:
	snprintf(err, errlen, "out of memory");
	ch_client_close(c);
	return NULL;
}

void ch_client_close(struct ch_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	for (size_t i = 0; i < c->nurls; i++)
		free(c->urls[i]);
	free(c->user);
	if (c->password) {
		memset(c->password, 0, strlen(c->password));
		free(c->password);
	}
	free(c->database);
	free(c->ca_file);
	free(c);
}

void ch_result_free(struct ch_result *res)
{
	free(res->body);
	res->body = NULL;
	res->len = 0;
}

char *ch_url_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, (int)strlen(s));
	if (!e)
		return NULL;
	char *r = strdup(e);
	curl_free(e);
	return r;
}

enum ch_status ch_classify_exception(int code)
{
	switch (code) {
	case 3:    /* UNEXPECTED_END_OF_FILE: body cut in transit */
	case 159:  /* TIMEOUT_EXCEEDED */
	case 173:  /* CANNOT_ALLOCATE_MEMORY */
	case 202:  /* TOO_MANY_SIMULTANEOUS_QUERIES */
	case 203:  /* NO_FREE_CONNECTION */
	case 209:  /* SOCKET_TIMEOUT */
	case 210:  /* NETWORK_ERROR */
	case 218:  /* TABLE_IS_DROPPED */
	case 225:  /* NO_ZOOKEEPER */
	case 236:  /* ABORTED */
	case 241:  /* MEMORY_LIMIT_EXCEEDED */
	case 242:  /* TABLE_IS_READ_ONLY */
	case 243:  /* NOT_ENOUGH_SPACE */
	case 252:  /* TOO_MANY_PARTS */
	case 279:  /* ALL_CONNECTION_TRIES_FAILED */
	case 319:  /* UNKNOWN_STATUS_OF_INSERT */
	case 394:  /* QUERY_WAS_CANCELLED */
	case 425:  /* SYSTEM_ERROR */
	case 439:  /* CANNOT_SCHEDULE_TASK */
	case 473:  /* DEADLOCK_AVOIDED */
	case 999:  /* KEEPER_EXCEPTION */
		return CH_RETRY;
	default:   /* syntax, unknown table/column, type, parse, auth ... */
		return CH_PERMANENT;
	}
}

/* ---- one request -------------------------------------------------------------- */

struct reply {
	char *buf;
	size_t len, cap;
	int too_big;
	int exc;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct reply *r = ud;
	size_t add = size * n;
	if (r->len + add + 1 > CH_MAX_BODY) {
		r->too_big = 1;
		return 0;
	}
	if (r->len + add + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		while (cap < r->len + add + 1)
			cap *= 2;
		char *b = realloc(r->buf, cap);
		if (!b)
			return 0;
		r->buf = b;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, p, add);
	r->len += add;
	r->buf[r->len] = 0;
	return add;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct reply *r = ud;
	size_t len = size * n;
	static const char h[] = "X-ClickHouse-Exception-Code:";
	if (len > sizeof h - 1 && strncasecmp(p, h, sizeof h - 1) == 0)
		r->exc = atoi(p + sizeof h - 1);
	return len;
}

/* 1 when the error means this URL is unreachable now (try the next one). */
static int connection_error(CURLcode e)
{
	switch (e) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
		return 1;
	default:
		return 0;
	}
}

/* First line of the server's message, without the trailing newline. */
static void set_server_msg(struct ch_result *res, const char *what)
{
	const char *b = res->body ? res->body : "";
	size_t n = strcspn(b, "\n");
	snprintf(res->msg, sizeof res->msg, "%s at %s failed (HTTP %ld%s): %.*s", what, res->url,
		res->http_code, res->status == CH_RETRY ? ", retryable" : "", (int)(n > 400 ? 400 : n), b);
}

/* A body read from a file descriptor (ch_insert_fd), from offset 0 on each attempt. */
struct fd_body {
	int fd;
	uint64_t off, len;
	int err;
};

static size_t on_read(char *p, size_t size, size_t n, void *ud)
{
	struct fd_body *b = ud;
	size_t want = size * n;
	if (want > b->len - b->off)
		want = (size_t)(b->len - b->off);
	size_t got = 0;
	while (got < want) {
		ssize_t r = pread(b->fd, p + got, want - got, (off_t)(b->off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			b->err = r < 0 ? errno : EIO;
			return CURL_READFUNC_ABORT;
		}
		got += (size_t)r;
	}
	b->off += got;
	return got;
}

/* body/len in memory, or fb (not NULL) read from its file. */
static enum ch_status request(struct ch_client *c, const char *what, const char *params, const void *body,
	size_t len, struct fd_body *fb, enum ch_encoding enc, struct ch_result *res)
{
	memset(res, 0, sizeof *res);
	res->status = CH_RETRY;
	for (size_t attempt = 0; attempt < c->nurls; attempt++) {
		size_t idx = (c->cur + attempt) % c->nurls;
		struct reply rp = { 0 };
		struct curl_slist *hdr = NULL;
		char errbuf[CURL_ERROR_SIZE] = "";
		char *url = NULL;
		res->url = c->urls[idx];
		if (asprintf(&url, "%s%s%s", c->urls[idx], strchr(c->urls[idx], '?') ? "&" : "/?",
			params) < 0) {
			snprintf(res->msg, sizeof res->msg, "%s: out of memory", what);
			return res->status = CH_RETRY;
		}
		CURL *h = c->curl;
		curl_easy_reset(h);
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		if (fb) {
			fb->off = 0;
			fb->err = 0;
			curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
			curl_easy_setopt(h, CURLOPT_READDATA, fb);
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)fb->len);
		} else {
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
		}
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &rp);
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, &rp);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
		if (c->ca_file)
			curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
		if (c->insecure_tls) {
			curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
			curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
		}
		hdr = curl_slist_append(hdr, "Content-Type: application/octet-stream");
		hdr = curl_slist_append(hdr, "Expect:");
		if (enc == CH_ENC_GZIP)
			hdr = curl_slist_append(hdr, "Content-Encoding: gzip");
		else if (enc == CH_ENC_ZSTD)
			hdr = curl_slist_append(hdr, "Content-Encoding: zstd");
		char *uh = NULL, *kh = NULL;
		if (c->user && c->auth == CH_AUTH_HEADERS) {
			if (asprintf(&uh, "X-ClickHouse-User: %s", c->user) >= 0)
				hdr = curl_slist_append(hdr, uh);
			if (asprintf(&kh, "X-ClickHouse-Key: %s", c->password) >= 0)
				hdr = curl_slist_append(hdr, kh);
		} else if (c->user) {
			curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
			curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
			curl_easy_setopt(h, CURLOPT_PASSWORD, c->password);
		}
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
		CURLcode e = curl_easy_perform(h);
		curl_slist_free_all(hdr);
		free(uh);
		if (kh) {
			memset(kh, 0, strlen(kh));
			free(kh);
		}
		free(url);
		free(res->body);
		res->body = rp.buf;
		res->len = rp.len;
		res->exception_code = rp.exc;
		if (e != CURLE_OK) {
			res->http_code = 0;
			if (rp.too_big) {
				snprintf(res->msg, sizeof res->msg, "%s at %s: response larger than %u bytes",
					what, res->url, CH_MAX_BODY);
				return res->status = CH_PERMANENT;
			}
			snprintf(res->msg, sizeof res->msg, "%s: cannot reach ClickHouse at %s: %s", what, res->url,
				errbuf[0] ? errbuf : curl_easy_strerror(e));
			if (connection_error(e))
				continue; /* next URL */
			return res->status = CH_PERMANENT;
		}
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->http_code);
		if (res->http_code == 200) {
			c->cur = idx;
			res->msg[0] = 0;
			if (!res->body && !(res->body = calloc(1, 1)))
				return res->status = CH_RETRY;
			return res->status = CH_OK;
		}
		if (!res->exception_code && res->body && strncmp(res->body, "Code: ", 6) == 0)
			res->exception_code = atoi(res->body + 6);
		if (res->exception_code)
			res->status = ch_classify_exception(res->exception_code);
		else
			res->status = res->http_code >= 500 || res->http_code == 429 ? CH_RETRY : CH_PERMANENT;
		set_server_msg(res, what);
		/* A proxy in front of a dead replica: try the next URL. */
		if (!res->exception_code && (res->http_code == 502 || res->http_code == 503 ||
		                             res->http_code == 504))
			continue;
		c->cur = idx;
		return res->status;
	}
	return res->status = CH_RETRY;
}

static int append_param(FILE *f, const char *key, const char *value)
{
	char *v = ch_url_escape(value);
	if (!v)
		return -1;
	fprintf(f, "%s%s=%s", ftell(f) > 0 ? "&" : "", key, v);
	free(v);
	return 0;
}

static char *build_params(struct ch_client *c, const char *query, const char *dedup, const char *settings)
{
	char *p = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&p, &n);
	if (!f)
		return NULL;
	int bad = 0;
	if (c->database)
		bad |= append_param(f, "database", c->database);
	if (query)
		bad |= append_param(f, "query", query);
	if (dedup)
		bad |= append_param(f, "insert_deduplication_token", dedup);
	if (settings && *settings)
		fprintf(f, "%s%s", ftell(f) > 0 ? "&" : "", settings);
	if (fclose(f) != 0 || bad) {
		free(p);
		return NULL;
	}
	return p;
}

enum ch_status ch_query(struct ch_client *c, const char *sql, const char *settings, struct ch_result *res)
{
	char *params = build_params(c, NULL, NULL, settings);
	if (!params) {
		memset(res, 0, sizeof *res);
		snprintf(res->msg, sizeof res->msg, "query: out of memory");
		return res->status = CH_RETRY;
	}
	enum ch_status s = request(c, "query", params, sql, strlen(sql), NULL, CH_ENC_NONE, res);
	free(params);
	return s;
}

static enum ch_status insert(struct ch_client *c, const char *table, const char *columns, const char *fmt,
	const void *body, size_t len, struct fd_body *fb, enum ch_encoding enc, const char *dedup_token,
	const char *settings, struct ch_result *res)
{
	char *q = NULL, *params = NULL;
	if (asprintf(&q, "INSERT INTO %s%s%s%s FORMAT %s", table, columns ? " (" : "", columns ? columns : "",
		columns ? ")" : "", fmt) >= 0)
		params = build_params(c, q, dedup_token, settings);
	free(q);
	if (!params) {
		memset(res, 0, sizeof *res);
		snprintf(res->msg, sizeof res->msg, "insert into %s: out of memory", table);
		return res->status = CH_RETRY;
	}
	char what[160];
	snprintf(what, sizeof what, "insert into %s", table);
	enum ch_status s = request(c, what, params, body, len, fb, enc, res);
	free(params);
	if (fb && fb->err && s != CH_OK) {
		snprintf(res->msg, sizeof res->msg, "insert into %s: cannot read its body from a file: %s", table,
			 strerror(fb->err));
		s = res->status = CH_RETRY;
	}
	return s;
}

enum ch_status ch_insert(struct ch_client *c, const char *table, const char *columns, const char *fmt,
	const void *body, size_t len, enum ch_encoding enc, const char *dedup_token, const char *settings,
	struct ch_result *res)
{
	return insert(c, table, columns, fmt, body, len, NULL, enc, dedup_token, settings, res);
}

enum ch_status ch_insert_fd(struct ch_client *c, const char *table, const char *columns, const char *fmt, int fd,
	uint64_t len, enum ch_encoding enc, const char *dedup_token, const char *settings, struct ch_result *res)
{
	struct fd_body fb = { fd, 0, len, 0 };
	return insert(c, table, columns, fmt, NULL, 0, &fb, enc, dedup_token, settings, res);
}

/* test_schema_ch.c: unit tests of the ClickHouse HTTP client (common/ch/ch.c)
 * against a small in-process HTTP server (libmicrohttpd) that records what
 * it receives and answers like ClickHouse's HTTP interface: the wire
 * protocol (query in the body or the URL, database, dedup token, encoding,
 * both auth styles), error parsing and classes, and failover. The real
 * ClickHouse is exercised by test/integration/schema-initdb.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ch/ch.h"

/* What the fake server saw last, and what it answers next. */
static struct {
	char url_query[2048], url_database[128], url_token[128], url_setting[64];
	char content_encoding[64], user_hdr[64], key_hdr[64], auth_hdr[128];
	char body[4096];
	size_t body_len;
	unsigned hits;
	unsigned status;      /* HTTP status to answer */
	int exc;              /* exception code header, 0 none */
	const char *reply;
} srv;

static void copy_val(struct MHD_Connection *c, enum MHD_ValueKind k, const char *key, char *out, size_t len)
{
	const char *v = MHD_lookup_connection_value(c, k, key);
	snprintf(out, len, "%s", v ? v : "");
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
	const char *version, const char *data, size_t *data_size, void **con_cls)
{
	(void)cls; (void)url; (void)method; (void)version;
	if (!*con_cls) { /* first call: headers only */
		*con_cls = c;
		srv.body_len = 0;
		return MHD_YES;
	}
	if (*data_size) {
		size_t n = *data_size;
		if (srv.body_len + n < sizeof srv.body) {
			memcpy(srv.body + srv.body_len, data, n);
			srv.body_len += n;
		}
		*data_size = 0;
		return MHD_YES;
	}
	srv.body[srv.body_len] = 0;
	srv.hits++;
	copy_val(c, MHD_GET_ARGUMENT_KIND, "query", srv.url_query, sizeof srv.url_query);
	copy_val(c, MHD_GET_ARGUMENT_KIND, "database", srv.url_database, sizeof srv.url_database);
	copy_val(c, MHD_GET_ARGUMENT_KIND, "insert_deduplication_token", srv.url_token, sizeof srv.url_token);
	copy_val(c, MHD_GET_ARGUMENT_KIND, "max_threads", srv.url_setting, sizeof srv.url_setting);
	copy_val(c, MHD_HEADER_KIND, "Content-Encoding", srv.content_encoding, sizeof srv.content_encoding);
	copy_val(c, MHD_HEADER_KIND, "X-ClickHouse-User", srv.user_hdr, sizeof srv.user_hdr);
	copy_val(c, MHD_HEADER_KIND, "X-ClickHouse-Key", srv.key_hdr, sizeof srv.key_hdr);
	copy_val(c, MHD_HEADER_KIND, "Authorization", srv.auth_hdr, sizeof srv.auth_hdr);
	const char *reply = srv.reply ? srv.reply : "";
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(reply), (void *)reply,
		MHD_RESPMEM_MUST_COPY);
	if (srv.exc) {
		char code[16];
		snprintf(code, sizeof code, "%d", srv.exc);
		MHD_add_response_header(r, "X-ClickHouse-Exception-Code", code);
	}
	enum MHD_Result ret = MHD_queue_response(c, srv.status ? srv.status : 200, r);
	MHD_destroy_response(r);
	return ret;
}

static struct MHD_Daemon *daemon_;
static char base_url[64], dead_url[64];

static unsigned short unused_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	bind(s, (struct sockaddr *)&a, sizeof a);
	getsockname(s, (struct sockaddr *)&a, &len);
	close(s);
	return ntohs(a.sin_port);
}

static int setup(void **state)
{
	(void)state;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, handler, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a, MHD_OPTION_END);
	if (!daemon_)
		return -1;
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
	snprintf(base_url, sizeof base_url, "http://127.0.0.1:%u", info->port);
	snprintf(dead_url, sizeof dead_url, "http://127.0.0.1:%u", unused_port());
	return ch_global_init();
}

static int teardown(void **state)
{
	(void)state;
	MHD_stop_daemon(daemon_);
	return 0;
}

static int reset(void **state)
{
	(void)state;
	memset(&srv, 0, sizeof srv);
	return 0;
}

static struct ch_client *open_client(const char **urls, size_t n, const char *user, enum ch_auth auth)
{
	char err[256];
	struct ch_config cfg = { .urls = urls, .nurls = n, .user = user, .password = user ? "s3cret" : NULL,
		.database = "qoestor", .auth = auth, .connect_timeout_ms = 2000, .timeout_ms = 10000 };
	struct ch_client *c = ch_client_open(&cfg, err, sizeof err);
	if (!c)
		fail_msg("ch_client_open: %s", err);
	return c;
}

static void test_query(void **state)
{
	(void)state;
	const char *urls[] = { base_url };
	struct ch_client *c = open_client(urls, 1, NULL, CH_AUTH_BASIC);
	struct ch_result res;
	srv.reply = "1\n";
	assert_int_equal(ch_query(c, "SELECT 1", "max_threads=2", &res), CH_OK);
	assert_string_equal(res.body, "1\n");
	assert_int_equal(res.http_code, 200);
	assert_string_equal(srv.body, "SELECT 1");     /* query in the body */
	assert_string_equal(srv.url_query, "");
	assert_string_equal(srv.url_database, "qoestor");
	assert_string_equal(srv.url_setting, "2");
	assert_string_equal(srv.auth_hdr, "");          /* no user: no credentials */
	ch_result_free(&res);
	ch_client_close(c);
}

static void test_insert(void **state)
{
	(void)state;
	const char *urls[] = { base_url };
	struct ch_client *c = open_client(urls, 1, "loader", CH_AUTH_HEADERS);
	struct ch_result res;
	const char data[] = "1,\"a\"\n2,\"b&c=d\"\n";
	assert_int_equal(ch_insert(c, "qoestor.clickstream", "time, login", "CSV", data, sizeof data - 1,
		CH_ENC_ZSTD, "file-7/block 3", NULL, &res), CH_OK);
	assert_string_equal(srv.url_query, "INSERT INTO qoestor.clickstream (time, login) FORMAT CSV");
	assert_string_equal(srv.url_token, "file-7/block 3");
	assert_string_equal(srv.content_encoding, "zstd");
	assert_int_equal(srv.body_len, sizeof data - 1);
	assert_memory_equal(srv.body, data, sizeof data - 1);
	assert_string_equal(srv.user_hdr, "loader");
	assert_string_equal(srv.key_hdr, "s3cret");
	assert_string_equal(srv.auth_hdr, "");
	ch_result_free(&res);
	ch_client_close(c);
}

static void test_basic_auth(void **state)
{
	(void)state;
	const char *urls[] = { base_url };
	struct ch_client *c = open_client(urls, 1, "loader", CH_AUTH_BASIC);
	struct ch_result res;
	assert_int_equal(ch_query(c, "SELECT 1", NULL, &res), CH_OK);
	assert_string_equal(srv.auth_hdr, "Basic bG9hZGVyOnMzY3JldA=="); /* loader:s3cret */
	assert_string_equal(srv.user_hdr, "");
	ch_result_free(&res);
	ch_client_close(c);
}

static void test_errors(void **state)
{
	(void)state;
	const char *urls[] = { base_url };
	struct ch_client *c = open_client(urls, 1, NULL, CH_AUTH_BASIC);
	struct ch_result res;

	srv.status = 400;
	srv.exc = 62;
	srv.reply = "Code: 62. DB::Exception: Syntax error: failed at position 1 (SELEC). (SYNTAX_ERROR)\nmore\n";
	assert_int_equal(ch_query(c, "SELEC 1", NULL, &res), CH_PERMANENT);
	assert_int_equal(res.exception_code, 62);
	assert_int_equal(res.http_code, 400);
	assert_non_null(strstr(res.msg, base_url));
	assert_non_null(strstr(res.msg, "SYNTAX_ERROR"));
	assert_null(strstr(res.msg, "more"));
	ch_result_free(&res);

	srv.status = 500;
	srv.exc = 252;
	srv.reply = "Code: 252. DB::Exception: Too many parts (300). (TOO_MANY_PARTS)";
	assert_int_equal(ch_query(c, "INSERT", NULL, &res), CH_RETRY);
	assert_int_equal(res.exception_code, 252);
	ch_result_free(&res);

	/* no header (a proxy dropped it): the code is read from the body */
	srv.exc = 0;
	srv.status = 500;
	srv.reply = "Code: 60. DB::Exception: Unknown table. (UNKNOWN_TABLE)";
	assert_int_equal(ch_query(c, "SELECT * FROM nosuch", NULL, &res), CH_PERMANENT);
	assert_int_equal(res.exception_code, 60);
	ch_result_free(&res);

	/* a bare 503 from a proxy: retryable */
	srv.status = 503;
	srv.reply = "Service Unavailable";
	assert_int_equal(ch_query(c, "SELECT 1", NULL, &res), CH_RETRY);
	assert_int_equal(res.exception_code, 0);
	ch_result_free(&res);
	ch_client_close(c);
}

static void test_failover(void **state)
{
	(void)state;
	const char *urls[] = { dead_url, base_url };
	struct ch_client *c = open_client(urls, 2, NULL, CH_AUTH_BASIC);
	struct ch_result res;
	srv.reply = "ok\n";
	assert_int_equal(ch_query(c, "SELECT 1", NULL, &res), CH_OK);
	assert_string_equal(res.url, base_url);
	assert_int_equal(srv.hits, 1);
	ch_result_free(&res);
	/* the working URL is remembered */
	assert_int_equal(ch_query(c, "SELECT 2", NULL, &res), CH_OK);
	assert_string_equal(res.url, base_url);
	ch_result_free(&res);
	ch_client_close(c);

	const char *dead[] = { dead_url };
	c = open_client(dead, 1, NULL, CH_AUTH_BASIC);
	assert_int_equal(ch_query(c, "SELECT 1", NULL, &res), CH_RETRY);
	assert_int_equal(res.http_code, 0);
	assert_non_null(strstr(res.msg, "cannot reach ClickHouse at"));
	assert_non_null(strstr(res.msg, dead_url));
	ch_result_free(&res);
	ch_client_close(c);
}

static void test_open_errors(void **state)
{
	(void)state;
	char err[256];
	const char *bad[] = { "ftp://x" };
	struct ch_config cfg = { .urls = bad, .nurls = 1 };
	assert_null(ch_client_open(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "ftp://x"));
	cfg.nurls = 0;
	assert_null(ch_client_open(&cfg, err, sizeof err));
	/* trailing slashes are tolerated */
	char u[80];
	snprintf(u, sizeof u, "%s/", base_url);
	const char *ok[] = { u };
	cfg.urls = ok;
	cfg.nurls = 1;
	struct ch_client *c = ch_client_open(&cfg, err, sizeof err);
	assert_non_null(c);
	struct ch_result res;
	assert_int_equal(ch_query(c, "SELECT 1", NULL, &res), CH_OK);
	ch_result_free(&res);
	ch_client_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_query, reset),
		cmocka_unit_test_setup(test_insert, reset),
		cmocka_unit_test_setup(test_basic_auth, reset),
		cmocka_unit_test_setup(test_errors, reset),
		cmocka_unit_test_setup(test_failover, reset),
		cmocka_unit_test_setup(test_open_errors, reset),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

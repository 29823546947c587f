/* test_netaddr.c: unit tests of common/netaddr (ADDRESS:PORT of every listener). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "netaddr.h"

static void test_good(void **state)
{
	(void)state;
	struct sockaddr_storage ss;
	assert_int_equal(netaddr_parse("127.0.0.1:8123", &ss), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 8123);
	assert_int_equal(ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr), 0x7f000001);
	assert_int_equal(netaddr_parse("[::1]:9465", &ss), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 9465);
	assert_int_equal(((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr[15], 1);
	assert_int_equal(netaddr_parse("0.0.0.0:0", &ss), 0);
	assert_int_equal(netaddr_parse("[2001:db8::5]:65535", &ss), 0);
}

static void test_bad(void **state)
{
	(void)state;
	struct sockaddr_storage ss;
	static const char *const bad[] = {
		"", "127.0.0.1", "127.0.0.1:", ":8123", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:12x",
		"localhost:8123", "::1:8123", "[::1]8123", "[::1:8123", "[127.0.0.1]:80", "1.2.3:80",
		"[::1]:", "127.0.0.1: 80",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (netaddr_parse(bad[i], &ss) != -1)
			fail_msg("accepted '%s'", bad[i]);
	assert_int_equal(netaddr_parse(NULL, &ss), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

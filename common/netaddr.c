/* netaddr.c: see netaddr.h. */
#include "netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

int netaddr_parse(const char *spec, struct sockaddr_storage *out)
{
	char host[128];
	const char *port;
	memset(out, 0, sizeof *out);
	if (!spec)
		return -1;
	if (spec[0] == '[') {
		const char *e = strchr(spec, ']');
		if (!e || e[1] != ':' || (size_t)(e - spec - 1) >= sizeof host)
			return -1;
		memcpy(host, spec + 1, (size_t)(e - spec - 1));
		host[e - spec - 1] = 0;
		port = e + 2;
	} else {
		const char *colon = strrchr(spec, ':');
		if (!colon || (size_t)(colon - spec) >= sizeof host)
			return -1;
		memcpy(host, spec, (size_t)(colon - spec));
		host[colon - spec] = 0;
		port = colon + 1;
	}
	char *end;
	long pn = strtol(port, &end, 10);
	if (*port < '0' || *port > '9' || *end || pn < 0 || pn > 65535)
		return -1;
	struct sockaddr_in *a4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;
	if (spec[0] != '[' && inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)pn);
		return 0;
	}
	if (spec[0] == '[' && inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)pn);
		return 0;
	}
	memset(out, 0, sizeof *out);
	return -1;
}

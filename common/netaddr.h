/* netaddr.h: "ADDRESS:PORT" as qoestor's listeners take it, into a socket address.
 *
 * Accepts a numeric IPv4 address or a bracketed numeric IPv6 address, a colon
 * and a port 0..65535: "127.0.0.1:8123", "[::1]:9465", "0.0.0.0:1500". No
 * host names (a daemon must not depend on DNS to start). Pure function.
 */
#ifndef QOESTOR_NETADDR_H
#define QOESTOR_NETADDR_H

#include <sys/socket.h>

/* 0 and *out filled (family, address, port), or -1 when spec is not
 * ADDRESS:PORT as above. */
int netaddr_parse(const char *spec, struct sockaddr_storage *out);

#endif

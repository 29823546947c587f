/* dict_value.h: parsing and printing one dictionary value (number, IP, CIDR, MAC, text).
 *
 * Pure functions on byte ranges that need not be NUL-terminated; they never read
 * outside [s, s+n) and never allocate. Used by dict_parse.c and by tests; safe from
 * any thread.
 */
#ifndef QOESTOR_DICT_VALUE_H
#define QOESTOR_DICT_VALUE_H

#include <stddef.h>
#include <stdint.h>

/* An address or prefix. IPv4 is held in addr[0..3] (network order), the rest zero;
 * IPv6 in addr[0..15]. plen is the prefix length (32 or 128 for one address). */
struct dict_ip {
	uint8_t addr[16];
	uint8_t plen;
	uint8_t v6;
};

/* Longest text dict_format_ip writes, NUL included ("ffff:...:ffff/128"). */
#define DICT_IP_STRLEN 64

/* Unsigned decimal, digits only, value <= max. 0 on success, -1 otherwise. */
int dict_parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out);

/* One IPv4 or IPv6 address (no prefix length). 0 or -1. */
int dict_parse_ip(const char *s, size_t n, struct dict_ip *out);

/* Address or address/len. 0 on success; -1 with *why set to a static reason, or to
 * "host bits" when the address has bits set after the prefix (out then holds the
 * masked prefix, so the caller can suggest it). */
int dict_parse_cidr(const char *s, size_t n, struct dict_ip *out, const char **why);

/* MAC in one of the forms of DT_MAC; *out gets the 48 bits. 0 or -1. */
int dict_parse_mac(const char *s, size_t n, uint64_t *out);

/* Offset of the first byte that is not valid UTF-8 or is a control character
 * (0x00-0x1f, 0x7f); n when all is well. */
size_t dict_text_check(const char *s, size_t n);

/* Decimal text of v; buf has 21 bytes. Returns the length. */
size_t dict_format_uint(uint64_t v, char *buf);

/* Canonical text: "10.0.0.1" or with with_len "10.0.0.0/8"; buf has DICT_IP_STRLEN. */
void dict_format_ip(const struct dict_ip *ip, int with_len, char *buf);

/* "00:11:22:aa:bb:cc"; buf has 18 bytes. */
void dict_format_mac(uint64_t mac, char *buf);

/* A value quoted for an error message: at most 60 bytes of s, non-printable bytes as
 * \xNN, "..." when cut; buf has DICT_QUOTE_LEN bytes. */
#define DICT_QUOTE_LEN 256
void dict_quote(const char *s, size_t n, char *buf);

#endif

/* spool_format.h: the byte-level constants of the spool file format (.qsp)
 * shared by the writer (spool.c) and the reader (spool_reader.c), plus the
 * schema hash and the file-name grammar. docs/SPOOL-FORMAT.md is the prose
 * version of this header; change both together.
 *
 * Everything on disk is little-endian. A file is:
 *   file header | block* | trailer block | footer
 * Every block starts with a 32-byte block header (type, codec, sizes, row
 * count, index, payload CRC-32, header CRC-32). CRC-32 is zlib's crc32
 * (ISO-HDLC, the one of gzip and PNG).
 * Pure functions, no allocation, thread-safe.
 */
#ifndef QOESTOR_SPOOL_FORMAT_H
#define QOESTOR_SPOOL_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "schema/schema.h"

#define SPF_MAGIC "QSPL\r\n\x1a\n"  /* 8 bytes: file magic */
#define SPF_MAGIC_LEN 8
#define SPF_END_MAGIC "QSPLEND\n"   /* 8 bytes: footer magic */
#define SPF_FOOTER_LEN 16           /* end magic + u64 trailer offset */
#define SPF_VERSION_MAJOR 1         /* readers reject another major */
#define SPF_VERSION_MINOR 0         /* readers accept any minor */

#define SPF_BLOCK_HDR_LEN 32
#define SPF_BLOCK_MAGIC 0x4b425351u /* "QSBK" read as u32 LE */

/* Block types. Bit 0x80 set: critical (a reader that does not know it must
 * reject the file); clear: ancillary (skip it). */
#define SPF_BT_DATA 0x81
#define SPF_BT_TRAILER 0x82

/* Block codecs. */
#define SPF_CODEC_NONE 0
#define SPF_CODEC_ZSTD 1

/* Presence encodings of one column inside a data block. */
#define SPF_PRES_NONE 0   /* no row has a value: no bitmap, no values */
#define SPF_PRES_ALL 1    /* every row has a value: no bitmap */
#define SPF_PRES_BITMAP 2 /* ceil(rows/8) bytes of bitmap, LSB first */

/* File header flags. */
#define SPF_HF_NONE 0u
/* Trailer flags. */
#define SPF_TF_SALVAGED 0x1u /* published by salvage after a crash: no exporter counters */

/* Limits every reader enforces (and the writer respects). */
#define SPF_MAX_HEADER_LEN (64u * 1024u)
#define SPF_MAX_BLOCK_ROWS 65536u
#define SPF_MAX_RAW_LEN (64u * 1024u * 1024u)     /* decompressed payload */
#define SPF_MAX_TRAILER_LEN (4u * 1024u * 1024u)
#define SPF_MAX_EXPORTERS 65535u
#define SPF_MAX_NAME_LEN 255u                     /* column, stream, instance, host */
#define SPF_MAX_PEER_LEN 63u

/* On-disk type codes (stable; independent of enum qs_type's order). */
enum spf_type {
	SPF_T_U8 = 1, SPF_T_U16 = 2, SPF_T_U32 = 3, SPF_T_U64 = 4,
	SPF_T_IPV4 = 5, SPF_T_IPV6 = 6, SPF_T_MAC = 7,
	SPF_T_TIME_MS = 8, SPF_T_TIME_S = 9, SPF_T_STR = 10
};

/* enum qs_type -> on-disk code, and back (-1 when the code is unknown). */
uint8_t spf_type_code(enum qs_type t);
int spf_type_from_code(uint8_t code, enum qs_type *t);
/* Width in bytes of a value in a data block; 0 for strings. */
size_t spf_type_width(enum qs_type t);
/* Short lower-case name: "u8" ... "str". */
const char *spf_type_name(enum qs_type t);

/* The schema hash: FNV-1a 64 over, for each column in order, its name bytes,
 * one 0x00 byte and its on-disk type code byte. Two column lists hash equal
 * iff (practically) they have the same names, types and order. */
uint64_t spf_schema_hash(const struct qs_column *cols, size_t ncols);

/* 1 when the NUL-terminated s is a valid instance/stream token: 1..64 chars of
 * [A-Za-z0-9_-]; a stream name may not contain '-'. */
int spf_valid_token(const char *s, int allow_dash);

/* Published file names:
 *   <stream>-<dpi>-<YYYYMMDDTHHMMSSZ>-<instance>-<8 hex>-r<ready>.qsp
 * start = UTC time the file was opened; 8 hex = random, taken from the file
 * id; ready = epoch seconds (UTC) from which the loader may take the file.
 * Writes at most len bytes (NUL included); returns 0, or -1 if too long. */
int spf_format_name(char *buf, size_t len, const char *stream, unsigned dpi, time_t start,
		    const char *instance, uint32_t rnd, int64_t ready);

struct spf_name {
	char stream[65];
	unsigned dpi;
	time_t start;
	char instance[65];
	uint32_t rnd;
	int64_t ready;
};
/* Parse a published file name (no directory part); 0 ok, -1 not one of ours. */
int spf_parse_name(const char *name, struct spf_name *out);

/* Little-endian helpers (plain loads and stores on little-endian hosts). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SPF_LE_HOST 1
#else
#define SPF_LE_HOST 0
#endif
static inline void spf_put16(uint8_t *p, uint16_t v)
{
	if (SPF_LE_HOST) {
		memcpy(p, &v, 2);
		return;
	}
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void spf_put32(uint8_t *p, uint32_t v)
{
	if (SPF_LE_HOST) {
		memcpy(p, &v, 4);
		return;
	}
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline void spf_put64(uint8_t *p, uint64_t v)
{
	if (SPF_LE_HOST) {
		memcpy(p, &v, 8);
		return;
	}
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t spf_get16(const uint8_t *p)
{
	if (SPF_LE_HOST) {
		uint16_t v;
		memcpy(&v, p, 2);
		return v;
	}
	return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t spf_get32(const uint8_t *p)
{
	if (SPF_LE_HOST) {
		uint32_t v;
		memcpy(&v, p, 4);
		return v;
	}
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t spf_get64(const uint8_t *p)
{
	if (SPF_LE_HOST) {
		uint64_t v;
		memcpy(&v, p, 8);
		return v;
	}
	return (uint64_t)spf_get32(p) | (uint64_t)spf_get32(p + 4) << 32;
}

/* Byte planes of n fixed-width values (the on-disk layout of fixed-width
 * columns): out holds byte 0 of every value, then byte 1 of every value ...
 * Width 1 is a plain copy. spf_unshuffle is the inverse. in and out must not
 * overlap; both hold n * width bytes. */
void spf_shuffle(uint8_t *out, const uint8_t *in, size_t n, size_t width);
void spf_unshuffle(uint8_t *out, const uint8_t *in, size_t n, size_t width);

/* CRC-32 (zlib's crc32, computed by libdeflate) of len bytes, continuing from crc (start with 0). */
uint32_t spf_crc32(uint32_t crc, const void *p, size_t len);

#endif

/* spool_format.c: type codes, schema hash, file names and CRC of the spool
 * file format (see spool_format.h and docs/SPOOL-FORMAT.md). */
#include "spool/spool_format.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <libdeflate.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

uint8_t spf_type_code(enum qs_type t)
{
	switch (t) {
	case QS_U8: return SPF_T_U8;
	case QS_U16: return SPF_T_U16;
	case QS_U32: return SPF_T_U32;
	case QS_U64: return SPF_T_U64;
	case QS_IPV4: return SPF_T_IPV4;
	case QS_IPV6: return SPF_T_IPV6;
	case QS_MAC: return SPF_T_MAC;
	case QS_TIME_MS: return SPF_T_TIME_MS;
	case QS_TIME_S: return SPF_T_TIME_S;
	case QS_STR: return SPF_T_STR;
	}
	return 0;
}

int spf_type_from_code(uint8_t code, enum qs_type *t)
{
	static const enum qs_type map[] = {
		[SPF_T_U8] = QS_U8, [SPF_T_U16] = QS_U16, [SPF_T_U32] = QS_U32,
		[SPF_T_U64] = QS_U64, [SPF_T_IPV4] = QS_IPV4, [SPF_T_IPV6] = QS_IPV6,
		[SPF_T_MAC] = QS_MAC, [SPF_T_TIME_MS] = QS_TIME_MS, [SPF_T_TIME_S] = QS_TIME_S,
		[SPF_T_STR] = QS_STR,
	};
	if (code < SPF_T_U8 || code > SPF_T_STR)
		return -1;
	*t = map[code];
	return 0;
}

/* The on-disk widths and names are the schema's (schema.c): a change there is
 * a format change, caught by the schema hash in every file header. */
size_t spf_type_width(enum qs_type t)
{
	return qs_type_width(t);
}

const char *spf_type_name(enum qs_type t)
{
	return qs_type_name(t);
}

uint64_t spf_schema_hash(const struct qs_column *cols, size_t ncols)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < ncols; i++) {
		const unsigned char *s = (const unsigned char *)cols[i].name;
		unsigned char tail[2] = { 0, spf_type_code(cols[i].type) };
		for (; *s; s++)
			h = (h ^ *s) * 0x100000001b3ull;
		for (int k = 0; k < 2; k++)
			h = (h ^ tail[k]) * 0x100000001b3ull;
	}
	return h;
}

int spf_valid_token(const char *s, int allow_dash)
{
	size_t n = 0;
	for (; s[n]; n++) {
		char c = s[n];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '_' || (allow_dash && c == '-');
		if (!ok || n >= 64)
			return 0;
	}
	return n > 0;
}

int spf_format_name(char *buf, size_t len, const char *stream, unsigned dpi, time_t start,
		    const char *instance, uint32_t rnd, int64_t ready)
{
	struct tm tm;
	char ts[32];
	if (!gmtime_r(&start, &tm) || strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm) != 16)
		return -1;
	int n = snprintf(buf, len, "%s-%u-%s-%s-%08" PRIx32 "-r%" PRId64 ".qsp", stream, dpi, ts,
			 instance, rnd, ready);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Parse [first, last) as a decimal number without sign; -1 if not one. */
static int parse_dec(const char *first, const char *last, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (first >= last || last - first > 19)
		return -1;
	for (const char *p = first; p < last; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

int spf_parse_name(const char *name, struct spf_name *out)
{
	size_t n = strlen(name);
	const char *end = name + n, *p, *q;
	uint64_t v;
	memset(out, 0, sizeof *out);
	if (n < 5 || strcmp(end - 4, ".qsp") != 0)
		return -1;
	end -= 4;
	/* from the right: "-r<ready>" */
	for (p = end; p > name && p[-1] != '-'; p--)
		;
	if (p == name || *p != 'r' || parse_dec(p + 1, end, INT64_MAX, &v) < 0)
		return -1;
	out->ready = (int64_t)v;
	end = p - 1;
	/* "-<8 hex>" */
	if (end - name < 9 || end[-9] != '-')
		return -1;
	char hex[9];
	memcpy(hex, end - 8, 8);
	hex[8] = 0;
	for (int i = 0; i < 8; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
			return -1;
	out->rnd = (uint32_t)strtoul(hex, NULL, 16);
	end -= 9;
	/* from the left: "<stream>-<dpi>-<start>-" */
	q = memchr(name, '-', (size_t)(end - name));
	if (!q || q == name || q - name > 64)
		return -1;
	memcpy(out->stream, name, (size_t)(q - name));
	p = q + 1;
	q = memchr(p, '-', (size_t)(end - p));
	if (!q || parse_dec(p, q, UINT32_MAX, &v) < 0)
		return -1;
	out->dpi = (unsigned)v;
	p = q + 1;
	if (end - p < 18 || p[15] != 'Z' || p[16] != '-' || p[8] != 'T')
		return -1;
	struct tm tm = { 0 };
	char digits[15];
	memcpy(digits, p, 8);
	memcpy(digits + 8, p + 9, 6);
	digits[14] = 0;
	for (int i = 0; i < 14; i++)
		if (digits[i] < '0' || digits[i] > '9')
			return -1;
	tm.tm_year = (digits[0] - '0') * 1000 + (digits[1] - '0') * 100 + (digits[2] - '0') * 10 +
		     (digits[3] - '0') - 1900;
	tm.tm_mon = (digits[4] - '0') * 10 + (digits[5] - '0') - 1;
	tm.tm_mday = (digits[6] - '0') * 10 + (digits[7] - '0');
	tm.tm_hour = (digits[8] - '0') * 10 + (digits[9] - '0');
	tm.tm_min = (digits[10] - '0') * 10 + (digits[11] - '0');
	tm.tm_sec = (digits[12] - '0') * 10 + (digits[13] - '0');
	out->start = timegm(&tm);
	p += 17;
	if (end - p < 1 || end - p > 64)
		return -1;
	memcpy(out->instance, p, (size_t)(end - p));
	if (!spf_valid_token(out->instance, 1) || !spf_valid_token(out->stream, 0))
		return -1;
	return 0;
}

/* libdeflate's CRC-32 is zlib's (same polynomial, same running value) but
 * folds with PCLMULQDQ when the CPU has it (runtime-detected), about ten
 * times fewer instructions per byte than zlib 1.2.13's tables. */
uint32_t spf_crc32(uint32_t crc, const void *p, size_t len)
{
	return libdeflate_crc32(crc, p, len);
}

/* Byte planes. The generic loops write one plane at a time (sequential
 * stores); widths 8 and 4 transpose 8x8 / 4x4 byte matrices held in
 * registers (three or two swap stages), several times faster. A transpose is
 * its own inverse, so the same kernels un-shuffle. */
static void planes_generic(uint8_t *out, const uint8_t *in, size_t n, size_t width)
{
	if (width == 2) { /* two output streams: one pass is fastest */
		for (size_t k = 0; k < n; k++) {
			out[k] = in[2 * k];
			out[n + k] = in[2 * k + 1];
		}
		return;
	}
	for (size_t b = 0; b < width; b++) {
		uint8_t *o = out + b * n;
		const uint8_t *i = in + b;
		for (size_t k = 0; k < n; k++)
			o[k] = i[k * width];
	}
}

static void unplanes_generic(uint8_t *out, const uint8_t *in, size_t n, size_t width)
{
	for (size_t b = 0; b < width; b++) {
		const uint8_t *i = in + b * n;
		uint8_t *o = out + b;
		for (size_t k = 0; k < n; k++)
			o[k * width] = i[k];
	}
}

/* x[r] byte c <-> x[c] byte r (little-endian byte numbering). */
static inline void tr8(uint64_t x[8])
{
	uint64_t t;
	for (int i = 0; i < 4; i++) {
		t = ((x[i] >> 32) ^ x[i + 4]) & 0x00000000ffffffffull;
		x[i + 4] ^= t;
		x[i] ^= t << 32;
	}
	for (int i = 0; i < 8; i += 4)
		for (int j = 0; j < 2; j++) {
			t = ((x[i + j] >> 16) ^ x[i + j + 2]) & 0x0000ffff0000ffffull;
			x[i + j + 2] ^= t;
			x[i + j] ^= t << 16;
		}
	for (int i = 0; i < 8; i += 2) {
		t = ((x[i] >> 8) ^ x[i + 1]) & 0x00ff00ff00ff00ffull;
		x[i + 1] ^= t;
		x[i] ^= t << 8;
	}
}

static inline void tr4(uint32_t x[4])
{
	uint32_t t;
	for (int i = 0; i < 2; i++) {
		t = ((x[i] >> 16) ^ x[i + 2]) & 0x0000ffffu;
		x[i + 2] ^= t;
		x[i] ^= t << 16;
	}
	for (int i = 0; i < 4; i += 2) {
		t = ((x[i] >> 8) ^ x[i + 1]) & 0x00ff00ffu;
		x[i + 1] ^= t;
		x[i] ^= t << 8;
	}
}

#if defined(__SSE2__)
/* 16 values of W bytes (W = 2, 4, 8, 16) in W registers: four rounds of
 * byte interleaving (register i with register i + W/2) rotate the bits of
 * a byte's index (register, position) by four, which turns "value, byte" into
 * "byte, value": register b ends up holding byte b of the 16 values. */
static inline __attribute__((always_inline)) size_t planes_sse2(uint8_t *out, const uint8_t *in, size_t n,
								size_t W)
{
	size_t k = 0;
	for (; k + 16 <= n; k += 16) {
		__m128i r[16], t[16]; /* fully unrolled: held in registers */
#pragma GCC unroll 16
		for (size_t i = 0; i < W; i++)
			r[i] = _mm_loadu_si128((const __m128i *)(const void *)(in + k * W + 16 * i));
#pragma GCC unroll 4
		for (int round = 0; round < 4; round++) {
#pragma GCC unroll 8
			for (size_t i = 0; i < W / 2; i++) {
				t[2 * i] = _mm_unpacklo_epi8(r[i], r[i + W / 2]);
				t[2 * i + 1] = _mm_unpackhi_epi8(r[i], r[i + W / 2]);
			}
#pragma GCC unroll 16
			for (size_t i = 0; i < W; i++)
				r[i] = t[i];
		}
#pragma GCC unroll 16
		for (size_t b = 0; b < W; b++)
			_mm_storeu_si128((__m128i *)(void *)(out + b * n + k), r[b]);
	}
	return k;
}
#endif

void spf_shuffle(uint8_t *out, const uint8_t *in, size_t n, size_t width)
{
	size_t k = 0;
	if (width == 1) {
		memcpy(out, in, n);
		return;
	}
#if defined(__SSE2__)
	if (width == 2 || width == 4 || width == 8 || width == 16) {
		k = width == 2 ? planes_sse2(out, in, n, 2) : width == 4 ? planes_sse2(out, in, n, 4)
		  : width == 8 ? planes_sse2(out, in, n, 8) : planes_sse2(out, in, n, 16);
		for (size_t b = 0; b < width; b++) /* the last values, one by one */
			for (size_t j = k; j < n; j++)
				out[b * n + j] = in[j * width + b];
		return;
	}
#endif
	if (!SPF_LE_HOST || (width != 8 && width != 4)) {
		planes_generic(out, in, n, width);
		return;
	}
	if (width == 8) {
		for (; k + 8 <= n; k += 8) {
			uint64_t x[8];
			memcpy(x, in + k * 8, 64);
			tr8(x);
			for (int b = 0; b < 8; b++)
				memcpy(out + (size_t)b * n + k, &x[b], 8);
		}
	} else {
		for (; k + 4 <= n; k += 4) {
			uint32_t x[4];
			memcpy(x, in + k * 4, 16);
			tr4(x);
			for (int b = 0; b < 4; b++)
				memcpy(out + (size_t)b * n + k, &x[b], 4);
		}
	}
	for (size_t b = 0; b < width; b++) /* the last values, one by one */
		for (size_t j = k; j < n; j++)
			out[b * n + j] = in[j * width + b];
}

void spf_unshuffle(uint8_t *out, const uint8_t *in, size_t n, size_t width)
{
	size_t k = 0;
	if (width == 1) {
		memcpy(out, in, n);
		return;
	}
	if (!SPF_LE_HOST || (width != 8 && width != 4)) {
		unplanes_generic(out, in, n, width);
		return;
	}
	if (width == 8) {
		for (; k + 8 <= n; k += 8) {
			uint64_t x[8];
			for (int b = 0; b < 8; b++)
				memcpy(&x[b], in + (size_t)b * n + k, 8);
			tr8(x);
			memcpy(out + k * 8, x, 64);
		}
	} else {
		for (; k + 4 <= n; k += 4) {
			uint32_t x[4];
			for (int b = 0; b < 4; b++)
				memcpy(&x[b], in + (size_t)b * n + k, 4);
			tr4(x);
			memcpy(out + k * 4, x, 16);
		}
	}
	for (size_t b = 0; b < width; b++)
		for (size_t j = k; j < n; j++)
			out[j * width + b] = in[b * n + j];
}

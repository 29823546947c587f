/* ipfix_builder.c: IPFIX message builder for tests (contract in ipfix_builder.h). */
#include "test/unit/ipfix_builder.h"

#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void ib_uint(struct ipfix_builder *b, uint64_t v, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		b->buf[b->len + i] = (uint8_t)(v >> (8 * (len - 1 - i)));
	b->len += len;
}

void ib_u8(struct ipfix_builder *b, uint8_t v) { ib_uint(b, v, 1); }
void ib_u16(struct ipfix_builder *b, uint16_t v) { ib_uint(b, v, 2); }
void ib_u32(struct ipfix_builder *b, uint32_t v) { ib_uint(b, v, 4); }
void ib_u64(struct ipfix_builder *b, uint64_t v) { ib_uint(b, v, 8); }

void ib_begin(struct ipfix_builder *b, uint32_t domain, uint32_t seq)
{
	b->len = 0;
	ib_u16(b, 10);
	ib_u16(b, 0);
	ib_u32(b, b->export_time ? b->export_time : 1700000000u);
	ib_u32(b, seq);
	ib_u32(b, domain);
}

size_t ib_end(struct ipfix_builder *b)
{
	put16(b->buf + 2, (uint16_t)b->len);
	return b->len;
}

void ib_set(struct ipfix_builder *b, uint16_t set_id)
{
	b->set_start = b->len;
	ib_u16(b, set_id);
	ib_u16(b, 0);
}

void ib_set_end(struct ipfix_builder *b)
{
	put16(b->buf + b->set_start + 2, (uint16_t)(b->len - b->set_start));
}

void ib_tmpl(struct ipfix_builder *b, uint16_t tid, uint16_t nfields)
{
	ib_u16(b, tid);
	ib_u16(b, nfields);
}

void ib_opt_tmpl(struct ipfix_builder *b, uint16_t tid, uint16_t nfields, uint16_t nscope)
{
	ib_u16(b, tid);
	ib_u16(b, nfields);
	ib_u16(b, nscope);
}

void ib_field(struct ipfix_builder *b, uint32_t pen, uint16_t ie, uint16_t len)
{
	ib_u16(b, (uint16_t)(pen ? (ie | 0x8000) : ie));
	ib_u16(b, len);
	if (pen)
		ib_u32(b, pen);
}

void ib_bytes(struct ipfix_builder *b, const void *p, size_t n)
{
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

void ib_varlen(struct ipfix_builder *b, const void *p, size_t n)
{
	if (n < 255) {
		ib_u8(b, (uint8_t)n);
	} else {
		ib_u8(b, 255);
		ib_u16(b, (uint16_t)n);
	}
	ib_bytes(b, p, n);
}

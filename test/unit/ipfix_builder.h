/* ipfix_builder.h: build IPFIX messages byte by byte for tests (no libfixbuf).
 *
 * A test writes what it means instead of hex blobs:
 *   ib_begin(&b, domain, seq);
 *   ib_set(&b, 2); ib_tmpl(&b, 256, 2); ib_field(&b, 0, 8, 4); ib_field(&b, 43823, 2001, 65535); ib_set_end(&b);
 *   ib_set(&b, 256); ib_u32(&b, 0x0a000001); ib_varlen(&b, "x", 1); ib_set_end(&b);
 *   len = ib_end(&b);   -> b.buf holds one message of len bytes
 * Nothing is checked: the builder happily writes malformed messages (tests
 * corrupt b.buf afterwards for the bad-input cases). Single-threaded, no
 * allocation; the buffer holds one message of up to 65535 bytes plus slack.
 */
#ifndef QOESTOR_TEST_IPFIX_BUILDER_H
#define QOESTOR_TEST_IPFIX_BUILDER_H

#include <stddef.h>
#include <stdint.h>

struct ipfix_builder {
	uint8_t buf[70000];
	size_t len;
	size_t set_start;
	uint32_t export_time;
};

void ib_begin(struct ipfix_builder *b, uint32_t domain, uint32_t seq);
size_t ib_end(struct ipfix_builder *b);           /* writes the message length */
void ib_set(struct ipfix_builder *b, uint16_t set_id);
void ib_set_end(struct ipfix_builder *b);          /* writes the set length */
void ib_tmpl(struct ipfix_builder *b, uint16_t tid, uint16_t nfields);
void ib_opt_tmpl(struct ipfix_builder *b, uint16_t tid, uint16_t nfields, uint16_t nscope);
void ib_field(struct ipfix_builder *b, uint32_t pen, uint16_t ie, uint16_t len);
void ib_u8(struct ipfix_builder *b, uint8_t v);
void ib_u16(struct ipfix_builder *b, uint16_t v);
void ib_u32(struct ipfix_builder *b, uint32_t v);
void ib_u64(struct ipfix_builder *b, uint64_t v);
void ib_uint(struct ipfix_builder *b, uint64_t v, unsigned len); /* big-endian, len 1..8 */
void ib_bytes(struct ipfix_builder *b, const void *p, size_t n);
void ib_varlen(struct ipfix_builder *b, const void *p, size_t n); /* RFC 7011 7. prefix */

#endif

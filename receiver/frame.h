/* frame.h: cut IPFIX messages out of a byte stream (TCP) or a datagram (UDP),
 * and name what arrived when it is not IPFIX.
 *
 * Pure functions over caller-owned bytes: no allocation, no state, no I/O,
 * any thread. The version check gives the manual's troubleshooting hint: a
 * DPI exporting NetFlow v5 to an IPFIX port has netflow_full_collector_type
 * set wrong (0 = NetFlow v5, 1 = IPFIX over UDP, 2 = IPFIX over TCP).
 */
#ifndef QOESTOR_RECEIVER_FRAME_H
#define QOESTOR_RECEIVER_FRAME_H

#include <stddef.h>
#include <stdint.h>

enum frame_result {
	FRAME_NEED_MORE = 0, /* fewer bytes than the next message: read more */
	FRAME_OK,            /* *msglen bytes at p are one message (version 10, length >= 16) */
	FRAME_BAD,           /* not an IPFIX message: why says what (version, length) */
};

/* Look at the bytes at p (avail of them). why gets a one-line explanation
 * when FRAME_BAD (may be NULL). */
enum frame_result frame_ipfix(const uint8_t *p, size_t avail, size_t *msglen, char *why, size_t whylen);

#endif

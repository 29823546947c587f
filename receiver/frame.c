/* frame.c: IPFIX message framing and version diagnosis (contract in frame.h). */
#include "receiver/frame.h"

#include <stdio.h>

enum frame_result frame_ipfix(const uint8_t *p, size_t avail, size_t *msglen, char *why, size_t whylen)
{
	if (avail < 4)
		return FRAME_NEED_MORE;
	unsigned version = (unsigned)p[0] << 8 | p[1];
	unsigned len = (unsigned)p[2] << 8 | p[3];
	if (version != 10) {
		if (why) {
			if (version == 5 || version == 9)
				snprintf(why, whylen, "Illegal IPFIX Message Version 0x%04x: this is NetFlow v%u, "
				         "not IPFIX; on the DPI set netflow_full_collector_type=2 (IPFIX over TCP) "
				         "or 1 (IPFIX over UDP) for this port, or receive it over UDP with "
				         "--accept netflow%u", version, version, version);
			else
				snprintf(why, whylen, "Illegal IPFIX Message Version 0x%04x: the peer does not "
				         "speak IPFIX (wrong port or protocol?)", version);
		}
		return FRAME_BAD;
	}
	if (len < 16) {
		if (why)
			snprintf(why, whylen, "IPFIX message length %u is below the 16-byte header", len);
		return FRAME_BAD;
	}
	if (avail < len)
		return FRAME_NEED_MORE;
	*msglen = len;
	return FRAME_OK;
}

/* netflow.h: NetFlow v9 (RFC 3954) and v5 packets into rows, for decode.c.
 *
 * Not a public module: decode.c owns the session, its counters and its
 * logging, and calls these for a datagram whose version is 9 or 5 when the
 * session accepts it (decode_session_accept). Both formats go through the
 * same copy plans as IPFIX (copyplan.h): v9 field types are IANA element ids
 * (enterprise 0; types with the high bit set are vendor types and are
 * skipped); a v5 record is a fixed template of 20 elements. NetFlow times
 * (FIRST_SWITCHED 22 / LAST_SWITCHED 21, milliseconds of system uptime) fill
 * the flowStart/EndMilliseconds columns as unix_secs - (sysUptime - value).
 * v9 has no message length, so it is a UDP-only format here.
 *
 * Threads: a template table belongs to its session's thread. No blocking.
 */
#ifndef QOESTOR_RECEIVER_NETFLOW_H
#define QOESTOR_RECEIVER_NETFLOW_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "receiver/copyplan.h"
#include "receiver/decode.h"

struct nf_templates;             /* the v9 templates of one session, per source id */

struct nf_templates *nf_templates_new(void);   /* never NULL (aborts on out of memory) */
void nf_templates_free(struct nf_templates *t);

/* What decode.c lends for one packet. */
struct nf_call {
	const struct qs_stream_def *def;
	const char *peer;
	struct log_ratelimit *rl;
	struct qs_record *r;
	struct decode_counters *c;   /* the packet's domain */
	decode_emit_fn emit;
	void *emit_ctx;
	struct decode_cursor *cur;   /* cur->done: records emitted before a pause */
};

/* Header facts: 0 and *domain (v9 source id; v5 engine type << 8 | engine id),
 * *seq (v9 packet sequence, v5 flow sequence); -1 if the header is too short
 * or inconsistent (why says what). */
int nf_header(const uint8_t *p, size_t len, uint32_t *domain, uint32_t *seq, const char **why);

/* Decode one v9 packet / one v5 packet (header checked by nf_header). Counts
 * into call->c (templates, records, rows, unknown template sets, malformed).
 * Returns DECODE_OK or DECODE_PAUSED (emit asked to pause; call again with
 * the same cursor). *nrec gets the data records handled (v5: the count). */
enum decode_result nf_v9(struct nf_templates *t, const uint8_t *p, size_t len, uint32_t domain,
                         const struct nf_call *call, uint32_t *nrec);
enum decode_result nf_v5(struct nf_templates *t, const uint8_t *p, size_t len, const struct nf_call *call,
                         uint32_t *nrec);

#endif

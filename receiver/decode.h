/* decode.h: IPFIX (RFC 7011) messages in, schema rows (struct qs_record) out.
 *
 * The one place that knows libfixbuf: decode.c is the only file of the receiver
 * that includes fixbuf/public.h; GLib errors and GLib log lines from libfixbuf
 * become the project's results, counters and log lines here. libfixbuf parses
 * and keeps templates; data records are decoded by compiled copy plans
 * (copyplan.h) straight from the message bytes.
 *
 * Model. A decode_model is the information model (IANA elements plus the
 * vendor's, read from dictionaries/vasexperts-ie.xml). A decode_session is one
 * transport session: a TCP connection, one UDP peer (address and port), or one
 * file. Templates are scoped by session and Observation Domain, as RFC 7011
 * says. Each template is compiled once, when it arrives, into copy steps from
 * the decoded record to the stream's columns (a column whose element is not
 * in the template stays absent, which is not zero); elements the schema does
 * not know are skipped. Withdrawal and redefinition replace the compiled form.
 *
 * Input is untrusted. decode_message never aborts on bad bytes: it classifies
 * (malformed message, unknown template, ...), counts per domain, logs with rate
 * limits naming the peer, and returns.
 *
 * Threads: a model may be shared read-only by sessions of one thread; a
 * session belongs to one thread. Nothing here blocks except the emit callback.
 */
#ifndef QOESTOR_RECEIVER_DECODE_H
#define QOESTOR_RECEIVER_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "schema/schema.h"
#include "spool/record.h"

/* Counters of one (transport session, observation domain). All only grow. */
struct decode_counters {
	uint64_t messages;                 /* IPFIX messages (well-formed headers) */
	uint64_t bytes;                    /* their bytes */
	uint64_t records;                  /* data records decoded (all templates) */
	uint64_t rows;                     /* records handed to emit (had a schema column) */
	uint64_t seq_gaps;                 /* records the exporter numbered but we never saw */
	uint64_t unknown_template_records; /* records in sets whose template was unknown
	                                    * (known from the next message's sequence number) */
	uint64_t unknown_template_sets;    /* sets skipped for an unknown template */
	uint64_t malformed_messages;       /* messages cut short by a framing/set/record error */
	uint64_t templates;                /* template records received (incl. redefinitions) */
	uint64_t options_records;          /* options data records (read, not stored) */
	uint64_t unmapped_records;         /* data records without any schema column */
	uint64_t held_sets;                /* UDP: data sets held until their template came */
	uint64_t held_records;             /* records of held sets decoded when it came (they are
	                                    * also in unknown_template_records when a sequence
	                                    * gap was seen: that counter means "not decodable on
	                                    * arrival") */
	uint64_t expired_templates;        /* UDP: templates forgotten after their lifetime */
};

struct decode_domain {
	uint32_t domain;                   /* Observation Domain ID */
	struct decode_counters c;
};

struct decode_model;
struct decode_session;

/* Build the information model: libfixbuf's IANA elements plus the elements
 * in ie_xml (IANA registry XML with cert:enterpriseId). NULL on error, with a
 * message naming the file in err. */
struct decode_model *decode_model_open(const char *ie_xml, char *err, size_t errlen);
/* Free the model; every session opened on it must be closed first. */
void decode_model_close(struct decode_model *m);

/* emit: called once per data record that has at least one column of the
 * stream; the record and the bytes it points to are valid only during the
 * call. Return 0 to go on, non-zero to pause: decode_message then returns
 * DECODE_PAUSED and the caller repeats the same message later with the same
 * resume cursor (records already emitted are not emitted again, counters are
 * not counted twice). With a spool writer set (decode_session_spool), IPFIX
 * data records go straight into it and emit is called only for a record the
 * writer refused, with r NULL and errno as spool_writer_rows_begin left it
 * (return 0: the record is dropped; non-zero: pause, as above). */
typedef int (*decode_emit_fn)(void *ctx, const struct qs_record *r, uint32_t domain);

/* Open a session for stream def. peer names it in log lines ("10.0.0.1:4739",
 * "file x.ipfix"); it is copied. Never NULL (aborts only on out of memory). */
struct decode_session *decode_session_open(struct decode_model *m, const struct qs_stream_def *def,
                                           const char *peer);
void decode_session_close(struct decode_session *s);

enum decode_result {
	DECODE_OK = 0,      /* message consumed (possibly with counted problems) */
	DECODE_PAUSED,      /* emit asked to pause; call again with the same cursor */
	DECODE_MALFORMED,   /* the message header is unusable (counted); the caller
	                     * decides: over TCP the stream is unframeable, close it */
};

/* Resume cursor for one message; zero it before the first call on a message. */
struct decode_cursor {
	uint32_t done;      /* data records of this message already handled */
	int started;        /* set by decode_message: header counted */
	uint32_t set_off;   /* where to go on: the first set not finished */
	uint32_t idx_at_set;/* data records before that set */
};

/* Decode one IPFIX message of exactly len bytes (the header's length must
 * equal len; use frame_ipfix() to cut a stream), or one NetFlow v9/v5 packet
 * (a whole UDP datagram) when accepted. The bytes are not modified and not
 * kept after the call. */
enum decode_result decode_message(struct decode_session *s, const uint8_t *msg, size_t len,
                                  decode_emit_fn emit, void *ctx, struct decode_cursor *cur);

/* The per-domain counters of this session, in order of first appearance;
 * *n gets their number. Valid until the next decode_message or close. */
const struct decode_domain *decode_session_domains(const struct decode_session *s, size_t *n);

/* Formats a session decodes (decode_session_accept); IPFIX always. */
#define DECODE_NETFLOW9 0x2u   /* NetFlow v9 (RFC 3954), one packet per call (UDP) */
#define DECODE_NETFLOW5 0x4u   /* NetFlow v5, one packet per call (UDP) */

/* Also decode NetFlow v9 and/or v5 packets handed to decode_message (the
 * DECODE_NETFLOW* bits); otherwise they are DECODE_MALFORMED with a log line
 * that names the option to set. Their counters go to the domain of the v9
 * source id / the v5 engine (type << 8 | id); for v9, seq_gaps counts lost
 * packets (v9 numbers packets, not records). */
void decode_session_accept(struct decode_session *s, unsigned formats);

/* UDP rules for this session (call once after open; the defaults are TCP's:
 * no hold, templates live as long as the session):
 *   - a data set whose template is not known yet is held (copied) for up to
 *     hold_s seconds, at most hold_bytes per session, and decoded as soon as
 *     a template set defines its template (an exporter may send data before
 *     its periodic template refresh); a set that expires or does not fit is
 *     counted as unknown_template_sets;
 *   - a template not refreshed for lifetime_s seconds is forgotten (its data
 *     sets then count as unknown template; 0 = never).
 * Held sets are decoded inside a later decode_message call, with that call's
 * emit (which must not pause: UDP emitters drop instead). */
void decode_session_udp(struct decode_session *s, unsigned hold_s, size_t hold_bytes, unsigned lifetime_s);

/* Write the rows of IPFIX data records straight into w (spool.h's direct
 * rows; the copy plans fill the block's columns, no struct qs_record in
 * between), or through emit again with w NULL. w must be a writer of the
 * session's stream definition and outlive its use here; the session calls
 * it from decode_message only (blocking disk I/O when a block is full).
 * NetFlow packets still go through emit. */
struct spool_writer;
void decode_session_spool(struct decode_session *s, struct spool_writer *w);

/* The peer name given at open. */
const char *decode_session_peer(const struct decode_session *s);

#endif

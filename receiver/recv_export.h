/* recv_export.h: re-export of the received messages to third-party
 * collectors (the manual's IPFIX_*_EXPORT: "ip/port/proto[,ip/port/proto]").
 *
 * Raw forwarding: every IPFIX message the receiver frames is sent unchanged
 * (same header, sequence numbers and domains) to every target; NetFlow v9/v5
 * packets go to UDP targets only (NetFlow has no framing over TCP).
 * Templates: the latest template and options template records seen, per
 * observation domain, are kept; a TCP target gets them in a message of their
 * own right after each (re)connect, before any data; UDP targets get them
 * every 10 seconds (recv_export_tick) and before the first data.
 *
 * Never slows reception: nothing here blocks. Each TCP target has a bounded
 * queue (bytes waiting while disconnected or not yet written); a message that
 * does not fit is dropped and counted; a UDP send the kernel refuses
 * (EAGAIN) or a message above 65507 bytes is dropped and counted. A lost TCP
 * connection is retried with backoff (1 s doubling to 30 s); data written to
 * a connection that then fails may be lost (counted as dropped when known).
 *
 * Threads: everything runs on the receiver's libuv loop thread.
 */
#ifndef QOESTOR_RECEIVER_RECV_EXPORT_H
#define QOESTOR_RECEIVER_RECV_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct recv_export;

/* Parse spec ("10.0.0.2/9920/tcp,[::1]/3440/udp" or "2001:db8::2/9920/tcp")
 * and start connecting. queue_bytes bounds each TCP target's queue. NULL with
 * a message in err on a bad spec. */
struct recv_export *recv_export_open(uv_loop_t *loop, const char *spec, size_t queue_bytes, char *err,
                                     size_t errlen);

/* Forward one framed IPFIX message (len = its header's length). */
void recv_export_ipfix(struct recv_export *x, const uint8_t *msg, size_t len);

/* Forward one NetFlow v9/v5 datagram (UDP targets only). */
void recv_export_netflow(struct recv_export *x, const uint8_t *pkt, size_t len);

/* Once a second: UDP targets get the templates every 10 s. */
void recv_export_tick(struct recv_export *x);

/* Messages dropped over all targets (queue full, refused, lost connection). */
uint64_t recv_export_dropped(const struct recv_export *x);

/* Log one line per target (sent, dropped, state). */
void recv_export_log_stats(const struct recv_export *x);

/* Close every handle (the loop then runs their close callbacks); messages
 * still queued are dropped and counted. Call from the loop thread. */
void recv_export_shutdown(struct recv_export *x);

/* Free after the loop has finished (uv_run returned). NULL allowed. */
void recv_export_free(struct recv_export *x);

#endif

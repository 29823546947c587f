/* fuzz_ipfix_decode.c: libFuzzer target for the receiver's decode path.
 *
 * The first byte picks the stream whose schema maps the elements (fullflow,
 * clickstream, natflow, gtpflow, dnsflow: bits 0-5 modulo 5), so the vendor
 * elements of every stream are exercised, and the transport (bit 7):
 *   - clear: what a TCP peer would send: a byte stream cut into messages by
 *     frame_ipfix() and handed to decode_message(), exactly as qoestor-recv
 *     does; a framing error ends the stream (the daemon closes the connection);
 *   - set: UDP datagrams, each preceded by a 2-byte big-endian length, to a
 *     session that also accepts NetFlow v9 and v5 (a v9/v5 datagram is one
 *     call; an IPFIX datagram is framed as qoestor-recv's UDP path does;
 *     data sets before their template are held, as over UDP).
 * Bit 6 set: IPFIX rows go straight into a spool writer (decode_session_spool,
 * the daemon's path: copy plans write the block's columns, malformed records
 * are taken back); one writer per stream in a temporary folder, published
 * and removed every 50000 inputs and at exit.
 * Every 7th record pauses, to drive the resume path.
 * Run from the top of the tree (it reads dictionaries/vasexperts-ie.xml).
 */
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"
#include "receiver/decode.h"
#include "receiver/frame.h"
#include "spool/spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct decode_model *model;
static unsigned emitted;

static char spool_dir[256];
static struct spool_writer *writers[QS_STREAM_COUNT];
static unsigned inputs;

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void close_writers(void)
{
	for (int i = 0; i < QS_STREAM_COUNT; i++) {
		spool_writer_close(writers[i]);
		writers[i] = NULL;
	}
	if (spool_dir[0])
		nftw(spool_dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static struct spool_writer *writer_for(int stream, const struct qs_stream_def *def)
{
	if (!spool_dir[0]) {
		snprintf(spool_dir, sizeof spool_dir, "%s/fuzz_ipfix_decode.XXXXXX",
		         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (!mkdtemp(spool_dir))
			abort();
		atexit(close_writers);
	}
	if (!writers[stream]) {
		char err[512];
		struct spool_writer_opts o = { .spool_dir = spool_dir, .def = def, .instance = "fuzz" };
		writers[stream] = spool_writer_open(&o, err, sizeof err);
		if (!writers[stream]) {
			fprintf(stderr, "%s\n", err);
			abort();
		}
	}
	return writers[stream];
}

static int emit(void *ctx, const struct qs_record *r, uint32_t domain)
{
	(void)ctx;
	(void)domain;
	if (!r) /* direct rows: the spool refused one */
		return 0;
	if (ctx) { /* NetFlow records when rows go to the spool */
		spool_writer_add(ctx, r);
		return 0;
	}
	/* touch every value, as the spool writer would */
	volatile uint64_t sink = 0;
	for (size_t i = 0; i < r->def->ncols; i++) {
		if (!qs_record_has(r, (int)i))
			continue;
		sink += r->v[i].u;
		enum qs_type t = r->def->cols[i].type;
		if (t == QS_STR || t == QS_IPV6 || t == QS_MAC)
			for (uint32_t k = 0; k < r->v[i].len; k++)
				sink += r->v[i].p[k];
	}
	(void)sink;
	return ++emitted % 7 == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!model) {
		char err[256];
		log_init("fuzz_ipfix_decode", LOG_ERR);
		model = decode_model_open("dictionaries/vasexperts-ie.xml", err, sizeof err);
		if (!model) {
			fprintf(stderr, "%s\n", err);
			abort();
		}
	}
	if (size < 1)
		return 0;
	int stream = (data[0] & 0x3f) % QS_STREAM_COUNT;
	const struct qs_stream_def *def = qs_stream_def((enum qs_stream)stream);
	int udp = data[0] & 0x80;
	struct spool_writer *w = NULL;
	if (data[0] & 0x40) {
		if (++inputs % 50000 == 0)
			close_writers();
		w = writer_for(stream, def);
	}
	data++;
	size--;
	struct decode_session *s = decode_session_open(model, def, "fuzz");
	decode_session_spool(s, w);
	if (udp) {
		decode_session_accept(s, DECODE_NETFLOW9 | DECODE_NETFLOW5);
		decode_session_udp(s, 10, 1 << 16, 1800); /* hold data sets before their template */
		size_t off = 0;
		while (size - off >= 2) {
			size_t dl = (size_t)data[off] << 8 | data[off + 1];
			off += 2;
			if (dl > size - off)
				dl = size - off;
			const uint8_t *d = data + off;
			off += dl;
			unsigned v = dl >= 2 ? (unsigned)(d[0] << 8 | d[1]) : 0;
			if (v == 9 || v == 5) {
				struct decode_cursor cur = { 0 };
				int guard = 0;
				while (decode_message(s, d, dl, emit, w, &cur) == DECODE_PAUSED && guard++ < 100000)
					;
				continue;
			}
			size_t mo = 0, ml;
			while (frame_ipfix(d + mo, dl - mo, &ml, NULL, 0) == FRAME_OK) {
				struct decode_cursor cur = { 0 };
				int guard = 0;
				while (decode_message(s, d + mo, ml, emit, w, &cur) == DECODE_PAUSED && guard++ < 100000)
					;
				mo += ml;
			}
		}
		decode_session_close(s);
		return 0;
	}
	size_t off = 0, len;
	while (frame_ipfix(data + off, size - off, &len, NULL, 0) == FRAME_OK) {
		struct decode_cursor cur = { 0 };
		enum decode_result r;
		int guard = 0;
		while ((r = decode_message(s, data + off, len, emit, w, &cur)) == DECODE_PAUSED && guard++ < 100000)
			;
		if (r == DECODE_MALFORMED)
			break;
		off += len;
	}
	decode_session_close(s);
	return 0;
}

/* body.h: an HTTP request body, decompressed as it arrives.
 *
 * The body is decoded according to Content-Encoding (identity, gzip, deflate,
 * zstd) and kept in memory until it grows past a threshold, then spilled to
 * a temporary file in a directory the caller names (qoestor-db uses
 * <data>/tmp). A limit bounds the decoded size. One body per request; not
 * thread-safe; body_free removes the temporary file.
 */
#ifndef QOESTOR_DB_BODY_H
#define QOESTOR_DB_BODY_H

#include <stddef.h>
#include <stdint.h>

enum body_encoding { BODY_IDENTITY, BODY_GZIP, BODY_DEFLATE, BODY_ZSTD };

struct body;

/* Parse a Content-Encoding value; -1 when unsupported (NULL/"" is identity). */
int body_encoding_parse(const char *value, enum body_encoding *out);

/* spill_at: bytes kept in memory before spilling; limit: maximum decoded size. */
struct body *body_new(enum body_encoding enc, const char *tmpdir, size_t spill_at, uint64_t limit);

/* Feed len raw (encoded) bytes. 0 ok; -1 error, message in body_error(). */
int body_feed(struct body *b, const void *data, size_t len);

/* End of input: checks the compressed stream is complete, flushes the file.
 * 0 ok; -1 error. */
int body_finish(struct body *b);

const char *body_error(const struct body *b);
uint64_t body_size(const struct body *b);   /* decoded bytes so far */
uint64_t body_raw_size(const struct body *b);

/* The decoded body in memory, or NULL when it was spilled to a file. */
const char *body_memory(const struct body *b);
/* The temporary file holding the decoded body, or NULL when in memory. */
const char *body_path(const struct body *b);
/* Load a spilled body into memory (for statements that need inline data).
 * 0 ok, -1 error. After it, body_memory() is valid. */
int body_load(struct body *b);

/* Move a body held in memory to a temporary file (no-op when it is in one).
 * 0 ok, -1 error (no directory, write failed). */
int body_spill(struct body *b);

void body_free(struct body *b);

#endif

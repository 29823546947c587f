/* load.c: one spool file -> raw inserts, aggregates, natflow rows, with
 * stable deduplication tokens and in-place retries (see load.h).
 */
#include "loader/load.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ch/chsql.h"
#include "loader/agg.h"
#include "loader/encoder.h"
#include "loader/enrich.h"
#include "log.h"
#include "spool/spool_reader.h"

/* An output: one table, its encoder, its aggregate (or NULL). */
struct out {
	int table;                      /* LT_* index */
	const struct qs_stream_def *def;
	char *fqname;                   /* database.table, quoted as needed */
	struct encoder *enc;
	char *settings;                 /* URL parameters of its inserts, or NULL */
};

struct load_worker {
	struct load_shared *s;
	int id;
	struct ch_client *ch;
	struct out raw[QS_STREAM_COUNT];
	struct out agg[QS_AGG_TABLES];
	struct agg *ag[QS_AGG_TABLES];
	struct log_ratelimit rl;
	/* per file */
	const struct spool_header *h;
	uint32_t flushes[QS_AGG_TABLES];
	struct claim_state st;
	struct load_report *rep;
	char blk[160];      /* per file: the block size settings (claim_state.one_block), or "" */
};

int load_shared_init(struct load_shared *s, const struct loader_config *cfg, struct loader_metrics *m,
	struct dict_store *dicts)
{
	memset(s, 0, sizeof *s);
	s->cfg = cfg;
	s->m = m;
	s->dicts = dicts;
	for (int i = 0; i < LOAD_MAX_WORKERS; i++)
		s->pend_table[i] = -1;
	if (pthread_mutex_init(&s->mu, NULL) != 0)
		return -1;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	int rc = pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	return rc == 0 ? 0 : -1;
}

void load_shared_destroy(struct load_shared *s)
{
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
}

void load_shared_stop(struct load_shared *s)
{
	pthread_mutex_lock(&s->mu);
	atomic_store(&s->stop, 1);
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* ---- window guard ------------------------------------------------------------- */

/* Wait while another worker retries an insert into table that is W/2 inserts old. */
static void guard_wait(struct load_worker *w, int table)
{
	struct load_shared *s = w->s;
	uint64_t half = s->cfg->dedup_window / 2;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		int blocked = 0;
		for (int i = 0; i < s->nworkers; i++)
			if (i != w->id && s->pend_table[i] == table && s->acked[table] - s->pend_since[i] >= half)
				blocked = 1;
		if (!blocked || atomic_load(&s->stop))
			break;
		pthread_cond_wait(&s->cv, &s->mu);
	}
	pthread_mutex_unlock(&s->mu);
}

static void guard_pending(struct load_worker *w, int table)
{
	struct load_shared *s = w->s;
	pthread_mutex_lock(&s->mu);
	if (s->pend_table[w->id] != table) {
		s->pend_table[w->id] = table;
		s->pend_since[w->id] = s->acked[table];
	}
	pthread_mutex_unlock(&s->mu);
}

static void guard_ack(struct load_worker *w, int table)
{
	struct load_shared *s = w->s;
	pthread_mutex_lock(&s->mu);
	s->acked[table]++;
	s->pend_table[w->id] = -1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* Sleep up to secs unless stopped; 1 when stopped. */
static int nap(struct load_shared *s, unsigned secs)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += secs;
	pthread_mutex_lock(&s->mu);
	while (!atomic_load(&s->stop))
		if (pthread_cond_timedwait(&s->cv, &s->mu, &until) == ETIMEDOUT)
			break;
	int stopped = atomic_load(&s->stop);
	pthread_mutex_unlock(&s->mu);
	return stopped;
}

/* ---- worker -------------------------------------------------------------------- */

static char *fq(const char *db, const char *table)
{
	char *d = ch_sql_is_plain_ident(db) ? strdup(db) : ch_sql_ident(db);
	char *r = NULL;
	if (d && asprintf(&r, "%s.%s", d, table) < 0)
		r = NULL;
	free(d);
	return r;
}

static int out_init(struct out *o, const struct loader_config *cfg, int table, const struct qs_stream_def *def,
	const char *name)
{
	o->table = table;
	o->def = def;
	o->fqname = fq(cfg->database, name);
	o->enc = encoder_open(def, cfg->format, loader_compress(cfg), (int)cfg->compress_level);
	if (o->enc && encoder_set_spill(o->enc, loader_spill_dir(cfg), LOADER_SPILL_AT))
		return -1;
	/* Aggregate bodies hold each key once (aggregated per file): merging them
	 * again on insert (optimize_on_insert) costs ClickHouse ~20% of its CPU
	 * per loaded row for nothing; background merges combine files. */
	int agg = table >= LT_AGG(0);
	const char *user = cfg->insert_settings && *cfg->insert_settings ? cfg->insert_settings : NULL;
	if (agg || user) {
		if (asprintf(&o->settings, "%s%s%s", agg ? "optimize_on_insert=0" : "", agg && user ? "&" : "",
			     user ? user : "") < 0)
			o->settings = NULL;
		if (!o->settings)
			return -1;
	}
	return o->fqname && o->enc ? 0 : -1;
}

static void out_free(struct out *o)
{
	free(o->fqname);
	free(o->settings);
	encoder_close(o->enc);
	memset(o, 0, sizeof *o);
}

struct load_worker *load_worker_open(struct load_shared *s, char *err, size_t errlen)
{
	const struct loader_config *cfg = s->cfg;
	struct load_worker *w = calloc(1, sizeof *w);
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->s = s;
	pthread_mutex_lock(&s->mu);
	w->id = s->nworkers < LOAD_MAX_WORKERS ? s->nworkers++ : LOAD_MAX_WORKERS - 1;
	pthread_mutex_unlock(&s->mu);
	w->rl.interval_s = 30;
	w->rl.burst = 3;
	struct ch_config cc = {
		.urls = cfg->urls, .nurls = cfg->nurls, .user = cfg->user, .password = cfg->password,
		.auth = cfg->auth_headers ? CH_AUTH_HEADERS : CH_AUTH_BASIC, .connect_timeout_ms = 5000,
		.timeout_ms = (long)cfg->timeout_s * 1000, .ca_file = cfg->tls_ca_file,
	};
	w->ch = ch_client_open(&cc, err, errlen);
	if (!w->ch)
		goto fail;
	for (int i = 0; i < QS_STREAM_COUNT; i++) {
		const struct qs_stream_def *d = qs_stream_def((enum qs_stream)i);
		if (encoder_supports(d, cfg->format, err, errlen))
			goto fail;
		if (out_init(&w->raw[i], cfg, i, d, d->name))
			goto oom;
	}
	for (int i = 0; i < QS_AGG_TABLES; i++) {
		const struct qs_agg_def *ad = qs_agg_def((enum qs_agg)i);
		unsigned period = 900;
		const char *keys = NULL;
		uint32_t bits = 0;
		if (i == QS_FULLFLOW_AGG) {
			period = cfg->fullflow_agg_period_min * 60;
			keys = cfg->fullflow_agg_keys;
		} else if (i == QS_CLICKSTREAM_AGG) {
			period = cfg->clickstream_agg_period_min * 60;
			keys = cfg->clickstream_agg_keys;
		} else if (i == QS_NATFLOW_AGG) {
			period = cfg->nat_agg_interval_min * 60;
			bits = cfg->nat_agg_bitmask;
		}
		if (i == QS_NATFLOW_AGG && !bits)
			continue; /* NAT_AGG_LOG_FIELDS_TO_SAVE_BITMASK=0: no natflow_agg */
		w->ag[i] = agg_open(ad, qs_stream_def(ad->stream), period, keys, bits, loader_max_groups(cfg));
		if (w->ag[i] && encoder_supports(agg_out_def(w->ag[i]), cfg->format, err, errlen))
			goto fail;
		if (!w->ag[i] || out_init(&w->agg[i], cfg, LT_AGG(i), agg_out_def(w->ag[i]), ad->insert_table))
			goto oom;
	}
	return w;
oom:
	snprintf(err, errlen, "out of memory setting up a load worker");
fail:
	load_worker_close(w);
	return NULL;
}

void load_worker_close(struct load_worker *w)
{
	if (!w)
		return;
	ch_client_close(w->ch);
	for (int i = 0; i < QS_STREAM_COUNT; i++)
		out_free(&w->raw[i]);
	for (int i = 0; i < QS_AGG_TABLES; i++) {
		out_free(&w->agg[i]);
		agg_close(w->ag[i]);
	}
	free(w);
}

/* Errors that are not the file's fault: wrong credentials, missing table. */
static int config_error(const struct ch_result *r)
{
	switch (r->exception_code) {
	case 60:  /* UNKNOWN_TABLE */
	case 81:  /* UNKNOWN_DATABASE */
	case 192: /* UNKNOWN_USER */
	case 497: /* ACCESS_DENIED */
	case 516: /* AUTHENTICATION_FAILED */
		return 1;
	default:
		return r->http_code == 401 || r->http_code == 403;
	}
}

/* Send what o's encoder holds with token; retry in place. 0 ok, 1 stopped,
 * -1 permanent (reason in w->rep). An empty encoder sends nothing. */
static int send_with(struct load_worker *w, struct out *o, const char *token, const void *body, size_t len,
	enum ch_encoding enc, const char *settings);

static int send(struct load_worker *w, struct out *o, const char *token)
{
	uint64_t rows = encoder_rows(o->enc);
	if (!rows)
		return 0;
	const void *body;
	size_t len;
	enum ch_encoding enc;
	if (encoder_finish(o->enc, &body, &len, &enc) != 0) {
		snprintf(w->rep->reason, sizeof w->rep->reason, "out of memory encoding an insert into %s", o->fqname);
		return -1;
	}
	/* One block per INSERT, so one part: fewer, bigger parts to merge. */
	char *settings = NULL;
	if (asprintf(&settings, "%s%s%s", o->settings ? o->settings : "", o->settings && w->blk[0] ? "&" : "",
		     w->blk) < 0) {
		snprintf(w->rep->reason, sizeof w->rep->reason, "out of memory");
		return 1;
	}
	int rc = send_with(w, o, token, body, len, enc, settings);
	free(settings);
	return rc;
}

/* send, with the URL settings given. */
static int send_with(struct load_worker *w, struct out *o, const char *token, const void *body, size_t len,
	enum ch_encoding enc, const char *settings)
{
	uint64_t rows = encoder_rows(o->enc);
	unsigned backoff = 1;
	for (;;) {
		guard_wait(w, o->table);
		if (atomic_load(&w->s->stop))
			return 1;
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		struct ch_result res;
		uint64_t flen;
		int fd = encoder_body_fd(o->enc, &flen);
		enum ch_status st = fd >= 0 ? ch_insert_fd(w->ch, o->fqname, encoder_columns(o->enc),
							   encoder_format(o->enc), fd, flen, enc, token, settings, &res)
					    : ch_insert(w->ch, o->fqname, encoder_columns(o->enc), encoder_format(o->enc),
							body, len, enc, token, settings, &res);
		if (fd >= 0)
			len = (size_t)flen;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (st == CH_OK) {
			ch_result_free(&res);
			guard_ack(w, o->table);
			uint64_t us = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000u +
				      (uint64_t)((t1.tv_nsec - t0.tv_nsec) / 1000);
			metrics_insert(w->s->m, o->table, rows, len, us);
			log_debug("inserted %" PRIu64 " rows into %s (%zu bytes, token %s) in %" PRIu64 " ms", rows,
				  o->fqname, len, token, us / 1000);
			encoder_reset(o->enc);
			return 0;
		}
		if (st == CH_PERMANENT && !config_error(&res)) {
			snprintf(w->rep->reason, sizeof w->rep->reason, "ClickHouse refused the data (insert %s): %s",
				 token, res.msg);
			ch_result_free(&res);
			return -1;
		}
		guard_pending(w, o->table);
		atomic_fetch_add(&w->s->m->retries, 1);
		if (config_error(&res))
			log_err("%s; this is a configuration problem (user, password, grants, or the schema: run "
				"qoestor-loader --init-db); retrying in %u s", res.msg, backoff);
		else
			log_ratelimited(&w->rl, LOG_WARN, "%s; keeping the file, retrying in %u s", res.msg, backoff);
		ch_result_free(&res);
		if (nap(w->s, backoff))
			return 1;
		backoff = backoff * 2 > w->s->cfg->retry_max_s ? w->s->cfg->retry_max_s : backoff * 2;
	}
}

/* An insert is cut at insert_rows rows or INSERT_STR_BYTES x insert_rows
 * bytes of strings (long strings: bounded bodies), whichever comes first;
 * both depend only on the file and its claim state, never on the format. */
#define INSERT_STR_BYTES 64u
static int insert_full(const struct encoder *e, const struct claim_state *st)
{
	return encoder_rows(e) >= st->insert_rows || encoder_str_bytes(e) >= (uint64_t)INSERT_STR_BYTES * st->insert_rows;
}

struct emit_ctx {
	struct load_worker *w;
	int id;
	uint32_t part;
	int rc;
};

static int emit_one(void *arg, const struct qs_record *r)
{
	struct emit_ctx *c = arg;
	struct out *o = &c->w->agg[c->id];
	if (encoder_add(o->enc, r) != 0) {
		snprintf(c->w->rep->reason, sizeof c->w->rep->reason, "out of memory encoding %s", o->fqname);
		return c->rc = -1;
	}
	c->w->rep->rows_agg++;
	if (insert_full(o->enc, &c->w->st)) {
		char token[128];
		snprintf(token, sizeof token, "%s.%s.a%u.%u", c->w->h->file_id_hex, qs_agg_def(c->id)->insert_table,
			 c->w->flushes[c->id], c->part++);
		if ((c->rc = send(c->w, o, token)) != 0)
			return c->rc;
	}
	return 0;
}

/* Insert the groups of aggregate id and clear it. */
static int flush_agg(struct load_worker *w, int id)
{
	struct agg *a = w->ag[id];
	if (!a || !agg_groups(a))
		return 0;
	struct emit_ctx c = { w, id, 0, 0 };
	if (agg_emit(a, emit_one, &c) && c.rc == 0) {
		/* Reading the spilled groups back failed: not the file's fault. */
		snprintf(w->rep->reason, sizeof w->rep->reason, "%s", agg_error(a));
		log_err("%s; leaving %s claimed, it is loaded again later", agg_error(a), w->h->file_id_hex);
		c.rc = 1;
	} else if (c.rc == 0) {
		char token[128];
		snprintf(token, sizeof token, "%s.%s.a%u.%u", w->h->file_id_hex, qs_agg_def(id)->insert_table,
			 w->flushes[id], c.part);
		c.rc = send(w, &w->agg[id], token);
	}
	encoder_reset(w->agg[id].enc);
	agg_clear(a);
	w->flushes[id]++;
	return c.rc;
}

/* Fold the n pending records into aggregate id, flushing it whenever it is
 * full: what agg_add + agg_full + flush_agg per record would do. 0 ok; 1
 * stopped, -1 permanent (from flush_agg); 2 out of memory. */
static int add_pending(struct load_worker *w, int id, const struct qs_record *const *p, size_t n)
{
	while (n) {
		size_t done;
		if (agg_add_batch(w->ag[id], p, n, &done))
			return 2;
		p += done;
		n -= done;
		if (agg_full(w->ag[id])) {
			int rc = flush_agg(w, id);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int agg_of(enum qs_stream s)
{
	for (int i = 0; i < QS_AGG_TABLES; i++)
		if (qs_agg_def((enum qs_agg)i)->stream == s)
			return i;
	return -1;
}

static int integer_type(enum qs_type t)
{
	return t == QS_U8 || t == QS_U16 || t == QS_U32 || t == QS_U64;
}

/* map[i] = file column of live column i, or -1. -1 on a type mismatch. */
static int map_columns(const struct qs_stream_def *live, const struct qs_stream_def *file, int *map, char *why,
	size_t len)
{
	for (size_t i = 0; i < live->ncols; i++) {
		map[i] = -1;
		if (!qs_column_stored(&live->cols[i]))
			continue;
		int f = qs_column_index(file, live->cols[i].name);
		if (f < 0)
			continue;
		enum qs_type a = file->cols[f].type, b = live->cols[i].type;
		if (a != b && !(integer_type(a) && integer_type(b))) {
			snprintf(why, len, "schema mismatch: column %s is %s in the file but %s in schema version %d",
				 live->cols[i].name, qs_type_name(a), qs_type_name(b), QS_SCHEMA_VERSION);
			return -1;
		}
		map[i] = f;
	}
	return 0;
}

/* The mapped columns of the current block, read row by row in order
 * straight into live-schema records (no intermediate file-order record). */
struct rcol {
	int live;                 /* column of the live definition */
	uint8_t kind;             /* width 1, 2, 4, 8 (integers), 16 / 6 (bytes), 0 (string) */
	uint8_t all;              /* every row has a value */
	uint32_t idx;             /* the next present value */
	struct spool_column c;
};

/* Set up rc[] for block b; returns how many columns have values. */
static size_t rcols_open(struct spool_block *b, const struct qs_stream_def *live, const int *map, struct rcol *rc)
{
	size_t n = 0;
	for (size_t i = 0; i < live->ncols; i++) {
		if (map[i] < 0 || spool_block_column(b, map[i], &rc[n].c) != 0 || rc[n].c.npresent == 0)
			continue;
		const struct spool_column *c = &rc[n].c;
		rc[n].live = (int)i;
		rc[n].kind = c->type == QS_STR ? 0 : (uint8_t)c->width;
		rc[n].all = c->npresent == c->rows;
		rc[n].idx = 0;
		n++;
	}
	return n;
}

static inline uint64_t rd_le(const uint8_t *p, unsigned w)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < w; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Row `row` (rows in increasing order) into rec (bound to live). */
static void rcols_row(struct rcol *rc, size_t n, uint32_t row, struct qs_record *rec, const struct qs_stream_def *live)
{
	qs_record_clear(rec, live);
	for (size_t k = 0; k < n; k++) {
		struct rcol *x = &rc[k];
		uint32_t i;
		if (x->all)
			i = row;
		else {
			if (!((x->c.present[row >> 3] >> (row & 7)) & 1))
				continue;
			i = x->idx++;
		}
		const uint8_t *v = x->c.values;
		switch (x->kind) {
		case 0:
			qs_record_set_bytes(rec, x->live, v + x->c.str_off[i], x->c.str_off[i + 1] - x->c.str_off[i]);
			break;
		case 1:
			qs_record_set_u(rec, x->live, v[i]);
			break;
		case 2:
			qs_record_set_u(rec, x->live, rd_le(v + (size_t)i * 2, 2));
			break;
		case 4:
			qs_record_set_u(rec, x->live, rd_le(v + (size_t)i * 4, 4));
			break;
		case 8:
			qs_record_set_u(rec, x->live, rd_le(v + (size_t)i * 8, 8));
			break;
		default: /* IPv6, MAC: bytes */
			qs_record_set_bytes(rec, x->live, v + (size_t)i * x->kind, x->kind);
			break;
		}
	}
}

enum load_result load_file(struct load_worker *w, const char *path, const struct claim_state *st,
	struct load_report *rep)
{
	struct load_shared *s = w->s;
	const struct loader_config *cfg = s->cfg;
	memset(rep, 0, sizeof *rep);
	w->rep = rep;
	w->st = *st;
	w->blk[0] = 0;
	if (st->one_block)
		snprintf(w->blk, sizeof w->blk,
			 "max_insert_block_size=%u&min_insert_block_size_rows=%u&min_insert_block_size_bytes=0",
			 st->insert_rows, st->insert_rows);
	memset(w->flushes, 0, sizeof w->flushes);
	char err[512];
	struct spool_reader *r = spool_reader_open(path, err, sizeof err);
	if (!r) {
		snprintf(rep->reason, sizeof rep->reason, "unreadable: %s", err);
		return LOAD_QUARANTINE;
	}
	const struct spool_header *h = spool_reader_header(r);
	w->h = h;
	const struct qs_stream_def *live = qs_stream_by_name(h->stream);
	enum load_result result = LOAD_QUARANTINE;
	static __thread int map[QS_MAX_COLS];
	static __thread struct qs_record nrec, lrecs[AGG_BATCH];
	static __thread struct rcol rcols[QS_MAX_COLS];
	const struct qs_record *pend[AGG_BATCH];
	size_t npend = 0;
	struct dict_snap *snap = NULL;
	if (!live) {
		snprintf(rep->reason, sizeof rep->reason, "%s: unknown stream '%s'", path, h->stream);
		goto out;
	}
	if (!h->schema_hash_ok) {
		snprintf(rep->reason, sizeof rep->reason, "%s: header's schema hash does not match its column list",
			 path);
		goto out;
	}
	if (map_columns(live, h->def, map, rep->reason, sizeof rep->reason))
		goto out;
	for (int i = 0; i < QS_AGG_TABLES; i++)
		if (w->ag[i]) {
			agg_clear(w->ag[i]);
			/* The flush points recorded at claim time, not today's setting. */
			agg_set_max_groups(w->ag[i], st->max_groups);
			agg_set_spill(w->ag[i], loader_spill_dir(cfg), st->spill_runs);
		}
	for (int i = 0; i < QS_STREAM_COUNT; i++)
		encoder_reset(w->raw[i].enc);

	struct out *raw = &w->raw[live->id];
	int aid = agg_of(live->id);
	struct agg *ag = aid >= 0 ? w->ag[aid] : NULL;
	int nat = live->id == QS_FULLFLOW && cfg->nat_import_from_fullflow;
	struct out *natout = &w->raw[QS_NATFLOW];
	struct agg *natag = nat ? w->ag[QS_NATFLOW_AGG] : NULL;
	/* One enrichment state per batch slot: an enriched record may point into
	 * it (addresses, login) until the batch is aggregated. */
	static __thread struct enrich ens[AGG_BATCH];
	struct enrich_cfg ec = { cfg->traffic_dir_def_mode, cfg->subscriber_filter_mode, cfg->subscriber_exclude_mode,
				 cfg->ulr_replace_login, cfg->ulr_use_dic, cfg->nat_import_from_fullflow };
	for (int i = 0; i < AGG_BATCH; i++)
		enrich_init(&ens[i], &ec, live);
	const struct qs_stream_def *natdef = qs_stream_def(QS_NATFLOW);

	struct spool_block *b;
	int rc, src = 0;
	int64_t first = -1;
	uint32_t last = 0;
	uint64_t last_off = 0;
	while ((rc = spool_reader_next(r, &b)) == 1) {
		uint32_t bi = spool_block_index(b), n = spool_block_rows(b);
		if (first < 0)
			first = bi;
		last = bi;
		if (s->dicts && !snap)
			snap = dict_store_acquire(s->dicts);
		size_t nrc = rcols_open(b, live, map, rcols);
		for (uint32_t row = 0; row < n && src == 0; row++) {
			struct qs_record *lrec = &lrecs[npend];
			rcols_row(rcols, nrc, row, lrec, live);
			struct enrich *en = &ens[npend];
			unsigned fl = enrich_record(en, snap, h->dpi_id, lrec);
			if (encoder_add(raw->enc, lrec))
				goto oom;
			/* Aggregated AGG_BATCH records at a time (agg_add_batch), in order. */
			if (ag && (fl & ENRICH_AGG))
				pend[npend++] = lrec;
			if (npend == AGG_BATCH || (npend && row + 1 == n)) {
				src = add_pending(w, aid, pend, npend);
				npend = 0;
				if (src == 2)
					goto oom;
			}
			if (nat && enrich_nat_row(en, lrec, natdef, &nrec)) {
				rep->rows_nat++;
				if (encoder_add(natout->enc, &nrec))
					goto oom;
				if (natag) {
					if (agg_add(natag, &nrec))
						goto oom;
					if (agg_full(natag))
						src = flush_agg(w, QS_NATFLOW_AGG);
				}
			}
		}
		if (src)
			break;
		rep->rows += n;
		atomic_fetch_add(&s->m->rows_read, n);
		uint64_t off = spool_block_offset(b);
		atomic_fetch_add(&s->progress_rows, n);
		atomic_fetch_add(&s->progress_bytes, off - last_off);
		last_off = off;
		/* Dictionary snapshot per block: a reload takes effect at the next block. */
		if (snap) {
			dict_snap_release(snap);
			snap = NULL;
		}
		if (insert_full(raw->enc, &w->st)) {
			char token[128];
			snprintf(token, sizeof token, "%s.%s.%" PRId64 "-%u", h->file_id_hex, live->name, first, last);
			if ((src = send(w, raw, token)) == 0 && nat) {
				snprintf(token, sizeof token, "%s.%s.%" PRId64 "-%u", h->file_id_hex, natdef->name, first,
					 last);
				src = send(w, natout, token);
			}
			if (src)
				break;
			first = -1;
		}
	}
	if (src)
		goto failed;
	/* The rest (also after a read error: the verified blocks are real data). */
	if (first >= 0) {
		char token[128];
		snprintf(token, sizeof token, "%s.%s.%" PRId64 "-%u", h->file_id_hex, live->name, first, last);
		src = send(w, raw, token);
		if (!src && nat) {
			snprintf(token, sizeof token, "%s.%s.%" PRId64 "-%u", h->file_id_hex, natdef->name, first, last);
			src = send(w, natout, token);
		}
	}
	if (!src && ag)
		src = flush_agg(w, aid);
	if (!src && natag)
		src = flush_agg(w, QS_NATFLOW_AGG);
	if (src)
		goto failed;
	atomic_fetch_add(&s->progress_bytes, spool_reader_size(r) - last_off);
	if (rc < 0) {
		snprintf(rep->reason, sizeof rep->reason, "%s (the %" PRIu64 " rows of the %u blocks before it were "
			 "loaded)", spool_reader_error(r), rep->rows, spool_reader_blocks_read(r));
		result = LOAD_QUARANTINE;
	} else
		result = LOAD_OK;
	goto out;
oom:
	if ((ag && agg_error(ag)[0]) || (natag && agg_error(natag)[0]))
		snprintf(rep->reason, sizeof rep->reason, "%s, loading %s",
			 ag && agg_error(ag)[0] ? agg_error(ag) : agg_error(natag), path);
	else
		snprintf(rep->reason, sizeof rep->reason, "out of memory (or no room for insert bodies in %s) loading %s",
			 loader_spill_dir(cfg), path);
	log_err("%s; leaving it claimed, it is loaded again later", rep->reason);
	src = 1; /* not the file's fault: try again later */
failed:
	result = src > 0 ? LOAD_STOPPED : LOAD_QUARANTINE;
out:
	if (snap)
		dict_snap_release(snap);
	spool_reader_close(r);
	w->h = NULL;
	return result;
}

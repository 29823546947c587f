/* dict_store.c: the dictionary snapshots of dict_store.h. */
#include "dict/dict_store.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dict/dict_lpm.h"
#include "dict/dict_map.h"
#include "dict/dict_watch.h"
#include "log.h"

#define MAX_ERRORS_LOGGED 20

/* One loaded dictionary with its index; shared by the snapshots that hold it. */
struct loaded {
	atomic_uint refs;
	struct dict_data *data;
	struct dict_lpm *lpm;    /* DT_CIDR key */
	struct dict_map64 *m64;  /* numeric key, or the IPv4 of a DT_IP key */
	struct dict_map128 *m6;  /* the IPv6 of a DT_IP key */
	uint32_t *row4, *row6;   /* DT_IP: map value -> row */
};

struct dict_snap {
	atomic_uint refs;
	struct loaded *d[DICT_COUNT];
};

/* What a file looked like when last read; all zero = missing. */
struct sig {
	int exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

struct dict_store {
	char *dir;
	pthread_mutex_t mu; /* guards cur */
	struct dict_snap *cur;
	struct sig seen[DICT_COUNT]; /* refresher thread only, like the next two */
	uint64_t seen_hash[DICT_COUNT];    /* contents of the file last read */
	time_t seen_at[DICT_COUNT];        /* when it was read (CLOCK_REALTIME) */
	atomic_uint_fast64_t errors, loads;
	dict_store_cb *cb;
	void *cb_arg;
	struct dict_watch *watch;
	pthread_t thread;
	int thread_running;
	int rescan_s;
};

static void loaded_put(struct loaded *l)
{
	if (!l || atomic_fetch_sub(&l->refs, 1) != 1)
		return;
	dict_data_free(l->data);
	dict_lpm_free(l->lpm);
	dict_map64_free(l->m64);
	dict_map128_free(l->m6);
	free(l->row4);
	free(l->row6);
	free(l);
}

/* Wrap data (taking it) with its index; NULL without memory (data freed). */
static struct loaded *loaded_new(struct dict_data *data)
{
	const struct dict_def *def = dict_data_def(data);
	struct loaded *l = calloc(1, sizeof *l);
	if (!l) {
		dict_data_free(data);
		return NULL;
	}
	atomic_init(&l->refs, 1);
	l->data = data;
	size_t n = dict_data_rows(data);
	const struct dict_column *key = &def->cols[0];
	int ok = 1;
	if (key->type == DT_CIDR) {
		struct dict_ip *p = malloc((n ? n : 1) * sizeof *p);
		ok = p != NULL;
		for (size_t r = 0; ok && r < n; r++)
			p[r] = *dict_data_ip(data, r, 0);
		ok = ok && dict_lpm_build(p, n, &l->lpm) == 0;
		free(p);
	} else if (key->type == DT_IP) {
		uint64_t *k4 = malloc((n ? n : 1) * sizeof *k4);
		uint8_t *k6 = malloc((n ? n : 1) * 16);
		l->row4 = malloc((n ? n : 1) * sizeof *l->row4);
		l->row6 = malloc((n ? n : 1) * sizeof *l->row6);
		ok = k4 && k6 && l->row4 && l->row6;
		size_t n4 = 0, n6 = 0;
		for (size_t r = 0; ok && r < n; r++) {
			const struct dict_ip *ip = dict_data_ip(data, r, 0);
			if (ip->v6) {
				memcpy(k6 + 16 * n6, ip->addr, 16);
				l->row6[n6++] = (uint32_t)r;
			} else {
				k4[n4] = (uint64_t)ip->addr[0] << 24 | (uint64_t)ip->addr[1] << 16 |
					 (uint64_t)ip->addr[2] << 8 | ip->addr[3];
				l->row4[n4++] = (uint32_t)r;
			}
		}
		ok = ok && dict_map64_build(k4, n4, &l->m64) == 0 && dict_map128_build(k6, n6, &l->m6) == 0;
		free(k4);
		free(k6);
	} else if (def->layout == DL_HASHED || def->layout == DL_HASHED_HIER) {
		uint64_t *k = malloc((n ? n : 1) * sizeof *k);
		ok = k != NULL;
		for (size_t r = 0; ok && r < n; r++)
			k[r] = dict_data_uint(data, r, 0);
		ok = ok && dict_map64_build(k, n, &l->m64) == 0;
		free(k);
	}
	if (!ok) {
		loaded_put(l);
		return NULL;
	}
	return l;
}

static void snap_free(struct dict_snap *snap)
{
	for (unsigned i = 0; i < DICT_COUNT; i++)
		loaded_put(snap->d[i]);
	free(snap);
}

void dict_snap_release(struct dict_snap *snap)
{
	if (snap && atomic_fetch_sub(&snap->refs, 1) == 1)
		snap_free(snap);
}

int dict_store_open(const char *dir, struct dict_store **out)
{
	*out = NULL;
	struct dict_store *s = calloc(1, sizeof *s);
	struct dict_snap *snap = calloc(1, sizeof *snap);
	if (!s || !snap || !(s->dir = strdup(dir)))
		goto fail;
	atomic_init(&snap->refs, 1);
	for (unsigned i = 0; i < DICT_COUNT; i++) {
		struct dict_data *e = dict_data_empty(dict_def((enum dict_id)i));
		if (!e || !(snap->d[i] = loaded_new(e)))
			goto fail;
	}
	pthread_mutex_init(&s->mu, NULL);
	s->cur = snap;
	*out = s;
	return 0;
fail:
	if (snap)
		snap_free(snap);
	if (s)
		free(s->dir);
	free(s);
	return -1;
}

static void *watch_main(void *arg);

void dict_store_close(struct dict_store *s)
{
	if (!s)
		return;
	if (s->thread_running) {
		dict_watch_stop(s->watch);
		pthread_join(s->thread, NULL);
	}
	dict_watch_close(s->watch);
	dict_snap_release(s->cur);
	pthread_mutex_destroy(&s->mu);
	free(s->dir);
	free(s);
}

struct dict_snap *dict_store_acquire(struct dict_store *s)
{
	pthread_mutex_lock(&s->mu);
	struct dict_snap *snap = s->cur;
	atomic_fetch_add(&snap->refs, 1);
	pthread_mutex_unlock(&s->mu);
	return snap;
}

static void file_sig(const char *path, struct sig *g)
{
	struct stat st;
	memset(g, 0, sizeof *g);
	if (stat(path, &st) != 0)
		return;
	g->exists = 1;
	g->dev = st.st_dev;
	g->ino = st.st_ino;
	g->size = st.st_size;
	g->mtime = st.st_mtim;
	g->ctime = st.st_ctim;
}

static int sig_eq(const struct sig *a, const struct sig *b)
{
	return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* Hash of the file's contents, or 0 when it cannot be read. */
static uint64_t file_hash(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	char chunk[65536];
	size_t r;
	while (m && (r = fread(chunk, 1, sizeof chunk, f)) > 0)
		fwrite(chunk, 1, r, m);
	fclose(f);
	if (!m)
		return 0;
	fclose(m);
	uint64_t h = dict_hash_bytes(buf, len);
	free(buf);
	return h;
}

/* Same inode, size and times as when last read. Timestamps are coarse (a few ms), so a
 * file changed again within the same tick looks unchanged: as git does with its "racy"
 * entries, a file modified within 2 s of when it was read is also compared by content. */
static int unchanged(struct dict_store *s, enum dict_id id, const char *path, const struct sig *g)
{
	if (!sig_eq(g, &s->seen[id]))
		return 0;
	if (!g->exists || g->mtime.tv_sec + 2 < s->seen_at[id])
		return 1;
	return file_hash(path) == s->seen_hash[id];
}

/* Read one dictionary; NULL when it is not to be replaced now. */
static struct loaded *load_one(struct dict_store *s, const struct dict_def *def, int force)
{
	char path[4096];
	struct sig g, after;
	snprintf(path, sizeof path, "%s/%s.txt", s->dir, def->name);
	file_sig(path, &g);
	if (!force && unchanged(s, def->id, path, &g))
		return NULL;
	s->seen[def->id] = g;
	s->seen_at[def->id] = time(NULL);
	s->seen_hash[def->id] = 0;
	struct dict_data *data = NULL;
	if (!g.exists) {
		data = dict_data_empty(def);
		log_info("dictionary %s: %s is missing, so it has no entries", def->name, path);
	} else {
		struct dict_errors errs;
		dict_errors_init(&errs, MAX_ERRORS_LOGGED);
		if (dict_load_file(def, path, &data, &errs) != 0) {
			file_sig(path, &after);
			if (!sig_eq(&g, &after)) { /* written while we read: try again later */
				memset(&s->seen[def->id], 0, sizeof s->seen[def->id]);
				s->seen[def->id].size = -1;
				dict_errors_free(&errs);
				return NULL;
			}
			s->seen_hash[def->id] = file_hash(path);
			for (size_t i = 0; i < errs.nkept; i++)
				log_err("%s", errs.msg[i]);
			if (errs.total > errs.nkept)
				log_err("%s: ... and %zu more errors", path, errs.total - errs.nkept);
			log_err("dictionary %s: %s has %zu error%s, keeping the previous version; "
				"fix the file (check it with: qoestor-dict check %s)", def->name, path,
				errs.total, errs.total == 1 ? "" : "s", path);
			atomic_fetch_add(&s->errors, 1);
			dict_errors_free(&errs);
			return NULL;
		}
		dict_errors_free(&errs);
		file_sig(path, &after);
		if (!sig_eq(&g, &after)) {
			dict_data_free(data);
			memset(&s->seen[def->id], 0, sizeof s->seen[def->id]);
			s->seen[def->id].size = -1;
			return NULL;
		}
	}
	if (data && g.exists)
		s->seen_hash[def->id] = dict_data_hash(data);
	if (!data) {
		log_err("dictionary %s: out of memory, keeping the previous version", def->name);
		return NULL;
	}
	size_t rows = dict_data_rows(data);
	struct loaded *l = loaded_new(data);
	if (!l) {
		log_err("dictionary %s: out of memory building its index, keeping the previous "
			"version", def->name);
		memset(&s->seen[def->id], 0, sizeof s->seen[def->id]);
		s->seen[def->id].size = -1;
		return NULL;
	}
	if (g.exists)
		log_info("dictionary %s: loaded %zu entries from %s", def->name, rows, path);
	return l;
}

int dict_store_refresh(struct dict_store *s, int force, uint32_t *changed)
{
	struct dict_snap *next = NULL;
	uint32_t mask = 0;
	int n = 0;
	for (unsigned i = 0; i < DICT_COUNT; i++) {
		const struct dict_def *def = dict_def((enum dict_id)i);
		struct loaded *l = load_one(s, def, force);
		if (!l)
			continue;
		if (!next) {
			next = calloc(1, sizeof *next);
			if (!next) {
				loaded_put(l);
				log_err("dictionaries: out of memory, keeping the previous versions");
				memset(s->seen, 0, sizeof s->seen);
				break;
			}
			atomic_init(&next->refs, 1);
			/* s->cur changes only here, on this thread: no lock needed to read it */
			for (unsigned k = 0; k < DICT_COUNT; k++) {
				next->d[k] = s->cur->d[k];
				atomic_fetch_add(&next->d[k]->refs, 1);
			}
		}
		loaded_put(next->d[i]);
		next->d[i] = l;
		mask |= 1u << i;
		n++;
	}
	if (next) {
		pthread_mutex_lock(&s->mu);
		struct dict_snap *old = s->cur;
		s->cur = next;
		pthread_mutex_unlock(&s->mu);
		dict_snap_release(old);
		atomic_fetch_add(&s->loads, (uint_fast64_t)n);
		if (s->cb)
			s->cb(s, mask, s->cb_arg);
	}
	if (changed)
		*changed = mask;
	return n;
}

void dict_store_on_change(struct dict_store *s, dict_store_cb *cb, void *arg)
{
	s->cb = cb;
	s->cb_arg = arg;
}

static void *watch_main(void *arg)
{
	struct dict_store *s = arg;
	for (;;) {
		int r = dict_watch_wait(s->watch, s->rescan_s * 1000);
		if (r < 0)
			break;
		dict_store_refresh(s, 0, NULL);
	}
	return NULL;
}

int dict_store_watch_start(struct dict_store *s, int debounce_ms, int rescan_s)
{
	if (s->thread_running)
		return 0;
	if (dict_watch_open(s->dir, debounce_ms, &s->watch) != 0)
		return -1;
	s->rescan_s = rescan_s > 0 ? rescan_s : 60;
	int e = pthread_create(&s->thread, NULL, watch_main, s);
	if (e != 0) {
		dict_watch_close(s->watch);
		s->watch = NULL;
		errno = e;
		return -1;
	}
	s->thread_running = 1;
	return 0;
}

uint64_t dict_store_errors(const struct dict_store *s)
{
	return atomic_load(&((struct dict_store *)s)->errors);
}

uint64_t dict_store_loads(const struct dict_store *s)
{
	return atomic_load(&((struct dict_store *)s)->loads);
}

const struct dict_data *dict_snap_data(const struct dict_snap *snap, enum dict_id id)
{
	return snap->d[id]->data;
}

uint32_t dict_snap_find_ip4(const struct dict_snap *snap, enum dict_id id, uint32_t ip4)
{
	const struct loaded *l = snap->d[id];
	if (l->lpm)
		return dict_lpm_get4(l->lpm, ip4);
	if (l->row4) {
		uint32_t i = dict_map64_get(l->m64, ip4);
		return i == DICT_MAP_NONE ? DICT_NONE : l->row4[i];
	}
	return DICT_NONE;
}

uint32_t dict_snap_find_ip6(const struct dict_snap *snap, enum dict_id id, const uint8_t ip6[16])
{
	const struct loaded *l = snap->d[id];
	if (l->lpm)
		return dict_lpm_get6(l->lpm, ip6);
	if (l->row6) {
		uint32_t i = dict_map128_get(l->m6, ip6);
		return i == DICT_MAP_NONE ? DICT_NONE : l->row6[i];
	}
	return DICT_NONE;
}

uint32_t dict_snap_find_u64(const struct dict_snap *snap, enum dict_id id, uint64_t key)
{
	const struct loaded *l = snap->d[id];
	if (l->row4 || !l->m64)
		return DICT_NONE;
	return dict_map64_get(l->m64, key);
}

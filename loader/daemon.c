/* daemon.c: the loader's libuv loop, worker threads and result handling
 * (see daemon.h). The loop thread owns the spool list, the slots' job fields
 * while a slot is idle, and every file move; a worker owns its slot's job
 * while busy and hands it back through sc->mu plus a uv_async wake-up.
 */
#include "loader/daemon.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "dict/dict_store.h"
#include "loader/initdb.h"
#include "loader/load.h"
#include "loader/metrics.h"
#include "loader/spooldir.h"
#include "log.h"

struct sched;

struct slot {
	struct sched *sc;
	pthread_t th;
	struct load_worker *w;
	int busy;                   /* loop thread: a job is out */
	int has_job, done;          /* under sc->mu */
	struct spool_entry job;
	int named;                  /* a file from the command line: never moved */
	struct claim_state st;
	enum load_result res;
	struct load_report rep;
	double secs;
};

struct watch {
	char *path;
	uv_fs_event_t ev;
};

struct delay {
	char *name;
	int64_t until;
};

struct sched {
	const struct loader_config *cfg;
	uv_loop_t *loop;
	uv_async_t async;
	uv_timer_t rescan, ready, debounce, progress, init;
	uv_signal_t sigterm, sigint, sighup;
	struct watch *watches;
	size_t nwatch, capwatch;
	struct loader_metrics m;
	struct load_shared sh;
	struct dict_store *dicts;
	struct metrics_server *ms;
	struct slot slots[LOAD_MAX_WORKERS];
	int nslots;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int quit;                   /* under mu: workers exit */
	int stopping, schema_ready, finished;
	int busy_stream[QS_STREAM_COUNT];
	struct spool_list list;
	struct delay *delays;
	size_t ndelays;
	/* --once */
	char **files;
	int nfiles, next_file;
	char **once_names;          /* names found at the first scan */
	size_t nonce;
	int first_scan_done;
	uint64_t files_ok, files_bad, rows, rows_agg, skipped_not_ready, skipped_writing, total_bytes;
	struct log_ratelimit rl_writing; /* "no spool footer yet" lines */
	struct timespec t0;
	int tty;
	int rc;
};

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- workers ---------------------------------------------------------------------- */

static void *worker_main(void *arg)
{
	struct slot *sl = arg;
	struct sched *sc = sl->sc;
	for (;;) {
		pthread_mutex_lock(&sc->mu);
		while (!sl->has_job && !sc->quit)
			pthread_cond_wait(&sc->cv, &sc->mu);
		if (sc->quit && !sl->has_job) {
			pthread_mutex_unlock(&sc->mu);
			return NULL;
		}
		pthread_mutex_unlock(&sc->mu);
		double t0 = now_s();
		sl->res = load_file(sl->w, sl->job.path, &sl->st, &sl->rep);
		sl->secs = now_s() - t0;
		pthread_mutex_lock(&sc->mu);
		sl->has_job = 0;
		sl->done = 1;
		pthread_mutex_unlock(&sc->mu);
		uv_async_send(&sc->async);
	}
}

static int busy_count(const struct sched *sc)
{
	int n = 0;
	for (int i = 0; i < sc->nslots; i++)
		n += sc->slots[i].busy;
	return n;
}

static struct slot *idle_slot(struct sched *sc)
{
	for (int i = 0; i < sc->nslots; i++)
		if (!sc->slots[i].busy)
			return &sc->slots[i];
	return NULL;
}

/* How a file claimed now is cut (recorded with the claim, see spooldir.h). */
static struct claim_state claim_state_now(const struct loader_config *cfg)
{
	return (struct claim_state){ loader_insert_rows(cfg), loader_max_groups(cfg), cfg->agg_spill_runs, 1 };
}

static void dispatch(struct sched *sc, struct slot *sl, const struct spool_entry *e, int named)
{
	if (spool_entry_copy(&sl->job, e) != 0) {
		log_err("out of memory dispatching %s", e->path);
		return;
	}
	sl->named = named;
	sl->st = claim_state_now(sc->cfg);
	if (!named)
		spooldir_state_read(&sl->job, &sl->st);
	sl->busy = 1;
	sc->busy_stream[e->stream]++;
	log_debug("loading %s (%" PRIu64 " bytes)", e->path, e->size);
	pthread_mutex_lock(&sc->mu);
	sl->has_job = 1;
	sl->done = 0;
	pthread_cond_broadcast(&sc->cv);
	pthread_mutex_unlock(&sc->mu);
}

/* ---- watching ------------------------------------------------------------------------ */

static void schedule(struct sched *sc);

static void on_debounce(uv_timer_t *t)
{
	schedule(t->data);
}

static void on_fs_event(uv_fs_event_t *h, const char *name, int events, int status)
{
	struct sched *sc = h->data;
	(void)name;
	(void)events;
	(void)status;
	if (!uv_is_active((uv_handle_t *)&sc->debounce))
		uv_timer_start(&sc->debounce, on_debounce, 20, 0);
}

static void watch_dir(struct sched *sc, const char *path)
{
	for (size_t i = 0; i < sc->nwatch; i++)
		if (strcmp(sc->watches[i].path, path) == 0)
			return;
	if (sc->nwatch == sc->capwatch) {
		/* Handles must not move: allocate each watch separately via a fixed pool. */
		return;
	}
	struct watch *w = &sc->watches[sc->nwatch];
	if (!(w->path = strdup(path)))
		return;
	uv_fs_event_init(sc->loop, &w->ev);
	w->ev.data = sc;
	int rc = uv_fs_event_start(&w->ev, on_fs_event, path, 0);
	if (rc != 0) {
		log_warn("cannot watch %s (%s); the periodic rescan still finds its files", path, uv_strerror(rc));
		uv_close((uv_handle_t *)&w->ev, NULL);
		free(w->path);
		w->path = NULL;
		return;
	}
	sc->nwatch++;
}

static void ensure_watches(struct sched *sc)
{
	const char *root = sc->cfg->spool_dir;
	watch_dir(sc, root);
	for (int s = 0; s < QS_STREAM_COUNT; s++) {
		char sdir[4096];
		snprintf(sdir, sizeof sdir, "%s/%s", root, qs_stream_def((enum qs_stream)s)->name);
		DIR *d = opendir(sdir);
		if (!d)
			continue;
		watch_dir(sc, sdir);
		struct dirent *de;
		while ((de = readdir(d))) {
			if (de->d_name[0] < '0' || de->d_name[0] > '9')
				continue;
			char ddir[4400];
			snprintf(ddir, sizeof ddir, "%s/%s", sdir, de->d_name);
			watch_dir(sc, ddir);
		}
		closedir(d);
	}
}

/* ---- results --------------------------------------------------------------------------- */

/* A file without its spool footer that changed within --settle-seconds: a
 * copy in progress (cp into the spool), left alone for now. Once unchanged
 * for that long it is claimed like any file: loaded if complete by then,
 * else its complete blocks are loaded and it is quarantined as torn. */
static int still_writing(struct sched *sc, const struct spool_entry *e, int64_t now)
{
	int64_t mtime = 0;
	if (spooldir_complete(e->path, &mtime) != 0 || now - mtime >= (int64_t)sc->cfg->settle_s)
		return 0;
	log_ratelimited(&sc->rl_writing, LOG_INFO, "%s: no spool footer yet, changed %" PRId64 " s ago: waiting "
			"(a copy in progress?); loaded when complete, quarantined if still incomplete after %u s "
			"without change", e->path, now - mtime, sc->cfg->settle_s);
	return 1;
}

static int delayed(struct sched *sc, const char *name, int64_t now)
{
	for (size_t i = 0; i < sc->ndelays; i++)
		if (strcmp(sc->delays[i].name, name) == 0)
			return sc->delays[i].until > now;
	return 0;
}

static void add_delay(struct sched *sc, const char *name, int64_t until)
{
	for (size_t i = 0; i < sc->ndelays; i++)
		if (strcmp(sc->delays[i].name, name) == 0) {
			sc->delays[i].until = until;
			return;
		}
	struct delay *d = realloc(sc->delays, (sc->ndelays + 1) * sizeof *d);
	if (!d)
		return;
	sc->delays = d;
	if ((d[sc->ndelays].name = strdup(name)))
		d[sc->ndelays++].until = until;
}

static void handle_result(struct sched *sc, struct slot *sl)
{
	const struct spool_entry *e = &sl->job;
	char err[512];
	switch (sl->res) {
	case LOAD_OK:
		sc->files_ok++;
		sc->rows += sl->rep.rows;
		sc->rows_agg += sl->rep.rows_agg;
		atomic_fetch_add(&sc->m.files_loaded, 1);
		atomic_fetch_add(&sc->m.bytes_loaded, e->size);
		log_info("loaded %s: %" PRIu64 " rows, %" PRIu64 " aggregate rows%s in %.2f s (%.0f rows/s)", e->name,
			 sl->rep.rows, sl->rep.rows_agg, sl->rep.rows_nat ? " and NAT rows" : "", sl->secs,
			 sl->secs > 0 ? (double)sl->rep.rows / sl->secs : 0.0);
		if (!sl->named && spooldir_done(e, sc->cfg->archive_dir, err, sizeof err) != 0)
			log_err("%s; the file stays claimed and is loaded again at the next start (no duplicates: "
				"deduplication tokens)", err);
		break;
	case LOAD_QUARANTINE:
		sc->files_bad++;
		sc->rows += sl->rep.rows;
		atomic_fetch_add(&sc->m.quarantined, 1);
		if (sl->named) {
			log_err("cannot load %s: %s", e->path, sl->rep.reason);
			break;
		}
		if (spooldir_quarantine(e, sl->rep.reason, err, sizeof err) != 0)
			log_err("cannot load %s: %s; and quarantining it failed: %s", e->path, sl->rep.reason, err);
		else
			log_err("QUARANTINED %s/.quarantine/%s: %s. The other files keep loading; see the .reason "
				"file next to it", e->dir, e->name, sl->rep.reason);
		break;
	case LOAD_STOPPED:
		if (!sc->stopping) {
			add_delay(sc, e->name, (int64_t)time(NULL) + 10);
			if (sc->cfg->once)
				sc->files_bad++;
		}
		break;
	}
	sc->busy_stream[e->stream]--;
	spool_entry_free(&sl->job);
	sl->busy = 0;
}

/* ---- the loop ------------------------------------------------------------------------------- */

static void close_cb(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void finish(struct sched *sc)
{
	if (sc->finished)
		return;
	sc->finished = 1;
	uv_walk(sc->loop, close_cb, NULL);
}

static void progress_line(struct sched *sc, int final)
{
	double el = now_s() - ((double)sc->t0.tv_sec + (double)sc->t0.tv_nsec / 1e9);
	uint64_t rows = atomic_load(&sc->sh.progress_rows), bytes = atomic_load(&sc->sh.progress_bytes);
	double rate = el > 0 ? (double)rows / el : 0;
	double bps = el > 0 ? (double)bytes / el : 0;
	double eta = bps > 0 && sc->total_bytes > bytes ? (double)(sc->total_bytes - bytes) / bps : 0;
	uint64_t total_files = sc->nfiles ? (uint64_t)sc->nfiles : sc->nonce;
	fprintf(stderr, "\r  files %" PRIu64 "/%" PRIu64 "  rows %" PRIu64 "  %.0f rows/s  ETA %d:%02d   %s",
		sc->files_ok + sc->files_bad, total_files, rows, rate, (int)eta / 60, (int)eta % 60, final ? "\n" : "");
}

static void on_progress(uv_timer_t *t)
{
	progress_line(t->data, 0);
}

static int in_once_set(struct sched *sc, const char *name)
{
	for (size_t i = 0; i < sc->nonce; i++)
		if (strcmp(sc->once_names[i], name) == 0)
			return 1;
	return 0;
}

static int in_flight(struct sched *sc, const char *name)
{
	for (int i = 0; i < sc->nslots; i++)
		if (sc->slots[i].busy && strcmp(sc->slots[i].job.name, name) == 0)
			return 1;
	return 0;
}

static void on_ready_timer(uv_timer_t *t)
{
	schedule(t->data);
}

static void schedule_named(struct sched *sc)
{
	struct slot *sl;
	while (sc->next_file < sc->nfiles && (sl = idle_slot(sc))) {
		const char *p = sc->files[sc->next_file++];
		struct spool_entry e = { 0 };
		struct stat sb;
		e.path = (char *)p;
		e.dir = (char *)".";
		const char *slash = strrchr(p, '/');
		e.name = slash ? slash + 1 : p;
		e.stream = QS_FULLFLOW; /* only for per-stream counting; the header decides */
		e.size = stat(p, &sb) == 0 ? (uint64_t)sb.st_size : 0;
		dispatch(sc, sl, &e, 1);
	}
	if (sc->next_file >= sc->nfiles && !busy_count(sc))
		finish(sc);
}

static void schedule(struct sched *sc)
{
	if (sc->stopping || !sc->schema_ready || sc->finished)
		return;
	if (sc->nfiles) {
		schedule_named(sc);
		return;
	}
	char err[512];
	if (spooldir_scan(sc->cfg->spool_dir, &sc->list, err, sizeof err) != 0) {
		log_err("%s", err);
		return;
	}
	if (!sc->cfg->once)
		ensure_watches(sc);
	int64_t now = (int64_t)time(NULL), next_ready = 0;
	uint64_t bfiles = 0, bbytes = 0;
	int64_t oldest = 0;
	for (size_t i = 0; i < sc->list.n; i++) {
		struct spool_entry *e = &sc->list.e[i];
		bfiles++;
		bbytes += e->size;
		if (!oldest || e->start < oldest)
			oldest = e->start;
	}
	atomic_store(&sc->m.backlog_files, bfiles);
	atomic_store(&sc->m.backlog_bytes, bbytes);
	atomic_store(&sc->m.oldest_start_s, oldest);
	if (sc->dicts)
		atomic_store(&sc->m.dict_errors, dict_store_errors(sc->dicts));
	int first = sc->cfg->once && !sc->first_scan_done;
	if (first) {
		sc->first_scan_done = 1;
		sc->once_names = calloc(sc->list.n + 1, sizeof *sc->once_names);
		for (size_t i = 0; i < sc->list.n && sc->once_names; i++) {
			struct spool_entry *e = &sc->list.e[i];
			if (!e->claimed && e->ready > now && !sc->cfg->ignore_ready) {
				sc->skipped_not_ready++;
				continue;
			}
			if (!e->claimed && still_writing(sc, e, now)) {
				sc->skipped_writing++;
				continue;
			}
			if ((sc->once_names[sc->nonce] = strdup(e->name))) {
				sc->nonce++;
				sc->total_bytes += e->size;
			}
		}
	}
	/* Leftovers in .loading/ come first in the list; nothing new is claimed
	 * while one of them waits for a worker. */
	int leftover_waiting = 0;
	for (size_t i = 0; i < sc->list.n; i++) {
		struct spool_entry *e = &sc->list.e[i];
		if (in_flight(sc, e->name))
			continue;
		if (sc->cfg->once && !in_once_set(sc, e->name))
			continue;
		if (delayed(sc, e->name, now))
			continue;
		if (!e->claimed && leftover_waiting)
			break;
		unsigned lim = sc->cfg->stream_processes[e->stream];
		struct slot *sl = idle_slot(sc);
		if (!sl || (lim && (unsigned)sc->busy_stream[e->stream] >= lim)) {
			if (e->claimed)
				leftover_waiting = 1;
			if (!sl)
				break;
			continue;
		}
		if (!e->claimed && e->ready > now && !(sc->cfg->once && sc->cfg->ignore_ready)) {
			if (!next_ready || e->ready < next_ready)
				next_ready = e->ready;
			continue;
		}
		if (!e->claimed && still_writing(sc, e, now)) {
			add_delay(sc, e->name, now + 1);
			continue;
		}
		if (!e->claimed) {
			struct claim_state st = claim_state_now(sc->cfg);
			int rc = spooldir_claim(e, &st, err, sizeof err);
			if (rc == 1)
				continue;
			if (rc < 0) {
				log_err("%s", err);
				continue;
			}
		}
		dispatch(sc, sl, e, 0);
	}
	if (next_ready && !sc->cfg->once) {
		int64_t wait = next_ready - (int64_t)time(NULL);
		uv_timer_start(&sc->ready, on_ready_timer, (uint64_t)(wait > 0 ? wait : 0) * 1000 + 50, 0);
	}
	if (sc->cfg->once && !busy_count(sc))
		finish(sc);
}

static void on_async(uv_async_t *a)
{
	struct sched *sc = a->data;
	for (int i = 0; i < sc->nslots; i++) {
		struct slot *sl = &sc->slots[i];
		pthread_mutex_lock(&sc->mu);
		int done = sl->busy && sl->done;
		if (done)
			sl->done = 0;
		pthread_mutex_unlock(&sc->mu);
		if (done)
			handle_result(sc, sl);
	}
	if (sc->stopping) {
		if (!busy_count(sc))
			finish(sc);
		return;
	}
	schedule(sc);
}

static void on_rescan(uv_timer_t *t)
{
	schedule(t->data);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct sched *sc = h->data;
	if (signum == SIGHUP) {
		log_notice("SIGHUP: rescanning the spool%s", sc->dicts ? " and the dictionaries" : "");
		if (sc->dicts)
			dict_store_refresh(sc->dicts, 0, NULL);
		schedule(sc);
		return;
	}
	if (sc->stopping) {
		log_warn("second signal: exiting now; files being loaded stay claimed and are loaded again at the "
			 "next start (deduplication tokens prevent duplicates)");
		_exit(LOADER_EXIT_FAIL);
	}
	log_notice("%s: finishing the inserts in flight; files not finished stay claimed (signal again to exit "
		   "at once)", strsignal(signum));
	sc->stopping = 1;
	load_shared_stop(&sc->sh);
	if (!busy_count(sc))
		finish(sc);
}

/* ---- schema --------------------------------------------------------------------------------- */

static int apply_schema(struct sched *sc)
{
	const struct loader_config *cfg = sc->cfg;
	struct qs_ddl_params p;
	loader_ddl_params(cfg, &p);
	char err[256];
	struct ch_config cc = { .urls = cfg->urls, .nurls = cfg->nurls, .user = cfg->user, .password = cfg->password,
				.auth = cfg->auth_headers ? CH_AUTH_HEADERS : CH_AUTH_BASIC,
				.connect_timeout_ms = 5000, .timeout_ms = 120000,
				.ca_file = cfg->tls_ca_file };
	struct ch_client *c = ch_client_open(&cc, err, sizeof err);
	if (!c) {
		log_err("%s", err);
		return -1;
	}
	struct initdb_report rep;
	int rc = initdb_apply(c, &p, &rep);
	ch_client_close(c);
	if (rc == 0)
		log_notice("schema %s is up to date: %u changes, %u warnings", p.database, rep.changes, rep.warnings);
	return rc;
}

static void on_init(uv_timer_t *t)
{
	struct sched *sc = t->data;
	if (sc->stopping)
		return;
	if (apply_schema(sc) != 0) {
		if (sc->cfg->once) {
			log_err("cannot apply the schema; is ClickHouse running at %s? (--no-init-db skips this step)",
				sc->cfg->urls[0]);
			sc->rc = LOADER_EXIT_FAIL;
			finish(sc);
			return;
		}
		log_err("cannot apply the schema yet; retrying in 5 s (files wait in the spool)");
		uv_timer_start(&sc->init, on_init, 5000, 0);
		return;
	}
	sc->schema_ready = 1;
	schedule(sc);
}

/* ---- run ------------------------------------------------------------------------------------ */

int daemon_run(const struct loader_config *cfg, char **files, int nfiles)
{
	static struct sched S; /* large; one per process */
	struct sched *sc = &S;
	memset(sc, 0, sizeof *sc);
	sc->cfg = cfg;
	sc->files = files;
	sc->nfiles = nfiles;
	sc->rc = LOADER_EXIT_OK;
	sc->tty = cfg->once && isatty(2);
	sc->rl_writing = (struct log_ratelimit){ .interval_s = 60, .burst = 10 };
	clock_gettime(CLOCK_MONOTONIC, &sc->t0);
	char err[512];
	int lockfd = -1;
	if (!nfiles) {
		lockfd = spooldir_lock(cfg->spool_dir, err, sizeof err);
		if (lockfd < 0) {
			log_err("%s", err);
			return LOADER_EXIT_FAIL;
		}
	}
	if (cfg->dict_dir) {
		if (dict_store_open(cfg->dict_dir, &sc->dicts) != 0) {
			log_err("out of memory opening the dictionaries");
			return LOADER_EXIT_FAIL;
		}
		dict_store_refresh(sc->dicts, 1, NULL);
		if (!cfg->once && dict_store_watch_start(sc->dicts, 200, (int)cfg->rescan_s) != 0)
			log_warn("cannot watch the dictionaries in %s (%s); they are read at start only", cfg->dict_dir,
				 strerror(errno));
	}
	if (load_shared_init(&sc->sh, cfg, &sc->m, sc->dicts) != 0 || pthread_mutex_init(&sc->mu, NULL) != 0 ||
	    pthread_cond_init(&sc->cv, NULL) != 0) {
		log_err("cannot initialise threads");
		return LOADER_EXIT_FAIL;
	}
	if (cfg->metrics_listen) {
		sc->ms = metrics_serve(&sc->m, cfg->metrics_listen, err, sizeof err);
		if (!sc->ms) {
			log_err("%s", err);
			return LOADER_EXIT_USAGE;
		}
	}
	sc->nslots = (int)cfg->insert_processes;
	for (int i = 0; i < sc->nslots; i++) {
		struct slot *sl = &sc->slots[i];
		sl->sc = sc;
		sl->w = load_worker_open(&sc->sh, err, sizeof err);
		if (!sl->w || pthread_create(&sl->th, NULL, worker_main, sl) != 0) {
			log_err("cannot start load worker %d: %s", i, sl->w ? strerror(errno) : err);
			return LOADER_EXIT_FAIL;
		}
	}
	sc->capwatch = 4096;
	sc->watches = calloc(sc->capwatch, sizeof *sc->watches);
	sc->loop = uv_default_loop();
	uv_async_init(sc->loop, &sc->async, on_async);
	sc->async.data = sc;
	uv_timer_t *timers[] = { &sc->rescan, &sc->ready, &sc->debounce, &sc->progress, &sc->init };
	for (size_t i = 0; i < sizeof timers / sizeof timers[0]; i++) {
		uv_timer_init(sc->loop, timers[i]);
		timers[i]->data = sc;
	}
	uv_signal_t *sigs[] = { &sc->sigterm, &sc->sigint, &sc->sighup };
	int signums[] = { SIGTERM, SIGINT, SIGHUP };
	for (int i = 0; i < 3; i++) {
		uv_signal_init(sc->loop, sigs[i]);
		sigs[i]->data = sc;
		uv_signal_start(sigs[i], on_signal, signums[i]);
	}
	if (!cfg->once)
		uv_timer_start(&sc->rescan, on_rescan, (uint64_t)cfg->rescan_s * 1000, (uint64_t)cfg->rescan_s * 1000);
	if (sc->tty)
		uv_timer_start(&sc->progress, on_progress, 250, 250);
	if (cfg->no_init) {
		sc->schema_ready = 1;
		uv_timer_start(&sc->init, on_rescan, 0, 0);
	} else
		uv_timer_start(&sc->init, on_init, 0, 0);
	if (!cfg->once)
		log_notice("loading %s into %s with %d parallel inserts", cfg->spool_dir, cfg->urls[0], sc->nslots);
	uv_run(sc->loop, UV_RUN_DEFAULT);

	pthread_mutex_lock(&sc->mu);
	sc->quit = 1;
	pthread_cond_broadcast(&sc->cv);
	pthread_mutex_unlock(&sc->mu);
	load_shared_stop(&sc->sh);
	for (int i = 0; i < sc->nslots; i++) {
		pthread_join(sc->slots[i].th, NULL);
		load_worker_close(sc->slots[i].w);
	}
	uv_loop_close(sc->loop);
	if (cfg->once) {
		if (sc->tty)
			progress_line(sc, 1);
		double el = now_s() - ((double)sc->t0.tv_sec + (double)sc->t0.tv_nsec / 1e9);
		printf("loaded %" PRIu64 " files, %" PRIu64 " rows (%" PRIu64 " aggregate rows) in %.2f s, %.0f rows/s; "
		       "%" PRIu64 " failed%s; %" PRIu64 " not ready yet (--ignore-ready loads them)%s\n",
		       sc->files_ok, sc->rows, sc->rows_agg, el, el > 0 ? (double)sc->rows / el : 0.0, sc->files_bad,
		       sc->files_bad && !nfiles ? " (quarantined, see .reason files)" : "", sc->skipped_not_ready,
		       sc->skipped_writing ? "; some files are still being written (no spool footer yet): run again later" : "");
		fflush(stdout);
		if (sc->rc == LOADER_EXIT_OK && sc->files_bad)
			sc->rc = LOADER_EXIT_QUARANTINE;
	}
	metrics_stop(sc->ms);
	dict_store_close(sc->dicts);
	for (size_t i = 0; i < sc->nwatch; i++)
		free(sc->watches[i].path);
	free(sc->watches);
	for (size_t i = 0; i < sc->ndelays; i++)
		free(sc->delays[i].name);
	free(sc->delays);
	for (size_t i = 0; i < sc->nonce; i++)
		free(sc->once_names[i]);
	free(sc->once_names);
	spool_list_free(&sc->list);
	load_shared_destroy(&sc->sh);
	if (lockfd >= 0)
		close(lockfd);
	return sc->rc;
}

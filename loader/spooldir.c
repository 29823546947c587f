/* spooldir.c: listing, claiming, finishing and quarantining spool files (see
 * spooldir.h).
 */
#include "loader/spooldir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "spool/spool_format.h"

int spooldir_lock(const char *spool, char *err, size_t errlen)
{
	if (mkdir(spool, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create the spool folder %s: %s", spool, strerror(errno));
		return -1;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/.loader.lock", spool);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		char pid[32] = "";
		ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = 0;
		pid[strcspn(pid, "\n")] = 0;
		snprintf(err, errlen, "another qoestor-loader (pid %s) holds %s: one loader per spool; stop it first",
			 pid[0] ? pid : "?", path);
		close(fd);
		return -1;
	}
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n)
		log_warn("cannot write the pid into %s: %s", path, strerror(errno));
	return fd;
}

static int has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), k = strlen(suf);
	return n >= k && strcmp(s + n - k, suf) == 0;
}

static int add(struct spool_list *l, const char *dir, const char *sub, const char *name, enum qs_stream st,
	unsigned dpi, int claimed)
{
	char path[4096];
	snprintf(path, sizeof path, "%s%s/%s", dir, sub, name);
	struct stat sb;
	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct spool_entry *e = realloc(l->e, cap * sizeof *e);
		if (!e)
			return -1;
		l->e = e;
		l->cap = cap;
	}
	struct spool_entry *e = &l->e[l->n];
	memset(e, 0, sizeof *e);
	e->path = strdup(path);
	e->dir = strdup(dir);
	if (!e->path || !e->dir) {
		free(e->path);
		free(e->dir);
		return -1;
	}
	e->name = e->path + strlen(path) - strlen(name);
	e->stream = st;
	e->dpi = dpi;
	e->size = (uint64_t)sb.st_size;
	e->claimed = claimed;
	struct spf_name pn;
	if (spf_parse_name(name, &pn) == 0) {
		e->start = pn.start;
		e->ready = pn.ready;
	} else {
		e->start = sb.st_mtime;
		e->ready = 0;
	}
	l->n++;
	return 0;
}

static int list_dir(struct spool_list *l, const char *dir, const char *sub, enum qs_stream st, unsigned dpi,
	int claimed)
{
	char path[4096];
	snprintf(path, sizeof path, "%s%s", dir, sub);
	DIR *d = opendir(path);
	if (!d) {
		if (errno != ENOENT)
			log_warn("cannot list %s: %s", path, strerror(errno));
		return 0;
	}
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d)) && rc == 0)
		if (de->d_name[0] != '.' && has_suffix(de->d_name, ".qsp"))
			rc = add(l, dir, sub, de->d_name, st, dpi, claimed);
	closedir(d);
	return rc;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct spool_entry *x = a, *y = b;
	if (x->claimed != y->claimed)
		return y->claimed - x->claimed;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return strcmp(x->name, y->name);
}

int spooldir_scan(const char *spool, struct spool_list *l, char *err, size_t errlen)
{
	for (size_t i = 0; i < l->n; i++)
		spool_entry_free(&l->e[i]);
	l->n = 0;
	DIR *root = opendir(spool);
	if (!root) {
		snprintf(err, errlen, "cannot list the spool %s: %s", spool, strerror(errno));
		return -1;
	}
	int rc = 0;
	for (int s = 0; s < QS_STREAM_COUNT && rc == 0; s++) {
		const struct qs_stream_def *def = qs_stream_def((enum qs_stream)s);
		char sdir[4096];
		snprintf(sdir, sizeof sdir, "%s/%s", spool, def->name);
		DIR *d = opendir(sdir);
		if (!d)
			continue;
		struct dirent *de;
		while ((de = readdir(d)) && rc == 0) {
			char *end;
			unsigned long dpi = strtoul(de->d_name, &end, 10);
			if (de->d_name[0] < '0' || de->d_name[0] > '9' || *end || dpi > 65535)
				continue;
			char ddir[4400];
			snprintf(ddir, sizeof ddir, "%s/%s", sdir, de->d_name);
			rc = list_dir(l, ddir, "/.loading", (enum qs_stream)s, (unsigned)dpi, 1);
			if (rc == 0)
				rc = list_dir(l, ddir, "", (enum qs_stream)s, (unsigned)dpi, 0);
		}
		closedir(d);
	}
	closedir(root);
	if (rc) {
		snprintf(err, errlen, "out of memory listing the spool");
		return -1;
	}
	if (l->n)
		qsort(l->e, l->n, sizeof *l->e, cmp_entry);
	return 0;
}

void spool_list_free(struct spool_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		spool_entry_free(&l->e[i]);
	free(l->e);
	memset(l, 0, sizeof *l);
}

static int ensure_dir(const char *path, char *err, size_t errlen)
{
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/* Write small text to path atomically (temp, fsync, rename). */
static int write_file(const char *path, const char *text, char *err, size_t errlen)
{
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		return -1;
	}
	size_t n = strlen(text);
	int ok = write(fd, text, n) == (ssize_t)n && fsync(fd) == 0;
	int e = errno;
	close(fd);
	if (!ok || rename(tmp, path) != 0) {
		e = ok ? errno : e;
		unlink(tmp);
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
		return -1;
	}
	return 0;
}

static int set_path(struct spool_entry *e, const char *path)
{
	char *p = strdup(path);
	if (!p)
		return -1;
	size_t nlen = strlen(e->name);
	free(e->path);
	e->path = p;
	e->name = p + strlen(p) - nlen;
	return 0;
}

int spooldir_claim(struct spool_entry *e, const struct claim_state *cs, char *err, size_t errlen)
{
	char ld[4096], to[4200], st[4300], text[96];
	snprintf(ld, sizeof ld, "%s/.loading", e->dir);
	if (ensure_dir(ld, err, errlen))
		return -1;
	snprintf(to, sizeof to, "%s/%s", ld, e->name);
	/* The state first: a claimed file always has one (a stale state without
	 * its file is harmless and replaced at the next claim). */
	snprintf(st, sizeof st, "%s.state", to);
	snprintf(text, sizeof text, "insert_rows=%u\nmax_groups=%u\nagg_spill_runs=%u\none_block=%u\n",
		 cs->insert_rows, cs->max_groups, cs->spill_runs, cs->one_block);
	if (write_file(st, text, err, errlen))
		return -1;
	if (renameat2(AT_FDCWD, e->path, AT_FDCWD, to, RENAME_NOREPLACE) != 0) {
		int er = errno;
		if (er == ENOENT) {
			unlink(st);
			return 1;
		}
		snprintf(err, errlen, "cannot claim %s (rename into %s): %s", e->path, ld, strerror(er));
		if (er != EEXIST)
			unlink(st);
		return -1;
	}
	fsync_dir(ld);
	if (set_path(e, to)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	e->claimed = 1;
	return 0;
}

void spooldir_state_read(const struct spool_entry *e, struct claim_state *cs)
{
	char st[4300], line[128];
	snprintf(st, sizeof st, "%s.state", e->path);
	FILE *f = fopen(st, "r");
	if (!f)
		return;
	unsigned v;
	/* A claim of a loader from before spilling has no agg_spill_runs: it
	 * emitted without spilling, and a retry must give the same rows. */
	cs->spill_runs = 0;
	cs->one_block = 0;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "insert_rows=%u", &v) == 1 && v)
			cs->insert_rows = v;
		else if (sscanf(line, "max_groups=%u", &v) == 1 && v)
			cs->max_groups = v;
		else if (sscanf(line, "one_block=%u", &v) == 1)
			cs->one_block = v != 0;
		else if (sscanf(line, "agg_spill_runs=%u", &v) == 1)
			cs->spill_runs = v; /* agg_set_spill bounds it */
	}
	fclose(f);
}

static void remove_state(const struct spool_entry *e)
{
	char st[4300];
	snprintf(st, sizeof st, "%s.state", e->path);
	unlink(st);
}

int spooldir_done(const struct spool_entry *e, const char *archive_dir, char *err, size_t errlen)
{
	if (!archive_dir) {
		if (unlink(e->path) != 0 && errno != ENOENT) {
			snprintf(err, errlen, "cannot delete the loaded file %s: %s", e->path, strerror(errno));
			return -1;
		}
		remove_state(e);
		return 0;
	}
	char d1[4096], d2[4200], d3[4300], to[4600];
	snprintf(d1, sizeof d1, "%s", archive_dir);
	snprintf(d2, sizeof d2, "%s/%s", d1, qs_stream_def(e->stream)->name);
	snprintf(d3, sizeof d3, "%s/%u", d2, e->dpi);
	if (ensure_dir(d1, err, errlen) || ensure_dir(d2, err, errlen) || ensure_dir(d3, err, errlen))
		return -1;
	snprintf(to, sizeof to, "%s/%s", d3, e->name);
	if (rename(e->path, to) != 0) {
		snprintf(err, errlen, "cannot archive %s into %s: %s (same file system needed)", e->path, d3,
			 strerror(errno));
		return -1;
	}
	remove_state(e);
	return 0;
}

int spooldir_quarantine(const struct spool_entry *e, const char *reason, char *err, size_t errlen)
{
	char qd[4096], to[4200], rs[4300];
	snprintf(qd, sizeof qd, "%s/.quarantine", e->dir);
	if (ensure_dir(qd, err, errlen))
		return -1;
	snprintf(to, sizeof to, "%s/%s", qd, e->name);
	snprintf(rs, sizeof rs, "%s.reason", to);
	char *text = NULL;
	if (asprintf(&text, "%s\nquarantined by qoestor-loader (pid %ld); rows of blocks before the error may be "
		     "loaded already. Inspect with: qoestor-spool check %s\nReplay after repair: move it back "
		     "to %s/ (deduplication tokens keep loaded blocks from doubling).\n",
		     reason, (long)getpid(), to, e->dir) < 0)
		text = NULL;
	int rc = write_file(rs, text ? text : reason, err, errlen);
	free(text);
	if (rc)
		return -1;
	if (rename(e->path, to) != 0) {
		snprintf(err, errlen, "cannot move %s into %s: %s", e->path, qd, strerror(errno));
		return -1;
	}
	remove_state(e);
	fsync_dir(qd);
	return 0;
}

int spool_entry_copy(struct spool_entry *dst, const struct spool_entry *src)
{
	*dst = *src;
	dst->path = strdup(src->path);
	dst->dir = strdup(src->dir);
	if (!dst->path || !dst->dir) {
		free(dst->path);
		free(dst->dir);
		return -1;
	}
	dst->name = dst->path + (src->name - src->path);
	return 0;
}

void spool_entry_free(struct spool_entry *e)
{
	free(e->path);
	free(e->dir);
	e->path = e->dir = NULL;
}

int spooldir_complete(const char *path, int64_t *mtime)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	int ok = -1;
	if (fstat(fd, &st) == 0) {
		uint8_t f[SPF_FOOTER_LEN];
		*mtime = (int64_t)st.st_mtime;
		ok = st.st_size > SPF_FOOTER_LEN &&
		     pread(fd, f, sizeof f, st.st_size - SPF_FOOTER_LEN) == (ssize_t)sizeof f &&
		     memcmp(f, SPF_END_MAGIC, 8) == 0 && spf_get64(f + 8) < (uint64_t)st.st_size - SPF_FOOTER_LEN;
	}
	close(fd);
	return ok;
}

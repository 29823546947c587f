/* qoestor-config-apply.c: the units of qoestor.yaml under systemd (see
 * qoestor-config-apply.h). Runs systemctl with an argv (never a shell).
 */
#include "tools/qoestor-config-apply.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config/cfg_args.h"

#define MAX_UNITS 512

struct unitset {
	char name[MAX_UNITS][96];
	unsigned n;
};

static int has(const struct unitset *u, const char *name)
{
	for (unsigned i = 0; i < u->n; i++)
		if (strcmp(u->name[i], name) == 0)
			return 1;
	return 0;
}

static void put(struct unitset *u, const char *name)
{
	if (!has(u, name) && u->n < MAX_UNITS)
		snprintf(u->name[u->n++], sizeof u->name[0], "%s", name);
}

static const char *systemctl(void)
{
	const char *s = getenv("QOESTOR_SYSTEMCTL");
	return s && *s ? s : "systemctl";
}

/* NULL when systemd can be driven, else why not. */
static const char *no_systemd(void)
{
	static char why[256];
	const char *sc = systemctl();
	if (strchr(sc, '/')) {
		if (access(sc, X_OK) != 0) {
			snprintf(why, sizeof why, "%s is not executable", sc);
			return why;
		}
		return NULL;
	}
	const char *path = getenv("PATH");
	char dir[512];
	int found = 0;
	while (path && *path && !found) {
		size_t n = strcspn(path, ":");
		snprintf(dir, sizeof dir, "%.*s/%s", (int)n, path, sc);
		found = access(dir, X_OK) == 0;
		path += n + (path[n] == ':');
	}
	if (!found)
		return "systemctl is not installed (not found in PATH)";
	struct stat st;
	if (stat("/run/systemd/system", &st) != 0)
		return "systemd is not running on this host (/run/systemd/system is missing: a container or chroot?)";
	return NULL;
}

/* Run systemctl with args; its stdout into out (if given). Exit status, or -1. */
static int run(char *out, size_t outlen, const char *a1, const char *a2, const char *a3, const char *a4)
{
	int pfd[2] = { -1, -1 };
	if (out && pipe(pfd) != 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		const char *argv[] = { systemctl(), a1, a2, a3, a4, NULL };
		if (out) {
			dup2(pfd[1], 1);
			close(pfd[0]);
			close(pfd[1]);
		}
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "qoestor-config: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (out) {
		close(pfd[1]);
		size_t used = 0;
		ssize_t n;
		while ((n = read(pfd[0], out + used, outlen - 1 - used)) > 0 && used + 1 < outlen)
			used += (size_t)n;
		char sink[512];
		while (n > 0 && (n = read(pfd[0], sink, sizeof sink)) > 0) {
		}
		out[used] = 0;
		close(pfd[0]);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Receiver units systemd knows of now: loaded ones and enabled ones. */
static void existing_receivers(struct unitset *u)
{
	static char out[65536];
	if (run(out, sizeof out, "list-units", "--all", "--plain", "--no-legend") >= 0) {
		for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n")) {
			while (*l == ' ' || *l == '*')
				l++;
			size_t n = strcspn(l, " ");
			l[n] = 0;
			if (!strncmp(l, "qoestor-recv@", 13) && strstr(l, ".service"))
				put(u, l);
		}
	}
	static const char *wants[] = { "/etc/systemd/system/multi-user.target.wants",
				       "/etc/systemd/system/qoestor.target.wants" };
	for (size_t i = 0; i < 2; i++) {
		DIR *d = opendir(wants[i]);
		struct dirent *de;
		while (d && (de = readdir(d)))
			if (!strncmp(de->d_name, "qoestor-recv@", 13))
				put(u, de->d_name);
		if (d)
			closedir(d);
	}
}

static int active(const char *unit)
{
	return run(NULL, 0, "is-active", "--quiet", unit, NULL) == 0;
}

/* The recorded command line of unit vs now: 1 if it changed (or none recorded). */
static int args_changed(const struct apply_opts *o, const char *unit, const struct qs_cfg_argv *a, int write)
{
	char path[512], now[16384] = "", was[16384];
	size_t u = 0;
	for (int i = 1; i < a->argc && u < sizeof now; i++)
		u += (size_t)snprintf(now + u, sizeof now - u, "%s\n", a->argv[i]);
	snprintf(path, sizeof path, "%s/%s.args", o->state_dir, unit);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(was, 1, sizeof was - 1, f) : 0;
	if (f)
		fclose(f);
	was[n] = 0;
	int changed = !f || strcmp(was, now) != 0;
	if (write && changed) {
		mkdir(o->state_dir, 0755);
		char tmp[600];
		snprintf(tmp, sizeof tmp, "%s.tmp", path);
		FILE *w = fopen(tmp, "w");
		if (w) {
			fputs(now, w);
			if (fflush(w) == 0 && fsync(fileno(w)) == 0 && fclose(w) == 0)
				rename(tmp, path);
			else
				unlink(tmp);
		}
	}
	return changed;
}

/* Write (or remove, content NULL) the drop-in dir/unit.d/name. 1 if it changed. */
static int dropin(const char *unit, const char *name, const char *content, int dry)
{
	const char *base = getenv("QOESTOR_UNIT_DIR");
	char d[512], p[640], old[2048] = "";
	snprintf(d, sizeof d, "%s/%s.d", base && *base ? base : "/etc/systemd/system", unit);
	snprintf(p, sizeof p, "%s/%s", d, name);
	FILE *f = fopen(p, "r");
	size_t n = f ? fread(old, 1, sizeof old - 1, f) : 0;
	old[n] = 0;
	if (f)
		fclose(f);
	if (!content) {
		if (!f)
			return 0;
		if (!dry)
			unlink(p);
		printf("  remove drop-in %s\n", p);
		return 1;
	}
	if (f && strcmp(old, content) == 0)
		return 0;
	printf("  write drop-in %s\n", p);
	if (dry)
		return 1;
	mkdir(d, 0755);
	f = fopen(p, "w");
	if (!f || fputs(content, f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "qoestor-config: cannot write %s: %s\n", p, strerror(errno));
		return 1;
	}
	return 1;
}

struct plan {
	int dry, failures, changes;
};

static void act(struct plan *p, const char *what, const char *verb, const char *flag, const char *unit)
{
	printf("  %-9s %s%s%s\n", verb, unit, what[0] ? ": " : "", what);
	p->changes++;
	if (p->dry)
		return;
	int r = flag ? run(NULL, 0, verb, flag, unit, NULL) : run(NULL, 0, verb, unit, NULL, NULL);
	if (r != 0) {
		printf("    FAILED (systemctl %s exit %d): see journalctl -u %s\n", verb, r, unit);
		p->failures++;
	}
}

int config_apply(const struct qs_config *c, const struct apply_opts *o)
{
	const char *why = no_systemd();
	struct plan p = { o->dry_run || why != NULL, 0, 0 };
	struct unitset want = { .n = 0 }, have = { .n = 0 };
	char err[512], unit[96];
	if (!why)
		existing_receivers(&have);
	printf("%s for %s:\n", p.dry ? "plan" : "applying", c->file);
	if (why)
		printf("  (systemd is absent: %s; showing what apply would do, changing nothing)\n", why);

	/* Drop-ins first (log files, low ports): units start with them. */
	char content[1024];
	int reload = 0;
	static const char *templ[] = { "qoestor-recv@.service", "qoestor-loader.service", "qoestor-db.service" };
	for (size_t i = 0; i < 3; i++) {
		if (c->paths.log_dir[0])
			snprintf(content, sizeof content, "# written by qoestor-config apply (paths.log_dir)\n[Service]\n"
				 "StandardOutput=append:%s/%%N.log\nStandardError=inherit\nReadWritePaths=%s\n",
				 c->paths.log_dir, c->paths.log_dir);
		reload |= dropin(templ[i], "50-qoestor-log.conf", c->paths.log_dir[0] ? content : NULL, p.dry);
	}
	for (unsigned i = 0; i < c->ndpis; i++)
		for (unsigned s = 0; s < QS_STREAM_COUNT; s++) {
			const struct qs_cfg_receiver *r = &c->dpis[i].recv[s];
			if (!r->loc.present)
				continue;
			snprintf(unit, sizeof unit, "qoestor-recv@%s-%u.service", qs_stream_def((enum qs_stream)s)->name,
				 c->dpis[i].id);
			reload |= dropin(unit, "50-qoestor-lowport.conf",
					 r->port < 1024 ? "# written by qoestor-config apply: port < 1024\n[Service]\n"
							  "AmbientCapabilities=CAP_NET_BIND_SERVICE\n"
							  "CapabilityBoundingSet=CAP_NET_BIND_SERVICE\n"
							: NULL,
					 p.dry);
		}
	if (!p.dry)
		run(NULL, 0, "daemon-reload", NULL, NULL, NULL);
	if (reload)
		p.changes++;

	/* The database first: the loader needs it. */
	struct qs_cfg_argv a;
	char bin[600];
	if (c->db.enabled) {
		snprintf(bin, sizeof bin, "%s/qoestor-db", o->bindir);
		qs_cfg_db_argv(c, bin, &a, err, sizeof err);
		int changed = args_changed(o, "qoestor-db.service", &a, !p.dry);
		if (why || !active("qoestor-db.service"))
			act(&p, "", "enable", "--now", "qoestor-db.service");
		else if (changed)
			act(&p, "its settings changed (running queries finish first)", "restart", NULL, "qoestor-db.service");
	} else if (!why && active("qoestor-db.service")) {
		act(&p, "db.enabled is false", "disable", "--now", "qoestor-db.service");
	}

	/* Receivers. */
	for (unsigned i = 0; i < c->ndpis; i++)
		for (unsigned s = 0; s < QS_STREAM_COUNT; s++) {
			const struct qs_cfg_receiver *r = &c->dpis[i].recv[s];
			if (!r->loc.present)
				continue;
			const char *sn = qs_stream_def((enum qs_stream)s)->name;
			snprintf(unit, sizeof unit, "qoestor-recv@%s-%u.service", sn, c->dpis[i].id);
			char what[200];
			snprintf(what, sizeof what, "%s %s:%u", r->transport == QS_CFG_UDP ? "udp" : "tcp", r->listen, r->port);
			if (!r->enabled) {
				if (why || has(&have, unit))
					act(&p, "enabled: false", "disable", "--now", unit);
				continue;
			}
			put(&want, unit);
			snprintf(bin, sizeof bin, "%s/qoestor-recv", o->bindir);
			if (qs_cfg_recv_argv(c, (enum qs_stream)s, c->dpis[i].id, bin, &a, err, sizeof err)) {
				printf("  skip      %s: %s\n", unit, err);
				p.failures++;
				continue;
			}
			int changed = args_changed(o, unit, &a, !p.dry);
			if (why || !has(&have, unit) || !active(unit))
				act(&p, what, "enable", "--now", unit);
			else if (changed || o->restart_all)
				act(&p, changed ? "its settings changed" : "--restart-all", "restart", NULL, unit);
			else
				printf("  unchanged %s (%s)\n", unit, what);
		}
	for (unsigned i = 0; i < have.n; i++)
		if (!has(&want, have.name[i])) {
			int configured_off = 0;
			enum qs_stream s;
			unsigned dpi;
			char inst[96];
			snprintf(inst, sizeof inst, "%s", have.name[i] + 13);
			inst[strcspn(inst, ".")] = 0;
			if (qs_config_parse_instance(inst, &s, &dpi) == 0 && qs_config_receiver(c, dpi, s))
				configured_off = 1; /* enabled: false, handled above */
			if (!configured_off)
				act(&p, "no longer configured", "disable", "--now", have.name[i]);
		}

	/* The loader: always restarted, it reads dictionaries and settings at start. */
	snprintf(bin, sizeof bin, "%s/qoestor-loader", o->bindir);
	qs_cfg_loader_argv(c, bin, &a, err, sizeof err);
	args_changed(o, "qoestor-loader.service", &a, !p.dry);
	if (why || !active("qoestor-loader.service"))
		act(&p, "", "enable", "--now", "qoestor-loader.service");
	else
		act(&p, "", "restart", NULL, "qoestor-loader.service");

	/* The dictionaries into ClickHouse: always on, it uploads at start. */
	if (why || !active("qoestor-dict-watch.service"))
		act(&p, "", "enable", "--now", "qoestor-dict-watch.service");
	else
		act(&p, "", "restart", NULL, "qoestor-dict-watch.service");

	/* Dictionary refresh timer: on when an autoload switch has a URL. */
	const struct qs_cfg_dicts *d = &c->dicts;
	int refresh = (d->urlcats_autoload && (d->urlcats_url[0] || d->urlcats_host_url[0])) ||
		      (d->asnum_autoload && d->asnum_url[0]) || (d->vchannel_name_autoload && d->vchannel_name_url[0]);
	int timer_on = !why && active("qoestor-dict-refresh.timer");
	if (refresh && (why || !timer_on))
		act(&p, "daily dictionary autoload", "enable", "--now", "qoestor-dict-refresh.timer");
	else if (!refresh && timer_on)
		act(&p, "no autoload URL configured", "disable", "--now", "qoestor-dict-refresh.timer");

	printf("%u receiver unit(s) configured; %d change(s)%s; %d failure(s)\n", want.n, p.changes,
	       p.dry ? " planned" : " made", p.failures);
	if (why) {
		printf("systemd is absent: %s. Nothing was changed. Without systemd, run each program in the\n"
		       "foreground with `qoestor-config exec recv STREAM-DPI`, `exec loader`, `exec db`.\n", why);
		return o->dry_run ? APPLY_OK : APPLY_NO_SYSTEMD;
	}
	return p.failures ? APPLY_FAILED : APPLY_OK;
}

/* 1 if something listens on port (tcp) or is bound to it (udp), per /proc/net. */
static int listening(unsigned port, int udp)
{
	static const char *files[2][2] = { { "/proc/net/tcp", "/proc/net/tcp6" }, { "/proc/net/udp", "/proc/net/udp6" } };
	for (int i = 0; i < 2; i++) {
		FILE *f = fopen(files[udp][i], "r");
		char line[512];
		if (!f)
			continue;
		while (fgets(line, sizeof line, f)) {
			char local[80], remote[80];
			unsigned st;
			if (sscanf(line, " %*u: %79s %79s %x", local, remote, &st) != 3)
				continue;
			const char *colon = strrchr(local, ':');
			if (colon && strtoul(colon + 1, NULL, 16) == port && (udp ? st == 7 : st == 0x0a)) {
				fclose(f);
				return 1;
			}
		}
		fclose(f);
	}
	return 0;
}

/* Newest published file and the backlog of spool/<stream>/<dpi>. */
static void spool_state(const char *spool, const char *stream, unsigned dpi, char *out, size_t len)
{
	char dir[600];
	snprintf(dir, sizeof dir, "%s/%s/%u", spool, stream, dpi);
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(out, len, "no spool folder %.200s", dir);
		return;
	}
	time_t newest = 0;
	unsigned long long bytes = 0;
	unsigned files = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 4, ".qsp") || de->d_name[0] == '.')
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, 0) != 0)
			continue;
		files++;
		bytes += (unsigned long long)st.st_size;
		if (st.st_mtime > newest)
			newest = st.st_mtime;
	}
	closedir(d);
	char when[64] = "none waiting";
	if (newest) {
		struct tm tm;
		gmtime_r(&newest, &tm);
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%SZ", &tm);
	}
	snprintf(out, len, "backlog %u file(s) %.1f MB; newest %s", files, (double)bytes / 1e6, when);
}

int config_status(const struct qs_config *c)
{
	const char *why = no_systemd();
	if (why)
		printf("(systemd is absent: %s; unit states unknown)\n", why);
	printf("%-36s %-8s %-26s %-10s %s\n", "UNIT", "STATE", "ADDRESS", "LISTENING", "SPOOL");
	for (unsigned i = 0; i < c->ndpis; i++)
		for (unsigned s = 0; s < QS_STREAM_COUNT; s++) {
			const struct qs_cfg_receiver *r = &c->dpis[i].recv[s];
			if (!r->loc.present)
				continue;
			const char *sn = qs_stream_def((enum qs_stream)s)->name;
			char unit[96], addr[96], sp[256], state[32] = "-";
			snprintf(unit, sizeof unit, "qoestor-recv@%s-%u", sn, c->dpis[i].id);
			snprintf(addr, sizeof addr, "%s %s:%u", r->transport ? "udp" : "tcp", r->listen, r->port);
			if (!why) {
				char full[128], out[64];
				snprintf(full, sizeof full, "%s.service", unit);
				run(out, sizeof out, "is-active", full, NULL, NULL);
				snprintf(state, sizeof state, "%.*s", (int)strcspn(out, "\n"), out);
			}
			if (!r->enabled)
				snprintf(state, sizeof state, "disabled");
			spool_state(c->paths.spool, sn, c->dpis[i].id, sp, sizeof sp);
			printf("%-36s %-8s %-26s %-10s %s\n", unit, state, addr,
			       listening(r->port, r->transport == QS_CFG_UDP) ? "yes" : "NO", sp);
		}
	static const char *others[] = { "qoestor-loader", "qoestor-db", "qoestor-dict-watch",
					"qoestor-dict-refresh.timer" };
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
		char state[32] = "-", addr[96] = "", lis[8] = "";
		if (!why) {
			char full[128], out[64];
			snprintf(full, sizeof full, "%s%s", others[i], strchr(others[i], '.') ? "" : ".service");
			run(out, sizeof out, "is-active", full, NULL, NULL);
			snprintf(state, sizeof state, "%.*s", (int)strcspn(out, "\n"), out);
		}
		if (i == 1) {
			const char *colon = strrchr(c->db.listen, ':');
			snprintf(addr, sizeof addr, "http %s", c->db.listen);
			snprintf(lis, sizeof lis, "%s", colon && listening((unsigned)atoi(colon + 1), 0) ? "yes" : "NO");
			if (!c->db.enabled)
				snprintf(state, sizeof state, "external");
		}
		printf("%-36s %-8s %-26s %-10s %s\n", others[i], state, addr, lis, "");
	}
	return 0;
}

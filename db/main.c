/* main.c: qoestor-db, the embedded ClickHouse of qoestor.
 *
 * Loads libchdb (the real ClickHouse engine) at run time, opens one data
 * directory, and serves ClickHouse's HTTP interface on it (server.c), so the
 * loader and users reach it exactly as they would reach a ClickHouse server:
 * with curl or any ClickHouse HTTP client. A lock file keeps a second instance
 * off the same directory (libchdb allows only one process per directory).
 * SIGTERM/SIGINT: stop accepting, finish running requests, close the engine.
 */
#include "config/cfg_cmdline.h"
#include "engine.h"
#include "log.h"
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#ifndef QOESTOR_LIBCHDB_DEFAULT
#define QOESTOR_LIBCHDB_DEFAULT "/usr/local/lib/qoestor/libchdb.so"
#endif
#ifndef QOESTOR_VERSION
#define QOESTOR_VERSION "0.1.0"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: qoestor-db [OPTIONS]\n"
		"\n"
		"The embedded ClickHouse of qoestor: the real ClickHouse engine (libchdb) behind\n"
		"ClickHouse's HTTP interface. Query it with curl or any ClickHouse HTTP client:\n"
		"  curl 'http://127.0.0.1:8123/?query=SELECT%%201'\n"
		"\n"
		"Options (a command-line option overrides the same key of --config):\n"
		"      --config FILE        read the db: section of qoestor.yaml (conf/qoestor.yaml)\n"
		"      --check-config       print the effective configuration of FILE and exit:\n"
		"                           0 when it is valid, 1 with each problem as FILE:LINE:COL\n"
		"  -l, --listen ADDR:PORT   where to serve HTTP (default 127.0.0.1:8123; [::1]:8123 for IPv6;\n"
		"                           0.0.0.0:8123 exposes it: set a password first)\n"
		"  -p, --path DIR           data directory (default /var/lib/qoestor/db); created if missing\n"
		"  -u, --user NAME          the user clients authenticate as (default 'default')\n"
		"      --password PASS      that user's password (default empty: no password)\n"
		"      --password-file FILE read the password from FILE (first line), safer than --password\n"
		"      --libchdb FILE       libchdb.so to load (default $LIBCHDB, else\n"
		"                           %s)\n"
		"      --clickhouse-config FILE  ClickHouse server configuration (XML or YAML) for the\n"
		"                           engine, e.g. a storage_configuration with hot and cold disks\n"
		"                           (docs/STORAGE.md)\n"
		"      --timezone TZ        the server time zone (default UTC); columns of qoestor carry\n"
		"                           their own zone, this is what now() and bare DateTime use\n"
		"      --max-body BYTES     largest decoded request body (default 0: no limit)\n"
		"      --max-connections N  concurrent HTTP connections (default 256)\n"
		"      --spill-at BYTES     request bodies larger than this go to a temporary file under\n"
		"                           DIR/tmp; a plain INSERT ... FORMAT then reads it with FROM INFILE\n"
		"                           (parallel parsing); smaller ones are passed inline (default 1048576)\n"
		"  -v, --verbose            log every failed query\n"
		"  -h, --help               this text\n"
		"  -V, --version            print versions and exit\n"
		"\n"
		"Exit codes: 0 clean shutdown, 1 start-up failure (message says what to do), 2 usage error.\n"
		"Signals: SIGTERM or SIGINT stop accepting, let running queries finish, then exit 0.\n",
		QOESTOR_LIBCHDB_DEFAULT);
}

static char *read_password_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		log_err("cannot read --password-file %s: %s", path, strerror(errno));
		return NULL;
	}
	char line[1024];
	if (!fgets(line, sizeof line, f))
		line[0] = 0;
	fclose(f);
	line[strcspn(line, "\r\n")] = 0;
	return strdup(line);
}

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof tmp, "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = 0;
			if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	}
	if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* Remove request bodies left by an earlier crash. */
static void clean_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!strncmp(de->d_name, "body-", 5)) {
			char p[PATH_MAX + 300];
			snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
			unlink(p);
		}
	}
	closedir(d);
}

static int take_lock(const char *path)
{
	char lp[PATH_MAX + 32];
	snprintf(lp, sizeof lp, "%s/qoestor-db.lock", path);
	int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		log_err("cannot open lock file %s: %s", lp, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		char pid[32] = "";
		ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
		if (n > 0)
			pid[n] = 0;
		pid[strcspn(pid, "\n")] = 0;
		log_err("data directory %s is in use by another qoestor-db (pid %s): stop it first "
			"(systemctl stop qoestor-db) or give this one another --path",
			path, pid[0] ? pid : "unknown");
		close(fd);
		return -1;
	}
	char pid[32];
	int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) < 0)
		log_warn("cannot write pid into %s: %s", lp, strerror(errno));
	return fd; /* held until exit */
}

int main(int argc, char **argv)
{
	const char *listen = "127.0.0.1:8123", *path = "/var/lib/qoestor/db", *user = "default";
	const char *libchdb = getenv("LIBCHDB"), *tz = "UTC", *chconfig = NULL;
	char *password = NULL;
	unsigned long long max_body = 0;
	unsigned max_conn = 256;
	unsigned long long spill_at = 1 << 20;
	/* --config FILE: the db: section of qoestor.yaml as options before the
	 * command line's own (cfg_cmdline.h); --check-config prints and exits. */
	int code;
	if (qs_config_cmdline(QS_PROG_DB, &argc, &argv, &code))
		return code;
	int verbose = 0;
	static const struct option opts[] = {
		{"listen", required_argument, 0, 'l'},   {"path", required_argument, 0, 'p'},
		{"user", required_argument, 0, 'u'},     {"password", required_argument, 0, 'P'},
		{"password-file", required_argument, 0, 'F'}, {"libchdb", required_argument, 0, 'L'},
		{"timezone", required_argument, 0, 'T'}, {"max-body", required_argument, 0, 'B'},
		{"max-connections", required_argument, 0, 'C'}, {"verbose", no_argument, 0, 'v'},
		{"spill-at", required_argument, 0, 'S'},
		{"clickhouse-config", required_argument, 0, 'X'},
		{"help", no_argument, 0, 'h'},           {"version", no_argument, 0, 'V'},
		{0, 0, 0, 0},
	};
	log_init("qoestor-db", LOG_INFO);
	int c;
	while ((c = getopt_long(argc, argv, "l:p:u:vhV", opts, NULL)) != -1) {
		switch (c) {
		case 'l': listen = optarg; break;
		case 'p': path = optarg; break;
		case 'u': user = optarg; break;
		case 'P': free(password); password = strdup(optarg); break;
		case 'F':
			free(password);
			if (!(password = read_password_file(optarg)))
				return 1;
			break;
		case 'L': libchdb = optarg; break;
		case 'T': tz = optarg; break;
		case 'B': max_body = strtoull(optarg, NULL, 10); break;
		case 'C': max_conn = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'X': chconfig = optarg; break;
		case 'S': spill_at = strtoull(optarg, NULL, 10); break;
		case 'v': verbose = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("qoestor-db %s\n", QOESTOR_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "qoestor-db: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (verbose)
		log_set_level(LOG_DEBUG);
	if (!libchdb || !*libchdb)
		libchdb = QOESTOR_LIBCHDB_DEFAULT;
	setenv("TZ", tz, 1);

	/* Signals are taken by sigwait in this thread; every thread started from
	 * here on (libchdb's, libmicrohttpd's) inherits the mask. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	char abspath[PATH_MAX];
	if (mkdir_p(path) != 0 || !realpath(path, abspath)) {
		log_err("cannot create data directory %s: %s", path, strerror(errno));
		return 1;
	}
	int lockfd = take_lock(abspath);
	if (lockfd < 0)
		return 1;
	char tmpdir[PATH_MAX + 8];
	snprintf(tmpdir, sizeof tmpdir, "%s/tmp", abspath);
	if (mkdir_p(tmpdir) != 0) {
		log_err("cannot create %s: %s", tmpdir, strerror(errno));
		return 1;
	}
	clean_tmp(tmpdir);

	char err[1024];
	struct engine *e = engine_open(libchdb, abspath, chconfig, err, sizeof err);
	if (!e) {
		log_err("%s", err);
		return 1;
	}
	/* libchdb may install handlers of its own: take the signals back. */
	signal(SIGPIPE, SIG_IGN);
	struct server_opts so = {
		.listen = listen, .user = user, .password = password ? password : "",
		.tmpdir = tmpdir, .display_name = "qoestor-db", .max_body = max_body,
		.max_connections = max_conn, .spill_at = (size_t)spill_at,
	};
	struct server *s = server_start(e, &so, err, sizeof err);
	if (!s) {
		log_err("%s", err);
		engine_close(e);
		return 1;
	}
	log_notice("serving ClickHouse %s on http://%s (data %s, user %s%s, time zone %s)", engine_version(e),
		   listen, abspath, user, password && *password ? " with password" : ", no password", tz);
	if (!password || !*password) {
		if (strncmp(listen, "127.", 4) != 0 && strncmp(listen, "[::1]", 5) != 0)
			log_warn("listening on %s without a password: anyone who can reach it can read and "
				 "change all data; set --password-file",
				 listen);
	}
	for (;;) {
		int sig = 0;
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			log_info("SIGHUP: nothing to reload");
			continue;
		}
		log_notice("signal %d: stopping; running queries finish first", sig);
		break;
	}
	uint64_t nreq = 0, nerr = 0;
	server_counts(s, &nreq, &nerr);
	server_stop(s);
	engine_close(e);
	close(lockfd);
	free(password);
	log_notice("stopped cleanly after %llu requests (%llu failed)", (unsigned long long)nreq,
		   (unsigned long long)nerr);
	return 0;
}

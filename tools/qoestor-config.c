/* qoestor-config: the operator's tool for qoestor.yaml.
 *
 *   check       print the effective configuration (--check-config), exit 0/1
 *   import-env  convert the vendor's .env to YAML
 *   apply       start/stop/restart the units to match the file (qoestor-config.sh)
 *   status      each unit, its port, whether it listens, its spool backlog
 *   args, exec  the command line of one program from the file; exec runs it
 *               (what the systemd units call)
 *   reference, doc  the generated conf/qoestor.yaml and docs/CONFIGURATION.md
 *
 * Exit codes: 0 ok, 1 the configuration (or a change) failed, 2 usage,
 * 3 apply without systemd.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/cfg_args.h"
#include "config/cfg_env.h"
#include "config/config.h"
#include "config/config_print.h"
#include "tools/qoestor-config-apply.h"

#define DEFAULT_CONFIG "/etc/qoestor/qoestor.yaml"

static void usage(FILE *f)
{
	fputs("usage: qoestor-config [--config FILE] COMMAND [ARGS]\n"
	      "\n"
	      "Commands:\n"
	      "  check [FILE]                print the effective configuration (defaults filled in,\n"
	      "                              passwords hidden); exit 1 listing every problem\n"
	      "  --check-config              the same as check\n"
	      "  import-env [--listen ADDR] [--strict] ENVFILE\n"
	      "                              convert the vendor's .env to YAML on stdout; what it did not\n"
	      "                              understand goes to stderr (--strict: then exit 1)\n"
	      "  apply [--dry-run] [--restart-all] [--state-dir DIR]\n"
	      "                              enable and start qoestor-recv@STREAM-DPI for every configured\n"
	      "                              receiver, stop and disable the others, start qoestor-db,\n"
	      "                              restart qoestor-loader; report each change\n"
	      "  status                      each unit, its address, whether it listens, its spool backlog\n"
	      "  args recv STREAM-DPI | args loader | args db\n"
	      "                              print the command line the unit runs\n"
	      "  exec recv STREAM-DPI | exec loader | exec db\n"
	      "                              run it (the systemd units' ExecStart)\n"
	      "  reference                   print the commented reference file (conf/qoestor.yaml)\n"
	      "  doc                         print docs/CONFIGURATION.md\n"
	      "\n"
	      "Options:\n"
	      "  --config FILE   the configuration (default $QOESTOR_CONFIG, else " DEFAULT_CONFIG ")\n"
	      "  --help          this text\n"
	      "\n"
	      "Environment: QOESTOR_BINDIR (programs for args/exec; default this program's folder),\n"
	      "QOESTOR_SYSTEMCTL, QOESTOR_UNIT_DIR.\n"
	      "Exit codes: 0 ok, 1 configuration errors or a failed change, 2 usage, 3 apply found no systemd.\n",
	      f);
}

static int load(const char *path, struct qs_config *c, int quiet_notices)
{
	static char err[16384];
	int n = qs_config_load(path, c, err, sizeof err);
	if (n) {
		fputs(err, stderr);
		fprintf(stderr, "qoestor-config: %d problem%s in %s\n", n, n == 1 ? "" : "s", path);
		return -1;
	}
	if (!quiet_notices) {
		char notes[4096];
		if (qs_config_notices(c, notes, sizeof notes)) {
			for (char *l = strtok(notes, "\n"); l; l = strtok(NULL, "\n"))
				fprintf(stderr, "notice: %s: %s\n", path, l);
		}
	}
	return 0;
}

static void bindir(char *out, size_t len)
{
	const char *b = getenv("QOESTOR_BINDIR");
	if (b && *b) {
		snprintf(out, len, "%s", b);
		return;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0) {
		snprintf(out, len, "/usr/bin");
		return;
	}
	self[n] = 0;
	char *slash = strrchr(self, '/');
	*slash = 0;
	snprintf(out, len, "%s", self[0] ? self : "/");
}

/* args / exec: the command line of one program. */
static int program(const char *cfgpath, int do_exec, int argc, char **argv)
{
	if (argc < 1 || (strcmp(argv[0], "recv") == 0 && argc < 2)) {
		fprintf(stderr, "qoestor-config: %s needs recv STREAM-DPI, loader or db\n", do_exec ? "exec" : "args");
		return 2;
	}
	struct qs_config *c = malloc(sizeof *c);
	if (!c || load(cfgpath, c, 1)) {
		free(c);
		return 1;
	}
	char dir[PATH_MAX], bin[PATH_MAX + 32], err[512];
	static struct qs_cfg_argv a;
	bindir(dir, sizeof dir);
	int r;
	if (strcmp(argv[0], "recv") == 0) {
		enum qs_stream s;
		unsigned dpi;
		if (qs_config_parse_instance(argv[1], &s, &dpi)) {
			fprintf(stderr, "qoestor-config: '%s' is not STREAM-DPI (e.g. fullflow-0)\n", argv[1]);
			free(c);
			return 2;
		}
		snprintf(bin, sizeof bin, "%s/qoestor-recv", dir);
		r = qs_cfg_recv_argv(c, s, dpi, bin, &a, err, sizeof err);
	} else if (strcmp(argv[0], "loader") == 0) {
		snprintf(bin, sizeof bin, "%s/qoestor-loader", dir);
		r = qs_cfg_loader_argv(c, bin, &a, err, sizeof err);
	} else if (strcmp(argv[0], "db") == 0) {
		snprintf(bin, sizeof bin, "%s/qoestor-db", dir);
		r = qs_cfg_db_argv(c, bin, &a, err, sizeof err);
	} else {
		fprintf(stderr, "qoestor-config: unknown program '%s' (recv, loader or db)\n", argv[0]);
		free(c);
		return 2;
	}
	free(c);
	if (r) {
		fprintf(stderr, "qoestor-config: %s\n", err);
		return 1;
	}
	if (do_exec) {
		fflush(stdout);
		execv(a.argv[0], a.argv);
		fprintf(stderr, "qoestor-config: cannot run %s: %s (set QOESTOR_BINDIR?)\n", a.argv[0], strerror(errno));
		return 1;
	}
	for (int i = 0; i < a.argc; i++) {
		const char *v = a.argv[i];
		int plain = *v && strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:[]@,=+") ==
					 strlen(v);
		if (plain) {
			fputs(v, stdout);
		} else {
			putchar('\'');
			for (; *v; v++)
				if (*v == '\'')
					fputs("'\\''", stdout);
				else
					putchar(*v);
			putchar('\'');
		}
		putchar(i + 1 < a.argc ? ' ' : '\n');
	}
	return 0;
}

static int import_env(int argc, char **argv)
{
	const char *listen = NULL, *file = NULL;
	int strict = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
			listen = argv[++i];
		else if (strcmp(argv[i], "--strict") == 0)
			strict = 1;
		else if (argv[i][0] == '-' && argv[i][1])
			return fprintf(stderr, "qoestor-config import-env: unknown option %s\n", argv[i]), 2;
		else
			file = argv[i];
	}
	if (!file)
		return fprintf(stderr, "qoestor-config import-env: give the .env file\n"), 2;
	FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
	if (!f)
		return fprintf(stderr, "qoestor-config import-env: cannot open %s: %s\n", file, strerror(errno)), 1;
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof buf, f);
	if (f != stdin)
		fclose(f);
	struct qs_config *c = malloc(sizeof *c);
	static char report[16384];
	struct qs_env_stats st;
	if (!c)
		return 1;
	int problems = qs_config_import_env(file, buf, n, listen, c, &st, report, sizeof report);
	printf("# qoestor.yaml converted from %s by qoestor-config import-env.\n"
	       "# Only what differs from the defaults is written (see conf/qoestor.yaml for every key).\n", file);
	qs_config_print(c, stdout, 1, 1);
	fputs(report, stderr);
	fprintf(stderr, "import-env: %u setting(s) converted, %u commented-out default(s) left as defaults, "
		"%d problem(s)%s\n", st.converted, st.commented, problems, problems ? " (listed above)" : "");
	if (!listen)
		fprintf(stderr, "import-env: receivers listen on 127.0.0.1; the vendor's listened on every address: "
			"give --listen 0.0.0.0 if the DPI is on another host\n");
	free(c);
	return strict && problems ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *cfg = getenv("QOESTOR_CONFIG");
	if (!cfg || !*cfg)
		cfg = DEFAULT_CONFIG;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			cfg = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			cfg = argv[i] + 9;
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return usage(stdout), 0;
		else if (strcmp(argv[i], "--check-config") == 0)
			break;
		else
			return fprintf(stderr, "qoestor-config: unknown option %s\n", argv[i]), usage(stderr), 2;
	}
	if (i >= argc)
		return usage(stderr), 2;
	const char *cmd = argv[i++];
	if (strcmp(cmd, "check") == 0 || strcmp(cmd, "--check-config") == 0) {
		if (i < argc)
			cfg = argv[i];
		struct qs_config *c = malloc(sizeof *c);
		if (!c || load(cfg, c, 0))
			return free(c), 1;
		printf("# effective configuration of %s (defaults filled in)\n", cfg);
		qs_config_print(c, stdout, 0, 0);
		free(c);
		return 0;
	}
	if (strcmp(cmd, "import-env") == 0)
		return import_env(argc - i, argv + i);
	if (strcmp(cmd, "reference") == 0)
		return qs_config_write_reference(stdout), 0;
	if (strcmp(cmd, "doc") == 0)
		return qs_config_write_doc(stdout), 0;
	if (strcmp(cmd, "args") == 0 || strcmp(cmd, "exec") == 0)
		return program(cfg, cmd[0] == 'e', argc - i, argv + i);
	if (strcmp(cmd, "apply") == 0 || strcmp(cmd, "status") == 0) {
		struct apply_opts o = { .state_dir = "/var/lib/qoestor/applied" };
		char dir[PATH_MAX];
		bindir(dir, sizeof dir);
		o.bindir = dir;
		for (; i < argc; i++) {
			if (strcmp(argv[i], "--dry-run") == 0)
				o.dry_run = 1;
			else if (strcmp(argv[i], "--restart-all") == 0)
				o.restart_all = 1;
			else if (strcmp(argv[i], "--state-dir") == 0 && i + 1 < argc)
				o.state_dir = argv[++i];
			else
				return fprintf(stderr, "qoestor-config %s: unknown argument %s\n", cmd, argv[i]), 2;
		}
		struct qs_config *c = malloc(sizeof *c);
		if (!c || load(cfg, c, 0))
			return free(c), 1;
		int r = cmd[0] == 'a' ? config_apply(c, &o) : config_status(c);
		free(c);
		return r;
	}
	fprintf(stderr, "qoestor-config: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}

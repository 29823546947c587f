/* cfg_cmdline.c: --config and --check-config in front of a program's own options (see cfg_cmdline.h). */
#include "config/cfg_cmdline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg_args.h"
#include "config/config.h"
#include "config/config_print.h"

/* Does the command line give option --name (as "--name" or "--name=...")? */
static int cli_has(int argc, char **argv, const char *name)
{
	size_t n = strlen(name);
	for (int i = 1; i < argc; i++)
		if (!strncmp(argv[i], name, n) && (argv[i][n] == 0 || argv[i][n] == '='))
			return 1;
	return 0;
}

/* The receiver a qoestor-recv command line names: --instance S-N, or --stream S [--dpi N]. */
static int recv_target(int argc, char **argv, enum qs_stream *s, unsigned *dpi)
{
	const char *inst = NULL, *stream = NULL, *d = NULL;
	for (int i = 1; i + 1 < argc; i++) {
		if (!strcmp(argv[i], "--instance"))
			inst = argv[i + 1];
		else if (!strcmp(argv[i], "--stream"))
			stream = argv[i + 1];
		else if (!strcmp(argv[i], "--dpi"))
			d = argv[i + 1];
	}
	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "--instance=", 11))
			inst = argv[i] + 11;
		else if (!strncmp(argv[i], "--stream=", 9))
			stream = argv[i] + 9;
		else if (!strncmp(argv[i], "--dpi=", 6))
			d = argv[i] + 6;
	}
	char name[64] = "";
	*dpi = d ? (unsigned)strtoul(d, NULL, 10) : 0;
	if (inst) {
		const char *dash = strrchr(inst, '-');
		if (!dash || (size_t)(dash - inst) >= sizeof name)
			return -1;
		memcpy(name, inst, (size_t)(dash - inst));
		name[dash - inst] = 0;
		*dpi = (unsigned)strtoul(dash + 1, NULL, 10);
	} else if (stream) {
		snprintf(name, sizeof name, "%s", stream);
	} else {
		return -1;
	}
	const struct qs_stream_def *def = qs_stream_by_name(name);
	if (!def)
		return -1;
	*s = def->id;
	return 0;
}

int qs_config_cmdline(enum qs_cfg_prog prog, int *argc, char ***argv, int *exit_code)
{
	int ac = *argc;
	char **av = *argv;
	const char *file = NULL;
	int check = 0;
	for (int i = 1; i < ac; i++) {
		if (!strcmp(av[i], "--config")) {
			if (i + 1 >= ac) {
				fprintf(stderr, "%s: --config needs a file (qoestor.yaml)\n", av[0]);
				*exit_code = 2;
				return 1;
			}
			file = av[++i];
		} else if (!strncmp(av[i], "--config=", 9)) {
			file = av[i] + 9;
		} else if (!strcmp(av[i], "--check-config")) {
			check = 1;
		}
	}
	if (!file && !check)
		return 0;
	static struct qs_config cfg;
	static char err[16384];
	int problems;
	if (file) {
		problems = qs_config_load(file, &cfg, err, sizeof err);
	} else {
		qs_config_defaults(&cfg);
		problems = 0;
	}
	if (problems) {
		fprintf(stderr, "%s\n%s: %d problem%s in %s\n", err, av[0], problems, problems == 1 ? "" : "s", file);
		*exit_code = 1;
		return 1;
	}
	static struct qs_cfg_argv a;
	int r;
	if (prog == QS_PROG_RECV) {
		enum qs_stream s;
		unsigned dpi;
		if (recv_target(ac, av, &s, &dpi) != 0) {
			fprintf(stderr, "%s: with --config, name the receiver: --instance STREAM-DPI "
					"(e.g. fullflow-0) or --stream STREAM --dpi N\n", av[0]);
			*exit_code = 2;
			return 1;
		}
		r = qs_cfg_recv_argv(&cfg, s, dpi, av[0], &a, err, sizeof err);
	} else if (prog == QS_PROG_LOADER) {
		r = qs_cfg_loader_argv(&cfg, av[0], &a, err, sizeof err);
	} else {
		r = qs_cfg_db_argv(&cfg, av[0], &a, err, sizeof err);
	}
	if (r != 0) {
		fprintf(stderr, "%s: %s\n", av[0], err);
		*exit_code = 1;
		return 1;
	}
	/* New vector: argv[0], the file's options the command line does not give
	 * itself (pairs "--name value", or a lone "--flag"), then the command line
	 * without --config/--check-config. */
	char **nv = calloc((size_t)a.argc + (size_t)ac + 1, sizeof *nv);
	if (!nv) {
		*exit_code = 1;
		return 1;
	}
	int n = 0;
	nv[n++] = av[0];
	int cli_names_receiver = prog == QS_PROG_RECV &&
		(cli_has(ac, av, "--instance") || cli_has(ac, av, "--stream") || cli_has(ac, av, "--dpi"));
	for (int i = 1; i < a.argc; i++) {
		int pair = i + 1 < a.argc && strncmp(a.argv[i + 1], "--", 2) != 0;
		int skip = cli_has(ac, av, a.argv[i]);
		if (!strcmp(a.argv[i], "--instance") && cli_names_receiver)
			skip = 1;
		if (!skip) {
			nv[n++] = a.argv[i];
			if (pair)
				nv[n++] = a.argv[i + 1];
		}
		if (pair)
			i++;
	}
	for (int i = 1; i < ac; i++) {
		if (!strcmp(av[i], "--config")) {
			i++;
			continue;
		}
		if (!strncmp(av[i], "--config=", 9) || !strcmp(av[i], "--check-config"))
			continue;
		nv[n++] = av[i];
	}
	nv[n] = NULL;
	if (check) {
		qs_config_print(&cfg, stdout, 0, 0);
		printf("# command line:");
		for (int i = 0; i < n; i++)
			printf(" %s", nv[i]);
		printf("\n");
		free(nv);
		*exit_code = 0;
		return 1;
	}
	*argc = n;
	*argv = nv;
	return 0;
}

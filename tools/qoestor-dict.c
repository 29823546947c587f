/* qoestor-dict: check, describe and load the dictionaries.
 *
 *   qoestor-dict check [--samples] DIR|FILE...   validate without loading; exit 0 if all good
 *   qoestor-dict docs                            the column reference (docs/DICTIONARIES.md)
 *
 * The work is done by common/dict; this file is only the command line.
 * Exit codes: 0 all good, 1 a dictionary has errors (each printed as
 * FILE:LINE:COLUMN: message), 2 bad usage.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dict/dict_parse.h"
#include "dict/dict_table.h"

#define MAX_ERRORS_SHOWN 100

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: qoestor-dict COMMAND [OPTIONS] ...\n"
		"\n"
		"Commands:\n"
		"  check [--samples] DIR|FILE...  validate dictionary files without loading them.\n"
		"        DIR: every <name>.txt of a known dictionary in DIR (a missing file means\n"
		"        'no entries'); with --samples the <name>.sample.txt files instead.\n"
		"        FILE: one file; its dictionary is the file name up to the first dot.\n"
		"        Prints each error as FILE:LINE:COLUMN: message (value 'x').\n"
		"        Exit 0 when every file is valid, 1 when any is not, 2 on bad usage.\n"
		"  docs   print the column reference of every dictionary (Markdown)\n"
		"\n"
		"Options:\n"
		"  -h, --help   this text\n"
		"\n"
		"The file format is described in docs/DICTIONARIES.md.\n");
}

/* Check one file as dictionary def; print its errors; 0 if valid. */
static int check_file(const struct dict_def *def, const char *path)
{
	struct dict_errors errs;
	struct dict_data *d = NULL;
	dict_errors_init(&errs, MAX_ERRORS_SHOWN);
	int rc = dict_load_file(def, path, &d, &errs);
	if (rc == 0) {
		printf("%s: ok, %zu entries (%s)\n", path, dict_data_rows(d), def->name);
		dict_data_free(d);
		fflush(stdout);
	} else {
		fflush(stdout);
		dict_errors_print(&errs, stderr);
		fflush(stderr);
		printf("%s: %zu error%s (%s); fix them and run the check again\n", path, errs.total,
		       errs.total == 1 ? "" : "s", def->name);
	}
	dict_errors_free(&errs);
	return rc == 0 ? 0 : 1;
}

static int check_dir(const char *dir, int samples)
{
	int bad = 0;
	const char *suffix = samples ? ".sample.txt" : ".txt";
	for (unsigned i = 0; i < DICT_COUNT; i++) {
		const struct dict_def *def = dict_def((enum dict_id)i);
		char path[4096];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s%s", dir, def->name, suffix);
		if (stat(path, &st) != 0 && errno == ENOENT) {
			printf("%s: missing, so %s has no entries\n", path, def->name);
			continue;
		}
		bad |= check_file(def, path);
	}
	/* Files that look like dictionaries but are none: most likely a misspelt name. */
	DIR *dh = opendir(dir);
	if (!dh) {
		fprintf(stderr, "%s: cannot open the directory: %s\n", dir, strerror(errno));
		return 1;
	}
	struct dirent *de;
	while ((de = readdir(dh))) {
		size_t n = strlen(de->d_name), sl = strlen(".txt");
		if (n <= sl || strcmp(de->d_name + n - sl, ".txt") != 0)
			continue;
		char base[256];
		snprintf(base, sizeof base, "%.*s", (int)strcspn(de->d_name, "."), de->d_name);
		if (!dict_def_by_name(base))
			fprintf(stderr, "%s/%s: warning: not a known dictionary (known: see "
				"'qoestor-dict docs'); ignored\n", dir, de->d_name);
	}
	closedir(dh);
	return bad;
}

static int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "samples", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int samples = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "sh", opts, NULL)) != -1) {
		if (c == 's') {
			samples = 1;
		} else if (c == 'h') {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "qoestor-dict check: name a directory or file (see --help)\n");
		return 2;
	}
	int bad = 0;
	for (int i = optind; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			bad = 1;
		} else if (S_ISDIR(st.st_mode)) {
			bad |= check_dir(argv[i], samples);
		} else {
			const char *b = strrchr(argv[i], '/');
			b = b ? b + 1 : argv[i];
			char name[256];
			snprintf(name, sizeof name, "%.*s", (int)strcspn(b, "."), b);
			const struct dict_def *def = dict_def_by_name(name);
			if (!def) {
				fprintf(stderr, "%s: '%s' is not a known dictionary; name the file "
					"<dictionary>.txt (see 'qoestor-dict docs')\n", argv[i], name);
				bad = 1;
				continue;
			}
			bad |= check_file(def, argv[i]);
		}
	}
	return bad ? 1 : 0;
}

static const char *type_doc(enum dict_type t)
{
	switch (t) {
	case DT_U16: return "UInt16";
	case DT_U32: return "UInt32";
	case DT_U64: return "UInt64";
	case DT_BOOL: return "0/1";
	case DT_STR: return "text";
	case DT_HOST: return "host";
	case DT_IP: return "IP";
	case DT_CIDR: return "IP or CIDR";
	case DT_MAC: return "MAC";
	}
	return "?";
}

static int cmd_docs(void)
{
	for (unsigned i = 0; i < DICT_COUNT; i++) {
		const struct dict_def *def = dict_def((enum dict_id)i);
		printf("### %s\n\n%s\n\nFile `%s.txt`, ClickHouse dictionary `qoestor.%s`, layout %s%s.\n\n",
		       def->name, def->doc, def->name, def->name, dict_layout_name(def->layout),
		       def->layout == DL_HASHED_HIER ? " with a HIERARCHICAL attribute" : "");
		printf("| # | column | type | | description |\n|---|---|---|---|---|\n");
		for (size_t c = 0; c < def->ncols; c++) {
			const struct dict_column *col = &def->cols[c];
			printf("| %zu | `%s` | %s | %s | %s |\n", c + 1, col->name, type_doc(col->type),
			       col->flags & DC_KEY ? "key" : col->flags & DC_OPT ? "optional" : "",
			       col->doc);
		}
		printf("\n");
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(cmd, "docs") == 0)
		return cmd_docs();
	fprintf(stderr, "qoestor-dict: unknown command '%s' (see --help)\n", cmd);
	return 2;
}

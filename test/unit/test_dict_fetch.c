/* test_dict_fetch.c: cmocka tests of dict_fetch (the daily refresh) over file:// URLs:
 * a valid download replaces the file, identical content is not rewritten, and every
 * failure (missing source, invalid content, no entries, size limit, a failing fsync or
 * rename, injected with -Wl,--wrap) keeps the old file byte for byte and leaves no
 * temporary file behind. The http(s) path is covered by test/integration/dict-refresh.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dict/dict_fetch.h"

static char dir[256], src[300];
static int fail_rename, fail_fsync;

int __real_rename(const char *a, const char *b);
int __wrap_rename(const char *a, const char *b);
int __wrap_rename(const char *a, const char *b)
{
	if (fail_rename) {
		errno = EXDEV;
		return -1;
	}
	return __real_rename(a, b);
}

int __real_fsync(int fd);
int __wrap_fsync(int fd);
int __wrap_fsync(int fd)
{
	if (fail_fsync) {
		errno = EIO;
		return -1;
	}
	return __real_fsync(fd);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Files in dir besides the dictionaries: temporary leftovers. */
static int leftovers(void)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d)))
		if (strstr(e->d_name, ".tmp-"))
			n++;
	closedir(d);
	return n;
}

static char msg[16384];
static struct dict_errors errs;

static enum dict_fetch_result fetch(enum dict_id id, const char *url, const struct dict_fetch_opts *o)
{
	dict_errors_free(&errs);
	dict_errors_init(&errs, 10);
	enum dict_fetch_result r = dict_fetch(dict_def(id), url, dir, o, &errs, msg, sizeof msg);
	print_message("%s\n", msg);
	return r;
}

static int setup(void **state)
{
	snprintf(dir, sizeof dir, "%s/test_dict_fetch.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	snprintf(src, sizeof src, "%s/src", dir);
	mkdir(src, 0755);
	return 0;
}

static int teardown(void **state)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	dict_errors_free(&errs);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_replace_and_unchanged(void **state)
{
	char url[600], path[600];
	snprintf(path, sizeof path, "%s/asnum_dic.txt", dir);
	snprintf(url, sizeof url, "file://%s/asn.txt", src);
	put(url + 7, "15169\tGOOGLE\n13238\tYANDEX\n");
	/* no file yet */
	assert_int_equal(fetch(DICT_asnum_dic, url, NULL), DICT_FETCH_REPLACED);
	assert_string_equal(slurp(path), "15169\tGOOGLE\n13238\tYANDEX\n");
	assert_non_null(strstr(msg, "asnum_dic: 2 entries from file://"));
	struct stat a, b;
	assert_int_equal(stat(path, &a), 0);
	assert_int_equal(a.st_mode & 0777, 0644);
	/* the same again: not rewritten (same inode) */
	assert_int_equal(fetch(DICT_asnum_dic, url, NULL), DICT_FETCH_UNCHANGED);
	assert_int_equal(stat(path, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	/* a new version: a new inode (rename), new content */
	put(url + 7, "15169\tGOOGLE LLC\n");
	assert_int_equal(fetch(DICT_asnum_dic, url, NULL), DICT_FETCH_REPLACED);
	assert_string_equal(slurp(path), "15169\tGOOGLE LLC\n");
	assert_int_equal(leftovers(), 0);
}

static void test_failures_keep_the_old_file(void **state)
{
	char url[600], path[600], old[64] = "1\tSocial\n";
	snprintf(path, sizeof path, "%s/urlcats_dic.txt", dir);
	put(path, old);
	snprintf(url, sizeof url, "file://%s/cats.txt", src);

	/* the source is missing */
	assert_int_equal(fetch(DICT_urlcats_dic, url, NULL), DICT_FETCH_FAILED);
	assert_non_null(strstr(msg, "urlcats_dic: download from file://"));
	assert_non_null(strstr(msg, "failed"));
	assert_non_null(strstr(msg, "; keeping "));
	assert_string_equal(slurp(path), old);

	/* invalid content: errors named URL:LINE:COLUMN */
	put(url + 7, "1\tSocial\n2 Video\n");
	assert_int_equal(fetch(DICT_urlcats_dic, url, NULL), DICT_FETCH_FAILED);
	assert_int_equal(errs.total, 1);
	char want[700];
	snprintf(want, sizeof want, "%s:2:1: expected 2 columns separated by a tab, found 1", url);
	assert_non_null(strstr(errs.msg[0], want));
	assert_non_null(strstr(msg, "is not a valid urlcats_dic (1 error); keeping"));
	assert_string_equal(slurp(path), old);

	/* no entries: refused unless allowed */
	put(url + 7, "# nothing today\n");
	assert_int_equal(fetch(DICT_urlcats_dic, url, NULL), DICT_FETCH_FAILED);
	assert_non_null(strstr(msg, "has no entries"));
	assert_string_equal(slurp(path), old);
	struct dict_fetch_opts allow = { 0, 0, 1 };
	assert_int_equal(fetch(DICT_urlcats_dic, url, &allow), DICT_FETCH_REPLACED);
	assert_string_equal(slurp(path), "# nothing today\n");
	put(path, old);

	/* larger than the limit */
	put(url + 7, "1\tSocial networks\n2\tVideo\n");
	struct dict_fetch_opts small = { 0, 10, 0 };
	assert_int_equal(fetch(DICT_urlcats_dic, url, &small), DICT_FETCH_FAILED);
	assert_non_null(strstr(msg, "larger than 10 bytes"));
	assert_string_equal(slurp(path), old);

	/* the disk fails: fsync, then rename */
	fail_fsync = 1;
	assert_int_equal(fetch(DICT_urlcats_dic, url, NULL), DICT_FETCH_FAILED);
	fail_fsync = 0;
	assert_non_null(strstr(msg, "syncing"));
	assert_string_equal(slurp(path), old);
	fail_rename = 1;
	assert_int_equal(fetch(DICT_urlcats_dic, url, NULL), DICT_FETCH_FAILED);
	fail_rename = 0;
	assert_non_null(strstr(msg, "renaming"));
	assert_string_equal(slurp(path), old);
	assert_int_equal(leftovers(), 0);

	/* and then it works */
	assert_int_equal(fetch(DICT_urlcats_dic, url, NULL), DICT_FETCH_REPLACED);
	assert_string_equal(slurp(path), "1\tSocial networks\n2\tVideo\n");
}

static void test_absent_file_stays_absent(void **state)
{
	char path[600];
	snprintf(path, sizeof path, "%s/vchannel_name_dic.txt", dir);
	assert_int_equal(fetch(DICT_vchannel_name_dic, "file:///nonexistent/vch.txt", NULL), DICT_FETCH_FAILED);
	assert_non_null(strstr(msg, "stays absent"));
	assert_int_equal(access(path, F_OK), -1);
	/* a URL scheme libcurl knows but qoestor does not allow */
	assert_int_equal(fetch(DICT_vchannel_name_dic, "ftp://127.0.0.1/x", NULL), DICT_FETCH_FAILED);
	assert_int_equal(access(path, F_OK), -1);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	dict_errors_init(&errs, 10);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replace_and_unchanged),
		cmocka_unit_test(test_failures_keep_the_old_file),
		cmocka_unit_test(test_absent_file_stays_absent),
	};
	int rc = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return rc;
}

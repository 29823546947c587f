/* test_dict_store.c: cmocka tests of dict_store (the loader's view of the dictionaries):
 * loading a directory, lookups through a snapshot, replacement on every kind of file
 * change (rewrite in place, editor's rename, copy, delete), a broken edit keeping the
 * previous version, the watcher thread, and readers racing a writer (run under ASan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "dict/dict_store.h"
#include "log.h"

static char dir[256];

static void put(const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* Write via a temporary file and rename, as editors do. */
static void put_rename(const char *name, const char *text)
{
	char tmp[512], path[512];
	put(".tmp~", text);
	snprintf(tmp, sizeof tmp, "%s/.tmp~", dir);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_int_equal(rename(tmp, path), 0);
}

static int setup(void **state)
{
	snprintf(dir, sizeof dir, "%s/test_dict_store.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static uint32_t ip4(const char *s)
{
	struct in_addr a;
	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return ntohl(a.s_addr);
}

static uint32_t find6(struct dict_snap *snap, enum dict_id id, const char *s)
{
	uint8_t a[16];
	assert_int_equal(inet_pton(AF_INET6, s, a), 1);
	return dict_snap_find_ip6(snap, id, a);
}

static const char *name_of(struct dict_snap *snap, enum dict_id id, uint32_t row)
{
	if (row == DICT_NONE)
		return "(none)";
	const struct dict_data *d = dict_snap_data(snap, id);
	return dict_data_str(d, row, (size_t)dict_column_index(dict_data_def(d), "name"));
}

static const char *local(struct dict_snap *snap, const char *addr)
{
	if (strchr(addr, ':'))
		return name_of(snap, DICT_subnets_local_dic, find6(snap, DICT_subnets_local_dic, addr));
	return name_of(snap, DICT_subnets_local_dic,
		       dict_snap_find_ip4(snap, DICT_subnets_local_dic, ip4(addr)));
}

static void test_load_and_lookup(void **state)
{
	put("subnets_local_dic.txt", "10.0.0.0/8\tbig\n10.64.66.0/24\tsmall\n2001:db8::/32\tv6\n");
	put("asnum_local_dic.txt", "12345\tLOCAL\n");
	put("subscribers_dic.txt", "10.64.66.100\tlogin100\t5\tport1\tv\tc\tk\n"
				   "2001:db8::100\tlogin6\t5\tport1\tv\tc\tk\n");
	put("switches_dic.txt", "1\tS1\tE\tR\tA\t10.0.0.1\tI\n5\tS5\tE\tR\tA\t10.0.0.5\tI\t0\t1\tp\n");
	struct dict_store *s = NULL;
	assert_int_equal(dict_store_open(dir, &s), 0);
	struct dict_snap *empty = dict_store_acquire(s);
	uint32_t mask = 0;
	assert_int_equal(dict_store_refresh(s, 1, &mask), DICT_COUNT);
	assert_int_equal(mask, (1u << DICT_COUNT) - 1);
	struct dict_snap *snap = dict_store_acquire(s);
	assert_string_equal(local(snap, "10.64.66.7"), "small");
	assert_string_equal(local(snap, "10.64.67.7"), "big");
	assert_string_equal(local(snap, "11.0.0.1"), "(none)");
	assert_string_equal(local(snap, "2001:db8:1::1"), "v6");
	assert_string_equal(local(snap, "2001:db9::1"), "(none)");
	assert_string_equal(name_of(snap, DICT_asnum_local_dic,
				    dict_snap_find_u64(snap, DICT_asnum_local_dic, 12345)), "LOCAL");
	assert_int_equal(dict_snap_find_u64(snap, DICT_asnum_local_dic, 12346), DICT_NONE);
	const struct dict_data *subs = dict_snap_data(snap, DICT_subscribers_dic);
	uint32_t r = dict_snap_find_ip4(snap, DICT_subscribers_dic, ip4("10.64.66.100"));
	assert_int_not_equal(r, DICT_NONE);
	assert_string_equal(dict_data_str(subs, r, 1), "login100");
	assert_int_equal(dict_snap_find_ip4(snap, DICT_subscribers_dic, ip4("10.64.66.101")), DICT_NONE);
	r = find6(snap, DICT_subscribers_dic, "2001:db8::100");
	assert_string_equal(dict_data_str(subs, r, 1), "login6");
	/* switch hierarchy walk: 5 -> 1 -> none */
	const struct dict_data *sw = dict_snap_data(snap, DICT_switches_dic);
	int up = dict_column_index(dict_data_def(sw), "upstream_id");
	r = dict_snap_find_u64(snap, DICT_switches_dic, 5);
	assert_int_equal(dict_data_uint(sw, r, (size_t)up), 1);
	r = dict_snap_find_u64(snap, DICT_switches_dic, 1);
	assert_int_equal(dict_data_uint(sw, r, (size_t)up), 0);
	/* wrong layout: no answer rather than a wrong one */
	assert_int_equal(dict_snap_find_u64(snap, DICT_subnets_local_dic, 1), DICT_NONE);
	assert_int_equal(dict_snap_find_ip4(snap, DICT_asnum_local_dic, 1), DICT_NONE);
	/* the snapshot taken before the load stays empty */
	assert_string_equal(local(empty, "10.64.66.7"), "(none)");
	dict_snap_release(empty);
	dict_snap_release(snap);
	/* nothing changed: nothing reloaded */
	assert_int_equal(dict_store_refresh(s, 0, &mask), 0);
	assert_int_equal(mask, 0);
	dict_store_close(s);
}

static void test_changes_and_broken_edits(void **state)
{
	put("subnets_local_dic.txt", "10.0.0.0/8\tv1\n");
	struct dict_store *s = NULL;
	assert_int_equal(dict_store_open(dir, &s), 0);
	dict_store_refresh(s, 1, NULL);
	struct dict_snap *v1 = dict_store_acquire(s);
	uint32_t mask;

	/* rewrite in place (same size, so only mtime/ctime tell) */
	put("subnets_local_dic.txt", "10.0.0.0/8\tv2\n");
	assert_int_equal(dict_store_refresh(s, 0, &mask), 1);
	assert_int_equal(mask, 1u << DICT_subnets_local_dic);
	struct dict_snap *snap = dict_store_acquire(s);
	assert_string_equal(local(snap, "10.1.1.1"), "v2");
	assert_string_equal(local(v1, "10.1.1.1"), "v1"); /* old readers unaffected */
	dict_snap_release(snap);
	dict_snap_release(v1);

	/* a broken edit: the previous version stays, the error is counted */
	uint64_t errors = dict_store_errors(s);
	put("subnets_local_dic.txt", "10.0.0.0/8\tv3\n192.168.0.0/16 LOCAL\n");
	assert_int_equal(dict_store_refresh(s, 0, &mask), 0);
	assert_int_equal(dict_store_errors(s), errors + 1);
	snap = dict_store_acquire(s);
	assert_string_equal(local(snap, "10.1.1.1"), "v2");
	dict_snap_release(snap);
	/* not retried until the file changes again */
	assert_int_equal(dict_store_refresh(s, 0, &mask), 0);
	assert_int_equal(dict_store_errors(s), errors + 1);

	/* an editor's save (temporary file renamed over) */
	put_rename("subnets_local_dic.txt", "10.0.0.0/8\tv4\n");
	assert_int_equal(dict_store_refresh(s, 0, &mask), 1);
	snap = dict_store_acquire(s);
	assert_string_equal(local(snap, "10.1.1.1"), "v4");
	dict_snap_release(snap);

	/* a copy over it */
	put("other.txt", "172.16.0.0/12\tv5\n");
	char cmd[1200];
	snprintf(cmd, sizeof cmd, "cp '%s/other.txt' '%s/subnets_local_dic.txt'", dir, dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(dict_store_refresh(s, 0, &mask), 1);
	snap = dict_store_acquire(s);
	assert_string_equal(local(snap, "10.1.1.1"), "(none)");
	assert_string_equal(local(snap, "172.16.1.1"), "v5");
	dict_snap_release(snap);

	/* deleted: no entries */
	snprintf(cmd, sizeof cmd, "%s/subnets_local_dic.txt", dir);
	assert_int_equal(unlink(cmd), 0);
	assert_int_equal(dict_store_refresh(s, 0, &mask), 1);
	snap = dict_store_acquire(s);
	assert_string_equal(local(snap, "172.16.1.1"), "(none)");
	assert_int_equal(dict_data_rows(dict_snap_data(snap, DICT_subnets_local_dic)), 0);
	dict_snap_release(snap);
	dict_store_close(s);
}

static int wait_loads(struct dict_store *s, uint64_t want)
{
	for (int i = 0; i < 1000; i++) { /* at most 10 s */
		if (dict_store_loads(s) >= want)
			return 1;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return 0;
}

static void test_watcher_thread(void **state)
{
	put("asnum_local_dic.txt", "1\tone\n");
	struct dict_store *s = NULL;
	assert_int_equal(dict_store_open(dir, &s), 0);
	dict_store_refresh(s, 1, NULL);
	uint64_t loads = dict_store_loads(s);
	assert_int_equal(dict_store_watch_start(s, 50, 3600), 0);
	put("asnum_local_dic.txt", "2\ttwo\n");
	assert_true(wait_loads(s, loads + 1));
	struct dict_snap *snap = dict_store_acquire(s);
	assert_int_not_equal(dict_snap_find_u64(snap, DICT_asnum_local_dic, 2), DICT_NONE);
	dict_snap_release(snap);
	put_rename("asnum_local_dic.txt", "3\tthree\n");
	assert_true(wait_loads(s, loads + 2));
	snap = dict_store_acquire(s);
	assert_int_not_equal(dict_snap_find_u64(snap, DICT_asnum_local_dic, 3), DICT_NONE);
	assert_int_equal(dict_snap_find_u64(snap, DICT_asnum_local_dic, 2), DICT_NONE);
	dict_snap_release(snap);
	dict_store_close(s);
}

static atomic_int stop_readers;
static atomic_long reads;

static void *reader(void *arg)
{
	struct dict_store *s = arg;
	while (!atomic_load(&stop_readers)) {
		struct dict_snap *snap = dict_store_acquire(s);
		uint32_t r = dict_snap_find_ip4(snap, DICT_subnets_local_dic, ip4("10.1.2.3"));
		if (r != DICT_NONE) {
			const char *n = name_of(snap, DICT_subnets_local_dic, r);
			if (n[0] != 'v')
				abort();
		}
		dict_snap_release(snap);
		atomic_fetch_add(&reads, 1);
	}
	return NULL;
}

static void test_readers_race_writer(void **state)
{
	struct dict_store *s = NULL;
	assert_int_equal(dict_store_open(dir, &s), 0);
	pthread_t t[3];
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&t[i], NULL, reader, s), 0);
	for (int i = 0; i < 200; i++) {
		char text[64];
		snprintf(text, sizeof text, "10.0.0.0/8\tv%d\n", i);
		put("subnets_local_dic.txt", text);
		dict_store_refresh(s, 1, NULL);
	}
	atomic_store(&stop_readers, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	assert_true(atomic_load(&reads) > 0);
	dict_store_close(s);
}

int main(void)
{
	log_init("test_dict_store", LOG_WARN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load_and_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changes_and_broken_edits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watcher_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readers_race_writer, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

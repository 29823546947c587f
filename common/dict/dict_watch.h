/* dict_watch.h: notice changes in a dictionaries directory (inotify, debounced).
 *
 * Catches every way a file gets replaced: a rewrite in place (IN_CLOSE_WRITE,
 * IN_MODIFY), an editor's save through a temporary file and rename (IN_MOVED_TO), a
 * copy (IN_CREATE + writes), a delete. Events on any file of the directory count; the
 * caller finds out which dictionary changed by comparing files (dict_store does), so a
 * spurious wake-up costs a few stat calls. A watch is used by one thread, except
 * dict_watch_stop, which any thread may call.
 */
#ifndef QOESTOR_DICT_WATCH_H
#define QOESTOR_DICT_WATCH_H

struct dict_watch;

/* Watch dir; changes are reported once nothing happened for debounce_ms.
 * -1 with errno when dir cannot be watched. */
int dict_watch_open(const char *dir, int debounce_ms, struct dict_watch **out);
void dict_watch_close(struct dict_watch *w);

/* Block up to timeout_ms (-1: no limit). Returns 1 when the directory changed and has
 * been quiet for the debounce time, 0 on timeout, -1 when dict_watch_stop was called
 * (or inotify failed: then errno is set). */
int dict_watch_wait(struct dict_watch *w, int timeout_ms);

/* Make the current and every later dict_watch_wait return -1. Async-signal-safe. */
void dict_watch_stop(struct dict_watch *w);

#endif

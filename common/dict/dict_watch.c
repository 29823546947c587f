/* dict_watch.c: the directory watch declared in dict_watch.h (inotify + a stop pipe). */
#include "dict/dict_watch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

struct dict_watch {
	int ifd;
	int stop[2]; /* pipe: a byte written to stop[1] stops every wait */
	int debounce_ms;
	int dirty;
	int64_t last_event_ms;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int dict_watch_open(const char *dir, int debounce_ms, struct dict_watch **out)
{
	*out = NULL;
	struct dict_watch *w = calloc(1, sizeof *w);
	if (!w)
		return -1;
	w->debounce_ms = debounce_ms;
	w->stop[0] = w->stop[1] = -1;
	w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->ifd < 0 || pipe2(w->stop, O_NONBLOCK | O_CLOEXEC) != 0)
		goto fail;
	uint32_t mask = IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
			IN_DELETE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
	if (inotify_add_watch(w->ifd, dir, mask) < 0)
		goto fail;
	*out = w;
	return 0;
fail:;
	int e = errno;
	dict_watch_close(w);
	errno = e;
	return -1;
}

void dict_watch_close(struct dict_watch *w)
{
	if (!w)
		return;
	if (w->ifd >= 0)
		close(w->ifd);
	if (w->stop[0] >= 0)
		close(w->stop[0]);
	if (w->stop[1] >= 0)
		close(w->stop[1]);
	free(w);
}

void dict_watch_stop(struct dict_watch *w)
{
	ssize_t r = write(w->stop[1], "x", 1);
	(void)r;
}

int dict_watch_wait(struct dict_watch *w, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? INT64_MAX : now_ms() + timeout_ms;
	for (;;) {
		int64_t now = now_ms();
		if (w->dirty && now - w->last_event_ms >= w->debounce_ms) {
			w->dirty = 0;
			return 1;
		}
		if (now >= deadline)
			return 0;
		int64_t wait = deadline - now;
		if (w->dirty && w->last_event_ms + w->debounce_ms - now < wait)
			wait = w->last_event_ms + w->debounce_ms - now;
		if (wait > INT32_MAX)
			wait = -1;
		struct pollfd p[2] = { { w->ifd, POLLIN, 0 }, { w->stop[0], POLLIN, 0 } };
		int n = poll(p, 2, (int)wait);
		if (n < 0 && errno != EINTR)
			return -1;
		if (n <= 0)
			continue;
		if (p[1].revents)
			return -1;
		if (p[0].revents) {
			char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
			ssize_t r;
			while ((r = read(w->ifd, buf, sizeof buf)) > 0)
				;
			if (r < 0 && errno != EAGAIN && errno != EINTR)
				return -1;
			w->dirty = 1;
			w->last_event_ms = now_ms();
		}
	}
}

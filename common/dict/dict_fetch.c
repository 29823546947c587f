/* dict_fetch.c: the download-validate-replace of dict_fetch.h. */
#include "dict/dict_fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT_S 600
#define DEFAULT_MAX_BYTES ((size_t)1 << 30)

struct body {
	char *p;
	size_t len, cap, max;
	int too_big, oom;
};

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t len = size * n;
	if (b->len + len > b->max) {
		b->too_big = 1;
		return 0; /* aborts the transfer */
	}
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		while (cap < b->len + len + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return 0;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return len;
}

/* Download url into b; 0, or -1 with why (one phrase) in err. */
static int download(const char *url, const struct dict_fetch_opts *o, struct body *b, char *err,
		    size_t errlen)
{
	CURL *h = curl_easy_init();
	if (!h) {
		snprintf(err, errlen, "libcurl failed to start");
		return -1;
	}
	char curl_err[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, o->timeout_s > 0 ? o->timeout_s : (long)DEFAULT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""); /* gzip etc. if the server offers */
	curl_easy_setopt(h, CURLOPT_USERAGENT, "qoestor-dict");
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	CURLcode rc = curl_easy_perform(h);
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	if (rc == CURLE_OK)
		return 0;
	if (b->too_big)
		snprintf(err, errlen, "larger than %zu bytes (the limit; raise it with --max-bytes)", b->max);
	else if (b->oom)
		snprintf(err, errlen, "out of memory after %zu bytes", b->len);
	else if (rc == CURLE_HTTP_RETURNED_ERROR)
		snprintf(err, errlen, "HTTP %ld", status);
	else
		snprintf(err, errlen, "%s", curl_err[0] ? curl_err : curl_easy_strerror(rc));
	return -1;
}

/* 1 when path holds exactly buf[0..len). */
static int same_content(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	char chunk[65536];
	size_t off = 0, r;
	int same = 1;
	while (same && (r = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (off + r > len || memcmp(chunk, buf + off, r) != 0)
			same = 0;
		off += r;
	}
	same = same && !ferror(f) && off == len;
	fclose(f);
	return same;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Replace path with buf atomically (see dict_fetch.h); 0, or -1 with why in err. */
static int replace_file(const char *dir, const char *path, const char *base, const char *buf,
			size_t len, char *err, size_t errlen)
{
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s/.%s.tmp-%ld", dir, base, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		return -1;
	}
	const char *step = NULL;
	if (write_all(fd, buf, len) != 0)
		step = "writing";
	else if (fsync(fd) != 0)
		step = "syncing";
	int e = errno;
	if (close(fd) != 0 && !step) {
		step = "closing";
		e = errno;
	}
	if (!step && rename(tmp, path) != 0) {
		step = "renaming";
		e = errno;
	}
	if (step) {
		snprintf(err, errlen, "%s %s failed: %s", step, tmp, strerror(e));
		unlink(tmp);
		return -1;
	}
	/* the rename itself is durable once the directory is synced */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		snprintf(err, errlen, "replaced %s, but syncing %s failed: %s", path, dir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return 0; /* the new file is in place; only its durability is in doubt */
	}
	close(dfd);
	return 0;
}

/* What stays when a refresh fails. */
static const char *kept(const char *path, char *buf, size_t len)
{
	struct stat st;
	if (stat(path, &st) == 0)
		snprintf(buf, len, "keeping %s", path);
	else
		snprintf(buf, len, "%s stays absent (no entries)", path);
	return buf;
}

enum dict_fetch_result dict_fetch(const struct dict_def *def, const char *url, const char *dir,
				  const struct dict_fetch_opts *opts, struct dict_errors *errs,
				  char *msg, size_t msglen)
{
	struct dict_fetch_opts dflt = { 0, 0, 0 };
	const struct dict_fetch_opts *o = opts ? opts : &dflt;
	char path[4096], why[10000] = "", base[256], k[4200];
	snprintf(base, sizeof base, "%s.txt", def->name);
	snprintf(path, sizeof path, "%s/%s", dir, base);
	struct body b = { NULL, 0, 0, o->max_bytes ? o->max_bytes : DEFAULT_MAX_BYTES, 0, 0 };
	enum dict_fetch_result res = DICT_FETCH_FAILED;
	struct dict_data *d = NULL;

	if (download(url, o, &b, why, sizeof why) != 0) {
		snprintf(msg, msglen, "%s: download from %s failed: %s; %s", def->name, url, why,
			 kept(path, k, sizeof k));
		goto out;
	}
	size_t before = errs->total;
	if (dict_parse(def, url, b.p ? b.p : "", b.len, &d, errs) != 0) {
		snprintf(msg, msglen, "%s: %s is not a valid %s (%zu error%s); %s", def->name, url,
			 def->name, errs->total - before, errs->total - before == 1 ? "" : "s",
			 kept(path, k, sizeof k));
		goto out;
	}
	size_t rows = dict_data_rows(d);
	if (rows == 0 && !o->allow_empty) {
		snprintf(msg, msglen, "%s: %s has no entries (a broken export?); %s "
			 "(--allow-empty accepts it)", def->name, url, kept(path, k, sizeof k));
		goto out;
	}
	if (same_content(path, b.p ? b.p : "", b.len)) {
		snprintf(msg, msglen, "%s: %s is unchanged (%zu entries); %s not rewritten", def->name, url,
			 rows, path);
		res = DICT_FETCH_UNCHANGED;
		goto out;
	}
	if (replace_file(dir, path, base, b.p ? b.p : "", b.len, why, sizeof why) != 0) {
		snprintf(msg, msglen, "%s: %s; %s", def->name, why, kept(path, k, sizeof k));
		goto out;
	}
	snprintf(msg, msglen, "%s: %zu entries from %s replaced %s%s%s", def->name, rows, url, path,
		 why[0] ? "; warning: " : "", why);
	res = DICT_FETCH_REPLACED;
out:
	dict_data_free(d);
	free(b.p);
	return res;
}

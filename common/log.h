/* log.h: the one logger of every qoestor program.
 *
 * Lines go to stderr. Under systemd (JOURNAL_STREAM set) each line starts with
 * the sd-daemon priority prefix ("<3>") so journald records the level; at a
 * terminal or in a file each line starts with a UTC timestamp and the level.
 * Every line carries the instance tag set by log_init ("qoestor-recv[fullflow-0]").
 * Thread-safe: one write(2) per line. Never blocks on anything but stderr.
 * Per-record events are counters, not log lines; for per-peer events use
 * log_ratelimited so a flood prints a line and a "N similar suppressed" count.
 */
#ifndef QOESTOR_LOG_H
#define QOESTOR_LOG_H

#include <stdarg.h>
#include <stdint.h>

enum log_level { LOG_ERR = 3, LOG_WARN = 4, LOG_NOTICE = 5, LOG_INFO = 6, LOG_DEBUG = 7 };

/* Set the program tag and the most verbose level printed (default LOG_INFO). */
void log_init(const char *tag, enum log_level max);
void log_set_level(enum log_level max);

void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level lvl, const char *fmt, va_list ap);

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* A rate limiter owned by the caller: at most `burst` lines per `interval_s`
 * seconds; the first line after a quiet period reports how many were
 * suppressed. Zero-initialise, then set interval_s and burst. Not thread-safe:
 * one limiter per thread or per peer. */
struct log_ratelimit {
	unsigned interval_s;
	unsigned burst;
	int64_t window_start;
	unsigned printed;
	uint64_t suppressed;
};

void log_ratelimited(struct log_ratelimit *rl, enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif

/* cfg_args.c: the YAML's sections as each program's options (see cfg_args.h). */
#include "config/cfg_args.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int add(struct qs_cfg_argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int add(struct qs_cfg_argv *a, const char *fmt, ...)
{
	if (a->argc + 2 >= (int)(sizeof a->argv / sizeof a->argv[0]) || a->used >= sizeof a->buf)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(a->buf + a->used, sizeof a->buf - a->used, fmt, ap);
	va_end(ap);
	if (n < 0 || a->used + (size_t)n + 1 > sizeof a->buf)
		return -1;
	a->argv[a->argc++] = a->buf + a->used;
	a->argv[a->argc] = NULL;
	a->used += (size_t)n + 1;
	return 0;
}

static int opt(struct qs_cfg_argv *a, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int opt(struct qs_cfg_argv *a, const char *name, const char *fmt, ...)
{
	char v[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v, sizeof v, fmt, ap);
	va_end(ap);
	return add(a, "--%s", name) || add(a, "%s", v);
}

static void start(struct qs_cfg_argv *a, const char *prog)
{
	a->argc = 0;
	a->used = 0;
	a->argv[0] = NULL;
	add(a, "%s", prog);
}

static int too_long(int r, char *err, size_t errlen)
{
	if (r)
		snprintf(err, errlen, "the command line is too long");
	return r ? -1 : 0;
}

int qs_cfg_recv_argv(const struct qs_config *c, enum qs_stream s, unsigned dpi, const char *prog,
		     struct qs_cfg_argv *a, char *err, size_t errlen)
{
	const struct qs_cfg_receiver *r = qs_config_receiver(c, dpi, s);
	const char *sn = (unsigned)s < QS_STREAM_COUNT ? qs_stream_def(s)->name : "?";
	if (!r) {
		snprintf(err, errlen, "%s: no receiver %s for DPI %u (receivers: - dpi: %u / %s:)", c->file, sn, dpi,
			 dpi, sn);
		return -1;
	}
	if (!r->enabled) {
		snprintf(err, errlen, "%s: receiver %s-%u has enabled: false", c->file, sn, dpi);
		return -1;
	}
	start(a, prog);
	int v6 = strchr(r->listen, ':') != NULL;
	int e = opt(a, "instance", "%s-%u", sn, dpi) ||
		opt(a, "listen", "%s://%s%s%s:%u", r->transport == QS_CFG_UDP ? "udp" : "tcp", v6 ? "[" : "", r->listen,
		    v6 ? "]" : "", r->port) ||
		opt(a, "spool", "%s", c->paths.spool) || opt(a, "ie-file", "%s", c->paths.ie_file) ||
		opt(a, "rotate-seconds", "%u", r->rotate_minutes * 60) ||
		opt(a, "delay-seconds", "%u", r->rotate_delay_seconds) ||
		opt(a, "udp-timeout", "%u", r->udp_timeout_seconds) ||
		opt(a, "udp-rcvbuf-mb", "%u", r->udp_rcvbuf_mb) || opt(a, "log-level", "%u", c->paths.log_level) ||
		opt(a, "udp-hold-seconds", "%u", r->udp_hold_seconds) || opt(a, "udp-hold-kb", "%u", r->udp_hold_kb) ||
		opt(a, "udp-template-lifetime", "%u", r->udp_template_lifetime_seconds) ||
		opt(a, "export-queue-mb", "%u", r->export_queue_mb) || opt(a, "accept", "%s", r->accept);
	if (r->metrics[0])
		e |= opt(a, "metrics", "%s", r->metrics);
	if (r->spool_compression == 1)
		e |= add(a, "--spool-uncompressed");
	if (r->nexports) {
		/* The manual's EXPORT list: ip/port/proto[,ip/port/proto]. */
		char list[QS_CFG_MAX_EXPORTS * 96] = "";
		size_t used = 0;
		for (unsigned i = 0; i < r->nexports && used < sizeof list; i++) {
			const struct qs_cfg_export *x = &r->exports[i];
			int n = snprintf(list + used, sizeof list - used, "%s%s/%u/%s", i ? "," : "", x->host, x->port,
					 x->transport == QS_CFG_UDP ? "udp" : "tcp");
			if (n < 0)
				break;
			used += (size_t)n;
		}
		e |= opt(a, "export", "%s", list);
	}
	return too_long(e, err, errlen);
}

static const char *compression_name(unsigned x)
{
	return x == 0 ? "none" : x == 1 ? "gzip" : x == 2 ? "zstd" : "auto";
}

int qs_cfg_loader_argv(const struct qs_config *c, const char *prog, struct qs_cfg_argv *a, char *err, size_t errlen)
{
	const struct qs_cfg_loader *l = &c->loader;
	start(a, prog);
	int e = 0;
	for (unsigned i = 0; i < l->nclickhouse; i++)
		e |= opt(a, "clickhouse", "%s", l->clickhouse[i]);
	if (l->user[0])
		e |= opt(a, "user", "%s", l->user);
	if (l->password[0])
		e |= opt(a, "password", "%s", l->password);
	if (l->password_file[0])
		e |= opt(a, "password-file", "%s", l->password_file);
	if (l->auth_headers)
		e |= add(a, "--auth-headers");
	if (l->tls_ca_file[0])
		e |= opt(a, "tls-ca-file", "%s", l->tls_ca_file);
	if (l->insert_settings[0])
		e |= opt(a, "insert-settings", "%s", l->insert_settings);
	e |= opt(a, "database", "%s", l->database) || opt(a, "raw-ttl-hours", "%u", l->raw_ttl_hours) ||
	     opt(a, "agg-ttl-days", "%u", l->agg_ttl_days) || opt(a, "dedup-window", "%u", l->dedup_window) ||
	     opt(a, "spool", "%s", c->paths.spool) || opt(a, "dictionaries", "%s", c->dicts.dir);
	if (l->archive[0])
		e |= opt(a, "archive", "%s", l->archive);
	if (c->storage.hot_cold)
		e |= opt(a, "storage-policy", "%s", c->storage.policy) ||
		     opt(a, "cold-volume", "%s", c->storage.cold_volume) ||
		     opt(a, "move-after-days", "%u", c->storage.move_after_days);
	e |= opt(a, "insert-processes", "%u", l->insert_processes);
	/* The manual's IPFIX_<S>_DUMP_INSERT_PROCESSES[N] is per receiver; the loader
	 * limits per stream: the sum over the DPIs. */
	for (unsigned s = 0; s < QS_STREAM_COUNT; s++) {
		unsigned sum = 0;
		for (unsigned i = 0; i < c->ndpis; i++)
			if (c->dpis[i].recv[s].loc.present)
				sum += c->dpis[i].recv[s].dump_insert_processes;
		if (sum) {
			char name[64];
			snprintf(name, sizeof name, "%s-insert-processes", qs_stream_def((enum qs_stream)s)->name);
			e |= opt(a, name, "%u", sum > 64 ? 64 : sum);
		}
	}
	e |= opt(a, "memory-limit", "%u", l->memory_limit) || opt(a, "insert-rows", "%u", l->insert_rows) ||
	     opt(a, "format", "%s", l->format == 2 ? "native" : l->format ? "csv" : "rowbinary") ||
	     opt(a, "settle-seconds", "%u", l->settle_seconds) ||
	     opt(a, "compression", "%s", compression_name(l->compression)) ||
	     opt(a, "compression-level", "%u", l->compression_level) ||
	     opt(a, "rescan-seconds", "%u", l->rescan_seconds) ||
	     opt(a, "retry-max-seconds", "%u", l->retry_max_seconds) ||
	     opt(a, "timeout-seconds", "%u", l->timeout_seconds) || opt(a, "max-groups", "%u", l->max_groups) ||
	     opt(a, "agg-spill-runs", "%u", l->agg_spill_runs) ||
	     opt(a, "traffic-dir-def-mode", "%u", l->traffic_dir_def_mode) ||
	     opt(a, "subscriber-filter-mode", "%u", l->subscriber_filter_mode) ||
	     opt(a, "subscriber-exclude-mode", "%u", l->subscriber_exclude_mode) ||
	     opt(a, "ulr-replace-login-with-vchannel", "%u", l->ulr_replace_login_with_vchannel) ||
	     opt(a, "ulr-use-dic-when-replacing-login", "%u", l->ulr_use_dic_when_replacing_login) ||
	     opt(a, "nat-import-from-fullflow", "%u", l->nat_import_from_fullflow) ||
	     opt(a, "nat-agg-log-fields-to-save-bitmask", "0x%x", l->nat_agg_log_fields_to_save_bitmask) ||
	     opt(a, "nat-agg-log-group-time-interval", "%u", l->nat_agg_log_group_time_interval) ||
	     opt(a, "fullflow-agg-period", "%u", l->fullflow_agg_period) ||
	     opt(a, "clickstream-agg-period", "%u", l->clickstream_agg_period);
	if (l->fullflow_agg_keys[0])
		e |= opt(a, "fullflow-agg-keys", "%s", l->fullflow_agg_keys);
	if (l->clickstream_agg_keys[0])
		e |= opt(a, "clickstream-agg-keys", "%s", l->clickstream_agg_keys);
	if (l->metrics[0])
		e |= opt(a, "metrics", "%s", l->metrics);
	return too_long(e, err, errlen);
}

int qs_cfg_db_argv(const struct qs_config *c, const char *prog, struct qs_cfg_argv *a, char *err, size_t errlen)
{
	const struct qs_cfg_db *d = &c->db;
	if (!d->enabled) {
		snprintf(err, errlen, "%s: db.enabled is false (an external ClickHouse is used)", c->file);
		return -1;
	}
	start(a, prog);
	int e = opt(a, "listen", "%s", d->listen) || opt(a, "path", "%s", d->path) || opt(a, "user", "%s", d->user);
	if (d->password[0])
		e |= opt(a, "password", "%s", d->password);
	if (d->password_file[0])
		e |= opt(a, "password-file", "%s", d->password_file);
	if (d->libchdb[0])
		e |= opt(a, "libchdb", "%s", d->libchdb);
	if (d->clickhouse_config[0])
		e |= opt(a, "clickhouse-config", "%s", d->clickhouse_config);
	e |= opt(a, "timezone", "%s", d->timezone) || opt(a, "max-body", "%llu", d->max_body) ||
	     opt(a, "max-connections", "%u", d->max_connections) || opt(a, "spill-at", "%llu", d->spill_at);
	return too_long(e, err, errlen);
}

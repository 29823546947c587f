/* config.h: qoestor.yaml, the one configuration file of every qoestor program.
 *
 * The file has six sections: receivers (a list of DPIs, each with up to one
 * receiver per stream), loader, db, dictionaries, storage (hot/cold) and
 * paths. Every key is a row of one table (cfg_table.c) with a type, a range,
 * a default equal to the vendor manual's default, the manual's .env key where
 * it has one, and one line of documentation. The same table drives the
 * parser, the validation, --check-config's printout, the commented reference
 * file (conf/qoestor.yaml) and docs/CONFIGURATION.md.
 *
 * Ownership: struct qs_config is plain data held by the caller (strings are
 * fixed-size arrays inside it); nothing needs freeing. Threads: the functions
 * are pure (no global state) and may run in any thread; a filled config is
 * read-only. Blocking: qs_config_load reads one file; qs_config_check looks
 * at files the config names (password files) with stat/access only.
 * Errors come back as text, one line per problem, each starting with
 * "FILE:LINE:COLUMN: " and naming the key path ("receivers[1].fullflow.port").
 */
#ifndef QOESTOR_CONFIG_CONFIG_H
#define QOESTOR_CONFIG_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "schema/schema.h"

#define QS_CFG_MAX_DPIS 64      /* DPI entries under receivers: */
#define QS_CFG_MAX_EXPORTS 8    /* re-export targets per receiver */
#define QS_CFG_MAX_URLS 8       /* ClickHouse URLs of the loader */
#define QS_CFG_PATH 256         /* longest path, URL or name held */
#define QS_CFG_UNSET 0xffffffffu /* a computed default not filled in yet */

/* Where a section or list entry was written; present = 0 when absent. */
struct qs_cfg_loc {
	unsigned line, col;
	int present;
};

enum qs_cfg_transport { QS_CFG_TCP = 0, QS_CFG_UDP = 1 };

/* One re-export target of the manual's EXPORT=ip/port/proto list. */
struct qs_cfg_export {
	char host[64];
	unsigned port;
	unsigned transport; /* enum qs_cfg_transport */
};

/* One receiver: one stream of one DPI (unit qoestor-recv@<stream>-<dpi>). */
struct qs_cfg_receiver {
	struct qs_cfg_loc loc;        /* loc.present: the stream is configured */
	int enabled;                  /* false: configured but kept stopped */
	unsigned transport;           /* IPFIX_<S>_PORT_TYPE */
	unsigned port;                /* IPFIX_<S>_PORT; default 1500 + stream + 10 x dpi */
	char listen[64];              /* address; default the DPI's listen */
	unsigned rotate_minutes;      /* IPFIX_<S>_ROTATE_MINUTES (10; clickstream 12) */
	unsigned rotate_delay_seconds;/* IPFIX_<S>_ROTATE_DELAY_SECONDS (0; clickstream 400) */
	unsigned fw_max_queue_size;   /* IPFIX_<S>_FW_MAX_QUEUE_SIZE (10) */
	unsigned dump_insert_processes; /* IPFIX_<S>_DUMP_INSERT_PROCESSES (0) */
	struct qs_cfg_export exports[QS_CFG_MAX_EXPORTS]; /* IPFIX_<S>_EXPORT */
	unsigned nexports;
	unsigned udp_timeout_seconds;
	unsigned udp_rcvbuf_mb;
	unsigned udp_hold_seconds, udp_hold_kb, udp_template_lifetime_seconds;
	unsigned export_queue_mb;
	char accept[64];              /* ipfix[,netflow9][,netflow5] */
	char metrics[64];             /* ADDR:PORT of its Prometheus endpoint; "" = none */
	unsigned spool_compression;   /* 0 zstd, 1 none (--spool-uncompressed) */
};

struct qs_cfg_dpi {
	struct qs_cfg_loc loc;
	unsigned id;                  /* the [N] of the manual's keys */
	char listen[64];              /* default address of its receivers (127.0.0.1) */
	struct qs_cfg_receiver recv[QS_STREAM_COUNT]; /* indexed by enum qs_stream */
};

struct qs_cfg_loader {
	struct qs_cfg_loc loc;
	char clickhouse[QS_CFG_MAX_URLS][QS_CFG_PATH];
	unsigned nclickhouse;
	char user[64], password[128], password_file[QS_CFG_PATH];
	int auth_headers;
	char database[64];
	unsigned raw_ttl_hours, agg_ttl_days, dedup_window;
	char archive[QS_CFG_PATH];
	unsigned insert_processes, insert_rows, memory_limit; /* memory_limit: MiB */
	unsigned compression;         /* 0 none, 1 gzip, 2 zstd, 3 auto (as enum loader_compress) */
	unsigned format;              /* 0 rowbinary, 1 csv, 2 native (as enum loader_format) */
	unsigned settle_seconds;
	char tls_ca_file[QS_CFG_PATH], insert_settings[512];
	unsigned compression_level, rescan_seconds, retry_max_seconds, timeout_seconds, max_groups, agg_spill_runs;
	unsigned traffic_dir_def_mode, subscriber_filter_mode, subscriber_exclude_mode;
	unsigned ulr_replace_login_with_vchannel, ulr_use_dic_when_replacing_login;
	unsigned nat_import_from_fullflow, nat_agg_log_fields_to_save_bitmask, nat_agg_log_group_time_interval;
	unsigned fullflow_agg_period, clickstream_agg_period;
	char fullflow_agg_keys[QS_CFG_PATH], clickstream_agg_keys[QS_CFG_PATH];
	char metrics[64];
};

struct qs_cfg_db {
	struct qs_cfg_loc loc;
	int enabled;                  /* false: an external ClickHouse; no qoestor-db unit */
	char listen[64], path[QS_CFG_PATH], user[64], password[128], password_file[QS_CFG_PATH];
	char libchdb[QS_CFG_PATH], timezone[64];
	char clickhouse_config[QS_CFG_PATH]; /* ClickHouse server config for the engine (storage_configuration) */
	unsigned long long max_body, spill_at;
	unsigned max_connections;
};

struct qs_cfg_dicts {
	struct qs_cfg_loc loc;
	char dir[QS_CFG_PATH];
	int urlcats_autoload;         /* URLS_CATEGORIES_DIC_AUTOLOAD_ENABLED */
	char urlcats_url[QS_CFG_PATH], urlcats_host_url[QS_CFG_PATH];
	int asnum_autoload;           /* ASNUM_DIC_AUTOLOAD_ENABLED */
	char asnum_url[QS_CFG_PATH];
	int vchannel_name_autoload;   /* ULR_VCHANNEL_NAME_DIC_AUTOLOAD_ENABLED */
	char vchannel_name_url[QS_CFG_PATH]; /* ULR_VCHANNEL_NAME_DIC_URL */
};

struct qs_cfg_storage {
	struct qs_cfg_loc loc;
	int hot_cold;                 /* use the storage policy and TTL moves */
	char policy[64], cold_volume[64];
	unsigned move_after_days;
};

struct qs_cfg_paths {
	struct qs_cfg_loc loc;
	char spool[QS_CFG_PATH], ie_file[QS_CFG_PATH], log_dir[QS_CFG_PATH];
	unsigned log_level;
};

/* Where a key's value was written (for messages about several keys). */
struct qs_cfg_mark {
	const void *addr;
	unsigned line, col;
};
#define QS_CFG_MAX_MARKS 1024

struct qs_config {
	char file[QS_CFG_PATH];       /* the file it came from ("" = defaults only) */
	struct qs_cfg_mark marks[QS_CFG_MAX_MARKS];
	unsigned nmarks;
	struct qs_cfg_dpi dpis[QS_CFG_MAX_DPIS];
	unsigned ndpis;
	struct qs_cfg_loader loader;
	struct qs_cfg_db db;
	struct qs_cfg_dicts dicts;
	struct qs_cfg_storage storage;
	struct qs_cfg_paths paths;
};

/* The default configuration: the manual's default .env (DPI 0 with the four
 * streams on 1500..1503, TCP) and every other key at its default. */
void qs_config_defaults(struct qs_config *c);

/* Read and check path (NULL or "-": stdin). Keys absent from the file keep
 * their defaults; a file without `receivers:` gets the default DPI 0.
 * Returns the number of problems found (0 = usable config); each is one line
 * in err ("FILE:LINE:COL: key: what is wrong; what is accepted"), truncated to
 * errlen. A missing or unreadable file is one problem naming the file. */
int qs_config_load(const char *path, struct qs_config *c, char *err, size_t errlen);

/* The same from a buffer (tests, fuzzing); name is used in messages. */
int qs_config_load_buf(const char *name, const char *buf, size_t len, struct qs_config *c, char *err,
		       size_t errlen);

/* Fill computed defaults and run the cross-key checks (duplicate DPI ids,
 * duplicate ports, password and password_file both set, missing password
 * file, aggregation periods, ...). qs_config_load calls it; callers that
 * change a config by hand (import-env) call it again. Returns the number of
 * problems, appended to err (which must hold a string). */
int qs_config_check(struct qs_config *c, char *err, size_t errlen);

/* Notices about settings that are valid but have no effect yet or are risky
 * (one line each, appended to out). Returns how many. */
int qs_config_notices(const struct qs_config *c, char *out, size_t outlen);

/* The receiver of stream s of the DPI with id dpi, or NULL when that
 * receiver is not configured. */
const struct qs_cfg_receiver *qs_config_receiver(const struct qs_config *c, unsigned dpi, enum qs_stream s);

/* Parse "<stream>-<dpi>" (the unit instance). 0 ok, -1 if malformed. */
int qs_config_parse_instance(const char *inst, enum qs_stream *s, unsigned *dpi);

#endif

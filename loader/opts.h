/* opts.h: the loader's settings, as one table.
 *
 * Every setting has a command-line name (--traffic-dir-def-mode), the vendor
 * manual's .env key where one exists (TRAFFIC_DIR_DEF_MODE, same values, same
 * meaning), a type, a range, a default and one line of documentation. The
 * command line (main.c), --help and, later, the YAML config all go through
 * loader_opt_set, so a key is parsed and checked in one place.
 *
 * Pure functions over a struct loader_config the caller owns; strings set
 * from arguments are borrowed (argv outlives the config). Not thread-safe
 * while being filled; read-only afterwards.
 */
#ifndef QOESTOR_LOADER_OPTS_H
#define QOESTOR_LOADER_OPTS_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

#include "ch/ch.h"
#include "schema/ddl.h"
#include "schema/schema.h"

/* INSERT body compression; LC_AUTO: loader_compress decides. */
enum loader_compress { LC_NONE, LC_GZIP, LC_ZSTD, LC_AUTO };
/* INSERT body format (encoder.h). */
enum loader_format { LF_ROWBINARY, LF_CSV, LF_NATIVE };

struct loader_config {
	/* ClickHouse */
	const char *urls[CH_MAX_URLS];
	size_t nurls;
	const char *user, *password, *password_file;
	int auth_headers;
	const char *tls_ca_file;       /* https: CA certificates (PEM); NULL: the system's */
	const char *database;          /* qoestor */
	unsigned raw_ttl_hours;        /* 24; 0 forever */
	unsigned agg_ttl_days;         /* 0 forever */
	unsigned dedup_window;         /* non_replicated_deduplication_window (10000) */
	const char *storage_policy;    /* hot/cold: the server's storage policy; NULL = its default */
	const char *cold_volume;       /* volume old parts move to ("cold") */
	unsigned move_after_days;      /* 0 = no moves */
	/* spool */
	const char *spool_dir;
	const char *dict_dir;          /* NULL: no dictionaries (every lookup misses) */
	const char *archive_dir;       /* NULL: delete loaded files */
	unsigned insert_processes;     /* parallel inserts overall (2) */
	unsigned stream_processes[QS_STREAM_COUNT]; /* IPFIX_<S>_DUMP_INSERT_PROCESSES; 0 = no own limit */
	unsigned memory_limit_mib;     /* the memory budget, MiB (200): loader_insert_rows, loader_max_groups */
	unsigned insert_rows;          /* rows per INSERT; 0 auto (loader_insert_rows) */
	enum loader_format format;     /* rowbinary */
	const char *insert_settings;   /* extra URL parameters of every INSERT, or NULL */
	enum loader_compress compress; /* auto (loader_compress) */
	unsigned compress_level;       /* 1 */
	unsigned rescan_s;             /* periodic rescan (10) */
	unsigned settle_s;             /* an incomplete file is waited for this long after its last change (60) */
	unsigned retry_max_s;          /* longest back-off between retries (60) */
	unsigned timeout_s;            /* one HTTP request (300) */
	unsigned max_groups;           /* aggregate groups per file before a flush; 0 auto (loader_max_groups) */
	unsigned agg_spill_runs;       /* sorted runs of groups spilled per file before a flush (16; 0 none) */
	/* enrichment: the manual's .env keys */
	unsigned traffic_dir_def_mode, subscriber_filter_mode, subscriber_exclude_mode;
	unsigned ulr_replace_login, ulr_use_dic;
	unsigned nat_import_from_fullflow;
	unsigned nat_agg_bitmask, nat_agg_interval_min;
	/* aggregation */
	unsigned fullflow_agg_period_min, clickstream_agg_period_min;
	const char *fullflow_agg_keys, *clickstream_agg_keys; /* comma lists; NULL = every key */
	/* modes */
	const char *metrics_listen;    /* "127.0.0.1:9465"; NULL = off */
	int once, ignore_ready, init_db, print_ddl, no_init, verbose;
	char *url_copies[CH_MAX_URLS];  /* owned: urls point into these */
	size_t ncopies;
};

/* Fill c with the defaults. */
void loader_config_defaults(struct loader_config *c);
/* Free what loader_opt_set copied (the URL lists). */
void loader_config_free(struct loader_config *c);

/* The schema parameters (retention, hot/cold storage, dedup window) the
 * configuration asks for: what --init-db and the daemon's start-up apply. */
void loader_ddl_params(const struct loader_config *c, struct qs_ddl_params *p);

/* Set the setting called name (a long option name without "--", or a manual
 * key such as TRAFFIC_DIR_DEF_MODE) from text; value is borrowed. Returns 0,
 * or -1 with a message naming the setting and the accepted values in err. */
int loader_opt_set(struct loader_config *c, const char *name, const char *value, char *err, size_t errlen);

/* The memory budget. --memory-limit (default 200 MiB) bounds the loader's
 * resident memory whatever the backlog and the data: the process's base
 * (~16 MiB) plus, per insert process, a fixed ~22 MiB (spool reader blocks,
 * the encoders' staging and spill buffers, HTTP client, thread) and what
 * remains for the process's aggregate groups (--max-groups 0, the default:
 * ~384 bytes each on worst-case data, at most 262144). Insert bodies do not
 * count: an encoder keeps at most about 2 x LOADER_SPILL_AT of a body in
 * memory and moves the rest to an unlinked file in loader_spill_dir (the
 * spool directory), sent from there (ch_insert_fd); so inserts can be large
 * (--insert-rows 0, the default: LOADER_AUTO_ROWS), which is what costs
 * ClickHouse least CPU per row: each INSERT is sent as one block
 * (max_insert_block_size and min_insert_block_size_rows set to the insert's
 * rows), so one part, and parts of ~4M rows (~150 MB) merge at most once
 * under the raw tables' 256 MiB merge cap (1M-row parts were rewritten ~1.5
 * times). ClickHouse holds such a block in memory while it writes it (about
 * 1 GB for fullflow). With the defaults (2 processes) that is
 * 185,000 groups per process, 4 processes get 60,000. An explicit
 * --max-groups wins over the budget. A limit below 16 + 24 MiB per process
 * is not met (the fixed parts and the minimum of 1000 groups remain). */
#define LOADER_SPILL_AT (2u << 20)
#define LOADER_AUTO_ROWS 4194304u
/* Aggregate groups per worker before a flush: --max-groups or the budget's. */
unsigned loader_max_groups(const struct loader_config *c);
/* Rows per insert: --insert-rows, or LOADER_AUTO_ROWS. */
unsigned loader_insert_rows(const struct loader_config *c);
/* The body compression in use: --compression, or for auto (the default)
 * none when every ClickHouse URL is loopback (127.0.0.0/8, [::1], localhost:
 * compression only costs CPU on both sides there; bodies spill to files, so
 * plain ones cost no memory) and zstd otherwise. */
enum loader_compress loader_compress(const struct loader_config *c);
/* Where insert bodies spill: the spool directory, else $TMPDIR or /var/tmp. */
const char *loader_spill_dir(const struct loader_config *c);
/* Checks across settings (period divides 15 min, known aggregate keys ...).
 * 0 or -1 with a message. */
int loader_config_check(const struct loader_config *c, char *err, size_t errlen);

/* getopt_long table of every setting (static storage; name, has_arg, NULL,
 * val = 1000 + index). loader_opt_name(val) gives the name back. */
const struct option *loader_getopt_table(void);
const char *loader_opt_name(int val);

/* The settings' part of --help. */
void loader_opts_usage(FILE *f);

#endif

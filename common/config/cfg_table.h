/* cfg_table.h: the table of every key of qoestor.yaml (internal to common/config).
 *
 * A section is a list of keys; a key has a type, its place in the section's
 * struct (offset), a range, a default as text (parsed by the same setter as
 * the file's values, so defaults are checked like input), the vendor manual's
 * .env key where one exists, and one line of documentation. Keys whose
 * default depends on the stream or the DPI have def = NULL and are filled in
 * by qs_config_check. Every section struct starts with a struct qs_cfg_loc.
 * The tables are const and safe to read from any thread.
 */
#ifndef QOESTOR_CONFIG_CFG_TABLE_H
#define QOESTOR_CONFIG_CFG_TABLE_H

#include <stddef.h>

#include "config/config.h"

enum cfg_type {
	CT_UINT,    /* unsigned (uint32): decimal or 0x hex, min..max */
	CT_U64,     /* unsigned long long, min..max */
	CT_BOOL,    /* true/false (also yes/no, on/off, 1/0); stored as int */
	CT_STR,     /* text, size bytes with the NUL; no control characters */
	CT_PATH,    /* absolute path ("" allowed when min == 0); no whitespace */
	CT_ENUM,    /* one of choices ("tcp|udp"); stored as unsigned index */
	CT_ADDR,    /* numeric IPv4 or IPv6 address */
	CT_HOSTPORT,/* ADDR:PORT or [V6]:PORT, "" allowed when min == 0 */
	CT_URLS,    /* sequence (or comma list) of http(s):// URLs */
	CT_EXPORTS, /* sequence (or comma list) of ip/port/proto */
	CT_SECTION, /* a mapping parsed with sub */
	CT_LIST     /* a sequence of mappings parsed with sub (receivers) */
};

struct cfg_section;

struct cfg_key {
	const char *name;
	enum cfg_type type;
	size_t off;
	size_t size;                  /* CT_STR/CT_PATH/CT_ADDR/CT_HOSTPORT: buffer size */
	unsigned long long min, max;
	const char *def;              /* default as text; NULL: computed (see above) */
	const char *env;              /* the manual's .env key ("IPFIX_%s_PORT" for receivers) */
	const char *choices;          /* CT_ENUM */
	const struct cfg_section *sub;/* CT_SECTION, CT_LIST */
	size_t count_off;             /* CT_LIST: offset of the unsigned entry count (max = capacity) */
	const char *doc;
};

struct cfg_section {
	const char *name;
	const struct cfg_key *keys;
	size_t nkeys;
	size_t size;                  /* sizeof the section struct */
	const char *doc;              /* paragraph for the reference and the docs */
};

/* The top-level section (the whole file). */
extern const struct cfg_section cfg_root;
/* The section of one receiver and of one DPI entry. */
extern const struct cfg_section cfg_receiver_section;
extern const struct cfg_section cfg_dpi_section;

/* The key called name in s, or NULL. */
const struct cfg_key *cfg_find(const struct cfg_section *s, const char *name);

/* Set key k in the struct at base from text v. 0, or -1 with "what is wrong;
 * what is accepted" in err (without the key's name: the caller adds where).
 * Scalars only (not CT_SECTION/CT_LIST); CT_URLS and CT_EXPORTS append. */
int cfg_set(const struct cfg_key *k, void *base, const char *v, char *err, size_t errlen);

/* Apply every key's default to the struct at base (sections recursively;
 * computed keys get QS_CFG_UNSET or ""). */
void cfg_defaults(const struct cfg_section *s, void *base);

/* Format the value of scalar key k at base as YAML text into out (quoted
 * when needed; lists as [a, b]). */
void cfg_format(const struct cfg_key *k, const void *base, char *out, size_t outlen);

/* One-line description of the type and range ("integer 1..65535"). */
void cfg_describe(const struct cfg_key *k, char *out, size_t outlen);

/* Empty a list key (CT_URLS, CT_EXPORTS) before a file's value replaces the default. */
void cfg_clear_list(const struct cfg_key *k, void *base);

/* The computed defaults of receiver r of stream s under DPI d, for every
 * computed key still QS_CFG_UNSET or "" (port, listen, rotation, delay). */
void cfg_receiver_computed(const struct qs_cfg_dpi *d, enum qs_stream s, struct qs_cfg_receiver *r);

/* Problems found while loading: one line each in buf ("FILE:LINE:COL: ..."),
 * counted in n; lines that do not fit are counted but dropped. */
struct cfg_errs {
	char *buf;
	size_t len;
	int n;
	const char *file;
};

void cfg_err(struct cfg_errs *e, unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Remember where the value at addr was written (for cross-key messages), and
 * find it again: 1 and line/col, or 0 when the value came from a default. */
void cfg_mark(struct qs_config *c, const void *addr, unsigned line, unsigned col);
int cfg_where(const struct qs_config *c, const void *addr, unsigned *line, unsigned *col);

#endif

/* dict_table.h: the table of every dictionary qoestor knows (names, columns, types, keys,
 * ClickHouse layout), expanded once from dicts.def.
 *
 * The parser and validator (dict_parse.h), the loader's lookups (dict_store.h), the
 * ClickHouse DDL (dict_sql.h) and docs/DICTIONARIES.md all read this table; nothing
 * else names a dictionary or one of its columns. Immutable; safe from any thread.
 */
#ifndef QOESTOR_DICT_TABLE_H
#define QOESTOR_DICT_TABLE_H

#include <stddef.h>

/* How a column is written in a file and held once parsed. */
enum dict_type {
	DT_U16,  /* unsigned decimal, 0..65535 */
	DT_U32,  /* unsigned decimal, 0..4294967295 */
	DT_U64,  /* unsigned decimal, 0..18446744073709551615 */
	DT_BOOL, /* 0 or 1 */
	DT_STR,  /* any UTF-8 text without control characters; may be empty */
	DT_HOST, /* host name: non-empty, no spaces or control characters; folded to lower case */
	DT_IP,   /* one IPv4 or IPv6 address */
	DT_CIDR, /* IPv4 or IPv6 address or CIDR; host bits must be zero */
	DT_MAC   /* empty, or a MAC: aa:bb:cc:dd:ee:ff, aa-bb-.., aabb.ccdd.eeff, aabbccddeeff */
};

/* The ClickHouse layout of the dictionary. */
enum dict_layout {
	DL_HASHED,         /* one unsigned key: LAYOUT(HASHED) */
	DL_HASHED_HIER,    /* one unsigned key and a DC_PARENT column: HASHED + HIERARCHICAL */
	DL_IP_TRIE,        /* one DT_CIDR key (longest prefix): LAYOUT(IP_TRIE) */
	DL_IP_EXACT,       /* one DT_IP key (exact address): an IPv6 key (IPv4 v4-mapped),
	                    * LAYOUT(COMPLEX_KEY_HASHED_ARRAY), ~5x faster to load than IP_TRIE */
	DL_COMPLEX_HASHED  /* a string or composite key: LAYOUT(COMPLEX_KEY_HASHED) */
};

#define DC_KEY 0x1u     /* part of the key (keys are unique) */
#define DC_OPT 0x2u     /* may be left out at the end of a line (then empty / 0) */
#define DC_PARENT 0x4u  /* hierarchical parent: 0 = none, else a key of the same file */
#define DC_NONZERO 0x8u /* 0 is not a valid value */

struct dict_column {
	const char *name;
	enum dict_type type;
	unsigned flags;
	const char *doc;
};

#define DICT(n, layout, doc) DICT_##n,
#define COL(n, t, f, doc)
#define END(n)
enum dict_id {
#include "dict/dicts.def"
	DICT_COUNT
};
#undef DICT
#undef COL
#undef END

struct dict_def {
	enum dict_id id;
	const char *name; /* "subnets_local_dic": file <name>.txt, ClickHouse qoestor.<name> */
	enum dict_layout layout;
	const char *doc;
	const struct dict_column *cols;
	size_t ncols;
};

/* The definition of one dictionary; never NULL for id < DICT_COUNT. */
const struct dict_def *dict_def(enum dict_id id);

/* Look a dictionary up by name ("subnets_local_dic"); NULL when unknown. */
const struct dict_def *dict_def_by_name(const char *name);

/* Index of the column called name in def, or -1. */
int dict_column_index(const struct dict_def *def, const char *name);

/* Number of columns every line must have: those before the first DC_OPT one. */
size_t dict_nrequired(const struct dict_def *def);

/* Index of the first DC_KEY column, or -1 (every table entry has one). */
int dict_key_column(const struct dict_def *def);

/* Short name of a type ("cidr", "u64", ...), for messages and docs. */
const char *dict_type_name(enum dict_type t);

/* What a valid value of the type looks like, for error messages and docs. */
const char *dict_type_expect(enum dict_type t);

/* Name of a layout as ClickHouse spells it ("IP_TRIE"). */
const char *dict_layout_name(enum dict_layout l);

#endif

/* dict_table.c: expands dicts.def into the const table declared in dict_table.h. */
#include "dict/dict_table.h"

#include <string.h>

/* Pass 1: one column array per dictionary. */
#define DICT(n, layout, doc) static const struct dict_column n##_cols[] = {
#define COL(n, t, f, doc) { #n, t, f, doc },
#define END(n) };
#include "dict/dicts.def"
#undef DICT
#undef COL
#undef END

/* Pass 2: the dictionaries. */
#define DICT(n, layout, doc) { DICT_##n, #n, layout, doc, n##_cols, sizeof n##_cols / sizeof n##_cols[0] },
#define COL(n, t, f, doc)
#define END(n)
static const struct dict_def dict_defs[DICT_COUNT] = {
#include "dict/dicts.def"
};
#undef DICT
#undef COL
#undef END

size_t dict_nrequired(const struct dict_def *d)
{
	size_t i = 0;
	while (i < d->ncols && !(d->cols[i].flags & DC_OPT))
		i++;
	return i;
}

const struct dict_def *dict_def(enum dict_id id)
{
	if ((unsigned)id >= DICT_COUNT)
		return NULL;
	return &dict_defs[id];
}

const struct dict_def *dict_def_by_name(const char *name)
{
	for (unsigned i = 0; i < DICT_COUNT; i++)
		if (strcmp(dict_defs[i].name, name) == 0)
			return dict_def((enum dict_id)i);
	return NULL;
}

int dict_column_index(const struct dict_def *def, const char *name)
{
	for (size_t i = 0; i < def->ncols; i++)
		if (strcmp(def->cols[i].name, name) == 0)
			return (int)i;
	return -1;
}

int dict_key_column(const struct dict_def *def)
{
	for (size_t i = 0; i < def->ncols; i++)
		if (def->cols[i].flags & DC_KEY)
			return (int)i;
	return -1;
}

const char *dict_type_name(enum dict_type t)
{
	switch (t) {
	case DT_U16: return "u16";
	case DT_U32: return "u32";
	case DT_U64: return "u64";
	case DT_BOOL: return "bool";
	case DT_STR: return "string";
	case DT_HOST: return "host";
	case DT_IP: return "ip";
	case DT_CIDR: return "cidr";
	case DT_MAC: return "mac";
	}
	return "?";
}

const char *dict_type_expect(enum dict_type t)
{
	switch (t) {
	case DT_U16: return "an integer 0..65535";
	case DT_U32: return "an integer 0..4294967295";
	case DT_U64: return "an integer 0..18446744073709551615";
	case DT_BOOL: return "0 or 1";
	case DT_STR: return "UTF-8 text without control characters";
	case DT_HOST: return "a host name without spaces";
	case DT_IP: return "an IPv4 or IPv6 address such as 10.0.0.1 or 2001:db8::1";
	case DT_CIDR: return "an IPv4 or IPv6 address or CIDR such as 10.0.0.0/8 or 2001:db8::/32";
	case DT_MAC: return "a MAC address such as 00:11:22:aa:bb:cc, or nothing";
	}
	return "?";
}

const char *dict_layout_name(enum dict_layout l)
{
	switch (l) {
	case DL_HASHED: return "HASHED";
	case DL_HASHED_HIER: return "HASHED";
	case DL_IP_TRIE: return "IP_TRIE";
	case DL_IP_EXACT: return "COMPLEX_KEY_HASHED_ARRAY";
	case DL_COMPLEX_HASHED: return "COMPLEX_KEY_HASHED";
	}
	return "?";
}

# common/dict/module.mk: the dictionaries (table, parser, validator, lookups) and qoestor-dict.
COMMON_SRCS += common/dict/dict_table.c common/dict/dict_value.c common/dict/dict_map.c \
	common/dict/dict_parse.c common/dict/dict_lpm.c \
	common/dict/dict_watch.c common/dict/dict_store.c \
	common/dict/dict_sql.c common/dict/dict_ch.c common/dict/dict_fetch.c

PROGRAMS += qoestor-dict
qoestor-dict_SRCS := tools/qoestor-dict.c

UNIT_TESTS += test_dict_parse
test_dict_parse_SRCS := test/unit/test_dict_parse.c

UNIT_TESTS += test_dict_lookup
test_dict_lookup_SRCS := test/unit/test_dict_lookup.c

UNIT_TESTS += test_dict_store
test_dict_store_SRCS := test/unit/test_dict_store.c

FUZZERS += fuzz_dict_parse
fuzz_dict_parse_SRCS := test/fuzz/fuzz_dict_parse.c

PROGRAMS += bench-dict
bench-dict_SRCS := tools/bench-dict.c

UNIT_TESTS += test_dict_fetch
test_dict_fetch_SRCS := test/unit/test_dict_fetch.c
test_dict_fetch_WRAP := rename fsync

# common/ch/module.mk: ClickHouse SQL quoting and the HTTP client.
COMMON_SRCS += common/ch/chsql.c common/ch/ch.c

UNIT_TESTS += test_schema_ch
test_schema_ch_SRCS := test/unit/test_schema_ch.c

FUZZERS += fuzz_schema_chsql
fuzz_schema_chsql_SRCS := test/fuzz/fuzz_schema_chsql.c

UNIT_TESTS += test_chsql_tsv
test_chsql_tsv_SRCS := test/unit/test_chsql_tsv.c

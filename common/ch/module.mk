# common/ch/module.mk: ClickHouse SQL quoting and the HTTP client.
COMMON_SRCS += common/ch/chsql.c common/ch/ch.c

# db/module.mk: qoestor-db, the embedded ClickHouse (libchdb behind ClickHouse's HTTP interface).
PROGRAMS += qoestor-db
qoestor-db_SRCS := db/main.c db/engine.c db/server.c db/body.c db/sqlscan.c

# Where qoestor-db looks for libchdb when neither --libchdb nor LIBCHDB is given:
# the verified copy tools/deps.sh installed (a packager overrides LIBCHDB_DEFAULT).
LIBCHDB_DEFAULT ?= $(shell sh tools/deps.sh --print-libchdb)
$(O)/obj/db/main.o: CFLAGS_ALL += -DQOESTOR_LIBCHDB_DEFAULT='"$(LIBCHDB_DEFAULT)"'

UNIT_TESTS += test_db_sqlscan test_db_body
test_db_sqlscan_SRCS := test/unit/test_db_sqlscan.c db/sqlscan.c
test_db_body_SRCS := test/unit/test_db_body.c db/body.c

FUZZERS += fuzz_db_body
fuzz_db_body_SRCS := test/fuzz/fuzz_db_body.c db/body.c db/sqlscan.c

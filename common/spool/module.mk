# common/spool/module.mk: the spool file format library (writer, reader,
# salvage), the qoestor-spool tool, its unit test, fuzz target and benchmark.
COMMON_SRCS += common/spool/spool_format.c common/spool/spool_reader.c common/spool/spool_io.c \
	common/spool/spool_salvage.c common/spool/spool.c

UNIT_TESTS += test_spool
test_spool_SRCS := test/unit/test_spool.c
test_spool_WRAP := write

PROGRAMS += qoestor-spool
qoestor-spool_SRCS := tools/qoestor-spool.c

PROGRAMS += bench-spool
bench-spool_SRCS := tools/bench-spool.c

FUZZERS += fuzz_spool_reader
fuzz_spool_reader_SRCS := test/fuzz/fuzz_spool_reader.c

# receiver/module.mk: qoestor-recv (IPFIX receiver), its decoder tests and fuzz target.
RECV_DECODE_SRCS := receiver/decode.c receiver/copyplan.c receiver/netflow.c

UNIT_TESTS += test_decode
test_decode_SRCS := test/unit/test_decode.c test/unit/ipfix_builder.c $(RECV_DECODE_SRCS)
RECV_DECODE_SRCS += receiver/frame.c

FUZZERS += fuzz_ipfix_decode
fuzz_ipfix_decode_SRCS := test/fuzz/fuzz_ipfix_decode.c $(RECV_DECODE_SRCS)

PROGRAMS += qoestor-ipfixgen
qoestor-ipfixgen_SRCS := tools/qoestor-ipfixgen.c

PROGRAMS += qoestor-recv
qoestor-recv_SRCS := receiver/recv.c receiver/recv_opts.c receiver/recv_metrics.c \
	receiver/recv_export.c $(RECV_DECODE_SRCS)

# receiver/module.mk: qoestor-recv (IPFIX receiver), its decoder tests and fuzz target.
RECV_DECODE_SRCS := receiver/decode.c

UNIT_TESTS += test_decode
test_decode_SRCS := test/unit/test_decode.c test/unit/ipfix_builder.c $(RECV_DECODE_SRCS)

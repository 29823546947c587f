# common/module.mk: the leaf modules every program links (build/<variant>/libqoestor.a).
COMMON_SRCS += common/log.c common/netaddr.c common/utf8.c

UNIT_TESTS += test_netaddr
test_netaddr_SRCS := test/unit/test_netaddr.c

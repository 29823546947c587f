# common/module.mk: the leaf modules every program links (build/<variant>/libqoestor.a).
COMMON_SRCS += common/log.c

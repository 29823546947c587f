# common/schema/module.mk: the schema table (linked into everything), the DDL
# and docs generator behind `make sql`, and their tests.
COMMON_SRCS += common/schema/schema.c

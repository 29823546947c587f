# loader/module.mk: qoestor-loader (for now: --init-db and --print-ddl).
PROGRAMS += qoestor-loader
qoestor-loader_SRCS := loader/main.c loader/initdb.c

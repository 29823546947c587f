# loader/module.mk: qoestor-loader (the daemon, --once, --init-db), its unit
# tests and the spool generator used by its tests and benchmarks.
LOADER_SRCS := loader/initdb.c loader/opts.c loader/encoder.c loader/enrich.c loader/agg.c \
	loader/spooldir.c loader/metrics.c loader/load.c loader/daemon.c

PROGRAMS += qoestor-loader
qoestor-loader_SRCS := loader/main.c $(LOADER_SRCS)

PROGRAMS += qoestor-spoolgen
qoestor-spoolgen_SRCS := tools/qoestor-spoolgen.c

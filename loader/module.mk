# loader/module.mk: qoestor-loader (the daemon, --once, --init-db), its unit
# tests and the spool generator used by its tests and benchmarks.
LOADER_SRCS := loader/initdb.c loader/opts.c loader/encoder.c loader/enrich.c loader/agg.c \
	loader/spooldir.c loader/metrics.c loader/load.c loader/daemon.c

PROGRAMS += qoestor-loader
qoestor-loader_SRCS := loader/main.c $(LOADER_SRCS)

PROGRAMS += qoestor-spoolgen
qoestor-spoolgen_SRCS := tools/qoestor-spoolgen.c

UNIT_TESTS += test_loader_encoder
test_loader_encoder_SRCS := test/unit/test_loader_encoder.c loader/encoder.c loader/agg.c

UNIT_TESTS += test_loader_agg
test_loader_agg_SRCS := test/unit/test_loader_agg.c loader/agg.c

UNIT_TESTS += test_loader_enrich
test_loader_enrich_SRCS := test/unit/test_loader_enrich.c loader/enrich.c loader/encoder.c

UNIT_TESTS += test_loader_opts
test_loader_opts_SRCS := test/unit/test_loader_opts.c loader/opts.c

# common/config/module.mk: qoestor.yaml (table-driven parser, checks, printers,
# .env import, command lines), the qoestor-config tool, their tests and fuzz targets.
CONFIG_SRCS := common/config/cfg_table.c common/config/cfg_yaml.c common/config/config.c common/config/cfg_cmdline.c \
	common/config/config_print.c common/config/cfg_args.c common/config/cfg_env.c
COMMON_SRCS += $(CONFIG_SRCS)

PROGRAMS += qoestor-config
qoestor-config_SRCS := tools/qoestor-config.c tools/qoestor-config-apply.c

UNIT_TESTS += test_config
test_config_SRCS := test/unit/test_config.c

# The generated command lines against the programs' own option tables.
UNIT_TESTS += test_config_args
test_config_args_SRCS := test/unit/test_config_args.c receiver/recv_opts.c loader/opts.c

FUZZERS += fuzz_config fuzz_config_env
fuzz_config_SRCS := test/fuzz/fuzz_config.c
fuzz_config_env_SRCS := test/fuzz/fuzz_config_env.c

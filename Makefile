# Makefile: the one, non-recursive build of qoestor.
#
# Each top-level folder has a module.mk that adds its sources, programs, tests
# and fuzz targets to the variables below; this file holds the rules.
#
#   make            release build; every binary in bin/
#   make deps       install Debian packages and the pinned libchdb (tools/deps.sh)
#   make check      deps, build, every test (release, then ASan+UBSan), fuzz regressions
#   make run        deps, build, start qoestor-db, the loader and the default receivers
#   make bench      benchmarks; results go to docs/PERFORMANCE.md by hand, with the command
#   make sql        regenerate sql/qoestor.sql and docs/SCHEMA.md from common/schema
#
# Variants build into separate trees: VARIANT=release (bin/, build/release),
# VARIANT=asan (build/asan), VARIANT=fuzz (build/fuzz, clang + libFuzzer).

.DEFAULT_GOAL := all

VARIANT ?= release
O := build/$(VARIANT)

ifeq ($(VARIANT),release)
BINDIR := bin
else
BINDIR := $(O)/bin
endif

PKGS := libfixbuf yaml-0.1 libcurl libzstd libuv libmicrohttpd zlib libdeflate
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN := -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-unused-parameter -Werror
BASE_CFLAGS := $(WARN) -D_GNU_SOURCE -I. -Icommon -MMD -MP -g

ifeq ($(VARIANT),release)
CC ?= cc
OPT := -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong
SAN :=
else ifeq ($(VARIANT),asan)
OPT := -O1 -fno-omit-frame-pointer
SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
else ifeq ($(VARIANT),fuzz)
CC := clang
OPT := -O1 -fno-omit-frame-pointer -DQOESTOR_FUZZ
SAN := -fsanitize=fuzzer-no-link,address,undefined
endif

CFLAGS_ALL := $(BASE_CFLAGS) $(OPT) $(SAN) $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS_ALL := $(SAN) $(LDFLAGS)
LDLIBS_ALL := $(PKG_LIBS) -lpthread -ldl -lm $(LDLIBS)

# Filled in by the module.mk files.
COMMON_SRCS :=     # sources of build/$(VARIANT)/libqoestor.a, linked into everything
PROGRAMS :=        # program names; each sets <name>_SRCS (and optional <name>_LIBS)
UNIT_TESTS :=      # cmocka test names; each sets <name>_SRCS (and optional <name>_WRAP)
FUZZERS :=         # libFuzzer targets; each sets <name>_SRCS; corpus in test/fuzz/<name>/
INTEG_TESTS :=     # integration test scripts (test/integration/*.sh)

include $(sort $(wildcard */module.mk */*/module.mk))

COMMON_OBJS := $(patsubst %.c,$(O)/obj/%.o,$(COMMON_SRCS))
COMMON_LIB := $(O)/libqoestor.a

.PHONY: all deps run check check-release check-asan check-fuzz bench sql sql-check clean \
	unit integ fuzz-build stop

all: $(addprefix $(BINDIR)/,$(PROGRAMS))

# Quiet by default: `make V=1` prints the commands.
ifeq ($(V),1)
Q :=
else
Q := @
endif

$(O)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $(VARIANT) $<")
	$(Q)$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(COMMON_LIB): $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

define program_rule
$(BINDIR)/$(1): $$(patsubst %.c,$(O)/obj/%.o,$$($(1)_SRCS)) $(COMMON_LIB)
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  LD      $$@")
	$$(Q)$$(CC) $$(LDFLAGS_ALL) -o $$@ $$^ $$($(1)_LIBS) $$(LDLIBS_ALL)
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rule,$(p))))

define unit_rule
$(O)/test/$(1): $$(patsubst %.c,$(O)/obj/%.o,$$($(1)_SRCS)) $(COMMON_LIB)
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  LD      $$@")
	$$(Q)$$(CC) $$(LDFLAGS_ALL) -o $$@ $$^ $$(addprefix -Wl$$(comma)--wrap=,$$($(1)_WRAP)) \
		$$($(1)_LIBS) $$(CMOCKA_LIBS) $$(LDLIBS_ALL)
endef
comma := ,
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_rule,$(t))))

define fuzz_rule
$(O)/fuzz/$(1): $$(patsubst %.c,$(O)/obj/%.o,$$($(1)_SRCS)) $(COMMON_LIB)
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  LD      $$@")
	$$(Q)$$(CC) $$(LDFLAGS_ALL) -fsanitize=fuzzer -o $$@ $$^ $$($(1)_LIBS) $$(LDLIBS_ALL)
endef
ifeq ($(VARIANT),fuzz)
$(foreach f,$(FUZZERS),$(eval $(call fuzz_rule,$(f))))
endif

unit: $(addprefix $(O)/test/,$(UNIT_TESTS))
fuzz-build: $(addprefix $(O)/fuzz/,$(FUZZERS))

# ---- dependencies -----------------------------------------------------------
# deps runs when a needed library, tool or libchdb is missing.
DEPS_STAMP_OK := $(shell pkg-config --exists $(PKGS) cmocka 2>/dev/null && \
	command -v ipfixDump >/dev/null && command -v tshark >/dev/null && \
	command -v softflowd >/dev/null && command -v nfcapd >/dev/null && \
	command -v pmacctd >/dev/null && command -v tcpreplay >/dev/null && command -v zstd >/dev/null && \
	command -v clang >/dev/null && test -r "$$(sh tools/deps.sh --print-libchdb)" && echo ok)

deps:
	sh tools/deps.sh

ensure-deps:
ifneq ($(DEPS_STAMP_OK),ok)
	sh tools/deps.sh
endif

# ---- run ----------------------------------------------------------------------
run: ensure-deps
	$(MAKE) all
	sh tools/run.sh start

stop:
	sh tools/run.sh stop

# ---- checks -------------------------------------------------------------------
# check: everything CI runs. The test runner prints one "N passed, N failed" line
# per suite and a final one; it exits non-zero when anything failed.
check: ensure-deps
	$(MAKE) --no-print-directory all
	$(MAKE) --no-print-directory VARIANT=asan all unit
	$(MAKE) --no-print-directory VARIANT=fuzz fuzz-build
	$(MAKE) --no-print-directory unit
	sh test/run.sh

bench: ensure-deps
	$(MAKE) all
	sh tools/bench.sh

clean:
	rm -rf build bin

-include $(shell find $(O) -name '*.d' 2>/dev/null)

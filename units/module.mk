# units/module.mk: the systemd units, `make units-verify` and `make install`.
#
#   make install [DESTDIR=/tmp/x] [PREFIX=/usr/local] [SYSCONFDIR=/etc] [UNITDIR=/etc/systemd/system]
#
# installs the programs, the units, the configuration (never over an existing
# one: the new reference goes next to it as qoestor.yaml.new), the schema, the
# IPFIX information elements, the sample dictionaries, libchdb and the docs;
# then, without DESTDIR and as root, creates the user and the folders
# (systemd-sysusers / systemd-tmpfiles, or useradd and install -d). The tree is
# documented in docs/INSTALL.md (test/integration/ops-install.sh checks it).
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
UNITDIR ?= $(SYSCONFDIR)/systemd/system
INST_BINDIR := $(PREFIX)/bin
INST_DATADIR := $(PREFIX)/share/qoestor
INST_DOCDIR := $(PREFIX)/share/doc/qoestor
INST_LIBDIR := $(PREFIX)/lib/qoestor
UNIT_FILES := qoestor-recv@.service qoestor-loader.service qoestor-db.service \
	qoestor-dict-watch.service qoestor-dict-refresh.service qoestor-dict-refresh.timer qoestor.target
INSTALL_PROGRAMS := $(filter qoestor-recv qoestor-loader qoestor-db qoestor-config qoestor-dict \
	qoestor-spool qoestor-schema,$(PROGRAMS))

# Units with the paths filled in: build/units/<prefix-hash-free name>.
UNITS_OUT ?= build/units
UNIT_SED = sed -e 's|@BINDIR@|$(UNIT_BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	-e 's|@DOCDIR@|$(INST_DOCDIR)|g'

.PHONY: install units-verify units
units: UNIT_BINDIR = $(INST_BINDIR)
units:
	@mkdir -p $(UNITS_OUT)
	@for u in $(UNIT_FILES) qoestor.sysusers qoestor.tmpfiles; do \
		$(UNIT_SED) units/$$u.in > $(UNITS_OUT)/$$u.tmp && mv $(UNITS_OUT)/$$u.tmp $(UNITS_OUT)/$$u; done

# units-verify: systemd-analyze verify on the units, pointed at this tree's
# binaries (verify checks that ExecStart exists), template as an instance.
units-verify: bin/qoestor-config
	@command -v systemd-analyze >/dev/null || { echo "units-verify: systemd-analyze is missing (make deps installs the systemd package)"; exit 1; }
	rm -rf build/units-verify && mkdir -p build/units-verify
	@for u in $(UNIT_FILES); do \
		sed -e 's|@BINDIR@|$(CURDIR)/bin|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@DOCDIR@|$(CURDIR)/docs|g' \
			units/$$u.in > build/units-verify/$$u || exit 1; done
	cp build/units-verify/qoestor-recv@.service build/units-verify/qoestor-recv@fullflow-0.service
	@test -x bin/qoestor-dict || { echo "units-verify: bin/qoestor-dict is not built (make bin/qoestor-dict)"; exit 1; }
	cd build/units-verify && SYSTEMD_LOG_TARGET=console SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no \
		qoestor-recv@fullflow-0.service qoestor-loader.service qoestor-db.service \
		qoestor-dict-watch.service qoestor-dict-refresh.service qoestor-dict-refresh.timer qoestor.target 2>&1 | \
		tee verify.log; ! grep -q . verify.log
	@echo "units-verify: ok ($(words $(UNIT_FILES)) units)"

install: all
	$(MAKE) --no-print-directory units UNITS_OUT=build/units-install
	install -d $(DESTDIR)$(INST_BINDIR) $(DESTDIR)$(INST_DATADIR)/dictionaries $(DESTDIR)$(INST_DOCDIR) \
		$(DESTDIR)$(SYSCONFDIR)/qoestor $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/sysusers.d \
		$(DESTDIR)$(SYSCONFDIR)/tmpfiles.d $(DESTDIR)$(INST_LIBDIR)
	install -m 0755 $(addprefix bin/,$(INSTALL_PROGRAMS)) $(DESTDIR)$(INST_BINDIR)/
	for u in $(UNIT_FILES); do install -m 0644 build/units-install/$$u $(DESTDIR)$(UNITDIR)/$$u || exit 1; done
	install -m 0644 build/units-install/qoestor.sysusers $(DESTDIR)$(SYSCONFDIR)/sysusers.d/qoestor.conf
	install -m 0644 build/units-install/qoestor.tmpfiles $(DESTDIR)$(SYSCONFDIR)/tmpfiles.d/qoestor.conf
	install -m 0644 sql/qoestor.sql dictionaries/vasexperts-ie.xml $(DESTDIR)$(INST_DATADIR)/
	install -m 0644 dictionaries/*.sample.txt $(DESTDIR)$(INST_DATADIR)/dictionaries/
	install -m 0644 docs/*.md $(DESTDIR)$(INST_DOCDIR)/
	@if [ -r "$(LIBCHDB_DEFAULT)" ]; then \
		echo "install libchdb $(LIBCHDB_DEFAULT) -> $(INST_LIBDIR)/libchdb.so"; \
		install -m 0644 "$(LIBCHDB_DEFAULT)" $(DESTDIR)$(INST_LIBDIR)/libchdb.so; \
	else echo "install: WARNING: no libchdb at $(LIBCHDB_DEFAULT) (run make deps); qoestor-db will not start"; fi
	sed -e 's|/usr/share/qoestor/|$(INST_DATADIR)/|' -e 's|^  libchdb: ""|  libchdb: $(INST_LIBDIR)/libchdb.so|' \
		conf/qoestor.yaml > build/units-install/qoestor.yaml
	@# The reference must pass the check (the installed copy names files under DESTDIR's root).
	bin/qoestor-config check conf/qoestor.yaml >/dev/null
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/qoestor/qoestor.yaml ]; then \
		echo "install: keeping $(SYSCONFDIR)/qoestor/qoestor.yaml; the new reference is qoestor.yaml.new"; \
		install -m 0640 build/units-install/qoestor.yaml $(DESTDIR)$(SYSCONFDIR)/qoestor/qoestor.yaml.new; \
	else install -m 0640 build/units-install/qoestor.yaml $(DESTDIR)$(SYSCONFDIR)/qoestor/qoestor.yaml; fi
	@# Folders of the default configuration (tmpfiles.d creates them again at boot).
	install -d -m 0750 $(DESTDIR)/var/lib/qoestor $(DESTDIR)/var/lib/qoestor/db \
		$(DESTDIR)/var/qoestor/backend/dump $(DESTDIR)/var/log/qoestor
	install -d -m 0755 $(DESTDIR)/var/lib/qoestor/applied $(DESTDIR)/var/qoestor/backend/etc/db
	for f in dictionaries/*.sample.txt; do install -m 0644 $$f $(DESTDIR)/var/qoestor/backend/etc/db/ || exit 1; done
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then sh units/install-user.sh "$(SYSCONFDIR)"; \
	else echo "install: DESTDIR set or not root: the user 'qoestor' is created at package install by" \
		"systemd-sysusers ($(SYSCONFDIR)/sysusers.d/qoestor.conf)"; fi
	@echo "install: done. Next: edit $(SYSCONFDIR)/qoestor/qoestor.yaml, then qoestor-config apply (docs/INSTALL.md)"

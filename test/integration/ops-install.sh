#!/bin/sh
# ops-install.sh: `make install DESTDIR=...` produces the tree documented in
# docs/INSTALL.md (every path of its table exists; the units have their paths
# filled in), the installed qoestor.yaml passes `qoestor-config check`, a
# second install keeps an edited config (new one as .yaml.new), and `make
# units-verify` passes while systemd-analyze does reject a broken unit.
. "$(dirname "$0")/../lib.sh"
command -v systemd-analyze > /dev/null || fail "systemd-analyze is missing: make deps (package systemd)"
R="$T/root"
make -s -C "$top" install DESTDIR="$R" PREFIX=/usr > "$T/install.log" 2>&1 || { tail -20 "$T/install.log"; fail "make install failed"; }

note "the documented tree"
for p in /usr/bin/qoestor-recv /usr/bin/qoestor-loader /usr/bin/qoestor-db /usr/bin/qoestor-config /usr/bin/qoestor-dict \
	/usr/share/qoestor/qoestor.sql /usr/share/qoestor/vasexperts-ie.xml \
	/usr/share/qoestor/dictionaries/subscribers_dic.sample.txt /usr/share/doc/qoestor/INSTALL.md \
	/etc/qoestor/qoestor.yaml /etc/systemd/system/qoestor-recv@.service /etc/systemd/system/qoestor-loader.service \
	/etc/systemd/system/qoestor-db.service /etc/systemd/system/qoestor-dict-refresh.service \
	/etc/systemd/system/qoestor-dict-refresh.timer /etc/systemd/system/qoestor.target \
	/etc/sysusers.d/qoestor.conf /etc/tmpfiles.d/qoestor.conf /var/lib/qoestor/db /var/lib/qoestor/applied \
	/var/qoestor/backend/dump /var/qoestor/backend/etc/db /var/log/qoestor; do
	[ -e "$R$p" ] || fail "make install did not create $p"
	case "$p" in /usr/bin/*|/etc/systemd/*|/etc/qoestor/*|/var/*)
		grep -q "${p##*/}" "$top/docs/INSTALL.md" || fail "docs/INSTALL.md does not mention $p" ;; esac
done
[ -x "$R/usr/bin/qoestor-config" ] || fail "programs are not executable"
grep -q "^ExecStart=/usr/bin/qoestor-config exec recv %i$" "$R/etc/systemd/system/qoestor-recv@.service" || fail "unit paths not filled in"
! grep -rq "@[A-Z]*@" "$R/etc/systemd/system" || fail "a placeholder is left in the units"
grep -q "^u qoestor " "$R/etc/sysusers.d/qoestor.conf" || fail "sysusers entry"

note "the installed configuration passes check (its paths looked up under DESTDIR)"
sed "s|: /usr/|: $R/usr/|" "$R/etc/qoestor/qoestor.yaml" > "$T/installed.yaml"
grep -q "ie_file: $R/usr/share/qoestor/vasexperts-ie.xml" "$T/installed.yaml" || fail "ie_file does not point into PREFIX"
[ -r "$R/usr/lib/qoestor/libchdb.so" ] && { grep -q "libchdb: $R/usr/lib/qoestor/libchdb.so" "$T/installed.yaml" || fail "libchdb path"; }
"$QOESTOR_BIN/qoestor-config" check "$T/installed.yaml" > /dev/null 2> "$T/check.err" || { cat "$T/check.err"; fail "installed config refused"; }

note "a second install keeps an edited configuration"
echo "# edited" >> "$R/etc/qoestor/qoestor.yaml"
make -s -C "$top" install DESTDIR="$R" PREFIX=/usr > "$T/install2.log" 2>&1 || fail "second make install failed"
tail -1 "$R/etc/qoestor/qoestor.yaml" | grep -q "# edited" || fail "the edited qoestor.yaml was overwritten"
[ -e "$R/etc/qoestor/qoestor.yaml.new" ] || fail "no qoestor.yaml.new"
rm -rf "$R"

note "units-verify passes; a broken unit is caught"
make -s -C "$top" units-verify > "$T/verify.log" 2>&1 || { cat "$T/verify.log"; fail "make units-verify failed"; }
sed 's/^Restart=on-failure/Restart=sometimes/' "$top/build/units-verify/qoestor-loader.service" > "$T/broken.service"
(cd "$T" && SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no broken.service) > "$T/broken.log" 2>&1 || true
grep -qi "restart" "$T/broken.log" || { cat "$T/broken.log"; fail "systemd-analyze did not report the broken unit"; }
echo "ops-install: ok"

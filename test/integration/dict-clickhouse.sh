#!/bin/sh
# dict-clickhouse.sh: the dictionaries in ClickHouse, through qoestor-dict and the real
# engine (qoestor-db). Every sample loads and answers dictGet (subnets for IPv4 and IPv6
# inside and outside the prefixes, /8 and ::/0, the switch hierarchy, subscribers, crc,
# host categories); the manual's commands work; `qoestor-dict watch` makes an edit live
# within seconds whether the file is rewritten in place, renamed over or copied; a broken
# edit keeps the previous data queryable and logs FILE:LINE:COLUMN; a fixed file is live again.
. "$(dirname "$0")/../lib.sh"

D="$QOESTOR_BIN/qoestor-dict"
start_db
mkdir -p "$T/dicts"
for f in "$top"/dictionaries/*.sample.txt; do
	cp "$f" "$T/dicts/$(basename "$f" .sample.txt).txt"
done

note "load every sample"
rc=0
"$D" load "$T/dicts" --clickhouse "$DB_URL" >"$T/load.log" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || { cat "$T/load.log"; fail "qoestor-dict load exited $rc"; }
for f in "$T"/dicts/*.txt; do
	n=$(basename "$f" .txt)
	rows=$(grep -cv '^#' "$f")
	expect_eq "$(q "SELECT status, element_count, last_exception FROM system.dictionaries WHERE database = 'qoestor' AND name = '$n' FORMAT CSV")" \
		"\"LOADED\",$rows,\"\"" "$n in system.dictionaries"
done
expect_eq "$(q "SELECT count() FROM system.dictionaries WHERE database = 'qoestor'")" 12 "dictionaries"

g() { # dictGetString on subnets_local_dic for an address
	case "$1" in *:*) k="toIPv6('$1')" ;; *) k="toIPv4('$1')" ;; esac
	q "SELECT dictGetString('qoestor.subnets_local_dic', 'name', tuple($k))"
}
note "subnet lookups, IPv4 and IPv6, inside and outside"
expect_eq "$(g 192.168.1.77)" LOCAL "inside 192.168.1.0/24"
expect_eq "$(g 192.168.2.1)" "" "outside 192.168.1.0/24"
expect_eq "$(g 172.16.0.0)" LOCAL "bare 172.16.0.0 is a /32"
expect_eq "$(g 172.16.0.1)" "" "next to the /32"
expect_eq "$(g 2a02:2168:aaa:bbb::2)" LOCAL "IPv6 host address"
expect_eq "$(g 2a02:2168:aaa:bbb::3)" "" "next to the IPv6 host address"
expect_eq "$(g 2001:db8:1234::1)" LOCAL "inside 2001:db8::/32"
expect_eq "$(g 2001:db9::1)" "" "outside 2001:db8::/32"
expect_eq "$(q "SELECT dictHas('qoestor.subnets_local_dic', tuple(toIPv4('10.64.66.200')))")" 1 "dictHas"

note "the other dictionaries"
expect_eq "$(q "SELECT dictGetHierarchy('qoestor.switches_dic', toUInt64(5))")" "[5,4,3,1]" "switch hierarchy walk"
expect_eq "$(q "SELECT dictGetString('qoestor.switches_dic', 'upstream_port', toUInt64(4))")" "port1" "upstream port"
expect_eq "$(q "SELECT dictGetString('qoestor.subscribers_dic', 'login', tuple(toIPv4('10.64.66.102'))), dictGetString('qoestor.subscribers_dic', 'mac', tuple(toIPv4('10.64.66.102')))")" \
	"$(printf 'login102\t00:11:22:33:44:02')" "subscriber by IPv4"
expect_eq "$(q "SELECT dictGetString('qoestor.subscribers_dic', 'login', tuple(toIPv6('2001:db8:1::100')))")" "login6" "subscriber by IPv6"
expect_eq "$(q "SELECT dictGetUInt64('qoestor.crc_dic', 'crc', tuple(toUInt64(5), 'port_2'))")" 500 "crc by switch and port"
expect_eq "$(q "SELECT dictGetString('qoestor.protocols_dic', 'name', toUInt16(3))")" dns "protocol name"
expect_eq "$(q "SELECT dictGetString('qoestor.asnum_dic', 'name', toUInt32(15169))")" GOOGLE "AS name"
expect_eq "$(q "SELECT dictGetString('qoestor.urlcats_dic', 'name', dictGetUInt16('qoestor.urlcats_host_dic', 'category_id', tuple('vk.com')))")" \
	"Social networks" "host category"

note "the manual's commands"
expect_eq "$(q "SELECT count() FROM (SELECT * FROM qoestor.subnets_local_dic)")" 5 "select * from qoestor.subnets_local_dic"
q "SYSTEM RELOAD DICTIONARIES" >/dev/null
expect_eq "$(q "SELECT countIf(status = 'LOADED') FROM system.dictionaries WHERE database = 'qoestor'")" 12 "after system reload dictionaries"

note "large prefixes: /8 and ::/0 (no per-entry address limit)"
printf '10.0.0.0/8\tTEN\n::/0\tALL6\n0.0.0.0/1\tLOWHALF\n' >"$T/dicts/subnets_exclude_dic.txt"
"$D" load "$T/dicts" --clickhouse "$DB_URL" >>"$T/load.log" 2>&1 || fail "load with large prefixes"
expect_eq "$(q "SELECT dictGetString('qoestor.subnets_exclude_dic', 'name', tuple(toIPv4('10.200.1.1'))), dictGetString('qoestor.subnets_exclude_dic', 'name', tuple(toIPv4('11.0.0.1'))), dictGetString('qoestor.subnets_exclude_dic', 'name', tuple(toIPv6('fe80::1')))")" \
	"$(printf 'TEN\tLOWHALF\tALL6')" "/8, /1 and ::/0"

note "watch: edits are live within seconds"
bg watch "$D" watch "$T/dicts" --clickhouse "$DB_URL" --debounce 100
wait_for 30 grep -q "subnets_local_dic: 5 entries are live" "$T/watch.log" || { cat "$T/watch.log"; fail "watch did not load"; }
is() { [ "$(g "$1")" = "$2" ]; }
# rewrite in place
printf '192.168.1.0/24\tLOCAL\n10.64.67.0/24\tINPLACE\n' >"$T/dicts/subnets_local_dic.txt"
wait_for 15 is 10.64.67.9 INPLACE || fail "in-place rewrite not live: '$(g 10.64.67.9)'"
expect_eq "$(g 172.16.0.0)" "" "removed entry gone"
# editor-style save: temporary file renamed over
printf '10.64.67.0/24\tRENAMED\n2001:db8::/32\tV6\n' >"$T/dicts/.subnets.swp"
mv "$T/dicts/.subnets.swp" "$T/dicts/subnets_local_dic.txt"
wait_for 15 is 10.64.67.9 RENAMED || fail "rename-over not live: '$(g 10.64.67.9)'"
# copy over
printf '10.64.67.0/24\tCOPIED\n' >"$T/copy.txt"
cp "$T/copy.txt" "$T/dicts/subnets_local_dic.txt"
wait_for 15 is 10.64.67.9 COPIED || fail "copy not live: '$(g 10.64.67.9)'"

note "a broken edit keeps the previous data and says where"
printf '10.64.67.0/24\tBROKEN\n10.64.68.0/24 SPACES\n' >"$T/dicts/subnets_local_dic.txt"
wait_for 15 grep -q "subnets_local_dic.txt:2:1: expected 2 columns separated by a tab, found 1: did you use spaces?" "$T/watch.log" ||
	{ cat "$T/watch.log"; fail "no FILE:LINE message for the broken edit"; }
expect_eq "$(g 10.64.67.9)" COPIED "previous data after a broken edit"
expect_eq "$(q "SELECT status FROM system.dictionaries WHERE name = 'subnets_local_dic'")" LOADED "still loaded"
set +e
"$D" check "$T/dicts/subnets_local_dic.txt" >"$T/check.out" 2>&1
rc=$?
set -e
expect_eq "$rc" 1 "qoestor-dict check exit code on the broken file"
grep -q "subnets_local_dic.txt:2:1: expected 2 columns" "$T/check.out" || fail "check output: $(cat "$T/check.out")"
printf '10.64.67.0/24\tFIXED\n10.64.68.0/24\tSPACES\n' >"$T/dicts/subnets_local_dic.txt"
wait_for 15 is 10.64.68.1 SPACES || fail "fixed file not live: '$(g 10.64.68.1)'"
expect_eq "$(g 10.64.67.9)" FIXED "fixed file"

note "an empty file means no entries"
: >"$T/dicts/subnets_local_dic.txt"
wait_for 15 is 10.64.67.9 "" || fail "empty file not live"
expect_eq "$(q "SELECT element_count FROM system.dictionaries WHERE name = 'subnets_local_dic'")" 0 "empty"
! grep -E "error|warning" "$T/watch.log" | grep -v "subnets_local_dic.txt" || fail "unexpected errors in the watch log"
note "ok"

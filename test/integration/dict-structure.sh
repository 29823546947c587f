#!/bin/sh
# dict-structure.sh: a dictionary whose structure changed is recreated by the next
# upload, atomically and once. The test builds what an older qoestor-dict left behind
# (subscribers_dic as IP_TRIE over a String column, asnum_dic with a column less and no
# structure token), uploads the samples with the current qoestor-dict, and checks the
# new layouts and types, the answers, `select *`, that no _new object is left, and that a
# second upload (`load --config qoestor.yaml`) recreates nothing.
. "$(dirname "$0")/../lib.sh"

D="$QOESTOR_BIN/qoestor-dict"
start_db
mkdir -p "$T/dicts"
for f in "$top"/dictionaries/*.sample.txt; do
	cp "$f" "$T/dicts/$(basename "$f" .sample.txt).txt"
done

note "the previous structure, with data"
q "CREATE DATABASE qoestor" >/dev/null
q "CREATE TABLE qoestor.subscribers_dic_data (ip String, login String, switch_id UInt64, switch_port String, device_vendor String, cable String, contract String, services String, mac String) ENGINE = MergeTree ORDER BY tuple()" >/dev/null
q "INSERT INTO qoestor.subscribers_dic_data (ip, login) VALUES ('10.64.66.100', 'OLD')" >/dev/null
q "CREATE DICTIONARY qoestor.subscribers_dic (ip String, login String DEFAULT '', switch_id UInt64 DEFAULT 0, switch_port String DEFAULT '', device_vendor String DEFAULT '', cable String DEFAULT '', contract String DEFAULT '', services String DEFAULT '', mac String DEFAULT '') PRIMARY KEY ip SOURCE(CLICKHOUSE(TABLE 'subscribers_dic_data' DB 'qoestor')) LAYOUT(IP_TRIE()) LIFETIME(0)" >/dev/null
q "CREATE TABLE qoestor.asnum_dic_data (asn UInt64) ENGINE = MergeTree ORDER BY tuple()" >/dev/null
q "INSERT INTO qoestor.asnum_dic_data VALUES (15169)" >/dev/null
q "CREATE DICTIONARY qoestor.asnum_dic (asn UInt64) PRIMARY KEY asn SOURCE(CLICKHOUSE(TABLE 'asnum_dic_data' DB 'qoestor')) LAYOUT(HASHED()) LIFETIME(0)" >/dev/null
login() { q "SELECT dictGetString('qoestor.subscribers_dic', 'login', tuple(toIPv4('$1')))"; }
expect_eq "$(login 10.64.66.100)" OLD "old structure answers"
expect_eq "$(q "SELECT type FROM system.dictionaries WHERE name = 'subscribers_dic'")" Trie "old layout"

note "one upload recreates what changed"
rc=0
"$D" load "$T/dicts" --clickhouse "$DB_URL" >"$T/load1.log" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || { cat "$T/load1.log"; fail "qoestor-dict load exited $rc"; }
for n in subscribers_dic asnum_dic; do
	grep -q "dictionary $n: .* entries are live .*, (re)created" "$T/load1.log" ||
		{ cat "$T/load1.log"; fail "$n was not recreated"; }
done
expect_eq "$(q "SELECT status, type, element_count, last_exception FROM system.dictionaries WHERE name = 'subscribers_dic' FORMAT CSV")" \
	'"LOADED","ComplexHashedArray",8,""' "subscribers_dic recreated"
expect_eq "$(q "SELECT type FROM system.columns WHERE database = 'qoestor' AND table = 'subscribers_dic_data' AND name = 'ip'")" IPv6 "backing column type"
expect_eq "$(login 10.64.66.100)" login100 "new data through tuple(IPv4)"
expect_eq "$(q "SELECT dictGetString('qoestor.subscribers_dic', 'login', tuple(toIPv6('::ffff:10.64.66.101')))")" login101 "tuple(v4-mapped IPv6)"
expect_eq "$(q "SELECT dictGetString('qoestor.subscribers_dic', 'login', toIPv6('2001:db8:1::100'))")" login6 "IPv6 key without tuple"
expect_eq "$(q "SELECT dictGetString('qoestor.subscribers_dic', 'login', tuple(toIPv4('10.64.66.99')))")" "" "absent address"
expect_eq "$(q "SELECT count(), countIf(ip = toIPv6('10.64.66.102') AND login = 'login102' AND mac = '00:11:22:33:44:02') FROM (SELECT * FROM qoestor.subscribers_dic)")" \
	"$(printf '8\t1')" "select * from qoestor.subscribers_dic"
expect_eq "$(q "SELECT dictGetString('qoestor.asnum_dic', 'name', toUInt32(15169))")" GOOGLE "asnum_dic has its name column again"
expect_eq "$(q "SELECT count() FROM system.tables WHERE database = 'qoestor' AND name LIKE '%\\_new'")" 0 "no _new objects left"
expect_eq "$(q "SELECT count() FROM system.dictionaries WHERE database = 'qoestor' AND status = 'LOADED'")" 12 "all loaded"

note "a second upload changes nothing more (this time configured by qoestor.yaml)"
printf 'loader:\n  clickhouse: [%s]\n  database: qoestor\ndictionaries:\n  dir: %s\n' "$DB_URL" "$T/dicts" >"$T/qoestor.yaml"
"$D" load --config "$T/qoestor.yaml" >"$T/load2.log" 2>&1 || fail "second load: $(cat "$T/load2.log")"
expect_eq "$(grep -c 'entries are live' "$T/load2.log")" 12 "every dictionary uploaded again"
! grep -q "(re)created" "$T/load2.log" || fail "recreated again: $(grep '(re)created' "$T/load2.log")"
expect_eq "$(login 10.64.66.100)" login100 "still answers"
note "ok"

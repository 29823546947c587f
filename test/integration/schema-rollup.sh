#!/bin/sh
# schema-rollup.sh: fullflow_agg regroups its rows by age (TTL GROUP BY).
#
# Rows 10 days old (past the 30-min age, 7 d) and 40 days old (past the
# 1-h age, 30 d) and recent rows go into qoestor.fullflow_agg as the loader
# inserts them (15-min buckets, partial aggregates); OPTIMIZE ... FINAL runs
# the TTL merge; the 10-day rows must be 30-min buckets, the 40-day rows one
# 1-h bucket, the recent rows untouched, and every total exact. Without the
# TTL rules the row counts differ, so the check fails. Then the same with a
# cold volume and a retention (TTL moves and DELETE next to the rules), and
# --init-db run twice reports 0 changes.
. "$(dirname "$0")/../lib.sh"

start_db
L="$QOESTOR_BIN/qoestor-loader"
"$L" --clickhouse "$DB_URL" --init-db > "$T/init1.log" 2>&1 || { cat "$T/init1.log"; fail "--init-db failed"; }
"$L" --clickhouse "$DB_URL" --init-db > "$T/init2.log" 2>&1 || { cat "$T/init2.log"; fail "second --init-db failed"; }
grep -q "up to date: 0 changes, 0 warnings" "$T/init2.log" || { cat "$T/init2.log"; fail "second --init-db made changes"; }

expect_eq "$(q "SELECT engine FROM system.tables WHERE database='qoestor' AND name='fullflow_agg'")" \
	AggregatingMergeTree "fullflow_agg is a table"
q "SELECT engine_full FROM system.tables WHERE database='qoestor' AND name='fullflow_agg'" \
	| grep -q "ttl_only_drop_parts = 1" && fail "fullflow_agg has ttl_only_drop_parts = 1 (TTL GROUP BY needs 0)"

# hour h of day D days ago, minute m: an instant in UTC
at() { echo "toStartOfDay(now() - INTERVAL $1 DAY) + INTERVAL 16 HOUR + INTERVAL $2 MINUTE"; }

rows() {
	q "INSERT INTO qoestor.fullflow_agg (time, login, host, octets, records, rtt_max) VALUES
 ($(at 10 15), 'alice', 'g', 2, 1, 5),
 ($(at 10 45), 'alice', 'g', 4, 1, 7),
 ($(at 10 45), 'alice', 'g', 8, 2, 9),
 ($(at 10 53), 'alice', 'g', 1, 1, 3),
 ($(at 10 53), 'bob', 'g', 100, 1, 1),
 ($(at 40 15), 'alice', 'g', 16, 1, 4),
 ($(at 40 45), 'alice', 'g', 32, 3, 6),
 ($(at 40 30), 'bob', 'g', 64, 1, 2),
 (toStartOfInterval(now() - INTERVAL 1 HOUR, INTERVAL 15 MINUTE), 'alice', 'g', 128, 1, 1),
 (toStartOfInterval(now() - INTERVAL 1 HOUR, INTERVAL 15 MINUTE) + 900, 'alice', 'g', 256, 1, 1)" >/dev/null
}

check() { # $1: what
	q "OPTIMIZE TABLE qoestor.fullflow_agg FINAL" >/dev/null
	got=$(q "SELECT count(), sum(octets), sum(records), max(rtt_max) FROM qoestor.fullflow_agg FORMAT TSV")
	expect_eq "$got" "$(printf '7\t611\t13\t9')" "$1: rows and totals after the TTL merge"
	got=$(q "SELECT login, dateDiff('minute', toStartOfDay(now() - INTERVAL 10 DAY), time), octets, records, rtt_max
		FROM qoestor.fullflow_agg WHERE time < now() - INTERVAL 9 DAY AND time > now() - INTERVAL 12 DAY
		ORDER BY login, time FORMAT CSV" | tr '\n' ' ')
	expect_eq "$got" '"alice",960,2,1,5 "alice",990,13,4,9 "bob",990,100,1,1 ' "$1: 10-day-old rows in 30-min buckets"
	got=$(q "SELECT login, dateDiff('minute', toStartOfDay(now() - INTERVAL 40 DAY), time), octets, records, rtt_max
		FROM qoestor.fullflow_agg WHERE time < now() - INTERVAL 39 DAY AND time > now() - INTERVAL 42 DAY
		ORDER BY login, time FORMAT CSV" | tr '\n' ' ')
	expect_eq "$got" '"alice",960,48,4,6 "bob",960,64,1,2 ' "$1: 40-day-old rows in one 1-h bucket"
	got=$(q "SELECT count(), sum(octets) FROM qoestor.fullflow_agg WHERE time > now() - INTERVAL 1 DAY FORMAT TSV")
	expect_eq "$got" "$(printf '2\t384')" "$1: recent rows untouched"
}

note "rows 10 and 40 days old regroup to 30-min and 1-h buckets, totals exact"
rows
check "default rules"

note "late rows for regrouped buckets regroup at the next TTL merge"
q "INSERT INTO qoestor.fullflow_agg (time, login, host, octets, records, rtt_max) VALUES
 ($(at 10 50), 'alice', 'g', 1000, 1, 1), ($(at 40 5), 'bob', 'g', 1000, 1, 50)" >/dev/null
q "OPTIMIZE TABLE qoestor.fullflow_agg FINAL" >/dev/null
got=$(q "SELECT count(), sum(octets), sum(records), max(rtt_max) FROM qoestor.fullflow_agg FORMAT TSV")
expect_eq "$got" "$(printf '7\t2611\t15\t50')" "late rows merged into their buckets"

note "a retention next to the rules: --agg-ttl-days 35 deletes the 40-day-old rows, keeps the rest"
"$L" --clickhouse "$DB_URL" --init-db --agg-ttl-days 35 > "$T/ttl.log" 2>&1 || { cat "$T/ttl.log"; fail "--agg-ttl-days 35 failed"; }
grep -q "changed the retention of qoestor.fullflow_agg" "$T/ttl.log" || { cat "$T/ttl.log"; fail "retention change not reported"; }
"$L" --clickhouse "$DB_URL" --init-db --agg-ttl-days 35 > "$T/ttl2.log" 2>&1 || { cat "$T/ttl2.log"; fail "second --agg-ttl-days 35 failed"; }
grep -q "up to date: 0 changes, 0 warnings" "$T/ttl2.log" || { cat "$T/ttl2.log"; fail "second run with a retention made changes"; }
q "SELECT engine_full FROM system.tables WHERE database='qoestor' AND name='fullflow_agg'" \
	| grep -q "ttl_only_drop_parts = 1" && fail "fullflow_agg has ttl_only_drop_parts = 1 with a retention"
q "OPTIMIZE TABLE qoestor.fullflow_agg FINAL" >/dev/null
got=$(q "SELECT count(), sum(octets), sum(records) FROM qoestor.fullflow_agg FORMAT TSV")
expect_eq "$got" "$(printf '5\t1499\t9')" "rows after the 35-day retention (10-day-old and recent rows)"

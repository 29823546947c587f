#!/bin/sh
# schema-initdb.sh: qoestor-loader --init-db against the real qoestor-db over HTTP.
#
# Creates the schema, runs --init-db again and checks nothing changed (the
# program's own "0 changes" and system.tables before/after), lists the
# tables, loads fullflow and clickstream rows as CSV and runs the manual's
# three troubleshooting/report queries exactly as written. Then migration:
# a dropped column comes back, an extra column is reported, a retention
# change is applied. Failover past a dead URL, basic and header auth, and
# the exit code for an unreachable ClickHouse.
. "$(dirname "$0")/../lib.sh"

start_db
L="$QOESTOR_BIN/qoestor-loader"

note "first --init-db creates everything"
"$L" --clickhouse "$DB_URL" --init-db > "$T/init1.log" 2>&1 || { cat "$T/init1.log"; fail "first --init-db exited $?"; }
grep -q "created database qoestor" "$T/init1.log" || fail "first run did not report creating the database"
grep -q "changes, 0 warnings" "$T/init1.log" || { cat "$T/init1.log"; fail "first run reported warnings"; }

snapshot() { q "SELECT name, create_table_query FROM system.tables WHERE database = 'qoestor' ORDER BY name FORMAT TSV"; }
snapshot > "$T/before.tsv"

note "second --init-db changes nothing"
"$L" --clickhouse "$DB_URL" --init-db > "$T/init2.log" 2>&1 || { cat "$T/init2.log"; fail "second --init-db failed"; }
grep -q "up to date: 0 changes, 0 warnings" "$T/init2.log" || { cat "$T/init2.log"; fail "second run made changes"; }
snapshot > "$T/after.tsv"
cmp -s "$T/before.tsv" "$T/after.tsv" || { diff "$T/before.tsv" "$T/after.tsv" | head; fail "system.tables changed on the second run"; }

note "SHOW TABLES lists the raw tables, the aggregates and the view"
tables=$(q "SHOW TABLES FROM qoestor" | tr '\n' ' ')
for t in fullflow clickstream natflow gtpflow dnsflow fullflow_agg fullflow_agg_15m fullflow_agg_30m \
	fullflow_agg_1h clickstream_agg natflow_agg; do
	case " $tables" in *" $t "*) ;; *) fail "SHOW TABLES FROM qoestor lacks $t: $tables" ;; esac
done

note "every table and column of the committed sql/qoestor.sql exists"
# The committed DDL is what --init-db created (same generator, defaults).
n_sql=$(grep -c '^CREATE TABLE' "$top/sql/qoestor.sql")
n_db=$(q "SELECT count() FROM system.tables WHERE database = 'qoestor' AND engine LIKE '%MergeTree'")
expect_eq "$n_db" "$n_sql" "MergeTree tables in qoestor vs CREATE TABLE in sql/qoestor.sql"

note "retention 0 = keep forever (the manual's 2018 rows would expire at once under 24 h)"
"$L" --clickhouse "$DB_URL" --init-db --raw-ttl-hours 0 > "$T/ttl0.log" 2>&1 || { cat "$T/ttl0.log"; fail "--raw-ttl-hours 0 failed"; }
grep -q "removed the retention of qoestor.fullflow" "$T/ttl0.log" || { cat "$T/ttl0.log"; fail "TTL not removed"; }
q "SELECT engine_full FROM system.tables WHERE database='qoestor' AND name='fullflow'" | grep -q " TTL " \
	&& fail "fullflow still has a TTL"

note "load fullflow rows (CSV, explicit columns, times as epoch ms)"
# 2018-10-04 10:00:00.250 UTC = 1538647200250
cat > "$T/ff.csv" <<CSV
1538647200250,1538647201000,1000,10,"10.64.66.100","142.250.74.46",443,51000,"google.com","alice",6
1538647260000,1538647261000,2000,20,"142.250.74.46","10.64.66.100",51000,443,"google.com","alice",6
1538647320000,1538647321000,3000,30,"10.64.66.100","93.184.216.34",443,51001,"example.com","alice",6
1538733600000,1538733601000,4000,40,"10.64.66.100","142.250.74.46",443,51002,"google.com","alice",6
CSV
curl -sS --fail-with-body --data-binary @"$T/ff.csv" \
	"$DB_URL/?query=INSERT%20INTO%20qoestor.fullflow%20(flow_start_ms,flow_end_ms,octets,packets,source_ipv4,destination_ipv4,destination_transport_port,source_transport_port,host,login,protocol_identifier)%20FORMAT%20CSV" \
	|| fail "CSV insert into qoestor.fullflow failed"

note "load clickstream rows"
printf '%s\n' '1538647200,"alice","10.64.66.100","::","1.2.3.4","::","google.com","/"' \
	'1538650800,"bob","10.64.66.101","::","1.2.3.4","::","example.com","/x"' > "$T/cs.csv"
curl -sS --fail-with-body --data-binary @"$T/cs.csv" \
	"$DB_URL/?query=INSERT%20INTO%20qoestor.clickstream%20(time,login,source_ipv4,source_ipv6,destination_ipv4,destination_ipv6,host,path)%20FORMAT%20CSV" \
	|| fail "CSV insert into qoestor.clickstream failed"

note "manual query 1"
got=$(q "select count(), min(flow_start_time), max(flow_start_time) from qoestor.fullflow")
expect_eq "$got" "$(printf '4\t2018-10-04 10:00:00\t2018-10-05 10:00:00')" "manual fullflow check"

note "manual query 2"
got=$(q "select count(), min(time), max(time) from qoestor.clickstream")
expect_eq "$got" "$(printf '2\t2018-10-04 10:00:00\t2018-10-04 11:00:00')" "manual clickstream check"

note "manual query 3 (database=qoestor)"
q "select * from fullflow prewhere flow_start_date = '2018-10-04' where (source_ipv4 = '10.64.66.100' or destination_ipv4 = '10.64.66.100') and host = 'google.com' ORDER BY flow_start_time limit 10 format CSV" \
	"?database=qoestor" > "$T/q3.csv" || fail "manual query 3 failed"
expect_eq "$(wc -l < "$T/q3.csv" | tr -d ' ')" 2 "manual query 3 row count (two google.com flows on 2018-10-04)"
head -n 1 "$T/q3.csv" | grep -q '^"2018-10-04 10:00:00.250","2018-10-04 10:00:01.000","2018-10-04 10:00:00","2018-10-04",1000,' \
	|| fail "manual query 3 first row: $(head -n 1 "$T/q3.csv")"
sed -n 2p "$T/q3.csv" | grep -q '"142.250.74.46",51000,"10.64.66.100"' \
	|| fail "manual query 3 second row: $(sed -n 2p "$T/q3.csv")"

note "times are UTC whatever the session time zone"
got=$(q "select toString(min(flow_start_time)) from qoestor.fullflow" "?session_timezone=Asia/Tokyo")
expect_eq "$got" "2018-10-04 10:00:00" "flow_start_time under session_timezone=Asia/Tokyo"

note "fullflow_agg: rollups and the view combine partial aggregates"
q "INSERT INTO qoestor.fullflow_agg_15m (time, login, host, octets, records, rtt_max) VALUES
 (toStartOfInterval(now() - INTERVAL 10 DAY, INTERVAL 30 MINUTE), 'alice', 'g', 10, 1, 5),
 (toStartOfInterval(now() - INTERVAL 10 DAY, INTERVAL 30 MINUTE) + 900, 'alice', 'g', 20, 1, 7),
 (toStartOfInterval(now() - INTERVAL 1 HOUR, INTERVAL 15 MINUTE), 'alice', 'g', 1, 1, 1),
 (toStartOfInterval(now() - INTERVAL 1 HOUR, INTERVAL 15 MINUTE), 'alice', 'g', 2, 1, 3)" >/dev/null
got=$(q "SELECT count(), sum(octets), sum(records), max(rtt_max) FROM qoestor.fullflow_agg_30m")
expect_eq "$got" "$(printf '2\t33\t4\t7')" "30-min rollup (two 15-min rows of one half hour, plus the recent bucket)"
got=$(q "SELECT count(), sum(s) FROM (SELECT time, sum(octets) AS s FROM qoestor.fullflow_agg WHERE login = 'alice' GROUP BY time)")
expect_eq "$got" "$(printf '2\t33')" "fullflow_agg view: one 30-min bucket 10 days ago, one 15-min bucket now"

note "a retried insert with the same deduplication token is stored once"
for i in 1 2; do
	printf '1538647200,"dedup","10.0.0.1","::","1.2.3.4","::","h","/"\n' | curl -sS --fail-with-body --data-binary @- \
		"$DB_URL/?insert_deduplication_token=file-1-block-0&query=INSERT%20INTO%20qoestor.clickstream%20(time,login,source_ipv4,source_ipv6,destination_ipv4,destination_ipv6,host,path)%20FORMAT%20CSV" \
		|| fail "dedup insert $i failed"
done
expect_eq "$(q "SELECT count() FROM qoestor.clickstream WHERE login = 'dedup'")" 1 "rows after a retried insert"

note "migration: a dropped column is added back, an extra column is reported, retention changes"
# (48 h retention lets the 2018 rows above expire: the queries are done with them.)
q "ALTER TABLE qoestor.fullflow DROP COLUMN host_as" >/dev/null
q "ALTER TABLE qoestor.natflow ADD COLUMN legacy_field UInt8" >/dev/null
# a database made before the raw tables capped their merges, with another dedup window
q "ALTER TABLE qoestor.fullflow MODIFY SETTING max_bytes_to_merge_at_max_space_in_pool = 161061273600" >/dev/null
q "ALTER TABLE qoestor.fullflow_agg_15m MODIFY SETTING non_replicated_deduplication_window = 100000" >/dev/null
"$L" --clickhouse "$DB_URL" --init-db --raw-ttl-hours 48 > "$T/mig.log" 2>&1 || { cat "$T/mig.log"; fail "migration run failed"; }
grep -q "added column qoestor.fullflow.host_as" "$T/mig.log" || { cat "$T/mig.log"; fail "host_as not re-added"; }
grep -q "qoestor.natflow.legacy_field (UInt8) is not in the schema" "$T/mig.log" || { cat "$T/mig.log"; fail "extra column not reported"; }
expect_eq "$(q "SELECT count() FROM system.columns WHERE database='qoestor' AND table='natflow' AND name='legacy_field'")" 1 \
	"the extra column is kept"
q "SELECT engine_full FROM system.tables WHERE database='qoestor' AND name='fullflow'" | grep -q "toIntervalHour(48)" \
	|| fail "fullflow TTL not changed to 48 h"
q "SELECT engine_full FROM system.tables WHERE database='qoestor' AND name='fullflow'" \
	| grep -q "max_bytes_to_merge_at_max_space_in_pool = 268435456" || fail "fullflow merge cap not restored"
q "SELECT engine_full FROM system.tables WHERE database='qoestor' AND name='fullflow_agg_15m'" \
	| grep -Eq "non_replicated_deduplication_window = 10000(,|$)" || fail "fullflow_agg_15m dedup window not restored"
grep -q "changed a setting of qoestor.fullflow: max_bytes_to_merge_at_max_space_in_pool = 268435456" "$T/mig.log" \
	|| { cat "$T/mig.log"; fail "setting change not logged"; }
after=$(q "SELECT name FROM system.columns WHERE database='qoestor' AND table='fullflow' AND position = 41")
expect_eq "$after" host_as "position of the re-added column (after host_ip)"
"$L" --clickhouse "$DB_URL" --init-db --raw-ttl-hours 48 > "$T/mig2.log" 2>&1 || fail "second migration run failed"
grep -q "up to date: 0 changes, 1 warnings" "$T/mig2.log" || { cat "$T/mig2.log"; fail "second migration run not idempotent"; }

note "failover: a dead first URL, then the live one"
dead=$(free_port)
"$L" --clickhouse "http://127.0.0.1:$dead,$DB_URL" --raw-ttl-hours 48 --init-db > "$T/fo.log" 2>&1 \
	|| { cat "$T/fo.log"; fail "--init-db did not fail over to the second URL"; }

note "unreachable ClickHouse: exit 1 naming the URL"
set +e
"$L" --clickhouse "http://127.0.0.1:$dead" --init-db > "$T/dead.log" 2>&1
rc=$?
set -e
expect_eq "$rc" 1 "exit code with ClickHouse unreachable"
grep -q "127.0.0.1:$dead" "$T/dead.log" || { cat "$T/dead.log"; fail "error does not name the URL"; }

note "usage errors exit 2"
set +e
"$L" --init-db > /dev/null 2>&1; rc1=$?
"$L" --bogus > /dev/null 2>&1; rc2=$?
set -e
expect_eq "$rc1" 2 "--init-db without --clickhouse"
expect_eq "$rc2" 2 "unknown option"
"$L" --help | grep -q -- "--init-db" || fail "--help does not mention --init-db"

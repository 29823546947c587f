#!/bin/sh
# loader-crash.sh: exactly once through kill -9 and a ClickHouse outage.
#
# 1. The daemon loads 12 files with small inserts (1000 rows) and one worker;
#    once some rows are in, kill -9. A file must be left in .loading/ (the
#    crash really was in the middle of a file). Restart: the leftover is loaded
#    again first, and the totals are exact: no row lost, none doubled. The
#    restart uses other settings (--max-groups, compression): the leftover is
#    cut as recorded at its claim, so its aggregate tokens match.
# 2. qoestor-db is stopped while the daemon runs; new files arrive; the
#    loader retries (and says so) and keeps them; qoestor-db restarts on the
#    same data; the backlog drains, totals exact. /metrics shows the retries.
# 3. Two loaders on one spool: the second is refused (lock).
. "$(dirname "$0")/../lib.sh"

start_db
L="$QOESTOR_BIN/qoestor-loader"
G="$QOESTOR_BIN/qoestor-spoolgen"
S="$T/spool"
val() { sed -n "s/^$1=//p" "$2"; }
MPORT=$(free_port)

"$G" --spool "$S" --rows 120000 --files 12 --logins 200 --seed 21 --block-rows 1000 > "$T/g1.txt"

note "daemon, kill -9 in the middle of a file"
bg l1 "$L" --spool "$S" --clickhouse "$DB_URL" --insert-rows 1000 --insert-processes 1 --compression none \
	--max-groups 1000
have_rows() { n=$(q "SELECT count() FROM qoestor.fullflow" 2>/dev/null) && [ "${n:-0}" -ge 15000 ]; }
wait_for 60 have_rows || { cat "$T/l1.log"; fail "no rows loaded within 60 s"; }
kill -9 "$l1_pid"
wait "$l1_pid" 2>/dev/null || true
left=$(find "$S" -path '*/.loading/*.qsp' | wc -l)
got=$(q "SELECT count() FROM qoestor.fullflow")
note "killed with $got rows in, $left file(s) in .loading/"
[ "$left" -ge 1 ] || fail "no file was left in .loading/ by the kill (crash not mid-file)"
[ "$got" -lt "$(val rows "$T/g1.txt")" ] || fail "everything was loaded before the kill"

note "restart: the leftover is loaded again, totals exact"
bg l2 "$L" --spool "$S" --clickhouse "$DB_URL" --insert-rows 1000 --insert-processes 2 --metrics "127.0.0.1:$MPORT" \
	--retry-max-seconds 1
spool_empty() { [ -z "$(find "$S" -name '*.qsp' ! -path '*/.quarantine/*')" ]; }
wait_for 120 spool_empty || { cat "$T/l2.log"; find "$S"; fail "backlog not drained after restart"; }
expect_eq "$(q "SELECT count(), sum(octets), sum(packets) FROM qoestor.fullflow FORMAT TSV")" \
	"$(printf '%s\t%s\t%s' "$(val rows "$T/g1.txt")" "$(val sum_octets "$T/g1.txt")" "$(val sum_packets "$T/g1.txt")")" \
	"fullflow totals after kill -9 and restart"
expect_eq "$(q "SELECT sum(records), sum(octets) FROM qoestor.fullflow_agg FORMAT TSV")" \
	"$(printf '%s\t%s' "$(val rows "$T/g1.txt")" "$(val sum_octets "$T/g1.txt")")" "fullflow_agg totals after restart"
expect_eq "$(q "SELECT count() FROM (SELECT flow_start_ms, session_id, octets, login, count() c FROM qoestor.fullflow GROUP BY ALL HAVING c > 1)")" 0 "duplicate rows"

note "lock: a second loader on the same spool is refused"
"$L" --spool "$S" --clickhouse "$DB_URL" --once > "$T/second.log" 2>&1 && fail "a second loader ran on a locked spool"
grep -q "another qoestor-loader" "$T/second.log" || { cat "$T/second.log"; fail "lock message"; }

note "qoestor-db stopped: files wait, retries, restart, drain"
kill "$db_pid"
db_gone() { ! kill -0 "$db_pid" 2>/dev/null; }
wait_for 60 db_gone || fail "qoestor-db did not stop"
"$G" --spool "$S" --rows 30000 --files 3 --logins 50 --seed 22 --instance second > "$T/g2.txt"
retried() { grep -q "retrying in" "$T/l2.log"; }
wait_for 60 retried || { cat "$T/l2.log"; fail "the loader did not report retrying"; }
[ -n "$(find "$S" -name '*.qsp')" ] || fail "files disappeared while ClickHouse was down"
curl -sf "http://127.0.0.1:$MPORT/metrics" > "$T/metrics.txt" || fail "/metrics did not answer"
grep -q '^qoestor_loader_retries_total [1-9]' "$T/metrics.txt" || { cat "$T/metrics.txt"; fail "retries not counted"; }
grep -q '^qoestor_loader_backlog_files [1-9]' "$T/metrics.txt" || fail "backlog not shown"
bg db2 "$QOESTOR_DB_BIN/qoestor-db" --listen "127.0.0.1:$DB_PORT" --path "$T/db"
wait_for 60 curl -sf "$DB_URL/ping" || { cat "$T/db2.log"; fail "qoestor-db did not restart"; }
wait_for 120 spool_empty || { tail "$T/l2.log"; fail "backlog not drained after the outage"; }
want_rows=$(( $(val rows "$T/g1.txt") + $(val rows "$T/g2.txt") ))
want_oct=$(( $(val sum_octets "$T/g1.txt") + $(val sum_octets "$T/g2.txt") ))
expect_eq "$(q "SELECT count(), sum(octets) FROM qoestor.fullflow FORMAT TSV")" "$(printf '%s\t%s' $want_rows $want_oct)" \
	"fullflow totals after the outage"
expect_eq "$(q "SELECT sum(records), sum(octets) FROM qoestor.fullflow_agg FORMAT TSV")" "$(printf '%s\t%s' $want_rows $want_oct)" \
	"fullflow_agg totals after the outage"
curl -sf "http://127.0.0.1:$MPORT/metrics" | grep -q "^qoestor_loader_rows_inserted_total{table=\"fullflow\"} [1-9]" \
	|| fail "rows_inserted metric"
exit 0

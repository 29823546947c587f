#!/bin/sh
# loader-spill.sh: aggregate groups beyond the memory bound spill to sorted
# runs and merge, so one file gives exactly one fullflow_agg row per key.
#
# One fullflow file with many more keys than --max-groups 2000 allows in
# memory. With --agg-spill-runs 64 the loader inserts exactly as many
# aggregate rows as the table holds after a full merge (FINAL): no partial
# rows, the sums, counts and distinct sessions identical to one unbounded
# aggregation. With --agg-spill-runs 0 (the old way: a flush each time the
# memory is full) the same file gives more rows and the same totals. A run
# limit too small (2) gives a few flushes and still exact totals. Nothing is
# left behind in the spool (the spill file is unlinked).
. "$(dirname "$0")/../lib.sh"

start_db
L="$QOESTOR_BIN/qoestor-loader"
G="$QOESTOR_BIN/qoestor-spoolgen"
val() { sed -n "s/^$1=//p" "$2"; }

"$G" --spool "$T/gen" --rows 60000 --files 1 --logins 3000 --seed 31 > "$T/g.txt"
f=$(find "$T/gen" -name '*.qsp')
[ -n "$f" ] || fail "no spool file generated"

# load DB RUNS: --once into database DB with --agg-spill-runs RUNS; prints
# the number of aggregate rows the loader inserted.
load() {
	q "CREATE DATABASE IF NOT EXISTS $1" >/dev/null
	mkdir -p "$T/s$1/fullflow/0"
	cp "$f" "$T/s$1/fullflow/0/"
	"$L" --spool "$T/s$1" --clickhouse "$DB_URL" --database "$1" --once --max-groups 2000 --insert-processes 1 \
		--agg-spill-runs "$2" > "$T/$1.out" 2> "$T/$1.log" || { cat "$T/$1.log"; fail "--once ($1) exited non-zero"; }
	[ -z "$(find "$T/s$1" -type f ! -name '*.lock')" ] || { find "$T/s$1"; fail "$1: files left in the spool"; }
	sed -n 's/.*(\([0-9]*\) aggregate rows).*/\1/p' "$T/$1.out"
}
cols="time, dpi_id, login, subscriber_ip, host, dpi_protocol, direction, host_as, ip_class_of_service"

note "spilling (64 runs): one row per key"
n_spill=$(load qs_spill 64)
final=$(q "SELECT count() FROM qs_spill.fullflow_agg_15m FINAL")
note "$n_spill aggregate rows inserted, $final after FINAL"
[ "$final" -gt 5000 ] || fail "too few keys ($final) to need spilling with --max-groups 2000"
expect_eq "$n_spill" "$final" "aggregate rows inserted = keys"
expect_eq "$(q "SELECT sum(records), sum(octets) FROM qs_spill.fullflow_agg FORMAT TSV")" \
	"$(printf '%s\t%s' "$(val rows "$T/g.txt")" "$(val sum_octets "$T/g.txt")")" "totals"

note "no spilling (0 runs): partial rows, same totals"
n_flush=$(load qs_flush 0)
note "$n_flush aggregate rows inserted"
[ "$n_flush" -gt "$n_spill" ] || fail "without spilling the file should give more rows ($n_flush <= $n_spill)"
# Sessions are counted per flush without spilling (a session in two flushes
# counts twice), so compare everything else.
m2="sum(octets), sum(packets), sum(records), sum(rtt_sum), sum(rtt_count), max(rtt_max)"
a=$(q "SELECT $cols, $m2 FROM qs_spill.fullflow_agg_15m GROUP BY $cols ORDER BY $cols FORMAT TSV" | md5sum)
b=$(q "SELECT $cols, $m2 FROM qs_flush.fullflow_agg_15m GROUP BY $cols ORDER BY $cols FORMAT TSV" | md5sum)
expect_eq "$a" "$b" "per-key measures, spilled vs flushed"
expect_eq "$(q "SELECT sum(sessions) FROM qs_spill.fullflow_agg_15m")" \
	"$(q "SELECT sum(s) FROM (SELECT uniqExact(session_id) s FROM qs_spill.fullflow WHERE session_id IS NOT NULL
	   GROUP BY toStartOfFifteenMinutes(flow_start_time), $(echo "$cols" | sed 's/^time, //'))")" \
	"distinct sessions per key (exact across runs)"

note "too few runs (2): flushes, totals still exact"
n_two=$(load qs_two 2)
[ "$n_two" -gt "$n_spill" ] || fail "2 runs should not hold every key ($n_two <= $n_spill)"
expect_eq "$(q "SELECT sum(records), sum(octets) FROM qs_two.fullflow_agg FORMAT TSV")" \
	"$(printf '%s\t%s' "$(val rows "$T/g.txt")" "$(val sum_octets "$T/g.txt")")" "totals with 2 runs"
exit 0

#!/bin/sh
# loader-once.sh: qoestor-loader --once loads a ready spool into qoestor-db exactly.
#
# Spool files written by qoestor-spoolgen (through the real spool writer) for
# fullflow, clickstream and natflow; then --once. Checks: count(), sum(octets),
# sum(packets) and every per-login total in fullflow equal what the generator
# wrote; fullflow_agg (and its 1-hour rollup), clickstream_agg and natflow_agg
# totals equal the raw totals; loaded files are gone; a file not yet ready is
# left alone; a replay of an already loaded file (same file id) adds nothing;
# files named on the command line are loaded in place and kept.
. "$(dirname "$0")/../lib.sh"

start_db
L="$QOESTOR_BIN/qoestor-loader"
G="$QOESTOR_BIN/qoestor-spoolgen"
S="$T/spool"

note "generate: fullflow 300000 rows in 5 files, clickstream 50000, natflow 40000"
"$G" --spool "$S" --stream fullflow --rows 300000 --files 5 --logins 300 --seed 11 --per-login > "$T/ff.txt"
"$G" --spool "$S" --stream clickstream --rows 50000 --files 2 --logins 100 --seed 12 > "$T/cs.txt"
"$G" --spool "$S" --stream natflow --rows 40000 --files 2 --logins 100 --seed 13 > "$T/nf.txt"
"$G" --spool "$S" --stream fullflow --dpi 3 --rows 1000 --instance later --ready-delay 3600 > "$T/later.txt"
cp "$S"/fullflow/0/*.qsp "$T/" # copies for the replay below
val() { sed -n "s/^$1=//p" "$2"; }

note "--once"
"$L" --spool "$S" --clickhouse "$DB_URL" --once --nat-agg-log-fields-to-save-bitmask 0x7ff \
	> "$T/once.out" 2> "$T/once.log" || { cat "$T/once.log"; fail "--once exited $?"; }
grep -q "^loaded 9 files, 390000 rows" "$T/once.out" || { cat "$T/once.out"; fail "summary line"; }
grep -q "1 not ready yet" "$T/once.out" || fail "the file with a future ready time was not reported as waiting"
[ -z "$(find "$S" -name '*.qsp' -path '*/0/*')" ] || { find "$S"; fail "loaded files are still in the spool"; }
[ -n "$(find "$S/fullflow/3" -maxdepth 1 -name '*.qsp')" ] || fail "the not-ready file was taken"

note "fullflow totals equal the generator's"
got=$(q "SELECT count(), sum(octets), sum(packets) FROM qoestor.fullflow FORMAT TSV")
expect_eq "$got" "$(printf '%s\t%s\t%s' "$(val rows "$T/ff.txt")" "$(val sum_octets "$T/ff.txt")" "$(val sum_packets "$T/ff.txt")")" \
	"fullflow count/sum(octets)/sum(packets)"
sed -n 's/^login \([^ ]*\) rows=\([0-9]*\) octets=\([0-9]*\) packets=\([0-9]*\)$/\1\t\2\t\3\t\4/p' "$T/ff.txt" | sort > "$T/want.tsv"
q "SELECT login, count(), sum(octets), sum(packets) FROM qoestor.fullflow GROUP BY login ORDER BY login FORMAT TSV" | sort > "$T/got.tsv"
[ "$(wc -l < "$T/want.tsv")" -gt 250 ] || fail "generator printed too few logins"
cmp -s "$T/want.tsv" "$T/got.tsv" || { diff "$T/want.tsv" "$T/got.tsv" | head; fail "per-login totals differ"; }

note "aggregates equal the raw totals (filters off)"
raw=$(q "SELECT count(), sum(octets), sum(packets), sum(repeat_delta_pack), sum(frgmt_delta_packs), sum(rtt), count(rtt) FROM qoestor.fullflow FORMAT TSV")
agg=$(q "SELECT sum(records), sum(octets), sum(packets), sum(retransmits), sum(fragments), sum(rtt_sum), sum(rtt_count) FROM qoestor.fullflow_agg FORMAT TSV")
expect_eq "$agg" "$raw" "fullflow_agg totals"
agg1h=$(q "SELECT sum(records), sum(octets), sum(packets), sum(retransmits), sum(fragments), sum(rtt_sum), sum(rtt_count) FROM qoestor.fullflow_agg_1h FORMAT TSV")
expect_eq "$agg1h" "$raw" "fullflow_agg_1h (materialized view) totals"
expect_eq "$(q "SELECT max(rtt_max) = (SELECT max(rtt) FROM qoestor.fullflow) FROM qoestor.fullflow_agg")" 1 "rtt_max"
per_raw=$(q "SELECT login, toStartOfFifteenMinutes(flow_start_time) t, sum(octets) FROM qoestor.fullflow GROUP BY login, t ORDER BY login, t FORMAT TSV" | md5sum)
per_agg=$(q "SELECT login, time, sum(octets) FROM qoestor.fullflow_agg GROUP BY login, time ORDER BY login, time FORMAT TSV" | md5sum)
expect_eq "$per_agg" "$per_raw" "fullflow_agg per login and 15-min bucket"
rows=$(q "SELECT count() FROM qoestor.fullflow_agg_15m")
note "fullflow reduction: $(val rows "$T/ff.txt") raw rows -> $rows aggregate rows"
[ "$rows" -lt "$(val rows "$T/ff.txt")" ] || fail "no reduction"

expect_eq "$(q "SELECT count() FROM qoestor.clickstream")" "$(val rows "$T/cs.txt")" "clickstream rows"
expect_eq "$(q "SELECT sum(requests), sum(blocked) FROM qoestor.clickstream_agg FORMAT TSV")" \
	"$(q "SELECT count(), countIf(locked != 0) FROM qoestor.clickstream FORMAT TSV")" "clickstream_agg totals"
expect_eq "$(q "SELECT count() FROM qoestor.natflow")" "$(val rows "$T/nf.txt")" "natflow rows"
expect_eq "$(q "SELECT sum(records), min(first_seen), max(last_seen) FROM qoestor.natflow_agg FORMAT TSV")" \
	"$(q "SELECT count(), min(time_ms), max(time_ms) FROM qoestor.natflow FORMAT TSV")" "natflow_agg totals"

note "replay: the same files dropped in again add nothing (deduplication tokens)"
mkdir -p "$T/replay"
cp "$T"/*.qsp "$T/replay/"
mv "$T"/replay/*.qsp "$S/fullflow/0/"
"$L" --spool "$S" --clickhouse "$DB_URL" --once > "$T/replay.out" 2> "$T/replay.log" || { cat "$T/replay.log"; fail "replay failed"; }
grep -q "^loaded 5 files, 300000 rows" "$T/replay.out" || { cat "$T/replay.out"; fail "replay summary"; }
expect_eq "$(q "SELECT count(), sum(octets) FROM qoestor.fullflow FORMAT TSV")" \
	"$(printf '%s\t%s' "$(val rows "$T/ff.txt")" "$(val sum_octets "$T/ff.txt")")" "fullflow after replay"
expect_eq "$(q "SELECT sum(records) FROM qoestor.fullflow_agg")" "$(val rows "$T/ff.txt")" "fullflow_agg after replay"

note "files named on the command line are loaded in place and kept"
"$G" --spool "$T/other" --stream fullflow --dpi 7 --rows 2000 --instance named > "$T/named.txt"
f=$(find "$T/other" -name '*.qsp')
"$L" --clickhouse "$DB_URL" --once --no-init-db "$f" > "$T/named.out" 2> "$T/named.log" || { cat "$T/named.log"; fail "named file"; }
[ -f "$f" ] || fail "a named file was moved or deleted"
expect_eq "$(q "SELECT count() FROM qoestor.fullflow WHERE dpi_id = 7")" 2000 "rows of the named file"
grep -E "error|ERR" "$T/once.log" "$T/replay.log" "$T/named.log" && fail "errors in the loader's log"
exit 0

#!/bin/sh
# loader-replay.sh: files copied into the spool by hand with plain cp.
#
# 1. A copy in progress (the first half of a valid file, no spool footer yet,
#    just written) is left alone, with a log line saying why; the rest is
#    appended (cp finishing); the daemon then loads it completely: exact
#    count and sum(octets), nothing quarantined.
# 2. A torn copy that stopped changing longer than --settle-seconds ago is
#    claimed: its complete blocks are loaded and it is quarantined with a
#    reason.
# 3. --once leaves a file still being written in place and says so.
# 4. --archive: loaded files are moved to <archive>/<stream>/<dpi>/ unchanged.
. "$(dirname "$0")/../lib.sh"

start_db
L="$QOESTOR_BIN/qoestor-loader"
G="$QOESTOR_BIN/qoestor-spoolgen"
S="$T/spool"
D="$S/fullflow/0"
val() { sed -n "s/^$1=//p" "$2"; }
mkdir -p "$D"

"$G" --spool "$T/src1" --rows 20000 --block-rows 1000 --seed 41 > "$T/g1.txt"
"$G" --spool "$T/src2" --rows 10000 --block-rows 1000 --seed 42 > "$T/g2.txt"
f1=$(find "$T/src1" -name '*.qsp'); f2=$(find "$T/src2" -name '*.qsp')
size1=$(wc -c < "$f1"); half1=$((size1 / 2))

note "1. a copy in progress is waited for, then loaded"
bg l1 "$L" --spool "$S" --clickhouse "$DB_URL" --settle-seconds 30 --rescan-seconds 1 --retry-max-seconds 1
head -c "$half1" "$f1" > "$D/copy.qsp"
wait_for 30 grep -q "copy.qsp: no spool footer yet" "$T/l1.log" || { cat "$T/l1.log"; fail "no 'no spool footer yet' line"; }
[ -f "$D/copy.qsp" ] || { find "$S"; fail "the half-copied file was taken"; }
tail -c +$((half1 + 1)) "$f1" >> "$D/copy.qsp"
cmp -s "$f1" "$D/copy.qsp" 2>/dev/null || [ ! -f "$D/copy.qsp" ] || fail "test bug: the copy differs"
loaded1() { [ "$(q "SELECT count() FROM qoestor.fullflow")" = "$(val rows "$T/g1.txt")" ] && [ ! -f "$D/copy.qsp" ]; }
wait_for 60 loaded1 || { cat "$T/l1.log"; find "$S"; fail "the completed copy was not loaded"; }
expect_eq "$(q "SELECT count(), sum(octets) FROM qoestor.fullflow FORMAT TSV")" \
	"$(printf '%s\t%s' "$(val rows "$T/g1.txt")" "$(val sum_octets "$T/g1.txt")")" "copy: count, sum(octets)"
[ -z "$(find "$S" -path '*/.quarantine/*')" ] || { find "$S"; fail "something was quarantined"; }

note "2. a torn copy, unchanged for longer than --settle-seconds: complete blocks loaded, quarantined"
head -c "$(( $(wc -c < "$f2") / 2 ))" "$f2" > "$T/torn.tmp"
touch -d "@$(( $(date +%s) - 120 ))" "$T/torn.tmp"
mv "$T/torn.tmp" "$D/torn.qsp"
wait_for 60 test -f "$D/.quarantine/torn.qsp.reason" || { cat "$T/l1.log"; find "$S"; fail "the torn file was not quarantined"; }
grep -q "rows of the" "$D/.quarantine/torn.qsp.reason" || { cat "$D/.quarantine/torn.qsp.reason"; fail "reason"; }
got=$(q "SELECT count() - $(val rows "$T/g1.txt") FROM qoestor.fullflow")
note "torn file: $got rows of its complete blocks loaded"
[ "$got" -gt 0 ] && [ "$got" -lt 10000 ] && [ $((got % 1000)) -eq 0 ] || fail "torn file rows: $got"
kill "$l1_pid"; wait "$l1_pid" 2>/dev/null || true

note "3. --once leaves a file still being written"
head -c "$half1" "$f1" > "$D/copy2.qsp"
"$L" --spool "$S" --clickhouse "$DB_URL" --no-init-db --once > "$T/once.out" 2> "$T/once.log" ||
	{ cat "$T/once.out" "$T/once.log"; fail "--once exited $?"; }
grep -q "still being written" "$T/once.out" || { cat "$T/once.out"; fail "--once summary does not mention it"; }
[ -f "$D/copy2.qsp" ] || fail "--once took the half-written file"
rm -f "$D/copy2.qsp"

note "4. --archive keeps loaded files, byte for byte"
"$G" --spool "$S" --rows 5000 --files 2 --seed 43 > "$T/g3.txt"
find "$S/fullflow/0" -maxdepth 1 -name '*.qsp' -exec cksum {} \; | awk '{print $1, $2}' | sort > "$T/before.txt"
before=$(q "SELECT count() FROM qoestor.fullflow")
"$L" --spool "$S" --clickhouse "$DB_URL" --no-init-db --once --archive "$T/archive" > "$T/arch.out" 2>&1 ||
	{ cat "$T/arch.out"; fail "--once --archive exited $?"; }
expect_eq "$(q "SELECT count() - $before FROM qoestor.fullflow")" "$(val rows "$T/g3.txt")" "rows loaded with --archive"
[ -z "$(find "$S/fullflow/0" -maxdepth 1 -name '*.qsp')" ] || fail "loaded files still in the spool"
find "$T/archive/fullflow/0" -maxdepth 1 -name '*.qsp' -exec cksum {} \; | awk '{print $1, $2}' | sort > "$T/after.txt"
expect_eq "$(wc -l < "$T/after.txt")" 2 "archived files"
cmp -s "$T/before.txt" "$T/after.txt" || { cat "$T/before.txt" "$T/after.txt"; fail "archived files differ"; }

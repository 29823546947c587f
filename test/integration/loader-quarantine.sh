#!/bin/sh
# loader-quarantine.sh: files that cannot be loaded go to .quarantine/ with a
# reason, loudly, and everything else keeps loading.
#
# Three bad files among good ones: garbage bytes named like a spool file, a
# file with one byte flipped in its third block, a file cut in the middle.
# The good files load exactly; the bad ones are in <dir>/.quarantine/ with a
# .reason naming the problem; the rows of the verified blocks before the
# damage are loaded (and said so); --once exits 3. The daemon does the same.
# (--settle-seconds 0: the damaged files are fresh; loader-replay.sh covers
# the wait for files without a footer.)
. "$(dirname "$0")/../lib.sh"

start_db
L="$QOESTOR_BIN/qoestor-loader"
G="$QOESTOR_BIN/qoestor-spoolgen"
S="$T/spool"
D="$S/fullflow/0"
val() { sed -n "s/^$1=//p" "$2"; }

"$G" --spool "$S" --rows 40000 --files 4 --seed 31 > "$T/good.txt"
"$G" --spool "$T/bad" --rows 10000 --block-rows 1000 --seed 32 --instance flip > /dev/null
"$G" --spool "$T/bad" --rows 10000 --block-rows 1000 --seed 33 --instance cut > /dev/null
flip=$(find "$T/bad" -name '*-flip-*.qsp')
cut=$(find "$T/bad" -name '*-cut-*.qsp')
# Flip one byte well inside the file (the third of ten blocks), cut the other in half.
size=$(wc -c < "$flip")
python3 - "$flip" "$cut" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
b[len(b) * 3 // 10] ^= 0x55
open(p, 'wb').write(b)
c = sys.argv[2]
b = open(c, 'rb').read()
open(c, 'wb').write(b[: len(b) // 2])
PY
mv "$flip" "$cut" "$D/"
head -c 5000 /dev/urandom > "$D/fullflow-0-20240101T000000Z-junk-00000000-r0.qsp"

note "--once: good files load, bad ones are quarantined with a reason"
rc=0
"$L" --spool "$S" --clickhouse "$DB_URL" --once --settle-seconds 0 > "$T/once.out" 2> "$T/once.log" || rc=$?
expect_eq "$rc" 3 "--once exit code with quarantined files"
grep -q "QUARANTINED" "$T/once.log" || { cat "$T/once.log"; fail "no loud quarantine line"; }
nq=$(find "$D/.quarantine" -name '*.qsp' | wc -l)
expect_eq "$nq" 3 "files in quarantine"
expect_eq "$(find "$D/.quarantine" -name '*.qsp.reason' | wc -l)" 3 "reason files"
grep -l "CRC" "$D"/.quarantine/*flip*.reason > /dev/null || { cat "$D"/.quarantine/*flip*.reason; fail "flip reason does not name the CRC"; }
grep -q "rows of the 2 blocks before it were loaded" "$D"/.quarantine/*flip*.reason || { cat "$D"/.quarantine/*flip*.reason; fail "flip reason does not say what was loaded"; }
grep -q "unreadable" "$D"/.quarantine/*junk*.reason || fail "junk reason"
[ -z "$(find "$D" -maxdepth 1 -name '*.qsp')" ] || fail "files left in the spool"
[ -z "$(find "$D/.loading" -name '*.qsp' 2>/dev/null)" ] || fail "files left in .loading"
good=$(val rows "$T/good.txt")
got=$(q "SELECT count() FROM qoestor.fullflow")
# good rows + 2000 verified rows of the flipped file + the verified blocks of the cut one
[ "$got" -ge $((good + 2000)) ] && [ "$got" -lt $((good + 20000)) ] || fail "row count $got: want the $good good rows plus the verified blocks"
expect_eq "$(q "SELECT sum(records) FROM qoestor.fullflow_agg")" "$got" "aggregates match the loaded rows"

note "the daemon quarantines too and keeps going"
"$G" --spool "$S" --rows 5000 --seed 34 --instance after > "$T/after.txt"
head -c 300 /dev/urandom > "$D/fullflow-0-20240101T000001Z-junk2-00000000-r0.qsp"
bg ld "$L" --spool "$S" --clickhouse "$DB_URL" --settle-seconds 0
drained() { [ -z "$(find "$D" -maxdepth 1 -name '*.qsp')" ] && [ -z "$(find "$D/.loading" -name '*.qsp')" ]; }
wait_for 60 drained || { cat "$T/ld.log"; fail "daemon did not drain"; }
expect_eq "$(find "$D/.quarantine" -name '*.qsp' | wc -l)" 4 "files in quarantine after the daemon"
expect_eq "$(q "SELECT count() FROM qoestor.fullflow")" $((got + 5000)) "rows after the daemon"
exit 0

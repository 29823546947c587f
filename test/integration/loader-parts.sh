#!/bin/sh
# loader-parts.sh: one INSERT is one block, so one part in ClickHouse.
#
# A file of 1,500,000 rows loaded with --insert-rows 1500000 and merges
# stopped: fullflow holds exactly one part of 1,500,000 rows (ClickHouse's
# own block limits, 1,048,449 rows or 256 MiB, would have cut it in two;
# fewer, bigger parts are what saves merges). A file claimed by an older loader (its claim
# state has no one_block line) is loaded with ClickHouse's block size: a
# retry must cut the blocks its first attempt cut (loader-crash.sh covers a
# retry of a new claim).
. "$(dirname "$0")/../lib.sh"

start_db
L="$QOESTOR_BIN/qoestor-loader"
G="$QOESTOR_BIN/qoestor-spoolgen"

# Rows within one hour (the raw tables' partition), or each hour is a part.
hour=$(( $(date +%s) / 3600 * 3600 ))
"$L" --clickhouse "$DB_URL" --init-db > "$T/init.log" 2>&1 || { cat "$T/init.log"; fail "--init-db"; }
q "SYSTEM STOP MERGES qoestor.fullflow" > /dev/null

note "a new claim: one part per INSERT"
"$G" --spool "$T/s1" --rows 1500000 --files 1 --logins 100 --seed 41 --block-rows 16384 --time "$hour" --span-seconds 600 > "$T/g1.txt"
"$L" --spool "$T/s1" --clickhouse "$DB_URL" --once --insert-rows 1500000 > "$T/o1.out" 2> "$T/o1.log" ||
	{ cat "$T/o1.log"; fail "--once exited non-zero"; }
expect_eq "$(q "SELECT count(), max(rows) FROM system.parts WHERE database = 'qoestor' AND table = 'fullflow'
	AND active FORMAT TSV")" "$(printf '1\t1500000')" "parts of fullflow (count, largest)"

note "a file claimed by an older loader: ClickHouse's block size, as its first attempt had"
q "TRUNCATE TABLE qoestor.fullflow" > /dev/null
"$G" --spool "$T/s2" --rows 1500000 --files 1 --logins 100 --seed 42 --block-rows 16384 --time "$hour" --span-seconds 600 > "$T/g2.txt"
f=$(find "$T/s2" -name '*.qsp')
mkdir -p "$(dirname "$f")/.loading"
mv "$f" "$(dirname "$f")/.loading/"
printf 'insert_rows=1500000\nmax_groups=100000\n' > "$(dirname "$f")/.loading/$(basename "$f").state"
"$L" --spool "$T/s2" --clickhouse "$DB_URL" --once > "$T/o2.out" 2> "$T/o2.log" ||
	{ cat "$T/o2.log"; fail "--once (old claim) exited non-zero"; }
grep -q "^loaded 1 files, 1500000 rows" "$T/o2.out" || { cat "$T/o2.out" "$T/o2.log"; fail "the old claim was not loaded"; }
expect_eq "$(q "SELECT count(), sum(rows) FROM system.parts WHERE database = 'qoestor' AND table = 'fullflow'
	AND active FORMAT TSV")" "$(printf '2\t1500000')" "parts of fullflow from the old claim"

exit 0

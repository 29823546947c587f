#!/bin/sh
# recv-crash.sh: kill -9 of qoestor-recv, then a restart on the same spool.
#   1. Idle crash: every record was read and the once-a-second flush wrote
#      them to the temporary file; kill -9; the restart salvages that file:
#      exactly the records sent, once, in a valid file flagged salvaged.
#   2. Crash while writing: records flowing, a SIGHUP publishes a file, more
#      records flow, kill -9 mid-stream; the restart salvages: every file is
#      valid (qoestor-spool check), no row appears twice, every row is one that
#      was sent, and the rows of the published file are not published again.
# No sleeps: the test waits for log lines and files with bounds.
. "$(dirname "$0")/../lib.sh"
ie="$top/dictionaries/vasexperts-ie.xml"
spool="$T/spool"
port=$(free_port)

start_recv() { # NAME
	bg "$1" "$QOESTOR_BIN/qoestor-recv" --stream fullflow --listen "tcp://127.0.0.1:$port" --spool "$spool" \
		--ie-file "$ie" --log-level 7
	wait_for 20 grep -q "listening on" "$T/$1.log" || fail "$1: receiver did not start: $(cat "$T/$1.log")"
}

rows_of() { # FILE...: the rows of spool files (TSV, raw times), sorted
	"$QOESTOR_BIN/qoestor-spool" cat --raw-time --no-header "$@" | sort
}

# ---- 1. idle crash -------------------------------------------------------------
start_recv recv1
"$QOESTOR_BIN/qoestor-ipfixgen" --stream fullflow --tcp "127.0.0.1:$port" --records 30000 --seed 1 \
	--ie-file "$ie" --tsv "$T/sent1.tsv" >/dev/null || fail "ipfixgen failed"
wait_for 60 grep -q "connection closed (end of stream) after 30000 records" "$T/recv1.log" || fail "1: not all read"
wait_for 20 grep -q "rows written to the temporary file (flush)" "$T/recv1.log" || fail "1: no flush after idle"
kill -9 "$recv1_pid"
wait "$recv1_pid" 2>/dev/null || true
[ -z "$(find "$spool" -name '*.qsp')" ] || fail "1: a file was published before the crash"
start_recv recv2
wait_for 20 grep -qi "salvag" "$T/recv2.log" || fail "1: nothing salvaged: $(cat "$T/recv2.log")"
files=$(find "$spool" -name '*.qsp')
[ -n "$files" ] || fail "1: no salvaged file"
# shellcheck disable=SC2086
"$QOESTOR_BIN/qoestor-spool" check $files >/dev/null || fail "1: salvaged file invalid"
# shellcheck disable=SC2086
"$QOESTOR_BIN/qoestor-spool" info $files | grep -qi salvaged || fail "1: the file is not flagged salvaged"
# shellcheck disable=SC2086
rows_of $files >"$T/got1.tsv"
sort "$T/sent1.tsv" >"$T/sent1.sorted"
cmp -s "$T/got1.tsv" "$T/sent1.sorted" || fail "1: salvaged rows differ from the 30000 sent"
note "idle kill -9: 30000 rows salvaged, exactly as sent"
kill -TERM "$recv2_pid"
wait "$recv2_pid" || fail "recv2 exit status $?"
mkdir "$T/done1"
mv $files "$T/done1/"

# ---- 2. crash while writing -----------------------------------------------------
start_recv recv3
"$QOESTOR_BIN/qoestor-ipfixgen" --stream fullflow --tcp "127.0.0.1:$port" --records 400000 --rate 100000 \
	--seed 2 --ie-file "$ie" --tsv "$T/sent2.tsv" >"$T/gen2.out" 2>&1 &
gen_pid=$!
_pids="$_pids $gen_pid"
wait_for 30 grep -q "rows written to the temporary file" "$T/recv3.log" || fail "2: no block written"
kill -HUP "$recv3_pid"
wait_for 20 sh -c "find '$spool' -name '*.qsp' | grep -q ." || fail "2: SIGHUP published nothing"
published=$(find "$spool" -name '*.qsp')
n=$(grep -c "rows written to the temporary file" "$T/recv3.log")
wait_for 30 sh -c "[ \$(grep -c 'rows written to the temporary file' '$T/recv3.log') -gt $((n + 1)) ]" ||
	fail "2: no block written after the SIGHUP"
kill -9 "$recv3_pid"
wait "$recv3_pid" 2>/dev/null || true
wait "$gen_pid" 2>/dev/null || true # the exporter sees the connection reset
start_recv recv4
wait_for 20 grep -qi "salvag" "$T/recv4.log" || fail "2: nothing salvaged: $(cat "$T/recv4.log")"
kill -TERM "$recv4_pid"
wait "$recv4_pid" || fail "recv4 exit status $?"
files=$(find "$spool" -name '*.qsp' | sort)
[ "$(echo "$files" | wc -l)" -ge 2 ] || fail "2: expected the published file and a salvaged one: $files"
# shellcheck disable=SC2086
"$QOESTOR_BIN/qoestor-spool" check $files >/dev/null || fail "2: a file is invalid"
# shellcheck disable=SC2086
rows_of $files >"$T/got2.tsv"
total=$(wc -l <"$T/got2.tsv")
dups=$(uniq -d "$T/got2.tsv" | wc -l)
expect_eq "$dups" 0 "2: rows stored twice"
sort "$T/sent2.tsv" >"$T/sent2.sorted"
extra=$(comm -23 "$T/got2.tsv" "$T/sent2.sorted" | wc -l)
expect_eq "$extra" 0 "2: rows that were never sent"
pub=$(rows_of $published | wc -l)
[ "$total" -gt "$pub" ] || fail "2: the salvaged file added no rows ($total total, $pub published before)"
# a kill inside a block's write may leave a torn tail: salvage keeps the
# complete blocks and saves the tail in .quarantine/; a whole file must not go there
! grep -rqs "unreadable" "$spool"/fullflow/0/.quarantine/ || fail "2: a whole file was quarantined"
note "kill -9 while writing: $pub rows published before, $total rows after salvage, no duplicate, all valid"

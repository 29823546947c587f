#!/bin/sh
# recv-diskfull.sh: the spool's disk fills up (a small tmpfs; needs root, as CI
# runs), then space returns (mount -o remount,size=...).
#   TCP: the receiver logs the error, stops reading the connection (the
#        exporter blocks: TCP flow control), resumes by itself when space
#        returns; every record sent is stored exactly once, every file valid.
#   UDP: rows are dropped and counted while the disk is full (log line and the
#        shutdown total), rows sent after space returned are all stored, every
#        file valid.
# No sleeps: the test waits for log lines and process exits with bounds.
. "$(dirname "$0")/../lib.sh"
ie="$top/dictionaries/vasexperts-ie.xml"
[ "$(id -u)" = 0 ] || fail "this test mounts a tmpfs: run it as root (CI does)"
mkdir -p "$T/full" "$T/full2"
trap 'for p in $_pids; do kill -9 "$p" 2>/dev/null || true; done
      umount -l "$T/full" 2>/dev/null || true; umount -l "$T/full2" 2>/dev/null || true; cleanup' EXIT INT TERM
mount -t tmpfs -o size=3m tmpfs "$T/full" || fail "cannot mount a tmpfs"
mount -t tmpfs -o size=1m tmpfs "$T/full2" || fail "cannot mount a tmpfs"

# ---- TCP -------------------------------------------------------------------------
port=$(free_port)
bg recv "$QOESTOR_BIN/qoestor-recv" --stream fullflow --listen "tcp://127.0.0.1:$port" --spool "$T/full" \
	--ie-file "$ie"
wait_for 20 grep -q "listening on" "$T/recv.log" || fail "receiver did not start: $(cat "$T/recv.log")"
"$QOESTOR_BIN/qoestor-ipfixgen" --stream fullflow --tcp "127.0.0.1:$port" --records 150000 --seed 5 \
	--ie-file "$ie" --tsv "$T/sent.tsv" >"$T/gen.out" 2>&1 &
gen_pid=$!
_pids="$_pids $gen_pid"
wait_for 60 grep -q "the spool refuses rows (No space left on device): not reading from this exporter" \
	"$T/recv.log" || fail "TCP: no disk-full line: $(tail -5 "$T/recv.log")"
kill -0 "$gen_pid" 2>/dev/null || fail "TCP: the exporter finished although the disk is full (no backpressure)"
! grep -q "connection closed" "$T/recv.log" || fail "TCP: the connection was closed on disk full"
note "TCP: disk full -> the receiver stops reading, the exporter is blocked"
mount -o remount,size=64m "$T/full" || fail "remount failed"
wait_for 120 sh -c "! kill -0 $gen_pid 2>/dev/null" || fail "TCP: the exporter did not finish after space returned"
wait "$gen_pid" || fail "TCP: ipfixgen failed: $(cat "$T/gen.out")"
wait_for 60 grep -q "connection closed (end of stream) after 150000 records" "$T/recv.log" ||
	fail "TCP: not every record was read: $(tail -5 "$T/recv.log")"
grep -q "writing again" "$T/recv.log" || fail "TCP: no 'writing again' line"
kill -TERM "$recv_pid"
wait "$recv_pid" || fail "TCP: receiver exit status $?"
files=$(find "$T/full" -name '*.qsp')
# shellcheck disable=SC2086
"$QOESTOR_BIN/qoestor-spool" check $files >/dev/null || fail "TCP: a spool file is invalid"
# shellcheck disable=SC2086
"$QOESTOR_BIN/qoestor-spool" cat --raw-time --no-header $files | sort >"$T/got.tsv"
sort "$T/sent.tsv" >"$T/sent.sorted"
cmp -s "$T/got.tsv" "$T/sent.sorted" || fail "TCP: stored rows differ from the 150000 sent"
note "TCP: space returned -> resumed by itself; 150000 rows stored exactly once, files valid"

# ---- UDP -------------------------------------------------------------------------
port=$(free_port)
bg recvu "$QOESTOR_BIN/qoestor-recv" --stream fullflow --listen "udp://127.0.0.1:$port" --spool "$T/full2" \
	--ie-file "$ie"
wait_for 20 grep -q "listening on" "$T/recvu.log" || fail "UDP receiver did not start"
"$QOESTOR_BIN/qoestor-ipfixgen" --stream fullflow --udp "127.0.0.1:$port" --records 60000 --rate 30000 \
	--seed 6 --ie-file "$ie" >/dev/null || fail "UDP: ipfixgen failed"
wait_for 30 grep -q "UDP rows are dropped and counted" "$T/recvu.log" ||
	fail "UDP: no disk-full line: $(tail -5 "$T/recvu.log")"
mount -o remount,size=64m "$T/full2" || fail "remount failed"
# the first row accepted again writes the held block: wait for the spool to say so
"$QOESTOR_BIN/qoestor-ipfixgen" --stream fullflow --udp "127.0.0.1:$port" --records 2000 --rate 20000 \
	--seed 7 --domain 2 --ie-file "$ie" --tsv "$T/sent-after.tsv" >/dev/null || fail "UDP: ipfixgen failed"
wait_for 30 grep -q "writing again" "$T/recvu.log" || fail "UDP: no 'writing again' line"
kill -TERM "$recvu_pid"
wait "$recvu_pid" || fail "UDP: receiver exit status $?"
dropped=$(sed -n 's/.* \([0-9]*\) UDP rows dropped.*/\1/p' "$T/recvu.log" | tail -1)
[ "${dropped:-0}" -gt 0 ] || fail "UDP: no dropped rows counted"
files=$(find "$T/full2" -name '*.qsp')
# shellcheck disable=SC2086
"$QOESTOR_BIN/qoestor-spool" check $files >/dev/null || fail "UDP: a spool file is invalid"
# shellcheck disable=SC2086
"$QOESTOR_BIN/qoestor-spool" cat --raw-time --no-header $files | sort >"$T/gotu.tsv"
sort "$T/sent-after.tsv" >"$T/after.sorted"
missing=$(comm -13 "$T/gotu.tsv" "$T/after.sorted" | wc -l)
expect_eq "$missing" 0 "UDP: rows sent after space returned that are missing"
note "UDP: $dropped rows dropped and counted while full; the 2000 sent after space returned all stored"

#!/bin/sh
# recv-metrics.sh: qoestor-recv --metrics serves Prometheus text.
#   - per exporter (address, domain) counters match what was sent (TCP, UDP);
#   - kernel UDP drops: the receiver is stopped (SIGSTOP) with a 1 MiB socket
#     buffer while 40000 records arrive; after SIGCONT the kernel drop counter
#     counter is above 0 and fewer rows than sent are stored;
#   - other paths answer 404; a bad --metrics address exits 1 with a message.
. "$(dirname "$0")/../lib.sh"
ie="$top/dictionaries/vasexperts-ie.xml"

metric() { # URL NAME: the sum of the metric's samples
	curl -sf "$1" | awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%d\n", s }'
}

# ---- TCP --------------------------------------------------------------------------
port=$(free_port) mport=$(free_port)
murl="http://127.0.0.1:$mport/metrics"
bg recvt "$QOESTOR_BIN/qoestor-recv" --stream natflow --listen "tcp://127.0.0.1:$port" --spool "$T/spool" \
	--ie-file "$ie" --metrics "127.0.0.1:$mport"
wait_for 20 curl -sf "$murl" || fail "TCP: no metrics: $(cat "$T/recvt.log")"
"$QOESTOR_BIN/qoestor-ipfixgen" --stream natflow --tcp "127.0.0.1:$port" --records 1234 --ie-file "$ie" \
	>/dev/null || fail "ipfixgen failed"
wait_for 20 sh -c "[ \$(curl -sf '$murl' | awk '/^qoestor_recv_rows_total/ { print \$2 }') = 1234 ]" ||
	fail "TCP: rows_total never reached 1234: $(curl -sf "$murl" | grep rows_total)"
expect_eq "$(metric "$murl" qoestor_recv_records_total)" 1234 "TCP records_total"
expect_eq "$(metric "$murl" qoestor_recv_connections_total)" 1 "TCP connections_total"
curl -sf "$murl" | grep -q 'qoestor_recv_rows_total{stream="natflow",instance="natflow-0",exporter="127.0.0.1",domain="1"} 1234' ||
	fail "TCP: no per-exporter series with its labels"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/other")
expect_eq "$code" 404 "GET /other"
kill -TERM "$recvt_pid"
wait "$recvt_pid" || fail "TCP receiver exit status $?"
note "TCP: per-exporter counters exact, 404 elsewhere"

# ---- UDP with kernel drops -----------------------------------------------------------
port=$(free_port) mport=$(free_port)
murl="http://127.0.0.1:$mport/metrics"
bg recvu "$QOESTOR_BIN/qoestor-recv" --stream fullflow --listen "udp://127.0.0.1:$port" --spool "$T/spoolu" \
	--ie-file "$ie" --metrics "127.0.0.1:$mport" --udp-rcvbuf-mb 1
wait_for 20 curl -sf "$murl" || fail "UDP: no metrics: $(cat "$T/recvu.log")"
"$QOESTOR_BIN/qoestor-ipfixgen" --stream fullflow --udp "127.0.0.1:$port" --records 2000 --rate 20000 \
	--ie-file "$ie" >/dev/null || fail "ipfixgen failed"
wait_for 20 sh -c "[ \$(curl -sf '$murl' | awk '/^qoestor_recv_records_total/ { print \$2 }') = 2000 ]" ||
	fail "UDP: records_total never reached 2000"
expect_eq "$(metric "$murl" qoestor_recv_kernel_udp_drops_total)" 0 "UDP kernel drops before the stop"
kill -STOP "$recvu_pid"
"$QOESTOR_BIN/qoestor-ipfixgen" --stream fullflow --udp "127.0.0.1:$port" --records 40000 --seed 9 \
	--ie-file "$ie" >/dev/null || fail "ipfixgen failed"
kill -CONT "$recvu_pid"
wait_for 20 sh -c "[ \$(curl -sf '$murl' | awk '/^qoestor_recv_kernel_udp_drops_total/ { print \$2 }') -gt 0 ]" ||
	fail "UDP: kernel drops not counted: $(curl -sf "$murl" | grep kernel)"
drops=$(metric "$murl" qoestor_recv_kernel_udp_drops_total)
# the stopped receiver read what its 1 MiB buffer held, nothing after: the
# drops are the tail, which no later message of that exporter reveals by its
# sequence number; the rows show the loss
wait_for 20 sh -c "[ \$(curl -sf '$murl' | awk '/^qoestor_recv_sessions_open/ { print \$2 }') = 2 ]" ||
	fail "UDP: expected two exporter sessions (two ipfixgen runs)"
rows=$(metric "$murl" qoestor_recv_rows_total)
[ "$rows" -lt 42000 ] || fail "UDP: all rows arrived although the kernel dropped datagrams"
[ "$rows" -gt 2000 ] || fail "UDP: nothing of the second run was read after SIGCONT"
kill -TERM "$recvu_pid"
wait "$recvu_pid" || fail "UDP receiver exit status $?"
note "UDP: $drops datagrams dropped by the kernel counted; $rows of 42000 rows stored"

# ---- bad address -------------------------------------------------------------------------
set +e
"$QOESTOR_BIN/qoestor-recv" --stream fullflow --listen "tcp://127.0.0.1:$(free_port)" --spool "$T/spoolb" \
	--ie-file "$ie" --metrics "localhost:80" >"$T/bad.log" 2>&1
rc=$?
set -e
expect_eq "$rc" 1 "exit status with a bad --metrics"
grep -q "not a numeric IP address" "$T/bad.log" || fail "no message for a bad --metrics: $(cat "$T/bad.log")"
note "bad --metrics address: exit 1 with a message"

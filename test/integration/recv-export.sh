#!/bin/sh
# recv-export.sh: re-export (--export ip/port/proto,...) to real collectors:
# two more qoestor-recv instances, one over TCP and one over UDP.
#   - the TCP collector is down when the data arrives: the receiver queues,
#     retries with backoff, and when the collector comes up sends the current
#     templates first, then the queued messages: the collector stores every
#     record, value for value;
#   - the UDP collector gets the templates before the first data and stores
#     every record;
#   - the receiver itself stores every record too (re-export never costs rows);
#   - a target that never comes up with a 1 MiB queue: messages are dropped
#     and counted, reception unaffected.
. "$(dirname "$0")/../lib.sh"
ie="$top/dictionaries/vasexperts-ie.xml"
pa=$(free_port) pb=$(free_port) pc=$(free_port) mb=$(free_port) mc=$(free_port)

rows_of() { # DIR: the rows of the spool files under DIR, sorted
	# shellcheck disable=SC2046
	"$QOESTOR_BIN/qoestor-spool" cat --raw-time --no-header $(find "$1" -name '*.qsp') | sort
}
records() { # METRICS_PORT: records_total of a collector
	curl -sf "http://127.0.0.1:$1/metrics" | awk '/^qoestor_recv_records_total/ { s += $2 } END { print s + 0 }'
}
stop() { # NAME
	eval "p=\$${1}_pid"
	kill -TERM "$p"
	wait "$p" || fail "$1: exit status $?"
}

bg colc "$QOESTOR_BIN/qoestor-recv" --stream clickstream --listen "udp://127.0.0.1:$pc" --spool "$T/spool-c" \
	--ie-file "$ie" --metrics "127.0.0.1:$mc"
bg recva "$QOESTOR_BIN/qoestor-recv" --stream clickstream --listen "udp://127.0.0.1:$pa" --spool "$T/spool-a" \
	--ie-file "$ie" --export "127.0.0.1/$pb/tcp,127.0.0.1/$pc/udp"
wait_for 20 grep -q "listening on" "$T/recva.log" || fail "receiver did not start: $(cat "$T/recva.log")"
wait_for 20 curl -sf "http://127.0.0.1:$mc/metrics" || fail "UDP collector did not start"
wait_for 20 grep -q "export 127.0.0.1/$pb/tcp: connection refused; retrying" "$T/recva.log" ||
	fail "no retry line for the TCP target that is down: $(cat "$T/recva.log")"
"$QOESTOR_BIN/qoestor-ipfixgen" --stream clickstream --udp "127.0.0.1:$pa" --records 20000 --rate 20000 \
	--ie-file "$ie" --tsv "$T/sent.tsv" >/dev/null || fail "ipfixgen failed"
sort "$T/sent.tsv" >"$T/sent.sorted"
wait_for 30 sh -c "[ \$(curl -sf http://127.0.0.1:$mc/metrics | awk '/^qoestor_recv_records_total/ { s += \$2 } END { print s + 0 }') -ge 20000 ]" ||
	fail "UDP collector: $(records "$mc") of 20000 records"
note "UDP target: 20000 records"

bg colb "$QOESTOR_BIN/qoestor-recv" --stream clickstream --listen "tcp://127.0.0.1:$pb" --spool "$T/spool-b" \
	--ie-file "$ie" --metrics "127.0.0.1:$mb"
wait_for 60 grep -q "export 127.0.0.1/$pb/tcp: connected; sending [1-9][0-9]* templates" "$T/recva.log" ||
	fail "the receiver did not connect to the TCP collector: $(tail -3 "$T/recva.log")"
wait_for 60 sh -c "[ \$(curl -sf http://127.0.0.1:$mb/metrics | awk '/^qoestor_recv_records_total/ { s += \$2 } END { print s + 0 }') -ge 20000 ]" ||
	fail "TCP collector: $(records "$mb") of 20000 records"
grep -q "unknown template" "$T/colb.log" && fail "TCP collector saw data before templates"
note "TCP target down, then up: templates first, then the 20000 queued records"

stop recva
stop colb
stop colc
for d in a b c; do
	rows_of "$T/spool-$d" >"$T/got-$d.tsv"
	cmp -s "$T/got-$d.tsv" "$T/sent.sorted" || fail "spool $d: rows differ from the 20000 sent"
done
grep -q "export 127.0.0.1/$pb/tcp: [0-9]* messages sent, 0 dropped" "$T/recva.log" ||
	fail "drops on the TCP target: $(grep "export 127.0.0.1/$pb" "$T/recva.log" | tail -1)"
note "receiver, TCP collector and UDP collector: the same 20000 rows, value for value"

# a target that never answers, with a 1 MiB queue: drops counted, reception intact
dead=$(free_port)
bg recvd "$QOESTOR_BIN/qoestor-recv" --stream clickstream --listen "udp://127.0.0.1:$pa" --spool "$T/spool-d" \
	--ie-file "$ie" --export "127.0.0.1/$dead/tcp" --export-queue-mb 1
wait_for 20 grep -q "listening on" "$T/recvd.log" || fail "receiver d did not start"
"$QOESTOR_BIN/qoestor-ipfixgen" --stream clickstream --udp "127.0.0.1:$pa" --records 20000 --rate 20000 \
	--ie-file "$ie" --tsv "$T/sent-d.tsv" >/dev/null || fail "ipfixgen failed"
wait_for 20 grep -q "messages are dropped and counted until it connects" "$T/recvd.log" ||
	fail "no drop line for the full queue"
stop recvd
n=$(sed -n "s/.*export 127.0.0.1\/$dead\/tcp: 0 messages sent, \([0-9]*\) dropped.*/\1/p" "$T/recvd.log" | tail -1)
[ "${n:-0}" -gt 0 ] || fail "no dropped messages counted for the dead target"
rows_of "$T/spool-d" >"$T/got-d.tsv"
sort "$T/sent-d.tsv" | cmp -s - "$T/got-d.tsv" || fail "the receiver lost rows while its export target was dead"
note "dead target, 1 MiB queue: $n messages dropped and counted, all 20000 rows stored"

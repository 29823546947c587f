#!/bin/sh
# recv-tcp-spool.sh: qoestor-ipfixgen -> qoestor-recv over TCP -> spool files,
# for every DPI template (fullflow and clickstream IPv4 + IPv6, natflow,
# gtpflow), with long and awkward varlen strings. What qoestor-spool reads back
# must equal, row for row and value for value, what ipfixgen says it sent;
# over TCP the counts are exact. Also: SIGTERM publishes and exits 0, and the
# receiver's log holds no error.
. "$(dirname "$0")/../lib.sh"

check_stream() { # stream records long-strings
	s=$1 n=$2 long=$3
	port=$(free_port)
	bg "recv_$s" "$QOESTOR_BIN/qoestor-recv" --stream "$s" --listen "tcp://127.0.0.1:$port" \
		--spool "$T/spool" --ie-file "$top/dictionaries/vasexperts-ie.xml" --log-level 7
	eval "rpid=\$recv_${s}_pid"
	wait_for 20 grep -q "listening on" "$T/recv_$s.log" || fail "$s: receiver did not start: $(cat "$T/recv_$s.log")"
	"$QOESTOR_BIN/qoestor-ipfixgen" --stream "$s" --tcp "127.0.0.1:$port" --records "$n" \
		--long-strings "$long" --ie-file "$top/dictionaries/vasexperts-ie.xml" --tsv "$T/sent-$s.tsv" \
		>"$T/gen-$s.out" || fail "$s: ipfixgen failed"
	sent=$(sed -n 's/^total records=//p' "$T/gen-$s.out")
	expect_eq "$sent" "$n" "$s: records ipfixgen sent"
	wait_for 60 grep -q "connection closed (end of stream) after $n records" "$T/recv_$s.log" ||
		fail "$s: the receiver did not read $n records: $(tail -5 "$T/recv_$s.log")"
	kill -TERM "$rpid"
	i=0
	while kill -0 "$rpid" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 600 ] || fail "$s: receiver did not exit after SIGTERM"; wait_tick
	done
	wait "$rpid" || fail "$s: receiver exit status $? after SIGTERM"
	files=$(find "$T/spool/$s" -name '*.qsp' | sort)
	[ -n "$files" ] || fail "$s: no spool file published"
	# shellcheck disable=SC2086
	"$QOESTOR_BIN/qoestor-spool" cat --raw-time --no-header $files >"$T/got-$s.tsv" || fail "$s: spool unreadable"
	got=$(wc -l <"$T/got-$s.tsv")
	expect_eq "$got" "$n" "$s: rows in the spool"
	cmp -s "$T/got-$s.tsv" "$T/sent-$s.tsv" || {
		diff "$T/sent-$s.tsv" "$T/got-$s.tsv" | head -5
		fail "$s: spool rows differ from what was sent"
	}
	! grep -E " (error|critical):" "$T/recv_$s.log" || fail "$s: errors in the receiver log"
	# every column the template carries landed: no column of a sent element is all \N
	note "$s: $n records sent, $got rows read back, identical"
}

check_stream fullflow 20000 3000
check_stream clickstream 5000 9000
check_stream natflow 3000 0
check_stream gtpflow 3000 0

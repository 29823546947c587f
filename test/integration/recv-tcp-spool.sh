#!/bin/sh
# recv-tcp-spool.sh: qoestor-ipfixgen -> qoestor-recv over TCP -> spool files,
# for every DPI template (fullflow and clickstream IPv4 + IPv6, natflow,
# gtpflow), with long and awkward varlen strings. What qoestor-spool reads back
# must equal, row for row and value for value, what ipfixgen says it sent;
# over TCP the counts are exact. Also: SIGTERM publishes and exits 0, and the
# receiver's log holds no error. Fullflow once more with --spool-uncompressed
# (data blocks with codec none, the same rows).
. "$(dirname "$0")/../lib.sh"

check_stream() { # stream records long-strings [tag receiver-options...]
	s=$1 n=$2 long=$3 tag=${4:-}
	shift 3
	[ $# -gt 0 ] && shift
	port=$(free_port)
	bg "recv_$s$tag" "$QOESTOR_BIN/qoestor-recv" --stream "$s" --listen "tcp://127.0.0.1:$port" \
		--spool "$T/spool$tag" --ie-file "$top/dictionaries/vasexperts-ie.xml" --log-level 7 "$@"
	eval "rpid=\$recv_$s${tag}_pid"
	wait_for 20 grep -q "listening on" "$T/recv_$s$tag.log" || fail "$s: receiver did not start: $(cat "$T/recv_$s$tag.log")"
	"$QOESTOR_BIN/qoestor-ipfixgen" --stream "$s" --tcp "127.0.0.1:$port" --records "$n" \
		--long-strings "$long" --ie-file "$top/dictionaries/vasexperts-ie.xml" --tsv "$T/sent-$s.tsv" \
		>"$T/gen-$s.out" || fail "$s: ipfixgen failed"
	sent=$(sed -n 's/^total records=//p' "$T/gen-$s.out")
	expect_eq "$sent" "$n" "$s: records ipfixgen sent"
	wait_for 60 grep -q "connection closed (end of stream) after $n records" "$T/recv_$s$tag.log" ||
		fail "$s: the receiver did not read $n records: $(tail -5 "$T/recv_$s$tag.log")"
	kill -TERM "$rpid"
	i=0
	while kill -0 "$rpid" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 600 ] || fail "$s: receiver did not exit after SIGTERM"; wait_tick
	done
	wait "$rpid" || fail "$s: receiver exit status $? after SIGTERM"
	files=$(find "$T/spool$tag/$s" -name '*.qsp' | sort)
	[ -n "$files" ] || fail "$s: no spool file published"
	# shellcheck disable=SC2086
	"$QOESTOR_BIN/qoestor-spool" cat --raw-time --no-header $files >"$T/got-$s.tsv" || fail "$s: spool unreadable"
	got=$(wc -l <"$T/got-$s.tsv")
	expect_eq "$got" "$n" "$s: rows in the spool"
	cmp -s "$T/got-$s.tsv" "$T/sent-$s.tsv" || {
		diff "$T/sent-$s.tsv" "$T/got-$s.tsv" | head -5
		fail "$s: spool rows differ from what was sent"
	}
	! grep -E " (error|critical):" "$T/recv_$s$tag.log" || fail "$s: errors in the receiver log"
	# every column the template carries landed: no column of a sent element is all \N
	note "$s$tag: $n records sent, $got rows read back, identical"
}

check_stream fullflow 20000 3000
check_stream clickstream 5000 9000
check_stream natflow 3000 0
check_stream gtpflow 3000 0
check_stream fullflow 20000 3000 _raw --spool-uncompressed
# shellcheck disable=SC2046
"$QOESTOR_BIN/qoestor-spool" check $(find "$T/spool_raw" -name '*.qsp') >/dev/null || fail "uncompressed files do not verify"
codec_of() { # the codec byte of a file's first block (docs/SPOOL-FORMAT.md: header length at 12)
	hl=$(od -An -tu4 -j12 -N4 "$1" | tr -d ' ')
	od -An -tu1 -j$((hl + 5)) -N1 "$1" | tr -d ' '
}
for f in $(find "$T/spool_raw/fullflow" -name '*.qsp'); do
	expect_eq "$(codec_of "$f")" 0 "--spool-uncompressed: codec of the first block of $f"
done
for f in $(find "$T/spool/fullflow" -name '*.qsp'); do
	expect_eq "$(codec_of "$f")" 1 "default: codec (zstd) of the first block of $f"
done

#!/bin/sh
# loader-e2e.sh: end to end with real processes only: qoestor-ipfixgen ->
# qoestor-recv (TCP) -> spool -> qoestor-loader (daemon) -> qoestor-db.
#
# fullflow with long strings (tabs, newlines, quotes, UTF-8: the CSV path),
# then clickstream. count(), sum(octets), sum(packets) and the per-login
# totals in fullflow equal what the generator sent (its --tsv of every
# record); fullflow_agg totals equal the raw ones; the clickstream strings
# (login, host, path) arrive byte for byte; clickstream_agg counts every request.
. "$(dirname "$0")/../lib.sh"

start_db
S="$T/spool"
RPORT=$(free_port)
CPORT=$(free_port)
bg recv "$QOESTOR_BIN/qoestor-recv" --stream fullflow --listen "tcp://127.0.0.1:$RPORT" --spool "$S" --rotate-seconds 3600 \
	--ie-file "$top/dictionaries/vasexperts-ie.xml"
bg recvc "$QOESTOR_BIN/qoestor-recv" --stream clickstream --listen "tcp://127.0.0.1:$CPORT" --spool "$S" --rotate-seconds 3600 \
	--delay-seconds 0 --ie-file "$top/dictionaries/vasexperts-ie.xml"
bg ld "$QOESTOR_BIN/qoestor-loader" --spool "$S" --clickhouse "$DB_URL" --rescan-seconds 1
listening() { python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1).close()" "$1"; }
wait_for 30 listening "$RPORT" || { cat "$T/recv.log"; fail "qoestor-recv (fullflow) not listening"; }
wait_for 30 listening "$CPORT" || { cat "$T/recvc.log"; fail "qoestor-recv (clickstream) not listening"; }

note "fullflow: 60000 records with long strings over TCP"
"$QOESTOR_BIN/qoestor-ipfixgen" --stream fullflow --tcp "127.0.0.1:$RPORT" --records 60000 --long-strings 300 --seed 5 \
	--tsv "$T/ff.tsv" > "$T/ff.txt" || fail "ipfixgen fullflow"
kill -HUP "$recv_pid"
want_rows=$(sed -n 's/^total records=//p' "$T/ff.txt")
want_oct=$(awk '/^template=/ { for (i = 1; i <= NF; i++) if ($i ~ /^octets=/) { sub("octets=", "", $i); s += $i } } END { printf "%.0f", s }' "$T/ff.txt")
want_pk=$(awk '/^template=/ { for (i = 1; i <= NF; i++) if ($i ~ /^packets=/) { sub("packets=", "", $i); s += $i } } END { printf "%.0f", s }' "$T/ff.txt")
loaded() { [ "$(q "SELECT count() FROM qoestor.fullflow" 2>/dev/null)" = "$want_rows" ]; }
wait_for 120 loaded || { tail -n 5 "$T/recv.log" "$T/ld.log"; fail "fullflow rows: $(q "SELECT count() FROM qoestor.fullflow"), want $want_rows"; }
expect_eq "$(q "SELECT count(), sum(octets), sum(packets) FROM qoestor.fullflow FORMAT TSV")" \
	"$(printf '%s\t%s\t%s' "$want_rows" "$want_oct" "$want_pk")" "fullflow totals vs the generator"
# Per login from the generator's TSV: every schema column in order (computed ones as \N).
cols=$("$QOESTOR_BIN/qoestor-schema" columns fullflow | cut -f1)
li=$(echo "$cols" | grep -nx login | cut -d: -f1)
oi=$(echo "$cols" | grep -nx octets | cut -d: -f1)
[ -n "$li" ] && [ -n "$oi" ] || fail "login/octets columns not found in the schema listing"
awk -F'\t' -v l="$li" -v o="$oi" '{ n[$l]++; s[$l] += $o } END { for (k in n) printf "%s\t%d\t%.0f\n", k, n[k], s[k] }' "$T/ff.tsv" | LC_ALL=C sort > "$T/want.tsv"
q "SELECT login, count(), sum(octets) FROM qoestor.fullflow GROUP BY login FORMAT TSV" | LC_ALL=C sort > "$T/got.tsv"
[ "$(wc -l < "$T/want.tsv")" -gt 10 ] || fail "too few logins in the generator's TSV"
cmp -s "$T/want.tsv" "$T/got.tsv" || { diff "$T/want.tsv" "$T/got.tsv" | head -5; fail "per-login totals differ"; }
aggok() { [ "$(q "SELECT sum(records), sum(octets) FROM qoestor.fullflow_agg FORMAT TSV")" = "$(printf '%s\t%s' "$want_rows" "$want_oct")" ]; }
wait_for 30 aggok || fail "fullflow_agg totals: $(q "SELECT sum(records), sum(octets) FROM qoestor.fullflow_agg FORMAT TSV")"

note "clickstream: strings byte for byte"
"$QOESTOR_BIN/qoestor-ipfixgen" --stream clickstream --tcp "127.0.0.1:$CPORT" --records 20000 --long-strings 300 --seed 6 \
	--tsv "$T/cs.tsv" > "$T/cs.txt" || fail "ipfixgen clickstream"
kill -HUP "$recvc_pid"
want_cs=$(sed -n 's/^total records=//p' "$T/cs.txt")
csloaded() { [ "$(q "SELECT count() FROM qoestor.clickstream" 2>/dev/null)" = "$want_cs" ]; }
wait_for 120 csloaded || { tail -n 5 "$T/recvc.log" "$T/ld.log"; fail "clickstream rows"; }
ccols=$("$QOESTOR_BIN/qoestor-schema" columns clickstream | cut -f1)
cl=$(echo "$ccols" | grep -nx login | cut -d: -f1)
ch=$(echo "$ccols" | grep -nx host | cut -d: -f1)
cp_=$(echo "$ccols" | grep -nx path | cut -d: -f1)
awk -F'\t' -v a="$cl" -v b="$ch" -v c="$cp_" '{ print $a "\t" $b "\t" $c }' "$T/cs.tsv" | LC_ALL=C sort | md5sum > "$T/cs.want"
q "SELECT login, host, path FROM qoestor.clickstream FORMAT TSV" | LC_ALL=C sort | md5sum > "$T/cs.got"
cmp -s "$T/cs.want" "$T/cs.got" || fail "clickstream login/host/path differ from what was sent"
csagg() { [ "$(q "SELECT sum(requests) FROM qoestor.clickstream_agg")" = "$want_cs" ]; }
wait_for 30 csagg || fail "clickstream_agg requests"
exit 0

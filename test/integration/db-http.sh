#!/bin/sh
# db-http.sh: qoestor-db speaks ClickHouse's HTTP interface, against the real engine.
# Inserts (plain, gzip, zstd, large bodies through the file fast path), read-back,
# parameters and settings, errors with ClickHouse codes and statuses, GET read-only,
# concurrent clients, one instance per data directory, clean shutdown and restart.
. "$(dirname "$0")/../lib.sh"

start_db
# First, while the process is fresh: its peak RSS shows whether a large result was held.
note "large results stream through bounded memory; an error mid-stream ends the body with its message"
hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$db_pid/status"; }
before=$(hwm)
bytes=$(curl -sS --fail-with-body "$DB_URL/?query=SELECT%20number,%20toString(number)%20FROM%20numbers(20000000)%20FORMAT%20CSV" | wc -c)
expect_eq "$bytes" "$(python3 -c 'print(sum(2 * len(str(i)) + 4 for i in range(20000000)))')" "bytes of a 20M-row CSV result"
grew=$(( ($(hwm) - before) / 1024 ))
note "peak RSS grew by $grew MiB for a $((bytes / 1048576)) MiB result"
[ "$grew" -lt 128 ] || fail "peak RSS grew by $grew MiB for a $((bytes / 1048576)) MiB result: the result was not streamed"
curl -sS -D "$T/shdr" -o "$T/sbody" "$DB_URL/?query=SELECT%20throwIf(number%20%3D%203000000)%20FROM%20numbers(5000000)"
head -1 "$T/shdr" | grep -q " 200" || fail "mid-stream error: status $(head -1 "$T/shdr")"
grep -qi "^Transfer-Encoding: chunked" "$T/shdr" || fail "streamed result not chunked: $(cat "$T/shdr")"
tail -1 "$T/sbody" | grep -q "^Code: 395\. DB::Exception" || fail "mid-stream error not at the end of the body: $(tail -c 300 "$T/sbody")"

note "ping and SELECT 1"
expect_eq "$(curl -sS "$DB_URL/ping")" "Ok." "/ping"
expect_eq "$(curl -sS "$DB_URL/")" "Ok." "GET /"
expect_eq "$(curl -sS "$DB_URL/?query=SELECT%201")" "1" "SELECT 1 by GET"
expect_eq "$(q 'SELECT 1+1')" "2" "SELECT by POST body"

q "CREATE DATABASE IF NOT EXISTS t1" >/dev/null
q "CREATE TABLE t1.rows (id UInt64, host String, ip IPv4, ts DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY id" >/dev/null
ins="$DB_URL/?query=INSERT%20INTO%20t1.rows%20FORMAT%20CSV"

note "CSV inserts: plain, gzip, zstd"
printf '1,"a.example",10.0.0.1,2024-01-01 00:00:00.001\n2,"b,quoted",10.0.0.2,2024-01-01 00:00:00.002\n' >"$T/p.csv"
curl -sS --fail-with-body --data-binary @"$T/p.csv" "$ins"
printf '3,"gz",10.0.0.3,2024-01-01 00:00:00.003\n' | gzip -c >"$T/g.csv.gz"
curl -sS --fail-with-body -H 'Content-Encoding: gzip' --data-binary @"$T/g.csv.gz" "$ins"
printf '4,"zs",10.0.0.4,2024-01-01 00:00:00.004\n' | zstd -q -c >"$T/z.csv.zst"
curl -sS --fail-with-body -H 'Content-Encoding: zstd' --data-binary @"$T/z.csv.zst" "$ins"
expect_eq "$(q 'SELECT count(), sum(id), groupArray(host) FROM (SELECT * FROM t1.rows ORDER BY id) FORMAT CSV')" \
	"4,10,\"['a.example','b,quoted','gz','zs']\"" "read back"
expect_eq "$(q "SELECT toString(ts) FROM t1.rows WHERE id = 2")" "2024-01-01 00:00:00.002" "DateTime64 in UTC"

note "large bodies (spilled to a file, parsed in parallel): plain and zstd, 300000 rows each"
python3 -c '
import sys
w = sys.stdout.write
for i in range(1000, 301000):
    w("%d,\"h%d.example.com\",10.%d.%d.%d,2024-01-02 00:00:%02d.%03d\n" % (i, i % 977, i % 256, (i >> 8) % 256, i % 199, i % 60, i % 1000))
' >"$T/big.csv"
curl -sS --fail-with-body --data-binary @"$T/big.csv" "$ins"
awk -F, '{ $1 = $1 + 1000000; print }' OFS=, "$T/big.csv" | zstd -q -c >"$T/big2.csv.zst"
curl -sS --fail-with-body -H 'Content-Encoding: zstd' --data-binary @"$T/big2.csv.zst" "$ins"
expect_eq "$(q 'SELECT count(), sum(id) FROM t1.rows WHERE id >= 1000 FORMAT CSV')" \
	"600000,$(python3 -c 'print(sum(range(1000,301000)) + sum(range(1001000,1301000)))')" "large inserts"
ls "$T/db/tmp" | grep -q body- && fail "request body files left in $T/db/tmp"

note "database, default_format, settings and query parameters from the URL"
expect_eq "$(curl -sS "$DB_URL/?database=t1&query=SELECT%20count()%20FROM%20rows%20WHERE%20id%20%3C%205")" "4" "database="
expect_eq "$(curl -sS "$DB_URL/?default_format=JSONEachRow&query=SELECT%201%20AS%20x")" '{"x":1}' "default_format="
expect_eq "$(curl -sS "$DB_URL/?max_threads=3&query=SELECT%20getSetting('max_threads')")" "3" "setting in URL"
expect_eq "$(curl -sS "$DB_URL/?query=SELECT%20getSetting('max_threads')%20=%203")" "0" "settings do not leak between requests"
expect_eq "$(curl -sS --get --data-urlencode "query=SELECT {n:UInt32} + 1, {s:String}" --data-urlencode "param_n=41" --data-urlencode "param_s=it's" "$DB_URL/")" "$(printf "42\tit\\\\'s")" "query parameters"
hdr=$(curl -sS -D - -o /dev/null "$DB_URL/?query=SELECT%201%20FORMAT%20CSV&query_id=abc-123")
echo "$hdr" | grep -qi '^X-ClickHouse-Query-Id: abc-123' || fail "query_id not echoed: $hdr"
echo "$hdr" | grep -qi '^Content-Type: text/csv' || fail "CSV content type: $hdr"

note "errors carry ClickHouse's code, message and status"
code=$(curl -sS -o "$T/err" -w '%{http_code}' -D "$T/hdr" "$DB_URL/?query=SELEC%201")
expect_eq "$code" "400" "status of a syntax error"
grep -qi '^X-ClickHouse-Exception-Code: 62' "$T/hdr" || fail "no exception code 62 header"
grep -q '^Code: 62\. DB::Exception: Syntax error' "$T/err" || fail "message: $(cat "$T/err")"
code=$(curl -sS -o "$T/err" -w '%{http_code}' -D "$T/hdr" "$DB_URL/?query=SELECT%20*%20FROM%20t1.nope")
expect_eq "$code" "404" "status of an unknown table"
grep -qi '^X-ClickHouse-Exception-Code: 60' "$T/hdr" || fail "no exception code 60 header"
code=$(printf 'x,not-a-number\n' | curl -sS -o "$T/err" -w '%{http_code}' --data-binary @- "$ins")
[ "$code" -ge 400 ] || fail "a bad CSV row was accepted ($code)"
code=$(printf 'not gzip' | curl -sS -o "$T/err" -w '%{http_code}' -H 'Content-Encoding: gzip' --data-binary @- "$ins")
[ "$code" -ge 400 ] || fail "a corrupt gzip body was accepted"
grep -q "gzip" "$T/err" || fail "corrupt gzip message: $(cat "$T/err")"
code=$(curl -sS -o "$T/err" -w '%{http_code}' -H 'Content-Encoding: br' --data-binary 'x' "$ins")
expect_eq "$code" "400" "unsupported Content-Encoding"

code=$(curl -sS -o "$T/err" -w '%{http_code}' "$DB_URL/?compress=1&query=SELECT%201")
expect_eq "$code" "400" "compress=1 (native compression) is refused, not ignored"
grep -q "not supported by qoestor-db" "$T/err" || fail "compress=1 message: $(cat "$T/err")"

note "GET is read-only, as in ClickHouse"
code=$(curl -sS -o "$T/err" -w '%{http_code}' "$DB_URL/?query=CREATE%20TABLE%20t1.x%20(a%20UInt8)%20ENGINE%3DMemory")
expect_eq "$code" "403" "CREATE by GET"
grep -q "READONLY" "$T/err" || fail "readonly message: $(cat "$T/err")"

note "concurrent clients: 8 writers x 25 inserts, 4 readers"
q "CREATE TABLE t1.conc (w UInt32, i UInt32) ENGINE = MergeTree ORDER BY (w, i)" >/dev/null
clients=""
for w in 1 2 3 4 5 6 7 8; do
	(
		i=0
		while [ $i -lt 25 ]; do
			printf '%d,%d\n' "$w" "$i" | curl -sS --fail-with-body --data-binary @- "$DB_URL/?query=INSERT%20INTO%20t1.conc%20FORMAT%20CSV" || exit 1
			i=$((i + 1))
		done
	) &
	clients="$clients $!"
done
for r in 1 2 3 4; do
	( i=0; while [ $i -lt 25 ]; do curl -sS --fail-with-body "$DB_URL/?query=SELECT%20count()%20FROM%20t1.conc" >/dev/null || exit 1; i=$((i + 1)); done ) &
	clients="$clients $!"
done
for p in $clients; do wait "$p" || fail "a concurrent client failed"; done
expect_eq "$(q 'SELECT count(), uniqExact(w, i) FROM t1.conc FORMAT CSV')" "200,200" "concurrent inserts"

note "a second instance on the same data directory refuses to start"
set +e
"$QOESTOR_DB_BIN/qoestor-db" --listen "127.0.0.1:$(free_port)" --path "$T/db" >"$T/second.log" 2>&1
rc=$?
set -e
expect_eq "$rc" "1" "exit code of a second instance"
grep -q "in use by another qoestor-db" "$T/second.log" || fail "second instance message: $(cat "$T/second.log")"

note "SIGTERM: clean exit 0, data kept across a restart"
kill -TERM "$db_pid"
set +e
wait "$db_pid"
rc=$?
set -e
expect_eq "$rc" "0" "exit code after SIGTERM"
grep -q "stopped cleanly" "$T/db.log" || fail "no clean stop line"
start_db
expect_eq "$(q 'SELECT count() FROM t1.rows')" "600004" "rows after restart"

note "authentication"
kill -TERM "$db_pid"; wait "$db_pid" || true
printf 's3cret\n' >"$T/pw"
start_db --user alice --password-file "$T/pw"
expect_eq "$(curl -sS "$DB_URL/ping")" "Ok." "/ping needs no credentials"
code=$(curl -sS -o "$T/err" -w '%{http_code}' -D "$T/hdr" "$DB_URL/?query=SELECT%201")
expect_eq "$code" "403" "no credentials"
grep -qi '^X-ClickHouse-Exception-Code: 516' "$T/hdr" || fail "no 516 header"
grep -q "AUTHENTICATION_FAILED" "$T/err" || fail "auth message: $(cat "$T/err")"
code=$(curl -sS -o /dev/null -w '%{http_code}' -u alice:wrong "$DB_URL/?query=SELECT%201")
expect_eq "$code" "403" "wrong password"
expect_eq "$(curl -sS -u alice:s3cret "$DB_URL/?query=SELECT%201")" "1" "basic auth"
expect_eq "$(curl -sS -H 'X-ClickHouse-User: alice' -H 'X-ClickHouse-Key: s3cret' "$DB_URL/?query=SELECT%201")" "1" "X-ClickHouse headers"
expect_eq "$(curl -sS "$DB_URL/?user=alice&password=s3cret&query=SELECT%201")" "1" "user/password parameters"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'X-ClickHouse-User: bob' -H 'X-ClickHouse-Key: s3cret' "$DB_URL/?query=SELECT%201")
expect_eq "$code" "403" "unknown user"
note "ok"

note "--config: the db: section of qoestor.yaml gives the defaults, the command line overrides"
kill -TERM "$db_pid"; wait "$db_pid" || true
cport=$(free_port)
printf 'db:\n  listen: 127.0.0.1:%s\n  path: %s\n  user: carol\n  password_file: %s\n' "$cport" "$T/cfgdb" "$T/pw" >"$T/q.yaml"
"$QOESTOR_DB_BIN/qoestor-db" --config "$T/q.yaml" --check-config >"$T/check.out"
grep -q "listen: 127.0.0.1:$cport" "$T/check.out" || fail "--check-config output: $(cat "$T/check.out")"
printf 'db:\n  listen: 127.0.0.1:99999\n  colour: blue\n' >"$T/bad.yaml"
set +e
"$QOESTOR_DB_BIN/qoestor-db" --config "$T/bad.yaml" --check-config >/dev/null 2>"$T/bad.err"
rc=$?
set -e
expect_eq "$rc" "1" "exit code of --check-config on a bad file"
grep -q "bad.yaml:2:" "$T/bad.err" || fail "bad listen not named with its line: $(cat "$T/bad.err")"
grep -q "bad.yaml:3:" "$T/bad.err" || fail "unknown key not named with its line: $(cat "$T/bad.err")"
bg cfgdb "$QOESTOR_DB_BIN/qoestor-db" --config "$T/q.yaml"
wait_for 60 curl -sf "http://127.0.0.1:$cport/ping" || { cat "$T/cfgdb.log"; fail "qoestor-db from --config did not start"; }
expect_eq "$(curl -sS -u carol:s3cret "http://127.0.0.1:$cport/?query=SELECT%201")" "1" "user and password file from the config"
[ -d "$T/cfgdb" ] || fail "data directory from the config not created"
note "ok"

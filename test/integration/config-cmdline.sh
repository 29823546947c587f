#!/bin/sh
# config-cmdline.sh: --config and --check-config on qoestor-db, qoestor-loader and
# qoestor-recv (real processes, real engine). One qoestor.yaml starts all three with
# the command line naming only the file (and, for a receiver, which one); a command-line
# option overrides the file's; a bad file is refused with FILE:LINE:COL by each program.
. "$(dirname "$0")/../lib.sh"
DB_PORT=$(free_port)
DB_URL="http://127.0.0.1:$DB_PORT"
RPORT=$(free_port)
mkdir -p "$T/spool"
cat >"$T/q.yaml" <<YAML
receivers:
  - dpi: 4
    fullflow:
      port: $RPORT
      rotate_minutes: 60
db:
  listen: 127.0.0.1:$DB_PORT
  path: $T/db
loader:
  clickhouse: [$DB_URL]
  raw_ttl_hours: 48
dictionaries:
  dir: $T/dict
paths:
  spool: $T/spool
  ie_file: $top/dictionaries/vasexperts-ie.xml
YAML
mkdir -p "$T/dict"

note "--check-config prints the effective settings and the command line they make"
"$QOESTOR_BIN/qoestor-loader" --config "$T/q.yaml" --check-config >"$T/lchk" || fail "loader --check-config"
grep -q -- "--raw-ttl-hours 48" "$T/lchk" || fail "loader command line: $(tail -1 "$T/lchk")"
"$QOESTOR_BIN/qoestor-loader" --config "$T/q.yaml" --check-config --raw-ttl-hours 72 >"$T/lchk2" || fail "override"
grep -q -- "--raw-ttl-hours 72" "$T/lchk2" || fail "override not in the command line: $(tail -1 "$T/lchk2")"
grep -q -- "--raw-ttl-hours 48" "$T/lchk2" && fail "the file's value is still passed next to the override"
"$QOESTOR_BIN/qoestor-recv" --config "$T/q.yaml" --instance fullflow-4 --check-config >"$T/rchk" || fail "recv --check-config"
grep -q -- "--listen tcp://127.0.0.1:$RPORT" "$T/rchk" || fail "recv command line: $(tail -1 "$T/rchk")"

note "a bad file: each program names FILE:LINE:COL and exits 1"
printf 'loader:\n  raw_ttl_hours: lots\n' >"$T/bad.yaml"
for p in qoestor-loader qoestor-recv; do
	set +e
	"$QOESTOR_BIN/$p" --config "$T/bad.yaml" --instance fullflow-0 --check-config >/dev/null 2>"$T/bad.err"
	rc=$?
	set -e
	expect_eq "$rc" "1" "$p exit code on a bad file"
	grep -q "bad.yaml:2:" "$T/bad.err" || fail "$p: $(cat "$T/bad.err")"
done
set +e
"$QOESTOR_BIN/qoestor-recv" --config "$T/q.yaml" --check-config >/dev/null 2>"$T/which.err"
rc=$?
set -e
expect_eq "$rc" "2" "recv --config without naming the receiver"
grep -q -- "--instance STREAM-DPI" "$T/which.err" || fail "message: $(cat "$T/which.err")"

note "db, loader and receiver from the file"
bg db "$QOESTOR_DB_BIN/qoestor-db" --config "$T/q.yaml"
wait_for 60 curl -sf "$DB_URL/ping" || { cat "$T/db.log"; fail "qoestor-db --config did not answer"; }
bg ld "$QOESTOR_BIN/qoestor-loader" --config "$T/q.yaml" --rescan-seconds 1
bg recv "$QOESTOR_BIN/qoestor-recv" --config "$T/q.yaml" --instance fullflow-4
listening() { python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1).close()" "$1"; }
wait_for 30 listening "$RPORT" || { cat "$T/recv.log"; fail "qoestor-recv not listening on $RPORT"; }
"$QOESTOR_BIN/qoestor-ipfixgen" --stream fullflow --tcp "127.0.0.1:$RPORT" --records 3000 --seed 5 >"$T/gen.txt" || fail "ipfixgen"
kill -HUP "$recv_pid"
want=$(sed -n 's/^total records=//p' "$T/gen.txt")
loaded() { [ "$(q "SELECT count() FROM qoestor.fullflow WHERE dpi_id = 4" 2>/dev/null)" = "$want" ]; }
wait_for 120 loaded || { tail -5 "$T/recv.log" "$T/ld.log"; fail "rows with dpi_id 4: $(q "SELECT count() FROM qoestor.fullflow"), want $want"; }
q "SELECT engine_full FROM system.tables WHERE database = 'qoestor' AND name = 'fullflow' FORMAT TabSeparatedRaw" |
	grep -q "toIntervalHour(48)" || fail "the loader did not apply the file's raw_ttl_hours"
note "ok"

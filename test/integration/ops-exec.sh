#!/bin/sh
# ops-exec.sh: the whole chain started the way the systemd units start it,
# from one qoestor.yaml: `qoestor-config exec db`, `exec loader`, `exec recv
# fullflow-3` (real processes, real ClickHouse engine). The generator sends
# 5000 fullflow records to the port the YAML gives DPI 3; after SIGHUP (the
# units' ExecReload) every record is in qoestor.fullflow with dpi_id 3, and
# `qoestor-config status` shows the receiver listening. Also: exec of a
# receiver the YAML does not configure fails with a clear message.
. "$(dirname "$0")/../lib.sh"
C="$QOESTOR_BIN/qoestor-config"
DB_PORT=$(free_port)
DB_URL="http://127.0.0.1:$DB_PORT"
RPORT=$(free_port)
mkdir -p "$T/spool" "$T/dict"
cat > "$T/qoestor.yaml" <<YAML
receivers:
  - dpi: 3
    fullflow:
      port: $RPORT
      rotate_minutes: 60
db:
  listen: 127.0.0.1:$DB_PORT
  path: $T/db
loader:
  clickhouse: [$DB_URL]
  rescan_seconds: 1
dictionaries:
  dir: $T/dict
paths:
  spool: $T/spool
  ie_file: $top/dictionaries/vasexperts-ie.xml
YAML
"$C" check "$T/qoestor.yaml" > /dev/null || fail "the test's config is refused"
export QOESTOR_CONFIG="$T/qoestor.yaml"

QOESTOR_BINDIR="$QOESTOR_DB_BIN" bg db "$C" exec db
wait_for 60 curl -sf "$DB_URL/ping" || { cat "$T/db.log"; fail "qoestor-db (exec db) did not answer"; }
QOESTOR_BINDIR="$QOESTOR_BIN" bg ld "$C" exec loader
QOESTOR_BINDIR="$QOESTOR_BIN" bg recv "$C" exec recv fullflow-3
listening() { python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1).close()" "$1"; }
wait_for 30 listening "$RPORT" || { cat "$T/recv.log"; fail "qoestor-recv (exec recv fullflow-3) not listening on $RPORT"; }
ps -o args= -p "$recv_pid" | grep -q "qoestor-recv --instance fullflow-3 --listen tcp://127.0.0.1:$RPORT --spool $T/spool" ||
	{ ps -o args= -p "$recv_pid"; fail "exec did not replace itself with qoestor-recv and the YAML's options"; }

"$C" status > "$T/status.out" 2>&1 || fail "status failed"
grep -q "qoestor-recv@fullflow-3 .* tcp 127.0.0.1:$RPORT *yes" "$T/status.out" || { cat "$T/status.out"; fail "status does not show the receiver listening"; }
grep -q "qoestor-db .* http 127.0.0.1:$DB_PORT *yes" "$T/status.out" || { cat "$T/status.out"; fail "status does not show qoestor-db listening"; }

"$QOESTOR_BIN/qoestor-ipfixgen" --stream fullflow --tcp "127.0.0.1:$RPORT" --records 5000 --seed 11 > "$T/gen.txt" || fail "ipfixgen"
kill -HUP "$recv_pid"
want=$(sed -n 's/^total records=//p' "$T/gen.txt")
loaded() { [ "$(q "SELECT count() FROM qoestor.fullflow WHERE dpi_id = 3" 2>/dev/null)" = "$want" ]; }
wait_for 120 loaded || { tail -5 "$T/recv.log" "$T/ld.log"; fail "rows with dpi_id 3: $(q "SELECT count() FROM qoestor.fullflow"), want $want"; }
expect_eq "$(q "SELECT count() FROM qoestor.fullflow WHERE dpi_id != 3")" 0 "rows of another DPI"

rc=0
QOESTOR_BINDIR="$QOESTOR_BIN" "$C" exec recv clickstream-3 > "$T/noclick.out" 2>&1 || rc=$?
expect_eq "$rc" 1 "exec of an unconfigured receiver"
grep -q "no receiver clickstream for DPI 3" "$T/noclick.out" || { cat "$T/noclick.out"; fail "message"; }
echo "ops-exec: ok"

#!/bin/sh
# tools/bench-loader-e2e.sh: sustained end-to-end load, real processes only:
# qoestor-ipfixgen (TCP, --rate) -> qoestor-recv (rotating every 10 s) ->
# spool -> qoestor-loader (daemon) -> qoestor-db.
#
# Sends RATE fullflow records per second for SECONDS seconds, then publishes
# the receiver's last file (SIGHUP) and waits for the loader to drain. Prints
# records sent and stored (loss must be 0), how long the drain took after the
# generator stopped (a backlog that keeps growing shows there), the loader's
# peak RSS (VmHWM) and the CPU seconds of each process.
# Usage: tools/bench-loader-e2e.sh [SECONDS] [RATE]   (default 180 s at 300000/s)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-180}
rate=${2:-300000}
T=$(mktemp -d "${TMPDIR:-/tmp}/qoestor-bench-e2e.XXXXXX")
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"' EXIT
cd "$top"
make -s bin/qoestor-db bin/qoestor-loader bin/qoestor-recv bin/qoestor-ipfixgen
fp() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(fp); rport=$(fp)
url="http://127.0.0.1:$port"
bin/qoestor-db --listen "127.0.0.1:$port" --path "$T/db" > "$T/db.log" 2>&1 & db=$!; pids="$pids $db"
i=0; until curl -sf "$url/ping" >/dev/null; do i=$((i+1)); [ $i -lt 600 ] || exit 1; sleep 0.1; done
bin/qoestor-recv --stream fullflow --listen "tcp://127.0.0.1:$rport" --spool "$T/spool" --rotate-seconds 10 \
	> "$T/recv.log" 2>&1 & recv=$!; pids="$pids $recv"
bin/qoestor-loader --spool "$T/spool" --clickhouse "$url" --rescan-seconds 2 > "$T/loader.log" 2>&1 & ld=$!; pids="$pids $ld"
i=0; until python3 -c "import socket; socket.create_connection(('127.0.0.1', $rport), 1).close()" 2>/dev/null; do
	i=$((i+1)); [ $i -lt 300 ] || { cat "$T/recv.log"; exit 1; }; sleep 0.1; done
q() { curl -sS --data-binary "$1" "$url/"; }
cpu() { awk '{printf "%.1f", ($14 + $15) / '"$(getconf CLK_TCK)"'}' "/proc/$1/stat"; }
n=$((secs * rate))
echo "sending $n fullflow records at $rate/s for $secs s"
t0=$(date +%s)
bin/qoestor-ipfixgen --stream fullflow --tcp "127.0.0.1:$rport" --records "$n" --rate "$rate" > "$T/gen.txt"
t1=$(date +%s)
sent=$(sed -n 's/^total records=//p' "$T/gen.txt")
kill -HUP "$recv"
until [ "$(q "SELECT count() FROM qoestor.fullflow")" = "$sent" ] && \
	[ "$(q "SELECT sum(records) FROM qoestor.fullflow_agg_15m")" = "$sent" ]; do
	[ $(( $(date +%s) - t1 )) -lt 600 ] || break
	sleep 1
done
t2=$(date +%s)
got=$(q "SELECT count() FROM qoestor.fullflow")
echo "sent $sent in $((t1 - t0)) s ($(( sent / (t1 - t0 > 0 ? t1 - t0 : 1) ))/s); stored $got; lost $((sent - got)); raw and aggregates complete $((t2 - t1)) s after the generator stopped"
echo "loader peak RSS $(awk '/VmHWM/ {print $2 / 1024 " MiB"}' /proc/$ld/status); CPU s: loader $(cpu $ld), receiver $(cpu $recv), qoestor-db $(cpu $db)"
echo "aggregates: $(q "SELECT sum(records), count() FROM qoestor.fullflow_agg_15m FORMAT TSV" | awk '{printf "%d records in %d rows (%.1fx)", $1, $2, $1 / $2}')"

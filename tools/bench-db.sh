#!/bin/sh
# tools/bench-db.sh: CSV INSERT throughput over HTTP into qoestor-db, fullflow-shaped rows.
#
# Starts a release qoestor-db on a free port with a fresh data directory, applies
# the schema, generates ROWS rows (default 1,000,000) over every stored column of
# qoestor.fullflow (types from the schema table: bin/qoestor-schema columns), and
# times INSERT ... FORMAT CSV bodies with curl:
#   1. one plain body (large: read by ClickHouse through FROM INFILE, parallel parse)
#   2. one zstd body (Content-Encoding: zstd, as the loader sends)
#   3. the same plain body passed inline (qoestor-db --spill-at 0-limit: no file)
#   4. 4 clients at once, ROWS/4 rows each, zstd
# The same rows are inserted four times, so deduplication is switched off for
# the bench (insert_deduplicate=0); the loader's inserts keep it on.
# Prints rows/s for each and the count check. Usage: tools/bench-db.sh [ROWS]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
rows=${1:-1000000}
T=$(mktemp -d "${TMPDIR:-/tmp}/qoestor-bench-db.XXXXXX")
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$T"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"

start() { # extra args
	"$top/bin/qoestor-db" --listen "127.0.0.1:$port" --path "$T/db" "$@" >>"$T/db.log" 2>&1 &
	pid=$!
	i=0; until curl -sf "$url/ping" >/dev/null; do i=$((i+1)); [ $i -lt 600 ] || { cat "$T/db.log"; exit 1; }; sleep 0.1; done
}
stop() { kill "$pid"; wait "$pid" || true; pid=""; }

start
"$top/bin/qoestor-loader" --clickhouse "$url" --init-db >/dev/null 2>&1
"$top/bin/qoestor-schema" columns fullflow | awk -F'\t' '$4 != "0x0020"' >"$T/cols"
cols=$(cut -f1 "$T/cols" | paste -sd, -)
python3 - "$T/cols" "$rows" >"$T/ff.csv" <<'PY'
import random, sys
random.seed(42)
cols = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
n = int(sys.argv[2])
hosts = ["h%d.example.com" % i for i in range(5000)]
logins = ["user%05d" % i for i in range(20000)]
import time
t0 = int(time.time() * 1000) - 3600 * 1000  # an hour ago: inside the raw retention
out = sys.stdout.write
def val(name, typ, i):
    if typ == "time_ms": return str(t0 + i * 3 + (5000 if "end" in name else 0))
    if typ == "time_s": return str(t0 // 1000 + i // 300)
    if typ == "ipv4": return "10.%d.%d.%d" % (i % 256, (i >> 8) % 256, (i * 7) % 254 + 1)
    if typ == "ipv6": return "::ffff:93.184.%d.%d" % (i % 256, (i >> 3) % 256) if name.endswith("_ip") else "::"
    if typ == "str":
        if name == "host": return hosts[(i * 31) % len(hosts)]
        if name == "login": return logins[(i * 17) % len(logins)]
        return ""
    if typ == "u8": return str(i % 3) if name in ("direction", "subscriber_side") else str(i % 8)
    if typ == "u16": return str((i * 13) % 65536)
    if typ == "u32": return str((i * 977) % 100000)
    if typ == "u64": return str(random.randint(40, 1500000)) if name == "octets" else str(i % 1000 + 1)
    return "0"
for i in range(n):
    out(",".join(val(c[0], c[1], i) for c in cols) + "\n")
PY
zstd -q -3 -c "$T/ff.csv" >"$T/ff.csv.zst"
split -n l/4 -d "$T/ff.csv" "$T/part."
for p in "$T"/part.0?; do zstd -q -3 "$p"; done
q="$url/?query=$(python3 -c "import urllib.parse,sys; print(urllib.parse.quote('INSERT INTO qoestor.fullflow (' + sys.argv[1] + ') FORMAT CSV'))" "$cols")&insert_deduplicate=0"
mb=$(du -m "$T/ff.csv" | cut -f1)
echo "fullflow-shaped rows: $rows, $(wc -l <"$T/cols") columns, CSV $mb MB, zstd $(du -m "$T/ff.csv.zst" | cut -f1) MB"

timed() { # label cmd...
	label=$1; shift
	s=$(date +%s.%N)
	"$@"
	e=$(date +%s.%N)
	python3 -c "import sys; d=float(sys.argv[2])-float(sys.argv[1]); print('%-44s %6.2f s %10.0f rows/s' % (sys.argv[3], d, int(sys.argv[4])/d))" "$s" "$e" "$label" "$rows"
}
post_plain() { curl -sS --fail-with-body --data-binary @"$T/ff.csv" "$q"; }
post_zstd() { curl -sS --fail-with-body -H 'Content-Encoding: zstd' --data-binary @"$T/ff.csv.zst" "$q"; }
post_parallel() {
	cpids=""
	for p in "$T"/part.0?.zst; do
		curl -sS --fail-with-body -H 'Content-Encoding: zstd' --data-binary @"$p" "$q" &
		cpids="$cpids $!"
	done
	for c in $cpids; do wait "$c"; done
}
timed "1 client, plain body (FROM INFILE path)" post_plain
timed "1 client, zstd body (FROM INFILE path)" post_zstd
timed "4 clients, zstd bodies" post_parallel
stop
start --spill-at 100000000000
timed "1 client, plain body passed inline" post_plain
got=$(curl -sS "$url/?query=SELECT%20count()%20FROM%20qoestor.fullflow")
[ "$got" -eq $((rows * 4)) ] || { echo "count mismatch: $got, want $((rows * 4))"; exit 1; }
echo "count check: $got rows = 4 x $rows"

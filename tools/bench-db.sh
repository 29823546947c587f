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
#   4. 4 clients at once, ROWS/4 rows each, zstd; then 2 and 4 clients with plain
#      bodies, three rounds each (the spread shows the machine's noise)
#   5. where the server's time goes: the plain body into a Null table (parsing
#      only), into fullflow without its skip indexes, and with LZ4 instead of
#      its codecs
#   6. merges of MERGE_PARTS (default 200; 0 skips) loader-sized parts, with the
#      raw tables' merge cap and without it (MERGE_ONLY=1: only this)
# The same rows are inserted several times, so each insert carries its own
# deduplication token, as the loader's do (identical blocks without a token are
# deduplicated by content).
# Prints rows/s for each and the count check. Usage: tools/bench-db.sh [ROWS]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
rows=${1:-1000000}
T=$(mktemp -d "${TMPDIR:-/tmp}/qoestor-bench-db.XXXXXX")
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$T"' EXIT
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
for p in "$T"/part.0?; do zstd -q -3 -k "$p"; done
split -n l/2 -d "$T/ff.csv" "$T/half."
q="$url/?query=$(python3 -c "import urllib.parse,sys; print(urllib.parse.quote('INSERT INTO qoestor.fullflow (' + sys.argv[1] + ') FORMAT CSV'))" "$cols")"
mb=$(du -m "$T/ff.csv" | cut -f1)
echo "fullflow-shaped rows: $rows, $(wc -l <"$T/cols") columns, CSV $mb MB, zstd $(du -m "$T/ff.csv.zst" | cut -f1) MB"

# CPU seconds (user+system) qoestor-db has used so far: the server's cost of
# the inserts, less sensitive than wall time to other work on a shared machine.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$pid/stat"; }
timed() { # label cmd...
	label=$1; shift
	c0=$(cpu)
	s=$(date +%s.%N)
	"$@"
	e=$(date +%s.%N)
	c1=$(cpu)
	python3 -c "import sys; d=float(sys.argv[2])-float(sys.argv[1]); c=float(sys.argv[6])-float(sys.argv[5]); n=int(sys.argv[4]); print('%-40s %6.2f s %9.0f rows/s %9.0f rows/server-CPU-s' % (sys.argv[3], d, n/d, n/c))" "$s" "$e" "$label" "$rows" "$c0" "$c1"
}

tok() { echo "&insert_deduplication_token=bench-$(date +%s%N)"; }
post_plain() { curl -sS --fail-with-body --data-binary @"$T/ff.csv" "$q$(tok)"; }
post_zstd() { curl -sS --fail-with-body -H 'Content-Encoding: zstd' --data-binary @"$T/ff.csv.zst" "$q$(tok)"; }
post_parallel() {
	cpids=""
	for p in "$T"/part.0?.zst; do
		curl -sS --fail-with-body -H 'Content-Encoding: zstd' --data-binary @"$p" "$q$(tok)" &
		cpids="$cpids $!"
	done
	for c in $cpids; do wait "$c"; done
}
post_clients() { # FILES...: one client per file, plain bodies
	cpids=""
	for p in "$@"; do
		curl -sS --fail-with-body --data-binary @"$p" "$q$(tok)" &
		cpids="$cpids $!"
	done
	for c in $cpids; do wait "$c"; done
}
post_2() { post_clients "$T"/half.0?; }
post_4() { post_clients "$T"/part.0[0-9]; }
if [ -n "${MERGE_ONLY:-}" ]; then
	post_plain >/dev/null
else
timed "1 client, plain body (FROM INFILE path)" post_plain
timed "1 client, zstd body (FROM INFILE path)" post_zstd
timed "4 clients, zstd bodies" post_parallel
for round in 1 2 3; do
	timed "2 clients, plain bodies (round $round)" post_2
	timed "4 clients, plain bodies (round $round)" post_4
done

# Where the server's time goes: the same body into variants of the table.
variant() { # name sed-free python transform of fullflow's DDL
	curl -sS "$url/?query=SELECT%20create_table_query%20FROM%20system.tables%20WHERE%20database%3D'qoestor'%20AND%20name%3D'fullflow'%20FORMAT%20RawBLOB" |
	python3 -c '
import re, sys
name, mode = sys.argv[1], sys.argv[2]
ddl = sys.stdin.read().replace("qoestor.fullflow", "qoestor." + name, 1)
def strip_codecs(s):
    out, i = [], 0
    while True:
        j = s.find(" CODEC(", i)
        if j < 0:
            out.append(s[i:]); return "".join(out)
        out.append(s[i:j]); k = j + 7; depth = 1
        while depth:
            depth += {"(": 1, ")": -1}.get(s[k], 0); k += 1
        i = k
if mode in ("lz4", "lz4-noidx"): ddl = strip_codecs(ddl)
if mode in ("noidx", "lz4-noidx"): ddl = re.sub(r", INDEX \w+ \w+ TYPE bloom_filter\([0-9.]*\) GRANULARITY \d+", "", ddl)
if mode == "null": ddl = "CREATE TABLE qoestor.%s AS qoestor.fullflow ENGINE = Null" % name
print(ddl)' "$1" "$2" | curl -sS --fail-with-body --data-binary @- "$url/"
}
variant ff_null null
variant ff_noidx noidx
variant ff_lz4 lz4-noidx
qv() { curl -sS --fail-with-body --data-binary @"$T/ff.csv" "$url/?query=$(python3 -c "import urllib.parse,sys; print(urllib.parse.quote('INSERT INTO qoestor.' + sys.argv[2] + ' (' + sys.argv[1] + ') FORMAT CSV'))" "$cols" "$1")$(tok)"; }
timed "  parse only (Null engine)" qv ff_null
timed "  fullflow without skip indexes" qv ff_noidx
timed "  ... and LZ4 instead of the codecs" qv ff_lz4
timed "  fullflow as defined (again)" qv fullflow
stop
start --spill-at 100000000000
timed "1 client, plain body passed inline" post_plain
got=$(curl -sS "$url/?query=SELECT%20count()%20FROM%20qoestor.fullflow")
[ "$got" -eq $((rows * 11)) ] || { echo "count mismatch: $got, want $((rows * 11))"; exit 1; }
echo "count check: $got rows = 11 x $rows"
fi

# 6. Merges of the raw table, capped (the schema's max_bytes_to_merge_at_max_space_in_pool)
#    against uncapped (ClickHouse's default, 150 GiB): MERGE_PARTS parts of 262,144 rows
#    (the loader's INSERT size, ~12 MiB: session, volume and AS columns drawn at random,
#    anew for each insert, so parts and their merges are about as large as the loader's)
#    are inserted one after another while merges
#    run, as under a sustained load; then merges run until none is left to do. Rows merged
#    per row inserted and the server CPU from the first insert on are the cost.
parts=${MERGE_PARTS:-200}
[ "$parts" -gt 0 ] || exit 0
sq() { curl -sS --fail-with-body --data-binary "$1" "$url/"; }
sq "CREATE TABLE qoestor.ff_src AS qoestor.fullflow"
sq "INSERT INTO qoestor.ff_src SELECT * REPLACE (rand64() AS session_id, rand64() % 1500000 AS octets,
	rand64() % 1000 AS packets, rand() AS host_as, rand() AS subscriber_as) FROM qoestor.fullflow LIMIT 262144"
for mode in capped uncapped; do
	t=qoestor.ff_$mode
	sq "CREATE TABLE $t AS qoestor.fullflow"
	[ $mode = capped ] || sq "ALTER TABLE $t MODIFY SETTING max_bytes_to_merge_at_max_space_in_pool = 161061273600"
	m0=$(sq "SELECT sum(value) FROM system.events WHERE event = 'MergedRows'")
	c0=$(cpu); s0=$(date +%s)
	i=0; while [ $i -lt "$parts" ]; do sq "INSERT INTO $t SELECT * REPLACE (rand64() AS session_id, rand64() % 1500000 AS octets)
		FROM qoestor.ff_src SETTINGS insert_deduplicate = 0"; i=$((i+1)); done
	idle=0 last=""
	while [ $idle -lt 5 ] && [ $(( $(date +%s) - s0 )) -lt 1800 ]; do
		sleep 1
		now=$(sq "SELECT (SELECT count() FROM system.merges) || '/' || (SELECT count() FROM system.parts WHERE active AND database = 'qoestor' AND table = 'ff_$mode')")
		if [ "${now%/*}" = 0 ] && [ "$now" = "$last" ]; then idle=$((idle+1)); else idle=0; fi
		last=$now
	done
	c1=$(cpu)
	m1=$(sq "SELECT sum(value) FROM system.events WHERE event = 'MergedRows'")
	sq "SELECT '$mode: $parts inserts of 262144 rows -> ' || toString(count()) || ' parts (largest ' ||
		formatReadableSize(max(bytes_on_disk)) || ', all ' || formatReadableSize(sum(bytes_on_disk)) || '), rows merged ' ||
		toString($m1 - $m0) || ' (' || toString(round(($m1 - $m0) / ($parts * 262144), 2)) ||
		' per row inserted), server CPU ' || toString(round($c1 - $c0, 1)) || ' s (inserts and merges)'
		FROM system.parts WHERE active AND database = 'qoestor' AND table = 'ff_$mode' FORMAT TSVRaw"
done

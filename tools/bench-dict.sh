#!/bin/sh
# bench-dict.sh: dictionary benchmarks end to end, standalone.
#   1. bench-dict: parse+validate time of 1,000,000-line subnets_local_dic and
#      subscribers_dic, index build, and single-thread lookups per second;
#   2. the time `qoestor-dict load` takes to validate and upload each of those files
#      into a fresh qoestor-db until the dictionary is LOADED and answers (wall clock,
#      with qoestor-dict's own split: encode, insert, reload).
# Usage: sh tools/bench-dict.sh [LINES]   (default 1000000), from any directory.
# Builds bin/bench-dict, bin/qoestor-dict and bin/qoestor-db when missing. Uses a free
# port on 127.0.0.1 and a temporary directory, both cleaned up. DICT_BIN=path runs
# another qoestor-dict (to compare versions). The numbers go to docs/PERFORMANCE.md by
# hand, with this command line.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
lines=${1:-1000000}
dict=${DICT_BIN:-$top/bin/qoestor-dict}
for b in bench-dict qoestor-dict qoestor-db; do
	[ -x "$top/bin/$b" ] || make -s -C "$top" "bin/$b"
done
T=$(mktemp -d "${TMPDIR:-/tmp}/bench-dict.XXXXXX")
db_pid=""
cleanup() {
	if [ -n "$db_pid" ]; then
		kill "$db_pid" 2>/dev/null || true
		wait "$db_pid" 2>/dev/null || true
	fi
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
mkdir -p "$T/gen" "$T/one"
"$top/bin/bench-dict" --lines "$lines" --dir "$T/gen"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
url="http://127.0.0.1:$port"
"$top/bin/qoestor-db" --listen "127.0.0.1:$port" --path "$T/db" >"$T/db.log" 2>&1 &
db_pid=$!
i=0
until curl -sf "$url/ping" >/dev/null; do
	i=$((i + 1)); [ $i -lt 600 ] || { cat "$T/db.log"; exit 1; }
	kill -0 "$db_pid" 2>/dev/null || { cat "$T/db.log"; exit 1; }
	sleep 0.1 # bounded start-up poll (benchmark, not a test)
done
"$dict" load "$T/one" --clickhouse "$url" >"$T/load.log" 2>&1 || { cat "$T/load.log"; exit 1; } # create everything empty
for n in subnets_local_dic subscribers_dic; do
	rm -f "$T/one"/*.txt
	cp "$T/gen/$n.txt" "$T/one/$n.txt"
	start=$(date +%s.%N)
	"$dict" load "$T/one" --clickhouse "$url" >"$T/load.log" 2>&1 || { cat "$T/load.log"; exit 1; }
	end=$(date +%s.%N)
	count=$(curl -sS --data-binary "SELECT element_count FROM system.dictionaries WHERE database = 'qoestor' AND name = '$n' AND status = 'LOADED'" "$url/")
	split=$(sed -n "s/.*dictionary $n: .* entries are live.*(\(encode .*\))\$/\1/p" "$T/load.log")
	printf '%-20s qoestor-dict load into qoestor-db (%s entries live): %.2f s%s\n' "$n" "${count:-0}" \
		"$(echo "$end - $start" | bc)" "${split:+ ($split)}"
done

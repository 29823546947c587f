#!/bin/sh
# tools/bench-loader.sh: the loader's benchmark, from a ready spool into qoestor-db.
#
# Starts a release qoestor-db on a free port with a fresh data directory,
# applies the schema, writes ROWS fullflow rows (default 2,000,000; 1000
# subscribers, 12 hosts, one hour) as spool files of FILE_ROWS rows with
# qoestor-spoolgen, and times `qoestor-loader --once` (raw rows plus
# fullflow_agg) for each configuration below (RowBinary, Native and CSV bodies,
# with and without compression, side by side), on a fresh database each time.
# BENCH_ONLY=substr runs only the configurations whose name contains it.
# Prints per run: rows/s (raw rows per wall second, aggregates included in
# the work), the loader's CPU seconds and peak RSS (GNU time), qoestor-db's CPU
# seconds (and per row), aggregate rows and the reduction ratio (as inserted:
# partial aggregates per file; and after OPTIMIZE FINAL merged them, not timed);
# and checks count() and
# sum(octets) against the generator. Numbers go to docs/PERFORMANCE.md with
# this command line. Then memory on worst-case data: ANY_ROWS (default
# 1,200,000) fullflow rows from `qoestor-spoolgen --any` (every column random,
# random-byte strings, some of 70,000 bytes) in 8 files, loaded with 1, 2, 4
# and 8 insert processes under the default --memory-limit (200 MiB): peak RSS
# and the groups per process the budget gave (bodies beyond 2 MiB spill);
# MEMORY_LIMIT=N runs that part with --memory-limit N instead.
# Usage: tools/bench-loader.sh [ROWS] [FILE_ROWS]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
rows=${1:-2000000}
file_rows=${2:-500000}
T=$(mktemp -d "${TMPDIR:-/tmp}/qoestor-bench-loader.XXXXXX")
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$T"' EXIT
cd "$top"
make -s bin/qoestor-db bin/qoestor-loader bin/qoestor-spoolgen
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
bin/qoestor-db --listen "127.0.0.1:$port" --path "$T/db" > "$T/db.log" 2>&1 &
pid=$!
i=0; until curl -sf "$url/ping" >/dev/null; do i=$((i+1)); [ $i -lt 600 ] || { cat "$T/db.log"; exit 1; }; sleep 0.1; done
q() { curl -sS --data-binary "$1" "$url/"; }
cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime, clock ticks
hz=$(getconf CLK_TCK)

files=$(( (rows + file_rows - 1) / file_rows ))
bin/qoestor-spoolgen --spool "$T/gen" --rows "$rows" --files "$files" --logins 1000 --seed 5 > "$T/gen.txt"
want=$(sed -n 's/^rows=//p' "$T/gen.txt")
want_oct=$(sed -n 's/^sum_octets=//p' "$T/gen.txt")
echo "spool: $want fullflow rows in $files files, $(du -sk "$T/gen" | cut -f1) KiB"

run() { # name, loader options...
	name=$1; shift
	case "$name" in *"${BENCH_ONLY:-}"*) ;; *) return 0 ;; esac
	db="bench_$(echo "$name" | tr -c 'a-z0-9\n' '_')"
	rm -rf "$T/spool"; cp -r "$T/gen" "$T/spool"
	bin/qoestor-loader --clickhouse "$url" --database "$db" --raw-ttl-hours 0 --init-db > /dev/null 2>&1
	c0=$(cpu_of "$pid")
	/usr/bin/time -f '%e %U %S %M' -o "$T/time" bin/qoestor-loader --spool "$T/spool" --clickhouse "$url" \
		--database "$db" --raw-ttl-hours 0 --no-init-db --once "$@" > "$T/out" 2> "$T/log" || { cat "$T/log"; exit 1; }
	c1=$(cpu_of "$pid")
	read -r el us sy rss < "$T/time"
	got=$(q "SELECT count(), sum(octets) FROM $db.fullflow FORMAT TSV")
	[ "$got" = "$(printf '%s\t%s' "$want" "$want_oct")" ] || { echo "MISMATCH in $name: $got"; exit 1; }
	agg=$(q "SELECT count() FROM $db.fullflow_agg_15m")
	q "OPTIMIZE TABLE $db.fullflow_agg_15m FINAL" > /dev/null
	merged=$(q "SELECT count() FROM $db.fullflow_agg_15m")
	awk -v n="$name" -v r="$want" -v el="$el" -v us="$us" -v sy="$sy" -v rss="$rss" -v a="$agg" -v mg="$merged" \
		-v dc="$(( c1 - c0 ))" -v hz="$hz" 'BEGIN {
		printf "%-34s %9.0f rows/s  %6.2f s  loader CPU %5.2f s (%.2f us/row)  db CPU %6.2f s (%.2f us/row)  peak RSS %4.0f MiB  agg rows %d (%.1fx; merged %.1fx)\n",
			n, r / el, el, us + sy, (us + sy) * 1e6 / r, dc / hz, dc / hz * 1e6 / r, rss / 1024, a, r / a, r / mg }'
	q "DROP DATABASE $db" > /dev/null
}

echo "configuration                      throughput           wall    loader               qoestor-db        memory          aggregates"
run "rowbinary, none, 2 proc (default)"
run "native, none, 2 proc" --format native
run "csv, none, 2 proc" --format csv
run "rowbinary, none, 1 proc" --insert-processes 1
run "native, none, 1 proc" --format native --insert-processes 1
run "rowbinary, zstd, 2 proc" --compression zstd
run "native, zstd, 2 proc" --format native --compression zstd
run "rowbinary, none, 2 proc, 262144-row ins" --insert-rows 262144
run "rowbinary, none, 2 proc, no spilling" --agg-spill-runs 0
run "rowbinary, none, 4 proc" --insert-processes 4

[ "${BENCH_ONLY:-}" = "" ] || [ "${BENCH_ONLY}" = "memory" ] || exit 0
any_rows=${ANY_ROWS:-1200000}
rm -rf "$T/gen" "$T/spool"
bin/qoestor-spoolgen --spool "$T/any" --stream fullflow --any --rows "$any_rows" --files 8 --seed 7 --instance any > /dev/null
echo "worst case: $any_rows fullflow rows (spoolgen --any) in 8 files, $(du -sk "$T/any" | cut -f1) KiB; --memory-limit ${MEMORY_LIMIT:-200}"
for p in 1 2 4 8; do
	db="bench_any_$p"
	rm -rf "$T/spool"; cp -r "$T/any" "$T/spool"
	bin/qoestor-loader --clickhouse "$url" --database "$db" --raw-ttl-hours 0 --init-db > /dev/null 2>&1
	/usr/bin/time -f '%e %U %S %M' -o "$T/time" bin/qoestor-loader --spool "$T/spool" --clickhouse "$url" \
		--database "$db" --raw-ttl-hours 0 --no-init-db --once --insert-processes "$p" --memory-limit "${MEMORY_LIMIT:-200}" > "$T/out" 2> "$T/log" || { cat "$T/log"; exit 1; }
	read -r el us sy rss < "$T/time"
	got=$(q "SELECT count() FROM $db.fullflow")
	[ "$got" = "$any_rows" ] || { echo "MISMATCH in worst case, $p processes: $got"; exit 1; }
	awk -v p="$p" -v el="$el" -v rss="$rss" -v r="$any_rows" -v lim="$(sed -n 's/.*memory: --memory-limit [0-9]* MiB over [0-9]* insert processes: \(.*\) (bodies beyond.*/\1/p' "$T/log" | head -1)" 'BEGIN {
		printf "worst case, %d insert processes: %6.2f s, %7.0f rows/s, peak RSS %4.0f MiB  (%s)\n", p, el, r / el, rss / 1024, lim }'
	q "DROP DATABASE $db" > /dev/null
done

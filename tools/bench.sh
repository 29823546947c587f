#!/bin/sh
# tools/bench.sh: `make bench`, every benchmark of qoestor in one run.
#
# Runs each part that exists, in pipeline order, and prints its results; the
# numbers go to docs/PERFORMANCE.md by hand, with the command that produced them.
# These machines are shared and noisy: compare ratios measured in the same run
# (qoestor against nfcapd, one path against another), not absolute numbers
# across runs. Parts: receiver (bench-recv.sh, with nfcapd side by side), spool
# (bench-spool.sh), dictionaries (bench-dict.sh), qoestor-db inserts (bench-db.sh),
# loader (bench-loader.sh), end to end (bench-loader-e2e.sh). Run one part
# alone: BENCH=db make bench (names: recv spool dict db loader e2e).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
only=${BENCH:-}
part() { # name command...
	name=$1; shift
	[ -z "$only" ] || [ "$only" = "$name" ] || return 0
	echo
	echo "=== $name: $*"
	"$@"
}
echo "qoestor benchmarks, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
[ -x tools/bench-recv.sh ] || [ -f tools/bench-recv.sh ] && part recv sh tools/bench-recv.sh
[ -f tools/bench-spool.sh ] && part spool sh tools/bench-spool.sh
[ -f tools/bench-dict.sh ] && part dict sh tools/bench-dict.sh
[ -f tools/bench-db.sh ] && part db sh tools/bench-db.sh
[ -f tools/bench-loader.sh ] && part loader sh tools/bench-loader.sh
# Sustained end to end, real processes (generator -> receiver -> loader -> qoestor-db):
# 180 s at 300,000 records/s by default; E2E_SECONDS / E2E_RATE override.
[ -f tools/bench-loader-e2e.sh ] && part e2e sh tools/bench-loader-e2e.sh "${E2E_SECONDS:-180}" "${E2E_RATE:-300000}"
echo
echo "bench: done"

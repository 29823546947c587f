#!/bin/sh
# tools/bench-spool.sh: the spool writer/reader micro benchmark (tools/bench-spool.c).
#
# Builds bin/bench-spool (release) and runs it on fullflow-shaped rows, three
# times, in a temporary folder under ${TMPDIR:-/tmp}. Prints rows per
# CPU-second written (writer alone, row generation subtracted) and read, and
# compressed bytes per row. Numbers go to docs/PERFORMANCE.md with this command.
# Usage: tools/bench-spool.sh [ROWS]   (default 5000000)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
make -s bin/bench-spool
rows=${1:-5000000}
for i in 1 2 3; do
	echo "-- run $i: bin/bench-spool --rows $rows"
	bin/bench-spool --rows "$rows"
done

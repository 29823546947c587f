#!/bin/sh
# tools/qoestor-schema-check.sh: the DDL drift check.
#
# Compares the committed sql/qoestor.sql and docs/SCHEMA.md with what the
# schema table generates (qoestor-schema ddl / doc). Exits 1 and prints the
# difference when they differ: run `make sql` and commit the result.
#
# Usage: tools/qoestor-schema-check.sh [GENERATOR [TOP]]
#   GENERATOR  the qoestor-schema binary (default bin/qoestor-schema)
#   TOP        the tree holding sql/ and docs/ (default: this repository)
# Exit codes: 0 up to date, 1 stale, 2 usage or generator failure.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
gen=${1:-$top/bin/qoestor-schema}
tree=${2:-$top}
[ -x "$gen" ] || { echo "schema-check: generator $gen not found; run make bin/qoestor-schema" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/qoestor-schema-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$gen" ddl > "$tmp/qoestor.sql" || { echo "schema-check: $gen ddl failed" >&2; exit 2; }
"$gen" doc > "$tmp/SCHEMA.md" || { echo "schema-check: $gen doc failed" >&2; exit 2; }
rc=0
for pair in "sql/qoestor.sql:qoestor.sql" "docs/SCHEMA.md:SCHEMA.md"; do
	committed=${pair%%:*}
	fresh=${pair#*:}
	if ! diff -u "$tree/$committed" "$tmp/$fresh" > "$tmp/diff" 2>&1; then
		echo "schema-check: $committed is stale (differs from what common/schema/*.def generates):" >&2
		head -n 40 "$tmp/diff" >&2
		echo "schema-check: run 'make sql' and commit $committed" >&2
		rc=1
	fi
done
exit $rc

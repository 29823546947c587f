#!/bin/sh
# schema-drift.sh: the committed DDL and schema docs match the schema table,
# and the drift check catches a definition changed without `make sql`.
#
# 1. tools/qoestor-schema-check.sh with the built generator: up to date.
# 2. A copy of the committed files with one line changed: detected.
# 3. A generator built from a copy of common/schema with one .def line
#    changed (a new column): its output differs from the committed files,
#    and the check fails naming the new column.
# 4. The committed sql/qoestor.sql runs as a script on the real engine
#    (clickhouse-client -n style: statement by statement over HTTP).
. "$(dirname "$0")/../lib.sh"

gen="$QOESTOR_BIN/qoestor-schema"
check="$top/tools/qoestor-schema-check.sh"

note "committed files are up to date"
sh "$check" "$gen" > "$T/ok.log" 2>&1 || { cat "$T/ok.log"; fail "sql/qoestor.sql or docs/SCHEMA.md is stale: run make sql"; }

note "an edited committed file is detected"
mkdir -p "$T/tree/sql" "$T/tree/docs"
cp "$top/docs/SCHEMA.md" "$T/tree/docs/"
sed 's/kept 24 h/kept 25 h/' "$top/sql/qoestor.sql" > "$T/tree/sql/qoestor.sql"
cmp -s "$top/sql/qoestor.sql" "$T/tree/sql/qoestor.sql" && fail "test setup: sed changed nothing"
set +e
sh "$check" "$gen" "$T/tree" > "$T/edited.log" 2>&1
rc=$?
set -e
expect_eq "$rc" 1 "check exit code for an edited sql/qoestor.sql"
grep -q "sql/qoestor.sql is stale" "$T/edited.log" || { cat "$T/edited.log"; fail "no stale message"; }

note "a changed definition without regeneration is detected"
mkdir -p "$T/src/tools"
cp -r "$top/common" "$T/src/"
cp "$top"/tools/qoestor-schema.c "$top"/tools/qoestor-schema-doc.c "$top"/tools/qoestor-schema-doc.h "$T/src/tools/"
def="$T/src/common/schema/fullflow.def"
printf '%s\n' 'COL(drift_probe, QS_U32, 0, 0, 0, "UInt32", QS_F_DERIVED, "added by the drift test")' >> "$def"
${CC:-cc} -std=c11 -D_GNU_SOURCE -I"$T/src" -I"$T/src/common" -o "$T/gen" \
	"$T/src/tools/qoestor-schema.c" "$T/src/tools/qoestor-schema-doc.c" \
	"$T/src/common/schema/schema.c" "$T/src/common/schema/ddl.c" "$T/src/common/ch/chsql.c" \
	|| fail "building the generator from the modified copy failed"
"$T/gen" ddl | grep -q '`drift_probe` UInt32' || fail "modified generator does not emit the new column"
set +e
sh "$check" "$T/gen" > "$T/drift.log" 2>&1
rc=$?
set -e
expect_eq "$rc" 1 "check exit code for a definition changed without make sql"
grep -q "drift_probe" "$T/drift.log" || { cat "$T/drift.log"; fail "the diff does not show the new column"; }
grep -q "docs/SCHEMA.md is stale" "$T/drift.log" || { cat "$T/drift.log"; fail "docs drift not reported"; }

note "the committed script runs on the real engine"
start_db
# Split on the blank line after each ';' (the generator's layout), skip comments.
awk 'BEGIN { RS = ";\n\n" } { sub(/^(--[^\n]*\n)+\n*/, ""); if (length($0)) { print $0 > sprintf("'"$T"'/stmt.%03d.sql", n++) } }' \
	"$top/sql/qoestor.sql"
n=0
for f in "$T"/stmt.*.sql; do
	curl -sS --fail-with-body --data-binary @"$f" "$DB_URL/" > "$T/stmt.out" 2>&1 \
		|| { cat "$T/stmt.out"; head -n 3 "$f"; fail "statement $f of sql/qoestor.sql failed"; }
	n=$((n + 1))
done
expect_eq "$n" "$(grep -c '^CREATE ' "$top/sql/qoestor.sql")" "statements run from sql/qoestor.sql"
expect_eq "$(q "SELECT count() FROM system.tables WHERE database = 'qoestor'")" "$((n - 1))" \
	"objects created by sql/qoestor.sql (all but CREATE DATABASE)"

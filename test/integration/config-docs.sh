#!/bin/sh
# config-docs.sh: the generated configuration reference has not drifted from
# the key table: docs/CONFIGURATION.md == `qoestor-config doc` and
# conf/qoestor.yaml == `qoestor-config reference` (regenerate with those
# commands). The reference file passes check and equals the defaults.
. "$(dirname "$0")/../lib.sh"
C="$QOESTOR_BIN/qoestor-config"
"$C" doc > "$T/CONFIGURATION.md"
cmp -s "$T/CONFIGURATION.md" "$top/docs/CONFIGURATION.md" || { diff "$top/docs/CONFIGURATION.md" "$T/CONFIGURATION.md" | head -20;
	fail "docs/CONFIGURATION.md is stale: bin/qoestor-config doc > docs/CONFIGURATION.md"; }
"$C" reference > "$T/qoestor.yaml"
cmp -s "$T/qoestor.yaml" "$top/conf/qoestor.yaml" || { diff "$top/conf/qoestor.yaml" "$T/qoestor.yaml" | head -20;
	fail "conf/qoestor.yaml is stale: bin/qoestor-config reference > conf/qoestor.yaml"; }
"$C" check "$top/conf/qoestor.yaml" > "$T/ref.eff" 2>/dev/null || fail "conf/qoestor.yaml does not pass check"
printf '' > "$T/empty.yaml"
"$C" check "$T/empty.yaml" > "$T/empty.eff" 2>/dev/null || fail "an empty file does not pass check"
sed 1d "$T/ref.eff" > "$T/a"; sed 1d "$T/empty.eff" > "$T/b"
cmp -s "$T/a" "$T/b" || { diff "$T/a" "$T/b" | head; fail "the reference file is not the defaults"; }
# Every key of the table appears in the docs (a key documented nowhere is a defect).
for k in $(sed -n 's/^ *\(- \)\{0,1\}\([a-z_]*\): .*/\2/p' "$top/conf/qoestor.yaml" | sort -u); do
	grep -q "| \`$k\` |" "$top/docs/CONFIGURATION.md" || fail "key $k is not in docs/CONFIGURATION.md"
done
echo "config-docs: ok"

#!/bin/sh
# dict-check.sh: `qoestor-dict check` and `docs` without ClickHouse: the samples are
# valid, a directory with broken files lists every error as FILE:LINE:COLUMN and exits 1,
# bad usage exits 2, and docs/DICTIONARIES.md holds exactly what `qoestor-dict docs` prints.
. "$(dirname "$0")/../lib.sh"

D="$QOESTOR_BIN/qoestor-dict"
"$D" --help | grep -q "check \[--samples\]" || fail "--help"
"$D" check --samples "$top/dictionaries" >"$T/ok.out" 2>&1 || { cat "$T/ok.out"; fail "samples do not pass the check"; }
expect_eq "$(grep -c ': ok, ' "$T/ok.out")" 12 "every sample checked"

mkdir -p "$T/d"
printf '12345 LOCAL\n65535\tUNKNOWN\n65535\tAGAIN\n' >"$T/d/asnum_local_dic.txt"
printf '\357\273\277# BOM, CRLF and a comment\r\n10.64.66.1/24\tA\r\n' >"$T/d/subnets_local_dic.txt"
printf '1\tS\tE\tR\tA\t10.0.0.1\tI\t0\t9\n' >"$T/d/switches_dic.txt"
printf 'vk.com\t1\n' >"$T/d/urlcats_host_dic.txt"
printf 'x\n' >"$T/d/subnet_local_dic.txt"
set +e
"$D" check "$T/d" >"$T/bad.out" 2>&1
rc=$?
set -e
expect_eq "$rc" 1 "exit code with errors"
for want in \
	"asnum_local_dic.txt:1:1: expected 2 columns separated by a tab, found 1: did you use spaces? (value '12345 LOCAL')" \
	"asnum_local_dic.txt:3:1: duplicate key: the same asn is on line 2 (value '65535')" \
	"subnets_local_dic.txt:2:1: bad prefix: address has bits set after the prefix length /24: did you mean 10.64.66.0/24? (value '10.64.66.1/24')" \
	"switches_dic.txt:1:24: upstream_id 9 is not the id of any line (use 0 for none) (value '9')" \
	"urlcats_host_dic.txt: ok, 1 entries" \
	"subnet_local_dic.txt: warning: not a known dictionary"; do
	grep -qF "$want" "$T/bad.out" || { cat "$T/bad.out"; fail "missing: $want"; }
done
set +e
"$D" check >/dev/null 2>&1; rc=$?
"$D" frobnicate >/dev/null 2>&1; rc2=$?
set -e
expect_eq "$rc" 2 "usage error"
expect_eq "$rc2" 2 "unknown command"

note "docs/DICTIONARIES.md matches the table"
"$D" docs >"$T/docs.md"
sed -n '/^<!-- BEGIN qoestor-dict docs -->$/,/^<!-- END qoestor-dict docs -->$/p' "$top/docs/DICTIONARIES.md" | sed '1d;$d' >"$T/committed.md"
diff -u "$T/committed.md" "$T/docs.md" || fail "docs/DICTIONARIES.md is stale: regenerate its reference part with 'qoestor-dict docs'"
note "ok"

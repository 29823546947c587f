#!/bin/sh
# config-errors.sh: `qoestor-config check` (and --check-config) on bad
# configurations: each case exits 1 and prints its message naming the file,
# line and column; a good one prints the effective configuration and exits 0.
# Cases: unknown key, bad port, duplicate port, duplicate DPI, wrong type,
# YAML syntax, missing config file, missing password file, both password
# and password file, bad export target, bad aggregation period.
. "$(dirname "$0")/../lib.sh"
C="$QOESTOR_BIN/qoestor-config"

bad() { # name message-regex: $T/name.yaml must be refused with the message
	rc=0
	"$C" check "$T/$1.yaml" > "$T/$1.out" 2> "$T/$1.err" || rc=$?
	[ $rc -eq 1 ] || fail "$1: check exited $rc, want 1"
	grep -q -- "$2" "$T/$1.err" || { cat "$T/$1.err"; fail "$1: no message matching '$2'"; }
	[ ! -s "$T/$1.out" ] || fail "$1: printed a configuration although it failed"
}

printf 'loader:\n  subscriber_filter_mod: 2\n' > "$T/unknown.yaml"
bad unknown "unknown.yaml:2:3: unknown key 'loader.subscriber_filter_mod'; did you mean 'subscriber_filter_mode'?"

printf 'receivers:\n  - dpi: 0\n    fullflow:\n      port: 65536\n' > "$T/port.yaml"
bad port "port.yaml:4:13: receivers\[0\].fullflow.port: '65536' is not an integer in 1..65535"

printf 'receivers:\n  - dpi: 0\n    fullflow: {}\n  - dpi: 1\n    fullflow:\n      port: 1500\n' > "$T/dup.yaml"
bad dup "dup.yaml:6:13: receivers\[1\].fullflow.port: tcp port 1500 on 127.0.0.1 is already taken by receivers\[0\].fullflow (line 3)"

printf 'receivers:\n  - dpi: 2\n  - dpi: 2\n' > "$T/dupdpi.yaml"
bad dupdpi "dupdpi.yaml:3:10: receivers\[1\].dpi: DPI 2 is already configured by receivers\[0\]"

printf 'loader:\n  insert_processes: [1, 2]\n' > "$T/type.yaml"
bad type "type.yaml:2:21: loader.insert_processes: expected integer 1..64, got a list"

printf 'loader:\n  user: "unterminated\n' > "$T/syntax.yaml"
bad syntax "syntax.yaml:.*YAML syntax"

bad missing "missing.yaml: cannot open the configuration file: No such file or directory"

printf 'loader:\n  password_file: %s/nope\n' "$T" > "$T/pwfile.yaml"
bad pwfile "pwfile.yaml:2:18: loader.password_file: cannot read $T/nope: No such file or directory"

echo secret > "$T/pw"
printf 'db:\n  password: x\n  password_file: %s/pw\n' "$T" > "$T/both.yaml"
bad both "db: give password or password_file, not both"

printf 'receivers:\n  - dpi: 0\n    clickstream:\n      export: 10.0.0.2/1601\n' > "$T/export.yaml"
bad export "export.yaml:4:15: receivers\[0\].clickstream.export: '10.0.0.2/1601' is not ip/port/proto"

printf 'loader:\n  fullflow_agg_period: 4\n' > "$T/period.yaml"
bad period "loader.fullflow_agg_period: 4 does not divide 15 minutes"

note "every problem is listed, with a count"
printf 'loader:\n  traffic_dir_def_mode: 7\n  database: ""\npaths:\n  spool: spool\n' > "$T/many.yaml"
bad many "3 problems in"

note "a good file: the effective configuration, exit 0; --check-config is the same"
printf 'receivers:\n  - dpi: 1\n    fullflow: {}\nloader:\n  password_file: %s/pw\n' "$T" > "$T/good.yaml"
"$C" check "$T/good.yaml" > "$T/good.out" 2> "$T/good.err" || { cat "$T/good.err"; fail "good config refused"; }
grep -q "port: 1510" "$T/good.out" || fail "effective config lacks the computed port 1510"
"$C" --config "$T/good.yaml" --check-config > "$T/good2.out" 2>/dev/null || fail "--check-config refused it"
cmp -s "$T/good.out" "$T/good2.out" || fail "--check-config printed something else than check"
"$C" check "$T/good.out" > /dev/null 2>&1 || fail "the printed effective config does not load again"
QOESTOR_CONFIG="$T/good.yaml" "$C" --check-config > /dev/null 2>&1 || fail "QOESTOR_CONFIG not honoured"
rc=0
"$C" frobnicate > /dev/null 2>&1 || rc=$?
[ $rc -eq 2 ] || fail "unknown command: exit code $rc, want 2"
echo "config-errors: ok"

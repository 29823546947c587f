#!/bin/sh
# test/run.sh: the test runner of `make check`.
#
# Runs every test as its own process with a time limit, in suites:
#   unit/release, integration/release, unit/asan, integration/asan, fuzz-regress
# and prints "PASS name" / "FAIL name" lines, the log tail of failures, a
# "N passed, N failed" line per suite and a final one. Exit 0 only if all passed.
#
# Usage: test/run.sh [SUITE ...]   (default: all suites)
# Environment: TEST_TIMEOUT (seconds per test, default 600), TEST_FILTER (substring).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
: "${TEST_TIMEOUT:=600}"
: "${TEST_FILTER:=}"
logdir="$top/build/test-logs"
mkdir -p "$logdir"
total_pass=0
total_fail=0
failed_names=""

run_one() { # suite name cmd...
	suite=$1; name=$2; shift 2
	case "$name" in *"$TEST_FILTER"*) ;; *) return 0 ;; esac
	log="$logdir/$suite-$(echo "$name" | tr '/ ' '__').log"
	start=$(date +%s)
	timeout -k 10 "$TEST_TIMEOUT" "$@" >"$log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	if [ $rc -eq 0 ]; then
		echo "PASS $suite/$name (${secs}s)"
		s_pass=$((s_pass + 1))
	else
		[ $rc -eq 124 ] && echo "timed out after ${TEST_TIMEOUT}s" >>"$log"
		echo "FAIL $suite/$name (exit $rc, ${secs}s); last lines of $log:"
		tail -n 25 "$log" | sed 's/^/    /'
		s_fail=$((s_fail + 1))
		failed_names="$failed_names $suite/$name"
	fi
}

suite_end() {
	echo "$1: $s_pass passed, $s_fail failed"
	total_pass=$((total_pass + s_pass))
	total_fail=$((total_fail + s_fail))
}

unit_suite() { # variant
	s_pass=0; s_fail=0
	for t in build/$1/test/*; do
		[ -x "$t" ] || continue
		run_one "unit-$1" "$(basename "$t")" "$t"
	done
	suite_end "unit-$1"
}

integ_suite() { # variant
	s_pass=0; s_fail=0
	if [ "$1" = release ]; then bindir="$top/bin"; else bindir="$top/build/$1/bin"; fi
	for t in test/integration/*.sh; do
		[ -f "$t" ] || continue
		QOESTOR_BIN="$bindir" QOESTOR_DB_BIN="$top/bin" QOESTOR_VARIANT="$1" \
			run_one "integration-$1" "$(basename "$t" .sh)" sh "$t"
	done
	suite_end "integration-$1"
}

fuzz_suite() {
	s_pass=0; s_fail=0
	for f in build/fuzz/fuzz/*; do
		[ -x "$f" ] || continue
		n=$(basename "$f")
		dirs=""
		for d in "test/fuzz/$n/corpus" "test/fuzz/$n/crashes"; do
			[ -d "$d" ] && dirs="$dirs $d"
		done
		# Replay the kept corpus and crash inputs, then fuzz briefly from a copy of
		# the corpus (new finds stay in build/, crashes too: keep them by hand).
		work="build/fuzz/work-$n"
		rm -rf "$work"; mkdir -p "$work"
		for d in $dirs; do cp -r "$d"/. "$work"/ 2>/dev/null; done
		# shellcheck disable=SC2086
		run_one fuzz "$n" sh -c "'$f' -runs=0 $dirs && '$f' -max_total_time=${FUZZ_SECONDS:-15} -rss_limit_mb=2048 -artifact_prefix=build/fuzz/crash-$n- '$work'"
	done
	suite_end fuzz
}

suites=${*:-"unit-release integration-release unit-asan integration-asan fuzz"}
for s in $suites; do
	case "$s" in
	unit-*) unit_suite "${s#unit-}" ;;
	integration-*) integ_suite "${s#integration-}" ;;
	fuzz) fuzz_suite ;;
	*) echo "unknown suite $s" >&2; exit 2 ;;
	esac
done

[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ] && [ "$total_pass" -gt 0 ]

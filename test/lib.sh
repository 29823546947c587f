# test/lib.sh: helpers for integration tests (sourced by test/integration/*.sh).
#
# Each test is a POSIX sh script run as its own process by test/run.sh, with
# QOESTOR_BIN (the binaries under test: release or ASan) and QOESTOR_DB_BIN
# (always a release qoestor-db: libchdb cannot be loaded into a sanitized
# process). A test exits 0 on success; `fail MSG` exits 1. Nothing sleeps for
# synchronisation: wait_for polls a condition with a bound.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${QOESTOR_BIN:=$top/bin}"
: "${QOESTOR_DB_BIN:=$top/bin}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
T=$(mktemp -d "${TMPDIR:-/tmp}/qoestor-test.XXXXXX")
_pids=""

cleanup() {
	for p in $_pids; do kill "$p" 2>/dev/null || true; done
	for p in $_pids; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do i=$((i + 1)); wait_tick; done
		kill -9 "$p" 2>/dev/null || true
	done
	if [ "${KEEP_TEST_DIR:-}" = "" ]; then rm -rf "$T"; else echo "kept $T"; fi
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "-- $*"; }

# A short blocking wait that is not a sleep-for-synchronisation: it bounds polls.
wait_tick() { sleep 0.05; }

# wait_for SECONDS CMD...: run CMD until it succeeds or SECONDS pass.
wait_for() {
	_limit=$1; shift
	_end=$(( $(date +%s) + _limit ))
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt $_end ] || return 1
		wait_tick
	done
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# bg NAME CMD...: start CMD in the background, log to $T/NAME.log, remember its pid in $NAME_pid.
bg() {
	_n=$1; shift
	"$@" >"$T/$_n.log" 2>&1 &
	_p=$!
	_pids="$_pids $_p"
	eval "${_n}_pid=$_p"
}

# start_db [ARGS...]: start qoestor-db on a free port with a fresh data dir;
# sets DB_PORT, DB_URL, db_pid. Extra ARGS go to qoestor-db.
start_db() {
	DB_PORT=$(free_port)
	DB_URL="http://127.0.0.1:$DB_PORT"
	mkdir -p "$T/db"
	bg db "$QOESTOR_DB_BIN/qoestor-db" --listen "127.0.0.1:$DB_PORT" --path "$T/db" "$@"
	wait_for 60 curl -sf "$DB_URL/ping" || { cat "$T/db.log"; fail "qoestor-db did not answer /ping within 60 s"; }
}

# q SQL: run SQL on the test's qoestor-db (POST), print the result; fails on HTTP errors.
q() {
	curl -sS --fail-with-body --data-binary "$1" "$DB_URL/${2:-}"
}

# expect_eq GOT WANT WHAT
expect_eq() {
	[ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"
}

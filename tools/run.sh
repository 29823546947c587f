#!/bin/sh
# tools/run.sh: start or stop a development instance of qoestor from this work tree
# (what `make run` and `make stop` call): qoestor-db on 127.0.0.1:8123 with the
# schema applied, the loader, and the receivers of the default config (DPI 0:
# fullflow tcp 1500, clickstream 1501, gtpflow 1502, natflow 1503).
#
# Everything lives under $QOESTOR_RUN_DIR (default ./run): db/ (data), spool/,
# dictionaries/, log/*.log, pid/*.pid. Production installs use the systemd units
# in units/ instead. Ports and addresses can be overridden:
#   QOESTOR_DB_LISTEN (127.0.0.1:8123), QOESTOR_RECV_ADDR (127.0.0.1)
#
# Usage: tools/run.sh start|stop|status
# Exit codes: 0 ok, 1 something did not start (the log named says why).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
run=${QOESTOR_RUN_DIR:-$top/run}
db_listen=${QOESTOR_DB_LISTEN:-127.0.0.1:8123}
recv_addr=${QOESTOR_RECV_ADDR:-127.0.0.1}
bin=$top/bin
url="http://$db_listen"
mkdir -p "$run/db" "$run/spool" "$run/log" "$run/pid" "$run/dictionaries"

alive() { [ -f "$run/pid/$1.pid" ] && kill -0 "$(cat "$run/pid/$1.pid")" 2>/dev/null; }

start_one() { # name cmd...
	name=$1; shift
	if alive "$name"; then
		echo "  $name: already running (pid $(cat "$run/pid/$name.pid"))"
		return 0
	fi
	nohup "$@" >>"$run/log/$name.log" 2>&1 </dev/null &
	echo $! >"$run/pid/$name.pid"
	echo "  $name: started (pid $!, log $run/log/$name.log)"
}

wait_ping() {
	i=0
	while ! curl -sf "$url/ping" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 600 ] || ! alive qoestor-db; then
			echo "qoestor-db did not answer on $url: see $run/log/qoestor-db.log" >&2
			tail -n 5 "$run/log/qoestor-db.log" >&2 || true
			return 1
		fi
		sleep 0.1
	done
}

case "${1:-start}" in
start)
	echo "qoestor: starting from $top (state in $run)"
	start_one qoestor-db "$bin/qoestor-db" --listen "$db_listen" --path "$run/db"
	wait_ping
	"$bin/qoestor-loader" --clickhouse "$url" --init-db >>"$run/log/qoestor-loader.log" 2>&1 || {
		echo "schema apply failed: see $run/log/qoestor-loader.log" >&2
		exit 1
	}
	echo "  schema applied: $(curl -sS "$url/?query=SELECT%20count()%20FROM%20system.tables%20WHERE%20database%3D'qoestor'") objects in database qoestor"
	for f in "$top"/dictionaries/*.sample.txt; do
		[ -f "$f" ] || continue
		d="$run/dictionaries/$(basename "$f" .sample.txt).txt"
		[ -f "$d" ] || : >"$d" # empty dictionaries: valid, "no entries"
	done
	if [ -x "$bin/qoestor-dict" ]; then
		start_one qoestor-dict-watch "$bin/qoestor-dict" watch "$run/dictionaries" --clickhouse "$url"
	fi
	if "$bin/qoestor-loader" --help 2>/dev/null | grep -q -- '--spool'; then
		start_one qoestor-loader "$bin/qoestor-loader" --clickhouse "$url" --spool "$run/spool" \
			--dictionaries "$run/dictionaries"
	else
		echo "  qoestor-loader: this build has no loader daemon yet (only --init-db); spool files wait in $run/spool"
	fi
	port=1500
	for stream in fullflow clickstream gtpflow natflow; do
		if [ -x "$bin/qoestor-recv" ]; then
			start_one "qoestor-recv@$stream-0" "$bin/qoestor-recv" --instance "$stream-0" \
				--listen "tcp://$recv_addr:$port" --spool "$run/spool"
		else
			echo "  qoestor-recv@$stream-0: not built yet"
		fi
		port=$((port + 1))
	done
	echo "qoestor: ready. Try: curl '$url/?query=SHOW%20TABLES%20FROM%20qoestor'"
	;;
stop)
	for p in "$run"/pid/*.pid; do
		[ -f "$p" ] || continue
		n=$(basename "$p" .pid)
		if alive "$n"; then
			kill -TERM "$(cat "$p")"
			i=0
			while alive "$n" && [ $i -lt 600 ]; do i=$((i + 1)); sleep 0.1; done
			alive "$n" && { echo "  $n: did not stop in 60 s, killing"; kill -9 "$(cat "$p")"; }
			echo "  $n: stopped"
		fi
		rm -f "$p"
	done
	;;
status)
	for p in "$run"/pid/*.pid; do
		[ -f "$p" ] || continue
		n=$(basename "$p" .pid)
		if alive "$n"; then echo "$n: running (pid $(cat "$p"))"; else echo "$n: not running"; fi
	done
	;;
*)
	echo "usage: tools/run.sh start|stop|status" >&2
	exit 2
	;;
esac

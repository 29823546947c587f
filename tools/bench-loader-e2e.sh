#!/bin/sh
# tools/bench-loader-e2e.sh: sustained end-to-end load, real processes only:
# sender (TCP, --rate) -> qoestor-recv (rotating every 10 s) -> spool ->
# qoestor-loader (daemon) -> qoestor-db.
#
# Sends RATE fullflow records per second for SECONDS seconds, then publishes
# the receiver's last file (SIGHUP) and waits for the loader to drain. Prints
# records sent and stored (loss must be 0), how long the drain took after the
# sender stopped (a backlog that keeps growing shows there), the loader's
# peak RSS (VmHWM), the lag behind the sender over time (sustained means it
# stays flat), the CPU seconds of each process, the load average, and
# where qoestor-db's CPU went:
#   - per thread name (sampled every second from /proc/<pid>/task/*/stat;
#     ClickHouse renames pool threads per task, so each second's CPU goes to
#     the name the thread had then: MergeMutate = background merges,
#     MHD-* = qoestor-db's HTTP threads running the INSERTs, ...);
#   - ClickHouse's own counters (system.events: rows inserted and merged,
#     merge time) and the parts left per table.
# The sender is either qoestor-ipfixgen itself (SENDER=gen: it generates
# records as it goes, sharing the 2 cores) or, by default (SENDER=replay),
# a recording of the same generator's stream (made before the clock starts)
# replayed by a small python sender paced in 0.1 s steps: the same records,
# a fraction of the CPU. The replayed records carry the generation time; it
# is made just before the run, inside the raw tables' 24 h (137 bytes a
# record: 7.4 GB for 180 s at 300,000/s, in $TMPDIR; deleted once sent).
# qoestor-ipfixgen needs about 1.5 us of CPU per record (0.45 of a core at
# 300,000/s), which it took from the processes under test.
# Environment: SENDER=gen|replay; LOADER_ARGS extra qoestor-loader options
# (e.g. "--insert-rows 1048576"); DB_ARGS extra qoestor-db options;
# DDL=FILE: statements (';' + blank line between them, like sql/qoestor.sql)
# applied instead of the loader's own schema (then --no-init-db): trying
# table settings without rebuilding.
# Usage: tools/bench-loader-e2e.sh [SECONDS] [RATE]   (default 180 s at 300000/s)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-180}
rate=${2:-300000}
sender=${SENDER:-replay}
T=$(mktemp -d "${TMPDIR:-/tmp}/qoestor-bench-e2e.XXXXXX")
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$T"' EXIT
cd "$top"
# Private copies: others may rebuild bin/ during a long run.
make -s bin/qoestor-db bin/qoestor-loader bin/qoestor-recv bin/qoestor-ipfixgen || \
	echo "bench-loader-e2e.sh: build failed; running the binaries already in bin/" >&2
mkdir "$T/bin"
cp bin/qoestor-db bin/qoestor-loader bin/qoestor-recv bin/qoestor-ipfixgen "$T/bin/"
fp() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(fp); rport=$(fp)
url="http://127.0.0.1:$port"
n=$((secs * rate))
if [ "$sender" = replay ]; then
	echo "recording $n fullflow records (qoestor-ipfixgen --file)"
	"$T/bin/qoestor-ipfixgen" --stream fullflow --file "$T/ff.ipfix" --records "$n" > "$T/gen.txt"
fi
# shellcheck disable=SC2086
"$T/bin/qoestor-db" --listen "127.0.0.1:$port" --path "$T/db" ${DB_ARGS:-} > "$T/db.log" 2>&1 & db=$!; pids="$pids $db"
i=0; until curl -sf "$url/ping" >/dev/null; do i=$((i+1)); [ $i -lt 600 ] || exit 1; sleep 0.1; done
q() { curl -sS --data-binary "$1" "$url/"; }
init=""
if [ -n "${DDL:-}" ]; then
	python3 - "$DDL" "$url" <<'PY'
import sys, urllib.request
for st in open(sys.argv[1]).read().split(";\n\n"):
    body = "\n".join(l for l in st.splitlines() if not l.startswith("--")).strip()
    if body:
        urllib.request.urlopen(sys.argv[2] + "/", body.encode()).read()
PY
	init=--no-init-db
fi
"$T/bin/qoestor-recv" --stream fullflow --listen "tcp://127.0.0.1:$rport" --spool "$T/spool" --rotate-seconds 10 \
	> "$T/recv.log" 2>&1 & recv=$!; pids="$pids $recv"
# shellcheck disable=SC2086
"$T/bin/qoestor-loader" --spool "$T/spool" --clickhouse "$url" --rescan-seconds 2 $init ${LOADER_ARGS:-} \
	> "$T/loader.log" 2>&1 & ld=$!; pids="$pids $ld"
i=0; until python3 -c "import socket; socket.create_connection(('127.0.0.1', $rport), 1).close()" 2>/dev/null; do
	i=$((i+1)); [ $i -lt 300 ] || { cat "$T/recv.log"; exit 1; }; sleep 0.1; done
cpu() { awk '{printf "%.1f", ($14 + $15) / '"$(getconf CLK_TCK)"'}' "/proc/$1/stat"; }
# Per-thread-name CPU of qoestor-db, until $T/stop exists.
python3 - "$db" "$T/threads" "$T/stop" "$T/spool" "$url" <<'PY' & smp=$!; pids="$pids $smp"
import glob, os, re, sys, time, urllib.request
pid, out, stop, spool, url = sys.argv[1:6]
# Backlog, every 5 s: spool files published or being loaded, and rows stored;
# written to <out>.lag for the lag computation once the sender's start is known.
lag = open(out + ".lag", "w")
def backlog():
    files = [f for f in glob.glob(spool + "/fullflow/0/*.qsp") + glob.glob(spool + "/fullflow/0/.loading/*.qsp")]
    try:
        stored = int(urllib.request.urlopen(url + "/", b"SELECT count() FROM qoestor.fullflow").read())
    except Exception:
        stored = -1
    lag.write("%.1f %d %d\n" % (time.time(), len(files), stored))
    lag.flush()
nextlag = 0
hz = os.sysconf("SC_CLK_TCK")
last, byname = {}, {}
def sample():
    d = "/proc/%s/task" % pid
    for tid in os.listdir(d):
        try:
            s = open("%s/%s/stat" % (d, tid)).read()
        except OSError:
            continue
        name = s[s.index("(") + 1:s.rindex(")")]
        f = s[s.rindex(")") + 2:].split()
        t = int(f[11]) + int(f[12])
        name = re.sub(r"[0-9#:_-]+$", "", name) or "?"
        byname[name] = byname.get(name, 0) + t - last.get(tid, 0)
        last[tid] = t
while not os.path.exists(stop):
    try:
        sample()
    except OSError:
        break
    if time.time() >= nextlag:
        backlog()
        nextlag = time.time() + 5
    time.sleep(1)
tot = sum(byname.values()) or 1
with open(out, "w") as o:
    for k, v in sorted(byname.items(), key=lambda kv: -kv[1]):
        if v * 200 >= tot:
            o.write("  %-18s %7.1f s  %4.1f%%\n" % (k, v / hz, 100.0 * v / tot))
PY
echo "sending $n fullflow records at $rate/s for $secs s ($sender)"
# children's CPU from the shell's own `times` (not in a subshell: that has no children)
ccpu() { sed -n 2p "$1" | awk '{gsub(/[ms]/, " "); print $1 * 60 + $2 + $3 * 60 + $4}'; }
times > "$T/times0"
t0=$(date +%s)
date +%s.%N > "$T/t0"
if [ "$sender" = replay ]; then
	python3 - "$T/ff.ipfix" "$rport" "$rate" "$n" <<'PY'
# Replay an IPFIX message stream over one TCP connection, paced so that at most
# rate x elapsed records have gone: message headers give each message's length;
# records per message are counted from the generator's fixed set sizes by
# spreading the file's records evenly over its bytes.
import mmap, socket, struct, sys, time
path, port, rate, n = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
f = open(path, "rb")
data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
s = socket.create_connection(("127.0.0.1", port))
per_byte = n / len(data)
off, t0 = 0, time.monotonic()
while off < len(data):
    allowed = int(((time.monotonic() - t0) * rate + rate / 10) / per_byte)
    end = off
    while end < len(data) and end < allowed:
        end += struct.unpack_from(">H", data, end + 2)[0]
    if end > off:
        s.sendall(data[off:end])
        off = end
    else:
        time.sleep(0.02)
s.close()
PY
	rm -f "$T/ff.ipfix"
else
	"$T/bin/qoestor-ipfixgen" --stream fullflow --tcp "127.0.0.1:$rport" --records "$n" --rate "$rate" > "$T/gen.txt"
fi
t1=$(date +%s)
times > "$T/times1"
sendcpu=$(echo "$(ccpu "$T/times1") $(ccpu "$T/times0")" | awk '{printf "%.1f", $1 - $2}')
sent=$(sed -n 's/^total records=//p' "$T/gen.txt")
kill -HUP "$recv"
until [ "$(q "SELECT count() FROM qoestor.fullflow")" = "$sent" ] && \
	[ "$(q "SELECT sum(records) FROM qoestor.fullflow_agg_15m")" = "$sent" ]; do
	[ $(( $(date +%s) - t1 )) -lt 600 ] || break
	sleep 1
done
t2=$(date +%s)
touch "$T/stop"; wait "$smp" || true
got=$(q "SELECT count() FROM qoestor.fullflow")
echo "sent $sent in $((t1 - t0)) s ($(( sent / (t1 - t0 > 0 ? t1 - t0 : 1) ))/s); stored $got; lost $((sent - got)); raw and aggregates complete $((t2 - t1)) s after the sender stopped"
echo "load average $(cut -d' ' -f1-3 /proc/loadavg); loader peak RSS $(awk '/VmHWM/ {print $2 / 1024 " MiB"}' /proc/$ld/status), qoestor-db $(awk '/VmHWM/ {print $2 / 1024 " MiB"}' /proc/$db/status)"
echo "CPU s: loader $(cpu $ld), receiver $(cpu $recv), qoestor-db $(cpu $db), sender $sendcpu"
# Lag: how far the stored rows are behind what the sender had sent (at the
# nominal rate), in seconds of traffic; a pipeline that keeps up holds it
# near rotation + one file's load time, one that falls behind grows it.
python3 - "$T/threads.lag" "$(cat "$T/t0")" "$rate" "$sent" "$t1" <<'PY'
import sys
path, t0, rate, sent, t1 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
rows = [l.split() for l in open(path)]
pts = [(float(t) - t0, int(f), int(s)) for t, f, s in rows if float(t) >= t0 and float(t) <= t1 and int(s) >= 0]
if pts:
    lags = [(e, f, (min(e * rate, sent) - s) / rate) for e, f, s in pts]
    step = max(1, len(lags) // 8)
    print("lag behind the sender (s of traffic) at t=" + ", ".join("%ds: %.0f" % (e, l) for e, f, l in lags[::step]))
    print("spool files waiting or loading: max %d; lag max %.0f s, mean of the last third %.0f s, of the first third %.0f s" % (
        max(f for _, f, _ in lags), max(l for _, _, l in lags),
        sum(l for _, _, l in lags[2 * len(lags) // 3:]) / max(1, len(lags) - 2 * len(lags) // 3),
        sum(l for _, _, l in lags[:max(1, len(lags) // 3)]) / max(1, len(lags) // 3)))
PY
echo "aggregates: $(q "SELECT sum(records), count() FROM qoestor.fullflow_agg_15m FORMAT TSV" | awk '{printf "%d records in %d rows (%.1fx)", $1, $2, $1 / $2}')"
echo "qoestor-db CPU by thread name:"
cat "$T/threads"
echo "ClickHouse counters (system.events):"
q "SELECT '  ' || event, value FROM system.events WHERE event IN ('InsertedRows', 'InsertedBytes', 'Merge',
	'MergedRows', 'MergedColumns', 'MergedUncompressedBytes', 'MergeTotalMilliseconds', 'MergesTimeMilliseconds',
	'MergeExecuteMilliseconds', 'MergeHorizontalStageTotalMilliseconds', 'MergeVerticalStageTotalMilliseconds',
	'MergeTreeDataWriterRows', 'MergeTreeDataWriterCompressedBytes', 'MergeTreeDataWriterSkipIndicesCalculationMicroseconds',
	'MergeTreeDataWriterSortingBlocksMicroseconds', 'DuplicatedInsertedBlocks', 'DelayedInserts', 'RejectedInserts')
	ORDER BY event FORMAT TSV"
echo "active parts per table: parts, most in one partition, rows, rows x merge level (rows rewritten by merges), on disk:"
q "SELECT '  ' || table, sum(n), max(n), sum(r), sum(rl), formatReadableSize(sum(b)) FROM (
	SELECT table, partition, count() AS n, sum(rows) AS r, sum(rows * level) AS rl, sum(bytes_on_disk) AS b
	FROM system.parts WHERE database = 'qoestor' AND active GROUP BY table, partition)
	GROUP BY table ORDER BY table FORMAT TSV"

#!/bin/sh
# recv-udp-rules.sh: RFC 7011's UDP rules in qoestor-recv.
#   - hold: data sent before its template (as after a receiver restart) is held
#     and stored once the template arrives: every row, counted as held;
#   - template lifetime: with --udp-template-lifetime 1, a template the
#     exporter stops refreshing is forgotten; its later data sets count as
#     unknown template (the exporter keeps sending data every 50 ms until the
#     receiver says so: a bounded poll, not a sleep).
. "$(dirname "$0")/../lib.sh"
ie="$top/dictionaries/vasexperts-ie.xml"
port=$(free_port) mport=$(free_port)
murl="http://127.0.0.1:$mport/metrics"
metric() { curl -sf "$murl" | awk -v n="$1" 'index($1, n "{") == 1 { s += $2 } END { printf "%d\n", s }'; }

cat >"$T/send.py" <<'PY'
# send.py PORT MODE [LOGFILE]: hand-built IPFIX over UDP from one socket (one exporter)
#   hold: 3 data messages (template 256 unknown yet), then the template, then 1 more data message
#   expire: template + data once, then data every 50 ms until LOGFILE says the template was forgotten
#           (at most 15 s), then 3 more data messages
import socket, struct, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
seq = 0
def msg(sets):
    global seq
    body = b''.join(struct.pack('!HH', sid, 4 + len(b)) + b for sid, b in sets)
    m = struct.pack('!HHIII', 10, 16 + len(body), int(time.time()), seq, 7) + body
    s.sendto(m, ('127.0.0.1', port))
def data(n):
    global seq
    msg([(256, b''.join(struct.pack('!QI', 1000 + seq + i, 0x0a000001 + i) for i in range(n)))])
    seq += n
tmpl = (2, struct.pack('!HHHHHH', 256, 2, 1, 8, 8, 4))
if mode == 'hold':
    for _ in range(3):
        data(4)
    msg([tmpl])
    data(4)
else:
    msg([tmpl]); data(2)
    end = time.time() + 15
    while time.time() < end and 'not refreshed' not in open(sys.argv[3]).read():
        data(1); time.sleep(0.05)
    for _ in range(3):
        data(2)
PY

bg recv "$QOESTOR_BIN/qoestor-recv" --stream fullflow --listen "udp://127.0.0.1:$port" --spool "$T/spool" \
	--ie-file "$ie" --metrics "127.0.0.1:$mport"
wait_for 20 curl -sf "$murl" || fail "receiver did not start: $(cat "$T/recv.log")"
python3 "$T/send.py" "$port" hold
wait_for 20 sh -c "[ \$(curl -sf '$murl' | awk '/^qoestor_recv_rows_total/ { s += \$2 } END { print s + 0 }') = 16 ]" ||
	fail "hold: $(metric qoestor_recv_rows_total) of 16 rows"
expect_eq "$(metric qoestor_recv_held_sets_total)" 3 "hold: held sets"
expect_eq "$(metric qoestor_recv_held_records_total)" 12 "hold: held records decoded"
expect_eq "$(metric qoestor_recv_unknown_template_sets_total)" 0 "hold: sets dropped"
kill -TERM "$recv_pid"
wait "$recv_pid" || fail "exit status $?"
rows=$("$QOESTOR_BIN/qoestor-spool" cat --raw-time --no-header $(find "$T/spool" -name '*.qsp') | wc -l)
expect_eq "$rows" 16 "hold: rows in the spool"
note "data before its template: 3 sets held, all 16 rows stored"

port=$(free_port)
bg recv2 "$QOESTOR_BIN/qoestor-recv" --stream fullflow --listen "udp://127.0.0.1:$port" --spool "$T/spool2" \
	--ie-file "$ie" --metrics "127.0.0.1:$mport" --udp-template-lifetime 1 --udp-hold-seconds 0
wait_for 20 curl -sf "$murl" || fail "receiver 2 did not start"
python3 "$T/send.py" "$port" expire "$T/recv2.log"
grep -q "template 256 not refreshed for 1 s: forgotten" "$T/recv2.log" || fail "lifetime: no expiry line"
wait_for 20 sh -c "[ \$(curl -sf '$murl' | awk '/^qoestor_recv_unknown_template_sets_total/ { s += \$2 } END { print s + 0 }') -ge 3 ]" ||
	fail "lifetime: data after the expiry not counted as unknown template"
expect_eq "$(metric qoestor_recv_expired_templates_total)" 1 "lifetime: expired templates"
kill -TERM "$recv2_pid"
wait "$recv2_pid" || fail "exit status $?"
note "template lifetime 1 s: forgotten, later data counted as unknown template"

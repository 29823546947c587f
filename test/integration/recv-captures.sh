#!/bin/sh
# recv-captures.sh: real exporters' captures (../shared/testdata/ipfix, read in
# place, never copied) decode without a crash, and qoestor-recv counts as many
# data records as libfixbuf's ipfixDump does on the same bytes.
#   - the CESNET IPFIXcol2 stream file (68 messages, one empty) over TCP;
#   - every IPFIX pcap (UDP payloads sent in capture order) over UDP;
#   - every logstash .dat IPFIX payload pair (templates first) over UDP.
# Records are counted from the receiver's per-exporter log line at shutdown.
. "$(dirname "$0")/../lib.sh"
data="$top/../shared/testdata/ipfix"
[ -d "$data" ] || fail "test data missing: $data"
ie="$top/dictionaries/vasexperts-ie.xml"

# send PROTO PORT FILE...: send the files' bytes; a .pcap sends its UDP payloads
send() {
	python3 - "$@" <<'PY'
import socket, struct, sys
proto, port, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def payloads(path):
    b = open(path, 'rb').read()
    if not path.endswith('.pcap'):
        yield b; return
    magic = struct.unpack('<I', b[:4])[0]
    e = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
    link = struct.unpack(e + 'I', b[20:24])[0]
    off = 24
    while off + 16 <= len(b):
        incl = struct.unpack(e + 'I', b[off + 8:off + 12])[0]
        pkt = b[off + 16:off + 16 + incl]; off += 16 + incl
        p = {1: 14, 113: 16, 101: 0, 0: 4}.get(link, 14)
        if link == 1:
            et = struct.unpack('>H', pkt[12:14])[0]
            while et == 0x8100:
                p += 4; et = struct.unpack('>H', pkt[p - 2:p])[0]
        v = pkt[p] >> 4
        if v == 4:
            ihl = (pkt[p] & 15) * 4
            if pkt[p + 9] != 17: continue
            u = p + ihl
        elif v == 6:
            if pkt[p + 6] != 17: continue
            u = p + 40
        else:
            continue
        yield pkt[u + 8:]
if proto == 'tcp':
    s = socket.create_connection(('127.0.0.1', port))
    for f in files:
        for pl in payloads(f): s.sendall(pl)
    s.close()
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for f in files:
        for pl in payloads(f): s.sendto(pl, ('127.0.0.1', port))
PY
}

# dump_count FILE...: data records ipfixDump finds (pcaps: their UDP payloads)
dump_count() {
	rm -f "$T/stream.ipfix"
	for f in "$@"; do
		python3 - "$f" >>"$T/stream.ipfix" <<'PY'
import struct, sys
path = sys.argv[1]
b = open(path, 'rb').read()
if not path.endswith('.pcap'):
    sys.stdout.buffer.write(b); sys.exit(0)
magic = struct.unpack('<I', b[:4])[0]
e = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
link = struct.unpack(e + 'I', b[20:24])[0]
off = 24
while off + 16 <= len(b):
    incl = struct.unpack(e + 'I', b[off + 8:off + 12])[0]
    pkt = b[off + 16:off + 16 + incl]; off += 16 + incl
    p = {1: 14, 113: 16, 101: 0, 0: 4}.get(link, 14)
    if link == 1:
        et = struct.unpack('>H', pkt[12:14])[0]
        while et == 0x8100:
            p += 4; et = struct.unpack('>H', pkt[p - 2:p])[0]
    v = pkt[p] >> 4
    if v == 4:
        if pkt[p + 9] != 17: continue
        u = p + (pkt[p] & 15) * 4
    elif v == 6:
        if pkt[p + 6] != 17: continue
        u = p + 40
    else:
        continue
    pl = pkt[u + 8:]
    if len(pl) >= 2 and pl[0] == 0 and pl[1] == 10:
        sys.stdout.buffer.write(pl)
PY
	done
	ipfixDump -s -i "$T/stream.ipfix" 2>/dev/null | sed -n 's/.*Messages, \([0-9]*\) Data Records.*/\1/p'
}

run_case() { # name proto files...
	name=$1 proto=$2; shift 2
	port=$(free_port)
	log="$T/recv-$name.log"
	"$QOESTOR_BIN/qoestor-recv" --stream fullflow --listen "$proto://127.0.0.1:$port" --spool "$T/spool-$name" \
		--ie-file "$ie" >"$log" 2>&1 &
	rpid=$!
	_pids="$_pids $rpid"
	wait_for 20 grep -q "listening on" "$log" || fail "$name: receiver did not start: $(cat "$log")"
	send "$proto" "$port" "$@"
	want=$(dump_count "$@")
	[ -n "$want" ] || fail "$name: ipfixDump gave no count"
	if [ "$proto" = tcp ]; then
		wait_for 30 grep -q "connection closed (end of stream)" "$log" || fail "$name: connection not closed"
	fi
	# UDP: the datagrams are in the receiver's socket buffer once send
	# returned (loopback); on SIGTERM the receiver decodes what the socket
	# holds before it closes.
	kill -TERM "$rpid"
	i=0
	while kill -0 "$rpid" 2>/dev/null; do i=$((i + 1)); [ $i -lt 600 ] || fail "$name: no exit"; wait_tick; done
	wait "$rpid" || fail "$name: receiver exit status $?"
	got=$(sed -n 's/.* messages, \([0-9]*\) records, .*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')
	grep -q "AddressSanitizer\|runtime error" "$log" && fail "$name: sanitizer report in $log"
	expect_eq "$got" "$want" "$name: data records (ipfixDump says $want)"
	note "$name: $got records, as ipfixDump"
}

run_case cesnet tcp "$data/cesnet-ipfixcol2-example_flows.ipfix"
for p in "$data"/pmacct-test-automation/*.pcap; do
	case "$p" in *IPFIX*) ;; *) continue ;; esac
	c=$(dump_count "$p")
	[ "${c:-0}" -gt 0 ] || continue
	run_case "$(basename "$p" .pcap)" udp "$p"
done
cd "$data/logstash-codec-netflow"
for tpl in ipfix_test_*tpl*.dat; do
	base=${tpl%%_tpl*}
	set -- "$tpl"
	for d in "$base"_data*.dat; do [ -f "$d" ] && set -- "$@" "$d"; done
	[ $# -gt 1 ] || continue
	run_case "$base" udp "$@"
done

#!/bin/sh
# recv-exporters.sh: acceptance with real exporters. A pcap of 1000 flows
# (IPv4 and IPv6, TCP and UDP, several TOS values; generated here) is turned
# into flow exports by
#   - softflowd 1.1 (IPFIX over UDP, IPFIX over TCP with -P tcp, NetFlow v9
#     whose times are uptime offsets),
#   - pmacct's pmacctd with the nfprobe plugin (IPFIX over UDP),
#   - nfdump's nfreplay (NetFlow v9 and v5 over UDP) replaying the nfcapd
#     file of softflowd's export,
# whose bytes are captured (a UDP sink saving datagrams into a pcap, a TCP
# sink saving the stream), replayed into qoestor-recv, and decoded by a
# reference: libfixbuf's ipfixDump for IPFIX, Wireshark's tshark for NetFlow.
# The spool's rows must equal, value for value, the rows the reference's
# records give through the schema table (`qoestor-schema columns`): every
# column whose element the record carries holds its value (cut to the
# column's width), every other column is \N. Also: NetFlow to a receiver
# without --accept is refused with a log line naming --accept.
# Traffic stays on 127.0.0.1.
. "$(dirname "$0")/../lib.sh"
ie="$top/dictionaries/vasexperts-ie.xml"
for tool in softflowd pmacctd nfcapd nfreplay ipfixDump tshark; do
	command -v $tool >/dev/null || fail "$tool is not installed (make deps)"
done
"$QOESTOR_BIN/qoestor-schema" columns fullflow >"$T/columns.tsv" || fail "qoestor-schema columns failed"

cat >"$T/netio.py" <<'PY'
# netio.py: the test's network helpers and the row comparison.
import ipaddress, json, os, random, socket, struct, sys, time
from datetime import datetime, timezone

def pcap_write(path, dgrams, port, link=101):
    with open(path, 'wb') as o:
        o.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, link))
        for i, d in enumerate(dgrams):
            udp = struct.pack('!HHHH', 40000, port, 8 + len(d), 0) + d
            ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0,
                             bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])) + udp
            o.write(struct.pack('<IIII', 1700000000 + i // 1000, i % 1000, len(ip), len(ip)) + ip)

def pcap_read(path):
    b = open(path, 'rb').read(); off = 24; out = []
    while off + 16 <= len(b):
        n = struct.unpack('<I', b[off + 8:off + 12])[0]; pkt = b[off + 16:off + 16 + n]; off += 16 + n
        out.append(pkt[28:])
    return out

def portfile(path, port):
    open(path + '.tmp', 'w').write(str(port)); os.rename(path + '.tmp', path)

def mkpcap(out, nflows):
    """Ethernet frames of nflows flows: every 5th IPv6, a third UDP; deterministic."""
    rnd = random.Random(7); pk = []; t0 = 1700000000.0
    def csum(b):
        s = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
        return ~s & 0xffff
    for f in range(nflows):
        v6, proto = f % 5 == 4, 6 if f % 3 else 17
        sp, dp = 1024 + rnd.randrange(60000), rnd.choice([80, 443, 53, 8080])
        tos = rnd.choice([0, 0x20, 0xb8])
        for k in range(1 + rnd.randrange(6)):
            ts = t0 + f * 0.01 + k * 0.001
            pl = bytes(rnd.randrange(256) for _ in range(rnd.randrange(10, 400)))
            if proto == 6:
                l4 = struct.pack('!HHIIBBHHH', sp, dp, 1000 + k, 0, 5 << 4, 0x18 if k else 0x02, 65535, 0, 0) + pl
            else:
                l4 = struct.pack('!HHHH', sp, dp, 8 + len(pl), 0) + pl
            if v6:
                src = bytes.fromhex('20010db8000000000000000000%06x' % f)
                dst = bytes.fromhex('20010db8ffff0000000000000000%04x' % (f % 65536))
                ip = struct.pack('!IHBB', (6 << 28) | (tos << 20), len(l4), proto, 64) + src + dst
                eth = b'\x02' * 6 + b'\x04' * 6 + b'\x86\xdd'
            else:
                src = struct.pack('!I', 0x0a000000 + f); dst = struct.pack('!I', 0xc0a80000 + (f % 65536))
                h = struct.pack('!BBHHHBBH4s4s', 0x45, tos, 20 + len(l4), f & 0xffff, 0, 64, proto, 0, src, dst)
                ip = h[:10] + struct.pack('!H', csum(h)) + h[12:]
                eth = b'\x02' * 6 + b'\x04' * 6 + b'\x08\x00'
            pk.append((ts, eth + ip + l4))
    pk.sort(key=lambda x: x[0])
    with open(out, 'wb') as o:
        o.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for ts, fr in pk:
            o.write(struct.pack('<IIII', int(ts), int(round((ts % 1) * 1e6)) % 1000000, len(fr), len(fr)) + fr)

# ---- references -> rows ------------------------------------------------------
def ms_of(text, fmt):
    text = text.replace(' UTC', '')
    frac = 0
    if '.' in text:
        text, f = text.rsplit('.', 1); frac = int((f + '000')[:3])
    return int(datetime.strptime(text, fmt).replace(tzinfo=timezone.utc).timestamp()) * 1000 + frac

def ipfixdump_records(path):
    """Data records of `ipfixDump -i` text, options records left out: lists of (pen, ie, text)."""
    recs, cur, opts = [], None, False
    for line in open(path, errors='replace'):
        if line.startswith('--- '):
            if cur is not None and not opts:
                recs.append(cur)
            cur, opts = ([] if line.startswith('--- data record') else None), False
            continue
        if cur is None or not line.startswith('\t('):
            continue
        head, _, val = line.strip().partition(' : ')
        num = head[1:head.index(')')]
        if '(S)' in head:
            opts = True
        pen, ie = (num.split('/') if '/' in num else ('0', num))
        cur.append((int(pen), int(ie), val.strip()))
    if cur is not None and not opts:
        recs.append(cur)
    return recs

TSHARK = {'cflow.octets': 1, 'cflow.packets': 2, 'cflow.protocol': 4, 'cflow.tos': 5, 'cflow.srcport': 7,
          'cflow.srcaddr': 8, 'cflow.inputint': 10, 'cflow.dstport': 11, 'cflow.dstaddr': 12,
          'cflow.outputint': 14, 'cflow.srcas': 16, 'cflow.dstas': 17, 'cflow.srcaddrv6': 27,
          'cflow.dstaddrv6': 28, 'cflow.abstimestart': 152, 'cflow.abstimeend': 153, 'cflow.ip_version': 60}

class Pairs(list):
    """A JSON object as its (key, value) pairs: tshark repeats keys ("Flow 1" per flowset)."""

def tshark_records(path):
    """v9 "Flow N" and v5 "pdu N/M" records. v5 times are uptime seconds:
    epoch = unix_secs + unix_nsecs - (sysuptime - time), from the packet header."""
    recs = []
    hdr = {}
    def leaves(n, r):
        for k, v in n:
            if isinstance(v, Pairs):
                leaves(v, r)
            elif k in ('cflow.abstimestart', 'cflow.abstimeend') and v.startswith('Jan  1, 1970 00:00:00.000'):
                # tshark shows an uptime value of 0 as an absolute time of 0: it is uptime 0
                leaves(Pairs([(k.replace('abs', ''), '0')]), r)
            elif k in TSHARK:
                r.append((0, TSHARK[k], v))
            elif k in ('cflow.timestart', 'cflow.timeend'):
                export_ms = int(hdr['cflow.unix_secs']) * 1000 + int(hdr.get('cflow.unix_nsecs', 0)) // 1000000
                up = round(float(hdr['cflow.sysuptime']) * 1000)
                r.append((0, 152 if k == 'cflow.timestart' else 153,
                          'ms:%d' % (export_ms - (up - round(float(v) * 1000)))))
    def walk(node):
        if isinstance(node, Pairs):
            for k, v in node:
                if k == 'cflow.version':
                    hdr.clear()
                if k in ('cflow.sysuptime', 'cflow.unix_secs', 'cflow.unix_nsecs'):
                    hdr[k] = v
                if (k.startswith('Flow ') or k.startswith('pdu ')) and isinstance(v, Pairs):
                    r = []
                    leaves(v, r)
                    recs.append(r)
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(json.load(open(path), object_pairs_hook=Pairs))
    return recs

def expected_rows(recs, columns_path, header):
    cols = {}
    for line in open(columns_path):
        name, typ, penie, flags = line.rstrip('\n').split('\t')
        pen, ie = penie.split('/')
        cols[name] = (typ, int(pen), int(ie), int(flags, 16))
    rows = []
    for rec in recs:
        out = []
        for name in header:
            typ, pen, ie, flags = cols[name]
            val = '\\N'
            if ie and not flags & 0x21:
                for p, i, v in rec:
                    if p == pen and i == ie:
                        val = norm(typ, v); break
            out.append(val)
        if any(v != '\\N' for v in out):
            rows.append('\t'.join(out))
    return rows

def norm(typ, v):
    if typ in ('u8', 'u16', 'u32', 'u64'):
        bits = {'u8': 8, 'u16': 16, 'u32': 32, 'u64': 64}[typ]
        return str(int(v, 0) & ((1 << bits) - 1))
    if typ == 'ipv4':
        return str(ipaddress.IPv4Address(v))
    if typ == 'ipv6':
        return str(ipaddress.IPv6Address(v))
    if typ == 'time_ms':
        if v.startswith('ms:'):
            return v[3:]
        if v[0].isdigit():
            return str(ms_of(v, '%Y-%m-%d %H:%M:%S'))
        return str(ms_of(v, '%b %d, %Y %H:%M:%S'))
    return v

cmd = sys.argv[1]
if cmd == 'mkpcap':
    mkpcap(sys.argv[2], int(sys.argv[3]))
elif cmd == 'sink':   # sink udp|tcp PORTFILE OUT: UDP datagrams into a pcap until "STOP"; TCP: one stream
    proto, pf, out = sys.argv[2:5]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if proto == 'udp' else socket.SOCK_STREAM)
    s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]
    if proto == 'udp':
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 24); portfile(pf, port); got = []
        while True:
            d = s.recv(65535)
            if d == b'STOP': break
            got.append(d)
        pcap_write(out, got, port)
    else:
        s.listen(1); portfile(pf, port); c, _ = s.accept()
        with open(out, 'wb') as f:
            while True:
                d = c.recv(1 << 16)
                if not d: break
                f.write(d)
elif cmd == 'stop':
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'STOP', ('127.0.0.1', int(sys.argv[2])))
elif cmd == 'send':   # send udp|tcp PORT FILE (udp: a pcap of datagrams; tcp: a stream)
    proto, port, path = sys.argv[2], int(sys.argv[3]), sys.argv[4]
    if proto == 'tcp':
        s = socket.create_connection(('127.0.0.1', port)); s.sendall(open(path, 'rb').read()); s.close()
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for d in pcap_read(path):
            s.sendto(d, ('127.0.0.1', port))
elif cmd == 'raw':    # raw IN.pcap OUT: the datagrams' bytes concatenated (an IPFIX message stream)
    open(sys.argv[3], 'wb').write(b''.join(pcap_read(sys.argv[2])))
elif cmd == 'compare':  # compare ipfixdump|tshark REFERENCE COLUMNS SPOOL_TSV_WITH_HEADER
    kind, ref, columns, got = sys.argv[2:6]
    lines = open(got, errors='surrogateescape').read().split('\n')
    header, have = lines[0].split('\t'), [l for l in lines[1:] if l]
    recs = ipfixdump_records(ref) if kind == 'ipfixdump' else tshark_records(ref)
    want = expected_rows(recs, columns, header)
    if sorted(want) != sorted(have) or not want:
        import collections
        a, b = collections.Counter(want), collections.Counter(have)
        print('reference %d rows, spool %d rows' % (len(want), len(have)))
        for r in list((a - b).elements())[:3]:
            print('only in the reference: ' + r)
        for r in list((b - a).elements())[:3]:
            print('only in the spool:     ' + r)
        sys.exit(1)
    print(len(want))
PY
net() { python3 "$T/netio.py" "$@"; }

python3 "$T/netio.py" mkpcap "$T/flows.pcap" 1000

# capture NAME udp|tcp 'CMD': run the exporter command (sh; its target is
# "$SINK" = 127.0.0.1:PORT, or "$SINK_PORT"), save the bytes it sends
export T
capture() {
	name=$1 proto=$2 cmd=$3
	rm -f "$T/$name.port"
	net sink "$proto" "$T/$name.port" "$T/$name.$proto" &
	sink_pid=$!
	wait_for 20 test -f "$T/$name.port" || fail "$name: sink did not start"
	SINK_PORT=$(cat "$T/$name.port")
	SINK=127.0.0.1:$SINK_PORT
	export SINK SINK_PORT
	sh -c "$cmd" >"$T/$name.exporter.log" 2>&1 || fail "$name: exporter failed: $(tail -3 "$T/$name.exporter.log")"
	[ "$proto" = tcp ] || net stop "$(cat "$T/$name.port")"
	wait "$sink_pid" || fail "$name: sink failed"
}

# check NAME udp|tcp ipfixdump|tshark [RECV ARGS...]: replay the capture into qoestor-recv and compare
check() {
	name=$1 proto=$2 ref=$3; shift 3
	port=$(free_port)
	log="$T/recv-$name.log"
	"$QOESTOR_BIN/qoestor-recv" --stream fullflow --listen "$proto://127.0.0.1:$port" --spool "$T/spool-$name" \
		--ie-file "$ie" "$@" >"$log" 2>&1 &
	rpid=$!
	_pids="$_pids $rpid"
	wait_for 20 grep -q "listening on" "$log" || fail "$name: receiver did not start: $(cat "$log")"
	net send "$proto" "$port" "$T/$name.$proto"
	[ "$proto" = udp ] || wait_for 30 grep -q "connection closed (end of stream)" "$log" || fail "$name: not closed"
	kill -TERM "$rpid"
	i=0
	while kill -0 "$rpid" 2>/dev/null; do i=$((i + 1)); [ $i -lt 600 ] || fail "$name: no exit"; wait_tick; done
	wait "$rpid" || fail "$name: receiver exit status $?"
	! grep -E " (error|critical):|AddressSanitizer|runtime error" "$log" || fail "$name: errors in the receiver log"
	files=$(find "$T/spool-$name" -name '*.qsp')
	[ -n "$files" ] || fail "$name: no spool file"
	# shellcheck disable=SC2086
	"$QOESTOR_BIN/qoestor-spool" cat --raw-time $files >"$T/$name.rows" || fail "$name: spool unreadable"
	if [ "$ref" = ipfixdump ]; then
		if [ "$proto" = udp ]; then net raw "$T/$name.udp" "$T/$name.ipfix"; else cp "$T/$name.tcp" "$T/$name.ipfix"; fi
		ipfixDump -i "$T/$name.ipfix" >"$T/$name.ref" 2>/dev/null || fail "$name: ipfixDump failed"
	else
		tshark -r "$T/$name.udp" -d "udp.port==$(cat "$T/$name.port"),cflow" -T json >"$T/$name.ref" 2>/dev/null ||
			fail "$name: tshark failed"
	fi
	n=$(net compare "$ref" "$T/$name.ref" "$T/columns.tsv" "$T/$name.rows") || {
		echo "$n"
		fail "$name: the spool's rows differ from $ref's records"
	}
	note "$name: $n rows, value for value as $ref"
}

capture softflowd-ipfix udp 'softflowd -r "$T/flows.pcap" -v 10 -A milli -n "$SINK" -d -c none -p "$T/sf1.pid"'
check softflowd-ipfix udp ipfixdump
capture softflowd-ipfix-tcp tcp 'softflowd -r "$T/flows.pcap" -v 10 -P tcp -A milli -n "$SINK" -d -c none -p "$T/sf2.pid"'
check softflowd-ipfix-tcp tcp ipfixdump

# softflowd's NetFlow v9 carries uptime times (FIRST/LAST_SWITCHED)
capture softflowd-v9 udp 'softflowd -r "$T/flows.pcap" -a -v 9 -n "$SINK" -d -c none -p "$T/sf3.pid"'
check softflowd-v9 udp tshark --accept netflow9

cat >"$T/pmacctd.conf.in" <<EOF
daemonize: false
pcap_savefile: $T/flows.pcap
plugins: nfprobe
nfprobe_receiver: @SINK@
nfprobe_version: 10
nfprobe_timeouts: tcp=1:udp=1:maxlife=1:expint=1:general=1
EOF
capture pmacctd-ipfix udp 'sed "s|@SINK@|$SINK|" "$T/pmacctd.conf.in" >"$T/pmacctd.conf" && pmacctd -f "$T/pmacctd.conf"'
check pmacctd-ipfix udp ipfixdump

# nfcapd stores softflowd's export; nfreplay sends that file as NetFlow v9 and v5
nport=$(free_port)
mkdir -p "$T/nfcapd"
nfcapd -b 127.0.0.1 -p "$nport" -w "$T/nfcapd" >"$T/nfcapd.log" 2>&1 &
nfpid=$!
_pids="$_pids $nfpid"
wait_for 20 grep -qi ":$(printf %04X "$nport") " /proc/net/udp || fail "nfcapd did not start"
net send udp "$nport" "$T/softflowd-ipfix.udp"
kill -TERM "$nfpid"
wait "$nfpid" || true
nffile=$(find "$T/nfcapd" -name 'nfcapd.*' | head -1)
[ -n "$nffile" ] || fail "nfcapd wrote no file: $(cat "$T/nfcapd.log")"
export nffile
capture nfreplay-v9 udp 'nfreplay -r "$nffile" -H 127.0.0.1 -p "$SINK_PORT" -v 9 -d 200'
capture nfreplay-v5 udp 'nfreplay -r "$nffile" -H 127.0.0.1 -p "$SINK_PORT" -v 5 -d 200'
check nfreplay-v9 udp tshark --accept ipfix,netflow9
check nfreplay-v5 udp tshark --accept netflow5

# NetFlow to a receiver that does not accept it: refused, with the option named
port=$(free_port)
log="$T/recv-refuse.log"
"$QOESTOR_BIN/qoestor-recv" --stream fullflow --listen "udp://127.0.0.1:$port" --spool "$T/spool-refuse" \
	--ie-file "$ie" >"$log" 2>&1 &
rpid=$!
_pids="$_pids $rpid"
wait_for 20 grep -q "listening on" "$log" || fail "refuse: receiver did not start"
net send udp "$port" "$T/nfreplay-v5.udp"
wait_for 20 grep -q "accept netflow5" "$log" || fail "refuse: no log line naming --accept netflow5: $(tail -3 "$log")"
kill -TERM "$rpid"
wait "$rpid" || fail "refuse: exit status $?"
grep -q "malformed messages" "$log" || fail "refuse: no exporter counters"
note "NetFlow v5 without --accept: refused, the log names --accept netflow5"

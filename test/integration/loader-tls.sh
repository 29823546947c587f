#!/bin/sh
# loader-tls.sh: the loader over https.
#
# qoestor-db speaks plain HTTP, so a TLS terminator sits in front of it, as a
# deployment's proxy would: a small Python ssl relay (test/integration only)
# with a self-signed certificate for 127.0.0.1. Checks: with --tls-ca-file
# the loader applies the schema and loads a spool through https with exact
# totals, and the relay saw TLS connections; without the CA the certificate
# is refused with a message that says so, and nothing is loaded.
. "$(dirname "$0")/../lib.sh"

command -v openssl > /dev/null || fail "openssl is needed (tools/deps.sh)"
start_db
L="$QOESTOR_BIN/qoestor-loader"
G="$QOESTOR_BIN/qoestor-spoolgen"
val() { sed -n "s/^$1=//p" "$2"; }

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 -subj /CN=127.0.0.1 \
	-addext "subjectAltName=IP:127.0.0.1" > "$T/openssl.log" 2>&1 || { cat "$T/openssl.log"; fail "openssl req"; }
TPORT=$(free_port)
cat > "$T/relay.py" <<'PY'
import asyncio, ssl, sys
cert, key, port, target, log = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
n = 0
async def pipe(r, w):
    try:
        while data := await r.read(65536):
            w.write(data)
            await w.drain()
    except Exception:
        pass
    finally:
        w.close()
async def handle(r, w):
    global n
    n += 1
    with open(log, "a") as f:
        f.write("tls connection %d %s\n" % (n, w.get_extra_info("ssl_object").version()))
    ur, uw = await asyncio.open_connection("127.0.0.1", target)
    await asyncio.gather(pipe(r, uw), pipe(ur, w))
async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", port, ssl=ctx)
    print("listening", flush=True)
    async with srv:
        await srv.serve_forever()
asyncio.run(main())
PY
bg relay python3 "$T/relay.py" "$T/cert.pem" "$T/key.pem" "$TPORT" "$DB_PORT" "$T/conns.log"
wait_for 30 grep -q listening "$T/relay.log" || { cat "$T/relay.log"; fail "TLS relay did not start"; }
URL="https://127.0.0.1:$TPORT"

note "without the CA: the certificate is refused"
"$G" --spool "$T/spool" --rows 30000 --files 2 --seed 51 > "$T/g.txt"
rc=0
"$L" --spool "$T/spool" --clickhouse "$URL" --once > "$T/bad.out" 2> "$T/bad.log" || rc=$?
[ "$rc" -ne 0 ] || { cat "$T/bad.out" "$T/bad.log"; fail "an untrusted certificate was accepted"; }
grep -qi "certificate" "$T/bad.log" || { cat "$T/bad.log"; fail "the error does not mention the certificate"; }
expect_eq "$(q "SELECT count() FROM system.tables WHERE database = 'qoestor'")" 0 "nothing created without trust"

note "with --tls-ca-file: schema and rows through https"
"$L" --spool "$T/spool" --clickhouse "$URL" --tls-ca-file "$T/cert.pem" --once > "$T/ok.out" 2> "$T/ok.log" ||
	{ cat "$T/ok.out" "$T/ok.log"; fail "--once over https exited $?"; }
expect_eq "$(q "SELECT count(), sum(octets), sum(packets) FROM qoestor.fullflow FORMAT TSV")" \
	"$(printf '%s\t%s\t%s' "$(val rows "$T/g.txt")" "$(val sum_octets "$T/g.txt")" "$(val sum_packets "$T/g.txt")")" \
	"fullflow over https"
[ "$(grep -c "tls connection" "$T/conns.log")" -ge 1 ] || fail "the relay saw no TLS connection"
note "$(grep -c "tls connection" "$T/conns.log") TLS connections ($(tail -1 "$T/conns.log" | cut -d' ' -f4))"

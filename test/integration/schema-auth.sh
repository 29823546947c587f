#!/bin/sh
# schema-auth.sh: qoestor-loader --init-db authenticates to a qoestor-db that
# requires a password: from --password-file with HTTP basic auth, with
# X-ClickHouse-User/Key headers (--auth-headers), and a wrong password exits
# 1 with the server's AUTHENTICATION_FAILED and the URL in the message.
. "$(dirname "$0")/../lib.sh"

printf 'pa ss:w0rd\n' > "$T/pw"
printf 'wrong\n' > "$T/bad"
# start_db polls /ping without credentials; this server wants them everywhere.
DB_PORT=$(free_port)
DB_URL="http://127.0.0.1:$DB_PORT"
mkdir -p "$T/db"
bg db "$QOESTOR_DB_BIN/qoestor-db" --listen "127.0.0.1:$DB_PORT" --path "$T/db" --user loader --password-file "$T/pw"
wait_for 60 curl -sf -u 'loader:pa ss:w0rd' "$DB_URL/ping" || { cat "$T/db.log"; fail "qoestor-db did not answer /ping within 60 s"; }
L="$QOESTOR_BIN/qoestor-loader"

note "basic auth from --password-file"
"$L" --clickhouse "$DB_URL" --user loader --password-file "$T/pw" --init-db > "$T/basic.log" 2>&1 \
	|| { cat "$T/basic.log"; fail "--init-db with basic auth failed"; }
grep -q "created table qoestor.fullflow" "$T/basic.log" || { cat "$T/basic.log"; fail "nothing created"; }

note "X-ClickHouse-User/Key headers, second run changes nothing"
"$L" --clickhouse "$DB_URL" --user loader --password 'pa ss:w0rd' --auth-headers --init-db > "$T/hdr.log" 2>&1 \
	|| { cat "$T/hdr.log"; fail "--init-db with header auth failed"; }
grep -q "0 changes, 0 warnings" "$T/hdr.log" || { cat "$T/hdr.log"; fail "second run changed something"; }

note "wrong password: exit 1, the server's reason and the URL"
set +e
"$L" --clickhouse "$DB_URL" --user loader --password-file "$T/bad" --init-db > "$T/bad.log" 2>&1
rc=$?
set -e
expect_eq "$rc" 1 "exit code with a wrong password"
grep -q "AUTHENTICATION_FAILED" "$T/bad.log" || { cat "$T/bad.log"; fail "no AUTHENTICATION_FAILED in the message"; }
grep -q "$DB_URL" "$T/bad.log" || { cat "$T/bad.log"; fail "the message does not name the URL"; }
grep -q "w0rd" "$T/bad.log" "$T/basic.log" "$T/hdr.log" && fail "a password leaked into the log"
true

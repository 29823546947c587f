#!/bin/sh
# db-manyfds.sh: qoestor-db serves connections whose socket numbers are above
# FD_SETSIZE (1024). Under a sustained load the engine holds a file descriptor
# per column file of every part it writes or merges (over a thousand), and
# qoestor-db once watched sockets with select(), which cannot: it refused those
# connections ("not less than FD_SETSIZE") and the loader's inserts failed.
# Here qoestor-db starts with 1100 descriptors already open (inherited), so
# every socket it accepts is numbered above 1024.
. "$(dirname "$0")/../lib.sh"

DB_PORT=$(free_port)
DB_URL="http://127.0.0.1:$DB_PORT"
mkdir -p "$T/db"
bg db python3 -c 'import os, sys
for _ in range(1100):
    os.set_inheritable(os.open("/dev/null", os.O_RDONLY), True)
os.execv(sys.argv[1], sys.argv[1:])' "$QOESTOR_DB_BIN/qoestor-db" --listen "127.0.0.1:$DB_PORT" --path "$T/db"
wait_for 60 curl -sf "$DB_URL/ping" || { cat "$T/db.log"; fail "qoestor-db did not answer /ping within 60 s"; }
n=$(ls "/proc/$db_pid/fd" | wc -l)
[ "$n" -gt 1100 ] || fail "qoestor-db has $n descriptors open, expected over 1100 (the test does not test)"

note "queries and inserts over connections numbered above 1024"
q "CREATE TABLE default.t (a UInt64) ENGINE = MergeTree ORDER BY a" >/dev/null
for i in 1 2 3 4 5; do
	q "INSERT INTO default.t SELECT number FROM numbers($i)" >/dev/null
done
expect_eq "$(q "SELECT count(), sum(a) FROM default.t FORMAT TSV")" "$(printf '15\t20')" "rows inserted over 5 connections"
grep -q "FD_SETSIZE" "$T/db.log" && { cat "$T/db.log"; fail "qoestor-db refused a connection"; }
exit 0

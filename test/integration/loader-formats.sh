#!/bin/sh
# loader-formats.sh: the RowBinary, Native and CSV encoders store the same values
# (with zstd, no and gzip body compression).
#
# Every stream gets spool files from qoestor-spoolgen --any (every column
# random by type, some absent: NULL in Nullable columns; strings of random
# bytes incl. quotes, commas, newlines and NULs, some of 70,000 bytes) plus the
# realistic fullflow generator; the same files are loaded with --format csv
# into one database, --format rowbinary into another and --format native into
# a third (small Native blocks: --insert-rows 4000 and 70,000-byte strings cut
# blocks both ways), and every table
# (raw and aggregates, fully merged) must hold identical rows: count() and an
# order-free hash of all columns. Then exact values through RowBinary: a
# fullflow TSV with the largest UInt64, a full IPv6, a 3000-byte login, NULL
# vs 0 in a Nullable column, times before 2001 and with milliseconds.
# Then the same through Native. Binary bodies of every size go through
# qoestor-db's file path (small inserts of the second part, large ones of the
# first).
. "$(dirname "$0")/../lib.sh"

start_db
L="$QOESTOR_BIN/qoestor-loader"
G="$QOESTOR_BIN/qoestor-spoolgen"

note "generate: every stream random by type, and realistic fullflow"
seed=20
for s in fullflow clickstream natflow gtpflow dnsflow; do
	seed=$((seed + 1))
	"$G" --spool "$T/gen" --stream "$s" --any --rows 6000 --files 2 --seed $seed --instance any > /dev/null
done
"$G" --spool "$T/gen" --stream fullflow --rows 50000 --files 1 --seed 30 > /dev/null

for f in csv rowbinary native; do
	rm -rf "$T/spool"
	cp -r "$T/gen" "$T/spool"
	# each format with another body encoding: zstd, auto (none on loopback), gzip
	comp=auto; [ "$f" = csv ] && comp=zstd; [ "$f" = native ] && comp=gzip
	"$L" --spool "$T/spool" --clickhouse "$DB_URL" --database "fmt_$f" --format "$f" --insert-rows 4000 --once \
		--compression "$comp" \
		--nat-agg-log-fields-to-save-bitmask 0x7ff > "$T/$f.out" 2> "$T/$f.log" || { cat "$T/$f.log"; fail "--format $f: --once exited"; }
	grep -q "^loaded 11 files, 80000 rows" "$T/$f.out" || { cat "$T/$f.out" "$T/$f.log"; fail "--format $f summary"; }
done

tables=$(q "SELECT name FROM system.tables WHERE database = 'fmt_csv' AND engine LIKE '%MergeTree' ORDER BY name")
[ "$(echo "$tables" | wc -l)" -ge 8 ] || fail "too few tables: $tables"
for t in $tables; do
	q "OPTIMIZE TABLE fmt_csv.$t FINAL" > /dev/null
	q "OPTIMIZE TABLE fmt_rowbinary.$t FINAL" > /dev/null
	a=$(q "SELECT count(), sum(cityHash64(*)) FROM fmt_csv.$t FORMAT TSV")
	q "OPTIMIZE TABLE fmt_native.$t FINAL" > /dev/null
	b=$(q "SELECT count(), sum(cityHash64(*)) FROM fmt_rowbinary.$t FORMAT TSV")
	expect_eq "$b" "$a" "$t: rowbinary vs csv (count, hash)"
	n=$(q "SELECT count(), sum(cityHash64(*)) FROM fmt_native.$t FORMAT TSV")
	expect_eq "$n" "$a" "$t: native vs csv (count, hash)"
	note "$t: $(echo "$a" | cut -f1) rows identical"
done
for f in rowbinary native; do
	expect_eq "$(q "SELECT count() > 4000 FROM fmt_$f.gtpflow")" 1 "$f: gtpflow rows"
	expect_eq "$(q "SELECT countIf(rtt IS NULL) > 100, countIf(mpls_labels IS NULL) > 100 FROM fmt_$f.fullflow FORMAT TSV")" \
		"$(printf '1\t1')" "$f: NULLs kept"
	expect_eq "$(q "SELECT max(length(login)) FROM fmt_$f.fullflow")" 70000 "$f: long strings"
	expect_eq "$(q "SELECT countIf(position(login, '\\n') > 0 OR position(login, '\"') > 0) > 10 FROM fmt_$f.fullflow")" 1 \
		"$f: strings with newlines and quotes"
	expect_eq "$(q "SELECT countIf(source_ipv6 != toIPv6('::')) > 100 FROM fmt_$f.fullflow")" 1 "$f: IPv6 values"
done

long=$(awk 'BEGIN { for (i = 0; i < 3000; i++) printf "%c", 97 + i % 26 }')
{
	printf 'flow_start_ms\tflow_end_ms\toctets\tsource_ipv6\tlogin\trtt\tpost_nat_source_ipv4\tsource_ipv4\tmpls_labels\n'
	printf '915148805250\t1700000000007\t18446744073709551615\t2001:db8:1:2:3:4:5:6\t%s\t\\N\t\\N\t255.255.255.255\t\\N\n' "$long"
	printf '1700000000999\t1700000001000\t0\t::ffff:10.0.0.1\tu"1,\t0\t198.51.100.7\t0.0.0.0\ta b\n'
} > "$T/exact.tsv"
"$G" --spool "$T/exact" --tsv "$T/exact.tsv" > /dev/null
for f in rowbinary native; do
	note "exact values through $f"
	rm -rf "$T/exact.$f"; cp -r "$T/exact" "$T/exact.$f"
	"$L" --spool "$T/exact.$f" --clickhouse "$DB_URL" --database "fmt_exact_$f" --format "$f" --raw-ttl-hours 0 --once > "$T/exact.out" 2>&1 ||
		{ cat "$T/exact.out"; fail "exact $f: --once"; }
	got=$(q "SELECT toUnixTimestamp64Milli(flow_start_ms), toUnixTimestamp64Milli(flow_end_ms), flow_start_time, octets,
		source_ipv6, length(login), login = repeat('', 0) || '$long' OR login = 'u\"1,', rtt, post_nat_source_ipv4,
		source_ipv4, mpls_labels, destination_ipv6, packets
		FROM fmt_exact_$f.fullflow ORDER BY flow_start_ms FORMAT TSV")
	want=$(printf '915148805250\t1700000000007\t1999-01-01 00:00:05\t18446744073709551615\t2001:db8:1:2:3:4:5:6\t3000\t1\t\\N\t\\N\t255.255.255.255\t\\N\t::\t0\n1700000000999\t1700000001000\t2023-11-14 22:13:20\t0\t::ffff:10.0.0.1\t4\t1\t0\t198.51.100.7\t0.0.0.0\ta b\t::\t0')
	expect_eq "$got" "$want" "exact values ($f)"
done

note "bodies beyond 2 MiB are sent from a spill file, the same rows"
"$G" --spool "$T/big" --stream fullflow --any --rows 40000 --files 1 --seed 40 --instance any > /dev/null
for f in csv rowbinary native; do
	rm -rf "$T/big.$f"
	cp -r "$T/big" "$T/big.$f"
	rows=""
	[ "$f" = csv ] && rows="--insert-rows 2000" # small bodies held in memory: the reference
	comp=zstd; [ "$f" = native ] && comp=none
	"$L" --spool "$T/big.$f" --clickhouse "$DB_URL" --database "fmt_big_$f" --format "$f" --raw-ttl-hours 0 \
		--once --verbose --compression $comp $rows > "$T/big.$f.out" 2>&1 || { tail -20 "$T/big.$f.out"; fail "big $f: --once"; }
	ls -A "$T/big.$f" | grep -q '^\.qoestor-loader-body' && fail "big $f: a spill file was left in the spool"
done
for f in rowbinary native; do
	n=$(sed -n "s/.*inserted 40000 rows into fmt_big_$f.fullflow (\([0-9]*\) bytes.*/\1/p" "$T/big.$f.out")
	[ -n "$n" ] && [ "$n" -gt 2097152 ] || { grep inserted "$T/big.$f.out"; fail "big $f: expected one insert over 2 MiB"; }
	for t in fullflow fullflow_agg_15m; do
		a=$(q "SELECT count(), sum(cityHash64(*)) FROM fmt_big_csv.$t FORMAT TSV")
		b=$(q "SELECT count(), sum(cityHash64(*)) FROM fmt_big_$f.$t FORMAT TSV")
		expect_eq "$b" "$a" "big $f: $t (count, hash) vs csv in small inserts"
	done
	note "big $f: one $n-byte body through a spill file, identical rows"
done

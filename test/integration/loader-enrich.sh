#!/bin/sh
# loader-enrich.sh: every enrichment mode of the manual's .env, with small
# dictionaries and hand-made rows, through the real loader and qoestor-db.
#
# Nine fullflow rows, each with a distinct octets value (1, 2, 4 ... 256) so
# a sum names the rows it holds, are loaded once per setting into its own
# database. Checked: the subscriber side (and direction) each
# TRAFFIC_DIR_DEF_MODE 0..4 gives every row; the rows SUBSCRIBER_FILTER_MODE
# 1..4 and SUBSCRIBER_EXCLUDE_MODE 1..4 keep in fullflow_agg (the raw log
# keeps all); ULR_REPLACE_LOGIN_WITH_VCHANNEL 0..2 with and without the
# dictionary; NAT_IMPORT_FROM_FULLFLOW; clickstream by CIDR; a dictionary
# changed while the daemon runs is used for the next file.
. "$(dirname "$0")/../lib.sh"

start_db
L="$QOESTOR_BIN/qoestor-loader"
G="$QOESTOR_BIN/qoestor-spoolgen"
DIC="$T/dic"
mkdir -p "$DIC"
tab=$(printf '\t')
printf '10.0.0.0/8\tLOCAL\n2001:db8::/32\tLOCAL\n' > "$DIC/subnets_local_dic.txt"
printf '64512\tLOCAL\n' > "$DIC/asnum_local_dic.txt"
printf '10.9.0.0/16\tEXCL\n93.184.216.36\tEXCL\n' > "$DIC/subnets_exclude_dic.txt"
printf '65001\tEXCL\n' > "$DIC/asnum_exclude_dic.txt"
printf '5\tchan_five\n' > "$DIC/vchannel_name_dic.txt"

# octets: source -> destination (source AS, destination AS), DPI flag; notes per row:
#   1  host -> 10.0.0.1 (local AS)                 flag towards: every mode says destination
#   2  10.0.0.2 (local AS) -> host                 flag from: every mode says source
#   4  10.0.0.3 (foreign AS) -> host (local AS)    flag towards; CIDR says source
#   8  192.0.2.1 -> 198.51.100.1, no AS, no flag   unknown in every mode
#  16  10.9.0.5 (AS 65001) -> host, empty login, vchannel 5 (excluded by AS and CIDR)
#  32  10.0.0.6 (AS 65001) -> host, login bob, vchannel 7, post-NAT 203.0.113.5:40000
#  64  host (local AS) -> 10.0.0.7                 flag towards; AS says source, CIDR destination
# 128  10.0.0.8 (local AS) -> host                 flag towards (wrong): AS and CIDR say source
# 256  10.0.0.9 (foreign AS) -> host               flag towards; only CIDR says source
cat > "$T/ff.tsv" <<TSV
flow_start_ms	octets	packets	source_ipv4	destination_ipv4	bgp_source_as_number	bgp_destination_as_number	ingress_interface	ip_version	login	vchannel	post_nat_source_ipv4	post_napt_source_transport_port	protocol_identifier	source_transport_port	destination_transport_port	session_id	host
1700000000000	1	1	93.184.216.34	10.0.0.1	15169	64512	1	4	alice	\N	\N	\N	6	443	50001	1	a.com
1700000001000	2	1	10.0.0.2	93.184.216.35	64512	15169	2	4	alice	\N	\N	\N	6	50002	443	2	a.com
1700000002000	4	1	10.0.0.3	93.184.216.36	15169	64512	1	4	alice	\N	\N	\N	6	50003	443	3	a.com
1700000003000	8	1	192.0.2.1	198.51.100.1	0	0	0	4	alice	\N	\N	\N	17	53	53	4	a.com
1700000004000	16	1	10.9.0.5	93.184.216.37	65001	15169	2	4		5	\N	\N	6	50005	443	5	a.com
1700000005000	32	1	10.0.0.6	93.184.216.38	65001	15169	2	4	bob	7	203.0.113.5	40000	6	50006	443	6	a.com
1700000006000	64	1	93.184.216.39	10.0.0.7	64512	15169	1	4	alice	\N	\N	\N	6	443	50007	7	a.com
1700000007000	128	1	10.0.0.8	93.184.216.40	64512	15169	1	4	alice	\N	\N	\N	6	50008	443	8	a.com
1700000008000	256	1	10.0.0.9	93.184.216.41	15169	15169	1	4	alice	\N	\N	\N	6	50009	443	9	a.com
TSV
cat > "$T/cs.tsv" <<TSV
time	login	source_ipv4	destination_ipv4	host	locked	host_type	method
1700000000	alice	10.0.0.50	93.184.216.50	a.com	0	1	1
1700000001	alice	93.184.216.51	10.0.0.51	a.com	1	1	1
TSV

# run DB [loader options...]: load ff.tsv (and cs.tsv) into database DB.
run() {
	db=$1; shift
	"$G" --spool "$T/s_$db" --tsv "$T/ff.tsv" > /dev/null || fail "spoolgen ff for $db"
	"$G" --spool "$T/s_$db" --stream clickstream --tsv "$T/cs.tsv" > /dev/null || fail "spoolgen cs for $db"
	"$L" --spool "$T/s_$db" --clickhouse "$DB_URL" --database "$db" --dictionaries "$DIC" --raw-ttl-hours 0 \
		--once "$@" > "$T/$db.out" 2> "$T/$db.log" || { cat "$T/$db.log"; fail "loader for $db ($*) exited $?"; }
	grep -q "^loaded 2 files, 11 rows" "$T/$db.out" || { cat "$T/$db.out"; fail "$db: summary"; }
}
sides() { q "SELECT arrayStringConcat(groupArray(toString(subscriber_side)), ' ') FROM (SELECT subscriber_side FROM $1.fullflow ORDER BY octets)"; }
dirs() { q "SELECT arrayStringConcat(groupArray(toString(direction)), ' ') FROM (SELECT direction FROM $1.fullflow ORDER BY octets)"; }
aggsum() { q "SELECT sum(octets) FROM $1.fullflow_agg"; }

note "TRAFFIC_DIR_DEF_MODE 0..4: subscriber side of each row (1 source, 2 destination, 0 unknown)"
want0="2 1 2 0 1 1 2 2 2"; want1="2 1 2 0 1 1 1 1 2"; want2="2 1 1 0 1 1 2 1 1"
want3="2 1 2 0 1 1 2 1 2"; want4="2 1 2 0 1 1 2 1 1"
for m in 0 1 2 3 4; do
	run "qe_d$m" --traffic-dir-def-mode $m
	eval "want=\$want$m"
	expect_eq "$(sides "qe_d$m")" "$want" "TRAFFIC_DIR_DEF_MODE=$m sides"
	expect_eq "$(dirs "qe_d$m")" "$(echo "$want" | tr '12' '21')" "TRAFFIC_DIR_DEF_MODE=$m directions"
	expect_eq "$(q "SELECT sum(octets) FROM qe_d$m.fullflow")" 511 "raw log keeps every row (mode $m)"
	expect_eq "$(aggsum "qe_d$m")" 511 "aggregate keeps every row without filters (mode $m)"
done
expect_eq "$(q "SELECT toString(subscriber_ip), toString(host_ip), host_as, subscriber_as FROM qe_d2.fullflow WHERE octets = 4 FORMAT TSV")" \
	"$(printf '::ffff:10.0.0.3\t::ffff:93.184.216.36\t64512\t15169')" "derived addresses and AS (CIDR mode, row 4)"
expect_eq "$(q "SELECT count() FROM qe_d0.fullflow_agg WHERE subscriber_ip = toIPv6('93.184.216.34')")" 0 "a host IP as subscriber"
expect_eq "$(q "SELECT toString(source_ipv4), toString(destination_ipv4) FROM qe_d2.fullflow WHERE octets = 4 FORMAT TSV")" \
	"$(printf '10.0.0.3\t93.184.216.36')" "raw source/destination stay as sent"
note "clickstream: requests come from the subscriber; CIDR mode looks at the addresses"
expect_eq "$(q "SELECT arrayStringConcat(groupArray(toString(subscriber_side)), ' ') FROM (SELECT subscriber_side FROM qe_d0.clickstream ORDER BY time)")" "1 1" "clickstream mode 0"
expect_eq "$(q "SELECT arrayStringConcat(groupArray(toString(subscriber_side)), ' ') FROM (SELECT subscriber_side FROM qe_d2.clickstream ORDER BY time)")" "1 2" "clickstream mode 2"
expect_eq "$(q "SELECT arrayStringConcat(groupArray(toString(subscriber_side)), ' ') FROM (SELECT subscriber_side FROM qe_d1.clickstream ORDER BY time)")" "1 1" "clickstream mode 1 (AS: fullflow only)"
expect_eq "$(q "SELECT sum(requests), sum(blocked) FROM qe_d0.clickstream_agg FORMAT TSV")" "$(printf '2\t1')" "clickstream_agg"

note "SUBSCRIBER_FILTER_MODE 1..4: rows with a non-local subscriber stay out of fullflow_agg"
fw1=7; fw2=115; fw3=3; fw4=119
for f in 1 2 3 4; do
	run "qe_f$f" --subscriber-filter-mode $f
	eval "want=\$fw$f"
	expect_eq "$(aggsum "qe_f$f")" "$want" "SUBSCRIBER_FILTER_MODE=$f: octets in fullflow_agg"
	expect_eq "$(q "SELECT sum(octets) FROM qe_f$f.fullflow")" 511 "SUBSCRIBER_FILTER_MODE=$f: raw log"
done
expect_eq "$(q "SELECT count() FROM qe_f2.fullflow_agg WHERE subscriber_ip NOT IN (SELECT toIPv6(x) FROM (SELECT arrayJoin(['10.0.0.1','10.0.0.2','10.9.0.5','10.0.0.6','10.0.0.7']) x))")" 0 "filter mode 2 subscribers"

note "SUBSCRIBER_EXCLUDE_MODE 1..4: excluded subscribers stay out of fullflow_agg"
xw1=463; xw2=491; xw3=495; xw4=459
for x in 1 2 3 4; do
	run "qe_x$x" --subscriber-exclude-mode $x
	eval "want=\$xw$x"
	expect_eq "$(aggsum "qe_x$x")" "$want" "SUBSCRIBER_EXCLUDE_MODE=$x: octets in fullflow_agg"
done

note "ULR_REPLACE_LOGIN_WITH_VCHANNEL 0..2, ULR_USE_DIC_WHEN_REPLACING_LOGIN 0/1"
logins() { q "SELECT arrayStringConcat(groupArray(concat('[', login, ']')), ' ') FROM (SELECT login FROM $1.fullflow WHERE octets IN (1, 16, 32) ORDER BY octets)"; }
run qe_l0 --ulr-replace-login-with-vchannel 0
expect_eq "$(logins qe_l0)" "[alice] [] [bob]" "login replacement off"
run qe_l1 --ulr-replace-login-with-vchannel 1
expect_eq "$(logins qe_l1)" "[alice] [5] [7]" "replace always, by number"
run qe_l1d --ulr-replace-login-with-vchannel 1 --ulr-use-dic-when-replacing-login 1
expect_eq "$(logins qe_l1d)" "[alice] [chan_five] [7]" "replace always, name from vchannel_name_dic"
run qe_l2d --ulr-replace-login-with-vchannel 2 --ulr-use-dic-when-replacing-login 1
expect_eq "$(logins qe_l2d)" "[alice] [chan_five] [bob]" "replace when empty"
expect_eq "$(q "SELECT sum(octets) FROM qe_l2d.fullflow_agg WHERE login = 'chan_five'")" 16 "aggregate uses the replaced login"

note "NAT_IMPORT_FROM_FULLFLOW"
expect_eq "$(q "SELECT count() FROM qe_d0.natflow")" 0 "no NAT rows when off"
run qe_n1 --nat-import-from-fullflow 1 --nat-agg-log-fields-to-save-bitmask 0x44
expect_eq "$(q "SELECT toString(time_ms), toString(source_ipv4), source_transport_port, toString(post_nat_source_ipv4), post_napt_source_transport_port, toString(destination_ipv4), login, origin, session_id FROM qe_n1.natflow FORMAT TSV")" \
	"$(printf '2023-11-14 22:13:25.000\t10.0.0.6\t50006\t203.0.113.5\t40000\t93.184.216.38\tbob\t1\t6')" "the NAT row from fullflow"
expect_eq "$(q "SELECT toString(post_nat_source_ipv4), toString(source_ipv4), source_transport_port, records FROM qe_n1.natflow_agg FORMAT TSV")" \
	"$(printf '203.0.113.5\t10.0.0.6\t0\t1')" "natflow_agg keeps the fields of the bitmask (0x40 public IP, 0x4 source IP)"

note "flexible aggregation: kept keys and period"
run qe_k --fullflow-agg-keys login --fullflow-agg-period 5
# (2023 rows: read through the view, from the 1-hour rollup; the 15-minute table's TTL dropped them)
expect_eq "$(q "SELECT uniqExact(login), sum(octets), countIf(host != ''), countIf(dpi_protocol != 0) FROM qe_k.fullflow_agg FORMAT TSV")" \
	"$(printf '3\t511\t0\t0')" "fullflow_agg keyed by login only (alice, bob, empty)"

note "a dictionary changed while the daemon runs is used for the next file"
run qe_w --subscriber-filter-mode 2 >/dev/null
mkdir -p "$T/sw"
bg lw "$L" --spool "$T/sw" --clickhouse "$DB_URL" --database qe_w --dictionaries "$DIC" --raw-ttl-hours 0 --subscriber-filter-mode 2 --rescan-seconds 1
printf '93.184.216.0/24\tLOCAL\n' > "$DIC/subnets_local_dic.new"
mv "$DIC/subnets_local_dic.new" "$DIC/subnets_local_dic.txt"
reloaded() { grep -q "subnets_local_dic" "$T/lw.log"; }
wait_for 30 reloaded || { cat "$T/lw.log"; fail "the daemon did not reload subnets_local_dic"; }
"$G" --spool "$T/sw" --tsv "$T/ff.tsv" > /dev/null
loaded() { [ "$(q "SELECT sum(octets) FROM qe_w.fullflow")" = 1022 ]; }
wait_for 30 loaded || { cat "$T/lw.log"; fail "second file not loaded"; }
# with 93.184.216.0/24 local (and 10/8 no more), mode-0 subscribers 93.184.216.36/.40/.41 (4, 128, 256) count
aggdone() { [ "$(aggsum qe_w)" = $((115 + 388)) ]; }
wait_for 30 aggdone || fail "aggregate after the dictionary change: $(aggsum qe_w), want $((115 + 388))"
exit 0

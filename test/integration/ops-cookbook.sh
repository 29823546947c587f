#!/bin/sh
# ops-cookbook.sh: every ```sql block of docs/COOKBOOK.md, in order, run
# against qoestor-db over HTTP with rows of our own (INSERT ... FORMAT CSV into
# the real schema), each result compared with what the rows imply. The NAT
# lookup runs at three times T (the doc's literal time replaced): the first
# holder of the port, nobody, the second holder.
. "$(dirname "$0")/../lib.sh"
start_db
"$QOESTOR_BIN/qoestor-loader" --clickhouse "$DB_URL" --init-db > "$T/init.log" 2>&1 || { cat "$T/init.log"; fail "schema"; }

# Times: an hour ago, on the minute (inside every retention and "last day" window).
base=$(( $(date +%s) / 60 * 60 - 3600 ))
ts() { date -u -d "@$(( base + $1 ))" '+%Y-%m-%d %H:%M:%S'; }

# ins TABLE [COLUMNS]: POST $T/TABLE.csv with the INSERT in the URL.
ins() {
	_sql="INSERT INTO qoestor.$1 ${2:+($2) }FORMAT CSV"
	_enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$_sql")
	curl -sS --fail-with-body --data-binary @"$T/$1.csv" "$DB_URL/?query=$_enc" || fail "insert into $1"
}

note "rows: fullflow"
{
	# flow_start_ms,flow_end_ms,octets,packets,proto,src,dst,sport,dport,host,login,rtt,dpi_id
	echo "$(ts 0).000,$(ts 5).000,1000,10,6,10.64.66.100,142.250.1.1,40000,443,google.com,alice,20000,0"
	echo "$(ts 60).000,$(ts 65).000,3000,30,6,142.250.1.1,10.64.66.100,443,40001,google.com,alice,,0"
	echo "$(ts 120).000,$(ts 125).000,500,5,6,10.64.66.100,93.184.216.34,40002,443,example.com,alice,40000,0"
	echo "$(ts 180).000,$(ts 185).000,7000,70,6,10.64.66.101,142.250.1.1,40003,443,google.com,bob,100000,1"
	echo "$(ts 240).000,$(ts 245).000,200,2,17,10.64.66.101,8.8.8.8,40004,53,dns.google,bob,,1"
} > "$T/fullflow.csv"
ins fullflow "flow_start_ms, flow_end_ms, octets, packets, protocol_identifier, source_ipv4, destination_ipv4, source_transport_port, destination_transport_port, host, login, rtt, dpi_id"

note "rows: fullflow_agg (15-minute buckets, as the loader writes them)"
b15=$(( base / 900 * 900 - base ))
{
	# time,dpi_id,login,subscriber_ip,host,dpi_protocol,direction,host_as,tos,octets,packets,retransmits,fragments,records,sessions,rtt_sum,rtt_count,rtt_max
	echo "$(ts $b15),0,alice,::ffff:10.64.66.100,google.com,0,1,15169,0,4000,40,0,0,2,1,20000,1,20000"
	echo "$(ts $b15),0,alice,::ffff:10.64.66.100,example.com,0,1,0,0,500,5,0,0,1,1,40000,1,40000"
	echo "$(ts $b15),1,bob,::ffff:10.64.66.101,google.com,0,1,15169,0,7000,70,0,0,1,1,100000,1,100000"
	echo "$(ts $(( b15 - 900 ))),1,bob,::ffff:10.64.66.101,google.com,0,1,15169,0,1000,10,0,0,1,1,60000,2,50000"
	echo "$(ts $b15),1,bob,::ffff:10.64.66.101,dns.google,0,1,15169,0,200,2,0,0,1,1,0,0,0"
} > "$T/fullflow_agg_15m.csv"
ins fullflow_agg_15m

note "rows: natflow (203.0.113.7:40001 held by alice from -30 to -20 min, by bob from -10 min)"
{
	# time_ms,proto,nat_event,src,post_nat_src,sport,post_nat_port,dst,dport,session_id,login,dpi_id,origin
	echo "$(ts 1800).000,6,1,10.64.66.100,203.0.113.7,51000,40001,142.250.1.1,443,11,alice,0,0"
	echo "$(ts 2400).000,6,2,10.64.66.100,203.0.113.7,51000,40001,142.250.1.1,443,11,alice,0,0"
	echo "$(ts 3000).000,6,1,10.64.66.101,203.0.113.7,52000,40001,142.250.1.1,443,12,bob,0,0"
	echo "$(ts 3000).000,6,1,10.64.66.102,203.0.113.7,53000,40002,142.250.1.1,443,13,carol,0,0"
} > "$T/natflow.csv"
ins natflow "time_ms, protocol_identifier, nat_event, source_ipv4, post_nat_source_ipv4, source_transport_port, post_napt_source_transport_port, destination_ipv4, destination_transport_port, session_id, login, dpi_id, origin"

note "the cookbook's queries"
mkdir -p "$T/q"
awk -v dir="$T/q" '/^```sql$/ { n++; f = 1; next } /^```$/ { f = 0 } f { print > (dir "/" n ".sql") }' "$top/docs/COOKBOOK.md"
n=$(ls "$T/q" | wc -l)
expect_eq "$n" 8 "sql blocks in docs/COOKBOOK.md (update this test with the doc)"
run() { q "$(cat "$T/q/$1.sql")"; }
tab=$(printf '\t')

expect_eq "$(run 1)" "\"$(ts 0)\",\"10.64.66.100\",40000,\"142.250.1.1\",443,\"google.com\",1000
\"$(ts 60)\",\"142.250.1.1\",443,\"10.64.66.100\",40001,\"google.com\",3000" "1 CSV export"
expect_eq "$(run 2)" "{\"flow_start_time\":\"$(ts 0)\",\"source_ipv4\":\"10.64.66.100\",\"destination_ipv4\":\"142.250.1.1\",\"host\":\"google.com\",\"octets\":1000}" "2 JSONEachRow"
expect_eq "$(run 3)" "login${tab}host${tab}bytes
bob${tab}google.com${tab}7000
alice${tab}google.com${tab}4000
alice${tab}example.com${tab}500
bob${tab}dns.google${tab}200" "3 TSV with names"
expect_eq "$(run 4)" "5${tab}1" "4 is there data"
expect_eq "$(run 5)" "google.com${tab}12000${tab}3
example.com${tab}500${tab}1
dns.google${tab}200${tab}1" "5 top hosts"
expect_eq "$(run 6)" "bob${tab}53333${tab}100000
alice${tab}30000${tab}40000" "6 RTT by subscriber (aggregate)"
expect_eq "$(run 7)" "alice${tab}30000${tab}2
bob${tab}100000${tab}1" "7 RTT by subscriber (raw)"
nat_at() { sed "s/2024-01-05 10:15:00/$(ts "$1")/" "$T/q/8.sql" > "$T/q/8-$1.sql"; q "$(cat "$T/q/8-$1.sql")"; }
expect_eq "$(nat_at 2100)" "alice${tab}10.64.66.100${tab}51000${tab}$(ts 1800)" "8 NAT lookup while alice held the port"
expect_eq "$(nat_at 2700)" "" "8 NAT lookup between the sessions"
expect_eq "$(nat_at 3300)" "bob${tab}10.64.66.101${tab}52000${tab}$(ts 3000)" "8 NAT lookup after bob took the port"
expect_eq "$(nat_at 1000)" "" "8 NAT lookup before any session"
echo "ops-cookbook: ok"

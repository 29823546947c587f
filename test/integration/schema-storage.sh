#!/bin/sh
# schema-storage.sh: hot/cold storage with the real engine. qoestor-db runs with a
# ClickHouse server configuration that defines a cold disk and a policy; the
# loader's --init-db moves every table to the policy and adds TTL moves, idempotently;
# rows older than --move-after-days land on the cold disk, recent ones stay hot.
. "$(dirname "$0")/../lib.sh"

mkdir -p "$T/cold"
cat >"$T/storage.xml" <<XML
<clickhouse>
  <storage_configuration>
    <disks>
      <cold><path>$T/cold/</path></cold>
    </disks>
    <policies>
      <hot_cold>
        <volumes>
          <default><disk>default</disk></default>
          <cold><disk>cold</disk></cold>
        </volumes>
      </hot_cold>
    </policies>
  </storage_configuration>
</clickhouse>
XML
start_db --clickhouse-config "$T/storage.xml"
L="$QOESTOR_BIN/qoestor-loader"
expect_eq "$(q "SELECT groupArray(volume_name) FROM system.storage_policies WHERE policy_name = 'hot_cold'")" \
	"['default','cold']" "policy from the server configuration"

note "a move without a policy is refused with a clear message"
set +e
"$L" --clickhouse "$DB_URL" --init-db --move-after-days 2 >"$T/nopolicy.log" 2>&1
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "--move-after-days without --storage-policy was accepted"
grep -q "needs a storage policy" "$T/nopolicy.log" || fail "message: $(cat "$T/nopolicy.log")"

note "schema created without a policy, then moved to hot/cold, then nothing more to do"
"$L" --clickhouse "$DB_URL" --init-db >"$T/init1.log" 2>&1 || { cat "$T/init1.log"; fail "plain --init-db"; }
hc="--storage-policy hot_cold --move-after-days 2 --raw-ttl-hours 168"
# shellcheck disable=SC2086
"$L" --clickhouse "$DB_URL" --init-db $hc >"$T/init2.log" 2>&1 || { cat "$T/init2.log"; fail "hot/cold --init-db"; }
grep -q "moved qoestor.fullflow to storage policy hot_cold" "$T/init2.log" || { cat "$T/init2.log"; fail "no policy change reported"; }
# shellcheck disable=SC2086
"$L" --clickhouse "$DB_URL" --init-db $hc >"$T/init3.log" 2>&1 || { cat "$T/init3.log"; fail "third --init-db"; }
grep -q "up to date: 0 changes, 0 warnings" "$T/init3.log" || { cat "$T/init3.log"; fail "third run changed something"; }
n=$(q "SELECT count() FROM system.tables WHERE database = 'qoestor' AND engine LIKE '%MergeTree' AND storage_policy != 'hot_cold'")
expect_eq "$n" "0" "tables left on another policy"
q "SELECT engine_full FROM system.tables WHERE database = 'qoestor' AND name = 'fullflow' FORMAT TabSeparatedRaw" | grep -q "TO VOLUME 'cold'" ||
	fail "fullflow has no TTL move"

note "old rows go to the cold disk, recent ones stay on the default disk"
now=$(date +%s)
old=$((now - 5 * 86400))
for t in "$old" "$now"; do
	printf '%s000,%s000,100,1,10.0.0.1\n' "$t" "$t" |
		curl -sS --fail-with-body --data-binary @- \
			"$DB_URL/?query=INSERT%20INTO%20qoestor.fullflow%20(flow_start_ms,flow_end_ms,octets,packets,source_ipv4)%20FORMAT%20CSV"
	printf '%s,alice,example.com,1,1,3,0\n' "$t" |
		curl -sS --fail-with-body --data-binary @- \
			"$DB_URL/?query=INSERT%20INTO%20qoestor.clickstream_agg%20(time,login,host,host_type,method,requests,blocked)%20FORMAT%20CSV"
done
for t in fullflow clickstream_agg; do
	got=$(q "SELECT disk_name, toUnixTimestamp(max_time) < $now - 86400 FROM system.parts WHERE database = 'qoestor' AND table = '$t' AND active ORDER BY disk_name FORMAT CSV" | tr '\n' ' ')
	expect_eq "$got" "\"cold\",1 \"default\",0 " "parts of $t by disk"
done
[ -n "$(find "$T/cold" -name '*.bin' -o -name 'data.bin' | head -1)" ] || fail "no data files under the cold disk's folder"
expect_eq "$(q "SELECT count(), sum(octets) FROM qoestor.fullflow FORMAT CSV")" "2,200" "rows on both disks are queried"
note "ok"

#!/bin/sh
# schema-migrate.sh: --init-db upgrades a database of the per-resolution layout.
#
# Versions before the TTL GROUP BY rollup kept fullflow_agg as a view over
# fullflow_agg_15m (the loader's inserts), fullflow_agg_30m and
# fullflow_agg_1h (filled by two materialized views). This test creates that
# layout with the old DDL (copied below from the old sql/qoestor.sql), inserts
# recent, 10-day-old and 40-day-old rows, runs --init-db and checks: the view
# and the materialized views are gone, fullflow_agg is one table holding the
# old view's rows (same totals per age range), the old tables are kept as
# *_old with their rows, a second --init-db makes 0 changes, and the new
# table regroups by age.
. "$(dirname "$0")/../lib.sh"

start_db
L="$QOESTOR_BIN/qoestor-loader"

note "the old layout (old DDL), rows through its materialized views"
q "CREATE DATABASE qoestor" >/dev/null
awk -v dir="$T" 'BEGIN { RS = ";\n\n" } NF { n++; f = dir "/old" n ".sql"; printf "%s", $0 > f; close(f) }' <<'OLDDDL'
CREATE TABLE IF NOT EXISTS qoestor.fullflow_agg_15m
(
    `time` DateTime('UTC') COMMENT 'start of the bucket, instant in UTC' CODEC(Delta, ZSTD(1)),
    `dpi_id` UInt16 COMMENT 'DPI number',
    `login` String COMMENT 'subscriber login' CODEC(ZSTD(1)),
    `subscriber_ip` IPv6 COMMENT 'subscriber address, IPv4 as v4-mapped ::ffff:a.b.c.d' CODEC(ZSTD(1)),
    `host` String COMMENT 'host (HTTP Host, SNI)' CODEC(ZSTD(1)),
    `dpi_protocol` UInt16 COMMENT 'DPI protocol code (protocols_dic)',
    `direction` UInt8 COMMENT '0 unknown, 1 towards the subscriber (download), 2 from the subscriber (upload)',
    `host_as` UInt32 COMMENT 'AS of the host; 0 unknown',
    `ip_class_of_service` UInt8 COMMENT 'class of service (TOS)',
    `octets` SimpleAggregateFunction(sum, UInt64) COMMENT 'bytes' CODEC(T64, ZSTD(1)),
    `packets` SimpleAggregateFunction(sum, UInt64) COMMENT 'packets' CODEC(T64, ZSTD(1)),
    `retransmits` SimpleAggregateFunction(sum, UInt64) COMMENT 'TCP retransmitted packets' CODEC(T64, ZSTD(1)),
    `fragments` SimpleAggregateFunction(sum, UInt64) COMMENT 'fragmented packets' CODEC(T64, ZSTD(1)),
    `records` SimpleAggregateFunction(sum, UInt64) COMMENT 'fullflow records aggregated' CODEC(T64, ZSTD(1)),
    `sessions` SimpleAggregateFunction(sum, UInt64) COMMENT 'distinct sessions per bucket and spool file, summed: a session seen in two files counts twice' CODEC(T64, ZSTD(1)),
    `rtt_sum` SimpleAggregateFunction(sum, UInt64) COMMENT 'sum of measured RTTs (mean = rtt_sum / rtt_count)' CODEC(T64, ZSTD(1)),
    `rtt_count` SimpleAggregateFunction(sum, UInt64) COMMENT 'records with a measured RTT' CODEC(T64, ZSTD(1)),
    `rtt_max` SimpleAggregateFunction(max, UInt32) COMMENT 'largest measured RTT; 0 when none'
)
ENGINE = AggregatingMergeTree
PARTITION BY toDate(time)
ORDER BY (time, dpi_id, subscriber_ip, login, host, dpi_protocol, direction, host_as, ip_class_of_service)
TTL time + toIntervalDay(8)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000
COMMENT 'qoestor fullflow_agg, buckets of the loader\'s period (UTC), kept 8 d';

CREATE TABLE IF NOT EXISTS qoestor.fullflow_agg_30m
(
    `time` DateTime('UTC') COMMENT 'start of the bucket, instant in UTC' CODEC(Delta, ZSTD(1)),
    `dpi_id` UInt16 COMMENT 'DPI number',
    `login` String COMMENT 'subscriber login' CODEC(ZSTD(1)),
    `subscriber_ip` IPv6 COMMENT 'subscriber address, IPv4 as v4-mapped ::ffff:a.b.c.d' CODEC(ZSTD(1)),
    `host` String COMMENT 'host (HTTP Host, SNI)' CODEC(ZSTD(1)),
    `dpi_protocol` UInt16 COMMENT 'DPI protocol code (protocols_dic)',
    `direction` UInt8 COMMENT '0 unknown, 1 towards the subscriber (download), 2 from the subscriber (upload)',
    `host_as` UInt32 COMMENT 'AS of the host; 0 unknown',
    `ip_class_of_service` UInt8 COMMENT 'class of service (TOS)',
    `octets` SimpleAggregateFunction(sum, UInt64) COMMENT 'bytes' CODEC(T64, ZSTD(1)),
    `packets` SimpleAggregateFunction(sum, UInt64) COMMENT 'packets' CODEC(T64, ZSTD(1)),
    `retransmits` SimpleAggregateFunction(sum, UInt64) COMMENT 'TCP retransmitted packets' CODEC(T64, ZSTD(1)),
    `fragments` SimpleAggregateFunction(sum, UInt64) COMMENT 'fragmented packets' CODEC(T64, ZSTD(1)),
    `records` SimpleAggregateFunction(sum, UInt64) COMMENT 'fullflow records aggregated' CODEC(T64, ZSTD(1)),
    `sessions` SimpleAggregateFunction(sum, UInt64) COMMENT 'distinct sessions per bucket and spool file, summed: a session seen in two files counts twice' CODEC(T64, ZSTD(1)),
    `rtt_sum` SimpleAggregateFunction(sum, UInt64) COMMENT 'sum of measured RTTs (mean = rtt_sum / rtt_count)' CODEC(T64, ZSTD(1)),
    `rtt_count` SimpleAggregateFunction(sum, UInt64) COMMENT 'records with a measured RTT' CODEC(T64, ZSTD(1)),
    `rtt_max` SimpleAggregateFunction(max, UInt32) COMMENT 'largest measured RTT; 0 when none'
)
ENGINE = AggregatingMergeTree
PARTITION BY toDate(time)
ORDER BY (time, dpi_id, subscriber_ip, login, host, dpi_protocol, direction, host_as, ip_class_of_service)
TTL time + toIntervalDay(31)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000
COMMENT 'qoestor fullflow_agg, 30-minute buckets (UTC), kept 31 d';

CREATE TABLE IF NOT EXISTS qoestor.fullflow_agg_1h
(
    `time` DateTime('UTC') COMMENT 'start of the bucket, instant in UTC' CODEC(Delta, ZSTD(1)),
    `dpi_id` UInt16 COMMENT 'DPI number',
    `login` String COMMENT 'subscriber login' CODEC(ZSTD(1)),
    `subscriber_ip` IPv6 COMMENT 'subscriber address, IPv4 as v4-mapped ::ffff:a.b.c.d' CODEC(ZSTD(1)),
    `host` String COMMENT 'host (HTTP Host, SNI)' CODEC(ZSTD(1)),
    `dpi_protocol` UInt16 COMMENT 'DPI protocol code (protocols_dic)',
    `direction` UInt8 COMMENT '0 unknown, 1 towards the subscriber (download), 2 from the subscriber (upload)',
    `host_as` UInt32 COMMENT 'AS of the host; 0 unknown',
    `ip_class_of_service` UInt8 COMMENT 'class of service (TOS)',
    `octets` SimpleAggregateFunction(sum, UInt64) COMMENT 'bytes' CODEC(T64, ZSTD(1)),
    `packets` SimpleAggregateFunction(sum, UInt64) COMMENT 'packets' CODEC(T64, ZSTD(1)),
    `retransmits` SimpleAggregateFunction(sum, UInt64) COMMENT 'TCP retransmitted packets' CODEC(T64, ZSTD(1)),
    `fragments` SimpleAggregateFunction(sum, UInt64) COMMENT 'fragmented packets' CODEC(T64, ZSTD(1)),
    `records` SimpleAggregateFunction(sum, UInt64) COMMENT 'fullflow records aggregated' CODEC(T64, ZSTD(1)),
    `sessions` SimpleAggregateFunction(sum, UInt64) COMMENT 'distinct sessions per bucket and spool file, summed: a session seen in two files counts twice' CODEC(T64, ZSTD(1)),
    `rtt_sum` SimpleAggregateFunction(sum, UInt64) COMMENT 'sum of measured RTTs (mean = rtt_sum / rtt_count)' CODEC(T64, ZSTD(1)),
    `rtt_count` SimpleAggregateFunction(sum, UInt64) COMMENT 'records with a measured RTT' CODEC(T64, ZSTD(1)),
    `rtt_max` SimpleAggregateFunction(max, UInt32) COMMENT 'largest measured RTT; 0 when none'
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(time)
ORDER BY (time, dpi_id, subscriber_ip, login, host, dpi_protocol, direction, host_as, ip_class_of_service)
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 10000
COMMENT 'qoestor fullflow_agg, 60-minute buckets (UTC), kept forever';

CREATE MATERIALIZED VIEW IF NOT EXISTS qoestor.fullflow_agg_30m_mv TO qoestor.fullflow_agg_30m AS
SELECT
    toStartOfInterval(src.time, toIntervalMinute(30)) AS time,
    src.dpi_id AS dpi_id,
    src.login AS login,
    src.subscriber_ip AS subscriber_ip,
    src.host AS host,
    src.dpi_protocol AS dpi_protocol,
    src.direction AS direction,
    src.host_as AS host_as,
    src.ip_class_of_service AS ip_class_of_service,
    sum(src.octets) AS octets,
    sum(src.packets) AS packets,
    sum(src.retransmits) AS retransmits,
    sum(src.fragments) AS fragments,
    sum(src.records) AS records,
    sum(src.sessions) AS sessions,
    sum(src.rtt_sum) AS rtt_sum,
    sum(src.rtt_count) AS rtt_count,
    max(src.rtt_max) AS rtt_max
FROM qoestor.fullflow_agg_15m AS src
GROUP BY toStartOfInterval(src.time, toIntervalMinute(30)), src.dpi_id, src.login, src.subscriber_ip, src.host, src.dpi_protocol, src.direction, src.host_as, src.ip_class_of_service;

CREATE MATERIALIZED VIEW IF NOT EXISTS qoestor.fullflow_agg_1h_mv TO qoestor.fullflow_agg_1h AS
SELECT
    toStartOfInterval(src.time, toIntervalMinute(60)) AS time,
    src.dpi_id AS dpi_id,
    src.login AS login,
    src.subscriber_ip AS subscriber_ip,
    src.host AS host,
    src.dpi_protocol AS dpi_protocol,
    src.direction AS direction,
    src.host_as AS host_as,
    src.ip_class_of_service AS ip_class_of_service,
    sum(src.octets) AS octets,
    sum(src.packets) AS packets,
    sum(src.retransmits) AS retransmits,
    sum(src.fragments) AS fragments,
    sum(src.records) AS records,
    sum(src.sessions) AS sessions,
    sum(src.rtt_sum) AS rtt_sum,
    sum(src.rtt_count) AS rtt_count,
    max(src.rtt_max) AS rtt_max
FROM qoestor.fullflow_agg_15m AS src
GROUP BY toStartOfInterval(src.time, toIntervalMinute(60)), src.dpi_id, src.login, src.subscriber_ip, src.host, src.dpi_protocol, src.direction, src.host_as, src.ip_class_of_service;

CREATE VIEW IF NOT EXISTS qoestor.fullflow_agg AS
SELECT time, dpi_id, login, subscriber_ip, host, dpi_protocol, direction, host_as, ip_class_of_service, octets, packets, retransmits, fragments, records, sessions, rtt_sum, rtt_count, rtt_max
FROM qoestor.fullflow_agg_15m
WHERE time >= toStartOfHour(now() - toIntervalDay(7))
UNION ALL
SELECT time, dpi_id, login, subscriber_ip, host, dpi_protocol, direction, host_as, ip_class_of_service, octets, packets, retransmits, fragments, records, sessions, rtt_sum, rtt_count, rtt_max
FROM qoestor.fullflow_agg_30m
WHERE time < toStartOfHour(now() - toIntervalDay(7)) AND time >= toStartOfHour(now() - toIntervalDay(30))
UNION ALL
SELECT time, dpi_id, login, subscriber_ip, host, dpi_protocol, direction, host_as, ip_class_of_service, octets, packets, retransmits, fragments, records, sessions, rtt_sum, rtt_count, rtt_max
FROM qoestor.fullflow_agg_1h
WHERE time < toStartOfHour(now() - toIntervalDay(30));

OLDDDL
for f in "$T"/old1.sql "$T"/old2.sql "$T"/old3.sql "$T"/old4.sql "$T"/old5.sql "$T"/old6.sql; do
	[ -s "$f" ] || fail "old DDL statement $f missing"
	curl -sS --fail-with-body --data-binary @"$f" "$DB_URL/" >/dev/null || fail "old DDL $f"
done
expect_eq "$(q "SELECT engine FROM system.tables WHERE database='qoestor' AND name='fullflow_agg'")" View "old fullflow_agg"

at() { echo "toStartOfDay(now() - INTERVAL $1 DAY) + INTERVAL 16 HOUR + INTERVAL $2 MINUTE"; }
q "INSERT INTO qoestor.fullflow_agg_15m (time, login, host, octets, records, rtt_max) VALUES
 ($(at 10 15), 'alice', 'g', 2, 1, 5),
 ($(at 10 45), 'alice', 'g', 4, 1, 7),
 ($(at 10 53), 'alice', 'g', 1, 1, 3),
 ($(at 40 15), 'alice', 'g', 16, 1, 4),
 ($(at 40 45), 'alice', 'g', 32, 3, 6),
 (toStartOfInterval(now() - INTERVAL 1 HOUR, INTERVAL 15 MINUTE), 'alice', 'g', 128, 1, 1),
 (toStartOfInterval(now() - INTERVAL 1 HOUR, INTERVAL 15 MINUTE) + 900, 'bob', 'g', 256, 1, 1)" >/dev/null
totals="SELECT time < now() - INTERVAL 30 DAY, time < now() - INTERVAL 7 DAY, count(), sum(octets), sum(records), max(rtt_max)
	FROM (SELECT time, login, sum(octets) AS octets, sum(records) AS records, max(rtt_max) AS rtt_max
	      FROM qoestor.fullflow_agg GROUP BY time, login) GROUP BY 1, 2 ORDER BY 1, 2 FORMAT CSV"
before=$(q "$totals" | tr '\n' ' ')
expect_eq "$before" "0,0,2,384,2,1 0,1,2,7,3,7 1,1,1,48,4,6 " "old view: per age range (recent 15-min, 30-min, 1-h)"
n15=$(q "SELECT count() FROM qoestor.fullflow_agg_15m")

note "--init-db migrates"
"$L" --clickhouse "$DB_URL" --init-db > "$T/mig.log" 2>&1 || { cat "$T/mig.log"; fail "--init-db on the old layout failed"; }
grep -q "copied the rows of the view qoestor.fullflow_agg" "$T/mig.log" || { cat "$T/mig.log"; fail "no copy reported"; }
grep -q "changes, 0 warnings" "$T/mig.log" || { cat "$T/mig.log"; fail "migration reported warnings"; }
expect_eq "$(q "SELECT engine FROM system.tables WHERE database='qoestor' AND name='fullflow_agg'")" \
	AggregatingMergeTree "new fullflow_agg"
expect_eq "$(q "SELECT count() FROM system.tables WHERE database='qoestor' AND (name LIKE '%_mv' OR engine LIKE '%View')")" 0 \
	"views left"
expect_eq "$(q "SELECT groupArray(name) FROM (SELECT name FROM system.tables WHERE database='qoestor' AND name LIKE 'fullflow_agg%' ORDER BY name)")" \
	"['fullflow_agg','fullflow_agg_15m_old','fullflow_agg_1h_old','fullflow_agg_30m_old']" "tables after the migration"
expect_eq "$(q "SELECT count() FROM qoestor.fullflow_agg_15m_old")" "$n15" "rows kept in fullflow_agg_15m_old"
after=$(q "$totals" | tr '\n' ' ')
expect_eq "$after" "$before" "new table: the old view's rows per age range"

note "a second --init-db makes 0 changes"
"$L" --clickhouse "$DB_URL" --init-db > "$T/mig2.log" 2>&1 || { cat "$T/mig2.log"; fail "second --init-db failed"; }
grep -q "up to date: 0 changes, 0 warnings" "$T/mig2.log" || { cat "$T/mig2.log"; fail "second --init-db made changes"; }

note "the migrated table regroups by age"
q "INSERT INTO qoestor.fullflow_agg (time, login, host, octets, records, rtt_max) VALUES ($(at 10 50), 'alice', 'g', 1000, 1, 1)" >/dev/null
q "OPTIMIZE TABLE qoestor.fullflow_agg FINAL" >/dev/null
got=$(q "SELECT count(), sum(octets), sum(records) FROM qoestor.fullflow_agg FORMAT TSV")
expect_eq "$got" "$(printf '5\t1439\t10')" "rows after the TTL merge (2 recent, two 30-min, one 1-h)"

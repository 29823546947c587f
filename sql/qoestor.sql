-- qoestor.sql: the qoestor database, generated from common/schema/*.def by
-- `make sql` (bin/qoestor-schema ddl). Do not edit: change the .def files and
-- regenerate. Schema version 1. Apply with
--   clickhouse-client -n < sql/qoestor.sql   or   qoestor-loader --init-db
-- All times are instants in UTC.

CREATE DATABASE IF NOT EXISTS qoestor;

CREATE TABLE IF NOT EXISTS qoestor.fullflow
(
    `flow_start_ms` DateTime64(3, 'UTC') COMMENT 'flow (slice) start, instant in UTC, milliseconds (flowStartMilliseconds)' CODEC(Delta, ZSTD(1)),
    `flow_end_ms` DateTime64(3, 'UTC') COMMENT 'flow (slice) end, instant in UTC, milliseconds (flowEndMilliseconds)' CODEC(Delta, ZSTD(1)),
    `flow_start_time` DateTime('UTC') DEFAULT toDateTime(flow_start_ms, 'UTC') COMMENT 'flow start in UTC, seconds; computed from flow_start_ms (the manual\'s column)' CODEC(Delta, ZSTD(1)),
    `flow_start_date` Date DEFAULT toDate(flow_start_time, 'UTC') COMMENT 'UTC day of flow_start_time; computed (the manual\'s prewhere column)',
    `octets` UInt64 COMMENT 'bytes since the previous report of this session (octetDeltaCount)' CODEC(T64, ZSTD(1)),
    `packets` UInt64 COMMENT 'packets since the previous report (packetDeltaCount)' CODEC(T64, ZSTD(1)),
    `protocol_identifier` UInt8 COMMENT 'IP protocol number (protocolIdentifier)',
    `ip_class_of_service` UInt8 COMMENT 'TOS: class cs0..cs7 by default, DSCP if the DPI has netflow_tos_format=1 (ipClassOfService)',
    `source_transport_port` UInt16 COMMENT 'source port (sourceTransportPort)',
    `source_ipv4` IPv4 COMMENT 'source IPv4 address; 0.0.0.0 in IPv6 records (sourceIPv4Address)' CODEC(ZSTD(1)),
    `destination_transport_port` UInt16 COMMENT 'destination port (destinationTransportPort)',
    `destination_ipv4` IPv4 COMMENT 'destination IPv4 address; 0.0.0.0 in IPv6 records (destinationIPv4Address)' CODEC(ZSTD(1)),
    `source_ipv6` IPv6 COMMENT 'source IPv6 address; :: in IPv4 records (sourceIPv6Address)' CODEC(ZSTD(1)),
    `destination_ipv6` IPv6 COMMENT 'destination IPv6 address; :: in IPv4 records (destinationIPv6Address)' CODEC(ZSTD(1)),
    `bgp_source_as_number` UInt32 COMMENT 'AS of the host, as the DPI reports it (bgpSourceAsNumber)' CODEC(ZSTD(1)),
    `bgp_destination_as_number` UInt32 COMMENT 'AS of the subscriber, as the DPI reports it (bgpDestinationAsNumber)' CODEC(ZSTD(1)),
    `ingress_interface` UInt16 COMMENT 'DPI direction flag, not an ifIndex: 1 towards the subscriber, 2 from (ingressInterface)',
    `egress_interface` UInt16 COMMENT 'DPI direction flag, as ingress_interface (egressInterface)',
    `ip_version` UInt8 COMMENT '4 or 6 (ipVersion)',
    `session_id` UInt64 COMMENT 'DPI session id; joins fullflow, clickstream and the NAT log (SESSION_ID)' CODEC(ZSTD(1)),
    `host` String COMMENT 'HTTP Host, or TLS certificate CN / SNI (HOST)' CODEC(ZSTD(1)),
    `dpi_protocol` UInt16 COMMENT 'DPI protocol code, named by the protocols_dic dictionary (DPI_PROTOCOL)',
    `login` String COMMENT 'subscriber login, RADIUS User-Name (LOGIN)' CODEC(ZSTD(1)),
    `post_nat_source_ipv4` Nullable(IPv4) COMMENT 'public address after CG-NAT; NULL when the DPI sent none (postNATSourceIPv4Address)' CODEC(ZSTD(1)),
    `post_napt_source_transport_port` Nullable(UInt16) COMMENT 'public port after CG-NAT; NULL when the DPI sent none (postNAPTSourceTransportPort)',
    `frgmt_delta_packs` UInt16 COMMENT 'fragmented packets since the previous report (FRGMT_DELTA_PACKS)',
    `repeat_delta_pack` UInt16 COMMENT 'TCP retransmissions since the previous report (REPEAT_DELTA_PACK)',
    `rtt` Nullable(UInt32) COMMENT 'delay measured on the TCP handshake, microseconds unless configured; NULL when not measured (43823/2012)',
    `vchannel` Nullable(UInt16) COMMENT 'virtual channel / bridge number; element id unpublished, default 43823/2013 is a guess',
    `vlan_id` Nullable(UInt16) COMMENT 'VLAN id; element id unpublished, default IANA 58 (vlanId)',
    `post_vlan_id` Nullable(UInt16) COMMENT 'VLAN id after the DPI; element id unpublished, default IANA 59 (postVlanId)',
    `mpls_labels` Nullable(String) COMMENT 'MPLS label stack, raw bytes as sent; element id unpublished, default 43823/2017' CODEC(ZSTD(1)),
    `original_tos` Nullable(UInt8) COMMENT 'TOS byte as seen on the wire; element id unpublished, default 43823/2014 is a guess',
    `dropped_octets` Nullable(UInt64) COMMENT 'bytes the DPI dropped (policing); element id unpublished, default IANA 132 (droppedOctetDeltaCount)',
    `dropped_packets` Nullable(UInt64) COMMENT 'packets the DPI dropped; element id unpublished, default IANA 133 (droppedPacketDeltaCount)',
    `dpi_id` UInt16 COMMENT 'DPI number the receiver is configured with (the [N] of IPFIX_FULLFLOW_PORT[N])',
    `direction` UInt8 COMMENT 'decided direction: 0 unknown, 1 towards the subscriber (download), 2 from the subscriber (upload)',
    `subscriber_side` UInt8 COMMENT 'which address is the subscriber: 0 unknown, 1 source, 2 destination',
    `subscriber_ip` IPv6 COMMENT 'subscriber address; IPv4 as v4-mapped ::ffff:a.b.c.d (compare with toIPv6(\'a.b.c.d\')); :: unknown' CODEC(ZSTD(1)),
    `host_ip` IPv6 COMMENT 'the other (host) address, v4-mapped like subscriber_ip; :: unknown' CODEC(ZSTD(1)),
    `host_as` UInt32 COMMENT 'AS of the host: the DPI\'s value or the loader\'s AS dictionary; 0 unknown' CODEC(ZSTD(1)),
    `subscriber_as` UInt32 COMMENT 'AS of the subscriber: the DPI\'s value or the loader\'s AS dictionary; 0 unknown' CODEC(ZSTD(1)),
    INDEX host_bf host TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX login_bf login TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toStartOfHour(flow_start_time)
ORDER BY (subscriber_ip, flow_start_time)
TTL flow_start_time + toIntervalHour(24)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000, max_bytes_to_merge_at_max_space_in_pool = 268435456
COMMENT 'qoestor fullflow raw log, times in UTC, kept 24 h';

CREATE TABLE IF NOT EXISTS qoestor.clickstream
(
    `time` DateTime('UTC') COMMENT 'request time, instant in UTC, seconds (TIME_STAMP)' CODEC(Delta, ZSTD(1)),
    `login` String COMMENT 'subscriber login (LOGIN)' CODEC(ZSTD(1)),
    `source_ipv4` IPv4 COMMENT 'sender IPv4 address; 0.0.0.0 in IPv6 records (IP_SOURCE, 4 bytes)' CODEC(ZSTD(1)),
    `source_ipv6` IPv6 COMMENT 'sender IPv6 address; :: in IPv4 records (IP_SOURCE, 16 bytes)' CODEC(ZSTD(1)),
    `destination_ipv4` IPv4 COMMENT 'recipient IPv4 address; 0.0.0.0 in IPv6 records (IP_DESTINATION, 4 bytes)' CODEC(ZSTD(1)),
    `destination_ipv6` IPv6 COMMENT 'recipient IPv6 address; :: in IPv4 records (IP_DESTINATION, 16 bytes)' CODEC(ZSTD(1)),
    `host` String COMMENT 'HTTP Host, CNAME, SNI or QUIC name (HOST)' CODEC(ZSTD(1)),
    `path` String COMMENT 'URL path; empty for HTTPS/QUIC (PATH)' CODEC(ZSTD(3)),
    `referer` String COMMENT 'HTTP Referer (REFERER)' CODEC(ZSTD(3)),
    `user_agent` String COMMENT 'HTTP User-Agent (USER_AGENT)' CODEC(ZSTD(3)),
    `cookie` String COMMENT 'HTTP Cookie (COOKIE)' CODEC(ZSTD(3)),
    `session_id` UInt64 COMMENT 'DPI session id, as in fullflow (SESSION_ID)' CODEC(ZSTD(1)),
    `locked` UInt64 COMMENT 'block mark: 0 not blocked, 1 blocked (HTTPS), 2 HTTP redirect, 3 blocked (HTTP) (LOCKED)' CODEC(T64, ZSTD(1)),
    `host_type` UInt8 COMMENT 'where host comes from: 1 HTTP, 2 CNAME, 3 SNI, 4 QUIC (HOST_TYPE)',
    `method` UInt8 COMMENT 'HTTP method: 1 GET, 2 POST, 3 PUT, 4 DELETE; 0 none (METHOD)',
    `ie1013` Nullable(UInt16) COMMENT '2025 revision element 43823/1013 (2 bytes), meaning unpublished',
    `ie1014` Nullable(UInt16) COMMENT '2025 revision element 43823/1014 (2 bytes), meaning unpublished',
    `ie2016` Nullable(UInt16) COMMENT '2025 revision element 43823/2016 (2 bytes), meaning unpublished',
    `ie1024` Nullable(UInt16) COMMENT '2025 revision element 43823/1024 (2 bytes), meaning unpublished',
    `ie1025` Nullable(String) COMMENT '2025 revision element 43823/1025 (variable length), meaning unpublished' CODEC(ZSTD(1)),
    `vlan_id` Nullable(UInt16) COMMENT 'VLAN id (vlanId)',
    `post_vlan_id` Nullable(UInt16) COMMENT 'VLAN id after the DPI (postVlanId)',
    `source_mac` Nullable(FixedString(6)) COMMENT 'source MAC address, 6 raw bytes (sourceMacAddress)',
    `post_destination_mac` Nullable(FixedString(6)) COMMENT 'destination MAC address after the DPI, 6 raw bytes (postDestinationMacAddress)',
    `mpls_labels` Nullable(String) COMMENT 'MPLS label stack, raw bytes as sent (43823/2017)' CODEC(ZSTD(1)),
    `ie2018` Nullable(UInt32) COMMENT '2025 revision element 43823/2018 (4 bytes), meaning unpublished',
    `dpi_id` UInt16 COMMENT 'DPI number the receiver is configured with (the [N] of IPFIX_CLICKSTREAM_PORT[N])',
    `subscriber_side` UInt8 COMMENT 'which address is the subscriber: 0 unknown, 1 source, 2 destination',
    `subscriber_ip` IPv6 COMMENT 'subscriber address; IPv4 as v4-mapped ::ffff:a.b.c.d (compare with toIPv6(\'a.b.c.d\')); :: unknown' CODEC(ZSTD(1)),
    INDEX host_bf host TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toStartOfHour(time)
ORDER BY (login, time)
TTL time + toIntervalHour(24)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000, max_bytes_to_merge_at_max_space_in_pool = 268435456
COMMENT 'qoestor clickstream raw log, times in UTC, kept 24 h';

CREATE TABLE IF NOT EXISTS qoestor.natflow
(
    `time_ms` DateTime64(3, 'UTC') COMMENT 'event time, instant in UTC, milliseconds (observationTimeMilliseconds)' CODEC(Delta, ZSTD(1)),
    `time` DateTime('UTC') DEFAULT toDateTime(time_ms, 'UTC') COMMENT 'event time in UTC, seconds; computed from time_ms' CODEC(Delta, ZSTD(1)),
    `protocol_identifier` UInt8 COMMENT 'IP protocol number (protocolIdentifier)',
    `nat_event` UInt8 COMMENT '1 NAT44 session create, 2 delete (natEvent)',
    `source_ipv4` IPv4 COMMENT 'subscriber private address (sourceIPv4Address)' CODEC(ZSTD(1)),
    `post_nat_source_ipv4` IPv4 COMMENT 'public address (postNATSourceIPv4Address)' CODEC(ZSTD(1)),
    `source_transport_port` UInt16 COMMENT 'subscriber private port (sourceTransportPort)',
    `post_napt_source_transport_port` UInt16 COMMENT 'public port (postNAPTSourceTransportPort)',
    `destination_ipv4` IPv4 COMMENT 'destination address (destinationIPv4Address)' CODEC(ZSTD(1)),
    `destination_transport_port` UInt16 COMMENT 'destination port (destinationTransportPort)',
    `session_id` UInt64 COMMENT 'DPI session id; links to fullflow (SESSION_ID)' CODEC(ZSTD(1)),
    `login` String COMMENT 'subscriber login (LOGIN)' CODEC(ZSTD(1)),
    `dpi_id` UInt16 COMMENT 'DPI number the receiver is configured with (the [N] of IPFIX_NATFLOW_PORT[N])',
    `origin` UInt8 COMMENT 'where the row comes from: 0 DPI NAT log stream, 1 derived from fullflow, 2 third-party NAT device',
    INDEX login_bf login TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toStartOfHour(time)
ORDER BY (post_nat_source_ipv4, post_napt_source_transport_port, time)
TTL time + toIntervalHour(24)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000, max_bytes_to_merge_at_max_space_in_pool = 268435456
COMMENT 'qoestor natflow raw log, times in UTC, kept 24 h';

CREATE TABLE IF NOT EXISTS qoestor.gtpflow
(
    `time` DateTime('UTC') COMMENT 'event time, instant in UTC, seconds (TIMESTAMP)' CODEC(Delta, ZSTD(1)),
    `gtp_version` UInt8 COMMENT 'GTP-C version, 1 or 2 (VERSION)',
    `request_type` UInt8 COMMENT 'GTP-C request message type (REQUEST)',
    `response_type` UInt8 COMMENT 'GTP-C response message type (RESPONSE)',
    `cause` UInt8 COMMENT 'GTP-C cause (IE_CAUSE)',
    `result` UInt8 COMMENT '1 success, 0 failure (RESULT)',
    `session_id` UInt64 COMMENT 'DPI session id; 0 unknown (SESSION_ID)' CODEC(ZSTD(1)),
    `sgw_c_ipv4` IPv4 COMMENT 'SGW control-plane address (43823/3306)' CODEC(ZSTD(1)),
    `sgw_c_teid` UInt32 COMMENT 'SGW control-plane TEID (43823/3307)' CODEC(ZSTD(1)),
    `sgw_u_ipv4` IPv4 COMMENT 'SGW data-plane address (43823/3308)' CODEC(ZSTD(1)),
    `sgw_u_teid` UInt32 COMMENT 'SGW data-plane TEID (43823/3309)' CODEC(ZSTD(1)),
    `dpi_id` UInt16 COMMENT 'DPI number the receiver is configured with (the [N] of IPFIX_GTPFLOW_PORT[N])'
)
ENGINE = MergeTree
PARTITION BY toStartOfHour(time)
ORDER BY (time, session_id)
TTL time + toIntervalHour(24)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000, max_bytes_to_merge_at_max_space_in_pool = 268435456
COMMENT 'qoestor gtpflow raw log, times in UTC, kept 24 h';

CREATE TABLE IF NOT EXISTS qoestor.dnsflow
(
    `flow_start_ms` DateTime64(3, 'UTC') COMMENT 'flow start, instant in UTC, milliseconds (flowStartMilliseconds)' CODEC(Delta, ZSTD(1)),
    `time` DateTime('UTC') DEFAULT toDateTime(flow_start_ms, 'UTC') COMMENT 'flow start in UTC, seconds; computed from flow_start_ms' CODEC(Delta, ZSTD(1)),
    `octets` UInt64 COMMENT 'bytes (octetDeltaCount)' CODEC(T64, ZSTD(1)),
    `packets` UInt64 COMMENT 'packets (packetDeltaCount)' CODEC(T64, ZSTD(1)),
    `protocol_identifier` UInt8 COMMENT 'IP protocol number (protocolIdentifier)',
    `source_transport_port` UInt16 COMMENT 'source port (sourceTransportPort)',
    `source_ipv4` IPv4 COMMENT 'source IPv4 address (sourceIPv4Address)' CODEC(ZSTD(1)),
    `destination_transport_port` UInt16 COMMENT 'destination port (destinationTransportPort)',
    `destination_ipv4` IPv4 COMMENT 'destination IPv4 address (destinationIPv4Address)' CODEC(ZSTD(1)),
    `source_ipv6` IPv6 COMMENT 'source IPv6 address (sourceIPv6Address)' CODEC(ZSTD(1)),
    `destination_ipv6` IPv6 COMMENT 'destination IPv6 address (destinationIPv6Address)' CODEC(ZSTD(1)),
    `session_id` UInt64 COMMENT 'DPI session id (SESSION_ID)' CODEC(ZSTD(1)),
    `login` String COMMENT 'subscriber login (LOGIN)' CODEC(ZSTD(1)),
    `dpi_id` UInt16 COMMENT 'DPI number the receiver is configured with'
)
ENGINE = MergeTree
PARTITION BY toStartOfHour(time)
ORDER BY (time, source_ipv4, source_ipv6)
TTL time + toIntervalHour(24)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000, max_bytes_to_merge_at_max_space_in_pool = 268435456
COMMENT 'qoestor dnsflow raw log, times in UTC, kept 24 h';

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

CREATE TABLE IF NOT EXISTS qoestor.clickstream_agg
(
    `time` DateTime('UTC') COMMENT 'start of the bucket (period), instant in UTC' CODEC(Delta, ZSTD(1)),
    `dpi_id` UInt16 COMMENT 'DPI number',
    `login` String COMMENT 'subscriber login' CODEC(ZSTD(1)),
    `host` String COMMENT 'host' CODEC(ZSTD(1)),
    `host_type` UInt8 COMMENT '1 HTTP, 2 CNAME, 3 SNI, 4 QUIC',
    `method` UInt8 COMMENT '1 GET, 2 POST, 3 PUT, 4 DELETE; 0 none',
    `requests` SimpleAggregateFunction(sum, UInt64) COMMENT 'requests (clickstream records)' CODEC(T64, ZSTD(1)),
    `blocked` SimpleAggregateFunction(sum, UInt64) COMMENT 'requests with a block mark (locked != 0)' CODEC(T64, ZSTD(1))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(time)
ORDER BY (time, dpi_id, login, host, host_type, method)
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 10000
COMMENT 'qoestor clickstream_agg, buckets of the loader\'s period (UTC), kept forever';

CREATE TABLE IF NOT EXISTS qoestor.natflow_agg
(
    `time` DateTime('UTC') COMMENT 'start of the bucket, instant in UTC' CODEC(Delta, ZSTD(1)),
    `post_nat_source_ipv4` IPv4 COMMENT 'public address' CODEC(ZSTD(1)),
    `post_napt_source_transport_port` UInt16 COMMENT 'public port',
    `protocol_identifier` UInt8 COMMENT 'IP protocol',
    `nat_event` UInt8 COMMENT '1 create, 2 delete',
    `source_ipv4` IPv4 COMMENT 'subscriber private address' CODEC(ZSTD(1)),
    `source_transport_port` UInt16 COMMENT 'subscriber private port',
    `destination_ipv4` IPv4 COMMENT 'destination address' CODEC(ZSTD(1)),
    `destination_transport_port` UInt16 COMMENT 'destination port',
    `session_id` UInt64 COMMENT 'DPI session id' CODEC(ZSTD(1)),
    `login` String COMMENT 'subscriber login' CODEC(ZSTD(1)),
    `dpi_id` UInt16 COMMENT 'DPI number',
    `records` SimpleAggregateFunction(sum, UInt64) COMMENT 'NAT events aggregated' CODEC(T64, ZSTD(1)),
    `first_seen` SimpleAggregateFunction(min, DateTime64(3, 'UTC')) COMMENT 'earliest event in the bucket, UTC',
    `last_seen` SimpleAggregateFunction(max, DateTime64(3, 'UTC')) COMMENT 'latest event in the bucket, UTC'
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(time)
ORDER BY (post_nat_source_ipv4, post_napt_source_transport_port, time, protocol_identifier, nat_event, source_ipv4, source_transport_port, destination_ipv4, destination_transport_port, session_id, login, dpi_id)
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 10000
COMMENT 'qoestor natflow_agg, buckets of the loader\'s period (UTC), kept forever';


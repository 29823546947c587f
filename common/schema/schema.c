/* schema.c: the one expansion of the schema tables (the .def files of common/schema).
 *
 * Each stream's .def becomes a const array of struct qs_column, each
 * aggregate's .def a const array of struct qs_agg_column; the stream and
 * aggregate tables below add what is per table (port, ORDER BY ...).
 * Lookups are linear scans: tables are small and callers resolve indexes
 * once (at template or start-up time), not per record.
 */
#include "schema/schema.h"

#include <string.h>

#define COL(name, type, pen, ie, ielen, chtype, flags, doc) \
	{ #name, type, pen, ie, ielen, chtype, flags, doc },
#define AGG(name, kind, src, keep_bit, chtype, doc) \
	{ #name, kind, src, keep_bit, chtype, doc },

static const struct qs_column fullflow_cols[] = {
#include "schema/fullflow.def"
};
static const struct qs_column clickstream_cols[] = {
#include "schema/clickstream.def"
};
static const struct qs_column natflow_cols[] = {
#include "schema/natflow.def"
};
static const struct qs_column gtpflow_cols[] = {
#include "schema/gtpflow.def"
};
static const struct qs_column dnsflow_cols[] = {
#include "schema/dnsflow.def"
};

static const struct qs_agg_column fullflow_agg_cols[] = {
#include "schema/fullflow_agg.def"
};
static const struct qs_agg_column clickstream_agg_cols[] = {
#include "schema/clickstream_agg.def"
};
static const struct qs_agg_column natflow_agg_cols[] = {
#include "schema/natflow_agg.def"
};

#undef COL
#undef AGG

#define N(a) (sizeof(a) / sizeof((a)[0]))

_Static_assert(N(fullflow_cols) <= QS_MAX_COLS, "fullflow: too many columns");
_Static_assert(N(clickstream_cols) <= QS_MAX_COLS, "clickstream: too many columns");
_Static_assert(N(natflow_cols) <= QS_MAX_COLS, "natflow: too many columns");
_Static_assert(N(gtpflow_cols) <= QS_MAX_COLS, "gtpflow: too many columns");
_Static_assert(N(dnsflow_cols) <= QS_MAX_COLS, "dnsflow: too many columns");

static const struct qs_stream_def streams[QS_STREAM_COUNT] = {
	[QS_FULLFLOW] = { QS_FULLFLOW, "fullflow", 1500, fullflow_cols, N(fullflow_cols),
		"flow_start_time", "subscriber_ip, flow_start_time",
		"host_bf host TYPE bloom_filter(0.01) GRANULARITY 4;"
		"login_bf login TYPE bloom_filter(0.01) GRANULARITY 4" },
	[QS_CLICKSTREAM] = { QS_CLICKSTREAM, "clickstream", 1501, clickstream_cols, N(clickstream_cols),
		"time", "login, time",
		"host_bf host TYPE bloom_filter(0.01) GRANULARITY 4" },
	[QS_NATFLOW] = { QS_NATFLOW, "natflow", 1503, natflow_cols, N(natflow_cols),
		"time", "post_nat_source_ipv4, post_napt_source_transport_port, time",
		"login_bf login TYPE bloom_filter(0.01) GRANULARITY 4" },
	[QS_GTPFLOW] = { QS_GTPFLOW, "gtpflow", 1502, gtpflow_cols, N(gtpflow_cols),
		"time", "time, session_id", NULL },
	[QS_DNSFLOW] = { QS_DNSFLOW, "dnsflow", 1504, dnsflow_cols, N(dnsflow_cols),
		"time", "time, source_ipv4, source_ipv6", NULL },
};

static const struct qs_agg_def aggs[QS_AGG_TABLES] = {
	[QS_FULLFLOW_AGG] = { QS_FULLFLOW_AGG, "fullflow_agg", QS_FULLFLOW,
		fullflow_agg_cols, N(fullflow_agg_cols),
		"time, dpi_id, subscriber_ip, login, host, dpi_protocol, direction, host_as, "
		"ip_class_of_service", 1, "fullflow_agg_15m" },
	[QS_CLICKSTREAM_AGG] = { QS_CLICKSTREAM_AGG, "clickstream_agg", QS_CLICKSTREAM,
		clickstream_agg_cols, N(clickstream_agg_cols),
		"time, dpi_id, login, host, host_type, method", 0, "clickstream_agg" },
	[QS_NATFLOW_AGG] = { QS_NATFLOW_AGG, "natflow_agg", QS_NATFLOW,
		natflow_agg_cols, N(natflow_agg_cols),
		"post_nat_source_ipv4, post_napt_source_transport_port, time, protocol_identifier, "
		"nat_event, source_ipv4, source_transport_port, destination_ipv4, "
		"destination_transport_port, session_id, login, dpi_id", 0, "natflow_agg" },
};

const struct qs_stream_def *qs_stream_def(enum qs_stream id)
{
	if ((unsigned)id >= QS_STREAM_COUNT)
		return NULL;
	return &streams[id];
}

const struct qs_stream_def *qs_stream_by_name(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < QS_STREAM_COUNT; i++)
		if (strcmp(streams[i].name, name) == 0)
			return &streams[i];
	return NULL;
}

int qs_column_index(const struct qs_stream_def *def, const char *name)
{
	if (!def || !name)
		return -1;
	for (size_t i = 0; i < def->ncols; i++)
		if (strcmp(def->cols[i].name, name) == 0)
			return (int)i;
	return -1;
}

int qs_column_stored(const struct qs_column *c)
{
	return !(c->flags & QS_F_COMPUTED);
}

size_t qs_type_width(enum qs_type t)
{
	switch (t) {
	case QS_U8: return 1;
	case QS_U16: return 2;
	case QS_U32: return 4;
	case QS_U64: return 8;
	case QS_IPV4: return 4;
	case QS_IPV6: return 16;
	case QS_MAC: return 6;
	case QS_TIME_MS: return 8;
	case QS_TIME_S: return 4;
	case QS_STR: return 0;
	}
	return 0;
}

const char *qs_type_name(enum qs_type t)
{
	switch (t) {
	case QS_U8: return "u8";
	case QS_U16: return "u16";
	case QS_U32: return "u32";
	case QS_U64: return "u64";
	case QS_IPV4: return "ipv4";
	case QS_IPV6: return "ipv6";
	case QS_MAC: return "mac";
	case QS_TIME_MS: return "time_ms";
	case QS_TIME_S: return "time_s";
	case QS_STR: return "str";
	}
	return "?";
}

const struct qs_agg_def *qs_agg_def(enum qs_agg id)
{
	if ((unsigned)id >= QS_AGG_TABLES)
		return NULL;
	return &aggs[id];
}

const struct qs_agg_def *qs_agg_by_name(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < QS_AGG_TABLES; i++)
		if (strcmp(aggs[i].name, name) == 0)
			return &aggs[i];
	return NULL;
}

int qs_agg_column_index(const struct qs_agg_def *def, const char *name)
{
	if (!def || !name)
		return -1;
	for (size_t i = 0; i < def->ncols; i++)
		if (strcmp(def->cols[i].name, name) == 0)
			return (int)i;
	return -1;
}

const char *qs_agg_kind_name(enum qs_agg_kind k)
{
	switch (k) {
	case QS_AGG_BUCKET: return "bucket";
	case QS_AGG_KEY: return "key";
	case QS_AGG_SUM: return "sum";
	case QS_AGG_MAX: return "max";
	case QS_AGG_MIN: return "min";
	case QS_AGG_COUNT: return "count";
	case QS_AGG_COUNT_PRESENT: return "count_present";
	case QS_AGG_COUNT_NONZERO: return "count_nonzero";
	case QS_AGG_COUNT_DISTINCT: return "count_distinct";
	}
	return "?";
}

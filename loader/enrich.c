/* enrich.c: direction, subscriber side, filters, login replacement and NAT
 * rows from fullflow (see enrich.h for the rules).
 */
#include "loader/enrich.h"

#include <string.h>

#include "loader/encoder.h"

static const char *const colname[EC_COUNT] = {
	[EC_SRC4] = "source_ipv4", [EC_DST4] = "destination_ipv4", [EC_SRC6] = "source_ipv6",
	[EC_DST6] = "destination_ipv6", [EC_IPVER] = "ip_version", [EC_SAS] = "bgp_source_as_number",
	[EC_DAS] = "bgp_destination_as_number", [EC_IN] = "ingress_interface", [EC_OUT] = "egress_interface",
	[EC_LOGIN] = "login", [EC_VCH] = "vchannel", [EC_DPI] = "dpi_id", [EC_DIR] = "direction",
	[EC_SIDE] = "subscriber_side", [EC_SUBIP] = "subscriber_ip", [EC_HOSTIP] = "host_ip",
	[EC_HOSTAS] = "host_as", [EC_SUBAS] = "subscriber_as", [EC_ORIGIN] = "origin",
	[EC_NAT_IP] = "post_nat_source_ipv4", [EC_NAT_PORT] = "post_napt_source_transport_port",
	[EC_TIME] = "flow_start_ms", [EC_PROTO] = "protocol_identifier", [EC_SPORT] = "source_transport_port",
	[EC_DPORT] = "destination_transport_port", [EC_SESSION] = "session_id",
};

void enrich_init(struct enrich *e, const struct enrich_cfg *cfg, const struct qs_stream_def *def)
{
	memset(e, 0, sizeof *e);
	e->cfg = *cfg;
	e->def = def;
	for (int i = 0; i < EC_COUNT; i++)
		e->c[i] = qs_column_index(def, colname[i]);
	e->has_as = e->c[EC_SAS] >= 0 && e->c[EC_DAS] >= 0;
	/* Streams without AS: mode 1 is "as is" / "none", modes 3 and 4 are CIDR. */
	unsigned *modes[] = { &e->cfg.dir_mode, &e->cfg.filter_mode, &e->cfg.exclude_mode };
	if (!e->has_as)
		for (int i = 0; i < 3; i++)
			*modes[i] = *modes[i] == 1 ? 0 : *modes[i] >= 3 ? 2 : *modes[i];
	if (e->c[EC_SRC4] < 0 && e->c[EC_SRC6] < 0)
		e->cfg.dir_mode = e->cfg.filter_mode = e->cfg.exclude_mode = 0;
}

static inline int has(const struct qs_record *r, int c)
{
	return c >= 0 && qs_record_has(r, c);
}

static inline uint64_t u(const struct qs_record *r, int c)
{
	return has(r, c) ? r->v[c].u : 0;
}

static inline void set_u(struct qs_record *r, int c, uint64_t v)
{
	if (c >= 0)
		qs_record_set_u(r, c, v);
}

struct addr {
	int v6;
	uint32_t v4;
	const uint8_t *p6;
	uint32_t as;
};

static const uint8_t zero16[16];

static void v4mapped(uint8_t out[16], uint32_t a)
{
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	out[12] = (uint8_t)(a >> 24);
	out[13] = (uint8_t)(a >> 16);
	out[14] = (uint8_t)(a >> 8);
	out[15] = (uint8_t)a;
}

static void to16(const struct addr *a, uint8_t out[16])
{
	if (a->v6)
		memcpy(out, a->p6 ? a->p6 : zero16, 16);
	else
		v4mapped(out, a->v4);
}

/* The record's two addresses. IPv6 when ip_version says 6, or when there is
 * no ip_version and a v6 source is present. */
static void addrs(const struct enrich *e, const struct qs_record *r, struct addr *s, struct addr *d)
{
	int v6;
	if (has(r, e->c[EC_IPVER]))
		v6 = r->v[e->c[EC_IPVER]].u == 6;
	else
		v6 = has(r, e->c[EC_SRC6]) && !has(r, e->c[EC_SRC4]);
	memset(s, 0, sizeof *s);
	memset(d, 0, sizeof *d);
	s->v6 = d->v6 = v6;
	if (v6) {
		s->p6 = has(r, e->c[EC_SRC6]) && r->v[e->c[EC_SRC6]].len >= 16 ? r->v[e->c[EC_SRC6]].p : zero16;
		d->p6 = has(r, e->c[EC_DST6]) && r->v[e->c[EC_DST6]].len >= 16 ? r->v[e->c[EC_DST6]].p : zero16;
	} else {
		s->v4 = (uint32_t)u(r, e->c[EC_SRC4]);
		d->v4 = (uint32_t)u(r, e->c[EC_DST4]);
	}
	s->as = (uint32_t)u(r, e->c[EC_SAS]);
	d->as = (uint32_t)u(r, e->c[EC_DAS]);
}

static int in_cidr(const struct dict_snap *snap, enum dict_id id, const struct addr *a)
{
	if (!snap)
		return 0;
	return (a->v6 ? dict_snap_find_ip6(snap, id, a->p6) : dict_snap_find_ip4(snap, id, a->v4)) != DICT_NONE;
}

static int in_as(const struct dict_snap *snap, enum dict_id id, const struct addr *a)
{
	return snap && a->as && dict_snap_find_u64(snap, id, a->as) != DICT_NONE;
}

/* The manual's predicate for mode 1..4 over an AS and a subnet dictionary. */
static int match(unsigned mode, const struct dict_snap *snap, enum dict_id as_dic, enum dict_id net_dic,
	const struct addr *a)
{
	switch (mode) {
	case 1: return in_as(snap, as_dic, a);
	case 2: return in_cidr(snap, net_dic, a);
	case 3: return in_as(snap, as_dic, a) && in_cidr(snap, net_dic, a);
	case 4: return in_as(snap, as_dic, a) || in_cidr(snap, net_dic, a);
	default: return 0;
	}
}

/* The DPI's own flag: 1 source, 2 destination, 0 unknown. */
static int side_by_flags(const struct enrich *e, const struct qs_record *r)
{
	if (e->c[EC_IN] < 0) /* clickstream: a request comes from the subscriber */
		return e->c[EC_SRC4] >= 0 ? 1 : 0;
	for (int k = EC_IN; k <= EC_OUT; k++) {
		uint64_t f = u(r, e->c[k]);
		if (f == 1)
			return 2; /* towards the subscriber: it is the destination */
		if (f == 2)
			return 1;
	}
	return 0;
}

static void replace_login(struct enrich *e, const struct dict_snap *snap, struct qs_record *r)
{
	int lc = e->c[EC_LOGIN], vc = e->c[EC_VCH];
	if (lc < 0 || vc < 0 || !qs_record_has(r, vc))
		return;
	if (e->cfg.replace_login == 2 && qs_record_has(r, lc) && r->v[lc].len > 0)
		return;
	uint64_t ch = r->v[vc].u;
	if (e->cfg.use_dic && snap) {
		uint32_t row = dict_snap_find_u64(snap, DICT_vchannel_name_dic, ch);
		if (row != DICT_NONE) {
			const char *name = dict_data_str(dict_snap_data(snap, DICT_vchannel_name_dic), row, 1);
			qs_record_set_bytes(r, lc, (const uint8_t *)name, (uint32_t)strlen(name));
			return;
		}
	}
	char *end = encoder_put_u64(e->login, ch);
	qs_record_set_bytes(r, lc, (const uint8_t *)e->login, (uint32_t)(end - e->login));
}

unsigned enrich_record(struct enrich *e, const struct dict_snap *snap, unsigned dpi_id, struct qs_record *r)
{
	set_u(r, e->c[EC_DPI], dpi_id);
	if (e->c[EC_ORIGIN] >= 0 && !qs_record_has(r, e->c[EC_ORIGIN]))
		qs_record_set_u(r, e->c[EC_ORIGIN], 0);
	if (e->cfg.replace_login)
		replace_login(e, snap, r);
	if (e->c[EC_SIDE] < 0)
		return ENRICH_AGG;

	struct addr s, d;
	addrs(e, r, &s, &d);
	int side = 0;
	if (e->cfg.dir_mode) {
		int ls = match(e->cfg.dir_mode, snap, DICT_asnum_local_dic, DICT_subnets_local_dic, &s);
		int ld = match(e->cfg.dir_mode, snap, DICT_asnum_local_dic, DICT_subnets_local_dic, &d);
		side = ls && !ld ? 1 : ld && !ls ? 2 : 0;
	}
	if (!side)
		side = side_by_flags(e, r);
	const struct addr *sub = side == 1 ? &s : side == 2 ? &d : NULL;
	const struct addr *host = side == 1 ? &d : side == 2 ? &s : NULL;

	set_u(r, e->c[EC_SIDE], (unsigned)side);
	set_u(r, e->c[EC_DIR], side == 1 ? 2 : side == 2 ? 1 : 0);
	if (sub) {
		to16(sub, e->sub_ip);
		to16(host, e->host_ip);
	} else {
		memset(e->sub_ip, 0, 16);
		memset(e->host_ip, 0, 16);
	}
	if (e->c[EC_SUBIP] >= 0)
		qs_record_set_bytes(r, e->c[EC_SUBIP], e->sub_ip, 16);
	if (e->c[EC_HOSTIP] >= 0)
		qs_record_set_bytes(r, e->c[EC_HOSTIP], e->host_ip, 16);
	set_u(r, e->c[EC_HOSTAS], host ? host->as : s.as);
	set_u(r, e->c[EC_SUBAS], sub ? sub->as : d.as);

	unsigned flags = ENRICH_AGG;
	if (e->cfg.filter_mode &&
	    (!sub || !match(e->cfg.filter_mode, snap, DICT_asnum_local_dic, DICT_subnets_local_dic, sub)))
		flags = 0;
	if (flags && e->cfg.exclude_mode) {
		unsigned m = e->cfg.exclude_mode;
		int x = sub ? match(m, snap, DICT_asnum_exclude_dic, DICT_subnets_exclude_dic, sub)
			    : match(m, snap, DICT_asnum_exclude_dic, DICT_subnets_exclude_dic, &s) ||
				      match(m, snap, DICT_asnum_exclude_dic, DICT_subnets_exclude_dic, &d);
		if (x)
			flags = 0;
	}
	return flags;
}

int enrich_nat_row(const struct enrich *e, const struct qs_record *ff, const struct qs_stream_def *natdef,
	struct qs_record *nat)
{
	if (!has(ff, e->c[EC_NAT_IP]) || !has(ff, e->c[EC_NAT_PORT]))
		return 0;
	if (has(ff, e->c[EC_IPVER]) && ff->v[e->c[EC_IPVER]].u != 4)
		return 0;
	/* natflow column <- fullflow column, by name (both from the schema table). */
	static const struct { const char *nat; int ec; } map[] = {
		{ "time_ms", EC_TIME }, { "protocol_identifier", EC_PROTO }, { "source_ipv4", EC_SRC4 },
		{ "post_nat_source_ipv4", EC_NAT_IP }, { "source_transport_port", EC_SPORT },
		{ "post_napt_source_transport_port", EC_NAT_PORT }, { "destination_ipv4", EC_DST4 },
		{ "destination_transport_port", EC_DPORT }, { "session_id", EC_SESSION }, { "login", EC_LOGIN },
		{ "dpi_id", EC_DPI },
	};
	static __thread const struct qs_stream_def *cached_def;
	static __thread int idx[sizeof map / sizeof map[0]], ev, origin;
	if (cached_def != natdef) {
		for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
			idx[i] = qs_column_index(natdef, map[i].nat);
		ev = qs_column_index(natdef, "nat_event");
		origin = qs_column_index(natdef, "origin");
		cached_def = natdef;
	}
	qs_record_clear(nat, natdef);
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
		int fc = e->c[map[i].ec];
		if (idx[i] < 0 || !has(ff, fc))
			continue;
		nat->v[idx[i]] = ff->v[fc];
		nat->present[idx[i] >> 6] |= (uint64_t)1 << (idx[i] & 63);
	}
	if (ev >= 0)
		qs_record_set_u(nat, ev, 0);
	if (origin >= 0)
		qs_record_set_u(nat, origin, 1);
	return 1;
}

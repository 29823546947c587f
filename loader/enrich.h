/* enrich.h: the loader's per-record enrichment, per the manual's .env keys.
 *
 * Fills the derived columns (QS_F_DERIVED) of a raw record and decides
 * whether it counts in the subscriber aggregates. The raw source and
 * destination columns are never changed; only the login may be (login
 * replacement, below).
 *
 * Which side is the subscriber (TRAFFIC_DIR_DEF_MODE):
 *   0  as is: the DPI's direction flag (fullflow ingress_interface, else
 *      egress_interface: 1 towards the subscriber, so the subscriber is the
 *      destination and direction = 1 (download); 2 from the subscriber, so
 *      the subscriber is the source and direction = 2 (upload)); clickstream
 *      records are requests, so the subscriber is the source.
 *   1..4  an address is "local" by AS (asnum_local_dic holds the AS of the
 *      address: bgp_source_as_number for the source, bgp_destination_as_number
 *      for the destination, standard IPFIX meaning), by CIDR
 *      (subnets_local_dic), by AS and CIDR, by AS or CIDR. Exactly one local
 *      side is the subscriber; when both or neither are local the DPI's flag
 *      decides, as in mode 0. Streams without AS columns (clickstream) read
 *      mode 1 as 0 and modes 3 and 4 as 2 ("AS: fullflow only").
 * SUBSCRIBER_FILTER_MODE 1..4 (same predicates, local dictionaries): a record
 * counts in the aggregates only if its subscriber side is known and local.
 * SUBSCRIBER_EXCLUDE_MODE 1..4 (asnum_exclude_dic, subnets_exclude_dic): a
 * record whose subscriber address (either address when no side is known)
 * matches stays out of the aggregates. Both only affect aggregates: the raw
 * log keeps every record.
 * ULR_REPLACE_LOGIN_WITH_VCHANNEL 1 (always) or 2 (when the login is empty):
 * login := the vchannel's name from vchannel_name_dic when
 * ULR_USE_DIC_WHEN_REPLACING_LOGIN = 1 and the channel is listed, else its
 * number in decimal; records without vchannel keep their login. Raw log and
 * aggregates alike (the manual: "on insert").
 * NAT_IMPORT_FROM_FULLFLOW: a fullflow IPv4 record with post_nat_source_ipv4
 * and post_napt_source_transport_port gives one natflow row (origin 1,
 * nat_event 0: the DPI does not say create or delete).
 *
 * Derived columns: dpi_id (the file's DPI id), direction, subscriber_side,
 * subscriber_ip / host_ip (IPv4 v4-mapped), subscriber_as / host_as (the AS
 * fields of the matching addresses; with no side known host_as is
 * bgp_source_as_number and subscriber_as bgp_destination_as_number, the DPI's
 * own labels), natflow origin (0 unless the file says otherwise).
 *
 * Threads: an enrich state belongs to one thread (it holds scratch buffers a
 * record may point at until the next enrich_record call). Lookups read a
 * dictionary snapshot the caller holds; NULL means every dictionary is empty.
 */
#ifndef QOESTOR_LOADER_ENRICH_H
#define QOESTOR_LOADER_ENRICH_H

#include <stdint.h>

#include "dict/dict_store.h"
#include "spool/record.h"

struct enrich_cfg {
	unsigned dir_mode, filter_mode, exclude_mode; /* 0..4 */
	unsigned replace_login;                       /* 0, 1, 2 */
	unsigned use_dic;                             /* 0, 1 */
	unsigned nat_from_fullflow;                   /* 0, 1 */
};

enum { EC_SRC4, EC_DST4, EC_SRC6, EC_DST6, EC_IPVER, EC_SAS, EC_DAS, EC_IN, EC_OUT, EC_LOGIN, EC_VCH,
	EC_DPI, EC_DIR, EC_SIDE, EC_SUBIP, EC_HOSTIP, EC_HOSTAS, EC_SUBAS, EC_ORIGIN,
	EC_NAT_IP, EC_NAT_PORT, EC_TIME, EC_PROTO, EC_SPORT, EC_DPORT, EC_SESSION, EC_COUNT };

struct enrich {
	struct enrich_cfg cfg;
	const struct qs_stream_def *def;
	int c[EC_COUNT];         /* column index in def, -1 when the stream has none */
	int has_as;              /* the stream has AS columns */
	uint8_t sub_ip[16], host_ip[16];
	char login[24];
};

/* Bind to a stream definition (the live schema's). */
void enrich_init(struct enrich *e, const struct enrich_cfg *cfg, const struct qs_stream_def *def);

#define ENRICH_AGG 0x1u /* the record counts in the stream's aggregate */

/* Fill r's derived columns; returns ENRICH_AGG or 0. r may afterwards point
 * into e (addresses, login number) and into snap (login name): keep both
 * until r is consumed. */
unsigned enrich_record(struct enrich *e, const struct dict_snap *snap, unsigned dpi_id, struct qs_record *r);

/* The natflow row of an enriched fullflow record (NAT_IMPORT_FROM_FULLFLOW
 * must be on). nat is bound to natdef. 1 when a row was made, else 0. nat
 * borrows ff's bytes. */
int enrich_nat_row(const struct enrich *e, const struct qs_record *ff, const struct qs_stream_def *natdef,
	struct qs_record *nat);

#endif

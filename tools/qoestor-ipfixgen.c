/* qoestor-ipfixgen.c: an IPFIX exporter of the DPI's templates, for tests and
 * benchmarks.
 *
 * Sends fullflow (IPv4 and IPv6 templates), clickstream (IPv4 and IPv6),
 * natflow or gtpflow records with plausible values, over TCP, UDP or into a
 * file, through libfixbuf's exporter (so the bytes are what a libfixbuf-based
 * exporter writes, not what our decoder expects). The element lists follow
 * /work/shared/spec/dpi-ipfix.md; element types come from the same
 * information model as the receiver's (dictionaries/vasexperts-ie.xml).
 *
 * What it sent is printed at the end (records and sums of octets and packets
 * per template, one "key=value" line each) and, with --tsv FILE, every record
 * as a row of the stream's schema in the TSV of `qoestor-spool cat --raw-time
 * --no-header`, so a test can compare what went in with what came out.
 *
 * Exit codes: 0 all sent, 1 an export error (connection refused, disk), 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fixbuf/public.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ch/chsql.h"
#include "schema/schema.h"

#define VAS 43823
#define VARLEN FB_IE_VARLEN

struct fld {
	uint32_t ent;
	uint16_t num;
	uint16_t len;
};

struct tmpl {
	const char *name;
	enum qs_stream stream;
	int v6;
	const struct fld *f;
	size_t n;
};

static const struct fld ff_v4[] = {
	{ 0, 1, 8 }, { 0, 2, 8 }, { 0, 4, 1 }, { 0, 5, 1 }, { 0, 7, 2 }, { 0, 8, 4 }, { 0, 11, 2 },
	{ 0, 12, 4 }, { 0, 16, 4 }, { 0, 17, 4 }, { 0, 152, 8 }, { 0, 153, 8 }, { 0, 10, 2 },
	{ 0, 14, 2 }, { 0, 60, 1 }, { VAS, 2000, 8 }, { VAS, 2001, VARLEN }, { VAS, 2002, 2 },
	{ VAS, 2003, VARLEN }, { 0, 225, 4 }, { 0, 227, 2 }, { VAS, 2010, 2 }, { VAS, 2011, 2 },
	{ VAS, 2012, 4 }, { VAS, 2013, 2 }, { 0, 58, 2 }, { 0, 59, 2 }, { VAS, 2017, VARLEN },
	{ VAS, 2014, 1 }, { 0, 132, 8 }, { 0, 133, 8 },
};
static const struct fld ff_v6[] = {
	{ 0, 1, 8 }, { 0, 2, 8 }, { 0, 4, 1 }, { 0, 5, 1 }, { 0, 7, 2 }, { 0, 27, 16 }, { 0, 11, 2 },
	{ 0, 28, 16 }, { 0, 16, 4 }, { 0, 17, 4 }, { 0, 152, 8 }, { 0, 153, 8 }, { 0, 10, 2 },
	{ 0, 14, 2 }, { 0, 60, 1 }, { VAS, 2000, 8 }, { VAS, 2001, VARLEN }, { VAS, 2002, 2 },
	{ VAS, 2003, VARLEN }, { VAS, 2010, 2 }, { VAS, 2011, 2 }, { VAS, 2012, 4 },
};
static const struct fld cs_v4[] = {
	{ VAS, 1001, 4 }, { VAS, 1002, VARLEN }, { VAS, 1003, 4 }, { VAS, 1004, 4 },
	{ VAS, 1005, VARLEN }, { VAS, 1006, VARLEN }, { VAS, 1007, VARLEN }, { VAS, 1008, VARLEN },
	{ VAS, 1009, VARLEN }, { VAS, 2000, 8 }, { VAS, 1010, 8 }, { VAS, 1011, 1 }, { VAS, 1012, 1 },
};
static const struct fld cs_v6[] = {
	{ VAS, 1001, 4 }, { VAS, 1002, VARLEN }, { VAS, 1003, 16 }, { VAS, 1004, 16 },
	{ VAS, 1005, VARLEN }, { VAS, 1006, VARLEN }, { VAS, 1007, VARLEN }, { VAS, 1008, VARLEN },
	{ VAS, 1009, VARLEN }, { VAS, 2000, 8 }, { VAS, 1010, 8 }, { VAS, 1011, 1 }, { VAS, 1012, 1 },
};
static const struct fld nat[] = {
	{ 0, 323, 8 }, { 0, 4, 1 }, { 0, 230, 1 }, { 0, 8, 4 }, { 0, 225, 4 }, { 0, 7, 2 },
	{ 0, 227, 2 }, { 0, 12, 4 }, { 0, 11, 2 }, { VAS, 2000, 8 }, { VAS, 2003, VARLEN },
};
static const struct fld gtp[] = {
	{ VAS, 1001, 4 }, { VAS, 3300, 1 }, { VAS, 3301, 1 }, { VAS, 3302, 1 }, { VAS, 3303, 1 },
	{ VAS, 3304, 1 }, { VAS, 3305, 8 }, { VAS, 3306, 4 }, { VAS, 3307, 4 }, { VAS, 3308, 4 },
	{ VAS, 3309, 4 },
};

#define T(name, st, v6, a) { name, st, v6, a, sizeof a / sizeof a[0] }
static const struct tmpl tmpls[] = {
	T("fullflow-v4", QS_FULLFLOW, 0, ff_v4), T("fullflow-v6", QS_FULLFLOW, 1, ff_v6),
	T("clickstream-v4", QS_CLICKSTREAM, 0, cs_v4), T("clickstream-v6", QS_CLICKSTREAM, 1, cs_v6),
	T("natflow", QS_NATFLOW, 0, nat), T("gtpflow", QS_GTPFLOW, 0, gtp),
};
#define NTMPL (sizeof tmpls / sizeof tmpls[0])

/* ---- random values ----------------------------------------------------------- */

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static const char *hosts[] = { "www.example.com", "cdn.example.net", "api.example.org",
	"video.example.tv", "mail.example.com", "xn--80ak6aa92e.example", "static.example.io", "" };
static const char *agents[] = { "Mozilla/5.0 (X11; Linux x86_64)", "okhttp/4.9.0",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)", "curl/7.88.1" };

struct gen {
	size_t long_max;      /* 0: realistic short strings; else random lengths up to this */
	/* The record's subscriber and host, drawn once per record so that its fields
	 * agree (login, addresses, AS, protocol, session) and records recur the way
	 * real traffic does: a skewed pick among NSUBS subscribers (a few busy, most
	 * quiet), each with a few favourite hosts among NHOSTS. */
	unsigned sub, host;
	uint64_t now_ms;
	char strbuf[16][70000];
	int nstr;
	size_t budget;        /* string bytes left for this record (a record must fit a message) */
};

#define NSUBS 20000u
#define NHOSTS 400u

static void gen_pick(struct gen *g)
{
	g->sub = (unsigned)(rnd_below(NSUBS) * rnd_below(NSUBS) / NSUBS);
	g->host = (unsigned)((g->sub * 7u + rnd_below(4)) % NHOSTS);
}

static size_t gen_string(struct gen *g, uint16_t num, uint8_t **out)
{
	char *s = g->strbuf[g->nstr++ & 15];
	size_t n;
	if (g->long_max) {
		static const size_t edge[] = { 0, 1, 254, 255, 256 };
		uint64_t pick = rnd_below(10);
		n = pick < 5 ? edge[pick] : (size_t)rnd_below(g->long_max + 1);
		if (n > g->long_max)
			n = g->long_max;
		if (n > g->budget)
			n = g->budget;
		g->budget -= n;
		for (size_t i = 0; i < n; i++) /* any byte but keep it printable-ish; include tab/newline/quote */
			s[i] = "abcdefghijklmnopqrstuvwxyz0123456789/\t\n'\\\xd0\xbf"[rnd_below(43)];
	} else {
		switch (num) {
		case 2001: case 1005:
			if (g->host < 8)
				n = (size_t)snprintf(s, 256, "%s", hosts[g->host]);
			else
				n = (size_t)snprintf(s, 256, "h%u.example.com", g->host);
			break;
		case 2003: case 1002:
			n = (size_t)snprintf(s, 256, "user%05u", g->sub);
			break;
		case 1006:
			n = (size_t)snprintf(s, 256, "/path/%u/index.html?q=%u", (unsigned)rnd_below(1000),
			                     (unsigned)rnd_below(1u << 20));
			break;
		case 1007:
			n = (size_t)snprintf(s, 256, "https://%s/", hosts[rnd_below(7)]);
			break;
		case 1008:
			n = (size_t)snprintf(s, 256, "%s", agents[rnd_below(4)]);
			break;
		case 1009:
			n = (size_t)snprintf(s, 256, "sid=%016" PRIx64, rnd());
			break;
		case 2017: {
			n = 4 * rnd_below(3);
			for (size_t i = 0; i < n; i++)
				s[i] = (char)rnd();
			break;
		}
		default:
			n = 0;
		}
	}
	*out = (uint8_t *)s;
	return n;
}

static uint64_t gen_uint(struct gen *g, uint32_t ent, uint16_t num, uint64_t *octets)
{
	if (ent == 0) {
		switch (num) {
		case 1: *octets = 40 + rnd_below(rnd_below(2) ? 1500 : 20000000); return *octets;
		case 2: return *octets / 900 + 1;
		case 4: { uint64_t p = g->host % 50; return p < 40 ? 6 : p < 49 ? 17 : 1; }
		case 5: return rnd_below(10) ? 0 : rnd_below(8);
		case 7: return 1024 + rnd_below(64511);
		case 11: { static const uint16_t pp[] = { 443, 80, 53, 8080, 5222, 3478 }; return pp[g->host % 6]; }
		case 8: return 0x0a000000u + g->sub;
		case 225: return 0x64400000u + g->sub / 64;
		case 12: return 0x5db8d800u + g->host;
		case 16: return g->host % 10 ? 15169 + g->host % 50 : 0;
		case 17: return 65000;
		case 152: case 323: return g->now_ms - rnd_below(600000);
		case 10: case 14: return 1 + rnd_below(2);
		case 227: return 1024 + rnd_below(64511);
		case 230: return 1 + rnd_below(2);
		case 58: case 59: return rnd_below(4095);
		case 132: case 133: return rnd_below(4) ? 0 : rnd_below(100000);
		}
	} else {
		switch (num) {
		case 1001: return g->now_ms / 1000 - rnd_below(600);
		case 2000: return ((uint64_t)g->sub << 24) ^ ((uint64_t)g->host << 4) ^ rnd_below(4);
		case 3305: return rnd();
		case 2002: return 1 + g->host % 300;
		case 2010: case 2011: return rnd_below(8) ? 0 : rnd_below(200);
		case 2012: return 1000 + rnd_below(300000);
		case 2013: return rnd_below(16);
		case 2014: return rnd_below(256);
		case 1010: { uint64_t p = rnd_below(100); return p < 95 ? 0 : 1 + rnd_below(3); }
		case 1011: return 1 + rnd_below(4);
		case 1012: return 1 + rnd_below(4);
		case 3300: return 1 + rnd_below(2);
		case 3301: case 3302: return 32 + rnd_below(8);
		case 3303: return 16 + rnd_below(8);
		case 3304: return rnd_below(10) ? 1 : 0;
		case 3306: case 3308: return 0xac100000u + rnd_below(1u << 16);
		case 3307: case 3309: return rnd() & 0xffffffffu;
		}
	}
	return rnd();
}

/* ---- TSV of what was sent ------------------------------------------------------ */

static int find_col(const struct qs_stream_def *def, uint32_t pen, uint16_t ie, uint16_t len)
{
	for (size_t i = 0; i < def->ncols; i++) {
		const struct qs_column *c = &def->cols[i];
		if (c->ie == ie && c->pen == pen && c->ie && !(c->flags & (QS_F_DERIVED | QS_F_COMPUTED)) &&
		    (!c->ielen || c->ielen == len))
			return (int)i;
	}
	return -1;
}

struct cell {
	int set;
	uint64_t u;
	const uint8_t *p;
	size_t len;
};


static void tsv_row(FILE *o, const struct qs_stream_def *def, const struct cell *cells)
{
	char buf[INET6_ADDRSTRLEN];
	for (size_t c = 0; c < def->ncols; c++) {
		if (c)
			putc('\t', o);
		const struct cell *x = &cells[c];
		if (!x->set) {
			fputs("\\N", o);
			continue;
		}
		switch (def->cols[c].type) {
		case QS_U8: case QS_U16: case QS_U32: case QS_U64: case QS_TIME_MS: case QS_TIME_S:
			fprintf(o, "%" PRIu64, x->u);
			break;
		case QS_IPV4:
			fprintf(o, "%u.%u.%u.%u", (unsigned)(x->u >> 24) & 255, (unsigned)(x->u >> 16) & 255,
			        (unsigned)(x->u >> 8) & 255, (unsigned)x->u & 255);
			break;
		case QS_IPV6:
			fputs(inet_ntop(AF_INET6, x->p, buf, sizeof buf) ? buf : "::", o);
			break;
		case QS_MAC:
			fprintf(o, "%02x:%02x:%02x:%02x:%02x:%02x", x->p[0], x->p[1], x->p[2], x->p[3], x->p[4], x->p[5]);
			break;
		case QS_STR:
			ch_tsv_write_escaped(o, x->p, x->len);
			break;
		}
	}
	putc('\n', o);
}

/* ---- main ------------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fputs("usage: qoestor-ipfixgen --stream NAME (--tcp HOST:PORT | --udp HOST:PORT | --file PATH) [OPTIONS]\n"
	      "Export the VAS Experts DPI's IPFIX templates with generated records (tests, benchmarks).\n"
	      "\n"
	      "  --stream NAME        fullflow (IPv4 + IPv6 templates), clickstream (IPv4 + IPv6),\n"
	      "                       natflow or gtpflow\n"
	      "  --tcp HOST:PORT      export over TCP (templates first, as RFC 7011 says)\n"
	      "  --udp HOST:PORT      export over UDP (templates again every --template-every records)\n"
	      "  --file PATH          write an IPFIX file (a message stream; '-' is stdout)\n"
	      "  --records N          records to send (default 1000)\n"
	      "  --rate N             records per second (default 0: as fast as possible)\n"
	      "  --v6-percent P       share of IPv6 records for fullflow/clickstream (default 20)\n"
	      "  --long-strings N     strings of random length up to N bytes (0, 1, 254, 255, 256 included;\n"
	      "                       at most 7000 string bytes per record: libfixbuf's messages are ~8 KiB)\n"
	      "                       with tabs, newlines, quotes and UTF-8; default: realistic short strings\n"
	      "  --domain N           observation domain id (default 1)\n"
	      "  --seed N             random seed (default fixed: the same records every run)\n"
	      "  --template-every N   UDP: resend templates every N records (default 1000)\n"
	      "  --ie-file PATH       vendor elements (default dictionaries/vasexperts-ie.xml)\n"
	      "  --tsv PATH           write every record sent as a schema row, in the TSV of\n"
	      "                       `qoestor-spool cat --raw-time --no-header`\n"
	      "  --help               this text\n"
	      "\n"
	      "Prints, when done, one line per template and a total:\n"
	      "  template=fullflow-v4 records=N octets=SUM packets=SUM\n"
	      "  total records=N\n"
	      "exit status: 0 sent, 1 export error, 2 usage error.\n",
	      f);
}

static int split_hostport(const char *s, char *host, size_t hl, char *port, size_t pl)
{
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s)
		return -1;
	size_t n = (size_t)(colon - s);
	if (s[0] == '[' && colon[-1] == ']') {
		s++;
		n -= 2;
	}
	if (n >= hl || strlen(colon + 1) >= pl)
		return -1;
	memcpy(host, s, n);
	host[n] = 0;
	snprintf(port, pl, "%s", colon + 1);
	return 0;
}

int main(int argc, char **argv)
{
	const char *stream = NULL, *tcp = NULL, *udp = NULL, *file = NULL, *tsv = NULL;
	const char *ie_file = "dictionaries/vasexperts-ie.xml";
	uint64_t records = 1000, rate = 0, v6pct = 20, domain = 1, tmpl_every = 1000;
	static struct gen g;
	static const struct option lo[] = {
		{ "stream", 1, 0, 's' }, { "tcp", 1, 0, 't' }, { "udp", 1, 0, 'u' }, { "file", 1, 0, 'f' },
		{ "records", 1, 0, 'n' }, { "rate", 1, 0, 'r' }, { "v6-percent", 1, 0, '6' },
		{ "long-strings", 1, 0, 'L' }, { "domain", 1, 0, 'd' }, { "seed", 1, 0, 'S' },
		{ "template-every", 1, 0, 'T' }, { "ie-file", 1, 0, 'e' }, { "tsv", 1, 0, 'v' },
		{ "help", 0, 0, 'h' }, { 0, 0, 0, 0 },
	};
	int o;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 's': stream = optarg; break;
		case 't': tcp = optarg; break;
		case 'u': udp = optarg; break;
		case 'f': file = optarg; break;
		case 'n': records = strtoull(optarg, NULL, 10); break;
		case 'r': rate = strtoull(optarg, NULL, 10); break;
		case '6': v6pct = strtoull(optarg, NULL, 10); break;
		case 'L': g.long_max = strtoull(optarg, NULL, 10); break;
		case 'd': domain = strtoull(optarg, NULL, 10); break;
		case 'S': rng = strtoull(optarg, NULL, 10) * 2654435761u + 1; break;
		case 'T': tmpl_every = strtoull(optarg, NULL, 10); break;
		case 'e': ie_file = optarg; break;
		case 'v': tsv = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	const struct qs_stream_def *def = stream ? qs_stream_by_name(stream) : NULL;
	if (!def || (!!tcp + !!udp + !!file) != 1 || optind != argc || g.long_max > 65000 ||
	    def->id == QS_DNSFLOW) {
		usage(stderr);
		return 2;
	}
	g.now_ms = (uint64_t)time(NULL) * 1000;

	GError *err = NULL;
	fbInfoModel_t *im = fbInfoModelAlloc();
	if (!fbInfoModelReadXMLFile(im, ie_file, &err)) {
		fprintf(stderr, "qoestor-ipfixgen: %s: %s\n", ie_file, err->message);
		return 2;
	}
	fbSession_t *sess = fbSessionAlloc(im);
	fbSessionSetDomain(sess, (uint32_t)domain); /* templates belong to the domain */
	const struct tmpl *use[2];
	uint16_t tids[2];
	size_t nuse = 0;
	for (size_t i = 0; i < NTMPL; i++) {
		if (tmpls[i].stream != def->id)
			continue;
		fbTemplate_t *t = fbTemplateAlloc(im);
		for (size_t k = 0; k < tmpls[i].n; k++) {
			fbInfoElement_t x;
			memset(&x, 0, sizeof x);
			x.ent = tmpls[i].f[k].ent;
			x.num = tmpls[i].f[k].num;
			x.len = tmpls[i].f[k].len;
			if (!fbTemplateAppend(t, &x, &err)) {
				fprintf(stderr, "qoestor-ipfixgen: template %s: %s\n", tmpls[i].name, err->message);
				return 2;
			}
		}
		tids[nuse] = (uint16_t)(256 + nuse);
		if (!fbSessionAddTemplate(sess, TRUE, tids[nuse], t, &err) ||
		    !fbSessionAddTemplate(sess, FALSE, tids[nuse], t, &err)) {
			fprintf(stderr, "qoestor-ipfixgen: %s\n", err->message);
			return 2;
		}
		use[nuse++] = &tmpls[i];
	}

	fbExporter_t *ex;
	char host[256], port[32];
	if (file) {
		ex = fbExporterAllocFile(file);
	} else {
		if (split_hostport(tcp ? tcp : udp, host, sizeof host, port, sizeof port)) {
			usage(stderr);
			return 2;
		}
		fbConnSpec_t spec;
		memset(&spec, 0, sizeof spec);
		spec.transport = tcp ? FB_TCP : FB_UDP;
		spec.host = host;
		spec.svc = port;
		ex = fbExporterAllocNet(&spec);
	}
	fBuf_t *fb = fBufAllocForExport(sess, ex);
	if (!fbSessionExportTemplates(sess, &err)) {
		fprintf(stderr, "qoestor-ipfixgen: exporting templates: %s\n", err->message);
		return 1;
	}
	FILE *tf = NULL;
	if (tsv && !(tf = fopen(tsv, "w"))) {
		fprintf(stderr, "qoestor-ipfixgen: %s: %s\n", tsv, strerror(errno));
		return 1;
	}

	uint64_t sent[2] = { 0 }, octs[2] = { 0 }, pkts[2] = { 0 };
	static uint8_t rec[1 << 17];
	static struct cell cells[QS_MAX_COLS];
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t i = 0; i < records; i++) {
		size_t which = nuse > 1 && rnd_below(100) < v6pct ? 1 : 0;
		const struct tmpl *t = use[which];
		size_t off = 0;
		uint64_t octets = 0;
		memset(cells, 0, sizeof(cells[0]) * def->ncols);
		g.nstr = 0;
		g.budget = 7000; /* libfixbuf's exporter writes messages of about 8 KiB at most */
		gen_pick(&g);
		for (size_t k = 0; k < t->n; k++) {
			const struct fld *f = &t->f[k];
			const fbInfoElement_t *ie = fbInfoModelGetElementByID(im, f->num, f->ent);
			int col = find_col(def, f->ent, f->num, f->len);
			struct cell *c = col >= 0 ? &cells[col] : NULL;
			if (f->len == VARLEN) {
				fbVarfield_t vf;
				uint8_t *p;
				vf.len = gen_string(&g, f->num, &p);
				vf.buf = p;
				memcpy(rec + off, &vf, sizeof vf);
				off += sizeof vf;
				if (c)
					*c = (struct cell){ 1, 0, p, vf.len };
			} else if (f->len == 16 || (f->ent == VAS && (f->num == 1003 || f->num == 1004))) {
				uint8_t *p = rec + off;
				/* Sources are the subscriber, destinations the host. */
				int is_src = f->num == 27 || f->num == 1003;
				uint32_t who = is_src ? g.sub : 0x10000u + g.host;
				if (f->len == 16) {
					p[0] = 0x20; p[1] = 0x01; p[2] = 0x0d; p[3] = 0xb8;
					for (int b = 4; b < 12; b++)
						p[b] = (uint8_t)(is_src ? 0x11 * b : 0x22);
					p[12] = (uint8_t)(who >> 24); p[13] = (uint8_t)(who >> 16);
					p[14] = (uint8_t)(who >> 8); p[15] = (uint8_t)who;
				} else {
					uint32_t a = is_src ? 0x0a000000u + g.sub : 0x5db8d800u + g.host;
					uint32_t be = htonl(a);
					memcpy(p, &be, 4);
					if (c)
						*c = (struct cell){ 1, a, NULL, 0 };
				}
				if (c && f->len == 16)
					*c = (struct cell){ 1, 0, p, 16 };
				off += f->len;
			} else {
				uint64_t v = gen_uint(&g, f->ent, f->num, &octets);
				if (f->num == 153 && f->ent == 0)
					v = cells[find_col(def, 0, 152, 8)].u + rnd_below(300000);
				if (f->num == 60 && f->ent == 0)
					v = t->v6 ? 6 : 4;
				if (f->len < 8)
					v &= (1ull << (8 * f->len)) - 1;
				int endian = ie && (ie->flags & FB_IE_F_ENDIAN);
				if (endian) {
					uint8_t u8 = (uint8_t)v;
					uint16_t u16 = (uint16_t)v;
					uint32_t u32 = (uint32_t)v;
					switch (f->len) {
					case 1: memcpy(rec + off, &u8, 1); break;
					case 2: memcpy(rec + off, &u16, 2); break;
					case 4: memcpy(rec + off, &u32, 4); break;
					default: memcpy(rec + off, &v, 8); break;
					}
				} else {
					for (unsigned b = 0; b < f->len; b++)
						rec[off + b] = (uint8_t)(v >> (8 * (f->len - 1 - b)));
				}
				off += f->len;
				if (c)
					*c = (struct cell){ 1, v, NULL, 0 };
				if (f->ent == 0 && f->num == 2)
					pkts[which] += v;
			}
		}
		octs[which] += octets;
		int ok = fBufSetInternalTemplate(fb, tids[which], &err) && fBufSetExportTemplate(fb, tids[which], &err);
		if (ok && !fBufAppend(fb, rec, off, &err) && g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOM)) {
			/* libfixbuf 2.4 does not start a new message for a varlen record
			 * that overruns the current one: emit, then append again. */
			g_clear_error(&err);
			ok = fBufEmit(fb, &err) && fBufAppend(fb, rec, off, &err);
		} else if (ok && err) {
			ok = 0;
		}
		if (!ok) {
			fprintf(stderr, "qoestor-ipfixgen: after %" PRIu64 " records: %s\n", i, err->message);
			return 1;
		}
		sent[which]++;
		if (tf)
			tsv_row(tf, def, cells);
		if (udp && tmpl_every && (i + 1) % tmpl_every == 0 && !fbSessionExportTemplates(sess, &err)) {
			fprintf(stderr, "qoestor-ipfixgen: resending templates: %s\n", err->message);
			return 1;
		}
		if (rate && (i + 1) % (rate / 100 + 1) == 0) {
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			double due = (double)(i + 1) / (double)rate;
			double el = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
			if (due > el) {
				struct timespec d = { (time_t)(due - el), (long)((due - el - (double)(time_t)(due - el)) * 1e9) };
				nanosleep(&d, NULL);
			}
		}
	}
	if (!fBufEmit(fb, &err)) {
		fprintf(stderr, "qoestor-ipfixgen: %s\n", err->message);
		return 1;
	}
	fBufFree(fb); /* closes the connection or file */
	if (tf && fclose(tf)) {
		fprintf(stderr, "qoestor-ipfixgen: %s: %s\n", tsv, strerror(errno));
		return 1;
	}
	uint64_t total = 0;
	for (size_t i = 0; i < nuse; i++) {
		printf("template=%s records=%" PRIu64 " octets=%" PRIu64 " packets=%" PRIu64 "\n", use[i]->name,
		       sent[i], octs[i], pkts[i]);
		total += sent[i];
	}
	printf("total records=%" PRIu64 "\n", total);
	fbInfoModelFree(im);
	return 0;
}

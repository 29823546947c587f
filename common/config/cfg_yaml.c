/* cfg_yaml.c: qoestor.yaml's document walked against the key table (see cfg_yaml.h). */
#include "config/cfg_yaml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct walk {
	yaml_document_t *doc;
	struct qs_config *c;
	struct cfg_errs *e;
};

#define LINE(n) ((unsigned)(n)->start_mark.line + 1)
#define COL(n) ((unsigned)(n)->start_mark.column + 1)

/* Edit distance of two short names, capped (for "did you mean"). */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];
	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0]++;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t sub = prev + (a[i - 1] != b[j - 1]);
			size_t del = row[j] + 1, ins = row[j - 1] + 1;
			row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
			prev = cur;
		}
	}
	return row[lb];
}

static void unknown_key(struct walk *w, const struct cfg_section *s, const char *path, const char *key,
			yaml_node_t *kn)
{
	const char *best = NULL;
	size_t bd = 3;
	char known[512] = "";
	for (size_t i = 0; i < s->nkeys; i++) {
		size_t d = distance(key, s->keys[i].name);
		if (d < bd) {
			bd = d;
			best = s->keys[i].name;
		}
		size_t u = strlen(known);
		snprintf(known + u, sizeof known - u, "%s%s", u ? ", " : "", s->keys[i].name);
	}
	if (best)
		cfg_err(w->e, LINE(kn), COL(kn), "unknown key '%s%s%.80s'; did you mean '%s'?", path, *path ? "." : "",
			key, best);
	else
		cfg_err(w->e, LINE(kn), COL(kn), "unknown key '%s%s%.80s'; %s%s takes: %s", path, *path ? "." : "", key,
			*path ? path : "the top level", *path ? "" : "", known);
}

static int is_null(const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	const char *v = (const char *)n->data.scalar.value;
	return !*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
	       strcmp(v, "NULL") == 0;
}

static const char *node_kind(const yaml_node_t *n)
{
	return n->type == YAML_MAPPING_NODE ? "a mapping" : n->type == YAML_SEQUENCE_NODE ? "a list" : "a value";
}

static void walk_section(struct walk *w, const struct cfg_section *s, void *base, yaml_node_t *n, const char *path);

/* One scalar (or a list for CT_URLS/CT_EXPORTS) into key k. */
static void walk_value(struct walk *w, const struct cfg_key *k, char *base, yaml_node_t *v, const char *path)
{
	char err[512];
	if (k->type == CT_URLS || k->type == CT_EXPORTS) {
		cfg_clear_list(k, base);
		if (v->type == YAML_SEQUENCE_NODE) {
			for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
				yaml_node_t *x = yaml_document_get_node(w->doc, *it);
				if (!x || x->type != YAML_SCALAR_NODE) {
					cfg_err(w->e, x ? LINE(x) : LINE(v), x ? COL(x) : COL(v),
						"%s: list items must be values, not %s", path, x ? node_kind(x) : "nothing");
					continue;
				}
				if (cfg_set(k, base, (const char *)x->data.scalar.value, err, sizeof err))
					cfg_err(w->e, LINE(x), COL(x), "%s: %s", path, err);
			}
		} else if (v->type == YAML_SCALAR_NODE) {
			if (!is_null(v) && cfg_set(k, base, (const char *)v->data.scalar.value, err, sizeof err))
				cfg_err(w->e, LINE(v), COL(v), "%s: %s", path, err);
		} else {
			cfg_err(w->e, LINE(v), COL(v), "%s: expected a list, got a mapping", path);
		}
		cfg_mark(w->c, base + k->off, LINE(v), COL(v));
		return;
	}
	if (v->type != YAML_SCALAR_NODE) {
		char d[96];
		cfg_describe(k, d, sizeof d);
		cfg_err(w->e, LINE(v), COL(v), "%s: expected %s, got %s", path, d, node_kind(v));
		return;
	}
	const char *text = (const char *)v->data.scalar.value;
	if (strlen(text) != v->data.scalar.length) {
		cfg_err(w->e, LINE(v), COL(v), "%s: the value contains a NUL character", path);
		return;
	}
	if (is_null(v)) {
		if (k->type == CT_STR || k->type == CT_PATH || k->type == CT_HOSTPORT || k->type == CT_ADDR) {
			text = "";
		} else {
			char d[96];
			cfg_describe(k, d, sizeof d);
			cfg_err(w->e, LINE(v), COL(v), "%s: needs a value (%s)", path, d);
			return;
		}
	}
	if (cfg_set(k, base, text, err, sizeof err))
		cfg_err(w->e, LINE(v), COL(v), "%s: %s", path, err);
	else
		cfg_mark(w->c, base + k->off, LINE(v), COL(v));
}

/* receivers: a list of DPI mappings. */
static void walk_list(struct walk *w, const struct cfg_key *k, char *base, yaml_node_t *v, const char *path)
{
	unsigned *count = (unsigned *)(base + k->count_off);
	*count = 0;
	if (is_null(v))
		return;
	if (v->type != YAML_SEQUENCE_NODE) {
		cfg_err(w->e, LINE(v), COL(v), "%s: expected a list (lines starting with '- '), got %s", path,
			node_kind(v));
		return;
	}
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *x = yaml_document_get_node(w->doc, *it);
		char p[192];
		snprintf(p, sizeof p, "%.160s[%u]", path, *count);
		if (!x)
			continue;
		if (*count >= k->max) {
			cfg_err(w->e, LINE(x), COL(x), "%s: more than %llu entries", path, k->max);
			return;
		}
		char *entry = base + k->off + (size_t)*count * k->sub->size;
		memset(entry, 0, k->sub->size);
		cfg_defaults(k->sub, entry);
		(*count)++;
		walk_section(w, k->sub, entry, x, p);
	}
}

static void walk_section(struct walk *w, const struct cfg_section *s, void *basev, yaml_node_t *n, const char *path)
{
	char *base = basev;
	struct qs_cfg_loc *loc = (struct qs_cfg_loc *)base;
	if (s != &cfg_root) {
		loc->present = 1;
		loc->line = LINE(n);
		loc->col = COL(n);
	}
	if (is_null(n))
		return; /* "natflow:" alone: present, every key at its default */
	if (n->type != YAML_MAPPING_NODE) {
		cfg_err(w->e, LINE(n), COL(n), "%s: expected a mapping (key: value lines), got %s",
			*path ? path : "the file", node_kind(n));
		return;
	}
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *kn = yaml_document_get_node(w->doc, pr->key);
		yaml_node_t *vn = yaml_document_get_node(w->doc, pr->value);
		if (!kn || !vn)
			continue;
		if (kn->type != YAML_SCALAR_NODE) {
			cfg_err(w->e, LINE(kn), COL(kn), "%s: a key must be a plain name, not %s", *path ? path : "top level",
				node_kind(kn));
			continue;
		}
		const char *name = (const char *)kn->data.scalar.value;
		int dup = 0;
		for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < pr && !dup; q++) {
			yaml_node_t *qk = yaml_document_get_node(w->doc, q->key);
			if (qk && qk->type == YAML_SCALAR_NODE && strcmp((const char *)qk->data.scalar.value, name) == 0) {
				cfg_err(w->e, LINE(kn), COL(kn), "key '%s%s%.80s' given twice (first on line %u)", path,
					*path ? "." : "", name, LINE(qk));
				dup = 1;
			}
		}
		if (dup)
			continue;
		const struct cfg_key *k = cfg_find(s, name);
		if (!k) {
			unknown_key(w, s, path, name, kn);
			continue;
		}
		char p[192];
		snprintf(p, sizeof p, "%.120s%s%s", path, *path ? "." : "", k->name);
		if (k->type == CT_SECTION) {
			memset(base + k->off, 0, k->sub->size);
			cfg_defaults(k->sub, base + k->off);
			walk_section(w, k->sub, base + k->off, vn, p);
		} else if (k->type == CT_LIST) {
			walk_list(w, k, base, vn, p);
		} else {
			walk_value(w, k, base, vn, p);
		}
	}
}

int cfg_yaml_parse(const char *buf, size_t len, struct qs_config *c, struct cfg_errs *e)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	if (!yaml_parser_initialize(&parser)) {
		cfg_err(e, 0, 0, "out of memory (YAML parser)");
		return e->n;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		const yaml_mark_t *m = parser.problem ? &parser.problem_mark : &parser.context_mark;
		cfg_err(e, (unsigned)m->line + 1, (unsigned)m->column + 1, "YAML syntax: %s%s%s",
			parser.problem ? parser.problem : "unreadable document", parser.context ? " " : "",
			parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return e->n;
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root) {
		struct walk w = { &doc, c, e };
		if (root->type != YAML_MAPPING_NODE && !is_null(root))
			cfg_err(e, LINE(root), COL(root), "the file must be a mapping of sections (receivers:, loader:, ...), "
				"not %s", node_kind(root));
		else
			walk_section(&w, &cfg_root, c, root, "");
		/* A second document ("---") would be silently ignored: say so instead. */
		yaml_document_t doc2;
		if (yaml_parser_load(&parser, &doc2)) {
			yaml_node_t *r2 = yaml_document_get_root_node(&doc2);
			if (r2)
				cfg_err(e, LINE(r2), COL(r2), "a second YAML document: qoestor.yaml holds one (remove '---')");
			yaml_document_delete(&doc2);
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return e->n;
}

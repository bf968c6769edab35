/* positions.c - JSON path -> line:col table, built only on request
 * (oci_parse_opts.keep_positions) so that normal parses pay nothing.
 * All paths live in one buffer; entries are sorted for binary search. */
#include "oci-internal.h"

#include <string.h>

typedef struct {
	const char *path;
	unsigned line, col;
} pos_entry;

struct oci_positions {
	pos_entry *e;
	size_t len;
	char *text;
};

typedef struct {
	oci_buf text;    /* NUL-separated paths */
	oci_buf path;    /* path of the node being visited */
	pos_entry *e;    /* .path holds an offset into text until finished */
	size_t len, cap;
} builder;

static void visit(builder *b, const oci_json *j)
{
	size_t i, mark = b->path.len;

	oci_xgrow(&b->e, &b->cap, b->len + 1, sizeof(*b->e));
	b->e[b->len++] = (pos_entry){ (const char *)(uintptr_t)b->text.len, j->line, j->col };
	oci_buf_add(&b->text, oci_buf_str(&b->path), b->path.len + 1);
	for (i = 0; i < j->len && j->items; i++) {
		if (j->type == OCI_JSON_OBJECT)
			oci_path_key(&b->path, j->keys[i]);
		else
			oci_path_index(&b->path, i);
		visit(b, j->items[i]);
		oci_buf_truncate(&b->path, mark);
	}
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const pos_entry *)a)->path, ((const pos_entry *)b)->path);
}

struct oci_positions *oci_positions_build(const oci_json *doc)
{
	builder b = { 0 };
	struct oci_positions *p = oci_xcalloc(1, sizeof(*p));
	size_t i;

	visit(&b, doc);
	for (i = 0; i < b.len; i++)
		b.e[i].path = b.text.buf + (uintptr_t)b.e[i].path;
	qsort(b.e, b.len, sizeof(*b.e), cmp_entry);
	p->e = b.e;
	p->len = b.len;
	p->text = b.text.buf;
	oci_buf_free(&b.path);
	return p;
}

void oci_positions_free(struct oci_positions *p)
{
	if (!p)
		return;
	free(p->e);
	free(p->text);
	free(p);
}

bool oci_positions_lookup(const struct oci_positions *p, const char *path, unsigned *line,
			  unsigned *col)
{
	pos_entry key = { .path = path }, *hit;

	if (!p || !path)
		return false;
	hit = bsearch(&key, p->e, p->len, sizeof(*p->e), cmp_entry);
	if (!hit)
		return false;
	if (line)
		*line = hit->line;
	if (col)
		*col = hit->col;
	return true;
}

/* positions.c - JSON path -> line:col, built only on request
 * (oci_parse_opts.keep_positions) so that normal parses pay nothing.
 *
 * The table is a skeleton of the document (positions and member names, no
 * values): memory stays linear in the number of values however deep the
 * nesting, and a lookup walks the path one segment at a time. */
#include "oci-internal.h"

#include <string.h>

typedef struct pos_node {
	unsigned line, col;
	size_t len;              /* members / elements */
	char **keys;             /* member names; NULL for arrays and scalars */
	struct pos_node *items;  /* children, contiguous */
} pos_node;

struct oci_positions {
	pos_node root;
};

static void build(pos_node *n, const oci_json *j)
{
	size_t i;

	n->line = j->line;
	n->col = j->col;
	if (j->type != OCI_JSON_OBJECT && j->type != OCI_JSON_ARRAY)
		return;
	n->len = j->len;
	n->items = oci_xcalloc(j->len, sizeof(*n->items));
	if (j->type == OCI_JSON_OBJECT)
		n->keys = oci_xcalloc(j->len, sizeof(*n->keys));
	for (i = 0; i < j->len; i++) {
		if (n->keys)
			n->keys[i] = oci_xstrdup(j->keys[i]);
		build(&n->items[i], j->items[i]);
	}
}

static void release(pos_node *n)
{
	size_t i;

	for (i = 0; i < n->len; i++) {
		if (n->keys)
			free(n->keys[i]);
		release(&n->items[i]);
	}
	free(n->keys);
	free(n->items);
}

struct oci_positions *oci_positions_build(const oci_json *doc)
{
	struct oci_positions *p = oci_xcalloc(1, sizeof(*p));

	build(&p->root, doc);
	return p;
}

void oci_positions_free(struct oci_positions *p)
{
	if (!p)
		return;
	release(&p->root);
	free(p);
}

static const pos_node *member(const pos_node *n, const char *key, size_t len)
{
	size_t i;

	for (i = 0; n->keys && i < n->len; i++)
		if (strlen(n->keys[i]) == len && !memcmp(n->keys[i], key, len))
			return &n->items[i];
	return NULL;
}

/* ["key"] with \" and \\ escapes, as oci_path_key writes it; *s is past
 * the opening quote and ends past the closing bracket. */
static const pos_node *quoted_member(const pos_node *n, const char **s)
{
	oci_buf key = { 0 };
	const pos_node *hit = NULL;
	const char *p = *s;

	for (; *p && *p != '"'; p++) {
		if (*p == '\\' && p[1])
			p++;
		oci_buf_putc(&key, *p);
	}
	if (p[0] == '"' && p[1] == ']') {
		hit = member(n, oci_buf_str(&key), key.len);
		*s = p + 2;
	}
	oci_buf_free(&key);
	return hit;
}

static const pos_node *element(const pos_node *n, const char **s)
{
	const char *p = *s;
	size_t i = 0;

	if (n->keys || *p < '0' || *p > '9')
		return NULL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (i > (SIZE_MAX - 9) / 10)
			return NULL;
		i = i * 10 + (size_t)(*p - '0');
	}
	if (*p != ']' || i >= n->len)
		return NULL;
	*s = p + 1;
	return &n->items[i];
}

/* One path segment: name (first), .name, [index] or ["key"]. */
static const pos_node *step(const pos_node *n, const char **s, bool first)
{
	size_t len;

	if (**s == '[') {
		++*s;
		if (**s == '"') {
			++*s;
			return quoted_member(n, s);
		}
		return element(n, s);
	}
	if (**s == '.' && !first)
		++*s;
	else if (!first)
		return NULL;
	len = strcspn(*s, ".[");
	if (!len)
		return NULL;
	*s += len;
	return member(n, *s - len, len);
}

bool oci_positions_lookup(const struct oci_positions *p, const char *path, unsigned *line,
			  unsigned *col)
{
	const pos_node *n;
	const char *s = path;

	if (!p || !path)
		return false;
	for (n = &p->root; n && *s;)
		n = step(n, &s, s == path);
	if (!n)
		return false;
	if (line)
		*line = n->line;
	if (col)
		*col = n->col;
	return true;
}

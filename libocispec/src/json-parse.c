/* json-parse.c - builds the DOM with yajl's callback parser.
 *
 * yajl's tree API drops positions, so the callbacks record where each value
 * starts: yajl_get_bytes_consumed() is the end of the current token, and the
 * start is found from it (backwards scan for strings). A forward-only cursor
 * turns offsets into line:col, keeping the whole pass linear.
 *
 * Problems that leave the document well-formed (invalid UTF-8, NUL in a
 * string, duplicate keys) are reported and parsing goes on, so one run can
 * list every error; only syntax errors stop it. */
#include "oci-internal.h"

#include <string.h>
#include <yajl/yajl_parse.h>

#define MAX_DEPTH 256

typedef struct {
	const char *buf;
	size_t len;
	yajl_handle h;
	const char *file;
	oci_diags *diags;
	oci_json *root;
	oci_json **stack;
	size_t depth, cap;
	char *key;              /* member name waiting for its value */
	size_t cur_off;         /* line:col cursor */
	unsigned cur_line, cur_col;
	bool bad;               /* a non-syntax error was reported */
} pctx;

static void locate(pctx *c, size_t off, unsigned *line, unsigned *col)
{
	if (off > c->len)
		off = c->len;
	if (off < c->cur_off) {
		c->cur_off = 0;
		c->cur_line = c->cur_col = 1;
	}
	for (; c->cur_off < off; c->cur_off++) {
		unsigned char ch = (unsigned char)c->buf[c->cur_off];
		if (ch == '\n') {
			c->cur_line++;
			c->cur_col = 1;
		} else if ((ch & 0xc0) != 0x80) {
			/* columns count characters, not UTF-8 continuation bytes */
			c->cur_col++;
		}
	}
	*line = c->cur_line;
	*col = c->cur_col;
}

static size_t token_end(pctx *c)
{
	return yajl_get_bytes_consumed(c->h);
}

/* Start of the string token ending at end (just past its closing quote). */
static size_t string_start(pctx *c, size_t end)
{
	size_t i = end >= 2 ? end - 2 : 0;

	for (; i > 0; i--) {
		size_t bs = 0;
		if (c->buf[i] != '"')
			continue;
		while (bs < i && c->buf[i - 1 - bs] == '\\')
			bs++;
		if (bs % 2 == 0)
			break;
	}
	return i;
}

/* Path of the container on top of the stack, plus the pending member. */
static void stack_path(pctx *c, oci_buf *out, bool pending)
{
	size_t i;

	for (i = 0; i < c->depth; i++) {
		oci_json *p = c->stack[i];
		bool top = i + 1 == c->depth;
		if (top && !pending)
			break;
		if (p->type == OCI_JSON_OBJECT) {
			const char *k = top ? c->key : p->keys[p->len - 1];
			if (k)
				oci_path_key(out, k);
		} else {
			oci_path_index(out, top ? p->len : p->len - 1);
		}
	}
}

static void report(pctx *c, unsigned line, unsigned col, bool pending, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void report(pctx *c, unsigned line, unsigned col, bool pending, const char *fmt, ...)
{
	oci_buf path = { 0 };
	va_list ap;

	stack_path(c, &path, pending);
	va_start(ap, fmt);
	oci_diags_addv(c->diags, OCI_DIAG_ERROR, c->file, line, col, oci_buf_str(&path), fmt, ap);
	va_end(ap);
	oci_buf_free(&path);
	c->bad = true;
}

static int add_value(pctx *c, oci_json *v)
{
	oci_json *parent;

	if (!c->depth) {
		c->root = v;
		return 1;
	}
	parent = c->stack[c->depth - 1];
	oci_json_append(parent, parent->type == OCI_JSON_OBJECT ? c->key : NULL, v);
	c->key = NULL;
	return 1;
}

static oci_json *node_at(pctx *c, int type, size_t start)
{
	unsigned line, col;

	locate(c, start, &line, &col);
	return oci_json_new(type, line, col);
}

static int on_null(void *ctx)
{
	pctx *c = ctx;
	return add_value(c, node_at(c, OCI_JSON_NULL, token_end(c) - 4));
}

static int on_bool(void *ctx, int b)
{
	pctx *c = ctx;
	oci_json *j = node_at(c, OCI_JSON_BOOL, token_end(c) - (b ? 4 : 5));
	j->boolean = b != 0;
	return add_value(c, j);
}

static int on_number(void *ctx, const char *s, size_t l)
{
	pctx *c = ctx;
	oci_json *j = node_at(c, OCI_JSON_NUMBER, token_end(c) - l);
	j->str = oci_xstrndup(s, l);
	j->len = l;
	return add_value(c, j);
}

/* Checks a decoded string; what names it in messages. */
static void check_text(pctx *c, const char *s, size_t l, unsigned line, unsigned col,
		       bool is_key)
{
	const char *what = is_key ? "member name" : "string";

	if (oci_utf8_check(s, l) != l)
		report(c, line, col, !is_key, "invalid UTF-8 in %s", what);
	else if (memchr(s, '\0', l))
		report(c, line, col, !is_key, "%s contains a NUL character", what);
}

static int on_string(void *ctx, const unsigned char *s, size_t l)
{
	pctx *c = ctx;
	oci_json *j = node_at(c, OCI_JSON_STRING, string_start(c, token_end(c)));

	check_text(c, (const char *)s, l, j->line, j->col, false);
	j->str = oci_xstrndup((const char *)s, l);
	j->len = l;
	return add_value(c, j);
}

static int on_key(void *ctx, const unsigned char *s, size_t l)
{
	pctx *c = ctx;
	unsigned line, col;

	locate(c, string_start(c, token_end(c)), &line, &col);
	check_text(c, (const char *)s, l, line, col, true);
	free(c->key);
	c->key = oci_xstrndup((const char *)s, l);
	return 1;
}

static int open_container(pctx *c, int type)
{
	oci_json *j;

	if (c->depth >= MAX_DEPTH) {
		unsigned line, col;
		locate(c, token_end(c) - 1, &line, &col);
		report(c, line, col, true, "nesting deeper than %d levels", MAX_DEPTH);
		return 0;
	}
	j = node_at(c, type, token_end(c) - 1);
	add_value(c, j);
	oci_xgrow(&c->stack, &c->cap, c->depth + 1, sizeof(*c->stack));
	c->stack[c->depth++] = j;
	return 1;
}

static int on_start_map(void *ctx)
{
	return open_container(ctx, OCI_JSON_OBJECT);
}

static int on_start_array(void *ctx)
{
	return open_container(ctx, OCI_JSON_ARRAY);
}

typedef struct {
	const char *key;
	size_t idx;
} member_ref;

static int cmp_member(const void *a, const void *b)
{
	const member_ref *x = a, *y = b;
	int r = strcmp(x->key, y->key);
	return r ? r : (x->idx > y->idx) - (x->idx < y->idx);
}

/* Marks dup[i] for every member whose name appeared earlier. Sorting keeps
 * big maps (sysctl, annotations) from going quadratic. */
static bool find_duplicates(oci_json *o, bool *dup)
{
	size_t n = o->len, i, j;
	bool any = false;

	if (n <= 16) {
		for (j = 1; j < n; j++)
			for (i = 0; i < j && !dup[j]; i++)
				if (!strcmp(o->keys[i], o->keys[j]))
					dup[j] = any = true;
		return any;
	}
	member_ref *refs _oci_cleanup_free_ = oci_xmalloc(n * sizeof(*refs));
	for (i = 0; i < n; i++)
		refs[i] = (member_ref){ o->keys[i], i };
	qsort(refs, n, sizeof(*refs), cmp_member);
	for (i = 1; i < n; i++)
		if (!strcmp(refs[i - 1].key, refs[i].key))
			dup[refs[i].idx] = any = true;
	return any;
}

static void drop_duplicates(pctx *c, oci_json *o)
{
	bool *dup _oci_cleanup_free_ = oci_xcalloc(o->len, sizeof(*dup));
	size_t i, out = 0;

	if (o->len < 2 || !find_duplicates(o, dup))
		return;
	for (i = 0; i < o->len; i++) {
		if (!dup[i]) {
			o->keys[out] = o->keys[i];
			o->items[out++] = o->items[i];
			continue;
		}
		report(c, o->items[i]->line, o->items[i]->col, false, "duplicate key \"%s\"",
		       o->keys[i]);
		free(o->keys[i]);
		oci_json_free(o->items[i]);
	}
	o->len = out;
}

static int on_end_map(void *ctx)
{
	pctx *c = ctx;

	drop_duplicates(c, c->stack[c->depth - 1]);
	c->depth--;
	return 1;
}

static int on_end_array(void *ctx)
{
	pctx *c = ctx;
	c->depth--;
	return 1;
}

static const yajl_callbacks callbacks = {
	.yajl_null = on_null,
	.yajl_boolean = on_bool,
	.yajl_number = on_number,
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_key,
	.yajl_end_map = on_end_map,
	.yajl_start_array = on_start_array,
	.yajl_end_array = on_end_array,
};

/* Turns yajl's "parse error: premature EOF\n" into our wording. */
static void report_syntax(pctx *c, size_t off, bool empty)
{
	unsigned char *raw = yajl_get_error(c->h, 0, NULL, 0);
	const char *msg = raw ? (const char *)raw : "";
	const char *colon = strstr(msg, ": ");
	unsigned line, col;
	size_t n;

	if (colon)
		msg = colon + 2;
	n = strcspn(msg, "\n");
	while (n && msg[n - 1] == '.')
		n--;
	locate(c, off, &line, &col);
	if (empty)
		oci_diags_add(c->diags, OCI_DIAG_ERROR, c->file, line, col, "", "empty document");
	else if (strstr(msg, "premature EOF"))
		oci_diags_add(c->diags, OCI_DIAG_ERROR, c->file, line, col, "",
			      "unexpected end of document");
	else
		oci_diags_add(c->diags, OCI_DIAG_ERROR, c->file, line, col, "",
			      "invalid JSON: %.*s", (int)n, msg);
	if (raw)
		yajl_free_error(c->h, raw);
}

/* yajl stops just past the token it rejected; point at that token. */
static size_t rejected_token(pctx *c, size_t end)
{
	size_t i;

	if (end == 0 || end > c->len)
		return end;
	if (c->buf[end - 1] == '"')
		return string_start(c, end);
	for (i = end; i > 0 && strchr("abcdefghijklmnopqrstuvwxyz0123456789.+-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
					c->buf[i - 1]) && c->buf[i - 1];
	     i--)
		;
	return i < end ? i : end - 1;
}

static bool run(pctx *c)
{
	yajl_status st;

	st = yajl_parse(c->h, (const unsigned char *)c->buf, c->len);
	if (st == yajl_status_ok) {
		st = yajl_complete_parse(c->h);
		if (st == yajl_status_error) {
			report_syntax(c, c->len, !c->root);
			return false;
		}
	} else if (st == yajl_status_error) {
		report_syntax(c, rejected_token(c, token_end(c)), false);
		return false;
	}
	/* client_canceled: the callback already said why */
	return st == yajl_status_ok;
}

oci_json *oci_json_parse(const char *buf, size_t len, const char *file, oci_diags *diags)
{
	pctx c = { .buf = buf, .len = len, .file = file, .diags = diags,
		   .cur_line = 1, .cur_col = 1 };
	bool ok;

	c.h = yajl_alloc(&callbacks, NULL, &c);
	if (!c.h)
		abort();
	/* strings are checked by check_text so that parsing can go on */
	yajl_config(c.h, yajl_dont_validate_strings, 1);
	ok = run(&c);
	yajl_free(c.h);
	free(c.stack);
	free(c.key);
	if (!ok) {
		oci_json_free(c.root);
		return NULL;
	}
	/* with c.bad the DOM is complete but flawed: the caller sees the errors
	 * in diags and keeps decoding to find more */
	return c.root;
}

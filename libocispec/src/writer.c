/* writer.c - JSON text output: the writer state machine and DOM values.
 * Pretty output uses two spaces, like `runc state`. */
#include "oci-internal.h"

#include <stdio.h>

static void newline(oci_writer *w)
{
	unsigned i;

	oci_buf_putc(&w->out, '\n');
	for (i = 0; i < w->depth; i++)
		oci_buf_add(&w->out, "  ", 2);
}

/* Separator before a value or key at the current level. */
static void before_item(oci_writer *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->need_comma)
		oci_buf_putc(&w->out, ',');
	if (w->pretty && w->depth)
		newline(w);
}

void oci_w_open(oci_writer *w, char c)
{
	before_item(w);
	oci_buf_putc(&w->out, c);
	w->depth++;
	w->need_comma = false;
}

void oci_w_close(oci_writer *w, char c)
{
	w->depth--;
	if (w->need_comma && w->pretty)
		newline(w);
	oci_buf_putc(&w->out, c);
	w->need_comma = true;
}

static void put_string(oci_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	oci_buf_putc(b, '"');
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		oci_buf_add(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': oci_buf_add(b, "\\\"", 2); break;
		case '\\': oci_buf_add(b, "\\\\", 2); break;
		case '\n': oci_buf_add(b, "\\n", 2); break;
		case '\t': oci_buf_add(b, "\\t", 2); break;
		case '\r': oci_buf_add(b, "\\r", 2); break;
		case '\b': oci_buf_add(b, "\\b", 2); break;
		case '\f': oci_buf_add(b, "\\f", 2); break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			oci_buf_add(b, u, sizeof(u));
		}
		}
	}
	oci_buf_add(b, s + run, len - run);
	oci_buf_putc(b, '"');
}

void oci_w_key(oci_writer *w, const char *key)
{
	size_t n = 0;

	before_item(w);
	while (key[n])
		n++;
	put_string(&w->out, key, n);
	oci_buf_add(&w->out, w->pretty ? ": " : ":", w->pretty ? 2 : 1);
	w->after_key = true;
}

void oci_w_string(oci_writer *w, const char *s, size_t len)
{
	before_item(w);
	put_string(&w->out, s, len);
	w->need_comma = true;
}

void oci_w_raw(oci_writer *w, const char *text)
{
	before_item(w);
	oci_buf_puts(&w->out, text);
	w->need_comma = true;
}

void oci_json_write(oci_writer *w, const oci_json *j)
{
	size_t i;

	switch (j->type) {
	case OCI_JSON_NULL:
		oci_w_raw(w, "null");
		break;
	case OCI_JSON_BOOL:
		oci_w_raw(w, j->boolean ? "true" : "false");
		break;
	case OCI_JSON_NUMBER:
		oci_w_raw(w, j->str);
		break;
	case OCI_JSON_STRING:
		oci_w_string(w, j->str, j->len);
		break;
	case OCI_JSON_ARRAY:
	case OCI_JSON_OBJECT:
		oci_w_open(w, j->type == OCI_JSON_ARRAY ? '[' : '{');
		for (i = 0; i < j->len; i++) {
			if (j->type == OCI_JSON_OBJECT)
				oci_w_key(w, j->keys[i]);
			oci_json_write(w, j->items[i]);
		}
		oci_w_close(w, j->type == OCI_JSON_ARRAY ? ']' : '}');
		break;
	}
}

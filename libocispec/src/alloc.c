/* alloc.c - aborting allocators and the growable string used everywhere. */
#include "oci-internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void oom(void)
{
	fputs("libocispec: out of memory\n", stderr);
	abort();
}

void *oci_xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *oci_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *oci_xrealloc(void *p, size_t size)
{
	p = realloc(p, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void oci_xgrow(void *items_p, size_t *cap, size_t need, size_t elem)
{
	void **items = items_p;
	size_t n;

	if (need <= *cap)
		return;
	n = *cap ? *cap : 4;
	while (n < need) {
		if (n > SIZE_MAX / 2 / elem)
			oom();
		n *= 2;
	}
	*items = oci_xrealloc(*items, n * elem);
	*cap = n;
}

char *oci_xstrndup(const char *s, size_t n)
{
	char *p = oci_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *oci_xstrdup(const char *s)
{
	return oci_xstrndup(s, strlen(s));
}

void oci_buf_add(oci_buf *b, const char *s, size_t n)
{
	oci_xgrow(&b->buf, &b->cap, b->len + n + 1, 1);
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

void oci_buf_puts(oci_buf *b, const char *s)
{
	oci_buf_add(b, s, strlen(s));
}

void oci_buf_putc(oci_buf *b, char c)
{
	oci_buf_add(b, &c, 1);
}

void oci_buf_printf(oci_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	oci_xgrow(&b->buf, &b->cap, b->len + (size_t)n + 1, 1);
	va_start(ap, fmt);
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void oci_buf_truncate(oci_buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->buf[len] = '\0';
	}
}

const char *oci_buf_str(oci_buf *b)
{
	return b->buf ? b->buf : "";
}

void oci_buf_free(oci_buf *b)
{
	free(b->buf);
	b->buf = NULL;
	b->len = b->cap = 0;
}

void oci_path_field(oci_buf *path, const char *name)
{
	if (path->len)
		oci_buf_putc(path, '.');
	oci_buf_puts(path, name);
}

void oci_path_index(oci_buf *path, size_t i)
{
	oci_buf_printf(path, "[%zu]", i);
}

static bool is_identifier(const char *s)
{
	if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return false;
	for (s++; *s; s++)
		if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

void oci_path_key(oci_buf *path, const char *key)
{
	if (is_identifier(key)) {
		oci_path_field(path, key);
		return;
	}
	oci_buf_puts(path, "[\"");
	for (; *key; key++) {
		if (*key == '"' || *key == '\\')
			oci_buf_putc(path, '\\');
		oci_buf_putc(path, *key);
	}
	oci_buf_puts(path, "\"]");
}

void oci_segs_push_key(oci_segs *p, const char *key)
{
	oci_xgrow(&p->segs, &p->cap, p->len + 1, sizeof(*p->segs));
	p->segs[p->len++] = (oci_seg){ key, 0 };
}

void oci_segs_push_index(oci_segs *p, size_t index)
{
	oci_xgrow(&p->segs, &p->cap, p->len + 1, sizeof(*p->segs));
	p->segs[p->len++] = (oci_seg){ NULL, index };
}

void oci_segs_render(const oci_segs *p, oci_buf *out)
{
	size_t i;

	for (i = 0; i < p->len; i++) {
		if (p->segs[i].key)
			oci_path_key(out, p->segs[i].key);
		else
			oci_path_index(out, p->segs[i].index);
	}
}

/* diag.c - collected diagnostics and their one-line format. */
#include "oci-internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void oci_diags_addv(oci_diags *diags, int severity, const char *file, unsigned line,
		    unsigned col, const char *path, const char *fmt, va_list ap)
{
	oci_buf msg = { 0 };
	oci_diag *d;
	va_list ap2;
	int n;

	/* A NULL sink means the caller only wants the verdict. */
	if (!diags)
		return;
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		n = 0;
	oci_xgrow(&msg.buf, &msg.cap, (size_t)n + 1, 1);
	vsnprintf(msg.buf, (size_t)n + 1, fmt, ap);

	oci_xgrow(&diags->items, &diags->cap, diags->len + 1, sizeof(*diags->items));
	d = &diags->items[diags->len++];
	d->file = file ? oci_xstrdup(file) : NULL;
	d->line = line;
	d->col = col;
	d->path = oci_xstrdup(path ? path : "");
	d->msg = msg.buf;
	d->severity = severity;
}

void oci_diags_add(oci_diags *diags, int severity, const char *file, unsigned line,
		   unsigned col, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	oci_diags_addv(diags, severity, file, line, col, path, fmt, ap);
	va_end(ap);
}

void oci_diags_free(oci_diags *diags)
{
	size_t i;

	if (!diags)
		return;
	for (i = 0; i < diags->len; i++) {
		free(diags->items[i].file);
		free(diags->items[i].path);
		free(diags->items[i].msg);
	}
	free(diags->items);
	diags->items = NULL;
	diags->len = diags->cap = 0;
}

size_t oci_diags_errors(const oci_diags *diags)
{
	size_t i, n = 0;

	for (i = 0; diags && i < diags->len; i++)
		n += diags->items[i].severity == OCI_DIAG_ERROR;
	return n;
}

char *oci_diag_format(const oci_diag *d)
{
	oci_buf b = { 0 };

	if (d->file && *d->file) {
		oci_buf_puts(&b, d->file);
		if (d->line)
			oci_buf_printf(&b, ":%u:%u", d->line, d->col);
		oci_buf_puts(&b, ": ");
	} else if (d->line) {
		oci_buf_printf(&b, "%u:%u: ", d->line, d->col);
	}
	if (d->path && *d->path)
		oci_buf_printf(&b, "%s: ", d->path);
	if (d->severity == OCI_DIAG_WARNING)
		oci_buf_puts(&b, "warning: ");
	else if (d->severity == OCI_DIAG_NOTE)
		oci_buf_puts(&b, "note: ");
	oci_buf_puts(&b, d->msg ? d->msg : "");
	return b.buf;
}

/* Unknown positions (line 0) go last: they are summaries such as the
 * error budget notice. */
static bool before(const oci_diag *a, const oci_diag *b)
{
	unsigned la = a->line ? a->line : ~0u, lb = b->line ? b->line : ~0u;

	return la < lb || (la == lb && a->col < b->col);
}

void oci_diags_sort_from(oci_diags *diags, size_t start)
{
	size_t n = diags && diags->len > start ? diags->len - start : 0;
	size_t width, lo, i, j, k, mid, hi;
	oci_diag *v, *tmp;

	if (n < 2)
		return;
	v = diags->items + start;
	/* bottom-up merge sort: stable, so equal positions keep the order in
	 * which they were found, and O(n log n) for hostile inputs */
	tmp = oci_xmalloc(n * sizeof(*tmp));
	for (width = 1; width < n; width *= 2) {
		for (lo = 0; lo < n; lo += 2 * width) {
			mid = lo + width < n ? lo + width : n;
			hi = lo + 2 * width < n ? lo + 2 * width : n;
			for (i = lo, j = mid, k = lo; k < hi; k++)
				tmp[k] = (j >= hi || (i < mid && !before(&v[j], &v[i]))) ? v[i++] : v[j++];
		}
		memcpy(v, tmp, n * sizeof(*tmp));
	}
	free(tmp);
}

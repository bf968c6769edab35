/* helpers.c - file loading, diagnostics and JSON comparison for tests. */
#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *read_data(const char *name, size_t *len)
{
	char path[4096];
	oci_buf b = { 0 };
	char chunk[4096];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", TEST_DATA_DIR, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		oci_buf_add(&b, chunk, n);
	fclose(f);
	if (len)
		*len = b.len;
	return b.buf;
}

char *diags_text(const oci_diags *d)
{
	oci_buf b = { 0 };
	size_t i;

	for (i = 0; i < d->len; i++) {
		char *s = oci_diag_format(&d->items[i]);
		if (i)
			oci_buf_putc(&b, '\n');
		oci_buf_puts(&b, s);
		free(s);
	}
	return b.buf ? b.buf : oci_xstrdup("");
}

void expect_config_errors(const char *doc, const char *want)
{
	oci_parse_opts opts = { .filename = "config.json" };
	oci_diags d = { 0 };
	oci_config *c = oci_config_parse_data(doc, strlen(doc), &opts, &d);
	char *got = diags_text(&d);

	if (c || strcmp(got, want))
		print_error("document: %s\nwant:\n%s\ngot:\n%s\n", doc, want, got);
	assert_null(c);
	assert_string_equal(got, want);
	free(got);
	oci_diags_free(&d);
}

static bool json_equal(const oci_json *a, const oci_json *b)
{
	size_t i, j;

	if (a->type != b->type || a->len != b->len)
		return false;
	switch (a->type) {
	case OCI_JSON_BOOL:
		return a->boolean == b->boolean;
	case OCI_JSON_NUMBER:
	case OCI_JSON_STRING:
		return !memcmp(a->str, b->str, a->len);
	case OCI_JSON_ARRAY:
		for (i = 0; i < a->len; i++)
			if (!json_equal(a->items[i], b->items[i]))
				return false;
		return true;
	case OCI_JSON_OBJECT:
		for (i = 0; i < a->len; i++) {
			for (j = 0; j < b->len; j++)
				if (!strcmp(a->keys[i], b->keys[j]))
					break;
			if (j == b->len || !json_equal(a->items[i], b->items[j])) {
				print_error("member \"%s\" differs\n", a->keys[i]);
				return false;
			}
		}
		return true;
	default:
		return true;
	}
}

void assert_same_json(const char *a, size_t alen, const char *b, size_t blen)
{
	oci_json *ja = oci_json_parse(a, alen, "a", NULL);
	oci_json *jb = oci_json_parse(b, blen, "b", NULL);

	assert_non_null(ja);
	assert_non_null(jb);
	assert_true(json_equal(ja, jb));
	oci_json_free(ja);
	oci_json_free(jb);
}

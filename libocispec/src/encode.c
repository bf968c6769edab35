/* encode.c - generated structs -> JSON text, driven by the oci_type tables.
 * Emission refuses to write what parsing would reject (invalid UTF-8, bad
 * enum values, missing required strings and objects), so a file we write
 * can always be read back. */
#include "oci-internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef struct {
	oci_writer w;
	oci_diags *diags;
	oci_segs path;
	bool failed;
} ectx;

static void encode_object(ectx *c, const oci_type *t, const char *obj);

static void err(ectx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void err(ectx *c, const char *fmt, ...)
{
	oci_buf path = { 0 };
	va_list ap;

	oci_segs_render(&c->path, &path);
	va_start(ap, fmt);
	oci_diags_addv(c->diags, OCI_DIAG_ERROR, NULL, 0, 0, oci_buf_str(&path), fmt, ap);
	va_end(ap);
	oci_buf_free(&path);
	c->failed = true;
}

static bool in_enum(const oci_enum *e, const char *s)
{
	const char *const *p;

	for (p = e->values; *p; p++)
		if (!strcmp(*p, s))
			return true;
	return false;
}

static void encode_string(ectx *c, const oci_field *f, const char *s)
{
	size_t len;

	if (!s) {
		err(c, "%s", "NULL string in an array");
		return;
	}
	len = strlen(s);
	if (oci_utf8_check(s, len) != len)
		err(c, "%s", "invalid UTF-8 in string");
	else if (f->values && !in_enum(f->values, s))
		err(c, "invalid value \"%s\"", s);
	oci_w_string(&c->w, s, len);
}

static void encode_int(ectx *c, int kind, const void *slot)
{
	char num[32];
	int64_t i;

	switch (kind) {
	case OCI_K_INT:
		i = *(const int *)slot;
		break;
	case OCI_K_INT32:
		i = *(const int32_t *)slot;
		break;
	case OCI_K_UINT16:
		i = *(const uint16_t *)slot;
		break;
	case OCI_K_UINT32:
	case OCI_K_ID:
		i = *(const uint32_t *)slot;
		break;
	case OCI_K_INT64:
		i = *(const int64_t *)slot;
		break;
	default:
		snprintf(num, sizeof(num), "%" PRIu64, *(const uint64_t *)slot);
		oci_w_raw(&c->w, num);
		return;
	}
	snprintf(num, sizeof(num), "%" PRId64, i);
	oci_w_raw(&c->w, num);
}

static void encode_value(ectx *c, const oci_field *f, const void *slot)
{
	switch (f->kind) {
	case OCI_K_STRING:
		encode_string(c, f, *(char *const *)slot);
		break;
	case OCI_K_BOOL:
		oci_w_raw(&c->w, *(const bool *)slot ? "true" : "false");
		break;
	case OCI_K_OBJECT:
		if (*(void *const *)slot)
			encode_object(c, f->sub, *(void *const *)slot);
		else {
			err(c, "%s", "NULL object in an array or map");
			oci_w_raw(&c->w, "null");
		}
		break;
	default:
		encode_int(c, f->kind, slot);
	}
}

static bool is_zero(const void *slot, size_t size)
{
	const unsigned char *p = slot;
	size_t i;

	for (i = 0; i < size; i++)
		if (p[i])
			return false;
	return true;
}

/* Absent optional scalars are skipped. A non-zero value counts as present
 * even without <name>_present, so that code filling a struct by hand cannot
 * silently lose a value by forgetting the flag. */
static bool scalar_present(const oci_field *f, const char *obj)
{
	if (f->kind == OCI_K_STRING || f->kind == OCI_K_OBJECT)
		return *(void *const *)(obj + f->off) != NULL;
	if (!f->aux)
		return true;
	return *(const bool *)(obj + f->aux) || !is_zero(obj + f->off, oci_kind_size(f->kind));
}

static void encode_array(ectx *c, const oci_field *f, const char *items, size_t n)
{
	size_t es = oci_kind_size(f->kind), i;

	oci_w_open(&c->w, '[');
	for (i = 0; i < n; i++) {
		oci_segs_push_index(&c->path, i);
		encode_value(c, f, items + i * es);
		oci_segs_pop(&c->path);
	}
	oci_w_close(&c->w, ']');
}

static void encode_map(ectx *c, const oci_field *f, const oci_any_map *m)
{
	size_t i;

	oci_w_open(&c->w, '{');
	for (i = 0; i < m->len; i++) {
		const char *k = m->keys[i] ? m->keys[i] : "";
		oci_segs_push_key(&c->path, k);
		if (oci_utf8_check(k, strlen(k)) != strlen(k))
			err(c, "%s", "invalid UTF-8 in map key");
		oci_w_key(&c->w, k);
		encode_value(c, f, &m->values[i]);
		oci_segs_pop(&c->path);
	}
	oci_w_close(&c->w, '}');
}

static bool field_present(const oci_field *f, const char *obj)
{
	if (f->shape == OCI_S_SCALAR)
		return scalar_present(f, obj);
	return *(void *const *)(obj + f->off) != NULL;
}

static void encode_field(ectx *c, const oci_field *f, const char *obj)
{
	const void *slot = obj + f->off;

	oci_w_key(&c->w, f->json);
	/* only arrays and maps hold a pointer in the slot itself */
	if (f->shape == OCI_S_ARRAY)
		encode_array(c, f, *(void *const *)slot, *(const size_t *)(obj + f->aux));
	else if (f->shape == OCI_S_MAP)
		encode_map(c, f, *(void *const *)slot);
	else
		encode_value(c, f, slot);
}

static void encode_object(ectx *c, const oci_type *t, const char *obj)
{
	const oci_json *unknown = *(oci_json *const *)(obj + t->unknown_off);
	size_t i;

	oci_w_open(&c->w, '{');
	for (i = 0; i < t->nfields; i++) {
		const oci_field *f = &t->fields[i];
		if (!field_present(f, obj)) {
			if (f->flags & OCI_F_REQUIRED)
				err(c, "missing required field \"%s\"", f->json);
			continue;
		}
		oci_segs_push_key(&c->path, f->json);
		encode_field(c, f, obj);
		oci_segs_pop(&c->path);
	}
	for (i = 0; unknown && i < unknown->len; i++) {
		oci_w_key(&c->w, unknown->keys[i]);
		oci_json_write(&c->w, unknown->items[i]);
	}
	oci_w_close(&c->w, '}');
}

char *oci_encode_root(const oci_type *t, const void *obj, bool pretty, size_t *len_out,
		      oci_diags *diags)
{
	ectx c = { .w = { .pretty = pretty }, .diags = diags };

	if (!obj) {
		oci_diags_add(diags, OCI_DIAG_ERROR, NULL, 0, 0, "", "nothing to emit");
		return NULL;
	}
	encode_object(&c, t, obj);
	free(c.path.segs);
	if (c.failed) {
		oci_buf_free(&c.w.out);
		return NULL;
	}
	if (len_out)
		*len_out = c.w.out.len;
	return c.w.out.buf;
}

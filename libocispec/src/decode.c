/* decode.c - DOM -> generated structs, driven by the oci_type tables.
 *
 * Every problem is reported and decoding goes on with the next value, so a
 * single parse lists all errors; the caller throws the result away when any
 * error was reported. Strings and unknown members are moved out of the DOM
 * rather than copied. */
#include "oci-internal.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

typedef struct {
	const char *file;
	oci_diags *diags;
	oci_segs path;
	size_t errors;
} dctx;

static void *decode_object(dctx *c, const oci_type *t, oci_json *v);

static void err(dctx *c, const oci_json *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void err(dctx *c, const oci_json *at, const char *fmt, ...)
{
	oci_buf path = { 0 };
	va_list ap;

	/* Past the budget only the verdict matters; a hostile document must not
	 * turn into gigabytes of messages. */
	if (c->errors++ == OCI_MAX_ERRORS) {
		oci_diags_add(c->diags, OCI_DIAG_ERROR, c->file, 0, 0, "",
			      "too many errors, not reporting more");
		return;
	}
	if (c->errors > OCI_MAX_ERRORS)
		return;
	oci_segs_render(&c->path, &path);
	va_start(ap, fmt);
	oci_diags_addv(c->diags, OCI_DIAG_ERROR, c->file, at->line, at->col, oci_buf_str(&path),
		       fmt, ap);
	va_end(ap);
	oci_buf_free(&path);
}

size_t oci_kind_size(int kind)
{
	switch (kind) {
	case OCI_K_BOOL:
		return sizeof(bool);
	case OCI_K_INT:
		return sizeof(int);
	case OCI_K_INT32:
		return sizeof(int32_t);
	case OCI_K_UINT16:
		return sizeof(uint16_t);
	case OCI_K_UINT32:
	case OCI_K_ID:
		return sizeof(uint32_t);
	case OCI_K_INT64:
	case OCI_K_UINT64:
		return sizeof(uint64_t);
	default:
		return sizeof(void *);
	}
}

static const char *expected_name(int shape, int kind)
{
	if (shape == OCI_S_ARRAY)
		return "an array";
	if (shape == OCI_S_MAP || kind == OCI_K_OBJECT)
		return "an object";
	if (kind == OCI_K_STRING)
		return "a string";
	if (kind == OCI_K_BOOL)
		return "a boolean";
	return "an integer";
}

static int expected_type(int shape, int kind)
{
	if (shape == OCI_S_ARRAY)
		return OCI_JSON_ARRAY;
	if (shape == OCI_S_MAP || kind == OCI_K_OBJECT)
		return OCI_JSON_OBJECT;
	if (kind == OCI_K_STRING)
		return OCI_JSON_STRING;
	if (kind == OCI_K_BOOL)
		return OCI_JSON_BOOL;
	return OCI_JSON_NUMBER;
}

static bool type_ok(dctx *c, int shape, int kind, const oci_json *v)
{
	if (v->type == expected_type(shape, kind))
		return true;
	err(c, v, "expected %s, got %s", expected_name(shape, kind), oci_json_type_name(v->type));
	return false;
}

static bool in_enum(const oci_enum *e, const char *s)
{
	const char *const *p;

	for (p = e->values; *p; p++)
		if (!strcmp(*p, s))
			return true;
	return false;
}

static void enum_error(dctx *c, const oci_json *at, const oci_enum *e, const char *what,
		       const char *s)
{
	oci_buf list = { 0 };
	const char *const *p;

	for (p = e->values; *p; p++) {
		if (p != e->values)
			oci_buf_puts(&list, ", ");
		oci_buf_puts(&list, *p);
	}
	err(c, at, "invalid %s \"%s\", expected one of: %s", what, s, oci_buf_str(&list));
	oci_buf_free(&list);
}

typedef struct {
	const char *name;
	int64_t min;
	uint64_t max;
} int_range;

static int_range range_of(int kind)
{
	switch (kind) {
	case OCI_K_INT:
		return (int_range){ "int", INT_MIN, INT_MAX };
	case OCI_K_INT32:
		return (int_range){ "int32", INT32_MIN, INT32_MAX };
	case OCI_K_UINT16:
		return (int_range){ "uint16", 0, UINT16_MAX };
	case OCI_K_UINT32:
		return (int_range){ "uint32", 0, UINT32_MAX };
	case OCI_K_ID:
		/* setresuid(-1) leaves the id unchanged: a process asked to
		 * run as 4294967295 would keep the runtime's root */
		return (int_range){ "a uid or gid (4294967295 is -1, which the kernel reads as "
				    "\"unchanged\")",
				    0, UINT32_MAX - 1 };
	case OCI_K_INT64:
		return (int_range){ "int64", INT64_MIN, INT64_MAX };
	default:
		return (int_range){ "uint64", 0, UINT64_MAX };
	}
}

static void store_int(int kind, void *dst, bool neg, uint64_t mag)
{
	/* two's complement negation of the magnitude; in range by now */
	uint64_t u = neg ? (uint64_t)0 - mag : mag;

	switch (kind) {
	case OCI_K_INT:
		*(int *)dst = (int)(int64_t)u;
		break;
	case OCI_K_INT32:
		*(int32_t *)dst = (int32_t)(int64_t)u;
		break;
	case OCI_K_UINT16:
		*(uint16_t *)dst = (uint16_t)u;
		break;
	case OCI_K_UINT32:
	case OCI_K_ID:
		*(uint32_t *)dst = (uint32_t)u;
		break;
	case OCI_K_INT64:
		*(int64_t *)dst = (int64_t)u;
		break;
	default:
		*(uint64_t *)dst = u;
	}
}

/* Exact integer parsing from the number's source text: no double detour,
 * so uint64 values and range checks are exact. */
static bool parse_int(dctx *c, const oci_json *v, int kind, void *dst)
{
	const char *s = v->str;
	bool neg = *s == '-';
	uint64_t mag = 0;
	int_range r = range_of(kind);

	if (strpbrk(s, ".eE")) {
		err(c, v, "expected an integer, got %s", s);
		return false;
	}
	for (s += neg; *s; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (mag > (UINT64_MAX - d) / 10)
			goto range;
		mag = mag * 10 + d;
	}
	if (neg ? (mag != 0 && (r.min == 0 || mag - 1 > (uint64_t)-(r.min + 1))) : mag > r.max)
		goto range;
	store_int(kind, dst, neg, mag);
	return true;
range:
	err(c, v, "integer %s out of range for %s [%" PRId64 ", %" PRIu64 "]", v->str, r.name,
	    r.min, r.max);
	return false;
}

static char *steal_str(oci_json *v)
{
	char *s = v->str;
	v->str = NULL;
	return s;
}

/* One value of f->kind into dst (a slot of oci_kind_size bytes). */
static bool decode_value(dctx *c, const oci_field *f, oci_json *v, void *dst)
{
	if (!type_ok(c, OCI_S_SCALAR, f->kind, v))
		return false;
	switch (f->kind) {
	case OCI_K_STRING:
		if (f->values && !in_enum(f->values, v->str)) {
			enum_error(c, v, f->values, "value", v->str);
			return false;
		}
		*(char **)dst = steal_str(v);
		return true;
	case OCI_K_BOOL:
		*(bool *)dst = v->boolean;
		return true;
	case OCI_K_OBJECT:
		*(void **)dst = decode_object(c, f->sub, v);
		return true;
	default:
		return parse_int(c, v, f->kind, dst);
	}
}

static void decode_array(dctx *c, const oci_field *f, oci_json *v, char *obj)
{
	size_t es = oci_kind_size(f->kind), i, n = 0;
	char *items;

	if (!type_ok(c, OCI_S_ARRAY, f->kind, v))
		return;
	/* never NULL, even when empty, so that "x": [] round-trips */
	items = oci_xcalloc(v->len, es);
	for (i = 0; i < v->len; i++) {
		oci_segs_push_index(&c->path, i);
		n += decode_value(c, f, v->items[i], items + n * es);
		oci_segs_pop(&c->path);
	}
	*(void **)(obj + f->off) = items;
	*(size_t *)(obj + f->aux) = n;
}

static void decode_map(dctx *c, const oci_field *f, oci_json *v, char *obj)
{
	oci_any_map *m;
	size_t i;

	if (!type_ok(c, OCI_S_MAP, f->kind, v))
		return;
	m = oci_xcalloc(1, sizeof(*m));
	m->keys = oci_xcalloc(v->len, sizeof(*m->keys));
	m->values = oci_xcalloc(v->len, sizeof(*m->values));
	for (i = 0; i < v->len; i++) {
		oci_segs_push_key(&c->path, v->keys[i]);
		if (f->keys && !in_enum(f->keys, v->keys[i]))
			enum_error(c, v->items[i], f->keys, "key", v->keys[i]);
		else if (decode_value(c, f, v->items[i], &m->values[m->len])) {
			m->keys[m->len++] = v->keys[i];
			v->keys[i] = NULL;
		}
		oci_segs_pop(&c->path);
	}
	*(oci_any_map **)(obj + f->off) = m;
}

static void decode_field(dctx *c, const oci_field *f, oci_json *v, char *obj)
{
	switch (f->shape) {
	case OCI_S_ARRAY:
		decode_array(c, f, v, obj);
		break;
	case OCI_S_MAP:
		decode_map(c, f, v, obj);
		break;
	default:
		if (decode_value(c, f, v, obj + f->off) && f->aux)
			*(bool *)(obj + f->aux) = true;
	}
}

static int find_field(const oci_type *t, const char *name)
{
	int i;

	for (i = 0; i < t->nfields; i++)
		if (!strcmp(t->fields[i].json, name))
			return i;
	return -1;
}

static void keep_unknown(oci_json **unknown, oci_json *v, size_t i)
{
	if (!*unknown)
		*unknown = oci_json_new(OCI_JSON_OBJECT, v->line, v->col);
	oci_json_append(*unknown, v->keys[i], v->items[i]);
	v->keys[i] = NULL;
	v->items[i] = NULL;
}

static void *decode_object(dctx *c, const oci_type *t, oci_json *v)
{
	char *obj = oci_xcalloc(1, t->size);
	oci_json *unknown = NULL;
	uint64_t seen = 0;
	size_t i;
	int fi;

	for (i = 0; i < v->len; i++) {
		fi = find_field(t, v->keys[i]);
		if (fi < 0) {
			keep_unknown(&unknown, v, i);
			continue;
		}
		/* null reads as absent, like the Go implementations do */
		if (v->items[i]->type == OCI_JSON_NULL)
			continue;
		seen |= (uint64_t)1 << fi;
		oci_segs_push_key(&c->path, t->fields[fi].json);
		decode_field(c, &t->fields[fi], v->items[i], obj);
		oci_segs_pop(&c->path);
	}
	for (fi = 0; fi < t->nfields; fi++)
		if ((t->fields[fi].flags & OCI_F_REQUIRED) && !(seen & ((uint64_t)1 << fi)))
			err(c, v, "missing required field \"%s\"", t->fields[fi].json);
	*(oci_json **)(obj + t->unknown_off) = unknown;
	return obj;
}

void *oci_decode_root(const oci_type *t, oci_json *doc, const char *file, oci_diags *diags)
{
	dctx c = { .file = file, .diags = diags };
	void *obj = NULL;

	if (type_ok(&c, OCI_S_SCALAR, OCI_K_OBJECT, doc))
		obj = decode_object(&c, t, doc);
	free(c.path.segs);
	return obj;
}

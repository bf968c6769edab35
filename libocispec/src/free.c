/* free.c - releases generated structs, driven by the oci_type tables. */
#include "oci-internal.h"

static void free_value(int kind, const oci_type *sub, void *slot)
{
	if (kind == OCI_K_STRING)
		free(*(char **)slot);
	else if (kind == OCI_K_OBJECT)
		oci_free_object(sub, *(void **)slot);
}

void oci_map_free(int kind, const oci_type *sub, void *map)
{
	oci_any_map *m = map;
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->len; i++) {
		free(m->keys[i]);
		free_value(kind, sub, &m->values[i]);
	}
	free(m->keys);
	free(m->values);
	free(m);
}

static void free_array(const oci_field *f, char *items, size_t n)
{
	size_t es = oci_kind_size(f->kind), i;

	if (f->kind == OCI_K_STRING || f->kind == OCI_K_OBJECT)
		for (i = 0; items && i < n; i++)
			free_value(f->kind, f->sub, items + i * es);
	free(items);
}

void oci_free_object(const oci_type *t, void *p)
{
	char *obj = p;
	size_t i;

	if (!obj)
		return;
	for (i = 0; i < t->nfields; i++) {
		const oci_field *f = &t->fields[i];
		void *slot = obj + f->off;
		if (f->shape == OCI_S_ARRAY)
			free_array(f, *(char **)slot, *(size_t *)(obj + f->aux));
		else if (f->shape == OCI_S_MAP)
			oci_map_free(f->kind, f->sub, *(void **)slot);
		else
			free_value(f->kind, f->sub, slot);
	}
	oci_json_free(*(oci_json **)(obj + t->unknown_off));
	if (t->positions_off)
		oci_positions_free(*(struct oci_positions **)(obj + t->positions_off));
	free(obj);
}

/* json.c - the DOM nodes (parser in json-parse.c, writer in writer.c). */
#include "oci-internal.h"

oci_json *oci_json_new(int type, unsigned line, unsigned col)
{
	oci_json *j = oci_xcalloc(1, sizeof(*j));
	j->type = (unsigned char)type;
	j->line = line;
	j->col = col;
	return j;
}

void oci_json_append(oci_json *c, char *key, oci_json *value)
{
	/* keys and items share one capacity: both grow from the same old cap
	 * to the same new one */
	size_t cap = c->cap;

	oci_xgrow(&c->items, &c->cap, c->len + 1, sizeof(*c->items));
	if (c->type == OCI_JSON_OBJECT) {
		oci_xgrow(&c->keys, &cap, c->len + 1, sizeof(*c->keys));
		c->keys[c->len] = key;
	}
	c->items[c->len++] = value;
}

void oci_json_free(oci_json *j)
{
	size_t i;

	if (!j)
		return;
	for (i = 0; i < j->len && j->items; i++) {
		oci_json_free(j->items[i]);
		if (j->keys)
			free(j->keys[i]);
	}
	free(j->items);
	free(j->keys);
	free(j->str);
	free(j);
}

const char *oci_json_type_name(int type)
{
	switch (type) {
	case OCI_JSON_NULL:
		return "null";
	case OCI_JSON_BOOL:
		return "a boolean";
	case OCI_JSON_NUMBER:
		return "a number";
	case OCI_JSON_STRING:
		return "a string";
	case OCI_JSON_ARRAY:
		return "an array";
	default:
		return "an object";
	}
}

/* maps.c - helpers for oci_string_map (annotations, sysctl, unified). */
#include "oci-internal.h"

#include <string.h>

const char *oci_string_map_get(const oci_string_map *map, const char *key)
{
	size_t i;

	for (i = 0; map && key && i < map->len; i++)
		if (!strcmp(map->keys[i], key))
			return map->values[i];
	return NULL;
}

void oci_string_map_set(oci_string_map **map, const char *key, const char *value)
{
	oci_string_map *m;
	size_t i;

	if (!*map)
		*map = oci_xcalloc(1, sizeof(**map));
	m = *map;
	for (i = 0; i < m->len; i++) {
		if (!strcmp(m->keys[i], key)) {
			free(m->values[i]);
			m->values[i] = oci_xstrdup(value);
			return;
		}
	}
	/* exact-size growth: maps are built once and are small */
	m->keys = oci_xrealloc(m->keys, (m->len + 1) * sizeof(*m->keys));
	m->values = oci_xrealloc(m->values, (m->len + 1) * sizeof(*m->values));
	m->keys[m->len] = oci_xstrdup(key);
	m->values[m->len++] = oci_xstrdup(value);
}

void oci_string_map_free(oci_string_map *map)
{
	oci_map_free(OCI_K_STRING, NULL, map);
}

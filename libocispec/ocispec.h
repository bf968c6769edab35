/* ocispec.h - OCI runtime-spec types for skiff (public umbrella header).
 *
 * The structs and the per-type functions are generated from the
 * description in libocispec/spec/ into ocispec-gen.h; this header holds the
 * hand-written pieces they rely on: diagnostics, parse options and maps.
 *
 * Conventions of the generated API (see libocispec/README.md):
 *   strings are char * (NULL = absent), sub-objects are pointers (NULL =
 *   absent), optional scalars come with a bool <name>_present, arrays are
 *   <name> + <name>_len, maps are oci_string_map / oci_<type>_map pointers.
 *   Everything reachable from a struct is owned by it and released by its
 *   *_free function, so callers build structs with malloc/strdup too.
 */
#ifndef OCISPEC_H
#define OCISPEC_H

/* -std=gnu11 predefines `linux` as 1, and oci_config has a member of that
 * name. */
#undef linux

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- diagnostics ---- */

enum {
	OCI_DIAG_ERROR = 0,
	OCI_DIAG_WARNING = 1,
	OCI_DIAG_NOTE = 2,
};

typedef struct {
	char *file;     /* may be NULL */
	unsigned line;  /* 1-based; 0 when unknown */
	unsigned col;   /* 1-based, in characters; 0 when unknown */
	char *path;     /* JSON path such as linux.namespaces[2].type; "" = root */
	char *msg;
	int severity;   /* OCI_DIAG_* */
} oci_diag;

typedef struct {
	oci_diag *items;
	size_t len, cap;
} oci_diags;

void oci_diags_free(oci_diags *diags);
void oci_diags_add(oci_diags *diags, int severity, const char *file, unsigned line,
		   unsigned col, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
/* Number of diagnostics of severity OCI_DIAG_ERROR. */
size_t oci_diags_errors(const oci_diags *diags);
/* "file:line:col: path: msg" (parts omitted when unknown; warnings and
 * notes get a "warning: "/"note: " prefix before msg). malloc'd. */
char *oci_diag_format(const oci_diag *diag);

/* ---- parsing ---- */

typedef struct {
	const char *filename;  /* name used in diagnostics (default: the path) */
	bool keep_positions;   /* record line:col of every value (T_position) */
	size_t max_size;       /* 0 = OCI_DEFAULT_MAX_SIZE */
} oci_parse_opts;

#define OCI_DEFAULT_MAX_SIZE ((size_t)16 << 20)

/* ---- maps (insertion order is kept) ---- */

typedef struct oci_string_map {
	char **keys;
	char **values;
	size_t len;
} oci_string_map;

/* Value for key, NULL if missing. Linear: maps in configs are small. */
const char *oci_string_map_get(const oci_string_map *map, const char *key);
/* Sets key to a copy of value (replacing an existing entry); creates *map
 * when NULL. */
void oci_string_map_set(oci_string_map **map, const char *key, const char *value);
void oci_string_map_free(oci_string_map *map);

/* Unknown JSON members kept for round-trips; opaque. */
struct oci_json;
/* Position table of a parsed root; opaque. */
struct oci_positions;

#ifdef __cplusplus
}
#endif

#include "ocispec-gen.h"

#endif

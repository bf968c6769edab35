/* oci-internal.h - runtime shared by the generated tables and src/.
 * Not installed; only libocispec's own files include it. */
#ifndef OCI_INTERNAL_H
#define OCI_INTERNAL_H

#include "ocispec.h"

#include <stdarg.h>
#include <stdlib.h>

/* ---- allocation: a runtime cannot do anything useful after malloc fails,
 * so the x* helpers abort instead of threading NULL checks everywhere. ---- */

void *oci_xmalloc(size_t size);
void *oci_xcalloc(size_t n, size_t size);
void *oci_xrealloc(void *p, size_t size);
/* Grows *items (of elem bytes each) so that it can hold need elements. */
void oci_xgrow(void *items_p, size_t *cap, size_t need, size_t elem);
char *oci_xstrdup(const char *s);
char *oci_xstrndup(const char *s, size_t n);

static inline void oci_freep(void *p)
{
	free(*(void **)p);
}
#define _oci_cleanup_free_ __attribute__((cleanup(oci_freep)))

void oci_diags_addv(oci_diags *diags, int severity, const char *file, unsigned line,
		    unsigned col, const char *path, const char *fmt, va_list ap)
	__attribute__((format(printf, 7, 0)));

/* Stable sort of diags->items[start..] by position, unknown positions last. */
void oci_diags_sort_from(oci_diags *diags, size_t start);

/* ---- growable string ---- */

typedef struct {
	char *buf;
	size_t len, cap;
} oci_buf;

void oci_buf_add(oci_buf *b, const char *s, size_t n);
void oci_buf_puts(oci_buf *b, const char *s);
void oci_buf_putc(oci_buf *b, char c);
void oci_buf_printf(oci_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void oci_buf_truncate(oci_buf *b, size_t len);
/* NUL-terminated view (never NULL). */
const char *oci_buf_str(oci_buf *b);
void oci_buf_free(oci_buf *b);

/* JSON path helpers: ".name" (no dot at the root), "[i]", and map keys as
 * ".key" or ["key"] when the key is not a plain identifier. */
void oci_path_field(oci_buf *path, const char *name);
void oci_path_index(oci_buf *path, size_t i);
void oci_path_key(oci_buf *path, const char *key);

/* A path kept as segments and rendered only when a message needs it:
 * formatting every array index eagerly cost a quarter of parse time. */
typedef struct {
	const char *key; /* member name or map key; NULL for an index */
	size_t index;
} oci_seg;

typedef struct {
	oci_seg *segs;
	size_t len, cap;
} oci_segs;

void oci_segs_push_key(oci_segs *p, const char *key);
void oci_segs_push_index(oci_segs *p, size_t index);
static inline void oci_segs_pop(oci_segs *p)
{
	p->len--;
}
/* Appends the rendered path to out (same syntax as oci_path_*). */
void oci_segs_render(const oci_segs *p, oci_buf *out);

/* ---- UTF-8 ---- */

/* Offset of the first invalid byte, or len when s[0..len) is valid UTF-8. */
size_t oci_utf8_check(const char *s, size_t len);

/* ---- JSON DOM ---- */

enum {
	OCI_JSON_NULL,
	OCI_JSON_BOOL,
	OCI_JSON_NUMBER,
	OCI_JSON_STRING,
	OCI_JSON_ARRAY,
	OCI_JSON_OBJECT,
};

typedef struct oci_json {
	unsigned char type;
	bool boolean;
	unsigned line, col;  /* where the value starts */
	char *str;           /* string value, or the raw text of a number */
	size_t len;          /* string bytes; array/object member count */
	size_t cap;
	char **keys;         /* object member names */
	struct oci_json **items; /* array elements, object member values */
} oci_json;

/* Parses buf into a DOM; NULL (with diags) on syntax errors. */
oci_json *oci_json_parse(const char *buf, size_t len, const char *file, oci_diags *diags);
void oci_json_free(oci_json *j);
oci_json *oci_json_new(int type, unsigned line, unsigned col);
/* Appends a member; takes ownership of key (object) and value. */
void oci_json_append(oci_json *container, char *key, oci_json *value);
const char *oci_json_type_name(int type);

/* ---- JSON writer (emission does not go through yajl: it is a few lines and
 * keeps number texts of unknown members byte-exact) ---- */

typedef struct oci_writer {
	oci_buf out;
	bool pretty;
	bool after_key;   /* next value follows "key": */
	bool need_comma;  /* a sibling was written at this level */
	unsigned depth;
} oci_writer;

void oci_w_open(oci_writer *w, char c);
void oci_w_close(oci_writer *w, char c);
void oci_w_key(oci_writer *w, const char *key);
void oci_w_string(oci_writer *w, const char *s, size_t len);
/* Writes raw JSON text (numbers, true/false/null) as one value. */
void oci_w_raw(oci_writer *w, const char *text);
/* Writes a DOM value. */
void oci_json_write(oci_writer *w, const oci_json *j);

/* ---- type descriptors (the generated tables) ---- */

enum oci_kind {
	OCI_K_STRING,
	OCI_K_BOOL,
	OCI_K_INT,    /* C int */
	OCI_K_INT32,
	OCI_K_UINT16,
	OCI_K_UINT32,
	OCI_K_ID,     /* uint32_t uid or gid: never (uid_t)-1, "unchanged" to the kernel */
	OCI_K_INT64,
	OCI_K_UINT64,
	OCI_K_OBJECT,
};

enum oci_shape {
	OCI_S_SCALAR, /* value member (+ <name>_present for optional scalars) */
	OCI_S_ARRAY,  /* pointer to elements + <name>_len */
	OCI_S_MAP,    /* pointer to a { keys, values, len } map */
};

enum {
	OCI_F_REQUIRED = 1,
};

typedef struct oci_enum {
	const char *name;
	const char *const *values; /* NULL-terminated */
} oci_enum;

typedef struct oci_type oci_type;

typedef struct oci_field {
	const char *json;        /* JSON member name */
	unsigned short off;      /* offsetof the value member */
	unsigned short aux;      /* offsetof <name>_present / <name>_len; 0 = none */
	unsigned char shape;     /* enum oci_shape */
	unsigned char kind;      /* enum oci_kind (of elements / map values) */
	unsigned char flags;     /* OCI_F_* */
	const oci_type *sub;     /* OCI_K_OBJECT */
	const oci_enum *values;  /* allowed strings */
	const oci_enum *keys;    /* allowed map keys */
} oci_field;

struct oci_type {
	const char *name;
	unsigned short size;
	unsigned short nfields;
	unsigned short unknown_off;   /* offsetof _unknown */
	unsigned short positions_off; /* offsetof _positions; 0 = not a root */
	const oci_field *fields;
};

/* sizeof the C slot holding one value of kind. */
size_t oci_kind_size(int kind);
/* Frees a map whose values are of kind (sub for OCI_K_OBJECT). */
void oci_map_free(int kind, const oci_type *sub, void *map);
/* Error budget shared by the parser and the decoder (see decode.c). */
#define OCI_MAX_ERRORS 1000

/* All maps share this layout (values typed per map in the public header). */
typedef struct {
	char **keys;
	void **values;
	size_t len;
} oci_any_map;

/* Generic operations driven by the tables. */
void *oci_decode_root(const oci_type *t, oci_json *doc, const char *file, oci_diags *diags);
void oci_free_object(const oci_type *t, void *obj);
char *oci_encode_root(const oci_type *t, const void *obj, bool pretty, size_t *len_out,
		      oci_diags *diags);

void *oci_parse_data(const oci_type *t, const char *buf, size_t len,
		     const oci_parse_opts *opts, oci_diags *diags);
void *oci_parse_file(const oci_type *t, const char *path, const oci_parse_opts *opts,
		     oci_diags *diags);

/* Positions table: built from the DOM before decoding steals from it. */
struct oci_positions *oci_positions_build(const oci_json *doc);
void oci_positions_free(struct oci_positions *p);
bool oci_positions_lookup(const struct oci_positions *p, const char *path, unsigned *line,
			  unsigned *col);

#endif

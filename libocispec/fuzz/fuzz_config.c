/* fuzz_config.c - libFuzzer target for every libocispec root type.
 *
 * Besides "no crash, no leak, no UB" it checks one property: a document
 * that parses must emit, and the emitted text must parse again and emit
 * to the same bytes. */
#include "ocispec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef void *(*parse_fn)(const char *, size_t, const oci_parse_opts *, oci_diags *);
typedef char *(*emit_fn)(const void *, bool, size_t *, oci_diags *);
typedef void (*free_fn)(void *);
typedef bool (*pos_fn)(const void *, const char *, unsigned *, unsigned *);

typedef struct {
	parse_fn parse;
	emit_fn emit;
	free_fn free;
	pos_fn position;
} root_ops;

#define OPS(T) \
	{ (parse_fn)T##_parse_data, (emit_fn)T##_emit, (free_fn)T##_free, (pos_fn)T##_position }

static const root_ops roots[] = {
	OPS(oci_config), OPS(oci_state), OPS(oci_features), OPS(oci_process), OPS(skiff_status),
};

static void reemit(const root_ops *ops, const char *text, size_t len, bool pretty)
{
	void *v = ops->parse(text, len, NULL, NULL);
	char *again;

	if (!v)
		abort(); /* we wrote something we cannot read */
	again = ops->emit(v, pretty, NULL, NULL);
	if (!again || strcmp(again, text))
		abort(); /* emission is not stable */
	free(again);
	ops->free(v);
}

static void check_root(const root_ops *ops, const char *data, size_t size, bool keep)
{
	oci_parse_opts opts = { .filename = "fuzz.json", .keep_positions = keep };
	oci_diags d = { 0 };
	void *v = ops->parse(data, size, &opts, &d);
	size_t i, len;
	char *out;

	for (i = 0; i < d.len; i++)
		free(oci_diag_format(&d.items[i]));
	if ((v == NULL) != (oci_diags_errors(&d) > 0))
		abort(); /* the verdict and the diagnostics disagree */
	oci_diags_free(&d);
	if (!v)
		return;
	if (keep && !ops->position(v, "", NULL, NULL))
		abort();
	if (keep) {
		/* the input's first line doubles as a (mostly bogus) path */
		char path[128];
		const char *nl = memchr(data, '\n', size);
		size_t n = nl ? (size_t)(nl - data) : size;
		n = n < sizeof(path) - 1 ? n : sizeof(path) - 1;
		memcpy(path, data, n);
		path[n] = '\0';
		ops->position(v, path, NULL, NULL);
	}
	out = ops->emit(v, keep, &len, NULL);
	if (!out || strlen(out) != len)
		abort(); /* we read something we cannot write */
	reemit(ops, out, len, keep);
	free(out);
	ops->free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t i;

	for (i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
		check_root(&roots[i], (const char *)data, size, (size + i) % 2);
	return 0;
}

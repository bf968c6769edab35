/* parse.c - the parse entry points shared by every root type. */
#include "oci-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t max_size(const oci_parse_opts *opts)
{
	return opts && opts->max_size ? opts->max_size : OCI_DEFAULT_MAX_SIZE;
}

static void *parse(const oci_type *t, const char *buf, size_t len, const oci_parse_opts *opts,
		   const char *file, oci_diags *d)
{
	size_t before = oci_diags_errors(d), first = d->len;
	struct oci_positions *pos = NULL;
	oci_json *doc;
	void *obj;

	if (len > max_size(opts)) {
		oci_diags_add(d, OCI_DIAG_ERROR, file, 0, 0, "",
			      "document is %zu bytes, over the limit of %zu bytes", len,
			      max_size(opts));
		return NULL;
	}
	doc = oci_json_parse(buf, len, file, d);
	if (!doc) {
		oci_diags_sort_from(d, first);
		return NULL;
	}
	/* before decoding, which moves strings out of the DOM */
	if (opts && opts->keep_positions && t->positions_off)
		pos = oci_positions_build(doc);
	obj = oci_decode_root(t, doc, file, d);
	oci_json_free(doc);
	if (obj && pos)
		*(struct oci_positions **)((char *)obj + t->positions_off) = pos;
	else
		oci_positions_free(pos);
	oci_diags_sort_from(d, first);
	if (oci_diags_errors(d) > before) {
		oci_free_object(t, obj);
		return NULL;
	}
	return obj;
}

/* diags may be NULL; errors must still make the parse fail, so they go to
 * a scratch list then. */
void *oci_parse_data(const oci_type *t, const char *buf, size_t len,
		     const oci_parse_opts *opts, oci_diags *diags)
{
	oci_diags scratch = { 0 };
	const char *file = opts ? opts->filename : NULL;
	void *obj = parse(t, buf ? buf : "", buf ? len : 0, opts, file, diags ? diags : &scratch);

	oci_diags_free(&scratch);
	return obj;
}

/* Reads at most limit + 1 bytes, so an oversized file is detected without
 * reading it whole; works for pipes too (e.g. /dev/stdin). */
static char *read_all(int fd, size_t limit, size_t *len)
{
	oci_buf b = { 0 };
	char chunk[65536];
	ssize_t n;

	for (;;) {
		size_t want = limit + 1 - b.len;
		n = read(fd, chunk, want < sizeof(chunk) ? want : sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			oci_buf_free(&b);
			return NULL;
		}
		if (n == 0 || b.len + (size_t)n > limit) {
			oci_buf_add(&b, chunk, (size_t)n);
			break;
		}
		oci_buf_add(&b, chunk, (size_t)n);
	}
	*len = b.len;
	return b.buf ? b.buf : oci_xstrdup("");
}

void *oci_parse_file(const oci_type *t, const char *path, const oci_parse_opts *opts,
		     oci_diags *diags)
{
	oci_diags scratch = { 0 };
	oci_diags *d = diags ? diags : &scratch;
	const char *file = opts && opts->filename ? opts->filename : path;
	char *buf _oci_cleanup_free_ = NULL;
	void *obj = NULL;
	size_t len = 0;
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		oci_diags_add(d, OCI_DIAG_ERROR, file, 0, 0, "", "cannot open: %s", strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max_size(opts)) {
		oci_diags_add(d, OCI_DIAG_ERROR, file, 0, 0, "",
			      "document is %jd bytes, over the limit of %zu bytes",
			      (intmax_t)st.st_size, max_size(opts));
		close(fd);
		goto out;
	}
	buf = read_all(fd, max_size(opts), &len);
	if (!buf)
		oci_diags_add(d, OCI_DIAG_ERROR, file, 0, 0, "", "cannot read: %s", strerror(errno));
	else if (len > max_size(opts))
		oci_diags_add(d, OCI_DIAG_ERROR, file, 0, 0, "",
			      "document is over the limit of %zu bytes", max_size(opts));
	else
		obj = parse(t, buf, len, opts, file, d);
	close(fd);
out:
	oci_diags_free(&scratch);
	return obj;
}

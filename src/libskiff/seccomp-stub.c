/* Built with --disable-seccomp: a config asking for seccomp is refused,
   never silently run unfiltered. */
#include "config.h"

#include "build-features.h"
#include "seccomp.h"

const char skiff_feature_seccomp[] = "-SECCOMP";

int
seccomp_prepare (const oci_seccomp *s, const char *cache_dir, struct seccomp_prog **out,
                 skiff_error_t *err)
{
  (void)cache_dir;
  *out = NULL;
  if (s == NULL)
    return 0;
  return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, 0,
                               "linux.seccomp: this skiff was built without seccomp support");
}

int
seccomp_install (struct seccomp_prog *p, int *notify_fd, skiff_error_t *err)
{
  (void)p;
  (void)err;
  *notify_fd = -1;
  return 0;
}

int
seccomp_send_notify_fd (const oci_seccomp *s, int notify_fd, const char *state_json,
                        skiff_error_t *err)
{
  (void)s;
  (void)notify_fd;
  (void)state_json;
  (void)err;
  return 0;
}

void
seccomp_prog_free (struct seccomp_prog *p)
{
  (void)p;
}

bool
seccomp_prog_notifies (const struct seccomp_prog *p)
{
  (void)p;
  return false;
}

size_t
seccomp_supported_flags (const char **out, size_t max)
{
  (void)out;
  (void)max;
  return 0;
}

bool
seccomp_library_version (char *buf, size_t len)
{
  (void)buf;
  (void)len;
  return false;
}

/* Built with --disable-selinux: any SELinux label in a config is refused,
   whether or not the host runs SELinux. */
#include "config.h"

#include "build-features.h"
#include "label.h"

const char skiff_feature_selinux[] = "-SELINUX";

bool
selinux_host_enabled (void)
{
  return false;
}

int
selinux_check_label (const char *field, const char *label, char **raw, skiff_error_t *err)
{
  *raw = NULL;
  return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, 0,
                               "%s `%s`: this skiff was built without SELinux support "
                               "(--disable-selinux)",
                               field, label);
}

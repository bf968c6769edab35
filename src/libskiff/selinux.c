/* SELinux labels through libselinux.

   libselinux is loaded with dlopen, and only when a config asks for a
   label on a host that runs SELinux: linked the usual way, it and libpcre2
   would be loaded, and its constructor would probe selinuxfs and read
   /proc/filesystems, on every start of every container.  It is used for
   what only it knows (the policy's view of a context, label translation);
   the labels themselves are written by label.c through a verified /proc,
   never by libselinux's own open of /proc/thread-self. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <linux/magic.h>
#include <selinux/selinux.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>

#include "build-features.h"
#include "label.h"
#include "log.h"

const char skiff_feature_selinux[] = "+SELINUX";

/* The same test as the rootfs code's for adding context= to mounts, so
   that what is checked here is what is applied there. */
bool
selinux_host_enabled (void)
{
  struct statfs sfs;
  return statfs ("/sys/fs/selinux", &sfs) == 0 && sfs.f_type == SELINUX_MAGIC;
}

struct libselinux
{
  __typeof__ (&security_check_context) check_context;
  __typeof__ (&selinux_trans_to_raw_context) trans_to_raw;
  __typeof__ (&freecon) freecon;
};

static const struct libselinux *
libselinux (void)
{
  static struct libselinux lib;
  static int state; /* 0 not tried, 1 loaded, -1 missing */
  if (state == 0)
    {
      void *h = dlopen ("libselinux.so.1", RTLD_NOW | RTLD_LOCAL);
      state = -1;
      if (h)
        {
          *(void **)&lib.check_context = dlsym (h, "security_check_context");
          *(void **)&lib.trans_to_raw = dlsym (h, "selinux_trans_to_raw_context");
          *(void **)&lib.freecon = dlsym (h, "freecon");
          if (lib.check_context && lib.trans_to_raw && lib.freecon)
            state = 1;
        }
      if (state < 0)
        skiff_debug ("libselinux.so.1: %s; SELinux labels are used as given",
                     h ? "symbols missing" : dlerror ());
    }
  return state > 0 ? &lib : NULL;
}

int
selinux_check_label (const char *field, const char *label, char **raw, skiff_error_t *err)
{
  *raw = NULL;
  if (!selinux_host_enabled ())
    return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, 0,
                                 "%s `%s`: SELinux is not enabled on this host (no selinuxfs "
                                 "at /sys/fs/selinux); remove the label from the config",
                                 field, label);
  const struct libselinux *lib = libselinux ();
  if (lib == NULL)
    {
      if ((*raw = strdup (label)) == NULL)
        abort ();
      return 0;
    }
  char *r = NULL;
  if (lib->trans_to_raw (label, &r) < 0 || r == NULL)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, errno,
                                 "%s `%s`: cannot translate the label", field, label);
  if (lib->check_context (r) < 0)
    {
      int e = errno;
      lib->freecon (r);
      return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, e,
                                   "%s `%s`: not a valid context for the loaded policy", field,
                                   label);
    }
  *raw = strdup (r);
  lib->freecon (r);
  if (*raw == NULL)
    abort ();
  return 0;
}

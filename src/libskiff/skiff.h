/* libskiff: the runtime library under the skiff CLI.  Only what is declared
   here is visible outside the library. */
#ifndef SKIFF_H
#define SKIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

#define SKIFF_PUBLIC __attribute__ ((visibility ("default")))
#define SKIFF_DEFAULT_ROOT "/run/skiff"

struct skiff_context
{
  const char *root; /* state directory, one subdirectory per container */
  bool debug;
  bool systemd_cgroup;
  int rootless; /* 1 yes, 0 no, -1 auto */
};

/* "+SECCOMP +SELINUX +CAP ..." for --version. */
SKIFF_PUBLIC const char *skiff_build_features (void);

/* spec: write the default config.json into bundle (refuses to overwrite). */
SKIFF_PUBLIC int skiff_spec_write (const char *bundle, bool rootless,
                                   skiff_error_t *err);
/* The default config as a JSON string (static storage is not used: free). */
SKIFF_PUBLIC char *skiff_spec_default (bool rootless, uid_t uid, gid_t gid);

#endif

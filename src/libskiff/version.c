#include "config.h"

#include <stdio.h>

#include "build-features.h"
#include "skiff.h"

const char *
skiff_build_features (void)
{
  static char buf[128];
  if (buf[0] == '\0')
    snprintf (buf, sizeof buf, "%s %s +CAP %s +YAJL", skiff_feature_seccomp, skiff_feature_selinux,
              skiff_feature_systemd);
  return buf;
}

/* The systemd cgroup driver in a build without libsystemd: refused. */
#include "config.h"

#include "build-features.h"
#include "cgroup/systemd.h"

const char skiff_feature_systemd[] = "-SYSTEMD";

bool
skiff_systemd_running (void)
{
  return false;
}

int
skiff_systemd_start_scope (const struct sd_unit_name *n, pid_t pid, const struct sd_prop *p,
                           size_t np, skiff_error_t *err)
{
  (void)n;
  (void)pid;
  (void)p;
  (void)np;
  return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, 0,
                               "--systemd-cgroup: this skiff was built without libsystemd");
}

int
skiff_systemd_stop_unit (const char *unit, skiff_error_t *err)
{
  (void)unit;
  return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, 0,
                               "--systemd-cgroup: this skiff was built without libsystemd");
}

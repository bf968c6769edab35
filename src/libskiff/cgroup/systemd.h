/* The systemd cgroup driver (--systemd-cgroup): the container's cgroup is a
   transient scope unit that systemd creates over D-Bus; skiff then writes
   the limits systemd has no property for through cgroupfs, as runc does.

   The name and property mapping here is plain data (unit-tested); the D-Bus
   calls are in libskiff/systemd.c, or systemd-stub.c in a build without
   libsystemd. */
#ifndef SKIFF_CGROUP_SYSTEMD_H
#define SKIFF_CGROUP_SYSTEMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "ocispec.h"

/* cgroupsPath "slice:prefix:name" (runc's form; empty: "system.slice",
   prefix "skiff", name = id) -> the slice, the unit "prefix-name.scope"
   and the cgroup path "/system.slice/prefix-name.scope". */
struct sd_unit_name
{
  char *slice;
  char *unit;
  char *path;
};
int cg_systemd_unit_name (const char *cgroups_path, const char *id, struct sd_unit_name *out,
                          skiff_error_t *err);
void cg_systemd_unit_name_free (struct sd_unit_name *n);

/* One unit property: 't' (uint64), 'b' (bool) or 'y' (a byte array, "ay"). */
struct sd_prop
{
  const char *name;
  char type;
  uint64_t u;
  unsigned char bytes[128]; /* CPU / memory node bitmask */
  size_t nbytes;
};

/* The properties for linux.resources on a v1 (CPUShares, MemoryLimit,
   BlockIOWeight) or v2 (CPUWeight, MemoryMax, IOWeight) host.  At most max
   entries. */
int cg_systemd_props (const oci_resources *r, bool v2, struct sd_prop *out, size_t max, size_t *n,
                      skiff_error_t *err);
/* "0-2,4" -> bitmask bytes, little-endian bit order as systemd wants. */
int cg_systemd_cpuset_mask (const char *list, unsigned char *bytes, size_t max, size_t *n);

/* D-Bus (systemd.c / systemd-stub.c). */
bool skiff_systemd_running (void);
int skiff_systemd_start_scope (const struct sd_unit_name *n, pid_t pid, const struct sd_prop *p,
                               size_t np, skiff_error_t *err);
int skiff_systemd_stop_unit (const char *unit, skiff_error_t *err);

#endif

/* linux.intelRdt: not applied yet.  Until it is, a request for it is
   refused with what the host lacks, never silently dropped. */
#include "config.h"
#include "intelrdt.h"

#include <sys/statfs.h>
#include <linux/magic.h>

#ifndef RDTGROUP_SUPER_MAGIC
#define RDTGROUP_SUPER_MAGIC 0x7655821
#endif

#define RESCTRL "/sys/fs/resctrl"

bool
intelrdt_resctrl_mounted (void)
{
  struct statfs sfs;
  return statfs (RESCTRL, &sfs) == 0 && sfs.f_type == RDTGROUP_SUPER_MAGIC;
}

int
intelrdt_unsupported (const char *key, skiff_error_t *err)
{
  if (!intelrdt_resctrl_mounted ())
    return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, 0,
                                 "linux.intelRdt.%s: this host has no resctrl filesystem mounted "
                                 "at " RESCTRL " (Intel RDT, AMD PQoS)",
                                 key);
  return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, 0,
                               "linux.intelRdt.%s: skiff does not support Intel RDT yet "
                               "(resctrl is mounted at " RESCTRL ")",
                               key);
}

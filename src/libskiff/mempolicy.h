/* linux.memoryPolicy: the NUMA memory policy of the container's processes
   (set_mempolicy(2)).  The runtime turns the config into a plan before
   the clone, checking what the kernel would refuse or silently drop; the
   init and exec's process only make the system call. */
#ifndef SKIFF_MEMPOLICY_H
#define SKIFF_MEMPOLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "ocispec.h"

/* The largest node number taken: the kernel's own limit (MAX_NUMNODES)
   is at most 1 << CONFIG_NODES_SHIFT, 1024 on x86-64 and arm64. */
#define MEMPOLICY_MAX_NODES 4096
#define MEMPOLICY_WORDS (MEMPOLICY_MAX_NODES / (8 * sizeof (unsigned long)))

struct mempolicy_plan
{
  bool set;  /* linux.memoryPolicy is present */
  int mode;  /* MPOL_DEFAULT ... MPOL_WEIGHTED_INTERLEAVE */
  int flags; /* MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES | MPOL_F_NUMA_BALANCING */
  unsigned long nodes[MEMPOLICY_WORDS];
  int last_node; /* the highest node in nodes, -1 for none */
};

/* linux.memoryPolicy against the kernel's rules (set_mempolicy(2)): the
   mode, the flags and the nodes they need or forbid.  No host facts. */
int mempolicy_parse (const oci_linux *l, struct mempolicy_plan *out, skiff_error_t *err);
/* The nodes against this host's: online (the sysfs list), and, unless
   the nodes are relative or static, with memory (has_memory, may be
   NULL).  Relative nodes are positions, not node numbers. */
int mempolicy_check_host (const struct mempolicy_plan *p, const char *online,
                          const char *has_memory, skiff_error_t *err);
/* Both, with /sys/devices/system/node: create and exec, before the
   clone.  SKIFF_TEST_NUMA_ONLINE (tests only) replaces the host's lists. */
int mempolicy_prepare (const oci_linux *l, struct mempolicy_plan *out, skiff_error_t *err);
/* The nodes against the ones the process may use (its cpuset's), which
   the kernel would silently leave out. */
int mempolicy_check_allowed (const struct mempolicy_plan *p, const unsigned long *allowed,
                             skiff_error_t *err);
/* In the init or exec's process, in its cgroup: check the cpuset, then
   set_mempolicy(2), which execve keeps.  No heap. */
int mempolicy_apply (const struct mempolicy_plan *p, skiff_error_t *err);

/* "0-3,7" ("" for none) into buf; returns buf. */
char *mempolicy_format_nodes (const unsigned long *mask, char *buf, size_t len);
/* "MPOL_BIND, nodes 0-1, flags MPOL_F_STATIC_NODES" into buf; returns buf. */
char *mempolicy_describe (const struct mempolicy_plan *p, char *buf, size_t len);

#endif

/* Rootless: skiff run without privileges on the host (--rootless, by
   default when the effective uid is not 0 or the caller is in a user
   namespace other than the initial one).  What that changes is decided
   here, one function per decision, so that each can grow (delegated
   cgroup v2 subtrees, systemd user slices) without touching the callers;
   docs/rootless.md lists the decisions. */
#ifndef SKIFF_ROOTLESS_H
#define SKIFF_ROOTLESS_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "ocispec.h"
#include "skiff.h"

struct skiff_cgroup;

/* The caller is in a user namespace other than the initial one
   (/proc/self/uid_map is not the identity "0 0 4294967295"). */
bool rootless_in_userns (void);

/* The state root a rootless caller gets without --root:
   $XDG_RUNTIME_DIR/skiff.  Without a usable XDG_RUNTIME_DIR (unset, or
   not an absolute path): SKIFF_DEFAULT_ROOT for euid 0 (root of a user
   namespace), else NULL with *why saying what is wrong. */
const char *rootless_default_root (const char **why);

/* Why a container has no cgroup, for pause, resume, update, events, ps. */
#define ROOTLESS_NO_CGROUP "no cgroup: rootless without a delegated cgroup"

/* Whether a rootless container gets its cgroup.  *use is false when the
   caller may not write the cgroup tree: the container then runs in the
   runtime's own cgroup, which is only allowed when the config asks for
   no resources (the error names the key; device rules are ignored, as the
   kernel cannot apply them without privilege either).  cg: the cgroup
   create would make. */
int rootless_cgroup_decide (const struct skiff_context *ctx, const struct skiff_cgroup *cg,
                            const oci_resources *r, bool *use, skiff_error_t *err);

/* process.rlimits may not raise a hard limit above the caller's own:
   that takes CAP_SYS_RESOURCE on the host. */
int rootless_check_rlimits (const oci_process *p, skiff_error_t *err);

#endif

/* `skiff check --plan`: what create and start would do with a bundle on
   this host, in order, described from the data create executes (the
   namespace plan, the cgroup manager's path, the mount plan, the compiled
   seccomp filter) rather than from a second reading of config.json. */
#ifndef SKIFF_PLAN_H
#define SKIFF_PLAN_H

#include "error.h"
#include "ocispec.h"

/* process.args[0] as the init would find it (PATH of process.env), looked
   up inside the tree rooted at rootfd through the fs.h gateway.  The
   messages are those of process_resolve_exec(). */
int plan_resolve_exec (int rootfd, const oci_process *p, char **path_out, skiff_error_t *err);

#endif

/* LSM labels of the container: `process.selinuxLabel` (and exec's
   --process-label), `process.apparmorProfile` (--apparmor) and
   `linux.mountLabel`.

   Checked in the runtime before anything is created: a label this build or
   this host cannot apply is refused with the config element named (never
   a silent pass).  Applied in the container's own process, through the
   container's /proc after it has been verified to be a real procfs whose
   attr files nothing is mounted over (CVE-2019-16884), after the last
   helper process of the runtime (startContainer hooks) has run and before
   the privileges and the seccomp filter go; the kernel switches the label
   at the final execve.  The mount label is passed by the rootfs code as
   the context= of the container's new file systems. */
#ifndef SKIFF_LABEL_H
#define SKIFF_LABEL_H

#include <stdbool.h>

#include "error.h"
#include "ocispec.h"

/* Runtime side, before the container's first process exists.  l may be
   NULL (exec).  Also remembers the raw form of the SELinux label for the
   processes forked afterwards. */
int label_check_config (const oci_process *p, const oci_linux *l, skiff_error_t *err);

struct label_exec
{
  int selinux_fd;  /* <proc>/thread-self/attr/exec */
  int apparmor_fd; /* <proc>/thread-self/attr/apparmor/exec or attr/exec */
  const char *selinux;
  const char *apparmor;
};
#define LABEL_EXEC_INIT                                                                            \
  {                                                                                                \
    -1, -1, NULL, NULL                                                                             \
  }

/* In the container's process, root already the container's: open the
   attr files of the labels p asks for through a verified /proc. */
int label_exec_prepare (const oci_process *p, struct label_exec *x, skiff_error_t *err);
/* Write them: they apply from the next execve. */
int label_exec_apply (struct label_exec *x, skiff_error_t *err);
void label_exec_release (struct label_exec *x);

/* SELinux label of the keys this process creates from now on (its new
   session keyring): p's label; NULL resets it.  A no-op unless
   label_check_config() approved p's label. */
int label_keyring (const oci_process *p, skiff_error_t *err);

/* selinux.c / selinux-stub.c */
bool selinux_host_enabled (void);
/* Refuse label unless it can be applied here; *raw gets its raw form
   (malloc'd), translated by libselinux when the host translates labels. */
int selinux_check_label (const char *field, const char *label, char **raw, skiff_error_t *err);

/* apparmor.c */
bool apparmor_host_enabled (void);
bool apparmor_profile_loaded (const char *name);

#endif

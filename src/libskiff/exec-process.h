/* What `exec` runs: the process.json given with --process, or the
   container's own process with the command line's overrides. */
#ifndef SKIFF_EXEC_PROCESS_H
#define SKIFF_EXEC_PROCESS_H

#include <stdbool.h>

#include "ocispec.h"
#include "resctrl.h"
#include "skiff.h"

struct exec_target
{
  oci_config *config;           /* the container's config */
  oci_process *process;         /* what to run */
  pid_t pid;                    /* the container's init */
  unsigned long long pid_start; /* its start time, which proves it */
  const char *id;
  bool no_new_keyring; /* create had --no-new-keyring */
  struct skiff_cgroup *cgroup;
  struct resctrl_group rdt; /* name NULL: no linux.intelRdt */
};

int exec_target_open (struct skiff_context *ctx, const char *id, const struct skiff_exec_opts *opts,
                      struct exec_target *t, skiff_error_t *err);
void exec_target_release (struct exec_target *t);
/* NULL-terminated environment for execve (HOME is added in the
   container, from its /etc/passwd). */
/* env_len + EXEC_ENV_SPARE slots: the NULL, and room for HOME. */
#define EXEC_ENV_SPARE 2
char **exec_build_env (const oci_process *p);

#endif

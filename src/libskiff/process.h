/* The process attributes of config.json's `process` (and exec's
   process.json), applied in the container's init or exec'd child. */
#ifndef SKIFF_PROCESS_H
#define SKIFF_PROCESS_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "ocispec.h"

/* Attributes that need privilege or the host's /proc: rlimits,
   oom_score_adj, personality, ioPriority, scheduler, initial CPU affinity. */
int process_apply_early (const oci_process *p, skiff_error_t *err);
int process_apply_personality (const oci_linux *l, skiff_error_t *err);
/* Drop every entry of env[0..n) whose name comes again later, keeping the
   order of the last ones (as runc: the last value wins, so a manager's
   process.json that repeats a name gets the value it put last); the freed
   slots become NULL.  Returns the new count. */
size_t process_env_dedup (char **env, size_t n);
/* PATH from process.env, or the usual default. */
const char *process_env_path (const oci_process *p);
/* How a candidate for args[0] looked where it was searched. */
enum exec_probe
{
  EXEC_MISSING,
  EXEC_NOT_EXECUTABLE,
  EXEC_OK,
};
typedef enum exec_probe (*exec_probe_fn) (void *data, const char *path);
/* Resolve args[0] (PATH from process.env) with probe: the one place of the
   messages, shared by the init (after the pivot) and check (in the rootfs). */
int process_find_exec (const oci_process *p, exec_probe_fn probe, void *data, char out[PATH_MAX],
                       skiff_error_t *err);
/* process_find_exec in the current root and cwd. */
int process_resolve_exec (const oci_process *p, char path_out[PATH_MAX], skiff_error_t *err);
/* chdir into process.cwd, resolved inside the current root with no magic
   links (CVE-2024-21626: a leaked fd as cwd). */
int process_chdir (const oci_process *p, skiff_error_t *err);
/* Bounding set, user/groups, the other capability sets, umask.  Call with
   seccomp_before_caps when the filter must be loaded while we still may. */
int process_drop_privileges (const oci_process *p, skiff_error_t *err);
int process_set_no_new_privs (skiff_error_t *err);
/* Validate capability names; unknown names are warned about and skipped
   (as runc does) unless strict. */
int process_check_caps (const oci_process *p, bool strict, skiff_error_t *err);
/* What setrlimit in the init would refuse: an unknown type, soft above
   hard, open files above the kernel's fs.nr_open. */
int process_check_rlimits (const oci_process *p, skiff_error_t *err);
/* RLIMIT_NOFILE for "RLIMIT_NOFILE"; -1 for a name it does not know. */
int process_rlimit_resource (const char *name);
/* process.ioPriority: a known class and a level of 0-7 (0 when absent). */
int process_check_io_priority (const oci_process *p, skiff_error_t *err);
/* The five sets of c (or none) with their config names, in order. */
struct process_capset
{
  const char *field;
  char **names;
  size_t len;
};
size_t process_cap_sets (const oci_capabilities *c, struct process_capset out[5]);
/* Whether the runtime's bounding set has the capability (true for names
   it does not know, and before process_caps_load). */
bool process_cap_granted (const char *name);
#define PROCESS_CAP_WITHHELD                                                                       \
  "is not in the runtime's capability bounding set (the host, or the container skiff runs in, "    \
  "withholds it): the process gets the other capabilities"
/* Load libcap (dlopen); create and exec call it, through
   process_check_caps or directly, before the clone or fork of a process
   that enters a container. */
int process_caps_load (skiff_error_t *err);
/* The CAP_* names this kernel knows, upper case (features). */
char **process_cap_names (size_t *n);
/* Last fd the container may keep; everything above gets CLOEXEC. */
int process_cloexec_from (int first_fd, skiff_error_t *err);

/* Add HOME (from the container's /etc/passwd, else "/") when env, a
   NULL-terminated array of cap slots, has none: the entry is written into
   buf, which must live until the execve.  Uses no heap. */
#define PROCESS_HOME_MAX (PATH_MAX + 8)
void process_set_home (char **env, size_t cap, const oci_process *p, char buf[PROCESS_HOME_MAX]);
/* A session keyring of the container's ("_ses.<id>", as runc names it),
   so the process cannot read the host's or the runtime's keys: for the
   init and for exec, unless create had --no-new-keyring. */
int process_join_session_keyring (const oci_process *p, const char *id, skiff_error_t *err);
/* clone3 (clone on kernels without it) of a plain child with `flags`
   (CLONE_NEW*).  With cgroup_fd >= 0 the child is born in that cgroup
   (CLONE_INTO_CGROUP) and *born_in says so: it never runs in ours, and no
   cgroup.procs write is needed.  Any refusal of that (an old kernel, a
   cgroup the kernel will not clone into) falls back to a plain clone, and
   the caller moves the child. */
pid_t process_clone (int flags, int cgroup_fd, bool *born_in);
int process_apply_final_affinity (const oci_process *p, skiff_error_t *err);

#endif

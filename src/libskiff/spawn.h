/* Creating a container's init: the runtime side (spawn.c) clones the
   process and serves it over the sync socket; the container side (init.c)
   sets the container up, waits for `start`, and execs the user process. */
#ifndef SKIFF_SPAWN_H
#define SKIFF_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "mempolicy.h"
#include "namespaces.h"
#include "ocispec.h"
#include "rootfs.h"

struct seccomp_prog;

struct create_job
{
  const char *id;
  const char *bundle; /* absolute */
  const oci_config *config;
  struct ns_plan ns;
  bool two_stage;   /* namespaces are joined or a pid/time ns needs a fork */
  int sync_fd;      /* child's end */
  int cgroup_fd;    /* cgroup_open_leaf(): the init is born there, or -1 */
  int fifo_fd;      /* <state>/exec.fifo, read-write; -1 for none */
  int preserve_fds; /* fds 3 .. 3+n-1 stay open in the container */
  bool no_new_keyring;
  bool run_hooks_sync;      /* prestart/createRuntime hooks need a stop */
  bool needs_state;         /* createContainer/startContainer hooks: get SYNC_STATE */
  char *state_json;         /* received with SYNC_STATE: status creating */
  char *state_json_created; /* the same with status created */
  struct seccomp_prog *seccomp;
  char **env;     /* process.env plus what the runtime adds */
  size_t env_cap; /* env's slots: room for HOME */
  char **argv;    /* process.args, NULL-terminated */
  /* linux.memoryPolicy, checked against the host: the init only makes
     the system call. */
  struct mempolicy_plan mempolicy;
  /* The rootfs, planned by the runtime before the clone: the init only
     reads the plan, so its pages stay shared, and a bad mount fails
     before anything exists. */
  struct rootfs_spec rootfs_spec;
  struct mount_plan mounts;
  int *mount_fds; /* rootfs_open_bind_trees(), with a user namespace */
  struct mountinfo *host_mounts;
  size_t host_mounts_len;
};

struct spawn_result
{
  pid_t pid;   /* the container init, in our pid namespace */
  int console; /* pty master for terminal containers, else -1 */
};

/* The runtime's hooks into the protocol: build the state JSON once the pid
   is known, and run prestart + createRuntime hooks. */
struct spawn_callbacks
{
  char *(*state_json) (void *data, pid_t pid, const char *status);
  int (*run_runtime_hooks) (void *data, pid_t pid, skiff_error_t *err);
  /* born_in: clone3 put the process in its cgroup (CLONE_INTO_CGROUP) */
  int (*enter_cgroup) (void *data, pid_t pid, bool born_in, skiff_error_t *err);
  /* the init is in its network namespace and waits for GO */
  int (*setup_network) (void *data, pid_t pid, skiff_error_t *err);
  void *data;
};

/* Runtime side: clone the init and drive it until it is ready for start.
   On failure the process is killed and reaped. */
int spawn_container (struct create_job *job, const struct spawn_callbacks *cb,
                     struct spawn_result *out, skiff_error_t *err);

/* Child side: never returns. */
__attribute__ ((noreturn)) void init_main (struct create_job *job);

/* Test-only fault injection: when SKIFF_TEST_FAIL_AT names `step`, fail
   there.  Lets the suite prove that every step unwinds. */
int fault_inject (const char *step, skiff_error_t *err);

#endif

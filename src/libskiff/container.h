/* Library-internal helpers shared by the lifecycle verbs. */
#ifndef SKIFF_CONTAINER_H
#define SKIFF_CONTAINER_H

#include "ocispec.h"
#include "skiff.h"
#include "state.h"

enum verb
{
  VERB_START,
  VERB_KILL,
  VERB_DELETE,
  VERB_EXEC,
  VERB_PAUSE,
  VERB_RESUME,
  VERB_KILL_ALL, /* kill --all */
  VERB_COUNT,
};

/* The one table of which verb each status allows (lifecycle.c). */
int container_check_allowed (const char *id, container_status s, enum verb v, skiff_error_t *err);

static inline void
oci_config_freep (oci_config **p)
{
  oci_config_free (*p);
}
#define cleanup_oci_config __attribute__ ((cleanup (oci_config_freep)))

/* The state document of runtime-spec (plus runc's rootfs/created/owner when
   `full`), as JSON. */
char *container_state_json (const skiff_status *st, pid_t pid, const char *status, bool full,
                            bool pretty);
/* Load the config a container was created from (<state>/config.json). */
int container_load_config (struct state_dir *sd, oci_config **out, skiff_error_t *err);
/* Parse <path> with errors as "<path>:line:col: json.path: message". */
int config_load_file (const char *path, oci_config **out, char **raw, size_t *raw_len,
                      skiff_error_t *err);
/* Why a container has no cgroup ("it has no cgroup", or rootless's
   reason), for the verbs that need one. */
const char *container_no_cgroup (const skiff_status *st);
/* Kill the container's processes and wait until the init is gone. */
int container_kill_and_wait (const skiff_status *st, skiff_error_t *err);
/* Run poststart/poststop-style hooks whose failure is only a warning. */
void container_hooks_warn (const char *phase, oci_hook **hooks, size_t n, const char *state_json,
                           const char *cwd);

#endif

#include <signal.h>
/* Block forwardable signals; returns a signalfd for them. */
int skiff_block_signals (sigset_t *old);
/* Forward signals to pid, proxy the console, until pid exits. */
int skiff_wait_forwarding (pid_t pid, int console, int sfd, int *status);

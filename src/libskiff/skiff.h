/* libskiff: the runtime library under the skiff CLI.  Only what is declared
   here is visible outside the library. */
#ifndef SKIFF_H
#define SKIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

#define SKIFF_PUBLIC __attribute__ ((visibility ("default")))
#define SKIFF_DEFAULT_ROOT "/run/skiff"

struct skiff_context
{
  /* state directory, one subdirectory per container; NULL until
     skiff_context_resolve(), and after it when a rootless caller has no
     XDG_RUNTIME_DIR (the commands that need state then say so) */
  const char *root;
  bool debug;
  bool systemd_cgroup;
  int rootless;     /* --rootless: 1 true, 0 false, -1 auto */
  bool rootless_on; /* what it resolved to (skiff_context_resolve) */
};

/* Resolve --rootless auto (an effective uid other than 0, or a user
   namespace other than the initial one) and, when root is NULL, the
   default state root: SKIFF_DEFAULT_ROOT, or for a rootless caller other
   than the host's root $XDG_RUNTIME_DIR/skiff (root of a user namespace
   without XDG_RUNTIME_DIR: SKIFF_DEFAULT_ROOT). */
SKIFF_PUBLIC void skiff_context_resolve (struct skiff_context *ctx);

/* "+SECCOMP +SELINUX +CAP ..." for --version. */
SKIFF_PUBLIC const char *skiff_build_features (void);

/* spec: write the default config.json into bundle (refuses to overwrite). */
SKIFF_PUBLIC int skiff_spec_write (const char *bundle, bool rootless, skiff_error_t *err);
/* The default config as a JSON string (static storage is not used: free);
   rootless: uid and gid are mapped to root; cgroupns: with a cgroup
   namespace (runc's default on a cgroup v2 host). */
SKIFF_PUBLIC char *skiff_spec_default (bool rootless, uid_t uid, gid_t gid, bool cgroupns);

/* ---- lifecycle ---- */

struct skiff_create_opts
{
  const char *bundle;         /* default "." */
  const char *pid_file;       /* NULL: none */
  const char *console_socket; /* NULL: none */
  const char *pidfd_socket;   /* NULL: none; receives a pidfd of the init */
  int preserve_fds;
  bool no_pivot;
  bool no_new_keyring;
  bool foreground; /* run: keep the pty master and the init as our child */
};

struct skiff_created
{
  pid_t pid;
  int console; /* pty master kept for a foreground run, else -1 */
};

SKIFF_PUBLIC int skiff_container_create (struct skiff_context *ctx, const char *id,
                                         const struct skiff_create_opts *opts,
                                         struct skiff_created *out, skiff_error_t *err);
SKIFF_PUBLIC int skiff_container_start (struct skiff_context *ctx, const char *id,
                                        skiff_error_t *err);
/* JSON of `skiff state`. */
SKIFF_PUBLIC int skiff_container_state (struct skiff_context *ctx, const char *id, char **json,
                                        skiff_error_t *err);
SKIFF_PUBLIC int skiff_container_kill (struct skiff_context *ctx, const char *id, int sig, bool all,
                                       skiff_error_t *err);
SKIFF_PUBLIC int skiff_container_delete (struct skiff_context *ctx, const char *id, bool force,
                                         skiff_error_t *err);

struct skiff_list_entry
{
  char *id;
  pid_t pid;
  char *status;
  char *bundle;
  char *created;
  char *owner;
  char *json; /* the state document */
};
SKIFF_PUBLIC int skiff_container_list (struct skiff_context *ctx, struct skiff_list_entry **out,
                                       size_t *n, skiff_error_t *err);
SKIFF_PUBLIC void skiff_list_free (struct skiff_list_entry *l, size_t n);

/* Signal names with or without SIG, or numbers. */
SKIFF_PUBLIC int skiff_parse_signal (const char *s, skiff_error_t *err);

struct skiff_exec_opts
{
  const char *process_file; /* --process */
  char **args;              /* CMD... when no process file */
  const char *console_socket;
  const char *pid_file;
  const char *cwd;
  char **env;
  size_t env_len;
  const char *user; /* UID[:GID] */
  char **additional_gids;
  size_t additional_gids_len;
  char **caps;
  size_t caps_len;
  const char *process_label;
  const char *apparmor;
  int preserve_fds;
  int tty; /* -1 unset, 0, 1 */
  bool no_new_privs;
  bool detach;
  const char *pidfd_socket; /* receives a pidfd of the process */
  char **cgroups;           /* --cgroup [CTRL[,CTRL]:]PATH, below the container's */
  size_t cgroups_len;
  bool ignore_paused; /* exec into a paused container (the process starts frozen) */
};
/* Attached: returns the process's exit status (128+sig when killed) in
 *status.  Detached: *status is 0. */
SKIFF_PUBLIC int skiff_container_exec (struct skiff_context *ctx, const char *id,
                                       const struct skiff_exec_opts *opts, int *status,
                                       skiff_error_t *err);
/* run: create + start, wait and forward signals; *status as for exec. */
struct skiff_run_opts
{
  bool detach;
  bool keep;         /* --keep: no delete after the process exits */
  bool no_subreaper; /* do not adopt the container's orphans (runc's default does) */
};
SKIFF_PUBLIC int skiff_container_run (struct skiff_context *ctx, const char *id,
                                      const struct skiff_create_opts *opts,
                                      const struct skiff_run_opts *run, int *status,
                                      skiff_error_t *err);

/* ---- through the container's cgroup ---- */

/* Freeze / thaw every process of the container (v1 freezer, v2
   cgroup.freeze); state reports "paused" meanwhile. */
SKIFF_PUBLIC int skiff_container_pause (struct skiff_context *ctx, const char *id,
                                        skiff_error_t *err);
SKIFF_PUBLIC int skiff_container_resume (struct skiff_context *ctx, const char *id,
                                         skiff_error_t *err);
/* Every process of the container (malloc'd). */
SKIFF_PUBLIC int skiff_container_pids (struct skiff_context *ctx, const char *id, pid_t **pids,
                                       size_t *n, skiff_error_t *err);
/* json: a runtime-spec LinuxResources object (what containerd sends to
   `update -r`); its members replace the container's and are applied. */
SKIFF_PUBLIC int skiff_container_update (struct skiff_context *ctx, const char *id,
                                         const char *json, size_t len, skiff_error_t *err);
/* update --l3-cache-schema / --mem-bw-schema (linux.intelRdt; NULL: not
   given), checked before any limit changes, as runc does. */
SKIFF_PUBLIC int skiff_container_update_intel_rdt (struct skiff_context *ctx, const char *id,
                                                   const char *l3_cache_schema,
                                                   const char *mem_bw_schema, skiff_error_t *err);
/* One runc stats event: {"type":"stats","id":...,"data":{...}}. */
SKIFF_PUBLIC int skiff_container_stats (struct skiff_context *ctx, const char *id, char **json,
                                        skiff_error_t *err);
/* Stats every interval_ms and {"type":"oom"} events through emit until the
   container stops (or emit returns < 0). */
SKIFF_PUBLIC int skiff_container_events (struct skiff_context *ctx, const char *id,
                                         unsigned interval_ms,
                                         int (*emit) (const char *json, void *data), void *data,
                                         skiff_error_t *err);

/* ---- bundle debugging ---- */

#include "ocispec.h"

enum
{
  SKIFF_DIAG_ERROR = OCI_DIAG_ERROR,
  SKIFF_DIAG_WARNING = OCI_DIAG_WARNING,
};

struct skiff_diag
{
  int severity;       /* SKIFF_DIAG_* */
  unsigned line, col; /* in config.json, 1-based; 0 when unknown */
  char *path;         /* JSON path ("mounts[2].destination"), "" for the document */
  char *msg;
  char *hint; /* one line saying how to fix it, or NULL */
};

struct skiff_check_report
{
  char *file;               /* config.json as the diagnostics name it */
  struct skiff_diag *items; /* sorted by position, unknown positions last */
  size_t len, cap;
  size_t errors, warnings;
};

/* Every problem of bundle/config.json (errors and host warnings) into r;
   -1 only when the file cannot be read. */
SKIFF_PUBLIC int skiff_check_bundle (const char *bundle, struct skiff_check_report *r,
                                     skiff_error_t *err);
/* The report as text ("file:line:col: error: path: msg" + "  hint: ..."
   lines and a summary) or as one JSON object.  malloc'd. */
SKIFF_PUBLIC char *skiff_check_format (const struct skiff_check_report *r, bool json);
SKIFF_PUBLIC void skiff_check_report_free (struct skiff_check_report *r);
/* `check --plan`: what create would do with the bundle on this host, in
   order, described from the plan data create executes.  id names the
   container for the cgroup path (NULL: "<id>"). */
SKIFF_PUBLIC int skiff_plan_bundle (struct skiff_context *ctx, const char *bundle, const char *id,
                                    char **text, skiff_error_t *err);
/* The runtime-spec features document of this build and host. */
SKIFF_PUBLIC char *skiff_features_json (void);

#endif

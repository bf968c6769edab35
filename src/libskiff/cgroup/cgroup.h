/* cgroup manager: the layout of the host (v2, hybrid, v1) is detected once,
   and a backend behind a small vtable does the work for one container. */
#ifndef SKIFF_CGROUP_H
#define SKIFF_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "ocispec.h"
#include "strbuf.h"

enum cgroup_layout
{
  CGROUP_LAYOUT_V2 = 0, /* cgroup2 alone at /sys/fs/cgroup */
  CGROUP_LAYOUT_HYBRID, /* v1 controllers plus cgroup2 at /sys/fs/cgroup/unified */
  CGROUP_LAYOUT_V1,
};

struct skiff_cgroup;

/* exec --cgroup "[CTRL[,CTRL]:]PATH": PATH below the container's cgroup
   for the hierarchies of those controllers (ctrls NULL: every one). */
struct cgroup_sub
{
  const char *ctrls;
  const char *path;
};

struct cgroup_ops
{
  const char *name;
  int (*create) (struct skiff_cgroup *cg, skiff_error_t *err);
  int (*enter) (struct skiff_cgroup *cg, pid_t pid, skiff_error_t *err);
  int (*kill_all) (struct skiff_cgroup *cg, int sig, skiff_error_t *err);
  int (*freeze) (struct skiff_cgroup *cg, bool frozen, skiff_error_t *err);
  int (*is_frozen) (struct skiff_cgroup *cg, bool *frozen);
  /* pids: malloc'd array */
  int (*pids) (struct skiff_cgroup *cg, pid_t **pids, size_t *n, skiff_error_t *err);
  int (*destroy) (struct skiff_cgroup *cg, skiff_error_t *err);
  /* linux.resources (NULL: only the default device rules).  update: the
     container runs (checkBeforeUpdate; devices only when given). */
  int (*apply) (struct skiff_cgroup *cg, const oci_resources *r, bool update, skiff_error_t *err);
  /* The "data" object of runc's stats event. */
  int (*stats) (struct skiff_cgroup *cg, struct skiff_strbuf *out, skiff_error_t *err);
  uint64_t (*oom_kills) (struct skiff_cgroup *cg);
  /* Optional: an fd of the one directory a process must be in, for
     clone3 (CLONE_INTO_CGROUP); -1 when there is no such directory. */
  int (*open_leaf) (struct skiff_cgroup *cg);
  /* exec --cgroup: enter sub-cgroups of the container's (checked). */
  int (*enter_sub) (struct skiff_cgroup *cg, pid_t pid, const struct cgroup_sub *subs, size_t n,
                    skiff_error_t *err);
};

struct skiff_cgroup
{
  const struct cgroup_ops *ops;
  enum cgroup_layout layout;
  char *path;   /* absolute inside each hierarchy, e.g. "/skiff/ctr" */
  bool systemd; /* a struct sd_cgroup (systemd-driver.c) */
};

enum cgroup_layout cgroup_detect_layout (void);
const char *cgroup_layout_name (enum cgroup_layout l);

/* Resolve cgroupsPath (absolute, relative to our own cgroup, or default
   "/<id>") and pick the backend.  Nothing is created yet. */
int cgroup_new (const char *cgroups_path, const char *id, struct skiff_cgroup **out,
                skiff_error_t *err);
/* --systemd-cgroup: cgroupsPath is "slice:prefix:name"; the scope unit
   is started when the init enters it. */
int cgroup_new_systemd (const char *cgroups_path, const char *id, struct skiff_cgroup **out,
                        skiff_error_t *err);
struct skiff_cgroup *cgroup_systemd_from_path (const char *path);
void cgroup_systemd_free (struct skiff_cgroup *cg);
/* Rebuild from a stored path (state file); a systemd scope path
   ("/x.slice/y.scope") on a host running systemd gets the systemd driver. */
struct skiff_cgroup *cgroup_from_path (const char *path);
void cgroup_free (struct skiff_cgroup *cg);
#define cleanup_cgroup __attribute__ ((cleanup (cgroup_freep)))
void cgroup_freep (struct skiff_cgroup **cg);

/* Refuse a cgroup that already holds processes, in any hierarchy, itself
   or below it: they are not the container's, and its kill and delete
   would reach them (a container named `system.slice`).  Call before
   anything of the container is recorded. */
int cgroup_refuse_busy (struct skiff_cgroup *cg, skiff_error_t *err);
int cgroup_create (struct skiff_cgroup *cg, skiff_error_t *err);
int cgroup_enter (struct skiff_cgroup *cg, pid_t pid, skiff_error_t *err);
/* Parse one --cgroup value into sub (pointing into arg, which it edits). */
int cgroup_parse_sub (char *arg, struct cgroup_sub *sub, skiff_error_t *err);
int cgroup_enter_sub (struct skiff_cgroup *cg, pid_t pid, const struct cgroup_sub *subs, size_t n,
                      skiff_error_t *err);
/* On cgroup v2, the cgroup pid is in now (its "0::" line), or NULL. */
char *cgroup_v2_path_of (pid_t pid);
/* A cgroup2 directory fd for clone3 (CLONE_INTO_CGROUP), so that the init
   is born in its cgroup and cgroup_enter() is not needed: only where one
   directory holds every controller (pure v2, cgroupfs driver).  -1 else,
   or when it cannot be opened (the caller then uses cgroup_enter()). */
int cgroup_open_leaf (struct skiff_cgroup *cg);
/* Signal every process; kills in a loop until the cgroup is empty when
   sig is SIGKILL. */
int cgroup_kill_all (struct skiff_cgroup *cg, int sig, skiff_error_t *err);
int cgroup_freeze (struct skiff_cgroup *cg, bool frozen, skiff_error_t *err);
bool cgroup_is_frozen (struct skiff_cgroup *cg);
int cgroup_pids (struct skiff_cgroup *cg, pid_t **pids, size_t *n, skiff_error_t *err);
/* Remove the cgroup (kills leftovers first).  ENOENT is success. */
int cgroup_destroy (struct skiff_cgroup *cg, skiff_error_t *err);
/* Apply linux.resources; errors name the `linux.resources.<key>`. */
int cgroup_apply (struct skiff_cgroup *cg, const oci_resources *r, bool update, skiff_error_t *err);
int cgroup_stats_json (struct skiff_cgroup *cg, struct skiff_strbuf *out, skiff_error_t *err);
uint64_t cgroup_oom_kills (struct skiff_cgroup *cg);
/* What this host cannot apply of r, one warning per key, through cb. */
void cgroup_check_resources (const oci_resources *r,
                             void (*cb) (void *data, const char *key, const char *msg), void *data);

/* Shared helpers of the backends. */
int cgroup_read_pids_file (const char *file, pid_t **pids, size_t *n, skiff_error_t *err);
/* Every pid of the cgroup directory dir and of the cgroups below it. */
int cgroup_read_pids_tree (const char *dir, pid_t **pids, size_t *n, skiff_error_t *err);
int cgroup_write_file (const char *dir, const char *name, const char *value, skiff_error_t *err);
/* mkdir -p of dir, calling init_level(dir_so_far) for each new level. */
int cgroup_mkdir_p (const char *mount, const char *path,
                    int (*init_level) (const char *parent, const char *dir, skiff_error_t *err),
                    skiff_error_t *err);
/* rmdir the leaf and then each empty parent up to (not including) the
   first level that already existed is not tracked: only the leaf. */
int cgroup_rmdir (const char *dir, skiff_error_t *err);
/* Enable in each level from mount down to the leaf's parent the
   controllers that level has (best effort: the no-internal-process rule
   may refuse). */
void cgroup_v2_enable_controllers (const char *mount, const char *path);
/* Wait up to ~2 s until cgroup.events says "frozen <want>". */
int cgroup_v2_wait_frozen (int dfd, bool want);

/* v1 and hybrid hosts: the mount point of the hierarchy that has ctrl (a
   v1 one first, else the cgroup2 mount), or NULL. */
const char *cgroup_v1_mount_of (const char *ctrl);
/* v1 and hybrid hosts: the mount points of every hierarchy (at most max). */
size_t cgroup_v1_mounts (const char **out, size_t max);

extern const struct cgroup_ops cgroup_v1_ops;
extern const struct cgroup_ops cgroup_v2_ops;
extern const struct cgroup_ops cgroup_systemd_ops;

#endif

/* cgroup v2 backend (cgroup2 alone at /sys/fs/cgroup). */
#include "config.h"
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"

#define V2_ROOT "/sys/fs/cgroup"

static void
v2_dir (struct skiff_cgroup *cg, char *out, size_t len)
{
  snprintf (out, len, V2_ROOT "%s", cg->path);
}

/* Enable in the parent every controller it has, so the leaf gets them. */
static int
v2_init_level (const char *parent, const char *dir, skiff_error_t *err)
{
  char p[PATH_MAX], *ctrls = NULL;
  snprintf (p, sizeof p, "%s/cgroup.controllers", parent);
  cleanup_close int fd = open (p, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || read_all_fd (fd, &ctrls, NULL, 1 << 16) < 0)
    return 0;
  cleanup_free char *owned = ctrls;
  char *save = NULL;
  for (char *tok = strtok_r (ctrls, " \n", &save); tok;
       tok = strtok_r (NULL, " \n", &save))
    {
      char buf[64];
      snprintf (buf, sizeof buf, "+%s", tok);
      /* Best effort per controller: a parent with processes in it (no
         internal process rule) refuses, and the leaf then simply lacks it. */
      skiff_error_t ignored = NULL;
      cgroup_write_file (parent, "cgroup.subtree_control", buf, &ignored);
      skiff_error_free (&ignored);
    }
  (void) dir;
  (void) err;
  return 0;
}

static int
v2_create (struct skiff_cgroup *cg, skiff_error_t *err)
{
  return cgroup_mkdir_p (V2_ROOT, cg->path, v2_init_level, err);
}

static int
v2_enter (struct skiff_cgroup *cg, pid_t pid, skiff_error_t *err)
{
  char dir[PATH_MAX], buf[32];
  v2_dir (cg, dir, sizeof dir);
  snprintf (buf, sizeof buf, "%d", (int) pid);
  return cgroup_write_file (dir, "cgroup.procs", buf, err);
}

static int
v2_pids (struct skiff_cgroup *cg, pid_t **pids, size_t *n, skiff_error_t *err)
{
  char p[PATH_MAX];
  snprintf (p, sizeof p, V2_ROOT "%s/cgroup.procs", cg->path);
  return cgroup_read_pids_file (p, pids, n, err);
}

static int
v2_freeze (struct skiff_cgroup *cg, bool frozen, skiff_error_t *err)
{
  char dir[PATH_MAX];
  v2_dir (cg, dir, sizeof dir);
  return cgroup_write_file (dir, "cgroup.freeze", frozen ? "1" : "0", err);
}

static int
v2_is_frozen (struct skiff_cgroup *cg, bool *frozen)
{
  char p[PATH_MAX], *s = NULL;
  snprintf (p, sizeof p, V2_ROOT "%s/cgroup.freeze", cg->path);
  cleanup_close int fd = open (p, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || read_all_fd (fd, &s, NULL, 64) < 0)
    return -1;
  *frozen = s[0] == '1';
  free (s);
  return 0;
}

static int
v2_kill_all (struct skiff_cgroup *cg, int sig, skiff_error_t *err)
{
  char dir[PATH_MAX];
  v2_dir (cg, dir, sizeof dir);
  if (sig == SIGKILL && access (dir, F_OK) == 0)
    {
      /* cgroup.kill (5.14+) kills atomically, forks included. */
      skiff_error_t e = NULL;
      if (cgroup_write_file (dir, "cgroup.kill", "1", &e) == 0)
        return 0;
      skiff_error_free (&e);
    }
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  if (v2_pids (cg, &pids, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    kill (pids[i], sig);
  return 0;
}

static int
v2_destroy (struct skiff_cgroup *cg, skiff_error_t *err)
{
  char dir[PATH_MAX];
  v2_dir (cg, dir, sizeof dir);
  if (access (dir, F_OK) < 0)
    return 0;
  if (v2_kill_all (cg, SIGKILL, err) < 0)
    return -1;
  return cgroup_rmdir (dir, err);
}

const struct cgroup_ops cgroup_v2_ops = {
  .name = "cgroupfs-v2",
  .create = v2_create,
  .enter = v2_enter,
  .kill_all = v2_kill_all,
  .freeze = v2_freeze,
  .is_frozen = v2_is_frozen,
  .pids = v2_pids,
  .destroy = v2_destroy,
};

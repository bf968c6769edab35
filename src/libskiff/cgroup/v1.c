/* cgroup v1 backend, also used on hybrid hosts where the cgroup2 mount at
   /sys/fs/cgroup/unified is joined alongside the v1 controllers. */
#include "config.h"
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include "cleanup.h"
#include "fsutil.h"

#define V1_ROOT "/sys/fs/cgroup"
#define MAX_HIERARCHIES 24

/* Names of the mounted hierarchies under /sys/fs/cgroup (symlinks such as
   cpu -> cpu,cpuacct are skipped so each hierarchy appears once). */
static size_t
v1_hierarchies (char names[][64], size_t max)
{
  cleanup_closedir DIR *d = opendir (V1_ROOT);
  struct dirent *de;
  size_t n = 0;
  if (d == NULL)
    return 0;
  while ((de = readdir (d)) && n < max)
    {
      char p[PATH_MAX];
      struct statfs st;
      if (de->d_type != DT_DIR || de->d_name[0] == '.')
        continue;
      snprintf (p, sizeof p, V1_ROOT "/%s", de->d_name);
      if (statfs (p, &st) < 0)
        continue;
      if (st.f_type != CGROUP_SUPER_MAGIC && st.f_type != CGROUP2_SUPER_MAGIC)
        continue;
      if (strlen (de->d_name) >= 64)
        continue;
      memcpy (names[n++], de->d_name, strlen (de->d_name) + 1);
    }
  return n;
}

static void
v1_dir (struct skiff_cgroup *cg, const char *h, char *out, size_t len)
{
  snprintf (out, len, V1_ROOT "/%s%s", h, cg->path);
}

/* A new cpuset cgroup is unusable until cpus and mems are set: copy them
   from the parent. */
static int
cpuset_init_level (const char *parent, const char *dir, skiff_error_t *err)
{
  static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
  for (size_t i = 0; i < 2; i++)
    {
      char p[PATH_MAX], *v = NULL;
      snprintf (p, sizeof p, "%s/%s", parent, files[i]);
      cleanup_close int fd = open (p, O_RDONLY | O_CLOEXEC);
      if (fd < 0 || read_all_fd (fd, &v, NULL, 1 << 16) < 0)
        return skiff_error (err, errno, "read `%s`", p);
      cleanup_free char *owned = v;
      if (cgroup_write_file (dir, files[i], v, err) < 0)
        return -1;
    }
  return 0;
}

static int
v1_create (struct skiff_cgroup *cg, skiff_error_t *err)
{
  char names[MAX_HIERARCHIES][64];
  size_t n = v1_hierarchies (names, MAX_HIERARCHIES);
  for (size_t i = 0; i < n; i++)
    {
      char root[PATH_MAX];
      snprintf (root, sizeof root, V1_ROOT "/%s", names[i]);
      bool cpuset = strstr (names[i], "cpuset") != NULL;
      if (cgroup_mkdir_p (root, cg->path, cpuset ? cpuset_init_level : NULL, err) < 0)
        return -1;
    }
  return 0;
}

static int
v1_enter (struct skiff_cgroup *cg, pid_t pid, skiff_error_t *err)
{
  char names[MAX_HIERARCHIES][64], buf[32];
  size_t n = v1_hierarchies (names, MAX_HIERARCHIES);
  snprintf (buf, sizeof buf, "%d", (int) pid);
  for (size_t i = 0; i < n; i++)
    {
      char dir[PATH_MAX];
      v1_dir (cg, names[i], dir, sizeof dir);
      if (cgroup_write_file (dir, "cgroup.procs", buf, err) < 0)
        return -1;
    }
  return 0;
}

static int
v1_pids (struct skiff_cgroup *cg, pid_t **pids, size_t *n, skiff_error_t *err)
{
  char names[MAX_HIERARCHIES][64];
  size_t nh = v1_hierarchies (names, MAX_HIERARCHIES);
  const char *h = nh ? names[0] : "memory";
  for (size_t i = 0; i < nh; i++)
    if (strcmp (names[i], "pids") == 0 || strcmp (names[i], "memory") == 0)
      h = names[i];
  char p[PATH_MAX];
  snprintf (p, sizeof p, V1_ROOT "/%s%s/cgroup.procs", h, cg->path);
  return cgroup_read_pids_file (p, pids, n, err);
}

static int
v1_freeze (struct skiff_cgroup *cg, bool frozen, skiff_error_t *err)
{
  char dir[PATH_MAX];
  v1_dir (cg, "freezer", dir, sizeof dir);
  if (cgroup_write_file (dir, "freezer.state", frozen ? "FROZEN" : "THAWED", err) < 0)
    return -1;
  /* FREEZING is transient: wait until the kernel reports the final state. */
  for (int i = 0; i < 1000; i++)
    {
      bool now;
      if (cg->ops->is_frozen (cg, &now) < 0 || now == frozen)
        return 0;
      struct timespec ts = { 0, 1000 * 1000 };
      nanosleep (&ts, NULL);
      if (frozen)
        cgroup_write_file (dir, "freezer.state", "FROZEN", NULL);
    }
  return skiff_error (err, EBUSY, "freeze `%s`: timed out", cg->path);
}

static int
v1_is_frozen (struct skiff_cgroup *cg, bool *frozen)
{
  char p[PATH_MAX], *s = NULL;
  snprintf (p, sizeof p, V1_ROOT "/freezer%s/freezer.state", cg->path);
  cleanup_close int fd = open (p, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || read_all_fd (fd, &s, NULL, 64) < 0)
    return -1;
  *frozen = strncmp (s, "FROZEN", 6) == 0;
  free (s);
  return 0;
}

static void
signal_all (struct skiff_cgroup *cg, int sig)
{
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  if (v1_pids (cg, &pids, &n, NULL) < 0)
    return;
  for (size_t i = 0; i < n; i++)
    kill (pids[i], sig);
}

static int
v1_kill_all (struct skiff_cgroup *cg, int sig, skiff_error_t *err)
{
  char dir[PATH_MAX];
  v1_dir (cg, "freezer", dir, sizeof dir);
  /* Freeze first so a forking container cannot outrun the signal. */
  bool use_freezer = sig == SIGKILL && access (dir, F_OK) == 0;
  if (use_freezer && v1_freeze (cg, true, NULL) < 0)
    use_freezer = false;
  signal_all (cg, sig);
  if (use_freezer)
    v1_freeze (cg, false, NULL);
  (void) err;
  return 0;
}

static int
v1_destroy (struct skiff_cgroup *cg, skiff_error_t *err)
{
  char names[MAX_HIERARCHIES][64];
  size_t n = v1_hierarchies (names, MAX_HIERARCHIES);
  v1_kill_all (cg, SIGKILL, NULL);
  for (size_t i = 0; i < n; i++)
    {
      char dir[PATH_MAX];
      v1_dir (cg, names[i], dir, sizeof dir);
      if (cgroup_rmdir (dir, err) < 0)
        return -1;
    }
  return 0;
}

const struct cgroup_ops cgroup_v1_ops = {
  .name = "cgroupfs-v1",
  .create = v1_create,
  .enter = v1_enter,
  .kill_all = v1_kill_all,
  .freeze = v1_freeze,
  .is_frozen = v1_is_frozen,
  .pids = v1_pids,
  .destroy = v1_destroy,
};

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
#include "controllers.h"
#include "fsutil.h"

#define V2_ROOT "/sys/fs/cgroup"

static void
v2_dir (struct skiff_cgroup *cg, char *out, size_t len)
{
  snprintf (out, len, V2_ROOT "%s", cg->path);
}

static int
v2_open (struct skiff_cgroup *cg, skiff_error_t *err)
{
  char dir[PATH_MAX];
  v2_dir (cg, dir, sizeof dir);
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return skiff_error (err, errno, "open cgroup `%s`", dir);
  return fd;
}

static bool
has_word (const char *list, const char *word)
{
  size_t n = strlen (word);
  for (const char *p = list; (p = strstr (p, word)); p += n)
    if ((p == list || p[-1] == ' ' || p[-1] == '\n')
        && (p[n] == '\0' || p[n] == ' ' || p[n] == '\n'))
      return true;
  return false;
}

static void
enable_level (int dfd)
{
  cleanup_free char *have = NULL, *on = NULL;
  if (cg_read_at (dfd, "cgroup.controllers", &have, NULL) < 0)
    return;
  if (cg_read_at (dfd, "cgroup.subtree_control", &on, NULL) < 0)
    return;
  char *save = NULL;
  for (char *tok = strtok_r (have, " ", &save); tok; tok = strtok_r (NULL, " ", &save))
    {
      char buf[64];
      if (has_word (on, tok))
        continue;
      snprintf (buf, sizeof buf, "+%s", tok);
      skiff_error_t ignored = NULL;
      cg_write_at (dfd, "cgroup.subtree_control", "cgroup", buf, &ignored);
      skiff_error_free (&ignored);
    }
}

void
cgroup_v2_enable_controllers (const char *mount, const char *path)
{
  char dir[PATH_MAX];
  size_t n = (size_t)snprintf (dir, sizeof dir, "%s", mount);
  const char *p = path;
  for (;;)
    {
      cleanup_close int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      while (*p == '/')
        p++;
      size_t seg = strcspn (p, "/");
      if (fd < 0 || seg == 0 || n + 1 + seg >= sizeof dir)
        return;
      const char *next = p + seg;
      while (*next == '/')
        next++;
      if (*next == '\0')
        {
          enable_level (fd); /* the leaf's parent */
          return;
        }
      enable_level (fd);
      dir[n++] = '/';
      memcpy (dir + n, p, seg);
      n += seg;
      dir[n] = '\0';
      p = next;
    }
}

static int
v2_create (struct skiff_cgroup *cg, skiff_error_t *err)
{
  if (cgroup_mkdir_p (V2_ROOT, cg->path, NULL, err) < 0)
    return -1;
  cgroup_v2_enable_controllers (V2_ROOT, cg->path);
  return 0;
}

static int
v2_enter (struct skiff_cgroup *cg, pid_t pid, skiff_error_t *err)
{
  char dir[PATH_MAX], buf[32];
  v2_dir (cg, dir, sizeof dir);
  snprintf (buf, sizeof buf, "%d", (int)pid);
  return cgroup_write_file (dir, "cgroup.procs", buf, err);
}

static int
v2_enter_sub (struct skiff_cgroup *cg, pid_t pid, const struct cgroup_sub *subs, size_t n,
              skiff_error_t *err)
{
  char dir[PATH_MAX], buf[32];
  if (n != 1 || subs[0].ctrls)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "cgroup v2 has one hierarchy: give one --cgroup PATH, without "
                                 "controllers");
  if ((size_t)snprintf (dir, sizeof dir, V2_ROOT "%s/%s", cg->path, subs[0].path) >= sizeof dir)
    return skiff_error (err, ENAMETOOLONG, "`%s`", subs[0].path);
  snprintf (buf, sizeof buf, "%d", (int)pid);
  return cgroup_write_file (dir, "cgroup.procs", buf, err);
}

static int
v2_open_leaf (struct skiff_cgroup *cg)
{
  return v2_open (cg, NULL);
}

static int
v2_pids (struct skiff_cgroup *cg, pid_t **pids, size_t *n, skiff_error_t *err)
{
  char p[PATH_MAX];
  snprintf (p, sizeof p, V2_ROOT "%s", cg->path);
  return cgroup_read_pids_tree (p, pids, n, err);
}

int
cgroup_v2_wait_frozen (int dfd, bool want)
{
  for (int i = 0; i < 2000; i++)
    {
      uint64_t v = 0;
      if (cg_read_keyed_at (dfd, "cgroup.events", "frozen", &v) < 0)
        return 0; /* no cgroup.events: nothing to wait for */
      if ((v != 0) == want)
        return 0;
      struct timespec ts = { 0, 1000 * 1000 };
      nanosleep (&ts, NULL);
    }
  return -1;
}

static int
v2_freeze (struct skiff_cgroup *cg, bool frozen, skiff_error_t *err)
{
  cleanup_close int fd = v2_open (cg, err);
  if (fd < 0)
    return -1;
  if (cg_write_at (fd, "cgroup.freeze", "freezer", frozen ? "1" : "0", err) < 0)
    return skiff_error_wrap (err, "%s `%s`", frozen ? "freeze" : "thaw", cg->path);
  if (cgroup_v2_wait_frozen (fd, frozen) < 0)
    return skiff_error (err, ETIMEDOUT, "%s `%s`: timed out", frozen ? "freeze" : "thaw", cg->path);
  return 0;
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
signal_all (struct skiff_cgroup *cg, int sig, skiff_error_t *err)
{
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  if (v2_pids (cg, &pids, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    kill (pids[i], sig);
  return 0;
}

static int
v2_kill_all (struct skiff_cgroup *cg, int sig, skiff_error_t *err)
{
  char dir[PATH_MAX];
  v2_dir (cg, dir, sizeof dir);
  if (access (dir, F_OK) < 0)
    return 0;
  if (sig == SIGKILL)
    {
      /* cgroup.kill (5.14+) kills atomically, forks included. */
      skiff_error_t e = NULL;
      if (cgroup_write_file (dir, "cgroup.kill", "1", &e) == 0)
        return 0;
      skiff_error_free (&e);
    }
  /* Freeze first so a forking container cannot outrun the signal. */
  bool was_frozen = false;
  v2_is_frozen (cg, &was_frozen);
  bool froze = !was_frozen && v2_freeze (cg, true, NULL) == 0;
  int r = signal_all (cg, sig, err);
  if (froze)
    v2_freeze (cg, false, NULL);
  return r;
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

/* The controller must be enabled for this cgroup, else its files are
   missing and the error would only say ENOENT. */
static int
v2_need (int dfd, const char *ctrl, const char *key, skiff_error_t *err)
{
  cleanup_free char *have = NULL;
  if (cg_read_at (dfd, "cgroup.controllers", &have, NULL) < 0 || has_word (have, ctrl))
    return 0;
  return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, 0,
                               "linux.resources.%s: the %s controller is not available to this "
                               "cgroup (not in the parent's cgroup.subtree_control)",
                               key, ctrl);
}

static bool
cpu_sched_set (const oci_cpu *c)
{
  return c
         && (c->shares_present || c->quota_present || c->period_present || c->burst_present
             || c->realtime_runtime_present || c->realtime_period_present || c->idle_present);
}

static bool
cpu_set_set (const oci_cpu *c)
{
  return c && ((c->cpus && *c->cpus) || (c->mems && *c->mems));
}

static int
v2_apply_controllers (int fd, const oci_resources *r, bool update, skiff_error_t *err)
{
  if (r->memory
      && (v2_need (fd, "memory", "memory", err) < 0
          || (update && cg_check_memory_usage (fd, "memory.current", r->memory, err) < 0)
          || cg_v2_memory (fd, r->memory, err) < 0))
    return -1;
  if (cpu_sched_set (r->cpu)
      && (v2_need (fd, "cpu", "cpu", err) < 0 || cg_v2_cpu (fd, r->cpu, err) < 0))
    return -1;
  if (cpu_set_set (r->cpu)
      && (v2_need (fd, "cpuset", "cpu.cpus", err) < 0 || cg_v2_cpuset (fd, r->cpu, err) < 0))
    return -1;
  if (r->pids && (v2_need (fd, "pids", "pids", err) < 0 || cg_v2_pids (fd, r->pids, err) < 0))
    return -1;
  if (r->block_io
      && (v2_need (fd, "io", "blockIO", err) < 0 || cg_v2_io (fd, r->block_io, err) < 0))
    return -1;
  if (r->hugepage_limits_len
      && (v2_need (fd, "hugetlb", "hugepageLimits", err) < 0
          || cg_v2_hugetlb (fd, r->hugepage_limits, r->hugepage_limits_len, err) < 0))
    return -1;
  if (r->rdma && r->rdma->len
      && (v2_need (fd, "rdma", "rdma", err) < 0 || cg_rdma (fd, r->rdma, err) < 0))
    return -1;
  if (r->network && (r->network->class_id_present || r->network->priorities_len))
    return skiff_error_kind_set (
        err, SKIFF_ERR_UNSUPPORTED, 0,
        "linux.resources.network: net_cls and net_prio exist only on cgroup v1");
  /* Last, so that explicit files win over the converted values. */
  return cg_v2_unified (fd, r->unified, err);
}

static int
v2_apply (struct skiff_cgroup *cg, const oci_resources *r, bool update, skiff_error_t *err)
{
  cleanup_close int fd = v2_open (cg, err);
  if (fd < 0)
    return -1;
  if (r && v2_apply_controllers (fd, r, update, err) < 0)
    return skiff_error_wrap (err, "cgroup `" V2_ROOT "%s`", cg->path);
  if (!update || (r && r->devices_len))
    {
      cleanup_free struct cg_dev_rule *rules = NULL;
      size_t n = 0;
      if (cg_dev_rules (r ? r->devices : NULL, r ? r->devices_len : 0, &rules, &n, err) < 0
          || cg_bpf_devices_apply (fd, rules, n, err) < 0)
        return skiff_error_wrap (err, "cgroup `" V2_ROOT "%s`", cg->path);
    }
  return 0;
}

static int
v2_stats (struct skiff_cgroup *cg, struct skiff_strbuf *out, skiff_error_t *err)
{
  cleanup_close int fd = v2_open (cg, err);
  if (fd < 0)
    return -1;
  cg_v2_stats_json (fd, out);
  return 0;
}

static uint64_t
v2_oom_kills (struct skiff_cgroup *cg)
{
  cleanup_close int fd = v2_open (cg, NULL);
  return cg_oom_kills (fd, true);
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
  .apply = v2_apply,
  .stats = v2_stats,
  .oom_kills = v2_oom_kills,
  .open_leaf = v2_open_leaf,
  .enter_sub = v2_enter_sub,
};

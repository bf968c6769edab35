/* cgroup v1 backend, also used on hybrid hosts: every mounted hierarchy
   (v1 controllers, named ones such as name=systemd, and the cgroup2 mount
   at /sys/fs/cgroup/unified) gets the container's directory, and a
   controller found only on the cgroup2 mount (hugetlb on some hosts) is
   written with the v2 writer. */
#include "config.h"
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "controllers.h"
#include "fsutil.h"
#include "mounts.h"

#define V1_ROOT "/sys/fs/cgroup"
#define MAX_HIERARCHIES 24

struct hier
{
  char mount[256];
  char ctrls[256]; /* "cpu,cpuacct", "name=systemd"; cgroup2: its controllers */
  bool v2;
};

static struct hier hiers[MAX_HIERARCHIES];
static size_t nhiers;
static bool scanned;

static void
hier_add (const char *mount, const char *opts, bool v2)
{
  struct hier *h = &hiers[nhiers];
  if (nhiers >= MAX_HIERARCHIES || strlen (mount) >= sizeof h->mount)
    return;
  snprintf (h->mount, sizeof h->mount, "%s", mount);
  h->v2 = v2;
  h->ctrls[0] = '\0';
  if (v2)
    {
      cleanup_close int fd = open (mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      cleanup_free char *c = NULL;
      if (fd >= 0 && cg_read_at (fd, "cgroup.controllers", &c, NULL) == 0)
        for (char *p = c; *p; p++)
          if (*p == ' ')
            *p = ',';
      snprintf (h->ctrls, sizeof h->ctrls, "%s", c ? c : "");
    }
  else
    {
      /* Super options: "rw,cpu,cpuacct" -> "cpu,cpuacct". */
      cleanup_free char *copy = strdup (opts);
      char *save = NULL;
      size_t n = 0;
      for (char *t = strtok_r (copy, ",", &save); t; t = strtok_r (NULL, ",", &save))
        {
          if (strcmp (t, "rw") == 0 || strcmp (t, "ro") == 0
              || strncmp (t, "release_agent=", 14) == 0 || strcmp (t, "clone_children") == 0
              || strcmp (t, "noprefix") == 0 || strcmp (t, "xattr") == 0 || strcmp (t, "none") == 0)
            continue;
          n += (size_t)snprintf (h->ctrls + n, sizeof h->ctrls - n, "%s%s", n ? "," : "", t);
          if (n >= sizeof h->ctrls)
            break;
        }
    }
  nhiers++;
}

/* The cgroup hierarchies mounted below /sys/fs/cgroup, from mountinfo
   (names of directories prove nothing: cpu may be a symlink to
   cpu,cpuacct), and only those a path lookup reaches: a hierarchy hidden
   under another mount is listed but unusable. */
static void
scan_hierarchies (void)
{
  if (scanned)
    return;
  scanned = true;
  struct mountinfo *mi = NULL;
  size_t n = 0;
  cleanup_error skiff_error_t ignored = NULL;
  if (mountinfo_read (&mi, &n, &ignored) < 0)
    return;
  mountinfo_drop_hidden_cgroups (mi, &n);
  for (size_t i = 0; i < n; i++)
    {
      const char *mnt = mi[i].point;
      bool v2 = strcmp (mi[i].fstype, "cgroup2") == 0;
      if (strncmp (mnt, V1_ROOT "/", sizeof V1_ROOT) != 0
          || (!v2 && strcmp (mi[i].fstype, "cgroup") != 0))
        continue;
      bool dup = false;
      for (size_t j = 0; j < nhiers; j++)
        dup |= strcmp (hiers[j].mount, mnt) == 0;
      if (!dup)
        hier_add (mnt, mi[i].super_opts, v2);
    }
  mountinfo_free (mi, n);
}

static bool
hier_has (const struct hier *h, const char *ctrl)
{
  size_t n = strlen (ctrl);
  for (const char *p = h->ctrls; (p = strstr (p, ctrl)); p += n)
    if ((p == h->ctrls || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
      return true;
  return false;
}

/* The hierarchy of a controller: a v1 one first, else the cgroup2 mount. */
static const struct hier *
hier_of (const char *ctrl)
{
  scan_hierarchies ();
  for (size_t i = 0; i < nhiers; i++)
    if (!hiers[i].v2 && hier_has (&hiers[i], ctrl))
      return &hiers[i];
  for (size_t i = 0; i < nhiers; i++)
    if (hiers[i].v2 && hier_has (&hiers[i], ctrl))
      return &hiers[i];
  return NULL;
}

size_t
cgroup_v1_mounts (const char **out, size_t max)
{
  scan_hierarchies ();
  size_t n = 0;
  for (; n < nhiers && n < max; n++)
    out[n] = hiers[n].mount;
  return n;
}

const char *
cgroup_v1_mount_of (const char *ctrl)
{
  const struct hier *h = hier_of (ctrl);
  return h ? h->mount : NULL;
}

static void
hier_dir (struct skiff_cgroup *cg, const struct hier *h, char *out, size_t len)
{
  if ((size_t)snprintf (out, len, "%s%s", h->mount, cg->path) >= len)
    out[0] = '\0'; /* too long: opening "" fails cleanly */
}

/* fd of the container's directory for ctrl; -1 (errno ENOENT) when no
   hierarchy has it. */
static int
ctrl_open (struct skiff_cgroup *cg, const char *ctrl, const struct hier **hp)
{
  const struct hier *h = hier_of (ctrl);
  char dir[PATH_MAX];
  if (hp)
    *hp = h;
  if (h == NULL)
    {
      errno = ENOENT;
      return -1;
    }
  hier_dir (cg, h, dir, sizeof dir);
  return open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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
  scan_hierarchies ();
  for (size_t i = 0; i < nhiers; i++)
    {
      bool cpuset = !hiers[i].v2 && hier_has (&hiers[i], "cpuset");
      if (cgroup_mkdir_p (hiers[i].mount, cg->path, cpuset ? cpuset_init_level : NULL, err) < 0)
        return -1;
      if (hiers[i].v2)
        cgroup_v2_enable_controllers (hiers[i].mount, cg->path);
    }
  return 0;
}

static int
v1_enter (struct skiff_cgroup *cg, pid_t pid, skiff_error_t *err)
{
  char buf[32];
  scan_hierarchies ();
  snprintf (buf, sizeof buf, "%d", (int)pid);
  for (size_t i = 0; i < nhiers; i++)
    {
      char dir[PATH_MAX];
      hier_dir (cg, &hiers[i], dir, sizeof dir);
      if (cgroup_write_file (dir, "cgroup.procs", buf, err) < 0)
        return -1;
    }
  return 0;
}

static bool
ctrls_meet (const char *a, const char *b)
{
  cleanup_free char *copy = strdup (a);
  char *save = NULL;
  if (copy == NULL)
    abort ();
  for (char *t = strtok_r (copy, ",", &save); t; t = strtok_r (NULL, ",", &save))
    {
      size_t n = strlen (t);
      for (const char *p = b; (p = strstr (p, t)); p += n)
        if ((p == b || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
          return true;
    }
  return false;
}

/* Each hierarchy gets the first sub naming one of its controllers (or
   naming none), else the container's own directory; a controller no
   hierarchy has is an error. */
static int
v1_enter_sub (struct skiff_cgroup *cg, pid_t pid, const struct cgroup_sub *subs, size_t n,
              skiff_error_t *err)
{
  char buf[32];
  scan_hierarchies ();
  for (size_t k = 0; k < n; k++)
    {
      bool found = subs[k].ctrls == NULL;
      for (size_t i = 0; i < nhiers && !found; i++)
        found = ctrls_meet (subs[k].ctrls, hiers[i].ctrls);
      if (!found)
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "`%s:%s`: no cgroup hierarchy of this host has `%s`",
                                     subs[k].ctrls, subs[k].path, subs[k].ctrls);
    }
  snprintf (buf, sizeof buf, "%d", (int)pid);
  for (size_t i = 0; i < nhiers; i++)
    {
      char dir[PATH_MAX];
      const char *sub = NULL;
      for (size_t k = 0; k < n && sub == NULL; k++)
        if (subs[k].ctrls == NULL || ctrls_meet (subs[k].ctrls, hiers[i].ctrls))
          sub = subs[k].path;
      if ((size_t)snprintf (dir, sizeof dir, "%s%s%s%s", hiers[i].mount, cg->path, sub ? "/" : "",
                            sub ? sub : "")
          >= sizeof dir)
        return skiff_error (err, ENAMETOOLONG, "`%s`", sub);
      if (cgroup_write_file (dir, "cgroup.procs", buf, err) < 0)
        return -1;
    }
  return 0;
}

static int
v1_pids (struct skiff_cgroup *cg, pid_t **pids, size_t *n, skiff_error_t *err)
{
  const struct hier *h = hier_of ("pids");
  char p[PATH_MAX];
  if (h == NULL)
    h = hier_of ("memory");
  if (h == NULL)
    h = hier_of ("freezer");
  if (h == NULL)
    {
      *pids = NULL;
      *n = 0;
      return 0;
    }
  snprintf (p, sizeof p, "%s%s", h->mount, cg->path);
  return cgroup_read_pids_tree (p, pids, n, err);
}

static int
v1_is_frozen (struct skiff_cgroup *cg, bool *frozen)
{
  cleanup_close int fd = ctrl_open (cg, "freezer", NULL);
  cleanup_free char *s = NULL;
  if (fd < 0 || cg_read_at (fd, "freezer.state", &s, NULL) < 0)
    return -1;
  *frozen = strncmp (s, "FROZEN", 6) == 0;
  return 0;
}

static int
v1_freeze (struct skiff_cgroup *cg, bool frozen, skiff_error_t *err)
{
  const struct hier *h = NULL;
  cleanup_close int fd = ctrl_open (cg, "freezer", &h);
  if (fd < 0)
    return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, errno, "%s `%s`: no freezer cgroup",
                                 frozen ? "freeze" : "thaw", cg->path);
  if (h->v2)
    {
      if (cg_write_at (fd, "cgroup.freeze", "freezer", frozen ? "1" : "0", err) < 0)
        return -1;
      return cgroup_v2_wait_frozen (fd, frozen) < 0
                 ? skiff_error (err, ETIMEDOUT, "freeze `%s`: timed out", cg->path)
                 : 0;
    }
  const char *want = frozen ? "FROZEN" : "THAWED";
  if (cg_write_at (fd, "freezer.state", "freezer", want, err) < 0)
    return -1;
  /* FREEZING is transient: wait for the final state, asking again as a
     task that was forking may have escaped the first pass. */
  for (int i = 0; i < 2000; i++)
    {
      bool now;
      if (v1_is_frozen (cg, &now) < 0 || now == frozen)
        return 0;
      struct timespec ts = { 0, 1000 * 1000 };
      nanosleep (&ts, NULL);
      if (frozen && i % 10 == 9)
        cg_write_at (fd, "freezer.state", "freezer", want, NULL);
    }
  cg_write_at (fd, "freezer.state", "freezer", "THAWED", NULL);
  return skiff_error (err, EBUSY, "freeze `%s`: timed out", cg->path);
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
  /* An empty cgroup has nothing to signal, and nothing can fork into it:
     skip the freezer, whose state changes are costly (each flips a static
     key in the kernel: several ms; delete of a stopped container is the
     common case). */
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  if (v1_pids (cg, &pids, &n, NULL) == 0 && n == 0)
    return 0;
  /* Freeze first so a forking container cannot outrun the signal; a
     paused container stays paused. */
  bool was_frozen = false;
  v1_is_frozen (cg, &was_frozen);
  bool froze = !was_frozen && v1_freeze (cg, true, NULL) == 0;
  signal_all (cg, sig);
  /* A frozen task dies only once thawed. */
  if (froze || (was_frozen && sig == SIGKILL))
    v1_freeze (cg, false, NULL);
  (void)err;
  return 0;
}

static int
v1_destroy (struct skiff_cgroup *cg, skiff_error_t *err)
{
  scan_hierarchies ();
  v1_kill_all (cg, SIGKILL, NULL);
  for (size_t i = 0; i < nhiers; i++)
    {
      char dir[PATH_MAX];
      hier_dir (cg, &hiers[i], dir, sizeof dir);
      if (cgroup_rmdir (dir, err) < 0)
        return -1;
    }
  return 0;
}

/* Run one controller's writer on its directory; a resource whose
   controller no hierarchy has is an error naming it. */
static int
with_ctrl (struct skiff_cgroup *cg, const char *ctrl, const char *key,
           int (*v1) (int, const void *, skiff_error_t *),
           int (*v2) (int, const void *, skiff_error_t *), const void *arg, skiff_error_t *err)
{
  const struct hier *h = NULL;
  cleanup_close int fd = ctrl_open (cg, ctrl, &h);
  char dir[PATH_MAX];
  if (h == NULL)
    return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, 0,
                                 "linux.resources.%s: this host has no %s cgroup controller", key,
                                 ctrl);
  hier_dir (cg, h, dir, sizeof dir);
  if (fd < 0)
    return skiff_error (err, errno, "open cgroup `%s`", dir);
  int (*fn) (int, const void *, skiff_error_t *) = h->v2 ? v2 : v1;
  if (fn == NULL)
    return skiff_error_kind_set (
        err, SKIFF_ERR_UNSUPPORTED, 0,
        "linux.resources.%s: the %s controller is on cgroup2 here, where it cannot be set", key,
        ctrl);
  if (fn (fd, arg, err) < 0)
    return skiff_error_wrap (err, "cgroup `%s`", dir);
  return 0;
}

typedef int (*writer) (int, const void *, skiff_error_t *);

#define ADAPT(name, fn, type)                                                                      \
  static int name (int fd, const void *arg, skiff_error_t *err)                                    \
  {                                                                                                \
    return fn (fd, (const type *)arg, err);                                                        \
  }
ADAPT (cpu_v1, cg_v1_cpu, oci_cpu)
ADAPT (cpu_v2, cg_v2_cpu, oci_cpu)
ADAPT (cpuset_v1, cg_v1_cpuset, oci_cpu)
ADAPT (cpuset_v2, cg_v2_cpuset, oci_cpu)
ADAPT (pids_v1, cg_v1_pids, oci_pids)
ADAPT (pids_v2, cg_v2_pids, oci_pids)
ADAPT (blkio_v1, cg_v1_blkio, oci_block_io)
ADAPT (net_cls_v1, cg_v1_net_cls, oci_network)
ADAPT (net_prio_v1, cg_v1_net_prio, oci_network)
ADAPT (rdma_any, cg_rdma, oci_rdma_map)
ADAPT (memory_v1, cg_v1_memory, oci_memory)

static int
hugetlb_v1 (int fd, const void *r, skiff_error_t *err)
{
  const oci_resources *res = r;
  return cg_v1_hugetlb (fd, res->hugepage_limits, res->hugepage_limits_len, err);
}

static int
hugetlb_v2 (int fd, const void *r, skiff_error_t *err)
{
  const oci_resources *res = r;
  return cg_v2_hugetlb (fd, res->hugepage_limits, res->hugepage_limits_len, err);
}

struct devs
{
  const struct cg_dev_rule *r;
  size_t n;
  bool update;
};

static int
devices_v1 (int fd, const void *arg, skiff_error_t *err)
{
  const struct devs *d = arg;
  return d->update ? cg_v1_devices_update (fd, d->r, d->n, err)
                   : cg_v1_devices (fd, d->r, d->n, err);
}

static int
memory_check (int fd, const void *arg, skiff_error_t *err)
{
  return cg_check_memory_usage (fd, "memory.usage_in_bytes", arg, err);
}

static int
v1_apply_devices (struct skiff_cgroup *cg, const oci_resources *r, bool update, skiff_error_t *err)
{
  cleanup_free struct cg_dev_rule *rules = NULL;
  struct devs d = { 0 };
  size_t n = 0;
  if (hier_of ("devices") == NULL)
    return 0; /* no device controller to apply rules with */
  if (cg_dev_rules (r ? r->devices : NULL, r ? r->devices_len : 0, &rules, &n, err) < 0)
    return -1;
  d.r = rules;
  d.n = n;
  d.update = update;
  return with_ctrl (cg, "devices", "devices", devices_v1, NULL, &d, err);
}

static int
v1_apply (struct skiff_cgroup *cg, const oci_resources *r, bool update, skiff_error_t *err)
{
  if (!update || (r && r->devices_len))
    if (v1_apply_devices (cg, r, update, err) < 0)
      return -1;
  if (r == NULL)
    return 0;
  const oci_cpu *c = r->cpu;
  if (r->unified && r->unified->len)
    return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, 0,
                                 "linux.resources.unified: needs a cgroup v2 host (this one is %s)",
                                 cgroup_layout_name (cg->layout));
  if (r->memory && update
      && with_ctrl (cg, "memory", "memory", memory_check, NULL, r->memory, err) < 0)
    return -1;
  if (r->memory && with_ctrl (cg, "memory", "memory", memory_v1, NULL, r->memory, err) < 0)
    return -1;
  if (c
      && (c->shares_present || c->quota_present || c->period_present || c->burst_present
          || c->realtime_period_present || c->realtime_runtime_present || c->idle_present)
      && with_ctrl (cg, "cpu", "cpu", cpu_v1, cpu_v2, c, err) < 0)
    return -1;
  if (c && ((c->cpus && *c->cpus) || (c->mems && *c->mems))
      && with_ctrl (cg, "cpuset", "cpu.cpus", cpuset_v1, cpuset_v2, c, err) < 0)
    return -1;
  if (r->pids && with_ctrl (cg, "pids", "pids", pids_v1, pids_v2, r->pids, err) < 0)
    return -1;
  if (r->block_io && with_ctrl (cg, "blkio", "blockIO", blkio_v1, NULL, r->block_io, err) < 0)
    return -1;
  if (r->hugepage_limits_len
      && with_ctrl (cg, "hugetlb", "hugepageLimits", hugetlb_v1, hugetlb_v2, r, err) < 0)
    return -1;
  if (r->network && r->network->class_id_present
      && with_ctrl (cg, "net_cls", "network.classID", net_cls_v1, NULL, r->network, err) < 0)
    return -1;
  if (r->network && r->network->priorities_len
      && with_ctrl (cg, "net_prio", "network.priorities", net_prio_v1, NULL, r->network, err) < 0)
    return -1;
  if (r->rdma && r->rdma->len
      && with_ctrl (cg, "rdma", "rdma", rdma_any, rdma_any, r->rdma, err) < 0)
    return -1;
  return 0;
}

static int
v1_stats (struct skiff_cgroup *cg, struct skiff_strbuf *out, skiff_error_t *err)
{
  static const char *const ctrl[CG_ST_COUNT] = {
    [CG_ST_CPU] = "cpu",       [CG_ST_CPUACCT] = "cpuacct", [CG_ST_MEMORY] = "memory",
    [CG_ST_PIDS] = "pids",     [CG_ST_BLKIO] = "blkio",     [CG_ST_HUGETLB] = "hugetlb",
    [CG_ST_CPUSET] = "cpuset",
  };
  int fds[CG_ST_COUNT];
  bool hugetlb_v2 = false;
  for (int i = 0; i < CG_ST_COUNT; i++)
    {
      const struct hier *h = NULL;
      fds[i] = ctrl_open (cg, ctrl[i], &h);
      if (i == CG_ST_HUGETLB && h)
        hugetlb_v2 = h->v2;
    }
  cg_v1_stats_json (fds, hugetlb_v2, out);
  for (int i = 0; i < CG_ST_COUNT; i++)
    if (fds[i] >= 0)
      close (fds[i]);
  (void)err;
  return 0;
}

static uint64_t
v1_oom_kills (struct skiff_cgroup *cg)
{
  cleanup_close int fd = ctrl_open (cg, "memory", NULL);
  return cg_oom_kills (fd, false);
}

const struct cgroup_ops cgroup_v1_ops = {
  .name = "cgroupfs-v1",
  .create = v1_create,
  .enter = v1_enter,
  .enter_sub = v1_enter_sub,
  .kill_all = v1_kill_all,
  .freeze = v1_freeze,
  .is_frozen = v1_is_frozen,
  .pids = v1_pids,
  .destroy = v1_destroy,
  .apply = v1_apply,
  .stats = v1_stats,
  .oom_kills = v1_oom_kills,
};

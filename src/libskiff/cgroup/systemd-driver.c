/* systemd cgroup backend: the scope unit is started (with the init's pid)
   when the init enters its cgroup; everything else is the cgroupfs backend
   of the host's layout working on the scope's directory. */
#include "config.h"
#include "cgroup.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "log.h"
#include "systemd.h"

struct sd_cgroup
{
  struct skiff_cgroup base; /* first: the manager sees a skiff_cgroup */
  struct sd_unit_name name;
  const oci_resources *pending; /* applied once the scope exists */
  bool started;
};

static const struct cgroup_ops *
fs_ops (const struct skiff_cgroup *cg)
{
  return cg->layout == CGROUP_LAYOUT_V2 ? &cgroup_v2_ops : &cgroup_v1_ops;
}

/* The unit of a scope path recorded in a state file: its last component. */
static const char *
unit_of (const struct skiff_cgroup *cg)
{
  const struct sd_cgroup *s = (const struct sd_cgroup *)cg;
  if (s->name.unit)
    return s->name.unit;
  const char *slash = strrchr (cg->path, '/');
  return slash ? slash + 1 : cg->path;
}

static int
sd_create (struct skiff_cgroup *cg, skiff_error_t *err)
{
  /* systemd makes the directory when the scope starts: nothing yet. */
  (void)cg;
  if (!skiff_systemd_running ())
    return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, 0,
                                 "--systemd-cgroup: systemd is not running on this host "
                                 "(no /run/systemd/system)");
  return 0;
}

static int
sd_apply (struct skiff_cgroup *cg, const oci_resources *r, bool update, skiff_error_t *err)
{
  struct sd_cgroup *s = (struct sd_cgroup *)cg;
  if (!update && !s->started)
    {
      s->pending = r;
      return 0;
    }
  return fs_ops (cg)->apply (cg, r, update, err);
}

static int
sd_enter (struct skiff_cgroup *cg, pid_t pid, skiff_error_t *err)
{
  struct sd_cgroup *s = (struct sd_cgroup *)cg;
  if (s->started)
    return fs_ops (cg)->enter (cg, pid, err);
  struct sd_prop props[32];
  size_t n = 0;
  if (cg_systemd_props (s->pending, cg->layout == CGROUP_LAYOUT_V2, props, 32, &n, err) < 0
      || skiff_systemd_start_scope (&s->name, pid, props, n, err) < 0)
    return -1;
  s->started = true;
  /* What systemd has no property for (devices, hugetlb, swappiness...)
     goes through cgroupfs, into the scope systemd delegated to us.  On
     v2 a controller systemd does not manage (hugetlb, misc, rdma) is
     enabled down to the scope's parent first, as runc does. */
  if (cg->layout == CGROUP_LAYOUT_V2)
    cgroup_v2_enable_controllers ("/sys/fs/cgroup", cg->path);
  return fs_ops (cg)->apply (cg, s->pending, false, err);
}

static int
sd_kill_all (struct skiff_cgroup *cg, int sig, skiff_error_t *err)
{
  return fs_ops (cg)->kill_all (cg, sig, err);
}

static int
sd_freeze (struct skiff_cgroup *cg, bool frozen, skiff_error_t *err)
{
  return fs_ops (cg)->freeze (cg, frozen, err);
}

static int
sd_is_frozen (struct skiff_cgroup *cg, bool *frozen)
{
  return fs_ops (cg)->is_frozen (cg, frozen);
}

static int
sd_pids (struct skiff_cgroup *cg, pid_t **pids, size_t *n, skiff_error_t *err)
{
  return fs_ops (cg)->pids (cg, pids, n, err);
}

static int
sd_destroy (struct skiff_cgroup *cg, skiff_error_t *err)
{
  fs_ops (cg)->kill_all (cg, SIGKILL, NULL);
  skiff_error_t e = NULL;
  /* Stopping the scope makes systemd forget it and remove the directory. */
  if (skiff_systemd_running () && skiff_systemd_stop_unit (unit_of (cg), &e) < 0)
    {
      skiff_debug ("%s", e->msg);
      skiff_error_free (&e);
    }
  return fs_ops (cg)->destroy (cg, err);
}

static int
sd_stats (struct skiff_cgroup *cg, struct skiff_strbuf *out, skiff_error_t *err)
{
  return fs_ops (cg)->stats (cg, out, err);
}

static int
sd_enter_sub (struct skiff_cgroup *cg, pid_t pid, const struct cgroup_sub *subs, size_t n,
              skiff_error_t *err)
{
  return fs_ops (cg)->enter_sub (cg, pid, subs, n, err);
}

static uint64_t
sd_oom_kills (struct skiff_cgroup *cg)
{
  return fs_ops (cg)->oom_kills (cg);
}

const struct cgroup_ops cgroup_systemd_ops = {
  .name = "systemd",
  .create = sd_create,
  .enter = sd_enter,
  .kill_all = sd_kill_all,
  .freeze = sd_freeze,
  .is_frozen = sd_is_frozen,
  .pids = sd_pids,
  .destroy = sd_destroy,
  .apply = sd_apply,
  .stats = sd_stats,
  .oom_kills = sd_oom_kills,
  .enter_sub = sd_enter_sub,
};

int
cgroup_new_systemd (const char *cgroups_path, const char *id, struct skiff_cgroup **out,
                    skiff_error_t *err)
{
  struct sd_cgroup *s = calloc (1, sizeof *s);
  if (s == NULL)
    abort ();
  if (cg_systemd_unit_name (cgroups_path, id, &s->name, err) < 0)
    {
      free (s);
      return -1;
    }
  s->base.ops = &cgroup_systemd_ops;
  s->base.layout = cgroup_detect_layout ();
  s->base.path = strdup (s->name.path);
  if (s->base.path == NULL)
    abort ();
  s->base.systemd = true;
  *out = &s->base;
  return 0;
}

struct skiff_cgroup *
cgroup_systemd_from_path (const char *path)
{
  struct sd_cgroup *s = calloc (1, sizeof *s);
  if (s == NULL || (s->base.path = strdup (path)) == NULL)
    abort ();
  s->base.ops = &cgroup_systemd_ops;
  s->base.layout = cgroup_detect_layout ();
  s->base.systemd = true;
  s->started = true;
  return &s->base;
}

void
cgroup_systemd_free (struct skiff_cgroup *cg)
{
  struct sd_cgroup *s = (struct sd_cgroup *)cg;
  cg_systemd_unit_name_free (&s->name);
}

/* Rootless decisions; see rootless.h and docs/rootless.md. */
#include "config.h"
#include "rootless.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cleanup.h"
#include "fsutil.h"
#include "log.h"
#include "process.h"

bool
rootless_in_userns (void)
{
  /* No heap: the init asks too, inside the container's memory limit. */
  char map[128];
  cleanup_close int fd = open ("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read (fd, map, sizeof map - 1);
  if (n <= 0)
    return false;
  map[n] = '\0';
  unsigned long inside, outside, count;
  /* The initial namespace maps every id to itself, in one line. */
  return sscanf (map, "%lu %lu %lu", &inside, &outside, &count) != 3 || inside != 0 || outside != 0
         || count != 4294967295UL || strchr (map, '\n') != strrchr (map, '\n');
}

const char *
rootless_default_root (const char **why)
{
  static char root[PATH_MAX];
  const char *xdg = getenv ("XDG_RUNTIME_DIR");
  *why = NULL;
  if (xdg && xdg[0] == '/')
    {
      if ((size_t)snprintf (root, sizeof root, "%s/skiff", xdg) >= sizeof root)
        {
          *why = "XDG_RUNTIME_DIR is too long";
          return NULL;
        }
      return root;
    }
  /* Root of a user namespace (a rootless container manager's) usually
     owns /run there: runc's default as well. */
  if (geteuid () == 0)
    return SKIFF_DEFAULT_ROOT;
  *why = xdg && *xdg ? "XDG_RUNTIME_DIR is not an absolute path" : "XDG_RUNTIME_DIR is not set";
  return NULL;
}

void
skiff_context_resolve (struct skiff_context *ctx)
{
  bool userns = rootless_in_userns ();
  ctx->rootless_on = ctx->rootless < 0 ? geteuid () != 0 || userns : ctx->rootless == 1;
  if (ctx->root)
    return;
  const char *why;
  /* $XDG_RUNTIME_DIR for a rootless caller other than the host's root
     (as runc; --rootless false keeps /run/skiff). */
  if (ctx->rootless_on && (geteuid () != 0 || userns))
    ctx->root = rootless_default_root (&why);
  else
    ctx->root = SKIFF_DEFAULT_ROOT;
}

/* The first member of linux.resources that asks the cgroup for something;
   device rules do not count (see rootless.h). */
static const char *
resources_key (const oci_resources *r)
{
  if (r == NULL)
    return NULL;
  if (r->memory)
    return "memory";
  if (r->cpu)
    return "cpu";
  if (r->block_io)
    return "blockIO";
  if (r->hugepage_limits_len)
    return "hugepageLimits";
  if (r->network)
    return "network";
  if (r->pids)
    return "pids";
  if (r->rdma && r->rdma->len)
    return "rdma";
  if (r->unified && r->unified->len)
    return "unified";
  return NULL;
}

/* May we make the cgroup path below mount and move a process into it: the
   directory's cgroup.procs when it exists, else its nearest existing
   parent. */
static bool
hierarchy_writable (const char *mount, const char *path)
{
  char dir[PATH_MAX];
  size_t top = strlen (mount);
  if ((size_t)snprintf (dir, sizeof dir, "%s%s", mount, path) >= sizeof dir)
    return false;
  if (faccessat (AT_FDCWD, dir, F_OK, AT_EACCESS) == 0)
    {
      char procs[PATH_MAX + 16];
      snprintf (procs, sizeof procs, "%s/cgroup.procs", dir);
      return faccessat (AT_FDCWD, procs, W_OK, AT_EACCESS) == 0;
    }
  for (char *slash; (slash = strrchr (dir, '/')) && (size_t)(slash - dir) >= top;)
    {
      *slash = '\0';
      if (faccessat (AT_FDCWD, dir, F_OK, AT_EACCESS) == 0)
        return faccessat (AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) == 0;
    }
  return false;
}

/* Every hierarchy the container's cgroup would span. */
static bool
tree_writable (const struct skiff_cgroup *cg)
{
  if (cg->layout == CGROUP_LAYOUT_V2)
    return hierarchy_writable ("/sys/fs/cgroup", cg->path);
  const char *mounts[32];
  size_t n = cgroup_v1_mounts (mounts, sizeof mounts / sizeof *mounts);
  for (size_t i = 0; i < n; i++)
    if (!hierarchy_writable (mounts[i], cg->path))
      return false;
  return n > 0;
}

int
rootless_cgroup_decide (const struct skiff_context *ctx, const struct skiff_cgroup *cg,
                        const oci_resources *r, bool *use, skiff_error_t *err)
{
  *use = true;
  if (!ctx->rootless_on)
    return 0;
  if (ctx->systemd_cgroup)
    return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, 0,
                                 "--systemd-cgroup: rootless, the cgroup would come from a "
                                 "systemd user instance, which skiff does not use yet");
  if (tree_writable (cg))
    return 0;
  const char *key = resources_key (r);
  if (key)
    return skiff_error_kind_set (
        err, SKIFF_ERR_UNSUPPORTED, 0,
        "linux.resources.%s: rootless, limits need a cgroup delegated to uid %u, and cgroup "
        "`%s` is not writable (remove linux.resources.%s, or delegate the cgroup)",
        key, (unsigned)geteuid (), cg->path, key);
  if (r && r->devices_len)
    skiff_debug ("linux.resources.devices: rootless without a cgroup: not applied (the "
                 "container has only the device nodes its user may open)");
  skiff_debug ("rootless: cgroup `%s` is not writable: the container stays in ours", cg->path);
  *use = false;
  return 0;
}

int
rootless_check_rlimits (const oci_process *p, skiff_error_t *err)
{
  for (size_t i = 0; p && i < p->rlimits_len; i++)
    {
      const oci_rlimit *r = p->rlimits[i];
      int res = process_rlimit_resource (r->type);
      struct rlimit now;
      if (res < 0 || getrlimit (res, &now) < 0 || now.rlim_max == RLIM_INFINITY
          || r->hard <= now.rlim_max)
        continue;
      return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                   "process.rlimits[%zu]: %s hard limit %" PRIu64
                                   " is above ours (%" PRIu64
                                   "): rootless, raising it needs CAP_SYS_RESOURCE on the host",
                                   i, r->type, r->hard, (uint64_t)now.rlim_max);
    }
  return 0;
}

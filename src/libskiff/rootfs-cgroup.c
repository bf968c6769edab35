/* cgroup mounts of the rootfs plan: one OP_CGROUP becomes a cgroup2 mount
   (v2-only host) or a tmpfs of per-hierarchy mounts (v1 and hybrid hosts),
   each a fresh mount in a cgroup namespace or a bind of the container's own
   cgroup directory from the host without one. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"
#include "fsutil.h"
#include "log.h"
#include "rootfs-internal.h"

struct cgroup_ctx
{
  struct rootfs_exec *x;
  const struct mount_op *op;
  const struct mountinfo *mi; /* the host's mounts, read by the runtime */
  size_t mi_len;
};

/* Whether the comma-separated list has the item of length n at item. */
static bool
list_has (const char *list, const char *item, size_t n)
{
  for (const char *p = list; *p; p += strcspn (p, ","), p += *p == ',')
    if (strncmp (p, item, n) == 0 && (p[n] == ',' || p[n] == '\0'))
      return true;
  return false;
}

/* Whether every controller of ctrls ("cpu,cpuacct", "name=systemd") is in
   the super options of a cgroup v1 mount.  No allocation: the init runs
   this inside the container's memory limit. */
static bool
hierarchy_matches (const char *super_opts, const char *ctrls)
{
  for (const char *c = ctrls; *c; c += strcspn (c, ","), c += *c == ',')
    {
      size_t n = strcspn (c, ",");
      if (n && !list_has (super_opts, c, n))
        return false;
    }
  return true;
}

/* The host's mount of the hierarchy fstype/ctrls, or NULL. */
static const struct mountinfo *
find_hierarchy (const struct cgroup_ctx *c, const char *fstype, const char *ctrls)
{
  for (size_t i = 0; i < c->mi_len; i++)
    if (streq (c->mi[i].fstype, fstype)
        && (ctrls == NULL || hierarchy_matches (c->mi[i].super_opts, ctrls)))
      return &c->mi[i];
  return NULL;
}

/* The host directory of our cgroup `path` in the hierarchy mounted as m:
   in small when it fits, else on the heap (*heap). */
static char *
host_cgroup_dir (const struct mountinfo *m, const char *path, char *small, size_t size, char **heap,
                 skiff_error_t *err)
{
  if (m == NULL)
    {
      skiff_error (err, ENOENT, "the host has no mount of this cgroup hierarchy");
      return NULL;
    }
  size_t rl = strcmp (m->root, "/") == 0 ? 0 : strlen (m->root);
  if (strncmp (path, m->root, rl) != 0 || (path[rl] != '/' && path[rl] != '\0'))
    {
      skiff_error (err, ENOENT, "cgroup \"%s\" is not below the host's mount %s", path, m->point);
      return NULL;
    }
  return sprintf_small (small, size, heap, "%s%s", m->point, path + rl);
}

/* One hierarchy on target (dest, for messages): a fresh mount in a cgroup
   namespace (it shows the namespace's root), else a bind of our own
   directory from the host so the container sees nothing of the rest of
   the tree. */
static int
cgroup_hierarchy (struct cgroup_ctx *c, int target, const char *dest, const char *fstype,
                  const char *ctrls, const char *path, skiff_error_t *err)
{
  struct rootfs_exec *x = c->x;
  struct mount_target t = { target, x->rootfd, dest };
  struct mount_opts o = { .flags = c->op->opts.flags, .clear = c->op->opts.clear };
  if (x->s->cgroupns)
    {
      char *data[] = { (char *)ctrls };
      o.data = ctrls ? data : NULL;
      o.data_len = ctrls ? 1 : 0;
      return mount_new_fs (fstype, fstype, &t, &o, NULL, err);
    }
  /* small buffers: deep stack pages are charged to the container too */
  char small[256];
  cleanup_free char *heap = NULL;
  const char *src
      = host_cgroup_dir (find_hierarchy (c, fstype, ctrls), path, small, sizeof small, &heap, err);
  if (src == NULL)
    return -1;
  o.bind = true;
  return mount_bind (-1, src, &t, &o, -1, err);
}

/* A directory `name` in the tmpfs we just mounted: nothing of the image
   is there, so no path walk through the gateway is needed. */
static int
tmpfs_subdir (int tmpfs, const char *dest, skiff_error_t *err)
{
  const char *name = strrchr (dest, '/') + 1;
  if (mkdirat (tmpfs, name, 0755) < 0 && errno != EEXIST)
    return skiff_error (err, errno, "mkdir \"%s\"", dest);
  int fd = openat (tmpfs, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return skiff_error (err, errno, "open \"%s\"", dest);
  return fd;
}

/* /proc/self/cgroup into buf when it fits (it nearly always does), else
   into *big: no allocation on the usual path. */
static char *
read_own_cgroups (char *buf, size_t size, char **big, skiff_error_t *err)
{
  cleanup_close int fd = open ("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      skiff_error (err, errno, "open /proc/self/cgroup");
      return NULL;
    }
  size_t len = 0;
  ssize_t n;
  while (len < size - 1 && (n = read (fd, buf + len, size - 1 - len)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          skiff_error (err, errno, "read /proc/self/cgroup");
          return NULL;
        }
      len += (size_t)n;
    }
  buf[len] = '\0';
  if (len < size - 1)
    return buf;
  if (read_file_at (AT_FDCWD, "/proc/self/cgroup", big, NULL, err) < 0)
    return NULL;
  return *big;
}

/* cpu -> cpu,cpuacct: the names programs look for. */
static int
cgroup_comount_links (int tmpfs, const char *dest, const char *name, skiff_error_t *err)
{
  for (const char *ctl = name; *ctl; ctl += strcspn (ctl, ","), ctl += *ctl == ',')
    {
      char link[256];
      size_t n = strcspn (ctl, ",");
      if (n == 0 || n >= sizeof link)
        continue;
      memcpy (link, ctl, n);
      link[n] = '\0';
      if (symlinkat (name, tmpfs, link) < 0 && errno != EEXIST)
        return skiff_error (err, errno, "symlink \"%s/%s\"", dest, link);
    }
  return 0;
}

/* v1 or hybrid host: a tmpfs with one directory per hierarchy of
   /proc/self/cgroup, symlinks for co-mounted controllers (cpu ->
   cpu,cpuacct), cgroup2 at "unified" on a hybrid host.  The init runs this
   inside the container's memory limit: no heap on the usual path. */
static int
cgroup_v1_tree (struct cgroup_ctx *c, skiff_error_t *err)
{
  const struct mount_op *op = c->op;
  struct rootfs_exec *x = c->x;
  cleanup_close int dir = rootfs_open_target (x, op, true, err);
  struct mount_target t = { dir, x->rootfd, op->dest };
  struct mount_opts o = { .flags = (op->opts.flags & ~(unsigned long)MS_RDONLY) };
  char *data[] = { (char *)"mode=755" };
  o.data = data;
  o.data_len = 1;
  if (dir < 0 || mount_new_fs ("tmpfs", "tmpfs", &t, &o, x->label, err) < 0)
    return -1;
  /* the tmpfs now on dest, not the directory below it */
  cleanup_close int top = safe_open_in_root (x->rootfd, op->dest, O_PATH | O_DIRECTORY, 0, err);
  if (top < 0)
    return -1;
  char buf[2048], *save = NULL;
  cleanup_free char *big = NULL;
  char *text = read_own_cgroups (buf, sizeof buf, &big, err);
  if (text == NULL)
    return -1;
  for (char *line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *ctrls = strchr (line, ':'), *path = ctrls ? strchr (ctrls + 1, ':') : NULL;
      if (path == NULL)
        continue;
      *ctrls++ = '\0';
      *path++ = '\0';
      bool v2 = *ctrls == '\0';
      /* only what the host has mounted: a hierarchy can exist unmounted */
      if (find_hierarchy (c, v2 ? "cgroup2" : "cgroup", v2 ? NULL : ctrls) == NULL)
        {
          skiff_debug ("%s: cgroup hierarchy \"%s\" is not mounted on the host; skipped", op->what,
                       ctrls);
          continue;
        }
      const char *name = v2 ? "unified" : strncmp (ctrls, "name=", 5) == 0 ? ctrls + 5 : ctrls;
      char small[128];
      cleanup_free char *heap = NULL;
      const char *sub = sprintf_small (small, sizeof small, &heap, "%s/%s", op->dest, name);
      cleanup_close int target = tmpfs_subdir (top, sub, err);
      if (target < 0
          || cgroup_hierarchy (c, target, sub, v2 ? "cgroup2" : "cgroup", v2 ? NULL : ctrls, path,
                               err)
                 < 0)
        return -1;
      if (strchr (ctrls, ',') && cgroup_comount_links (top, op->dest, name, err) < 0)
        return -1;
    }
  if ((op->opts.flags & MS_RDONLY)
      && mount_change_attrs (top, op->dest, MOUNT_ATTR_RDONLY, 0, false, err) < 0)
    return -1;
  return 0;
}

static void
mountinfo_freep (struct mountinfo **v)
{
  mountinfo_free (*v, 0);
}

int
rootfs_do_cgroup (struct rootfs_exec *x, const struct mount_op *op, skiff_error_t *err)
{
  struct cgroup_ctx c = { x, op, x->s->host_mounts, x->s->host_mounts_len };
  /* Without the runtime's copy (a mount namespace joined by path), our
     own mount table. */
  __attribute__ ((cleanup (mountinfo_freep))) struct mountinfo *own = NULL;
  if (c.mi == NULL)
    {
      if (mountinfo_read (&own, &c.mi_len, err) < 0)
        return -1;
      mountinfo_drop_hidden_cgroups (own, &c.mi_len);
      c.mi = own;
    }
  struct statfs sfs;
  bool v2_only = statfs ("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
  if (!v2_only)
    return cgroup_v1_tree (&c, err);
  char buf[2048];
  cleanup_free char *big = NULL;
  char *text = read_own_cgroups (buf, sizeof buf, &big, err);
  if (text == NULL)
    return -1;
  /* a v2-only host has exactly one line, "0::/path" */
  if (strncmp (text, "0::", 3) != 0)
    return skiff_error (err, ENOENT, "no cgroup2 entry in /proc/self/cgroup");
  char *path = text + 3;
  path[strcspn (path, "\n")] = '\0';
  cleanup_close int target = rootfs_open_target (x, op, true, err);
  if (target < 0)
    return -1;
  return cgroup_hierarchy (&c, target, op->dest, "cgroup2", NULL, path, err);
}

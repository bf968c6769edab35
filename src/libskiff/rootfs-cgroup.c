/* cgroup mounts of the rootfs plan: one OP_CGROUP becomes a cgroup2 mount
   (v2-only host) or a tmpfs of per-hierarchy mounts (v1 and hybrid hosts),
   each a fresh mount in a cgroup namespace or a bind of the container's own
   cgroup directory from the host without one. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
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
  struct mountinfo *mi; /* the host's mounts, to find the hierarchies */
  size_t mi_len;
};

static void
cgroup_ctx_free (struct cgroup_ctx *c)
{
  mountinfo_free (c->mi, c->mi_len);
}

/* Whether every controller of ctrls ("cpu,cpuacct", "name=systemd") is in
   the super options of a cgroup v1 mount. */
static bool
hierarchy_matches (const char *super_opts, const char *ctrls)
{
  cleanup_free char *copy = xstrdup (ctrls);
  char *save = NULL;
  for (char *c = strtok_r (copy, ",", &save); c; c = strtok_r (NULL, ",", &save))
    {
      cleanup_free char *needle = rootfs_xasprintf (",%s,", c);
      cleanup_free char *hay = rootfs_xasprintf (",%s,", super_opts);
      if (strstr (hay, needle) == NULL)
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

/* The host directory of our cgroup `path` in the hierarchy mounted as m. */
static int
host_cgroup_dir (const struct mountinfo *m, const char *path, char **out, skiff_error_t *err)
{
  if (m == NULL)
    return skiff_error (err, ENOENT, "the host has no mount of this cgroup hierarchy");
  size_t rl = strcmp (m->root, "/") == 0 ? 0 : strlen (m->root);
  if (strncmp (path, m->root, rl) != 0 || (path[rl] != '/' && path[rl] != '\0'))
    return skiff_error (err, ENOENT, "cgroup \"%s\" is not below the host's mount %s", path,
                        m->point);
  *out = rootfs_xasprintf ("%s%s", m->point, path + rl);
  return 0;
}

/* One hierarchy at dest: a fresh mount in a cgroup namespace (it shows the
   namespace's root), else a bind of our own directory from the host so
   the container sees nothing of the rest of the tree. */
static int
cgroup_hierarchy (struct cgroup_ctx *c, const char *dest, const char *fstype, const char *ctrls,
                  const char *path, skiff_error_t *err)
{
  struct rootfs_exec *x = c->x;
  cleanup_close int target = safe_mkdir_all_in_root (x->rootfd, dest, 0755, err);
  if (target < 0)
    return -1;
  struct mount_target t = { target, x->rootfd, dest };
  struct mount_opts o = { .flags = c->op->opts.flags, .clear = c->op->opts.clear };
  if (x->s->cgroupns)
    {
      char *data[] = { (char *)ctrls };
      o.data = ctrls ? data : NULL;
      o.data_len = ctrls ? 1 : 0;
      return mount_new_fs (fstype, fstype, &t, &o, NULL, err);
    }
  cleanup_free char *src = NULL;
  if (host_cgroup_dir (find_hierarchy (c, fstype, ctrls), path, &src, err) < 0)
    return -1;
  o.bind = true;
  return mount_bind (-1, src, &t, &o, -1, err);
}

/* cpu -> cpu,cpuacct: the names programs look for. */
static int
cgroup_comount_links (struct rootfs_exec *x, const char *dest, const char *name, skiff_error_t *err)
{
  cleanup_close int tmpfs = safe_open_in_root (x->rootfd, dest, O_PATH | O_DIRECTORY, 0, err);
  if (tmpfs < 0)
    return -1;
  cleanup_free char *ctrls = xstrdup (name);
  char *save = NULL;
  for (char *ctl = strtok_r (ctrls, ",", &save); ctl; ctl = strtok_r (NULL, ",", &save))
    if (symlinkat (name, tmpfs, ctl) < 0 && errno != EEXIST)
      return skiff_error (err, errno, "symlink \"%s/%s\"", dest, ctl);
  return 0;
}

/* v1 or hybrid host: a tmpfs with one directory per hierarchy of
   /proc/self/cgroup, symlinks for co-mounted controllers (cpu ->
   cpu,cpuacct), cgroup2 at "unified" on a hybrid host. */
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
  cleanup_free char *text = NULL;
  if (read_file_at (AT_FDCWD, "/proc/self/cgroup", &text, NULL, err) < 0)
    return -1;
  char *save = NULL;
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
      cleanup_free char *name = xstrdup (v2                                 ? "unified"
                                         : strncmp (ctrls, "name=", 5) == 0 ? ctrls + 5
                                                                            : ctrls);
      cleanup_free char *sub = rootfs_xasprintf ("%s/%s", op->dest, name);
      if (cgroup_hierarchy (c, sub, v2 ? "cgroup2" : "cgroup", v2 ? NULL : ctrls, path, err) < 0)
        return -1;
      if (strchr (ctrls, ',') && cgroup_comount_links (x, op->dest, name, err) < 0)
        return -1;
    }
  cleanup_close int top = safe_open_in_root (x->rootfd, op->dest, O_PATH | O_DIRECTORY, 0, err);
  if (top < 0)
    return -1;
  if ((op->opts.flags & MS_RDONLY)
      && mount_change_attrs (top, op->dest, MOUNT_ATTR_RDONLY, 0, false, err) < 0)
    return -1;
  return 0;
}

int
rootfs_do_cgroup (struct rootfs_exec *x, const struct mount_op *op, skiff_error_t *err)
{
  __attribute__ ((cleanup (cgroup_ctx_free))) struct cgroup_ctx c = { x, op, NULL, 0 };
  if (mountinfo_read (&c.mi, &c.mi_len, err) < 0)
    return -1;
  struct statfs sfs;
  bool v2_only = statfs ("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
  if (!v2_only)
    return cgroup_v1_tree (&c, err);
  cleanup_free char *text = NULL;
  if (read_file_at (AT_FDCWD, "/proc/self/cgroup", &text, NULL, err) < 0)
    return -1;
  /* a v2-only host has exactly one line, "0::/path" */
  if (strncmp (text, "0::", 3) != 0)
    return skiff_error (err, ENOENT, "no cgroup2 entry in /proc/self/cgroup");
  char *path = text + 3;
  path[strcspn (path, "\n")] = '\0';
  return cgroup_hierarchy (&c, op->dest, "cgroup2", NULL, path, err);
}

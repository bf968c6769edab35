/* The container's filesystem: plan (pure), then execute.  See rootfs.h
   and docs/rootfs.md for the order of the steps and the reasons. */
#include "config.h"
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"
#include "fsutil.h"
#include "label.h"
#include "log.h"
#include "rootfs-internal.h"
#include "strbuf.h"

#define NO_INDEX SIZE_MAX

/* Files under /proc that may be bind-mounted over (lxcfs and friends);
   anything else under /proc could hide an LSM or sysctl file from the
   runtime (CVE-2019-16884, CVE-2019-19921). */
static const char *const proc_bind_allowed[] = {
  "/proc/cpuinfo", "/proc/diskstats",
  "/proc/meminfo", "/proc/stat",
  "/proc/swaps",   "/proc/uptime",
  "/proc/loadavg", "/proc/slabinfo",
  "/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
};

char *
rootfs_xasprintf (const char *fmt, ...)
{
  char *s = NULL;
  va_list ap;
  va_start (ap, fmt);
  if (vasprintf (&s, fmt, ap) < 0)
    abort ();
  va_end (ap);
  return s;
}

/* "/a/./b//../c/" -> "/a/c", with ".." stopping at "/".  Lexical: used to
   name and compare destinations; the gateway does the real resolution. */
char *
rootfs_path_clean (const char *path)
{
  char *out = malloc (strlen (path) + 2);
  if (out == NULL)
    abort ();
  return rootfs_path_clean_to (path, out);
}

char *
rootfs_path_clean_to (const char *path, char *out)
{
  size_t o = 0;
  for (const char *p = path;;)
    {
      p += strspn (p, "/");
      size_t n = strcspn (p, "/");
      if (n == 0)
        break;
      if (n == 2 && p[0] == '.' && p[1] == '.')
        while (o > 0 && out[--o] != '/')
          ;
      else if (!(n == 1 && p[0] == '.'))
        {
          out[o++] = '/';
          memcpy (out + o, p, n);
          o += n;
        }
      p += n;
    }
  if (o == 0)
    out[o++] = '/';
  out[o] = '\0';
  return out;
}

static bool
path_under (const char *path, const char *dir)
{
  size_t n = strlen (dir);
  return strncmp (path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* ---- the plan ---------------------------------------------------------- */

static struct mount_op *
plan_add (struct mount_plan *p, enum mount_op_kind kind, const char *dest, char *what)
{
  if (p->len == p->cap)
    {
      p->cap = p->cap ? 2 * p->cap : 32;
      p->ops = realloc (p->ops, p->cap * sizeof *p->ops);
      if (p->ops == NULL)
        abort ();
    }
  struct mount_op *op = &p->ops[p->len++];
  memset (op, 0, sizeof *op);
  op->kind = kind;
  op->index = NO_INDEX;
  op->dest = dest ? rootfs_path_clean (dest) : NULL;
  op->what = what;
  return op;
}

static void
plan_warn (struct mount_plan *p, char *msg)
{
  p->warnings = realloc (p->warnings, (p->warnings_len + 1) * sizeof *p->warnings);
  if (p->warnings == NULL)
    abort ();
  p->warnings[p->warnings_len++] = msg;
}

void
mount_plan_free (struct mount_plan *p)
{
  for (size_t i = 0; i < p->len; i++)
    {
      free (p->ops[i].what);
      free (p->ops[i].dest);
      free (p->ops[i].source);
      free (p->ops[i].fstype);
      mount_opts_free (&p->ops[i].opts);
    }
  for (size_t i = 0; i < p->warnings_len; i++)
    free (p->warnings[i]);
  free (p->ops);
  free (p->warnings);
  memset (p, 0, sizeof *p);
}

/* Options of a mount the runtime adds itself. */
static void
static_opts (struct mount_op *op, const char *const *opts)
{
  size_t n = 0;
  while (opts[n])
    n++;
  if (mount_opts_parse ((char *const *)opts, n, &op->opts, NULL) < 0)
    abort ();
}

static const struct oci_mount *
config_mount_at (const oci_config *c, const char *dest, size_t *index)
{
  for (size_t i = c->mounts_len; i-- > 0;)
    {
      cleanup_free char *d = rootfs_path_clean (c->mounts[i]->destination);
      if (strcmp (d, dest) == 0)
        {
          if (index)
            *index = i;
          return c->mounts[i];
        }
    }
  return NULL;
}

static bool
mount_is_bind (const oci_mount *m)
{
  if (streq (m->type, "bind"))
    return true;
  for (size_t i = 0; i < m->options_len; i++)
    if (streq (m->options[i], "bind") || streq (m->options[i], "rbind"))
      return true;
  return false;
}

static int
invalid (skiff_error_t *err, const char *what, const char *msg)
{
  return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0, "%s: %s", what, msg);
}

/* What may be mounted under /proc: proc itself on /proc, binds over a few
   files.  Checked again on the resolved target at run time. */
static int
check_proc_dest (const struct mount_op *op, bool bind, skiff_error_t *err)
{
  if (!path_under (op->dest, "/proc"))
    return 0;
  if (strcmp (op->dest, "/proc") == 0)
    return streq (op->fstype, "proc")
               ? 0
               : invalid (err, op->what, "only proc may be mounted on /proc");
  for (size_t i = 0; i < sizeof proc_bind_allowed / sizeof proc_bind_allowed[0]; i++)
    if (bind && strcmp (op->dest, proc_bind_allowed[i]) == 0)
      return 0;
  return invalid (err, op->what, "mounts under /proc are refused (except binds over lxcfs files)");
}

static void
warn_ignored (struct mount_plan *p, const struct mount_op *op, bool bind)
{
  if (bind && op->opts.data_len)
    plan_warn (p, rootfs_xasprintf ("%s: option \"%s\" means nothing for a bind mount; ignored",
                                    op->what, op->opts.data[0]));
  if (bind && mount_opts_sb_flags (&op->opts))
    plan_warn (p,
               rootfs_xasprintf ("%s: superblock options (sync, dirsync, mand, lazytime...) do not "
                                 "apply to a bind mount; ignored",
                                 op->what));
}

static int
plan_config_mount (const struct rootfs_spec *s, size_t i, struct mount_plan *p, skiff_error_t *err)
{
  const oci_mount *m = s->config->mounts[i];
  char *what = rootfs_xasprintf ("mounts[%zu] (%s)", i, m->destination ? m->destination : "");
  if (m->destination == NULL || m->destination[0] != '/')
    {
      invalid (err, what, "destination must be an absolute path");
      free (what);
      return -1;
    }
  bool bind = mount_is_bind (m);
  const char *type = m->type;
  enum mount_op_kind kind = bind                                                ? OP_BIND
                            : streq (type, "cgroup") || streq (type, "cgroup2") ? OP_CGROUP
                                                                                : OP_FS;
  struct mount_op *op = plan_add (p, kind, m->destination, what);
  op->index = i;
  op->fstype = bind || type == NULL ? NULL : xstrdup (type);
  if (mount_opts_parse (m->options, m->options_len, &op->opts, err) < 0)
    return skiff_error_wrap (err, "%s", what);
  if (op->opts.remount)
    op->kind = OP_REMOUNT;
  if ((m->uid_mappings_len || m->gid_mappings_len) && !op->opts.ridmap)
    op->opts.idmap = true;
  if ((op->opts.idmap || op->opts.ridmap) && !bind)
    return invalid (err, what, "idmap and uidMappings/gidMappings need a bind mount");
  if (!bind && !op->opts.remount && (type == NULL || *type == '\0'))
    return invalid (err, what, "type is missing");
  if (op->opts.tmpcopyup && !streq (type, "tmpfs"))
    return invalid (err, what, "tmpcopyup applies to a tmpfs only");
  if (check_proc_dest (op, bind, err) < 0)
    return -1;
  op->real_dir = streq (type, "proc") || streq (type, "sysfs") || strcmp (op->dest, "/dev") == 0;
  if (bind && m->source)
    op->source = m->source[0] == '/' ? xstrdup (m->source)
                                     : rootfs_xasprintf ("%s/%s", s->bundle, m->source);
  else if (bind)
    return invalid (err, what, "a bind mount needs a source");
  else if (streq (type, "sysfs") && !s->netns)
    {
      /* sysfs shows the network devices of the mounter's net namespace:
         without its own, the container gets the host's /sys, read-only
         as the options say, like runc. */
      op->kind = OP_BIND;
      free (op->fstype);
      op->fstype = NULL;
      op->opts.bind = op->opts.rbind = true;
      op->source = xstrdup ("/sys");
    }
  else
    op->source = xstrdup (m->source ? m->source : type);
  warn_ignored (p, op, bind);
  return 0;
}

static int
parse_propagation (const char *value, unsigned long *out, skiff_error_t *err)
{
  struct mount_opts o;
  char *const opts[] = { (char *)value };
  if (mount_opts_parse (opts, 1, &o, err) < 0)
    return -1;
  bool ok = o.propagation && o.data_len == 0;
  mount_opts_free (&o);
  if (!ok)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.rootfsPropagation: \"%s\" is not a propagation", value);
  *out = o.propagation;
  return 0;
}

static int
check_devices (const oci_linux *l, skiff_error_t *err)
{
  for (size_t i = 0; l && i < l->devices_len; i++)
    {
      const oci_device *d = l->devices[i];
      bool node = streq (d->type, "c") || streq (d->type, "u") || streq (d->type, "b");
      if (!node && !streq (d->type, "p"))
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "linux.devices[%zu]: type \"%s\" is not c, u, b or p", i,
                                     d->type);
      if (node && !(d->major_present && d->minor_present))
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "linux.devices[%zu]: major and minor are required", i);
      if (d->path == NULL || d->path[0] != '/')
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "linux.devices[%zu]: path must be absolute", i);
    }
  return 0;
}

/* Before pivot_root: propagation, the rootfs bind, mounts[] and /dev. */
static int
plan_setup (const struct rootfs_spec *s, struct mount_plan *p, skiff_error_t *err)
{
  const oci_config *c = s->config;
  const oci_linux *l = c->linux;
  /* Our mounts must not reach the host unless rootfsPropagation says
     shared: rslave by default.  An unbindable tree could not be cloned for
     the rootfs bind, so that one waits for the container's / (plan_pivot). */
  struct mount_op *op = plan_add (p, OP_ROOT_PROPAGATION, "/", xstrdup ("rootfsPropagation"));
  op->opts.propagation = MS_SLAVE | MS_REC;
  if (l && l->rootfs_propagation
      && parse_propagation (l->rootfs_propagation, &op->opts.propagation, err) < 0)
    return -1;
  if (op->opts.propagation & MS_UNBINDABLE)
    op->opts.propagation = MS_SLAVE | MS_REC;
  op = plan_add (p, OP_BIND_ROOTFS, "/", xstrdup ("root.path"));
  op->source = xstrdup (s->rootfs);

  const oci_mount *dev = config_mount_at (c, "/dev", NULL);
  if (dev == NULL)
    {
      op = plan_add (p, OP_FS, "/dev", xstrdup ("default /dev"));
      op->fstype = xstrdup ("tmpfs");
      op->source = xstrdup ("tmpfs");
      op->real_dir = true;
      static_opts (
          op, (const char *const[]){ "nosuid", "strictatime", "mode=755", "size=65536k", NULL });
    }
  for (size_t i = 0; i < c->mounts_len; i++)
    if (plan_config_mount (s, i, p, err) < 0)
      return -1;
  if (check_devices (l, err) < 0)
    return -1;
  /* A /dev bound from the host already has its devices. */
  if (dev == NULL || !mount_is_bind (dev))
    {
      if (config_mount_at (c, "/dev/pts", NULL) == NULL)
        {
          op = plan_add (p, OP_FS, "/dev/pts", xstrdup ("default /dev/pts"));
          op->fstype = xstrdup ("devpts");
          op->source = xstrdup ("devpts");
          static_opts (op, (const char *const[]){ "nosuid", "noexec", "newinstance",
                                                  "ptmxmode=0666", "mode=0620", NULL });
        }
      if (config_mount_at (c, "/dev/shm", NULL) == NULL)
        {
          op = plan_add (p, OP_FS, "/dev/shm", xstrdup ("default /dev/shm"));
          op->fstype = xstrdup ("tmpfs");
          op->source = xstrdup ("shm");
          static_opts (op, (const char *const[]){ "nosuid", "noexec", "nodev", "mode=1777",
                                                  "size=65536k", NULL });
        }
      plan_add (p, OP_DEVICES, "/dev", xstrdup ("linux.devices"));
      plan_add (p, OP_DEV_LINKS, "/dev", xstrdup ("/dev symlinks"));
    }
  if (c->process && c->process->terminal)
    plan_add (p, OP_CONSOLE, "/dev/console", xstrdup ("/dev/console"));
  return 0;
}

/* After: pivot, readonly and masked paths, root.readonly, propagation. */
static int
plan_pivot (const struct rootfs_spec *s, struct mount_plan *p, skiff_error_t *err)
{
  const oci_config *c = s->config;
  const oci_linux *l = c->linux;
  plan_add (p, OP_PIVOT, "/", xstrdup (s->no_pivot ? "no-pivot" : "pivot_root"));
  /* As runc: a missing cwd is made right after the pivot, so that a
     read-only root or readonlyPath does not refuse it. */
  const char *cwd = c->process && c->process->cwd && *c->process->cwd ? c->process->cwd : "/";
  if (cwd[0] == '/' && strcmp (cwd, "/") != 0)
    plan_add (p, OP_CWD, cwd, rootfs_xasprintf ("process.cwd `%s`", cwd));
  for (size_t i = 0; l && i < l->readonly_paths_len; i++)
    plan_add (p, OP_READONLY, l->readonly_paths[i],
              rootfs_xasprintf ("readonlyPaths[%zu] (%s)", i, l->readonly_paths[i]));
  for (size_t i = 0; l && i < l->masked_paths_len; i++)
    plan_add (p, OP_MASK, l->masked_paths[i],
              rootfs_xasprintf ("maskedPaths[%zu] (%s)", i, l->masked_paths[i]));
  if (c->root && c->root->readonly)
    plan_add (p, OP_ROOT_READONLY, "/", xstrdup ("root.readonly"));
  if (l && l->rootfs_propagation)
    {
      struct mount_op *op
          = plan_add (p, OP_ROOT_FINAL_PROPAGATION, "/", xstrdup ("rootfsPropagation"));
      if (parse_propagation (l->rootfs_propagation, &op->opts.propagation, err) < 0)
        return -1;
    }
  return 0;
}

static int
needs_mountns (skiff_error_t *err, const char *what)
{
  return skiff_error_kind_set (
      err, SKIFF_ERR_INVALID_CONFIG, 0,
      "linux.namespaces: no mount namespace, so %s would be mounted in the runtime's own (the "
      "host's): add {\"type\": \"mount\"}, or remove it",
      what);
}

int
rootfs_check_host_mountns (const oci_config *c, skiff_error_t *err)
{
  const oci_linux *l = c->linux;
  char what[PATH_MAX + 32];
  if (c->mounts_len)
    {
      snprintf (what, sizeof what, "mounts[0] (%s)",
                c->mounts[0]->destination ? c->mounts[0]->destination : "");
      return needs_mountns (err, what);
    }
  if (l && l->masked_paths_len)
    return needs_mountns (err, "linux.maskedPaths");
  if (l && l->readonly_paths_len)
    return needs_mountns (err, "linux.readonlyPaths");
  if (l && l->devices_len)
    return needs_mountns (err, "linux.devices (a /dev)");
  if (l && l->rootfs_propagation)
    return needs_mountns (err, "linux.rootfsPropagation");
  if (c->root && c->root->readonly)
    return needs_mountns (err, "root.readonly");
  return 0;
}

/* chroot into the rootfs, then the cwd: no mount. */
static int
plan_host_mountns (const struct rootfs_spec *s, struct mount_plan *p, skiff_error_t *err)
{
  if (rootfs_check_host_mountns (s->config, err) < 0)
    return -1;
  p->pivot_at = 0;
  plan_add (p, OP_PIVOT, "/", xstrdup ("chroot (no mount namespace)"));
  const oci_process *proc = s->config->process;
  const char *cwd = proc && proc->cwd && *proc->cwd ? proc->cwd : "/";
  if (cwd[0] == '/' && strcmp (cwd, "/") != 0)
    plan_add (p, OP_CWD, cwd, rootfs_xasprintf ("process.cwd `%s`", cwd));
  return 0;
}

int
mount_plan_build (const struct rootfs_spec *s, struct mount_plan *plan, skiff_error_t *err)
{
  memset (plan, 0, sizeof *plan);
  if (s->host_mountns)
    {
      if (plan_host_mountns (s, plan, err) < 0)
        goto fail;
      return 0;
    }
  if (plan_setup (s, plan, err) < 0)
    goto fail;
  plan->pivot_at = plan->len;
  if (plan_pivot (s, plan, err) < 0)
    goto fail;
  return 0;
fail:
  mount_plan_free (plan);
  return -1;
}

int
rootfs_read_host_mounts (const struct mount_plan *plan, struct mountinfo **v, size_t *n,
                         skiff_error_t *err)
{
  *v = NULL;
  *n = 0;
  for (size_t i = 0; i < plan->len; i++)
    if (plan->ops[i].kind == OP_CGROUP)
      {
        if (mountinfo_read (v, n, err) < 0)
          return -1;
        /* mount ids are this namespace's: the init cannot check them */
        mountinfo_drop_hidden_cgroups (*v, n);
        return 0;
      }
  return 0;
}

static const char *
kind_name (enum mount_op_kind k)
{
  switch (k)
    {
    case OP_ROOT_PROPAGATION:
      return "propagation";
    case OP_BIND_ROOTFS:
      return "bind rootfs";
    case OP_BIND:
      return "bind";
    case OP_FS:
      return "mount";
    case OP_CGROUP:
      return "cgroup";
    case OP_REMOUNT:
      return "remount";
    case OP_DEVICES:
      return "devices";
    case OP_DEV_LINKS:
      return "symlinks";
    case OP_CONSOLE:
      return "console";
    case OP_PIVOT:
      return "pivot";
    case OP_CWD:
      return "mkdir cwd";
    case OP_READONLY:
      return "readonly";
    case OP_MASK:
      return "mask";
    case OP_ROOT_READONLY:
      return "readonly root";
    case OP_ROOT_FINAL_PROPAGATION:
      return "propagation";
    }
  return "?";
}

void
mount_plan_describe (const struct mount_plan *p, struct skiff_strbuf *out)
{
  for (size_t i = 0; i < p->len; i++)
    {
      const struct mount_op *op = &p->ops[i];
      strbuf_printf (out, "%3zu. %-13s %s", i + 1, kind_name (op->kind), op->dest);
      if (op->fstype)
        strbuf_printf (out, " type=%s", op->fstype);
      if (op->source)
        strbuf_printf (out, " source=%s", op->source);
      cleanup_strbuf struct skiff_strbuf opts = { 0 };
      mount_opts_describe (&op->opts, &opts);
      if (opts.len)
        strbuf_printf (out, " [%s]", opts.s);
      if (op->real_dir)
        strbuf_puts (out, " (real directory)");
      strbuf_printf (out, "  <- %s\n", op->what);
    }
  for (size_t i = 0; i < p->warnings_len; i++)
    strbuf_printf (out, "warning: %s\n", p->warnings[i]);
}

/* ---- execution --------------------------------------------------------- */

static void
rootfs_exec_free (struct rootfs_exec *x)
{
  if (x->rootfd >= 0)
    close (x->rootfd);
  if (x->nullfd >= 0)
    close (x->nullfd);
}

static void
rootfs_exec_init (struct rootfs_exec *x, const struct rootfs_spec *s)
{
  const oci_linux *l = s->config->linux;
  x->s = s;
  x->rootfd = x->nullfd = -1;
  x->label = l && l->mount_label && selinux_host_enabled () ? l->mount_label : NULL;
}

static bool
fs_takes_label (const char *fstype)
{
  static const char *const no[] = { "proc", "sysfs", "cgroup", "cgroup2", "mqueue" };
  for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
    if (streq (fstype, no[i]))
      return false;
  return true;
}

/* dest must be a directory reached without following any symlink: /proc
   on a symlink would let the image choose where procfs lands
   (CVE-2019-19921); /dev through a symlink would put device nodes there. */
static int
open_real_dir (int rootfd, const char *dest, skiff_error_t *err)
{
  const int flags = O_PATH | O_DIRECTORY;
  int fd = safe_open_in_root_opt (rootfd, dest, flags, FS_RESOLVE_NO_SYMLINKS, err);
  if (fd == FS_ABSENT)
    {
      cleanup_close int made = safe_mkdir_all_in_root (rootfd, dest, 0755, err);
      if (made < 0)
        return -1;
      fd = safe_open_in_root_how (rootfd, dest, flags, 0, FS_RESOLVE_NO_SYMLINKS, err);
    }
  if (fd < 0 && (error_is (err, ELOOP) || error_is (err, ENOTDIR)))
    return skiff_error (err, (*err)->errno_, "\"%s\" must be a real directory", dest);
  return fd;
}

static bool
proc_bind_ok (const struct mount_op *op)
{
  for (size_t i = 0; i < sizeof proc_bind_allowed / sizeof proc_bind_allowed[0]; i++)
    if (op->kind == OP_BIND && strcmp (op->dest, proc_bind_allowed[i]) == 0)
      return true;
  return false;
}

int
rootfs_open_target (struct rootfs_exec *x, const struct mount_op *op, bool dir, skiff_error_t *err)
{
  cleanup_close int fd = -1;
  if (op->real_dir)
    fd = open_real_dir (x->rootfd, op->dest, err);
  else if (dir)
    fd = safe_mkdir_all_in_root (x->rootfd, op->dest, 0755, err);
  else
    fd = safe_create_file_in_root (x->rootfd, op->dest, 0644, err);
  if (fd < 0)
    return -1;
  /* The plan checked the name; this checks where it really led. */
  struct statfs sfs;
  if (fstatfs (fd, &sfs) < 0)
    return skiff_error (err, errno, "statfs \"%s\"", op->dest);
  if (sfs.f_type == PROC_SUPER_MAGIC && !proc_bind_ok (op))
    return skiff_error (err, EPERM, "\"%s\" leads into a procfs: refused", op->dest);
  return steal_fd (&fd);
}

static void
append_map (struct skiff_strbuf *b, oci_id_mapping **m, size_t n)
{
  for (size_t i = 0; i < n; i++)
    strbuf_printf (b, "%u %u %u\n", m[i]->container_id, m[i]->host_id, m[i]->size);
}

/* The user namespace an idmapped mounts[i] maps through: its own
   uidMappings/gidMappings, else the container's. */
static int
idmap_userns (const struct rootfs_spec *s, size_t i, skiff_error_t *err)
{
  const oci_mount *m = s->config->mounts[i];
  const oci_linux *l = s->config->linux;
  cleanup_strbuf struct skiff_strbuf uid = { 0 }, gid = { 0 };
  if (m->uid_mappings_len || m->gid_mappings_len)
    {
      append_map (&uid, m->uid_mappings, m->uid_mappings_len);
      append_map (&gid, m->gid_mappings, m->gid_mappings_len);
    }
  else if (l)
    {
      append_map (&uid, l->uid_mappings, l->uid_mappings_len);
      append_map (&gid, l->gid_mappings, l->gid_mappings_len);
    }
  if (uid.len == 0 || gid.len == 0)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "idmap needs uidMappings and gidMappings");
  return mount_userns_fd (uid.s, gid.s, err);
}

static int
do_bind (struct rootfs_exec *x, const struct mount_op *op, skiff_error_t *err)
{
  const struct rootfs_spec *s = x->s;
  int prepared = s->mount_fds && op->index != NO_INDEX ? s->mount_fds[op->index] : -1;
  /* The source is opened once: the type we check is the one we mount. */
  cleanup_close int src = prepared >= 0 ? -1 : open (op->source, O_PATH | O_CLOEXEC);
  if (prepared < 0 && src < 0)
    return skiff_error (err, errno, "mount \"%s\" on \"%s\"", op->source, op->dest);
  mode_t fmt;
  if (fs_fd_type (prepared >= 0 ? prepared : src, &fmt, err) < 0)
    return -1;
  cleanup_close int target = rootfs_open_target (x, op, S_ISDIR (fmt), err);
  if (target < 0)
    return -1;
  struct mount_target t = { target, x->rootfd, op->dest };
  if (prepared >= 0)
    return mount_attach_tree (prepared, op->source, &t, &op->opts, err);
  cleanup_close int userns = -1;
  if ((op->opts.idmap || op->opts.ridmap) && (userns = idmap_userns (s, op->index, err)) < 0)
    return -1;
  return mount_bind (src, op->source, &t, &op->opts, userns, err);
}

static int
label_mount_root (struct rootfs_exec *x, const struct mount_op *op, skiff_error_t *err)
{
  cleanup_close int fd = safe_open_in_root (x->rootfd, op->dest, O_RDONLY | O_DIRECTORY, 0, err);
  if (fd < 0)
    return -1;
  if (fsetxattr (fd, "security.selinux", x->label, strlen (x->label) + 1, 0) < 0)
    return skiff_error (err, errno, "linux.mountLabel `%s` on \"%s\"", x->label, op->dest);
  return 0;
}

static bool
has_mode_option (const struct mount_opts *o)
{
  for (size_t i = 0; i < o->data_len; i++)
    if (strncmp (o->data[i], "mode=", 5) == 0)
      return true;
  return false;
}

/* A tmpfs gets what was under it (tmpcopyup), with the directory's owner
   and times. */
static int
tmpfs_copy_up (struct rootfs_exec *x, const struct mount_op *op, int under, const struct stat *st,
               skiff_error_t *err)
{
  cleanup_close int top = safe_open_in_root (x->rootfd, op->dest, O_RDONLY | O_DIRECTORY, 0, err);
  if (top < 0)
    return -1;
  if (fchown (top, st->st_uid, st->st_gid) < 0)
    return skiff_error (err, errno, "%s: tmpcopyup: chown", op->what);
  if (rootfs_copy_up (under, top, op->what, err) < 0)
    return -1;
  /* last: making the entries changed the directory's times */
  struct timespec times[2] = { st->st_atim, st->st_mtim };
  if (futimens (top, times) < 0)
    return skiff_error (err, errno, "%s: tmpcopyup: times", op->what);
  return 0;
}

static int
do_fs (struct rootfs_exec *x, const struct mount_op *op, skiff_error_t *err)
{
  bool tmpfs = streq (op->fstype, "tmpfs");
  bool existed = false;
  if (tmpfs)
    {
      cleanup_close int fd = safe_open_in_root (x->rootfd, op->dest, O_PATH, 0, NULL);
      existed = fd >= 0;
    }
  cleanup_close int target = rootfs_open_target (x, op, true, err);
  if (target < 0)
    return -1;
  struct mount_target t = { target, x->rootfd, op->dest };
  const char *label = fs_takes_label (op->fstype) ? x->label : NULL;
  struct mount_opts o = op->opts;
  struct stat st;
  char mode[16];
  char *data[o.data_len + 1];
  cleanup_close int under = -1;
  if (tmpfs && fstat (target, &st) < 0)
    return skiff_error (err, errno, "%s: stat the mountpoint", op->what);
  /* Without mode=, a tmpfs keeps the mode of a mountpoint the image has
     (as runc and crun do); on one made for it, tmpfs's own 1777. */
  if (tmpfs && existed && !has_mode_option (&o))
    {
      for (size_t i = 0; i < o.data_len; i++) /* o.data may be NULL */
        data[i] = o.data[i];
      snprintf (mode, sizeof mode, "mode=%o", (unsigned)(st.st_mode & 07777));
      data[o.data_len] = mode;
      o.data = data;
      o.data_len++;
    }
  /* What is under the mountpoint stays reachable through this fd. */
  if (op->opts.tmpcopyup
      && (under = openat (target, ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
    return skiff_error (err, errno, "%s: tmpcopyup: open the mountpoint", op->what);
  if (mount_new_fs (op->fstype, op->source, &t, &o, label, err) < 0)
    return -1;
  if (under >= 0 && tmpfs_copy_up (x, op, under, &st, err) < 0)
    return -1;
  /* mqueue takes no context= option: label its root instead, as runc */
  if (x->label && streq (op->fstype, "mqueue"))
    return label_mount_root (x, op, err);
  return 0;
}

static int
do_remount (struct rootfs_exec *x, const struct mount_op *op, skiff_error_t *err)
{
  cleanup_close int fd = safe_open_in_root (x->rootfd, op->dest, O_PATH, 0, err);
  if (fd < 0)
    return -1;
  struct mount_target t = { fd, x->rootfd, op->dest };
  return mount_remount (&t, &op->opts, err);
}

/* ---- the switch and after ---------------------------------------------- */

/* The root of the mount that holds path. */
static int
mount_root_of (const char *path, skiff_error_t *err)
{
  cleanup_close int fd = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return skiff_error (err, errno, "open \"%s\"", path);
  for (int depth = 0; depth < 4096; depth++)
    {
      bool root;
      if (fs_is_mount_root (fd, &root, err) < 0)
        return -1;
      if (root)
        return steal_fd (&fd);
      int up = openat (fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (up < 0)
        return skiff_error (err, errno, "open the parent of \"%s\"", path);
      close (fd);
      fd = up;
    }
  return skiff_error (err, ELOOP, "no mount above \"%s\"", path);
}

static int
do_root_propagation (struct rootfs_exec *x, const struct mount_op *op, skiff_error_t *err)
{
  cleanup_close int root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return skiff_error (err, errno, "open /");
  if (mount_set_propagation (root, "/", op->opts.propagation, err) < 0)
    return -1;
  /* pivot_root(2) and MS_MOVE refuse a new root whose parent mount is
     shared; a shared parent would also carry our mounts to its peers. */
  cleanup_close int parent = mount_root_of (x->s->rootfs, err);
  if (parent < 0)
    return -1;
  return mount_set_propagation (parent, "the mount holding the rootfs", MS_PRIVATE, err);
}

static int
reopen_root (struct rootfs_exec *x, const char *path, skiff_error_t *err)
{
  int fd = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return skiff_error (err, errno, "open \"%s\"", path);
  if (x->rootfd >= 0)
    close (x->rootfd);
  x->rootfd = fd;
  return 0;
}

static int
do_bind_rootfs (struct rootfs_exec *x, const struct mount_op *op, skiff_error_t *err)
{
  cleanup_close int fd = open (op->source, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return skiff_error (err, errno, "open \"%s\"", op->source);
  struct mount_target t = { fd, -1, op->source };
  struct mount_opts o = { .bind = true, .rbind = true };
  if (mount_bind (fd, op->source, &t, &o, -1, err) < 0)
    return -1;
  /* from here on every path resolves in the new mount */
  return reopen_root (x, op->source, err);
}

static int
do_pivot (struct rootfs_exec *x, skiff_error_t *err)
{
  cleanup_close int newroot = open (x->s->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (newroot < 0 || fchdir (newroot) < 0)
    return skiff_error (err, errno, "chdir \"%s\"", x->s->rootfs);
  if (x->s->host_mountns)
    {
      /* The runtime's mount namespace: nothing to move or detach. */
      if (chroot (".") < 0)
        return skiff_error (err, errno, "chroot");
    }
  else if (x->s->no_pivot)
    {
      /* The host's tree stays in the namespace, under the rootfs: this is
         why pivot_root is the default. */
      if (mount (".", "/", NULL, MS_MOVE, NULL) < 0)
        return skiff_error (err, errno, "move the rootfs onto /");
      if (chroot (".") < 0)
        return skiff_error (err, errno, "chroot");
    }
  else
    {
      cleanup_close int oldroot = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (oldroot < 0)
        return skiff_error (err, errno, "open /");
      /* pivot_root(".", "."): the old root ends up stacked on the new one
         (pivot_root(2)), with no put_old directory left in the rootfs. */
      if (syscall (SYS_pivot_root, ".", ".") < 0)
        return skiff_error (err, errno, "pivot_root");
      /* An unmount propagates to peers, and the old root's peers are the
         host's mounts: make it a slave before detaching it. */
      if (fchdir (oldroot) < 0 || mount (NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
        return skiff_error (err, errno, "make the old root a slave");
      if (umount2 (".", MNT_DETACH) < 0)
        return skiff_error (err, errno, "detach the old root");
    }
  if (chdir ("/") < 0)
    return skiff_error (err, errno, "chdir /");
  return reopen_root (x, "/", err);
}

static int
do_readonly (struct rootfs_exec *x, const struct mount_op *op, skiff_error_t *err)
{
  cleanup_close int fd = safe_open_in_root_opt (x->rootfd, op->dest, O_PATH, 0, err);
  if (fd == FS_ABSENT)
    return 0;
  if (fd < 0)
    return -1;
  /* a recursive read-only copy of what is there, submounts included */
  struct mount_target t = { fd, x->rootfd, op->dest };
  struct mount_opts o = { .bind = true, .rbind = true, .flags = MS_RDONLY };
  return mount_bind (fd, op->dest, &t, &o, -1, err);
}

/* The container's /dev/null, proved to be the null device: masking with
   a symlink or another file planted there would expose what it points to
   (CVE-2025-31133). */
static int
verified_null (struct rootfs_exec *x, skiff_error_t *err)
{
  if (x->nullfd >= 0)
    return x->nullfd;
  cleanup_close int fd = safe_open_in_root_how (x->rootfd, "/dev/null", O_PATH | O_NOFOLLOW, 0,
                                                FS_RESOLVE_NO_SYMLINKS, err);
  if (fd < 0)
    return -1;
  struct stat st;
  if (fstat (fd, &st) < 0)
    return skiff_error (err, errno, "stat /dev/null");
  if (!S_ISCHR (st.st_mode) || st.st_rdev != makedev (1, 3))
    return skiff_error (err, EPERM, "/dev/null is not the null device (char 1:3)");
  return x->nullfd = steal_fd (&fd);
}

static int
do_mask (struct rootfs_exec *x, const struct mount_op *op, skiff_error_t *err)
{
  cleanup_close int fd = safe_open_in_root_opt (x->rootfd, op->dest, O_PATH, 0, err);
  if (fd == FS_ABSENT)
    return 0;
  mode_t fmt;
  if (fd < 0 || fs_fd_type (fd, &fmt, err) < 0)
    return -1;
  struct mount_target t = { fd, x->rootfd, op->dest };
  struct mount_opts o = { .flags = MS_RDONLY | MS_NOSUID | MS_NOEXEC };
  if (S_ISDIR (fmt))
    {
      o.flags |= MS_NODEV;
      return mount_new_fs ("tmpfs", "tmpfs", &t, &o, x->label, err);
    }
  int null = verified_null (x, err);
  if (null < 0)
    return -1;
  o.bind = true;
  return mount_bind (null, "/dev/null", &t, &o, -1, err);
}

static int
exec_op (struct rootfs_exec *x, const struct mount_op *op, skiff_error_t *err)
{
  int r = -1;
  switch (op->kind)
    {
    case OP_ROOT_PROPAGATION:
      r = do_root_propagation (x, op, err);
      break;
    case OP_BIND_ROOTFS:
      r = do_bind_rootfs (x, op, err);
      break;
    case OP_BIND:
      r = do_bind (x, op, err);
      break;
    case OP_FS:
      r = do_fs (x, op, err);
      break;
    case OP_CGROUP:
      r = rootfs_do_cgroup (x, op, err);
      break;
    case OP_REMOUNT:
      r = do_remount (x, op, err);
      break;
    case OP_DEVICES:
      r = rootfs_do_devices (x, err);
      break;
    case OP_DEV_LINKS:
      r = rootfs_do_dev_links (x, err);
      break;
    case OP_CONSOLE:
      r = rootfs_do_console (x, err);
      break;
    case OP_PIVOT:
      r = do_pivot (x, err);
      break;
    case OP_CWD:
      {
        /* inside the root, never through a symlink out of it */
        cleanup_close int fd = safe_mkdir_all_in_root (x->rootfd, op->dest, 0755, err);
        r = fd < 0 ? -1 : 0;
      }
      break;
    case OP_READONLY:
      r = do_readonly (x, op, err);
      break;
    case OP_MASK:
      r = do_mask (x, op, err);
      break;
    case OP_ROOT_READONLY:
      r = mount_change_attrs (x->rootfd, "/", MOUNT_ATTR_RDONLY, 0, false, err);
      break;
    case OP_ROOT_FINAL_PROPAGATION:
      r = mount_set_propagation (x->rootfd, "/", op->opts.propagation, err);
      break;
    }
  if (r < 0)
    return skiff_error_wrap (err, "%s", op->what);
  return 0;
}

/* Runs ops[from, to) of a plan built by the runtime: the init only reads
   it, so the plan's memory stays shared with the runtime's copy. */
static int
run_ops (const struct rootfs_spec *s, const struct mount_plan *plan, size_t from, size_t to,
         bool open_root, skiff_error_t *err)
{
  __attribute__ ((cleanup (rootfs_exec_free))) struct rootfs_exec x;
  rootfs_exec_init (&x, s);
  if (open_root && reopen_root (&x, s->rootfs, err) < 0)
    return -1;
  unsigned long long dev_ns = 0;
  for (size_t i = from; i < to; i++)
    {
      enum mount_op_kind k = plan->ops[i].kind;
      unsigned long long t0 = skiff_now_ns ();
      if (exec_op (&x, &plan->ops[i], err) < 0)
        return -1;
      if (k == OP_DEVICES || k == OP_DEV_LINKS || k == OP_CONSOLE)
        dev_ns += skiff_now_ns () - t0;
    }
  if (dev_ns)
    skiff_debug_phase ("devices (part of mounts)", skiff_now_ns () - dev_ns);
  return 0;
}

int
rootfs_setup (const struct rootfs_spec *s, const struct mount_plan *plan, skiff_error_t *err)
{
  return run_ops (s, plan, 0, plan->pivot_at, false, err);
}

int
rootfs_pivot (const struct rootfs_spec *s, const struct mount_plan *plan, skiff_error_t *err)
{
  return run_ops (s, plan, plan->pivot_at, plan->len, true, err);
}

static void
close_fds (int *fds, size_t n)
{
  for (size_t i = 0; fds && i < n; i++)
    if (fds[i] >= 0)
      close (fds[i]);
  free (fds);
}

int
rootfs_open_bind_trees (const struct rootfs_spec *s, int **fds_out, skiff_error_t *err)
{
  const oci_config *c = s->config;
  __attribute__ ((cleanup (mount_plan_free))) struct mount_plan plan = { 0 };
  *fds_out = NULL;
  if (c->mounts_len == 0)
    return 0;
  int *fds = malloc (c->mounts_len * sizeof *fds);
  if (fds == NULL)
    abort ();
  for (size_t i = 0; i < c->mounts_len; i++)
    fds[i] = -1;
  for (size_t i = 0; i < c->mounts_len; i++)
    {
      if (plan_config_mount (s, i, &plan, err) < 0)
        goto fail;
      const struct mount_op *op = &plan.ops[plan.len - 1];
      if (op->kind != OP_BIND)
        continue;
      if (!(op->opts.idmap || op->opts.ridmap))
        {
          /* Any bind: its source is reached with the runtime's rights,
             which the container's root may lack (a parent it cannot
             search).  Kernels without open_tree: the init binds it. */
          skiff_error_t e = NULL;
          if ((fds[i] = mount_open_tree (-1, op->source, &op->opts, -1, &e)) < 0)
            {
              /* Rootless, only the init may mount (in its user
                 namespace), with the same rights to reach the source. */
              if (e->errno_ != ENOSYS && !(s->rootless && e->errno_ == EPERM))
                {
                  *err = e;
                  skiff_error_wrap (err, "%s", op->what);
                  goto fail;
                }
              skiff_error_free (&e);
            }
          continue;
        }
      cleanup_close int userns = idmap_userns (s, i, err);
      if (userns < 0 || (fds[i] = mount_open_tree (-1, op->source, &op->opts, userns, err)) < 0)
        {
          if (s->rootless && (*err)->errno_ == EPERM)
            skiff_error_wrap (err,
                              "%s: rootless, an idmapped mount needs privilege over the "
                              "source's filesystem on the host",
                              op->what);
          else
            skiff_error_wrap (err, "%s", op->what);
          goto fail;
        }
    }
  *fds_out = fds;
  return 0;
fail:
  close_fds (fds, c->mounts_len);
  return -1;
}

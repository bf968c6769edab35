/* One mount operation, fd-based where the kernel allows: see mounts.h and
   docs/rootfs.md. */
#include "config.h"
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/magic.h>

#include "cleanup.h"
#include "fs.h"
#include "fsutil.h"
#include "log.h"
#include "rootless.h"
#include "strbuf.h"

#ifndef ST_NOSYMFOLLOW
#define ST_NOSYMFOLLOW 0x2000
#endif
#ifndef RDTGROUP_SUPER_MAGIC
#define RDTGROUP_SUPER_MAGIC 0x7655821
#endif

bool mount_force_fallback;

/* ---- option table ------------------------------------------------------ */

enum opt_kind
{
  OPT_IGNORE,
  OPT_FLAG,     /* sets MS_* */
  OPT_CLEAR,    /* clears MS_* */
  OPT_SB,       /* sets an MS_* that belongs to the superblock */
  OPT_SB_CLEAR, /* clears one */
  OPT_PROP,     /* propagation */
  OPT_REC_SET,  /* r* attribute set recursively */
  OPT_REC_CLR,  /* r* attribute cleared recursively */
  OPT_REC_ATIME,
  OPT_BIND,
  OPT_RBIND,
  OPT_REMOUNT,
  OPT_IDMAP,
  OPT_RIDMAP,
  OPT_TMPCOPYUP,
};

struct opt_def
{
  const char *name;
  enum opt_kind kind;
  uint64_t value;
  const char *sb_name; /* fsconfig flag name for OPT_SB */
};

static const struct opt_def opt_table[] = {
  { "defaults", OPT_IGNORE, 0, NULL },
  { "ro", OPT_FLAG, MS_RDONLY, NULL },
  { "rw", OPT_CLEAR, MS_RDONLY, NULL },
  { "nosuid", OPT_FLAG, MS_NOSUID, NULL },
  { "suid", OPT_CLEAR, MS_NOSUID, NULL },
  { "nodev", OPT_FLAG, MS_NODEV, NULL },
  { "dev", OPT_CLEAR, MS_NODEV, NULL },
  { "noexec", OPT_FLAG, MS_NOEXEC, NULL },
  { "exec", OPT_CLEAR, MS_NOEXEC, NULL },
  { "noatime", OPT_FLAG, MS_NOATIME, NULL },
  { "atime", OPT_CLEAR, MS_NOATIME, NULL },
  { "nodiratime", OPT_FLAG, MS_NODIRATIME, NULL },
  { "diratime", OPT_CLEAR, MS_NODIRATIME, NULL },
  { "relatime", OPT_FLAG, MS_RELATIME, NULL },
  { "norelatime", OPT_CLEAR, MS_RELATIME, NULL },
  { "strictatime", OPT_FLAG, MS_STRICTATIME, NULL },
  { "nostrictatime", OPT_CLEAR, MS_STRICTATIME, NULL },
  { "nosymfollow", OPT_FLAG, MS_NOSYMFOLLOW, NULL },
  { "symfollow", OPT_CLEAR, MS_NOSYMFOLLOW, NULL },
  { "sync", OPT_SB, MS_SYNCHRONOUS, "sync" },
  { "async", OPT_SB_CLEAR, MS_SYNCHRONOUS, NULL },
  { "dirsync", OPT_SB, MS_DIRSYNC, "dirsync" },
  { "mand", OPT_SB, MS_MANDLOCK, "mand" },
  { "nomand", OPT_SB_CLEAR, MS_MANDLOCK, NULL },
  { "lazytime", OPT_SB, MS_LAZYTIME, "lazytime" },
  { "nolazytime", OPT_SB_CLEAR, MS_LAZYTIME, NULL },
  { "iversion", OPT_SB, MS_I_VERSION, "iversion" },
  { "noiversion", OPT_SB_CLEAR, MS_I_VERSION, NULL },
  { "silent", OPT_SB, MS_SILENT, NULL },
  { "loud", OPT_SB_CLEAR, MS_SILENT, NULL },
  { "remount", OPT_REMOUNT, 0, NULL },
  { "bind", OPT_BIND, 0, NULL },
  { "rbind", OPT_RBIND, 0, NULL },
  { "private", OPT_PROP, MS_PRIVATE, NULL },
  { "rprivate", OPT_PROP, MS_PRIVATE | MS_REC, NULL },
  { "shared", OPT_PROP, MS_SHARED, NULL },
  { "rshared", OPT_PROP, MS_SHARED | MS_REC, NULL },
  { "slave", OPT_PROP, MS_SLAVE, NULL },
  { "rslave", OPT_PROP, MS_SLAVE | MS_REC, NULL },
  { "unbindable", OPT_PROP, MS_UNBINDABLE, NULL },
  { "runbindable", OPT_PROP, MS_UNBINDABLE | MS_REC, NULL },
  { "rro", OPT_REC_SET, MOUNT_ATTR_RDONLY, NULL },
  { "rrw", OPT_REC_CLR, MOUNT_ATTR_RDONLY, NULL },
  { "rnosuid", OPT_REC_SET, MOUNT_ATTR_NOSUID, NULL },
  { "rsuid", OPT_REC_CLR, MOUNT_ATTR_NOSUID, NULL },
  { "rnodev", OPT_REC_SET, MOUNT_ATTR_NODEV, NULL },
  { "rdev", OPT_REC_CLR, MOUNT_ATTR_NODEV, NULL },
  { "rnoexec", OPT_REC_SET, MOUNT_ATTR_NOEXEC, NULL },
  { "rexec", OPT_REC_CLR, MOUNT_ATTR_NOEXEC, NULL },
  { "rnodiratime", OPT_REC_SET, MOUNT_ATTR_NODIRATIME, NULL },
  { "rdiratime", OPT_REC_CLR, MOUNT_ATTR_NODIRATIME, NULL },
  { "rnosymfollow", OPT_REC_SET, MOUNT_ATTR_NOSYMFOLLOW, NULL },
  { "rsymfollow", OPT_REC_CLR, MOUNT_ATTR_NOSYMFOLLOW, NULL },
  /* The atime modes are one field: each r*atime names the mode it leaves
     (without noatime or strictatime the kernel's default is relatime). */
  { "rnoatime", OPT_REC_ATIME, MOUNT_ATTR_NOATIME, NULL },
  { "rstrictatime", OPT_REC_ATIME, MOUNT_ATTR_STRICTATIME, NULL },
  { "rrelatime", OPT_REC_ATIME, MOUNT_ATTR_RELATIME, NULL },
  { "ratime", OPT_REC_ATIME, MOUNT_ATTR_RELATIME, NULL },
  { "rnorelatime", OPT_REC_ATIME, MOUNT_ATTR_STRICTATIME, NULL },
  { "rnostrictatime", OPT_REC_ATIME, MOUNT_ATTR_RELATIME, NULL },
  { "idmap", OPT_IDMAP, 0, NULL },
  { "ridmap", OPT_RIDMAP, 0, NULL },
  { "tmpcopyup", OPT_TMPCOPYUP, 0, NULL },
};

#define N_OPTS (sizeof opt_table / sizeof opt_table[0])

static const struct opt_def *
opt_lookup (const char *name)
{
  for (size_t i = 0; i < N_OPTS; i++)
    if (strcmp (opt_table[i].name, name) == 0)
      return &opt_table[i];
  return NULL;
}

static void
opt_apply (const struct opt_def *d, struct mount_opts *o)
{
  switch (d->kind)
    {
    case OPT_IGNORE:
      break;
    case OPT_FLAG:
    case OPT_SB:
      o->flags |= d->value;
      o->clear &= ~d->value;
      break;
    case OPT_CLEAR:
    case OPT_SB_CLEAR:
      o->clear |= d->value;
      o->flags &= ~d->value;
      break;
    case OPT_PROP:
      o->propagation = d->value;
      break;
    case OPT_REC_SET:
      o->rec_set |= d->value;
      o->rec_clr &= ~d->value;
      break;
    case OPT_REC_CLR:
      o->rec_clr |= d->value;
      o->rec_set &= ~d->value;
      break;
    case OPT_REC_ATIME:
      o->rec_clr |= MOUNT_ATTR__ATIME;
      o->rec_set = (o->rec_set & ~(uint64_t)MOUNT_ATTR__ATIME) | d->value;
      break;
    case OPT_BIND:
      o->bind = true;
      break;
    case OPT_RBIND:
      o->bind = o->rbind = true;
      break;
    case OPT_REMOUNT:
      o->remount = true;
      break;
    case OPT_IDMAP:
      o->idmap = true;
      break;
    case OPT_RIDMAP:
      o->ridmap = true;
      break;
    case OPT_TMPCOPYUP:
      o->tmpcopyup = true;
      break;
    }
}

int
mount_opts_parse (char *const *options, size_t n, struct mount_opts *o, skiff_error_t *err)
{
  memset (o, 0, sizeof *o);
  for (size_t i = 0; i < n; i++)
    {
      if (options[i] == NULL || options[i][0] == '\0')
        {
          mount_opts_free (o);
          return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0, "options[%zu] is empty",
                                       i);
        }
      const struct opt_def *d = opt_lookup (options[i]);
      if (d != NULL)
        {
          opt_apply (d, o);
          continue;
        }
      char **data = realloc (o->data, (o->data_len + 1) * sizeof *data);
      if (data == NULL)
        abort ();
      o->data = data;
      o->data[o->data_len] = strdup (options[i]);
      if (o->data[o->data_len++] == NULL)
        abort ();
    }
  return 0;
}

void
mount_opts_free (struct mount_opts *o)
{
  for (size_t i = 0; i < o->data_len; i++)
    free (o->data[i]);
  free (o->data);
  o->data = NULL;
  o->data_len = 0;
}

static bool
opt_is_set (const struct opt_def *d, const struct mount_opts *o)
{
  switch (d->kind)
    {
    case OPT_FLAG:
    case OPT_SB:
      return (o->flags & d->value) != 0;
    case OPT_CLEAR:
    case OPT_SB_CLEAR:
      return (o->clear & d->value) != 0;
    case OPT_PROP:
      return o->propagation == d->value;
    case OPT_REC_SET:
      return (o->rec_set & d->value) != 0;
    case OPT_REC_CLR:
      return (o->rec_clr & d->value) != 0;
    case OPT_REC_ATIME:
      return (o->rec_clr & MOUNT_ATTR__ATIME) && (o->rec_set & MOUNT_ATTR__ATIME) == d->value;
    case OPT_BIND:
      return o->bind && !o->rbind;
    case OPT_RBIND:
      return o->rbind;
    case OPT_REMOUNT:
      return o->remount;
    case OPT_IDMAP:
      return o->idmap;
    case OPT_RIDMAP:
      return o->ridmap;
    case OPT_TMPCOPYUP:
      return o->tmpcopyup;
    case OPT_IGNORE:
      break;
    }
  return false;
}

void
mount_opts_describe (const struct mount_opts *o, struct skiff_strbuf *out)
{
  const char *sep = "";
  bool atime_done = false;
  for (size_t i = 0; i < N_OPTS; i++)
    {
      const struct opt_def *d = &opt_table[i];
      /* several r*atime names share a mode: print the first */
      if (!opt_is_set (d, o) || (d->kind == OPT_REC_ATIME && atime_done))
        continue;
      atime_done |= d->kind == OPT_REC_ATIME;
      strbuf_printf (out, "%s%s", sep, d->name);
      sep = ",";
    }
  for (size_t i = 0; i < o->data_len; i++)
    {
      strbuf_printf (out, "%s%s", sep, o->data[i]);
      sep = ",";
    }
}

/* MS_* of the mount itself -> MOUNT_ATTR_* for mount_setattr/fsmount. */
static void
flags_to_attrs (unsigned long flags, unsigned long clear, uint64_t *set, uint64_t *clr)
{
  static const struct
  {
    unsigned long ms;
    uint64_t attr;
  } map[] = {
    { MS_RDONLY, MOUNT_ATTR_RDONLY },         { MS_NOSUID, MOUNT_ATTR_NOSUID },
    { MS_NODEV, MOUNT_ATTR_NODEV },           { MS_NOEXEC, MOUNT_ATTR_NOEXEC },
    { MS_NODIRATIME, MOUNT_ATTR_NODIRATIME }, { MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW },
  };
  *set = *clr = 0;
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    {
      if (flags & map[i].ms)
        *set |= map[i].attr;
      if (clear & map[i].ms)
        *clr |= map[i].attr;
    }
  /* Same precedence as mount(2): strictatime beats noatime beats the
     relatime default. */
  if ((flags | clear) & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME))
    {
      *clr |= MOUNT_ATTR__ATIME;
      *set |= (flags & MS_STRICTATIME) ? MOUNT_ATTR_STRICTATIME
              : (flags & MS_NOATIME)   ? MOUNT_ATTR_NOATIME
                                       : MOUNT_ATTR_RELATIME;
    }
}

bool
mount_opts_has_attrs (const struct mount_opts *o)
{
  uint64_t set, clr;
  flags_to_attrs (o->flags, o->clear, &set, &clr);
  return set || clr || o->rec_set || o->rec_clr;
}

unsigned long
mount_opts_sb_flags (const struct mount_opts *o)
{
  return o->flags
         & (MS_SYNCHRONOUS | MS_DIRSYNC | MS_MANDLOCK | MS_LAZYTIME | MS_I_VERSION | MS_SILENT);
}

/* ---- syscalls: each one reports ENOSYS on its own ---------------------- */

#define FORCED_ENOSYS()                                                                            \
  do                                                                                               \
    {                                                                                              \
      if (mount_force_fallback)                                                                    \
        {                                                                                          \
          errno = ENOSYS;                                                                          \
          return -1;                                                                               \
        }                                                                                          \
    }                                                                                              \
  while (0)

static int
sys_open_tree (int dfd, const char *path, unsigned flags)
{
  FORCED_ENOSYS ();
  return (int)syscall (SYS_open_tree, dfd, path, flags);
}

static int
sys_move_mount (int from, int to)
{
  FORCED_ENOSYS ();
  return (int)syscall (SYS_move_mount, from, "", to, "",
                       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

static int
sys_mount_setattr (int fd, unsigned flags, struct mount_attr *attr)
{
  FORCED_ENOSYS ();
  return (int)syscall (SYS_mount_setattr, fd, "", flags | AT_EMPTY_PATH, attr, sizeof *attr);
}

static int
sys_fsopen (const char *fstype)
{
  FORCED_ENOSYS ();
  return (int)syscall (SYS_fsopen, fstype, FSOPEN_CLOEXEC);
}

static int
sys_fsconfig (int fd, unsigned cmd, const char *key, const char *value)
{
  return (int)syscall (SYS_fsconfig, fd, cmd, key, value, 0);
}

static int
sys_fsmount (int fd, unsigned attrs)
{
  return (int)syscall (SYS_fsmount, fd, FSMOUNT_CLOEXEC, attrs);
}

static bool
is_enosys (skiff_error_t *err)
{
  return *err != NULL && (*err)->errno_ == ENOSYS;
}

/* ---- per-mount attributes and propagation ------------------------------ */

/* mount(2) form of mount_setattr on one mount: MS_REMOUNT|MS_BIND replaces
   all per-mount flags, so start from the current ones; that also keeps the
   flags the kernel locked when the mount came from a more privileged
   namespace (clearing those is EPERM). */
/* In a user namespace, the kernel locks the flags of a mount that came
   from a more privileged mount namespace (mount_namespaces(7)): clearing
   one is EPERM.  Which option did, as ": option `exec` ..." in buf, or
   NULL when that is not why e happened. */
static const char *
locked_flag_reason (int fd, uint64_t clr, int e, char *buf, size_t size)
{
  static const struct
  {
    uint64_t attr;
    unsigned long st;
    const char *opt, *flag;
  } locked[] = {
    { MOUNT_ATTR_RDONLY, ST_RDONLY, "rw", "ro" },
    { MOUNT_ATTR_NOSUID, ST_NOSUID, "suid", "nosuid" },
    { MOUNT_ATTR_NODEV, ST_NODEV, "dev", "nodev" },
    { MOUNT_ATTR_NOEXEC, ST_NOEXEC, "exec", "noexec" },
  };
  struct statvfs sv;
  if (e != EPERM || !rootless_in_userns () || fstatvfs (fd, &sv) < 0)
    return NULL;
  for (size_t i = 0; i < sizeof locked / sizeof *locked; i++)
    if ((clr & locked[i].attr) && (sv.f_flag & locked[i].st))
      {
        snprintf (buf, size,
                  ": option `%s` would clear `%s`, which the kernel keeps on a mount from the "
                  "host inside a user namespace",
                  locked[i].opt, locked[i].flag);
        return buf;
      }
  return NULL;
}

static int
remount_one (int fd, const char *what, uint64_t set, uint64_t clr, skiff_error_t *err)
{
  static const struct
  {
    uint64_t attr;
    unsigned long ms;
  } map[] = {
    { MOUNT_ATTR_RDONLY, MS_RDONLY },         { MOUNT_ATTR_NOSUID, MS_NOSUID },
    { MOUNT_ATTR_NODEV, MS_NODEV },           { MOUNT_ATTR_NOEXEC, MS_NOEXEC },
    { MOUNT_ATTR_NODIRATIME, MS_NODIRATIME }, { MOUNT_ATTR_NOSYMFOLLOW, MS_NOSYMFOLLOW },
  };
  struct statvfs sv;
  if (fstatvfs (fd, &sv) < 0)
    return skiff_error (err, errno, "statvfs \"%s\"", what);
  unsigned long flags
      = sv.f_flag
        & (ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_NOATIME | ST_NODIRATIME | ST_RELATIME);
  if (sv.f_flag & ST_NOSYMFOLLOW)
    flags |= MS_NOSYMFOLLOW;
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    {
      if (set & map[i].attr)
        flags |= map[i].ms;
      if (clr & map[i].attr)
        flags &= ~map[i].ms;
    }
  if (clr & MOUNT_ATTR__ATIME)
    {
      flags &= ~(unsigned long)(MS_NOATIME | MS_RELATIME);
      uint64_t mode = set & MOUNT_ATTR__ATIME;
      flags |= mode == MOUNT_ATTR_NOATIME       ? MS_NOATIME
               : mode == MOUNT_ATTR_STRICTATIME ? MS_STRICTATIME
                                                : MS_RELATIME;
    }
  char p[FS_PROC_FD_PATH_MAX], why[160];
  if (mount (NULL, fs_proc_fd_path (fd, p), NULL, MS_REMOUNT | MS_BIND | flags, NULL) < 0)
    {
      int e = errno;
      if (locked_flag_reason (fd, clr, e, why, sizeof why))
        return skiff_error (err, 0, "remount \"%s\"%s", what, why);
      return skiff_error (err, e, "remount \"%s\"", what);
    }
  return 0;
}

/* mountinfo escapes ' ', '\t', '\n' and '\\' as \ooo: unescaped in place,
   never longer. */
static char *
unescape_octal (char *s)
{
  char *w = s;
  for (const char *r = s; *r; w++)
    {
      if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0'
          && r[3] <= '7')
        {
          *w = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
          r += 4;
        }
      else
        *w = *r++;
    }
  *w = '\0';
  return s;
}

/* "36 35 98:0 /root /point rw,noatime shared:1 - ext3 /dev/sda rw"; the
   fields point into line. */
static bool
mountinfo_parse_line (char *line, struct mountinfo *m)
{
  static char empty[] = "";
  char *save = NULL, *f[6];
  for (int i = 0; i < 6; i++)
    if ((f[i] = strtok_r (i ? NULL : line, " ", &save)) == NULL)
      return false;
  if (sscanf (f[0], "%" SCNu64, &m->id) != 1 || sscanf (f[1], "%" SCNu64, &m->parent) != 1)
    return false;
  char *tag, *optional = NULL;
  while ((tag = strtok_r (NULL, " ", &save)) && strcmp (tag, "-") != 0)
    optional = optional ? optional : tag;
  char *fstype = strtok_r (NULL, " ", &save);
  char *source = strtok_r (NULL, " ", &save);
  char *super = strtok_r (NULL, " ", &save);
  if (tag == NULL || super == NULL)
    return false;
  /* optional fields are separated by spaces: keep them all */
  if (optional)
    for (char *c = optional; c < tag - 1; c++)
      if (*c == '\0')
        *c = ' ';
  m->root = unescape_octal (f[3]);
  m->point = unescape_octal (f[4]);
  m->mnt_opts = unescape_octal (f[5]);
  m->optional = optional ? unescape_octal (optional) : empty;
  m->fstype = unescape_octal (fstype);
  m->source = unescape_octal (source);
  m->super_opts = unescape_octal (super);
  return true;
}

/* One allocation: the array, then the text its strings point into (the
   init reads this inside the container's memory limit). */
int
mountinfo_read (struct mountinfo **out, size_t *n_out, skiff_error_t *err)
{
  cleanup_free char *text = NULL;
  size_t len = 0, lines = 1;
  if (read_file_at (AT_FDCWD, "/proc/self/mountinfo", &text, &len, err) < 0)
    return -1;
  for (size_t i = 0; i < len; i++)
    lines += text[i] == '\n';
  struct mountinfo *v = malloc (lines * sizeof *v + len + 1);
  if (v == NULL)
    abort ();
  char *copy = memcpy ((char *)(v + lines), text, len);
  copy[len] = '\0';
  size_t n = 0;
  char *save = NULL;
  for (char *line = strtok_r (copy, "\n", &save); line && n < lines;
       line = strtok_r (NULL, "\n", &save))
    {
      memset (&v[n], 0, sizeof v[n]);
      if (mountinfo_parse_line (line, &v[n]))
        n++;
    }
  *out = v;
  *n_out = n;
  return 0;
}

void
mountinfo_free (struct mountinfo *v, size_t n)
{
  (void)n;
  free (v);
}

/* The statfs magic of the filesystem types callers check; 0: unknown. */
static long
fstype_magic (const char *fstype)
{
  static const struct
  {
    const char *name;
    long magic;
  } t[] = { { "cgroup", CGROUP_SUPER_MAGIC }, { "cgroup2", CGROUP2_SUPER_MAGIC },
            { "proc", PROC_SUPER_MAGIC },     { "resctrl", RDTGROUP_SUPER_MAGIC },
            { "sysfs", SYSFS_MAGIC },         { "tmpfs", TMPFS_MAGIC } };
  for (size_t i = 0; i < sizeof t / sizeof *t; i++)
    if (strcmp (fstype, t[i].name) == 0)
      return t[i].magic;
  return 0;
}

bool
mountinfo_reachable (const struct mountinfo *m)
{
  long magic = fstype_magic (m->fstype);
  struct statfs sfs;
  if (magic && (statfs (m->point, &sfs) < 0 || sfs.f_type != magic))
    return false;
  struct statx stx;
  if (statx (AT_FDCWD, m->point, AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0)
    return false;
  return !(stx.stx_mask & STATX_MNT_ID) || stx.stx_mnt_id == m->id;
}

void
mountinfo_drop_hidden_cgroups (struct mountinfo *v, size_t *n)
{
  size_t kept = 0;
  for (size_t i = 0; i < *n; i++)
    {
      bool cg = strcmp (v[i].fstype, "cgroup") == 0 || strcmp (v[i].fstype, "cgroup2") == 0;
      if (!cg || mountinfo_reachable (&v[i]))
        v[kept++] = v[i];
    }
  *n = kept;
}

struct mountinfo_list
{
  struct mountinfo *v;
  size_t n;
};

static void
mountinfo_list_free (struct mountinfo_list *l)
{
  mountinfo_free (l->v, l->n);
}

/* Whether mount `id` is below mount `top`; the kernel lists a mount after
   its parent, so `below` (the ids found so far) already has the ancestors. */
static bool
is_below (uint64_t parent, uint64_t top, const uint64_t *below, size_t n)
{
  if (parent == top)
    return true;
  for (size_t i = 0; i < n; i++)
    if (below[i] == parent)
      return true;
  return false;
}

static int
remount_tree (int fd, const char *what, uint64_t set, uint64_t clr, skiff_error_t *err)
{
  uint64_t top;
  if (remount_one (fd, what, set, clr, err) < 0 || fs_mount_id (fd, &top, err) < 0)
    return -1;
  __attribute__ ((cleanup (mountinfo_list_free))) struct mountinfo_list l = { 0 };
  if (mountinfo_read (&l.v, &l.n, err) < 0)
    return -1;
  cleanup_free uint64_t *below = calloc (l.n + 1, sizeof *below);
  if (below == NULL)
    abort ();
  size_t nbelow = 0;
  for (size_t i = 0; i < l.n; i++)
    {
      if (!is_below (l.v[i].parent, top, below, nbelow))
        continue;
      below[nbelow++] = l.v[i].id;
      cleanup_close int sub = open (l.v[i].point, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      uint64_t id;
      /* A submount hidden under another one is not reachable by path;
         it is not reachable by the container either. */
      if (sub < 0 || fs_mount_id (sub, &id, err) < 0 || id != l.v[i].id)
        {
          skiff_error_free (err);
          continue;
        }
      if (remount_one (sub, l.v[i].point, set, clr, err) < 0)
        return -1;
    }
  return 0;
}

int
mount_change_attrs (int fd, const char *what, uint64_t set, uint64_t clr, bool recursive,
                    skiff_error_t *err)
{
  struct mount_attr attr = { .attr_set = set, .attr_clr = clr };
  char why[160];
  if (sys_mount_setattr (fd, recursive ? AT_RECURSIVE : 0, &attr) == 0)
    return 0;
  int e = errno;
  if (locked_flag_reason (fd, clr, e, why, sizeof why))
    return skiff_error (err, 0, "set mount attributes of \"%s\"%s", what, why);
  if (e != ENOSYS)
    return skiff_error (err, e, "set mount attributes of \"%s\"", what);
  return recursive ? remount_tree (fd, what, set, clr, err) : remount_one (fd, what, set, clr, err);
}

int
mount_set_propagation (int fd, const char *what, unsigned long propagation, skiff_error_t *err)
{
  struct mount_attr attr = { .propagation = propagation & ~(unsigned long)MS_REC };
  if (sys_mount_setattr (fd, (propagation & MS_REC) ? AT_RECURSIVE : 0, &attr) == 0)
    return 0;
  if (errno != ENOSYS)
    return skiff_error (err, errno, "set propagation of \"%s\"", what);
  char p[FS_PROC_FD_PATH_MAX];
  if (mount (NULL, fs_proc_fd_path (fd, p), NULL, propagation, NULL) < 0)
    return skiff_error (err, errno, "set propagation of \"%s\"", what);
  return 0;
}

/* Per-mount attributes, r* attributes and propagation of the mount whose
   root is fd (the tree of a bind, the new mount of a filesystem). */
static int
apply_opts (int fd, const char *what, const struct mount_opts *o, bool recursive,
            skiff_error_t *err)
{
  uint64_t set, clr;
  flags_to_attrs (o->flags, o->clear, &set, &clr);
  if ((set || clr) && mount_change_attrs (fd, what, set, clr, recursive, err) < 0)
    return -1;
  if ((o->rec_set || o->rec_clr)
      && mount_change_attrs (fd, what, o->rec_set, o->rec_clr, true, err) < 0)
    return -1;
  return 0;
}

/* After mount(2) on /proc/self/fd/N the fd still names the directory
   under the new mount, so look the target up again and make sure it is
   the new mount's root. */
static int
reopen_new_mount (const struct mount_target *t, skiff_error_t *err)
{
  cleanup_close int fd = -1;
  if (t->rootfd >= 0)
    fd = safe_open_in_root (t->rootfd, t->path, O_PATH, 0, err);
  else if ((fd = open (t->path, O_PATH | O_CLOEXEC)) < 0)
    skiff_error (err, errno, "open \"%s\"", t->path);
  if (fd < 0)
    return -1;
  uint64_t before, after;
  bool root;
  if (fs_mount_id (t->fd, &before, err) < 0 || fs_mount_id (fd, &after, err) < 0
      || fs_is_mount_root (fd, &root, err) < 0)
    return -1;
  if (before == after || !root)
    return skiff_error (err, EXDEV, "the new mount is not on \"%s\"", t->path);
  return steal_fd (&fd);
}

/* ---- bind mounts ------------------------------------------------------- */

/* Errors of a bind name source and target, or only the source when the
   tree is made for someone else to attach. */
static int
bind_error (skiff_error_t *err, int e, const char *source, const char *target, const char *what)
{
  if (target)
    return skiff_error (err, e, "mount \"%s\" on \"%s\"%s", source, target, what);
  return skiff_error (err, e, "bind \"%s\"%s", source, what);
}

static int
tree_setattr (int tree, bool recursive, struct mount_attr *attr, const char *source,
              const char *target, skiff_error_t *err)
{
  char why[160];
  if (sys_mount_setattr (tree, recursive ? AT_RECURSIVE : 0, attr) == 0)
    return 0;
  int e = errno;
  if (locked_flag_reason (tree, attr->attr_clr, e, why, sizeof why))
    return bind_error (err, 0, source, target, why);
  return bind_error (err, e, source, target, ": mount_setattr");
}

/* Which filesystems cannot be idmapped varies with the kernel (tmpfs from
   6.3, overlayfs from 5.19, NFS and 9p not at all): say which one it is. */
static int
idmap_error (int tree, int e, const char *source, const char *target, skiff_error_t *err)
{
  static const struct
  {
    long magic;
    const char *name;
  } fs[] = { { TMPFS_MAGIC, "tmpfs (idmapped from Linux 6.3)" },
             { OVERLAYFS_SUPER_MAGIC, "overlayfs (idmapped from Linux 5.19)" },
             { NFS_SUPER_MAGIC, "NFS" },
             { V9FS_MAGIC, "9p" },
             { BTRFS_SUPER_MAGIC, "btrfs (idmapped from Linux 5.15)" } };
  struct statfs sfs;
  char what[160];
  if (e != EINVAL || fstatfs (tree, &sfs) < 0)
    return bind_error (err, e, source, target, ": idmap: mount_setattr");
  snprintf (what, sizeof what, ": this kernel cannot idmap a mount of this filesystem (0x%lx)",
            (long)sfs.f_type);
  for (size_t i = 0; i < sizeof fs / sizeof *fs; i++)
    if (sfs.f_type == fs[i].magic)
      snprintf (what, sizeof what, ": this kernel cannot idmap a mount of %s", fs[i].name);
  return bind_error (err, 0, source, target, what);
}

static int
open_tree_opts (int srcfd, const char *source, const struct mount_opts *o, int userns_fd,
                const char *target, skiff_error_t *err)
{
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (o->rbind ? AT_RECURSIVE : 0);
  cleanup_close int tree = srcfd >= 0 ? sys_open_tree (srcfd, "", flags | AT_EMPTY_PATH)
                                      : sys_open_tree (AT_FDCWD, source, flags);
  if (tree < 0)
    return bind_error (err, errno, source, target, "");
  /* Attributes go on the detached copy, before anyone can see it: a
     read-only bind is never writable, not even for a moment. */
  uint64_t set, clr;
  flags_to_attrs (o->flags, o->clear, &set, &clr);
  struct mount_attr attr = { .attr_set = set, .attr_clr = clr };
  if ((set || clr) && tree_setattr (tree, o->rbind, &attr, source, target, err) < 0)
    return -1;
  struct mount_attr rec = { .attr_set = o->rec_set, .attr_clr = o->rec_clr };
  if ((o->rec_set || o->rec_clr) && tree_setattr (tree, true, &rec, source, target, err) < 0)
    return -1;
  if (o->idmap || o->ridmap)
    {
      if (userns_fd < 0)
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "bind \"%s\": idmap without a user namespace", source);
      /* The kernel only idmaps a mount that is not attached yet. */
      struct mount_attr idmap = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns_fd };
      if (sys_mount_setattr (tree, o->ridmap ? AT_RECURSIVE : 0, &idmap) < 0)
        return idmap_error (tree, errno, source, target, err);
    }
  return steal_fd (&tree);
}

int
mount_open_tree (int srcfd, const char *source, const struct mount_opts *o, int userns_fd,
                 skiff_error_t *err)
{
  cleanup_close int tree = open_tree_opts (srcfd, source, o, userns_fd, NULL, err);
  if (tree < 0)
    return -1;
  /* Made in the runtime's namespace, the copy is a peer of a shared
     source: attached in the container it would carry mounts both ways.
     A slave, as every mount is after the container's rslave step. */
  struct mount_attr slave = { .propagation = MS_SLAVE };
  if (tree_setattr (tree, true, &slave, source, NULL, err) < 0)
    return -1;
  return steal_fd (&tree);
}

int
mount_attach_tree (int tree, const char *source, const struct mount_target *t,
                   const struct mount_opts *o, skiff_error_t *err)
{
  if (sys_move_mount (tree, t->fd) < 0)
    return skiff_error (err, errno, "mount \"%s\" on \"%s\"", source, t->path);
  /* tree now names the attached mount */
  if (o->propagation && mount_set_propagation (tree, t->path, o->propagation, err) < 0)
    return -1;
  return 0;
}

static int
bind_classic (int srcfd, const char *source, const struct mount_target *t,
              const struct mount_opts *o, skiff_error_t *err)
{
  char sp[FS_PROC_FD_PATH_MAX], tp[FS_PROC_FD_PATH_MAX];
  const char *src = srcfd >= 0 ? fs_proc_fd_path (srcfd, sp) : source;
  if (o->idmap || o->ridmap)
    return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, ENOSYS,
                                 "mount \"%s\" on \"%s\": idmapped mounts need mount_setattr",
                                 source, t->path);
  if (mount (src, fs_proc_fd_path (t->fd, tp), NULL, MS_BIND | (o->rbind ? MS_REC : 0), NULL) < 0)
    return skiff_error (err, errno, "mount \"%s\" on \"%s\"", source, t->path);
  if (!mount_opts_has_attrs (o) && !o->propagation)
    return 0;
  cleanup_close int mnt = reopen_new_mount (t, err);
  if (mnt < 0 || apply_opts (mnt, t->path, o, o->rbind, err) < 0)
    return -1;
  if (o->propagation && mount_set_propagation (mnt, t->path, o->propagation, err) < 0)
    return -1;
  return 0;
}

int
mount_bind (int srcfd, const char *source, const struct mount_target *t, const struct mount_opts *o,
            int userns_fd, skiff_error_t *err)
{
  cleanup_close int tree = open_tree_opts (srcfd, source, o, userns_fd, t->path, err);
  if (tree >= 0)
    return mount_attach_tree (tree, source, t, o, err);
  if (!is_enosys (err))
    return -1;
  skiff_error_free (err);
  return bind_classic (srcfd, source, t, o, err);
}

/* ---- new filesystems --------------------------------------------------- */

/* Append the messages the filesystem logged on fsfd ("e bad value...") */
static void
fs_log (int fsfd, struct skiff_strbuf *out)
{
  char buf[512];
  ssize_t n;
  while ((n = read (fsfd, buf, sizeof buf - 1)) > 0)
    {
      buf[n] = '\0';
      strbuf_printf (out, ": %s", buf[1] == ' ' ? buf + 2 : buf);
    }
}

static int
fsconfig_or_fail (int fsfd, unsigned cmd, const char *key, const char *value, const char *fstype,
                  const char *target, skiff_error_t *err)
{
  if (sys_fsconfig (fsfd, cmd, key, value) == 0)
    return 0;
  int e = errno;
  cleanup_strbuf struct skiff_strbuf log = { 0 };
  fs_log (fsfd, &log);
  if (key)
    return skiff_error (err, e, "mount %s on \"%s\": option \"%s\"%s", fstype, target, key,
                        log.s ? log.s : "");
  return skiff_error (err, e, "mount %s on \"%s\"%s", fstype, target, log.s ? log.s : "");
}

/* One data entry may hold several "k=v" separated by commas, with commas
   allowed inside double quotes (context="system_u:...:c1,c2"). */
static int
fsconfig_data (int fsfd, const char *entry, const char *fstype, const char *target,
               skiff_error_t *err)
{
  char small[256];
  cleanup_free char *heap = NULL;
  char *p = strdup_small (entry, small, sizeof small, &heap);
  while (*p)
    {
      char *end = p;
      for (bool quoted = false; *end && (quoted || *end != ','); end++)
        quoted ^= *end == '"';
      bool more = *end == ',';
      *end = '\0';
      char *eq = strchr (p, '=');
      if (eq)
        {
          *eq = '\0';
          char *v = eq + 1;
          size_t len = strlen (v);
          if (len >= 2 && v[0] == '"' && v[len - 1] == '"')
            {
              v[len - 1] = '\0';
              v++;
            }
          if (fsconfig_or_fail (fsfd, FSCONFIG_SET_STRING, p, v, fstype, target, err) < 0)
            return -1;
        }
      else if (*p && fsconfig_or_fail (fsfd, FSCONFIG_SET_FLAG, p, NULL, fstype, target, err) < 0)
        return -1;
      p = more ? end + 1 : end;
    }
  return 0;
}

static int
new_fs_fd (const char *fstype, const char *source, const struct mount_target *t,
           const struct mount_opts *o, const char *label, skiff_error_t *err)
{
  cleanup_close int fsfd = sys_fsopen (fstype);
  if (fsfd < 0)
    return skiff_error (err, errno, "mount %s on \"%s\"", fstype, t->path);
  if (fsconfig_or_fail (fsfd, FSCONFIG_SET_STRING, "source", source ? source : fstype, fstype,
                        t->path, err)
      < 0)
    return -1;
  for (size_t i = 0; i < N_OPTS; i++)
    if (opt_table[i].sb_name && (o->flags & opt_table[i].value)
        && fsconfig_or_fail (fsfd, FSCONFIG_SET_FLAG, opt_table[i].sb_name, NULL, fstype, t->path,
                             err)
               < 0)
      return -1;
  for (size_t i = 0; i < o->data_len; i++)
    if (fsconfig_data (fsfd, o->data[i], fstype, t->path, err) < 0)
      return -1;
  if (label
      && fsconfig_or_fail (fsfd, FSCONFIG_SET_STRING, "context", label, fstype, t->path, err) < 0)
    return -1;
  if (fsconfig_or_fail (fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, fstype, t->path, err) < 0)
    return -1;
  uint64_t set, clr;
  flags_to_attrs (o->flags, o->clear, &set, &clr);
  cleanup_close int mnt = sys_fsmount (fsfd, (unsigned)set);
  if (mnt < 0)
    return skiff_error (err, errno, "mount %s on \"%s\": fsmount", fstype, t->path);
  if (sys_move_mount (mnt, t->fd) < 0)
    return skiff_error (err, errno, "mount %s on \"%s\"", fstype, t->path);
  if ((o->rec_set || o->rec_clr)
      && mount_change_attrs (mnt, t->path, o->rec_set, o->rec_clr, true, err) < 0)
    return -1;
  if (o->propagation && mount_set_propagation (mnt, t->path, o->propagation, err) < 0)
    return -1;
  return 0;
}

static void
join_data (const struct mount_opts *o, const char *label, struct skiff_strbuf *out)
{
  const char *sep = "";
  for (size_t i = 0; i < o->data_len; i++, sep = ",")
    strbuf_printf (out, "%s%s", sep, o->data[i]);
  if (label)
    strbuf_printf (out, "%scontext=\"%s\"", sep, label);
}

static int
new_fs_classic (const char *fstype, const char *source, const struct mount_target *t,
                const struct mount_opts *o, const char *label, skiff_error_t *err)
{
  cleanup_strbuf struct skiff_strbuf data = { 0 };
  join_data (o, label, &data);
  char tp[FS_PROC_FD_PATH_MAX];
  if (mount (source ? source : fstype, fs_proc_fd_path (t->fd, tp), fstype, o->flags, data.s) < 0)
    return skiff_error (err, errno, "mount %s on \"%s\"", fstype, t->path);
  if (!o->rec_set && !o->rec_clr && !o->propagation)
    return 0;
  cleanup_close int mnt = reopen_new_mount (t, err);
  if (mnt < 0)
    return -1;
  if ((o->rec_set || o->rec_clr)
      && mount_change_attrs (mnt, t->path, o->rec_set, o->rec_clr, true, err) < 0)
    return -1;
  if (o->propagation && mount_set_propagation (mnt, t->path, o->propagation, err) < 0)
    return -1;
  return 0;
}

int
mount_new_fs (const char *fstype, const char *source, const struct mount_target *t,
              const struct mount_opts *o, const char *label, skiff_error_t *err)
{
  if (new_fs_fd (fstype, source, t, o, label, err) == 0)
    return 0;
  if (!is_enosys (err))
    return -1;
  skiff_error_free (err);
  return new_fs_classic (fstype, source, t, o, label, err);
}

int
mount_remount (const struct mount_target *t, const struct mount_opts *o, skiff_error_t *err)
{
  cleanup_strbuf struct skiff_strbuf data = { 0 };
  join_data (o, NULL, &data);
  char tp[FS_PROC_FD_PATH_MAX];
  unsigned long flags = MS_REMOUNT | o->flags | (o->bind ? MS_BIND : 0);
  if (mount (NULL, fs_proc_fd_path (t->fd, tp), NULL, flags, data.s) < 0)
    return skiff_error (err, errno, "remount \"%s\"", t->path);
  if ((o->rec_set || o->rec_clr)
      && mount_change_attrs (t->fd, t->path, o->rec_set, o->rec_clr, true, err) < 0)
    return -1;
  if (o->propagation && mount_set_propagation (t->fd, t->path, o->propagation, err) < 0)
    return -1;
  return 0;
}

/* ---- user namespaces for idmapped mounts ------------------------------- */

static void
kill_helper (pid_t *pid)
{
  if (*pid > 0)
    {
      kill (*pid, SIGKILL);
      while (waitpid (*pid, NULL, 0) < 0 && errno == EINTR)
        ;
    }
}

static int
write_map (const char *dir, const char *file, const char *map, skiff_error_t *err)
{
  char path[96];
  snprintf (path, sizeof path, "%s/%s", dir, file);
  return write_file_at (AT_FDCWD, path, map, strlen (map), 0, 0, err);
}

/* The helper: become a user namespace, say where /proc shows us, and wait
   until the parent is done.  The pid fork() returned is no good for that:
   the container's init runs in its own pid namespace while /proc is still
   the host's. */
static __attribute__ ((noreturn)) void
userns_helper (int sock)
{
  char self[32] = "";
  ssize_t n = -1;
  if (unshare (CLONE_NEWUSER) == 0)
    n = readlink ("/proc/self", self, sizeof self - 1);
  if (write (sock, self, n > 0 ? (size_t)n : 0) >= 0 && n > 0)
    (void)!read (sock, self, 1);
  _exit (0);
}

int
mount_userns_fd (const char *uid_map, const char *gid_map, skiff_error_t *err)
{
  int sv[2];
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return skiff_error (err, errno, "socketpair");
  cleanup_close int ours = sv[0];
  cleanup_close int theirs = sv[1];
  __attribute__ ((cleanup (kill_helper))) pid_t pid = fork ();
  if (pid < 0)
    return skiff_error (err, errno, "fork");
  if (pid == 0)
    userns_helper (theirs);
  close (steal_fd (&theirs));
  char self[32];
  ssize_t n = read (ours, self, sizeof self - 1);
  if (n <= 0)
    return skiff_error (err, EPERM, "idmap helper: unshare a user namespace");
  self[n] = '\0';
  if (strspn (self, "0123456789") != (size_t)n)
    return skiff_error (err, EINVAL, "idmap helper: bad pid \"%s\"", self);
  char dir[48];
  snprintf (dir, sizeof dir, "/proc/%s", self);
  if (write_map (dir, "uid_map", uid_map, err) < 0 || write_map (dir, "gid_map", gid_map, err) < 0)
    return skiff_error_wrap (err, "idmap helper");
  char path[64];
  snprintf (path, sizeof path, "%s/ns/user", dir);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return skiff_error (err, errno, "open \"%s\"", path);
  return fd;
}

size_t
mount_option_names (const char **out, size_t max)
{
  size_t n = 0;
  for (size_t i = 0; i < N_OPTS && n < max; i++)
    out[n++] = opt_table[i].name;
  return n;
}

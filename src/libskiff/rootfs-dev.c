/* /dev of the rootfs plan: device nodes (mknod, or binds of the host's
   nodes in a user namespace), the usual symlinks, the console placeholder,
   and binding the pty onto it after the pivot.  Nothing here follows a
   symlink planted by the image. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"
#include "rootfs-internal.h"
#include "strbuf.h"

#define UNIX98_PTY_SLAVE_MAJOR 136 /* ..143 */

struct dev_node
{
  const char *path;
  mode_t type;
  unsigned major, minor;
  mode_t mode;
  uid_t uid;
  gid_t gid;
};

static const struct dev_node default_devices[] = {
  { "/dev/null", S_IFCHR, 1, 3, 0666, 0, 0 },    { "/dev/zero", S_IFCHR, 1, 5, 0666, 0, 0 },
  { "/dev/full", S_IFCHR, 1, 7, 0666, 0, 0 },    { "/dev/random", S_IFCHR, 1, 8, 0666, 0, 0 },
  { "/dev/urandom", S_IFCHR, 1, 9, 0666, 0, 0 }, { "/dev/tty", S_IFCHR, 5, 0, 0666, 0, 0 },
};

/* In a user namespace mknod is refused: bind the host's node instead. */
static int
bind_host_node (struct rootfs_exec *x, const struct dev_node *d, skiff_error_t *err)
{
  cleanup_close int target = safe_create_file_in_root (x->rootfd, d->path, 0644, err);
  if (target < 0)
    return -1;
  struct mount_target t = { target, x->rootfd, d->path };
  struct mount_opts o = { .bind = true };
  return mount_bind (-1, d->path, &t, &o, -1, err);
}

static int
make_node (struct rootfs_exec *x, const struct dev_node *d, skiff_error_t *err)
{
  if (x->s->userns)
    return bind_host_node (x, d, err);
  /* on the stack: the init runs this inside the container's memory limit */
  char small[256], base[NAME_MAX + 1];
  cleanup_free char *heap = NULL;
  size_t len = strlen (d->path) + 2;
  char *dir = len <= sizeof small ? small : (heap = malloc (len));
  if (dir == NULL)
    abort ();
  rootfs_path_clean_to (d->path, dir);
  char *slash = strrchr (dir, '/');
  if (strlen (slash + 1) >= sizeof base)
    return skiff_error (err, ENAMETOOLONG, "mknod \"%s\"", d->path);
  strcpy (base, slash + 1);
  slash[slash == dir ? 1 : 0] = '\0';
  cleanup_close int parent = safe_mkdir_all_in_root (x->rootfd, dir, 0755, err);
  if (parent < 0)
    return -1;
  dev_t rdev = d->type == S_IFIFO ? 0 : makedev (d->major, d->minor);
  if (mknodat (parent, base, d->type | 0600, rdev) < 0 && errno != EEXIST)
    return skiff_error (err, errno, "mknod \"%s\"", d->path);
  cleanup_close int fd = openat (parent, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat (fd, &st) < 0)
    return skiff_error (err, errno, "open \"%s\"", d->path);
  if ((st.st_mode & S_IFMT) != d->type || st.st_rdev != rdev)
    return skiff_error (err, EEXIST, "\"%s\" exists and is not the device asked for", d->path);
  /* mknod obeys the umask: set the mode asked for through the fd. */
  char p[FS_PROC_FD_PATH_MAX];
  if (chmod (fs_proc_fd_path (fd, p), d->mode & 07777) < 0)
    return skiff_error (err, errno, "chmod \"%s\"", d->path);
  if (fchownat (fd, "", d->uid, d->gid, AT_EMPTY_PATH) < 0)
    return skiff_error (err, errno, "chown \"%s\"", d->path);
  return 0;
}

static struct dev_node
dev_from_config (const oci_device *d)
{
  return (struct dev_node){
    .path = d->path,
    .type = streq (d->type, "b")   ? S_IFBLK
            : streq (d->type, "p") ? S_IFIFO
                                   : S_IFCHR,
    .major = (unsigned)d->major,
    .minor = (unsigned)d->minor,
    .mode = d->file_mode_present ? d->file_mode : 0666,
    .uid = d->uid,
    .gid = d->gid,
  };
}

static bool
config_has_device (const oci_linux *l, const char *path)
{
  for (size_t i = 0; l && i < l->devices_len; i++)
    {
      cleanup_free char *p = rootfs_path_clean (l->devices[i]->path);
      if (strcmp (p, path) == 0)
        return true;
    }
  return false;
}

int
rootfs_do_devices (struct rootfs_exec *x, skiff_error_t *err)
{
  const oci_linux *l = x->s->config->linux;
  for (size_t i = 0; i < sizeof default_devices / sizeof default_devices[0]; i++)
    if (!config_has_device (l, default_devices[i].path)
        && make_node (x, &default_devices[i], err) < 0)
      return -1;
  for (size_t i = 0; l && i < l->devices_len; i++)
    {
      struct dev_node d = dev_from_config (l->devices[i]);
      if (make_node (x, &d, err) < 0)
        return skiff_error_wrap (err, "linux.devices[%zu]", i);
    }
  return 0;
}

static void
describe_node (const struct dev_node *d, bool userns, const char *what, struct skiff_strbuf *out)
{
  char t = d->type == S_IFBLK ? 'b' : d->type == S_IFIFO ? 'p' : 'c';
  if (userns && d->type != S_IFIFO)
    strbuf_printf (out, "%s: bind of the host's node  <- %s\n", d->path, what);
  else
    strbuf_printf (out, "%s: %c %u:%u mode %04o uid %u gid %u  <- %s\n", d->path, t, d->major,
                   d->minor, (unsigned)(d->mode & 07777), (unsigned)d->uid, (unsigned)d->gid, what);
}

void
rootfs_devices_describe (const struct rootfs_spec *s, struct skiff_strbuf *out)
{
  const oci_linux *l = s->config->linux;
  for (size_t i = 0; i < sizeof default_devices / sizeof default_devices[0]; i++)
    if (!config_has_device (l, default_devices[i].path))
      describe_node (&default_devices[i], s->userns, "default", out);
  for (size_t i = 0; l && i < l->devices_len; i++)
    {
      struct dev_node d = dev_from_config (l->devices[i]);
      cleanup_free char *what = rootfs_xasprintf ("linux.devices[%zu]", i);
      describe_node (&d, s->userns, what, out);
    }
}

static int
open_dev (struct rootfs_exec *x, skiff_error_t *err)
{
  return safe_open_in_root_how (x->rootfd, "/dev", O_PATH | O_DIRECTORY, 0, FS_RESOLVE_NO_SYMLINKS,
                                err);
}

int
rootfs_do_dev_links (struct rootfs_exec *x, skiff_error_t *err)
{
  static const char *const links[][2] = {
    { "fd", "/proc/self/fd" },       { "stdin", "/proc/self/fd/0" },
    { "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
    { "ptmx", "pts/ptmx" },
  };
  cleanup_close int dev = open_dev (x, err);
  if (dev < 0)
    return -1;
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
    if (symlinkat (links[i][1], dev, links[i][0]) < 0 && errno != EEXIST)
      return skiff_error (err, errno, "symlink /dev/%s", links[i][0]);
  return 0;
}

int
rootfs_do_console (struct rootfs_exec *x, skiff_error_t *err)
{
  cleanup_close int dev = open_dev (x, err);
  if (dev < 0)
    return -1;
  if (mknodat (dev, "console", S_IFREG | 0600, 0) < 0 && errno != EEXIST)
    return skiff_error (err, errno, "create /dev/console");
  struct stat st;
  if (fstatat (dev, "console", &st, AT_SYMLINK_NOFOLLOW) < 0)
    return skiff_error (err, errno, "stat /dev/console");
  if (!S_ISREG (st.st_mode) && !S_ISCHR (st.st_mode))
    return skiff_error (err, EEXIST, "/dev/console exists and is neither a file nor a device");
  return 0;
}

int
rootfs_bind_console (int pty, skiff_error_t *err)
{
  struct stat st;
  struct statfs sfs;
  if (fstat (pty, &st) < 0 || fstatfs (pty, &sfs) < 0)
    return skiff_error (err, errno, "bind /dev/console: stat the pty");
  unsigned maj = major (st.st_rdev);
  /* Only a pty of the container's devpts goes there, never a file an
     image could have planted in /dev/pts. */
  if (!S_ISCHR (st.st_mode) || maj < UNIX98_PTY_SLAVE_MAJOR || maj > UNIX98_PTY_SLAVE_MAJOR + 7
      || sfs.f_type != DEVPTS_SUPER_MAGIC)
    return skiff_error (err, EINVAL, "bind /dev/console: fd %d is not a pty", pty);
  cleanup_close int root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return skiff_error (err, errno, "bind /dev/console: open /");
  cleanup_close int console = safe_open_in_root_how (root, "/dev/console", O_PATH | O_NOFOLLOW, 0,
                                                     FS_RESOLVE_NO_SYMLINKS, err);
  mode_t fmt;
  if (console < 0 || fs_fd_type (console, &fmt, err) < 0)
    return skiff_error_wrap (err, "bind /dev/console");
  if (!S_ISREG (fmt) && !S_ISCHR (fmt))
    return skiff_error (err, EINVAL, "bind /dev/console: not a file or device");
  struct mount_target t = { console, root, "/dev/console" };
  struct mount_opts o = { .bind = true };
  if (mount_bind (pty, "the pty", &t, &o, -1, err) < 0)
    return skiff_error_wrap (err, "bind /dev/console");
  return 0;
}

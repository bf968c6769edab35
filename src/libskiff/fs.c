/* Path resolution inside a container rootfs: see fs.h and docs/rootfs.md. */
#include "config.h"
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "log.h"

#define PROC_ROOT_INO 1

bool fs_force_fallback;
/* Set once openat2 said ENOSYS: every later lookup goes straight to the walk. */
static bool openat2_missing;

static bool
use_openat2 (void)
{
  return !fs_force_fallback && !openat2_missing;
}

static void
note_openat2_missing (void)
{
  if (!openat2_missing)
    skiff_debug ("openat2: not supported by the kernel; resolving rootfs paths in userspace");
  openat2_missing = true;
}

static int
sys_openat2 (int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve)
{
  struct open_how how = {
    .flags = (uint64_t)(flags | O_CLOEXEC),
    .mode = (flags & O_CREAT) ? mode : 0,
    .resolve = resolve,
  };
  for (int tries = 0; tries < 64; tries++)
    {
      int fd = (int)syscall (SYS_openat2, dirfd, path, &how, sizeof how);
      /* EAGAIN: a rename or mount raced with ".." under RESOLVE_IN_ROOT and
         the kernel could not prove the walk stayed inside; it asks us to
         retry rather than guess. */
      if (fd >= 0 || errno != EAGAIN)
        return fd;
    }
  return -1;
}

/* ---- the userspace walk ------------------------------------------------

   The directories walked through are kept open on a stack: ".." pops the
   stack instead of asking the kernel for the parent, so it can never climb
   above the root, even if a directory is moved while we hold it.  Every
   component is opened O_PATH|O_NOFOLLOW relative to the top of the stack,
   and symlinks are expanded by hand against the root. */

struct walk
{
  int *fds; /* fds[0]: the root; fds[n - 1]: the directory reached so far */
  size_t n, cap;
};

static void
walk_free (struct walk *w)
{
  for (size_t i = 0; i < w->n; i++)
    close (w->fds[i]);
  free (w->fds);
}

static void
walk_push (struct walk *w, int fd)
{
  if (w->n == w->cap)
    {
      size_t cap = w->cap ? w->cap * 2 : 16;
      int *fds = realloc (w->fds, cap * sizeof *fds);
      if (fds == NULL)
        abort ();
      w->fds = fds;
      w->cap = cap;
    }
  w->fds[w->n++] = fd;
}

static int
walk_top (const struct walk *w)
{
  return w->fds[w->n - 1];
}

/* ".." at the root stays at the root, as with RESOLVE_IN_ROOT. */
static void
walk_pop (struct walk *w, bool to_root)
{
  while (w->n > 1)
    {
      close (w->fds[--w->n]);
      if (!to_root)
        break;
    }
}

/* A procfs symlink whose target is absolute or not a path ("pipe:[1]") is
   a magic link (/proc/<pid>/fd/N, exe, cwd, root, ns/...): following it
   would jump to wherever the kernel object lives, so refuse it as
   RESOLVE_NO_MAGICLINKS does.  /proc/self -> "<pid>" stays allowed. */
static bool
is_magic_link (int dirfd, const char *target)
{
  struct statfs sfs;
  if (fstatfs (dirfd, &sfs) < 0)
    return true; /* cannot tell: refuse */
  if (sfs.f_type != PROC_SUPER_MAGIC)
    return false;
  return target[0] == '/' || strchr (target, ':') != NULL;
}

/* Replace *rest (whose unwalked part starts at `tail`) by target + tail. */
static int
expand_symlink (struct walk *w, int linkfd, char **rest, const char **tail)
{
  char target[PATH_MAX];
  ssize_t len = readlinkat (linkfd, "", target, sizeof target);
  if (len < 0)
    return -1;
  if ((size_t)len >= sizeof target)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  target[len] = '\0';
  if (is_magic_link (walk_top (w), target))
    {
      errno = ELOOP;
      return -1;
    }
  char *joined = NULL;
  if (asprintf (&joined, "%s%s", target, *tail) < 0)
    abort ();
  if (target[0] == '/')
    walk_pop (w, true);
  free (*rest);
  *rest = joined;
  *tail = joined;
  return 0;
}

/* Open the last component, already known to exist as st and not to be a
   symlink we must follow.  O_NOFOLLOW on the real open plus the inode
   check catch a swap between the lookup and the open. */
static int
open_last (int dirfd, const char *name, int fd_path, const struct stat *st, int flags, mode_t mode)
{
  if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
    {
      errno = EEXIST;
      return -1;
    }
  if ((flags & O_DIRECTORY) && !S_ISDIR (st->st_mode))
    {
      errno = ENOTDIR;
      return -1;
    }
  if (flags & O_PATH)
    return fcntl (fd_path, F_DUPFD_CLOEXEC, 3);
  cleanup_close int fd = openat (dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0)
    return -1;
  struct stat now;
  if (fstat (fd, &now) < 0)
    return -1;
  if (now.st_dev != st->st_dev || now.st_ino != st->st_ino)
    {
      errno = EAGAIN;
      return -1;
    }
  return steal_fd (&fd);
}

/* One component `name` of the walk.  Returns 0 to go on; -1 when the walk
   ends, with the opened fd in *out, or *out < 0 and errno on failure. */
static int
walk_step (struct walk *w, const char *name, bool last, bool slash, int flags, mode_t mode,
           unsigned how, int *links, char **rest, const char **tail, int *out)
{
  if (strcmp (name, ".") == 0)
    return 0;
  if (strcmp (name, "..") == 0)
    {
      walk_pop (w, false);
      return 0;
    }
  cleanup_close int fd = openat (walk_top (w), name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    {
      if (errno == ENOENT && last && (flags & O_CREAT))
        {
          if (slash)
            errno = EISDIR;
          else
            *out = openat (walk_top (w), name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
        }
      return -1;
    }
  struct stat st;
  if (fstat (fd, &st) < 0)
    return -1;
  if (S_ISLNK (st.st_mode))
    {
      /* as openat2: O_PATH|O_NOFOLLOW gets the trailing symlink itself */
      if (last && !slash && (flags & O_NOFOLLOW))
        {
          if (!(flags & O_PATH))
            {
              errno = ELOOP;
              return -1;
            }
          *out = steal_fd (&fd);
          return -1;
        }
      if ((how & FS_RESOLVE_NO_SYMLINKS) || ++*links > FS_MAX_SYMLINKS)
        {
          errno = ELOOP;
          return -1;
        }
      return expand_symlink (w, fd, rest, tail);
    }
  if (last)
    {
      *out = open_last (walk_top (w), name, fd, &st, flags | (slash ? O_DIRECTORY : 0), mode);
      return -1;
    }
  if (!S_ISDIR (st.st_mode))
    {
      errno = ENOTDIR;
      return -1;
    }
  walk_push (w, steal_fd (&fd));
  return 0;
}

/* Resolve path below rootfd by hand.  Returns an fd or -1 with errno. */
static int
walk_in_root (int rootfd, const char *path, int flags, mode_t mode, unsigned how)
{
  __attribute__ ((cleanup (walk_free))) struct walk w = { 0 };
  if (*path == '\0')
    {
      errno = ENOENT;
      return -1;
    }
  int root = fcntl (rootfd, F_DUPFD_CLOEXEC, 3);
  if (root < 0)
    return -1;
  walk_push (&w, root);
  cleanup_free char *rest = strdup (path);
  if (rest == NULL)
    abort ();
  const char *tail = rest;
  int links = 0;
  for (;;)
    {
      tail += strspn (tail, "/");
      if (*tail == '\0')
        return openat (walk_top (&w), ".", flags | O_CLOEXEC, mode);
      size_t len = strcspn (tail, "/");
      if (len > NAME_MAX)
        {
          errno = ENAMETOOLONG;
          return -1;
        }
      char name[NAME_MAX + 1];
      memcpy (name, tail, len);
      name[len] = '\0';
      tail += len;
      bool slash = *tail == '/';
      bool last = tail[strspn (tail, "/")] == '\0';
      int out = -1;
      int saved;
      if (walk_step (&w, name, last, slash, flags, mode, how, &links, &rest, &tail, &out) == 0)
        continue;
      saved = errno;
      if (out >= 0)
        return out;
      errno = saved;
      return -1;
    }
}

/* The gateway itself: fd, or -1 with errno. */
static int
open_in_root (int rootfd, const char *path, int flags, mode_t mode, unsigned how)
{
  if (use_openat2 ())
    {
      uint64_t resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
      if (how & FS_RESOLVE_NO_SYMLINKS)
        resolve |= RESOLVE_NO_SYMLINKS;
      int fd = sys_openat2 (rootfd, path, flags, mode, resolve);
      if (fd >= 0 || errno != ENOSYS)
        return fd;
      note_openat2_missing ();
    }
  return walk_in_root (rootfd, path, flags, mode, how);
}

int
safe_open_in_root_how (int rootfd, const char *path, int flags, mode_t mode, unsigned how,
                       skiff_error_t *err)
{
  int fd = open_in_root (rootfd, path, flags, mode, how);
  if (fd < 0)
    return skiff_error (err, errno, "open \"%s\" in the rootfs", path);
  return fd;
}

int
safe_open_in_root (int rootfd, const char *path, int flags, mode_t mode, skiff_error_t *err)
{
  return safe_open_in_root_how (rootfd, path, flags, mode, 0, err);
}

int
safe_open_in_root_opt (int rootfd, const char *path, int flags, unsigned how, skiff_error_t *err)
{
  int fd = open_in_root (rootfd, path, flags, 0, how);
  if (fd < 0 && errno == ENOENT)
    return FS_ABSENT;
  if (fd < 0)
    return skiff_error (err, errno, "open \"%s\" in the rootfs", path);
  return fd;
}

/* A dangling symlink `name` in dirfd, met while creating `path` at the
   component that starts at offset `at`: the path to create instead, with
   the link's target in place of the component (relative targets stay
   relative to the link's directory).  The gateway resolves the result from
   the root again, so whatever the target says, creation stays inside. */
static char *
through_dangling (int dirfd, const char *name, const char *path, size_t at, const char *rest,
                  int *links, skiff_error_t *err)
{
  char target[PATH_MAX];
  ssize_t len = readlinkat (dirfd, name, target, sizeof target - 1);
  /* EINVAL: not a symlink after all, the tree changed under us */
  if (len < 0)
    {
      skiff_error (err, errno == EINVAL ? EAGAIN : errno, "create \"%s\" in the rootfs", path);
      return NULL;
    }
  if (++*links > FS_MAX_SYMLINKS)
    {
      skiff_error (err, ELOOP, "create \"%s\" in the rootfs", path);
      return NULL;
    }
  target[len] = '\0';
  char *next = NULL;
  int n = target[0] == '/' ? asprintf (&next, "%s%s", target, rest)
                           : asprintf (&next, "%.*s%s%s", (int)at, path, target, rest);
  if (n < 0)
    abort ();
  return next;
}

static int
mkdir_all (int rootfd, const char *path, mode_t mode, int links, skiff_error_t *err)
{
  int fd = safe_open_in_root_opt (rootfd, path, O_PATH | O_DIRECTORY, 0, err);
  if (fd != FS_ABSENT)
    return fd;

  /* Each prefix is resolved by the gateway from the root, and a missing
     component is created with mkdirat() relative to its resolved parent:
     whatever symlinks the prefix holds, the new directory is inside. */
  char small[256];
  cleanup_free char *heap = NULL;
  char *buf = strdup_small (path, small, sizeof small, &heap);
  cleanup_close int parent = fcntl (rootfd, F_DUPFD_CLOEXEC, 3);
  if (parent < 0)
    return skiff_error (err, errno, "dup");
  char *p = buf;
  for (;;)
    {
      p += strspn (p, "/");
      if (*p == '\0')
        break;
      char *end = p + strcspn (p, "/");
      char saved = *end;
      *end = '\0';
      cleanup_close int dir = safe_open_in_root_opt (rootfd, buf, O_PATH | O_DIRECTORY, 0, err);
      if (dir == FS_ABSENT)
        {
          if (mkdirat (parent, p, mode) < 0 && errno != EEXIST)
            return skiff_error (err, errno, "mkdir \"%s\" in the rootfs", buf);
          dir = safe_open_in_root_opt (rootfd, buf, O_PATH | O_DIRECTORY, 0, err);
          if (dir == FS_ABSENT)
            {
              cleanup_free char *next = through_dangling (parent, p, path, (size_t)(p - buf),
                                                          path + (end - buf), &links, err);
              return next ? mkdir_all (rootfd, next, mode, links, err) : -1;
            }
        }
      if (dir < 0)
        return -1;
      close (parent);
      parent = steal_fd (&dir);
      *end = saved;
      p = end;
    }
  return steal_fd (&parent);
}

int
safe_mkdir_all_in_root (int rootfd, const char *path, mode_t mode, skiff_error_t *err)
{
  return mkdir_all (rootfd, path, mode, 0, err);
}

static int
create_file (int rootfd, const char *path, mode_t mode, int links, skiff_error_t *err)
{
  cleanup_close int fd = safe_open_in_root_opt (rootfd, path, O_PATH, 0, err);
  if (fd >= 0)
    return fs_expect_dir (fd, false, path, err) < 0 ? -1 : steal_fd (&fd);
  if (fd != FS_ABSENT)
    return -1;

  cleanup_free char *dir = strdup (path);
  if (dir == NULL)
    abort ();
  char *slash = strrchr (dir, '/');
  const char *base = slash ? slash + 1 : dir;
  if (*base == '\0' || strcmp (base, ".") == 0 || strcmp (base, "..") == 0)
    return skiff_error (err, EISDIR, "create \"%s\" in the rootfs: names a directory", path);
  size_t at = (size_t)(base - dir);
  if (slash)
    *slash = '\0';
  cleanup_close int dirfd = mkdir_all (rootfd, slash && *dir ? dir : "/", 0755, links, err);
  if (dirfd < 0)
    return -1;
  if (mknodat (dirfd, base, S_IFREG | mode, 0) < 0 && errno != EEXIST)
    return skiff_error (err, errno, "create \"%s\" in the rootfs", path);
  fd = openat (dirfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return skiff_error (err, errno, "open \"%s\" in the rootfs", path);
  mode_t fmt;
  if (fs_fd_type (fd, &fmt, err) < 0)
    return -1;
  /* EEXIST above and a symlink here: the name is a dangling symlink (the
     first lookup would have followed a live one); create its target. */
  if (S_ISLNK (fmt))
    {
      cleanup_free char *next = through_dangling (dirfd, base, path, at, "", &links, err);
      return next ? create_file (rootfd, next, mode, links, err) : -1;
    }
  if (fs_expect_dir (fd, false, path, err) < 0)
    return -1;
  return steal_fd (&fd);
}

int
safe_create_file_in_root (int rootfd, const char *path, mode_t mode, skiff_error_t *err)
{
  return create_file (rootfd, path, mode, 0, err);
}

int
fs_fd_type (int fd, mode_t *fmt, skiff_error_t *err)
{
  struct stat st;
  if (fstat (fd, &st) < 0)
    return skiff_error (err, errno, "fstat");
  *fmt = st.st_mode & S_IFMT;
  return 0;
}

int
fs_expect_dir (int fd, bool want_dir, const char *what, skiff_error_t *err)
{
  mode_t fmt;
  if (fs_fd_type (fd, &fmt, err) < 0)
    return -1;
  if (want_dir && !S_ISDIR (fmt))
    return skiff_error (err, ENOTDIR, "\"%s\"", what);
  if (!want_dir && S_ISDIR (fmt))
    return skiff_error (err, EISDIR, "\"%s\"", what);
  return 0;
}

const char *
fs_proc_fd_path (int fd, char buf[FS_PROC_FD_PATH_MAX])
{
  snprintf (buf, FS_PROC_FD_PATH_MAX, "/proc/self/fd/%d", fd);
  return buf;
}

static int
mount_id_from_fdinfo (int fd, uint64_t *id, skiff_error_t *err)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/self/fdinfo/%d", fd);
  cleanup_free char *text = NULL;
  if (read_file_at (AT_FDCWD, path, &text, NULL, err) < 0)
    return -1;
  const char *line = strstr (text, "mnt_id:");
  if (line == NULL || sscanf (line, "mnt_id: %" SCNu64, id) != 1)
    return skiff_error (err, ENOTSUP, "no mnt_id in \"%s\"", path);
  return 0;
}

int
fs_mount_id (int fd, uint64_t *id, skiff_error_t *err)
{
  struct statx stx;
  if (statx (fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0)
    return skiff_error (err, errno, "statx");
  if (!(stx.stx_mask & STATX_MNT_ID)) /* before Linux 5.8 */
    return mount_id_from_fdinfo (fd, id, err);
  *id = stx.stx_mnt_id;
  return 0;
}

int
fs_is_mount_root (int fd, bool *is_root, skiff_error_t *err)
{
  struct statx stx;
  if (statx (fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, 0, &stx) < 0)
    return skiff_error (err, errno, "statx");
  if (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
    {
      *is_root = (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
      return 0;
    }
  /* Before Linux 5.8: ".." of a mount root lives on another mount (or is
     the same inode, at the root of the namespace). */
  cleanup_close int up = openat (fd, "..", O_PATH | O_CLOEXEC);
  struct stat self, parent;
  if (up < 0 || fstat (fd, &self) < 0 || fstat (up, &parent) < 0)
    return skiff_error (err, errno, "stat \"..\"");
  uint64_t a, b;
  if (fs_mount_id (fd, &a, err) < 0 || fs_mount_id (up, &b, err) < 0)
    return -1;
  *is_root = a != b || (self.st_dev == parent.st_dev && self.st_ino == parent.st_ino);
  return 0;
}

int
fs_open_procfs (const char *path, skiff_error_t *err)
{
  cleanup_close int fd = open (path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return skiff_error (err, errno, "open procfs \"%s\"", path);
  struct statfs sfs;
  struct stat st;
  bool root;
  if (fstatfs (fd, &sfs) < 0 || fstat (fd, &st) < 0)
    return skiff_error (err, errno, "stat procfs \"%s\"", path);
  if (sfs.f_type != PROC_SUPER_MAGIC)
    return skiff_error (err, EXDEV, "\"%s\" is not a procfs", path);
  if (st.st_ino != PROC_ROOT_INO)
    return skiff_error (err, EXDEV, "\"%s\" is not the root of a procfs", path);
  if (fs_is_mount_root (fd, &root, err) < 0)
    return -1;
  if (!root)
    return skiff_error (err, EXDEV, "\"%s\" is not the root of a procfs mount", path);
  return steal_fd (&fd);
}

int
fs_procfs_open_at (int procfd, const char *sub, int flags, skiff_error_t *err)
{
  if (use_openat2 ())
    {
      int fd = sys_openat2 (procfd, sub, flags, 0,
                            RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
      if (fd >= 0)
        return fd;
      if (errno != ENOSYS)
        return skiff_error (err, errno, "open procfs file \"%s\"", sub);
      note_openat2_missing ();
    }
  /* Without openat2: open, then prove the file sits on the very mount of
     procfd; any mount over it or over a directory on the way (a tmpfs, a
     bind of another file) has another mount id. */
  cleanup_close int fd = openat (procfd, sub, flags | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return skiff_error (err, errno, "open procfs file \"%s\"", sub);
  struct statfs sfs;
  uint64_t want, got;
  if (fstatfs (fd, &sfs) < 0)
    return skiff_error (err, errno, "statfs procfs file \"%s\"", sub);
  if (fs_mount_id (procfd, &want, err) < 0 || fs_mount_id (fd, &got, err) < 0)
    return -1;
  if (sfs.f_type != PROC_SUPER_MAGIC || want != got)
    return skiff_error (err, EXDEV, "procfs file \"%s\" is not on the procfs", sub);
  return steal_fd (&fd);
}

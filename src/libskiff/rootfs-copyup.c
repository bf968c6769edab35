/* tmpcopyup: a new tmpfs starts with a copy of what the directory under it
   held (Podman's --read-only and --tmpfs rely on it: /etc, /run, /tmp keep
   the image's files).  Runs in the init before the pivot, inside the
   container's memory limit: no heap, a stack buffer, bounded depth. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "rootfs-internal.h"

#define COPYUP_MAX_DEPTH 64

struct copyup
{
  const char *what;
  char buf[16384];
};

static int copy_dir (struct copyup *c, int src, int dst, int depth, skiff_error_t *err);

/* Owner, mode and times of st on the entry name of dir (not followed). */
static int
copy_attrs (struct copyup *c, int dir, const char *name, const struct stat *st, skiff_error_t *err)
{
  struct timespec times[2] = { st->st_atim, st->st_mtim };
  if (fchownat (dir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
    return skiff_error (err, errno, "%s: tmpcopyup: chown `%s`", c->what, name);
  if (!S_ISLNK (st->st_mode) && fchmodat (dir, name, st->st_mode & 07777, 0) < 0)
    return skiff_error (err, errno, "%s: tmpcopyup: chmod `%s`", c->what, name);
  if (utimensat (dir, name, times, AT_SYMLINK_NOFOLLOW) < 0)
    return skiff_error (err, errno, "%s: tmpcopyup: times of `%s`", c->what, name);
  return 0;
}

static int
copy_file (struct copyup *c, int src, int dst, const char *name, const struct stat *st,
           skiff_error_t *err)
{
  cleanup_close int in = openat (src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0)
    return skiff_error (err, errno, "%s: tmpcopyup: open `%s`", c->what, name);
  cleanup_close int out
      = openat (dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0)
    return skiff_error (err, errno, "%s: tmpcopyup: create `%s`", c->what, name);
  for (;;)
    {
      ssize_t n = read (in, c->buf, sizeof c->buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return skiff_error (err, errno, "%s: tmpcopyup: read `%s`", c->what, name);
      if (n == 0)
        break;
      for (ssize_t off = 0; off < n;)
        {
          ssize_t w = write (out, c->buf + off, (size_t)(n - off));
          if (w < 0 && errno == EINTR)
            continue;
          if (w < 0)
            return skiff_error (err, errno, "%s: tmpcopyup: write `%s`", c->what, name);
          off += w;
        }
    }
  return copy_attrs (c, dst, name, st, err);
}

static int
copy_entry (struct copyup *c, int src, int dst, const char *name, int depth, skiff_error_t *err)
{
  struct stat st;
  if (fstatat (src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return skiff_error (err, errno, "%s: tmpcopyup: stat `%s`", c->what, name);
  switch (st.st_mode & S_IFMT)
    {
    case S_IFREG:
      return copy_file (c, src, dst, name, &st, err);
    case S_IFDIR:
      {
        if (mkdirat (dst, name, 0700) < 0)
          return skiff_error (err, errno, "%s: tmpcopyup: mkdir `%s`", c->what, name);
        cleanup_close int s = openat (src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        cleanup_close int d = openat (dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (s < 0 || d < 0)
          return skiff_error (err, errno, "%s: tmpcopyup: open `%s`", c->what, name);
        if (copy_dir (c, s, d, depth + 1, err) < 0)
          return -1;
        return copy_attrs (c, dst, name, &st, err);
      }
    case S_IFLNK:
      {
        char target[PATH_MAX];
        ssize_t n = readlinkat (src, name, target, sizeof target - 1);
        if (n < 0)
          return skiff_error (err, errno, "%s: tmpcopyup: readlink `%s`", c->what, name);
        target[n] = '\0';
        if (symlinkat (target, dst, name) < 0)
          return skiff_error (err, errno, "%s: tmpcopyup: symlink `%s`", c->what, name);
        return copy_attrs (c, dst, name, &st, err);
      }
    default: /* fifos, sockets, device nodes: the node itself, as cp -a */
      if (mknodat (dst, name, st.st_mode, st.st_rdev) < 0)
        return skiff_error (err, errno, "%s: tmpcopyup: mknod `%s`", c->what, name);
      return copy_attrs (c, dst, name, &st, err);
    }
}

static int
copy_dir (struct copyup *c, int src, int dst, int depth, skiff_error_t *err)
{
  char dents[4096];
  if (depth > COPYUP_MAX_DEPTH)
    return skiff_error (err, ELOOP, "%s: tmpcopyup: more than %d levels of directories", c->what,
                        COPYUP_MAX_DEPTH);
  /* getdents64 on a stack buffer: readdir's DIR would come from the heap. */
  for (;;)
    {
      long n = syscall (SYS_getdents64, src, dents, sizeof dents);
      if (n < 0)
        return skiff_error (err, errno, "%s: tmpcopyup: read a directory", c->what);
      if (n == 0)
        return 0;
      for (long off = 0; off < n;)
        {
          struct dirent64 *d = (struct dirent64 *)(dents + off);
          off += d->d_reclen;
          if (strcmp (d->d_name, ".") == 0 || strcmp (d->d_name, "..") == 0)
            continue;
          if (copy_entry (c, src, dst, d->d_name, depth, err) < 0)
            return -1;
        }
    }
}

int
rootfs_copy_up (int src_dir, int dst_dir, const char *what, skiff_error_t *err)
{
  struct copyup c = { .what = what };
  return copy_dir (&c, src_dir, dst_dir, 0, err);
}

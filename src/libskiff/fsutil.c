#include "config.h"
#include "fsutil.h"

#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

int
write_all_fd (int fd, const void *data, size_t len)
{
  const char *p = data;
  while (len > 0)
    {
      ssize_t w = write (fd, p, len);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        return -errno;
      p += w;
      len -= (size_t)w;
    }
  return 0;
}

int
read_all_fd (int fd, char **out, size_t *len_out, size_t max)
{
  size_t cap = 4096, len = 0;
  char *buf = malloc (cap);
  if (buf == NULL)
    return -ENOMEM;
  for (;;)
    {
      if (len + 1 >= cap)
        {
          if (cap >= max)
            {
              free (buf);
              return -EFBIG;
            }
          char *n = realloc (buf, cap * 2);
          if (n == NULL)
            {
              free (buf);
              return -ENOMEM;
            }
          buf = n;
          cap *= 2;
        }
      ssize_t r = read (fd, buf + len, cap - len - 1);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          int e = errno;
          free (buf);
          return -e;
        }
      if (r == 0)
        break;
      len += (size_t)r;
    }
  buf[len] = '\0';
  *out = buf;
  if (len_out)
    *len_out = len;
  return 0;
}

int
write_file_at (int dirfd, const char *name, const void *data, size_t len, mode_t mode,
               int extra_flags, skiff_error_t *err)
{
  cleanup_close int fd = openat (
      dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | extra_flags, mode);
  if (fd < 0)
    return skiff_error (err, errno, "open `%s`", name);
  int r = write_all_fd (fd, data, len);
  if (r < 0)
    return skiff_error (err, -r, "write `%s`", name);
  return 0;
}

int
write_file_atomic_at (int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                      skiff_error_t *err)
{
  char tmp[256];
  if (snprintf (tmp, sizeof tmp, ".%s.tmp", name) >= (int)sizeof tmp)
    return skiff_error (err, ENAMETOOLONG, "write `%s`", name);
  if (write_file_at (dirfd, tmp, data, len, mode, 0, err) < 0)
    return -1;
  if (renameat (dirfd, tmp, dirfd, name) < 0)
    {
      int e = errno;
      unlinkat (dirfd, tmp, 0);
      return skiff_error (err, e, "rename `%s` to `%s`", tmp, name);
    }
  return 0;
}

int
read_file_at (int dirfd, const char *name, char **out, size_t *len_out, skiff_error_t *err)
{
  cleanup_close int fd = openat (dirfd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return skiff_error (err, errno, "open `%s`", name);
  int r = read_all_fd (fd, out, len_out, 64 << 20);
  if (r < 0)
    return skiff_error (err, -r, "read `%s`", name);
  return 0;
}

static const char *
file_type_name (mode_t m)
{
  return S_ISDIR (m)    ? "a directory"
         : S_ISFIFO (m) ? "a FIFO"
         : S_ISSOCK (m) ? "a socket"
         : S_ISCHR (m)  ? "a character device"
         : S_ISBLK (m)  ? "a block device"
                        : "not a regular file";
}

int
read_regular_file_at (int dirfd, const char *name, char **out, size_t *len_out, skiff_error_t *err)
{
  cleanup_close int fd = openat (dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  struct stat st;
  if (fd < 0)
    return skiff_error (err, errno, "open `%s`", name);
  if (fstat (fd, &st) < 0)
    return skiff_error (err, errno, "stat `%s`", name);
  if (!S_ISREG (st.st_mode))
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "`%s` is %s: expected a regular file", name,
                                 file_type_name (st.st_mode));
  int r = read_all_fd (fd, out, len_out, 64 << 20);
  if (r < 0)
    return skiff_error (err, -r, "read `%s`", name);
  return 0;
}

static int
remove_children (int dfd, skiff_error_t *err)
{
  int dup_fd = dup (dfd);
  if (dup_fd < 0)
    return skiff_error (err, errno, "dup");
  cleanup_closedir DIR *d = fdopendir (dup_fd);
  if (d == NULL)
    {
      close (dup_fd);
      return skiff_error (err, errno, "fdopendir");
    }
  struct dirent *de;
  while ((de = readdir (d)))
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (remove_tree_at (dfd, de->d_name, err) < 0)
        return -1;
    }
  return 0;
}

int
remove_tree_at (int dirfd, const char *name, skiff_error_t *err)
{
  if (unlinkat (dirfd, name, 0) == 0 || errno == ENOENT)
    return 0;
  if (errno != EISDIR && errno != EPERM)
    return skiff_error (err, errno, "remove `%s`", name);
  cleanup_close int dfd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return errno == ENOENT ? 0 : skiff_error (err, errno, "open `%s`", name);
  if (remove_children (dfd, err) < 0)
    return -1;
  if (unlinkat (dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return skiff_error (err, errno, "remove directory `%s`", name);
  return 0;
}

/* --pid-file: the decimal pid, no newline, written atomically. */
int
write_pid_file (const char *path, pid_t pid, skiff_error_t *err)
{
  char buf[32], tmp[PATH_MAX];
  int n = snprintf (buf, sizeof buf, "%d", (int)pid);
  if (snprintf (tmp, sizeof tmp, "%s.skiff-tmp", path) >= (int)sizeof tmp)
    return skiff_error (err, ENAMETOOLONG, "--pid-file `%s`", path);
  if (write_file_at (AT_FDCWD, tmp, buf, (size_t)n, 0644, 0, err) < 0)
    return skiff_error_wrap (err, "--pid-file");
  if (rename (tmp, path) < 0)
    {
      int e = errno;
      unlink (tmp);
      return skiff_error (err, e, "--pid-file: rename to `%s`", path);
    }
  return 0;
}

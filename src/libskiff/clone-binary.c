/* Re-execute the runtime from an image the container cannot write
   (CVE-2019-5736).  See clone-binary.h for why.  This is on the start path
   of every container, so:

   - when the image already is safe (a sealed memfd, a read-only mount) it
     costs one open, one fcntl and one fstatvfs;
   - otherwise, with mount privilege, the image is re-executed through a
     detached read-only bind mount of itself (open_tree + mount_setattr: no
     copy, and the mount is never attached anywhere, so nothing propagates
     to other mount namespaces and nothing needs unmounting);
   - without it (rootless, old kernels) through a sealed memfd copy made in
     the kernel (sendfile).

   A detached mount that has been closed belongs to no mount namespace, so
   nobody can make it writable again (mount_setattr and remount refuse it);
   a sealed memfd cannot be written by anyone. */
#include "config.h"
#include "clone-binary.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/mount.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

/* Every seal that keeps the content as it is, and the seals themselves. */
#define CLONE_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* Set across our own re-exec only: a second re-exec means the kernel did
   not keep the seals, and we must fail rather than loop. */
#define CLONE_GUARD_ENV "_SKIFF_SEALED_EXEC"

static int
open_self_exe (skiff_error_t *err)
{
  int fd = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return skiff_error (err, errno, "open /proc/self/exe");
  return fd;
}

static enum clone_binary_state
state_of (int fd)
{
  int seals = fcntl (fd, F_GET_SEALS);
  if (seals >= 0 && (seals & CLONE_SEALS) == CLONE_SEALS)
    return CLONE_BINARY_SEALED;
  struct statvfs sv;
  if (fstatvfs (fd, &sv) == 0 && (sv.f_flag & ST_RDONLY))
    return CLONE_BINARY_READONLY;
  return CLONE_BINARY_WRITABLE;
}

int
clone_binary_state (enum clone_binary_state *out, skiff_error_t *err)
{
  cleanup_close int fd = open_self_exe (err);
  if (fd < 0)
    return -1;
  *out = state_of (fd);
  return 0;
}

static int
make_memfd (skiff_error_t *err)
{
  /* MFD_EXEC: with vm.memfd_noexec=1 a memfd is not executable unless it
     asks to be; kernels before 6.3 do not know the flag. */
  int fd = memfd_create ("skiff", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL)
    fd = memfd_create ("skiff", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    return skiff_error (err, errno, "memfd_create for a sealed copy of the runtime");
  return fd;
}

static int
copy_all (int dst, int src, skiff_error_t *err)
{
  struct stat st;
  if (fstat (src, &st) < 0)
    return skiff_error (err, errno, "stat /proc/self/exe");
  off_t off = 0;
  while (off < st.st_size)
    {
      ssize_t n = sendfile (dst, src, &off, (size_t)(st.st_size - off));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return skiff_error (err, errno, "copy the runtime into a memfd");
      if (n == 0)
        return skiff_error (err, EIO, "copy the runtime into a memfd: short copy");
    }
  return 0;
}

/* An O_PATH fd of a detached read-only bind mount of our own image, or -1
   with errno set when we may not mount (rootless) or the kernel cannot. */
static int
readonly_clone (void)
{
#if defined SYS_open_tree && defined SYS_mount_setattr
  cleanup_close int tree
      = (int)syscall (SYS_open_tree, AT_FDCWD, "/proc/self/exe", OPEN_TREE_CLONE | O_CLOEXEC);
  if (tree < 0)
    return -1;
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
  if (syscall (SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
    return -1;
  return steal_fd (&tree);
#else
  errno = ENOSYS;
  return -1;
#endif
}

static void
exec_image (int fd, char **argv)
{
  extern char **environ;
  syscall (SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
}

int
clone_binary_ensure (char **argv, skiff_error_t *err)
{
  cleanup_close int self = open_self_exe (err);
  if (self < 0)
    return -1;
  enum clone_binary_state st = state_of (self);
  bool reexeced = getenv (CLONE_GUARD_ENV) != NULL;
  if (reexeced)
    unsetenv (CLONE_GUARD_ENV);
  if (st != CLONE_BINARY_WRITABLE)
    {
      skiff_debug ("runtime image: %s%s",
                   st == CLONE_BINARY_SEALED ? "sealed memfd" : "read-only mount",
                   reexeced ? " (re-executed)" : ", used as it is");
      return 0;
    }
  if (reexeced)
    return skiff_error (err, EPERM, "the protected image of the runtime is writable after exec");
  if (setenv (CLONE_GUARD_ENV, "1", 1) < 0)
    return skiff_error (err, errno, "setenv");

  cleanup_close int ro = readonly_clone ();
  if (ro >= 0)
    {
      exec_image (ro, argv);
      skiff_debug ("exec a read-only bind of the runtime: %s", strerror (errno));
    }
  cleanup_close int mfd = make_memfd (err);
  if (mfd < 0 || copy_all (mfd, self, err) < 0)
    goto fail;
  if (fcntl (mfd, F_ADD_SEALS, CLONE_SEALS) < 0)
    {
      skiff_error (err, errno, "seal the copy of the runtime");
      goto fail;
    }
  exec_image (mfd, argv);
  int e = errno;
  unsetenv (CLONE_GUARD_ENV);
  if (e == EACCES)
    return skiff_error (err, e,
                        "execute the sealed copy of the runtime (is vm.memfd_noexec 2? "
                        "install skiff on a read-only mount instead)");
  return skiff_error (err, e, "execute the sealed copy of the runtime");
fail:
  unsetenv (CLONE_GUARD_ENV);
  return -1;
}

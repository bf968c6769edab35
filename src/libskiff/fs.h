/* The one gateway for paths inside a container rootfs.

   Every lookup of a path that the image controls goes through
   safe_open_in_root(): the kernel's openat2(RESOLVE_IN_ROOT |
   RESOLVE_NO_MAGICLINKS) where it exists, else a userspace walk with the same
   rules (symlinks resolved against the root, ".." clamped at the root, no
   magic links, at most FS_MAX_SYMLINKS links).  mkdir-all and create-file are
   built on it, so a symlink planted by the image can never make the runtime
   create, open or mount anything outside the rootfs. */
#ifndef SKIFF_FS_H
#define SKIFF_FS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

#define FS_MAX_SYMLINKS 40 /* the kernel's MAXSYMLINKS */
#define FS_PROC_FD_PATH_MAX 32

/* Test-only: take the userspace walk even when openat2 works. */
extern bool fs_force_fallback;

/* Flags for safe_open_in_root_how(). */
enum
{
  FS_RESOLVE_NO_SYMLINKS = 1 << 0, /* refuse any symlink on the way */
};

/* Open path (absolute or not: both are relative to rootfd) inside the tree
   rooted at rootfd.  flags are open(2) flags (O_CLOEXEC is always added);
   mode is used with O_CREAT.  A trailing symlink is followed (inside the
   root) unless flags has O_NOFOLLOW.  Returns the fd, or -1 with *err set;
   (*err)->errno_ tells ENOENT/ENOTDIR/ELOOP/EXDEV apart. */
int safe_open_in_root (int rootfd, const char *path, int flags, mode_t mode, skiff_error_t *err);
int safe_open_in_root_how (int rootfd, const char *path, int flags, mode_t mode, unsigned how,
                           skiff_error_t *err);

/* The same for a lookup where a missing path is an answer: FS_ABSENT
   (and no error object) when path or one of its components does not
   exist.  The init makes many such probes, and an error object for each
   would be heap that the container's memory limit pays for. */
#define FS_ABSENT (-2)
int safe_open_in_root_opt (int rootfd, const char *path, int flags, unsigned how,
                           skiff_error_t *err);

/* mkdir -p path inside rootfd; returns an O_PATH fd of the final directory.
   A component that exists as a non-directory fails with ENOTDIR; a dangling
   symlink fails with ENOENT (we do not create through it). */
int safe_mkdir_all_in_root (int rootfd, const char *path, mode_t mode, skiff_error_t *err);

/* Make sure path exists as a non-directory (creating an empty regular file
   and its parents if missing): the target of a file bind mount.  Returns an
   O_PATH fd of it.  An existing directory fails with EISDIR. */
int safe_create_file_in_root (int rootfd, const char *path, mode_t mode, skiff_error_t *err);

/* The S_IFMT bits of fd. */
int fs_fd_type (int fd, mode_t *fmt, skiff_error_t *err);
/* Fail with ENOTDIR/EISDIR naming `what` unless fd is (not) a directory. */
int fs_expect_dir (int fd, bool want_dir, const char *what, skiff_error_t *err);

/* "/proc/self/fd/N" for mount(2) and friends that only take paths.  The
   result refers to exactly the inode of fd, whatever happens to the name. */
const char *fs_proc_fd_path (int fd, char buf[FS_PROC_FD_PATH_MAX]);

/* The mount id of fd (statx, or /proc/self/fdinfo on older kernels). */
int fs_mount_id (int fd, uint64_t *id, skiff_error_t *err);
/* Whether fd is the root of a mount. */
int fs_is_mount_root (int fd, bool *is_root, skiff_error_t *err);

/* Open the procfs mounted at path (normally "/proc") and check that it is
   the root of a real procfs mount: statfs magic PROC_SUPER_MAGIC and the
   procfs root inode, on the root of its mount.  A tmpfs or bind of a
   procfs subdirectory planted there fails with EXDEV. */
int fs_open_procfs (const char *path, skiff_error_t *err);
/* Open sub (e.g. "self/attr/exec", "sys/net/ipv4/ip_forward") below a
   verified procfs fd without crossing into another mount or following a
   magic link: a bind mount over the target (CVE-2019-16884,
   CVE-2019-19921) fails with EXDEV instead of redirecting the write. */
int fs_procfs_open_at (int procfd, const char *sub, int flags, skiff_error_t *err);

#endif

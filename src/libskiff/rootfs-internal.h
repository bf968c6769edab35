/* Shared by rootfs.c, rootfs-dev.c and rootfs-cgroup.c: the state of a
   plan being executed and the steps that live in the other two files.  Not
   an API: the library's callers use rootfs.h. */
#ifndef SKIFF_ROOTFS_INTERNAL_H
#define SKIFF_ROOTFS_INTERNAL_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "rootfs.h"

struct rootfs_exec
{
  const struct rootfs_spec *s;
  int rootfd;        /* the rootfs before the pivot, / after */
  int nullfd;        /* the verified /dev/null, opened on first use */
  const char *label; /* linux.mountLabel when SELinux is on */
};

char *rootfs_xasprintf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
/* "/a/./b//../c/" -> "/a/c", ".." stopping at "/"; lexical. */
char *rootfs_path_clean (const char *path);
/* The same into out, which has room for strlen (path) + 2 bytes. */
char *rootfs_path_clean_to (const char *path, char *out);
/* Resolve (creating as needed) the destination of op inside the root: a
   directory when dir, else a file; refuses one that leads into procfs. */
int rootfs_open_target (struct rootfs_exec *x, const struct mount_op *op, bool dir,
                        skiff_error_t *err);

/* tmpcopyup: copy the tree of src_dir into dst_dir (cp -a, no heap). */
int rootfs_copy_up (int src_dir, int dst_dir, const char *what, skiff_error_t *err);
int rootfs_do_cgroup (struct rootfs_exec *x, const struct mount_op *op, skiff_error_t *err);
int rootfs_do_devices (struct rootfs_exec *x, skiff_error_t *err);
int rootfs_do_dev_links (struct rootfs_exec *x, skiff_error_t *err);
int rootfs_do_console (struct rootfs_exec *x, skiff_error_t *err);

static inline char *
xstrdup (const char *s)
{
  char *d = strdup (s);
  if (d == NULL)
    abort ();
  return d;
}

static inline bool
streq (const char *a, const char *b)
{
  return a && b && strcmp (a, b) == 0;
}

static inline bool
error_is (skiff_error_t *err, int errno_)
{
  return *err != NULL && (*err)->errno_ == errno_;
}

#endif

/* The container's view of the filesystem: plan, then execute.

   mount_plan_build() turns config.json into a list of operations (struct
   mount_plan) without touching anything, so `skiff check --plan` can print
   it; create builds it in the runtime, before the clone, and the init's
   rootfs_setup() and rootfs_pivot() run the two phases of it.  Every path inside the rootfs goes
   through the fs.h gateway and every mount through mounts.h.  docs/rootfs.md has the order and why.
 */
#ifndef SKIFF_ROOTFS_H
#define SKIFF_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "mounts.h"
#include "ocispec.h"

struct skiff_strbuf;

struct rootfs_spec
{
  const oci_config *config;
  const char *bundle; /* absolute bundle dir */
  const char *rootfs; /* absolute, realpath'd root.path */
  bool no_pivot;      /* --no-pivot: MS_MOVE + chroot */
  bool host_mountns;  /* no mount namespace of its own: chroot, and no mount */
  bool userns;        /* own user ns: bind host device nodes instead of mknod */
  bool cgroupns;      /* own cgroup ns */
  bool netns;         /* own net ns (sysfs can be mounted fresh) */
  bool rootless;      /* the runtime may not mount: binds are made by the init */
  /* Optional, mounts_len entries: a detached tree prepared for mounts[i]
     by rootfs_open_bind_trees() (or -1).  An idmapped mount needs privilege
     over the source filesystem, and any source the right to reach it,
     which the init inside a user namespace may not have. */
  const int *mount_fds;
  /* The host's mounts, read by the runtime (rootfs_read_host_mounts()),
     when the plan has a cgroup mount: where the hierarchies are.  NULL:
     the init reads its own (a mount namespace joined by path). */
  const struct mountinfo *host_mounts;
  size_t host_mounts_len;
};

enum mount_op_kind
{
  OP_ROOT_PROPAGATION, /* make the whole tree slave (or as rootfsPropagation says) */
  OP_BIND_ROOTFS,      /* bind the rootfs onto itself: pivot_root needs a mount */
  OP_BIND,             /* a bind of a host path (mounts[i], sysfs without netns) */
  OP_FS,               /* a new filesystem (mounts[i], or a default /dev, /dev/pts, /dev/shm) */
  OP_CGROUP,           /* cgroup or cgroup2, expanded at run time from /proc/self/cgroup */
  OP_REMOUNT,          /* the "remount" option */
  OP_DEVICES,          /* default devices and linux.devices */
  OP_DEV_LINKS,        /* /dev/fd, /dev/std{in,out,err}, /dev/ptmx */
  OP_CONSOLE,          /* empty /dev/console for the pty */
  OP_PIVOT,            /* pivot_root and detach the old root (or MS_MOVE + chroot) */
  OP_CWD,              /* make a missing process.cwd, before anything is read-only */
  OP_READONLY,         /* linux.readonlyPaths[i] */
  OP_MASK,             /* linux.maskedPaths[i] */
  OP_ROOT_READONLY,    /* root.readonly */
  OP_ROOT_FINAL_PROPAGATION, /* rootfsPropagation on the container's / */
};

struct mount_op
{
  enum mount_op_kind kind;
  char *what;    /* for errors: "mounts[3] (/data)", "maskedPaths[0] (/proc/kcore)" */
  size_t index;  /* into mounts[], or SIZE_MAX for what the runtime adds */
  char *dest;    /* absolute, lexically cleaned path inside the container */
  char *source;  /* bind: absolute host path; new filesystem: its source */
  char *fstype;  /* OP_FS, OP_CGROUP */
  bool real_dir; /* dest must be a directory reached without any symlink */
  struct mount_opts opts;
};

/* A plan owns all its strings: it may outlive the config it came from. */
struct mount_plan
{
  struct mount_op *ops;
  size_t len, cap;
  char **warnings; /* things `skiff check` should show: ignored options... */
  size_t warnings_len;
  size_t pivot_at; /* ops[pivot_at] is OP_PIVOT: what runs after the pivot */
};

/* The whole plan (both phases).  Fails with SKIFF_ERR_INVALID_CONFIG on
   what can be judged without the host: relative destinations, a mount over
   /proc of the wrong type, idmap on a non-bind, bad rootfsPropagation. */
int mount_plan_build (const struct rootfs_spec *s, struct mount_plan *plan, skiff_error_t *err);
/* Without a mount namespace of its own, a container shares the runtime's
   (runtime-spec: an unlisted namespace is inherited): a mount would be
   made there.  The first element of c that needs one, as an error. */
int rootfs_check_host_mountns (const oci_config *c, skiff_error_t *err);
void mount_plan_free (struct mount_plan *plan);
/* One numbered line per operation, then the warnings. */
void mount_plan_describe (const struct mount_plan *plan, struct skiff_strbuf *out);
/* One line per device node the OP_DEVICES step makes (defaults and
   linux.devices), for `skiff check --plan`. */
void rootfs_devices_describe (const struct rootfs_spec *s, struct skiff_strbuf *out);

/* Before the clone: the host's mounts when the plan needs them (a cgroup
   mount), else *v = NULL.  The caller frees with mountinfo_free(). */
int rootfs_read_host_mounts (const struct mount_plan *plan, struct mountinfo **v, size_t *n,
                             skiff_error_t *err);

/* In the container's init, in its new mount namespace (root of its user
   namespace if any, in its cgroup), before createContainer hooks: set
   propagation, bind the rootfs onto itself, mounts[] in order, /dev. */
int rootfs_setup (const struct rootfs_spec *s, const struct mount_plan *plan, skiff_error_t *err);
/* Then: pivot_root (or MS_MOVE + chroot), detach the old root, readonly
   and masked paths, root.readonly, rootfsPropagation.  Leaves cwd at /. */
int rootfs_pivot (const struct rootfs_spec *s, const struct mount_plan *plan, skiff_error_t *err);
/* After the pivot: bind the pty slave onto /dev/console. */
int rootfs_bind_console (int pty_slave_fd, skiff_error_t *err);

/* On the host side, for a container with its own user namespace, with the
   runtime's privilege over the source filesystems and its right to reach
   them: a detached tree for every bind of mounts[] (idmapped when asked),
   -1 for the other entries.  *fds_out has mounts_len entries (NULL when
   there are no mounts); the caller closes and frees them. */
int rootfs_open_bind_trees (const struct rootfs_spec *s, int **fds_out, skiff_error_t *err);

#endif

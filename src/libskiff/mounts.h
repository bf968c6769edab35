/* One mount operation.

   Mounts are made through file descriptors where the kernel has the API
   (open_tree, fsopen/fsconfig/fsmount, move_mount, mount_setattr): the
   target is an fd the gateway (fs.h) resolved inside the rootfs, so no path
   is looked up again between the check and the mount.  Each of those
   syscalls falls back on its own, when it says ENOSYS, to mount(2) on the
   /proc/self/fd/N of the same fd. */
#ifndef SKIFF_MOUNTS_H
#define SKIFF_MOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct skiff_strbuf;

/* Test-only: behave as if the kernel had none of the fd-based mount API. */
extern bool mount_force_fallback;

/* OCI mount options, parsed. */
struct mount_opts
{
  unsigned long flags;       /* MS_* the options set (ro, nosuid, noatime, sync, ...) */
  unsigned long clear;       /* MS_* the options cleared explicitly (rw, suid, atime, ...) */
  unsigned long propagation; /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE, | MS_REC */
  uint64_t rec_set, rec_clr; /* MOUNT_ATTR_* of the r* options, applied with AT_RECURSIVE */
  bool bind, rbind, remount, idmap, ridmap, tmpcopyup;
  char **data; /* filesystem options, in order (anything not in the table) */
  size_t data_len;
};

/* Parse options[0..n).  Never fails on an unknown option: it becomes data
   for the filesystem (the kernel is the judge).  Fails only on an empty
   option. */
int mount_opts_parse (char *const *options, size_t n, struct mount_opts *o, skiff_error_t *err);
void mount_opts_free (struct mount_opts *o);
/* The option names we know, for `skiff features`. */
size_t mount_option_names (const char **out, size_t max);
/* The options back as text ("ro,nosuid,rbind,rslave,mode=755"). */
void mount_opts_describe (const struct mount_opts *o, struct skiff_strbuf *out);
/* Whether any per-mount attribute (ro, nosuid, nodev, noexec, atime...) or
   r* attribute is asked for. */
bool mount_opts_has_attrs (const struct mount_opts *o);
/* The MS_* flags that only make sense on a new superblock (sync, dirsync,
   mand, lazytime, iversion, silent): meaningless on a bind. */
unsigned long mount_opts_sb_flags (const struct mount_opts *o);

/* Where a mount goes: fd is an O_PATH fd of the resolved target; rootfd
   (or -1 for a trusted absolute path) and path say how it was resolved, so
   the mount(2) fallback can open the new mount that now sits on it. */
struct mount_target
{
  int fd;
  int rootfd;
  const char *path;
};

/* Bind srcfd (when >= 0) or the path source (relative to the cwd) onto t
   with o applied: per-mount attributes on the new mount (recursively for
   rbind, so a read-only rbind has no writable submount), the r*
   attributes, idmap with userns_fd (required when o->idmap/ridmap), then
   propagation.  source names the source in errors. */
int mount_bind (int srcfd, const char *source, const struct mount_target *t,
                const struct mount_opts *o, int userns_fd, skiff_error_t *err);
/* A detached copy of srcfd/source with o's attributes and idmap applied,
   ready for mount_attach_tree() (possibly in another process and mount
   namespace: an idmapped mount must be made by a process privileged over
   the source filesystem, not by the container's init in its user ns).
   Needs open_tree + mount_setattr: fails UNSUPPORTED without them. */
int mount_open_tree (int srcfd, const char *source, const struct mount_opts *o, int userns_fd,
                     skiff_error_t *err);
/* Attach a tree from mount_open_tree() onto t and apply propagation. */
int mount_attach_tree (int tree, const char *source, const struct mount_target *t,
                       const struct mount_opts *o, skiff_error_t *err);

/* Mount a new fstype filesystem from source onto t.  label, when not NULL,
   is an SELinux context= for the filesystem. */
int mount_new_fs (const char *fstype, const char *source, const struct mount_target *t,
                  const struct mount_opts *o, const char *label, skiff_error_t *err);

/* The "remount" option: change flags and data of the mount at t. */
int mount_remount (const struct mount_target *t, const struct mount_opts *o, skiff_error_t *err);

/* Change the per-mount attributes (MOUNT_ATTR_*) of the mount whose root
   is fd, and of every mount below it when recursive.  what names it. */
int mount_change_attrs (int fd, const char *what, uint64_t set, uint64_t clr, bool recursive,
                        skiff_error_t *err);
/* Propagation (MS_SHARED etc., | MS_REC for the whole tree) of the mount
   whose root is fd. */
int mount_set_propagation (int fd, const char *what, unsigned long propagation, skiff_error_t *err);

/* One line of /proc/self/mountinfo, unescaped; the strings live in the
   array's own allocation: mountinfo_free() is one free(). */
struct mountinfo
{
  uint64_t id, parent;
  char *root, *point, *mnt_opts, *optional, *fstype, *source, *super_opts;
};
int mountinfo_read (struct mountinfo **out, size_t *n, skiff_error_t *err);
void mountinfo_free (struct mountinfo *v, size_t n);
/* Whether a lookup of m's mount point reaches m itself: a mount hidden
   under a later one (a tmpfs over /sys/fs/cgroup/unified) stays listed in
   mountinfo but is not reachable.  Compares the filesystem type with the
   statfs magic and, where statx reports it (Linux 5.8), the mount id.  No
   heap: the init calls it inside the container's memory limit. */
bool mountinfo_reachable (const struct mountinfo *m);
/* Drop, in place, the cgroup and cgroup2 entries that are not reachable. */
void mountinfo_drop_hidden_cgroups (struct mountinfo *v, size_t *n);

/* A user namespace fd whose maps are uid_map/gid_map (lines "inside
   outside count", as in /proc/PID/uid_map), for idmapped mounts: a helper
   child unshares CLONE_NEWUSER, we write its maps and open its ns/user.
   Must run with privilege over the ids in the parent namespace. */
int mount_userns_fd (const char *uid_map, const char *gid_map, skiff_error_t *err);

#endif

#include "config.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cleanup.h"
#include "fsutil.h"
#include "log.h"
#include "rootless.h"

int
state_validate_id (const char *id, skiff_error_t *err)
{
  size_t n = strlen (id);
  if (n == 0 || n > 1024)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "invalid container id: must be 1 to 1024 characters");
  if (strcmp (id, ".") == 0 || strcmp (id, "..") == 0)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0, "invalid container id `%s`", id);
  for (const char *p = id; *p; p++)
    if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') || ('0' <= *p && *p <= '9')
          || strchr ("_+-.", *p)))
      return skiff_error_kind_set (
          err, SKIFF_ERR_INVALID_CONFIG, 0,
          "invalid container id `%s`: only letters, digits and `_+-.` are allowed", id);
  return 0;
}

/* mkdir -p, as runc does for --root (containerd passes a per-namespace
   root, e.g. /run/containerd/runc/k8s.io, and relies on the runtime to
   create it). */
static int
mkdir_all (const char *path, mode_t mode)
{
  if (mkdir (path, mode) == 0 || errno == EEXIST)
    return 0;
  if (errno != ENOENT)
    return -1;
  cleanup_free char *parent = strdup (path);
  if (parent == NULL)
    return -1;
  char *slash = strrchr (parent, '/');
  while (slash != NULL && slash > parent && slash[1] == '\0')
    {
      *slash = '\0';
      slash = strrchr (parent, '/');
    }
  if (slash == NULL || slash == parent)
    return -1;
  *slash = '\0';
  if (mkdir_all (parent, 0711) < 0)
    return -1;
  return mkdir (path, mode) == 0 || errno == EEXIST ? 0 : -1;
}

int
state_root_check (const char *root, skiff_error_t *err)
{
  const char *why;
  if (root)
    return 0;
  rootless_default_root (&why);
  return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                               "no state directory: rootless, the default is "
                               "$XDG_RUNTIME_DIR/skiff and %s (set it, or pass --root)",
                               why ? why : "it cannot be used");
}

static int
open_root (const char *root, bool create, skiff_error_t *err)
{
  if (create && mkdir_all (root, 0700) < 0)
    return skiff_error (err, errno, "create state directory `%s`", root);
  int fd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return skiff_error (err, errno, "open state directory `%s`", root);
  return fd;
}

static int
take_lock (struct state_dir *sd, skiff_error_t *err)
{
  sd->lock_fd = openat (sd->dir_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (sd->lock_fd < 0)
    return skiff_error (err, errno, "open lock of container `%s`", sd->id);
  /* A POSIX record lock, not flock(2): it belongs to this process only, so
     the container init we clone (which shares our open files until it
     execs) does not keep holding it. */
  struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
  while (fcntl (sd->lock_fd, F_SETLKW, &fl) < 0)
    if (errno != EINTR)
      return skiff_error (err, errno, "lock container `%s`", sd->id);
  return 0;
}

static void
fill_names (struct state_dir *sd, const char *root, const char *id)
{
  sd->id = strdup (id);
  if (sd->id == NULL || asprintf (&sd->path, "%s/%s", root, id) < 0)
    abort ();
}

int
state_dir_create (const char *root, const char *id, struct state_dir *sd, skiff_error_t *err)
{
  if (state_validate_id (id, err) < 0 || state_root_check (root, err) < 0)
    return -1;
  fill_names (sd, root, id);
  if ((sd->root_fd = open_root (root, true, err)) < 0)
    return -1;
  if (mkdirat (sd->root_fd, id, 0711) < 0)
    {
      if (errno == EEXIST)
        return skiff_error_kind_set (err, SKIFF_ERR_EXISTS, 0,
                                     "container with id `%s` already exists", id);
      return skiff_error (err, errno, "create state directory `%s`", sd->path);
    }
  sd->dir_fd = openat (sd->root_fd, id, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sd->dir_fd < 0)
    skiff_error (err, errno, "open `%s`", sd->path);
  if (sd->dir_fd >= 0 && take_lock (sd, err) == 0)
    return 0;
  /* The caller does not know it made the directory (no inode left for
     the lock, say): all or nothing, or the id stays taken. */
  skiff_error_t ignored = NULL;
  remove_tree_at (sd->root_fd, id, &ignored);
  skiff_error_free (&ignored);
  if (sd->dir_fd >= 0)
    close (sd->dir_fd);
  sd->dir_fd = -1;
  return -1;
}

int
state_dir_open (const char *root, const char *id, bool lock, struct state_dir *sd,
                skiff_error_t *err)
{
  if (state_validate_id (id, err) < 0 || state_root_check (root, err) < 0)
    return -1;
  fill_names (sd, root, id);
  sd->root_fd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (sd->root_fd >= 0)
    sd->dir_fd = openat (sd->root_fd, id, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sd->dir_fd < 0)
    {
      if (errno == ENOENT)
        return skiff_error_kind_set (err, SKIFF_ERR_NOT_FOUND, 0, "container `%s` does not exist",
                                     id);
      return skiff_error (err, errno, "open `%s`", sd->path);
    }
  if (lock && take_lock (sd, err) < 0)
    return -1;
  /* It may have been deleted while we waited for the lock. */
  if (faccessat (sd->dir_fd, "state.json", F_OK, AT_SYMLINK_NOFOLLOW) < 0
      && faccessat (sd->dir_fd, "lock", F_OK, AT_SYMLINK_NOFOLLOW) < 0)
    return skiff_error_kind_set (err, SKIFF_ERR_NOT_FOUND, 0, "container `%s` does not exist", id);
  return 0;
}

void
state_dir_close (struct state_dir *sd)
{
  if (sd->lock_fd >= 0)
    close (sd->lock_fd);
  if (sd->dir_fd >= 0)
    close (sd->dir_fd);
  if (sd->root_fd >= 0)
    close (sd->root_fd);
  free (sd->id);
  free (sd->path);
  sd->lock_fd = sd->dir_fd = sd->root_fd = -1;
  sd->id = sd->path = NULL;
}

int
state_dir_remove (struct state_dir *sd, skiff_error_t *err)
{
  return remove_tree_at (sd->root_fd, sd->id, err);
}

int
state_read (struct state_dir *sd, skiff_status **out, skiff_error_t *err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;
  /* not blocking on a FIFO put there, not reading a directory */
  if (read_regular_file_at (sd->dir_fd, "state.json", &data, &len, err) < 0)
    {
      if ((*err)->errno_ == ENOENT)
        return skiff_error_kind_set (err, SKIFF_ERR_NOT_FOUND, 0, "container `%s` does not exist",
                                     sd->id);
      return skiff_error_wrap (err, "container `%s`: unreadable %s/state.json", sd->id, sd->path);
    }
  return state_parse (sd->id, sd->path, data, len, out, err);
}

int
state_write (struct state_dir *sd, const skiff_status *st, skiff_error_t *err)
{
  size_t len = 0;
  oci_diags diags = { 0 };
  cleanup_free char *json = skiff_status_emit (st, false, &len, &diags);
  oci_diags_free (&diags);
  if (json == NULL)
    return skiff_error (err, 0, "container `%s`: encode state", sd->id);
  return write_file_atomic_at (sd->dir_fd, "state.json", json, len, 0600, err);
}

unsigned long long
proc_start_time (pid_t pid)
{
  char path[64], buf[1024];
  snprintf (path, sizeof path, "/proc/%d/stat", (int)pid);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  /* comm may contain spaces and parentheses: parse after the last ')'. */
  char *p = strrchr (buf, ')');
  if (p == NULL || p[1] == '\0' || p[2] == 'Z' || p[2] == 'X')
    return 0;
  unsigned long long start = 0;
  /* field 3 is state; starttime is field 22. */
  p += 2;
  for (int field = 3; field < 22 && p; field++)
    p = strchr (p + 1, ' ');
  if (p)
    start = strtoull (p + 1, NULL, 10);
  return start;
}

bool
state_process_alive (const skiff_status *st)
{
  if (st->pid <= 0)
    return false;
  unsigned long long t = proc_start_time ((pid_t)st->pid);
  return t != 0 && st->pid_start_present && t == st->pid_start;
}

const char *
status_name (container_status s)
{
  static const char *const names[] = {
    [STATUS_CREATING] = "creating", [STATUS_CREATED] = "created", [STATUS_RUNNING] = "running",
    [STATUS_PAUSED] = "paused",     [STATUS_STOPPED] = "stopped",
  };
  return names[s];
}

container_status
state_status (struct state_dir *sd, const skiff_status *st)
{
  if (st->pid <= 0)
    return STATUS_CREATING;
  if (!state_process_alive (st))
    return STATUS_STOPPED;
  /* Frozen first: a created container can be paused too (as runc), and
     is created again once resumed. */
  if (st->cgroup_path)
    {
      cleanup_cgroup struct skiff_cgroup *cg = cgroup_from_path (st->cgroup_path);
      if (cgroup_is_frozen (cg))
        return STATUS_PAUSED;
    }
  if (faccessat (sd->dir_fd, "exec.fifo", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return STATUS_CREATED;
  return STATUS_RUNNING;
}

char *
rfc3339_now (void)
{
  char buf[64];
  rfc3339_format_now (buf, sizeof buf);
  char *out = strdup (buf);
  if (out == NULL)
    abort ();
  return out;
}

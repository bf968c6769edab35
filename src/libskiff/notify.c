#include "config.h"
#include "notify.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"

static char **
strv_push (char **v, size_t *n, const char *s)
{
  char **r = realloc (v, (*n + 1) * sizeof *r);
  if (r == NULL || (r[*n] = strdup (s)) == NULL)
    abort ();
  (*n)++;
  return r;
}

int
notify_prepare (struct state_dir *sd, oci_config *c, uid_t uid, gid_t gid, skiff_error_t *err)
{
  if (mkdirat (sd->dir_fd, "notify", 0755) < 0 && errno != EEXIST)
    return skiff_error (err, errno, "NOTIFY_SOCKET: mkdir");
  if (fchownat (sd->dir_fd, "notify", uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
    return skiff_error (err, errno, "NOTIFY_SOCKET: chown");
  oci_mount *m = calloc (1, sizeof *m);
  if (m == NULL || asprintf (&m->source, "%s/notify", sd->path) < 0)
    abort ();
  m->destination = strdup (NOTIFY_DIR_IN_CONTAINER);
  m->type = strdup ("bind");
  m->options = strv_push (m->options, &m->options_len, "bind");
  m->options = strv_push (m->options, &m->options_len, "nosuid");
  m->options = strv_push (m->options, &m->options_len, "noexec");
  m->options = strv_push (m->options, &m->options_len, "nodev");
  oci_mount **ms = realloc (c->mounts, (c->mounts_len + 1) * sizeof *ms);
  if (ms == NULL)
    abort ();
  ms[c->mounts_len++] = m;
  c->mounts = ms;
  return 0;
}

/* Bind through /proc/self/fd/N: the state path may exceed sun_path. */
static int
bind_at (int sock, int dirfd, const char *name, skiff_error_t *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  snprintf (addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dirfd, name);
  unlink (addr.sun_path);
  if (bind (sock, (struct sockaddr *)&addr, sizeof addr) < 0)
    return skiff_error (err, errno, "NOTIFY_SOCKET: bind");
  /* Any user of the container may notify. */
  chmod (addr.sun_path, 0777);
  return 0;
}

int
notify_listen (struct state_dir *sd, skiff_error_t *err)
{
  cleanup_close int dir = openat (sd->dir_fd, "notify", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return errno == ENOENT ? -2 : skiff_error (err, errno, "NOTIFY_SOCKET: open");
  cleanup_close int s = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return skiff_error (err, errno, "NOTIFY_SOCKET: socket");
  if (bind_at (s, dir, "notify.sock", err) < 0)
    return -1;
  return steal_fd (&s);
}

static int
forward (const char *host_path, const char *msg, size_t len, skiff_error_t *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  if (host_path == NULL || strlen (host_path) >= sizeof addr.sun_path)
    return skiff_error (err, EINVAL, "NOTIFY_SOCKET `%s`", host_path ? host_path : "");
  memcpy (addr.sun_path, host_path, strlen (host_path) + 1);
  cleanup_close int s = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0 || sendto (s, msg, len, 0, (struct sockaddr *)&addr, sizeof addr) < 0)
    return skiff_error (err, errno, "NOTIFY_SOCKET: send to `%s`", host_path);
  return 0;
}

static bool
has_ready (const char *msg)
{
  for (const char *p = msg; p && *p; p = strchr (p, '\n') ? strchr (p, '\n') + 1 : NULL)
    if (strncmp (p, "READY=1", 7) == 0 && (p[7] == '\n' || p[7] == '\0'))
      return true;
  return false;
}

int
notify_wait_ready (int fd, const skiff_status *st, const char *host_path, skiff_error_t *err)
{
  char buf[4096];
  for (;;)
    {
      struct pollfd p = { .fd = fd, .events = POLLIN };
      if (poll (&p, 1, 100) == 0)
        {
          /* Nothing more will come: start succeeds, and run reports the
             exit status, as with runc. */
          if (!state_process_alive (st))
            {
              skiff_debug ("NOTIFY_SOCKET: the container exited before READY=1");
              return 0;
            }
          continue;
        }
      ssize_t n = recv (fd, buf, sizeof buf - 1, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return skiff_error (err, errno, "NOTIFY_SOCKET: receive");
      buf[n] = '\0';
      if (has_ready (buf))
        return forward (host_path, buf, (size_t)n, err);
    }
}

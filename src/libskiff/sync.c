#include "config.h"
#include "sync.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"

static const char *const sync_names[] = {
  [SYNC_GO] = "go",
  [SYNC_USERNS_READY] = "userns-ready",
  [SYNC_MAPS_DONE] = "maps-done",
  [SYNC_PID] = "pid",
  [SYNC_RUN_HOOKS] = "run-hooks",
  [SYNC_HOOKS_DONE] = "hooks-done",
  [SYNC_CONSOLE] = "console",
  [SYNC_SECCOMP_FD] = "seccomp-fd",
  [SYNC_READY] = "ready",
  [SYNC_STATE] = "state",
  [SYNC_ERROR] = "error",
};

static const char *
sync_name (uint32_t t)
{
  if (t < sizeof sync_names / sizeof *sync_names && sync_names[t])
    return sync_names[t];
  return "unknown";
}

static int
send_msg (int fd, const struct sync_msg *hdr, const void *payload, int passed_fd,
          skiff_error_t *err)
{
  char buf[sizeof *hdr + SYNC_MAX_PAYLOAD];
  union
  {
    char raw[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } ctl;
  size_t len = sizeof *hdr + hdr->len;
  struct iovec iov = { .iov_base = buf, .iov_len = len };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

  memcpy (buf, hdr, sizeof *hdr);
  if (hdr->len)
    memcpy (buf + sizeof *hdr, payload, hdr->len);
  if (passed_fd >= 0)
    {
      memset (&ctl, 0, sizeof ctl);
      msg.msg_control = ctl.raw;
      msg.msg_controllen = sizeof ctl.raw;
      struct cmsghdr *c = CMSG_FIRSTHDR (&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN (sizeof (int));
      memcpy (CMSG_DATA (c), &passed_fd, sizeof (int));
    }
  ssize_t r;
  do
    r = sendmsg (fd, &msg, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return skiff_error (err, errno, "sync: send `%s`", sync_name (hdr->type));
  return 0;
}

int
sync_send (int fd, enum sync_type type, const void *payload, size_t len, skiff_error_t *err)
{
  if (len > SYNC_MAX_PAYLOAD)
    len = SYNC_MAX_PAYLOAD;
  struct sync_msg hdr = { .type = type, .len = (uint32_t)len };
  return send_msg (fd, &hdr, payload, -1, err);
}

int
sync_send_fd (int fd, enum sync_type type, int passed_fd, skiff_error_t *err)
{
  struct sync_msg hdr = { .type = type };
  return send_msg (fd, &hdr, NULL, passed_fd, err);
}

void
sync_send_error (int fd, skiff_error_t *err)
{
  const char *m = (err && *err) ? (*err)->msg : "unknown error";
  struct sync_msg hdr = { .type = SYNC_ERROR, .errno_ = err && *err ? (*err)->errno_ : 0 };
  size_t len = strlen (m);
  hdr.len = (uint32_t)(len > SYNC_MAX_PAYLOAD ? SYNC_MAX_PAYLOAD : len);
  send_msg (fd, &hdr, m, -1, NULL);
}

static int
take_fd (struct msghdr *msg, int *fd_out)
{
  int got = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR (msg); c; c = CMSG_NXTHDR (msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      memcpy (&got, CMSG_DATA (c), sizeof (int));
  if (fd_out)
    *fd_out = got;
  else if (got >= 0)
    close (got);
  return got;
}

int
sync_expect (int fd, enum sync_type type, void *payload, size_t *len, int *fd_out,
             skiff_error_t *err)
{
  char buf[sizeof (struct sync_msg) + SYNC_MAX_PAYLOAD + 1];
  union
  {
    char raw[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } ctl;
  struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf - 1 };
  struct msghdr msg = {
    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.raw, .msg_controllen = sizeof ctl.raw
  };
  struct sync_msg hdr;
  ssize_t r;

  if (fd_out)
    *fd_out = -1;
  do
    r = recvmsg (fd, &msg, MSG_CMSG_CLOEXEC);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return skiff_error (err, errno, "sync: waiting for `%s`", sync_name (type));
  if (r == 0)
    return skiff_error (err, 0, "sync: the container process exited before `%s`", sync_name (type));
  if ((size_t)r < sizeof hdr)
    return skiff_error (err, EPROTO, "sync: short message");
  memcpy (&hdr, buf, sizeof hdr);
  take_fd (&msg, fd_out);
  if (hdr.type == SYNC_ERROR)
    {
      buf[r] = '\0';
      return skiff_error_from_msg (err, SKIFF_ERR_GENERIC, hdr.errno_, buf + sizeof hdr);
    }
  if (hdr.type != (uint32_t)type)
    return skiff_error (err, EPROTO, "sync: expected `%s`, got `%s`", sync_name (type),
                        sync_name (hdr.type));
  size_t n = (size_t)r - sizeof hdr;
  if (payload && len)
    {
      if (n > *len)
        n = *len;
      memcpy (payload, buf + sizeof hdr, n);
      *len = n;
    }
  return 0;
}

int
send_fd_unix (int sock, int fd, const char *name, skiff_error_t *err)
{
  union
  {
    char raw[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } ctl;
  struct iovec iov = { .iov_base = (void *)name, .iov_len = strlen (name) };
  struct msghdr msg = {
    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.raw, .msg_controllen = sizeof ctl.raw
  };
  memset (&ctl, 0, sizeof ctl);
  struct cmsghdr *c = CMSG_FIRSTHDR (&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (c), &fd, sizeof (int));
  ssize_t r;
  do
    r = sendmsg (sock, &msg, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return skiff_error (err, errno, "send the console to the console socket");
  return 0;
}

int
sync_expect_exec (int fd, skiff_error_t *err)
{
  char buf[sizeof (struct sync_msg) + SYNC_MAX_PAYLOAD + 1];
  struct sync_msg hdr;
  ssize_t r;
  do
    r = recv (fd, buf, sizeof buf - 1, 0);
  while (r < 0 && errno == EINTR);
  if (r == 0)
    return 0; /* the socket closed on exec */
  if (r < 0)
    return skiff_error (err, errno, "sync: waiting for exec");
  if ((size_t)r < sizeof hdr)
    return skiff_error (err, EPROTO, "sync: short message");
  memcpy (&hdr, buf, sizeof hdr);
  buf[r] = '\0';
  if (hdr.type == SYNC_ERROR)
    return skiff_error_from_msg (err, SKIFF_ERR_GENERIC, hdr.errno_, buf + sizeof hdr);
  return skiff_error (err, EPROTO, "sync: unexpected `%s` before exec", sync_name (hdr.type));
}

int
send_fd_to_path (const char *flag, const char *path, int fd, const char *name, skiff_error_t *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  if (strlen (path) >= sizeof addr.sun_path)
    return skiff_error (err, ENAMETOOLONG, "%s `%s`", flag, path);
  memcpy (addr.sun_path, path, strlen (path) + 1);
  cleanup_close int sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0)
    return skiff_error (err, errno, "%s: socket", flag);
  if (connect (sock, (struct sockaddr *)&addr, sizeof addr) < 0)
    return skiff_error (err, errno, "%s: connect `%s`", flag, path);
  if (send_fd_unix (sock, fd, name, err) < 0)
    return skiff_error_wrap (err, "%s `%s`", flag, path);
  return 0;
}

int
send_pidfd_to_path (const char *path, pid_t pid, skiff_error_t *err)
{
  cleanup_close int fd = (int)syscall (SYS_pidfd_open, pid, 0);
  if (fd < 0)
    return skiff_error (err, errno, "--pidfd-socket: pidfd_open %d", (int)pid);
  return send_fd_to_path ("--pidfd-socket", path, fd, "pidfd", err);
}

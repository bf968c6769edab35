#include "config.h"
#include "terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "rootfs.h"
#include "sync.h"

int
terminal_setup_in_container (const oci_process *p, bool bind_console, skiff_error_t *err)
{
  cleanup_close int master = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return skiff_error (err, errno, "process.terminal: open /dev/ptmx");
  if (unlockpt (master) < 0)
    return skiff_error (err, errno, "process.terminal: unlockpt");
  /* TIOCGPTPEER opens the peer of this very master: no path in /dev/pts
     that the image could have planted is involved. */
  cleanup_close int slave = ioctl (master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    return skiff_error (err, errno, "process.terminal: open the pty peer");
  if (p->console_size)
    {
      struct winsize ws = { .ws_row = (unsigned short)p->console_size->height,
                            .ws_col = (unsigned short)p->console_size->width };
      if (ioctl (slave, TIOCSWINSZ, &ws) < 0)
        return skiff_error (err, errno, "process.consoleSize");
    }
  if (bind_console && rootfs_bind_console (slave, err) < 0)
    return -1;
  /* The init and exec's process lead their own session already. */
  if (getsid (0) != getpid () && setsid () < 0)
    return skiff_error (err, errno, "setsid");
  if (ioctl (slave, TIOCSCTTY, 0) < 0)
    return skiff_error (err, errno, "process.terminal: set controlling terminal");
  for (int fd = 0; fd < 3; fd++)
    if (dup2 (slave, fd) < 0)
      return skiff_error (err, errno, "process.terminal: dup2");
  return steal_fd (&master);
}

int
terminal_send_to_socket (const char *path, int master, skiff_error_t *err)
{
  return send_fd_to_path ("--console-socket", path, master, "/dev/ptmx", err);
}

struct terminal_proxy
{
  int master;
  bool stdin_done;
  bool raw;
  struct termios saved;
  struct winsize last;
};

static void
sync_winsize (struct terminal_proxy *t)
{
  struct winsize ws;
  if (ioctl (STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
    return;
  if (ws.ws_row == t->last.ws_row && ws.ws_col == t->last.ws_col)
    return;
  t->last = ws;
  ioctl (t->master, TIOCSWINSZ, &ws);
}

int
terminal_proxy_start (int master, struct terminal_proxy **out, skiff_error_t *err)
{
  struct terminal_proxy *t = calloc (1, sizeof *t);
  if (t == NULL)
    abort ();
  t->master = master;
  if (isatty (STDIN_FILENO) && tcgetattr (STDIN_FILENO, &t->saved) == 0)
    {
      struct termios raw = t->saved;
      cfmakeraw (&raw);
      raw.c_oflag |= OPOST; /* keep our own output readable */
      if (tcsetattr (STDIN_FILENO, TCSANOW, &raw) == 0)
        t->raw = true;
      sync_winsize (t);
    }
  (void)err;
  *out = t;
  return 0;
}

static int
copy_once (int from, int to)
{
  char buf[4096];
  ssize_t n = read (from, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return 0;
  if (n <= 0)
    return -1;
  return write_all_fd (to, buf, (size_t)n) < 0 ? -1 : 0;
}

int
terminal_proxy_pump (struct terminal_proxy *t, int timeout_ms)
{
  struct pollfd p[2]
      = { { .fd = t->master, .events = POLLIN }, { .fd = STDIN_FILENO, .events = POLLIN } };
  nfds_t n = t->stdin_done ? 1 : 2;
  if (t->raw)
    sync_winsize (t);
  int r = poll (p, n, timeout_ms);
  if (r <= 0)
    return 0;
  if (p[0].revents & POLLIN)
    {
      if (copy_once (t->master, STDOUT_FILENO) < 0)
        return 1;
    }
  else if (p[0].revents & (POLLHUP | POLLERR))
    return 1;
  if (n == 2 && (p[1].revents & (POLLIN | POLLHUP)))
    if (copy_once (STDIN_FILENO, t->master) < 0)
      t->stdin_done = true; /* our stdin ended: keep showing output */
  return 0;
}

void
terminal_proxy_stop (struct terminal_proxy *t)
{
  if (t == NULL)
    return;
  /* Show what is still buffered in the pty. */
  while (terminal_proxy_pump (t, 0) == 0)
    {
      struct pollfd p = { .fd = t->master, .events = POLLIN };
      if (poll (&p, 1, 0) <= 0 || !(p.revents & POLLIN))
        break;
    }
  if (t->raw)
    tcsetattr (STDIN_FILENO, TCSANOW, &t->saved);
  free (t);
}

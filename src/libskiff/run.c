/* run: create and start in the foreground, forward signals to the init,
   proxy its terminal, and exit with its status. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "container.h"
#include "log.h"
#include "skiff.h"
#include "terminal.h"

static int
status_code (int wstatus)
{
  if (WIFEXITED (wstatus))
    return WEXITSTATUS (wstatus);
  if (WIFSIGNALED (wstatus))
    return 128 + WTERMSIG (wstatus);
  return 255;
}

/* Reap children; returns true when `pid` has exited. */
static bool
reap (pid_t pid, int *status)
{
  int ws;
  pid_t r;
  bool done = false;
  while ((r = waitpid (-1, &ws, WNOHANG)) > 0)
    if (r == pid)
      {
        *status = status_code (ws);
        done = true;
      }
  return done;
}

int
skiff_wait_forwarding (pid_t pid, int console, int sfd, int *status)
{
  struct terminal_proxy *proxy = NULL;
  bool done = false;
  if (console >= 0)
    terminal_proxy_start (console, &proxy, NULL);
  while (!done)
    {
      struct pollfd p = { .fd = sfd, .events = POLLIN };
      if (proxy)
        {
          if (terminal_proxy_pump (proxy, 0) != 0 && console >= 0)
            {
              /* pty closed: the process is ending; keep waiting for it */
            }
        }
      int r = poll (&p, 1, proxy ? 20 : -1);
      if (r <= 0)
        continue;
      struct signalfd_siginfo si;
      if (read (sfd, &si, sizeof si) != sizeof si)
        continue;
      if (si.ssi_signo == SIGCHLD)
        done = reap (pid, status);
      else if (si.ssi_signo != SIGWINCH)
        kill (pid, (int)si.ssi_signo);
    }
  terminal_proxy_stop (proxy);
  return 0;
}

/* Signals we forward; blocked before the init exists so none is lost. */
int
skiff_block_signals (sigset_t *old)
{
  sigset_t set;
  sigfillset (&set);
  sigdelset (&set, SIGSEGV);
  sigdelset (&set, SIGBUS);
  sigdelset (&set, SIGILL);
  sigdelset (&set, SIGFPE);
  sigprocmask (SIG_BLOCK, &set, old);
  return signalfd (-1, &set, SFD_CLOEXEC);
}

int
skiff_container_run (struct skiff_context *ctx, const char *id,
                     const struct skiff_create_opts *opts, const struct skiff_run_opts *run,
                     int *status, skiff_error_t *err)
{
  struct skiff_create_opts o = *opts;
  struct skiff_created created;
  sigset_t old;
  bool detach = run->detach, keep = run->keep;
  *status = 0;
  /* As runc: an attached run adopts what the container orphans outside
     its own pid namespace (a host-pid container's daemons) and reaps it
     with the rest of its children. */
  if (!detach && !run->no_subreaper && prctl (PR_SET_CHILD_SUBREAPER, 1) < 0)
    skiff_warn ("set child subreaper: %s", strerror (errno));
  o.foreground = !detach;
  if (detach)
    {
      if (skiff_container_create (ctx, id, &o, &created, err) < 0)
        return -1;
      if (skiff_container_start (ctx, id, err) < 0)
        {
          skiff_error_t e = NULL;
          skiff_container_delete (ctx, id, true, &e);
          skiff_error_free (&e);
          return -1;
        }
      return 0;
    }
  cleanup_close int sfd = skiff_block_signals (&old);
  if (skiff_container_create (ctx, id, &o, &created, err) < 0)
    {
      sigprocmask (SIG_SETMASK, &old, NULL);
      return -1;
    }
  int ret = skiff_container_start (ctx, id, err);
  if (ret == 0)
    skiff_wait_forwarding (created.pid, created.console, sfd, status);
  if (created.console >= 0)
    close (created.console);
  if (!keep || ret < 0)
    {
      skiff_error_t e = NULL;
      if (skiff_container_delete (ctx, id, true, &e) < 0)
        {
          skiff_warn ("%s", e->msg);
          skiff_error_free (&e);
        }
    }
  sigprocmask (SIG_SETMASK, &old, NULL);
  return ret;
}

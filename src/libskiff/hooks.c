#include "config.h"
#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"

#define STDERR_TAIL 512

static char **default_env;

void
hooks_default_env (char **env)
{
  default_env = env;
}

static void
exec_hook (const oci_hook *h, int in_fd, int err_fd, const char *cwd)
{
  char *default_args[] = { h->path, NULL };
  if (cwd && chdir (cwd) < 0)
    {
      /* keep going: a hook must not depend on where it starts */
    }
  dup2 (in_fd, STDIN_FILENO);
  dup2 (err_fd, STDERR_FILENO);
  /* Hooks get nothing of ours beyond stdio. */
  close_range (3, ~0U, 0);
  /* Without env, the hook gets ours, as with runc and crun (in the init:
     the container process's, see init.c). */
  execve (h->path, h->args_len ? strv_terminate (h->args, h->args_len) : default_args,
          h->env_len    ? strv_terminate (h->env, h->env_len)
          : default_env ? default_env
                        : environ);
  dprintf (STDERR_FILENO, "exec: %s", strerror (errno));
  _exit (127);
}

static long
ms_since (const struct timespec *t0)
{
  struct timespec now;
  clock_gettime (CLOCK_MONOTONIC, &now);
  return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

struct tail
{
  char buf[STDERR_TAIL + 1];
  size_t len;
};

static void
tail_add (struct tail *t, const char *buf, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      if (t->len == STDERR_TAIL)
        {
          memmove (t->buf, t->buf + 1, STDERR_TAIL - 1);
          t->len--;
        }
      t->buf[t->len++] = buf[i];
    }
}

/* Write what the pipe takes now; done (closed) once all is written or the
   hook no longer reads: a hook need not read its stdin (EPIPE). */
static void
feed (int *in_w, const char **state, size_t *left)
{
  ssize_t w = write (*in_w, *state, *left);
  if (w < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (w > 0)
    {
      *state += w;
      *left -= (size_t)w;
    }
  if (w < 0 || *left == 0)
    close (steal_fd (in_w));
}

/* Give the hook its state on stdin while collecting its stderr (keeping the
   tail) until both are done; 0, ETIMEDOUT at the deadline, or poll's errno.
   Both at once: a hook may write much to stderr before it reads. */
static int
exchange (int *in_w, const char *state, int *err_r, long timeout_ms, struct tail *t)
{
  struct timespec t0;
  size_t left = strlen (state);
  clock_gettime (CLOCK_MONOTONIC, &t0);
  while (*in_w >= 0 || *err_r >= 0)
    {
      long ms = timeout_ms > 0 ? timeout_ms - ms_since (&t0) : -1;
      if (timeout_ms > 0 && ms <= 0)
        return ETIMEDOUT;
      struct pollfd p[2]
          = { { .fd = *err_r, .events = POLLIN }, { .fd = *in_w, .events = POLLOUT } };
      int r = poll (p, 2, (int)ms);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return errno;
      if (r == 0)
        return ETIMEDOUT;
      if (p[1].revents)
        feed (in_w, &state, &left);
      if (p[0].revents)
        {
          char buf[1024];
          ssize_t n = read (*err_r, buf, sizeof buf);
          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            close (steal_fd (err_r));
          else
            tail_add (t, buf, (size_t)n);
        }
    }
  return 0;
}

/* exchange() with SIGPIPE blocked, so that writing to a hook that exited
   without reading is EPIPE, not our death; a SIGPIPE this raised is
   dropped.  Not SIG_IGN: an ignored signal stays ignored across execve, and
   the init runs hooks too. */
static int
exchange_nopipe (int *in_w, const char *state, int *err_r, long timeout_ms, struct tail *t)
{
  sigset_t pipe_set, old, pending;
  sigemptyset (&pipe_set);
  sigaddset (&pipe_set, SIGPIPE);
  sigprocmask (SIG_BLOCK, &pipe_set, &old);
  bool was_pending = sigpending (&pending) == 0 && sigismember (&pending, SIGPIPE);
  int r = exchange (in_w, state, err_r, timeout_ms, t);
  if (!was_pending)
    {
      const struct timespec zero = { 0, 0 };
      while (sigtimedwait (&pipe_set, NULL, &zero) < 0 && errno == EINTR)
        ;
    }
  sigprocmask (SIG_SETMASK, &old, NULL);
  return r;
}

int
hooks_run_one (const char *phase, size_t idx, const oci_hook *h, const char *state, const char *cwd,
               skiff_error_t *err)
{
  int in[2], errp[2];
  struct tail t = { .len = 0 };
  if (pipe2 (in, O_CLOEXEC) < 0)
    return skiff_error (err, errno, "hooks.%s[%zu]: pipe", phase, idx);
  if (pipe2 (errp, O_CLOEXEC) < 0)
    {
      close (in[0]);
      close (in[1]);
      return skiff_error (err, errno, "hooks.%s[%zu]: pipe", phase, idx);
    }
  cleanup_close int in_w = in[1], err_r = errp[0];
  /* Our end only: the hook's stdin stays blocking. */
  if (fcntl (in_w, F_SETFL, O_NONBLOCK) < 0)
    {
      close (in[0]);
      close (errp[1]);
      return skiff_error (err, errno, "hooks.%s[%zu]: pipe", phase, idx);
    }
  pid_t pid = fork ();
  if (pid < 0)
    {
      close (in[0]);
      close (errp[1]);
      return skiff_error (err, errno, "hooks.%s[%zu]: fork", phase, idx);
    }
  if (pid == 0)
    exec_hook (h, in[0], errp[1], cwd);
  close (in[0]);
  close (errp[1]);

  long timeout_ms = h->timeout_present ? (long)h->timeout * 1000 : 0;
  int failed = exchange_nopipe (&in_w, state, &err_r, timeout_ms, &t);
  int status = 0;
  if (failed)
    kill (pid, SIGKILL);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  while (t.len && (t.buf[t.len - 1] == '\n' || t.buf[t.len - 1] == ' '))
    t.len--;
  t.buf[t.len] = '\0';
  const char *sep = t.len ? ": " : "";
  if (failed == ETIMEDOUT)
    return skiff_error (err, 0, "hooks.%s[%zu] `%s`: timed out after %lds%s%s", phase, idx, h->path,
                        (long)h->timeout, sep, t.buf);
  if (failed)
    return skiff_error (err, failed, "hooks.%s[%zu] `%s`: poll", phase, idx, h->path);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  char how[64];
  if (WIFEXITED (status))
    snprintf (how, sizeof how, "exit status %d", WEXITSTATUS (status));
  else
    snprintf (how, sizeof how, "killed by signal %d", WTERMSIG (status));
  return skiff_error (err, 0, "hooks.%s[%zu] `%s`: %s%s%s", phase, idx, h->path, how, sep, t.buf);
}

int
hooks_run (const char *phase, oci_hook **hooks, size_t n, const char *state_json, const char *cwd,
           skiff_error_t *err)
{
  for (size_t i = 0; i < n; i++)
    if (hooks_run_one (phase, i, hooks[i], state_json, cwd, err) < 0)
      return -1;
  return 0;
}

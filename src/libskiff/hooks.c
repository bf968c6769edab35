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
  execve (h->path, h->args_len ? strv_terminate (h->args, h->args_len) : default_args,
          strv_terminate (h->env, h->env_len));
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

/* Collect stderr (keeping the tail) until EOF or the deadline. */
static bool
drain_until (int fd, long timeout_ms, char *tail, size_t *tail_len)
{
  struct timespec t0;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  for (;;)
    {
      long left = timeout_ms > 0 ? timeout_ms - ms_since (&t0) : -1;
      if (timeout_ms > 0 && left <= 0)
        return false;
      struct pollfd p = { .fd = fd, .events = POLLIN };
      int r = poll (&p, 1, (int)left);
      if (r < 0 && errno == EINTR)
        continue;
      if (r == 0)
        return false;
      char buf[1024];
      ssize_t n = read (fd, buf, sizeof buf);
      if (n <= 0)
        return true;
      for (ssize_t i = 0; i < n; i++)
        {
          if (*tail_len == STDERR_TAIL)
            {
              memmove (tail, tail + 1, STDERR_TAIL - 1);
              (*tail_len)--;
            }
          tail[(*tail_len)++] = buf[i];
        }
    }
}

static int
run_one (const char *phase, size_t idx, const oci_hook *h, const char *state, const char *cwd,
         skiff_error_t *err)
{
  int in[2], errp[2];
  char tail[STDERR_TAIL + 1];
  size_t tail_len = 0;
  if (pipe2 (in, O_CLOEXEC) < 0)
    return skiff_error (err, errno, "hooks.%s[%zu]: pipe", phase, idx);
  if (pipe2 (errp, O_CLOEXEC) < 0)
    {
      close (in[0]);
      close (in[1]);
      return skiff_error (err, errno, "hooks.%s[%zu]: pipe", phase, idx);
    }
  cleanup_close int in_w = in[1], err_r = errp[0];
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
  /* A hook that does not read stdin must not block us: ignore EPIPE. */
  write_all_fd (in_w, state, strlen (state));
  close (steal_fd (&in_w));

  long timeout_ms = h->timeout_present ? (long)h->timeout * 1000 : 0;
  bool finished = drain_until (err_r, timeout_ms, tail, &tail_len);
  int status = 0;
  if (!finished)
    kill (pid, SIGKILL);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  while (tail_len && (tail[tail_len - 1] == '\n' || tail[tail_len - 1] == ' '))
    tail_len--;
  tail[tail_len] = '\0';
  if (!finished)
    return skiff_error (err, 0, "hooks.%s[%zu] `%s`: timed out after %lds%s%s", phase, idx, h->path,
                        (long)h->timeout, tail_len ? ": " : "", tail);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  char how[64];
  if (WIFEXITED (status))
    snprintf (how, sizeof how, "exit status %d", WEXITSTATUS (status));
  else
    snprintf (how, sizeof how, "killed by signal %d", WTERMSIG (status));
  return skiff_error (err, 0, "hooks.%s[%zu] `%s`: %s%s%s", phase, idx, h->path, how,
                      tail_len ? ": " : "", tail);
}

int
hooks_run (const char *phase, oci_hook **hooks, size_t n, const char *state_json, const char *cwd,
           skiff_error_t *err)
{
  for (size_t i = 0; i < n; i++)
    if (run_one (phase, i, hooks[i], state_json, cwd, err) < 0)
      return -1;
  return 0;
}

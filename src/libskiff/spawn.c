/* The runtime side of create: clone the container's first process and
   serve it over the sync socket until it waits for `start`. */
#include "config.h"
#include "spawn.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "process.h"
#include "seccomp.h"
#include "sync.h"
#include "userns.h"

static void
kill_and_reap (pid_t pid)
{
  if (pid <= 0)
    return;
  kill (pid, SIGKILL);
  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
}

static int
write_maps (struct create_job *job, pid_t pid, skiff_error_t *err)
{
  if (userns_write_maps (pid, job->config->linux, err) < 0)
    return skiff_error_wrap (err, "user namespace");
  return 0;
}

/* Two-stage: the intermediate may ask for maps, then reports the init.
   Once reaped, *mid is 0: its pid may belong to another process by the
   time a later failure would kill it. */
static int
serve_intermediate (struct create_job *job, const struct spawn_callbacks *cb, pid_t *midp,
                    pid_t *init, skiff_error_t *err)
{
  pid_t mid = *midp;
  int32_t p = 0;
  size_t len = sizeof p;
  if (job->ns.new_flags & CLONE_NEWUSER)
    {
      if (sync_expect (job->sync_fd, SYNC_USERNS_READY, NULL, NULL, NULL, err) < 0
          || write_maps (job, mid, err) < 0
          || sync_send (job->sync_fd, SYNC_MAPS_DONE, NULL, 0, err) < 0)
        return -1;
    }
  if (sync_expect (job->sync_fd, SYNC_PID, &p, &len, NULL, err) < 0)
    return -1;
  *init = p;
  int status = 0;
  while (waitpid (mid, &status, 0) < 0 && errno == EINTR)
    ;
  *midp = 0;
  if (cb->setup_network (cb->data, *init, err) < 0)
    return -1;
  return sync_send (job->sync_fd, SYNC_GO, NULL, 0, err);
}

static int
pass_notify_fd (struct create_job *job, const struct spawn_callbacks *cb, pid_t init,
                skiff_error_t *err)
{
  cleanup_close int fd = -1;
  if (sync_expect (job->sync_fd, SYNC_SECCOMP_FD, NULL, NULL, &fd, err) < 0)
    return -1;
  cleanup_free char *state = cb->state_json (cb->data, init, "creating");
  return seccomp_send_notify_fd (job->config->linux->seccomp, fd, state, err);
}

static int
serve_init (struct create_job *job, const struct spawn_callbacks *cb, pid_t init,
            struct spawn_result *out, skiff_error_t *err)
{
  if (job->needs_state)
    {
      cleanup_free char *creating = cb->state_json (cb->data, init, "creating");
      cleanup_free char *created = cb->state_json (cb->data, init, "created");
      size_t a = strlen (creating), b = strlen (created);
      cleanup_free char *both = malloc (a + b + 2);
      if (both == NULL)
        abort ();
      memcpy (both, creating, a + 1);
      memcpy (both + a + 1, created, b + 1);
      if (a + b + 2 > SYNC_MAX_PAYLOAD)
        return skiff_error (err, E2BIG, "container state too large for the hooks");
      if (sync_send (job->sync_fd, SYNC_STATE, both, a + b + 2, err) < 0)
        return -1;
    }
  if (job->run_hooks_sync)
    {
      if (sync_expect (job->sync_fd, SYNC_RUN_HOOKS, NULL, NULL, NULL, err) < 0)
        return -1;
      if (cb->run_runtime_hooks (cb->data, init, err) < 0)
        return -1;
      if (sync_send (job->sync_fd, SYNC_HOOKS_DONE, NULL, 0, err) < 0)
        return -1;
    }
  if (job->config->process && job->config->process->terminal
      && sync_expect (job->sync_fd, SYNC_CONSOLE, NULL, NULL, &out->console, err) < 0)
    return -1;
  if (seccomp_prog_notifies (job->seccomp) && pass_notify_fd (job, cb, init, err) < 0)
    return -1;
  return sync_expect (job->sync_fd, SYNC_READY, NULL, NULL, NULL, err);
}

int
spawn_container (struct create_job *job, const struct spawn_callbacks *cb, struct spawn_result *out,
                 skiff_error_t *err)
{
  int sp[2];
  pid_t child, init = -1;
  out->pid = -1;
  out->console = -1;
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
    return skiff_error (err, errno, "socketpair");
  job->sync_fd = sp[1];
  unsigned long long t0 = skiff_now_ns ();
  /* The cgroup namespace is made by the child once it is in its cgroup:
     the namespace's root is the cgroup it was created in. */
  bool born_in;
  child = process_clone (job->two_stage ? 0 : job->ns.new_flags & ~CLONE_NEWCGROUP, job->cgroup_fd,
                         &born_in);
  if (child < 0)
    {
      int e = errno;
      close (sp[0]);
      close (sp[1]);
      return skiff_error (err, e, "clone the container process");
    }
  if (child == 0)
    {
      close (sp[0]);
      init_main (job);
    }
  close (sp[1]);
  skiff_debug_phase ("clone", t0);
  cleanup_close int sync_fd = sp[0];
  job->sync_fd = sync_fd;
  t0 = skiff_now_ns ();
  if (cb->enter_cgroup (cb->data, child, born_in, err) < 0)
    goto fail;
  skiff_debug_phase ("cgroup (join)", t0);
  if (born_in)
    skiff_debug ("the init was born in its cgroup (clone3 with CLONE_INTO_CGROUP)");
  t0 = skiff_now_ns ();
  if (!job->two_stage && (job->ns.new_flags & CLONE_NEWUSER) && write_maps (job, child, err) < 0)
    goto fail;
  if (!job->two_stage && (job->ns.new_flags & CLONE_NEWUSER))
    skiff_debug_phase ("namespaces (id maps)", t0);
  /* The namespaces of a single-stage init exist from the clone; a
     two-stage one's once the intermediate reports it. */
  if (!job->two_stage && cb->setup_network (cb->data, child, err) < 0)
    goto fail;
  if (sync_send (sync_fd, SYNC_GO, NULL, 0, err) < 0)
    goto fail;
  if (job->two_stage)
    {
      if (serve_intermediate (job, cb, &child, &init, err) < 0)
        goto fail;
    }
  else
    init = child;
  t0 = skiff_now_ns ();
  if (serve_init (job, cb, init, out, err) < 0)
    goto fail;
  skiff_debug_phase ("container setup (total, in the init)", t0);
  out->pid = init;
  return 0;
fail:
  if (out->console >= 0)
    close (out->console);
  out->console = -1;
  if (init > 0 && init != child)
    kill_and_reap (init);
  kill_and_reap (child); /* 0 once reaped */
  return -1;
}

/* The container side of create: runs in the cloned process, sets the
   container up in a fixed order, waits for `start` on the exec fifo and
   execs the user process.  Any error goes back to the runtime over the
   sync socket with its real cause, and the process exits. */
#include "config.h"
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "hooks.h"
#include "label.h"
#include "log.h"
#include "netdevices.h"
#include "process.h"
#include "rootfs.h"
#include "seccomp.h"
#include "sync.h"
#include "sysctl.h"
#include "terminal.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Test-only fault injection.  SKIFF_TEST_FAIL_AT=<step> makes that step
   fail; SKIFF_TEST_KILL_AT=<step> SIGKILLs the runtime there (from the
   runtime itself, or from the container side by killing its parent), as a
   user's `kill -9` would. */
static bool fault_in_container;

int
fault_inject (const char *step, skiff_error_t *err)
{
  const char *fail = getenv ("SKIFF_TEST_FAIL_AT"), *kill_at = getenv ("SKIFF_TEST_KILL_AT");
  if (kill_at && strcmp (kill_at, step) == 0)
    {
      if (!fault_in_container)
        raise (SIGKILL);
      kill (getppid (), SIGKILL);
    }
  if (fail == NULL || strcmp (fail, step) != 0)
    return 0;
  return skiff_error (err, EIO, "fault injected at `%s`", step);
}

static __attribute__ ((noreturn)) void
init_fail (struct create_job *job, skiff_error_t *err)
{
  sync_send_error (job->sync_fd, err);
  _exit (1);
}

static int
write_time_offsets (const oci_linux *l, skiff_error_t *err)
{
  if (l->time_offsets == NULL)
    return 0;
  cleanup_close int fd = open ("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return skiff_error (err, errno, "linux.timeOffsets: open timens_offsets");
  for (size_t i = 0; i < l->time_offsets->len; i++)
    {
      char line[128];
      const oci_time_offset *o = l->time_offsets->values[i];
      int n = snprintf (line, sizeof line, "%s %lld %u\n", l->time_offsets->keys[i],
                        (long long)o->secs, (unsigned)o->nanosecs);
      if (write (fd, line, (size_t)n) < 0)
        return skiff_error (err, errno, "linux.timeOffsets[\"%s\"]", l->time_offsets->keys[i]);
    }
  return 0;
}

/* Two-stage path: join namespaces by path, unshare the new ones, and fork
   the real init when a pid or time namespace only applies to children.
   Returns in the process that goes on as the init. */
static void
stage_namespaces (struct create_job *job)
{
  skiff_error_t err = NULL;
  int flags = job->ns.new_flags;
  /* dumpable until here (init_main), not inside joined namespaces */
  prctl (PR_SET_DUMPABLE, 0);
  if (ns_join_all (&job->ns, &err) < 0)
    init_fail (job, &err);
  if (flags & CLONE_NEWUSER)
    {
      if (unshare (CLONE_NEWUSER) < 0)
        {
          skiff_error (&err, errno, "unshare user namespace");
          init_fail (job, &err);
        }
      /* While the runtime writes the maps and we write the time
         offsets: see init_main. */
      prctl (PR_SET_DUMPABLE, 1);
      if (sync_send (job->sync_fd, SYNC_USERNS_READY, NULL, 0, &err) < 0
          || sync_expect (job->sync_fd, SYNC_MAPS_DONE, NULL, NULL, NULL, &err) < 0)
        init_fail (job, &err);
    }
  if (unshare (flags & ~CLONE_NEWUSER) < 0)
    {
      skiff_error (&err, errno, "unshare namespaces");
      init_fail (job, &err);
    }
  if ((flags & CLONE_NEWTIME) && write_time_offsets (job->config->linux, &err) < 0)
    init_fail (job, &err);
  prctl (PR_SET_DUMPABLE, 0);
  /* The init becomes the runtime's child (CLONE_PARENT), so `run` can wait
     for it like any direct child. */
  pid_t pid = (pid_t)syscall (SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
  if (pid < 0)
    {
      skiff_error (&err, errno, "fork the container init");
      init_fail (job, &err);
    }
  if (pid > 0)
    {
      int32_t p = pid;
      sync_send (job->sync_fd, SYNC_PID, &p, sizeof p, NULL);
      _exit (0);
    }
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (sync_expect (job->sync_fd, SYNC_GO, NULL, NULL, NULL, &err) < 0)
    _exit (1);
}

static int
receive_state (struct create_job *job, skiff_error_t *err)
{
  char *buf = malloc (SYNC_MAX_PAYLOAD + 1);
  size_t len = SYNC_MAX_PAYLOAD;
  if (buf == NULL)
    abort ();
  if (sync_expect (job->sync_fd, SYNC_STATE, buf, &len, NULL, err) < 0)
    {
      free (buf);
      return -1;
    }
  /* Two documents: status "creating", then status "created". */
  buf[len] = '\0';
  job->state_json = buf;
  size_t first = strlen (buf);
  job->state_json_created = first < len ? buf + first + 1 : buf;
  return 0;
}

/* LISTEN_PID names the process that gets the sockets: us, as the
   container sees it. */
static void
fix_listen_pid (char **env)
{
  static char buf[32];
  for (size_t i = 0; env && env[i]; i++)
    if (strncmp (env[i], "LISTEN_PID=", 11) == 0)
      {
        snprintf (buf, sizeof buf, "LISTEN_PID=%d", (int)getpid ());
        env[i] = buf;
      }
}

static int
set_names (const oci_config *c, skiff_error_t *err)
{
  if (c->hostname && sethostname (c->hostname, strlen (c->hostname)) < 0)
    return skiff_error (err, errno, "hostname `%s`", c->hostname);
  if (c->domainname && setdomainname (c->domainname, strlen (c->domainname)) < 0)
    return skiff_error (err, errno, "domainname `%s`", c->domainname);
  return 0;
}

/* Before the rootfs: everything that uses the host's /proc or privilege. */
static int
setup_early (struct create_job *job, skiff_error_t *err)
{
  const oci_config *c = job->config;
  if (job->ns.new_flags & CLONE_NEWUSER || ns_plan_has (&job->ns, CLONE_NEWUSER))
    if (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0)
      return skiff_error (err, errno, "become root in the user namespace");
  if (fault_inject ("init-early", err) < 0)
    return -1;
  if (set_names (c, err) < 0
      || (!job->no_new_keyring && process_join_session_keyring (c->process, job->id, err) < 0))
    return -1;
  /* A network namespace of our own starts with lo down (as runc and crun,
     not one joined by path: that one is its owner's). */
  if ((job->ns.new_flags & CLONE_NEWNET) && netdev_loopback_up (err) < 0)
    return -1;
  if (sysctl_apply (c->linux, err) < 0)
    return -1;
  /* In the cgroup (and so its cpuset), before anything the process
     inherits: the policy is the task's, kept across fork and execve. */
  if (mempolicy_apply (&job->mempolicy, err) < 0)
    return -1;
  if (c->process && process_apply_early (c->process, err) < 0)
    return -1;
  return process_apply_personality (c->linux, err);
}

static int
setup_rootfs (struct create_job *job, skiff_error_t *err)
{
  const oci_config *c = job->config;
  unsigned long long t0 = skiff_now_ns ();
  if (rootfs_setup (&job->rootfs_spec, &job->mounts, err) < 0
      || fault_inject ("init-mounts", err) < 0)
    return -1;
  skiff_debug_phase ("mounts", t0);
  if (job->run_hooks_sync
      && (sync_send (job->sync_fd, SYNC_RUN_HOOKS, NULL, 0, err) < 0
          || sync_expect (job->sync_fd, SYNC_HOOKS_DONE, NULL, NULL, NULL, err) < 0))
    return -1;
  t0 = skiff_now_ns ();
  if (c->hooks
      && hooks_run ("createContainer", c->hooks->create_container, c->hooks->create_container_len,
                    job->state_json, job->bundle, err)
             < 0)
    return -1;
  if (c->hooks && c->hooks->create_container_len)
    skiff_debug_phase ("hooks (createContainer)", t0);
  t0 = skiff_now_ns ();
  if (rootfs_pivot (&job->rootfs_spec, &job->mounts, err) < 0
      || fault_inject ("init-pivot", err) < 0)
    return -1;
  skiff_debug_phase ("pivot (and masked, readonly paths)", t0);
  if (c->process && c->process->terminal)
    {
      cleanup_close int master
          = terminal_setup_in_container (c->process, !job->rootfs_spec.host_mountns, err);
      if (master < 0 || sync_send_fd (job->sync_fd, SYNC_CONSOLE, master, err) < 0)
        return -1;
    }
  return 0;
}

/* The exec fifo, held read-write since create (no path is reopened, so
   a container without /proc works): fill its buffer, then one more byte
   blocks until `start` reads.  startContainer hooks run next; "0" releases
   start, "E<message>" tells it why not. */
static int
block_until_read (int fd, skiff_error_t *err)
{
  static const char pad[4096];
  fcntl (fd, F_SETPIPE_SZ, (int)sizeof pad); /* the smallest: one page */
  int size = fcntl (fd, F_GETPIPE_SZ);
  int flags = fcntl (fd, F_GETFL);
  if (size <= 0 || flags < 0 || fcntl (fd, F_SETFL, flags | O_NONBLOCK) < 0)
    return skiff_error (err, errno, "exec fifo: fcntl");
  /* At most one buffer: a `start` already reading drains it meanwhile. */
  for (int left = size; left > 0;)
    {
      ssize_t n = write (fd, pad, left < (int)sizeof pad ? (size_t)left : sizeof pad);
      if (n < 0 && errno == EAGAIN)
        break;
      if (n < 0 && errno != EINTR)
        return skiff_error (err, errno, "exec fifo: write");
      if (n > 0)
        left -= (int)n;
    }
  if (fcntl (fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
    return skiff_error (err, errno, "exec fifo: fcntl");
  while (write (fd, "S", 1) != 1)
    if (errno != EINTR)
      return skiff_error (err, errno, "exec fifo: write");
  return 0;
}

static void
wait_for_start (struct create_job *job)
{
  skiff_error_t err = NULL;
  const oci_hooks *h = job->config->hooks;
  int fd = job->fifo_fd;
  if (fd < 0)
    return;
  if (block_until_read (fd, &err) < 0)
    {
      dprintf (STDERR_FILENO, "skiff: %s\n", err->msg);
      _exit (1);
    }
  unsigned long long t0 = skiff_now_ns ();
  if (h && h->start_container_len
      && hooks_run ("startContainer", h->start_container, h->start_container_len,
                    job->state_json_created, NULL, &err)
             == 0)
    skiff_debug_phase ("hooks (startContainer)", t0);
  if (err == NULL && write (fd, "0", 1) != 1)
    skiff_error (&err, errno, "write the exec fifo");
  if (err)
    {
      /* One write of at most PIPE_BUF bytes arrives whole. */
      dprintf (fd, "E%.1000s", err->msg);
      dprintf (STDERR_FILENO, "skiff: %s\n", err->msg);
      _exit (1);
    }
  close (fd);
}

static bool
caps_keep_sys_admin (const oci_process *p)
{
  if (p->capabilities == NULL)
    return false;
  for (size_t i = 0; i < p->capabilities->effective_len; i++)
    if (strcmp (p->capabilities->effective[i], "CAP_SYS_ADMIN") == 0)
      return true;
  return false;
}

/* Load the filter; a notify fd goes to the runtime, which hands it to the
   listener (it is sent before READY, so create has it). */
static int
install_seccomp (struct create_job *job, skiff_error_t *err)
{
  int fd = -1;
  if (seccomp_install (job->seccomp, &fd, err) < 0)
    return -1;
  if (fd < 0)
    return 0;
  int r = sync_send_fd (job->sync_fd, SYNC_SECCOMP_FD, fd, err);
  close (fd);
  return r;
}

/* Everything that can fail, done before READY so that create fails with
   the reason (as runc's does): after it, only the fifo, the startContainer
   hooks and execve remain. */
static int
drop_to_process (struct create_job *job, skiff_error_t *err)
{
  const oci_process *p = job->config->process;
  struct label_exec labels = LABEL_EXEC_INIT;
  /* Without no_new_privs the filter must go in while we still hold
     CAP_SYS_ADMIN, unless the process keeps it anyway. */
  bool early_seccomp = !p->no_new_privileges && !caps_keep_sys_admin (p);
  /* LSM labels: before no_new_privs and the filter (which could refuse
     the change); they apply at the next execve. */
  if (label_exec_prepare (p, &labels, err) < 0 || label_exec_apply (&labels, err) < 0)
    return -1;
  if (process_apply_final_affinity (p, err) < 0)
    return -1;
  unsigned long long t0 = skiff_now_ns ();
  if (early_seccomp && job->seccomp && install_seccomp (job, err) < 0)
    return -1;
  if (process_drop_privileges (p, err) < 0)
    return -1;
  if (p->no_new_privileges && process_set_no_new_privs (err) < 0)
    return -1;
  /* Nothing is logged once a filter is loaded: it may deny write(2). */
  if (!(early_seccomp && job->seccomp))
    skiff_debug_phase ("security (capabilities, user, no_new_privs)", t0);
  if (!early_seccomp && job->seccomp && install_seccomp (job, err) < 0)
    return -1;
  return 0;
}

/* The init's last steps, after `start`: nothing here reports to create. */
static _Noreturn void
exec_process (struct create_job *job, const char *exe)
{
  const oci_process *p = job->config->process;
  char home[PROCESS_HOME_MAX];
  fix_listen_pid (job->env);
  process_set_home (job->env, job->env_cap, p, home);
  execve (exe, job->argv, job->env);
  dprintf (STDERR_FILENO, "skiff: exec `%s`: %s\n", exe, strerror (errno));
  _exit (127);
}

/* A created init waits for start inside the container: it must not hold
   the runtime's state directory, its lock or fds the caller leaked, where
   a container process allowed to ptrace it could pick them up.  It keeps
   stdio, the preserved fds, the sync socket, the exec fifo and the log;
   the last three are close-on-exec. */
static int
close_runtime_fds (struct create_job *job, skiff_error_t *err)
{
  int first = 3 + job->preserve_fds;
  int keep[] = { job->sync_fd, job->fifo_fd, skiff_log_fd () };
  size_t n = sizeof keep / sizeof *keep;
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--)
      {
        int t = keep[j];
        keep[j] = keep[j - 1];
        keep[j - 1] = t;
      }
  int lo = first;
  for (size_t i = 0; i < n; i++)
    {
      if (keep[i] < lo)
        continue;
      if (keep[i] > lo && close_range ((unsigned)lo, (unsigned)keep[i] - 1, 0) < 0)
        return skiff_error (err, errno, "close_range");
      lo = keep[i] + 1;
    }
  if (close_range ((unsigned)lo, ~0U, 0) < 0)
    return skiff_error (err, errno, "close_range");
  return process_cloexec_from (first, err);
}

/* The runtime may block or ignore signals (run forwards them through a
   signalfd); the container starts with a clean slate. */
static void
reset_signals (void)
{
  sigset_t none;
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      signal (sig, SIG_DFL);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
}

void
init_main (struct create_job *job)
{
  skiff_error_t err = NULL;
  char exe[PATH_MAX];

  fault_in_container = true;
  reset_signals ();
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  /* Not dumpable while the runtime's setup is visible (CVE-2016-9962),
     but a new user namespace only once its maps are written: the
     /proc/<pid> files of a process that is not dumpable belong to the
     namespace's root, unmapped until then, and a rootless runtime could
     not open uid_map.  Nothing shares our namespaces meanwhile. */
  bool maps_pending = (job->ns.new_flags & CLONE_NEWUSER) != 0;
  if (!maps_pending)
    prctl (PR_SET_DUMPABLE, 0);
  prctl (PR_SET_NAME, "skiff:init");
  if (sync_expect (job->sync_fd, SYNC_GO, NULL, NULL, NULL, &err) < 0)
    _exit (1);
  if (maps_pending && !job->two_stage)
    prctl (PR_SET_DUMPABLE, 0);
  unsigned long long t0 = skiff_now_ns ();
  if (job->two_stage)
    stage_namespaces (job);
  else if ((job->ns.new_flags & CLONE_NEWCGROUP) && unshare (CLONE_NEWCGROUP) < 0)
    {
      skiff_error (&err, errno, "unshare the cgroup namespace");
      init_fail (job, &err);
    }
  skiff_debug_phase ("namespaces", t0);
  /* In-container hooks without env of their own get the process's, as
     with runc (its init takes the process's environment first). */
  hooks_default_env (job->env);
  if (job->needs_state && receive_state (job, &err) < 0)
    init_fail (job, &err);
  t0 = skiff_now_ns ();
  if (setup_early (job, &err) < 0)
    init_fail (job, &err);
  skiff_debug_phase ("process attributes (hostname, sysctl, rlimits)", t0);
  if (setup_rootfs (job, &err) < 0)
    init_fail (job, &err);
  if (process_resolve_exec (job->config->process, exe, &err) < 0
      || process_chdir (job->config->process, &err) < 0 || fault_inject ("init-ready", &err) < 0)
    init_fail (job, &err);
  /* Its own session and process group, as with runc: the caller's lie
     outside the pid namespace (a terminal made it one already).  Late,
     as SKIFF_TEST_KILL_AT's kill(0) relies on sharing the runtime's. */
  if (getsid (0) != getpid () && setsid () < 0)
    {
      skiff_error (&err, errno, "setsid");
      init_fail (job, &err);
    }
  /* Nothing of the runtime may reach the container (CVE-2024-21626). */
  if (close_runtime_fds (job, &err) < 0)
    init_fail (job, &err);
  for (int fd = 3; fd < 3 + job->preserve_fds; fd++)
    fcntl (fd, F_SETFD, 0);
  if (drop_to_process (job, &err) < 0)
    init_fail (job, &err);
  prctl (PR_SET_PDEATHSIG, 0);
  if (sync_send (job->sync_fd, SYNC_READY, NULL, 0, &err) < 0)
    _exit (1);
  close (job->sync_fd);
  wait_for_start (job);
  exec_process (job, exe);
}

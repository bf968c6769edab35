/* exec: run another process in a running container.  A child joins the
   container's namespaces (pidfd setns: all at once), forks the process
   that will exec (so the pid namespace applies), and that process takes
   the container's security settings before exec. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cleanup.h"
#include "container.h"
#include "exec-process.h"
#include "fsutil.h"
#include "label.h"
#include "log.h"
#include "mempolicy.h"
#include "namespaces.h"
#include "process.h"
#include "seccomp.h"
#include "sync.h"
#include "terminal.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

struct exec_job
{
  oci_process *process;
  const oci_config *config;
  pid_t target;
  unsigned long long target_start; /* proves target is still the init */
  int ns_flags;
  int sync_fd;
  int preserve_fds;
  struct seccomp_prog *seccomp;
  char **env;
  char *state_json;
  const char *id;
  bool no_new_keyring;
  struct mempolicy_plan mempolicy; /* the container's linux.memoryPolicy */
};

/* The namespaces where the container differs from us. */
static int
container_ns_flags (pid_t pid)
{
  static const int flags[] = { CLONE_NEWUSER, CLONE_NEWNS,  CLONE_NEWPID,    CLONE_NEWNET,
                               CLONE_NEWIPC,  CLONE_NEWUTS, CLONE_NEWCGROUP, CLONE_NEWTIME };
  int out = 0;
  for (size_t i = 0; i < sizeof flags / sizeof *flags; i++)
    {
      char a[64], b[64];
      struct stat sa, sb;
      snprintf (a, sizeof a, "/proc/%d/ns/%s", (int)pid, ns_proc_name (flags[i]));
      snprintf (b, sizeof b, "/proc/self/ns/%s", ns_proc_name (flags[i]));
      if (stat (a, &sa) == 0 && stat (b, &sb) == 0 && sa.st_ino != sb.st_ino)
        out |= flags[i];
    }
  return out;
}

static int
join_namespaces (struct exec_job *j, skiff_error_t *err)
{
  cleanup_close int pidfd = (int)syscall (SYS_pidfd_open, j->target, 0);
  /* After the pidfd (which pins the process it names), the start time
     proves that process is still the init and not a reuse of its pid. */
  if (proc_start_time (j->target) != j->target_start)
    return skiff_error_kind_set (err, SKIFF_ERR_BAD_STATE, ESRCH,
                                 "the container's init (pid %d) is gone", (int)j->target);
  if (pidfd >= 0 && setns (pidfd, j->ns_flags) == 0)
    return 0;
  /* Older kernels: one namespace file at a time, user first so that the
     others are joined with its privileges. */
  static const int order[] = { CLONE_NEWUSER, CLONE_NEWIPC,    CLONE_NEWUTS,  CLONE_NEWNET,
                               CLONE_NEWPID,  CLONE_NEWCGROUP, CLONE_NEWTIME, CLONE_NEWNS };
  for (size_t i = 0; i < sizeof order / sizeof *order; i++)
    {
      if (!(j->ns_flags & order[i]))
        continue;
      char p[64];
      snprintf (p, sizeof p, "/proc/%d/ns/%s", (int)j->target, ns_proc_name (order[i]));
      cleanup_close int fd = open (p, O_RDONLY | O_CLOEXEC);
      if (fd < 0 || setns (fd, order[i]) < 0)
        return skiff_error (err, errno, "join the container's %s namespace",
                            ns_type_name (order[i]));
    }
  return 0;
}

/* A container without a mount namespace of its own shares ours, and its
   init chrooted into the rootfs: do the same (after the setns, which a
   chrooted process may not do for a user namespace). */
static int
enter_root_of_init (struct exec_job *j, skiff_error_t *err)
{
  char p[64];
  if (j->ns_flags & CLONE_NEWNS)
    return 0;
  snprintf (p, sizeof p, "/proc/%d/root", (int)j->target);
  cleanup_close int root = open (p, O_PATH | O_DIRECTORY | O_CLOEXEC);
  /* still the init, not a reuse of its pid (checked while /proc is ours) */
  if (root >= 0 && proc_start_time (j->target) != j->target_start)
    return skiff_error_kind_set (err, SKIFF_ERR_BAD_STATE, ESRCH,
                                 "the container's init (pid %d) is gone", (int)j->target);
  if (root < 0 || fchdir (root) < 0 || chroot (".") < 0)
    return skiff_error (err, errno, "enter the root of the container's init (%s)", p);
  return 0;
}

static __attribute__ ((noreturn)) void
exec_fail (struct exec_job *j, skiff_error_t *err)
{
  sync_send_error (j->sync_fd, err);
  _exit (1);
}

static __attribute__ ((noreturn)) void
exec_final (struct exec_job *j)
{
  const oci_process *p = j->process;
  skiff_error_t err = NULL;
  char exe[PATH_MAX], home[PROCESS_HOME_MAX];
  int notify_fd = -1;
  if (sync_expect (j->sync_fd, SYNC_GO, NULL, NULL, NULL, &err) < 0)
    _exit (1);
  /* Its own session and process group, inside the pid namespace (as with
     runc): skiff's own group lies outside it and reads as 0 there. */
  if (setsid () < 0)
    {
      skiff_error (&err, errno, "setsid");
      exec_fail (j, &err);
    }
  if (mempolicy_apply (&j->mempolicy, &err) < 0 || process_apply_early (p, &err) < 0)
    exec_fail (j, &err);
  if (p->terminal)
    {
      cleanup_close int master = terminal_setup_in_container (p, false, &err);
      if (master < 0 || sync_send_fd (j->sync_fd, SYNC_CONSOLE, master, &err) < 0)
        exec_fail (j, &err);
    }
  /* A missing cwd fails, as in runc: only create makes it. */
  if (process_resolve_exec (p, exe, &err) < 0 || process_chdir (p, &err) < 0
      || process_cloexec_from (3 + j->preserve_fds, &err) < 0)
    exec_fail (j, &err);
  if (fcntl (j->sync_fd, F_SETFD, FD_CLOEXEC) < 0)
    exec_fail (j, &err);
  if (!j->no_new_keyring && process_join_session_keyring (p, j->id, &err) < 0)
    exec_fail (j, &err);
  /* LSM labels before no_new_privs and the filter (see init.c). */
  struct label_exec labels = LABEL_EXEC_INIT;
  if (label_exec_prepare (p, &labels, &err) < 0 || label_exec_apply (&labels, &err) < 0)
    exec_fail (j, &err);
  bool early_seccomp = !p->no_new_privileges;
  if (early_seccomp && j->seccomp && seccomp_install (j->seccomp, &notify_fd, &err) < 0)
    exec_fail (j, &err);
  if (process_drop_privileges (p, &err) < 0)
    exec_fail (j, &err);
  if (p->no_new_privileges && process_set_no_new_privs (&err) < 0)
    exec_fail (j, &err);
  if (!early_seccomp && j->seccomp && seccomp_install (j->seccomp, &notify_fd, &err) < 0)
    exec_fail (j, &err);
  if (notify_fd >= 0)
    close (notify_fd);
  process_set_home (j->env, j->process->env_len + EXEC_ENV_SPARE, p, home);
  if (process_apply_final_affinity (p, &err) < 0)
    exec_fail (j, &err);
  /* The process outlives a detached (or killed) `skiff exec`. */
  prctl (PR_SET_PDEATHSIG, 0);
  execve (exe, strv_terminate (p->args, p->args_len), j->env);
  skiff_error (&err, errno, "exec `%s`", exe);
  exec_fail (j, &err);
}

static __attribute__ ((noreturn)) void
exec_child (struct exec_job *j)
{
  skiff_error_t err = NULL;
  sigset_t none;
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  /* Not dumpable: the container must not reach us through /proc while we
     still hold the runtime's view (CVE-2016-9962, CVE-2019-5736). */
  prctl (PR_SET_DUMPABLE, 0);
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (sync_expect (j->sync_fd, SYNC_GO, NULL, NULL, NULL, &err) < 0)
    _exit (1);
  if (join_namespaces (j, &err) < 0 || enter_root_of_init (j, &err) < 0)
    exec_fail (j, &err);
  pid_t pid = (pid_t)syscall (SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
  if (pid < 0)
    {
      skiff_error (&err, errno, "fork");
      exec_fail (j, &err);
    }
  if (pid == 0)
    {
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      exec_final (j);
    }
  int32_t p = pid;
  sync_send (j->sync_fd, SYNC_PID, &p, sizeof p, NULL);
  _exit (0);
}

/* The container's cgroup, or the --cgroup subs below it.  On cgroup v2
   a cgroup whose controllers are enabled for children may hold no process
   (EBUSY): the init moved into a sub-cgroup (systemd in the container,
   docker-in-docker); join the init's, below the container's, as runc and
   crun do. */
static int
enter_exec_cgroup (struct exec_job *j, struct skiff_cgroup *cg, const struct cgroup_sub *subs,
                   size_t nsubs, pid_t pid, skiff_error_t *err)
{
  if (nsubs)
    return cgroup_enter_sub (cg, pid, subs, nsubs, err);
  if (cgroup_enter (cg, pid, err) == 0)
    return 0;
  if ((*err)->errno_ != EBUSY || cg->layout != CGROUP_LAYOUT_V2)
    return -1;
  cleanup_free char *path = cgroup_v2_path_of (j->target);
  size_t n = strlen (cg->path);
  if (path == NULL || strncmp (path, cg->path, n) != 0 || path[n] != '/')
    return -1;
  skiff_debug ("exec: the container's cgroup has no room for processes; joining the init's, %s",
               path);
  skiff_error_free (err);
  cleanup_cgroup struct skiff_cgroup *init_cg = cgroup_from_path (path);
  return cgroup_enter (init_cg, pid, err);
}

/* --cgroup values, parsed from copies (kept in *args). */
static int
exec_parse_cgroups (const struct skiff_exec_opts *o, struct cgroup_sub *subs, size_t *n,
                    char ***args, skiff_error_t *err)
{
  if (o->cgroups_len > 16)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0, "--cgroup: at most 16");
  if (o->cgroups_len == 0)
    return 0;
  if ((*args = calloc (o->cgroups_len + 1, sizeof **args)) == NULL)
    abort ();
  for (size_t i = 0; i < o->cgroups_len; i++)
    {
      if (((*args)[i] = strdup (o->cgroups[i])) == NULL)
        abort ();
      if (cgroup_parse_sub ((*args)[i], &subs[i], err) < 0)
        return -1;
      for (size_t k = 0; k < i; k++)
        if (subs[k].ctrls == NULL || subs[i].ctrls == NULL)
          return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                       "--cgroup: one PATH for every controller, or "
                                       "CONTROLLER:PATH pairs, not both");
    }
  *n = o->cgroups_len;
  return 0;
}

/* Parent: put the child in the cgroup, release it, learn the exec'd pid,
   take the console, and wait until exec closes the socket. */
static int
serve_exec (struct exec_job *j, pid_t *childp, const struct exec_target *t, bool born_in,
            const struct skiff_exec_opts *opts, const struct cgroup_sub *subs, size_t nsubs,
            pid_t *pid_out, int *console_out, skiff_error_t *err)
{
  int32_t p = 0;
  size_t len = sizeof p;
  int status;
  pid_t child = *childp;
  const char *console_socket = opts->console_socket;
  bool detach = opts->detach;
  if (born_in)
    skiff_debug ("the exec process was born in the container's cgroup (CLONE_INTO_CGROUP)");
  else if (t->cgroup && enter_exec_cgroup (j, t->cgroup, subs, nsubs, child, err) < 0)
    return -1;
  /* as the init's: in the container's resctrl group before it runs */
  if (t->rdt.name && resctrl_group_enter (&t->rdt, child, err) < 0)
    return -1;
  if (sync_send (j->sync_fd, SYNC_GO, NULL, 0, err) < 0
      || sync_expect (j->sync_fd, SYNC_PID, &p, &len, NULL, err) < 0)
    return -1;
  while (waitpid (child, &status, 0) < 0 && errno == EINTR)
    ;
  *childp = 0; /* reaped: its pid may be another process's by now */
  *pid_out = p;
  if (sync_send (j->sync_fd, SYNC_GO, NULL, 0, err) < 0)
    return -1;
  if (j->process->terminal)
    {
      if (sync_expect (j->sync_fd, SYNC_CONSOLE, NULL, NULL, console_out, err) < 0)
        return -1;
      if (console_socket)
        {
          int r = terminal_send_to_socket (console_socket, *console_out, err);
          close (*console_out);
          *console_out = -1;
          if (r < 0)
            return -1;
        }
      else if (detach)
        return skiff_error (err, EINVAL, "--tty with --detach needs --console-socket");
    }
  return sync_expect_exec (j->sync_fd, err);
}

int
skiff_container_exec (struct skiff_context *ctx, const char *id, const struct skiff_exec_opts *opts,
                      int *status, skiff_error_t *err)
{
  struct exec_target t;
  struct exec_job j = { .sync_fd = -1 };
  int sp[2] = { -1, -1 }, console = -1, ret = -1, sfd = -1;
  pid_t child = -1, pid = -1;
  sigset_t old;
  *status = 0;
  struct cgroup_sub subs[16];
  size_t nsubs = 0;
  cleanup_strv char **sub_args = NULL;
  if (exec_parse_cgroups (opts, subs, &nsubs, &sub_args, err) < 0)
    return skiff_error_wrap (err, "exec in container `%s`", id);
  if (exec_target_open (ctx, id, opts, &t, err) < 0)
    return -1;
  if (nsubs && t.cgroup == NULL)
    {
      exec_target_release (&t);
      return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, 0,
                                   "exec in container `%s`: --cgroup: the container has no cgroup",
                                   id);
    }
  j.process = t.process;
  j.config = t.config;
  j.target = t.pid;
  j.target_start = t.pid_start;
  j.id = t.id;
  j.no_new_keyring = t.no_new_keyring;
  j.ns_flags = container_ns_flags (t.pid);
  j.preserve_fds = opts->preserve_fds;
  j.env = exec_build_env (t.process);
  if (label_check_config (t.process, NULL, err) < 0
      || mempolicy_prepare (t.config->linux, &j.mempolicy, err) < 0)
    goto out;
  if (seccomp_prepare (t.config->linux ? t.config->linux->seccomp : NULL, NULL, &j.seccomp, err)
      < 0)
    goto out;
  /* Capabilities of the container's own config were warned about by
     create; those of --process or --cap are new here. */
  if ((opts->process_file || opts->caps_len ? process_check_caps (t.process, false, err)
                                            : process_caps_load (err))
      < 0)
    goto out;
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
    {
      skiff_error (err, errno, "socketpair");
      goto out;
    }
  if (!opts->detach)
    sfd = skiff_block_signals (&old);
  j.sync_fd = sp[1];
  /* on cgroup v2, born in the container's cgroup */
  int cgfd = t.cgroup && nsubs == 0 ? cgroup_open_leaf (t.cgroup) : -1;
  bool born_in;
  child = process_clone (0, cgfd, &born_in);
  if (cgfd >= 0)
    close (cgfd);
  if (child == 0)
    {
      close (sp[0]);
      exec_child (&j);
    }
  close (sp[1]);
  j.sync_fd = sp[0];
  if (child < 0)
    {
      skiff_error (err, errno, "fork");
      goto out;
    }
  if (serve_exec (&j, &child, &t, born_in, opts, subs, nsubs, &pid, &console, err) < 0)
    {
      /* pid is our child (CLONE_PARENT) and not reaped yet: still its own */
      if (child > 0)
        kill (child, SIGKILL);
      if (pid > 0)
        kill (pid, SIGKILL);
      goto out;
    }
  if (opts->pidfd_socket && send_pidfd_to_path (opts->pidfd_socket, pid, err) < 0)
    goto out;
  if (opts->pid_file && write_pid_file (opts->pid_file, pid, err) < 0)
    goto out;
  if (!opts->detach)
    skiff_wait_forwarding (pid, console, sfd, status);
  ret = 0;
out:
  if (ret < 0)
    skiff_error_wrap (err, "exec in container `%s`", id);
  if (sfd >= 0)
    {
      close (sfd);
      sigprocmask (SIG_SETMASK, &old, NULL);
    }
  if (console >= 0)
    close (console);
  if (j.sync_fd >= 0)
    close (j.sync_fd);
  /* Never reap a detached process that ran: a quick one may already be a
     zombie, and its exit status belongs to whoever reaps it after we exit
     (conmon, a subreaper, read 255 instead of the exit code). */
  if (ret < 0 || !opts->detach)
    while (waitpid (-1, NULL, WNOHANG) > 0)
      ;
  seccomp_prog_free (j.seccomp);
  free (j.env);
  exec_target_release (&t);
  return ret;
}

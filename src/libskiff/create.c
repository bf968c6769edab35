/* create: validate the bundle, record the container, make its cgroup,
   spawn the init and leave it waiting for `start`.  Every failure unwinds
   everything done so far. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cleanup.h"
#include "config-rules.h"
#include "container.h"
#include "fsutil.h"
#include "hooks.h"
#include "label.h"
#include "log.h"
#include "mempolicy.h"
#include "netdevices.h"
#include "notify.h"
#include "process.h"
#include "resctrl.h"
#include "rootless.h"
#include "seccomp.h"
#include "spawn.h"
#include "rootfs.h"
#include "sync.h"
#include "sysctl.h"
#include "terminal.h"
#include "userns.h"

struct creation
{
  struct skiff_context *ctx;
  const struct skiff_create_opts *opts;
  const char *id;
  char *bundle;
  char *rootfs;
  oci_config *config;
  char *raw;
  size_t raw_len;
  struct state_dir sd;
  bool state_made;
  skiff_status status;
  struct skiff_cgroup *cg;
  bool cg_made;
  char *rdt_root; /* the resctrl mount, with linux.intelRdt */
  struct resctrl_group rdt;
  bool rdt_recorded;
  struct seccomp_prog *seccomp;
  struct create_job job;
  bool spawned;
  struct netdev_set netdevs; /* linux.netDevices moved so far */
};

/* The host id that the container's root maps to (0 without a userns). */
static uint32_t
map_root (oci_id_mapping **m, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (m[i]->container_id == 0)
      return m[i]->host_id;
  return 0;
}

static uid_t
container_root_uid (const oci_config *c)
{
  return c->linux ? map_root (c->linux->uid_mappings, c->linux->uid_mappings_len) : 0;
}

static gid_t
container_root_gid (const oci_config *c)
{
  return c->linux ? map_root (c->linux->gid_mappings, c->linux->gid_mappings_len) : 0;
}

static int
check_rootfs (struct creation *c, skiff_error_t *err)
{
  const oci_root *root = c->config->root;
  char path[PATH_MAX];
  struct stat st;
  if (root == NULL || root->path == NULL)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "%s/config.json: root.path: missing", c->bundle);
  if (root->path[0] == '/')
    snprintf (path, sizeof path, "%s", root->path);
  else
    snprintf (path, sizeof path, "%s/%s", c->bundle, root->path);
  c->rootfs = realpath (path, NULL);
  if (c->rootfs == NULL || stat (c->rootfs, &st) < 0)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, errno, "root.path `%s`", path);
  if (!S_ISDIR (st.st_mode))
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, ENOTDIR, "root.path `%s`", path);
  return 0;
}

static int
check_preserved_fds (int n, skiff_error_t *err)
{
  for (int fd = 3; fd < 3 + n; fd++)
    if (fcntl (fd, F_GETFD) < 0)
      return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, EBADF,
                                   "--preserve-fds %d: fd %d is not open", n, fd);
  return 0;
}

/* The mount plan is a function of the config (with the notify socket's
   bind, so after prepare_state): made by the runtime, and the init only
   executes it, with the host's mounts read here too.  What the init
   computed after joining the cgroup would be charged to the container's
   memory limit. */
static int
plan_rootfs (struct creation *c, skiff_error_t *err)
{
  struct create_job *j = &c->job;
  const struct ns_plan *ns = &j->ns;
  j->rootfs_spec = (struct rootfs_spec){
    .config = c->config,
    .bundle = c->bundle,
    .rootfs = c->rootfs,
    .no_pivot = c->opts->no_pivot,
    .host_mountns = !ns_plan_has (ns, CLONE_NEWNS),
    .userns = ns_plan_has (ns, CLONE_NEWUSER),
    .cgroupns = ns_plan_has (ns, CLONE_NEWCGROUP),
    .netns = ns_plan_has (ns, CLONE_NEWNET),
    .rootless = c->ctx->rootless_on,
  };
  if (mount_plan_build (&j->rootfs_spec, &j->mounts, err) < 0)
    return -1;
  /* Our mounts are the init's only when its mount namespace is a copy of
     ours; one joined by path has its own, which the init reads itself. */
  if ((ns->new_flags & CLONE_NEWNS)
      && rootfs_read_host_mounts (&j->mounts, &j->host_mounts, &j->host_mounts_len, err) < 0)
    return -1;
  j->rootfs_spec.host_mounts = j->host_mounts;
  j->rootfs_spec.host_mounts_len = j->host_mounts_len;
  return 0;
}

/* An idmapped mount needs privilege over its source's filesystem, and a
   bind source may lie below a directory the container's root cannot
   search: with a user namespace, the trees are made here and the init
   attaches them. */
static int
open_bind_trees (struct creation *c, skiff_error_t *err)
{
  struct create_job *j = &c->job;
  if (!j->rootfs_spec.userns)
    return 0;
  if (rootfs_open_bind_trees (&j->rootfs_spec, &j->mount_fds, err) < 0)
    return -1;
  j->rootfs_spec.mount_fds = j->mount_fds;
  return 0;
}

static int
validate (struct creation *c, skiff_error_t *err)
{
  const oci_config *cfg = c->config;
  if (cfg->process == NULL)
    return skiff_error_kind_set (
        err, SKIFF_ERR_INVALID_CONFIG, 0,
        "%s/config.json: process: missing (a container needs a process to run)", c->bundle);
  if (config_rules_check (cfg, err) < 0 || check_rootfs (c, err) < 0)
    return -1;
  if (ns_plan_build (cfg, &c->job.ns, err) < 0)
    return -1;
  if ((c->job.ns.new_flags & CLONE_NEWUSER) && userns_check_maps (cfg->linux, err) < 0)
    return -1;
  if ((cfg->hostname || cfg->domainname) && !ns_plan_has (&c->job.ns, CLONE_NEWUTS))
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "%s: needs a new uts namespace in linux.namespaces",
                                 cfg->hostname ? "hostname" : "domainname");
  if (ns_uts_names_check (cfg, err) < 0 || sysctl_validate (cfg, &c->job.ns, err) < 0
      || mempolicy_prepare (cfg->linux, &c->job.mempolicy, err) < 0)
    return -1;
  if (netdev_validate (cfg->linux, &c->job.ns, err) < 0 || netdev_check_host (cfg->linux, err) < 0)
    return -1;
  if (process_check_caps (cfg->process, false, err) < 0
      || process_check_rlimits (cfg->process, err) < 0
      || process_check_io_priority (cfg->process, err) < 0)
    return -1;
  if (c->ctx->rootless_on && rootless_check_rlimits (cfg->process, err) < 0)
    return -1;
  if (label_check_config (cfg->process, cfg->linux, err) < 0)
    return -1;
  /* runtime-spec: without a resctrl mount, linux.intelRdt is an error */
  const oci_intel_rdt *rdt = cfg->linux ? cfg->linux->intel_rdt : NULL;
  if (rdt
      && (resctrl_check_config (rdt, c->id, err) < 0
          || resctrl_find_root ("linux.intelRdt", &c->rdt_root, err) < 0
          || resctrl_group_init (c->rdt_root, rdt, c->id, &c->rdt, err) < 0))
    return -1;
  if (!cfg->process->terminal && c->opts->console_socket)
    return skiff_error_kind_set (
        err, SKIFF_ERR_INVALID_CONFIG, 0,
        "--console-socket given but process.terminal is false: there is no terminal to send");
  if (cfg->process->terminal && c->opts->console_socket == NULL && !c->opts->foreground)
    return skiff_error_kind_set (
        err, SKIFF_ERR_INVALID_CONFIG, 0,
        "process.terminal is true but there is no --console-socket to send the terminal to");
  return check_preserved_fds (c->opts->preserve_fds, err);
}

/* LISTEN_FDS counts only when LISTEN_PID (if set) names us. */
static const char *
listen_fds_for_us (void)
{
  const char *fds = getenv ("LISTEN_FDS"), *pid = getenv ("LISTEN_PID");
  if (fds == NULL || atoi (fds) <= 0)
    return NULL;
  if (pid && atoi (pid) != (int)getpid ())
    return NULL;
  return fds;
}

/* LISTEN_FDS, LISTEN_PID, NOTIFY_SOCKET, HOME and the NULL. */
#define CREATE_ENV_SPARE 5

static char **
build_env (const oci_process *p, int preserve_fds)
{
  bool notify = getenv ("NOTIFY_SOCKET") != NULL;
  const char *listen = listen_fds_for_us ();
  size_t n = p->env_len;
  char **env = calloc (n + CREATE_ENV_SPARE, sizeof *env);
  if (env == NULL)
    abort ();
  for (size_t i = 0; i < n; i++)
    env[i] = p->env[i];
  n = process_env_dedup (env, n);
  /* Socket activation: the listening fds sit right after stdio and are
     passed on like preserved fds. */
  if (listen && atoi (listen) > 0)
    {
      static char lf[32];
      snprintf (lf, sizeof lf, "LISTEN_FDS=%d", atoi (listen));
      env[n++] = lf;
      env[n++] = (char *)"LISTEN_PID=1";
    }
  if (notify)
    env[n++] = (char *)"NOTIFY_SOCKET=" NOTIFY_SOCKET_IN_CONTAINER;
  (void)preserve_fds;
  return env;
}

static void
fill_status (struct creation *c)
{
  skiff_status *s = &c->status;
  s->id = (char *)c->id;
  s->bundle = c->bundle;
  s->rootfs = c->rootfs;
  s->created = rfc3339_now ();
  s->cgroup_path = c->cg ? c->cg->path : NULL;
  s->cgroup_manager = (char *)(c->cg ? c->cg->ops->name : "none");
  s->annotations = c->config->annotations;
  /* exec joins no keyring of its own either */
  s->no_new_keyring = c->opts->no_new_keyring;
  s->rootless = c->ctx->rootless_on;
  s->rootless_present = c->ctx->rootless_on;
}

static char *
cb_state_json (void *data, pid_t pid, const char *status)
{
  struct creation *c = data;
  return container_state_json (&c->status, pid, status, false, false);
}

static int
cb_runtime_hooks (void *data, pid_t pid, skiff_error_t *err)
{
  struct creation *c = data;
  const oci_hooks *h = c->config->hooks;
  cleanup_free char *state = container_state_json (&c->status, pid, "creating", false, false);
  if (fault_inject ("runtime-hooks", err) < 0)
    return -1;
  if (h == NULL)
    return 0;
  unsigned long long t0 = skiff_now_ns ();
  if (hooks_run ("prestart", h->prestart, h->prestart_len, state, c->bundle, err) < 0
      || hooks_run ("createRuntime", h->create_runtime, h->create_runtime_len, state, c->bundle,
                    err)
             < 0)
    return -1;
  skiff_debug_phase ("hooks (prestart, createRuntime)", t0);
  return 0;
}

/* The cgroup, then the resctrl group: the init (or the intermediate that
   forks it) before it runs anything of the container's. */
static int
cb_enter_cgroup (void *data, pid_t pid, bool born_in, skiff_error_t *err)
{
  struct creation *c = data;
  if (fault_inject ("cgroup-enter", err) < 0)
    return -1;
  if (!born_in && c->cg && cgroup_enter (c->cg, pid, err) < 0)
    return -1;
  if (!c->rdt_recorded)
    return 0;
  if (fault_inject ("resctrl-enter", err) < 0)
    return -1;
  return resctrl_group_enter (&c->rdt, pid, err);
}

/* linux.intelRdt: recorded in the state before anything is made, as the
   cgroup is, so that `delete --force` after a killed create finds it. */
static int
setup_resctrl (struct creation *c, skiff_error_t *err)
{
  const oci_intel_rdt *rdt = c->config->linux ? c->config->linux->intel_rdt : NULL;
  if (rdt == NULL)
    return 0;
  c->status.intel_rdt_group = c->rdt.name;
  c->status.intel_rdt_owned = c->rdt.owned;
  c->status.intel_rdt_mon = c->rdt.mon != NULL;
  if (state_write (&c->sd, &c->status, err) < 0)
    return -1;
  c->rdt_recorded = true;
  unsigned long long t0 = skiff_now_ns ();
  if (fault_inject ("resctrl", err) < 0 || resctrl_group_setup (&c->rdt, rdt, err) < 0)
    return -1;
  skiff_debug_phase ("resctrl", t0);
  if (c->status.intel_rdt_owned == c->rdt.owned)
    return 0;
  /* someone else made the group meanwhile: it is not the container's */
  c->status.intel_rdt_owned = c->rdt.owned;
  return state_write (&c->sd, &c->status, err);
}

static int
cb_setup_network (void *data, pid_t pid, skiff_error_t *err)
{
  struct creation *c = data;
  const oci_linux *l = c->config->linux;
  unsigned long long t0 = skiff_now_ns ();
  if (netdev_move_all (l, pid, &c->netdevs, err) < 0)
    return -1;
  if (netdev_any (l))
    skiff_debug_phase ("network devices", t0);
  return fault_inject ("net-devices", err);
}

/* The cgroup create would make, unless a rootless caller may not (c->cg
   stays NULL: the container shares the runtime's). */
static int
new_cgroup (struct creation *c, skiff_error_t *err)
{
  const oci_linux *l = c->config->linux;
  const char *cgroups_path = l ? l->cgroups_path : NULL;
  bool use;
  if (c->ctx->systemd_cgroup && !c->ctx->rootless_on)
    return cgroup_new_systemd (cgroups_path, c->id, &c->cg, err);
  if (cgroup_new (cgroups_path, c->id, &c->cg, err) < 0
      || rootless_cgroup_decide (c->ctx, c->cg, l ? l->resources : NULL, &use, err) < 0)
    return -1;
  if (!use)
    {
      cgroup_free (c->cg);
      c->cg = NULL;
      return 0;
    }
  return cgroup_refuse_busy (c->cg, err);
}

static int
make_cgroup (struct creation *c, skiff_error_t *err)
{
  unsigned long long t0 = skiff_now_ns ();
  if (cgroup_create (c->cg, err) < 0)
    {
      c->cg_made = true; /* may be partly made */
      return -1;
    }
  c->cg_made = true;
  skiff_debug_phase ("cgroup", t0);
  if (fault_inject ("cgroup", err) < 0)
    return -1;
  /* Limits in place before any process of the container exists. */
  return cgroup_apply (c->cg, c->config->linux ? c->config->linux->resources : NULL, false, err);
}

static int
prepare_state (struct creation *c, skiff_error_t *err)
{
  if (state_dir_create (c->ctx->root, c->id, &c->sd, err) < 0)
    return -1;
  c->state_made = true;
  if (write_file_at (c->sd.dir_fd, "config.json", c->raw, c->raw_len, 0600, 0, err) < 0)
    return -1;
  if (new_cgroup (c, err) < 0)
    return -1;
  fill_status (c);
  /* Recorded before anything exists outside, so that `delete --force`
     finds the cgroup even if we are killed half-way. */
  unsigned long long t0 = skiff_now_ns ();
  if (state_write (&c->sd, &c->status, err) < 0 || fault_inject ("state", err) < 0)
    return -1;
  skiff_debug_phase ("state write", t0);
  if (c->cg && make_cgroup (c, err) < 0)
    return -1;
  if (setup_resctrl (c, err) < 0)
    return -1;
  if (mkfifoat (c->sd.dir_fd, "exec.fifo", 0600) < 0)
    return skiff_error (err, errno, "create the exec fifo");
  /* Read-write: the open does not wait for a reader, and the init keeps
     this fd (it never reopens the fifo by a path; see init.c). */
  c->job.fifo_fd = openat (c->sd.dir_fd, "exec.fifo", O_RDWR | O_CLOEXEC);
  if (c->job.fifo_fd < 0)
    return skiff_error (err, errno, "open the exec fifo");
  if (getenv ("NOTIFY_SOCKET"))
    {
      c->status.notify_socket = getenv ("NOTIFY_SOCKET");
      if (notify_prepare (&c->sd, c->config, container_root_uid (c->config),
                          container_root_gid (c->config), err)
              < 0
          || state_write (&c->sd, &c->status, err) < 0)
        return -1;
    }
  return 0;
}

static bool
has_in_container_hooks (const oci_hooks *h)
{
  return h && (h->create_container_len || h->start_container_len);
}

/* An init killed by the OOM killer during its setup only shows as a
   closed sync socket: say what happened, and which setting to change. */
static int
explain_oom (struct creation *c, uint64_t oom_before, skiff_error_t *err)
{
  const oci_linux *l = c->config->linux;
  const oci_memory *m = l && l->resources ? l->resources->memory : NULL;
  if (c->cg == NULL || cgroup_oom_kills (c->cg) <= oom_before)
    return -1;
  skiff_error_free (err);
  if (m && m->limit_present && m->limit > 0)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.resources.memory.limit: %lld bytes is too small: the OOM "
                                 "killer killed the container's init during its setup",
                                 (long long)m->limit);
  return skiff_error (err, 0,
                      "the OOM killer killed the container's init during its setup (cgroup `%s`)",
                      c->cg->path);
}

static int
launch (struct creation *c, struct spawn_result *res, skiff_error_t *err)
{
  const oci_config *cfg = c->config;
  cleanup_free char *cache = NULL;
  if (asprintf (&cache, "%s/.seccomp-cache", c->ctx->root) < 0)
    abort ();
  unsigned long long t0 = skiff_now_ns ();
  if (seccomp_prepare (cfg->linux ? cfg->linux->seccomp : NULL, cache, &c->seccomp, err) < 0)
    return -1;
  if (cfg->linux && cfg->linux->seccomp)
    skiff_debug_phase ("seccomp (compile)", t0);
  struct create_job *j = &c->job;
  j->id = c->id;
  j->bundle = c->bundle;
  j->config = cfg;
  j->two_stage = j->ns.njoin > 0 || (j->ns.new_flags & CLONE_NEWTIME);
  j->preserve_fds = c->opts->preserve_fds;
  if (listen_fds_for_us ())
    j->preserve_fds += atoi (listen_fds_for_us ());
  j->no_new_keyring = c->opts->no_new_keyring;
  /* One more round trip only when there is something to run (or a test
     wants to fail there). */
  j->run_hooks_sync = (cfg->hooks && (cfg->hooks->prestart_len || cfg->hooks->create_runtime_len))
                      || getenv ("SKIFF_TEST_FAIL_AT") || getenv ("SKIFF_TEST_KILL_AT");
  j->needs_state = has_in_container_hooks (cfg->hooks) || (cfg->linux && cfg->linux->seccomp);
  j->seccomp = c->seccomp;
  j->cgroup_fd = c->cg ? cgroup_open_leaf (c->cg) : -1;
  j->env = build_env (cfg->process, j->preserve_fds);
  j->env_cap = cfg->process->env_len + CREATE_ENV_SPARE;
  j->argv = strv_terminate (cfg->process->args, cfg->process->args_len);
  if (plan_rootfs (c, err) < 0 || open_bind_trees (c, err) < 0)
    return -1;
  struct spawn_callbacks cb = { .state_json = cb_state_json,
                                .run_runtime_hooks = cb_runtime_hooks,
                                .enter_cgroup = cb_enter_cgroup,
                                .setup_network = cb_setup_network,
                                .data = c };
  c->spawned = true;
  /* a cgroupsPath that already existed may have counted kills before */
  uint64_t oom_before = c->cg ? cgroup_oom_kills (c->cg) : 0;
  if (spawn_container (j, &cb, res, err) < 0)
    return explain_oom (c, oom_before, err);
  return 0;
}

static int
finish (struct creation *c, struct spawn_result *res, struct skiff_created *out, skiff_error_t *err)
{
  c->status.pid = res->pid;
  c->status.pid_start = proc_start_time (res->pid);
  c->status.pid_start_present = true;
  unsigned long long t0 = skiff_now_ns ();
  if (state_write (&c->sd, &c->status, err) < 0 || fault_inject ("finish", err) < 0)
    return -1;
  skiff_debug_phase ("state write", t0);
  if (res->console >= 0 && !c->opts->foreground)
    {
      if (terminal_send_to_socket (c->opts->console_socket, res->console, err) < 0)
        return -1;
      close (res->console);
      res->console = -1;
    }
  if (c->opts->pidfd_socket && send_pidfd_to_path (c->opts->pidfd_socket, res->pid, err) < 0)
    return -1;
  if (c->opts->pid_file && write_pid_file (c->opts->pid_file, res->pid, err) < 0)
    return -1;
  out->pid = res->pid;
  out->console = res->console;
  res->console = -1;
  return 0;
}

static void
unwind (struct creation *c, struct spawn_result *res)
{
  skiff_error_t e = NULL;
  const oci_hooks *h = c->config->hooks;
  /* As runc: once the container began to exist, poststop hooks run even
     when create fails. */
  if (c->spawned && h && h->poststop_len)
    {
      cleanup_free char *state = container_state_json (&c->status, 0, "stopped", false, false);
      container_hooks_warn ("poststop", h->poststop, h->poststop_len, state, c->bundle);
    }
  if (res->pid > 0)
    {
      kill (res->pid, SIGKILL);
      waitpid (res->pid, NULL, 0);
    }
  /* The namespace outlives the init while we hold it: a virtual device
     would die with it, a physical one return under its container name. */
  netdev_return_all (&c->netdevs);
  if (res->console >= 0)
    close (res->console);
  if (c->cg_made && cgroup_destroy (c->cg, &e) < 0)
    {
      skiff_warn ("cleanup: %s", e->msg);
      skiff_error_free (&e);
    }
  if (c->rdt_recorded && resctrl_group_undo (&c->rdt, &e) < 0)
    {
      skiff_warn ("cleanup: %s", e->msg);
      skiff_error_free (&e);
    }
  if (c->state_made && state_dir_remove (&c->sd, &e) < 0)
    {
      skiff_warn ("cleanup: %s", e->msg);
      skiff_error_free (&e);
    }
}

static void
release (struct creation *c)
{
  state_dir_close (&c->sd);
  cgroup_free (c->cg);
  resctrl_group_release (&c->rdt);
  free (c->rdt_root);
  seccomp_prog_free (c->seccomp);
  netdev_set_release (&c->netdevs);
  ns_plan_release (&c->job.ns);
  if (c->job.fifo_fd >= 0)
    close (c->job.fifo_fd);
  if (c->job.cgroup_fd >= 0)
    close (c->job.cgroup_fd);
  free (c->job.env);
  free (c->job.argv);
  mount_plan_free (&c->job.mounts);
  mountinfo_free (c->job.host_mounts, c->job.host_mounts_len);
  for (size_t i = 0; c->job.mount_fds && i < c->config->mounts_len; i++)
    if (c->job.mount_fds[i] >= 0)
      close (c->job.mount_fds[i]);
  free (c->job.mount_fds);
  free (c->status.created);
  oci_config_free (c->config);
  free (c->raw);
  free (c->bundle);
  free (c->rootfs);
}

int
skiff_container_create (struct skiff_context *ctx, const char *id,
                        const struct skiff_create_opts *opts, struct skiff_created *out,
                        skiff_error_t *err)
{
  struct creation c
      = { .ctx = ctx, .opts = opts, .id = id, .sd = STATE_DIR_INIT, .netdevs = NETDEV_SET_INIT };
  struct spawn_result res = { .pid = -1, .console = -1 };
  char cfg_path[PATH_MAX];
  int ret = -1;

  c.job.fifo_fd = -1;
  c.job.cgroup_fd = -1;
  out->pid = -1;
  out->console = -1;
  if (state_validate_id (id, err) < 0)
    return -1;
  c.bundle = realpath (opts->bundle ? opts->bundle : ".", NULL);
  if (c.bundle == NULL)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, errno, "bundle `%s`",
                                 opts->bundle ? opts->bundle : ".");
  snprintf (cfg_path, sizeof cfg_path, "%s/config.json", c.bundle);
  unsigned long long t0 = skiff_now_ns ();
  if (config_load_file (cfg_path, &c.config, &c.raw, &c.raw_len, err) < 0 || validate (&c, err) < 0)
    goto out;
  skiff_debug_phase ("parse", t0);
  if (prepare_state (&c, err) < 0 || launch (&c, &res, err) < 0 || finish (&c, &res, out, err) < 0)
    {
      unwind (&c, &res);
      goto out;
    }
  skiff_debug_phase ("create (total)", t0);
  ret = 0;
out:
  if (ret < 0)
    skiff_error_wrap (err, "create container `%s`", id);
  release (&c);
  return ret;
}

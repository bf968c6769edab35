/* `skiff check --plan`: the steps of create and start for a bundle on this
   host, in the order they run, built from the same plan data create
   executes: ns_plan_build(), cgroup_new(), mount_plan_build() with the
   rootfs_spec the init uses, seccomp_prepare().  Nothing is created. */
#include "config.h"
#include "plan.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cleanup.h"
#include "container.h"
#include "fs.h"
#include "log.h"
#include "mempolicy.h"
#include "namespaces.h"
#include "netdevices.h"
#include "process.h"
#include "resctrl.h"
#include "rootfs.h"
#include "rootless.h"
#include "seccomp.h"
#include "skiff.h"
#include "strbuf.h"
#include "sysctl.h"
#include "userns.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* ---- process.args[0] inside the rootfs -------------------------------- */

/* A regular file with an execute bit, reached inside the root. */
static enum exec_probe
probe_in_root (void *data, const char *path)
{
  skiff_error_t err = NULL;
  struct stat st;
  cleanup_close int fd = safe_open_in_root (*(int *)data, path, O_PATH, 0, &err);
  skiff_error_free (&err);
  if (fd < 0)
    return EXEC_MISSING;
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) || !(st.st_mode & 0111))
    return EXEC_NOT_EXECUTABLE;
  return EXEC_OK;
}

int
plan_resolve_exec (int rootfd, const oci_process *p, char **path_out, skiff_error_t *err)
{
  char exe[PATH_MAX];
  if (process_find_exec (p, probe_in_root, &rootfd, exe, err) < 0)
    return -1;
  if ((*path_out = strdup (exe)) == NULL)
    abort ();
  return 0;
}

/* ---- the plan ---------------------------------------------------------- */

struct planner
{
  struct skiff_context *ctx;
  const char *id;
  char *bundle, *rootfs;
  oci_config *cfg;
  struct ns_plan ns;
  struct skiff_cgroup *cg;
  bool no_cgroup;           /* rootless without a delegated cgroup */
  struct resctrl_group rdt; /* name NULL: no linux.intelRdt */
  struct seccomp_prog *seccomp;
  char **warnings; /* what create would log as warnings */
  size_t warnings_len;
  struct mount_plan mounts;
  struct mempolicy_plan mempolicy;
  struct skiff_strbuf out;
  int step;
};

static void step (struct planner *pl, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
step (struct planner *pl, const char *fmt, ...)
{
  cleanup_free char *s = NULL;
  va_list ap;
  va_start (ap, fmt);
  if (vasprintf (&s, fmt, ap) < 0)
    abort ();
  va_end (ap);
  strbuf_printf (&pl->out, "%3d. %s\n", ++pl->step, s);
}

/* Indented lines under the current step. */
#define detail(pl, ...) strbuf_printf (&(pl)->out, "       " __VA_ARGS__)

static void
capture (skiff_log_level level, const char *msg, void *data)
{
  struct planner *pl = data;
  (void)level;
  pl->warnings = realloc (pl->warnings, (pl->warnings_len + 1) * sizeof *pl->warnings);
  if (pl->warnings == NULL || (pl->warnings[pl->warnings_len++] = strdup (msg)) == NULL)
    abort ();
}

static void
strv_join (struct skiff_strbuf *b, char **v, size_t n, const char *sep)
{
  for (size_t i = 0; i < n; i++)
    strbuf_printf (b, "%s%s", i ? sep : "", v[i]);
  if (n == 0)
    strbuf_puts (b, "(none)");
}

static void
json_list (struct skiff_strbuf *b, char **v, size_t n)
{
  strbuf_puts (b, "[");
  for (size_t i = 0; i < n; i++)
    {
      if (i)
        strbuf_puts (b, ", ");
      skiff_json_quote (b, v[i]);
    }
  strbuf_puts (b, "]");
}

/* Everything create decides before it touches the host, in create's
   order: parse, root, namespaces, cgroup path, seccomp.  Errors are the
   ones create would fail with. */
static int
prepare (struct planner *pl, const char *bundle, skiff_error_t *err)
{
  char path[PATH_MAX];
  pl->bundle = realpath (bundle, NULL);
  if (pl->bundle == NULL)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, errno, "bundle `%s`", bundle);
  snprintf (path, sizeof path, "%s/config.json", pl->bundle);
  if (config_load_file (path, &pl->cfg, NULL, NULL, err) < 0)
    return -1;
  const oci_root *root = pl->cfg->root;
  if (root == NULL || root->path == NULL || pl->cfg->process == NULL)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "%s: missing (run `skiff check` for every problem)",
                                 pl->cfg->process ? "root.path" : "process");
  snprintf (path, sizeof path, "%s%s%s", root->path[0] == '/' ? "" : pl->bundle,
            root->path[0] == '/' ? "" : "/", root->path);
  pl->rootfs = realpath (path, NULL);
  if (pl->rootfs == NULL)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, errno, "root.path `%s`", path);
  if (ns_plan_build (pl->cfg, &pl->ns, err) < 0 || sysctl_validate (pl->cfg, &pl->ns, err) < 0
      || netdev_validate (pl->cfg->linux, &pl->ns, err) < 0
      || mempolicy_prepare (pl->cfg->linux, &pl->mempolicy, err) < 0)
    return -1;
  skiff_log_capture (capture, pl);
  int r = process_check_caps (pl->cfg->process, false, err);
  const char *cgroups_path = pl->cfg->linux ? pl->cfg->linux->cgroups_path : NULL;
  const oci_resources *res = pl->cfg->linux ? pl->cfg->linux->resources : NULL;
  bool use = true;
  if (r == 0 && (pl->ns.new_flags & CLONE_NEWUSER))
    r = userns_check_maps (pl->cfg->linux, err);
  if (r == 0 && pl->ctx->rootless_on)
    r = rootless_check_rlimits (pl->cfg->process, err);
  if (r == 0)
    r = pl->ctx->systemd_cgroup && !pl->ctx->rootless_on
            ? cgroup_new_systemd (cgroups_path, pl->id, &pl->cg, err)
            : cgroup_new (cgroups_path, pl->id, &pl->cg, err);
  if (r == 0)
    r = rootless_cgroup_decide (pl->ctx, pl->cg, res, &use, err);
  pl->no_cgroup = !use;
  const oci_intel_rdt *rdt = pl->cfg->linux ? pl->cfg->linux->intel_rdt : NULL;
  if (r == 0 && rdt)
    {
      cleanup_free char *mnt = NULL;
      r = resctrl_check_config (rdt, pl->id, err) < 0
                  || resctrl_find_root ("linux.intelRdt", &mnt, err) < 0
                  || resctrl_group_init (mnt, rdt, pl->id, &pl->rdt, err) < 0
              ? -1
              : 0;
    }
  if (r == 0)
    r = seccomp_prepare (pl->cfg->linux ? pl->cfg->linux->seccomp : NULL, NULL, &pl->seccomp, err);
  struct rootfs_spec rs = {
    .config = pl->cfg,
    .bundle = pl->bundle,
    .rootfs = pl->rootfs,
    .host_mountns = !ns_plan_has (&pl->ns, CLONE_NEWNS),
    .userns = ns_plan_has (&pl->ns, CLONE_NEWUSER),
    .cgroupns = ns_plan_has (&pl->ns, CLONE_NEWCGROUP),
    .netns = ns_plan_has (&pl->ns, CLONE_NEWNET),
    .rootless = pl->ctx->rootless_on,
  };
  if (r == 0)
    r = mount_plan_build (&rs, &pl->mounts, err);
  skiff_log_capture (NULL, NULL);
  return r;
}

static void
describe_ids (struct planner *pl, const char *what, oci_id_mapping **m, size_t n)
{
  detail (pl, "%s:", what);
  for (size_t i = 0; i < n; i++)
    strbuf_printf (&pl->out, " %u->%u(%u)", m[i]->container_id, m[i]->host_id, m[i]->size);
  strbuf_puts (&pl->out, "\n");
}

static void
describe_namespaces (struct planner *pl)
{
  const struct ns_plan *ns = &pl->ns;
  const oci_linux *l = pl->cfg->linux;
  bool two_stage = ns->njoin > 0 || (ns->new_flags & CLONE_NEWTIME);
  cleanup_strbuf struct skiff_strbuf news = { 0 };
  static const int order[] = { CLONE_NEWUSER, CLONE_NEWNS,  CLONE_NEWPID,    CLONE_NEWNET,
                               CLONE_NEWIPC,  CLONE_NEWUTS, CLONE_NEWCGROUP, CLONE_NEWTIME };
  for (size_t i = 0; i < sizeof order / sizeof *order; i++)
    if (ns->new_flags & order[i])
      strbuf_printf (&news, "%s%s", news.len ? ", " : "", ns_type_name (order[i]));
  if (!two_stage)
    step (pl, "clone the init with new namespaces: %s", news.len ? news.s : "(none)");
  else
    step (pl,
          "clone an intermediate process; it joins %zu namespace%s, unshares %s, then "
          "forks the init",
          ns->njoin, ns->njoin == 1 ? "" : "s", news.len ? news.s : "nothing");
  for (size_t i = 0; i < ns->njoin; i++)
    detail (pl, "join %s namespace: %s\n", ns_type_name (ns->join[i].flag), ns->join[i].path);
  if (ns->new_flags & CLONE_NEWCGROUP)
    detail (pl, "cgroup namespace: unshared after the init joined its cgroup\n");
  if ((ns->new_flags & CLONE_NEWUSER) && l)
    {
      detail (pl, "user namespace: the runtime writes the id maps (container->host(size))\n");
      describe_ids (pl, "uid map", l->uid_mappings, l->uid_mappings_len);
      describe_ids (pl, "gid map", l->gid_mappings, l->gid_mappings_len);
    }
  if ((ns->new_flags & CLONE_NEWTIME) && l && l->time_offsets)
    for (size_t i = 0; i < l->time_offsets->len; i++)
      detail (pl, "time offset %s: %llds %uns\n", l->time_offsets->keys[i],
              (long long)l->time_offsets->values[i]->secs,
              (unsigned)l->time_offsets->values[i]->nanosecs);
}

static void
describe_netdevices (struct planner *pl)
{
  const oci_linux *l = pl->cfg->linux;
  if (!netdev_any (l))
    return;
  size_t n = l->net_devices->len;
  step (pl, "the runtime moves %zu network device%s into the container's network namespace", n,
        n == 1 ? "" : "s");
  for (size_t i = 0; i < n; i++)
    detail (pl, "%s -> %s, with its permanent global addresses; set up\n", l->net_devices->keys[i],
            netdev_target_name (l, i));
  detail (pl, "returned to the host if create fails; delete leaves them to the namespace\n");
}

static void
describe_early (struct planner *pl)
{
  const oci_config *c = pl->cfg;
  const oci_process *p = c->process;
  const oci_linux *l = c->linux;
  step (pl, "in the container, before the mounts (host /proc still visible)");
  if (ns_plan_has (&pl->ns, CLONE_NEWUSER))
    detail (pl, "become uid 0, gid 0 of the user namespace\n");
  if (c->hostname)
    detail (pl, "hostname \"%s\"\n", c->hostname);
  if (c->domainname)
    detail (pl, "domainname \"%s\"\n", c->domainname);
  detail (pl, "new session keyring (unless --no-new-keyring)\n");
  if (pl->ns.new_flags & CLONE_NEWNET)
    detail (pl, "loopback device lo up (a new network namespace)\n");
  for (size_t i = 0; l && l->sysctl && i < l->sysctl->len; i++)
    detail (pl, "sysctl %s = %s\n", l->sysctl->keys[i], l->sysctl->values[i]);
  if (pl->mempolicy.set)
    {
      char mp[512];
      detail (pl, "memory policy %s (set_mempolicy, inside the cgroup's cpuset; execve keeps it)\n",
              mempolicy_describe (&pl->mempolicy, mp, sizeof mp));
    }
  for (size_t i = 0; i < p->rlimits_len; i++)
    detail (pl, "rlimit %s soft %llu hard %llu\n", p->rlimits[i]->type,
            (unsigned long long)p->rlimits[i]->soft, (unsigned long long)p->rlimits[i]->hard);
  if (p->oom_score_adj_present)
    detail (pl, "oom_score_adj %d\n", p->oom_score_adj);
  if (l && l->personality)
    detail (pl, "personality %s\n", l->personality->domain);
}

/* The ops of one phase of the mount plan, as mount_plan_describe() prints
   them. */
static void
describe_ops (struct planner *pl, size_t from, size_t to)
{
  struct mount_plan part = { .ops = pl->mounts.ops + from, .len = to - from };
  cleanup_strbuf struct skiff_strbuf b = { 0 };
  mount_plan_describe (&part, &b);
  for (char *line = b.s, *nl; line && *line; line = nl + 1)
    {
      nl = strchr (line, '\n');
      if (nl == NULL)
        break;
      /* Numbered as in the whole plan: "  1. pivot" -> " 13. pivot". */
      char *dot = NULL;
      unsigned long n = strtoul (line, &dot, 10);
      if (dot && *dot == '.' && n > 0)
        strbuf_printf (&pl->out, "     %3lu%.*s\n", n + from, (int)(nl - dot), dot);
      else
        strbuf_printf (&pl->out, "     %.*s\n", (int)(nl - line), line);
    }
}

static size_t
pivot_index (const struct mount_plan *m)
{
  for (size_t i = 0; i < m->len; i++)
    if (m->ops[i].kind == OP_PIVOT)
      return i;
  return m->len;
}

static void
describe_hooks (struct planner *pl, const char *phase, const char *where, oci_hook **h, size_t n)
{
  if (n == 0)
    return;
  step (pl, "%s hooks (%s)", phase, where);
  for (size_t i = 0; i < n; i++)
    {
      detail (pl, "hooks.%s[%zu]: %s args ", phase, i, h[i]->path);
      json_list (&pl->out, h[i]->args, h[i]->args_len);
      if (h[i]->timeout_present)
        strbuf_printf (&pl->out, " timeout %ds", h[i]->timeout);
      strbuf_puts (&pl->out, "\n");
    }
}

static void
describe_devices (struct planner *pl)
{
  struct rootfs_spec rs = {
    .config = pl->cfg,
    .bundle = pl->bundle,
    .rootfs = pl->rootfs,
    .userns = ns_plan_has (&pl->ns, CLONE_NEWUSER),
  };
  cleanup_strbuf struct skiff_strbuf b = { 0 };
  rootfs_devices_describe (&rs, &b);
  for (char *line = b.s, *nl; line && *line; line = nl + 1)
    {
      if ((nl = strchr (line, '\n')) == NULL)
        break;
      detail (pl, "%.*s\n", (int)(nl - line), line);
    }
}

static void
describe_mounts (struct planner *pl)
{
  const oci_hooks *h = pl->cfg->hooks;
  size_t pivot = pivot_index (&pl->mounts);
  step (pl, "mounts, before the pivot (mount_plan ops 1-%zu)", pivot);
  describe_ops (pl, 0, pivot);
  for (size_t i = 0; i < pivot; i++)
    if (pl->mounts.ops[i].kind == OP_DEVICES)
      {
        step (pl, "devices in /dev (%s)",
              ns_plan_has (&pl->ns, CLONE_NEWUSER) ? "binds of the host's nodes: user namespace"
                                                   : "mknod");
        describe_devices (pl);
      }
  if (h)
    {
      describe_hooks (pl, "prestart", "in the runtime's namespaces", h->prestart, h->prestart_len);
      describe_hooks (pl, "createRuntime", "in the runtime's namespaces", h->create_runtime,
                      h->create_runtime_len);
      describe_hooks (pl, "createContainer", "in the container's namespaces, before the pivot",
                      h->create_container, h->create_container_len);
    }
  step (pl, "pivot and what follows it (mount_plan ops %zu-%zu)", pivot + 1, pl->mounts.len);
  describe_ops (pl, pivot, pl->mounts.len);
  for (size_t i = 0; i < pl->mounts.warnings_len; i++)
    detail (pl, "warning: %s\n", pl->mounts.warnings[i]);
}

static void
describe_exec_prep (struct planner *pl)
{
  const oci_process *p = pl->cfg->process;
  skiff_error_t err = NULL;
  cleanup_free char *exe = NULL;
  cleanup_close int rootfd = open (pl->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (p->terminal)
    step (pl, "terminal: a pty whose slave is bound on /dev/console and is stdio; the master "
              "goes to --console-socket");
  step (pl, "find the program and enter the working directory");
  if (rootfd >= 0 && plan_resolve_exec (rootfd, p, &exe, &err) == 0)
    {
      char real[PATH_MAX], host[FS_PROC_FD_PATH_MAX];
      cleanup_close int fd = safe_open_in_root (rootfd, exe, O_PATH, 0, NULL);
      ssize_t n = fd >= 0 ? readlink (fs_proc_fd_path (fd, host), real, sizeof real - 1) : -1;
      size_t rl = strlen (pl->rootfs);
      real[n > 0 ? n : 0] = '\0';
      if (n > 0 && strncmp (real, pl->rootfs, rl) == 0 && strcmp (real + rl, exe) != 0)
        detail (pl, "process.args[0] \"%s\" -> %s (the file: %s)\n", p->args[0], exe, real + rl);
      else
        detail (pl, "process.args[0] \"%s\" -> %s\n", p->args[0], exe);
    }
  else
    {
      detail (pl, "%s (create fails here unless a mount provides it)\n",
              err ? err->msg : "rootfs cannot be opened");
      skiff_error_free (&err);
    }
  detail (pl, "cwd %s (created if missing)\n", p->cwd ? p->cwd : "/");
  step (pl, "close every fd above %s", "stdio and --preserve-fds");
}

static bool
in_strv (char **v, size_t n, const char *s)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (v[i], s) == 0)
      return true;
  return false;
}

static void
describe_caps (struct planner *pl)
{
  const oci_capabilities *c = pl->cfg->process->capabilities;
  struct
  {
    const char *name;
    char **v;
    size_t n;
  } sets[] = {
    { "bounding", c ? c->bounding : NULL, c ? c->bounding_len : 0 },
    { "effective", c ? c->effective : NULL, c ? c->effective_len : 0 },
    { "inheritable", c ? c->inheritable : NULL, c ? c->inheritable_len : 0 },
    { "permitted", c ? c->permitted : NULL, c ? c->permitted_len : 0 },
  };
  for (size_t i = 0; i < sizeof sets / sizeof *sets; i++)
    {
      detail (pl, "capabilities.%s: ", sets[i].name);
      strv_join (&pl->out, sets[i].v, sets[i].n, " ");
      strbuf_puts (&pl->out, "\n");
    }
  /* The kernel raises an ambient capability only when it is permitted and
     inheritable; the others are skipped (as runc does). */
  cleanup_strbuf struct skiff_strbuf raised = { 0 }, skipped = { 0 };
  for (size_t i = 0; c && i < c->ambient_len; i++)
    {
      bool ok = in_strv (c->permitted, c->permitted_len, c->ambient[i])
                && in_strv (c->inheritable, c->inheritable_len, c->ambient[i]);
      struct skiff_strbuf *b = ok ? &raised : &skipped;
      strbuf_printf (b, "%s%s", b->len ? " " : "", c->ambient[i]);
    }
  detail (pl, "capabilities.ambient: %s\n", raised.len ? raised.s : "(none)");
  if (skipped.len)
    detail (pl, "  not raised (ambient needs permitted and inheritable): %s\n", skipped.s);
}

static void
describe_seccomp (struct planner *pl, bool early)
{
  const oci_seccomp *s = pl->cfg->linux ? pl->cfg->linux->seccomp : NULL;
  if (s == NULL)
    {
      if (!early)
        step (pl, "seccomp: none (linux.seccomp is not set)");
      return;
    }
  size_t rules = 0, names = 0;
  for (size_t i = 0; i < s->syscalls_len; i++)
    {
      const oci_syscall *sc = s->syscalls[i];
      /* Rules with the default action change nothing and are dropped. */
      if (strcmp (sc->action, s->default_action) == 0
          && sc->errno_ret_present == s->default_errno_ret_present
          && sc->errno_ret == s->default_errno_ret)
        continue;
      rules++;
      names += sc->names_len;
    }
  bool notify = seccomp_prog_notifies (pl->seccomp);
  step (pl, "load the seccomp filter (%s)",
        early ? "before dropping capabilities: no noNewPrivileges" : "after no_new_privs");
  detail (pl, "defaultAction %s", s->default_action);
  if (s->default_errno_ret_present)
    strbuf_printf (&pl->out, " (errno %u)", s->default_errno_ret);
  strbuf_printf (&pl->out, "; %zu rule%s naming %zu syscall%s; notify: %s\n", rules,
                 rules == 1 ? "" : "s", names, names == 1 ? "" : "s",
                 notify ? s->listener_path : "no");
  if (s->architectures_len)
    {
      detail (pl, "architectures: ");
      strv_join (&pl->out, s->architectures, s->architectures_len, " ");
      strbuf_puts (&pl->out, "\n");
    }
  if (s->flags_len)
    {
      detail (pl, "flags: ");
      strv_join (&pl->out, s->flags, s->flags_len, " ");
      strbuf_puts (&pl->out, "\n");
    }
}

/* The init becomes the process before it reports ready, so that what can
   fail fails create (as with runc). */
static void
describe_security (struct planner *pl)
{
  const oci_process *p = pl->cfg->process;
  bool keeps_admin = false;
  for (size_t i = 0; p->capabilities && i < p->capabilities->effective_len; i++)
    keeps_admin |= strcmp (p->capabilities->effective[i], "CAP_SYS_ADMIN") == 0;
  bool early = !p->no_new_privileges && !keeps_admin;
  if (p->apparmor_profile || p->selinux_label)
    {
      step (pl, "set the LSM labels for the execve");
      if (p->apparmor_profile)
        detail (pl, "apparmor profile %s\n", p->apparmor_profile);
      if (p->selinux_label)
        detail (pl, "selinux label %s\n", p->selinux_label);
    }
  if (early)
    describe_seccomp (pl, true);
  step (pl, "drop privileges");
  describe_caps (pl);
  if (p->user)
    {
      detail (pl, "user: uid %u gid %u additionalGids", p->user->uid, p->user->gid);
      for (size_t i = 0; i < p->user->additional_gids_len; i++)
        strbuf_printf (&pl->out, "%s%u", i ? "," : " ", p->user->additional_gids[i]);
      if (p->user->additional_gids_len == 0)
        strbuf_puts (&pl->out, " (none)");
      if (p->user->umask_present)
        strbuf_printf (&pl->out, " umask %04o", p->user->umask);
      strbuf_puts (&pl->out, "\n");
    }
  detail (pl, "no_new_privs: %s\n", p->no_new_privileges ? "yes" : "no");
  if (!early)
    describe_seccomp (pl, false);
  step (pl, "report ready: create returns, the container is \"created\"");
}

static void
describe_start (struct planner *pl)
{
  const oci_process *p = pl->cfg->process;
  const oci_hooks *h = pl->cfg->hooks;
  strbuf_puts (&pl->out, "start:\n");
  if (h)
    describe_hooks (pl, "startContainer",
                    "in the container, as the process's user, under its seccomp filter",
                    h->start_container, h->start_container_len);
  cleanup_free char *exe = NULL;
  skiff_error_t err = NULL;
  cleanup_close int rootfd = open (pl->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0 || plan_resolve_exec (rootfd, p, &exe, &err) < 0)
    skiff_error_free (&err);
  step (pl, "exec %s", exe ? exe : p->args_len ? p->args[0] : "(nothing)");
  detail (pl, "args ");
  json_list (&pl->out, p->args, p->args_len);
  strbuf_puts (&pl->out, "\n");
  detail (pl, "env ");
  json_list (&pl->out, p->env, p->env_len);
  strbuf_puts (&pl->out, "\n");
  bool home = false;
  for (size_t i = 0; i < p->env_len; i++)
    home |= strncmp (p->env[i], "HOME=", 5) == 0;
  if (!home)
    detail (pl, "plus HOME from the container's /etc/passwd for uid %u (else /)\n",
            p->user ? p->user->uid : 0);
  detail (pl, "cwd %s\n", p->cwd ? p->cwd : "/");
  if (h)
    {
      strbuf_puts (&pl->out, "after start:\n");
      describe_hooks (pl, "poststart", "in the runtime, failures are warnings", h->poststart,
                      h->poststart_len);
      describe_hooks (pl, "poststop", "in the runtime at delete, failures are warnings",
                      h->poststop, h->poststop_len);
    }
}

static void
describe_resctrl (struct planner *pl)
{
  const struct resctrl_group *g = &pl->rdt;
  const oci_intel_rdt *rdt = pl->cfg->linux->intel_rdt;
  bool root = strcmp (g->name, "/") == 0;
  step (pl, "resctrl group %s%s%s (%s)", g->root, root ? "" : "/", root ? "" : g->name,
        root          ? "the root group"
        : g->owned    ? "made for the container, removed at delete"
        : !g->existed ? "closID: made, kept at delete"
                      : "exists: kept at delete");
  if (rdt->l3_cache_schema && *rdt->l3_cache_schema)
    detail (pl, "%s schemata: %s  <- l3CacheSchema\n", g->existed ? "must hold" : "write",
            rdt->l3_cache_schema);
  if (rdt->mem_bw_schema && *rdt->mem_bw_schema)
    detail (pl, "%s schemata: %s  <- memBwSchema\n", g->existed ? "must hold" : "write",
            rdt->mem_bw_schema);
  for (size_t i = 0; i < rdt->schemata_len; i++)
    detail (pl, "write schemata: %s  <- schemata[%zu]\n", rdt->schemata[i], i);
  if (g->mon)
    detail (pl, "monitoring group mon_groups/%s (removed at delete)\n", g->mon);
}

static void
describe (struct planner *pl)
{
  const oci_config *c = pl->cfg;
  strbuf_printf (&pl->out, "plan for bundle %s, container \"%s\", on this host\n", pl->bundle,
                 pl->id);
  strbuf_puts (&pl->out, "create:\n");
  step (pl, "read config.json (ociVersion %s); rootfs %s%s", c->oci_version, pl->rootfs,
        c->root && c->root->readonly ? " (read-only)" : "");
  if (pl->no_cgroup)
    step (pl,
          "no cgroup: rootless, and cgroup %s is not writable: the init stays in the "
          "runtime's",
          pl->cg->path);
  else
    step (pl, "cgroup %s (%s manager, cgroup %s host%s)", pl->cg->path, pl->cg->ops->name,
          cgroup_layout_name (pl->cg->layout),
          c->linux && c->linux->cgroups_path ? "" : "; default path: no linux.cgroupsPath");
  if (pl->rdt.name)
    describe_resctrl (pl);
  if (c->linux && c->linux->seccomp)
    step (pl, "compile the seccomp filter before the clone (%s)",
          pl->seccomp ? "ok" : "nothing to compile");
  describe_namespaces (pl);
  if (!pl->no_cgroup)
    step (pl, "%s puts the init in cgroup %s", pl->cg->systemd ? "systemd" : "the runtime",
          pl->cg->path);
  describe_netdevices (pl);
  if (pl->rdt.name)
    step (pl, "the runtime writes the init's pid to the resctrl group's tasks%s",
          pl->rdt.mon ? ", then to its monitoring group's" : "");
  describe_early (pl);
  describe_mounts (pl);
  describe_exec_prep (pl);
  describe_security (pl);
  describe_start (pl);
  for (size_t i = 0; i < pl->warnings_len; i++)
    strbuf_printf (&pl->out, "warning: %s\n", pl->warnings[i]);
}

int
skiff_plan_bundle (struct skiff_context *ctx, const char *bundle, const char *id, char **text,
                   skiff_error_t *err)
{
  struct planner pl = { .ctx = ctx, .id = id ? id : "<id>" };
  int r = prepare (&pl, bundle, err);
  if (r == 0)
    {
      describe (&pl);
      *text = strbuf_steal (&pl.out);
    }
  else
    skiff_error_wrap (err, "plan");
  strbuf_free (&pl.out);
  mount_plan_free (&pl.mounts);
  seccomp_prog_free (pl.seccomp);
  cgroup_free (pl.cg);
  resctrl_group_release (&pl.rdt);
  ns_plan_release (&pl.ns);
  for (size_t i = 0; i < pl.warnings_len; i++)
    free (pl.warnings[i]);
  free (pl.warnings);
  oci_config_free (pl.cfg);
  free (pl.bundle);
  free (pl.rootfs);
  return r;
}

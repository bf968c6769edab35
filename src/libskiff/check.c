/* check: read a bundle the way create would and report every problem
   found, each with config.json:LINE:COL and its JSON path, without
   creating anything.  Each rule reuses the code create runs, so the two
   cannot disagree. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cleanup.h"
#include "fs.h"
#include "fsutil.h"
#include "namespaces.h"
#include "process.h"
#include "rootfs.h"
#include "seccomp.h"
#include "skiff.h"
#include "strbuf.h"
#include "sysctl.h"

struct checker
{
  const char *bundle;
  const char *file; /* as shown in diagnostics */
  oci_config *cfg;
  oci_diags *d;
};

/* Our error messages start with the JSON path they are about
   ("linux.namespaces[2]: ...", "mounts[3] (/x): ..."): find its position. */
static void
add_from_error (struct checker *k, int severity, skiff_error_t *err)
{
  char path[256] = "";
  const char *m = (*err)->msg;
  size_t n = strcspn (m, " :");
  unsigned line = 0, col = 0;
  if (n < sizeof path && n > 0)
    {
      memcpy (path, m, n);
      path[n] = '\0';
      if (!oci_config_position (k->cfg, path, &line, &col))
        path[0] = '\0';
    }
  /* Drop the path (and ": ") from the message: the diagnostic shows it. */
  const char *rest = m;
  if (path[0])
    {
      rest = m + n;
      while (*rest == ':' || *rest == ' ')
        rest++;
    }
  oci_diags_add (k->d, severity, k->file, line, col, path[0] ? path : NULL, "%s", rest);
  skiff_error_free (err);
}

static void add_at (struct checker *k, int severity, const char *path, const char *fmt,
                    const char *a) __attribute__ ((format (printf, 4, 0)));

static void
add_at (struct checker *k, int severity, const char *path, const char *fmt, const char *a)
{
  unsigned line = 0, col = 0;
  oci_config_position (k->cfg, path, &line, &col);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  oci_diags_add (k->d, severity, k->file, line, col, path, fmt, a);
#pragma GCC diagnostic pop
}

static void
check_root (struct checker *k)
{
  const oci_root *r = k->cfg->root;
  char p[PATH_MAX];
  struct stat st;
  if (r == NULL)
    {
      oci_diags_add (k->d, OCI_DIAG_ERROR, k->file, 0, 0, "root",
                     "missing: a container needs a root filesystem");
      return;
    }
  snprintf (p, sizeof p, "%s%s%s", r->path[0] == '/' ? "" : k->bundle,
            r->path[0] == '/' ? "" : "/", r->path);
  if (stat (p, &st) < 0)
    add_at (k, OCI_DIAG_ERROR, "root.path", "`%s` does not exist", p);
  else if (!S_ISDIR (st.st_mode))
    add_at (k, OCI_DIAG_ERROR, "root.path", "`%s` is not a directory", p);
}

static void
check_process (struct checker *k, const struct ns_plan *ns)
{
  const oci_process *p = k->cfg->process;
  skiff_error_t err = NULL;
  if (p == NULL)
    {
      oci_diags_add (k->d, OCI_DIAG_ERROR, k->file, 0, 0, "process",
                     "missing: create needs a process to run");
      return;
    }
  if (process_check_caps (p, true, &err) < 0)
    add_from_error (k, OCI_DIAG_ERROR, &err);
  if (p->cwd && p->cwd[0] != '/')
    add_at (k, OCI_DIAG_ERROR, "process.cwd", "`%s` must be an absolute path", p->cwd);
  if (p->args_len == 0)
    oci_diags_add (k->d, OCI_DIAG_ERROR, k->file, 0, 0, "process.args",
                   "missing: name the program to run");
  (void) ns;
}

static void
check_hooks_of (struct checker *k, const char *phase, oci_hook **h, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      char path[96];
      snprintf (path, sizeof path, "hooks.%s[%zu].path", phase, i);
      if (h[i]->path[0] != '/')
        add_at (k, OCI_DIAG_ERROR, path, "`%s` must be an absolute path", h[i]->path);
      else if (access (h[i]->path, X_OK) < 0)
        add_at (k, OCI_DIAG_ERROR, path, "`%s` is not an executable file on this host",
                h[i]->path);
    }
}

static void
check_hooks (struct checker *k)
{
  const oci_hooks *h = k->cfg->hooks;
  if (h == NULL)
    return;
  check_hooks_of (k, "prestart", h->prestart, h->prestart_len);
  check_hooks_of (k, "createRuntime", h->create_runtime, h->create_runtime_len);
  check_hooks_of (k, "createContainer", h->create_container, h->create_container_len);
  check_hooks_of (k, "startContainer", h->start_container, h->start_container_len);
  check_hooks_of (k, "poststart", h->poststart, h->poststart_len);
  check_hooks_of (k, "poststop", h->poststop, h->poststop_len);
}

/* Host checks: what this kernel or host cannot do (warnings). */
static void
check_host (struct checker *k, const struct ns_plan *ns)
{
  const oci_linux *l = k->cfg->linux;
  for (size_t i = 0; l && i < l->namespaces_len; i++)
    {
      char p[64], path[64];
      int flag = ns_flag_from_type (l->namespaces[i]->type);
      snprintf (p, sizeof p, "/proc/self/ns/%s", ns_proc_name (flag));
      snprintf (path, sizeof path, "linux.namespaces[%zu]", i);
      if (flag && access (p, F_OK) < 0)
        add_at (k, OCI_DIAG_WARNING, path, "this kernel has no %s namespace",
                l->namespaces[i]->type);
    }
  if (l && l->resources && l->resources->unified && l->resources->unified->len
      && cgroup_detect_layout () == CGROUP_LAYOUT_V1)
    add_at (k, OCI_DIAG_WARNING, "linux.resources.unified",
            "cgroup v2 keys cannot be applied on this %s host", "cgroup v1");
  if (k->cfg->process && k->cfg->process->selinux_label && access ("/sys/fs/selinux/enforce", F_OK) < 0)
    add_at (k, OCI_DIAG_WARNING, "process.selinuxLabel", "SELinux is not enabled on this host: `%s` cannot be applied",
            k->cfg->process->selinux_label);
  (void) ns;
}

static void
check_rules (struct checker *k)
{
  skiff_error_t err = NULL;
  struct ns_plan ns = { 0 };
  check_root (k);
  if (ns_plan_build (k->cfg, &ns, &err) < 0)
    add_from_error (k, OCI_DIAG_ERROR, &err);
  else
    {
      if (!ns_plan_has (&ns, CLONE_NEWNS))
        oci_diags_add (k->d, OCI_DIAG_ERROR, k->file, 0, 0, "linux.namespaces",
                       "a mount namespace is required");
      if (k->cfg->hostname && !ns_plan_has (&ns, CLONE_NEWUTS))
        add_at (k, OCI_DIAG_ERROR, "hostname", "`%s` needs a uts namespace", k->cfg->hostname);
      if (k->cfg->domainname && !ns_plan_has (&ns, CLONE_NEWUTS))
        add_at (k, OCI_DIAG_ERROR, "domainname", "`%s` needs a uts namespace",
                k->cfg->domainname);
      if (sysctl_validate (k->cfg->linux, &ns, &err) < 0)
        add_from_error (k, OCI_DIAG_ERROR, &err);
    }
  check_process (k, &ns);
  check_hooks (k);
  struct rootfs_spec rs = { .config = k->cfg, .bundle = k->bundle, .rootfs = "/nonexistent" };
  struct mount_plan plan = { 0 };
  if (mount_plan_build (&rs, &plan, &err) < 0)
    add_from_error (k, OCI_DIAG_ERROR, &err);
  for (size_t i = 0; i < plan.warnings_len; i++)
    oci_diags_add (k->d, OCI_DIAG_WARNING, k->file, 0, 0, NULL, "%s", plan.warnings[i]);
  mount_plan_free (&plan);
  struct seccomp_prog *prog = NULL;
  if (seccomp_prepare (k->cfg->linux ? k->cfg->linux->seccomp : NULL, NULL, &prog, &err) < 0)
    add_from_error (k, OCI_DIAG_ERROR, &err);
  seccomp_prog_free (prog);
  check_host (k, &ns);
  ns_plan_release (&ns);
}

int
skiff_check_bundle (const char *bundle, oci_diags *d, skiff_error_t *err)
{
  char path[PATH_MAX];
  cleanup_free char *data = NULL;
  size_t len = 0;
  snprintf (path, sizeof path, "%s/config.json", bundle);
  if (read_file_at (AT_FDCWD, path, &data, &len, err) < 0)
    return -1;
  oci_parse_opts opts = { .filename = path, .keep_positions = true };
  struct checker k = { .bundle = bundle, .file = path, .d = d };
  k.cfg = oci_config_parse_data (data, len, &opts, d);
  if (k.cfg == NULL)
    return 0; /* the parser reported every problem */
  check_rules (&k);
  oci_config_free (k.cfg);
  return 0;
}

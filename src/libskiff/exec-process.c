#include "config.h"
#include "exec-process.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup.h"
#include "cleanup.h"
#include "container.h"
#include "fsutil.h"
#include "process.h"
#include "state.h"

static char **
strv_append (char **v, size_t *len, const char *s)
{
  char **n = realloc (v, (*len + 1) * sizeof *n);
  if (n == NULL || (n[*len] = strdup (s)) == NULL)
    abort ();
  (*len)++;
  return n;
}

/* --env NAME=value replaces the config's NAME (as with runc): a duplicate
   would leave the process reading the first, old value.  A bare NAME, as
   in the config, is kept as given. */
static void
set_env (oci_process *p, const char *kv)
{
  const char *eq = strchr (kv, '=');
  size_t n = eq ? (size_t)(eq - kv) : strlen (kv);
  for (size_t i = 0; i < p->env_len; i++)
    if (strncmp (p->env[i], kv, n) == 0 && (p->env[i][n] == '=' || p->env[i][n] == '\0'))
      {
        char *v = strdup (kv);
        if (v == NULL)
          abort ();
        free (p->env[i]);
        p->env[i] = v;
        return;
      }
  p->env = strv_append (p->env, &p->env_len, kv);
}

/* A deep copy of the container's process, through its own JSON. */
static int
copy_process (const oci_process *src, oci_process **out, skiff_error_t *err)
{
  oci_diags d = { 0 };
  size_t len = 0;
  cleanup_free char *json = NULL;
  oci_process empty = { 0 };
  json = oci_process_emit (src ? src : &empty, false, &len, &d);
  if (json)
    *out = oci_process_parse_data (json, len, NULL, &d);
  oci_diags_free (&d);
  if (json == NULL || *out == NULL)
    return skiff_error (err, 0, "copy the container's process");
  return 0;
}

#define ID_RANGE "a uid or gid is 0 to 4294967294 (4294967295 is -1, \"unchanged\" to the kernel)"

/* A uid or gid: decimal digits only (strtoul would take "-1" and wrap
   4294967296 to 0, root), never (uid_t)-1.  *end: where it stopped. */
static bool
parse_id (const char *s, uint32_t *id, const char **end)
{
  uint64_t v = 0;
  const char *p = s;
  for (; *p >= '0' && *p <= '9'; p++)
    if ((v = v * 10 + (uint64_t)(*p - '0')) >= UINT32_MAX)
      return false;
  *id = (uint32_t)v;
  *end = p;
  return p != s;
}

static int
apply_user (oci_process *p, const char *spec, skiff_error_t *err)
{
  const char *end;
  uint32_t uid, gid = 0;
  if (!parse_id (spec, &uid, &end) || (*end && *end != ':')
      || (*end == ':' && (!parse_id (end + 1, &gid, &end) || *end)))
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "--user `%s`: expected UID[:GID]; " ID_RANGE, spec);
  if (p->user == NULL && (p->user = calloc (1, sizeof *p->user)) == NULL)
    abort ();
  p->user->uid = uid;
  p->user->gid = gid;
  return 0;
}

static void
add_caps (oci_process *p, char **caps, size_t n)
{
  if (n && p->capabilities == NULL
      && (p->capabilities = calloc (1, sizeof *p->capabilities)) == NULL)
    abort ();
  /* Never inheritable (CVE-2022-29162). */
  for (size_t i = 0; i < n; i++)
    {
      oci_capabilities *c = p->capabilities;
      c->bounding = strv_append (c->bounding, &c->bounding_len, caps[i]);
      c->effective = strv_append (c->effective, &c->effective_len, caps[i]);
      c->permitted = strv_append (c->permitted, &c->permitted_len, caps[i]);
      c->ambient = strv_append (c->ambient, &c->ambient_len, caps[i]);
    }
}

static int
apply_overrides (oci_process *p, const struct skiff_exec_opts *o, skiff_error_t *err)
{
  for (size_t i = 0; i < p->args_len; i++)
    free (p->args[i]);
  free (p->args);
  p->args = NULL;
  p->args_len = 0;
  for (char **a = o->args; a && *a; a++)
    p->args = strv_append (p->args, &p->args_len, *a);
  for (size_t i = 0; i < o->env_len; i++)
    set_env (p, o->env[i]);
  if (o->cwd)
    {
      free (p->cwd);
      p->cwd = strdup (o->cwd);
    }
  if (o->user && apply_user (p, o->user, err) < 0)
    return -1;
  for (size_t i = 0; i < o->additional_gids_len; i++)
    {
      const char *end;
      uint32_t g;
      if (!parse_id (o->additional_gids[i], &g, &end) || *end)
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "--additional-gids `%s`: not a gid; " ID_RANGE,
                                     o->additional_gids[i]);
      if (p->user == NULL && (p->user = calloc (1, sizeof *p->user)) == NULL)
        abort ();
      uint32_t *ng
          = realloc (p->user->additional_gids, (p->user->additional_gids_len + 1) * sizeof *ng);
      if (ng == NULL)
        abort ();
      ng[p->user->additional_gids_len++] = g;
      p->user->additional_gids = ng;
    }
  add_caps (p, o->caps, o->caps_len);
  p->terminal = o->tty == 1;
  if (o->no_new_privs)
    p->no_new_privileges = true;
  if (o->process_label)
    {
      free (p->selinux_label);
      p->selinux_label = strdup (o->process_label);
    }
  if (o->apparmor)
    {
      free (p->apparmor_profile);
      p->apparmor_profile = strdup (o->apparmor);
    }
  return 0;
}

static int
load_process (const oci_config *cfg, const struct skiff_exec_opts *o, oci_process **out,
              skiff_error_t *err)
{
  if (o->process_file)
    {
      oci_diags d = { 0 };
      cleanup_free char *json = NULL;
      size_t len = 0;
      oci_parse_opts po = { .filename = o->process_file };
      /* the caller's own file: a pipe (/dev/stdin) is fine here, unlike
         a bundle's config.json */
      if (read_file_at (AT_FDCWD, o->process_file, &json, &len, err) < 0)
        return skiff_error_wrap (err, "--process");
      *out = oci_process_parse_data (json, len, &po, &d);
      if (*out == NULL)
        {
          cleanup_free char *m = d.len ? oci_diag_format (&d.items[0]) : NULL;
          skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0, "--process: %s",
                                m ? m : o->process_file);
          oci_diags_free (&d);
          return -1;
        }
      oci_diags_free (&d);
      if (o->tty >= 0)
        (*out)->terminal = o->tty == 1;
      return 0;
    }
  if (o->args == NULL || o->args[0] == NULL)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "exec: give a command or --process FILE");
  if (copy_process (cfg->process, out, err) < 0)
    return -1;
  return apply_overrides (*out, o, err);
}

int
exec_target_open (struct skiff_context *ctx, const char *id, const struct skiff_exec_opts *o,
                  struct exec_target *t, skiff_error_t *err)
{
  struct state_dir sd = STATE_DIR_INIT;
  skiff_status *st = NULL;
  int ret = -1;
  memset (t, 0, sizeof *t);
  if (state_dir_open (ctx->root, id, false, &sd, err) < 0 || state_read (&sd, &st, err) < 0)
    goto out;
  container_status s = state_status (&sd, st);
  /* --ignore-paused (runc's): the process joins the frozen cgroup, and
     it (and this exec) goes on when the container is resumed. */
  if (s == STATUS_PAUSED && !o->ignore_paused)
    {
      skiff_error_kind_set (err, SKIFF_ERR_BAD_STATE, 0,
                            "cannot exec in container `%s`: container not running (paused); "
                            "--ignore-paused execs anyway, and the process starts on resume",
                            id);
      goto out;
    }
  if (s != STATUS_PAUSED && container_check_allowed (id, s, VERB_EXEC, err) < 0)
    goto out;
  if (container_load_config (&sd, &t->config, err) < 0
      || load_process (t->config, o, &t->process, err) < 0)
    goto out;
  t->pid = st->pid;
  t->pid_start = st->pid_start;
  t->id = id;
  t->no_new_keyring = st->no_new_keyring_present && st->no_new_keyring;
  if (st->cgroup_path)
    t->cgroup = cgroup_from_path (st->cgroup_path);
  if (st->intel_rdt_group)
    {
      cleanup_free char *root = NULL;
      if (resctrl_find_root ("linux.intelRdt", &root, err) < 0
          || resctrl_group_from_status (root, st, &t->rdt, err) < 0)
        goto out;
    }
  ret = 0;
out:
  if (ret < 0) /* the config loaded, but --process or an override was bad */
    {
      exec_target_release (t);
      memset (t, 0, sizeof *t);
    }
  skiff_status_free (st);
  state_dir_close (&sd);
  return ret;
}

void
exec_target_release (struct exec_target *t)
{
  oci_config_free (t->config);
  oci_process_free (t->process);
  cgroup_free (t->cgroup);
  resctrl_group_release (&t->rdt);
}

char **
exec_build_env (const oci_process *p)
{
  char **env = calloc (p->env_len + EXEC_ENV_SPARE, sizeof *env);
  if (env == NULL)
    abort ();
  for (size_t i = 0; i < p->env_len; i++)
    env[i] = p->env[i];
  process_env_dedup (env, p->env_len);
  return env;
}

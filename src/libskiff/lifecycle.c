/* start, state, kill, delete and list: the verbs that act on an existing
   container.  The allowed transitions are checked in one table. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cleanup.h"
#include "container.h"
#include "fsutil.h"
#include "hooks.h"
#include "log.h"
#include "notify.h"
#include "resctrl.h"
#include "rootless.h"

static const char *const verb_names[VERB_COUNT]
    = { "start", "kill", "delete", "exec", "pause", "resume", "kill" };

/* allowed[status][verb] */
static const bool allowed[][VERB_COUNT] = {
  [STATUS_CREATING] = { [VERB_DELETE] = true },
  /* runc lets exec join a created container too, and pause it. */
  [STATUS_CREATED] = { [VERB_START] = true,
                       [VERB_KILL] = true,
                       [VERB_DELETE] = true,
                       [VERB_EXEC] = true,
                       [VERB_PAUSE] = true,
                       [VERB_KILL_ALL] = true },
  [STATUS_RUNNING]
  = { [VERB_KILL] = true, [VERB_EXEC] = true, [VERB_PAUSE] = true, [VERB_KILL_ALL] = true },
  [STATUS_PAUSED] = { [VERB_KILL] = true, [VERB_RESUME] = true, [VERB_KILL_ALL] = true },
  /* As runc: kill --all reaches what outlived the init in its cgroup (a
     shared pid namespace keeps them alive), so a shim can reap them. */
  [STATUS_STOPPED] = { [VERB_DELETE] = true, [VERB_KILL_ALL] = true },
};

int
container_check_allowed (const char *id, container_status s, enum verb v, skiff_error_t *err)
{
  if (allowed[s][v])
    return 0;
  if (v == VERB_KILL || v == VERB_KILL_ALL || v == VERB_EXEC || v == VERB_PAUSE)
    return skiff_error_kind_set (err, SKIFF_ERR_BAD_STATE, 0,
                                 "cannot %s container `%s`: container not running (%s)",
                                 verb_names[v], id, status_name (s));
  if (v == VERB_DELETE)
    return skiff_error_kind_set (
        err, SKIFF_ERR_BAD_STATE, 0,
        "cannot delete container `%s` that is not stopped: %s (use --force)", id, status_name (s));
  return skiff_error_kind_set (err, SKIFF_ERR_BAD_STATE, 0, "cannot %s container `%s`: it is %s",
                               verb_names[v], id, status_name (s));
}

char *
container_state_json (const skiff_status *st, pid_t pid, const char *status, bool full, bool pretty)
{
  oci_state s = {
    .oci_version = (char *)OCI_SPEC_VERSION,
    .id = st->id,
    .status = (char *)status,
    .pid = (int)pid,
    .pid_present = true,
    .bundle = st->bundle,
    .annotations = st->annotations,
  };
  if (full)
    {
      s.rootfs = st->rootfs;
      s.created = st->created;
      s.owner = st->owner ? st->owner : (char *)"";
    }
  oci_diags d = { 0 };
  char *json = oci_state_emit (&s, pretty, NULL, &d);
  oci_diags_free (&d);
  if (json == NULL)
    abort ();
  return json;
}

int
config_load_file (const char *path, oci_config **out, char **raw, size_t *raw_len,
                  skiff_error_t *err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;
  if (read_regular_file_at (AT_FDCWD, path, &data, &len, err) < 0)
    {
      (*err)->kind = SKIFF_ERR_INVALID_CONFIG;
      return -1;
    }
  oci_diags d = { 0 };
  oci_parse_opts opts = { .filename = path };
  *out = oci_config_parse_data (data, len, &opts, &d);
  if (*out == NULL)
    {
      cleanup_free char *first = d.len ? oci_diag_format (&d.items[0]) : NULL;
      skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0, "%s%s", first ? first : path,
                            d.len > 1 ? " (and more: run `skiff check`)" : "");
      oci_diags_free (&d);
      return -1;
    }
  oci_diags_free (&d);
  if (raw)
    {
      *raw = steal_pointer (&data);
      *raw_len = len;
    }
  return 0;
}

int
container_load_config (struct state_dir *sd, oci_config **out, skiff_error_t *err)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/config.json", sd->path);
  return config_load_file (path, out, NULL, NULL, err);
}

/* start and delete parse the saved config only for their hooks: whether
   `key` (with its quotes) may be in it.  Parsing costs ~0.2 ms, ~0.5-1 ms
   with a seccomp profile; a byte search does not.  A key can be spelled
   otherwise only with a \u escape, so any "\u" means maybe, and so does
   anything that cannot be read (the parse then reports it). */
static bool
config_may_have (struct state_dir *sd, const char *key)
{
  cleanup_close int fd = openat (sd->dir_fd, "config.json", O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat (fd, &st) < 0 || st.st_size <= 0 || st.st_size > (64 << 20))
    return true;
  cleanup_free char *buf = malloc ((size_t)st.st_size);
  size_t len = 0;
  while (buf && len < (size_t)st.st_size)
    {
      ssize_t n = read (fd, buf + len, (size_t)st.st_size - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return true;
      len += (size_t)n;
    }
  return buf == NULL || memmem (buf, len, key, strlen (key)) != NULL
         || memmem (buf, len, "\\u", 2) != NULL;
}

void
container_hooks_warn (const char *phase, oci_hook **hooks, size_t n, const char *state_json,
                      const char *cwd)
{
  for (size_t i = 0; i < n; i++)
    {
      skiff_error_t e = NULL;
      if (hooks_run_one (phase, i, hooks[i], state_json, cwd, &e) < 0)
        {
          skiff_warn ("%s", e->msg);
          skiff_error_free (&e);
        }
    }
}

struct opened
{
  struct state_dir sd;
  skiff_status *st;
  container_status status;
};

static void
opened_release (struct opened *o)
{
  skiff_status_free (o->st);
  state_dir_close (&o->sd);
}
#define cleanup_opened __attribute__ ((cleanup (opened_release)))

static int
open_container (struct skiff_context *ctx, const char *id, bool lock, struct opened *o,
                skiff_error_t *err)
{
  o->sd = (struct state_dir)STATE_DIR_INIT;
  o->st = NULL;
  if (state_dir_open (ctx->root, id, lock, &o->sd, err) < 0 || state_read (&o->sd, &o->st, err) < 0)
    return -1;
  o->status = state_status (&o->sd, o->st);
  return 0;
}

/* Read the init's padding and its blocked byte, which releases it; then
   "0" (it goes on to exec) or "E<message>" (a startContainer hook failed).
   The init holds the fifo read-write: EOF means it is gone. */
static int
release_init (struct opened *o, skiff_error_t *err)
{
  cleanup_close int fd = openat (o->sd.dir_fd, "exec.fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  char msg[1024];
  size_t msg_len = 0;
  bool failed = false;
  if (fd < 0)
    return skiff_error (err, errno, "open the exec fifo");
  for (;;)
    {
      char b[4096];
      ssize_t n = read (fd, b, sizeof b);
      for (ssize_t i = 0; i < n; i++)
        if (failed && msg_len < sizeof msg - 1)
          msg[msg_len++] = b[i];
        else if (b[i] == 'E')
          failed = true;
        else if (b[i] == '0' && !failed)
          return 0;
      if (n > 0)
        continue;
      if (n == 0 || (errno != EAGAIN && errno != EINTR) || !state_process_alive (o->st))
        break;
      struct pollfd p = { .fd = fd, .events = POLLIN };
      poll (&p, 1, 100);
    }
  msg[msg_len] = '\0';
  if (failed)
    return skiff_error (err, 0, "%s", msg);
  return skiff_error (err, ESRCH,
                      "container `%s`: the init process exited during start (a startContainer "
                      "hook failed or the container was killed; see the container's stderr)",
                      o->st->id);
}

/* linux.intelRdt: the container's MON group, and its group when create
   made it for the container alone.  Without a resctrl mount there is
   nothing left: unmounting removed every group. */
static int
delete_resctrl (const skiff_status *st, skiff_error_t *err)
{
  cleanup_free char *root = NULL;
  cleanup_resctrl_group struct resctrl_group g = { 0 };
  skiff_error_t e = NULL;
  if (resctrl_find_root ("linux.intelRdt", &root, &e) < 0)
    {
      skiff_error_free (&e);
      return 0;
    }
  if (resctrl_group_from_status (root, st, &g, err) < 0)
    return -1;
  return resctrl_group_delete (&g, err);
}

/* Kill what is left, run the poststop hooks, remove the cgroup and the
   state: delete, and start after a failing poststart hook. */
static int
destroy_opened (struct opened *o, const char *id, skiff_error_t *err)
{
  cleanup_oci_config oci_config *cfg = NULL;
  if (container_kill_and_wait (o->st, err) < 0)
    return -1;
  skiff_error_t e = NULL;
  if (config_may_have (&o->sd, "\"poststop\"") && container_load_config (&o->sd, &cfg, &e) == 0
      && cfg->hooks && cfg->hooks->poststop_len)
    {
      cleanup_free char *state = container_state_json (o->st, 0, "stopped", false, false);
      container_hooks_warn ("poststop", cfg->hooks->poststop, cfg->hooks->poststop_len, state,
                            o->st->bundle);
    }
  skiff_error_free (&e);
  if (o->st->cgroup_path)
    {
      cleanup_cgroup struct skiff_cgroup *cg = cgroup_from_path (o->st->cgroup_path);
      if (cgroup_destroy (cg, err) < 0)
        return skiff_error_wrap (err, "delete container `%s`", id);
    }
  if (o->st->intel_rdt_group && delete_resctrl (o->st, err) < 0)
    return skiff_error_wrap (err, "delete container `%s`", id);
  return state_dir_remove (&o->sd, err);
}

int
skiff_container_start (struct skiff_context *ctx, const char *id, skiff_error_t *err)
{
  cleanup_opened struct opened o;
  cleanup_oci_config oci_config *cfg = NULL;
  if (open_container (ctx, id, true, &o, err) < 0
      || container_check_allowed (id, o.status, VERB_START, err) < 0)
    return -1;
  if (config_may_have (&o.sd, "\"poststart\"") && container_load_config (&o.sd, &cfg, err) < 0)
    return skiff_error_wrap (err, "start container `%s`", id);
  cleanup_close int notify = o.st->notify_socket ? notify_listen (&o.sd, err) : -2;
  unsigned long long t0 = skiff_now_ns ();
  if (notify == -1 || release_init (&o, err) < 0)
    return skiff_error_wrap (err, "start container `%s`", id);
  skiff_debug_phase ("start: release the init (exec fifo)", t0);
  unlinkat (o.sd.dir_fd, "exec.fifo", 0);
  /* As runc: the caller's own NOTIFY_SOCKET wins over the one at create. */
  const char *host = getenv ("NOTIFY_SOCKET") ? getenv ("NOTIFY_SOCKET") : o.st->notify_socket;
  if (notify >= 0 && notify_wait_ready (notify, o.st, host, err) < 0)
    return skiff_error_wrap (err, "start container `%s`", id);
  if (cfg && cfg->hooks && cfg->hooks->poststart_len)
    {
      cleanup_free char *state = container_state_json (o.st, o.st->pid, "running", false, false);
      t0 = skiff_now_ns ();
      /* runtime-spec 1.3: a failing poststart hook is an error; the
         container is stopped and deleted (as runc 1.2+ does). */
      if (hooks_run ("poststart", cfg->hooks->poststart, cfg->hooks->poststart_len, state,
                     o.st->bundle, err)
          < 0)
        {
          skiff_error_t e = NULL;
          if (destroy_opened (&o, id, &e) < 0)
            {
              skiff_warn ("%s", e->msg);
              skiff_error_free (&e);
            }
          return skiff_error_wrap (err, "start container `%s` (stopped and deleted)", id);
        }
      skiff_debug_phase ("hooks (poststart)", t0);
    }
  return 0;
}

int
skiff_container_state (struct skiff_context *ctx, const char *id, char **json, skiff_error_t *err)
{
  cleanup_opened struct opened o;
  if (open_container (ctx, id, false, &o, err) < 0)
    return -1;
  pid_t pid = o.status == STATUS_STOPPED ? 0 : o.st->pid;
  *json = container_state_json (o.st, pid, status_name (o.status), true, true);
  return 0;
}

static int
signal_init (const skiff_status *st, int sig, skiff_error_t *err)
{
  /* A pidfd pins the process: after the start-time check, the signal cannot
     reach a recycled pid. */
  cleanup_close int pidfd = (int)syscall (SYS_pidfd_open, st->pid, 0);
  if (pidfd < 0)
    {
      if (errno == ESRCH)
        return skiff_error_kind_set (err, SKIFF_ERR_BAD_STATE, ESRCH, "container not running");
      if (kill (st->pid, sig) < 0)
        return skiff_error (err, errno, "kill");
      return 0;
    }
  if (!state_process_alive (st))
    return skiff_error_kind_set (err, SKIFF_ERR_BAD_STATE, ESRCH, "container not running");
  if (syscall (SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
    return skiff_error (err, errno, "send signal %d", sig);
  return 0;
}

int
skiff_container_kill (struct skiff_context *ctx, const char *id, int sig, bool all,
                      skiff_error_t *err)
{
  cleanup_opened struct opened o;
  if (open_container (ctx, id, false, &o, err) < 0)
    return -1;
  if (container_check_allowed (id, o.status, all ? VERB_KILL_ALL : VERB_KILL, err) < 0)
    return -1;
  if (all && o.st->cgroup_path)
    {
      cleanup_cgroup struct skiff_cgroup *cg = cgroup_from_path (o.st->cgroup_path);
      return cgroup_kill_all (cg, sig, err);
    }
  if (all && o.status == STATUS_STOPPED)
    return 0; /* no cgroup: nothing of it can be left */
  if (signal_init (o.st, sig, err) < 0)
    return -1;
  if (sig == SIGKILL && o.status == STATUS_PAUSED)
    {
      /* A frozen task dies only once thawed. */
      cleanup_cgroup struct skiff_cgroup *cg = cgroup_from_path (o.st->cgroup_path);
      cgroup_freeze (cg, false, NULL);
    }
  return 0;
}

static int
freeze_verb (struct skiff_context *ctx, const char *id, enum verb v, skiff_error_t *err)
{
  cleanup_opened struct opened o;
  if (open_container (ctx, id, true, &o, err) < 0
      || container_check_allowed (id, o.status, v, err) < 0)
    return -1;
  if (o.st->cgroup_path == NULL)
    return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, 0, "cannot %s container `%s`: %s",
                                 verb_names[v], id, container_no_cgroup (o.st));
  cleanup_cgroup struct skiff_cgroup *cg = cgroup_from_path (o.st->cgroup_path);
  if (cgroup_freeze (cg, v == VERB_PAUSE, err) < 0)
    return skiff_error_wrap (err, "%s container `%s`", verb_names[v], id);
  return 0;
}

int
skiff_container_pause (struct skiff_context *ctx, const char *id, skiff_error_t *err)
{
  return freeze_verb (ctx, id, VERB_PAUSE, err);
}

int
skiff_container_resume (struct skiff_context *ctx, const char *id, skiff_error_t *err)
{
  return freeze_verb (ctx, id, VERB_RESUME, err);
}

const char *
container_no_cgroup (const skiff_status *st)
{
  return st->rootless ? ROOTLESS_NO_CGROUP : "it has no cgroup";
}

int
container_kill_and_wait (const skiff_status *st, skiff_error_t *err)
{
  if (st->cgroup_path)
    {
      cleanup_cgroup struct skiff_cgroup *cg = cgroup_from_path (st->cgroup_path);
      cgroup_kill_all (cg, SIGKILL, NULL);
    }
  if (state_process_alive (st))
    kill (st->pid, SIGKILL);
  for (int i = 0; i < 1000 && state_process_alive (st); i++)
    {
      struct timespec ts = { 0, 5 * 1000 * 1000 };
      nanosleep (&ts, NULL);
    }
  if (state_process_alive (st))
    return skiff_error (err, ETIMEDOUT, "container `%s`: the init does not die", st->id);
  return 0;
}

/* --force of a container whose state.json cannot be read: the cgroup that
   its saved config.json names absolutely (or as a systemd slice:prefix:name)
   is the container's (create refused it if it held anything else), so it
   is killed and removed; a default or relative cgroupsPath depends on the
   caller's own cgroup and proves nothing, so what ran there is left, with
   a warning.  The state directory goes either way. */
static int
delete_broken (struct skiff_context *ctx, const char *id, struct state_dir *sd, skiff_error_t *err)
{
  skiff_warn ("%s: deleting it by its saved config.json", (*err)->msg);
  skiff_error_free (err);
  cleanup_oci_config oci_config *cfg = NULL;
  skiff_error_t e = NULL;
  const char *path = NULL;
  if (container_load_config (sd, &cfg, &e) == 0 && cfg->linux)
    path = cfg->linux->cgroups_path;
  skiff_error_free (&e);
  if (path && (ctx->systemd_cgroup ? strchr (path, ':') != NULL : path[0] == '/'))
    {
      cleanup_cgroup struct skiff_cgroup *cg = NULL;
      if ((ctx->systemd_cgroup ? cgroup_new_systemd (path, id, &cg, err)
                               : cgroup_new (path, id, &cg, err))
              < 0
          || cgroup_destroy (cg, err) < 0)
        return skiff_error_wrap (err, "delete container `%s`", id);
    }
  else
    skiff_warn ("delete container `%s`: its saved config.json names no absolute "
                "linux.cgroupsPath: its processes, if any, cannot be proved its own and are left",
                id);
  if (cfg && cfg->linux && cfg->linux->intel_rdt)
    skiff_warn ("delete container `%s`: without its state.json, what create made in the resctrl "
                "filesystem (linux.intelRdt) cannot be told from what it found there, and is left",
                id);
  return state_dir_remove (sd, err);
}

int
skiff_container_delete (struct skiff_context *ctx, const char *id, bool force, skiff_error_t *err)
{
  cleanup_opened struct opened o;
  if (open_container (ctx, id, true, &o, err) < 0)
    {
      /* --force: a missing container is already deleted, and one whose
         create died before state.json was written is just a directory. */
      if (!force)
        return -1;
      if ((*err)->kind == SKIFF_ERR_NOT_FOUND)
        {
          skiff_error_free (err);
          return o.sd.dir_fd >= 0 ? state_dir_remove (&o.sd, err) : 0;
        }
      return o.sd.dir_fd >= 0 ? delete_broken (ctx, id, &o.sd, err) : -1;
    }
  if (!force && container_check_allowed (id, o.status, VERB_DELETE, err) < 0)
    return -1;
  return destroy_opened (&o, id, err);
}

/* As runc: `list` names the owner of the state directory (resolved now,
   not at create, which would pay an NSS lookup every start); "#UID" when
   the uid has no name.  `state` prints "". */
static char *
state_owner_name (const struct state_dir *sd)
{
  struct stat st;
  char *name = NULL;
  if (fstat (sd->dir_fd, &st) < 0)
    return strdup ("");
  struct passwd *pw = getpwuid (st.st_uid);
  if ((pw ? asprintf (&name, "%s", pw->pw_name) : asprintf (&name, "#%u", (unsigned)st.st_uid)) < 0)
    abort ();
  return name;
}

/* A container whose state cannot be read: listed with status "unknown"
   (the reason went to the log), not left out. */
static int
list_broken (const char *id, struct skiff_list_entry *e)
{
  *e = (struct skiff_list_entry){ .id = strdup (id),
                                  .status = strdup ("unknown"),
                                  .bundle = strdup (""),
                                  .created = strdup (""),
                                  .owner = strdup ("") };
  /* ids are [A-Za-z0-9_+.-]: nothing to escape */
  if (asprintf (&e->json,
                "{\"ociVersion\":\"" OCI_SPEC_VERSION "\",\"id\":\"%s\",\"pid\":0,"
                "\"status\":\"unknown\",\"bundle\":\"\"}",
                id)
      < 0)
    abort ();
  return 0;
}

static int
list_one (struct skiff_context *ctx, const char *id, struct skiff_list_entry *e)
{
  cleanup_opened struct opened o;
  skiff_error_t err = NULL;
  if (open_container (ctx, id, false, &o, &err) < 0)
    {
      /* no state.json yet: a create in progress, not listed */
      bool show = o.sd.dir_fd >= 0 && err->kind != SKIFF_ERR_NOT_FOUND;
      if (show)
        skiff_warn ("%s", err->msg);
      skiff_error_free (&err);
      return show ? list_broken (id, e) : -1;
    }
  pid_t pid = o.status == STATUS_STOPPED ? 0 : o.st->pid;
  e->id = strdup (id);
  e->pid = pid;
  e->status = strdup (status_name (o.status));
  e->bundle = strdup (o.st->bundle);
  e->created = strdup (o.st->created ? o.st->created : "");
  e->owner = state_owner_name (&o.sd);
  skiff_status with_owner = *o.st;
  with_owner.owner = e->owner;
  e->json = container_state_json (&with_owner, pid, e->status, true, false);
  return 0;
}

int
skiff_container_list (struct skiff_context *ctx, struct skiff_list_entry **out, size_t *n,
                      skiff_error_t *err)
{
  if (state_root_check (ctx->root, err) < 0)
    return -1;
  cleanup_closedir DIR *d = opendir (ctx->root);
  struct dirent *de;
  size_t cap = 0;
  *out = NULL;
  *n = 0;
  if (d == NULL)
    return errno == ENOENT ? 0 : skiff_error (err, errno, "open `%s`", ctx->root);
  while ((de = readdir (d)))
    {
      if (de->d_name[0] == '.' || de->d_type != DT_DIR)
        continue;
      if (*n == cap)
        {
          cap = cap ? cap * 2 : 16;
          *out = realloc (*out, cap * sizeof **out);
          if (*out == NULL)
            abort ();
        }
      if (list_one (ctx, de->d_name, &(*out)[*n]) == 0)
        (*n)++;
    }
  return 0;
}

void
skiff_list_free (struct skiff_list_entry *l, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (l[i].id);
      free (l[i].status);
      free (l[i].bundle);
      free (l[i].created);
      free (l[i].owner);
      free (l[i].json);
    }
  free (l);
}

/* RTMIN, RTMIN+n, RTMAX, RTMAX-n (as kill(1) spells them), relative to
   libc's SIGRTMIN, which leaves out the signals libc keeps for itself. */
static int
parse_rt_signal (const char *name)
{
  bool max = strncasecmp (name, "RTMAX", 5) == 0;
  if (!max && strncasecmp (name, "RTMIN", 5) != 0)
    return -1;
  const char *p = name + 5;
  if (*p == '\0')
    return max ? SIGRTMAX : SIGRTMIN;
  if (*p != (max ? '-' : '+') || !isdigit ((unsigned char)p[1]))
    return -1;
  char *end;
  long off = strtol (p + 1, &end, 10);
  if (*end != '\0' || off > SIGRTMAX - SIGRTMIN)
    return -1;
  return max ? SIGRTMAX - (int)off : SIGRTMIN + (int)off;
}

int
skiff_parse_signal (const char *s, skiff_error_t *err)
{
  static const struct
  {
    const char *name;
    int sig;
  } table[] = {
    { "HUP", SIGHUP },       { "INT", SIGINT },   { "QUIT", SIGQUIT },     { "ILL", SIGILL },
    { "TRAP", SIGTRAP },     { "ABRT", SIGABRT }, { "IOT", SIGIOT },       { "BUS", SIGBUS },
    { "FPE", SIGFPE },       { "KILL", SIGKILL }, { "USR1", SIGUSR1 },     { "SEGV", SIGSEGV },
    { "USR2", SIGUSR2 },     { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },     { "TERM", SIGTERM },
    { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD }, { "CONT", SIGCONT },     { "STOP", SIGSTOP },
    { "TSTP", SIGTSTP },     { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },     { "URG", SIGURG },
    { "XCPU", SIGXCPU },     { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
    { "WINCH", SIGWINCH },   { "IO", SIGIO },     { "POLL", SIGPOLL },     { "PWR", SIGPWR },
    { "SYS", SIGSYS },
  };
  char *end;
  long v = strtol (s, &end, 10);
  if (*s && *end == '\0')
    {
      if (v <= 0 || v >= NSIG)
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0, "invalid signal `%s`", s);
      return (int)v;
    }
  const char *name = strncasecmp (s, "SIG", 3) == 0 ? s + 3 : s;
  for (size_t i = 0; i < sizeof table / sizeof *table; i++)
    if (strcasecmp (table[i].name, name) == 0)
      return table[i].sig;
  int sig = parse_rt_signal (name);
  if (sig > 0)
    return sig;
  return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0, "unknown signal `%s`", s);
}

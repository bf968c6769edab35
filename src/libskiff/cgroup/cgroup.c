#include "config.h"
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include "cleanup.h"
#include "controllers.h"
#include "systemd.h"
#include "fsutil.h"

enum cgroup_layout
cgroup_detect_layout (void)
{
  static int cached = -1;
  struct statfs st;
  if (cached >= 0)
    return (enum cgroup_layout)cached;
  if (statfs ("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
    cached = CGROUP_LAYOUT_V2;
  else if (statfs ("/sys/fs/cgroup/unified", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
    cached = CGROUP_LAYOUT_HYBRID;
  else
    cached = CGROUP_LAYOUT_V1;
  return (enum cgroup_layout)cached;
}

const char *
cgroup_layout_name (enum cgroup_layout l)
{
  switch (l)
    {
    case CGROUP_LAYOUT_V2:
      return "v2";
    case CGROUP_LAYOUT_HYBRID:
      return "hybrid";
    case CGROUP_LAYOUT_V1:
      return "v1";
    }
  return "unknown";
}

/* Our own cgroup, from the v2 line ("0::/x") or, on v1, the memory line. */
static char *
own_cgroup (void)
{
  cleanup_fclose FILE *f = fopen ("/proc/self/cgroup", "re");
  char line[4096];
  char *found = NULL;
  if (f == NULL)
    return strdup ("/");
  while (fgets (line, sizeof line, f))
    {
      line[strcspn (line, "\n")] = '\0';
      char *c1 = strchr (line, ':'), *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
      if (c2 == NULL)
        continue;
      bool v2 = strncmp (line, "0::", 3) == 0;
      bool mem = strstr (c1, "memory") && c2 > c1;
      if ((cgroup_detect_layout () == CGROUP_LAYOUT_V2 && v2)
          || (cgroup_detect_layout () != CGROUP_LAYOUT_V2 && mem))
        {
          free (found);
          found = strdup (c2 + 1);
        }
    }
  return found ? found : strdup ("/");
}

static bool
path_is_sane (const char *p)
{
  /* No ".." component: the path must stay inside the hierarchy. */
  for (const char *s = p; (s = strstr (s, "..")); s += 2)
    if ((s == p || s[-1] == '/') && (s[2] == '\0' || s[2] == '/'))
      return false;
  return true;
}

int
cgroup_new (const char *cgroups_path, const char *id, struct skiff_cgroup **out, skiff_error_t *err)
{
  char *path = NULL;
  if (cgroups_path == NULL || *cgroups_path == '\0')
    {
      /* As runc, below the runtime's own cgroup, never at the root of
         the hierarchy, where an id such as `system.slice` would name the
         host's cgroup; the prefix keeps it apart from the caller's. */
      cleanup_free char *own = own_cgroup ();
      if (asprintf (&path, "%s%sskiff-%s", own, own[strlen (own) - 1] == '/' ? "" : "/", id) < 0)
        abort ();
    }
  else if (cgroups_path[0] == '/')
    path = strdup (cgroups_path);
  else
    {
      cleanup_free char *own = own_cgroup ();
      if (asprintf (&path, "%s%s%s", own, own[strlen (own) - 1] == '/' ? "" : "/", cgroups_path)
          < 0)
        abort ();
    }
  if (path == NULL)
    abort ();
  if (!path_is_sane (path) || strcmp (path, "/") == 0)
    {
      skiff_error_kind_set (
          err, SKIFF_ERR_INVALID_CONFIG, 0,
          "linux.cgroupsPath `%s`: must name a cgroup below the root, without `..`", path);
      free (path);
      return -1;
    }
  *out = cgroup_from_path (path);
  free (path);
  return 0;
}

static bool
ends_with (const char *s, size_t n, const char *suffix)
{
  size_t k = strlen (suffix);
  return n >= k && strncmp (s + n - k, suffix, k) == 0;
}

/* "/a.slice/b.scope": what the systemd driver makes. */
static bool
is_scope_path (const char *path)
{
  const char *last = strrchr (path, '/');
  if (last == NULL || last == path || !ends_with (last, strlen (last), ".scope"))
    return false;
  const char *prev = last;
  while (prev > path && prev[-1] != '/')
    prev--;
  return ends_with (prev, (size_t)(last - prev), ".slice");
}

struct skiff_cgroup *
cgroup_from_path (const char *path)
{
  if (is_scope_path (path) && skiff_systemd_running ())
    return cgroup_systemd_from_path (path);
  struct skiff_cgroup *cg = calloc (1, sizeof *cg);
  if (cg == NULL || (cg->path = strdup (path)) == NULL)
    abort ();
  cg->layout = cgroup_detect_layout ();
  cg->ops = cg->layout == CGROUP_LAYOUT_V2 ? &cgroup_v2_ops : &cgroup_v1_ops;
  return cg;
}

void
cgroup_free (struct skiff_cgroup *cg)
{
  if (cg == NULL)
    return;
  if (cg->systemd)
    cgroup_systemd_free (cg);
  free (cg->path);
  free (cg);
}

void
cgroup_freep (struct skiff_cgroup **cg)
{
  cgroup_free (*cg);
}

/* The first process in dir's cgroup or below it; 0 when none, or when the
   directory does not exist. */
static pid_t
first_pid (const char *dir)
{
  pid_t *pids = NULL;
  size_t n = 0;
  cleanup_error skiff_error_t e = NULL;
  if (cgroup_read_pids_tree (dir, &pids, &n, &e) < 0)
    return 0;
  pid_t first = n ? pids[0] : 0;
  free (pids);
  return first;
}

int
cgroup_refuse_busy (struct skiff_cgroup *cg, skiff_error_t *err)
{
  const char *mounts[32];
  size_t n = 1;
  mounts[0] = "/sys/fs/cgroup";
  if (cg->layout != CGROUP_LAYOUT_V2)
    n = cgroup_v1_mounts (mounts, sizeof mounts / sizeof *mounts);
  for (size_t i = 0; i < n; i++)
    {
      char dir[PATH_MAX];
      if ((size_t)snprintf (dir, sizeof dir, "%s%s", mounts[i], cg->path) >= sizeof dir)
        continue;
      pid_t pid = first_pid (dir);
      if (pid)
        return skiff_error_kind_set (
            err, SKIFF_ERR_EXISTS, 0,
            "linux.cgroupsPath: cgroup `%s` already exists and holds processes that are not "
            "this container's (pid %d in %s): a container needs a cgroup of its own",
            cg->path, (int)pid, dir);
    }
  return 0;
}

int
cgroup_create (struct skiff_cgroup *cg, skiff_error_t *err)
{
  if (cg->ops->create (cg, err) < 0)
    return skiff_error_wrap (err, "create cgroup `%s`", cg->path);
  return 0;
}

int
cgroup_open_leaf (struct skiff_cgroup *cg)
{
  return cg->ops->open_leaf ? cg->ops->open_leaf (cg) : -1;
}

int
cgroup_enter (struct skiff_cgroup *cg, pid_t pid, skiff_error_t *err)
{
  if (cg->ops->enter (cg, pid, err) < 0)
    return skiff_error_wrap (err, "join cgroup `%s`", cg->path);
  return 0;
}

/* A relative path of plain names: no "..", ".", or empty component
   (it must stay below the container's cgroup). */
static bool
sub_path_ok (const char *p)
{
  if (*p == '\0' || *p == '/')
    return false;
  for (const char *c = p; *c;)
    {
      size_t n = strcspn (c, "/");
      if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
        return false;
      c += n;
      if (*c == '/')
        c++;
    }
  return p[strlen (p) - 1] != '/';
}

int
cgroup_parse_sub (char *arg, struct cgroup_sub *sub, skiff_error_t *err)
{
  char *colon = strchr (arg, ':');
  sub->ctrls = NULL;
  sub->path = arg;
  if (colon)
    {
      *colon = '\0';
      sub->ctrls = arg;
      sub->path = colon + 1;
      if (*sub->ctrls == '\0')
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "--cgroup `:%s`: name the controllers before the colon",
                                     sub->path);
    }
  if (!sub_path_ok (sub->path))
    return skiff_error_kind_set (
        err, SKIFF_ERR_INVALID_CONFIG, 0,
        "--cgroup `%s`: expected [CONTROLLER[,CONTROLLER]:]PATH, PATH relative to the "
        "container's cgroup, without `..`",
        sub->path);
  return 0;
}

int
cgroup_enter_sub (struct skiff_cgroup *cg, pid_t pid, const struct cgroup_sub *subs, size_t n,
                  skiff_error_t *err)
{
  if (cg->ops->enter_sub == NULL)
    return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, 0,
                                 "--cgroup: the %s cgroup manager has no sub-cgroups",
                                 cg->ops->name);
  if (cg->ops->enter_sub (cg, pid, subs, n, err) < 0)
    return skiff_error_wrap (err, "--cgroup (below `%s`)", cg->path);
  return 0;
}

char *
cgroup_v2_path_of (pid_t pid)
{
  char file[64];
  cleanup_free char *text = NULL;
  snprintf (file, sizeof file, "/proc/%d/cgroup", (int)pid);
  if (read_file_at (AT_FDCWD, file, &text, NULL, NULL) < 0)
    return NULL;
  for (char *line = text; line && *line;
       line = strchr (line, '\n') ? strchr (line, '\n') + 1 : NULL)
    if (strncmp (line, "0::", 3) == 0)
      {
        size_t len = strcspn (line + 3, "\n");
        return strndup (line + 3, len);
      }
  return NULL;
}

int
cgroup_freeze (struct skiff_cgroup *cg, bool frozen, skiff_error_t *err)
{
  return cg->ops->freeze (cg, frozen, err);
}

bool
cgroup_is_frozen (struct skiff_cgroup *cg)
{
  bool frozen = false;
  if (cg->ops->is_frozen (cg, &frozen) < 0)
    return false;
  return frozen;
}

int
cgroup_pids (struct skiff_cgroup *cg, pid_t **pids, size_t *n, skiff_error_t *err)
{
  return cg->ops->pids (cg, pids, n, err);
}

int
cgroup_kill_all (struct skiff_cgroup *cg, int sig, skiff_error_t *err)
{
  return cg->ops->kill_all (cg, sig, err);
}

int
cgroup_destroy (struct skiff_cgroup *cg, skiff_error_t *err)
{
  return cg->ops->destroy (cg, err);
}

int
cgroup_apply (struct skiff_cgroup *cg, const oci_resources *r, bool update, skiff_error_t *err)
{
  return cg->ops->apply (cg, r, update, err);
}

int
cgroup_stats_json (struct skiff_cgroup *cg, struct skiff_strbuf *out, skiff_error_t *err)
{
  return cg->ops->stats (cg, out, err);
}

uint64_t
cgroup_oom_kills (struct skiff_cgroup *cg)
{
  return cg->ops->oom_kills (cg);
}

static bool
v2_root_has (const char *ctrl)
{
  cleanup_close int fd = open ("/sys/fs/cgroup", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_free char *c = NULL;
  if (fd < 0 || cg_read_at (fd, "cgroup.controllers", &c, NULL) < 0)
    return false;
  size_t n = strlen (ctrl);
  for (const char *p = c; (p = strstr (p, ctrl)); p += n)
    if ((p == c || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
      return true;
  return false;
}

/* Mounted as a v1 hierarchy, or available on the cgroup2 mount. */
static bool
host_has (const char *ctrl)
{
  if (cgroup_detect_layout () == CGROUP_LAYOUT_V2)
    return v2_root_has (ctrl);
  return cgroup_v1_mount_of (ctrl) != NULL;
}

void
cgroup_check_resources (const oci_resources *r,
                        void (*cb) (void *data, const char *key, const char *msg), void *data)
{
  bool v2 = cgroup_detect_layout () == CGROUP_LAYOUT_V2;
  char msg[256];
  static const struct
  {
    const char *key, *ctrl;
    size_t off;
  } need[] = {
    { "linux.resources.memory", "memory", offsetof (oci_resources, memory) },
    { "linux.resources.cpu", "cpu", offsetof (oci_resources, cpu) },
    { "linux.resources.pids", "pids", offsetof (oci_resources, pids) },
    { "linux.resources.blockIO", NULL, offsetof (oci_resources, block_io) },
    { "linux.resources.rdma", "rdma", offsetof (oci_resources, rdma) },
  };
  if (r == NULL)
    return;
  for (size_t i = 0; i < sizeof need / sizeof *need; i++)
    {
      const char *ctrl = need[i].ctrl ? need[i].ctrl : v2 ? "io" : "blkio";
      if (*(void *const *)((const char *)r + need[i].off) == NULL || host_has (ctrl))
        continue;
      snprintf (msg, sizeof msg, "this host has no %s cgroup controller", ctrl);
      cb (data, need[i].key, msg);
    }
  if (r->block_io && host_has (v2 ? "io" : "blkio"))
    cg_io_weight_check (r->block_io, v2, v2 ? "/sys/fs/cgroup" : cgroup_v1_mount_of ("blkio"), cb,
                        data);
  if (r->hugepage_limits_len && !host_has ("hugetlb"))
    cb (data, "linux.resources.hugepageLimits", "this host has no hugetlb cgroup controller");
  if (r->unified && r->unified->len && !v2)
    cb (data, "linux.resources.unified", "cgroup v2 keys need a cgroup v2 host");
  if (r->network && r->network->class_id_present && (v2 || !host_has ("net_cls")))
    cb (data, "linux.resources.network.classID",
        v2 ? "net_cls exists only on cgroup v1" : "this host has no net_cls cgroup controller");
  if (r->network && r->network->priorities_len && (v2 || !host_has ("net_prio")))
    cb (data, "linux.resources.network.priorities",
        v2 ? "net_prio exists only on cgroup v1" : "this host has no net_prio cgroup controller");
  if (v2 && r->cpu
      && ((r->cpu->realtime_runtime_present && r->cpu->realtime_runtime)
          || (r->cpu->realtime_period_present && r->cpu->realtime_period)))
    cb (data, "linux.resources.cpu.realtimeRuntime", "realtime limits exist only on cgroup v1");
  if (v2 && r->memory && r->memory->swappiness_present && r->memory->swappiness <= 100)
    cb (data, "linux.resources.memory.swappiness", "ignored on cgroup v2");
  if (v2 && r->memory && r->memory->disable_oom_killer_present && r->memory->disable_oom_killer)
    cb (data, "linux.resources.memory.disableOOMKiller", "ignored on cgroup v2");
}

struct pid_vec
{
  pid_t *v;
  size_t len, cap;
};

static int
append_pids (const char *file, struct pid_vec *pv, skiff_error_t *err)
{
  cleanup_fclose FILE *f = fopen (file, "re");
  long v;
  if (f == NULL)
    return errno == ENOENT ? 0 : skiff_error (err, errno, "open `%s`", file);
  while (fscanf (f, "%ld", &v) == 1)
    {
      if (pv->len == pv->cap)
        {
          pv->cap = pv->cap ? pv->cap * 2 : 16;
          pid_t *np = realloc (pv->v, pv->cap * sizeof *np);
          if (np == NULL)
            abort ();
          pv->v = np;
        }
      pv->v[pv->len++] = (pid_t)v;
    }
  return 0;
}

int
cgroup_read_pids_file (const char *file, pid_t **pids, size_t *n, skiff_error_t *err)
{
  struct pid_vec pv = { 0 };
  *pids = NULL;
  *n = 0;
  if (append_pids (file, &pv, err) < 0)
    {
      free (pv.v);
      return -1;
    }
  *pids = pv.v;
  *n = pv.len;
  return 0;
}

/* dir/cgroup.procs and those of every cgroup below: the container may
   have made its own sub-cgroups. */
static int
walk_pids (const char *dir, int depth, struct pid_vec *pv, skiff_error_t *err)
{
  char p[PATH_MAX];
  snprintf (p, sizeof p, "%s/cgroup.procs", dir);
  if (append_pids (p, pv, err) < 0)
    return -1;
  cleanup_closedir DIR *d = depth < 32 ? opendir (dir) : NULL;
  struct dirent *de;
  while (d && (de = readdir (d)))
    {
      if (de->d_type != DT_DIR || de->d_name[0] == '.')
        continue;
      if ((size_t)snprintf (p, sizeof p, "%s/%s", dir, de->d_name) >= sizeof p)
        continue;
      if (walk_pids (p, depth + 1, pv, err) < 0)
        return -1;
    }
  return 0;
}

int
cgroup_read_pids_tree (const char *dir, pid_t **pids, size_t *n, skiff_error_t *err)
{
  struct pid_vec pv = { 0 };
  *pids = NULL;
  *n = 0;
  if (walk_pids (dir, 0, &pv, err) < 0)
    {
      free (pv.v);
      return -1;
    }
  *pids = pv.v;
  *n = pv.len;
  return 0;
}

int
cgroup_write_file (const char *dir, const char *name, const char *value, skiff_error_t *err)
{
  char p[PATH_MAX];
  snprintf (p, sizeof p, "%s/%s", dir, name);
  cleanup_close int fd = open (p, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return skiff_error (err, errno, "open `%s`", p);
  int r = write_all_fd (fd, value, strlen (value));
  if (r < 0)
    return skiff_error (err, -r, "write `%s` to `%s`", value, p);
  return 0;
}

int
cgroup_mkdir_p (const char *mount, const char *path,
                int (*init_level) (const char *parent, const char *dir, skiff_error_t *err),
                skiff_error_t *err)
{
  char dir[PATH_MAX];
  size_t n = (size_t)snprintf (dir, sizeof dir, "%s", mount);
  const char *p = path;
  while (*p)
    {
      while (*p == '/')
        p++;
      if (*p == '\0')
        break;
      size_t seg = strcspn (p, "/");
      if (n + 1 + seg >= sizeof dir)
        return skiff_error (err, ENAMETOOLONG, "cgroup path `%s`", path);
      char parent[PATH_MAX];
      memcpy (parent, dir, n + 1);
      dir[n++] = '/';
      memcpy (dir + n, p, seg);
      n += seg;
      dir[n] = '\0';
      p += seg;
      if (mkdir (dir, 0755) == 0)
        {
          if (init_level && init_level (parent, dir, err) < 0)
            return -1;
        }
      else if (errno != EEXIST)
        return skiff_error (err, errno, "mkdir `%s`", dir);
    }
  return 0;
}

static int
rmdir_children (const char *dir, skiff_error_t *err)
{
  cleanup_closedir DIR *d = opendir (dir);
  struct dirent *de;
  if (d == NULL)
    return 0;
  while ((de = readdir (d)))
    {
      char sub[PATH_MAX];
      if (de->d_type != DT_DIR || strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      snprintf (sub, sizeof sub, "%s/%s", dir, de->d_name);
      if (cgroup_rmdir (sub, err) < 0)
        return -1;
    }
  return 0;
}

int
cgroup_rmdir (const char *dir, skiff_error_t *err)
{
  /* Sub-cgroups the container made go first. */
  if (rmdir_children (dir, err) < 0)
    return -1;
  /* A cgroup whose last task just died may briefly refuse with EBUSY. */
  for (int i = 0; i < 200; i++)
    {
      if (rmdir (dir) == 0 || errno == ENOENT)
        return 0;
      if (errno != EBUSY)
        break;
      struct timespec ts = { 0, 5 * 1000 * 1000 };
      nanosleep (&ts, NULL);
    }
  return skiff_error (err, errno, "remove cgroup `%s`", dir);
}

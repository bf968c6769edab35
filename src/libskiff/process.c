#include "config.h"
#include "process.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <linux/openat2.h>

#include "cleanup.h"
#include "fs.h"
#include "fsutil.h"
#include "label.h"
#include "log.h"

static const struct
{
  const char *name;
  int resource;
} rlimit_table[] = {
  { "RLIMIT_AS", RLIMIT_AS },
  { "RLIMIT_CORE", RLIMIT_CORE },
  { "RLIMIT_CPU", RLIMIT_CPU },
  { "RLIMIT_DATA", RLIMIT_DATA },
  { "RLIMIT_FSIZE", RLIMIT_FSIZE },
  { "RLIMIT_LOCKS", RLIMIT_LOCKS },
  { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
  { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
  { "RLIMIT_NICE", RLIMIT_NICE },
  { "RLIMIT_NOFILE", RLIMIT_NOFILE },
  { "RLIMIT_NPROC", RLIMIT_NPROC },
  { "RLIMIT_RSS", RLIMIT_RSS },
  { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
  { "RLIMIT_RTTIME", RLIMIT_RTTIME },
  { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
  { "RLIMIT_STACK", RLIMIT_STACK },
};

int
process_rlimit_resource (const char *name)
{
  for (size_t j = 0; j < sizeof rlimit_table / sizeof *rlimit_table; j++)
    if (strcmp (rlimit_table[j].name, name) == 0)
      return rlimit_table[j].resource;
  return -1;
}

int
process_check_rlimits (const oci_process *p, skiff_error_t *err)
{
  for (size_t i = 0; i < p->rlimits_len; i++)
    {
      const oci_rlimit *r = p->rlimits[i];
      bool known = false;
      for (size_t j = 0; j < sizeof rlimit_table / sizeof *rlimit_table; j++)
        known |= strcmp (rlimit_table[j].name, r->type) == 0;
      if (!known)
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "process.rlimits[%zu].type: unknown rlimit `%s`", i, r->type);
      for (size_t j = 0; j < i; j++)
        if (strcmp (p->rlimits[j]->type, r->type) == 0)
          return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                       "process.rlimits[%zu].type: `%s` is already set by "
                                       "process.rlimits[%zu]",
                                       i, r->type, j);
      if (r->soft > r->hard)
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "process.rlimits[%zu]: %s soft limit %" PRIu64
                                     " is above the hard limit %" PRIu64,
                                     i, r->type, r->soft, r->hard);
      /* the kernel's ceiling for open files, whoever asks */
      uint64_t nr_open = 0;
      cleanup_free char *s = NULL;
      if (strcmp (r->type, "RLIMIT_NOFILE") == 0
          && read_file_at (AT_FDCWD, "/proc/sys/fs/nr_open", &s, NULL, NULL) == 0
          && (nr_open = strtoull (s, NULL, 10)) && r->hard > nr_open && r->hard != UINT64_MAX)
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "process.rlimits[%zu]: RLIMIT_NOFILE %" PRIu64
                                     " is above this kernel's fs.nr_open (%" PRIu64 ")",
                                     i, r->hard, nr_open);
    }
  return 0;
}

static int
apply_rlimits (const oci_process *p, skiff_error_t *err)
{
  for (size_t i = 0; i < p->rlimits_len; i++)
    {
      const oci_rlimit *r = p->rlimits[i];
      int res = -1;
      for (size_t j = 0; j < sizeof rlimit_table / sizeof *rlimit_table; j++)
        if (strcmp (rlimit_table[j].name, r->type) == 0)
          res = rlimit_table[j].resource;
      if (res < 0)
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "process.rlimits[%zu].type: unknown rlimit `%s`", i, r->type);
      struct rlimit rl = { .rlim_cur = r->soft, .rlim_max = r->hard };
      if (setrlimit (res, &rl) < 0)
        return skiff_error (err, errno, "process.rlimits[%zu]: setrlimit %s", i, r->type);
    }
  return 0;
}

static int
apply_oom_score_adj (const oci_process *p, skiff_error_t *err)
{
  char buf[32];
  if (!p->oom_score_adj_present)
    return 0;
  snprintf (buf, sizeof buf, "%d", (int)p->oom_score_adj);
  cleanup_close int fd = open ("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write_all_fd (fd, buf, strlen (buf)) < 0)
    return skiff_error (err, errno, "process.oomScoreAdj: write %s", buf);
  return 0;
}

int
process_apply_personality (const oci_linux *l, skiff_error_t *err)
{
  if (l == NULL || l->personality == NULL)
    return 0;
  unsigned long persona = PER_LINUX;
  if (strcmp (l->personality->domain, "LINUX32") == 0)
    persona = PER_LINUX32;
  else if (strcmp (l->personality->domain, "LINUX") != 0)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.personality.domain: unknown domain `%s`",
                                 l->personality->domain);
  if (personality (persona) < 0)
    return skiff_error (err, errno, "linux.personality: %s", l->personality->domain);
  return 0;
}

/* The ioprio_set(2) value of process.ioPriority: class in bits 13-15,
   level in 0-2.  A level above 7 would spill into the kernel's hint
   bits (3-12) and a negative one into the class, so both are refused. */
static int
io_priority_value (const oci_io_priority *io, long *out, skiff_error_t *err)
{
  static const char *const classes[]
      = { "", "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE" };
  int cls = 0;
  for (int i = 1; i < 4; i++)
    if (strcmp (io->class, classes[i]) == 0)
      cls = i;
  if (cls == 0)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "process.ioPriority.class: unknown class `%s`", io->class);
  /* Only class is required (the schema's); the level is then 0. */
  int level = io->priority_present ? io->priority : 0;
  if (level < 0 || level > 7)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "process.ioPriority.priority: %d is outside 0-7", level);
  *out = ((long)cls << 13) | (long)level;
  return 0;
}

int
process_check_io_priority (const oci_process *p, skiff_error_t *err)
{
  long v;
  return p->io_priority ? io_priority_value (p->io_priority, &v, err) : 0;
}

static int
apply_io_priority (const oci_process *p, skiff_error_t *err)
{
  long prio;
  if (p->io_priority == NULL)
    return 0;
  if (io_priority_value (p->io_priority, &prio, err) < 0)
    return -1;
  if (syscall (SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, prio) < 0)
    return skiff_error (err, errno, "process.ioPriority: ioprio_set");
  return 0;
}

static int
apply_affinity (const char *list, const char *what, skiff_error_t *err)
{
  cpu_set_t set;
  CPU_ZERO (&set);
  for (const char *p = list; *p;)
    {
      char *end;
      long a = strtol (p, &end, 10), b;
      if (end == p || a < 0 || a >= CPU_SETSIZE)
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0, "%s: invalid CPU list `%s`",
                                     what, list);
      b = a;
      if (*end == '-')
        {
          p = end + 1;
          b = strtol (p, &end, 10);
          if (end == p || b < a || b >= CPU_SETSIZE)
            return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                         "%s: invalid CPU list `%s`", what, list);
        }
      for (long c = a; c <= b; c++)
        CPU_SET ((int)c, &set);
      p = *end == ',' ? end + 1 : end;
      if (*end && *end != ',')
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0, "%s: invalid CPU list `%s`",
                                     what, list);
    }
  if (sched_setaffinity (0, sizeof set, &set) < 0)
    return skiff_error (err, errno, "%s: sched_setaffinity `%s`", what, list);
  return 0;
}

static int
apply_scheduler (const oci_process *p, skiff_error_t *err)
{
  static const struct
  {
    const char *name;
    int policy;
  } policies[] = {
    { "SCHED_OTHER", SCHED_OTHER }, { "SCHED_FIFO", SCHED_FIFO }, { "SCHED_RR", SCHED_RR },
    { "SCHED_BATCH", SCHED_BATCH }, { "SCHED_IDLE", SCHED_IDLE }, { "SCHED_DEADLINE", 6 },
  };
  const oci_scheduler *s = p->scheduler;
  if (s == NULL)
    return 0;
  int policy = -1;
  for (size_t i = 0; i < sizeof policies / sizeof *policies; i++)
    if (strcmp (policies[i].name, s->policy) == 0)
      policy = policies[i].policy;
  if (policy < 0)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "process.scheduler.policy: unknown policy `%s`", s->policy);
  struct
  {
    uint32_t size, policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime, deadline, period;
  } attr = { .size = 48,
             .policy = (uint32_t)policy,
             .nice = s->nice_present ? s->nice : 0,
             .priority = s->priority_present ? (uint32_t)s->priority : 0,
             .runtime = s->runtime,
             .deadline = s->deadline,
             .period = s->period };
  if (syscall (SYS_sched_setattr, 0, &attr, 0) < 0)
    return skiff_error (err, errno, "process.scheduler: sched_setattr %s", s->policy);
  return 0;
}

int
process_apply_early (const oci_process *p, skiff_error_t *err)
{
  if (apply_rlimits (p, err) < 0 || apply_oom_score_adj (p, err) < 0
      || apply_io_priority (p, err) < 0 || apply_scheduler (p, err) < 0)
    return -1;
  if (p->exec_cpu_affinity && p->exec_cpu_affinity->initial
      && apply_affinity (p->exec_cpu_affinity->initial, "process.execCPUAffinity.initial", err) < 0)
    return -1;
  return 0;
}

static enum exec_probe
probe_at_cwd (void *data, const char *path)
{
  struct stat st;
  (void)data;
  if (stat (path, &st) < 0)
    return errno == ENOENT || errno == ENOTDIR ? EXEC_MISSING : EXEC_NOT_EXECUTABLE;
  if (!S_ISREG (st.st_mode) || faccessat (AT_FDCWD, path, X_OK, AT_EACCESS) < 0)
    return EXEC_NOT_EXECUTABLE;
  return EXEC_OK;
}

static size_t
env_name_len (const char *kv)
{
  const char *eq = strchr (kv, '=');
  return eq ? (size_t)(eq - kv) : strlen (kv);
}

size_t
process_env_dedup (char **env, size_t n)
{
  size_t out = 0;
  for (size_t i = 0; i < n; i++)
    {
      size_t len = env_name_len (env[i]);
      bool later = false;
      for (size_t j = i + 1; j < n && !later; j++)
        later = env_name_len (env[j]) == len && strncmp (env[i], env[j], len) == 0;
      if (!later)
        env[out++] = env[i];
    }
  for (size_t i = out; i < n; i++)
    env[i] = NULL;
  return out;
}

const char *
process_env_path (const oci_process *p)
{
  for (size_t i = 0; i < p->env_len; i++)
    if (strncmp (p->env[i], "PATH=", 5) == 0)
      return p->env[i] + 5;
  return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

static char *
search_path (const char *path, const char *name, exec_probe_fn probe, void *data)
{
  cleanup_free char *copy = strdup (path);
  char *save = NULL;
  if (copy == NULL)
    abort ();
  for (char *dir = strtok_r (copy, ":", &save); dir; dir = strtok_r (NULL, ":", &save))
    {
      char *cand = NULL;
      if (asprintf (&cand, "%s/%s", *dir ? dir : ".", name) < 0)
        abort ();
      if (probe (data, cand) == EXEC_OK)
        return cand;
      free (cand);
    }
  return NULL;
}

static int
copy_exe (char out[PATH_MAX], const char *path, skiff_error_t *err)
{
  if ((size_t)snprintf (out, PATH_MAX, "%s", path) >= PATH_MAX)
    return skiff_error (err, ENAMETOOLONG, "process.args[0] `%s`", path);
  return 0;
}

/* The messages carry runc's lower-case phrases: Docker and Podman map
   "executable file not found" and "no such file or directory" to exit
   code 127 and "permission denied" to 126.  No strerror is appended.  An
   absolute args[0] touches no heap (the created init must not). */
int
process_find_exec (const oci_process *p, exec_probe_fn probe, void *data, char out[PATH_MAX],
                   skiff_error_t *err)
{
  if (p->args_len == 0 || p->args[0][0] == '\0')
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "process.args: must name the program to run");
  const char *arg0 = p->args[0];
  if (strchr (arg0, '/'))
    {
      switch (probe (data, arg0))
        {
        case EXEC_MISSING:
          return skiff_error_kind_set (
              err, SKIFF_ERR_INVALID_CONFIG, 0,
              "process.args[0] `%s`: no such file or directory in the container's rootfs", arg0);
        case EXEC_NOT_EXECUTABLE:
          return skiff_error_kind_set (
              err, SKIFF_ERR_INVALID_CONFIG, 0,
              "process.args[0] `%s`: permission denied: not an executable file in the container",
              arg0);
        case EXEC_OK:
          break;
        }
      return copy_exe (out, arg0, err);
    }
  const char *path = process_env_path (p);
  cleanup_free char *found = search_path (path, arg0, probe, data);
  if (found)
    return copy_exe (out, found, err);
  return skiff_error_kind_set (
      err, SKIFF_ERR_INVALID_CONFIG, 0,
      "process.args[0] `%s`: executable file not found in the container's $PATH (PATH=%s)", arg0,
      path);
}

int
process_resolve_exec (const oci_process *p, char path_out[PATH_MAX], skiff_error_t *err)
{
  return process_find_exec (p, probe_at_cwd, NULL, path_out, err);
}

/* After chdir, the kernel tells whether cwd is reachable from our root:
   getcwd fails or prefixes "(unreachable)" when it is not. */
static int
verify_cwd_inside (const char *cwd, skiff_error_t *err)
{
  char buf[4096];
  if (getcwd (buf, sizeof buf) == NULL || buf[0] != '/')
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, EPERM,
                                 "process.cwd `%s`: resolves outside the container", cwd);
  return 0;
}

int
process_chdir (const oci_process *p, skiff_error_t *err)
{
  const char *cwd = p->cwd && *p->cwd ? p->cwd : "/";
  if (cwd[0] != '/')
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "process.cwd `%s`: must be an absolute path", cwd);
  struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                          .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
  cleanup_close int root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int fd = (int)syscall (SYS_openat2, root, cwd, &how, sizeof how);
  if (fd < 0 && errno != ENOSYS)
    return skiff_error (err, errno, "process.cwd `%s`", cwd);
  if (fd >= 0 ? fchdir (fd) < 0 : chdir (cwd) < 0)
    return skiff_error (err, errno, "process.cwd `%s`: chdir", cwd);
  return verify_cwd_inside (cwd, err);
}

/* libcap is loaded with dlopen by process_caps_load (), which the runtime
   calls before it clones or forks a process that enters a container
   (create's and exec's checks of the capabilities do): linked, it was
   loaded at every start of every command.  The init and exec's process
   use the table it filled and never dlopen themselves: after pivot_root
   that would load the container's library. */
static struct
{
  __typeof__ (&cap_drop_bound) drop_bound;
  __typeof__ (&cap_free) free;
  __typeof__ (&cap_from_name) from_name;
  __typeof__ (&cap_max_bits) max_bits;
  __typeof__ (&cap_set_ambient) set_ambient;
  __typeof__ (&cap_to_name) to_name;
} libcap;
static int libcap_state; /* 0 not tried, 1 loaded, -1 missing */
/* The runtime's own bounding set, read with libcap's load, before the
   clone: a capability outside it cannot be given to anyone.  As the spec
   (config.md) allows, such a capability is left out with a warning, and
   the process gets the others (runc 1.1 and crun 1.8 fail instead). */
static uint64_t cap_granted = ~0ULL;

static void
read_granted (void)
{
  for (int v = 0; v < 64; v++)
    if (prctl (PR_CAPBSET_READ, v, 0, 0, 0) != 1)
      cap_granted &= ~(1ULL << v);
}

int
process_caps_load (skiff_error_t *err)
{
  static char why[256];
  if (libcap_state == 0)
    {
      __typeof__ (libcap) lib;
      void *h = dlopen ("libcap.so.2", RTLD_NOW | RTLD_LOCAL);
      libcap_state = -1;
      if (h)
        {
          *(void **)&lib.drop_bound = dlsym (h, "cap_drop_bound");
          *(void **)&lib.free = dlsym (h, "cap_free");
          *(void **)&lib.from_name = dlsym (h, "cap_from_name");
          *(void **)&lib.max_bits = dlsym (h, "cap_max_bits");
          *(void **)&lib.set_ambient = dlsym (h, "cap_set_ambient");
          *(void **)&lib.to_name = dlsym (h, "cap_to_name");
          if (lib.drop_bound && lib.free && lib.from_name && lib.max_bits && lib.set_ambient
              && lib.to_name)
            {
              libcap = lib;
              libcap_state = 1;
              read_granted ();
            }
        }
      if (libcap_state < 0)
        snprintf (why, sizeof why, "%s", h ? "symbols missing" : dlerror ());
    }
  if (libcap_state < 0)
    return skiff_error (err, ELIBACC, "process.capabilities: cannot load libcap.so.2: %s", why);
  return 0;
}

#define cap_drop_bound (libcap.drop_bound)
#define cap_free (libcap.free)
#define cap_from_name (libcap.from_name)
#define cap_max_bits (libcap.max_bits)
#define cap_set_ambient (libcap.set_ambient)
#define cap_to_name (libcap.to_name)

/* Names in config.json are "CAP_SYS_ADMIN"; libcap wants "cap_sys_admin". */
static int
cap_value (const char *name, cap_value_t *out)
{
  char lower[64];
  size_t n = strlen (name);
  if (n >= sizeof lower)
    return -1;
  for (size_t i = 0; i <= n; i++)
    lower[i] = (char)tolower ((unsigned char)name[i]);
  if (cap_from_name (lower, out) < 0 || *out > cap_max_bits () - 1)
    return -1;
  return 0;
}

size_t
process_cap_sets (const oci_capabilities *c, struct process_capset refs[5])
{
  static const oci_capabilities none = { 0 };
  c = c ? c : &none;
  refs[0] = (struct process_capset){ "bounding", c->bounding, c->bounding_len };
  refs[1] = (struct process_capset){ "effective", c->effective, c->effective_len };
  refs[2] = (struct process_capset){ "inheritable", c->inheritable, c->inheritable_len };
  refs[3] = (struct process_capset){ "permitted", c->permitted, c->permitted_len };
  refs[4] = (struct process_capset){ "ambient", c->ambient, c->ambient_len };
  return 5;
}

bool
process_cap_granted (const char *name)
{
  cap_value_t v;
  return libcap_state != 1 || cap_value (name, &v) < 0 || v >= 64 || (cap_granted >> v & 1);
}

int
process_check_caps (const oci_process *p, bool strict, skiff_error_t *err)
{
  struct process_capset refs[5];
  uint64_t warned = 0;
  if (process_caps_load (err) < 0)
    return -1;
  if (p->capabilities == NULL)
    return 0;
  size_t n = process_cap_sets (p->capabilities, refs);
  for (size_t s = 0; s < n; s++)
    for (size_t i = 0; i < refs[s].len; i++)
      {
        cap_value_t v;
        if (cap_value (refs[s].names[i], &v) == 0)
          {
            if (!strict && v < 64 && !(cap_granted >> v & 1) && !(warned >> v & 1))
              skiff_warn ("process.capabilities.%s[%zu]: %s " PROCESS_CAP_WITHHELD, refs[s].field,
                          i, refs[s].names[i]);
            warned |= v < 64 ? 1ULL << v : 0;
            continue;
          }
        if (strict)
          return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                       "process.capabilities.%s[%zu]: unknown capability `%s`",
                                       refs[s].field, i, refs[s].names[i]);
        skiff_warn ("process.capabilities.%s[%zu]: ignoring unknown capability `%s`", refs[s].field,
                    i, refs[s].names[i]);
      }
  return 0;
}

static bool
in_list (char **names, size_t len, cap_value_t cap)
{
  for (size_t i = 0; i < len; i++)
    {
      cap_value_t v;
      if (cap_value (names[i], &v) == 0 && v == cap)
        return true;
    }
  return false;
}

/* One capability set as capset(2) wants it: what the runtime's bounding
   set allows of it. */
static uint64_t
cap_mask (char **names, size_t len)
{
  uint64_t m = 0;
  for (size_t i = 0; i < len; i++)
    {
      cap_value_t v;
      if (cap_value (names[i], &v) == 0 && v < 64)
        m |= 1ULL << v;
    }
  return m & cap_granted;
}

/* capset(2) itself rather than libcap's cap_t: no heap in the init, which
   runs this inside the container's memory limit. */
static int
set_caps (const oci_capabilities *c, skiff_error_t *err)
{
  struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct data[2];
  uint64_t eff = cap_mask (c->effective, c->effective_len);
  uint64_t prm = cap_mask (c->permitted, c->permitted_len);
  uint64_t inh = cap_mask (c->inheritable, c->inheritable_len);
  for (int i = 0; i < 2; i++)
    data[i]
        = (struct __user_cap_data_struct){ (uint32_t)(eff >> (32 * i)), (uint32_t)(prm >> (32 * i)),
                                           (uint32_t)(inh >> (32 * i)) };
  if (syscall (SYS_capset, &hdr, data) < 0)
    return skiff_error (err, errno, "process.capabilities: capset");
  for (size_t i = 0; i < c->ambient_len; i++)
    {
      cap_value_t v;
      if (cap_value (c->ambient[i], &v) < 0 || v >= 64 || !(cap_granted >> v & 1))
        continue;
      /* Ambient needs the cap in permitted and inheritable; runc skips
         the rest with a warning rather than failing. */
      if (cap_set_ambient (v, CAP_SET) < 0)
        skiff_debug ("process.capabilities.ambient[%zu] `%s`: %s", i, c->ambient[i],
                     strerror (errno));
    }
  return 0;
}

static int
drop_bounding (const oci_capabilities *c, skiff_error_t *err)
{
  int last = cap_max_bits ();
  for (cap_value_t v = 0; v < last; v++)
    if (!in_list (c->bounding, c->bounding_len, v) && cap_drop_bound (v) < 0 && errno != EINVAL)
      return skiff_error (err, errno, "process.capabilities.bounding: drop %d", v);
  return 0;
}

/* /proc/self/setgroups says "deny": a rootless runtime mapped the gid
   itself (userns.c).  No heap: the init runs this. */
static bool
setgroups_denied (void)
{
  char buf[16] = { 0 };
  cleanup_close int fd = open ("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
  return fd >= 0 && read (fd, buf, sizeof buf - 1) > 0 && strncmp (buf, "deny", 4) == 0;
}

static int
set_user (const oci_process *p, skiff_error_t *err)
{
  const oci_user *u = p->user;
  uid_t uid = u ? u->uid : 0;
  gid_t gid = u ? u->gid : 0;
  if (u && u->additional_gids_len)
    {
      if (setgroups (u->additional_gids_len, (gid_t *)u->additional_gids) < 0)
        {
          int e = errno;
          if (e == EPERM && setgroups_denied ())
            return skiff_error (err, 0,
                                "process.user.additionalGids: setgroups(2) is denied in the user "
                                "namespace (rootless, its gid map is the caller's gid alone): "
                                "map more gids in linux.gidMappings (newgidmap allows "
                                "setgroups)");
          return skiff_error (err, e, "process.user.additionalGids: setgroups");
        }
    }
  else if (setgroups (0, NULL) < 0 && errno != EPERM)
    return skiff_error (err, errno, "setgroups");
  if (setresgid (gid, gid, gid) < 0)
    return skiff_error (err, errno, "process.user.gid: setresgid %u", (unsigned)gid);
  if (setresuid (uid, uid, uid) < 0)
    return skiff_error (err, errno, "process.user.uid: setresuid %u", (unsigned)uid);
  /* -1 means "unchanged" to both calls: the parser refuses it, and this
     proves the process has exactly the ids asked for. */
  uid_t ru, eu, su;
  gid_t rg, eg, sg;
  if (getresuid (&ru, &eu, &su) < 0 || ru != uid || eu != uid || su != uid)
    return skiff_error (err, EPERM, "process.user.uid: the process is not uid %u", (unsigned)uid);
  if (getresgid (&rg, &eg, &sg) < 0 || rg != gid || eg != gid || sg != gid)
    return skiff_error (err, EPERM, "process.user.gid: the process is not gid %u", (unsigned)gid);
  if (u && u->umask_present)
    umask ((mode_t)u->umask);
  return 0;
}

int
process_drop_privileges (const oci_process *p, skiff_error_t *err)
{
  static const oci_capabilities none = { 0 };
  const oci_capabilities *c = p->capabilities ? p->capabilities : &none;
  if (libcap_state != 1)
    return skiff_error (err, ELIBACC, "internal: libcap was not loaded before the clone");
  if (drop_bounding (c, err) < 0)
    return -1;
  /* Keep the permitted set across the uid change; capset below decides. */
  if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return skiff_error (err, errno, "prctl PR_SET_KEEPCAPS");
  if (set_user (p, err) < 0)
    return -1;
  if (prctl (PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return skiff_error (err, errno, "prctl PR_SET_KEEPCAPS");
  return set_caps (c, err);
}

int
process_join_session_keyring (const oci_process *p, const char *id, skiff_error_t *err)
{
  char name[320];
  snprintf (name, sizeof name, "_ses.%s", id);
  /* With the process's SELinux label, so that the container may use it. */
  if (label_keyring (p, err) < 0)
    return -1;
  if (syscall (SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, name) < 0 && errno != ENOSYS
      && errno != EPERM && errno != EDQUOT)
    return skiff_error (err, errno, "join a new session keyring");
  return label_keyring (NULL, err);
}

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

pid_t
process_clone (int flags, int cgroup_fd, bool *born_in)
{
  struct clone_args args = { .flags = (uint64_t)flags, .exit_signal = SIGCHLD };
  pid_t pid;
  *born_in = false;
  if (cgroup_fd >= 0)
    {
      args.flags |= CLONE_INTO_CGROUP;
      args.cgroup = (uint64_t)cgroup_fd;
      pid = (pid_t)syscall (SYS_clone3, &args, sizeof args);
      if (pid >= 0)
        {
          *born_in = true;
          return pid;
        }
      args.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
      args.cgroup = 0;
    }
  pid = (pid_t)syscall (SYS_clone3, &args, sizeof args);
  if (pid < 0 && errno == ENOSYS)
    pid = (pid_t)syscall (SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
  return pid;
}

int
process_set_no_new_privs (skiff_error_t *err)
{
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return skiff_error (err, errno, "process.noNewPrivileges: prctl");
  return 0;
}

int
process_cloexec_from (int first_fd, skiff_error_t *err)
{
  if (close_range ((unsigned)first_fd, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    return skiff_error (err, errno, "close_range");
  return 0;
}

/* The home directory in one /etc/passwd line, if the line is uid's. */
static bool
passwd_home (char *line, uid_t uid, char *out, size_t size)
{
  char *f[7] = { 0 };
  for (int i = 0; i < 7 && line; i++)
    f[i] = strsep (&line, ":");
  if (f[5] == NULL || *f[5] == '\0' || f[2] == NULL || strtoul (f[2], NULL, 10) != uid)
    return false;
  return (size_t)snprintf (out, size, "%s", f[5]) < size;
}

/* HOME from the container's /etc/passwd, else "/": read through a buffer
   on the stack, not stdio (the init runs this inside the container's
   memory limit).  A line longer than the buffer is skipped. */
static void
home_of (uid_t uid, char *out, size_t size)
{
  char buf[2048];
  size_t have = 0;
  bool skipping = false;
  snprintf (out, size, "/");
  cleanup_close int fd = open ("/etc/passwd", O_RDONLY | O_CLOEXEC);
  while (fd >= 0)
    {
      ssize_t n = read (fd, buf + have, sizeof buf - 1 - have);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          buf[have] = '\0';
          if (have && !skipping)
            passwd_home (buf, uid, out, size);
          return;
        }
      have += (size_t)n;
      char *line = buf, *nl;
      while ((nl = memchr (line, '\n', have - (size_t)(line - buf))))
        {
          *nl = '\0';
          if (!skipping && passwd_home (line, uid, out, size))
            return;
          skipping = false;
          line = nl + 1;
        }
      have -= (size_t)(line - buf);
      memmove (buf, line, have);
      if (have == sizeof buf - 1)
        {
          skipping = true;
          have = 0;
        }
    }
}

void
process_set_home (char **env, size_t cap, const oci_process *p, char buf[PROCESS_HOME_MAX])
{
  size_t n = 0;
  for (; env[n]; n++)
    if (strncmp (env[n], "HOME=", 5) == 0)
      return;
  if (n + 1 >= cap)
    return;
  memcpy (buf, "HOME=", 5);
  home_of (p->user ? p->user->uid : 0, buf + 5, PROCESS_HOME_MAX - 5);
  env[n] = buf;
  env[n + 1] = NULL;
}

int
process_apply_final_affinity (const oci_process *p, skiff_error_t *err)
{
  if (p->exec_cpu_affinity == NULL || p->exec_cpu_affinity->final == NULL)
    return 0;
  return apply_affinity (p->exec_cpu_affinity->final, "process.execCPUAffinity.final", err);
}

char **
process_cap_names (size_t *n)
{
  *n = 0;
  if (process_caps_load (NULL) < 0)
    return calloc (1, sizeof (char *));
  int last = cap_max_bits ();
  char **out = calloc ((size_t)last + 1, sizeof *out);
  if (out == NULL)
    abort ();
  for (int c = 0; c < last; c++)
    {
      char *name = cap_to_name (c);
      if (name == NULL)
        continue;
      char *up = strdup (name);
      if (up == NULL)
        abort ();
      for (char *q = up; *q; q++)
        *q = (char)(*q >= 'a' && *q <= 'z' ? *q - 32 : *q);
      cap_free (name);
      out[(*n)++] = up;
    }
  return out;
}

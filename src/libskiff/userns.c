/* uid_map and gid_map of a new user namespace; see userns.h. */
#include "config.h"
#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/capability.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "log.h"
#include "strbuf.h"

/* What differs between the uid and the gid map. */
struct map_kind
{
  const char *key;    /* linux.uidMappings */
  const char *file;   /* uid_map */
  const char *helper; /* newuidmap */
  const char *subids; /* /etc/subuid */
  int cap;            /* CAP_SETUID */
  bool gid;
};

static const struct map_kind uid_kind
    = { "linux.uidMappings", "uid_map", "newuidmap", "/etc/subuid", CAP_SETUID, false };
static const struct map_kind gid_kind
    = { "linux.gidMappings", "gid_map", "newgidmap", "/etc/subgid", CAP_SETGID, true };

enum map_way
{
  MAP_DIRECT, /* we hold the capability: any ids we have */
  MAP_OWN_ID, /* one line of our own effective id (and setgroups deny) */
  MAP_HELPER, /* newuidmap / newgidmap */
};

static bool
have_cap (int cap)
{
  struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
  struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
  if (syscall (SYS_capget, &h, d) < 0)
    return false;
  return d[cap / 32].effective & (1U << (cap % 32));
}

static unsigned
own_id (const struct map_kind *k)
{
  return k->gid ? (unsigned)getegid () : (unsigned)geteuid ();
}

static enum map_way
map_way (const struct map_kind *k, oci_id_mapping **m, size_t n)
{
  if (have_cap (k->cap))
    return MAP_DIRECT;
  if (n == 1 && m[0]->size == 1 && m[0]->host_id == own_id (k))
    return MAP_OWN_ID;
  return MAP_HELPER;
}

/* The helper in PATH (else the usual directories), into out. */
static bool
find_helper (const char *name, char out[PATH_MAX])
{
  const char *path = getenv ("PATH");
  if (path == NULL || *path == '\0')
    path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const char *p = path; *p; p += strcspn (p, ":"), p += *p == ':')
    {
      int n = (int)strcspn (p, ":");
      if (n == 0 || *p != '/')
        continue;
      if (snprintf (out, PATH_MAX, "%.*s/%s", n, p, name) < PATH_MAX && access (out, X_OK) == 0)
        return true;
    }
  return false;
}

/* nsswitch.conf may name a plugin as the source of subordinate ids
   (subuid(5)): then only the helper knows what is granted. */
static bool
subids_from_files (void)
{
  cleanup_free char *text = NULL;
  if (read_file_at (AT_FDCWD, "/etc/nsswitch.conf", &text, NULL, NULL) < 0)
    return true;
  for (char *line = text; line && *line;
       line = strchr (line, '\n') ? strchr (line, '\n') + 1 : NULL)
    {
      line += strspn (line, " \t");
      if (strncmp (line, "subid:", 6) != 0)
        continue;
      const char *v = line + 6;
      v += strspn (v, " \t");
      size_t len = strcspn (v, " \t\n#");
      return len == 0 || (len == 5 && strncmp (v, "files", 5) == 0);
    }
  return true;
}

/* Whether the user's entries of k->subids cover [first, first+count):
   several adjacent entries may, as the helper allows. */
static bool
subids_cover (const char *text, const char *user, unsigned uid, uint64_t first, uint64_t count)
{
  uint64_t cur = first, end = first + count;
  while (cur < end)
    {
      bool found = false;
      for (const char *line = text; line && *line;
           line = strchr (line, '\n') ? strchr (line, '\n') + 1 : NULL)
        {
          char owner[256];
          unsigned long long start, n;
          if (sscanf (line, "%255[^:\n]:%llu:%llu", owner, &start, &n) != 3)
            continue;
          char num[16];
          snprintf (num, sizeof num, "%u", uid);
          if (strcmp (owner, num) != 0 && (user == NULL || strcmp (owner, user) != 0))
            continue;
          if (start <= cur && cur < start + n)
            {
              cur = start + n;
              found = true;
              break;
            }
        }
      if (!found)
        return false;
    }
  return true;
}

static int
check_granted (const struct map_kind *k, oci_id_mapping **m, size_t n, skiff_error_t *err)
{
  if (!subids_from_files ())
    return 0;
  unsigned uid = (unsigned)geteuid ();
  const struct passwd *pw = getpwuid (uid);
  const char *user = pw ? pw->pw_name : NULL;
  cleanup_free char *text = NULL;
  skiff_error_t e = NULL;
  if (read_file_at (AT_FDCWD, k->subids, &text, NULL, &e) < 0)
    {
      int no = e->errno_;
      skiff_error_free (&e);
      return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, no,
                                   "%s: rootless, ids other than your own need subordinate ids "
                                   "granted to user `%s` (uid %u) in %s",
                                   k->key, user ? user : "?", uid, k->subids);
    }
  for (size_t i = 0; i < n; i++)
    {
      /* the helper maps our own id without a grant */
      if (m[i]->size == 1 && m[i]->host_id == own_id (k))
        continue;
      if (!subids_cover (text, user, uid, m[i]->host_id, m[i]->size))
        return skiff_error_kind_set (
            err, SKIFF_ERR_INVALID_CONFIG, 0,
            "%s[%zu]: rootless, host ids %u-%" PRIu64 " are not granted to user `%s` (uid %u) "
            "in %s",
            k->key, i, (unsigned)m[i]->host_id, (uint64_t)m[i]->host_id + m[i]->size - 1,
            user ? user : "?", uid, k->subids);
    }
  return 0;
}

static int
check_map (const struct map_kind *k, oci_id_mapping **m, size_t n, skiff_error_t *err)
{
  char helper[PATH_MAX];
  if (n == 0 || map_way (k, m, n) != MAP_HELPER)
    return 0;
  if (!find_helper (k->helper, helper))
    return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, 0,
                                 "%s: rootless, a map other than your own %s alone needs %s(1) "
                                 "(package uidmap), which is not in PATH",
                                 k->key, k->gid ? "gid" : "uid", k->helper);
  return check_granted (k, m, n, err);
}

int
userns_check_maps (const oci_linux *l, skiff_error_t *err)
{
  if (l == NULL)
    return 0;
  if (check_map (&uid_kind, l->uid_mappings, l->uid_mappings_len, err) < 0)
    return -1;
  return check_map (&gid_kind, l->gid_mappings, l->gid_mappings_len, err);
}

static int
write_proc (pid_t pid, const char *file, const char *what, const char *text, skiff_error_t *err)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/%s", (int)pid, file);
  cleanup_close int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return skiff_error (err, errno, "open `%s`", path);
  int r = write_all_fd (fd, text, strlen (text));
  if (r < 0)
    return skiff_error (err, -r, "write %s `%s`", what, text);
  return 0;
}

/* Run the helper; its complaint (stderr) becomes the error message. */
static int
run_helper (const struct map_kind *k, pid_t pid, oci_id_mapping **m, size_t n, skiff_error_t *err)
{
  char helper[PATH_MAX];
  if (!find_helper (k->helper, helper))
    return skiff_error (err, ENOENT, "%s: %s", k->key, k->helper);
  cleanup_strbuf struct skiff_strbuf args = { 0 };
  cleanup_free char **argv = calloc (3 * n + 3, sizeof *argv);
  cleanup_free char *nums = malloc (3 * n * 16);
  if (argv == NULL || nums == NULL)
    abort ();
  char pidbuf[16];
  snprintf (pidbuf, sizeof pidbuf, "%d", (int)pid);
  size_t a = 0;
  argv[a++] = (char *)k->helper;
  argv[a++] = pidbuf;
  for (size_t i = 0; i < n; i++)
    {
      unsigned v[3] = { m[i]->container_id, m[i]->host_id, m[i]->size };
      for (int j = 0; j < 3; j++)
        {
          char *num = nums + (3 * i + (size_t)j) * 16;
          snprintf (num, 16, "%u", v[j]);
          argv[a++] = num;
        }
      strbuf_printf (&args, " %u %u %u", v[0], v[1], v[2]);
    }
  int p[2];
  if (pipe2 (p, O_CLOEXEC) < 0)
    return skiff_error (err, errno, "%s: pipe", k->key);
  cleanup_close int rd = p[0];
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  sigset_t none, all;
  sigemptyset (&none);
  sigfillset (&all);
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, p[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2 (&fa, p[1], STDERR_FILENO);
  posix_spawnattr_init (&at);
  /* not the signals the runtime blocks or ignores (run forwards them) */
  posix_spawnattr_setsigmask (&at, &none);
  posix_spawnattr_setsigdefault (&at, &all);
  posix_spawnattr_setflags (&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  extern char **environ;
  pid_t child;
  int e = posix_spawn (&child, helper, &fa, &at, argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  posix_spawnattr_destroy (&at);
  close (p[1]);
  if (e != 0)
    return skiff_error (err, e, "%s: run %s", k->key, helper);
  /* Read to EOF (a helper blocked on a full pipe would never exit),
     keeping the start. */
  char out[512], rest[512];
  size_t len = 0;
  ssize_t r;
  while ((r = len < sizeof out - 1 ? read (rd, out + len, sizeof out - 1 - len)
                                   : read (rd, rest, sizeof rest))
         != 0)
    {
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        break;
      if (len < sizeof out - 1)
        len += (size_t)r;
    }
  while (len && (out[len - 1] == '\n' || out[len - 1] == ' '))
    len--;
  out[len] = '\0';
  int status = 0;
  while (waitpid (child, &status, 0) < 0 && errno == EINTR)
    ;
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  return skiff_error (err, 0, "%s: %s%s failed (%s %d)%s%s", k->key, k->helper,
                      args.s ? args.s : "", WIFEXITED (status) ? "exit status" : "signal",
                      WIFEXITED (status) ? WEXITSTATUS (status) : WTERMSIG (status),
                      len ? ": " : "", out);
}

static int
write_map (const struct map_kind *k, pid_t pid, oci_id_mapping **m, size_t n, skiff_error_t *err)
{
  enum map_way way = map_way (k, m, n);
  if (n && way == MAP_HELPER)
    return run_helper (k, pid, m, n, err);
  /* Without CAP_SETGID in our namespace the kernel takes a gid map only
     once the namespace can no longer drop groups (CVE-2014-8989). */
  if (k->gid && n && way == MAP_OWN_ID
      && write_proc (pid, "setgroups", "setgroups", "deny", err) < 0)
    return -1;
  cleanup_strbuf struct skiff_strbuf b = { 0 };
  for (size_t i = 0; i < n; i++)
    strbuf_printf (&b, "%u %u %u\n", (unsigned)m[i]->container_id, (unsigned)m[i]->host_id,
                   (unsigned)m[i]->size);
  return write_proc (pid, k->file, k->key, b.s ? b.s : "", err);
}

int
userns_write_maps (pid_t pid, const oci_linux *l, skiff_error_t *err)
{
  if (write_map (&uid_kind, pid, l->uid_mappings, l->uid_mappings_len, err) < 0)
    return -1;
  return write_map (&gid_kind, pid, l->gid_mappings, l->gid_mappings_len, err);
}

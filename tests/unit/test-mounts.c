/* One mount operation, with the fd-based API, with mount(2) forced, and
   under a seccomp filter that makes the new mount syscalls ENOSYS.  Each
   mount test runs in a child in its own mount namespace, on a private
   tmpfs, and reads /proc/self/mountinfo to check what the kernel did. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "enosys.h"
#include "fs.h"
#include "fsutil.h"
#include "mounts.h"
#include "strbuf.h"

/* ---- in the child: no cmocka, report by exit status ------------------- */

#define CHECK(cond)                                                                                \
  do                                                                                               \
    {                                                                                              \
      if (!(cond))                                                                                 \
        {                                                                                          \
          fprintf (stderr, "%s:%d: CHECK (%s) failed (errno %s)\n", __FILE__, __LINE__, #cond,     \
                   strerror (errno));                                                              \
          return 1;                                                                                \
        }                                                                                          \
    }                                                                                              \
  while (0)

#define CHECK_OK(call)                                                                             \
  do                                                                                               \
    {                                                                                              \
      if ((call) < 0)                                                                              \
        {                                                                                          \
          fprintf (stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call,                           \
                   err ? err->msg : "(no message)");                                               \
          return 1;                                                                                \
        }                                                                                          \
    }                                                                                              \
  while (0)

static char base[64]; /* a private tmpfs in the child */
static int basefd = -1;

/* Whether the fd-based API is out of reach in this run. */
static bool
no_mount_api (void)
{
  return mount_force_fallback
         || (syscall (SYS_mount_setattr, -1, "", 0, NULL, 0) < 0 && errno == ENOSYS);
}

static void
mkpath (const char *rel, bool dir)
{
  skiff_error_t err = NULL;
  int fd = dir ? safe_mkdir_all_in_root (basefd, rel, 0755, &err)
               : safe_create_file_in_root (basefd, rel, 0644, &err);
  if (fd < 0)
    {
      fprintf (stderr, "mkpath %s: %s\n", rel, err->msg);
      _exit (1);
    }
  close (fd);
}

static char *
abspath (const char *rel)
{
  static char buf[4][PATH_MAX];
  static int n;
  char *b = buf[n++ % 4];
  snprintf (b, PATH_MAX, "%s/%s", base, rel);
  return b;
}

/* The topmost mount at rel (by mount point), or NULL. */
static struct mountinfo *
find_mount (const char *rel, struct mountinfo **all, size_t *n)
{
  skiff_error_t err = NULL;
  if (mountinfo_read (all, n, &err) < 0)
    return NULL;
  struct mountinfo *hit = NULL;
  for (size_t i = 0; i < *n; i++)
    if (strcmp ((*all)[i].point, abspath (rel)) == 0)
      hit = &(*all)[i];
  return hit;
}

static bool
has_opt (const char *opts, const char *opt)
{
  size_t n = strlen (opt);
  for (const char *p = opts; (p = strstr (p, opt)); p += n)
    if ((p == opts || p[-1] == ',' || p[-1] == ' ') && (p[n] == ',' || p[n] == ' ' || !p[n]))
      return true;
  return false;
}

/* Check the mount at rel: fstype (NULL: any), each of the comma-separated
   mount options, and super options. */
static int
check_mount (const char *rel, const char *fstype, const char *mnt_opts, const char *super_opts)
{
  struct mountinfo *all = NULL;
  size_t n = 0;
  struct mountinfo *m = find_mount (rel, &all, &n);
  int bad = 0;
  if (m == NULL)
    {
      fprintf (stderr, "no mount at %s\n", rel);
      return 1;
    }
  if (fstype && strcmp (m->fstype, fstype) != 0)
    bad = fprintf (stderr, "%s: fstype %s, want %s\n", rel, m->fstype, fstype);
  const char *want[2] = { mnt_opts, super_opts };
  const char *got[2] = { m->mnt_opts, m->super_opts };
  for (int k = 0; k < 2; k++)
    {
      if (want[k] == NULL)
        continue;
      cleanup_free char *copy = strdup (want[k]);
      char *save = NULL;
      for (char *o = strtok_r (copy, ",", &save); o; o = strtok_r (NULL, ",", &save))
        if (o[0] == '!' ? has_opt (got[k], o + 1) : !has_opt (got[k], o))
          bad = fprintf (stderr, "%s: options \"%s\" %s \"%s\"\n", rel, got[k],
                         o[0] == '!' ? "have" : "lack", o[0] == '!' ? o + 1 : o);
    }
  mountinfo_free (all, n);
  return bad ? 1 : 0;
}

static int
target_of (const char *rel, struct mount_target *t)
{
  skiff_error_t err = NULL;
  t->rootfd = basefd;
  t->path = rel;
  t->fd = safe_open_in_root (basefd, rel, O_PATH, 0, &err);
  if (t->fd < 0)
    fprintf (stderr, "target %s: %s\n", rel, err->msg);
  return t->fd;
}

static int
opts_of (const char *csv, struct mount_opts *o)
{
  char *v[32];
  size_t n = 0;
  cleanup_free char *copy = strdup (csv);
  char *save = NULL;
  for (char *s = strtok_r (copy, " ", &save); s && n < 32; s = strtok_r (NULL, " ", &save))
    v[n++] = s;
  skiff_error_t err = NULL;
  return mount_opts_parse (v, n, o, &err);
}

static bool
writable (const char *rel)
{
  char p[PATH_MAX];
  snprintf (p, sizeof p, "%s/.w%d", abspath (rel), (int)getpid ());
  int fd = open (p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return false;
  close (fd);
  unlink (p);
  return true;
}

/* ---- the mount cases (child side) ------------------------------------- */

static int
case_tmpfs_options (void)
{
  skiff_error_t err = NULL;
  struct mount_opts o;
  struct mount_target t;
  mkpath ("t", true);
  CHECK (opts_of ("ro nosuid nodev noexec noatime size=1m,mode=700", &o) == 0);
  CHECK (target_of ("t", &t) >= 0);
  CHECK_OK (mount_new_fs ("tmpfs", "skiff-test", &t, &o, NULL, &err));
  CHECK (check_mount ("t", "tmpfs", "ro,nosuid,nodev,noexec,noatime", "size=1024k,mode=700") == 0);
  struct stat st;
  CHECK (stat (abspath ("t"), &st) == 0 && (st.st_mode & 07777) == 0700);
  CHECK (!writable ("t"));
  mount_opts_free (&o);
  return 0;
}

static int
case_fs_errors (void)
{
  skiff_error_t err = NULL;
  struct mount_opts o;
  struct mount_target t;
  mkpath ("bad", true);
  CHECK (opts_of ("size=bogus", &o) == 0);
  CHECK (target_of ("bad", &t) >= 0);
  CHECK (mount_new_fs ("tmpfs", "tmpfs", &t, &o, NULL, &err) < 0);
  CHECK (strstr (err->msg, "mount tmpfs on \"bad\"") != NULL);
  skiff_error_free (&err);
  CHECK (mount_new_fs ("no-such-fs-skiff", NULL, &t, &o, NULL, &err) < 0);
  CHECK (err->errno_ == ENODEV);
  mount_opts_free (&o);
  return 0;
}

static int
case_bind_ro (void)
{
  skiff_error_t err = NULL;
  struct mount_opts o;
  struct mount_target t;
  mkpath ("src/sub", true);
  mkpath ("dst", true);
  CHECK (mount ("tmpfs", abspath ("src/sub"), "tmpfs", 0, NULL) == 0);
  CHECK (opts_of ("rbind ro nosuid", &o) == 0);
  CHECK (target_of ("dst", &t) >= 0);
  CHECK_OK (mount_bind (-1, abspath ("src"), &t, &o, -1, &err));
  /* read-only all the way down; the source stays writable */
  CHECK (check_mount ("dst", NULL, "ro,nosuid", NULL) == 0);
  CHECK (check_mount ("dst/sub", "tmpfs", "ro,nosuid", NULL) == 0);
  CHECK (!writable ("dst") && !writable ("dst/sub"));
  CHECK (writable ("src") && writable ("src/sub"));
  mount_opts_free (&o);
  return 0;
}

static int
case_bind_not_recursive (void)
{
  skiff_error_t err = NULL;
  struct mount_opts o;
  struct mount_target t;
  mkpath ("s2/sub", true);
  mkpath ("d2", true);
  CHECK (mount ("tmpfs", abspath ("s2/sub"), "tmpfs", 0, NULL) == 0);
  CHECK (opts_of ("bind", &o) == 0);
  CHECK (target_of ("d2", &t) >= 0);
  CHECK_OK (mount_bind (-1, abspath ("s2"), &t, &o, -1, &err));
  struct mountinfo *all = NULL;
  size_t n = 0;
  CHECK (find_mount ("d2", &all, &n) != NULL);
  mountinfo_free (all, n);
  CHECK (find_mount ("d2/sub", &all, &n) == NULL);
  mountinfo_free (all, n);
  CHECK (writable ("d2"));
  return 0;
}

static int
case_file_bind_and_errors (void)
{
  skiff_error_t err = NULL;
  struct mount_opts o;
  struct mount_target t;
  mkpath ("file-src", false);
  mkpath ("file-dst", false);
  CHECK (opts_of ("bind ro", &o) == 0);
  CHECK (target_of ("file-dst", &t) >= 0);
  CHECK_OK (mount_bind (-1, abspath ("file-src"), &t, &o, -1, &err));
  CHECK (check_mount ("file-dst", NULL, "ro", NULL) == 0);
  CHECK (open (abspath ("file-dst"), O_WRONLY | O_CLOEXEC) < 0 && errno == EROFS);
  /* the message names source and target */
  CHECK (mount_bind (-1, "/nonexistent-skiff-src", &t, &o, -1, &err) < 0);
  CHECK (err->errno_ == ENOENT);
  CHECK (strcmp (err->msg, "mount \"/nonexistent-skiff-src\" on \"file-dst\": No such file or "
                           "directory")
         == 0);
  skiff_error_free (&err);
  return 0;
}

static int
case_recursive_attrs (void)
{
  skiff_error_t err = NULL;
  struct mount_opts o;
  struct mount_target t;
  mkpath ("r/sub", true);
  mkpath ("rd", true);
  CHECK (mount ("tmpfs", abspath ("r/sub"), "tmpfs", 0, NULL) == 0);
  CHECK (opts_of ("rbind rro rnosuid rnodev rnoexec rnoatime", &o) == 0);
  CHECK (target_of ("rd", &t) >= 0);
  int r = mount_bind (-1, abspath ("r"), &t, &o, -1, &err);
  CHECK_OK (r);
  CHECK (check_mount ("rd", NULL, "ro,nosuid,nodev,noexec,noatime", NULL) == 0);
  CHECK (check_mount ("rd/sub", NULL, "ro,nosuid,nodev,noexec,noatime", NULL) == 0);
  mount_opts_free (&o);
  /* and back: rrw rsuid on the whole tree */
  CHECK (opts_of ("rbind rro", &o) == 0);
  int fd = safe_open_in_root (basefd, "rd", O_PATH, 0, &err);
  CHECK (fd >= 0);
  CHECK_OK (mount_change_attrs (fd, "rd", 0, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, true, &err));
  CHECK (check_mount ("rd/sub", NULL, "rw,!nosuid,nodev", NULL) == 0);
  mount_opts_free (&o);
  close (fd);
  return 0;
}

static int
case_atime (void)
{
  skiff_error_t err = NULL;
  struct mount_opts o;
  struct mount_target t;
  mkpath ("a1", true);
  mkpath ("a2", true);
  CHECK (opts_of ("bind strictatime nodiratime", &o) == 0);
  CHECK (target_of ("a1", &t) >= 0);
  CHECK_OK (mount_bind (-1, abspath ("a2"), &t, &o, -1, &err));
  CHECK (check_mount ("a1", NULL, "!relatime,!noatime,nodiratime", NULL) == 0);
  mount_opts_free (&o);
  return 0;
}

static int
case_propagation (void)
{
  skiff_error_t err = NULL;
  struct mount_opts o;
  struct mount_target t;
  mkpath ("p1", true);
  mkpath ("p2", true);
  mkpath ("psrc", true);
  CHECK (opts_of ("rbind shared", &o) == 0);
  CHECK (target_of ("p1", &t) >= 0);
  CHECK_OK (mount_bind (-1, abspath ("psrc"), &t, &o, -1, &err));
  mount_opts_free (&o);
  CHECK (opts_of ("rbind unbindable", &o) == 0);
  CHECK (target_of ("p2", &t) >= 0);
  CHECK_OK (mount_bind (-1, abspath ("psrc"), &t, &o, -1, &err));
  mount_opts_free (&o);
  struct mountinfo *all = NULL;
  size_t n = 0;
  struct mountinfo *m = find_mount ("p1", &all, &n);
  CHECK (m && strstr (m->optional, "shared:"));
  mountinfo_free (all, n);
  m = find_mount ("p2", &all, &n);
  CHECK (m && strstr (m->optional, "unbindable"));
  mountinfo_free (all, n);
  return 0;
}

static int
case_remount (void)
{
  skiff_error_t err = NULL;
  struct mount_opts o;
  struct mount_target t;
  mkpath ("rm", true);
  CHECK (mount ("tmpfs", abspath ("rm"), "tmpfs", 0, NULL) == 0);
  CHECK (opts_of ("remount ro size=2m", &o) == 0);
  CHECK (target_of ("rm", &t) >= 0);
  CHECK_OK (mount_remount (&t, &o, &err));
  CHECK (check_mount ("rm", "tmpfs", "ro", "size=2048k") == 0);
  mount_opts_free (&o);
  return 0;
}

/* A mapping "0 1000 1" (containerID hostID size, as in config.json) makes
   a file owned by 0 on disk show as 1000 on the host through the mount,
   i.e. as root inside a container whose user namespace maps 0 to 1000.
   Without mount_setattr the runtime says so instead. */
static int
case_idmap (void)
{
  skiff_error_t err = NULL;
  struct mount_opts o;
  struct mount_target t;
  mkpath ("idsrc/f", false);
  mkpath ("iddst", true);
  CHECK (chown (abspath ("idsrc/f"), 0, 0) == 0);
  int userns = mount_userns_fd ("0 1000 1\n", "0 1000 1\n", &err);
  CHECK_OK (userns);
  char p[64], link[64] = "";
  snprintf (p, sizeof p, "/proc/self/fd/%d", userns);
  CHECK (readlink (p, link, sizeof link - 1) > 0 && strncmp (link, "user:[", 6) == 0);
  CHECK (opts_of ("rbind idmap", &o) == 0);
  CHECK (target_of ("iddst", &t) >= 0);
  int r = mount_bind (-1, abspath ("idsrc"), &t, &o, userns, &err);
  if (no_mount_api ())
    {
      CHECK (r < 0 && err->kind == SKIFF_ERR_UNSUPPORTED);
      return 0;
    }
  CHECK_OK (r);
  struct stat st;
  CHECK (stat (abspath ("iddst/f"), &st) == 0 && st.st_uid == 1000 && st.st_gid == 1000);
  CHECK (stat (abspath ("idsrc/f"), &st) == 0 && st.st_uid == 0);
  CHECK (check_mount ("iddst", NULL, "idmapped", NULL) == 0);
  mount_opts_free (&o);
  return 0;
}

/* Become root of a new user namespace (mapped to our root), with a new
   mount namespace it owns: every mount copied into it is locked
   (mount_namespaces(7)), as a rootless container's view of the host. */
static int
enter_userns (void)
{
  static const struct
  {
    const char *file, *text;
  } maps[] = { { "uid_map", "0 0 1" }, { "setgroups", "deny" }, { "gid_map", "0 0 1" } };
  if (unshare (CLONE_NEWUSER | CLONE_NEWNS) < 0)
    return -1;
  for (size_t i = 0; i < sizeof maps / sizeof *maps; i++)
    {
      char path[64];
      snprintf (path, sizeof path, "/proc/self/%s", maps[i].file);
      int fd = open (path, O_WRONLY | O_CLOEXEC);
      if (fd < 0 || write (fd, maps[i].text, strlen (maps[i].text)) < 0)
        return -1;
      close (fd);
    }
  /* fds of the old namespace name its mounts */
  close (basefd);
  basefd = open (base, O_PATH | O_DIRECTORY | O_CLOEXEC);
  return basefd < 0 ? -1 : 0;
}

/* A bind of a locked nosuid,nodev,noexec mount keeps those flags (a
   remount must not drop them: EPERM), and an option that clears one is
   named in the error. */
static int
case_locked_flags (void)
{
  skiff_error_t err = NULL;
  struct mount_opts o;
  struct mount_target t;
  mkpath ("locked", true);
  mkpath ("la", true);
  mkpath ("lb", true);
  CHECK (mount ("tmpfs", abspath ("locked"), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0);
  CHECK (enter_userns () == 0);
  CHECK (opts_of ("rbind ro", &o) == 0);
  CHECK (target_of ("la", &t) >= 0);
  CHECK_OK (mount_bind (-1, abspath ("locked"), &t, &o, -1, &err));
  CHECK (check_mount ("la", "tmpfs", "ro,nosuid,nodev,noexec", NULL) == 0);
  mount_opts_free (&o);
  CHECK (opts_of ("bind rw exec", &o) == 0);
  CHECK (target_of ("lb", &t) >= 0);
  CHECK (mount_bind (-1, abspath ("locked"), &t, &o, -1, &err) < 0);
  CHECK (strstr (err->msg, "option `exec` would clear `noexec`") != NULL);
  mount_opts_free (&o);
  return 0;
}

/* ---- cmocka side ------------------------------------------------------- */

static void
run_case (int (*fn) (void))
{
  if (geteuid () != 0)
    skip ();
  snprintf (base, sizeof base, "/tmp/skiff-mounts-XXXXXX");
  assert_non_null (mkdtemp (base));
  fflush (NULL);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      /* a pid namespace too: the init of a container runs in one while
         /proc is still the host's (pids differ between the two) */
      if (unshare (CLONE_NEWNS | CLONE_NEWPID) < 0
          || mount (NULL, "/", NULL, MS_PRIVATE | MS_REC, NULL) < 0
          || mount ("tmpfs", base, "tmpfs", 0, NULL) < 0)
        _exit (2);
      basefd = open (base, O_PATH | O_DIRECTORY | O_CLOEXEC);
      pid_t init = fork ();
      if (init == 0)
        _exit (fn ());
      int st;
      _exit (init > 0 && waitpid (init, &st, 0) == init && WIFEXITED (st) ? WEXITSTATUS (st) : 3);
    }
  int status;
  assert_int_equal (waitpid (pid, &status, 0), pid);
  rmdir (base);
  assert_true (WIFEXITED (status));
  assert_int_equal (WEXITSTATUS (status), 0);
}

#define CASE(name)                                                                                 \
  static void test_##name (void **state)                                                           \
  {                                                                                                \
    (void)state;                                                                                   \
    run_case (case_##name);                                                                        \
  }
CASE (tmpfs_options)
CASE (fs_errors)
CASE (bind_ro)
CASE (bind_not_recursive)
CASE (file_bind_and_errors)
CASE (recursive_attrs)
CASE (atime)
CASE (propagation)
CASE (remount)
CASE (idmap)
CASE (locked_flags)

static void
test_opts_parse (void **state)
{
  (void)state;
  struct mount_opts o;
  skiff_error_t err = NULL;
  char *v[] = { "ro",       "nosuid", "rbind",     "rslave", "mode=755", "rro",
                "rnoatime", "rw",     "tmpcopyup", "idmap",  "sync",     "x-foo" };
  assert_int_equal (mount_opts_parse (v, sizeof v / sizeof v[0], &o, &err), 0);
  assert_true (o.bind && o.rbind && o.idmap && o.tmpcopyup && !o.remount);
  assert_true ((o.flags & MS_NOSUID) && !(o.flags & MS_RDONLY) && (o.clear & MS_RDONLY));
  assert_int_equal (o.propagation, MS_SLAVE | MS_REC);
  assert_true (o.rec_set & MOUNT_ATTR_RDONLY);
  assert_true ((o.rec_clr & MOUNT_ATTR__ATIME) == MOUNT_ATTR__ATIME);
  assert_int_equal (o.rec_set & MOUNT_ATTR__ATIME, MOUNT_ATTR_NOATIME);
  assert_int_equal (mount_opts_sb_flags (&o), MS_SYNCHRONOUS);
  assert_int_equal (o.data_len, 2);
  assert_string_equal (o.data[0], "mode=755");
  assert_string_equal (o.data[1], "x-foo");
  cleanup_strbuf struct skiff_strbuf d = { 0 };
  mount_opts_describe (&o, &d);
  assert_string_equal (d.s,
                       "rw,nosuid,sync,rbind,rslave,rro,rnoatime,idmap,tmpcopyup,mode=755,x-foo");
  assert_true (mount_opts_has_attrs (&o));
  mount_opts_free (&o);

  char *empty[] = { "ro", "" };
  assert_int_equal (mount_opts_parse (empty, 2, &o, &err), -1);
  assert_int_equal (err->kind, SKIFF_ERR_INVALID_CONFIG);
  skiff_error_free (&err);
  char *none[] = { "defaults" };
  assert_int_equal (mount_opts_parse (none, 1, &o, &err), 0);
  assert_false (mount_opts_has_attrs (&o));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_opts_parse),
    cmocka_unit_test (test_tmpfs_options),
    cmocka_unit_test (test_fs_errors),
    cmocka_unit_test (test_bind_ro),
    cmocka_unit_test (test_bind_not_recursive),
    cmocka_unit_test (test_file_bind_and_errors),
    cmocka_unit_test (test_recursive_attrs),
    cmocka_unit_test (test_atime),
    cmocka_unit_test (test_propagation),
    cmocka_unit_test (test_remount),
    cmocka_unit_test (test_idmap),
    cmocka_unit_test (test_locked_flags),
  };
  int failed = 0;
  failed += cmocka_run_group_tests_name ("mounts: fd-based", tests, NULL, NULL);
  mount_force_fallback = fs_force_fallback = true;
  failed += cmocka_run_group_tests_name ("mounts: mount(2) forced", tests, NULL, NULL);
  mount_force_fallback = fs_force_fallback = false;
  failed
      += run_group_under_enosys ("mounts: ENOSYS (seccomp)", tests, sizeof tests / sizeof tests[0]);
  return failed ? 1 : 0;
}

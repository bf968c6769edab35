/* rootfs_setup + rootfs_pivot end to end, in a child with its own mount
   and pid namespaces, on a busybox rootfs in a temp dir; the child checks
   what it sees from inside (mountinfo, /dev, masked and read-only paths)
   and the parent checks that the host's mount table did not change.  Then
   the security regressions: hostile rootfs trees that must not make the
   runtime touch the host. */
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
#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "enosys.h"
#include "fs.h"
#include "fsutil.h"
#include "mounts.h"
#include "ocispec.h"
#include "rootfs.h"
#include "strbuf.h"

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

static char top[64];     /* temp dir: the bundle */
static char rootfs[128]; /* top/rootfs */

/* ---- building bundles -------------------------------------------------- */

static void
make_at (const char *rel, mode_t type, const char *content)
{
  char p[PATH_MAX];
  snprintf (p, sizeof p, "%s/%s", top, rel);
  skiff_error_t err = NULL;
  if (S_ISDIR (type))
    {
      cleanup_close int root = open ("/", O_PATH | O_CLOEXEC);
      cleanup_close int fd = safe_mkdir_all_in_root (root, p, 0755, &err);
      assert_true (fd >= 0);
    }
  else if (S_ISLNK (type))
    assert_int_equal (symlink (content, p), 0);
  else
    assert_int_equal (write_file_at (AT_FDCWD, p, content, strlen (content), 0644, 0, &err), 0);
}

static void
copy_busybox (void)
{
  char dst[PATH_MAX];
  cleanup_free char *data = NULL;
  size_t len = 0;
  skiff_error_t err = NULL;
  snprintf (dst, sizeof dst, "%s/bin/busybox", rootfs);
  if (read_file_at (AT_FDCWD, "/bin/busybox", &data, &len, &err) < 0)
    {
      skiff_error_free (&err);
      return; /* no busybox: the tests never exec it anyway */
    }
  assert_int_equal (write_file_at (AT_FDCWD, dst, data, len, 0755, 0, &err), 0);
  make_at ("rootfs/bin/sh", S_IFLNK, "busybox");
}

/* A fresh bundle: rootfs with bin/busybox, the usual directories, a marker
   file, and hostdata/ (outside the rootfs) to bind in. */
static int
setup (void **state)
{
  (void)state;
  if (geteuid () != 0)
    return 0;
  snprintf (top, sizeof top, "/tmp/skiff-rootfs-XXXXXX");
  if (mkdtemp (top) == NULL)
    return -1;
  snprintf (rootfs, sizeof rootfs, "%s/rootfs", top);
  const char *dirs[]
      = { "rootfs/bin", "rootfs/proc", "rootfs/sys", "rootfs/tmp", "rootfs/etc", "hostdata" };
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
    make_at (dirs[i], S_IFDIR, NULL);
  make_at ("rootfs/.skiff-test-root", S_IFREG, "yes");
  make_at ("hostdata/file", S_IFREG, "host data");
  copy_busybox ();
  return 0;
}

static int
teardown (void **state)
{
  (void)state;
  skiff_error_t err = NULL;
  if (top[0])
    remove_tree_at (AT_FDCWD, top, &err);
  skiff_error_free (&err);
  top[0] = '\0';
  return 0;
}

/* The config every test starts from; %s are the bundle's hostdata path
   and the extra mounts / linux members of the test. */
static char *
config_json (const char *extra_mounts, const char *extra_linux, bool terminal, bool ro_root)
{
  char *json = NULL;
  int n = asprintf (
      &json,
      "{\"ociVersion\": \"1.2.0\","
      " \"process\": {\"terminal\": %s, \"cwd\": \"/\", \"args\": [\"/bin/sh\"]},"
      " \"root\": {\"path\": \"rootfs\", \"readonly\": %s},"
      " \"mounts\": ["
      "  {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
      "  {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
      "   \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},"
      "  {\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\","
      "   \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", "
      "\"mode=0620\"]},"
      "  {\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\","
      "   \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},"
      "  {\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\","
      "   \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]},"
      "  {\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\","
      "   \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\"]},"
      "  {\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"%s/hostdata\","
      "   \"options\": [\"rbind\", \"ro\"]},"
      "  {\"destination\": \"/tmp\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
      "   \"options\": [\"size=1m\", \"mode=1777\"]}"
      "  %s"
      " ],"
      " \"linux\": {"
      "  \"devices\": [{\"type\": \"c\", \"path\": \"/dev/fuse\", \"major\": 10, \"minor\": 229,"
      "   \"fileMode\": 384, \"uid\": 0, \"gid\": 0}],"
      "  \"maskedPaths\": [\"/proc/kcore\", \"/proc/keys\", \"/proc/timer_list\","
      "   \"/sys/firmware\", \"/proc/does-not-exist\"],"
      "  \"readonlyPaths\": [\"/proc/sys\", \"/proc/sysrq-trigger\"]"
      "  %s"
      " }}",
      terminal ? "true" : "false", ro_root ? "true" : "false", top, extra_mounts, extra_linux);
  assert_true (n > 0);
  return json;
}

/* ---- running a container's rootfs in a child --------------------------- */

struct run
{
  char *json;
  int ns_flags; /* beyond CLONE_NEWNS | CLONE_NEWPID */
  bool no_pivot;
  int (*inside) (void);
  bool prepare_idmapped; /* rootfs_open_bind_trees() first, as a runtime parent would */
  bool own_mounts;       /* no host mounts from the "runtime": the init reads its own */
  char msg[2048];        /* the error of setup/pivot, if any */
};

enum
{
  RC_PARSE = 90,
  RC_SETUP = 91,
  RC_PIVOT = 92,
};

static int
container_main (struct run *r, int msgfd)
{
  oci_diags diags = { 0 };
  oci_config *c = oci_config_parse_data (r->json, strlen (r->json), NULL, &diags);
  if (c == NULL)
    {
      dprintf (msgfd, "%s", diags.len ? diags.items[0].msg : "parse");
      return RC_PARSE;
    }
  char real[PATH_MAX];
  if (realpath (rootfs, real) == NULL)
    return RC_PARSE;
  struct rootfs_spec s = {
    .config = c,
    .bundle = top,
    .rootfs = real,
    .no_pivot = r->no_pivot,
    .cgroupns = (r->ns_flags & CLONE_NEWCGROUP) != 0,
    .netns = (r->ns_flags & CLONE_NEWNET) != 0,
  };
  skiff_error_t err = NULL;
  int *prepared = NULL;
  if (r->prepare_idmapped && rootfs_open_bind_trees (&s, &prepared, &err) < 0)
    {
      dprintf (msgfd, "%s", err->msg);
      return RC_SETUP;
    }
  s.mount_fds = prepared;
  struct mount_plan plan;
  struct mountinfo *host = NULL;
  if (mount_plan_build (&s, &plan, &err) < 0
      || (!r->own_mounts && rootfs_read_host_mounts (&plan, &host, &s.host_mounts_len, &err) < 0)
      || (s.host_mounts = host, rootfs_setup (&s, &plan, &err)) < 0)
    {
      dprintf (msgfd, "%s", err->msg);
      return RC_SETUP;
    }
  if (rootfs_pivot (&s, &plan, &err) < 0)
    {
      dprintf (msgfd, "%s", err->msg);
      return RC_PIVOT;
    }
  close (msgfd);
  return r->inside ? r->inside () : 0;
}

static int
wait_exit (pid_t pid)
{
  int status;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return 255;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

/* The host's mount table, one line per mount, to compare before/after.
   With only_ours, just the mounts below this test's directory: on the real
   host other programs may mount meanwhile (the simulated host, a private
   namespace, is compared whole). */
static char *
host_mounts_filtered (bool only_ours)
{
  struct mountinfo *v = NULL;
  size_t n = 0;
  skiff_error_t err = NULL;
  assert_int_equal (mountinfo_read (&v, &n, &err), 0);
  struct skiff_strbuf b = { 0 };
  for (size_t i = 0; i < n; i++)
    if (!only_ours || strncmp (v[i].point, top, strlen (top)) == 0)
      strbuf_printf (&b, "%lu %lu %s %s %s %s\n", (unsigned long)v[i].id,
                     (unsigned long)v[i].parent, v[i].point, v[i].mnt_opts, v[i].optional,
                     v[i].fstype);
  mountinfo_free (v, n);
  return strbuf_steal (&b);
}

static char *
host_mounts (void)
{
  return host_mounts_filtered (false);
}

enum
{
  RC_HOST_CHANGED = 99,
};

/* The "host" of the container: its own mount namespace in which the bundle
   is a shared mount, as on systemd hosts, so a container mount that leaks
   through propagation shows up in its mount table. */
static int
host_main (struct run *r, int msgfd)
{
  if (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_PRIVATE | MS_REC, NULL) < 0
      || mount (top, top, NULL, MS_BIND | MS_REC, NULL) < 0
      || mount (NULL, top, NULL, MS_SHARED | MS_REC, NULL) < 0)
    return RC_PARSE;
  cleanup_free char *before = host_mounts ();
  pid_t pid = fork ();
  if (pid == 0)
    {
      if (unshare (CLONE_NEWNS | CLONE_NEWPID | r->ns_flags) < 0)
        _exit (RC_PARSE);
      pid_t init = fork ();
      if (init == 0)
        _exit (container_main (r, msgfd));
      _exit (init < 0 ? RC_PARSE : wait_exit (init));
    }
  close (msgfd);
  int rc = pid < 0 ? RC_PARSE : wait_exit (pid);
  cleanup_free char *after = host_mounts ();
  if (strcmp (before, after) != 0)
    {
      fprintf (stderr, "host mounts before:\n%s\nafter:\n%s", before, after);
      return RC_HOST_CHANGED;
    }
  return rc;
}

/* Fork a "host" (see host_main), in it a "container": unshare mount and pid
   (and r->ns_flags) namespaces, fork again to be pid 1, set up the rootfs
   and run r->inside.  Returns the container's exit code; neither the
   simulated host's nor the real host's mount table may change. */
static int
run_container (struct run *r)
{
  cleanup_free char *before = host_mounts_filtered (true);
  int p[2];
  assert_int_equal (pipe2 (p, O_CLOEXEC), 0);
  fflush (NULL);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      close (p[0]);
      _exit (host_main (r, p[1]));
    }
  close (p[1]);
  ssize_t n = read (p[0], r->msg, sizeof r->msg - 1);
  r->msg[n > 0 ? n : 0] = '\0';
  close (p[0]);
  int rc = wait_exit (pid);
  cleanup_free char *after = host_mounts_filtered (true);
  assert_string_equal (before, after);
  if (r->msg[0])
    fprintf (stderr, "# container said: %s\n", r->msg);
  assert_int_not_equal (rc, RC_HOST_CHANGED);
  return rc;
}

/* ---- what the container sees ------------------------------------------- */

static struct mountinfo *inside_mi;
static size_t inside_mi_len;

static const struct mountinfo *
mount_at (const char *point)
{
  const struct mountinfo *hit = NULL;
  for (size_t i = 0; i < inside_mi_len; i++)
    if (strcmp (inside_mi[i].point, point) == 0)
      hit = &inside_mi[i];
  return hit;
}

static bool
has_opt (const char *opts, const char *opt)
{
  cleanup_free char *hay = NULL, *needle = NULL;
  if (asprintf (&hay, ",%s,", opts) < 0 || asprintf (&needle, ",%s,", opt) < 0)
    abort ();
  return strstr (hay, needle) != NULL;
}

static int
check_mount (const char *point, const char *fstype, const char *opts)
{
  const struct mountinfo *m = mount_at (point);
  if (m == NULL || (fstype && strcmp (m->fstype, fstype) != 0))
    {
      fprintf (stderr, "mount at %s: %s\n", point, m ? m->fstype : "missing");
      return 1;
    }
  cleanup_free char *copy = strdup (opts);
  char *save = NULL;
  for (char *o = strtok_r (copy, ",", &save); o; o = strtok_r (NULL, ",", &save))
    if (!has_opt (m->mnt_opts, o) && !has_opt (m->super_opts, o))
      {
        fprintf (stderr, "mount at %s: \"%s\" / \"%s\" lacks %s\n", point, m->mnt_opts,
                 m->super_opts, o);
        return 1;
      }
  return 0;
}

static int
check_node (const char *path, mode_t type, unsigned maj, unsigned min, mode_t mode)
{
  struct stat st;
  CHECK (lstat (path, &st) == 0);
  if ((st.st_mode & S_IFMT) != type || major (st.st_rdev) != maj || minor (st.st_rdev) != min
      || (st.st_mode & 07777) != mode)
    {
      fprintf (stderr, "%s: mode %o rdev %u:%u\n", path, st.st_mode, major (st.st_rdev),
               minor (st.st_rdev));
      return 1;
    }
  return 0;
}

static int
check_link (const char *path, const char *want)
{
  char buf[PATH_MAX];
  ssize_t n = readlink (path, buf, sizeof buf - 1);
  CHECK (n > 0);
  buf[n] = '\0';
  CHECK (strcmp (buf, want) == 0);
  return 0;
}

static int
load_mountinfo (void)
{
  skiff_error_t err = NULL;
  CHECK (mountinfo_read (&inside_mi, &inside_mi_len, &err) == 0);
  for (size_t i = 0; i < inside_mi_len; i++)
    {
      /* nothing of the host: no mount of the bundle, nothing shared out */
      CHECK (strstr (inside_mi[i].point, top) == NULL);
      CHECK (strstr (inside_mi[i].optional, "shared:") == NULL);
    }
  return 0;
}

static int
check_masked (void)
{
  char buf[16];
  /* /proc/kcore is masked if the kernel has it; keys and timer_list are
     there on any kernel of this decade */
  if (access ("/proc/kcore", F_OK) == 0)
    CHECK (check_node ("/proc/kcore", S_IFCHR, 1, 3, 0666) == 0);
  CHECK (check_node ("/proc/keys", S_IFCHR, 1, 3, 0666) == 0);
  int fd = open ("/proc/keys", O_RDONLY | O_CLOEXEC);
  CHECK (fd >= 0 && read (fd, buf, sizeof buf) == 0);
  close (fd);
  CHECK (check_node ("/proc/timer_list", S_IFCHR, 1, 3, 0666) == 0);
  CHECK (chmod ("/proc/keys", 0777) < 0);
  DIR *d = opendir ("/sys/firmware");
  CHECK (d != NULL);
  int entries = 0;
  for (struct dirent *e; (e = readdir (d));)
    entries += strcmp (e->d_name, ".") && strcmp (e->d_name, "..");
  closedir (d);
  CHECK (entries == 0);
  CHECK (mkdir ("/sys/firmware/x", 0755) < 0 && errno == EROFS);
  CHECK (check_mount ("/sys/firmware", "tmpfs", "ro") == 0);
  return 0;
}

static int
check_dev (void)
{
  CHECK (check_node ("/dev/null", S_IFCHR, 1, 3, 0666) == 0);
  CHECK (check_node ("/dev/zero", S_IFCHR, 1, 5, 0666) == 0);
  CHECK (check_node ("/dev/full", S_IFCHR, 1, 7, 0666) == 0);
  CHECK (check_node ("/dev/random", S_IFCHR, 1, 8, 0666) == 0);
  CHECK (check_node ("/dev/urandom", S_IFCHR, 1, 9, 0666) == 0);
  CHECK (check_node ("/dev/tty", S_IFCHR, 5, 0, 0666) == 0);
  CHECK (check_node ("/dev/fuse", S_IFCHR, 10, 229, 0600) == 0);
  CHECK (check_link ("/dev/fd", "/proc/self/fd") == 0);
  CHECK (check_link ("/dev/stdin", "/proc/self/fd/0") == 0);
  CHECK (check_link ("/dev/stdout", "/proc/self/fd/1") == 0);
  CHECK (check_link ("/dev/stderr", "/proc/self/fd/2") == 0);
  CHECK (check_link ("/dev/ptmx", "pts/ptmx") == 0);
  struct stat st;
  CHECK (lstat ("/dev/console", &st) < 0 && errno == ENOENT);
  CHECK (check_mount ("/dev", "tmpfs", "nosuid,mode=755") == 0);
  CHECK (check_mount ("/dev/pts", "devpts", "nosuid,noexec,ptmxmode=666") == 0);
  CHECK (check_mount ("/dev/shm", "tmpfs", "nosuid,nodev,noexec") == 0);
  CHECK (check_mount ("/dev/mqueue", "mqueue", "nosuid,nodev,noexec") == 0);
  return 0;
}

static int
inside_default (void)
{
  char cwd[PATH_MAX];
  struct statvfs sv;
  struct stat st;
  CHECK (load_mountinfo () == 0);
  CHECK (access ("/.skiff-test-root", F_OK) == 0);
  CHECK (getcwd (cwd, sizeof cwd) && strcmp (cwd, "/") == 0);
  CHECK (stat (top, &st) < 0 && errno == ENOENT);
  /* root.readonly: / refuses writes, mounts on it do not */
  CHECK (mkdir ("/newdir", 0755) < 0 && errno == EROFS);
  CHECK (check_mount ("/", NULL, "ro") == 0);
  CHECK (check_mount ("/tmp", "tmpfs", "rw,size=1024k") == 0);
  CHECK (mkdir ("/tmp/ok", 0755) == 0);
  CHECK (check_mount ("/proc", "proc", "rw") == 0);
  CHECK (check_mount ("/sys", "sysfs", "ro,nosuid,nodev,noexec") == 0);
  CHECK (check_mount ("/data", NULL, "ro") == 0);
  CHECK (open ("/data/file", O_WRONLY | O_CLOEXEC) < 0 && errno == EROFS);
  CHECK (access ("/data/file", R_OK) == 0);
  CHECK (statvfs ("/proc/sys", &sv) == 0 && (sv.f_flag & ST_RDONLY));
  if (access ("/proc/sysrq-trigger", F_OK) == 0)
    CHECK (statvfs ("/proc/sysrq-trigger", &sv) == 0 && (sv.f_flag & ST_RDONLY));
  CHECK (statvfs ("/proc/self", &sv) == 0 && !(sv.f_flag & ST_RDONLY));
  CHECK (check_masked () == 0);
  CHECK (check_dev () == 0);
  /* the cgroup tree: a read-only tmpfs with our hierarchies in it */
  CHECK (check_mount ("/sys/fs/cgroup", "tmpfs", "ro") == 0);
  if (access ("/sys/fs/cgroup/memory", F_OK) == 0)
    CHECK (check_mount ("/sys/fs/cgroup/memory", "cgroup", "ro,memory") == 0);
  if (mount_at ("/sys/fs/cgroup/unified"))
    CHECK (check_mount ("/sys/fs/cgroup/unified", "cgroup2", "ro") == 0);
  return 0;
}

static bool
have_root (void)
{
  return geteuid () == 0;
}

static void
test_default_container (void **state)
{
  (void)state;
  if (!have_root ())
    skip ();
  struct run r = { .json = config_json ("", "", false, true),
                   .ns_flags = CLONE_NEWNET,
                   .inside = inside_default };
  assert_int_equal (run_container (&r), 0);
  free (r.json);
}

/* Without a net namespace /sys is the host's, bound read-only; with a
   cgroup namespace the hierarchies are fresh mounts of the ns root. */
static int
inside_cgroupns_no_netns (void)
{
  CHECK (load_mountinfo () == 0);
  const struct mountinfo *sys = mount_at ("/sys");
  CHECK (sys && strcmp (sys->fstype, "sysfs") == 0 && has_opt (sys->mnt_opts, "ro"));
  int seen = 0;
  for (size_t i = 0; i < inside_mi_len; i++)
    {
      /* the topmost mount at each point: the host's cgroup mounts come
         along, hidden, with the rbind of /sys */
      const struct mountinfo *m = mount_at (inside_mi[i].point);
      if (m != &inside_mi[i] || strncmp (m->point, "/sys/fs/cgroup/", 15) != 0)
        continue;
      CHECK (strcmp (m->root, "/") == 0);
      CHECK (has_opt (m->mnt_opts, "ro"));
      seen++;
    }
  CHECK (seen > 0);
  return 0;
}

static void
test_cgroupns_no_netns (void **state)
{
  (void)state;
  if (!have_root ())
    skip ();
  struct run r = { .json = config_json ("", "", false, false),
                   .ns_flags = CLONE_NEWCGROUP,
                   .inside = inside_cgroupns_no_netns,
                   .own_mounts = true };
  assert_int_equal (run_container (&r), 0);
  free (r.json);
}

static int
inside_no_pivot (void)
{
  CHECK (access ("/.skiff-test-root", F_OK) == 0);
  CHECK (check_node ("/dev/null", S_IFCHR, 1, 3, 0666) == 0);
  CHECK (check_node ("/proc/keys", S_IFCHR, 1, 3, 0666) == 0);
  return 0;
}

static void
test_no_pivot (void **state)
{
  (void)state;
  if (!have_root ())
    skip ();
  struct run r = { .json = config_json ("", "", false, false),
                   .ns_flags = CLONE_NEWNET,
                   .no_pivot = true,
                   .inside = inside_no_pivot };
  assert_int_equal (run_container (&r), 0);
  free (r.json);
}

static int
inside_propagation (void)
{
  CHECK (load_mountinfo () == 0);
  const struct mountinfo *root = mount_at ("/");
  CHECK (root && strstr (root->optional, "unbindable"));
  return 0;
}

static void
test_rootfs_propagation (void **state)
{
  (void)state;
  if (!have_root ())
    skip ();
  struct run r
      = { .json = config_json ("", ", \"rootfsPropagation\": \"runbindable\"", false, false),
          .ns_flags = CLONE_NEWNET,
          .inside = inside_propagation };
  assert_int_equal (run_container (&r), 0);
  free (r.json);
}

/* No /dev in mounts[]: the runtime mounts its own tmpfs, devpts and shm. */
static int
inside_default_dev (void)
{
  CHECK (load_mountinfo () == 0);
  CHECK (check_mount ("/dev", "tmpfs", "nosuid,mode=755") == 0);
  CHECK (check_mount ("/dev/pts", "devpts", "nosuid,noexec") == 0);
  CHECK (check_mount ("/dev/shm", "tmpfs", "nosuid,nodev,noexec") == 0);
  struct stat st;
  CHECK (stat ("/dev/shm", &st) == 0 && (st.st_mode & 07777) == 01777);
  CHECK (check_node ("/dev/null", S_IFCHR, 1, 3, 0666) == 0);
  return 0;
}

static void
test_default_dev (void **state)
{
  (void)state;
  if (!have_root ())
    skip ();
  const char *json = "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"},"
                     " \"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\"}]}";
  struct run r = { .json = strdup (json), .inside = inside_default_dev };
  assert_int_equal (run_container (&r), 0);
  free (r.json);
}

/* Idmapped binds, made in the container (no user namespace) or prepared
   beforehand as detached trees and attached by the init. */
static int
inside_idmapped (void)
{
  struct stat st;
  CHECK (stat ("/id/file", &st) == 0 && st.st_uid == 1000 && st.st_gid == 1000);
  CHECK (stat ("/id2/file", &st) == 0 && st.st_uid == 1000 && st.st_gid == 1000);
  CHECK (load_mountinfo () == 0);
  CHECK (check_mount ("/id", NULL, "idmapped") == 0);
  CHECK (check_mount ("/id2", NULL, "idmapped,ro") == 0);
  return 0;
}

static void
test_idmapped_mounts (void **state)
{
  (void)state;
  if (!have_root ())
    skip ();
  if (mount_force_fallback
      || (syscall (SYS_mount_setattr, -1, "", 0, NULL, 0) < 0 && errno == ENOSYS))
    skip (); /* idmapped mounts exist only with mount_setattr */
  char hostdata[PATH_MAX];
  snprintf (hostdata, sizeof hostdata, "%s/hostdata/file", top);
  assert_int_equal (chown (hostdata, 0, 0), 0);
  char extra[PATH_MAX * 2];
  snprintf (extra, sizeof extra,
            ", {\"destination\": \"/id\", \"type\": \"bind\", \"source\": \"%s/hostdata\","
            "   \"options\": [\"rbind\"],"
            "   \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}],"
            "   \"gidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}]}"
            ", {\"destination\": \"/id2\", \"type\": \"bind\", \"source\": \"%s/hostdata\","
            "   \"options\": [\"rbind\", \"ro\", \"ridmap\"]}",
            top, top);
  const char *maps = ", \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}],"
                     " \"gidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}]";
  for (int prepared = 0; prepared < 2; prepared++)
    {
      struct run r = { .json = config_json (extra, maps, false, false),
                       .ns_flags = CLONE_NEWNET,
                       .inside = inside_idmapped,
                       .prepare_idmapped = prepared };
      assert_int_equal (run_container (&r), 0);
      free (r.json);
    }
}

/* ---- security regressions ---------------------------------------------- */

static bool
host_dir_empty (const char *rel)
{
  char p[PATH_MAX];
  snprintf (p, sizeof p, "%s/%s", top, rel);
  DIR *d = opendir (p);
  if (d == NULL)
    return false;
  int n = 0;
  for (struct dirent *e; (e = readdir (d));)
    n += strcmp (e->d_name, ".") && strcmp (e->d_name, "..");
  closedir (d);
  return n == 0;
}

/* rootfs/dev -> a host directory: nothing may be created there. */
static void
test_dev_symlink_to_host (void **state)
{
  (void)state;
  if (!have_root ())
    skip ();
  make_at ("hostdev", S_IFDIR, NULL);
  char target[PATH_MAX];
  snprintf (target, sizeof target, "%s/hostdev", top);
  make_at ("rootfs/dev", S_IFLNK, target);
  const char *json = "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"}}";
  struct run r = { .json = strdup (json) };
  assert_int_equal (run_container (&r), RC_SETUP);
  assert_non_null (strstr (r.msg, "\"/dev\" must be a real directory"));
  free (r.json);
  /* and with /dev in mounts[] */
  r.json = config_json ("", "", false, false);
  assert_int_equal (run_container (&r), RC_SETUP);
  assert_non_null (strstr (r.msg, "mounts[1] (/dev)"));
  free (r.json);
  assert_true (host_dir_empty ("hostdev"));
}

/* A destination that is a symlink to /../../somewhere lands inside. */
static int
inside_escape (void)
{
  CHECK (load_mountinfo () == 0);
  CHECK (check_mount ("/somewhere-skiff", NULL, "ro") == 0);
  CHECK (access ("/somewhere-skiff/file", R_OK) == 0);
  return 0;
}

static void
test_dest_symlink_escape (void **state)
{
  (void)state;
  if (!have_root ())
    skip ();
  make_at ("rootfs/data2", S_IFLNK, "/../../somewhere-skiff");
  make_at ("rootfs/data3", S_IFLNK, "../../../../../somewhere-skiff-file");
  char extra[PATH_MAX * 2];
  snprintf (extra, sizeof extra,
            ", {\"destination\": \"/data2\", \"type\": \"bind\", \"source\": \"%s/hostdata\","
            "   \"options\": [\"rbind\", \"ro\"]}"
            ", {\"destination\": \"/data3\", \"type\": \"bind\", \"source\": \"%s/hostdata/file\","
            "   \"options\": [\"bind\"]}",
            top, top);
  struct run r = { .json = config_json (extra, "", false, false),
                   .ns_flags = CLONE_NEWNET,
                   .inside = inside_escape };
  assert_int_equal (run_container (&r), 0);
  free (r.json);
  struct stat st;
  assert_true (lstat ("/somewhere-skiff", &st) < 0 && errno == ENOENT);
  assert_true (lstat ("/somewhere-skiff-file", &st) < 0 && errno == ENOENT);
  char p[PATH_MAX];
  snprintf (p, sizeof p, "%s/somewhere-skiff", rootfs);
  assert_int_equal (lstat (p, &st), 0);
}

/* /proc replaced by a symlink or a file: create fails. */
static void
test_proc_not_a_directory (void **state)
{
  (void)state;
  if (!have_root ())
    skip ();
  const char *json = "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"},"
                     " \"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\"}]}";
  char p[PATH_MAX];
  snprintf (p, sizeof p, "%s/proc", rootfs);
  const char *targets[] = { "/", "/tmp", "../../..", "sys" };
  for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++)
    {
      assert_int_equal (remove (p), 0);
      assert_int_equal (symlink (targets[i], p), 0);
      struct run r = { .json = strdup (json) };
      assert_int_equal (run_container (&r), RC_SETUP);
      assert_non_null (strstr (r.msg, "\"/proc\" must be a real directory"));
      free (r.json);
    }
  assert_int_equal (remove (p), 0);
  make_at ("rootfs/proc", S_IFREG, "not a dir");
  struct run r = { .json = strdup (json) };
  assert_int_equal (run_container (&r), RC_SETUP);
  assert_non_null (strstr (r.msg, "mounts[0] (/proc)"));
  free (r.json);
}

/* A bind destination that leads into procfs through a symlink (the image
   points /foo at /proc/sys/kernel) is refused: only proc goes there. */
static void
test_dest_into_procfs (void **state)
{
  (void)state;
  if (!have_root ())
    skip ();
  make_at ("rootfs/foo", S_IFLNK, "/proc/sys/kernel");
  char extra[PATH_MAX];
  snprintf (extra, sizeof extra,
            ", {\"destination\": \"/foo\", \"type\": \"bind\", \"source\": \"%s/hostdata\","
            "   \"options\": [\"rbind\"]}",
            top);
  struct run r = { .json = config_json (extra, "", false, false), .ns_flags = CLONE_NEWNET };
  assert_int_equal (run_container (&r), RC_SETUP);
  assert_non_null (strstr (r.msg, "leads into a procfs"));
  free (r.json);
}

/* /dev bound from the image, with /dev/null a symlink to a procfs file:
   masking must not bind that file anywhere, so the pivot fails. */
static void
test_dev_null_symlink (void **state)
{
  (void)state;
  if (!have_root ())
    skip ();
  make_at ("rootfs/devsrc", S_IFDIR, NULL);
  make_at ("rootfs/devsrc/null", S_IFLNK, "/proc/sys/kernel/core_pattern");
  const char *json
      = "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"},"
        " \"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\"},"
        "  {\"destination\": \"/dev\", \"type\": \"bind\", \"source\": \"rootfs/devsrc\","
        "   \"options\": [\"rbind\"]}],"
        " \"linux\": {\"maskedPaths\": [\"/proc/keys\"]}}";
  struct run r = { .json = strdup (json) };
  assert_int_equal (run_container (&r), RC_PIVOT);
  assert_non_null (strstr (r.msg, "maskedPaths[0] (/proc/keys)"));
  assert_non_null (strstr (r.msg, "/dev/null"));
  free (r.json);
  /* a plain file there is refused the same way */
  char p[PATH_MAX];
  snprintf (p, sizeof p, "%s/devsrc/null", rootfs);
  assert_int_equal (remove (p), 0);
  make_at ("rootfs/devsrc/null", S_IFREG, "");
  r.json = strdup (json);
  assert_int_equal (run_container (&r), RC_PIVOT);
  assert_non_null (strstr (r.msg, "not the null device"));
  free (r.json);
}

/* Pre-populated /dev/pts and /dev/console in the image: with a terminal
   the console is the real pty of the container's devpts. */
static int
inside_console (void)
{
  skiff_error_t err = NULL;
  struct stat st;
  CHECK (lstat ("/dev/console", &st) == 0 && S_ISREG (st.st_mode) && st.st_size == 0);
  int master = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  CHECK (master >= 0);
  int unlock = 0;
  CHECK (ioctl (master, TIOCSPTLCK, &unlock) == 0);
  int slave = ioctl (master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  CHECK (slave >= 0);
  /* a file is not a pty */
  int file = open ("/.skiff-test-root", O_RDONLY | O_CLOEXEC);
  CHECK (rootfs_bind_console (file, &err) < 0 && err->errno_ == EINVAL);
  skiff_error_free (&err);
  if (rootfs_bind_console (slave, &err) < 0)
    {
      fprintf (stderr, "%s\n", err->msg);
      return 1;
    }
  struct stat pty;
  CHECK (fstat (slave, &pty) == 0);
  CHECK (stat ("/dev/console", &st) == 0 && S_ISCHR (st.st_mode) && st.st_rdev == pty.st_rdev);
  CHECK (major (st.st_rdev) >= 136 && major (st.st_rdev) <= 143);
  /* what the image put in /dev/pts is gone under the fresh devpts */
  CHECK (lstat ("/dev/pts/planted", &st) < 0 && errno == ENOENT);
  return 0;
}

static void
test_prepopulated_dev_pts (void **state)
{
  (void)state;
  if (!have_root ())
    skip ();
  make_at ("rootfs/dev", S_IFDIR, NULL);
  make_at ("rootfs/dev/pts", S_IFDIR, NULL);
  make_at ("rootfs/dev/pts/planted", S_IFREG, "x");
  make_at ("rootfs/dev/pts/0", S_IFLNK, "/etc/shadow");
  make_at ("rootfs/dev/console", S_IFLNK, "/etc/shadow");
  struct run r = { .json = config_json ("", "", true, false),
                   .ns_flags = CLONE_NEWNET,
                   .inside = inside_console };
  assert_int_equal (run_container (&r), 0);
  free (r.json);
  /* /dev from the image itself, console a symlink: refused, not followed */
  const char *json
      = "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"},"
        " \"process\": {\"terminal\": true, \"cwd\": \"/\"},"
        " \"mounts\": [{\"destination\": \"/dev\", \"type\": \"bind\", \"source\": \"rootfs/dev\","
        "   \"options\": [\"rbind\"]}]}";
  r = (struct run){ .json = strdup (json) };
  assert_int_equal (run_container (&r), RC_SETUP);
  assert_non_null (strstr (r.msg, "/dev/console"));
  free (r.json);
}

/* A directory source onto a file destination (and back) is refused. */
static void
test_type_mismatch (void **state)
{
  (void)state;
  if (!have_root ())
    skip ();
  make_at ("rootfs/afile", S_IFREG, "x");
  char extra[PATH_MAX];
  snprintf (extra, sizeof extra,
            ", {\"destination\": \"/afile\", \"type\": \"bind\", \"source\": \"%s/hostdata\","
            "   \"options\": [\"rbind\"]}",
            top);
  struct run r = { .json = config_json (extra, "", false, false), .ns_flags = CLONE_NEWNET };
  assert_int_equal (run_container (&r), RC_SETUP);
  assert_non_null (strstr (r.msg, "mounts[8] (/afile)"));
  assert_non_null (strstr (r.msg, "Not a directory"));
  free (r.json);
  snprintf (extra, sizeof extra,
            ", {\"destination\": \"/etc\", \"type\": \"bind\", \"source\": \"%s/hostdata/file\","
            "   \"options\": [\"bind\"]}",
            top);
  r = (struct run){ .json = config_json (extra, "", false, false), .ns_flags = CLONE_NEWNET };
  assert_int_equal (run_container (&r), RC_SETUP);
  assert_non_null (strstr (r.msg, "Is a directory"));
  free (r.json);
}

static void
test_missing_source_message (void **state)
{
  (void)state;
  if (!have_root ())
    skip ();
  const char *extra = ", {\"destination\": \"/data9\", \"type\": \"bind\","
                      " \"source\": \"/srv/skiff-missing\", \"options\": [\"rbind\"]}";
  struct run r = { .json = config_json (extra, "", false, false), .ns_flags = CLONE_NEWNET };
  assert_int_equal (run_container (&r), RC_SETUP);
  assert_string_equal (r.msg, "mounts[8] (/data9): mount \"/srv/skiff-missing\" on \"/data9\": "
                              "No such file or directory");
  free (r.json);
}

/* ---- the plan (no privilege needed) ------------------------------------ */

static int
plan_of (const char *json, struct mount_plan *plan, skiff_error_t *err)
{
  oci_config *c = oci_config_parse_data (json, strlen (json), NULL, NULL);
  assert_non_null (c);
  struct rootfs_spec s = { .config = c, .bundle = "/b", .rootfs = "/b/rootfs" };
  int r = mount_plan_build (&s, plan, err);
  oci_config_free (c);
  return r;
}

static void
assert_plan_invalid (const char *mounts, const char *want)
{
  cleanup_free char *json = NULL;
  assert_true (asprintf (&json,
                         "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"r\"},"
                         " \"mounts\": [%s]}",
                         mounts)
               > 0);
  struct mount_plan plan;
  skiff_error_t err = NULL;
  assert_int_equal (plan_of (json, &plan, &err), -1);
  assert_int_equal (err->kind, SKIFF_ERR_INVALID_CONFIG);
  if (strstr (err->msg, want) == NULL)
    fail_msg ("\"%s\" does not say \"%s\"", err->msg, want);
  skiff_error_free (&err);
}

static void
test_plan_refuses (void **state)
{
  (void)state;
  assert_plan_invalid ("{\"destination\": \"data\", \"type\": \"tmpfs\"}",
                       "mounts[0] (data): destination must be an absolute path");
  assert_plan_invalid ("{\"destination\": \"/proc\", \"type\": \"tmpfs\"}",
                       "only proc may be mounted on /proc");
  assert_plan_invalid ("{\"destination\": \"/proc/sys\", \"source\": \"/x\", \"options\": "
                       "[\"rbind\"]}",
                       "mounts under /proc are refused");
  assert_plan_invalid ("{\"destination\": \"/a/../proc/self/attr\", \"type\": \"tmpfs\"}",
                       "mounts under /proc are refused");
  assert_plan_invalid ("{\"destination\": \"/x\", \"type\": \"tmpfs\", \"options\": "
                       "[\"idmap\"]}",
                       "need a bind mount");
  assert_plan_invalid ("{\"destination\": \"/x\"}", "type is missing");
  assert_plan_invalid ("{\"destination\": \"/x\", \"source\": \"/y\", \"options\": "
                       "[\"rbind\", \"tmpcopyup\"]}",
                       "tmpcopyup applies to a tmpfs only");
  assert_plan_invalid ("{\"destination\": \"/x\", \"type\": \"tmpfs\", \"options\": [\"\"]}",
                       "mounts[0] (/x): options[0] is empty");
}

static void
test_plan_describe (void **state)
{
  (void)state;
  const char *json
      = "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\", \"readonly\": true},"
        " \"process\": {\"terminal\": true, \"cwd\": \"/\"},"
        " \"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
        "  {\"destination\": \"/proc/cpuinfo\", \"source\": \"/var/lib/lxcfs/proc/cpuinfo\","
        "   \"options\": [\"bind\"]},"
        "  {\"destination\": \"/data/./x/..\", \"source\": \"vol\", \"options\": [\"rbind\","
        "   \"ro\", \"rslave\", \"size=1m\"]},"
        "  {\"destination\": \"/sys\", \"type\": \"sysfs\"}],"
        " \"linux\": {\"rootfsPropagation\": \"rprivate\", \"maskedPaths\": [\"/proc/kcore\"],"
        "  \"readonlyPaths\": [\"/proc/sys\"]}}";
  struct mount_plan plan;
  skiff_error_t err = NULL;
  assert_int_equal (plan_of (json, &plan, &err), 0);
  cleanup_strbuf struct skiff_strbuf out = { 0 };
  mount_plan_describe (&plan, &out);
  const char *want[] = {
    "propagation   / [rprivate]  <- rootfsPropagation",
    "bind rootfs   / source=/b/rootfs  <- root.path",
    "mount         /dev type=tmpfs source=tmpfs [nosuid,strictatime,mode=755,size=65536k] (real "
    "directory)  <- default /dev",
    "mount         /proc type=proc source=proc (real directory)  <- mounts[0] (/proc)",
    "bind          /proc/cpuinfo source=/var/lib/lxcfs/proc/cpuinfo [bind]",
    "bind          /data source=/b/vol [ro,rbind,rslave,size=1m]  <- mounts[2]",
    "bind          /sys source=/sys [rbind] (real directory)  <- mounts[3] (/sys)",
    "devices       /dev  <- linux.devices",
    "console       /dev/console",
    "pivot         /  <- pivot_root",
    "readonly      /proc/sys  <- readonlyPaths[0] (/proc/sys)",
    "mask          /proc/kcore  <- maskedPaths[0] (/proc/kcore)",
    "readonly root /  <- root.readonly",
    "warning: mounts[2] (/data/./x/..): option \"size=1m\" means nothing for a bind mount",
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    if (strstr (out.s, want[i]) == NULL)
      {
        fprintf (stderr, "%s", out.s);
        fail_msg ("plan lacks \"%s\"", want[i]);
      }
  mount_plan_free (&plan);
}

#define T(f) cmocka_unit_test_setup_teardown (f, setup, teardown)

int
main (void)
{
  const struct CMUnitTest plan_tests[] = {
    cmocka_unit_test (test_plan_refuses),
    cmocka_unit_test (test_plan_describe),
  };
  const struct CMUnitTest tests[] = {
    T (test_default_container),      T (test_cgroupns_no_netns),    T (test_no_pivot),
    T (test_rootfs_propagation),     T (test_default_dev),          T (test_dev_symlink_to_host),
    T (test_dest_symlink_escape),    T (test_proc_not_a_directory), T (test_dest_into_procfs),
    T (test_dev_null_symlink),       T (test_prepopulated_dev_pts), T (test_type_mismatch),
    T (test_missing_source_message), T (test_idmapped_mounts),
  };
  int failed = cmocka_run_group_tests_name ("rootfs: plan", plan_tests, NULL, NULL);
  failed += cmocka_run_group_tests_name ("rootfs: fd-based", tests, NULL, NULL);
  fs_force_fallback = mount_force_fallback = true;
  failed += cmocka_run_group_tests_name ("rootfs: fallbacks forced", tests, NULL, NULL);
  fs_force_fallback = mount_force_fallback = false;
  failed
      += run_group_under_enosys ("rootfs: ENOSYS (seccomp)", tests, sizeof tests / sizeof tests[0]);
  return failed ? 1 : 0;
}

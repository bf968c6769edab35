/* The rootfs path gateway against hostile trees: run with openat2, with
   the userspace walk forced, and under a seccomp filter that makes openat2
   return ENOSYS for real. */
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "enosys.h"
#include "fs.h"
#include "fsutil.h"

struct tree
{
  char top[64];  /* the temp dir: holds outside-secret and root/ */
  char root[96]; /* the rootfs under test */
  int rootfd;
};

static void
put (const char *top, const char *rel, const char *content)
{
  char p[PATH_MAX];
  snprintf (p, sizeof p, "%s/%s", top, rel);
  skiff_error_t err = NULL;
  assert_int_equal (write_file_at (AT_FDCWD, p, content, strlen (content), 0644, 0, &err), 0);
}

static void
link_at (const char *top, const char *target, const char *rel)
{
  char p[PATH_MAX];
  snprintf (p, sizeof p, "%s/%s", top, rel);
  assert_int_equal (symlink (target, p), 0);
}

static void
dir_at (const char *top, const char *rel)
{
  char p[PATH_MAX];
  snprintf (p, sizeof p, "%s/%s", top, rel);
  assert_int_equal (mkdir (p, 0755), 0);
}

/* root/
     etc/passwd            "inside"
     dir/sub/  dir/rel -> ../etc
     plainfile
     abs_root -> /           up -> ../../..      escape_etc -> /etc
     loop1 -> /loop2         loop2 -> /loop1     self_loop -> self_loop
     dangling -> /nonexistent-skiff/x
     to_outside -> ../outside-secret
   outside-secret          "outside" */
static int
setup (void **state)
{
  struct tree *t = calloc (1, sizeof *t);
  snprintf (t->top, sizeof t->top, "/tmp/skiff-fs-XXXXXX");
  if (t == NULL || mkdtemp (t->top) == NULL)
    return -1;
  snprintf (t->root, sizeof t->root, "%s/root", t->top);
  put (t->top, "outside-secret", "outside");
  dir_at (t->top, "root");
  dir_at (t->root, "etc");
  put (t->root, "etc/passwd", "inside");
  dir_at (t->root, "dir");
  dir_at (t->root, "dir/sub");
  link_at (t->root, "../etc", "dir/rel");
  put (t->root, "plainfile", "plain");
  link_at (t->root, "/", "abs_root");
  link_at (t->root, "../../..", "up");
  link_at (t->root, "/etc", "escape_etc");
  link_at (t->root, "/loop2", "loop1");
  link_at (t->root, "/loop1", "loop2");
  link_at (t->root, "self_loop", "self_loop");
  link_at (t->root, "/nonexistent-skiff/x", "dangling");
  link_at (t->root, "../outside-secret", "to_outside");
  link_at (t->root, "/../../skiff-dangle/d", "dangle_up");
  link_at (t->root, "/dl2/x", "dl1");
  link_at (t->root, "/dl1/y", "dl2");
  t->rootfd = open (t->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  *state = t;
  return t->rootfd < 0 ? -1 : 0;
}

static int
teardown (void **state)
{
  struct tree *t = *state;
  skiff_error_t err = NULL;
  close (t->rootfd);
  remove_tree_at (AT_FDCWD, t->top, &err);
  skiff_error_free (&err);
  free (t);
  return 0;
}

/* Open rel in the tree and return what it reads, or NULL with *errno_out. */
static char *
read_in_root (struct tree *t, const char *rel, int *errno_out)
{
  skiff_error_t err = NULL;
  cleanup_close int fd = safe_open_in_root (t->rootfd, rel, O_RDONLY, 0, &err);
  if (fd < 0)
    {
      *errno_out = err->errno_;
      skiff_error_free (&err);
      return NULL;
    }
  char *text = NULL;
  assert_int_equal (read_all_fd (fd, &text, NULL, 1 << 20), 0);
  return text;
}

static int
open_errno (struct tree *t, const char *rel, int flags, unsigned how)
{
  skiff_error_t err = NULL;
  int fd = safe_open_in_root_how (t->rootfd, rel, flags, 0644, how, &err);
  if (fd >= 0)
    {
      close (fd);
      return 0;
    }
  int e = err->errno_;
  assert_non_null (strstr (err->msg, rel));
  skiff_error_free (&err);
  return e;
}

static void
assert_reads (struct tree *t, const char *rel, const char *want)
{
  int e = 0;
  cleanup_free char *got = read_in_root (t, rel, &e);
  if (got == NULL)
    fail_msg ("%s: %s", rel, strerror (e));
  assert_string_equal (got, want);
}

static bool
host_exists (const char *path)
{
  struct stat st;
  return lstat (path, &st) == 0;
}

static void
test_plain_paths (void **state)
{
  struct tree *t = *state;
  assert_reads (t, "etc/passwd", "inside");
  assert_reads (t, "/etc/passwd", "inside");
  assert_reads (t, "dir/sub/../../etc/passwd", "inside");
  assert_reads (t, "dir/rel/passwd", "inside");
  assert_reads (t, "//etc//./passwd", "inside");
}

/* Absolute and climbing symlinks resolve against the root, never the host. */
static void
test_symlinks_stay_inside (void **state)
{
  struct tree *t = *state;
  assert_reads (t, "abs_root/etc/passwd", "inside");
  assert_reads (t, "up/etc/passwd", "inside");
  assert_reads (t, "escape_etc/passwd", "inside");
  assert_reads (t, "up/up/abs_root/up/etc/passwd", "inside");
}

static void
test_dotdot_clamped (void **state)
{
  struct tree *t = *state;
  assert_int_equal (open_errno (t, "../outside-secret", O_RDONLY, 0), ENOENT);
  assert_int_equal (open_errno (t, "/../../../../outside-secret", O_RDONLY, 0), ENOENT);
  assert_int_equal (open_errno (t, "to_outside", O_RDONLY, 0), ENOENT);
  assert_int_equal (open_errno (t, "dir/../../outside-secret", O_RDONLY, 0), ENOENT);
  assert_reads (t, "../../etc/passwd", "inside");
}

static void
test_loops_and_dangling (void **state)
{
  struct tree *t = *state;
  assert_int_equal (open_errno (t, "loop1", O_RDONLY, 0), ELOOP);
  assert_int_equal (open_errno (t, "self_loop/x", O_RDONLY, 0), ELOOP);
  assert_int_equal (open_errno (t, "dangling", O_RDONLY, 0), ENOENT);
  assert_int_equal (open_errno (t, "plainfile/x", O_RDONLY, 0), ENOTDIR);
  assert_int_equal (open_errno (t, "plainfile/", O_RDONLY, 0), ENOTDIR);
  assert_int_equal (open_errno (t, "etc/passwd", O_PATH | O_DIRECTORY, 0), ENOTDIR);
  assert_int_equal (open_errno (t, "", O_RDONLY, 0), ENOENT);
}

/* O_PATH|O_NOFOLLOW returns the symlink itself; NO_SYMLINKS refuses any. */
static void
test_nofollow_and_no_symlinks (void **state)
{
  struct tree *t = *state;
  skiff_error_t err = NULL;
  cleanup_close int fd = safe_open_in_root (t->rootfd, "abs_root", O_PATH | O_NOFOLLOW, 0, &err);
  assert_true (fd >= 0);
  mode_t fmt;
  assert_int_equal (fs_fd_type (fd, &fmt, &err), 0);
  assert_true (S_ISLNK (fmt));
  assert_int_equal (open_errno (t, "abs_root", O_RDONLY | O_NOFOLLOW, 0), ELOOP);
  assert_int_equal (open_errno (t, "abs_root/etc", O_PATH, FS_RESOLVE_NO_SYMLINKS), ELOOP);
  assert_int_equal (open_errno (t, "dir/rel/passwd", O_RDONLY, FS_RESOLVE_NO_SYMLINKS), ELOOP);
  assert_int_equal (open_errno (t, "etc/passwd", O_RDONLY, FS_RESOLVE_NO_SYMLINKS), 0);
}

/* The root itself, however it is spelled. */
static void
test_root_is_root (void **state)
{
  struct tree *t = *state;
  const char *spellings[] = { "/", ".", "..", "abs_root", "up", "/../..", "dir/.." };
  struct stat want, got;
  assert_int_equal (fstat (t->rootfd, &want), 0);
  for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++)
    {
      skiff_error_t err = NULL;
      cleanup_close int fd = safe_open_in_root (t->rootfd, spellings[i], O_PATH, 0, &err);
      assert_true (fd >= 0);
      assert_int_equal (fstat (fd, &got), 0);
      assert_true (got.st_ino == want.st_ino && got.st_dev == want.st_dev);
    }
}

static void
test_create_through_symlink (void **state)
{
  struct tree *t = *state;
  skiff_error_t err = NULL;
  cleanup_close int fd = safe_open_in_root (t->rootfd, "abs_root/created-by-open",
                                            O_WRONLY | O_CREAT | O_EXCL, 0600, &err);
  assert_true (fd >= 0);
  assert_false (host_exists ("/created-by-open"));
  char p[PATH_MAX];
  snprintf (p, sizeof p, "%s/created-by-open", t->root);
  assert_true (host_exists (p));
  assert_int_equal (open_errno (t, "created-by-open", O_WRONLY | O_CREAT | O_EXCL, 0), EEXIST);
  assert_int_equal (open_errno (t, "newdir/", O_WRONLY | O_CREAT, 0), EISDIR);
}

static void
test_mkdir_all (void **state)
{
  struct tree *t = *state;
  skiff_error_t err = NULL;
  cleanup_close int fd = safe_mkdir_all_in_root (t->rootfd, "abs_root/skiff-new/a/b", 0755, &err);
  assert_true (fd >= 0);
  assert_false (host_exists ("/skiff-new"));
  char p[PATH_MAX];
  snprintf (p, sizeof p, "%s/skiff-new/a/b", t->root);
  struct stat st;
  assert_int_equal (stat (p, &st), 0);
  assert_true (S_ISDIR (st.st_mode));
  /* the fd is the directory created */
  struct stat fst;
  assert_int_equal (fstat (fd, &fst), 0);
  assert_true (fst.st_ino == st.st_ino);

  cleanup_close int up = safe_mkdir_all_in_root (t->rootfd, "up/../x/y", 0755, &err);
  assert_true (up >= 0);
  snprintf (p, sizeof p, "%s/x/y", t->root);
  assert_true (host_exists (p));
  snprintf (p, sizeof p, "%s/x", t->top);
  assert_false (host_exists (p));

  /* exists: returns it */
  cleanup_close int again = safe_mkdir_all_in_root (t->rootfd, "/skiff-new/a/b", 0755, &err);
  assert_true (again >= 0);
}

static void
test_mkdir_all_refuses (void **state)
{
  struct tree *t = *state;
  skiff_error_t err = NULL;
  assert_int_equal (safe_mkdir_all_in_root (t->rootfd, "plainfile/z", 0755, &err), -1);
  assert_int_equal (err->errno_, ENOTDIR);
  skiff_error_free (&err);
  assert_int_equal (safe_mkdir_all_in_root (t->rootfd, "loop1/q", 0755, &err), -1);
  assert_int_equal (err->errno_, ELOOP);
  skiff_error_free (&err);
  /* dangling symlinks that point at each other */
  assert_int_equal (safe_mkdir_all_in_root (t->rootfd, "dl1/q", 0755, &err), -1);
  assert_int_equal (err->errno_, ELOOP);
  skiff_error_free (&err);
}

/* A dangling symlink is created through, inside the root: its target is
   resolved from the root like any other path. */
static void
test_create_through_dangling (void **state)
{
  struct tree *t = *state;
  skiff_error_t err = NULL;
  char p[PATH_MAX];
  cleanup_close int d = safe_mkdir_all_in_root (t->rootfd, "dangling/q", 0755, &err);
  assert_true (d >= 0);
  assert_false (host_exists ("/nonexistent-skiff"));
  snprintf (p, sizeof p, "%s/nonexistent-skiff/x/q", t->root);
  assert_true (host_exists (p));
  cleanup_close int up = safe_mkdir_all_in_root (t->rootfd, "dangle_up", 0755, &err);
  assert_true (up >= 0);
  assert_false (host_exists ("/skiff-dangle"));
  snprintf (p, sizeof p, "%s/skiff-dangle/d", t->root);
  assert_true (host_exists (p));
  snprintf (p, sizeof p, "%s/skiff-dangle", t->top);
  assert_false (host_exists (p));
  link_at (t->root, "../../../skiff-file-dangle", "dir/fdangle");
  cleanup_close int f = safe_create_file_in_root (t->rootfd, "dir/fdangle", 0644, &err);
  assert_true (f >= 0);
  assert_false (host_exists ("/skiff-file-dangle"));
  snprintf (p, sizeof p, "%s/skiff-file-dangle", t->root);
  assert_true (host_exists (p));
}

static void
test_create_file (void **state)
{
  struct tree *t = *state;
  skiff_error_t err = NULL;
  cleanup_close int fd = safe_create_file_in_root (t->rootfd, "abs_root/f/g/target", 0644, &err);
  assert_true (fd >= 0);
  assert_false (host_exists ("/f"));
  char p[PATH_MAX];
  snprintf (p, sizeof p, "%s/f/g/target", t->root);
  struct stat st;
  assert_int_equal (stat (p, &st), 0);
  assert_true (S_ISREG (st.st_mode) && st.st_size == 0);

  /* an existing file is fine and left alone */
  cleanup_close int same = safe_create_file_in_root (t->rootfd, "etc/passwd", 0644, &err);
  assert_true (same >= 0);
  assert_reads (t, "etc/passwd", "inside");

  assert_int_equal (safe_create_file_in_root (t->rootfd, "dir", 0644, &err), -1);
  assert_int_equal (err->errno_, EISDIR);
  skiff_error_free (&err);
  assert_int_equal (safe_create_file_in_root (t->rootfd, "dir/..", 0644, &err), -1);
  assert_int_equal (err->errno_, EISDIR);
  skiff_error_free (&err);
  assert_int_equal (safe_create_file_in_root (t->rootfd, "dl1", 0644, &err), -1);
  assert_int_equal (err->errno_, ELOOP);
  skiff_error_free (&err);
}

/* Magic links (/proc/self/exe, fd/N, root) are refused; plain procfs
   symlinks (/proc/self) work. */
static void
test_magic_links (void **state)
{
  (void)state;
  skiff_error_t err = NULL;
  cleanup_close int host = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int status = safe_open_in_root (host, "/proc/self/status", O_RDONLY, 0, &err);
  assert_true (status >= 0);
  const char *magic[]
      = { "/proc/self/exe", "/proc/self/root/etc", "/proc/self/cwd/x", "/proc/self/fd/0" };
  for (size_t i = 0; i < sizeof magic / sizeof magic[0]; i++)
    {
      assert_int_equal (safe_open_in_root (host, magic[i], O_PATH, 0, &err), -1);
      assert_int_equal (err->errno_, ELOOP);
      skiff_error_free (&err);
    }
}

static void
test_proc_fd_path (void **state)
{
  (void)state;
  char buf[FS_PROC_FD_PATH_MAX];
  assert_string_equal (fs_proc_fd_path (7, buf), "/proc/self/fd/7");
  cleanup_close int fd = open ("/", O_PATH | O_CLOEXEC);
  struct stat a, b;
  assert_int_equal (stat (fs_proc_fd_path (fd, buf), &a), 0);
  assert_int_equal (stat ("/", &b), 0);
  assert_true (a.st_ino == b.st_ino);
}

static void
test_procfs_real (void **state)
{
  (void)state;
  skiff_error_t err = NULL;
  cleanup_close int proc = fs_open_procfs ("/proc", &err);
  assert_true (proc >= 0);
  cleanup_close int status = fs_procfs_open_at (proc, "self/status", O_RDONLY, &err);
  assert_true (status >= 0);
  /* not a procfs */
  assert_int_equal (fs_open_procfs ("/tmp", &err), -1);
  assert_int_equal (err->errno_, EXDEV);
  skiff_error_free (&err);
  /* a procfs directory that is not the root of the mount */
  assert_int_equal (fs_open_procfs ("/proc/sys", &err), -1);
  assert_int_equal (err->errno_, EXDEV);
  skiff_error_free (&err);
  /* magic links below procfs are refused */
  assert_int_equal (fs_procfs_open_at (proc, "self/root/etc/passwd", O_RDONLY, &err), -1);
  skiff_error_free (&err);
}

/* A mount over a procfs file (CVE-2019-16884 style) or a tmpfs posing as
   /proc is caught.  Runs in a private mount namespace of a child. */
static int
procfs_overmount_child (void)
{
  skiff_error_t err = NULL;
  if (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_PRIVATE | MS_REC, NULL) < 0)
    return 2;
  cleanup_close int proc = fs_open_procfs ("/proc", &err);
  if (proc < 0)
    return 3;
  if (mount ("/dev/null", "/proc/sys/kernel/hostname", NULL, MS_BIND, NULL) < 0)
    return 4;
  int fd = fs_procfs_open_at (proc, "sys/kernel/hostname", O_RDONLY, &err);
  if (fd >= 0 || err->errno_ != EXDEV)
    return 5;
  skiff_error_free (&err);
  if (mount ("tmpfs", "/proc", "tmpfs", 0, NULL) < 0)
    return 6;
  if (fs_open_procfs ("/proc", &err) >= 0 || err->errno_ != EXDEV)
    return 7;
  return 0;
}

static void
test_procfs_overmounted (void **state)
{
  (void)state;
  if (geteuid () != 0)
    skip ();
  fflush (NULL);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    _exit (procfs_overmount_child ());
  int status;
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status));
  assert_int_equal (WEXITSTATUS (status), 0);
}

static void
test_mount_root (void **state)
{
  (void)state;
  skiff_error_t err = NULL;
  bool root;
  cleanup_close int proc = open ("/proc", O_PATH | O_CLOEXEC);
  cleanup_close int sys = open ("/proc/sys", O_PATH | O_CLOEXEC);
  assert_int_equal (fs_is_mount_root (proc, &root, &err), 0);
  assert_true (root);
  assert_int_equal (fs_is_mount_root (sys, &root, &err), 0);
  assert_false (root);
  uint64_t a, b;
  assert_int_equal (fs_mount_id (proc, &a, &err), 0);
  assert_int_equal (fs_mount_id (sys, &b, &err), 0);
  assert_true (a == b);
}

#define T(f) cmocka_unit_test_setup_teardown (f, setup, teardown)

int
main (void)
{
  const struct CMUnitTest tests[] = {
    T (test_plain_paths),
    T (test_symlinks_stay_inside),
    T (test_dotdot_clamped),
    T (test_loops_and_dangling),
    T (test_nofollow_and_no_symlinks),
    T (test_root_is_root),
    T (test_create_through_symlink),
    T (test_mkdir_all),
    T (test_mkdir_all_refuses),
    T (test_create_file),
    T (test_create_through_dangling),
    cmocka_unit_test (test_magic_links),
    cmocka_unit_test (test_proc_fd_path),
    cmocka_unit_test (test_procfs_real),
    cmocka_unit_test (test_procfs_overmounted),
    cmocka_unit_test (test_mount_root),
  };
  int failed = 0;
  fs_force_fallback = false;
  failed += cmocka_run_group_tests_name ("fs: openat2", tests, NULL, NULL);
  fs_force_fallback = true;
  failed += cmocka_run_group_tests_name ("fs: userspace walk (forced)", tests, NULL, NULL);
  fs_force_fallback = false;
  failed += run_group_under_enosys ("fs: openat2 ENOSYS (seccomp)", tests,
                                    sizeof tests / sizeof tests[0]);
  return failed ? 1 : 0;
}

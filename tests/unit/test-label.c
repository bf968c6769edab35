/* LSM labels (src/libskiff/label.c): the checks before create, and the
   writes through a verified /proc.  Linked twice: with selinux.c, and
   with selinux-stub.c in front of libskiff (a --disable-selinux build).
   The write tests need root (a private mount namespace in a child) and
   expect a host without SELinux and AppArmor, like the CI's; they skip
   otherwise. */
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "build-features.h"
#include "label.h"

#define SE_LABEL "system_u:system_r:container_t:s0:c1,c2"

static bool
stub_build (void)
{
  return skiff_feature_selinux[0] == '-';
}

static void
expect_refused (int r, skiff_error_t *err, const char *field, const char *why)
{
  assert_int_equal (r, -1);
  assert_non_null (*err);
  assert_int_equal ((*err)->kind, SKIFF_ERR_UNSUPPORTED);
  if (strstr ((*err)->msg, field) == NULL || strstr ((*err)->msg, why) == NULL)
    fail_msg ("unexpected message: %s", (*err)->msg);
  skiff_error_free (err);
}

static void
test_selinux_label_refused (void **state)
{
  (void)state;
  if (selinux_host_enabled ())
    skip ();
  skiff_error_t err = NULL;
  oci_process p = { .selinux_label = (char *)SE_LABEL };
  expect_refused (label_check_config (&p, NULL, &err), &err, "process.selinuxLabel `" SE_LABEL "`",
                  stub_build () ? "built without SELinux support" : "SELinux is not enabled");
}

static void
test_mount_label_refused (void **state)
{
  (void)state;
  if (selinux_host_enabled ())
    skip ();
  skiff_error_t err = NULL;
  oci_process p = { 0 };
  oci_linux l = { .mount_label = (char *)"system_u:object_r:container_file_t:s0" };
  expect_refused (label_check_config (&p, &l, &err), &err, "linux.mountLabel",
                  stub_build () ? "built without SELinux support" : "SELinux is not enabled");
}

static void
test_apparmor_profile_refused (void **state)
{
  (void)state;
  if (apparmor_host_enabled ())
    skip ();
  skiff_error_t err = NULL;
  oci_process p = { .apparmor_profile = (char *)"docker-default" };
  expect_refused (label_check_config (&p, NULL, &err), &err,
                  "process.apparmorProfile `docker-default`", "AppArmor is not enabled");
}

static void
test_no_or_empty_labels_pass (void **state)
{
  (void)state;
  skiff_error_t err = NULL;
  oci_process none = { 0 };
  oci_process empty = { .selinux_label = (char *)"", .apparmor_profile = (char *)"" };
  oci_linux l = { .mount_label = (char *)"" };
  assert_int_equal (label_check_config (&none, NULL, &err), 0);
  assert_int_equal (label_check_config (&empty, &l, &err), 0);
  assert_null (err);
  /* nothing to open, nothing to write */
  struct label_exec x = LABEL_EXEC_INIT;
  assert_int_equal (label_exec_prepare (&empty, &x, &err), 0);
  assert_int_equal (x.selinux_fd, -1);
  assert_int_equal (x.apparmor_fd, -1);
  assert_int_equal (label_exec_apply (&x, &err), 0);
  assert_int_equal (label_keyring (&empty, &err), 0);
  assert_int_equal (label_keyring (NULL, &err), 0);
  assert_null (err);
}

/* In a child with a private mount namespace; returns a step number. */
static int
writes_child (void)
{
  skiff_error_t err = NULL;
  oci_process se = { .selinux_label = (char *)SE_LABEL };
  oci_process aa = { .apparmor_profile = (char *)"skiff-test" };
  struct label_exec x = LABEL_EXEC_INIT;
  if (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_PRIVATE | MS_REC, NULL) < 0)
    return 2;
  /* The attr files open through the verified /proc; with no LSM to take
     them, the kernel refuses the write, and the error names the field. */
  if (label_exec_prepare (&se, &x, &err) < 0 || x.selinux_fd < 0)
    return 3;
  if (label_exec_apply (&x, &err) == 0 || strstr (err->msg, "process.selinuxLabel") == NULL)
    return 4;
  if (x.selinux_fd != -1)
    return 5;
  skiff_error_free (&err);
  if (label_exec_prepare (&aa, &x, &err) < 0 || x.apparmor_fd < 0)
    return 6;
  if (label_exec_apply (&x, &err) == 0 || strstr (err->msg, "process.apparmorProfile") == NULL)
    return 7;
  skiff_error_free (&err);
  /* CVE-2019-16884: a file mounted over the attr file we write is refused,
     not written to. */
  char path[PATH_MAX + 32], target[PATH_MAX];
  ssize_t n = readlink ("/proc/thread-self", target, sizeof target - 1);
  if (n <= 0)
    return 8;
  target[n] = '\0';
  snprintf (path, sizeof path, "/proc/%s/attr/exec", target);
  if (mount ("/dev/null", path, NULL, MS_BIND, NULL) < 0)
    return 9;
  if (label_exec_prepare (&se, &x, &err) == 0 || err->errno_ != EXDEV)
    return 10;
  skiff_error_free (&err);
  /* and a tmpfs posing as /proc */
  if (mount ("tmpfs", "/proc", "tmpfs", 0, NULL) < 0)
    return 11;
  if (label_exec_prepare (&se, &x, &err) == 0 || err->errno_ != EXDEV
      || strstr (err->msg, "the container's /proc") == NULL)
    return 12;
  skiff_error_free (&err);
  return 0;
}

static void
test_writes_through_verified_procfs (void **state)
{
  (void)state;
  if (geteuid () != 0 || selinux_host_enabled () || apparmor_host_enabled ())
    skip ();
  fflush (NULL);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    _exit (writes_child ());
  int status;
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status));
  assert_int_equal (WEXITSTATUS (status), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_selinux_label_refused),
    cmocka_unit_test (test_mount_label_refused),
    cmocka_unit_test (test_apparmor_profile_refused),
    cmocka_unit_test (test_no_or_empty_labels_pass),
    cmocka_unit_test (test_writes_through_verified_procfs),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

/* hooks_run and hooks_run_one: a hook that does not read its state, the
   timeout while the state is still being written, and the index that
   messages name. */
#include "config.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "error.h"
#include "hooks.h"

/* Larger than a pipe's buffer (64 KiB): the write cannot finish before the
   hook exits. */
#define BIG (256 * 1024)

static char *
big_state (void)
{
  char *s = malloc (BIG + 1);
  assert_non_null (s);
  memset (s, 'x', BIG);
  s[BIG] = '\0';
  return s;
}

static void
assert_sigpipe_untouched (const sigset_t *mask_before)
{
  sigset_t mask, pending;
  sigprocmask (SIG_SETMASK, NULL, &mask);
  assert_int_equal (sigismember (&mask, SIGPIPE), sigismember (mask_before, SIGPIPE));
  sigpending (&pending);
  assert_false (sigismember (&pending, SIGPIPE));
}

static void
test_hook_that_does_not_read (void **state)
{
  (void)state;
  char *s = big_state ();
  char *argv[] = { (char *)"sh", (char *)"-c", (char *)"exit 0" };
  oci_hook h = { .path = (char *)"/bin/sh", .args = argv, .args_len = 3 };
  sigset_t before;
  sigprocmask (SIG_SETMASK, NULL, &before);
  skiff_error_t err = NULL;
  assert_int_equal (hooks_run_one ("poststop", 0, &h, s, NULL, &err), 0);
  assert_null (err);
  assert_sigpipe_untouched (&before);
  free (s);
}

static void
test_timeout_while_writing (void **state)
{
  (void)state;
  char *s = big_state ();
  char *argv[] = { (char *)"sleep", (char *)"10" };
  oci_hook h = {
    .path = (char *)"/bin/sleep", .args = argv, .args_len = 2, .timeout = 1, .timeout_present = true
  };
  struct timespec t0, t1;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  skiff_error_t err = NULL;
  assert_int_equal (hooks_run_one ("prestart", 0, &h, s, NULL, &err), -1);
  clock_gettime (CLOCK_MONOTONIC, &t1);
  assert_non_null (err);
  assert_string_equal (err->msg, "hooks.prestart[0] `/bin/sleep`: timed out after 1s");
  assert_true (t1.tv_sec - t0.tv_sec < 5);
  skiff_error_free (&err);
  free (s);
}

static void
test_messages_name_the_index (void **state)
{
  (void)state;
  char *ok_argv[] = { (char *)"sh", (char *)"-c", (char *)"exit 0" };
  char *bad_argv[] = { (char *)"sh", (char *)"-c", (char *)"echo broken >&2; exit 3" };
  oci_hook ok = { .path = (char *)"/bin/sh", .args = ok_argv, .args_len = 3 };
  oci_hook bad = { .path = (char *)"/bin/sh", .args = bad_argv, .args_len = 3 };
  oci_hook *hooks[] = { &ok, &ok, &bad, &ok };
  skiff_error_t err = NULL;
  assert_int_equal (hooks_run ("createRuntime", hooks, 4, "{}", NULL, &err), -1);
  assert_string_equal (err->msg, "hooks.createRuntime[2] `/bin/sh`: exit status 3: broken");
  skiff_error_free (&err);
  assert_int_equal (hooks_run_one ("poststart", 5, &bad, "{}", NULL, &err), -1);
  assert_string_equal (err->msg, "hooks.poststart[5] `/bin/sh`: exit status 3: broken");
  skiff_error_free (&err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_hook_that_does_not_read),
    cmocka_unit_test (test_timeout_while_writing),
    cmocka_unit_test (test_messages_name_the_index),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

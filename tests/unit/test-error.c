/* The error contract: messages, errno suffix, kinds and wrapping. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "error.h"

static int
fails_with_enoent (skiff_error_t *err)
{
  return skiff_error (err, ENOENT, "open `%s`", "/x");
}

static void
test_errno_suffix (void **state)
{
  (void)state;
  skiff_error_t err = NULL;
  assert_int_equal (fails_with_enoent (&err), -1);
  assert_non_null (err);
  assert_string_equal (err->msg, "open `/x`: No such file or directory");
  assert_int_equal (err->errno_, ENOENT);
  assert_int_equal (err->kind, SKIFF_ERR_GENERIC);
  skiff_error_free (&err);
  assert_null (err);
}

static void
test_no_errno (void **state)
{
  (void)state;
  skiff_error_t err = NULL;
  skiff_error_kind_set (&err, SKIFF_ERR_NOT_FOUND, 0, "container `%s` does not exist", "a");
  assert_string_equal (err->msg, "container `a` does not exist");
  assert_int_equal (err->kind, SKIFF_ERR_NOT_FOUND);
  skiff_error_free (&err);
}

static void
test_wrap_keeps_kind_and_errno (void **state)
{
  (void)state;
  skiff_error_t err = NULL;
  fails_with_enoent (&err);
  err->kind = SKIFF_ERR_INVALID_CONFIG;
  assert_int_equal (skiff_error_wrap (&err, "mounts[%d]", 3), -1);
  assert_string_equal (err->msg, "mounts[3]: open `/x`: No such file or directory");
  assert_int_equal (err->kind, SKIFF_ERR_INVALID_CONFIG);
  assert_int_equal (err->errno_, ENOENT);
  skiff_error_free (&err);
}

static void
test_second_error_replaces_first (void **state)
{
  (void)state;
  skiff_error_t err = NULL;
  skiff_error (&err, EPERM, "first");
  skiff_error (&err, 0, "second");
  assert_string_equal (err->msg, "second");
  assert_int_equal (err->errno_, 0);
  skiff_error_free (&err);
}

static void
test_from_msg_and_null_err (void **state)
{
  (void)state;
  skiff_error_t err = NULL;
  assert_int_equal (skiff_error (NULL, EIO, "ignored"), -1);
  assert_int_equal (skiff_error_wrap (&err, "nothing to wrap"), -1);
  assert_null (err);
  skiff_error_from_msg (&err, SKIFF_ERR_BAD_STATE, EBUSY, "from child");
  assert_string_equal (err->msg, "from child");
  assert_int_equal (err->errno_, EBUSY);
  skiff_error_free (&err);
}

/* A huge quoted value keeps the key and the cause, not 10 MB. */
static void
test_long_value_is_elided (void **state)
{
  (void)state;
  skiff_error_t err = NULL;
  size_t n = 10 << 20;
  char *big = malloc (n + 1);
  assert_non_null (big);
  memset (big, 'A', n);
  big[n] = '\0';
  skiff_error (&err, ENOENT, "process.args[0] `%s`: not found", big);
  skiff_error_wrap (&err, "create container `c`");
  free (big);
  assert_true (strlen (err->msg) < 4096);
  assert_true (strncmp (err->msg, "create container `c`: process.args[0] `AAA", 42) == 0);
  assert_non_null (strstr (err->msg, "bytes left out"));
  const char *tail = "AAA`: not found: No such file or directory";
  assert_string_equal (err->msg + strlen (err->msg) - strlen (tail), tail);
  skiff_error_free (&err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_errno_suffix),
    cmocka_unit_test (test_no_errno),
    cmocka_unit_test (test_wrap_keeps_kind_and_errno),
    cmocka_unit_test (test_second_error_replaces_first),
    cmocka_unit_test (test_from_msg_and_null_err),
    cmocka_unit_test (test_long_value_is_elided),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

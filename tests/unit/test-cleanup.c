/* Memory helpers of cleanup.h: the small-buffer copies the container's
   init uses to keep off the heap, and their heap fallback for long input. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cleanup.h"

static void
test_strdup_small_fits (void **state)
{
  (void)state;
  char small[8], *heap = NULL;
  char *s = strdup_small ("/a/b/c", small, sizeof small, &heap);
  assert_ptr_equal (s, small);
  assert_null (heap);
  assert_string_equal (s, "/a/b/c");
  /* exactly size bytes with the NUL still fits */
  s = strdup_small ("1234567", small, sizeof small, &heap);
  assert_ptr_equal (s, small);
  assert_null (heap);
}

static void
test_strdup_small_falls_back (void **state)
{
  (void)state;
  char small[8], *heap = NULL;
  char *s = strdup_small ("12345678", small, sizeof small, &heap);
  assert_non_null (heap);
  assert_ptr_equal (s, heap);
  assert_string_equal (s, "12345678");
  free (heap);
}

static void
test_sprintf_small (void **state)
{
  (void)state;
  char small[16], *heap = NULL;
  char *s = sprintf_small (small, sizeof small, &heap, "%s/%s", "/sys", "fs");
  assert_ptr_equal (s, small);
  assert_null (heap);
  assert_string_equal (s, "/sys/fs");
  char long_name[300];
  memset (long_name, 'x', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = '\0';
  s = sprintf_small (small, sizeof small, &heap, "/sys/fs/cgroup/%s", long_name);
  assert_non_null (heap);
  assert_ptr_equal (s, heap);
  assert_int_equal (strlen (s), strlen ("/sys/fs/cgroup/") + sizeof long_name - 1);
  assert_memory_equal (s, "/sys/fs/cgroup/xxx", 18);
  free (heap);
}

static void
test_strv_terminate (void **state)
{
  (void)state;
  char *v[] = { (char *)"a", (char *)"b" };
  char **t = strv_terminate (v, 2);
  assert_string_equal (t[0], "a");
  assert_string_equal (t[1], "b");
  assert_null (t[2]);
  free (t);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_strdup_small_fits),
    cmocka_unit_test (test_strdup_small_falls_back),
    cmocka_unit_test (test_sprintf_small),
    cmocka_unit_test (test_strv_terminate),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

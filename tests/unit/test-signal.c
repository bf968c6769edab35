/* skiff_parse_signal: the signal names and numbers `kill` accepts. */
#include "config.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "error.h"
#include "skiff.h"

static int
parse_ok (const char *s)
{
  skiff_error_t err = NULL;
  int sig = skiff_parse_signal (s, &err);
  if (err)
    print_error ("%s: %s\n", s, err->msg);
  assert_null (err);
  return sig;
}

static void
assert_refused (const char *s)
{
  skiff_error_t err = NULL;
  assert_int_equal (skiff_parse_signal (s, &err), -1);
  assert_non_null (err);
  assert_non_null (strstr (err->msg, s));
  assert_int_equal (err->kind, SKIFF_ERR_INVALID_CONFIG);
  skiff_error_free (&err);
}

static void
test_names_and_numbers (void **state)
{
  (void)state;
  assert_int_equal (parse_ok ("KILL"), SIGKILL);
  assert_int_equal (parse_ok ("sigterm"), SIGTERM);
  assert_int_equal (parse_ok ("SigUsr1"), SIGUSR1);
  assert_int_equal (parse_ok ("9"), 9);
  assert_int_equal (parse_ok ("64"), 64);
  assert_refused ("0");
  assert_refused ("65");
  assert_refused ("NOTASIGNAL");
  assert_refused ("SIG");
  assert_refused ("");
}

static void
test_realtime (void **state)
{
  (void)state;
  assert_int_equal (parse_ok ("RTMIN"), SIGRTMIN);
  assert_int_equal (parse_ok ("SIGRTMIN"), SIGRTMIN);
  assert_int_equal (parse_ok ("rtmin"), SIGRTMIN);
  assert_int_equal (parse_ok ("RTMAX"), SIGRTMAX);
  assert_int_equal (parse_ok ("sigrtmax"), SIGRTMAX);
  assert_int_equal (parse_ok ("SIGRTMIN+3"), SIGRTMIN + 3);
  assert_int_equal (parse_ok ("rtmin+0"), SIGRTMIN);
  assert_int_equal (parse_ok ("RTMAX-1"), SIGRTMAX - 1);
  assert_int_equal (parse_ok ("SIGrtmax-10"), SIGRTMAX - 10);
  char buf[32];
  snprintf (buf, sizeof buf, "RTMIN+%d", SIGRTMAX - SIGRTMIN);
  assert_int_equal (parse_ok (buf), SIGRTMAX);
  snprintf (buf, sizeof buf, "RTMAX-%d", SIGRTMAX - SIGRTMIN);
  assert_int_equal (parse_ok (buf), SIGRTMIN);
  /* Past the range, the other direction, or not a plain offset. */
  snprintf (buf, sizeof buf, "RTMIN+%d", SIGRTMAX - SIGRTMIN + 1);
  assert_refused (buf);
  assert_refused ("RTMAX+1");
  assert_refused ("RTMIN-1");
  assert_refused ("RTMIN+");
  assert_refused ("RTMIN+-3");
  assert_refused ("RTMIN+ 3");
  assert_refused ("RTMIN3");
  assert_refused ("RTMIN+3x");
  assert_refused ("RTMIN+99999999999999999999");
  assert_refused ("RTMID");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_names_and_numbers),
    cmocka_unit_test (test_realtime),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

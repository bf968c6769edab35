/* linux.netDevices: the config's rules create and check share (names as
   the kernel takes them, no name twice, a network namespace of the
   container's own). */
#include "config.h"

#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "netdevices.h"
#include "ocispec.h"

static oci_config *
parse (const char *devices, const char *namespaces)
{
  char json[2048];
  oci_diags d = { 0 };
  snprintf (json, sizeof json,
            "{\"ociVersion\": \"1.3.0\", \"linux\": {\"namespaces\": [%s], \"netDevices\": %s}}",
            namespaces, devices);
  oci_config *c = oci_config_parse_data (json, strlen (json), NULL, &d);
  for (size_t i = 0; i < d.len; i++)
    print_error ("%s\n", d.items[i].msg);
  oci_diags_free (&d);
  assert_non_null (c);
  return c;
}

/* NULL when the config passes, else the first message. */
static char *
validate (const char *devices, const char *namespaces)
{
  oci_config *c = parse (devices, namespaces);
  struct ns_plan ns;
  skiff_error_t err = NULL;
  char *msg = NULL;
  assert_int_equal (ns_plan_build (c, &ns, &err), 0);
  if (netdev_validate (c->linux, &ns, &err) < 0)
    {
      msg = strdup (err->msg);
      skiff_error_free (&err);
    }
  ns_plan_release (&ns);
  oci_config_free (c);
  return msg;
}

#define NETNS "{\"type\": \"network\"}"

static void
expect_error (const char *devices, const char *namespaces, const char *needle)
{
  char *msg = validate (devices, namespaces);
  if (msg == NULL || strstr (msg, needle) == NULL)
    fail_msg ("%s: expected \"%s\", got \"%s\"", devices, needle, msg ? msg : "(accepted)");
  free (msg);
}

static void
expect_ok (const char *devices)
{
  char *msg = validate (devices, NETNS);
  if (msg)
    fail_msg ("%s: refused: %s", devices, msg);
}

static void
test_accepted (void **state)
{
  (void)state;
  expect_ok ("{}");
  expect_ok ("{\"eth0\": {}}");
  expect_ok ("{\"eth0\": {\"name\": \"ctr0\"}, \"eth1\": {\"name\": \"ctr1\"}}");
  expect_ok ("{\"eth0\": {\"name\": \"\"}}"); /* empty: the host name */
  expect_ok ("{\"eth0\": {\"name\": \"c%d\"}, \"eth1\": {\"name\": \"c%d\"}}");
  expect_ok ("{\"abcdefghijklmno\": {\"name\": \"123456789012345\"}}"); /* 15 bytes */
}

static void
test_names (void **state)
{
  (void)state;
  expect_error ("{\"abcdefghijklmnop\": {}}", NETNS,
                "linux.netDevices[\"abcdefghijklmnop\"]: not a network device name: longer than "
                "15 bytes");
  expect_error ("{\"\": {}}", NETNS, "not a network device name: empty");
  expect_error ("{\"a:b\": {}}", NETNS, "has '/', ':' or white space");
  expect_error ("{\"e%d\": {}}", NETNS,
                "linux.netDevices[\"e%d\"]: not a network device name: "
                "has a '%'");
  expect_error ("{\"eth0\": {\"name\": \"a/b\"}}", NETNS,
                "linux.netDevices[\"eth0\"].name: `a/b` is not a network device name");
  expect_error ("{\"eth0\": {\"name\": \"a\\tb\"}}", NETNS, "white space");
  expect_error ("{\"eth0\": {\"name\": \"..\"}}", NETNS, "not a name");
  expect_error ("{\"eth0\": {\"name\": \"c%s\"}}", NETNS, "not one \"%d\" template");
  expect_error ("{\"eth0\": {\"name\": \"c%d%d\"}}", NETNS, "not one \"%d\" template");
  expect_error ("{\"lo\": {}}", NETNS, "linux.netDevices[\"lo\"]: the loopback device");
  expect_error ("{\"eth0\": {\"name\": \"lo\"}}", NETNS, "linux.netDevices[\"eth0\"].name: `lo`");
}

static void
test_duplicates (void **state)
{
  (void)state;
  expect_error ("{\"eth0\": {\"name\": \"ctr0\"}, \"eth1\": {\"name\": \"ctr0\"}}", NETNS,
                "linux.netDevices[\"eth1\"].name: `ctr0` is also the name of "
                "linux.netDevices[\"eth0\"]");
  /* a renamed one may not take the name another keeps */
  expect_error ("{\"eth0\": {}, \"eth1\": {\"name\": \"eth0\"}}", NETNS,
                "linux.netDevices[\"eth1\"].name: `eth0` is also the name of");
  expect_error ("{\"eth0\": {\"name\": \"eth1\"}, \"eth1\": {}}", NETNS,
                "linux.netDevices[\"eth1\"]: `eth1` is also the name of");
}

static void
test_namespace (void **state)
{
  (void)state;
  expect_error ("{\"eth0\": {}}", "{\"type\": \"pid\"}",
                "linux.netDevices: moving network devices needs a network namespace");
  expect_error ("{\"eth0\": {}}", "{\"type\": \"network\", \"path\": \"/proc/self/ns/net\"}",
                "is the runtime's own");
  /* nothing to move: no namespace needed */
  char *msg = validate ("{}", "{\"type\": \"pid\"}");
  assert_null (msg);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_accepted),
    cmocka_unit_test (test_names),
    cmocka_unit_test (test_duplicates),
    cmocka_unit_test (test_namespace),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

/* The default config of `skiff spec`: it parses with our own parser and
   carries runc's defaults. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ocispec.h"
#include "skiff.h"

static oci_config *
parse (const char *json)
{
  oci_diags d = { 0 };
  oci_config *c = oci_config_parse_data (json, strlen (json), NULL, &d);
  for (size_t i = 0; i < d.len; i++)
    print_error ("%s\n", d.items[i].msg);
  oci_diags_free (&d);
  return c;
}

static bool
has (char **v, size_t n, const char *s)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (v[i], s) == 0)
      return true;
  return false;
}

static bool
has_ns (const oci_linux *l, const char *type)
{
  for (size_t i = 0; i < l->namespaces_len; i++)
    if (strcmp (l->namespaces[i]->type, type) == 0)
      return true;
  return false;
}

static void
test_default (void **state)
{
  (void)state;
  char *json = skiff_spec_default (false, 0, 0, false);
  oci_config *c = parse (json);
  assert_non_null (c);
  assert_true (c->process->terminal);
  assert_string_equal (c->process->args[0], "sh");
  assert_true (c->process->no_new_privileges);
  assert_true (
      has (c->process->capabilities->bounding, c->process->capabilities->bounding_len, "CAP_KILL"));
  assert_int_equal (c->process->capabilities->inheritable_len, 0);
  assert_string_equal (c->process->rlimits[0]->type, "RLIMIT_NOFILE");
  assert_true (c->root->readonly);
  for (const char *const *t
       = (const char *const[]){ "pid", "network", "ipc", "uts", "mount", NULL };
       *t; t++)
    assert_true (has_ns (c->linux, *t));
  assert_false (has_ns (c->linux, "user"));
  assert_false (has_ns (c->linux, "cgroup"));
  assert_true (has (c->linux->masked_paths, c->linux->masked_paths_len, "/proc/kcore"));
  assert_true (has (c->linux->readonly_paths, c->linux->readonly_paths_len, "/proc/sys"));
  assert_int_equal (c->linux->resources->devices_len, 1);
  assert_false (c->linux->resources->devices[0]->allow);
  oci_config_free (c);
  free (json);
}

static void
test_rootless (void **state)
{
  (void)state;
  char *json = skiff_spec_default (true, 1000, 1001, false);
  oci_config *c = parse (json);
  assert_non_null (c);
  assert_true (has_ns (c->linux, "user"));
  assert_false (has_ns (c->linux, "network"));
  assert_int_equal (c->linux->uid_mappings[0]->host_id, 1000);
  assert_int_equal (c->linux->gid_mappings[0]->host_id, 1001);
  assert_int_equal (c->linux->uid_mappings[0]->container_id, 0);
  assert_null (c->linux->resources);
  for (size_t i = 0; i < c->mounts_len; i++)
    {
      const oci_mount *m = c->mounts[i];
      if (strcmp (m->destination, "/sys") == 0)
        assert_true (has (m->options, m->options_len, "rbind"));
      for (size_t j = 0; j < m->options_len; j++)
        assert_false (strncmp (m->options[j], "gid=", 4) == 0
                      || strncmp (m->options[j], "uid=", 4) == 0);
    }
  oci_config_free (c);
  free (json);
}

/* As runc on a cgroup v2 host: a cgroup namespace, rootless or not. */
static void
test_cgroupns (void **state)
{
  (void)state;
  for (int rootless = 0; rootless < 2; rootless++)
    {
      char *json = skiff_spec_default (rootless, 1000, 1000, true);
      oci_config *c = parse (json);
      assert_non_null (c);
      assert_true (has_ns (c->linux, "cgroup"));
      oci_config_free (c);
      free (json);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_default),
    cmocka_unit_test (test_rootless),
    cmocka_unit_test (test_cgroupns),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

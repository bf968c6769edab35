/* The systemd cgroup driver's data half: unit names and slice paths from
   cgroupsPath, and the unit properties for linux.resources on v1 and v2
   hosts.  No D-Bus: this host may have no systemd. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cgroup/systemd.h"
#include "ocispec.h"

static void
test_default_name (void **state)
{
  struct sd_unit_name n;
  skiff_error_t err = NULL;
  (void)state;
  assert_int_equal (cg_systemd_unit_name (NULL, "ctr1", &n, &err), 0);
  assert_string_equal (n.slice, "system.slice");
  assert_string_equal (n.unit, "skiff-ctr1.scope");
  assert_string_equal (n.path, "/system.slice/skiff-ctr1.scope");
  cg_systemd_unit_name_free (&n);
}

static void
test_nested_slice (void **state)
{
  struct sd_unit_name n;
  skiff_error_t err = NULL;
  (void)state;
  assert_int_equal (cg_systemd_unit_name ("machine-pod-x.slice:crio:abc", "id", &n, &err), 0);
  assert_string_equal (n.unit, "crio-abc.scope");
  assert_string_equal (n.path,
                       "/machine.slice/machine-pod.slice/machine-pod-x.slice/crio-abc.scope");
  cg_systemd_unit_name_free (&n);
  assert_int_equal (cg_systemd_unit_name (":p:n", "id", &n, &err), 0);
  assert_string_equal (n.path, "/system.slice/p-n.scope");
  cg_systemd_unit_name_free (&n);
  assert_int_equal (cg_systemd_unit_name ("-.slice::n", "id", &n, &err), 0);
  assert_string_equal (n.path, "/n.scope");
  cg_systemd_unit_name_free (&n);
}

static void
test_bad_names (void **state)
{
  static const char *const bad[] = { "/abs/path",       "a:b",
                                     "x.service:p:n",   "a:b:c:d",
                                     "system.slice:p:", "system.slice:p:a/b",
                                     "a--b.slice:p:n" };
  (void)state;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    {
      struct sd_unit_name n;
      skiff_error_t err = NULL;
      assert_int_equal (cg_systemd_unit_name (bad[i], "id", &n, &err), -1);
      assert_non_null (strstr (err->msg, "linux.cgroupsPath"));
      assert_int_equal (err->kind, SKIFF_ERR_INVALID_CONFIG);
      skiff_error_free (&err);
    }
}

static const struct sd_prop *
find (const struct sd_prop *p, size_t n, const char *name)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (p[i].name, name) == 0)
      return &p[i];
  fail_msg ("no property %s", name);
  return NULL;
}

static void
test_props_v2 (void **state)
{
  oci_memory m = { .limit = 1 << 30,
                   .limit_present = true,
                   .swap = 3LL << 29,
                   .swap_present = true,
                   .reservation = 1 << 20,
                   .reservation_present = true };
  oci_cpu c = { .shares = 1024,
                .shares_present = true,
                .quota = 50000,
                .quota_present = true,
                .period = 100000,
                .period_present = true,
                .cpus = (char *)"0-2,9" };
  oci_pids pids = { .limit = -1 };
  oci_block_io b = { .weight = 1000, .weight_present = true };
  oci_resources r = { .memory = &m, .cpu = &c, .pids = &pids, .block_io = &b };
  struct sd_prop p[32];
  size_t n = 0;
  skiff_error_t err = NULL;
  (void)state;
  assert_int_equal (cg_systemd_props (&r, true, p, 32, &n, &err), 0);
  assert_int_equal (find (p, n, "MemoryMax")->u, 1 << 30);
  assert_int_equal (find (p, n, "MemoryLow")->u, 1 << 20);
  assert_int_equal (find (p, n, "MemorySwapMax")->u, 1 << 29);
  assert_int_equal (find (p, n, "CPUWeight")->u, 100);
  assert_int_equal (find (p, n, "CPUQuotaPerSecUSec")->u, 500000);
  assert_int_equal (find (p, n, "CPUQuotaPeriodUSec")->u, 100000);
  assert_true (find (p, n, "TasksMax")->u == UINT64_MAX);
  assert_int_equal (find (p, n, "IOWeight")->u, 10000);
  const struct sd_prop *cpus = find (p, n, "AllowedCPUs");
  assert_int_equal (cpus->type, 'y');
  assert_int_equal (cpus->nbytes, 2);
  assert_int_equal (cpus->bytes[0], 0x07);
  assert_int_equal (cpus->bytes[1], 0x02);
}

static void
test_props_v1 (void **state)
{
  oci_memory m = { .limit = 512 << 20, .limit_present = true };
  oci_cpu c = { .shares = 512, .shares_present = true, .quota = 12345, .quota_present = true };
  oci_pids pids = { .limit = 99 };
  oci_block_io b = { .weight = 300, .weight_present = true };
  oci_resources r = { .memory = &m, .cpu = &c, .pids = &pids, .block_io = &b };
  struct sd_prop p[32];
  size_t n = 0;
  skiff_error_t err = NULL;
  (void)state;
  assert_int_equal (cg_systemd_props (&r, false, p, 32, &n, &err), 0);
  assert_int_equal (find (p, n, "MemoryLimit")->u, 512 << 20);
  assert_int_equal (find (p, n, "CPUShares")->u, 512);
  /* 12345 us per 100 ms = 123450 us/s, rounded up to systemd's 10 ms. */
  assert_int_equal (find (p, n, "CPUQuotaPerSecUSec")->u, 130000);
  assert_int_equal (find (p, n, "TasksMax")->u, 99);
  assert_int_equal (find (p, n, "BlockIOWeight")->u, 300);
}

static bool
has_prop (const struct sd_prop *p, size_t n, const char *name)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (p[i].name, name) == 0)
      return true;
  return false;
}

/* An idle group's weight is the kernel's: no property that would set one. */
static void
test_props_idle (void **state)
{
  oci_cpu c = { .shares = 512, .shares_present = true, .idle = 1, .idle_present = true };
  oci_resources r = { .cpu = &c };
  struct sd_prop p[32];
  size_t n = 0;
  skiff_error_t err = NULL;
  (void)state;
  for (int v2 = 0; v2 <= 1; v2++)
    {
      n = 0;
      assert_int_equal (cg_systemd_props (&r, v2, p, 32, &n, &err), 0);
      assert_false (has_prop (p, n, "CPUWeight"));
      assert_false (has_prop (p, n, "CPUShares"));
    }
  c.idle = 0;
  n = 0;
  assert_int_equal (cg_systemd_props (&r, true, p, 32, &n, &err), 0);
  assert_int_equal (find (p, n, "CPUWeight")->u, 59);
}

static void
test_cpuset_mask (void **state)
{
  unsigned char b[4];
  size_t n = 0;
  (void)state;
  assert_int_equal (cg_systemd_cpuset_mask ("0", b, 4, &n), 0);
  assert_int_equal (n, 1);
  assert_int_equal (b[0], 1);
  assert_int_equal (cg_systemd_cpuset_mask ("8-9,31", b, 4, &n), 0);
  assert_int_equal (n, 4);
  assert_int_equal (b[1], 3);
  assert_int_equal (b[3], 0x80);
  assert_int_equal (cg_systemd_cpuset_mask ("40", b, 4, &n), -1);
  assert_int_equal (cg_systemd_cpuset_mask ("3-1", b, 4, &n), -1);
  assert_int_equal (cg_systemd_cpuset_mask ("x", b, 4, &n), -1);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_default_name), cmocka_unit_test (test_nested_slice),
    cmocka_unit_test (test_bad_names),    cmocka_unit_test (test_props_v2),
    cmocka_unit_test (test_props_v1),     cmocka_unit_test (test_props_idle),
    cmocka_unit_test (test_cpuset_mask),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

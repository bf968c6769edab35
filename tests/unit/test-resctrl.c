/* resctrl.c against a directory tree laid out like a resctrl mount: no
   machine or emulator the tests run on has resctrl (it needs a CPU with
   Intel RDT or AMD QoS; qemu's TCG has neither), so this is where the
   positive path of linux.intelRdt is tested.  The tree plays the kernel's
   part by hand: after resctrl_group_make, the test adds the files the
   kernel would create in a new group. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fsutil.h"
#include "resctrl.h"

static char root[64];

static void
put (const char *rel, const char *text)
{
  char p[PATH_MAX + sizeof root];
  snprintf (p, sizeof p, "%s/%s", root, rel);
  FILE *f = fopen (p, "w");
  assert_non_null (f);
  fputs (text, f);
  fclose (f);
}

static void
dir (const char *rel)
{
  char p[PATH_MAX + sizeof root];
  snprintf (p, sizeof p, "%s/%s", root, rel);
  assert_int_equal (mkdir (p, 0755), 0);
}

static bool
exists (const char *rel)
{
  char p[PATH_MAX + sizeof root];
  struct stat st;
  snprintf (p, sizeof p, "%s/%s", root, rel);
  return stat (p, &st) == 0;
}

static char *
get (const char *rel)
{
  char p[PATH_MAX + sizeof root], *out = NULL;
  size_t len = 0;
  skiff_error_t e = NULL;
  snprintf (p, sizeof p, "%s/%s", root, rel);
  if (read_file_at (AT_FDCWD, p, &out, &len, &e) < 0)
    fail_msg ("read %s: %s", p, e->msg);
  return out;
}

static void
assert_file (const char *rel, const char *want)
{
  char *s = get (rel);
  assert_string_equal (s, want);
  free (s);
}

/* What the kernel puts in a CTRL_MON group ("/" or "<name>/"). */
static void
kernel_group (const char *prefix, const char *schemata)
{
  char p[256];
  snprintf (p, sizeof p, "%stasks", prefix);
  put (p, "");
  snprintf (p, sizeof p, "%sschemata", prefix);
  put (p, schemata);
  snprintf (p, sizeof p, "%smon_groups", prefix);
  dir (p);
  snprintf (p, sizeof p, "%smon_data", prefix);
  dir (p);
}

static int
setup (void **state)
{
  (void)state;
  snprintf (root, sizeof root, "/tmp/skiff-resctrl-XXXXXX");
  assert_non_null (mkdtemp (root));
  dir ("info");
  put ("info/last_cmd_status", "ok\n");
  dir ("info/L3");
  put ("info/L3/cbm_mask", "fff\n");
  put ("info/L3/min_cbm_bits", "1\n");
  put ("info/L3/num_closids", "16\n");
  dir ("info/MB");
  put ("info/MB/bandwidth_gran", "10\n");
  put ("info/MB/delay_linear", "1\n");
  put ("info/MB/min_bandwidth", "10\n");
  put ("info/MB/num_closids", "8\n");
  dir ("info/L3_MON");
  put ("info/L3_MON/mon_features", "llc_occupancy\nmbm_total_bytes\nmbm_local_bytes\n");
  kernel_group ("", "L3:0=fff;1=fff\nMB:0=100;1=100\n");
  return 0;
}

static int
teardown (void **state)
{
  (void)state;
  skiff_error_t e = NULL;
  assert_int_equal (remove_tree_at (AT_FDCWD, root, &e), 0);
  return 0;
}

static void
expect_error (int r, skiff_error_t *e, const char *words)
{
  assert_int_equal (r, -1);
  assert_non_null (*e);
  if (strstr ((*e)->msg, words) == NULL)
    fail_msg ("error `%s` lacks `%s`", (*e)->msg, words);
  skiff_error_free (e);
}

/* ---- the schemata comparison ------------------------------------------- */

static void
test_schema_matches (void **state)
{
  (void)state;
  /* as the kernel prints it: names right-aligned, masks zero-padded */
  const char *file = "    L3:0=00ff;1=0f0\n    MB:0=050;1=100\nL3CODE:0=fff;1=fff\n";
  assert_true (resctrl_schema_matches (file, "L3:0=ff;1=f0"));
  assert_true (resctrl_schema_matches (file, "L3:1=F0"));       /* a subset, any case */
  assert_true (resctrl_schema_matches (file, "L3: 0 = ff ; ")); /* blanks */
  assert_true (resctrl_schema_matches (file, "MB:0=50"));       /* decimal */
  assert_true (resctrl_schema_matches (file, "L3CODE:0=fff"));
  assert_false (resctrl_schema_matches (file, "L3:0=fe"));
  assert_false (resctrl_schema_matches (file, "L3:2=ff")); /* no such domain */
  assert_false (resctrl_schema_matches (file, "MB:0=60"));
  assert_false (resctrl_schema_matches (file, "L2:0=f")); /* no such resource */
  assert_false (resctrl_schema_matches (file, "L3DATA:0=ff"));
  assert_false (resctrl_schema_matches (file, "L3:"));  /* nothing asked */
  assert_false (resctrl_schema_matches (file, "L3:0")); /* not domain=value */
  assert_false (resctrl_schema_matches (file, "nonsense"));
  assert_false (resctrl_schema_matches ("", "L3:0=ff"));
}

/* ---- the config ----------------------------------------------------------- */

static void
test_check_config (void **state)
{
  (void)state;
  skiff_error_t e = NULL;
  oci_intel_rdt rdt = { 0 };
  static const char *const bad[]
      = { "../../etc", "a/b", "/x", ".", "..", "", "info", "mon_groups", "mon_data" };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    {
      rdt.clos_id = (char *)bad[i];
      expect_error (resctrl_check_config (&rdt, "c1", &e), &e, "linux.intelRdt.closID: ");
    }
  char long_name[300];
  memset (long_name, 'x', 256);
  long_name[256] = '\0';
  rdt.clos_id = long_name;
  expect_error (resctrl_check_config (&rdt, "c1", &e), &e, "NAME_MAX");
  rdt.clos_id = (char *)"/";
  assert_int_equal (resctrl_check_config (&rdt, "c1", &e), 0);
  rdt.clos_id = (char *)"gold";
  assert_int_equal (resctrl_check_config (&rdt, "c1", &e), 0);
  /* no closID: the container id names the group */
  rdt.clos_id = NULL;
  expect_error (resctrl_check_config (&rdt, long_name, &e), &e, "set linux.intelRdt.closID");
  expect_error (resctrl_check_config (&rdt, "info", &e), &e, "set linux.intelRdt.closID");
  rdt.mem_bw_schema = (char *)"L3:0=ff";
  expect_error (resctrl_check_config (&rdt, "c1", &e), &e,
                "linux.intelRdt.memBwSchema: `L3:0=ff`: must start with `MB:`");
  rdt.mem_bw_schema = (char *)"MB:0=5\nMB:1=5";
  expect_error (resctrl_check_config (&rdt, "c1", &e), &e, "linux.intelRdt.memBwSchema: must be");
  rdt.mem_bw_schema = (char *)"";
  char *lines[] = { (char *)"L3:0=f", (char *)"L2:0=f\nMB:0=5" };
  rdt.schemata = lines;
  rdt.schemata_len = 2;
  expect_error (resctrl_check_config (&rdt, "c1", &e), &e, "linux.intelRdt.schemata[1]: ");
  rdt.schemata_len = 1;
  assert_int_equal (resctrl_check_config (&rdt, "c1", &e), 0);
  assert_false (resctrl_wants_monitoring (&rdt));
  rdt.enable_cmt = true; /* v1.1's name */
  assert_true (resctrl_wants_monitoring (&rdt));
}

/* ---- create and delete ------------------------------------------------------ */

static void
test_group_for_the_container (void **state)
{
  (void)state;
  skiff_error_t e = NULL;
  char *lines[] = { (char *)"L2:0=f;1=f", (char *)"L3CODE:0=ff" };
  oci_intel_rdt rdt = { .l3_cache_schema = (char *)"L3:0=ff;1=f0",
                        .mem_bw_schema = (char *)"MB:0=50",
                        .schemata = lines,
                        .schemata_len = 2,
                        .enable_monitoring = true };
  struct resctrl_group g;
  assert_int_equal (resctrl_group_init (root, &rdt, "c1", &g, &e), 0);
  assert_string_equal (g.name, "c1");
  assert_string_equal (g.mon, "c1");
  assert_false (g.existed);
  assert_true (g.owned);
  assert_int_equal (resctrl_group_make (&g, &rdt, &e), 0);
  assert_true (g.made);
  assert_true (exists ("c1"));
  kernel_group ("c1/", "");
  assert_int_equal (resctrl_group_configure (&g, &rdt, &e), 0);
  /* one write per line: l3CacheSchema, memBwSchema, then schemata */
  assert_file ("c1/schemata", "L3:0=ff;1=f0\nMB:0=50\nL2:0=f;1=f\nL3CODE:0=ff\n");
  assert_true (g.mon_made);
  assert_true (exists ("c1/mon_groups/c1"));
  put ("c1/mon_groups/c1/tasks", "");
  assert_int_equal (resctrl_group_enter (&g, 4242, &e), 0);
  assert_file ("c1/tasks", "4242\n");
  assert_file ("c1/mon_groups/c1/tasks", "4242\n");
  /* delete: the MON group and the container's own group */
  assert_int_equal (resctrl_group_delete (&g, &e), 0);
  assert_false (exists ("c1"));
  resctrl_group_release (&g);
}

static void
test_failed_create_removes_what_it_made (void **state)
{
  (void)state;
  skiff_error_t e = NULL;
  oci_intel_rdt rdt = { .clos_id = (char *)"gold", .l3_cache_schema = (char *)"L3:0=ff" };
  struct resctrl_group g;
  assert_int_equal (resctrl_group_init (root, &rdt, "c2", &g, &e), 0);
  assert_false (g.owned); /* a closID group is never removed by delete */
  assert_int_equal (resctrl_group_make (&g, &rdt, &e), 0);
  kernel_group ("gold/", "");
  assert_int_equal (resctrl_group_configure (&g, &rdt, &e), 0);
  assert_int_equal (resctrl_group_delete (&g, &e), 0);
  assert_true (exists ("gold"));
  /* but a create that fails undoes it: as if never attempted */
  assert_int_equal (resctrl_group_undo (&g, &e), 0);
  assert_false (exists ("gold"));
  resctrl_group_release (&g);
}

static void
test_existing_group (void **state)
{
  (void)state;
  skiff_error_t e = NULL;
  dir ("gold");
  kernel_group ("gold/", "    L3:0=0ff;1=fff\n    MB:0=50;1=100\n");
  char *lines[] = { (char *)"L2:0=3" };
  oci_intel_rdt rdt = { .clos_id = (char *)"gold",
                        .l3_cache_schema = (char *)"L3:0=ff",
                        .mem_bw_schema = (char *)"MB:0=50",
                        .schemata = lines,
                        .schemata_len = 1 };
  struct resctrl_group g;
  assert_int_equal (resctrl_group_init (root, &rdt, "c3", &g, &e), 0);
  assert_true (g.existed);
  assert_false (g.owned);
  assert_int_equal (resctrl_group_setup (&g, &rdt, &e), 0);
  assert_false (g.made);
  /* the matching schemas are already there; schemata lines are written */
  assert_file ("gold/schemata", "    L3:0=0ff;1=fff\n    MB:0=50;1=100\nL2:0=3\n");
  assert_int_equal (resctrl_group_enter (&g, 7, &e), 0);
  assert_file ("gold/tasks", "7\n");
  assert_int_equal (resctrl_group_undo (&g, &e), 0);
  assert_int_equal (resctrl_group_delete (&g, &e), 0);
  assert_true (exists ("gold"));
  resctrl_group_release (&g);

  /* 1.3: an existing group whose schemata differ is an error */
  rdt.schemata_len = 0;
  rdt.l3_cache_schema = (char *)"L3:0=f0";
  assert_int_equal (resctrl_group_init (root, &rdt, "c3", &g, &e), 0);
  expect_error (resctrl_group_setup (&g, &rdt, &e), &e,
                "linux.intelRdt.l3CacheSchema: `L3:0=f0` does not match the schemata of the "
                "existing group");
  resctrl_group_release (&g);
  rdt.l3_cache_schema = NULL;
  rdt.mem_bw_schema = (char *)"MB:1=90";
  assert_int_equal (resctrl_group_init (root, &rdt, "c3", &g, &e), 0);
  expect_error (resctrl_group_setup (&g, &rdt, &e), &e, "(MB:0=50;1=100)");
  resctrl_group_release (&g);
  assert_file ("gold/schemata", "    L3:0=0ff;1=fff\n    MB:0=50;1=100\nL2:0=3\n");
}

static void
test_clos_id_rules (void **state)
{
  (void)state;
  skiff_error_t e = NULL;
  struct resctrl_group g;
  /* without a schema, closID names a group set up beforehand */
  oci_intel_rdt rdt = { .clos_id = (char *)"silver" };
  expect_error (resctrl_group_init (root, &rdt, "c4", &g, &e), &e,
                "linux.intelRdt.closID: no group `silver`");
  resctrl_group_release (&g);
  assert_false (exists ("silver"));
  put ("silver", "");
  rdt.l3_cache_schema = (char *)"L3:0=f";
  expect_error (resctrl_group_init (root, &rdt, "c4", &g, &e), &e, "is not a resctrl group");
  resctrl_group_release (&g);
  /* the container's MON group must be new */
  dir ("bronze");
  kernel_group ("bronze/", "L3:0=fff\n");
  dir ("bronze/mon_groups/c4");
  oci_intel_rdt mon = { .clos_id = (char *)"bronze", .enable_monitoring = true };
  expect_error (resctrl_group_init (root, &mon, "c4", &g, &e), &e,
                "linux.intelRdt.enableMonitoring: the monitoring group");
  resctrl_group_release (&g);
  assert_true (exists ("bronze/mon_groups/c4"));
}

static void
test_root_group (void **state)
{
  (void)state;
  skiff_error_t e = NULL;
  oci_intel_rdt rdt = { .clos_id = (char *)"/", .enable_monitoring = true };
  struct resctrl_group g;
  assert_int_equal (resctrl_group_init (root, &rdt, "c5", &g, &e), 0);
  assert_true (g.existed);
  assert_int_equal (resctrl_group_setup (&g, &rdt, &e), 0);
  assert_file ("schemata", "L3:0=fff;1=fff\nMB:0=100;1=100\n"); /* no schema: no write */
  assert_true (exists ("mon_groups/c5"));
  put ("mon_groups/c5/tasks", "");
  assert_int_equal (resctrl_group_enter (&g, 99, &e), 0);
  assert_file ("tasks", "99\n");
  assert_file ("mon_groups/c5/tasks", "99\n");
  g.owned = true; /* even so, the root group stays */
  assert_int_equal (resctrl_group_delete (&g, &e), 0);
  assert_false (exists ("mon_groups/c5"));
  assert_true (exists ("tasks"));
  resctrl_group_release (&g);
}

static void
test_kernel_refusal_is_quoted (void **state)
{
  (void)state;
  skiff_error_t e = NULL;
  char *lines[] = { (char *)"L9:0=1" };
  oci_intel_rdt rdt = { .clos_id = (char *)"gold", .schemata = lines, .schemata_len = 1 };
  struct resctrl_group g;
  assert_int_equal (resctrl_group_init (root, &rdt, "c6", &g, &e), 0);
  assert_int_equal (resctrl_group_make (&g, &rdt, &e), 0);
  kernel_group ("gold/", "");
  /* a refused write (here: RLIMIT_FSIZE 0, EFBIG), and the kernel's reason */
  char want[PATH_MAX + 128];
  struct rlimit old, none;
  put ("info/last_cmd_status", "Unknown or unsupported resource name 'L9'\n");
  signal (SIGXFSZ, SIG_IGN);
  assert_int_equal (getrlimit (RLIMIT_FSIZE, &old), 0);
  none = (struct rlimit){ 0, old.rlim_max };
  assert_int_equal (setrlimit (RLIMIT_FSIZE, &none), 0);
  int r = resctrl_group_configure (&g, &rdt, &e);
  assert_int_equal (setrlimit (RLIMIT_FSIZE, &old), 0);
  assert_int_equal (r, -1);
  snprintf (want, sizeof want,
            "linux.intelRdt.schemata[0]: write `L9:0=1` to `%s/gold/schemata`: File too large "
            "(resctrl: Unknown or unsupported resource name 'L9')",
            root);
  assert_string_equal (e->msg, want);
  assert_int_equal (e->errno_, EFBIG);
  skiff_error_free (&e);
  assert_int_equal (resctrl_group_undo (&g, &e), 0);
  assert_false (exists ("gold"));
  resctrl_group_release (&g);
}

/* ---- the state, update and stats ----------------------------------------------- */

static void
test_from_status_and_update (void **state)
{
  (void)state;
  skiff_error_t e = NULL;
  struct resctrl_group g;
  skiff_status st = { .id = (char *)"c7", .intel_rdt_group = (char *)"../../etc" };
  expect_error (resctrl_group_from_status (root, &st, &g, &e), &e, "is not a group");
  resctrl_group_release (&g);
  dir ("c7");
  kernel_group ("c7/", "");
  st.intel_rdt_group = (char *)"c7";
  st.intel_rdt_owned = true;
  assert_int_equal (resctrl_group_from_status (root, &st, &g, &e), 0);
  assert_null (g.mon);
  assert_int_equal (resctrl_write_schema (&g, "l3CacheSchema", "L3:0=3\nL3:1=c", &e), 0);
  assert_int_equal (resctrl_write_schema (&g, "memBwSchema", "MB:0=20", &e), 0);
  assert_file ("c7/schemata", "L3:0=3\nL3:1=c\nMB:0=20\n");
  assert_int_equal (resctrl_group_delete (&g, &e), 0);
  assert_false (exists ("c7"));
  expect_error (resctrl_write_schema (&g, "memBwSchema", "MB:0=20", &e), &e,
                "linux.intelRdt.memBwSchema: open ");
  resctrl_group_release (&g);
}

static void
test_stats (void **state)
{
  (void)state;
  skiff_error_t e = NULL;
  struct resctrl_group g;
  dir ("c8");
  kernel_group ("c8/", "    L3:0=0ff;1=0ff\n    MB:0=50;1=60\n");
  dir ("c8/mon_groups/c8");
  dir ("c8/mon_groups/c8/mon_data");
  /* readdir order is not domain order */
  static const char *const doms[] = { "mon_L3_10", "mon_L3_02" };
  for (size_t i = 0; i < 2; i++)
    {
      char p[PATH_MAX];
      snprintf (p, sizeof p, "c8/mon_groups/c8/mon_data/%s", doms[i]);
      dir (p);
      snprintf (p, sizeof p, "c8/mon_groups/c8/mon_data/%s/mbm_total_bytes", doms[i]);
      put (p, i ? "2000\n" : "1000\n");
      snprintf (p, sizeof p, "c8/mon_groups/c8/mon_data/%s/mbm_local_bytes", doms[i]);
      put (p, i ? "Unavailable\n" : "100\n");
      snprintf (p, sizeof p, "c8/mon_groups/c8/mon_data/%s/llc_occupancy", doms[i]);
      put (p, i ? "4096\n" : "8192\n");
    }
  skiff_status st = { .id = (char *)"c8", .intel_rdt_group = (char *)"c8", .intel_rdt_mon = true };
  assert_int_equal (resctrl_group_from_status (root, &st, &g, &e), 0);
  struct skiff_strbuf b = { 0 };
  assert_int_equal (resctrl_stats_json (&g, &b, &e), 0);
  assert_string_equal (
      b.s, "{\"l3_cache_info\":{\"cbm_mask\":\"fff\",\"min_cbm_bits\":1,\"num_closids\":16},"
           "\"l3_cache_schema_root\":\"L3:0=fff;1=fff\",\"l3_cache_schema\":\"L3:0=0ff;1=0ff\","
           "\"mem_bw_info\":{\"bandwidth_gran\":10,\"delay_linear\":1,\"min_bandwidth\":10,"
           "\"num_closids\":8},"
           "\"mem_bw_schema_root\":\"MB:0=100;1=100\",\"mem_bw_schema\":\"MB:0=50;1=60\","
           "\"mbm_stats\":[{\"mbm_total_bytes\":2000,\"mbm_local_bytes\":0},"
           "{\"mbm_total_bytes\":1000,\"mbm_local_bytes\":100}],"
           "\"cmt_stats\":[{\"llc_occupancy\":4096},{\"llc_occupancy\":8192}]}");
  strbuf_free (&b);
  resctrl_group_release (&g);

  /* no MB, no monitoring on this CPU: only what there is (runc's omitempty) */
  char p[PATH_MAX];
  snprintf (p, sizeof p, "%s/info/MB", root);
  assert_int_equal (remove_tree_at (AT_FDCWD, p, &e), 0);
  snprintf (p, sizeof p, "%s/info/L3_MON", root);
  assert_int_equal (remove_tree_at (AT_FDCWD, p, &e), 0);
  put ("info/L3/min_cbm_bits", "0\n");
  st.intel_rdt_mon = false;
  assert_int_equal (resctrl_group_from_status (root, &st, &g, &e), 0);
  assert_int_equal (resctrl_stats_json (&g, &b, &e), 0);
  assert_string_equal (b.s, "{\"l3_cache_info\":{\"cbm_mask\":\"fff\",\"num_closids\":16},"
                            "\"l3_cache_schema_root\":\"L3:0=fff;1=fff\","
                            "\"l3_cache_schema\":\"L3:0=0ff;1=0ff\"}");
  strbuf_free (&b);
  resctrl_group_release (&g);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_schema_matches),
    cmocka_unit_test (test_check_config),
    cmocka_unit_test_setup_teardown (test_group_for_the_container, setup, teardown),
    cmocka_unit_test_setup_teardown (test_failed_create_removes_what_it_made, setup, teardown),
    cmocka_unit_test_setup_teardown (test_existing_group, setup, teardown),
    cmocka_unit_test_setup_teardown (test_clos_id_rules, setup, teardown),
    cmocka_unit_test_setup_teardown (test_root_group, setup, teardown),
    cmocka_unit_test_setup_teardown (test_kernel_refusal_is_quoted, setup, teardown),
    cmocka_unit_test_setup_teardown (test_from_status_and_update, setup, teardown),
    cmocka_unit_test_setup_teardown (test_stats, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

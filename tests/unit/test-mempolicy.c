/* linux.memoryPolicy's plan (src/libskiff/mempolicy.c): the node lists,
   the kernel's rules for modes and flags, and the host and cpuset checks
   with made-up node sets (a one-node host cannot show most of them). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mempolicy.h"

#define WORD_BITS (8 * sizeof (unsigned long))

/* Parse mode/nodes/flags; NULL on success, else the message (freed by the
   caller). */
static char *
parse (const char *mode, const char *nodes, const char *flag1, const char *flag2,
       struct mempolicy_plan *out)
{
  char *flags[2] = { (char *)flag1, (char *)flag2 };
  oci_memory_policy mp = { .mode = (char *)mode,
                           .nodes = (char *)nodes,
                           .flags = flags,
                           .flags_len = flag2   ? 2
                                        : flag1 ? 1
                                                : 0 };
  oci_linux l = { .memory_policy = &mp };
  skiff_error_t err = NULL;
  if (mempolicy_parse (&l, out, &err) == 0)
    return NULL;
  char *msg = strdup (err->msg);
  skiff_error_free (&err);
  return msg;
}

static void
assert_parse_fails (const char *mode, const char *nodes, const char *flag1, const char *flag2,
                    const char *expected)
{
  struct mempolicy_plan p;
  char *msg = parse (mode, nodes, flag1, flag2, &p);
  assert_non_null (msg);
  assert_string_equal (msg, expected);
  free (msg);
}

static bool
has (const struct mempolicy_plan *p, int n)
{
  return p->nodes[n / WORD_BITS] >> (n % WORD_BITS) & 1;
}

static void
test_no_policy (void **state)
{
  (void)state;
  struct mempolicy_plan p;
  oci_linux l = { 0 };
  skiff_error_t err = NULL;
  assert_int_equal (mempolicy_parse (&l, &p, &err), 0);
  assert_false (p.set);
  assert_int_equal (mempolicy_parse (NULL, &p, &err), 0);
  assert_false (p.set);
  /* nothing to do, nothing done */
  assert_int_equal (mempolicy_apply (&p, &err), 0);
}

static void
test_node_list (void **state)
{
  (void)state;
  struct mempolicy_plan p;
  char buf[64];
  assert_null (parse ("MPOL_BIND", "0-3,7,70,9-9", NULL, NULL, &p));
  assert_true (p.set);
  assert_int_equal (p.mode, 2);
  assert_int_equal (p.last_node, 70);
  for (int n = 0; n < 100; n++)
    assert_int_equal (has (&p, n), n <= 3 || n == 7 || n == 9 || n == 70);
  assert_string_equal (mempolicy_format_nodes (p.nodes, buf, sizeof buf), "0-3,7,9,70");
  assert_string_equal (mempolicy_describe (&p, buf, sizeof buf), "MPOL_BIND, nodes 0-3,7,9,70");
  assert_null (parse ("MPOL_INTERLEAVE", "4095", "MPOL_F_STATIC_NODES", NULL, &p));
  assert_int_equal (p.last_node, 4095);
  assert_string_equal (mempolicy_describe (&p, buf, sizeof buf),
                       "MPOL_INTERLEAVE, nodes 4095, flags MPOL_F_STATIC_NODES");
}

static void
test_bad_node_lists (void **state)
{
  (void)state;
  static const char *const bad[] = { "0-", "-1", "a",   "1-0", "0,,1",  ",",  "0,",
                                     " 0", "0 ", "0\n", "0:2", "0-2:1", "+1", "0x1" };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    {
      char want[128];
      snprintf (want, sizeof want,
                "linux.memoryPolicy.nodes: `%s` is not a list of nodes such as \"0-3,7\"", bad[i]);
      assert_parse_fails ("MPOL_BIND", bad[i], NULL, NULL, want);
    }
  assert_parse_fails ("MPOL_BIND", "0,4096", NULL, NULL,
                      "linux.memoryPolicy.nodes: node 4096 is beyond 4095, the largest node "
                      "number a kernel has");
  assert_parse_fails ("MPOL_BIND", "3-99999999999999999999999", NULL, NULL,
                      "linux.memoryPolicy.nodes: node 99999999999999999999999 is beyond 4095, "
                      "the largest node number a kernel has");
}

static void
test_modes_and_nodes (void **state)
{
  (void)state;
  struct mempolicy_plan p;
  assert_null (parse ("MPOL_DEFAULT", NULL, NULL, NULL, &p));
  assert_int_equal (p.last_node, -1);
  assert_null (parse ("MPOL_LOCAL", "", NULL, NULL, &p));
  assert_null (parse ("MPOL_PREFERRED", NULL, NULL, NULL, &p)); /* local allocation */
  assert_null (parse ("MPOL_PREFERRED", "3", NULL, NULL, &p));
  assert_null (parse ("MPOL_PREFERRED_MANY", "1-2", "MPOL_F_NUMA_BALANCING", NULL, &p));
  assert_int_equal (p.flags, 1 << 13);
  assert_null (parse ("MPOL_WEIGHTED_INTERLEAVE", "0", NULL, NULL, &p));
  assert_int_equal (p.mode, 6);
  assert_parse_fails ("MPOL_BIND", NULL, NULL, NULL,
                      "linux.memoryPolicy.nodes: MPOL_BIND needs at least one node");
  assert_parse_fails ("MPOL_WEIGHTED_INTERLEAVE", "", NULL, NULL,
                      "linux.memoryPolicy.nodes: MPOL_WEIGHTED_INTERLEAVE needs at least one node");
  assert_parse_fails ("MPOL_DEFAULT", "0", NULL, NULL,
                      "linux.memoryPolicy.nodes: MPOL_DEFAULT takes no nodes, not `0`");
  assert_parse_fails ("MPOL_LOCAL", "1-2", NULL, NULL,
                      "linux.memoryPolicy.nodes: MPOL_LOCAL takes no nodes, not `1-2`");
  assert_parse_fails ("MPOL_PREFERRED", "0-1", NULL, NULL,
                      "linux.memoryPolicy.nodes: MPOL_PREFERRED takes one node, and the kernel "
                      "would use only the first of `0-1`: MPOL_PREFERRED_MANY takes several");
  assert_parse_fails ("MPOL_BOGUS", "0", NULL, NULL,
                      "linux.memoryPolicy.mode: unknown mode `MPOL_BOGUS`");
}

static void
test_flags (void **state)
{
  (void)state;
  struct mempolicy_plan p;
  assert_null (parse ("MPOL_BIND", "0", "MPOL_F_RELATIVE_NODES", "MPOL_F_NUMA_BALANCING", &p));
  assert_int_equal (p.flags, (1 << 14) | (1 << 13));
  assert_parse_fails ("MPOL_BIND", "0", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES",
                      "linux.memoryPolicy.flags[1]: MPOL_F_STATIC_NODES and "
                      "MPOL_F_RELATIVE_NODES exclude each other");
  assert_parse_fails ("MPOL_PREFERRED", "0", "MPOL_F_NUMA_BALANCING", NULL,
                      "linux.memoryPolicy.flags[0]: MPOL_F_NUMA_BALANCING goes with mode "
                      "MPOL_BIND or MPOL_PREFERRED_MANY, not MPOL_PREFERRED");
  assert_parse_fails ("MPOL_DEFAULT", NULL, "MPOL_F_NUMA_BALANCING", "MPOL_F_STATIC_NODES",
                      "linux.memoryPolicy.flags[0]: MPOL_F_NUMA_BALANCING goes with mode "
                      "MPOL_BIND or MPOL_PREFERRED_MANY, not MPOL_DEFAULT");
  assert_parse_fails ("MPOL_DEFAULT", NULL, "MPOL_F_STATIC_NODES", NULL,
                      "linux.memoryPolicy.flags[0]: MPOL_F_STATIC_NODES qualifies the nodes, and "
                      "MPOL_DEFAULT has none");
  assert_parse_fails ("MPOL_PREFERRED", "", "MPOL_F_NUMA_BALANCING", NULL,
                      "linux.memoryPolicy.flags[0]: MPOL_F_NUMA_BALANCING goes with mode "
                      "MPOL_BIND or MPOL_PREFERRED_MANY, not MPOL_PREFERRED");
  assert_parse_fails ("MPOL_PREFERRED", NULL, "MPOL_F_STATIC_NODES", "MPOL_F_STATIC_NODES",
                      "linux.memoryPolicy.flags[1]: MPOL_F_STATIC_NODES qualifies the nodes, and "
                      "MPOL_PREFERRED has none");
  assert_parse_fails ("MPOL_BIND", "0", "MPOL_F_BOGUS", NULL,
                      "linux.memoryPolicy.flags[0]: unknown flag `MPOL_F_BOGUS`");
}

static char *
host (const char *mode, const char *nodes, const char *flag, const char *online, const char *memory)
{
  struct mempolicy_plan p;
  skiff_error_t err = NULL;
  assert_null (parse (mode, nodes, flag, NULL, &p));
  if (mempolicy_check_host (&p, online, memory, &err) == 0)
    return NULL;
  char *msg = strdup (err->msg);
  skiff_error_free (&err);
  return msg;
}

static void
assert_host_fails (const char *mode, const char *nodes, const char *flag, const char *online,
                   const char *memory, const char *expected)
{
  char *msg = host (mode, nodes, flag, online, memory);
  assert_non_null (msg);
  assert_string_equal (msg, expected);
  free (msg);
}

static void
test_host_nodes (void **state)
{
  (void)state;
  /* sysfs lists end with a newline */
  assert_null (host ("MPOL_BIND", "0-1", NULL, "0-1,3\n", "0-1\n"));
  assert_null (host ("MPOL_LOCAL", NULL, NULL, "0\n", "0\n"));
  assert_host_fails ("MPOL_BIND", "0,2", NULL, "0-1,3\n", "0-1\n",
                     "linux.memoryPolicy.nodes: node 2 does not exist on this host (its online "
                     "nodes: 0-1,3)");
  /* node 3: online, CPUs only: a bind or interleave would leave it out */
  assert_host_fails ("MPOL_INTERLEAVE", "0,3", NULL, "0-1,3\n", "0-1\n",
                     "linux.memoryPolicy.nodes: node 3 has no memory on this host (its nodes "
                     "with memory: 0-1): the kernel would leave it out");
  assert_null (host ("MPOL_INTERLEAVE", "0,3", NULL, "0-1,3\n", NULL));
  /* static: waits for the node to get memory; still one that exists */
  assert_null (host ("MPOL_BIND", "3", "MPOL_F_STATIC_NODES", "0-1,3\n", "0-1\n"));
  assert_host_fails ("MPOL_BIND", "7", "MPOL_F_STATIC_NODES", "0-1,3\n", "0-1\n",
                     "linux.memoryPolicy.nodes: node 7 does not exist on this host (its online "
                     "nodes: 0-1,3)");
  /* relative: positions, folded onto the allowed nodes */
  assert_null (host ("MPOL_BIND", "7", "MPOL_F_RELATIVE_NODES", "0\n", "0\n"));
}

static void
test_cpuset (void **state)
{
  (void)state;
  struct mempolicy_plan p;
  unsigned long allowed[MEMPOLICY_WORDS] = { 0 };
  skiff_error_t err = NULL;
  allowed[0] = 0x5; /* nodes 0 and 2 */
  assert_null (parse ("MPOL_BIND", "0,2", NULL, NULL, &p));
  assert_int_equal (mempolicy_check_allowed (&p, allowed, &err), 0);
  assert_null (parse ("MPOL_BIND", "0-1", NULL, NULL, &p));
  assert_int_equal (mempolicy_check_allowed (&p, allowed, &err), -1);
  assert_string_equal (err->msg, "linux.memoryPolicy.nodes: node 1 is not one the container may "
                                 "use (its cpuset's nodes: 0,2): the kernel would leave it out");
  skiff_error_free (&err);
  /* the flags say what to do with such nodes */
  assert_null (parse ("MPOL_BIND", "0-1", "MPOL_F_STATIC_NODES", NULL, &p));
  assert_int_equal (mempolicy_check_allowed (&p, allowed, &err), 0);
  assert_null (parse ("MPOL_BIND", "5", "MPOL_F_RELATIVE_NODES", NULL, &p));
  assert_int_equal (mempolicy_check_allowed (&p, allowed, &err), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_no_policy),      cmocka_unit_test (test_node_list),
    cmocka_unit_test (test_bad_node_lists), cmocka_unit_test (test_modes_and_nodes),
    cmocka_unit_test (test_flags),          cmocka_unit_test (test_host_nodes),
    cmocka_unit_test (test_cpuset),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

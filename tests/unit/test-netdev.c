/* netdev_json: /proc/<pid>/net/dev as runc's network_interfaces list. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "netdev.h"

static void
test_net_dev (void **state)
{
  (void)state;
  static const char text[]
      = "Inter-|   Receive                                                |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets "
        "errs drop fifo colls carrier compressed\n"
        "    lo:    6534      58    0    0    0     0          0         0     6534      58    "
        "0    0    0     0       0          0\n"
        "  eth0: 1000 10 1 2 0 0 0 3 2000 20 4 5 0 0 0 0\n"
        "  bad: 1 2 3\n"
        "veth-with-a-long-name0:7 1 0 0 0 0 0 0 8 2 0 0 0 0 0 0";
  struct skiff_strbuf b = { 0 };
  netdev_json (text, &b);
  assert_string_equal (
      b.s, "[{\"Name\":\"lo\",\"RxBytes\":6534,\"RxPackets\":58,\"RxErrors\":0,\"RxDropped\":0,"
           "\"TxBytes\":6534,\"TxPackets\":58,\"TxErrors\":0,\"TxDropped\":0},"
           "{\"Name\":\"eth0\",\"RxBytes\":1000,\"RxPackets\":10,\"RxErrors\":1,\"RxDropped\":2,"
           "\"TxBytes\":2000,\"TxPackets\":20,\"TxErrors\":4,\"TxDropped\":5},"
           "{\"Name\":\"veth-with-a-long-name0\",\"RxBytes\":7,\"RxPackets\":1,\"RxErrors\":0,"
           "\"RxDropped\":0,\"TxBytes\":8,\"TxPackets\":2,\"TxErrors\":0,\"TxDropped\":0}]");
  strbuf_free (&b);
  netdev_json ("", &b);
  assert_string_equal (b.s, "[]");
  strbuf_free (&b);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_net_dev),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

/* The container's network devices. */
#include "config.h"
#include "netdev.h"

#include <unistd.h>

#include "netlink.h"

#define LOOPBACK_IFINDEX 1

int
netdev_loopback_up (skiff_error_t *err)
{
  int fd = nl_open (err);
  if (fd < 0)
    return -1;
  int r = nl_link_up (fd, LOOPBACK_IFINDEX, err);
  close (fd);
  if (r < 0)
    return skiff_error_wrap (err, "set the loopback device up");
  return 0;
}

/* The container's network devices: linux.netDevices (config-linux.md,
   "Network Devices"), moved by the runtime from its network namespace into
   the container's during create, and the loopback device of a new network
   namespace, which the init brings up. */
#ifndef SKIFF_NETDEVICES_H
#define SKIFF_NETDEVICES_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "namespaces.h"
#include "netlink.h"
#include "ocispec.h"

/* One device moved into the container. */
struct netdev_moved
{
  const char *host_name; /* the config's key: its name to return under */
  char name[IFNAMSIZ];   /* its name in the container */
  int index;             /* its index there */
  bool was_up;
  struct nl_addr *addrs; /* what was moved with it */
  size_t naddrs;
};

struct netdev_set
{
  int netns_fd;   /* the container's network namespace, held open */
  int host_ns_fd; /* ours */
  struct netdev_moved *dev;
  size_t len;
};

#define NETDEV_SET_INIT                                                                            \
  {                                                                                                \
    .netns_fd = -1, .host_ns_fd = -1                                                               \
  }

static inline bool
netdev_any (const oci_linux *l)
{
  return l && l->net_devices && l->net_devices->len;
}

/* The name linux.netDevices[i] gets in the container. */
const char *netdev_target_name (const oci_linux *l, size_t i);
/* The config's rules: a network namespace of the container's own, and
   entry i's names valid and not taken twice.  create and check share
   them. */
int netdev_validate_netns (const oci_linux *l, const struct ns_plan *ns, skiff_error_t *err);
int netdev_validate_entry (const oci_linux *l, size_t i, skiff_error_t *err);
int netdev_validate (const oci_linux *l, const struct ns_plan *ns, skiff_error_t *err);
/* Whether the host (our network namespace) has a device of that name. */
bool netdev_host_has (const char *name);
/* create, before anything exists: every device is on the host. */
int netdev_check_host (const oci_linux *l, skiff_error_t *err);

/* Runtime side, once the init of `pid` is in its network namespace: move
   each device there under its new name, with its permanent global
   addresses, and set it up.  What was moved is in *set even on failure,
   for netdev_return_all(). */
int netdev_move_all (const oci_linux *l, pid_t pid, struct netdev_set *set, skiff_error_t *err);
/* A failed create: bring the devices back under their host names, with
   their addresses (the kernel would destroy a virtual one with the
   namespace).  Failures are warnings. */
void netdev_return_all (struct netdev_set *set);
void netdev_set_release (struct netdev_set *set);

/* The init, in a new network namespace: lo up, as runc and crun do.  No
   allocation unless it fails. */
int netdev_loopback_up (skiff_error_t *err);

#endif

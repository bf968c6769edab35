/* The container's network devices: the loopback device of a new network
   namespace, which the init brings up. */
#ifndef SKIFF_NETDEV_H
#define SKIFF_NETDEV_H

#include "error.h"

/* The init, in a new network namespace: lo up, as runc and crun do.  No
   allocation unless it fails. */
int netdev_loopback_up (skiff_error_t *err);

#endif

/* The network interfaces of a container's network namespace, for the
   stats of `events`. */
#ifndef SKIFF_NETDEV_H
#define SKIFF_NETDEV_H

#include "state.h"
#include "strbuf.h"

/* A /proc/<pid>/net/dev text as runc's "network_interfaces" list:
   [{"Name", "RxBytes", "RxPackets", "RxErrors", "RxDropped", "TxBytes",
   "TxPackets", "TxErrors", "TxDropped"}] (runc's NetworkInterface has no
   JSON tags, so its Go field names are the keys). */
void netdev_json (const char *text, struct skiff_strbuf *out);

/* That list for the container's init, or null (as runc prints it) when
   the container shares skiff's network namespace, whose interfaces are
   the host's, not the container's, or its init is gone. */
void netdev_container_json (const skiff_status *st, struct skiff_strbuf *out);

#endif

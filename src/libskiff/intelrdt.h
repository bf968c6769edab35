/* linux.intelRdt (Intel RDT / AMD PQoS through the resctrl filesystem). */
#ifndef SKIFF_INTELRDT_H
#define SKIFF_INTELRDT_H

#include <stdbool.h>

#include "error.h"

/* resctrl is mounted at /sys/fs/resctrl (by its magic: the directory alone
   is sysfs's, present whenever the kernel could mount it). */
bool intelrdt_resctrl_mounted (void);

/* The error for a request of linux.intelRdt.<key>: not supported yet,
   worded after what the host has. */
int intelrdt_unsupported (const char *key, skiff_error_t *err);

#endif

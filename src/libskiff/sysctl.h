#ifndef SKIFF_SYSCTL_H
#define SKIFF_SYSCTL_H

#include "error.h"
#include "namespaces.h"
#include "ocispec.h"

/* Refuse sysctls that the container's namespaces do not own (they would
   change the host), and the uts names that config.json's hostname and
   domainname fields set (one would silently override the other). */
int sysctl_validate (const oci_config *c, const struct ns_plan *ns, skiff_error_t *err);
/* Write linux.sysctl through /proc/sys of a procfs we verified. */
int sysctl_apply (const oci_linux *l, skiff_error_t *err);

#endif

/* The uid and gid maps of a container's new user namespace
   (user_namespaces(7), "Defining user and group ID mappings").

   A runtime with CAP_SETUID (CAP_SETGID) writes any map of ids it has.
   Without (rootless), the kernel lets it write one line mapping its own
   effective uid, and its own effective gid once the namespace's setgroups
   is "deny"; anything else goes through the setuid helpers newuidmap(1)
   and newgidmap(1) of the uidmap package, which map what /etc/subuid and
   /etc/subgid grant the user. */
#ifndef SKIFF_USERNS_H
#define SKIFF_USERNS_H

#include <sys/types.h>

#include "error.h"
#include "ocispec.h"

/* Before the clone: each map can be written by the way it will be, that
   is, when it needs a helper, the helper is installed and the user's
   subordinate ids grant every range.  Errors name linux.uidMappings[i]
   (gidMappings) and the file or program. */
int userns_check_maps (const oci_linux *l, skiff_error_t *err);

/* Write uid_map and gid_map of pid's user namespace. */
int userns_write_maps (pid_t pid, const oci_linux *l, skiff_error_t *err);

#endif

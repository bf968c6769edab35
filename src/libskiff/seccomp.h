/* seccomp: the filter is compiled in the runtime before the clone (so a
   bad profile fails early and compiled programs can be cached) and loaded
   by the container as its very last step before exec. */
#ifndef SKIFF_SECCOMP_H
#define SKIFF_SECCOMP_H

#include <stdbool.h>

#include "error.h"
#include "ocispec.h"

struct seccomp_prog;

/* NULL *out when the config has no seccomp section.  cache_dir may be NULL
   (no cache). */
int seccomp_prepare (const oci_seccomp *s, const char *cache_dir, struct seccomp_prog **out,
                     skiff_error_t *err);
/* Load the filter into the calling thread.  *notify_fd gets the user
   notification fd when the profile has SCMP_ACT_NOTIFY rules, else -1. */
int seccomp_install (struct seccomp_prog *p, int *notify_fd, skiff_error_t *err);
/* Send the notify fd and the container state to linux.seccomp.listenerPath. */
int seccomp_send_notify_fd (const oci_seccomp *s, int notify_fd, const char *state_json,
                            skiff_error_t *err);
/* The profile has SCMP_ACT_NOTIFY rules: the listener fd must go to
   listenerPath, which only the runtime can reach. */
bool seccomp_prog_notifies (const struct seccomp_prog *p);
void seccomp_prog_free (struct seccomp_prog *p);
/* For `features`: the filter flags this kernel takes (names), and the
   version of the libseccomp that would be loaded (false: none). */
size_t seccomp_supported_flags (const char **out, size_t max);
bool seccomp_library_version (char *buf, size_t len);

#endif

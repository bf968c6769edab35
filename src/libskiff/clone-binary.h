/* CVE-2019-5736: a process of the container must never get a writable
   handle on the runtime's binary on the host.

   The container can reach the runtime's image through /proc/<pid>/exe of
   every process that enters it before exec (the init, exec's setup
   process), and through /proc/self/exe when it makes such a process exec
   itself (a `#!/proc/self/exe` script as the command of `exec`).  Holding
   an O_PATH handle, it could reopen the file for writing once the runtime
   exits and replace the host's skiff.

   So the commands that put a process into a container run from an image
   the container cannot write: a sealed memfd copy of the binary, unless
   the binary already is one or lives on a read-only mount, in which case
   the copy is skipped (writes through the magic link fail with EROFS, and
   the container cannot remount a mount of another mount namespace). */
#ifndef SKIFF_CLONE_BINARY_H
#define SKIFF_CLONE_BINARY_H

#include "error.h"

enum clone_binary_state
{
  CLONE_BINARY_SEALED,   /* running from a sealed memfd */
  CLONE_BINARY_READONLY, /* running from a read-only mount */
  CLONE_BINARY_WRITABLE, /* running from a file the container could write */
};

/* What protects the image this process runs from. */
int clone_binary_state (enum clone_binary_state *out, skiff_error_t *err);

/* Make sure this process runs from a protected image: returns 0 when it
   already does, otherwise re-executes itself from a sealed memfd copy with
   the same argv and environment (and does not return).  Returns -1 with
   *err set when the copy cannot be made or executed: the caller must not
   go on to create or enter a container. */
int clone_binary_ensure (char **argv, skiff_error_t *err);

#endif

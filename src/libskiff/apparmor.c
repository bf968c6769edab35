/* AppArmor: the kernel interface needs no library.  A profile is applied
   by writing "exec <profile>" to the process's attr file (label.c); the
   switch happens at its next execve. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"

#include "label.h"

/* The LSM is active: compiled in and on the kernel's lsm= list. */
bool
apparmor_host_enabled (void)
{
  char c = 'N';
  int fd = open ("/sys/module/apparmor/parameters/enabled", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  if (read (fd, &c, 1) != 1)
    c = 'N';
  close (fd);
  return c == 'Y';
}

/* Whether the kernel has a profile of that name loaded, from securityfs's
   list ("name (mode)" lines).  Unknown (no securityfs, a stacked or
   namespaced name) counts as loaded: the write at exec time decides. */
bool
apparmor_profile_loaded (const char *name)
{
  if (strcmp (name, "unconfined") == 0 || strpbrk (name, ":&") || strstr (name, "//"))
    return true;
  cleanup_fclose FILE *f = fopen ("/sys/kernel/security/apparmor/profiles", "re");
  if (f == NULL)
    return true;
  cleanup_free char *line = NULL;
  size_t cap = 0, n = strlen (name);
  while (getline (&line, &cap, f) > 0)
    if (strncmp (line, name, n) == 0 && strncmp (line + n, " (", 2) == 0)
      return true;
  return false;
}

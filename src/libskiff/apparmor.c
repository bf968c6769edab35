/* AppArmor: the kernel interface needs no library.  A profile is applied
   by writing "exec <profile>" to the process's attr file (label.c); the
   switch happens at its next execve. */
#include "config.h"

#include <fcntl.h>
#include <unistd.h>

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

#include "config.h"
#include "sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "cleanup.h"
#include "fsutil.h"

/* Which namespace owns a sysctl (after the kernel's own split). */
static int
owner_ns (const char *name)
{
  static const char *const ipc[]
      = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",          "kernel.sem", "kernel.shmall",
          "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced", NULL };
  for (size_t i = 0; ipc[i]; i++)
    if (strcmp (name, ipc[i]) == 0)
      return CLONE_NEWIPC;
  if (strncmp (name, "fs.mqueue.", 10) == 0)
    return CLONE_NEWIPC;
  if (strncmp (name, "net.", 4) == 0)
    return CLONE_NEWNET;
  if (strcmp (name, "kernel.hostname") == 0 || strcmp (name, "kernel.domainname") == 0)
    return CLONE_NEWUTS;
  return 0;
}

/* Both "net.ipv4.ip_forward" and "net/ipv4/ip_forward" name a sysctl. */
static int
sysctl_dotted (const char *name, char *out, size_t len)
{
  size_t n = strlen (name);
  if (n >= len)
    return -1;
  for (size_t i = 0; i <= n; i++)
    out[i] = name[i] == '/' ? '.' : name[i];
  return 0;
}

/* Whether this kernel has the sysctl: the container's new namespace has
   the host's set, but for the keys of network devices, which exist only
   where the device does (net.ipv4.conf.eth0 in a fresh netns: not yet). */
static bool
sysctl_known (const char *dotted)
{
  static const char *const per_device[]
      = { "net.ipv4.conf.", "net.ipv6.conf.", "net.ipv4.neigh.", "net.ipv6.neigh." };
  for (size_t i = 0; i < sizeof per_device / sizeof *per_device; i++)
    if (strncmp (dotted, per_device[i], strlen (per_device[i])) == 0)
      return true;
  char path[300];
  snprintf (path, sizeof path, "/proc/sys/%s", dotted);
  for (char *c = path + 10; *c; c++)
    *c = *c == '.' ? '/' : *c;
  return access (path, F_OK) == 0;
}

/* Whether s is blank-separated integers ("1", "32768 60999", "-1"). */
static bool
all_integers (const char *s)
{
  bool digit = false;
  for (const char *p = s; *p; p++)
    {
      if (*p >= '0' && *p <= '9')
        digit = true;
      else if (*p == '-' && (p == s || p[-1] == ' ' || p[-1] == '\t') && p[1] >= '0' && p[1] <= '9')
        continue;
      else if (*p != ' ' && *p != '\t' && *p != '\n')
        return false;
    }
  return digit;
}

/* What the kernel would refuse at the write, told before create: a value
   that is not a number for a sysctl whose value is numbers now. */
static int
sysctl_value_check (const char *dotted, const char *value, skiff_error_t *err)
{
  char path[300];
  snprintf (path, sizeof path, "/proc/sys/%s", dotted);
  for (char *c = path + 10; *c; c++)
    *c = *c == '.' ? '/' : *c;
  cleanup_free char *now = NULL;
  if (read_file_at (AT_FDCWD, path, &now, NULL, NULL) < 0 || !all_integers (now)
      || all_integers (value))
    return 0;
  return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                               "linux.sysctl[\"%s\"]: `%.64s` is not a number, and this sysctl "
                               "takes numbers",
                               dotted, value);
}

/* kernel.hostname and kernel.domainname are what sethostname(2) and
   setdomainname(2) set, and the sysctls are written after them.  As
   runc: kernel.hostname is refused (the hostname field is the way to set
   it); kernel.domainname alone is accepted (Docker sets the NIS domain
   that way, the field being newer), but not beside a domainname field
   that says something else. */
static int
sysctl_uts_check (const oci_config *c, const char *dotted, const char *value, skiff_error_t *err)
{
  if (strcmp (dotted, "kernel.hostname") == 0 && c->hostname)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.sysctl[\"kernel.hostname\"]: `%.64s` conflicts with "
                                 "hostname `%s`: set the hostname in one place",
                                 value, c->hostname);
  if (strcmp (dotted, "kernel.hostname") == 0)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.sysctl[\"kernel.hostname\"]: conflicts with the hostname "
                                 "field, which is the way to set it (as with runc)");
  if (strcmp (dotted, "kernel.domainname") == 0 && c->domainname
      && strcmp (value, c->domainname) != 0)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.sysctl[\"kernel.domainname\"]: `%.64s` conflicts with "
                                 "domainname `%s`: set the domain name in one place",
                                 value, c->domainname);
  return 0;
}

int
sysctl_validate (const oci_config *c, const struct ns_plan *ns, skiff_error_t *err)
{
  const oci_linux *l = c->linux;
  if (l == NULL || l->sysctl == NULL)
    return 0;
  for (size_t i = 0; i < l->sysctl->len; i++)
    {
      char k[256];
      if (sysctl_dotted (l->sysctl->keys[i], k, sizeof k) < 0)
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "linux.sysctl[\"%s\"]: name too long", l->sysctl->keys[i]);
      int flag = owner_ns (k);
      if (strstr (k, "..") || k[0] == '.')
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "linux.sysctl[\"%s\"]: invalid name", k);
      if (flag == 0)
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "linux.sysctl[\"%s\"]: not owned by a namespace of the "
                                     "container; it would change the host",
                                     k);
      if (!(ns->new_flags & flag))
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "linux.sysctl[\"%s\"]: needs a new %s namespace", k,
                                     ns_type_name (flag));
      if (flag == CLONE_NEWUTS && sysctl_uts_check (c, k, l->sysctl->values[i], err) < 0)
        return -1;
      if (!sysctl_known (k))
        return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, 0,
                                     "linux.sysctl[\"%s\"]: this kernel has no such sysctl", k);
      if (sysctl_value_check (k, l->sysctl->values[i], err) < 0)
        return -1;
    }
  return 0;
}

int
sysctl_apply (const oci_linux *l, skiff_error_t *err)
{
  if (l == NULL || l->sysctl == NULL || l->sysctl->len == 0)
    return 0;
  cleanup_close int dir = open ("/proc/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);
  struct statfs st;
  if (dir < 0 || fstatfs (dir, &st) < 0 || st.f_type != PROC_SUPER_MAGIC)
    return skiff_error (err, dir < 0 ? errno : EXDEV, "linux.sysctl: /proc/sys is not procfs");
  for (size_t i = 0; i < l->sysctl->len; i++)
    {
      char rel[512];
      const char *k = l->sysctl->keys[i], *v = l->sysctl->values[i];
      size_t n = strlen (k);
      if (n >= sizeof rel)
        return skiff_error (err, ENAMETOOLONG, "linux.sysctl[\"%s\"]", k);
      for (size_t j = 0; j <= n; j++)
        rel[j] = k[j] == '.' ? '/' : k[j];
      cleanup_close int fd = openat (dir, rel, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return skiff_error (err, errno, "linux.sysctl[\"%s\"]: open /proc/sys/%s", k, rel);
      int r = write_all_fd (fd, v, strlen (v));
      if (r < 0)
        return skiff_error (err, -r, "linux.sysctl[\"%s\"]: write `%s`", k, v);
    }
  return 0;
}

/* LSM labels of the container's processes: see label.h. */
#include "config.h"
#include "label.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"

/* The raw SELinux process label that label_check_config() approved, for
   the processes the runtime forks afterwards (they share this memory). */
static const char *checked_label;
static char *checked_label_raw;

static bool
set (const char *s)
{
  return s && *s;
}

int
label_check_config (const oci_process *p, const oci_linux *l, skiff_error_t *err)
{
  if (p && set (p->selinux_label))
    {
      char *raw = NULL;
      if (selinux_check_label ("process.selinuxLabel", p->selinux_label, &raw, err) < 0)
        return -1;
      free (checked_label_raw);
      checked_label_raw = raw;
      checked_label = p->selinux_label;
    }
  if (l && set (l->mount_label))
    {
      cleanup_free char *raw = NULL;
      if (selinux_check_label ("linux.mountLabel", l->mount_label, &raw, err) < 0)
        return -1;
    }
  if (p && set (p->apparmor_profile) && !apparmor_host_enabled ())
    return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, 0,
                                 "process.apparmorProfile `%s`: AppArmor is not enabled on this "
                                 "host; remove the profile from the config",
                                 p->apparmor_profile);
  /* Applied only after start: catch a missing profile now. */
  if (p && set (p->apparmor_profile) && !apparmor_profile_loaded (p->apparmor_profile))
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, ENOENT,
                                 "process.apparmorProfile `%s`: no such profile is loaded "
                                 "(apparmor_parser -r PROFILE-FILE loads one)",
                                 p->apparmor_profile);
  return 0;
}

static const char *
selinux_label_of (const oci_process *p)
{
  if (p->selinux_label == checked_label && checked_label_raw)
    return checked_label_raw;
  return p->selinux_label;
}

static int
open_attr (int procfd, const char *field, const char *sub, skiff_error_t *err)
{
  int fd = fs_procfs_open_at (procfd, sub, O_WRONLY | O_CLOEXEC, err);
  if (fd < 0)
    return skiff_error_wrap (err, "%s", field);
  return fd;
}

int
label_exec_prepare (const oci_process *p, struct label_exec *x, skiff_error_t *err)
{
  *x = (struct label_exec)LABEL_EXEC_INIT;
  bool se = set (p->selinux_label), aa = set (p->apparmor_profile);
  if (!se && !aa)
    return 0;
  const char *field = se ? "process.selinuxLabel" : "process.apparmorProfile";
  cleanup_close int proc = fs_open_procfs ("/proc", err);
  if (proc < 0)
    return skiff_error_wrap (err, "%s: the container's /proc", field);
  if (se)
    {
      x->selinux = selinux_label_of (p);
      x->selinux_fd = open_attr (proc, field, "thread-self/attr/exec", err);
      if (x->selinux_fd < 0)
        return -1;
    }
  if (aa)
    {
      x->apparmor = p->apparmor_profile;
      /* The LSM's own directory (5.8+), else the major LSM's file. */
      x->apparmor_fd
          = fs_procfs_open_at (proc, "thread-self/attr/apparmor/exec", O_WRONLY | O_CLOEXEC, err);
      if (x->apparmor_fd < 0 && (*err)->errno_ == ENOENT)
        {
          skiff_error_free (err);
          x->apparmor_fd
              = open_attr (proc, "process.apparmorProfile", "thread-self/attr/exec", err);
        }
      else if (x->apparmor_fd < 0)
        skiff_error_wrap (err, "process.apparmorProfile");
      if (x->apparmor_fd < 0)
        {
          label_exec_release (x);
          return -1;
        }
    }
  return 0;
}

static int
write_attr (int fd, const char *buf, size_t len)
{
  ssize_t n = write (fd, buf, len);
  if (n < 0)
    return -1;
  if ((size_t)n != len)
    {
      errno = EIO;
      return -1;
    }
  return 0;
}

int
label_exec_apply (struct label_exec *x, skiff_error_t *err)
{
  int ret = 0;
  /* With the terminating NUL, as libselinux writes it. */
  if (x->selinux_fd >= 0 && write_attr (x->selinux_fd, x->selinux, strlen (x->selinux) + 1) < 0)
    ret = skiff_error (err, errno, "process.selinuxLabel `%s`: set the exec label", x->selinux);
  if (ret == 0 && x->apparmor_fd >= 0)
    {
      cleanup_free char *cmd = NULL;
      if (asprintf (&cmd, "exec %s", x->apparmor) < 0)
        abort ();
      if (write_attr (x->apparmor_fd, cmd, strlen (cmd)) < 0)
        ret = skiff_error (err, errno,
                           errno == ENOENT ? "process.apparmorProfile `%s`: no such profile loaded"
                                           : "process.apparmorProfile `%s`: change profile on exec",
                           x->apparmor);
    }
  label_exec_release (x);
  return ret;
}

void
label_exec_release (struct label_exec *x)
{
  if (x->selinux_fd >= 0)
    close (x->selinux_fd);
  if (x->apparmor_fd >= 0)
    close (x->apparmor_fd);
  x->selinux_fd = x->apparmor_fd = -1;
}

int
label_keyring (const oci_process *p, skiff_error_t *err)
{
  static bool labelled;
  /* Only a label label_check_config() approved: SELinux is on. */
  const char *l
      = p && set (p->selinux_label) && p->selinux_label == checked_label ? checked_label_raw : NULL;
  if (l == NULL && !(p == NULL && labelled))
    return 0;
  cleanup_close int proc = fs_open_procfs ("/proc", err);
  if (proc < 0)
    return skiff_error_wrap (err, "process.selinuxLabel: label the session keyring");
  cleanup_close int fd
      = fs_procfs_open_at (proc, "thread-self/attr/keycreate", O_WRONLY | O_CLOEXEC, err);
  if (fd < 0)
    return skiff_error_wrap (err, "process.selinuxLabel: label the session keyring");
  /* An empty write resets it to the default. */
  if (write (fd, l ? l : "", l ? strlen (l) + 1 : 0) < 0)
    return skiff_error (err, errno, "process.selinuxLabel `%s`: label the session keyring",
                        l ? l : "");
  labelled = l != NULL;
  return 0;
}

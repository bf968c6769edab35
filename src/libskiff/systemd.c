/* The D-Bus half of the systemd cgroup driver (built with libsystemd):
   StartTransientUnit of a scope holding the container's init, StopUnit.

   libsystemd is loaded with dlopen, and only when the driver talks to
   systemd: linked the usual way, it and its dependencies (libgcrypt,
   liblzma, libzstd, liblz4, libgpg-error) would be mapped and relocated at
   every start of the runtime, twice for the commands that re-execute from
   a protected image (see docs/performance.md). */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <systemd/sd-bus.h>

#include "build-features.h"
#include "cgroup/systemd.h"
#include "cleanup.h"

const char skiff_feature_systemd[] = "+SYSTEMD";

bool
skiff_systemd_running (void)
{
  return access ("/run/systemd/system", F_OK) == 0;
}

struct libsystemd
{
  __typeof__ (&sd_bus_call) call;
  __typeof__ (&sd_bus_call_method) call_method;
  __typeof__ (&sd_bus_error_free) error_free;
  __typeof__ (&sd_bus_error_has_name) error_has_name;
  __typeof__ (&sd_bus_flush_close_unref) flush_close_unref;
  __typeof__ (&sd_bus_message_append) message_append;
  __typeof__ (&sd_bus_message_append_array) message_append_array;
  __typeof__ (&sd_bus_message_close_container) message_close_container;
  __typeof__ (&sd_bus_message_new_method_call) message_new_method_call;
  __typeof__ (&sd_bus_message_open_container) message_open_container;
  __typeof__ (&sd_bus_message_unref) message_unref;
  __typeof__ (&sd_bus_open_system) open_system;
};

/* Filled by libsystemd (); a bus or message exists only once it was. */
static struct libsystemd sd;

static int
libsystemd (skiff_error_t *err)
{
  static int state; /* 0 not tried, 1 loaded, -1 missing */
  static char why[256];
  if (state == 0)
    {
      struct libsystemd lib;
      void *h = dlopen ("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
      state = -1;
      if (h)
        {
          *(void **)&lib.call = dlsym (h, "sd_bus_call");
          *(void **)&lib.call_method = dlsym (h, "sd_bus_call_method");
          *(void **)&lib.error_free = dlsym (h, "sd_bus_error_free");
          *(void **)&lib.error_has_name = dlsym (h, "sd_bus_error_has_name");
          *(void **)&lib.flush_close_unref = dlsym (h, "sd_bus_flush_close_unref");
          *(void **)&lib.message_append = dlsym (h, "sd_bus_message_append");
          *(void **)&lib.message_append_array = dlsym (h, "sd_bus_message_append_array");
          *(void **)&lib.message_close_container = dlsym (h, "sd_bus_message_close_container");
          *(void **)&lib.message_new_method_call = dlsym (h, "sd_bus_message_new_method_call");
          *(void **)&lib.message_open_container = dlsym (h, "sd_bus_message_open_container");
          *(void **)&lib.message_unref = dlsym (h, "sd_bus_message_unref");
          *(void **)&lib.open_system = dlsym (h, "sd_bus_open_system");
          if (lib.call && lib.call_method && lib.error_free && lib.error_has_name
              && lib.flush_close_unref && lib.message_append && lib.message_append_array
              && lib.message_close_container && lib.message_new_method_call
              && lib.message_open_container && lib.message_unref && lib.open_system)
            {
              sd = lib;
              state = 1;
            }
        }
      if (state < 0)
        snprintf (why, sizeof why, "%s", h ? "symbols missing" : dlerror ());
    }
  if (state < 0)
    return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, 0,
                                 "--systemd-cgroup: cannot load libsystemd.so.0: %s", why);
  return 0;
}

static void
bus_unrefp (sd_bus **b)
{
  if (*b)
    sd.flush_close_unref (*b);
}

static void
msg_unrefp (sd_bus_message **m)
{
  if (*m)
    sd.message_unref (*m);
}

#define cleanup_bus __attribute__ ((cleanup (bus_unrefp)))
#define cleanup_msg __attribute__ ((cleanup (msg_unrefp)))

static int
append_prop (sd_bus_message *m, const struct sd_prop *p)
{
  switch (p->type)
    {
    case 't':
      return sd.message_append (m, "(sv)", p->name, "t", p->u);
    case 'b':
      return sd.message_append (m, "(sv)", p->name, "b", (int)(p->u != 0));
    default:
      {
        int r = sd.message_open_container (m, 'r', "sv");
        if (r >= 0)
          r = sd.message_append (m, "s", p->name);
        if (r >= 0)
          r = sd.message_open_container (m, 'v', "ay");
        if (r >= 0)
          r = sd.message_append_array (m, 'y', p->bytes, p->nbytes);
        if (r >= 0)
          r = sd.message_close_container (m);
        if (r >= 0)
          r = sd.message_close_container (m);
        return r;
      }
    }
}

/* The job is done once the pid shows up in the scope's cgroup. */
static int
wait_in_scope (pid_t pid, const char *unit)
{
  char p[64], buf[4096];
  snprintf (p, sizeof p, "/proc/%d/cgroup", (int)pid);
  for (int i = 0; i < 500; i++)
    {
      FILE *f = fopen (p, "re");
      size_t n = f ? fread (buf, 1, sizeof buf - 1, f) : 0;
      if (f)
        fclose (f);
      buf[n] = '\0';
      if (f == NULL)
        return -ESRCH;
      if (strstr (buf, unit))
        return 0;
      poll (NULL, 0, 10);
    }
  return -ETIMEDOUT;
}

int
skiff_systemd_start_scope (const struct sd_unit_name *n, pid_t pid, const struct sd_prop *p,
                           size_t np, skiff_error_t *err)
{
  cleanup_bus sd_bus *bus = NULL;
  cleanup_msg sd_bus_message *m = NULL, *reply = NULL;
  sd_bus_error e = SD_BUS_ERROR_NULL;
  if (libsystemd (err) < 0)
    return -1;
  int r = sd.open_system (&bus);
  if (r < 0)
    return skiff_error (err, -r, "--systemd-cgroup: connect to the system bus");
  r = sd.message_new_method_call (bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                  "org.freedesktop.systemd1.Manager", "StartTransientUnit");
  if (r >= 0)
    r = sd.message_append (m, "ss", n->unit, "replace");
  if (r >= 0)
    r = sd.message_open_container (m, 'a', "(sv)");
  if (r >= 0)
    r = sd.message_append (m, "(sv)(sv)(sv)(sv)(sv)", "Description", "s", "skiff container",
                           "Slice", "s", n->slice, "Delegate", "b", 1, "DefaultDependencies", "b",
                           0, "PIDs", "au", 1, (uint32_t)pid);
  if (r >= 0)
    r = sd.message_append (m, "(sv)(sv)(sv)(sv)", "MemoryAccounting", "b", 1, "CPUAccounting", "b",
                           1, "IOAccounting", "b", 1, "TasksAccounting", "b", 1);
  for (size_t i = 0; r >= 0 && i < np; i++)
    r = append_prop (m, &p[i]);
  if (r >= 0)
    r = sd.message_close_container (m);
  if (r >= 0)
    r = sd.message_append (m, "a(sa(sv))", 0);
  if (r < 0)
    return skiff_error (err, -r, "--systemd-cgroup: build the StartTransientUnit call");
  r = sd.call (bus, m, 0, &e, &reply);
  if (r < 0)
    {
      skiff_error (err, -r, "--systemd-cgroup: start unit `%s` in `%s`: %s", n->unit, n->slice,
                   e.message ? e.message : "D-Bus error");
      sd.error_free (&e);
      return -1;
    }
  r = wait_in_scope (pid, n->unit);
  if (r < 0)
    return skiff_error (err, -r, "--systemd-cgroup: pid %d did not land in `%s`", (int)pid,
                        n->unit);
  return 0;
}

int
skiff_systemd_stop_unit (const char *unit, skiff_error_t *err)
{
  cleanup_bus sd_bus *bus = NULL;
  sd_bus_error e = SD_BUS_ERROR_NULL;
  if (libsystemd (err) < 0)
    return -1;
  int r = sd.open_system (&bus);
  if (r < 0)
    return skiff_error (err, -r, "--systemd-cgroup: connect to the system bus");
  r = sd.call_method (bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                      "org.freedesktop.systemd1.Manager", "StopUnit", &e, NULL, "ss", unit,
                      "replace");
  if (r < 0 && !sd.error_has_name (&e, "org.freedesktop.systemd1.NoSuchUnit"))
    {
      skiff_error (err, -r, "--systemd-cgroup: stop unit `%s`: %s", unit,
                   e.message ? e.message : "D-Bus error");
      sd.error_free (&e);
      return -1;
    }
  sd.error_free (&e);
  return 0;
}

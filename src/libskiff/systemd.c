/* The D-Bus half of the systemd cgroup driver (built with libsystemd):
   StartTransientUnit of a scope holding the container's init, StopUnit. */
#include "config.h"

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

static void
bus_unrefp (sd_bus **b)
{
  sd_bus_flush_close_unref (*b);
}

static void
msg_unrefp (sd_bus_message **m)
{
  sd_bus_message_unref (*m);
}

#define cleanup_bus __attribute__ ((cleanup (bus_unrefp)))
#define cleanup_msg __attribute__ ((cleanup (msg_unrefp)))

static int
append_prop (sd_bus_message *m, const struct sd_prop *p)
{
  switch (p->type)
    {
    case 't':
      return sd_bus_message_append (m, "(sv)", p->name, "t", p->u);
    case 'b':
      return sd_bus_message_append (m, "(sv)", p->name, "b", (int)(p->u != 0));
    default:
      {
        int r = sd_bus_message_open_container (m, 'r', "sv");
        if (r >= 0)
          r = sd_bus_message_append (m, "s", p->name);
        if (r >= 0)
          r = sd_bus_message_open_container (m, 'v', "ay");
        if (r >= 0)
          r = sd_bus_message_append_array (m, 'y', p->bytes, p->nbytes);
        if (r >= 0)
          r = sd_bus_message_close_container (m);
        if (r >= 0)
          r = sd_bus_message_close_container (m);
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
  int r = sd_bus_open_system (&bus);
  if (r < 0)
    return skiff_error (err, -r, "--systemd-cgroup: connect to the system bus");
  r = sd_bus_message_new_method_call (bus, &m, "org.freedesktop.systemd1",
                                      "/org/freedesktop/systemd1",
                                      "org.freedesktop.systemd1.Manager", "StartTransientUnit");
  if (r >= 0)
    r = sd_bus_message_append (m, "ss", n->unit, "replace");
  if (r >= 0)
    r = sd_bus_message_open_container (m, 'a', "(sv)");
  if (r >= 0)
    r = sd_bus_message_append (m, "(sv)(sv)(sv)(sv)(sv)", "Description", "s", "skiff container",
                               "Slice", "s", n->slice, "Delegate", "b", 1, "DefaultDependencies",
                               "b", 0, "PIDs", "au", 1, (uint32_t)pid);
  if (r >= 0)
    r = sd_bus_message_append (m, "(sv)(sv)(sv)(sv)", "MemoryAccounting", "b", 1, "CPUAccounting",
                               "b", 1, "IOAccounting", "b", 1, "TasksAccounting", "b", 1);
  for (size_t i = 0; r >= 0 && i < np; i++)
    r = append_prop (m, &p[i]);
  if (r >= 0)
    r = sd_bus_message_close_container (m);
  if (r >= 0)
    r = sd_bus_message_append (m, "a(sa(sv))", 0);
  if (r < 0)
    return skiff_error (err, -r, "--systemd-cgroup: build the StartTransientUnit call");
  r = sd_bus_call (bus, m, 0, &e, &reply);
  if (r < 0)
    {
      skiff_error (err, -r, "--systemd-cgroup: start unit `%s` in `%s`: %s", n->unit, n->slice,
                   e.message ? e.message : "D-Bus error");
      sd_bus_error_free (&e);
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
  int r = sd_bus_open_system (&bus);
  if (r < 0)
    return skiff_error (err, -r, "--systemd-cgroup: connect to the system bus");
  r = sd_bus_call_method (bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                          "org.freedesktop.systemd1.Manager", "StopUnit", &e, NULL, "ss", unit,
                          "replace");
  if (r < 0 && !sd_bus_error_has_name (&e, "org.freedesktop.systemd1.NoSuchUnit"))
    {
      skiff_error (err, -r, "--systemd-cgroup: stop unit `%s`: %s", unit,
                   e.message ? e.message : "D-Bus error");
      sd_bus_error_free (&e);
      return -1;
    }
  sd_bus_error_free (&e);
  return 0;
}

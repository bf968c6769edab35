/* linux.netDevices: each host device is moved into the container's network
   namespace and renamed in one RTM_NEWLINK; the kernel flushes its
   addresses on the way, so the permanent global ones are read before and
   added again after (the spec's rule), and the device is set up.  It is
   never moved back by delete: its lifecycle belongs to the owner of the
   namespace (a virtual device dies with it, a physical one returns to the
   init namespace).  Only a create that fails returns what it moved. */
#include "config.h"
#include "netdevices.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"

#define LOOPBACK_IFINDEX 1

const char *
netdev_target_name (const oci_linux *l, size_t i)
{
  const oci_net_device *d = l->net_devices->values[i];
  return d && d->name && *d->name ? d->name : l->net_devices->keys[i];
}

/* The kernel's rule for a device name (dev_valid_name), plus one "%d"
   where a template is allowed. */
static const char *
ifname_problem (const char *name, bool template_ok)
{
  size_t n = strlen (name);
  if (n == 0)
    return "empty";
  if (n >= IFNAMSIZ)
    return "longer than 15 bytes";
  if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return "not a name";
  for (const char *p = name; *p; p++)
    if (*p == '/' || *p == ':' || isspace ((unsigned char)*p))
      return "has '/', ':' or white space";
  const char *pct = strchr (name, '%');
  if (pct && !template_ok)
    return "has a '%'";
  if (pct && (pct[1] != 'd' || strchr (pct + 2, '%')))
    return "has a '%' that is not one \"%d\" template";
  return NULL;
}

static bool
same_file (int fd, const char *path)
{
  struct stat a, b;
  return fstat (fd, &a) == 0 && stat (path, &b) == 0 && a.st_dev == b.st_dev
         && a.st_ino == b.st_ino;
}

int
netdev_validate_netns (const oci_linux *l, const struct ns_plan *ns, skiff_error_t *err)
{
  if (!netdev_any (l))
    return 0;
  if (!ns_plan_has (ns, CLONE_NEWNET))
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.netDevices: moving network devices needs a network "
                                 "namespace in linux.namespaces");
  for (size_t i = 0; i < ns->njoin; i++)
    if (ns->join[i].flag == CLONE_NEWNET && same_file (ns->join[i].fd, "/proc/self/ns/net"))
      return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                   "linux.netDevices: the network namespace to join (`%s`) is "
                                   "the runtime's own: the devices would not leave the host",
                                   ns->join[i].path);
  return 0;
}

int
netdev_validate_entry (const oci_linux *l, size_t i, skiff_error_t *err)
{
  const char *key = l->net_devices->keys[i], *target = netdev_target_name (l, i);
  bool renamed = target != key;
  const char *why = ifname_problem (key, false);
  if (why)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.netDevices[\"%s\"]: not a network device name: %s", key,
                                 why);
  if (strcmp (key, "lo") == 0)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.netDevices[\"lo\"]: the loopback device cannot leave "
                                 "its network namespace");
  if (renamed && (why = ifname_problem (target, true)) != NULL)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.netDevices[\"%s\"].name: `%s` is not a network device "
                                 "name: %s",
                                 key, target, why);
  const char *field = renamed ? ".name" : "";
  if (strcmp (target, "lo") == 0)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.netDevices[\"%s\"]%s: `lo` is taken in every network "
                                 "namespace",
                                 key, field);
  if (strchr (target, '%'))
    return 0; /* the kernel numbers each one apart */
  for (size_t j = 0; j < i; j++)
    if (strcmp (netdev_target_name (l, j), target) == 0)
      return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                   "linux.netDevices[\"%s\"]%s: `%s` is also the name of "
                                   "linux.netDevices[\"%s\"] in the container",
                                   key, field, target, l->net_devices->keys[j]);
  return 0;
}

int
netdev_validate (const oci_linux *l, const struct ns_plan *ns, skiff_error_t *err)
{
  if (netdev_validate_netns (l, ns, err) < 0)
    return -1;
  for (size_t i = 0; netdev_any (l) && i < l->net_devices->len; i++)
    if (netdev_validate_entry (l, i, err) < 0)
      return -1;
  return 0;
}

bool
netdev_host_has (const char *name)
{
  return if_nametoindex (name) != 0;
}

int
netdev_check_host (const oci_linux *l, skiff_error_t *err)
{
  for (size_t i = 0; netdev_any (l) && i < l->net_devices->len; i++)
    if (!netdev_host_has (l->net_devices->keys[i]))
      return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                   "linux.netDevices[\"%s\"]: no such network device on the host",
                                   l->net_devices->keys[i]);
  return 0;
}

/* The addresses the spec says travel with the device: permanent, of
   global scope.  The others are the kernel's or a daemon's. */
static size_t
keep_permanent_global (struct nl_addr *a, size_t n)
{
  size_t kept = 0;
  for (size_t i = 0; i < n; i++)
    if ((a[i].flags & IFA_F_PERMANENT) && a[i].scope == RT_SCOPE_UNIVERSE)
      a[kept++] = a[i];
  return kept;
}

/* The one index in after that is not in before. */
static int
new_index (const int *before, size_t nb, const int *after, size_t na)
{
  for (size_t i = 0; i < na; i++)
    {
      bool seen = false;
      for (size_t j = 0; j < nb && !seen; j++)
        seen = after[i] == before[j];
      if (!seen)
        return after[i];
    }
  return 0;
}

static int
add_addresses (int fd, int index, const struct nl_addr *a, size_t n, skiff_error_t *err)
{
  for (size_t i = 0; i < n; i++)
    if (nl_addr_add (fd, index, &a[i], err) < 0)
      return -1;
  return 0;
}

/* Record the device as moved (so a failure from here on returns it). */
static int
record (struct netdev_set *set, const char *key, int ctr, int index, bool was_up,
        struct nl_addr **addrs, size_t naddrs, skiff_error_t *err)
{
  struct nl_link l;
  set->dev = realloc (set->dev, (set->len + 1) * sizeof *set->dev);
  if (set->dev == NULL)
    abort ();
  struct netdev_moved *m = &set->dev[set->len++];
  memset (m, 0, sizeof *m);
  m->host_name = key;
  m->index = index;
  m->was_up = was_up;
  m->addrs = steal_pointer (addrs);
  m->naddrs = naddrs;
  snprintf (m->name, sizeof m->name, "#%d", index);
  /* Its name there: the template's number is the kernel's choice. */
  int r = nl_link_by_index (ctr, index, &l, err);
  if (r <= 0)
    return r < 0 ? -1 : skiff_error (err, ENODEV, "the moved device is gone");
  memcpy (m->name, l.name, sizeof m->name);
  return 0;
}

static int
move_into (int host, int ctr, struct netdev_set *set, const char *key, const char *target,
           const struct nl_link *link, skiff_error_t *err)
{
  cleanup_free struct nl_addr *addrs = NULL;
  cleanup_free int *before = NULL, *after = NULL;
  size_t naddrs = 0, nb = 0, na = 0;
  struct nl_link taken;
  if (nl_addr_list (host, link->index, &addrs, &naddrs, err) < 0)
    return -1;
  naddrs = keep_permanent_global (addrs, naddrs);
  /* The spec's "MUST generate an error" when the name is taken there. */
  int r = strchr (target, '%') ? 0 : nl_link_by_name (ctr, target, &taken, err);
  if (r < 0)
    return -1;
  if (r > 0)
    return skiff_error (err, EEXIST,
                        "the container's network namespace already has a device "
                        "named `%s`",
                        target);
  if (nl_link_indexes (ctr, &before, &nb, err) < 0)
    return -1;
  skiff_error_t moved_err = NULL;
  int moved = nl_link_move (host, link->index, target, set->netns_fd, &moved_err);
  /* Even a failed request may have moved it (it renames after moving):
     find it by the index it got there. */
  if (nl_link_indexes (ctr, &after, &na, err) < 0)
    {
      skiff_error_free (&moved_err);
      return -1;
    }
  int index = new_index (before, nb, after, na);
  if (index > 0 && record (set, key, ctr, index, link->flags & IFF_UP, &addrs, naddrs, err) < 0)
    {
      skiff_error_free (&moved_err);
      return -1;
    }
  if (moved < 0)
    {
      *err = moved_err;
      return skiff_error_wrap (err, "move into the container's network namespace as `%s`", target);
    }
  if (index == 0)
    return skiff_error (err, ENODEV, "moved, but not found in the container's network namespace");
  const struct netdev_moved *m = &set->dev[set->len - 1];
  /* The spec: set up once moved, whatever it was on the host. */
  if (add_addresses (ctr, index, m->addrs, m->naddrs, err) < 0 || nl_link_up (ctr, index, err) < 0)
    return -1;
  skiff_debug ("linux.netDevices[\"%s\"]: now `%s` in the container (%zu address%s, mtu %u)", key,
               m->name, m->naddrs, m->naddrs == 1 ? "" : "es", link->mtu);
  return 0;
}

static int
move_one (const oci_linux *l, size_t i, int host, int ctr, struct netdev_set *set,
          skiff_error_t *err)
{
  const char *key = l->net_devices->keys[i];
  struct nl_link link;
  int r = nl_link_by_name (host, key, &link, err);
  if (r == 0)
    skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0, "no such network device on the host");
  if (r <= 0 || move_into (host, ctr, set, key, netdev_target_name (l, i), &link, err) < 0)
    return skiff_error_wrap (err, "linux.netDevices[\"%s\"]", key);
  return 0;
}

int
netdev_move_all (const oci_linux *l, pid_t pid, struct netdev_set *set, skiff_error_t *err)
{
  char path[64];
  if (!netdev_any (l))
    return 0;
  snprintf (path, sizeof path, "/proc/%d/ns/net", (int)pid);
  /* Held open until create ends: if it fails, the devices are still there
     to return, even once the container's processes are gone. */
  set->netns_fd = open (path, O_RDONLY | O_CLOEXEC);
  if (set->netns_fd < 0)
    return skiff_error (err, errno, "linux.netDevices: open `%s`", path);
  set->host_ns_fd = open ("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (set->host_ns_fd < 0)
    return skiff_error (err, errno, "linux.netDevices: open /proc/thread-self/ns/net");
  cleanup_close int host = nl_open (err);
  if (host < 0)
    return skiff_error_wrap (err, "linux.netDevices");
  cleanup_close int ctr = nl_open_in_netns (set->netns_fd, err);
  if (ctr < 0)
    return skiff_error_wrap (err, "linux.netDevices");
  for (size_t i = 0; i < l->net_devices->len; i++)
    if (move_one (l, i, host, ctr, set, err) < 0)
      return -1;
  return 0;
}

static int
return_one (int host, int ctr, int host_ns_fd, const struct netdev_moved *m, skiff_error_t *err)
{
  struct nl_link link;
  if (nl_link_move (ctr, m->index, m->host_name, host_ns_fd, err) < 0)
    return -1;
  int r = nl_link_by_name (host, m->host_name, &link, err);
  if (r <= 0)
    return r < 0 ? -1 : skiff_error (err, ENODEV, "not found on the host once moved back");
  if (add_addresses (host, link.index, m->addrs, m->naddrs, err) < 0)
    return -1;
  return m->was_up ? nl_link_up (host, link.index, err) : 0;
}

void
netdev_return_all (struct netdev_set *set)
{
  skiff_error_t e = NULL;
  if (set->len == 0)
    return;
  cleanup_close int host = nl_open (&e);
  cleanup_close int ctr = host < 0 ? -1 : nl_open_in_netns (set->netns_fd, &e);
  for (size_t i = set->len; ctr >= 0 && i > 0; i--)
    if (return_one (host, ctr, set->host_ns_fd, &set->dev[i - 1], &e) < 0)
      {
        skiff_warn ("cleanup: linux.netDevices[\"%s\"]: return `%s` to the host: %s",
                    set->dev[i - 1].host_name, set->dev[i - 1].name, e->msg);
        skiff_error_free (&e);
      }
  if (e)
    {
      skiff_warn ("cleanup: linux.netDevices: %s", e->msg);
      skiff_error_free (&e);
    }
}

void
netdev_set_release (struct netdev_set *set)
{
  for (size_t i = 0; i < set->len; i++)
    free (set->dev[i].addrs);
  free (set->dev);
  set->dev = NULL;
  set->len = 0;
  if (set->netns_fd >= 0)
    close (set->netns_fd);
  if (set->host_ns_fd >= 0)
    close (set->host_ns_fd);
  set->netns_fd = set->host_ns_fd = -1;
}

int
netdev_loopback_up (skiff_error_t *err)
{
  int fd = nl_open (err);
  if (fd < 0)
    return -1;
  int r = nl_link_up (fd, LOOPBACK_IFINDEX, err);
  close (fd);
  if (r < 0)
    return skiff_error_wrap (err, "set the loopback device up");
  return 0;
}

#include "config.h"
#include "namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct
{
  const char *type, *proc;
  int flag;
} ns_table[] = {
  { "pid", "pid", CLONE_NEWPID },          { "network", "net", CLONE_NEWNET },
  { "mount", "mnt", CLONE_NEWNS },         { "ipc", "ipc", CLONE_NEWIPC },
  { "uts", "uts", CLONE_NEWUTS },          { "user", "user", CLONE_NEWUSER },
  { "cgroup", "cgroup", CLONE_NEWCGROUP }, { "time", "time", CLONE_NEWTIME },
};
#define NS_TABLE_LEN (sizeof ns_table / sizeof *ns_table)

int
ns_flag_from_type (const char *type)
{
  for (size_t i = 0; i < NS_TABLE_LEN; i++)
    if (strcmp (ns_table[i].type, type) == 0)
      return ns_table[i].flag;
  return 0;
}

const char *
ns_proc_name (int flag)
{
  for (size_t i = 0; i < NS_TABLE_LEN; i++)
    if (ns_table[i].flag == flag)
      return ns_table[i].proc;
  return "?";
}

const char *
ns_type_name (int flag)
{
  for (size_t i = 0; i < NS_TABLE_LEN; i++)
    if (ns_table[i].flag == flag)
      return ns_table[i].type;
  return "?";
}

bool
ns_plan_has (const struct ns_plan *plan, int flag)
{
  if (plan->new_flags & flag)
    return true;
  for (size_t i = 0; i < plan->njoin; i++)
    if (plan->join[i].flag == flag)
      return true;
  return false;
}

void
ns_plan_release (struct ns_plan *plan)
{
  for (size_t i = 0; i < plan->njoin; i++)
    {
      if (plan->join[i].fd >= 0)
        close (plan->join[i].fd);
      free (plan->join[i].path);
    }
  plan->njoin = 0;
}

static int
add_join (struct ns_plan *plan, size_t idx, int flag, const char *path, skiff_error_t *err)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, errno,
                                 "linux.namespaces[%zu] (%s): open `%s`", idx, ns_type_name (flag),
                                 path);
  plan->join[plan->njoin].flag = flag;
  plan->join[plan->njoin].fd = fd;
  plan->join[plan->njoin].path = strdup (path);
  plan->njoin++;
  return 0;
}

int
ns_uts_names_check (const oci_config *c, skiff_error_t *err)
{
  /* __NEW_UTS_LEN: what sethostname(2) and setdomainname(2) take */
  const char *key[] = { "hostname", "domainname" };
  const char *val[] = { c->hostname, c->domainname };
  for (int i = 0; i < 2; i++)
    if (val[i] && strlen (val[i]) > 64)
      return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                   "%s: %zu bytes, longer than the kernel's 64", key[i],
                                   strlen (val[i]));
  return 0;
}

int
ns_plan_build (const oci_config *c, struct ns_plan *plan, skiff_error_t *err)
{
  int seen = 0;
  memset (plan, 0, sizeof *plan);
  if (c->linux == NULL)
    return 0;
  for (size_t i = 0; i < c->linux->namespaces_len; i++)
    {
      const oci_namespace *ns = c->linux->namespaces[i];
      int flag = ns_flag_from_type (ns->type);
      if (flag == 0)
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "linux.namespaces[%zu].type: unknown namespace `%s`", i,
                                     ns->type);
      if (seen & flag)
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "linux.namespaces[%zu]: duplicate namespace `%s`", i,
                                     ns->type);
      seen |= flag;
      if (ns->path && *ns->path)
        {
          if (add_join (plan, i, flag, ns->path, err) < 0)
            return -1;
        }
      else
        plan->new_flags |= flag;
    }
  bool maps = c->linux->uid_mappings_len || c->linux->gid_mappings_len;
  if ((plan->new_flags & CLONE_NEWUSER) && !maps)
    return skiff_error_kind_set (
        err, SKIFF_ERR_INVALID_CONFIG, 0,
        "linux.namespaces: a new user namespace needs linux.uidMappings and linux.gidMappings");
  if (c->linux->time_offsets && c->linux->time_offsets->len && !(plan->new_flags & CLONE_NEWTIME))
    return skiff_error_kind_set (
        err, SKIFF_ERR_INVALID_CONFIG, 0,
        "linux.timeOffsets: offsets need a new time namespace in linux.namespaces");
  if (maps && !(plan->new_flags & CLONE_NEWUSER))
    return skiff_error_kind_set (
        err, SKIFF_ERR_INVALID_CONFIG, 0,
        "linux.uidMappings: id mappings need a new user namespace in linux.namespaces");
  return 0;
}

int
ns_join_all (struct ns_plan *plan, skiff_error_t *err)
{
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < plan->njoin; i++)
      {
        struct ns_join *j = &plan->join[i];
        if ((j->flag == CLONE_NEWUSER) != (pass == 1))
          continue;
        if (setns (j->fd, j->flag) < 0)
          return skiff_error (err, errno, "join %s namespace `%s`", ns_type_name (j->flag),
                              j->path);
      }
  return 0;
}

/* linux.memoryPolicy (runtime-spec 1.3): set_mempolicy(2) for the
   container's processes, raw (no libnuma).

   The kernel accepts some policies it then applies only in part, without
   a word: nodes that are not online or have no memory are left out of a
   bind or an interleave set, MPOL_PREFERRED keeps the first of several
   nodes, MPOL_DEFAULT ignores the node flags, and nodes outside the
   cpuset are dropped.  Each of those is refused here, naming the key, so
   the container gets the policy it asked for or create fails.  The
   numbers below are the kernel's uapi (include/uapi/linux/mempolicy.h);
   the libc headers of older systems lack the newer ones. */
#include "config.h"
#include "mempolicy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"

#define MPOL_DEFAULT 0
#define MPOL_PREFERRED 1
#define MPOL_BIND 2
#define MPOL_INTERLEAVE 3
#define MPOL_LOCAL 4
#define MPOL_PREFERRED_MANY 5
#define MPOL_WEIGHTED_INTERLEAVE 6
#define MPOL_F_STATIC_NODES (1 << 15)
#define MPOL_F_RELATIVE_NODES (1 << 14)
#define MPOL_F_NUMA_BALANCING (1 << 13)
#define MPOL_F_MEMS_ALLOWED (1 << 2) /* get_mempolicy: the cpuset's nodes */

#define WORD_BITS (8 * sizeof (unsigned long))

static const struct
{
  const char *name;
  int mode;
  bool needs_nodes, takes_no_nodes;
} modes[] = {
  { "MPOL_DEFAULT", MPOL_DEFAULT, false, true },
  { "MPOL_PREFERRED", MPOL_PREFERRED, false, false },
  { "MPOL_BIND", MPOL_BIND, true, false },
  { "MPOL_INTERLEAVE", MPOL_INTERLEAVE, true, false },
  { "MPOL_LOCAL", MPOL_LOCAL, false, true },
  { "MPOL_PREFERRED_MANY", MPOL_PREFERRED_MANY, true, false },
  { "MPOL_WEIGHTED_INTERLEAVE", MPOL_WEIGHTED_INTERLEAVE, true, false },
};

static const struct
{
  const char *name;
  int flag;
} flag_names[] = {
  { "MPOL_F_NUMA_BALANCING", MPOL_F_NUMA_BALANCING },
  { "MPOL_F_RELATIVE_NODES", MPOL_F_RELATIVE_NODES },
  { "MPOL_F_STATIC_NODES", MPOL_F_STATIC_NODES },
};

static const char *
mode_name (int mode)
{
  for (size_t i = 0; i < sizeof modes / sizeof *modes; i++)
    if (modes[i].mode == mode)
      return modes[i].name;
  return "?";
}

static bool
has_node (const unsigned long *mask, long n)
{
  return mask[n / WORD_BITS] >> (n % WORD_BITS) & 1;
}

static int
count_nodes (const unsigned long *mask)
{
  int n = 0;
  for (size_t i = 0; i < MEMPOLICY_WORDS; i++)
    n += __builtin_popcountl (mask[i]);
  return n;
}

static bool
parse_number (const char **s, long *out)
{
  long v = 0;
  if (**s < '0' || **s > '9')
    return false;
  for (; **s >= '0' && **s <= '9'; (*s)++)
    if ((v = v * 10 + (**s - '0')) > MEMPOLICY_MAX_NODES)
      v = MEMPOLICY_MAX_NODES; /* stays too large, without overflow */
  *out = v;
  return true;
}

/* "0-3,7" into mask, with the newline sysfs ends it with when sysfs.
   0, or -1 when s is not such a list, or -2 with *bad pointing at a node
   beyond MEMPOLICY_MAX_NODES - 1. */
static int
parse_list (const char *s, bool sysfs, unsigned long *mask, const char **bad)
{
  const char *end = sysfs && strchr (s, '\n') ? strchr (s, '\n') : s + strlen (s);
  memset (mask, 0, MEMPOLICY_WORDS * sizeof *mask);
  if (s == end)
    return 0;
  for (;;)
    {
      long a, b;
      const char *first = s, *last = s;
      if (!parse_number (&s, &a))
        return -1;
      b = a;
      if (*s == '-' && (last = ++s, !parse_number (&s, &b)))
        return -1;
      if (b < a)
        return -1;
      if (b >= MEMPOLICY_MAX_NODES)
        {
          *bad = a >= MEMPOLICY_MAX_NODES ? first : last;
          return -2;
        }
      for (long n = a; n <= b; n++)
        mask[n / WORD_BITS] |= 1UL << (n % WORD_BITS);
      if (s == end)
        return 0;
      if (*s++ != ',')
        return -1;
    }
}

char *
mempolicy_format_nodes (const unsigned long *mask, char *buf, size_t len)
{
  size_t used = 0;
  buf[0] = '\0';
  for (long n = 0; n < MEMPOLICY_MAX_NODES; n++)
    {
      if (!has_node (mask, n))
        continue;
      long end = n;
      while (end + 1 < MEMPOLICY_MAX_NODES && has_node (mask, end + 1))
        end++;
      int w = end > n ? snprintf (buf + used, len - used, "%s%ld-%ld", used ? "," : "", n, end)
                      : snprintf (buf + used, len - used, "%s%ld", used ? "," : "", n);
      if (w < 0 || (size_t)w >= len - used)
        break; /* truncated: enough for a message */
      used += (size_t)w;
      n = end;
    }
  return buf;
}

char *
mempolicy_describe (const struct mempolicy_plan *p, char *buf, size_t len)
{
  char nodes[256];
  size_t used = (size_t)snprintf (buf, len, "%s", mode_name (p->mode));
  const char *sep = ", flags ";
  if (p->last_node >= 0 && used < len)
    used += (size_t)snprintf (buf + used, len - used, ", nodes %s",
                              mempolicy_format_nodes (p->nodes, nodes, sizeof nodes));
  for (size_t i = 0; i < sizeof flag_names / sizeof *flag_names && used < len; i++)
    if (p->flags & flag_names[i].flag)
      {
        used += (size_t)snprintf (buf + used, len - used, "%s%s", sep, flag_names[i].name);
        sep = " ";
      }
  return buf;
}

/* The flags, each known once, and what the kernel refuses of them
   (validate_mpol_flags: static and relative exclude each other, NUMA
   balancing goes with bind and preferred-many). */
static int
parse_flags (const oci_memory_policy *mp, struct mempolicy_plan *out, size_t at[3],
             skiff_error_t *err)
{
  for (size_t i = 0; i < mp->flags_len; i++)
    {
      int flag = 0;
      for (size_t j = 0; j < sizeof flag_names / sizeof *flag_names; j++)
        if (strcmp (mp->flags[i], flag_names[j].name) == 0)
          {
            flag = flag_names[j].flag;
            at[j] = i;
          }
      if (flag == 0)
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "linux.memoryPolicy.flags[%zu]: unknown flag `%s`", i,
                                     mp->flags[i]);
      out->flags |= flag;
      if ((out->flags & MPOL_F_STATIC_NODES) && (out->flags & MPOL_F_RELATIVE_NODES))
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "linux.memoryPolicy.flags[%zu]: MPOL_F_STATIC_NODES and "
                                     "MPOL_F_RELATIVE_NODES exclude each other",
                                     i);
      if (flag == MPOL_F_NUMA_BALANCING && out->mode != MPOL_BIND
          && out->mode != MPOL_PREFERRED_MANY)
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "linux.memoryPolicy.flags[%zu]: MPOL_F_NUMA_BALANCING goes "
                                     "with mode MPOL_BIND or MPOL_PREFERRED_MANY, not %s",
                                     i, mp->mode);
    }
  return 0;
}

/* What each mode needs of nodes and of the node flags (mpol_new). */
static int
check_nodes_for_mode (const oci_memory_policy *mp, const struct mempolicy_plan *out, size_t m,
                      const size_t at[3], skiff_error_t *err)
{
  int node_flag = out->flags & (MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES);
  size_t flag_at = out->flags & MPOL_F_STATIC_NODES ? at[2] : at[1];
  const char *flag
      = node_flag == MPOL_F_STATIC_NODES ? "MPOL_F_STATIC_NODES" : "MPOL_F_RELATIVE_NODES";
  int n = count_nodes (out->nodes);
  if (modes[m].takes_no_nodes && n)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.memoryPolicy.nodes: %s takes no nodes, not `%s`", mp->mode,
                                 mp->nodes);
  if (modes[m].needs_nodes && n == 0)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.memoryPolicy.nodes: %s needs at least one node", mp->mode);
  if (out->mode == MPOL_PREFERRED && n > 1)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.memoryPolicy.nodes: MPOL_PREFERRED takes one node, and the "
                                 "kernel would use only the first of `%s`: MPOL_PREFERRED_MANY "
                                 "takes several",
                                 mp->nodes);
  if (node_flag && n == 0)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.memoryPolicy.flags[%zu]: %s qualifies the nodes, and %s "
                                 "has none",
                                 flag_at, flag, mp->mode);
  return 0;
}

int
mempolicy_parse (const oci_linux *l, struct mempolicy_plan *out, skiff_error_t *err)
{
  const oci_memory_policy *mp = l ? l->memory_policy : NULL;
  size_t at[3] = { 0, 0, 0 }, m;
  const char *bad = "";
  memset (out, 0, sizeof *out);
  out->last_node = -1;
  if (mp == NULL)
    return 0;
  for (m = 0; m < sizeof modes / sizeof *modes; m++)
    if (strcmp (mp->mode, modes[m].name) == 0)
      break;
  if (m == sizeof modes / sizeof *modes)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.memoryPolicy.mode: unknown mode `%s`", mp->mode);
  out->set = true;
  out->mode = modes[m].mode;
  if (parse_flags (mp, out, at, err) < 0)
    return -1;
  switch (parse_list (mp->nodes ? mp->nodes : "", false, out->nodes, &bad))
    {
    case -1:
      return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                   "linux.memoryPolicy.nodes: `%s` is not a list of nodes such as "
                                   "\"0-3,7\"",
                                   mp->nodes);
    case -2:
      return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                   "linux.memoryPolicy.nodes: node %.*s is beyond %d, the largest "
                                   "node number a kernel has",
                                   (int)strspn (bad, "0123456789"), bad, MEMPOLICY_MAX_NODES - 1);
    default:
      break;
    }
  for (long n = MEMPOLICY_MAX_NODES - 1; n >= 0 && out->last_node < 0; n--)
    if (has_node (out->nodes, n))
      out->last_node = (int)n;
  return check_nodes_for_mode (mp, out, m, at, err);
}

int
mempolicy_check_host (const struct mempolicy_plan *p, const char *online, const char *has_memory,
                      skiff_error_t *err)
{
  unsigned long on[MEMPOLICY_WORDS], mem[MEMPOLICY_WORDS];
  char list[256];
  const char *bad;
  /* Relative nodes are positions in the allowed set, folded onto it. */
  if (!p->set || p->last_node < 0 || (p->flags & MPOL_F_RELATIVE_NODES))
    return 0;
  if (parse_list (online, true, on, &bad) < 0)
    return skiff_error (err, EINVAL, "linux.memoryPolicy: this host's online NUMA nodes `%s`",
                        online);
  for (long n = 0; n <= p->last_node; n++)
    if (has_node (p->nodes, n) && !has_node (on, n))
      return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                   "linux.memoryPolicy.nodes: node %ld does not exist on this host "
                                   "(its online nodes: %s)",
                                   n, mempolicy_format_nodes (on, list, sizeof list));
  /* A static nodemask may name nodes the process cannot use yet: they
     take effect when it can (the kernel's documented intent). */
  if (has_memory == NULL || (p->flags & MPOL_F_STATIC_NODES)
      || parse_list (has_memory, true, mem, &bad) < 0)
    return 0;
  for (long n = 0; n <= p->last_node; n++)
    if (has_node (p->nodes, n) && !has_node (mem, n))
      return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                   "linux.memoryPolicy.nodes: node %ld has no memory on this host "
                                   "(its nodes with memory: %s): the kernel would leave it out",
                                   n, mempolicy_format_nodes (mem, list, sizeof list));
  return 0;
}

int
mempolicy_prepare (const oci_linux *l, struct mempolicy_plan *out, skiff_error_t *err)
{
  static const char dir[] = "/sys/devices/system/node";
  cleanup_free char *online = NULL, *mem = NULL;
  skiff_error_t e = NULL;
  if (mempolicy_parse (l, out, err) < 0)
    return -1;
  if (!out->set)
    return 0;
  /* Tests only: a host with other nodes than this one. */
  const char *fake = getenv ("SKIFF_TEST_NUMA_ONLINE");
  if (fake)
    return mempolicy_check_host (out, fake, fake, err);
  cleanup_close int dfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || read_file_at (dfd, "online", &online, NULL, &e) < 0)
    {
      skiff_error_free (&e);
      return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, 0,
                                   "linux.memoryPolicy: this host has no NUMA memory policies (no "
                                   "%s/online: a kernel without CONFIG_NUMA, or no /sys)",
                                   dir);
    }
  if (read_file_at (dfd, "has_memory", &mem, NULL, &e) < 0)
    skiff_error_free (&e);
  return mempolicy_check_host (out, online, mem, err);
}

int
mempolicy_check_allowed (const struct mempolicy_plan *p, const unsigned long *allowed,
                         skiff_error_t *err)
{
  char list[256];
  if (!p->set || (p->flags & (MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES)))
    return 0;
  for (long n = 0; n <= p->last_node; n++)
    if (has_node (p->nodes, n) && !has_node (allowed, n))
      return skiff_error_kind_set (
          err, SKIFF_ERR_INVALID_CONFIG, 0,
          "linux.memoryPolicy.nodes: node %ld is not one the container may use (its cpuset's "
          "nodes: %s): the kernel would leave it out",
          n, mempolicy_format_nodes (allowed, list, sizeof list));
  return 0;
}

/* The kernel's refusal, with what an older kernel lacks. */
static int
apply_error (const struct mempolicy_plan *p, int e, skiff_error_t *err)
{
  const char *why = "";
  if (e == ENOSYS)
    why = " (a kernel without CONFIG_NUMA)";
  else if (e == EINVAL && p->mode == MPOL_WEIGHTED_INTERLEAVE)
    why = " (MPOL_WEIGHTED_INTERLEAVE needs Linux 6.9)";
  else if (e == EINVAL && p->mode == MPOL_PREFERRED_MANY && (p->flags & MPOL_F_NUMA_BALANCING))
    why = " (MPOL_F_NUMA_BALANCING with MPOL_PREFERRED_MANY needs Linux 6.10)";
  else if (e == EINVAL && p->mode == MPOL_PREFERRED_MANY)
    why = " (MPOL_PREFERRED_MANY needs Linux 5.15)";
  else if (e == EINVAL && (p->flags & MPOL_F_NUMA_BALANCING))
    why = " (MPOL_F_NUMA_BALANCING needs Linux 5.12)";
  return skiff_error (err, e, "linux.memoryPolicy: set_mempolicy %s%s", mode_name (p->mode), why);
}

int
mempolicy_apply (const struct mempolicy_plan *p, skiff_error_t *err)
{
  unsigned long allowed[MEMPOLICY_WORDS];
  if (!p->set)
    return 0;
  /* Now that we are in the container's cgroup, its cpuset is ours. */
  if (p->last_node >= 0 && !(p->flags & (MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES)))
    {
      memset (allowed, 0, sizeof allowed);
      if (syscall (SYS_get_mempolicy, NULL, allowed, (unsigned long)MEMPOLICY_MAX_NODES + 1, NULL,
                   MPOL_F_MEMS_ALLOWED)
          < 0)
        return skiff_error (err, errno,
                            "linux.memoryPolicy: get_mempolicy (the nodes the container may use)");
      if (mempolicy_check_allowed (p, allowed, err) < 0)
        return -1;
    }
  /* maxnode counts one more than the bits the kernel reads (get_nodes). */
  unsigned long maxnode = p->last_node >= 0 ? (unsigned long)p->last_node + 2 : 0;
  if (syscall (SYS_set_mempolicy, p->mode | p->flags, p->last_node >= 0 ? p->nodes : NULL, maxnode)
      < 0)
    return apply_error (p, errno, err);
  return 0;
}

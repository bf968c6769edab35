/* cgroup v1 controller writers: linux.resources -> the files of one
   hierarchy's cgroup directory.  Values and orderings as runc writes them. */
#include "config.h"
#include "controllers.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

static bool
set64 (bool present, int64_t v)
{
  return present && v != 0;
}

static int
write_i64 (int dfd, const char *file, const char *key, int64_t v, skiff_error_t *err)
{
  return cg_writef_at (dfd, file, key, err, "%" PRId64, v);
}

int
cg_v1_memory (int dfd, const oci_memory *m, skiff_error_t *err)
{
  if (m == NULL)
    return 0;
  int64_t limit = m->limit_present ? m->limit : 0;
  int64_t swap = m->swap_present ? m->swap : 0;
  bool has_memsw = cg_has_file (dfd, "memory.memsw.limit_in_bytes");
  /* Unlimited memory with swap unset: swap unlimited too, where the kernel
     accounts swap. */
  if (limit == -1 && swap == 0 && has_memsw)
    swap = -1;
  /* Without swap accounting only "unlimited" and "no swap" (memory+swap
     == memory) mean something, and neither needs the file (as on v2). */
  if (!has_memsw && swap != 0)
    {
      if (swap != -1 && swap != limit)
        return cg_no_swap_accounting ("memory.memsw.limit_in_bytes", err);
      swap = 0;
    }
  if (limit != 0 && swap != 0)
    {
      /* memsw must stay >= memory at every step: raise memsw first when
         growing, lower memory first when shrinking. */
      uint64_t cur = 0;
      cg_read_u64_at (dfd, "memory.limit_in_bytes", &cur, NULL);
      bool memsw_first = swap == -1 || (swap > 0 && cur < (uint64_t)swap);
      if (memsw_first)
        {
          if (write_i64 (dfd, "memory.memsw.limit_in_bytes", "memory.swap", swap, err) < 0
              || write_i64 (dfd, "memory.limit_in_bytes", "memory.limit", limit, err) < 0)
            return -1;
        }
      else if (write_i64 (dfd, "memory.limit_in_bytes", "memory.limit", limit, err) < 0
               || write_i64 (dfd, "memory.memsw.limit_in_bytes", "memory.swap", swap, err) < 0)
        return -1;
    }
  else
    {
      if (limit != 0 && write_i64 (dfd, "memory.limit_in_bytes", "memory.limit", limit, err) < 0)
        return -1;
      if (swap != 0 && write_i64 (dfd, "memory.memsw.limit_in_bytes", "memory.swap", swap, err) < 0)
        return -1;
    }
  if (set64 (m->reservation_present, m->reservation)
      && write_i64 (dfd, "memory.soft_limit_in_bytes", "memory.reservation", m->reservation, err)
             < 0)
    return -1;
  if (set64 (m->kernel_tcp_present, m->kernel_tcp)
      && write_i64 (dfd, "memory.kmem.tcp.limit_in_bytes", "memory.kernelTCP", m->kernel_tcp, err)
             < 0)
    return -1;
  /* memory.kernel: the kernel dropped kmem limits (5.16); runc ignores it. */
  if (m->swappiness_present && m->swappiness != UINT64_MAX)
    {
      if (m->swappiness > 100)
        return skiff_error_kind_set (
            err, SKIFF_ERR_INVALID_CONFIG, 0,
            "linux.resources.memory.swappiness: %" PRIu64 " is out of range 0-100", m->swappiness);
      if (cg_writef_at (dfd, "memory.swappiness", "memory.swappiness", err, "%" PRIu64,
                        m->swappiness)
          < 0)
        return -1;
    }
  if (m->disable_oom_killer_present && m->disable_oom_killer
      && cg_write_at (dfd, "memory.oom_control", "memory.disableOOMKiller", "1", err) < 0)
    return -1;
  return 0;
}

static int
v1_cpu_bandwidth (int dfd, const oci_cpu *c, skiff_error_t *err)
{
  uint64_t period = c->period_present ? c->period : 0;
  int64_t quota = c->quota_present ? c->quota : 0;
  if (period != 0)
    {
      skiff_error_t e = NULL;
      if (cg_writef_at (dfd, "cpu.cfs_period_us", "cpu.period", &e, "%" PRIu64, period) < 0)
        {
          /* EINVAL: the current quota does not fit the new period; the
             quota goes first then. */
          if (e->errno_ != EINVAL || quota == 0)
            {
              *err = e;
              return -1;
            }
          skiff_error_free (&e);
          if (write_i64 (dfd, "cpu.cfs_quota_us", "cpu.quota", quota, err) < 0)
            return -1;
          quota = 0;
          if (cg_writef_at (dfd, "cpu.cfs_period_us", "cpu.period", err, "%" PRIu64, period) < 0)
            return -1;
        }
    }
  if (quota != 0 && write_i64 (dfd, "cpu.cfs_quota_us", "cpu.quota", quota, err) < 0)
    return -1;
  if (c->burst_present
      && cg_writef_at (dfd, "cpu.cfs_burst_us", "cpu.burst", err, "%" PRIu64, c->burst) < 0)
    return -1;
  return 0;
}

int
cg_v1_cpu (int dfd, const oci_cpu *c, skiff_error_t *err)
{
  bool idle = false;
  if (c == NULL)
    return 0;
  if (cg_cpu_idle (dfd, c, &idle, err) < 0)
    return -1;
  if (c->shares_present && c->shares != 0 && !idle)
    {
      uint64_t got = 0;
      if (cg_writef_at (dfd, "cpu.shares", "cpu.shares", err, "%" PRIu64, c->shares) < 0)
        return -1;
      /* The kernel clamps silently; say so as runc does. */
      if (cg_read_u64_at (dfd, "cpu.shares", &got, NULL) == 0 && got != c->shares && got != 0)
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "linux.resources.cpu.shares: %" PRIu64
                                     " is out of range: the kernel's %s is %" PRIu64,
                                     c->shares, c->shares > got ? "maximum" : "minimum", got);
    }
  if (v1_cpu_bandwidth (dfd, c, err) < 0)
    return -1;
  /* Realtime: the period first, so the runtime fits in it. */
  if (c->realtime_period_present && c->realtime_period != 0
      && cg_writef_at (dfd, "cpu.rt_period_us", "cpu.realtimePeriod", err, "%" PRIu64,
                       c->realtime_period)
             < 0)
    return -1;
  if (c->realtime_runtime_present && c->realtime_runtime != 0
      && write_i64 (dfd, "cpu.rt_runtime_us", "cpu.realtimeRuntime", c->realtime_runtime, err) < 0)
    return -1;
  return 0;
}

int
cg_v1_cpuset (int dfd, const oci_cpu *c, skiff_error_t *err)
{
  if (c == NULL)
    return 0;
  if (c->cpus && *c->cpus && cg_write_at (dfd, "cpuset.cpus", "cpu.cpus", c->cpus, err) < 0)
    return -1;
  if (c->mems && *c->mems && cg_write_at (dfd, "cpuset.mems", "cpu.mems", c->mems, err) < 0)
    return -1;
  return 0;
}

int
cg_v1_pids (int dfd, const oci_pids *p, skiff_error_t *err)
{
  /* 0 leaves the limit alone, a negative value means no limit. */
  if (p == NULL || p->limit == 0)
    return 0;
  if (p->limit < 0)
    return cg_write_at (dfd, "pids.max", "pids.limit", "max", err);
  return write_i64 (dfd, "pids.max", "pids.limit", p->limit, err);
}

static int
throttle (int dfd, const char *file, const char *key, oci_throttle_device **d, size_t n,
          skiff_error_t *err)
{
  for (size_t i = 0; i < n; i++)
    {
      char k[96];
      snprintf (k, sizeof k, "blockIO.%s[%zu]", key, i);
      if (cg_writef_at (dfd, file, k, err, "%" PRId64 ":%" PRId64 " %" PRIu64, d[i]->major,
                        d[i]->minor, d[i]->rate)
          < 0)
        return -1;
    }
  return 0;
}

int
cg_v1_blkio (int dfd, const oci_block_io *b, skiff_error_t *err)
{
  if (b == NULL)
    return 0;
  /* CFQ's blkio.weight where it exists, else BFQ's blkio.bfq.weight. */
  const char *wfile = cg_io_weight_file (dfd, false);
  bool cfq = wfile && strcmp (wfile, "blkio.weight") == 0;
  bool leaf = cg_has_file (dfd, "blkio.leaf_weight");
  const char *wdfile = cfq ? "blkio.weight_device" : "blkio.bfq.weight_device";
  if (b->weight_present && b->weight != 0
      && (wfile == NULL ? cg_io_weight_unsupported ("blockIO.weight", CG_WEIGHT_FILES_V1, err)
                        : cg_writef_at (dfd, wfile, "blockIO.weight", err, "%u", b->weight))
             < 0)
    return -1;
  if (b->leaf_weight_present && b->leaf_weight != 0
      && (!leaf ? cg_io_weight_unsupported ("blockIO.leafWeight", CG_LEAF_WEIGHT_FILES, err)
                : cg_writef_at (dfd, "blkio.leaf_weight", "blockIO.leafWeight", err, "%u",
                                b->leaf_weight))
             < 0)
    return -1;
  for (size_t i = 0; i < b->weight_device_len; i++)
    {
      const oci_weight_device *w = b->weight_device[i];
      char k[64];
      snprintf (k, sizeof k, "blockIO.weightDevice[%zu]", i);
      if (w->weight_present && w->weight != 0
          && (wfile == NULL ? cg_io_weight_unsupported (k, CG_WEIGHT_FILES_V1, err)
                            : cg_writef_at (dfd, wdfile, k, err, "%" PRId64 ":%" PRId64 " %u",
                                            w->major, w->minor, w->weight))
                 < 0)
        return -1;
      if (w->leaf_weight_present && w->leaf_weight != 0
          && (!leaf
                  ? cg_io_weight_unsupported (k, CG_LEAF_WEIGHT_FILES, err)
                  : cg_writef_at (dfd, "blkio.leaf_weight_device", k, err,
                                  "%" PRId64 ":%" PRId64 " %u", w->major, w->minor, w->leaf_weight))
                 < 0)
        return -1;
    }
  if (throttle (dfd, "blkio.throttle.read_bps_device", "throttleReadBpsDevice",
                b->throttle_read_bps_device, b->throttle_read_bps_device_len, err)
          < 0
      || throttle (dfd, "blkio.throttle.write_bps_device", "throttleWriteBpsDevice",
                   b->throttle_write_bps_device, b->throttle_write_bps_device_len, err)
             < 0
      || throttle (dfd, "blkio.throttle.read_iops_device", "throttleReadIOPSDevice",
                   b->throttle_read_iops_device, b->throttle_read_iops_device_len, err)
             < 0
      || throttle (dfd, "blkio.throttle.write_iops_device", "throttleWriteIOPSDevice",
                   b->throttle_write_iops_device, b->throttle_write_iops_device_len, err)
             < 0)
    return -1;
  return 0;
}

static int
hugetlb (int dfd, oci_hugepage_limit **l, size_t n, const char *suffix, const char *rsvd_suffix,
         skiff_error_t *err)
{
  for (size_t i = 0; i < n; i++)
    {
      char file[96], key[64];
      snprintf (key, sizeof key, "hugepageLimits[%zu]", i);
      if (strchr (l[i]->page_size, '/') || strlen (l[i]->page_size) > 16)
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "linux.resources.%s.pageSize: invalid `%s`", key,
                                     l[i]->page_size);
      snprintf (file, sizeof file, "hugetlb.%s.%s", l[i]->page_size, suffix);
      if (!cg_has_file (dfd, file))
        return skiff_error_kind_set (
            err, SKIFF_ERR_UNSUPPORTED, 0,
            "linux.resources.%s.pageSize: this host has no `%s` huge pages", key, l[i]->page_size);
      if (cg_writef_at (dfd, file, key, err, "%" PRIu64, l[i]->limit) < 0)
        return -1;
      /* The reservation limit too where the kernel has it, so a mapping
         cannot reserve past the limit and fault later. */
      snprintf (file, sizeof file, "hugetlb.%s.%s", l[i]->page_size, rsvd_suffix);
      if (cg_has_file (dfd, file)
          && cg_writef_at (dfd, file, key, err, "%" PRIu64, l[i]->limit) < 0)
        return -1;
    }
  return 0;
}

int
cg_v1_hugetlb (int dfd, oci_hugepage_limit **l, size_t n, skiff_error_t *err)
{
  return hugetlb (dfd, l, n, "limit_in_bytes", "rsvd.limit_in_bytes", err);
}

int
cg_v2_hugetlb (int dfd, oci_hugepage_limit **l, size_t n, skiff_error_t *err)
{
  return hugetlb (dfd, l, n, "max", "rsvd.max", err);
}

int
cg_v1_net_cls (int dfd, const oci_network *n, skiff_error_t *err)
{
  if (n == NULL || !n->class_id_present)
    return 0;
  return cg_writef_at (dfd, "net_cls.classid", "network.classID", err, "%u", n->class_id);
}

int
cg_v1_net_prio (int dfd, const oci_network *n, skiff_error_t *err)
{
  for (size_t i = 0; n && i < n->priorities_len; i++)
    {
      char key[64];
      snprintf (key, sizeof key, "network.priorities[%zu]", i);
      if (cg_writef_at (dfd, "net_prio.ifpriomap", key, err, "%s %u", n->priorities[i]->name,
                        n->priorities[i]->priority)
          < 0)
        return -1;
    }
  return 0;
}

static void
v1_rule_text (const struct cg_dev_rule *r, char type, char *buf, size_t len)
{
  char maj[24] = "*", min[24] = "*", acc[4] = "";
  size_t a = 0;
  if (r->major >= 0)
    snprintf (maj, sizeof maj, "%" PRId64, r->major);
  if (r->minor >= 0)
    snprintf (min, sizeof min, "%" PRId64, r->minor);
  if (r->access & CG_DEV_READ)
    acc[a++] = 'r';
  if (r->access & CG_DEV_WRITE)
    acc[a++] = 'w';
  if (r->access & CG_DEV_MKNOD)
    acc[a++] = 'm';
  snprintf (buf, len, "%c %s:%s %s", type, maj, min, acc);
}

int
cg_v1_devices (int dfd, const struct cg_dev_rule *r, size_t n, skiff_error_t *err)
{
  /* Start from deny-all; then each rule in order, as the kernel's list
     applies them (v1 reads "a" as every device whatever follows). */
  if (cg_write_at (dfd, "devices.deny", "devices", "a", err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      const char *file = r[i].allow ? "devices.allow" : "devices.deny";
      char key[48], text[96];
      snprintf (key, sizeof key, "devices[%zu]", i);
      bool everything
          = r[i].type == 'a' && r[i].major < 0 && r[i].minor < 0 && r[i].access == CG_DEV_ALL;
      if (everything)
        {
          if (cg_write_at (dfd, file, key, "a", err) < 0)
            return -1;
          continue;
        }
      const char *types = r[i].type == 'a' ? "cb" : (r[i].type == 'c' ? "c" : "b");
      for (const char *t = types; *t; t++)
        {
          v1_rule_text (&r[i], *t, text, sizeof text);
          if (cg_write_at (dfd, file, key, text, err) < 0)
            return -1;
        }
    }
  return 0;
}

/* The kernel's exception list of a deny-by-default devices cgroup, as
   type/major/minor keys with access bits. */
struct dev_entry
{
  char type;
  int64_t major, minor;
  unsigned access;
};

struct dev_list
{
  struct dev_entry e[256];
  size_t n;
};

static struct dev_entry *
dev_find (struct dev_list *l, char type, int64_t major, int64_t minor, bool add)
{
  for (size_t i = 0; i < l->n; i++)
    if (l->e[i].type == type && l->e[i].major == major && l->e[i].minor == minor)
      return &l->e[i];
  if (!add || l->n == sizeof l->e / sizeof *l->e)
    return NULL;
  l->e[l->n] = (struct dev_entry){ type, major, minor, 0 };
  return &l->e[l->n++];
}

static int64_t
dev_num (const char *s, char **end)
{
  if (*s == '*')
    {
      *end = (char *)s + 1;
      return -1;
    }
  return strtoll (s, end, 10);
}

/* devices.list lines "c 1:3 rwm"; false for "a *:* rwm" (allow-all) or
   anything unexpected. */
static bool
parse_dev_list (const char *text, struct dev_list *l)
{
  l->n = 0;
  for (const char *p = text; *p;)
    {
      char type = *p, *end;
      if ((type != 'c' && type != 'b') || p[1] != ' ')
        return false;
      int64_t major = dev_num (p + 2, &end);
      if (*end != ':')
        return false;
      int64_t minor = dev_num (end + 1, &end);
      if (*end != ' ')
        return false;
      unsigned acc = 0;
      for (p = end + 1; *p && *p != '\n'; p++)
        acc |= *p == 'r' ? CG_DEV_READ : *p == 'w' ? CG_DEV_WRITE : *p == 'm' ? CG_DEV_MKNOD : 0;
      struct dev_entry *e = dev_find (l, type, major, minor, true);
      if (e == NULL)
        return false;
      e->access |= acc;
      if (*p == '\n')
        p++;
    }
  return true;
}

static int
dev_write (int dfd, const char *file, char type, int64_t major, int64_t minor, unsigned acc,
           skiff_error_t *err)
{
  struct cg_dev_rule r = { .type = type, .major = major, .minor = minor, .access = acc };
  char text[96];
  v1_rule_text (&r, type, text, sizeof text);
  return cg_write_at (dfd, file, "devices", text, err);
}

int
cg_v1_devices_update (int dfd, const struct cg_dev_rule *r, size_t n, skiff_error_t *err)
{
  struct dev_list cur, want = { .n = 0 };
  cleanup_free char *text = NULL;
  bool deny_all_first = n > 0 && !r[0].allow && r[0].type == 'a' && r[0].major < 0 && r[0].minor < 0
                        && r[0].access == CG_DEV_ALL;
  if (!deny_all_first || cg_read_at (dfd, "devices.list", &text, NULL) < 0
      || !parse_dev_list (text, &cur))
    return cg_v1_devices (dfd, r, n, err);
  /* The list the rules lead to, computed as the kernel would. */
  for (size_t i = 1; i < n; i++)
    {
      if (r[i].type == 'a' && r[i].major < 0 && r[i].minor < 0 && r[i].access == CG_DEV_ALL)
        return cg_v1_devices (dfd, r, n, err); /* allow-all or deny-all again */
      const char *types = r[i].type == 'a' ? "cb" : (r[i].type == 'c' ? "c" : "b");
      for (const char *t = types; *t; t++)
        {
          struct dev_entry *e = dev_find (&want, *t, r[i].major, r[i].minor, r[i].allow);
          if (e == NULL && r[i].allow)
            return cg_v1_devices (dfd, r, n, err);
          if (e)
            e->access = r[i].allow ? e->access | r[i].access : e->access & ~r[i].access;
        }
    }
  /* Grant first, then take away: no moment denies what both lists allow. */
  for (size_t i = 0; i < want.n; i++)
    if (want.e[i].access
        && dev_write (dfd, "devices.allow", want.e[i].type, want.e[i].major, want.e[i].minor,
                      want.e[i].access, err)
               < 0)
      return -1;
  for (size_t i = 0; i < cur.n; i++)
    {
      struct dev_entry *w = dev_find (&want, cur.e[i].type, cur.e[i].major, cur.e[i].minor, false);
      unsigned drop = cur.e[i].access & ~(w ? w->access : 0);
      if (drop
          && dev_write (dfd, "devices.deny", cur.e[i].type, cur.e[i].major, cur.e[i].minor, drop,
                        err)
                 < 0)
        return -1;
    }
  return 0;
}

int
cg_rdma (int dfd, const oci_rdma_map *m, skiff_error_t *err)
{
  for (size_t i = 0; m && i < m->len; i++)
    {
      const oci_rdma *r = m->values[i];
      char key[96], h[24] = "max", o[24] = "max";
      snprintf (key, sizeof key, "rdma.%s", m->keys[i]);
      if (!r->hca_handles_present && !r->hca_objects_present)
        continue;
      if (r->hca_handles_present)
        snprintf (h, sizeof h, "%u", r->hca_handles);
      if (r->hca_objects_present)
        snprintf (o, sizeof o, "%u", r->hca_objects);
      if (cg_writef_at (dfd, "rdma.max", key, err, "%s hca_handle=%s hca_object=%s", m->keys[i], h,
                        o)
          < 0)
        return -1;
    }
  return 0;
}

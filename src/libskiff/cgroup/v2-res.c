/* cgroup v2 controller writers, with runc's conversions of the v1-shaped
   values of linux.resources. */
#include "config.h"
#include "controllers.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "log.h"

/* -1 is "max"; 0 is "leave alone". */
static int
write_limit (int dfd, const char *file, const char *key, int64_t v, skiff_error_t *err)
{
  if (v == 0)
    return 0;
  if (v < 0)
    return cg_write_at (dfd, file, key, "max", err);
  return cg_writef_at (dfd, file, key, err, "%" PRId64, v);
}

int
cg_v2_memory (int dfd, const oci_memory *m, skiff_error_t *err)
{
  if (m == NULL)
    return 0;
  int64_t limit = m->limit_present ? m->limit : 0;
  int64_t swap = 0;
  if (cg_swap_to_v2 (m->swap_present ? m->swap : 0, limit, &swap, err) < 0)
    return -1;
  /* memory == memory+swap: no swap at all, written as 0. */
  bool no_swap = swap == 0 && m->swap_present && m->swap > 0;
  if (swap != 0 || no_swap)
    {
      skiff_error_t e = NULL;
      int r = no_swap ? cg_write_at (dfd, "memory.swap.max", "memory.swap", "0", &e)
                      : write_limit (dfd, "memory.swap.max", "memory.swap", swap, &e);
      if (r < 0)
        {
          /* No swap accounting: "unlimited" and "none" need no file. */
          bool enoent = e->errno_ == ENOENT;
          if (!enoent || (swap != -1 && !no_swap))
            {
              if (!enoent)
                {
                  *err = e;
                  return -1;
                }
              skiff_error_free (&e);
              return cg_no_swap_accounting ("memory.swap.max", err);
            }
          skiff_error_free (&e);
        }
    }
  if (write_limit (dfd, "memory.max", "memory.limit", limit, err) < 0)
    return -1;
  if (m->reservation_present
      && write_limit (dfd, "memory.low", "memory.reservation", m->reservation, err) < 0)
    return -1;
  /* v1-only knobs: cgroup v2 has no per-cgroup swappiness, kernel memory
     limit or OOM-killer switch. */
  if (m->swappiness_present && m->swappiness != UINT64_MAX)
    skiff_debug ("linux.resources.memory.swappiness: ignored on cgroup v2");
  if (m->disable_oom_killer_present && m->disable_oom_killer)
    skiff_debug ("linux.resources.memory.disableOOMKiller: ignored on cgroup v2");
  return 0;
}

int
cg_v2_cpu (int dfd, const oci_cpu *c, skiff_error_t *err)
{
  if (c == NULL)
    return 0;
  if ((c->realtime_runtime_present && c->realtime_runtime != 0)
      || (c->realtime_period_present && c->realtime_period != 0))
    return skiff_error_kind_set (
        err, SKIFF_ERR_UNSUPPORTED, 0,
        "linux.resources.cpu.%s: realtime scheduling limits exist only on cgroup v1",
        c->realtime_runtime_present ? "realtimeRuntime" : "realtimePeriod");
  bool idle = false;
  if (cg_cpu_idle (dfd, c, &idle, err) < 0)
    return -1;
  if (c->shares_present && c->shares != 0 && !idle
      && cg_writef_at (dfd, "cpu.weight", "cpu.shares", err, "%" PRIu64,
                       cg_shares_to_weight (c->shares))
             < 0)
    return -1;
  int64_t quota = c->quota_present ? c->quota : 0;
  uint64_t period = c->period_present ? c->period : 0;
  if (quota != 0 || period != 0)
    {
      char q[32] = "max";
      if (quota > 0)
        snprintf (q, sizeof q, "%" PRId64, quota);
      if (cg_writef_at (dfd, "cpu.max", quota ? "cpu.quota" : "cpu.period", err, "%s %" PRIu64, q,
                        period ? period : 100000)
          < 0)
        return -1;
    }
  if (c->burst_present
      && cg_writef_at (dfd, "cpu.max.burst", "cpu.burst", err, "%" PRIu64, c->burst) < 0)
    return -1;
  return 0;
}

int
cg_v2_cpuset (int dfd, const oci_cpu *c, skiff_error_t *err)
{
  return cg_v1_cpuset (dfd, c, err); /* same file names */
}

int
cg_v2_pids (int dfd, const oci_pids *p, skiff_error_t *err)
{
  return cg_v1_pids (dfd, p, err);
}

static int
io_max (int dfd, const char *key, const char *field, oci_throttle_device **d, size_t n,
        skiff_error_t *err)
{
  for (size_t i = 0; i < n; i++)
    {
      char k[96];
      snprintf (k, sizeof k, "blockIO.%s[%zu]", key, i);
      if (cg_writef_at (dfd, "io.max", k, err, "%" PRId64 ":%" PRId64 " %s=%" PRIu64, d[i]->major,
                        d[i]->minor, field, d[i]->rate)
          < 0)
        return -1;
    }
  return 0;
}

int
cg_v2_io (int dfd, const oci_block_io *b, skiff_error_t *err)
{
  if (b == NULL)
    return 0;
  /* BFQ takes blkio's own scale; io.weight the converted one. */
  const char *wfile = cg_io_weight_file (dfd, true);
  bool bfq = wfile && strcmp (wfile, "io.bfq.weight") == 0;
  if (b->weight_present && b->weight != 0)
    {
      int r = !wfile ? cg_io_weight_unsupported ("blockIO.weight", CG_WEIGHT_FILES_V2, err)
              : bfq  ? cg_writef_at (dfd, "io.bfq.weight", "blockIO.weight", err, "%u", b->weight)
                     : cg_writef_at (dfd, "io.weight", "blockIO.weight", err, "default %" PRIu64,
                                     cg_blkio_to_io_weight (b->weight));
      if (r < 0)
        return -1;
    }
  for (size_t i = 0; i < b->weight_device_len; i++)
    {
      const oci_weight_device *w = b->weight_device[i];
      char k[64];
      snprintf (k, sizeof k, "blockIO.weightDevice[%zu]", i);
      if (!w->weight_present || w->weight == 0)
        continue;
      int r = !wfile ? cg_io_weight_unsupported (k, CG_WEIGHT_FILES_V2, err)
              : bfq  ? cg_writef_at (dfd, "io.bfq.weight", k, err, "%" PRId64 ":%" PRId64 " %u",
                                     w->major, w->minor, w->weight)
                     : cg_writef_at (dfd, "io.weight", k, err, "%" PRId64 ":%" PRId64 " %" PRIu64,
                                     w->major, w->minor, cg_blkio_to_io_weight (w->weight));
      if (r < 0)
        return -1;
    }
  if (b->leaf_weight_present && b->leaf_weight)
    skiff_debug ("linux.resources.blockIO.leafWeight: ignored on cgroup v2");
  if (io_max (dfd, "throttleReadBpsDevice", "rbps", b->throttle_read_bps_device,
              b->throttle_read_bps_device_len, err)
          < 0
      || io_max (dfd, "throttleWriteBpsDevice", "wbps", b->throttle_write_bps_device,
                 b->throttle_write_bps_device_len, err)
             < 0
      || io_max (dfd, "throttleReadIOPSDevice", "riops", b->throttle_read_iops_device,
                 b->throttle_read_iops_device_len, err)
             < 0
      || io_max (dfd, "throttleWriteIOPSDevice", "wiops", b->throttle_write_iops_device,
                 b->throttle_write_iops_device_len, err)
             < 0)
    return -1;
  return 0;
}

static bool
unified_key_ok (const char *k)
{
  /* A file of this cgroup: "controller.knob", never a path. */
  return *k && k[0] != '.' && strchr (k, '/') == NULL && strchr (k, '.') != NULL;
}

int
cg_v2_unified (int dfd, const oci_string_map *u, skiff_error_t *err)
{
  for (size_t i = 0; u && i < u->len; i++)
    {
      const char *k = u->keys[i];
      char key[160];
      snprintf (key, sizeof key, "unified.%s", k);
      if (!unified_key_ok (k) || strncmp (k, "cgroup.", 7) == 0)
        return skiff_error_kind_set (
            err, SKIFF_ERR_INVALID_CONFIG, 0,
            "linux.resources.%s: not a controller file of the container's cgroup", key);
      if (!cg_has_file (dfd, k))
        {
          char ctrl[64];
          snprintf (ctrl, sizeof ctrl, "%.*s", (int)strcspn (k, "."), k);
          return skiff_error_kind_set (
              err, SKIFF_ERR_UNSUPPORTED, ENOENT,
              "linux.resources.%s: no such file (is the `%s` controller enabled for this cgroup?)",
              key, ctrl);
        }
      if (cg_write_at (dfd, k, key, u->values[i], err) < 0)
        return -1;
    }
  return 0;
}

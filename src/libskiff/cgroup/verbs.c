/* The verbs that work through the container's cgroup: ps, update, events
   (pause and resume live with the lifecycle table in lifecycle.c). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "container.h"
#include "fsutil.h"
#include "netdev.h"
#include "log.h"
#include "resctrl.h"
#include "strbuf.h"

struct held
{
  struct state_dir sd;
  skiff_status *st;
  container_status status;
  struct skiff_cgroup *cg;
};

static void
held_release (struct held *h)
{
  cgroup_free (h->cg);
  skiff_status_free (h->st);
  state_dir_close (&h->sd);
}
#define cleanup_held __attribute__ ((cleanup (held_release)))

/* Open the container; it must have a cgroup and not be stopped. */
static int
hold (struct skiff_context *ctx, const char *id, bool lock, const char *verb, struct held *h,
      skiff_error_t *err)
{
  *h = (struct held){ .sd = STATE_DIR_INIT };
  if (state_dir_open (ctx->root, id, lock, &h->sd, err) < 0 || state_read (&h->sd, &h->st, err) < 0)
    return -1;
  h->status = state_status (&h->sd, h->st);
  if (h->status == STATUS_STOPPED || h->status == STATUS_CREATING)
    return skiff_error_kind_set (err, SKIFF_ERR_BAD_STATE, 0,
                                 "cannot %s container `%s`: container not running (%s)", verb, id,
                                 status_name (h->status));
  if (h->st->cgroup_path == NULL)
    return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, 0, "cannot %s container `%s`: %s",
                                 verb, id, container_no_cgroup (h->st));
  h->cg = cgroup_from_path (h->st->cgroup_path);
  return 0;
}

int
skiff_container_pids (struct skiff_context *ctx, const char *id, pid_t **pids, size_t *n,
                      skiff_error_t *err)
{
  cleanup_held struct held h = { .sd = STATE_DIR_INIT };
  skiff_error_t e = NULL;
  *pids = NULL;
  *n = 0;
  if (hold (ctx, id, false, "list the processes of", &h, &e) < 0)
    {
      /* As runc: a stopped container simply has no processes. */
      if (e->kind == SKIFF_ERR_BAD_STATE && h.status == STATUS_STOPPED)
        {
          skiff_error_free (&e);
          return 0;
        }
      *err = e;
      return -1;
    }
  return cgroup_pids (h.cg, pids, n, err);
}

/* ---- update ---- */

#define TAKE(dst, src, f)                                                                          \
  do                                                                                               \
    if ((src)->f##_present)                                                                        \
      {                                                                                            \
        (dst)->f = (src)->f;                                                                       \
        (dst)->f##_present = true;                                                                 \
      }                                                                                            \
  while (0)

#define STEAL(dst, src, f)                                                                         \
  do                                                                                               \
    if ((src)->f)                                                                                  \
      {                                                                                            \
        free ((dst)->f);                                                                           \
        (dst)->f = steal_pointer (&(src)->f);                                                      \
      }                                                                                            \
  while (0)

/* Arrays and sub-objects given in the update replace the stored ones. */
#define REPLACE_ARRAY(dst, src, f, freefn)                                                         \
  do                                                                                               \
    if ((src)->f##_len)                                                                            \
      {                                                                                            \
        for (size_t _i = 0; _i < (dst)->f##_len; _i++)                                             \
          freefn ((dst)->f[_i]);                                                                   \
        free ((dst)->f);                                                                           \
        (dst)->f = steal_pointer (&(src)->f);                                                      \
        (dst)->f##_len = (src)->f##_len;                                                           \
        (src)->f##_len = 0;                                                                        \
      }                                                                                            \
  while (0)

static void
merge_memory (oci_memory *d, const oci_memory *s)
{
  TAKE (d, s, limit);
  TAKE (d, s, reservation);
  TAKE (d, s, swap);
  TAKE (d, s, kernel);
  TAKE (d, s, kernel_tcp);
  TAKE (d, s, swappiness);
  TAKE (d, s, disable_oom_killer);
  TAKE (d, s, use_hierarchy);
  TAKE (d, s, check_before_update);
}

static void
merge_cpu (oci_cpu *d, oci_cpu *s)
{
  TAKE (d, s, shares);
  TAKE (d, s, quota);
  TAKE (d, s, burst);
  TAKE (d, s, period);
  TAKE (d, s, realtime_runtime);
  TAKE (d, s, realtime_period);
  TAKE (d, s, idle);
  STEAL (d, s, cpus);
  STEAL (d, s, mems);
}

static void
merge_block_io (oci_block_io *d, oci_block_io *s)
{
  TAKE (d, s, weight);
  TAKE (d, s, leaf_weight);
  REPLACE_ARRAY (d, s, weight_device, oci_weight_device_free);
  REPLACE_ARRAY (d, s, throttle_read_bps_device, oci_throttle_device_free);
  REPLACE_ARRAY (d, s, throttle_write_bps_device, oci_throttle_device_free);
  REPLACE_ARRAY (d, s, throttle_read_iops_device, oci_throttle_device_free);
  REPLACE_ARRAY (d, s, throttle_write_iops_device, oci_throttle_device_free);
}

#define MERGE_OBJ(dst, src, f, mergefn)                                                            \
  do                                                                                               \
    if ((src)->f)                                                                                  \
      {                                                                                            \
        if ((dst)->f == NULL)                                                                      \
          (dst)->f = steal_pointer (&(src)->f);                                                    \
        else                                                                                       \
          mergefn ((dst)->f, (src)->f);                                                            \
      }                                                                                            \
  while (0)

#define REPLACE_OBJ(dst, src, f, freefn)                                                           \
  do                                                                                               \
    if ((src)->f)                                                                                  \
      {                                                                                            \
        freefn ((dst)->f);                                                                         \
        (dst)->f = steal_pointer (&(src)->f);                                                      \
      }                                                                                            \
  while (0)

static void
merge_resources (oci_resources *d, oci_resources *s)
{
  MERGE_OBJ (d, s, memory, merge_memory);
  MERGE_OBJ (d, s, cpu, merge_cpu);
  MERGE_OBJ (d, s, block_io, merge_block_io);
  REPLACE_OBJ (d, s, pids, oci_pids_free);
  REPLACE_OBJ (d, s, network, oci_network_free);
  REPLACE_OBJ (d, s, rdma, oci_rdma_map_free);
  REPLACE_OBJ (d, s, unified, oci_string_map_free);
  REPLACE_ARRAY (d, s, hugepage_limits, oci_hugepage_limit_free);
  REPLACE_ARRAY (d, s, devices, oci_device_cgroup_free);
}

/* A LinuxResources document parsed by wrapping it in a config, so that
   errors name linux.resources.<key> like config.json's do. */
static int
parse_resources (const char *json, size_t len, oci_config **out, skiff_error_t *err)
{
  static const char pre[] = "{\"ociVersion\":\"1.0.0\",\"linux\":{\"resources\":";
  cleanup_free char *doc = malloc (sizeof pre + len + 4);
  if (doc == NULL)
    abort ();
  memcpy (doc, pre, sizeof pre - 1);
  memcpy (doc + sizeof pre - 1, json, len);
  memcpy (doc + sizeof pre - 1 + len, "\n}}", 4);
  oci_diags d = { 0 };
  oci_parse_opts opts = { .filename = "resources" };
  *out = oci_config_parse_data (doc, sizeof pre - 1 + len + 3, &opts, &d);
  if (*out == NULL || (*out)->linux == NULL || (*out)->linux->resources == NULL)
    {
      cleanup_free char *first = d.len ? oci_diag_format (&d.items[0]) : NULL;
      oci_diags_free (&d);
      oci_config_free (*out);
      *out = NULL;
      return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0, "%s",
                                   first ? first : "resources: not a JSON object");
    }
  oci_diags_free (&d);
  return 0;
}

static int
save_config (struct held *h, const oci_config *cfg, skiff_error_t *err)
{
  oci_diags d = { 0 };
  size_t len = 0;
  cleanup_free char *json = oci_config_emit (cfg, true, &len, &d);
  oci_diags_free (&d);
  if (json == NULL)
    return skiff_error (err, EINVAL, "encode the updated config");
  return write_file_atomic_at (h->sd.dir_fd, "config.json", json, len, 0600, err);
}

int
skiff_container_update (struct skiff_context *ctx, const char *id, const char *json, size_t len,
                        skiff_error_t *err)
{
  cleanup_held struct held h = { .sd = STATE_DIR_INIT };
  cleanup_oci_config oci_config *upd = NULL, *cfg = NULL;
  if (hold (ctx, id, true, "update", &h, err) < 0)
    return -1;
  if (parse_resources (json, len, &upd, err) < 0)
    return skiff_error_wrap (err, "update container `%s`", id);
  if (container_load_config (&h.sd, &cfg, err) < 0)
    return skiff_error_wrap (err, "update container `%s`", id);
  if (cfg->linux == NULL)
    cfg->linux = calloc (1, sizeof *cfg->linux);
  if (cfg->linux == NULL)
    abort ();
  if (cfg->linux->resources == NULL)
    cfg->linux->resources = steal_pointer (&upd->linux->resources);
  else
    {
      bool devices = upd->linux->resources->devices_len > 0;
      merge_resources (cfg->linux->resources, upd->linux->resources);
      if (!devices)
        {
          /* Apply without the device rules: they stay as they are. */
          oci_resources view = *cfg->linux->resources;
          view.devices_len = 0;
          if (cgroup_apply (h.cg, &view, true, err) < 0)
            return skiff_error_wrap (err, "update container `%s`", id);
          return save_config (&h, cfg, err);
        }
    }
  if (cgroup_apply (h.cg, cfg->linux->resources, true, err) < 0)
    return skiff_error_wrap (err, "update container `%s`", id);
  return save_config (&h, cfg, err);
}

/* A new schema replaces the stored one, in the config too. */
static void
replace_schema (char **stored, const char *value)
{
  if (value == NULL || *value == '\0')
    return;
  free (*stored);
  if ((*stored = strdup (value)) == NULL)
    abort ();
}

static int
update_intel_rdt (struct held *h, const char *id, const char *l3, const char *mb,
                  skiff_error_t *err)
{
  cleanup_oci_config oci_config *cfg = NULL;
  cleanup_free char *root = NULL;
  cleanup_resctrl_group struct resctrl_group g = { 0 };
  skiff_error_t e = NULL;
  char key[64];
  snprintf (key, sizeof key, "linux.intelRdt.%s", l3 && *l3 ? "l3CacheSchema" : "memBwSchema");
  if (container_load_config (&h->sd, &cfg, err) < 0)
    return -1;
  oci_intel_rdt *rdt = cfg->linux ? cfg->linux->intel_rdt : NULL;
  bool mounted = resctrl_find_root (key, &root, &e) == 0;
  if (rdt == NULL || h->st->intel_rdt_group == NULL)
    {
      skiff_error_free (&e);
      return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                   "%s: the container was created without linux.intelRdt%s", key,
                                   mounted ? "" : ", and " RESCTRL_NO_MOUNT);
    }
  if (!mounted)
    {
      *err = e;
      return -1;
    }
  replace_schema (&rdt->l3_cache_schema, l3);
  replace_schema (&rdt->mem_bw_schema, mb);
  /* l3CacheSchema first, memBwSchema second, as create */
  if (resctrl_check_config (rdt, id, err) < 0
      || resctrl_group_from_status (root, h->st, &g, err) < 0
      || (l3 && *l3 && resctrl_write_schema (&g, "l3CacheSchema", l3, err) < 0)
      || (mb && *mb && resctrl_write_schema (&g, "memBwSchema", mb, err) < 0))
    return -1;
  return save_config (h, cfg, err);
}

int
skiff_container_update_intel_rdt (struct skiff_context *ctx, const char *id,
                                  const char *l3_cache_schema, const char *mem_bw_schema,
                                  skiff_error_t *err)
{
  cleanup_held struct held h = { .sd = STATE_DIR_INIT };
  if ((l3_cache_schema == NULL || *l3_cache_schema == '\0')
      && (mem_bw_schema == NULL || *mem_bw_schema == '\0'))
    return 0; /* an empty schema is no request, as with runc */
  if (hold (ctx, id, true, "update", &h, err) < 0)
    return -1;
  if (update_intel_rdt (&h, id, l3_cache_schema, mem_bw_schema, err) < 0)
    return skiff_error_wrap (err, "update container `%s`", id);
  return 0;
}

/* ---- events ---- */

static int
intel_rdt_stats (const skiff_status *st, struct skiff_strbuf *b, skiff_error_t *err)
{
  cleanup_free char *root = NULL;
  cleanup_resctrl_group struct resctrl_group g = { 0 };
  if (st->intel_rdt_group == NULL)
    {
      strbuf_puts (b, "{}");
      return 0;
    }
  if (resctrl_find_root ("linux.intelRdt", &root, err) < 0
      || resctrl_group_from_status (root, st, &g, err) < 0)
    return -1;
  return resctrl_stats_json (&g, b, err);
}

static char *
stats_event (struct held *h, const char *id, skiff_error_t *err)
{
  cleanup_strbuf struct skiff_strbuf b = { 0 };
  strbuf_puts (&b, "{\"type\":\"stats\",\"id\":");
  skiff_json_quote (&b, id);
  strbuf_puts (&b, ",\"data\":");
  if (cgroup_stats_json (h->cg, &b, err) < 0)
    return NULL;
  /* The rest of runc's Stats after the cgroup's: intel_rdt (empty
     without linux.intelRdt), network_interfaces. */
  if (b.len == 0 || b.s[b.len - 1] != '}')
    abort ();
  b.s[--b.len] = '\0';
  strbuf_puts (&b, ",\"intel_rdt\":");
  if (intel_rdt_stats (h->st, &b, err) < 0)
    return NULL;
  strbuf_puts (&b, ",\"network_interfaces\":");
  netdev_container_json (h->st, &b);
  strbuf_puts (&b, "}}");
  return strbuf_steal (&b);
}

int
skiff_container_stats (struct skiff_context *ctx, const char *id, char **json, skiff_error_t *err)
{
  cleanup_held struct held h = { .sd = STATE_DIR_INIT };
  if (hold (ctx, id, false, "read the stats of", &h, err) < 0)
    return -1;
  *json = stats_event (&h, id, err);
  return *json ? 0 : -1;
}

static unsigned long long
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

int
skiff_container_events (struct skiff_context *ctx, const char *id, unsigned interval_ms,
                        int (*emit) (const char *json, void *data), void *data, skiff_error_t *err)
{
  cleanup_held struct held h = { .sd = STATE_DIR_INIT };
  if (hold (ctx, id, false, "watch the events of", &h, err) < 0)
    return -1;
  uint64_t ooms = cgroup_oom_kills (h.cg);
  unsigned long long next = now_ms ();
  for (;;)
    {
      /* OOM kills are checked often; stats come every interval. */
      uint64_t o = cgroup_oom_kills (h.cg);
      if (o > ooms)
        {
          cleanup_strbuf struct skiff_strbuf b = { 0 };
          ooms = o;
          strbuf_puts (&b, "{\"type\":\"oom\",\"id\":");
          skiff_json_quote (&b, id);
          strbuf_puts (&b, "}");
          if (emit (b.s, data) < 0)
            return 0;
        }
      if (now_ms () >= next)
        {
          cleanup_free char *ev = stats_event (&h, id, err);
          /* the cgroup may be gone with the container (systemd removes an
             empty scope): that is the end of the stream, not an error */
          if (ev == NULL && state_status (&h.sd, h.st) == STATUS_STOPPED)
            {
              skiff_error_free (err);
              return 0;
            }
          if (ev == NULL)
            return -1;
          if (emit (ev, data) < 0)
            return 0;
          next = now_ms () + (interval_ms ? interval_ms : 5000);
        }
      if (state_status (&h.sd, h.st) == STATUS_STOPPED)
        return 0;
      poll (NULL, 0, 100);
    }
}

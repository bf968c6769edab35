/* systemd driver, the data half: unit names from cgroupsPath and unit
   properties from linux.resources (values converted as runc does). */
#include "config.h"
#include "systemd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "controllers.h"
#include "strbuf.h"

void
cg_systemd_unit_name_free (struct sd_unit_name *n)
{
  free (n->slice);
  free (n->unit);
  free (n->path);
  n->slice = n->unit = n->path = NULL;
}

static bool
unit_word_ok (const char *s)
{
  for (; *s; s++)
    if (*s == '/' || *s == ':' || *s == ' ')
      return false;
  return true;
}

/* "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" -> "". */
static int
expand_slice (const char *slice, struct skiff_strbuf *out)
{
  size_t len = strlen (slice);
  if (len < 7 || strcmp (slice + len - 6, ".slice") != 0)
    return -1;
  if (strcmp (slice, "-.slice") == 0)
    return 0;
  size_t base = len - 6;
  if (slice[0] == '-' || slice[base - 1] == '-' || strstr (slice, "--"))
    return -1;
  for (size_t i = 0; i <= base; i++)
    if (i == base || slice[i] == '-')
      strbuf_printf (out, "/%.*s.slice", (int)i, slice);
  return 0;
}

int
cg_systemd_unit_name (const char *cgroups_path, const char *id, struct sd_unit_name *out,
                      skiff_error_t *err)
{
  cleanup_free char *copy = NULL;
  const char *slice = "system.slice", *prefix = "skiff", *name = id;
  *out = (struct sd_unit_name){ 0 };
  if (cgroups_path && *cgroups_path)
    {
      copy = strdup (cgroups_path);
      char *c1 = copy ? strchr (copy, ':') : NULL, *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
      if (c2 == NULL || strchr (c2 + 1, ':'))
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "linux.cgroupsPath `%s`: with --systemd-cgroup it is "
                                     "slice:prefix:name, e.g. system.slice:skiff:%s",
                                     cgroups_path, id);
      *c1 = *c2 = '\0';
      if (*copy)
        slice = copy;
      prefix = c1 + 1;
      name = c2 + 1;
    }
  if (!*name || !unit_word_ok (name) || !unit_word_ok (prefix) || !unit_word_ok (slice))
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.cgroupsPath `%s`: invalid unit name",
                                 cgroups_path ? cgroups_path : "");
  cleanup_strbuf struct skiff_strbuf path = { 0 };
  if (expand_slice (slice, &path) < 0)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.cgroupsPath `%s`: `%s` is not a slice name (NAME.slice)",
                                 cgroups_path ? cgroups_path : "", slice);
  size_t nl = strlen (name);
  bool is_scope = nl > 6 && strcmp (name + nl - 6, ".scope") == 0;
  if (asprintf (&out->unit, "%s%s%s%s", *prefix ? prefix : "", *prefix ? "-" : "", name,
                is_scope ? "" : ".scope")
      < 0)
    abort ();
  strbuf_printf (&path, "/%s", out->unit);
  out->slice = strdup (slice);
  out->path = strbuf_steal (&path);
  if (out->slice == NULL)
    abort ();
  return 0;
}

int
cg_systemd_cpuset_mask (const char *list, unsigned char *bytes, size_t max, size_t *n)
{
  memset (bytes, 0, max);
  *n = 0;
  for (const char *p = list; *p;)
    {
      char *end;
      unsigned long a = strtoul (p, &end, 10), b;
      if (end == p)
        return -1;
      b = a;
      if (*end == '-')
        {
          p = end + 1;
          b = strtoul (p, &end, 10);
          if (end == p || b < a)
            return -1;
        }
      if (b / 8 >= max)
        return -1;
      for (unsigned long i = a; i <= b; i++)
        bytes[i / 8] |= (unsigned char)(1u << (i % 8));
      if (b / 8 + 1 > *n)
        *n = b / 8 + 1;
      p = end;
      if (*p == ',')
        p++;
      else if (*p)
        return -1;
    }
  return 0;
}

static struct sd_prop *
add (struct sd_prop *out, size_t max, size_t *n, const char *name, char type, uint64_t u)
{
  if (*n >= max)
    return NULL;
  struct sd_prop *p = &out[(*n)++];
  *p = (struct sd_prop){ .name = name, .type = type, .u = u };
  return p;
}

/* -1 is systemd's "infinity". */
static uint64_t
limit (int64_t v)
{
  return v < 0 ? UINT64_MAX : (uint64_t)v;
}

static int
cpu_props (const oci_cpu *c, bool v2, struct sd_prop *out, size_t max, size_t *n,
           skiff_error_t *err)
{
  /* An idle group's weight is the kernel's (cg_cpu_idle): systemd must not
     set one it would refuse. */
  if (c->shares_present && c->shares && !(c->idle_present && c->idle))
    add (out, max, n, v2 ? "CPUWeight" : "CPUShares", 't',
         v2 ? cg_shares_to_weight (c->shares) : c->shares);
  int64_t quota = c->quota_present ? c->quota : 0;
  uint64_t period = c->period_present && c->period ? c->period : 100000;
  if (c->period_present && c->period)
    add (out, max, n, "CPUQuotaPeriodUSec", 't', c->period);
  if (quota != 0)
    {
      uint64_t per_sec = UINT64_MAX;
      if (quota > 0)
        {
          /* systemd keeps 10 ms steps: round up, never below the quota. */
          per_sec = (uint64_t)quota * 1000000 / period;
          if (per_sec % 10000)
            per_sec = (per_sec / 10000 + 1) * 10000;
        }
      add (out, max, n, "CPUQuotaPerSecUSec", 't', per_sec);
    }
  static const struct
  {
    size_t off;
    const char *name, *key;
  } sets[] = { { offsetof (oci_cpu, cpus), "AllowedCPUs", "cpu.cpus" },
               { offsetof (oci_cpu, mems), "AllowedMemoryNodes", "cpu.mems" } };
  for (size_t i = 0; i < 2; i++)
    {
      const char *list = *(char *const *)((const char *)c + sets[i].off);
      if (list == NULL || *list == '\0')
        continue;
      struct sd_prop *p = add (out, max, n, sets[i].name, 'y', 0);
      if (p && cg_systemd_cpuset_mask (list, p->bytes, sizeof p->bytes, &p->nbytes) < 0)
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "linux.resources.%s: invalid list `%s`", sets[i].key, list);
    }
  return 0;
}

int
cg_systemd_props (const oci_resources *r, bool v2, struct sd_prop *out, size_t max, size_t *n,
                  skiff_error_t *err)
{
  *n = 0;
  if (r == NULL)
    return 0;
  const oci_memory *m = r->memory;
  if (m && m->limit_present && m->limit)
    add (out, max, n, v2 ? "MemoryMax" : "MemoryLimit", 't', limit (m->limit));
  if (m && v2 && m->reservation_present && m->reservation)
    add (out, max, n, "MemoryLow", 't', limit (m->reservation));
  if (m && v2 && m->swap_present && m->swap)
    {
      int64_t swap = 0;
      if (cg_swap_to_v2 (m->swap, m->limit_present ? m->limit : 0, &swap, err) < 0)
        return -1;
      add (out, max, n, "MemorySwapMax", 't', swap == 0 ? 0 : limit (swap));
    }
  if (r->cpu && cpu_props (r->cpu, v2, out, max, n, err) < 0)
    return -1;
  if (r->pids && r->pids->limit)
    add (out, max, n, "TasksMax", 't', limit (r->pids->limit));
  if (r->block_io && r->block_io->weight_present && r->block_io->weight)
    add (out, max, n, v2 ? "IOWeight" : "BlockIOWeight", 't',
         v2 ? cg_blkio_to_io_weight (r->block_io->weight) : r->block_io->weight);
  return 0;
}

/* Statistics for `events`: the "data" object of runc's stats event
   (types/events.go's field names), read from the controller files. */
#include "config.h"
#include "controllers.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"

/* A tiny JSON writer that keeps track of commas. */
struct jw
{
  struct skiff_strbuf *b;
  int depth;
  bool comma[16];
};

static void
jw_key (struct jw *w, const char *key)
{
  if (w->comma[w->depth])
    strbuf_puts (w->b, ",");
  w->comma[w->depth] = true;
  if (key)
    {
      skiff_json_quote (w->b, key);
      strbuf_puts (w->b, ":");
    }
}

static void
jw_open (struct jw *w, const char *key, const char *brace)
{
  jw_key (w, key);
  strbuf_puts (w->b, brace);
  w->comma[++w->depth] = false;
}

static void
jw_close (struct jw *w, const char *brace)
{
  w->depth--;
  strbuf_puts (w->b, brace);
}

static void
jw_u64 (struct jw *w, const char *key, uint64_t v)
{
  jw_key (w, key);
  strbuf_printf (w->b, "%" PRIu64, v);
}

static void
jw_f64 (struct jw *w, const char *key, double v)
{
  jw_key (w, key);
  strbuf_printf (w->b, "%.2f", v);
}

static void
jw_str (struct jw *w, const char *key, const char *v)
{
  jw_key (w, key);
  skiff_json_quote (w->b, v);
}

static uint64_t
rd (int dfd, const char *file)
{
  uint64_t v = 0;
  if (dfd >= 0)
    cg_read_u64_at (dfd, file, &v, NULL);
  return v;
}

static uint64_t
keyed (int dfd, const char *file, const char *key)
{
  uint64_t v = 0;
  if (dfd >= 0)
    cg_read_keyed_at (dfd, file, key, &v);
  return v;
}

/* Every "key value" line of a file as a JSON object. */
static void
raw_object (struct jw *w, const char *name, int dfd, const char *file)
{
  cleanup_free char *s = NULL;
  jw_open (w, name, "{");
  if (dfd >= 0 && cg_read_at (dfd, file, &s, NULL) == 0)
    for (char *save = NULL, *line = strtok_r (s, "\n", &save); line;
         line = strtok_r (NULL, "\n", &save))
      {
        char k[128];
        unsigned long long v;
        if (sscanf (line, "%127s %llu", k, &v) == 2)
          jw_u64 (w, k, v);
      }
  jw_close (w, "}");
}

static void
mem_entry (struct jw *w, const char *name, uint64_t limit, uint64_t usage, uint64_t max,
           uint64_t failcnt)
{
  jw_open (w, name, "{");
  jw_u64 (w, "limit", limit);
  jw_u64 (w, "usage", usage);
  jw_u64 (w, "max", max);
  jw_u64 (w, "failcnt", failcnt);
  jw_close (w, "}");
}

/* v1 blkio lines "8:0 Read 4096" (a "Total" line closes the list). */
static void
blkio_v1_list (struct jw *w, const char *name, int dfd, const char *file)
{
  cleanup_free char *s = NULL;
  jw_open (w, name, "[");
  if (dfd >= 0 && cg_read_at (dfd, file, &s, NULL) == 0)
    for (char *save = NULL, *line = strtok_r (s, "\n", &save); line;
         line = strtok_r (NULL, "\n", &save))
      {
        unsigned maj, min;
        char op[32];
        unsigned long long v;
        if (sscanf (line, "%u:%u %31s %llu", &maj, &min, op, &v) != 4)
          continue;
        jw_open (w, NULL, "{");
        jw_u64 (w, "major", maj);
        jw_u64 (w, "minor", min);
        jw_str (w, "op", op);
        jw_u64 (w, "value", v);
        jw_close (w, "}");
      }
  jw_close (w, "]");
}

/* v2 io.stat "8:0 rbytes=1 wbytes=2 rios=3 wios=4 ..." as v1-style lists. */
static void
io_v2_list (struct jw *w, const char *name, int dfd, const char *rkey, const char *wkey)
{
  cleanup_free char *s = NULL;
  jw_open (w, name, "[");
  if (dfd >= 0 && cg_read_at (dfd, "io.stat", &s, NULL) == 0)
    for (char *save = NULL, *line = strtok_r (s, "\n", &save); line;
         line = strtok_r (NULL, "\n", &save))
      {
        unsigned maj, min;
        if (sscanf (line, "%u:%u", &maj, &min) != 2)
          continue;
        const char *keys[2] = { rkey, wkey }, *ops[2] = { "Read", "Write" };
        for (int i = 0; i < 2; i++)
          {
            char pat[32];
            snprintf (pat, sizeof pat, " %s=", keys[i]);
            const char *p = strstr (line, pat);
            if (p == NULL)
              continue;
            jw_open (w, NULL, "{");
            jw_u64 (w, "major", maj);
            jw_u64 (w, "minor", min);
            jw_str (w, "op", ops[i]);
            jw_u64 (w, "value", strtoull (p + strlen (pat), NULL, 10));
            jw_close (w, "}");
          }
      }
  jw_close (w, "]");
}

static void
hugetlb_obj (struct jw *w, int dfd, bool v2)
{
  char sizes[8][32], f[128];
  size_t n = cg_hugepage_sizes (sizes, 8);
  jw_open (w, "hugetlb", "{");
  for (size_t i = 0; dfd >= 0 && i < n; i++)
    {
      jw_open (w, sizes[i], "{");
      if (v2)
        {
          snprintf (f, sizeof f, "hugetlb.%s.current", sizes[i]);
          jw_u64 (w, "usage", rd (dfd, f));
          snprintf (f, sizeof f, "hugetlb.%s.events", sizes[i]);
          jw_u64 (w, "failcnt", keyed (dfd, f, "max"));
        }
      else
        {
          snprintf (f, sizeof f, "hugetlb.%s.usage_in_bytes", sizes[i]);
          jw_u64 (w, "usage", rd (dfd, f));
          snprintf (f, sizeof f, "hugetlb.%s.max_usage_in_bytes", sizes[i]);
          jw_u64 (w, "max", rd (dfd, f));
          snprintf (f, sizeof f, "hugetlb.%s.failcnt", sizes[i]);
          jw_u64 (w, "failcnt", rd (dfd, f));
        }
      jw_close (w, "}");
    }
  jw_close (w, "}");
}

static void
pids_obj (struct jw *w, int dfd)
{
  uint64_t limit = rd (dfd, "pids.max");
  jw_open (w, "pids", "{");
  jw_u64 (w, "current", rd (dfd, "pids.current"));
  jw_u64 (w, "limit", limit == UINT64_MAX ? 0 : limit);
  jw_close (w, "}");
}

/* A cpuacct per-CPU file (one number per possible CPU) as a list. */
static void
percpu (struct jw *w, const char *key, int dfd, const char *file)
{
  cleanup_free char *s = NULL;
  jw_open (w, key, "[");
  if (dfd >= 0 && cg_read_at (dfd, file, &s, NULL) == 0)
    for (char *save = NULL, *t = strtok_r (s, " \n", &save); t; t = strtok_r (NULL, " \n", &save))
      jw_u64 (w, NULL, strtoull (t, NULL, 10));
  jw_close (w, "]");
}

/* A v2 <resource>.pressure file as runc's "psi" object: {"some": {"avg10",
   "avg60", "avg300", "total"}, "full": {...}}; left out when the kernel
   keeps no pressure stall information (no file, or psi=0: EOPNOTSUPP). */
static void
psi (struct jw *w, int dfd, const char *file)
{
  static const char *const kinds[] = { "some", "full" };
  struct
  {
    double avg10, avg60, avg300;
    unsigned long long total;
    bool seen;
  } line[2] = { { 0 } };
  cleanup_free char *s = NULL;
  if (dfd < 0 || cg_read_at (dfd, file, &s, NULL) < 0)
    return;
  for (char *save = NULL, *l = strtok_r (s, "\n", &save); l; l = strtok_r (NULL, "\n", &save))
    for (int i = 0; i < 2; i++)
      {
        size_t n = strlen (kinds[i]);
        if (strncmp (l, kinds[i], n) == 0
            && sscanf (l + n, " avg10=%lf avg60=%lf avg300=%lf total=%llu", &line[i].avg10,
                       &line[i].avg60, &line[i].avg300, &line[i].total)
                   == 4
            && isfinite (line[i].avg10 + line[i].avg60 + line[i].avg300))
          line[i].seen = true;
      }
  if (!line[0].seen && !line[1].seen)
    return;
  jw_open (w, "psi", "{");
  for (int i = 0; i < 2; i++)
    if (line[i].seen)
      {
        jw_open (w, kinds[i], "{");
        jw_f64 (w, "avg10", line[i].avg10);
        jw_f64 (w, "avg60", line[i].avg60);
        jw_f64 (w, "avg300", line[i].avg300);
        jw_u64 (w, "total", line[i].total);
        jw_close (w, "}");
      }
  jw_close (w, "}");
}

void
cg_v1_stats_json (const int fds[CG_ST_COUNT], bool hugetlb_v2, struct skiff_strbuf *out)
{
  struct jw w = { .b = out };
  int cpu = fds[CG_ST_CPU], acct = fds[CG_ST_CPUACCT], mem = fds[CG_ST_MEMORY];
  int blk = fds[CG_ST_BLKIO];
  uint64_t hz = (uint64_t)sysconf (_SC_CLK_TCK);
  uint64_t tick_ns = hz ? 1000000000ull / hz : 10000000ull;
  jw_open (&w, NULL, "{");
  jw_open (&w, "cpu", "{");
  jw_open (&w, "usage", "{");
  jw_u64 (&w, "total", rd (acct, "cpuacct.usage"));
  percpu (&w, "percpu", acct, "cpuacct.usage_percpu");
  percpu (&w, "percpu_kernel", acct, "cpuacct.usage_percpu_sys");
  percpu (&w, "percpu_user", acct, "cpuacct.usage_percpu_user");
  jw_u64 (&w, "kernel", keyed (acct, "cpuacct.stat", "system") * tick_ns);
  jw_u64 (&w, "user", keyed (acct, "cpuacct.stat", "user") * tick_ns);
  jw_close (&w, "}");
  jw_open (&w, "throttling", "{");
  jw_u64 (&w, "periods", keyed (cpu, "cpu.stat", "nr_periods"));
  jw_u64 (&w, "throttledPeriods", keyed (cpu, "cpu.stat", "nr_throttled"));
  jw_u64 (&w, "throttledTime", keyed (cpu, "cpu.stat", "throttled_time"));
  jw_close (&w, "}");
  jw_close (&w, "}");
  jw_open (&w, "cpuset", "{");
  jw_close (&w, "}");
  jw_open (&w, "memory", "{");
  jw_u64 (&w, "cache", keyed (mem, "memory.stat", "total_cache"));
  mem_entry (&w, "usage", rd (mem, "memory.limit_in_bytes"), rd (mem, "memory.usage_in_bytes"),
             rd (mem, "memory.max_usage_in_bytes"), rd (mem, "memory.failcnt"));
  mem_entry (&w, "swap", rd (mem, "memory.memsw.limit_in_bytes"),
             rd (mem, "memory.memsw.usage_in_bytes"), rd (mem, "memory.memsw.max_usage_in_bytes"),
             rd (mem, "memory.memsw.failcnt"));
  mem_entry (&w, "kernel", rd (mem, "memory.kmem.limit_in_bytes"),
             rd (mem, "memory.kmem.usage_in_bytes"), rd (mem, "memory.kmem.max_usage_in_bytes"),
             rd (mem, "memory.kmem.failcnt"));
  mem_entry (&w, "kernelTCP", rd (mem, "memory.kmem.tcp.limit_in_bytes"),
             rd (mem, "memory.kmem.tcp.usage_in_bytes"),
             rd (mem, "memory.kmem.tcp.max_usage_in_bytes"), rd (mem, "memory.kmem.tcp.failcnt"));
  raw_object (&w, "raw", mem, "memory.stat");
  jw_close (&w, "}");
  pids_obj (&w, fds[CG_ST_PIDS]);
  jw_open (&w, "blkio", "{");
  bool cfq = blk >= 0 && cg_has_file (blk, "blkio.io_service_bytes_recursive");
  blkio_v1_list (&w, "ioServiceBytesRecursive", blk,
                 cfq ? "blkio.io_service_bytes_recursive"
                     : "blkio.throttle.io_service_bytes_recursive");
  blkio_v1_list (&w, "ioServicedRecursive", blk,
                 cfq ? "blkio.io_serviced_recursive" : "blkio.throttle.io_serviced_recursive");
  jw_close (&w, "}");
  hugetlb_obj (&w, fds[CG_ST_HUGETLB], hugetlb_v2);
  jw_close (&w, "}");
}

void
cg_v2_stats_json (int dfd, struct skiff_strbuf *out)
{
  struct jw w = { .b = out };
  jw_open (&w, NULL, "{");
  jw_open (&w, "cpu", "{");
  jw_open (&w, "usage", "{");
  jw_u64 (&w, "total", keyed (dfd, "cpu.stat", "usage_usec") * 1000);
  jw_u64 (&w, "kernel", keyed (dfd, "cpu.stat", "system_usec") * 1000);
  jw_u64 (&w, "user", keyed (dfd, "cpu.stat", "user_usec") * 1000);
  jw_close (&w, "}");
  jw_open (&w, "throttling", "{");
  jw_u64 (&w, "periods", keyed (dfd, "cpu.stat", "nr_periods"));
  jw_u64 (&w, "throttledPeriods", keyed (dfd, "cpu.stat", "nr_throttled"));
  jw_u64 (&w, "throttledTime", keyed (dfd, "cpu.stat", "throttled_usec") * 1000);
  jw_close (&w, "}");
  psi (&w, dfd, "cpu.pressure");
  jw_close (&w, "}");
  jw_open (&w, "cpuset", "{");
  jw_close (&w, "}");
  uint64_t usage = rd (dfd, "memory.current"), limit = rd (dfd, "memory.max");
  uint64_t swap = rd (dfd, "memory.swap.current"), swap_max = rd (dfd, "memory.swap.max");
  jw_open (&w, "memory", "{");
  jw_u64 (&w, "cache", keyed (dfd, "memory.stat", "file"));
  mem_entry (&w, "usage", limit, usage, rd (dfd, "memory.peak"),
             keyed (dfd, "memory.events", "max"));
  /* As on v1, swap reports memory plus swap. */
  mem_entry (&w, "swap",
             swap_max == UINT64_MAX || limit == UINT64_MAX ? UINT64_MAX : swap_max + limit,
             swap + usage, 0, keyed (dfd, "memory.swap.events", "max"));
  mem_entry (&w, "kernel", 0, 0, 0, 0);
  mem_entry (&w, "kernelTCP", 0, 0, 0, 0);
  raw_object (&w, "raw", dfd, "memory.stat");
  psi (&w, dfd, "memory.pressure");
  jw_close (&w, "}");
  pids_obj (&w, dfd);
  jw_open (&w, "blkio", "{");
  io_v2_list (&w, "ioServiceBytesRecursive", dfd, "rbytes", "wbytes");
  io_v2_list (&w, "ioServicedRecursive", dfd, "rios", "wios");
  psi (&w, dfd, "io.pressure");
  jw_close (&w, "}");
  hugetlb_obj (&w, dfd, true);
  jw_close (&w, "}");
}

uint64_t
cg_oom_kills (int memory_dfd, bool v2)
{
  if (memory_dfd < 0)
    return 0;
  return keyed (memory_dfd, v2 ? "memory.events" : "memory.oom_control", "oom_kill");
}

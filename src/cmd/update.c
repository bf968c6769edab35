/* skiff update: change the resource limits of a running container, from
   runc's flags or a LinuxResources JSON document (-r FILE, - for stdin). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cmd.h"
#include "libskiff/fsutil.h"
#include "libskiff/log.h"
#include "libskiff/strbuf.h"

static const char usage[]
    = "Usage: skiff update [OPTIONS] ID\n"
      "       skiff update -r FILE ID\n"
      "\n"
      "Change the resource limits of a created, running or paused container\n"
      "and remember them in its state (a later update starts from them).\n"
      "Only the values given change; 0 for a number means \"leave as is\".\n"
      "\n"
      "With -r, the limits come from FILE (\"-\": standard input), a\n"
      "runtime-spec LinuxResources JSON object as containerd sends it, e.g.\n"
      "  {\"memory\": {\"limit\": 268435456}, \"pids\": {\"limit\": 100}}\n"
      "Its members replace the container's (device rules too, when given).\n"
      "\n"
      "Options:\n"
      "  -r, --resources FILE       read the LinuxResources JSON from FILE, or\n"
      "                             from standard input with -; no other option\n"
      "                             may be given with it\n"
      "      --memory BYTES         memory limit (suffixes k, m, g, t; -1: none)\n"
      "      --memory-reservation BYTES\n"
      "                             memory soft limit (v1 soft_limit_in_bytes,\n"
      "                             v2 memory.low)\n"
      "      --memory-swap BYTES    memory plus swap limit; -1: unlimited swap\n"
      "      --kernel-memory BYTES  obsolete; accepted and ignored by the kernel\n"
      "      --kernel-memory-tcp BYTES\n"
      "                             kernel TCP buffer limit (cgroup v1 only)\n"
      "      --cpu-shares N         CPU shares, relative weight (v2: converted\n"
      "                             to cpu.weight); --cpu-share is the same\n"
      "      --cpu-period USEC      CFS period (0: the system default)\n"
      "      --cpu-quota USEC       CFS quota per period (-1: no limit)\n"
      "      --cpu-burst USEC       CFS burst\n"
      "      --cpu-rt-period USEC   realtime period (cgroup v1 only)\n"
      "      --cpu-rt-runtime USEC  realtime runtime per period (cgroup v1 only)\n"
      "      --cpu-idle 0|1         1: the cgroup runs as SCHED_IDLE (cpu.idle;\n"
      "                             its CPU weight is then the kernel's); 0: not\n"
      "      --cpuset-cpus LIST     CPUs to run on, e.g. 0-2,4\n"
      "      --cpuset-mems LIST     memory nodes to use, e.g. 0\n"
      "      --pids-limit N         maximum number of processes (-1: none)\n"
      "      --blkio-weight N       block I/O weight, 10 to 1000 (v2: converted\n"
      "                             to io.weight)\n"
      "      --l3-cache-schema S    Intel RDT/CAT L3 cache schema, e.g. L3:0=ff\n"
      "      --mem-bw-schema S      Intel RDT/MBA memory bandwidth schema, e.g.\n"
      "                             MB:0=50 (both: written to the schemata of\n"
      "                             the container's resctrl group, first; the\n"
      "                             container needs linux.intelRdt)\n"
      "  -h, --help                 show this help\n"
      "\n"
      "Exit status: 0 when every limit was applied; 1 when the container does\n"
      "not exist or is stopped, a value is invalid, or the kernel refused one\n"
      "(the error names linux.resources.<key>).\n";

enum
{
  O_MEMORY = 256,
  O_MEMORY_RESERVATION,
  O_MEMORY_SWAP,
  O_KERNEL_MEMORY,
  O_KERNEL_MEMORY_TCP,
  O_CPU_SHARES,
  O_CPU_PERIOD,
  O_CPU_QUOTA,
  O_CPU_BURST,
  O_CPU_RT_PERIOD,
  O_CPU_RT_RUNTIME,
  O_CPU_IDLE,
  O_CPUSET_CPUS,
  O_CPUSET_MEMS,
  O_PIDS_LIMIT,
  O_BLKIO_WEIGHT,
  O_L3_CACHE_SCHEMA,
  O_MEM_BW_SCHEMA,
  O_COUNT
};

/* "512m", "1G", "1024", "-1" (binary units, as runc's RAMInBytes). */
static int
parse_bytes (const char *s, int64_t *out)
{
  char *end;
  errno = 0;
  double v = strtod (s, &end);
  if (errno || end == s)
    return -1;
  int64_t mult = 1;
  switch (*end)
    {
    case 'k':
    case 'K':
      mult = 1LL << 10;
      end++;
      break;
    case 'm':
    case 'M':
      mult = 1LL << 20;
      end++;
      break;
    case 'g':
    case 'G':
      mult = 1LL << 30;
      end++;
      break;
    case 't':
    case 'T':
      mult = 1LL << 40;
      end++;
      break;
    case 'p':
    case 'P':
      mult = 1LL << 50;
      end++;
      break;
    default:
      break;
    }
  if (strcasecmp (end, "ib") == 0 || strcasecmp (end, "b") == 0)
    end += strlen (end);
  if (*end)
    return -1;
  *out = (int64_t)(v * (double)mult);
  return 0;
}

static int
parse_int (const char *s, int64_t *out)
{
  char *end;
  errno = 0;
  long long v = strtoll (s, &end, 10);
  if (errno || end == s || *end)
    return -1;
  *out = v;
  return 0;
}

/* The flags as a LinuxResources document. */
static char *
flags_json (const char *val[O_COUNT], const int64_t num[O_COUNT])
{
  struct skiff_strbuf b = { 0 };
  bool any_mem = val[O_MEMORY] || val[O_MEMORY_RESERVATION] || val[O_MEMORY_SWAP]
                 || val[O_KERNEL_MEMORY] || val[O_KERNEL_MEMORY_TCP];
  bool any_cpu = false;
  for (int i = O_CPU_SHARES; i <= O_CPUSET_MEMS; i++)
    any_cpu |= val[i] != NULL;
  const char *sep = "";
  strbuf_puts (&b, "{");
  if (any_mem)
    {
      static const struct
      {
        int opt;
        const char *key;
      } m[] = {
        { O_MEMORY, "limit" },
        { O_MEMORY_RESERVATION, "reservation" },
        { O_MEMORY_SWAP, "swap" },
        { O_KERNEL_MEMORY, "kernel" },
        { O_KERNEL_MEMORY_TCP, "kernelTCP" },
      };
      const char *s2 = "";
      strbuf_puts (&b, "\"memory\":{");
      for (size_t i = 0; i < sizeof m / sizeof *m; i++)
        if (val[m[i].opt])
          {
            strbuf_printf (&b, "%s\"%s\":%" PRId64, s2, m[i].key, num[m[i].opt]);
            s2 = ",";
          }
      strbuf_puts (&b, "}");
      sep = ",";
    }
  if (any_cpu)
    {
      static const struct
      {
        int opt;
        const char *key;
      } c[] = {
        { O_CPU_SHARES, "shares" },
        { O_CPU_PERIOD, "period" },
        { O_CPU_QUOTA, "quota" },
        { O_CPU_BURST, "burst" },
        { O_CPU_RT_PERIOD, "realtimePeriod" },
        { O_CPU_RT_RUNTIME, "realtimeRuntime" },
        { O_CPU_IDLE, "idle" },
      };
      const char *s2 = "";
      strbuf_printf (&b, "%s\"cpu\":{", sep);
      for (size_t i = 0; i < sizeof c / sizeof *c; i++)
        if (val[c[i].opt])
          {
            strbuf_printf (&b, "%s\"%s\":%" PRId64, s2, c[i].key, num[c[i].opt]);
            s2 = ",";
          }
      if (val[O_CPUSET_CPUS])
        {
          strbuf_printf (&b, "%s\"cpus\":", s2);
          skiff_json_quote (&b, val[O_CPUSET_CPUS]);
          s2 = ",";
        }
      if (val[O_CPUSET_MEMS])
        {
          strbuf_printf (&b, "%s\"mems\":", s2);
          skiff_json_quote (&b, val[O_CPUSET_MEMS]);
        }
      strbuf_puts (&b, "}");
      sep = ",";
    }
  if (val[O_PIDS_LIMIT])
    {
      strbuf_printf (&b, "%s\"pids\":{\"limit\":%" PRId64 "}", sep, num[O_PIDS_LIMIT]);
      sep = ",";
    }
  if (val[O_BLKIO_WEIGHT])
    strbuf_printf (&b, "%s\"blockIO\":{\"weight\":%" PRId64 "}", sep, num[O_BLKIO_WEIGHT]);
  strbuf_puts (&b, "}");
  return strbuf_steal (&b);
}

static int
read_resources (const char *file, char **out, size_t *len, skiff_error_t *err)
{
  if (strcmp (file, "-") == 0)
    {
      int r = read_all_fd (0, out, len, 16 << 20);
      return r < 0 ? skiff_error (err, -r, "read the resources from standard input") : 0;
    }
  return read_file_at (AT_FDCWD, file, out, len, err);
}

int
cmd_update (struct skiff_context *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "resources", required_argument, NULL, 'r' },
    { "memory", required_argument, NULL, O_MEMORY },
    { "memory-reservation", required_argument, NULL, O_MEMORY_RESERVATION },
    { "memory-swap", required_argument, NULL, O_MEMORY_SWAP },
    { "kernel-memory", required_argument, NULL, O_KERNEL_MEMORY },
    { "kernel-memory-tcp", required_argument, NULL, O_KERNEL_MEMORY_TCP },
    { "cpu-shares", required_argument, NULL, O_CPU_SHARES },
    { "cpu-share", required_argument, NULL, O_CPU_SHARES },
    { "cpu-period", required_argument, NULL, O_CPU_PERIOD },
    { "cpu-quota", required_argument, NULL, O_CPU_QUOTA },
    { "cpu-burst", required_argument, NULL, O_CPU_BURST },
    { "cpu-rt-period", required_argument, NULL, O_CPU_RT_PERIOD },
    { "cpu-rt-runtime", required_argument, NULL, O_CPU_RT_RUNTIME },
    { "cpuset-cpus", required_argument, NULL, O_CPUSET_CPUS },
    { "cpuset-mems", required_argument, NULL, O_CPUSET_MEMS },
    { "pids-limit", required_argument, NULL, O_PIDS_LIMIT },
    { "blkio-weight", required_argument, NULL, O_BLKIO_WEIGHT },
    { "cpu-idle", required_argument, NULL, O_CPU_IDLE },
    { "l3-cache-schema", required_argument, NULL, O_L3_CACHE_SCHEMA },
    { "mem-bw-schema", required_argument, NULL, O_MEM_BW_SCHEMA },
    { NULL, 0, NULL, 0 },
  };
  const char *val[O_COUNT] = { 0 };
  int64_t num[O_COUNT] = { 0 };
  const char *resources = NULL;
  bool any = false;
  cleanup_error skiff_error_t err = NULL;
  int c, idx = 0;
  if (cmd_wants_help (argc, argv, usage))
    return 0;
  while ((c = getopt_long (argc, argv, "+r:", opts, &idx)) != -1)
    {
      if (c == 'r')
        {
          resources = optarg;
          continue;
        }
      if (c < O_MEMORY || c >= O_COUNT)
        return cmd_usage_error ("update", "invalid option");
      val[c] = optarg;
      if (c == O_L3_CACHE_SCHEMA || c == O_MEM_BW_SCHEMA)
        continue; /* linux.intelRdt, not a resource */
      any = true;
      if (c == O_CPUSET_CPUS || c == O_CPUSET_MEMS)
        continue;
      bool bytes = c <= O_KERNEL_MEMORY_TCP;
      if ((bytes ? parse_bytes (optarg, &num[c]) : parse_int (optarg, &num[c])) < 0)
        return cmd_usage_error ("update", "invalid value `%s` for --%s", optarg, opts[idx].name);
      if (num[c] == 0 && c != O_CPU_IDLE)
        val[c] = NULL; /* 0: leave as is, as runc; idle 0 is a value */
    }
  if (val[O_BLKIO_WEIGHT] && num[O_BLKIO_WEIGHT] != 0
      && (num[O_BLKIO_WEIGHT] < 10 || num[O_BLKIO_WEIGHT] > 1000))
    return cmd_usage_error ("update", "--blkio-weight %s: the range is 10 to 1000",
                            val[O_BLKIO_WEIGHT]);
  if (resources && any)
    return cmd_usage_error ("update", "--resources cannot be combined with other limits");
  if (optind >= argc)
    return cmd_usage_error ("update", "missing container ID");
  if (optind + 1 < argc)
    return cmd_usage_error ("update", "unexpected argument `%s`", argv[optind + 1]);
  if ((val[O_L3_CACHE_SCHEMA] || val[O_MEM_BW_SCHEMA])
      && skiff_container_update_intel_rdt (ctx, argv[optind], val[O_L3_CACHE_SCHEMA],
                                           val[O_MEM_BW_SCHEMA], &err)
             < 0)
    return cmd_fail (&err);
  cleanup_free char *json = NULL;
  size_t len = 0;
  if (resources)
    {
      if (read_resources (resources, &json, &len, &err) < 0)
        return cmd_fail (&err);
    }
  else
    {
      json = flags_json (val, num);
      len = strlen (json);
    }
  if (skiff_container_update (ctx, argv[optind], json, len, &err) < 0)
    return cmd_fail (&err);
  return 0;
}

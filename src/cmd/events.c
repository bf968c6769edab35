/* skiff events: the container's resource usage as runc's JSON events. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

/* "5s", "500ms", "1m", "1h" or plain seconds; returns milliseconds. */
static long long
parse_interval (const char *s)
{
  char *end;
  errno = 0;
  double v = strtod (s, &end);
  if (errno || end == s || v <= 0)
    return -1;
  double ms = strcmp (end, "ms") == 0           ? v
              : strcmp (end, "s") == 0 || !*end ? v * 1000
              : strcmp (end, "m") == 0          ? v * 60000
              : strcmp (end, "h") == 0          ? v * 3600000
                                                : -1;
  return ms < 1 ? -1 : (long long)ms;
}

static int
print_event (const char *json, void *data)
{
  (void)data;
  if (printf ("%s\n", json) < 0 || fflush (stdout) != 0)
    return -1; /* the reader went away */
  return 0;
}

int
cmd_events (struct skiff_context *ctx, int argc, char **argv)
{
  static const char usage[]
      = "Usage: skiff events [--stats] [--interval DURATION] ID\n"
        "\n"
        "Print the container's events as JSON, one object per line, in runc's\n"
        "format: {\"type\":\"stats\",\"id\":ID,\"data\":{cpu, memory, pids, blkio,\n"
        "hugetlb...}} every interval, and {\"type\":\"oom\",\"id\":ID} when the OOM\n"
        "killer kills a process of the container.  Runs until the container\n"
        "stops.  The statistics come from the container's cgroup (v1 or v2).\n"
        "\n"
        "Options:\n"
        "      --stats               print one stats event and exit\n"
        "      --interval DURATION   time between stats events: 500ms, 5s, 1m...\n"
        "                            (default 5s; a plain number is seconds)\n"
        "  -h, --help                show this help\n"
        "\n"
        "Exit status: 0 when the container stopped (or --stats printed); 1\n"
        "when it does not exist or is not running.\n";
  enum
  {
    O_STATS = 256,
    O_INTERVAL
  };
  static const struct option opts[] = { { "stats", no_argument, NULL, O_STATS },
                                        { "interval", required_argument, NULL, O_INTERVAL },
                                        { NULL, 0, NULL, 0 } };
  cleanup_error skiff_error_t err = NULL;
  bool stats = false;
  long long interval = 5000;
  int c;
  if (cmd_wants_help (argc, argv, usage))
    return 0;
  while ((c = getopt_long (argc, argv, "+", opts, NULL)) != -1)
    {
      if (c == O_STATS)
        stats = true;
      else if (c == O_INTERVAL && (interval = parse_interval (optarg)) > 0)
        continue;
      else if (c == O_INTERVAL)
        return cmd_usage_error ("events", "invalid --interval `%s`", optarg);
      else
        return cmd_usage_error ("events", "invalid option");
    }
  if (optind >= argc)
    return cmd_usage_error ("events", "missing container ID");
  if (optind + 1 < argc)
    return cmd_usage_error ("events", "unexpected argument `%s`", argv[optind + 1]);
  if (stats)
    {
      cleanup_free char *json = NULL;
      if (skiff_container_stats (ctx, argv[optind], &json, &err) < 0)
        return cmd_fail (&err);
      printf ("%s\n", json);
      return 0;
    }
  if (skiff_container_events (ctx, argv[optind], (unsigned)interval, print_event, NULL, &err) < 0)
    return cmd_fail (&err);
  return 0;
}

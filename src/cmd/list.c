#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static const char usage[] = "Usage: skiff list [--format table|json] [--quiet]\n"
                            "\n"
                            "List the containers in the state directory.\n"
                            "\n"
                            "  -f, --format FORMAT   table (default) or json\n"
                            "  -q, --quiet           print only the ids\n";

int
cmd_list (struct skiff_context *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "format", required_argument, NULL, 'f' },
    { "quiet", no_argument, NULL, 'q' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_error skiff_error_t err = NULL;
  struct skiff_list_entry *l = NULL;
  size_t n = 0;
  bool json = false, quiet = false;
  int c;
  if (cmd_wants_help (argc, argv, usage))
    return 0;
  while ((c = getopt_long (argc, argv, "+f:q", opts, NULL)) != -1)
    {
      if (c == 'q')
        quiet = true;
      else if (c == 'f' && (strcmp (optarg, "json") == 0 || strcmp (optarg, "table") == 0))
        json = strcmp (optarg, "json") == 0;
      else
        return cmd_usage_error ("list", c == 'f' ? "invalid --format: use table or json"
                                                 : "invalid option");
    }
  if (optind != argc)
    return cmd_usage_error ("list", "unexpected argument `%s`", argv[optind]);
  if (skiff_container_list (ctx, &l, &n, &err) < 0)
    return cmd_fail (&err);
  if (quiet)
    for (size_t i = 0; i < n; i++)
      printf ("%s\n", l[i].id);
  else if (json)
    {
      printf ("[");
      for (size_t i = 0; i < n; i++)
        printf ("%s%s", i ? "," : "", l[i].json);
      printf ("]\n");
    }
  else
    {
      printf ("%-12s %-8s %-10s %-40s %-31s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
              "OWNER");
      for (size_t i = 0; i < n; i++)
        printf ("%-12s %-8d %-10s %-40s %-31s %s\n", l[i].id, (int)l[i].pid, l[i].status,
                l[i].bundle, l[i].created, l[i].owner);
    }
  skiff_list_free (l, n);
  return 0;
}

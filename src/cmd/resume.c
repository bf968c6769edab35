/* skiff resume ID: thaw a paused container. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "cmd.h"

int
cmd_resume (struct skiff_context *ctx, int argc, char **argv)
{
  static const char usage[]
      = "Usage: skiff resume ID\n"
        "\n"
        "Resume every process of a container suspended by `skiff pause`: the\n"
        "cgroup v1 freezer goes back to THAWED, or cgroup v2 cgroup.freeze to 0.\n"
        "`skiff state` reports \"running\" again.\n"
        "\n"
        "Options:\n"
        "  -h, --help   show this help\n"
        "\n"
        "Exit status: 0 when the container runs again; 1 when it does not exist\n"
        "or is not paused.\n";
  static const struct option opts[] = { { NULL, 0, NULL, 0 } };
  cleanup_error skiff_error_t err = NULL;
  if (cmd_wants_help (argc, argv, usage))
    return 0;
  if (getopt_long (argc, argv, "+", opts, NULL) != -1)
    return cmd_usage_error ("resume", "invalid option");
  if (argc - optind < 1)
    return cmd_usage_error ("resume", "missing container ID");
  if (argc - optind > 1)
    return cmd_usage_error ("resume", "unexpected argument `%s`", argv[optind + 1]);
  if (skiff_container_resume (ctx, argv[optind], &err) < 0)
    return cmd_fail (&err);
  return 0;
}

/* skiff pause ID: freeze every process of a running container. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "cmd.h"

int
cmd_pause (struct skiff_context *ctx, int argc, char **argv)
{
  static const char usage[]
      = "Usage: skiff pause ID\n"
        "\n"
        "Suspend every process of a running container: the cgroup v1 freezer\n"
        "(freezer.state FROZEN) or cgroup v2 cgroup.freeze.  The processes keep\n"
        "their memory and open files and get no signal; `skiff state` reports\n"
        "the container as \"paused\" until `skiff resume ID`.\n"
        "\n"
        "A paused container can be killed (`skiff kill ID KILL`, `kill --all`) or\n"
        "deleted with `delete --force`; `exec` is refused until it resumes.\n"
        "\n"
        "Options:\n"
        "  -h, --help   show this help\n"
        "\n"
        "Exit status: 0 when the container is paused; 1 when it does not exist,\n"
        "is not running, or has no cgroup to freeze.\n";
  static const struct option opts[] = { { NULL, 0, NULL, 0 } };
  cleanup_error skiff_error_t err = NULL;
  if (cmd_wants_help (argc, argv, usage))
    return 0;
  if (getopt_long (argc, argv, "+", opts, NULL) != -1)
    return cmd_usage_error ("pause", "invalid option");
  if (argc - optind < 1)
    return cmd_usage_error ("pause", "missing container ID");
  if (argc - optind > 1)
    return cmd_usage_error ("pause", "unexpected argument `%s`", argv[optind + 1]);
  if (skiff_container_pause (ctx, argv[optind], &err) < 0)
    return cmd_fail (&err);
  return 0;
}

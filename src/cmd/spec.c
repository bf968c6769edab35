#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "cmd.h"

static const char usage[]
    = "Usage: skiff spec [--bundle DIR] [--rootless]\n"
      "\n"
      "Write a default config.json into the bundle directory; an existing\n"
      "config.json is never overwritten.\n"
      "\n"
      "  -b, --bundle DIR   bundle directory (default: current directory)\n"
      "      --rootless     a config for an unprivileged user (user namespace)\n";

int
cmd_spec (struct skiff_context *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "bundle", required_argument, NULL, 'b' },
    { "rootless", no_argument, NULL, 'r' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_error skiff_error_t err = NULL;
  const char *bundle = ".";
  bool rootless = ctx->rootless == 1;
  int c;

  if (cmd_wants_help (argc, argv, usage))
    return 0;
  while ((c = getopt_long (argc, argv, "+b:", opts, NULL)) != -1)
    switch (c)
      {
      case 'b':
        bundle = optarg;
        break;
      case 'r':
        rootless = true;
        break;
      default:
        return cmd_usage_error ("spec", "invalid option");
      }
  if (optind != argc)
    return cmd_usage_error ("spec", "unexpected argument `%s`", argv[optind]);
  if (skiff_spec_write (bundle, rootless, &err) < 0)
    return cmd_fail (&err);
  return 0;
}

#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"

static const char usage[]
    = "Usage: skiff features\n"
      "\n"
      "Print what this build of skiff and this host support (namespaces,\n"
      "capabilities, cgroup drivers, seccomp actions, mount options...) as the\n"
      "runtime-spec features document.\n";

int
cmd_features (struct skiff_context *ctx, int argc, char **argv)
{
  (void)ctx;
  if (cmd_wants_help (argc, argv, usage))
    return 0;
  if (argc > 1)
    return cmd_usage_error ("features", "unexpected argument `%s`", argv[1]);
  char *json = skiff_features_json ();
  if (json == NULL)
    return 1;
  printf ("%s\n", json);
  free (json);
  return 0;
}

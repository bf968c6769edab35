#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static const char usage[]
    = "Usage: skiff check [--bundle DIR] [--format text|json] [--plan]\n"
      "\n"
      "Validate a bundle without creating anything: report every problem of\n"
      "its config.json with file:line:column, JSON path and a fix hint, plus\n"
      "warnings for what this host cannot do.  Exit status 1 when there is an\n"
      "error, 0 otherwise (warnings alone do not fail).\n"
      "\n"
      "With --plan, print instead what create and start would do with the\n"
      "bundle on this host, in order, without doing it: namespaces, id maps,\n"
      "cgroup, every mount, devices, hooks, capabilities, seccomp and the\n"
      "final exec.\n"
      "\n"
      "  -b, --bundle DIR     bundle directory (default: current directory)\n"
      "  -f, --format FORMAT  text (default) or json (the diagnostics only)\n"
      "  -p, --plan           print the setup plan instead of the diagnostics\n";

int
cmd_check (struct skiff_context *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "bundle", required_argument, NULL, 'b' },
    { "format", required_argument, NULL, 'f' },
    { "plan", no_argument, NULL, 'p' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_error skiff_error_t err = NULL;
  struct skiff_check_report r = { 0 };
  const char *bundle = ".";
  bool json = false, plan = false;
  int c;
  if (cmd_wants_help (argc, argv, usage))
    return 0;
  while ((c = getopt_long (argc, argv, "+b:f:p", opts, NULL)) != -1)
    {
      if (c == 'b')
        bundle = optarg;
      else if (c == 'p')
        plan = true;
      else if (c == 'f' && (strcmp (optarg, "json") == 0 || strcmp (optarg, "text") == 0))
        json = strcmp (optarg, "json") == 0;
      else
        return cmd_usage_error ("check",
                                c == 'f' ? "invalid --format: use text or json" : "invalid option");
    }
  if (optind != argc)
    return cmd_usage_error ("check", "unexpected argument `%s`", argv[optind]);
  if (plan && json)
    return cmd_usage_error ("check", "--plan is text only");
  if (plan)
    {
      char *text = NULL;
      if (skiff_plan_bundle (ctx, bundle, NULL, &text, &err) < 0)
        return cmd_fail (&err);
      fputs (text, stdout);
      free (text);
      return 0;
    }
  if (skiff_check_bundle (bundle, &r, &err) < 0)
    return cmd_fail (&err);
  char *out = skiff_check_format (&r, json);
  fputs (out, stdout);
  free (out);
  size_t errors = r.errors;
  skiff_check_report_free (&r);
  return errors ? 1 : 0;
}

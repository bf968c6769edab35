/* The verbs that take just an ID: start, state, delete, kill. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

/* Parse flags from `opts`; returns the index of the first positional
   argument, or -1 after reporting a usage error. */
static int
parse_id_cmd (const char *verb, int argc, char **argv, const struct option *opts,
              const char *shortopts, bool *flag_a, bool *flag_b, int min_pos, int max_pos)
{
  int c;
  while ((c = getopt_long (argc, argv, shortopts, opts, NULL)) != -1)
    {
      if (c == 'a' || c == 'f')
        *flag_a = true;
      else if (c == 'x' && flag_b)
        *flag_b = true;
      else
        return cmd_usage_error (verb, "invalid option"), -1;
    }
  int n = argc - optind;
  if (n < min_pos)
    return cmd_usage_error (verb, "missing container ID"), -1;
  if (n > max_pos)
    return cmd_usage_error (verb, "unexpected argument `%s`", argv[optind + max_pos]), -1;
  return optind;
}

int
cmd_start (struct skiff_context *ctx, int argc, char **argv)
{
  static const char usage[]
      = "Usage: skiff start ID\n\nStart a created container: run its process.\n";
  static const struct option opts[] = { { NULL, 0, NULL, 0 } };
  cleanup_error skiff_error_t err = NULL;
  bool unused = false;
  if (cmd_wants_help (argc, argv, usage))
    return 0;
  int i = parse_id_cmd ("start", argc, argv, opts, "+", &unused, NULL, 1, 1);
  if (i < 0)
    return 1;
  if (skiff_container_start (ctx, argv[i], &err) < 0)
    return cmd_fail (&err);
  return 0;
}

int
cmd_state (struct skiff_context *ctx, int argc, char **argv)
{
  static const char usage[]
      = "Usage: skiff state ID\n\nPrint the state of a container as JSON (runtime-spec state\n"
        "plus rootfs, created and owner, as runc prints them).\n";
  static const struct option opts[] = { { NULL, 0, NULL, 0 } };
  cleanup_error skiff_error_t err = NULL;
  cleanup_free char *json = NULL;
  bool unused = false;
  if (cmd_wants_help (argc, argv, usage))
    return 0;
  int i = parse_id_cmd ("state", argc, argv, opts, "+", &unused, NULL, 1, 1);
  if (i < 0)
    return 1;
  if (skiff_container_state (ctx, argv[i], &json, &err) < 0)
    return cmd_fail (&err);
  printf ("%s\n", json);
  return 0;
}

int
cmd_delete (struct skiff_context *ctx, int argc, char **argv)
{
  static const char usage[]
      = "Usage: skiff delete [--force] ID\n\nDelete a container: its process (when created),\n"
        "cgroup and state.  poststop hooks run.\n\n"
        "  -f, --force   kill a running container first\n";
  static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
  cleanup_error skiff_error_t err = NULL;
  bool force = false;
  if (cmd_wants_help (argc, argv, usage))
    return 0;
  int i = parse_id_cmd ("delete", argc, argv, opts, "+f", &force, NULL, 1, 1);
  if (i < 0)
    return 1;
  if (skiff_container_delete (ctx, argv[i], force, &err) < 0)
    return cmd_fail (&err);
  return 0;
}

int
cmd_kill (struct skiff_context *ctx, int argc, char **argv)
{
  static const char usage[]
      = "Usage: skiff kill [--all] ID [SIGNAL]\n\nSend a signal (default TERM) to the container's\n"
        "init.  SIGNAL is a name with or without SIG, or a number.\n\n"
        "  -a, --all   signal every process of the container\n";
  static const struct option opts[] = { { "all", no_argument, NULL, 'a' }, { NULL, 0, NULL, 0 } };
  cleanup_error skiff_error_t err = NULL;
  bool all = false;
  if (cmd_wants_help (argc, argv, usage))
    return 0;
  int i = parse_id_cmd ("kill", argc, argv, opts, "+a", &all, NULL, 1, 2);
  if (i < 0)
    return 1;
  int sig = skiff_parse_signal (i + 1 < argc ? argv[i + 1] : "TERM", &err);
  if (sig < 0)
    return cmd_fail (&err);
  if (skiff_container_kill (ctx, argv[i], sig, all, &err) < 0)
    return cmd_fail (&err);
  return 0;
}

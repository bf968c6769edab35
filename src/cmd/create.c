#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"

static const char usage[]
    = "Usage: skiff create [OPTIONS] ID\n"
      "\n"
      "Create a container from a bundle.  The process does not run until\n"
      "'skiff start ID'.\n"
      "\n"
      "  -b, --bundle DIR        bundle directory (default: current directory)\n"
      "      --pid-file FILE     write the container's pid to FILE\n"
      "      --console-socket S  send the terminal's master fd to unix socket S\n"
      "      --pidfd-socket S    send a pidfd of the container's process to unix socket S\n"
      "      --preserve-fds N    pass N extra fds (from 3) to the container\n"
      "      --no-pivot          use MS_MOVE + chroot instead of pivot_root\n"
      "      --no-new-keyring    keep the caller's session keyring\n";

enum
{
  OPT_PID_FILE = 256,
  OPT_CONSOLE_SOCKET,
  OPT_PRESERVE_FDS,
  OPT_NO_PIVOT,
  OPT_NO_NEW_KEYRING,
  OPT_DETACH,
  OPT_KEEP,
  OPT_PIDFD_SOCKET,
  OPT_NO_SUBREAPER,
};

/* Shared by create and run (run: r non-NULL): returns the index of ID or
   -1. */
int create_parse_opts (const char *verb, int argc, char **argv, struct skiff_create_opts *o,
                       struct skiff_run_opts *r);

int
create_parse_opts (const char *verb, int argc, char **argv, struct skiff_create_opts *o,
                   struct skiff_run_opts *r)
{
  static const struct option opts[] = {
    { "bundle", required_argument, NULL, 'b' },
    { "pid-file", required_argument, NULL, OPT_PID_FILE },
    { "console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET },
    { "preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS },
    { "no-pivot", no_argument, NULL, OPT_NO_PIVOT },
    { "no-new-keyring", no_argument, NULL, OPT_NO_NEW_KEYRING },
    { "detach", no_argument, NULL, 'd' },
    { "keep", no_argument, NULL, OPT_KEEP },
    { "pidfd-socket", required_argument, NULL, OPT_PIDFD_SOCKET },
    { "no-subreaper", no_argument, NULL, OPT_NO_SUBREAPER },
    { NULL, 0, NULL, 0 },
  };
  int c;
  char *end;
  while ((c = getopt_long (argc, argv, r ? "+b:d" : "+b:", opts, NULL)) != -1)
    switch (c)
      {
      case 'b':
        o->bundle = optarg;
        break;
      case OPT_PID_FILE:
        o->pid_file = optarg;
        break;
      case OPT_CONSOLE_SOCKET:
        o->console_socket = optarg;
        break;
      case OPT_PRESERVE_FDS:
        o->preserve_fds = (int)strtol (optarg, &end, 10);
        if (*end || o->preserve_fds < 0)
          return cmd_usage_error (verb, "invalid --preserve-fds `%s`", optarg), -1;
        break;
      case OPT_NO_PIVOT:
        o->no_pivot = true;
        break;
      case OPT_NO_NEW_KEYRING:
        o->no_new_keyring = true;
        break;
      case OPT_PIDFD_SOCKET:
        o->pidfd_socket = optarg;
        break;
      case 'd':
      case OPT_KEEP:
      case OPT_NO_SUBREAPER:
        if (r == NULL)
          return cmd_usage_error (verb, "unknown option `%s`", argv[optind - 1]), -1;
        if (c == 'd')
          r->detach = true;
        else if (c == OPT_KEEP)
          r->keep = true;
        else
          r->no_subreaper = true;
        break;
      default:
        return cmd_usage_error (verb, "invalid option"), -1;
      }
  if (optind != argc - 1)
    return cmd_usage_error (verb, optind >= argc ? "missing container ID"
                                                 : "expected exactly one container ID"),
           -1;
  return optind;
}

int
cmd_create (struct skiff_context *ctx, int argc, char **argv)
{
  struct skiff_create_opts o = { 0 };
  struct skiff_created out;
  cleanup_error skiff_error_t err = NULL;
  if (cmd_wants_help (argc, argv, usage))
    return 0;
  int idx = create_parse_opts ("create", argc, argv, &o, NULL);
  if (idx < 0)
    return 1;
  if (skiff_container_create (ctx, argv[idx], &o, &out, &err) < 0)
    return cmd_fail (&err);
  return 0;
}

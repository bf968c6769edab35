#include "config.h"

#include <stdio.h>

#include "cmd.h"

static const char usage[]
    = "Usage: skiff run [OPTIONS] ID\n"
      "\n"
      "Create and start a container.  In the foreground, skiff waits for the\n"
      "process, forwards signals to it and exits with its status (128+N when\n"
      "killed by signal N); a terminal container uses the caller's terminal.\n"
      "\n"
      "  -b, --bundle DIR        bundle directory (default: current directory)\n"
      "  -d, --detach            return once the container runs\n"
      "      --keep              keep the stopped container (no delete)\n"
      "      --pid-file FILE     write the container's pid to FILE\n"
      "      --console-socket S  send the terminal's master fd to unix socket S\n"
      "      --pidfd-socket S    send a pidfd of the container's process to unix socket S\n"
      "      --no-subreaper      do not adopt (and reap) the container's orphans\n"
      "      --preserve-fds N    pass N extra fds (from 3) to the container\n"
      "      --no-pivot          use MS_MOVE + chroot instead of pivot_root\n"
      "      --no-new-keyring    keep the caller's session keyring\n";

int create_parse_opts (const char *verb, int argc, char **argv, struct skiff_create_opts *o,
                       struct skiff_run_opts *r);

int
cmd_run (struct skiff_context *ctx, int argc, char **argv)
{
  struct skiff_create_opts o = { 0 };
  cleanup_error skiff_error_t err = NULL;
  struct skiff_run_opts r = { 0 };
  int status = 0;
  if (cmd_wants_help (argc, argv, usage))
    return 0;
  int idx = create_parse_opts ("run", argc, argv, &o, &r);
  if (idx < 0)
    return 1;
  if (skiff_container_run (ctx, argv[idx], &o, &r, &status, &err) < 0)
    return cmd_fail (&err);
  return status;
}

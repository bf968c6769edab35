#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static const char usage[]
    = "Usage: skiff exec [OPTIONS] ID COMMAND [ARG...]\n"
      "       skiff exec [OPTIONS] --process FILE ID\n"
      "\n"
      "Run a process in a running container: it joins every namespace and the\n"
      "cgroup of the container and gets its security settings.  Attached, skiff\n"
      "exits with the process's status.\n"
      "\n"
      "  -p, --process FILE        process.json to run instead of COMMAND\n"
      "  -t, --tty                 allocate a terminal\n"
      "      --console-socket S    send the terminal's master fd to unix socket S\n"
      "  -d, --detach              do not wait for the process\n"
      "      --pid-file FILE       write the process's pid to FILE\n"
      "      --pidfd-socket S      send a pidfd of the process to unix socket S\n"
      "  -e, --env VAR=VALUE       add an environment variable (repeatable)\n"
      "      --cwd DIR             working directory inside the container\n"
      "  -u, --user UID[:GID]      run as this user\n"
      "  -g, --additional-gids G   add a supplementary group (repeatable)\n"
      "  -c, --cap CAP             add a capability (repeatable; never inheritable)\n"
      "      --no-new-privs        set no_new_privs\n"
      "      --preserve-fds N      pass N extra fds (from 3)\n"
      "      --process-label L     SELinux label of the process\n"
      "      --apparmor PROFILE    AppArmor profile of the process\n"
      "      --cgroup SUB          run in this sub-cgroup of the container's:\n"
      "                            [CONTROLLER[,CONTROLLER]:]PATH (repeatable)\n"
      "      --ignore-paused       exec into a paused container (the process starts frozen)\n";

enum
{
  OPT_CONSOLE_SOCKET = 256,
  OPT_PID_FILE,
  OPT_CWD,
  OPT_NO_NEW_PRIVS,
  OPT_PRESERVE_FDS,
  OPT_PROCESS_LABEL,
  OPT_APPARMOR,
  OPT_PIDFD_SOCKET,
  OPT_CGROUP,
  OPT_IGNORE_PAUSED,
};

static char **
push (char **v, size_t *n, char *s)
{
  char **r = realloc (v, (*n + 1) * sizeof *r);
  if (r == NULL)
    abort ();
  r[(*n)++] = s;
  return r;
}

int
cmd_exec (struct skiff_context *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "process", required_argument, NULL, 'p' },
    { "tty", no_argument, NULL, 't' },
    { "console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET },
    { "detach", no_argument, NULL, 'd' },
    { "pid-file", required_argument, NULL, OPT_PID_FILE },
    { "env", required_argument, NULL, 'e' },
    { "cwd", required_argument, NULL, OPT_CWD },
    { "user", required_argument, NULL, 'u' },
    { "additional-gids", required_argument, NULL, 'g' },
    { "cap", required_argument, NULL, 'c' },
    { "no-new-privs", no_argument, NULL, OPT_NO_NEW_PRIVS },
    { "preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS },
    { "process-label", required_argument, NULL, OPT_PROCESS_LABEL },
    { "apparmor", required_argument, NULL, OPT_APPARMOR },
    { "pidfd-socket", required_argument, NULL, OPT_PIDFD_SOCKET },
    { "cgroup", required_argument, NULL, OPT_CGROUP },
    { "ignore-paused", no_argument, NULL, OPT_IGNORE_PAUSED },
    { NULL, 0, NULL, 0 },
  };
  struct skiff_exec_opts o = { .tty = -1 };
  cleanup_error skiff_error_t err = NULL;
  int c, status = 0;
  char *end;
  if (cmd_wants_help (argc, argv, usage))
    return 0;
  while ((c = getopt_long (argc, argv, "+p:tde:u:g:c:", opts, NULL)) != -1)
    switch (c)
      {
      case 'p':
        o.process_file = optarg;
        break;
      case 't':
        o.tty = 1;
        break;
      case 'd':
        o.detach = true;
        break;
      case 'e':
        o.env = push (o.env, &o.env_len, optarg);
        break;
      case 'u':
        o.user = optarg;
        break;
      case 'g':
        o.additional_gids = push (o.additional_gids, &o.additional_gids_len, optarg);
        break;
      case 'c':
        o.caps = push (o.caps, &o.caps_len, optarg);
        break;
      case OPT_CONSOLE_SOCKET:
        o.console_socket = optarg;
        break;
      case OPT_PID_FILE:
        o.pid_file = optarg;
        break;
      case OPT_CWD:
        o.cwd = optarg;
        break;
      case OPT_NO_NEW_PRIVS:
        o.no_new_privs = true;
        break;
      case OPT_PROCESS_LABEL:
        o.process_label = optarg;
        break;
      case OPT_APPARMOR:
        o.apparmor = optarg;
        break;
      case OPT_PIDFD_SOCKET:
        o.pidfd_socket = optarg;
        break;
      case OPT_CGROUP:
        o.cgroups = push (o.cgroups, &o.cgroups_len, optarg);
        break;
      case OPT_IGNORE_PAUSED:
        o.ignore_paused = true;
        break;
      case OPT_PRESERVE_FDS:
        o.preserve_fds = (int)strtol (optarg, &end, 10);
        if (*end || o.preserve_fds < 0)
          return cmd_usage_error ("exec", "invalid --preserve-fds `%s`", optarg);
        break;
      default:
        return cmd_usage_error ("exec", "invalid option");
      }
  if (optind >= argc)
    return cmd_usage_error ("exec", "missing container ID");
  const char *id = argv[optind++];
  if (o.process_file && optind < argc)
    return cmd_usage_error ("exec", "give either --process or a command, not both");
  if (optind < argc && strcmp (argv[optind], "--") == 0)
    optind++;
  o.args = optind < argc ? argv + optind : NULL;
  int r = skiff_container_exec (ctx, id, &o, &status, &err);
  free (o.env);
  free (o.additional_gids);
  free (o.caps);
  free (o.cgroups);
  if (r < 0)
    return cmd_fail (&err);
  return status;
}

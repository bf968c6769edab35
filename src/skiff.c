/* skiff: an OCI container runtime.  Global flags, the subcommand table and
   error reporting; everything else lives in cmd/ and libskiff/. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "git-commit.h"
#include "libskiff/clone-binary.h"
#include "libskiff/log.h"

const struct skiff_command skiff_commands[] = {
  { "check", "validate a bundle and explain what is wrong with it", cmd_check },
  { "create", "create a container", cmd_create },
  { "delete", "delete a container and everything it holds", cmd_delete },
  { "events", "show resource usage and OOM events of a container as JSON", cmd_events },
  { "exec", "run a process inside a running container", cmd_exec },
  { "features", "show what this runtime and host support", cmd_features },
  { "kill", "send a signal to a container's init", cmd_kill },
  { "list", "list containers", cmd_list },
  { "pause", "suspend every process of a container", cmd_pause },
  { "ps", "show the processes of a container", cmd_ps },
  { "resume", "resume a paused container", cmd_resume },
  { "run", "create and start a container", cmd_run },
  { "spec", "write a default config.json", cmd_spec },
  { "start", "start a created container", cmd_start },
  { "state", "print the state of a container as JSON", cmd_state },
  { "update", "change the resource limits of a container", cmd_update },
  { NULL, NULL, NULL },
};

static void
print_usage (FILE *out)
{
  fprintf (out, "Usage: skiff [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n"
                "\n"
                "skiff is an OCI container runtime.\n"
                "\n"
                "Commands:\n");
  for (const struct skiff_command *c = skiff_commands; c->name; c++)
    fprintf (out, "  %-10s %s\n", c->name, c->summary);
  fprintf (out, "\n"
                "Global options:\n"
                "  --root DIR              state directory (default " SKIFF_DEFAULT_ROOT ",\n"
                "                          rootless: $XDG_RUNTIME_DIR/skiff)\n"
                "  --log FILE              write log messages to FILE\n"
                "  --log-format FORMAT     log format: text or json (default text)\n"
                "  --debug                 log debug messages, including phase timings\n"
                "  --systemd-cgroup        manage cgroups through systemd\n"
                "  --rootless VALUE        true, false or auto (default auto)\n"
                "  -h, --help              show this help\n"
                "  -v, --version           show version and enabled features\n"
                "\n"
                "Run 'skiff COMMAND --help' for a command's options.\n");
}

static void
print_version (void)
{
  printf ("skiff version %s\ncommit: %s\nspec: %s\n%s\n", PACKAGE_VERSION, SKIFF_GIT_COMMIT,
          OCI_SPEC_VERSION, skiff_build_features ());
}

enum
{
  OPT_ROOT = 256,
  OPT_LOG,
  OPT_LOG_FORMAT,
  OPT_DEBUG,
  OPT_SYSTEMD_CGROUP,
  OPT_ROOTLESS,
};

static const struct option global_options[] = {
  { "root", required_argument, NULL, OPT_ROOT },
  { "log", required_argument, NULL, OPT_LOG },
  { "log-format", required_argument, NULL, OPT_LOG_FORMAT },
  { "debug", no_argument, NULL, OPT_DEBUG },
  { "systemd-cgroup", no_argument, NULL, OPT_SYSTEMD_CGROUP },
  { "rootless", required_argument, NULL, OPT_ROOTLESS },
  { "help", no_argument, NULL, 'h' },
  { "version", no_argument, NULL, 'v' },
  { NULL, 0, NULL, 0 },
};

int
cmd_fail (skiff_error_t *err)
{
  skiff_log (SKIFF_LOG_ERROR, "%s", *err ? (*err)->msg : "unknown error");
  /* containerd reads the reason from the log file; a person reads stderr. */
  if (skiff_log_to_file () && *err)
    fprintf (stderr, "skiff: %s\n", (*err)->msg);
  skiff_error_free (err);
  return 1;
}

int
cmd_usage_error (const char *cmd, const char *fmt, ...)
{
  char *msg = NULL;
  va_list ap;
  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  skiff_log (SKIFF_LOG_ERROR, "%s: %s", cmd, msg ? msg : "usage error");
  if (skiff_log_to_file ())
    fprintf (stderr, "skiff %s: %s\n", cmd, msg ? msg : "usage error");
  fprintf (stderr, "Run 'skiff %s --help' for usage.\n", cmd);
  free (msg);
  return 1;
}

bool
cmd_wants_help (int argc, char **argv, const char *usage)
{
  /* Only flags before the first positional argument count: in
     `exec ID sh --help` the --help belongs to sh. */
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--") == 0 || argv[i][0] != '-')
        return false;
      if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0)
        {
          fputs (usage, stdout);
          return true;
        }
    }
  return false;
}

static int
parse_rootless (const char *v)
{
  if (v == NULL || strcmp (v, "true") == 0)
    return 1;
  if (strcmp (v, "false") == 0)
    return 0;
  if (strcmp (v, "auto") == 0)
    return -1;
  return -2;
}

/* The commands that put a process into a container run from an image the
   container cannot write (CVE-2019-5736, see libskiff/clone-binary.h). */
static bool
enters_container (const char *verb)
{
  return strcmp (verb, "create") == 0 || strcmp (verb, "run") == 0 || strcmp (verb, "exec") == 0;
}

int
main (int argc, char **argv)
{
  struct skiff_context ctx = { .root = NULL, .rootless = -1 };
  const char *log_path = NULL;
  skiff_log_format log_format = SKIFF_LOG_TEXT;
  int c;

  while ((c = getopt_long (argc, argv, "+hv", global_options, NULL)) != -1)
    {
      switch (c)
        {
        case OPT_ROOT:
          ctx.root = optarg;
          break;
        case OPT_LOG:
          log_path = optarg;
          break;
        case OPT_LOG_FORMAT:
          if (strcmp (optarg, "json") == 0)
            log_format = SKIFF_LOG_JSON;
          else if (strcmp (optarg, "text") == 0)
            log_format = SKIFF_LOG_TEXT;
          else
            {
              fprintf (stderr, "skiff: invalid --log-format `%s`: expected text or json\n", optarg);
              return 1;
            }
          break;
        case OPT_DEBUG:
          ctx.debug = true;
          break;
        case OPT_SYSTEMD_CGROUP:
          ctx.systemd_cgroup = true;
          break;
        case OPT_ROOTLESS:
          ctx.rootless = parse_rootless (optarg);
          if (ctx.rootless == -2)
            {
              fprintf (stderr, "skiff: invalid --rootless `%s`: expected true, false or auto\n",
                       optarg);
              return 1;
            }
          break;
        case 'h':
          print_usage (stdout);
          return 0;
        case 'v':
          print_version ();
          return 0;
        default:
          print_usage (stderr);
          return 1;
        }
    }
  skiff_context_resolve (&ctx);
  if (skiff_log_init (log_path, log_format, ctx.debug) < 0)
    {
      fprintf (stderr, "skiff: open log file `%s`: %s\n", log_path, strerror (errno));
      return 1;
    }
  if (optind >= argc)
    {
      print_usage (stderr);
      return 1;
    }
  const char *verb = argv[optind];
  for (const struct skiff_command *cmd = skiff_commands; cmd->name; cmd++)
    if (strcmp (cmd->name, verb) == 0)
      {
        skiff_error_t err = NULL;
        if (enters_container (verb) && clone_binary_ensure (argv, &err) < 0)
          return cmd_fail (&err);
        int sub_argc = argc - optind;
        char **sub_argv = argv + optind;
        optind = 0; /* reset getopt for the subcommand */
        return cmd->run (&ctx, sub_argc, sub_argv);
      }
  skiff_log (SKIFF_LOG_ERROR, "unknown command `%s`", verb);
  if (skiff_log_to_file ())
    fprintf (stderr, "skiff: unknown command `%s`\n", verb);
  fprintf (stderr, "Run 'skiff --help' for the list of commands.\n");
  return 1;
}

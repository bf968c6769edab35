/* skiff ps ID [PS OPTIONS]: the processes of a container, as ps(1) shows
   them (table) or as the JSON array of pids containerd reads. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"

/* Index of the PID column in ps's header line, or -1. */
static int
pid_column (char *header)
{
  int i = 0;
  for (char *save = NULL, *t = strtok_r (header, " \t", &save); t;
       t = strtok_r (NULL, " \t", &save), i++)
    if (strcmp (t, "PID") == 0)
      return i;
  return -1;
}

static long
field_at (const char *line, int idx)
{
  char copy[4096];
  snprintf (copy, sizeof copy, "%s", line);
  int i = 0;
  for (char *save = NULL, *t = strtok_r (copy, " \t", &save); t;
       t = strtok_r (NULL, " \t", &save), i++)
    if (i == idx)
      {
        char *end;
        long v = strtol (t, &end, 10);
        return *end ? -1 : v;
      }
  return -1;
}

static bool
has_pid (const pid_t *pids, size_t n, long p)
{
  for (size_t i = 0; i < n; i++)
    if (pids[i] == p)
      return true;
  return false;
}

static int
print_table (const pid_t *pids, size_t n, int argc, char **argv)
{
  /* ps ARGS (default -ef); keep the header and the container's lines. */
  char **args = calloc ((size_t)argc + 3, sizeof *args);
  if (args == NULL)
    abort ();
  int k = 0;
  args[k++] = (char *)"ps";
  if (argc == 0)
    args[k++] = (char *)"-ef";
  for (int i = 0; i < argc; i++)
    args[k++] = argv[i];
  int fds[2];
  if (pipe (fds) < 0)
    return free (args), fprintf (stderr, "skiff ps: pipe: %s\n", strerror (errno)), 1;
  pid_t child = fork ();
  if (child == 0)
    {
      dup2 (fds[1], 1);
      dup2 (fds[1], 2);
      close (fds[0]);
      close (fds[1]);
      execvp ("ps", args);
      fprintf (stderr, "exec ps: %s\n", strerror (errno));
      _exit (127);
    }
  free (args);
  close (fds[1]);
  cleanup_fclose FILE *in = fdopen (fds[0], "r");
  char line[4096];
  int col = -1;
  bool header = true;
  while (in && fgets (line, sizeof line, in))
    {
      if (header)
        {
          char copy[4096];
          snprintf (copy, sizeof copy, "%s", line);
          col = pid_column (copy);
          fputs (line, stdout);
          header = false;
          continue;
        }
      if (col >= 0 && has_pid (pids, n, field_at (line, col)))
        fputs (line, stdout);
    }
  int status = 0;
  waitpid (child, &status, 0);
  if (col < 0)
    {
      fprintf (stderr, "skiff ps: no PID column in the output of ps\n");
      return 1;
    }
  return WIFEXITED (status) && WEXITSTATUS (status) == 0 ? 0 : 1;
}

int
cmd_ps (struct skiff_context *ctx, int argc, char **argv)
{
  static const char usage[]
      = "Usage: skiff ps [--format table|json] ID [PS OPTIONS...]\n"
        "\n"
        "Show the processes running in a container: every process of its\n"
        "cgroup, including those `exec` started and their children.\n"
        "\n"
        "With --format table (the default) skiff runs ps(1) on the host with\n"
        "PS OPTIONS (default -ef) and prints its header and the lines of the\n"
        "container's processes; the options must keep a PID column.  Put `--`\n"
        "before options that start with a dash, e.g. `skiff ps ID -- -o pid,comm`.\n"
        "With --format json it prints the JSON array of host pids, as containerd\n"
        "reads it, e.g. [4242,4250].\n"
        "\n"
        "Options:\n"
        "  -f, --format FORMAT   table or json (default table)\n"
        "  -h, --help            show this help\n"
        "\n"
        "Exit status: 0 on success; 1 when the container does not exist, is not\n"
        "running, or ps fails.\n";
  static const struct option opts[]
      = { { "format", required_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
  cleanup_error skiff_error_t err = NULL;
  const char *format = "table";
  int c;
  if (cmd_wants_help (argc, argv, usage))
    return 0;
  while ((c = getopt_long (argc, argv, "+f:", opts, NULL)) != -1)
    {
      if (c != 'f')
        return cmd_usage_error ("ps", "invalid option");
      format = optarg;
    }
  if (strcmp (format, "table") && strcmp (format, "json"))
    return cmd_usage_error ("ps", "invalid --format `%s`: expected table or json", format);
  if (optind >= argc)
    return cmd_usage_error ("ps", "missing container ID");
  const char *id = argv[optind++];
  if (optind < argc && strcmp (argv[optind], "--") == 0)
    optind++;
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  if (skiff_container_pids (ctx, id, &pids, &n, &err) < 0)
    return cmd_fail (&err);
  if (strcmp (format, "json") == 0)
    {
      if (optind < argc)
        return cmd_usage_error ("ps", "ps options are for --format table");
      putchar ('[');
      for (size_t i = 0; i < n; i++)
        printf ("%s%d", i ? "," : "", (int)pids[i]);
      puts ("]");
      return 0;
    }
  fflush (stdout);
  return print_table (pids, n, argc - optind, argv + optind);
}

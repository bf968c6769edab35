/* The CLI: one short file per subcommand, each parsing its own flags and
   making library calls. */
#ifndef SKIFF_CMD_H
#define SKIFF_CMD_H

#include <stdbool.h>

#include "libskiff/cleanup.h"
#include "libskiff/skiff.h"

struct skiff_command
{
  const char *name;
  const char *summary;
  int (*run) (struct skiff_context *ctx, int argc, char **argv);
};

extern const struct skiff_command skiff_commands[];

/* Print "skiff: <msg>" through the log and return the exit code 1. */
int cmd_fail (skiff_error_t *err);
/* Usage error: message plus a hint to --help; returns exit code 1. */
int cmd_usage_error (const char *cmd, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/* True when --help/-h was asked; prints text to stdout. */
bool cmd_wants_help (int argc, char **argv, const char *usage);

#define DECLARE_CMD(verb) int cmd_##verb (struct skiff_context *ctx, int argc, char **argv)

DECLARE_CMD (spec);
DECLARE_CMD (check);
DECLARE_CMD (features);
DECLARE_CMD (create);
DECLARE_CMD (start);
DECLARE_CMD (state);
DECLARE_CMD (kill);
DECLARE_CMD (delete);
DECLARE_CMD (run);
DECLARE_CMD (exec);
DECLARE_CMD (list);
DECLARE_CMD (pause);
DECLARE_CMD (resume);
DECLARE_CMD (ps);
DECLARE_CMD (update);
DECLARE_CMD (events);

#endif

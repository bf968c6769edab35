#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "libskiff/log.h"
#include "libskiff/strbuf.h"

static const char usage[]
    = "Usage: skiff check [--bundle DIR] [--format text|json]\n"
      "\n"
      "Validate a bundle without creating anything: report every problem of\n"
      "its config.json with file:line:column and JSON path, plus warnings for\n"
      "what this host cannot do.  Exit status 1 when there is an error.\n"
      "\n"
      "  -b, --bundle DIR     bundle directory (default: current directory)\n"
      "  -f, --format FORMAT  text (default) or json\n";

static void
print_json (const oci_diags *d)
{
  static const char *const sev[] = { "error", "warning", "note" };
  struct skiff_strbuf b = { 0 };
  strbuf_puts (&b, "[");
  for (size_t i = 0; i < d->len; i++)
    {
      const oci_diag *x = &d->items[i];
      strbuf_printf (&b, "%s{\"severity\":\"%s\",\"file\":", i ? "," : "", sev[x->severity]);
      skiff_json_quote (&b, x->file ? x->file : "");
      strbuf_printf (&b, ",\"line\":%u,\"column\":%u,\"path\":", x->line, x->col);
      skiff_json_quote (&b, x->path ? x->path : "");
      strbuf_puts (&b, ",\"message\":");
      skiff_json_quote (&b, x->msg);
      strbuf_puts (&b, "}");
    }
  strbuf_puts (&b, "]\n");
  fputs (b.s, stdout);
  strbuf_free (&b);
}

/* By position in the file; diagnostics without one go last. */
static int
by_position (const void *a, const void *b)
{
  const oci_diag *x = a, *y = b;
  unsigned xl = x->line ? x->line : ~0U, yl = y->line ? y->line : ~0U;
  if (xl != yl)
    return xl < yl ? -1 : 1;
  return (x->col > y->col) - (x->col < y->col);
}

int
cmd_check (struct skiff_context *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "bundle", required_argument, NULL, 'b' },
    { "format", required_argument, NULL, 'f' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_error skiff_error_t err = NULL;
  const char *bundle = ".";
  bool json = false;
  oci_diags d = { 0 };
  int c;
  (void) ctx;
  if (cmd_wants_help (argc, argv, usage))
    return 0;
  while ((c = getopt_long (argc, argv, "+b:f:", opts, NULL)) != -1)
    {
      if (c == 'b')
        bundle = optarg;
      else if (c == 'f' && (strcmp (optarg, "json") == 0 || strcmp (optarg, "text") == 0))
        json = strcmp (optarg, "json") == 0;
      else
        return cmd_usage_error ("check", c == 'f' ? "invalid --format: use text or json"
                                                  : "invalid option");
    }
  if (optind != argc)
    return cmd_usage_error ("check", "unexpected argument `%s`", argv[optind]);
  if (skiff_check_bundle (bundle, &d, &err) < 0)
    return cmd_fail (&err);
  if (d.len > 1)
    qsort (d.items, d.len, sizeof *d.items, by_position);
  if (json)
    print_json (&d);
  else
    for (size_t i = 0; i < d.len; i++)
      {
        char *line = oci_diag_format (&d.items[i]);
        fprintf (stdout, "%s\n", line);
        free (line);
      }
  size_t errors = oci_diags_errors (&d);
  if (!json)
    fprintf (stdout, "%s: %zu error%s, %zu warning%s\n", bundle, errors, errors == 1 ? "" : "s",
             d.len - errors, d.len - errors == 1 ? "" : "s");
  oci_diags_free (&d);
  return errors ? 1 : 0;
}

/* libFuzzer target for the state-file reader: the input is a state.json,
   as state_read () gets it from a container's state directory.  It must
   never crash or leak; what it accepts must emit and parse back to the
   same document, and must never be a pid without its start time (the
   runtime would act on a process it cannot prove is the container's).
   Linked with replay.c it replays the seeds in `make check`. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "state.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  skiff_status *st = NULL;
  skiff_error_t err = NULL;
  if (state_parse ("fuzz", "/run/skiff", (const char *)data, size, &st, &err) < 0)
    {
      if (err == NULL || err->msg == NULL || strstr (err->msg, "container `fuzz`") == NULL)
        abort (); /* every refusal names the container */
      skiff_error_free (&err);
      return 0;
    }
  if (st->pid > 0 && !st->pid_start_present)
    abort ();
  size_t len = 0;
  cleanup_free char *once = skiff_status_emit (st, false, &len, NULL);
  skiff_status *again = once ? skiff_status_parse_data (once, len, NULL, NULL) : NULL;
  size_t len2 = 0;
  cleanup_free char *twice = again ? skiff_status_emit (again, false, &len2, NULL) : NULL;
  if (twice == NULL || len != len2 || memcmp (once, twice, len) != 0)
    abort ();
  skiff_status_free (again);
  skiff_status_free (st);
  return 0;
}

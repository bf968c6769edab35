/* The state file's text to a skiff_status, apart from reading it: the part
   of state.c a fuzzer can drive with no state directory, no process and
   no cgroup. */
#include "config.h"

#include "cleanup.h"
#include "error.h"
#include "ocispec.h"
#include "state.h"

int
state_parse (const char *id, const char *dir, const char *data, size_t len, skiff_status **out,
             skiff_error_t *err)
{
  oci_diags diags = { 0 };
  oci_parse_opts opts = { .filename = "state.json" };
  *out = skiff_status_parse_data (data, len, &opts, &diags);
  if (*out == NULL)
    {
      cleanup_free char *m = diags.len ? oci_diag_format (&diags.items[0]) : NULL;
      skiff_error (err, 0, "container `%s`: corrupt %s/%s", id, dir, m ? m : "state.json");
      oci_diags_free (&diags);
      return -1;
    }
  oci_diags_free (&diags);
  /* create writes both at once: without the start time, whatever has
     that pid now cannot be proved to be the container's init */
  if ((*out)->pid > 0 && !(*out)->pid_start_present)
    {
      skiff_error (err, 0,
                   "container `%s`: %s/state.json has pid %d without its start time: that "
                   "process cannot be proved to be the container's init (delete --force removes "
                   "the container)",
                   id, dir, (*out)->pid);
      skiff_status_free (*out);
      *out = NULL;
      return -1;
    }
  return 0;
}

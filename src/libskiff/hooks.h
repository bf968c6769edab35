/* OCI hooks: each runs with the container state as JSON on stdin, its own
   args and env, and an optional timeout.  A failure names the phase, the
   index, the path, the exit status and the tail of the hook's stderr. */
#ifndef SKIFF_HOOKS_H
#define SKIFF_HOOKS_H

#include "error.h"
#include "ocispec.h"

/* phase: "prestart", "createRuntime", ... (for messages).  state_json is
   written to each hook's stdin; hooks run in cwd (the bundle) when given. */
/* The environment of hooks without env (NULL: the runtime's own). */
void hooks_default_env (char **env);
int hooks_run (const char *phase, oci_hook **hooks, size_t n, const char *state_json,
               const char *cwd, skiff_error_t *err);
/* Run hooks.<phase>[idx] alone (for phases whose failures only warn). */
int hooks_run_one (const char *phase, size_t idx, const oci_hook *h, const char *state_json,
                   const char *cwd, skiff_error_t *err);

#endif

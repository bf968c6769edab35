/* libFuzzer target for the seccomp translation: the input is the
   linux.seccomp object of a config, parsed by libocispec and compiled by
   seccomp_prepare without a cache.  It must never crash or leak, whatever
   the profile.  Linked with replay.c it is instead a plain program
   replaying the seed corpus, so `make check` runs the seeds with the
   normal compiler. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "log.h"
#include "ocispec.h"
#include "seccomp.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const char prefix[] = "{\"ociVersion\":\"1.0.2\",\"linux\":{\"seccomp\":";
static const char suffix[] = "}}";

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  /* Unknown syscall names are warned about; keep the fuzzer's output
     readable. */
  skiff_log_init ("/dev/null", SKIFF_LOG_TEXT, false);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  size_t len = sizeof prefix - 1 + size + sizeof suffix - 1;
  cleanup_free char *doc = malloc (len);
  if (doc == NULL)
    return 0;
  memcpy (doc, prefix, sizeof prefix - 1);
  memcpy (doc + sizeof prefix - 1, data, size);
  memcpy (doc + sizeof prefix - 1 + size, suffix, sizeof suffix - 1);

  oci_config *config = oci_config_parse_data (doc, len, NULL, NULL);
  if (config && config->linux && config->linux->seccomp)
    {
      struct seccomp_prog *prog = NULL;
      skiff_error_t err = NULL;
      if (seccomp_prepare (config->linux->seccomp, NULL, &prog, &err) < 0)
        skiff_error_free (&err);
      seccomp_prog_free (prog);
    }
  oci_config_free (config);
  return 0;
}

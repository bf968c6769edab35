/* libFuzzer target for the seccomp translation: the input is the
   linux.seccomp object of a config, parsed by libocispec and compiled by
   seccomp_prepare without a cache.  It must never crash or leak, whatever
   the profile.  Built with -DFUZZ_REPLAY_MAIN it is instead a plain
   program replaying the seed corpus, so `make check` runs the seeds with
   the normal compiler. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
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

#ifdef FUZZ_REPLAY_MAIN
static int
replay_file (int dirfd, const char *name)
{
  cleanup_free char *buf = NULL;
  size_t len = 0;
  skiff_error_t err = NULL;
  if (read_file_at (dirfd, name, &buf, &len, &err) < 0)
    {
      fprintf (stderr, "%s\n", err->msg);
      skiff_error_free (&err);
      return -1;
    }
  LLVMFuzzerTestOneInput ((const uint8_t *)buf, len);
  return 0;
}

/* Every file of the directory; returns how many were replayed, or -1. */
static int
replay_dir (const char *path)
{
  cleanup_closedir DIR *d = opendir (path);
  if (d == NULL)
    {
      perror (path);
      return -1;
    }
  int n = 0;
  struct dirent *de;
  while ((de = readdir (d)))
    {
      if (de->d_name[0] == '.')
        continue;
      if (replay_file (dirfd (d), de->d_name) < 0)
        return -1;
      n++;
    }
  return n;
}

int
main (int argc, char **argv)
{
  char def[4096];
  const char *srcdir = getenv ("srcdir");
  snprintf (def, sizeof def, "%s/fuzz/seccomp-corpus", srcdir ? srcdir : ".");
  LLVMFuzzerInitialize (&argc, &argv);
  int total = 0;
  for (int i = argc > 1 ? 1 : 0; i < argc; i++)
    {
      int n = replay_dir (argc > 1 ? argv[i] : def);
      if (n <= 0)
        {
          fprintf (stderr, "no seeds replayed from %s\n", argc > 1 ? argv[i] : def);
          return 1;
        }
      total += n;
    }
  printf ("replayed %d seccomp seeds\n", total);
  return 0;
}
#endif

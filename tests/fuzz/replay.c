/* The seed replay of a libFuzzer target: a plain program (normal
   compiler, no libFuzzer) that feeds every file of the corpus directories
   to LLVMFuzzerTestOneInput, so `make check` runs the seeds.  Without
   arguments: $srcdir/FUZZ_CORPUS.  Fails when a directory has no seed. */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cleanup.h"
#include "fsutil.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

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

/* Every file of the directory; how many were replayed, or -1. */
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
  snprintf (def, sizeof def, "%s/%s", srcdir ? srcdir : ".", FUZZ_CORPUS);
  LLVMFuzzerInitialize (&argc, &argv);
  int total = 0;
  for (int i = argc > 1 ? 1 : 0; i < argc; i++)
    {
      const char *dir = argc > 1 ? argv[i] : def;
      int n = replay_dir (dir);
      if (n <= 0)
        {
          fprintf (stderr, "no seeds replayed from %s\n", dir);
          return 1;
        }
      total += n;
    }
  printf ("replayed %d seeds of %s\n", total, FUZZ_CORPUS);
  return 0;
}

#include "config.h"
#include "cleanup.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
skiff_cleanup_freep (void *p)
{
  free (*(void **)p);
}

void
skiff_cleanup_closep (int *fd)
{
  /* Never retry close() on EINTR: the fd is gone either way on Linux. */
  if (*fd >= 0)
    close (*fd);
}

void
skiff_cleanup_fclosep (FILE **f)
{
  if (*f)
    fclose (*f);
}

void
skiff_cleanup_closedirp (DIR **d)
{
  if (*d)
    closedir (*d);
}

void
skiff_cleanup_strvp (char ***v)
{
  if (*v == NULL)
    return;
  for (char **p = *v; *p; p++)
    free (*p);
  free (*v);
}

char **
strv_terminate (char *const *v, size_t n)
{
  char **out = calloc (n + 1, sizeof *out);
  if (out == NULL)
    abort ();
  for (size_t i = 0; i < n; i++)
    out[i] = v[i];
  return out;
}

char *
strdup_small (const char *s, char *small, size_t size, char **heap)
{
  size_t n = strlen (s) + 1;
  if (n <= size)
    return memcpy (small, s, n);
  if ((*heap = strdup (s)) == NULL)
    abort ();
  return *heap;
}

char *
sprintf_small (char *small, size_t size, char **heap, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  int n = vsnprintf (small, size, fmt, ap);
  va_end (ap);
  if (n < 0)
    abort ();
  if ((size_t)n < size)
    return small;
  va_start (ap, fmt);
  if (vasprintf (heap, fmt, ap) < 0)
    abort ();
  va_end (ap);
  return *heap;
}

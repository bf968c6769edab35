/* Scope-bound release of fds and allocations: every resource lives in a
   variable declared with one of these, and ownership moves only through
   steal_fd()/steal_pointer(). */
#ifndef SKIFF_CLEANUP_H
#define SKIFF_CLEANUP_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void skiff_cleanup_freep (void *p);
void skiff_cleanup_closep (int *fd);
void skiff_cleanup_fclosep (FILE **f);
void skiff_cleanup_closedirp (DIR **d);
void skiff_cleanup_strvp (char ***v);

#define cleanup_free __attribute__ ((cleanup (skiff_cleanup_freep)))
#define cleanup_close __attribute__ ((cleanup (skiff_cleanup_closep)))
#define cleanup_fclose __attribute__ ((cleanup (skiff_cleanup_fclosep)))
#define cleanup_closedir __attribute__ ((cleanup (skiff_cleanup_closedirp)))
#define cleanup_strv __attribute__ ((cleanup (skiff_cleanup_strvp)))

static inline int
steal_fd (int *fd)
{
  int r = *fd;
  *fd = -1;
  return r;
}

#define steal_pointer(pp)                                                                          \
  ({                                                                                               \
    __typeof__ (*(pp)) _stolen = *(pp);                                                            \
    *(pp) = NULL;                                                                                  \
    _stolen;                                                                                       \
  })

/* A NULL-terminated copy of the pointers v[0..n) (strings not copied), as
   execve wants from the generated arrays that carry a length. */
char **strv_terminate (char *const *v, size_t n);
/* A copy of s in small when it fits, else on the heap, owned by *heap (for
   cleanup_free).  For the init, which runs inside the container's memory
   limit: a heap allocation there costs pages the container is charged. */
char *strdup_small (const char *s, char *small, size_t size, char **heap);
/* snprintf into small, or onto the heap (owned by *heap) when it does not
   fit: the same reason. */
char *sprintf_small (char *small, size_t size, char **heap, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

#endif

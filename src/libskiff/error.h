/* The one error contract: fallible functions take `skiff_error_t *err`
   last, return < 0 on failure with *err set at the failure site, and leave
   *err alone on success.  Callers add context with skiff_error_wrap(). */
#ifndef SKIFF_ERROR_H
#define SKIFF_ERROR_H

#include <stdarg.h>

typedef enum
{
  SKIFF_ERR_GENERIC = 0,
  SKIFF_ERR_NOT_FOUND,      /* no such container / file the user named */
  SKIFF_ERR_EXISTS,         /* id already in use */
  SKIFF_ERR_BAD_STATE,      /* verb not allowed in the container's state */
  SKIFF_ERR_INVALID_CONFIG, /* config.json or flags are wrong */
  SKIFF_ERR_UNSUPPORTED,    /* this build or host cannot do it */
} skiff_error_kind;

struct skiff_error_s
{
  int errno_;
  skiff_error_kind kind;
  char *msg;
};
typedef struct skiff_error_s *skiff_error_t;

/* Set *err to "<fmt>: strerror(errno_)" (no suffix when errno_ is 0).
   Returns -1 so it can be the tail of `return`. */
int skiff_error (skiff_error_t *err, int errno_, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
int skiff_error_kind_set (skiff_error_t *err, skiff_error_kind kind, int errno_, const char *fmt,
                          ...) __attribute__ ((format (printf, 4, 5)));
int skiff_error_v (skiff_error_t *err, skiff_error_kind kind, int errno_, const char *fmt,
                   va_list ap);
/* Prefix the existing message with "<fmt>: ".  Returns -1. */
int skiff_error_wrap (skiff_error_t *err, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
/* Build an error from an already-formatted message (e.g. received from a
   child process).  Returns -1. */
int skiff_error_from_msg (skiff_error_t *err, skiff_error_kind kind, int errno_, const char *msg);
void skiff_error_free (skiff_error_t *err);
void skiff_error_cleanup (skiff_error_t *err);
#define cleanup_error __attribute__ ((cleanup (skiff_error_cleanup)))

#endif

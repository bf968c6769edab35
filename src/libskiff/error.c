#include "config.h"
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A message quotes config values, and one may be megabytes long: keep the
   head (the key) and the tail (the cause), and say how much is left out. */
#define MSG_MAX 2048
#define MSG_KEEP 900

static char *
elide_middle (char *msg)
{
  size_t len = strlen (msg);
  if (len <= MSG_MAX)
    return msg;
  char *out = NULL;
  if (asprintf (&out, "%.*s[... %zu bytes left out ...]%s", MSG_KEEP, msg, len - 2 * MSG_KEEP,
                msg + len - MSG_KEEP)
      < 0)
    abort ();
  free (msg);
  return out;
}

static struct skiff_error_s *
error_new (skiff_error_kind kind, int errno_, char *msg)
{
  struct skiff_error_s *e = calloc (1, sizeof *e);
  if (e == NULL)
    abort ();
  e->kind = kind;
  e->errno_ = errno_;
  e->msg = elide_middle (msg);
  return e;
}

int
skiff_error_v (skiff_error_t *err, skiff_error_kind kind, int errno_, const char *fmt, va_list ap)
{
  char *base = NULL, *msg = NULL;
  if (err == NULL)
    return -1;
  if (vasprintf (&base, fmt, ap) < 0)
    abort ();
  if (errno_ == 0)
    msg = base;
  else
    {
      if (asprintf (&msg, "%s: %s", base, strerror (errno_)) < 0)
        abort ();
      free (base);
    }
  skiff_error_free (err);
  *err = error_new (kind, errno_, msg);
  return -1;
}

int
skiff_error (skiff_error_t *err, int errno_, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  skiff_error_v (err, SKIFF_ERR_GENERIC, errno_, fmt, ap);
  va_end (ap);
  return -1;
}

int
skiff_error_kind_set (skiff_error_t *err, skiff_error_kind kind, int errno_, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  skiff_error_v (err, kind, errno_, fmt, ap);
  va_end (ap);
  return -1;
}

int
skiff_error_wrap (skiff_error_t *err, const char *fmt, ...)
{
  char *prefix = NULL, *msg = NULL;
  va_list ap;
  if (err == NULL || *err == NULL)
    return -1;
  va_start (ap, fmt);
  if (vasprintf (&prefix, fmt, ap) < 0)
    abort ();
  va_end (ap);
  if (asprintf (&msg, "%s: %s", prefix, (*err)->msg) < 0)
    abort ();
  free (prefix);
  free ((*err)->msg);
  (*err)->msg = elide_middle (msg);
  return -1;
}

int
skiff_error_from_msg (skiff_error_t *err, skiff_error_kind kind, int errno_, const char *msg)
{
  char *copy;
  if (err == NULL)
    return -1;
  copy = strdup (msg);
  if (copy == NULL)
    abort ();
  skiff_error_free (err);
  *err = error_new (kind, errno_, copy);
  return -1;
}

void
skiff_error_free (skiff_error_t *err)
{
  if (err == NULL || *err == NULL)
    return;
  free ((*err)->msg);
  free (*err);
  *err = NULL;
}

void
skiff_error_cleanup (skiff_error_t *err)
{
  skiff_error_free (err);
}

#include "config.h"
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
reserve (struct skiff_strbuf *b, size_t extra)
{
  size_t need = b->len + extra + 1;
  if (need <= b->cap)
    return;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need)
    cap *= 2;
  char *s = realloc (b->s, cap);
  if (s == NULL)
    abort ();
  b->s = s;
  b->cap = cap;
}

void
strbuf_append (struct skiff_strbuf *b, const char *s, size_t n)
{
  reserve (b, n);
  memcpy (b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

void
strbuf_puts (struct skiff_strbuf *b, const char *s)
{
  strbuf_append (b, s, strlen (s));
}

void
strbuf_printf (struct skiff_strbuf *b, const char *fmt, ...)
{
  va_list ap, ap2;
  va_start (ap, fmt);
  va_copy (ap2, ap);
  int n = vsnprintf (NULL, 0, fmt, ap);
  va_end (ap);
  if (n < 0)
    abort ();
  reserve (b, (size_t)n);
  vsnprintf (b->s + b->len, (size_t)n + 1, fmt, ap2);
  va_end (ap2);
  b->len += (size_t)n;
}

char *
strbuf_steal (struct skiff_strbuf *b)
{
  char *s = b->s;
  if (s == NULL)
    {
      s = strdup ("");
      if (s == NULL)
        abort ();
    }
  b->s = NULL;
  b->len = b->cap = 0;
  return s;
}

void
strbuf_free (struct skiff_strbuf *b)
{
  free (b->s);
  b->s = NULL;
  b->len = b->cap = 0;
}

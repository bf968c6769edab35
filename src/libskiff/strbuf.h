/* Growable string buffer; aborts on OOM like the rest of the runtime. */
#ifndef SKIFF_STRBUF_H
#define SKIFF_STRBUF_H

#include <stddef.h>

struct skiff_strbuf
{
  char *s;
  size_t len, cap;
};

void strbuf_append (struct skiff_strbuf *b, const char *s, size_t n);
void strbuf_puts (struct skiff_strbuf *b, const char *s);
void strbuf_printf (struct skiff_strbuf *b, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
/* Hand the string to the caller (never NULL). */
char *strbuf_steal (struct skiff_strbuf *b);
void strbuf_free (struct skiff_strbuf *b);
#define cleanup_strbuf __attribute__ ((cleanup (strbuf_free)))

#endif

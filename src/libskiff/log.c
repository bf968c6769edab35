#include "config.h"
#include "log.h"
#include "strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int log_fd = -1; /* -1: stderr */
static skiff_log_format log_format = SKIFF_LOG_TEXT;
static bool log_debug = false;
static skiff_log_capture_fn capture_fn = NULL;
static void *capture_data = NULL;

static const char *const level_names[] = {
  [SKIFF_LOG_ERROR] = "error",
  [SKIFF_LOG_WARNING] = "warning",
  [SKIFF_LOG_INFO] = "info",
  [SKIFF_LOG_DEBUG] = "debug",
};

int
skiff_log_init (const char *path, skiff_log_format format, bool debug)
{
  log_format = format;
  log_debug = debug;
  if (path == NULL || *path == '\0')
    return 0;
  int fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return -errno;
  log_fd = fd;
  return 0;
}

void
skiff_log_close (void)
{
  if (log_fd >= 0)
    close (log_fd);
  log_fd = -1;
}

bool
skiff_log_debug_enabled (void)
{
  return log_debug;
}

bool
skiff_log_to_file (void)
{
  return log_fd >= 0;
}

int
skiff_log_fd (void)
{
  return log_fd;
}

void
skiff_log_capture (skiff_log_capture_fn fn, void *data)
{
  capture_fn = fn;
  capture_data = data;
}

unsigned long long
skiff_now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

void
skiff_debug_phase (const char *name, unsigned long long t0)
{
  if (!log_debug)
    return;
  unsigned long long us = (skiff_now_ns () - t0) / 1000;
  skiff_log (SKIFF_LOG_DEBUG, "phase %s: %llu.%03llu ms", name, us / 1000, us % 1000);
}

void
skiff_json_quote (struct skiff_strbuf *buf, const char *s)
{
  strbuf_append (buf, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    {
      switch (*p)
        {
        case '"':
          strbuf_puts (buf, "\\\"");
          break;
        case '\\':
          strbuf_puts (buf, "\\\\");
          break;
        case '\n':
          strbuf_puts (buf, "\\n");
          break;
        case '\t':
          strbuf_puts (buf, "\\t");
          break;
        case '\r':
          strbuf_puts (buf, "\\r");
          break;
        default:
          if (*p < 0x20)
            strbuf_printf (buf, "\\u%04x", *p);
          else
            strbuf_append (buf, (const char *)p, 1);
        }
    }
  strbuf_append (buf, "\"", 1);
}

void
rfc3339_format_now (char *out, size_t len)
{
  struct timespec ts;
  struct tm tm;
  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  size_t n = strftime (out, len, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (out + n, len - n, ".%09ldZ", ts.tv_nsec);
}

static void
write_all (int fd, const char *s, size_t n)
{
  while (n > 0)
    {
      ssize_t w = write (fd, s, n);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return;
      s += w;
      n -= (size_t)w;
    }
}

void
skiff_log (skiff_log_level level, const char *fmt, ...)
{
  cleanup_strbuf struct skiff_strbuf line = { 0 };
  cleanup_strbuf struct skiff_strbuf msg = { 0 };
  char now[64];
  va_list ap;
  int saved_errno = errno;

  if (level == SKIFF_LOG_DEBUG && !log_debug)
    return;
  va_start (ap, fmt);
  char *m = NULL;
  if (vasprintf (&m, fmt, ap) < 0)
    m = NULL;
  va_end (ap);
  if (m == NULL)
    return;
  if (capture_fn && level <= SKIFF_LOG_WARNING)
    {
      capture_fn (level, m, capture_data);
      free (m);
      errno = saved_errno;
      return;
    }
  strbuf_puts (&msg, m);
  free (m);

  if (log_fd < 0)
    {
      /* A person reads stderr: just the message, with a level prefix for
         anything but errors. */
      if (level != SKIFF_LOG_ERROR)
        strbuf_printf (&line, "%s: ", level_names[level]);
      strbuf_printf (&line, "%s\n", msg.s);
      write_all (STDERR_FILENO, line.s, line.len);
      errno = saved_errno;
      return;
    }
  rfc3339_format_now (now, sizeof now);
  if (log_format == SKIFF_LOG_JSON)
    {
      strbuf_printf (&line, "{\"level\":\"%s\",\"msg\":", level_names[level]);
      skiff_json_quote (&line, msg.s);
      strbuf_printf (&line, ",\"time\":\"%s\"}\n", now);
    }
  else
    {
      strbuf_printf (&line, "time=\"%s\" level=%s msg=", now, level_names[level]);
      skiff_json_quote (&line, msg.s);
      strbuf_puts (&line, "\n");
    }
  write_all (log_fd, line.s, line.len);
  errno = saved_errno;
}

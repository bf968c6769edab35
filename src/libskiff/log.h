/* Runtime log: messages go to stderr, or with --log to a file as text or as
   one JSON object per line ({"level","msg","time"}), the format containerd
   and Podman read back to show why a runtime call failed. */
#ifndef SKIFF_LOG_H
#define SKIFF_LOG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum
{
  SKIFF_LOG_ERROR = 0,
  SKIFF_LOG_WARNING,
  SKIFF_LOG_INFO,
  SKIFF_LOG_DEBUG,
} skiff_log_level;

typedef enum
{
  SKIFF_LOG_TEXT = 0,
  SKIFF_LOG_JSON,
} skiff_log_format;

/* path NULL: stderr.  Returns -errno when the file cannot be opened. */
int skiff_log_init (const char *path, skiff_log_format format, bool debug);
void skiff_log_close (void);
bool skiff_log_debug_enabled (void);
bool skiff_log_to_file (void);
void skiff_log (skiff_log_level level, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
/* Forget the log fd in a child that is about to exec the user's process. */
int skiff_log_fd (void);

/* While set, warnings and errors go to fn instead of the log: `skiff check`
   turns what create would warn about into diagnostics.  NULL restores. */
typedef void (*skiff_log_capture_fn) (skiff_log_level level, const char *msg, void *data);
void skiff_log_capture (skiff_log_capture_fn fn, void *data);

/* Phase timings for --debug: t0 = skiff_now_ns () at the start of a phase,
   then skiff_debug_phase ("mounts", t0) logs "phase mounts: 1.234 ms". */
unsigned long long skiff_now_ns (void);
void skiff_debug_phase (const char *name, unsigned long long t0);

#define skiff_debug(...)                                                                           \
  do                                                                                               \
    {                                                                                              \
      if (skiff_log_debug_enabled ())                                                              \
        skiff_log (SKIFF_LOG_DEBUG, __VA_ARGS__);                                                  \
    }                                                                                              \
  while (0)
#define skiff_warn(...) skiff_log (SKIFF_LOG_WARNING, __VA_ARGS__)

/* Now as RFC 3339 in UTC with nanoseconds (runc's `created`, log times). */
void rfc3339_format_now (char *out, size_t len);

/* Append s as a JSON string literal (quotes included) to buf. */
struct skiff_strbuf;
void skiff_json_quote (struct skiff_strbuf *buf, const char *s);

#endif

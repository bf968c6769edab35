#include "config.h"
#include "netdev.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "fsutil.h"
#include "log.h"

/* One "  eth0: <16 counters>" line (rx: bytes packets errs drop fifo frame
   compressed multicast; tx: bytes packets errs drop fifo colls carrier
   compressed); false for the two header lines, which name no interface. */
static bool
netdev_line (const char *line, const char *eol, struct skiff_strbuf *out, const char *sep)
{
  static const struct
  {
    const char *key;
    int field;
  } keys[] = { { "RxBytes", 0 }, { "RxPackets", 1 }, { "RxErrors", 2 },  { "RxDropped", 3 },
               { "TxBytes", 8 }, { "TxPackets", 9 }, { "TxErrors", 10 }, { "TxDropped", 11 } };
  char buf[512], *name = buf;
  size_t len = (size_t)(eol - line);
  if (len >= sizeof buf)
    return false;
  memcpy (buf, line, len);
  buf[len] = '\0';
  char *colon = strchr (buf, ':');
  if (colon == NULL)
    return false;
  *colon = '\0';
  while (*name == ' ')
    name++;
  unsigned long long v[16];
  if (*name == '\0'
      || sscanf (colon + 1,
                 "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
                 &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10],
                 &v[11], &v[12], &v[13], &v[14], &v[15])
             != 16)
    return false;
  strbuf_printf (out, "%s{\"Name\":", sep);
  skiff_json_quote (out, name);
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
    strbuf_printf (out, ",\"%s\":%llu", keys[i].key, v[keys[i].field]);
  strbuf_puts (out, "}");
  return true;
}

void
netdev_json (const char *text, struct skiff_strbuf *out)
{
  const char *sep = "";
  strbuf_puts (out, "[");
  for (const char *line = text; *line;)
    {
      const char *eol = strchrnul (line, '\n');
      if (netdev_line (line, eol, out, sep))
        sep = ",";
      line = *eol ? eol + 1 : eol;
    }
  strbuf_puts (out, "]");
}

void
netdev_container_json (const skiff_status *st, struct skiff_strbuf *out)
{
  char path[64];
  struct stat ours, theirs;
  cleanup_free char *text = NULL;
  snprintf (path, sizeof path, "/proc/%d/ns/net", (int)st->pid);
  if (st->pid <= 0 || stat ("/proc/self/ns/net", &ours) < 0 || stat (path, &theirs) < 0
      || (ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino))
    {
      strbuf_puts (out, "null");
      return;
    }
  snprintf (path, sizeof path, "/proc/%d/net/dev", (int)st->pid);
  /* Read, then check that the pid was still the init's (start time). */
  if (read_file_at (AT_FDCWD, path, &text, NULL, NULL) < 0 || !state_process_alive (st))
    {
      strbuf_puts (out, "null");
      return;
    }
  netdev_json (text, out);
}

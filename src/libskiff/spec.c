/* The default config.json written by `skiff spec`: runc's defaults (sh on a
   terminal, pid/net/ipc/uts/mount namespaces, the three default
   capabilities, NOFILE 1024, masked and readonly paths, deny-all devices,
   a cgroup namespace on a cgroup v2 host), and for --rootless what runc's
   `spec --rootless` changes: a user namespace mapping the caller's
   effective ids to root, no network namespace (so /sys is a bind of the
   host's: sysfs needs one), no uid=/gid= mount options, no resources. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cleanup.h"
#include "fsutil.h"
#include "skiff.h"
#include "strbuf.h"

static const char *const default_caps
    = "[\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"]";

static const char *const masked_paths[] = {
  "/proc/acpi",
  "/proc/asound",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
  "/sys/devices/virtual/powercap",
  NULL,
};

static const char *const readonly_paths[] = {
  "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

static void
put_list (struct skiff_strbuf *b, const char *const *items)
{
  strbuf_puts (b, "[\n");
  for (size_t i = 0; items[i]; i++)
    strbuf_printf (b, "      \"%s\"%s\n", items[i], items[i + 1] ? "," : "");
  strbuf_puts (b, "    ]");
}

static void
put_process (struct skiff_strbuf *b)
{
  strbuf_printf (
      b,
      "  \"process\": {\n"
      "    \"terminal\": true,\n"
      "    \"user\": { \"uid\": 0, \"gid\": 0 },\n"
      "    \"args\": [\"sh\"],\n"
      "    \"env\": [\n"
      "      \"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\n"
      "      \"TERM=xterm\"\n"
      "    ],\n"
      "    \"cwd\": \"/\",\n"
      "    \"capabilities\": {\n"
      "      \"bounding\": %s,\n"
      "      \"effective\": %s,\n"
      "      \"permitted\": %s,\n"
      "      \"ambient\": %s\n"
      "    },\n"
      "    \"rlimits\": [{ \"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024 }],\n"
      "    \"noNewPrivileges\": true\n"
      "  },\n",
      default_caps, default_caps, default_caps, default_caps);
}

static void
put_mounts (struct skiff_strbuf *b, bool rootless)
{
  strbuf_puts (
      b, "  \"mounts\": [\n"
         "    { \"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\" },\n"
         "    { \"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
         "      \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"] },\n"
         "    { \"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\",\n");
  if (rootless)
    strbuf_puts (b, "      \"options\": [\"nosuid\", \"noexec\", \"newinstance\", "
                    "\"ptmxmode=0666\", \"mode=0620\"] },\n");
  else
    strbuf_puts (b, "      \"options\": [\"nosuid\", \"noexec\", \"newinstance\", "
                    "\"ptmxmode=0666\", \"mode=0620\", \"gid=5\"] },\n");
  strbuf_puts (
      b,
      "    { \"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\",\n"
      "      \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"] },\n"
      "    { \"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\",\n"
      "      \"options\": [\"nosuid\", \"noexec\", \"nodev\"] },\n");
  if (rootless)
    strbuf_puts (b,
                 "    { \"destination\": \"/sys\", \"type\": \"none\", \"source\": \"/sys\",\n"
                 "      \"options\": [\"rbind\", \"nosuid\", \"noexec\", \"nodev\", \"ro\"] },\n");
  else
    strbuf_puts (b, "    { \"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\",\n"
                    "      \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"] },\n");
  strbuf_puts (
      b,
      "    { \"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\",\n"
      "      \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\"] }\n"
      "  ],\n");
}

static void
put_linux (struct skiff_strbuf *b, bool rootless, uid_t uid, gid_t gid, bool cgroupns)
{
  strbuf_puts (b, "  \"linux\": {\n");
  if (rootless)
    strbuf_printf (b,
                   "    \"uidMappings\": [{ \"containerID\": 0, \"hostID\": %u, \"size\": 1 }],\n"
                   "    \"gidMappings\": [{ \"containerID\": 0, \"hostID\": %u, \"size\": 1 }],\n",
                   (unsigned)uid, (unsigned)gid);
  else
    strbuf_puts (
        b, "    \"resources\": { \"devices\": [{ \"allow\": false, \"access\": \"rwm\" }] },\n");
  strbuf_puts (b, "    \"namespaces\": [\n      { \"type\": \"pid\" },\n");
  if (!rootless)
    strbuf_puts (b, "      { \"type\": \"network\" },\n");
  strbuf_puts (
      b,
      "      { \"type\": \"ipc\" },\n      { \"type\": \"uts\" },\n      { \"type\": \"mount\" }");
  if (cgroupns)
    strbuf_puts (b, ",\n      { \"type\": \"cgroup\" }");
  if (rootless)
    strbuf_puts (b, ",\n      { \"type\": \"user\" }");
  strbuf_puts (b, "\n    ],\n    \"maskedPaths\": ");
  put_list (b, masked_paths);
  strbuf_puts (b, ",\n    \"readonlyPaths\": ");
  put_list (b, readonly_paths);
  strbuf_puts (b, "\n  }\n");
}

char *
skiff_spec_default (bool rootless, uid_t uid, gid_t gid, bool cgroupns)
{
  struct skiff_strbuf b = { 0 };
  strbuf_printf (&b, "{\n  \"ociVersion\": \"%s\",\n", OCI_SPEC_VERSION);
  put_process (&b);
  strbuf_puts (&b, "  \"root\": { \"path\": \"rootfs\", \"readonly\": true },\n"
                   "  \"hostname\": \"skiff\",\n");
  put_mounts (&b, rootless);
  put_linux (&b, rootless, uid, gid, cgroupns);
  strbuf_puts (&b, "}\n");
  return strbuf_steal (&b);
}

int
skiff_spec_write (const char *bundle, bool rootless, skiff_error_t *err)
{
  cleanup_close int dirfd = -1;
  cleanup_free char *json = NULL;

  dirfd = open (bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return skiff_error (err, errno, "open bundle `%s`", bundle);
  /* as runc: the ids the kernel lets the caller map on its own */
  json = skiff_spec_default (rootless, geteuid (), getegid (),
                             cgroup_detect_layout () == CGROUP_LAYOUT_V2);
  /* O_EXCL: never overwrite a config someone wrote by hand. */
  if (write_file_at (dirfd, "config.json", json, strlen (json), 0644, O_EXCL, err) < 0)
    {
      if ((*err)->errno_ == EEXIST)
        return skiff_error_kind_set (err, SKIFF_ERR_EXISTS, 0,
                                     "File %s/config.json exists. Remove it first", bundle);
      return -1;
    }
  return 0;
}

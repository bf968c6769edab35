/* check: read a bundle the way create would and report every problem
   found, each with config.json:LINE:COL, its JSON path and a one-line
   hint, without creating anything.

   The rules reuse the code create runs (ns_plan_build, sysctl_validate,
   process_check_caps, mount_plan_build, seccomp_prepare), so the two
   cannot disagree.  That code stops at the first bad element; to report
   every one, a rule is run again with the element its error names taken
   out of a working copy of the array (run_rule), and what create would
   only warn about is captured from the log (skiff_log_capture).  Our
   error messages start with the JSON path they are about, which gives the
   position. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/magic.h>

#include "cgroup/cgroup.h"
#include "cleanup.h"
#include "fsutil.h"
#include "label.h"
#include "log.h"
#include "mempolicy.h"
#include "namespaces.h"
#include "netdevices.h"
#include "plan.h"
#include "process.h"
#include "resctrl.h"
#include "rootfs.h"
#include "config-rules.h"
#include "rootless.h"
#include "seccomp.h"
#include "skiff.h"
#include "strbuf.h"
#include "sysctl.h"
#include "userns.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* What this host can do.  SKIFF_TEST_HOST overrides the probes so the
   expected diagnostics of tests/check do not depend on the machine:
   "cgroup=v1,selinux=0,apparmor=1,idmap=0,resctrl=0,no-ns=time+cgroup,no-ctl=hugetlb,
   no-cap=CAP_SYS_TIME,numa=0-1,no-netdev=eth7" (numa: the online NUMA nodes, each with
   memory; "none" for a kernel without NUMA; 0 unless said). */
struct host
{
  enum cgroup_layout cgroup;
  bool selinux, apparmor, idmap;
  bool resctrl;                            /* a resctrl mount, for linux.intelRdt */
  char no_ns[128];                         /* "+"-separated namespace types this kernel lacks */
  char no_ctl[128];                        /* "+"-separated cgroup controllers it lacks */
  bool no_cap_set;                         /* no_cap replaces the runtime's bounding set */
  char no_cap[256];                        /* "+"-separated capabilities outside that set */
  bool numa;                               /* /sys/devices/system/node: a kernel with NUMA */
  char numa_online[256], numa_memory[256]; /* its node lists */
  char no_netdev[256];                     /* "+"-separated network devices it lacks (simulated) */
  bool simulated; /* SKIFF_TEST_HOST: the cgroup facts above, not the probes */
};

struct checker
{
  const char *bundle;
  oci_config *cfg;
  struct skiff_check_report *r;
  struct host host;
  struct ns_plan ns;
  bool ns_ok;
  int ns_flags;    /* namespaces the container gets, even when ns_plan failed */
  char **captured; /* warnings create would log, from the last run */
  size_t captured_len;
};

/* ---- diagnostics ----------------------------------------------------- */

static char *
xstrdup_or_null (const char *s)
{
  if (s == NULL)
    return NULL;
  char *d = strdup (s);
  if (d == NULL)
    abort ();
  return d;
}

/* The position of path, or of its closest ancestor present in the file
   (a missing field is shown where its parent is). */
static void
position_of (const oci_config *cfg, const char *path, unsigned *line, unsigned *col)
{
  char p[512];
  *line = *col = 0;
  if (cfg == NULL || path == NULL)
    return;
  snprintf (p, sizeof p, "%s", path);
  for (;;)
    {
      if (oci_config_position (cfg, p, line, col))
        return;
      char *cut = strrchr (p, '.');
      char *br = strrchr (p, '[');
      if (br > cut)
        cut = br;
      if (cut == NULL)
        {
          oci_config_position (cfg, "", line, col);
          return;
        }
      *cut = '\0';
    }
}

static void
report_add (struct skiff_check_report *r, int severity, unsigned line, unsigned col,
            const char *path, const char *hint, const char *msg)
{
  if (r->len == r->cap)
    {
      r->cap = r->cap ? 2 * r->cap : 16;
      r->items = realloc (r->items, r->cap * sizeof *r->items);
      if (r->items == NULL)
        abort ();
    }
  struct skiff_diag *d = &r->items[r->len++];
  d->severity = severity;
  d->line = line;
  d->col = col;
  d->path = xstrdup_or_null (path ? path : "");
  d->msg = xstrdup_or_null (msg);
  d->hint = xstrdup_or_null (hint);
  if (severity == SKIFF_DIAG_ERROR)
    r->errors++;
  else
    r->warnings++;
}

static const char *hint_for (const char *path, const char *msg);

static void diag (struct checker *k, int severity, const char *path, const char *hint,
                  const char *fmt, ...) __attribute__ ((format (printf, 5, 6)));

static void
diag (struct checker *k, int severity, const char *path, const char *hint, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  unsigned line, col;
  va_list ap;
  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    abort ();
  va_end (ap);
  position_of (k->cfg, path, &line, &col);
  report_add (k->r, severity, line, col, path, hint ? hint : hint_for (path, msg), msg);
}

/* Whether s starts with a JSON path of config.json: its first component
   is a member of the document. */
static bool
starts_with_path (const char *s, size_t n)
{
  static const char *const top[]
      = { "ociVersion", "process", "root",        "hostname", "domainname",
          "mounts",     "hooks",   "annotations", "linux" };
  size_t first = strcspn (s, ".[ :");
  for (size_t i = 0; i < sizeof top / sizeof *top; i++)
    if (first <= n && strlen (top[i]) == first && strncmp (s, top[i], first) == 0)
      return true;
  return false;
}

/* Some messages are about one member of the element their path names:
   point at that member. */
static const struct
{
  const char *path_prefix, *msg_prefix, *member;
} members[] = {
  { "mounts[", "destination", ".destination" },
  { "mounts[", "only proc may be mounted", ".type" },
  { "mounts[", "mounts under /proc", ".destination" },
  { "linux.namespaces[", "open `", ".path" },
  { "linux.devices[", "path must be", ".path" },
  { "linux.devices[", "major and minor", ".type" },
  { "linux.devices[", "type ", ".type" },
};

static void
refine_path (struct checker *k, char *path, size_t size, const char *msg)
{
  for (size_t i = 0; i < sizeof members / sizeof *members; i++)
    if (strncmp (path, members[i].path_prefix, strlen (members[i].path_prefix)) == 0
        && strncmp (msg, members[i].msg_prefix, strlen (members[i].msg_prefix)) == 0
        && path[strlen (path) - 1] == ']' && strlen (path) + strlen (members[i].member) < size)
      {
        strcat (path, members[i].member);
        return;
      }
  /* "a new user namespace needs ...": the user entry. */
  const oci_linux *l = k->cfg->linux;
  if (strcmp (path, "linux.namespaces") == 0 && strstr (msg, "user namespace") && l)
    for (size_t i = 0; i < l->namespaces_len; i++)
      if (strcmp (l->namespaces[i]->type, "user") == 0)
        {
          snprintf (path, size, "linux.namespaces[%zu]", i);
          return;
        }
}

/* The length of the JSON path that starts m: up to a blank or a colon,
   except inside a map key (["a:b"]), which may hold either. */
static size_t
path_len (const char *m)
{
  size_t n = 0;
  while (m[n] && m[n] != ' ' && m[n] != ':')
    {
      const char *end = strncmp (m + n, "[\"", 2) == 0 ? strstr (m + n + 2, "\"]") : NULL;
      n = end ? (size_t)(end - m) + 2 : n + 1;
    }
  return n;
}

/* A message of ours, "linux.namespaces[2]: duplicate ..." or "mounts[3]
   (/x): ...": the path is shown apart, with the position it names. */
static void
diag_message (struct checker *k, int severity, const char *m)
{
  char path[256] = "";
  size_t n = path_len (m);
  const char *rest = m;
  if (n == 0 || n >= sizeof path || !(m[n] == ':' || m[n] == ' ') || !starts_with_path (m, n))
    {
      diag (k, severity, "", NULL, "%s", m);
      return;
    }
  memcpy (path, m, n);
  path[n] = '\0';
  rest = m + n;
  /* "mounts[3] (/x): msg" -> "`/x`: msg" */
  const char *label = NULL;
  int label_len = 0;
  if (rest[0] == ' ' && rest[1] == '(')
    {
      const char *close = strstr (rest, "): ");
      if (close)
        {
          label = rest + 2;
          label_len = (int)(close - label);
          rest = close + 1;
        }
    }
  while (*rest == ':' || *rest == ' ')
    rest++;
  refine_path (k, path, sizeof path, rest);
  /* The namespace type adds nothing to linux.namespaces[N]. */
  if (label && label_len > 0 && strncmp (path, "linux.namespaces", 16) != 0)
    diag (k, severity, path, NULL, "`%.*s`: %s", label_len, label, rest);
  else
    diag (k, severity, path, NULL, "%s", rest);
}

static void
diag_error (struct checker *k, int severity, skiff_error_t *err)
{
  diag_message (k, severity, (*err)->msg);
  skiff_error_free (err);
}

/* ---- hints ------------------------------------------------------------ */

/* One line per kind of problem, chosen by the path (a prefix, "" for any)
   and a piece of the message.  The first match wins. */
// clang-format off
static const struct
{
  const char *path, *msg, *hint;
} hints[] = {
  /* the parser */
  { "", "invalid JSON", "fix the JSON syntax here: a missing comma, quote or bracket, or a trailing comma" },
  { "", "unexpected end", "the file ends too early: close every open [ and { (is it truncated?)" },
  { "", "empty document", "`skiff spec` writes a complete default config.json to start from" },
  { "", "duplicate key", "remove one of the two: other parsers keep either the first or the last" },
  { "", "missing required field", "add the field; `skiff spec` shows a complete example" },
  { "", "expected a string", "write the value as a JSON string, in double quotes" },
  { "", "expected an array", "this field is a list: put the value(s) in [ ]" },
  { "", "expected an object", "this field is an object: { \"name\": value, ... }" },
  { "", "expected a boolean", "write true or false, without quotes" },
  { "", "expected an integer", "write a whole number, without quotes" },
  { "", "expected a number", "write a number, without quotes" },
  { "", "out of range", "use a value inside the range shown" },
  { "", "invalid value", "use one of the values listed" },
  /* the document */
  { "root", "missing: a container needs", "add \"root\": {\"path\": \"rootfs\"} naming the root filesystem directory" },
  { "root.path", "does not exist", "create the directory (e.g. unpack an image into it) or fix the path; a relative path is from the bundle directory" },
  { "root.path", "not a directory", "root.path must name a directory holding the container's files" },
  { "process", "missing: create needs", "add a process with at least args and cwd; `skiff spec` shows one" },
  { "process.args", "must name the program", "add the program and its arguments, e.g. [\"/bin/sh\"]" },
  { "process.args[0]", "executable file not found", "install the program in the rootfs, or name it by a path that exists there" },
  { "process.args[0]", "no such file or directory", "install the program in the rootfs, or name it by a path that exists there" },
  { "process.args[0]", "not an executable", "name an executable file of the rootfs (chmod +x it if it is one)" },
  { "process.cwd", "absolute", "write the working directory as an absolute path inside the container, e.g. \"/\"" },
  { "process.capabilities", "capability bounding set", "run skiff where the host grants the capability, or remove it from the config" },
  { "process.capabilities", "unknown capability", "check the spelling (CAP_ and upper case); `skiff features` lists the capabilities this host knows" },
  { "process.selinuxLabel", "SELinux", "remove the label or run on a host with SELinux enabled" },
  { "linux.mountLabel", "SELinux", "remove the label or run on a host with SELinux enabled" },
  { "process.apparmorProfile", "AppArmor", "remove the profile or run on a host with AppArmor enabled" },
  /* namespaces */
  { "linux.namespaces", "duplicate namespace", "keep one entry per namespace type" },
  { "linux.namespaces", "no mount namespace", "add {\"type\": \"mount\"} to linux.namespaces, or remove what needs a mount" },
  { "linux.namespaces", "needs linux.uidMappings", "add linux.uidMappings and linux.gidMappings, e.g. [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]" },
  { "linux.uidMappings", "need a new user namespace", "add {\"type\": \"user\"} to linux.namespaces, or remove the mappings" },
  { "linux.namespaces", "open `", "the path must name a namespace file such as /proc/PID/ns/net or a bind mount of one" },
  { "linux.namespaces", "this kernel has no", "remove the namespace or run on a kernel that has it" },
  { "", "longer than the kernel's 64", "shorten it to 64 bytes at most" },
  { "process.rlimits", "above the hard limit", "make soft no larger than hard" },
  { "process.rlimits", "fs.nr_open", "lower the limit, or raise the host's fs.nr_open sysctl" },
  { "hostname", "needs a uts namespace", "add {\"type\": \"uts\"} to linux.namespaces, or remove hostname" },
  { "domainname", "needs a uts namespace", "add {\"type\": \"uts\"} to linux.namespaces, or remove domainname" },
  { "linux.sysctl", "needs a new", "add that namespace to linux.namespaces (without a path), or remove the sysctl" },
  { "linux.sysctl", "not owned by a namespace", "remove it: set host-wide sysctls on the host, not per container" },
  { "linux.sysctl", "is not a number", "write the value as the kernel shows it in /proc/sys (numbers)" },
  { "linux.sysctl", "no such sysctl", "check the name against /proc/sys on this host" },
  { "linux.sysctl", "conflicts with hostname", "remove the sysctl: the hostname field sets the name" },
  { "linux.sysctl", "conflicts with the hostname field", "set \"hostname\" instead of the sysctl" },
  { "linux.sysctl", "conflicts with domainname", "remove the sysctl or the domainname field, or make them agree" },
  { "linux.sysctl", "invalid name", "name the sysctl as in /proc/sys, with dots: \"net.ipv4.ip_forward\"" },
  /* memory policy */
  { "linux.memoryPolicy.nodes", "is not a list of nodes", "write numbers and ranges separated by commas, without blanks, e.g. \"0-3,7\"" },
  { "linux.memoryPolicy.nodes", "is beyond", "name nodes of this host (/sys/devices/system/node/online)" },
  { "linux.memoryPolicy.nodes", "does not exist on this host", "name nodes of /sys/devices/system/node/online, or run where the node exists" },
  { "linux.memoryPolicy.nodes", "has no memory", "name nodes of /sys/devices/system/node/has_memory" },
  { "linux.memoryPolicy.nodes", "needs at least one node", "add the nodes, e.g. \"nodes\": \"0\"" },
  { "linux.memoryPolicy.nodes", "takes no nodes", "remove nodes: MPOL_DEFAULT and MPOL_LOCAL take none" },
  { "linux.memoryPolicy.nodes", "takes one node", "name one node, or use MPOL_PREFERRED_MANY" },
  { "linux.memoryPolicy.flags", "exclude each other", "keep one of the two flags" },
  { "linux.memoryPolicy.flags", "goes with mode", "remove the flag, or use mode MPOL_BIND or MPOL_PREFERRED_MANY" },
  { "linux.memoryPolicy.flags", "qualifies the nodes", "remove the flag: it is about a list of nodes" },
  { "linux.memoryPolicy", "no NUMA memory policies", "remove linux.memoryPolicy, or run on a kernel with NUMA (CONFIG_NUMA)" },
  { "linux.netDevices", "needs a network namespace", "add {\"type\": \"network\"} to linux.namespaces: the devices move into the container's own" },
  { "linux.netDevices", "the runtime's own", "give the container a network namespace other than the runtime's (a new one, or another's path)" },
  { "linux.netDevices", "no such network device", "create the device on the host first (e.g. `ip link add`), or fix the name: the key is its name on the host" },
  { "linux.netDevices", "not a network device name", "a name has 1 to 15 bytes, without '/', ':' or white space; in name, one \"%d\" lets the kernel number it" },
  { "linux.netDevices", "is also the name of", "give each device its own name in the container" },
  { "linux.netDevices", "`lo` is taken", "choose another name: every network namespace has its own lo" },
  { "linux.netDevices", "loopback", "remove the entry: a new network namespace has its own lo, and skiff sets it up" },
  /* mounts and devices */
  { "mounts", "destination must be an absolute path", "start the destination with /: it is a path inside the container" },
  { "mounts", "only proc may be mounted on /proc", "mount type \"proc\" on /proc, or choose another destination" },
  { "mounts", "mounts under /proc are refused", "choose a destination outside /proc" },
  { "mounts", "idmap and uidMappings/gidMappings need a bind", "add \"rbind\" to options, or drop the idmap option and mappings" },
  { "mounts", "type is missing", "set type (e.g. \"tmpfs\"), or add \"bind\" to options for a bind mount" },
  { "mounts", "a bind mount needs a source", "set source to the host path to bind" },
  { "mounts", "source does not exist", "create the source on the host first, or fix the path (relative paths are from the bundle)" },
  { "mounts", "means nothing for a bind mount", "remove the option, or mount a new filesystem instead of a bind" },
  { "mounts", "do not apply to a bind mount", "remove the option" },
  { "mounts", "tmpcopyup applies to a tmpfs only", "use tmpcopyup on a tmpfs mount, or remove it" },
  { "mounts", "kernel cannot idmap", "remove the idmap option and mappings, or run on Linux 5.12 or newer" },
  { "mounts", "empty", "remove the empty option" },
  { "linux.rootfsPropagation", "", "use shared, slave, private or unbindable (r-prefixed for the whole tree)" },
  { "linux.devices", "is not c, u, b or p", "use c (char), b (block), u (unbuffered char) or p (fifo)" },
  { "linux.devices", "major and minor", "add the device numbers, as `ls -l /dev/NAME` shows them on the host" },
  { "linux.devices", "path must be absolute", "write the device path as an absolute path, e.g. \"/dev/fuse\"" },
  /* seccomp */
  { "linux.seccomp.syscalls", "unknown syscall", "harmless for a name of another kernel or architecture; otherwise fix the spelling: it falls to defaultAction" },
  { "linux.seccomp", "built without seccomp", "install a skiff built with libseccomp, or remove linux.seccomp" },
  { "linux.seccomp", "takes no errno value", "remove errnoRet, or use SCMP_ACT_ERRNO or SCMP_ACT_TRACE" },
  { "linux.seccomp", "must name at least one syscall", "list the syscalls the rule is for in names" },
  { "linux.seccomp", "SCMP_ACT_NOTIFY cannot", "use another action for it" },
  { "linux.seccomp", "required by SCMP_ACT_NOTIFY", "set listenerPath to the unix socket of the seccomp agent" },
  { "linux.seccomp", "must not be set without listenerPath", "set listenerPath, or remove listenerMetadata" },
  { "linux.seccomp", "unknown", "use a value `skiff features` lists under linux.seccomp" },
  /* cgroups and hooks */
  { "linux.cgroupsPath", "", "name a cgroup below the root, e.g. \"/mygroup/ctr\" or \"mygroup/ctr\"" },
  { "linux.resources.unified", "v1", "move the limits to the v1 fields of linux.resources, or run on a cgroup v2 host" },
  { "linux.resources.network", "cgroup v2", "remove linux.resources.network (net_cls/net_prio exist only on cgroup v1)" },
  { "linux.resources.unified", "need a cgroup v2 host", "move the limits to the v1 fields of linux.resources, or run on a cgroup v2 host" },
  { "linux.resources.blockIO", "do not support I/O weights", "remove the weights, or load the BFQ I/O scheduler (modprobe bfq) and select it for the devices" },
  { "linux.resources", "only on cgroup v1", "remove the key: it exists only on cgroup v1 hosts" },
  { "linux.resources", "controller", "remove those limits, or enable the controller on this host" },
  { "linux.intelRdt", "no resctrl filesystem", "mount it (mount -t resctrl resctrl /sys/fs/resctrl) on a CPU with RDT or QoS, or remove linux.intelRdt" },
  { "linux.intelRdt.closID", "use a plain name", "name the group with one directory name (no /), or \"/\" for the default group" },
  { "linux.intelRdt", "set linux.intelRdt.closID", "set closID to a group name: the container id cannot be one" },
  { "linux.intelRdt.memBwSchema", "must start with `MB:`", "write it as MB:<domain>=<bandwidth>;..., e.g. \"MB:0=50;1=50\"" },
  { "linux.intelRdt", "must be one line", "put each line in its own element of linux.intelRdt.schemata" },
  { "hooks", "must be an absolute path", "write the hook's path as an absolute path on the host" },
  { "hooks", "must be a number of seconds above 0", "give a timeout of 1 second or more, or leave it out for none" },
  { "ociVersion", "is not a SemVer", "write the runtime-spec version the config follows, e.g. \"1.3.0\"" },
  { "annotations", "must not be empty", "give the annotation a key, or remove it" },
  { "linux.namespaces", "must be an absolute path", "name the namespace file by its absolute path, e.g. /proc/PID/ns/net" },
  { "linux.maskedPaths", "must be an absolute path", "write the path as it is inside the container, starting with /" },
  { "linux.readonlyPaths", "must be an absolute path", "write the path as it is inside the container, starting with /" },
  { "process.rlimits", "is already set by", "keep one entry per rlimit type" },
  { "hooks", "not an executable file", "install the hook there and make it executable (chmod +x)" },
};
// clang-format on

static bool
path_matches (const char *path, const char *prefix)
{
  size_t n = strlen (prefix);
  return strncmp (path, prefix, n) == 0
         && (path[n] == '\0' || path[n] == '.' || path[n] == '[' || n == 0);
}

static const char *
hint_for (const char *path, const char *msg)
{
  for (size_t i = 0; i < sizeof hints / sizeof *hints; i++)
    if (path_matches (path ? path : "", hints[i].path) && strstr (msg, hints[i].msg))
      return hints[i].hint;
  return NULL;
}

/* ---- running create's code on every element -------------------------- */

/* One array of the config that a rule may name elements of ("mounts[3]").
   During run_rule the config points at a working copy. */
struct elem_list
{
  const char *prefix; /* "mounts[" */
  void *field;        /* &cfg->mounts: a T ** */
  size_t *len;        /* &cfg->mounts_len */
  void **orig, **work;
  size_t orig_len, *map; /* working index -> original index */
};

typedef int (*rule_fn) (struct checker *k, skiff_error_t *err);

static void
capture_warning (skiff_log_level level, const char *msg, void *data)
{
  struct checker *k = data;
  (void)level;
  k->captured = realloc (k->captured, (k->captured_len + 1) * sizeof *k->captured);
  if (k->captured == NULL)
    abort ();
  k->captured[k->captured_len++] = xstrdup_or_null (msg);
}

static void
captured_clear (struct checker *k)
{
  for (size_t i = 0; i < k->captured_len; i++)
    free (k->captured[i]);
  free (k->captured);
  k->captured = NULL;
  k->captured_len = 0;
}

static void
lists_begin (struct elem_list *l, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      memcpy (&l[i].orig, l[i].field, sizeof l[i].orig);
      l[i].orig_len = *l[i].len;
      l[i].work = calloc (l[i].orig_len + 1, sizeof *l[i].work);
      l[i].map = calloc (l[i].orig_len + 1, sizeof *l[i].map);
      if (l[i].work == NULL || l[i].map == NULL)
        abort ();
      for (size_t j = 0; j < l[i].orig_len; j++)
        {
          l[i].work[j] = l[i].orig[j];
          l[i].map[j] = j;
        }
      memcpy (l[i].field, &l[i].work, sizeof l[i].work);
    }
}

static void
lists_end (struct elem_list *l, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      memcpy (l[i].field, &l[i].orig, sizeof l[i].orig);
      *l[i].len = l[i].orig_len;
      free (l[i].work);
      free (l[i].map);
    }
}

/* If msg starts with "<prefix>N]", take element N out and rewrite msg's
   index to the original one.  false when no list is named. */
static bool
lists_drop (struct elem_list *l, size_t n, char **msg)
{
  for (size_t i = 0; i < n; i++)
    {
      size_t plen = strlen (l[i].prefix);
      if (strncmp (*msg, l[i].prefix, plen) != 0)
        continue;
      char *end = NULL;
      unsigned long idx = strtoul (*msg + plen, &end, 10);
      if (end == *msg + plen || *end != ']' || idx >= *l[i].len)
        return false;
      char *fixed = NULL;
      if (asprintf (&fixed, "%s%zu%s", l[i].prefix, l[i].map[idx], end) < 0)
        abort ();
      free (*msg);
      *msg = fixed;
      size_t left = *l[i].len - idx - 1;
      memmove (&l[i].work[idx], &l[i].work[idx + 1], left * sizeof *l[i].work);
      memmove (&l[i].map[idx], &l[i].map[idx + 1], left * sizeof *l[i].map);
      (*l[i].len)--;
      return true;
    }
  return false;
}

/* Run fn until it passes, reporting each error and taking out the element
   it names; an error that names none ends the run.  Returns whether the
   last run passed.  The warnings fn logs in that run stay in k->captured. */
static bool
run_rule (struct checker *k, struct elem_list *lists, size_t n, rule_fn fn)
{
  bool ok = false;
  lists_begin (lists, n);
  for (size_t guard = 0; guard < 1000; guard++)
    {
      skiff_error_t err = NULL;
      captured_clear (k);
      skiff_log_capture (capture_warning, k);
      int r = fn (k, &err);
      skiff_log_capture (NULL, NULL);
      if (r == 0)
        {
          ok = true;
          break;
        }
      bool dropped = lists_drop (lists, n, &err->msg);
      diag_error (k, SKIFF_DIAG_ERROR, &err);
      if (!dropped)
        break;
    }
  lists_end (lists, n);
  return ok;
}

/* The warnings create would log, as diagnostics. */
static void
report_captured (struct checker *k)
{
  for (size_t i = 0; i < k->captured_len; i++)
    diag_message (k, SKIFF_DIAG_WARNING, k->captured[i]);
  captured_clear (k);
}

#define LIST(prefix, obj, name)                                                                    \
  {                                                                                                \
    prefix, &(obj)->name, &(obj)->name##_len, NULL, NULL, 0, NULL                                  \
  }

/* ---- the rules -------------------------------------------------------- */

static int
rule_namespaces (struct checker *k, skiff_error_t *err)
{
  ns_plan_release (&k->ns);
  return ns_plan_build (k->cfg, &k->ns, err);
}

/* The namespaces the container gets as far as the config says, for the
   rules that depend on them when ns_plan_build failed. */
static int
ns_flags_of_config (const oci_config *c)
{
  int flags = 0;
  for (size_t i = 0; c->linux && i < c->linux->namespaces_len; i++)
    flags |= ns_flag_from_type (c->linux->namespaces[i]->type);
  return flags;
}

static void
check_namespaces (struct checker *k)
{
  oci_linux *l = k->cfg->linux;
  if (l)
    {
      struct elem_list lists[] = { LIST ("linux.namespaces[", l, namespaces) };
      k->ns_ok = run_rule (k, lists, 1, rule_namespaces);
    }
  else
    k->ns_ok = ns_plan_build (k->cfg, &k->ns, NULL) == 0;
  k->ns_flags = ns_flags_of_config (k->cfg);
  skiff_error_t mnt = NULL;
  if (!(k->ns_flags & CLONE_NEWNS) && rootfs_check_host_mountns (k->cfg, &mnt) < 0)
    {
      diag (k, SKIFF_DIAG_ERROR, "linux.namespaces", NULL, "%s",
            mnt->msg + strlen ("linux.namespaces: "));
      skiff_error_free (&mnt);
    }
  if (k->cfg->hostname && !(k->ns_flags & CLONE_NEWUTS))
    diag (k, SKIFF_DIAG_ERROR, "hostname", NULL, "`%s` needs a uts namespace", k->cfg->hostname);
  if (k->cfg->domainname && !(k->ns_flags & CLONE_NEWUTS))
    diag (k, SKIFF_DIAG_ERROR, "domainname", NULL, "`%s` needs a uts namespace",
          k->cfg->domainname);
  skiff_error_t err = NULL;
  if (ns_uts_names_check (k->cfg, &err) < 0)
    diag_error (k, SKIFF_DIAG_ERROR, &err);
}

/* One sysctl at a time: the messages name the key, not an index. */
static void
check_sysctls (struct checker *k)
{
  const oci_linux *l = k->cfg->linux;
  struct ns_plan fallback = { .new_flags = k->ns_flags };
  const struct ns_plan *ns = k->ns_ok ? &k->ns : &fallback;
  if (l == NULL || l->sysctl == NULL)
    return;
  for (size_t i = 0; i < l->sysctl->len; i++)
    {
      skiff_error_t err = NULL;
      oci_string_map one = { &l->sysctl->keys[i], &l->sysctl->values[i], 1 };
      oci_linux tmp = *l;
      oci_config cfg = *k->cfg;
      tmp.sysctl = &one;
      cfg.linux = &tmp;
      if (sysctl_validate (&cfg, ns, &err) < 0)
        diag_error (k, SKIFF_DIAG_ERROR, &err);
    }
}

/* Each entry on its own, so that every bad one is reported. */
static void
check_netdevices (struct checker *k)
{
  const oci_linux *l = k->cfg->linux;
  struct ns_plan fallback = { .new_flags = k->ns_flags };
  skiff_error_t err = NULL;
  if (!netdev_any (l))
    return;
  if (netdev_validate_netns (l, k->ns_ok ? &k->ns : &fallback, &err) < 0)
    diag_error (k, SKIFF_DIAG_ERROR, &err);
  for (size_t i = 0; i < l->net_devices->len; i++)
    if (netdev_validate_entry (l, i, &err) < 0)
      diag_error (k, SKIFF_DIAG_ERROR, &err);
}

static void
check_root (struct checker *k)
{
  const oci_root *r = k->cfg->root;
  char p[PATH_MAX];
  struct stat st;
  if (r == NULL || r->path == NULL)
    {
      diag (k, SKIFF_DIAG_ERROR, "root", NULL, "missing: a container needs a root filesystem");
      return;
    }
  if (r->path[0] == '/')
    snprintf (p, sizeof p, "%s", r->path);
  else
    snprintf (p, sizeof p, "%s/%s", k->bundle, r->path);
  if (stat (p, &st) < 0)
    diag (k, SKIFF_DIAG_ERROR, "root.path", NULL, "`%s` does not exist%s", r->path,
          r->path[0] == '/' ? "" : " in the bundle directory");
  else if (!S_ISDIR (st.st_mode))
    diag (k, SKIFF_DIAG_ERROR, "root.path", NULL, "`%s` is not a directory", r->path);
}

static int
rule_rlimits (struct checker *k, skiff_error_t *err)
{
  return process_check_rlimits (k->cfg->process, err);
}

static int
rule_caps (struct checker *k, skiff_error_t *err)
{
  return process_check_caps (k->cfg->process, true, err);
}

static void
check_exec (struct checker *k)
{
  const oci_process *p = k->cfg->process;
  char root[PATH_MAX];
  skiff_error_t err = NULL;
  cleanup_free char *exe = NULL;
  const oci_root *r = k->cfg->root;
  if (p->args_len == 0 || r == NULL || r->path == NULL)
    return;
  snprintf (root, sizeof root, "%s%s%s", r->path[0] == '/' ? "" : k->bundle,
            r->path[0] == '/' ? "" : "/", r->path);
  cleanup_close int rootfd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return; /* reported by check_root */
  /* A mount may bring the program in: only a warning. */
  if (plan_resolve_exec (rootfd, p, &exe, &err) < 0)
    diag_error (k, k->cfg->mounts_len ? SKIFF_DIAG_WARNING : SKIFF_DIAG_ERROR, &err);
}

static void
check_process (struct checker *k)
{
  oci_process *p = k->cfg->process;
  if (p == NULL)
    {
      diag (k, SKIFF_DIAG_ERROR, "process", NULL, "missing: create needs a process to run");
      return;
    }
  if (p->capabilities)
    {
      oci_capabilities *c = p->capabilities;
      struct elem_list lists[] = {
        LIST ("process.capabilities.bounding[", c, bounding),
        LIST ("process.capabilities.effective[", c, effective),
        LIST ("process.capabilities.inheritable[", c, inheritable),
        LIST ("process.capabilities.permitted[", c, permitted),
        LIST ("process.capabilities.ambient[", c, ambient),
      };
      run_rule (k, lists, sizeof lists / sizeof *lists, rule_caps);
    }
  if (p->rlimits_len)
    {
      struct elem_list lists[] = { LIST ("process.rlimits[", p, rlimits) };
      run_rule (k, lists, 1, rule_rlimits);
    }
  skiff_error_t err = NULL;
  if (process_check_io_priority (p, &err) < 0)
    diag_error (k, SKIFF_DIAG_ERROR, &err);
  if (p->cwd && p->cwd[0] != '/')
    diag (k, SKIFF_DIAG_ERROR, "process.cwd", NULL, "`%s` must be an absolute path", p->cwd);
  if (p->args_len == 0 || p->args[0][0] == '\0')
    diag (k, SKIFF_DIAG_ERROR, "process.args", NULL, "must name the program to run");
  else
    check_exec (k);
}

static void
check_hooks_of (struct checker *k, const char *phase, oci_hook **h, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      char path[96];
      struct stat st;
      snprintf (path, sizeof path, "hooks.%s[%zu].path", phase, i);
      /* a relative path is one of the shared rules (config-rules.c) */
      if (h[i]->path[0] == '/'
          && (stat (h[i]->path, &st) < 0 || !S_ISREG (st.st_mode) || !(st.st_mode & 0111)))
        diag (k, SKIFF_DIAG_ERROR, path, NULL, "`%s` is not an executable file on this host",
              h[i]->path);
    }
}

static void
check_hooks (struct checker *k)
{
  const oci_hooks *h = k->cfg->hooks;
  if (h == NULL)
    return;
  check_hooks_of (k, "prestart", h->prestart, h->prestart_len);
  check_hooks_of (k, "createRuntime", h->create_runtime, h->create_runtime_len);
  check_hooks_of (k, "createContainer", h->create_container, h->create_container_len);
  check_hooks_of (k, "startContainer", h->start_container, h->start_container_len);
  check_hooks_of (k, "poststart", h->poststart, h->poststart_len);
  check_hooks_of (k, "poststop", h->poststop, h->poststop_len);
}

static int
rule_mounts (struct checker *k, skiff_error_t *err)
{
  struct rootfs_spec rs = { .config = k->cfg,
                            .bundle = k->bundle,
                            .rootfs = "/nonexistent",
                            .userns = k->ns_flags & CLONE_NEWUSER,
                            .cgroupns = k->ns_flags & CLONE_NEWCGROUP,
                            .netns = k->ns_flags & CLONE_NEWNET };
  struct mount_plan plan = { 0 };
  if (mount_plan_build (&rs, &plan, err) < 0)
    return -1;
  /* The plan's own warnings go where create's would. */
  for (size_t i = 0; i < plan.warnings_len; i++)
    skiff_warn ("%s", plan.warnings[i]);
  mount_plan_free (&plan);
  return 0;
}

static void
check_mounts (struct checker *k)
{
  oci_config *c = k->cfg;
  oci_linux empty = { 0 };
  oci_linux *l = c->linux ? c->linux : &empty;
  struct elem_list lists[] = { LIST ("mounts[", c, mounts), LIST ("linux.devices[", l, devices) };
  if (run_rule (k, lists, 2, rule_mounts))
    report_captured (k);
  captured_clear (k);
  /* What create would find missing on the host. */
  for (size_t i = 0; i < c->mounts_len; i++)
    {
      const oci_mount *m = c->mounts[i];
      char path[64], src[PATH_MAX];
      bool bind = m->type && strcmp (m->type, "bind") == 0;
      for (size_t j = 0; j < m->options_len; j++)
        bind |= strcmp (m->options[j], "bind") == 0 || strcmp (m->options[j], "rbind") == 0;
      if (!bind || m->source == NULL || m->source[0] == '\0')
        continue;
      snprintf (src, sizeof src, "%s%s%s", m->source[0] == '/' ? "" : k->bundle,
                m->source[0] == '/' ? "" : "/", m->source);
      snprintf (path, sizeof path, "mounts[%zu].source", i);
      if (access (src, F_OK) < 0)
        diag (k, SKIFF_DIAG_ERROR, path, NULL, "`%s`: source does not exist on this host",
              m->source);
    }
}

static int
rule_seccomp (struct checker *k, skiff_error_t *err)
{
  struct seccomp_prog *prog = NULL;
  int r = seccomp_prepare (k->cfg->linux->seccomp, NULL, &prog, err);
  seccomp_prog_free (prog);
  return r;
}

static void
check_seccomp (struct checker *k)
{
  oci_seccomp *s = k->cfg->linux ? k->cfg->linux->seccomp : NULL;
  if (s == NULL)
    return;
  struct elem_list lists[] = {
    LIST ("linux.seccomp.syscalls[", s, syscalls),
    LIST ("linux.seccomp.architectures[", s, architectures),
    LIST ("linux.seccomp.flags[", s, flags),
  };
  if (run_rule (k, lists, sizeof lists / sizeof *lists, rule_seccomp))
    report_captured (k);
  captured_clear (k);
}

/* The policy's own errors; the nodes this host lacks are a warning, as
   the other host facts (create refuses them). */
static void
check_memory_policy (struct checker *k)
{
  struct mempolicy_plan p;
  skiff_error_t err = NULL;
  if (mempolicy_parse (k->cfg->linux, &p, &err) < 0)
    {
      diag_error (k, SKIFF_DIAG_ERROR, &err);
      return;
    }
  if (!p.set)
    return;
  if (!k->host.numa)
    diag (k, SKIFF_DIAG_WARNING, "linux.memoryPolicy", NULL,
          "this host has no NUMA memory policies (a kernel without CONFIG_NUMA)");
  else if (mempolicy_check_host (&p, k->host.numa_online,
                                 k->host.numa_memory[0] ? k->host.numa_memory : NULL, &err)
           < 0)
    diag_error (k, SKIFF_DIAG_WARNING, &err);
}

static int
rule_intel_rdt (struct checker *k, skiff_error_t *err)
{
  return resctrl_check_config (k->cfg->linux->intel_rdt, "check", err);
}

static int
rule_cgroup (struct checker *k, skiff_error_t *err)
{
  struct skiff_cgroup *cg = NULL;
  int r = cgroup_new (k->cfg->linux->cgroups_path, "check", &cg, err);
  cgroup_free (cg);
  return r;
}

/* ---- the host --------------------------------------------------------- */

static bool
idmap_supported (void)
{
#ifdef SYS_mount_setattr
  /* An invalid fd: EBADF when the syscall exists, ENOSYS when not. */
  return syscall (SYS_mount_setattr, -1, "", 0, NULL, 0) == 0 || errno != ENOSYS;
#else
  return false;
#endif
}

static bool
controller_enabled (const char *name)
{
  cleanup_fclose FILE *f = fopen ("/proc/cgroups", "re");
  char line[256], ctl[64];
  int hier, num, enabled;
  while (f && fgets (line, sizeof line, f))
    if (sscanf (line, "%63s %d %d %d", ctl, &hier, &num, &enabled) == 4 && strcmp (ctl, name) == 0)
      return enabled == 1;
  return false;
}

static bool
in_plus_list (const char *list, const char *name)
{
  size_t n = strlen (name);
  for (const char *p = list; (p = strstr (p, name)); p += n)
    if ((p == list || p[-1] == '+') && (p[n] == '\0' || p[n] == '+'))
      return true;
  return false;
}

static void
host_probe (struct host *h)
{
  static const char *const ns[]
      = { "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time" };
  static const char *const ctl[]
      = { "cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "rdma", "net_cls" };
  memset (h, 0, sizeof *h);
  h->cgroup = cgroup_detect_layout ();
  /* the same tests as create's (label.c) */
  h->selinux = selinux_host_enabled ();
  h->apparmor = apparmor_host_enabled ();
  h->idmap = idmap_supported ();
  h->resctrl = resctrl_mounted ();
  for (size_t i = 0; i < sizeof ns / sizeof *ns; i++)
    {
      char p[64];
      snprintf (p, sizeof p, "/proc/self/ns/%s", ns_proc_name (ns_flag_from_type (ns[i])));
      if (access (p, F_OK) < 0)
        snprintf (h->no_ns + strlen (h->no_ns), sizeof h->no_ns - strlen (h->no_ns), "%s%s",
                  h->no_ns[0] ? "+" : "", ns[i]);
    }
  cleanup_free char *online = NULL, *memory = NULL;
  skiff_error_t e = NULL;
  h->numa = read_file_at (AT_FDCWD, "/sys/devices/system/node/online", &online, NULL, &e) == 0;
  skiff_error_free (&e);
  if (h->numa)
    snprintf (h->numa_online, sizeof h->numa_online, "%s", online);
  if (h->numa
      && read_file_at (AT_FDCWD, "/sys/devices/system/node/has_memory", &memory, NULL, &e) == 0)
    snprintf (h->numa_memory, sizeof h->numa_memory, "%s", memory);
  skiff_error_free (&e);
  for (size_t i = 0; i < sizeof ctl / sizeof *ctl; i++)
    if (!controller_enabled (ctl[i]))
      snprintf (h->no_ctl + strlen (h->no_ctl), sizeof h->no_ctl - strlen (h->no_ctl), "%s%s",
                h->no_ctl[0] ? "+" : "", ctl[i]);
}

/* Test-only: SKIFF_TEST_HOST replaces the probes it names. */
static void
host_override (struct host *h, const char *spec)
{
  cleanup_free char *copy = xstrdup_or_null (spec);
  char *save = NULL;
  for (char *kv = strtok_r (copy, ",", &save); kv; kv = strtok_r (NULL, ",", &save))
    {
      char *v = strchr (kv, '=');
      if (v == NULL)
        continue;
      *v++ = '\0';
      if (strcmp (kv, "cgroup") == 0)
        h->cgroup = strcmp (v, "v1") == 0       ? CGROUP_LAYOUT_V1
                    : strcmp (v, "hybrid") == 0 ? CGROUP_LAYOUT_HYBRID
                                                : CGROUP_LAYOUT_V2;
      else if (strcmp (kv, "selinux") == 0)
        h->selinux = strcmp (v, "1") == 0;
      else if (strcmp (kv, "apparmor") == 0)
        h->apparmor = strcmp (v, "1") == 0;
      else if (strcmp (kv, "idmap") == 0)
        h->idmap = strcmp (v, "1") == 0;
      else if (strcmp (kv, "resctrl") == 0)
        h->resctrl = strcmp (v, "1") == 0;
      else if (strcmp (kv, "no-ns") == 0)
        snprintf (h->no_ns, sizeof h->no_ns, "%s", v);
      else if (strcmp (kv, "no-ctl") == 0)
        snprintf (h->no_ctl, sizeof h->no_ctl, "%s", v);
      else if (strcmp (kv, "no-cap") == 0)
        snprintf (h->no_cap, sizeof h->no_cap, "%s", v);
      else if (strcmp (kv, "numa") == 0)
        {
          h->numa = strcmp (v, "none") != 0;
          snprintf (h->numa_online, sizeof h->numa_online, "%s", h->numa ? v : "");
          snprintf (h->numa_memory, sizeof h->numa_memory, "%s", h->numa_online);
        }
      else if (strcmp (kv, "no-netdev") == 0)
        snprintf (h->no_netdev, sizeof h->no_netdev, "%s", v);
    }
}

static void
cgroup_warning (void *data, const char *key, const char *msg)
{
  diag (data, SKIFF_DIAG_WARNING, key, NULL, "%s: the limits cannot be applied", msg);
}

static void
host_controllers (struct checker *k)
{
  const oci_resources *res = k->cfg->linux ? k->cfg->linux->resources : NULL;
  const struct
  {
    bool used;
    const char *path, *ctl;
  } uses[] = {
    { res && res->memory, "linux.resources.memory", "memory" },
    { res && res->cpu, "linux.resources.cpu", "cpu" },
    { res && res->pids, "linux.resources.pids", "pids" },
    { res && res->block_io, "linux.resources.blockIO", "blkio" },
    { res && res->hugepage_limits_len, "linux.resources.hugepageLimits", "hugetlb" },
    { res && res->rdma, "linux.resources.rdma", "rdma" },
  };
  if (res == NULL)
    return;
  if (!k->host.simulated)
    {
      /* The cgroup manager's own judgement of this host. */
      cgroup_check_resources (res, cgroup_warning, k);
      return;
    }
  for (size_t i = 0; i < sizeof uses / sizeof *uses; i++)
    if (uses[i].used && in_plus_list (k->host.no_ctl, uses[i].ctl))
      diag (k, SKIFF_DIAG_WARNING, uses[i].path, NULL,
            "this host has no %s cgroup controller: the limits cannot be applied", uses[i].ctl);
  if (res->unified && res->unified->len && k->host.cgroup == CGROUP_LAYOUT_V1)
    diag (k, SKIFF_DIAG_WARNING, "linux.resources.unified", NULL,
          "cgroup v2 keys cannot be applied on this cgroup v1 host");
  if (res->network && k->host.cgroup == CGROUP_LAYOUT_V2)
    diag (k, SKIFF_DIAG_WARNING, "linux.resources.network", NULL,
          "net_cls and net_prio do not exist on this cgroup v2 host");
}

/* A capability outside the runtime's bounding set: create leaves it out
   with a warning (process.c), and so does check, once per name. */
static void
host_caps (struct checker *k)
{
  struct process_capset sets[5];
  size_t nsets = process_cap_sets (k->cfg->process ? k->cfg->process->capabilities : NULL, sets);
  char warned[512] = "";
  for (size_t s = 0; s < nsets; s++)
    for (size_t i = 0; i < sets[s].len; i++)
      {
        const char *name = sets[s].names[i];
        bool withheld = k->host.no_cap_set ? in_plus_list (k->host.no_cap, name)
                                           : !process_cap_granted (name);
        if (!withheld || in_plus_list (warned, name))
          continue;
        snprintf (warned + strlen (warned), sizeof warned - strlen (warned), "+%s", name);
        char path[64];
        snprintf (path, sizeof path, "process.capabilities.%s[%zu]", sets[s].field, i);
        diag (k, SKIFF_DIAG_WARNING, path, NULL, "%s " PROCESS_CAP_WITHHELD, name);
      }
}

static void
check_host (struct checker *k)
{
  const oci_config *c = k->cfg;
  const oci_linux *l = c->linux;
  host_caps (k);
  for (size_t i = 0; l && i < l->namespaces_len; i++)
    {
      char path[64];
      snprintf (path, sizeof path, "linux.namespaces[%zu]", i);
      if (in_plus_list (k->host.no_ns, l->namespaces[i]->type))
        diag (k, SKIFF_DIAG_WARNING, path, NULL, "this kernel has no %s namespace",
              l->namespaces[i]->type);
    }
  host_controllers (k);
  for (size_t i = 0; netdev_any (l) && i < l->net_devices->len; i++)
    {
      const char *name = l->net_devices->keys[i];
      char path[IFNAMSIZ + 32];
      if (k->host.simulated ? !in_plus_list (k->host.no_netdev, name) : netdev_host_has (name))
        continue;
      snprintf (path, sizeof path, "linux.netDevices[\"%s\"]", name);
      diag (k, SKIFF_DIAG_WARNING, path, NULL, "no such network device on this host");
    }
  if (c->process && c->process->selinux_label && !k->host.selinux)
    diag (k, SKIFF_DIAG_WARNING, "process.selinuxLabel", NULL,
          "SELinux is not enabled on this host: `%s` cannot be applied", c->process->selinux_label);
  if (l && l->mount_label && !k->host.selinux)
    diag (k, SKIFF_DIAG_WARNING, "linux.mountLabel", NULL,
          "SELinux is not enabled on this host: `%s` cannot be applied", l->mount_label);
  if (l && l->intel_rdt && !k->host.resctrl)
    diag (k, SKIFF_DIAG_WARNING, "linux.intelRdt", NULL, RESCTRL_NO_MOUNT ": create fails");
  if (c->process && c->process->apparmor_profile && !k->host.apparmor)
    diag (k, SKIFF_DIAG_WARNING, "process.apparmorProfile", NULL,
          "AppArmor is not enabled on this host: `%s` cannot be applied",
          c->process->apparmor_profile);
  for (size_t i = 0; i < c->mounts_len && !k->host.idmap; i++)
    {
      const oci_mount *m = c->mounts[i];
      bool idmap = m->uid_mappings_len || m->gid_mappings_len;
      for (size_t j = 0; j < m->options_len; j++)
        idmap |= strcmp (m->options[j], "idmap") == 0 || strcmp (m->options[j], "ridmap") == 0;
      char path[64];
      snprintf (path, sizeof path, "mounts[%zu]", i);
      if (idmap)
        diag (k, SKIFF_DIAG_WARNING, path, NULL,
              "this kernel cannot idmap mounts (no mount_setattr)");
    }
}

/* What a rootless create would refuse on this host, for a caller
   without privileges (as --rootless auto decides): the same functions
   create runs, their errors as warnings. */
static void
check_rootless (struct checker *k)
{
  const oci_config *c = k->cfg;
  skiff_error_t err = NULL;
  if (k->host.simulated || (geteuid () == 0 && !rootless_in_userns ()))
    return;
  if (!(k->ns_flags & CLONE_NEWUSER))
    diag (k, SKIFF_DIAG_WARNING, "linux.namespaces", "`skiff spec --rootless` writes one",
          "rootless, a container needs a user namespace of its own (with none, its other "
          "namespaces and mounts need privileges you lack)");
  else if (userns_check_maps (c->linux, &err) < 0)
    diag_error (k, SKIFF_DIAG_WARNING, &err);
  if (c->process && rootless_check_rlimits (c->process, &err) < 0)
    diag_error (k, SKIFF_DIAG_WARNING, &err);
  struct skiff_context ctx = { .rootless = 1, .rootless_on = true };
  struct skiff_cgroup *cg = NULL;
  bool use;
  if (c->linux && cgroup_new (c->linux->cgroups_path, "check", &cg, NULL) == 0
      && rootless_cgroup_decide (&ctx, cg, c->linux->resources, &use, &err) < 0)
    diag_error (k, SKIFF_DIAG_WARNING, &err);
  cgroup_free (cg);
}

/* ---- entry points ----------------------------------------------------- */

static int
emit_rule (void *data, skiff_error_t *e)
{
  diag_error (data, SKIFF_DIAG_ERROR, e);
  return 0;
}

static void
check_rules (struct checker *k)
{
  config_rules_run (k->cfg, emit_rule, k);
  check_root (k);
  check_namespaces (k);
  check_sysctls (k);
  check_netdevices (k);
  check_process (k);
  check_hooks (k);
  check_mounts (k);
  check_seccomp (k);
  check_memory_policy (k);
  if (k->cfg->linux)
    {
      struct elem_list none[] = { { 0 } };
      run_rule (k, none, 0, rule_cgroup);
      if (k->cfg->linux->intel_rdt)
        run_rule (k, none, 0, rule_intel_rdt);
    }
  check_host (k);
  check_rootless (k);
  ns_plan_release (&k->ns);
}

static int
by_position (const void *a, const void *b)
{
  const struct skiff_diag *x = a, *y = b;
  unsigned xl = x->line ? x->line : ~0U, yl = y->line ? y->line : ~0U;
  if (xl != yl)
    return xl < yl ? -1 : 1;
  if (x->col != y->col)
    return x->col < y->col ? -1 : 1;
  /* Stable: the order the rules found them in. */
  return x < y ? -1 : x > y;
}

int
skiff_check_bundle (const char *bundle, struct skiff_check_report *r, skiff_error_t *err)
{
  char path[PATH_MAX];
  cleanup_free char *data = NULL;
  size_t len = 0;
  oci_diags d = { 0 };
  memset (r, 0, sizeof *r);
  snprintf (path, sizeof path, "%s/config.json", bundle);
  if (read_regular_file_at (AT_FDCWD, path, &data, &len, err) < 0)
    return -1;
  r->file = xstrdup_or_null (strcmp (bundle, ".") == 0 ? "config.json" : path);
  oci_parse_opts opts = { .filename = r->file, .keep_positions = true };
  struct checker k = { .bundle = bundle, .r = r };
  host_probe (&k.host);
  if (getenv ("SKIFF_TEST_HOST"))
    {
      /* a one-node host unless the profile says otherwise */
      k.host.numa = true;
      snprintf (k.host.numa_online, sizeof k.host.numa_online, "0");
      snprintf (k.host.numa_memory, sizeof k.host.numa_memory, "0");
      host_override (&k.host, getenv ("SKIFF_TEST_HOST"));
      k.host.simulated = true;
      k.host.no_cap_set = true;
    }
  k.cfg = oci_config_parse_data (data, len, &opts, &d);
  for (size_t i = 0; i < d.len; i++)
    {
      const oci_diag *x = &d.items[i];
      report_add (r, x->severity, x->line, x->col, x->path, hint_for (x->path, x->msg), x->msg);
    }
  oci_diags_free (&d);
  if (k.cfg)
    {
      check_rules (&k);
      oci_config_free (k.cfg);
    }
  captured_clear (&k);
  if (r->len > 1)
    qsort (r->items, r->len, sizeof *r->items, by_position);
  return 0;
}

char *
skiff_check_format (const struct skiff_check_report *r, bool json)
{
  static const char *const sev[] = { "error", "warning" };
  struct skiff_strbuf b = { 0 };
  if (json)
    {
      strbuf_puts (&b, "{\"file\":");
      skiff_json_quote (&b, r->file ? r->file : "");
      strbuf_printf (&b, ",\"errors\":%zu,\"warnings\":%zu,\"diagnostics\":[", r->errors,
                     r->warnings);
    }
  for (size_t i = 0; i < r->len; i++)
    {
      const struct skiff_diag *x = &r->items[i];
      const char *s = sev[x->severity == SKIFF_DIAG_ERROR ? 0 : 1];
      if (json)
        {
          strbuf_printf (&b,
                         "%s{\"severity\":\"%s\",\"line\":%u,\"column\":%u,\"path\":", i ? "," : "",
                         s, x->line, x->col);
          skiff_json_quote (&b, x->path);
          strbuf_puts (&b, ",\"message\":");
          skiff_json_quote (&b, x->msg);
          strbuf_puts (&b, ",\"hint\":");
          if (x->hint)
            skiff_json_quote (&b, x->hint);
          else
            strbuf_puts (&b, "null");
          strbuf_puts (&b, "}");
          continue;
        }
      strbuf_printf (&b, "%s:", r->file);
      if (x->line)
        strbuf_printf (&b, "%u:%u:", x->line, x->col);
      strbuf_printf (&b, " %s: ", s);
      if (x->path[0])
        strbuf_printf (&b, "%s: ", x->path);
      strbuf_printf (&b, "%s\n", x->msg);
      if (x->hint)
        strbuf_printf (&b, "    hint: %s\n", x->hint);
    }
  if (json)
    strbuf_puts (&b, "]}\n");
  else
    strbuf_printf (&b, "%s: %zu error%s, %zu warning%s\n", r->file, r->errors,
                   r->errors == 1 ? "" : "s", r->warnings, r->warnings == 1 ? "" : "s");
  return strbuf_steal (&b);
}

void
skiff_check_report_free (struct skiff_check_report *r)
{
  for (size_t i = 0; i < r->len; i++)
    {
      free (r->items[i].path);
      free (r->items[i].msg);
      free (r->items[i].hint);
    }
  free (r->items);
  free (r->file);
  memset (r, 0, sizeof *r);
}

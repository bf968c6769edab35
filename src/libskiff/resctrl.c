/* linux.intelRdt (runtime-spec 1.3): a CTRL_MON group of the resctrl
   filesystem per closID (default: the container id), its schemata, a MON
   group per container with enableMonitoring, and runc's stats of them.
   The kernel's side is Documentation/filesystems/resctrl.rst. */
#include "config.h"
#include "resctrl.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "log.h"
#include "mounts.h"

/* ---- the mount ---------------------------------------------------------- */

static char *
find_mount (void)
{
  struct mountinfo *v = NULL;
  size_t n = 0;
  skiff_error_t e = NULL;
  char *root = NULL;
  if (mountinfo_read (&v, &n, &e) < 0)
    {
      skiff_error_free (&e);
      return NULL;
    }
  /* mountinfo_reachable checks the statfs magic of resctrl: a directory
     at the usual place proves nothing (sysfs provides it). */
  for (size_t i = 0; i < n && root == NULL; i++)
    if (strcmp (v[i].fstype, "resctrl") == 0 && mountinfo_reachable (&v[i]))
      root = strdup (v[i].point);
  mountinfo_free (v, n);
  return root;
}

int
resctrl_find_root (const char *key, char **root, skiff_error_t *err)
{
  *root = find_mount ();
  if (*root == NULL)
    return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, 0, "%s: " RESCTRL_NO_MOUNT, key);
  return 0;
}

bool
resctrl_mounted (void)
{
  cleanup_free char *root = find_mount ();
  return root != NULL;
}

/* ---- the config ---------------------------------------------------------- */

/* Directories of the root group that a group name would collide with. */
static bool
reserved_name (const char *name)
{
  return strcmp (name, "info") == 0 || strcmp (name, "mon_groups") == 0
         || strcmp (name, "mon_data") == 0;
}

static const char *
bad_group_name (const char *name)
{
  if (name[0] == '\0')
    return "empty";
  if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return "not a directory name";
  if (strchr (name, '/'))
    return "holds a `/` (a group is one directory below the resctrl mount)";
  if (strlen (name) > NAME_MAX)
    return "longer than NAME_MAX (255)";
  if (reserved_name (name))
    return "names a directory of the resctrl filesystem, not a group";
  return NULL;
}

bool
resctrl_wants_monitoring (const oci_intel_rdt *rdt)
{
  return rdt->enable_monitoring || rdt->enable_cmt || rdt->enable_mbm;
}

static bool
set (const char *s)
{
  return s && *s; /* an empty schema is no request, as with runc */
}

int
resctrl_check_config (const oci_intel_rdt *rdt, const char *id, skiff_error_t *err)
{
  const char *why;
  if (rdt->clos_id && strcmp (rdt->clos_id, "/") != 0 && (why = bad_group_name (rdt->clos_id)))
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.intelRdt.closID: `%s`: %s; use a plain name, or `/` for "
                                 "the root group",
                                 rdt->clos_id, why);
  if (rdt->clos_id == NULL && (why = bad_group_name (id)))
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.intelRdt: the container id `%.64s` cannot name its "
                                 "resctrl group (%s): set linux.intelRdt.closID",
                                 id, why);
  if (set (rdt->mem_bw_schema) && strncmp (rdt->mem_bw_schema, "MB:", 3) != 0)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.intelRdt.memBwSchema: `%s`: must start with `MB:`",
                                 rdt->mem_bw_schema);
  if (set (rdt->mem_bw_schema) && strchr (rdt->mem_bw_schema, '\n'))
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.intelRdt.memBwSchema: must be one line (no newline)");
  for (size_t i = 0; i < rdt->schemata_len; i++)
    if (strchr (rdt->schemata[i], '\n'))
      return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                   "linux.intelRdt.schemata[%zu]: must be one line (no newline)",
                                   i);
  return 0;
}

/* ---- files of a group ------------------------------------------------------ */

static bool
is_root (const char *name)
{
  return strcmp (name, "/") == 0;
}

/* "<root>/<group>[/<mon path>]/<file>", for messages. */
static char *
path_of (const struct resctrl_group *g, bool mon, const char *file)
{
  char *p = NULL;
  if (asprintf (&p, "%s%s%s%s%s/%s", g->root, is_root (g->name) ? "" : "/",
                is_root (g->name) ? "" : g->name, mon ? "/mon_groups/" : "", mon ? g->mon : "",
                file)
      < 0)
    abort ();
  return p;
}

static int
open_dir (int dfd, const char *name, const char *key, const char *what, skiff_error_t *err)
{
  int fd = openat (dfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return skiff_error (err, errno, "%s: open %s", key, what);
  return fd;
}

/* The group's directory (O_PATH), or its MON group's. */
static int
open_group (const struct resctrl_group *g, bool mon, const char *key, skiff_error_t *err)
{
  cleanup_free char *what = path_of (g, mon, "");
  cleanup_close int root = open_dir (AT_FDCWD, g->root, key, what, err);
  if (root < 0)
    return -1;
  cleanup_close int grp
      = is_root (g->name) ? steal_fd (&root) : open_dir (root, g->name, key, what, err);
  if (grp < 0 || !mon)
    return grp < 0 ? -1 : steal_fd (&grp);
  char sub[PATH_MAX];
  snprintf (sub, sizeof sub, "mon_groups/%s", g->mon);
  return open_dir (grp, sub, key, what, err);
}

/* A whole small file, trailing newlines dropped; -errno on failure. */
static int
read_text_at (int dfd, const char *name, char **out)
{
  cleanup_close int fd = openat (dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  size_t len = 0;
  *out = NULL;
  if (fd < 0)
    return -errno;
  int r = read_all_fd (fd, out, &len, 1 << 20);
  if (r < 0)
    return r;
  while (len > 0 && (*out)[len - 1] == '\n')
    (*out)[--len] = '\0';
  return 0;
}

/* The kernel's reason for the last refused write (info/last_cmd_status),
   as " (resctrl: ...)", or "". */
static char *
last_cmd_status (const char *root)
{
  cleanup_close int fd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_free char *s = NULL;
  char *out = NULL;
  if (fd < 0 || read_text_at (fd, "info/last_cmd_status", &s) < 0 || *s == '\0'
      || strcmp (s, "ok") == 0)
    return strdup ("");
  for (char *p = s; *p; p++)
    if (*p == '\n')
      *p = ' ';
  if (asprintf (&out, " (resctrl: %s)", s) < 0)
    abort ();
  return out;
}

/* One write(2) of "line\n", as the kernel parses each write on its own.
   O_APPEND: in a unit test's directory tree every line stays visible. */
static int
write_line_at (const struct resctrl_group *g, int dfd, bool mon, const char *file, const char *key,
               const char *line, skiff_error_t *err)
{
  cleanup_free char *what = path_of (g, mon, file);
  cleanup_close int fd = openat (dfd, file, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return skiff_error (err, errno, "%s: open `%s`", key, what);
  size_t n = strlen (line);
  cleanup_free char *buf = malloc (n + 2);
  if (buf == NULL)
    abort ();
  memcpy (buf, line, n);
  buf[n] = '\n';
  ssize_t w = write (fd, buf, n + 1);
  if (w == (ssize_t)(n + 1))
    return 0;
  int e = w < 0 ? errno : EIO;
  cleanup_free char *why = last_cmd_status (g->root);
  skiff_error (err, 0, "%s: write `%s` to `%s`: %s%s", key, line, what, strerror (e), why);
  (*err)->errno_ = e;
  return -1;
}

/* Each line of a schema value on its own write. */
static int
write_schema_lines (const struct resctrl_group *g, int dfd, const char *key, const char *value,
                    skiff_error_t *err)
{
  cleanup_free char *copy = strdup (value);
  char *save = NULL;
  if (copy == NULL)
    abort ();
  for (char *l = strtok_r (copy, "\n", &save); l; l = strtok_r (NULL, "\n", &save))
    if (write_line_at (g, dfd, false, "schemata", key, l, err) < 0)
      return -1;
  return 0;
}

/* ---- comparing schemata ---------------------------------------------------- */

static const char *
skip_blank (const char *s)
{
  while (*s == ' ' || *s == '\t')
    s++;
  return s;
}

/* Bandwidths (MB, SMBA) are decimal; everything else is a hex bit mask. */
static bool
same_value (const char *resource, size_t rlen, const char *a, size_t alen, const char *b,
            size_t blen)
{
  bool dec = (rlen == 2 && strncmp (resource, "MB", 2) == 0)
             || (rlen == 4 && strncmp (resource, "SMBA", 4) == 0);
  char x[64], y[64], *ex, *ey;
  if (alen == 0 || blen == 0 || alen >= sizeof x || blen >= sizeof y)
    return alen == blen && memcmp (a, b, alen) == 0;
  memcpy (x, a, alen);
  x[alen] = '\0';
  memcpy (y, b, blen);
  y[blen] = '\0';
  errno = 0;
  unsigned long long u = strtoull (x, &ex, dec ? 10 : 16), v = strtoull (y, &ey, dec ? 10 : 16);
  if (errno || *ex || *ey)
    return strcmp (x, y) == 0;
  return u == v;
}

/* The value of domain `dom` in the tokens "0=ff;1=f0" (blanks allowed). */
static bool
domain_value (const char *tokens, size_t tlen, const char *dom, size_t dlen, const char **val,
              size_t *vlen)
{
  const char *p = tokens, *end = tokens + tlen;
  while (p < end)
    {
      const char *semi = memchr (p, ';', (size_t)(end - p));
      const char *tend = semi ? semi : end;
      const char *eq = memchr (p, '=', (size_t)(tend - p));
      if (eq)
        {
          const char *k = skip_blank (p), *ke = eq;
          while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t'))
            ke--;
          const char *v = skip_blank (eq + 1), *ve = tend;
          while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
          if ((size_t)(ke - k) == dlen && memcmp (k, dom, dlen) == 0)
            {
              *val = v;
              *vlen = (size_t)(ve - v);
              return true;
            }
        }
      p = tend + 1;
    }
  return false;
}

/* The tokens of the line of `resource` in a schemata file's text. */
static bool
resource_line (const char *schemata, const char *resource, size_t rlen, const char **tokens,
               size_t *tlen)
{
  for (const char *l = schemata; l && *l;)
    {
      const char *nl = strchr (l, '\n'), *end = nl ? nl : l + strlen (l);
      const char *s = skip_blank (l); /* the kernel right-aligns the names */
      const char *colon = memchr (s, ':', (size_t)(end - s));
      if (colon && (size_t)(colon - s) == rlen && memcmp (s, resource, rlen) == 0)
        {
          *tokens = colon + 1;
          *tlen = (size_t)(end - colon - 1);
          return true;
        }
      l = nl ? nl + 1 : NULL;
    }
  return false;
}

bool
resctrl_schema_matches (const char *schemata, const char *line)
{
  const char *s = skip_blank (line), *colon = strchr (s, ':');
  const char *ftok;
  size_t ftlen;
  if (colon == NULL || colon == s)
    return false;
  size_t rlen = (size_t)(colon - s);
  if (!resource_line (schemata, s, rlen, &ftok, &ftlen))
    return false;
  bool any = false;
  for (const char *p = colon + 1; *p;)
    {
      const char *semi = strchr (p, ';'), *tend = semi ? semi : p + strlen (p);
      const char *eq = memchr (p, '=', (size_t)(tend - p));
      if (eq == NULL)
        {
          if (*skip_blank (p) != '\0' && skip_blank (p) < tend)
            return false; /* not "domain=value" */
        }
      else
        {
          const char *d = skip_blank (p), *de = eq;
          while (de > d && (de[-1] == ' ' || de[-1] == '\t'))
            de--;
          const char *v = skip_blank (eq + 1), *ve = tend;
          while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\n'))
            ve--;
          const char *fv;
          size_t fvlen;
          if (!domain_value (ftok, ftlen, d, (size_t)(de - d), &fv, &fvlen)
              || !same_value (s, rlen, v, (size_t)(ve - v), fv, fvlen))
            return false;
          any = true;
        }
      if (semi == NULL)
        break;
      p = semi + 1;
    }
  return any;
}

/* The line of `line`'s resource in the file, for the message. */
static char *
existing_line (const char *schemata, const char *line)
{
  const char *s = skip_blank (line), *colon = strchr (s, ':'), *tok;
  size_t tlen;
  char *out = NULL;
  if (colon && resource_line (schemata, s, (size_t)(colon - s), &tok, &tlen))
    {
      if (asprintf (&out, "%.*s:%.*s", (int)(colon - s), s, (int)tlen, tok) < 0)
        abort ();
      return out;
    }
  if (asprintf (&out, "no %.*s line", colon ? (int)(colon - s) : 0, s) < 0)
    abort ();
  return out;
}

/* An existing group must already hold l3CacheSchema and memBwSchema. */
static int
check_existing (const struct resctrl_group *g, int gfd, const char *key, const char *value,
                skiff_error_t *err)
{
  cleanup_free char *text = NULL, *copy = strdup (value), *what = path_of (g, false, "schemata");
  char *save = NULL;
  if (copy == NULL)
    abort ();
  int r = read_text_at (gfd, "schemata", &text);
  if (r < 0)
    return skiff_error (err, -r, "%s: read `%s`", key, what);
  for (char *l = strtok_r (copy, "\n", &save); l; l = strtok_r (NULL, "\n", &save))
    if (!resctrl_schema_matches (text, l))
      {
        cleanup_free char *have = existing_line (text, l);
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "%s: `%s` does not match the schemata of the existing "
                                     "group `%s` (%s)",
                                     key, l, what, have);
      }
  return 0;
}

/* ---- create --------------------------------------------------------------- */

static bool
has_schema (const oci_intel_rdt *rdt)
{
  return set (rdt->l3_cache_schema) || set (rdt->mem_bw_schema) || rdt->schemata_len > 0;
}

static const char *
group_key (const oci_intel_rdt *rdt)
{
  return rdt->clos_id ? "linux.intelRdt.closID" : "linux.intelRdt";
}

int
resctrl_group_init (const char *root, const oci_intel_rdt *rdt, const char *id,
                    struct resctrl_group *g, skiff_error_t *err)
{
  struct stat st;
  *g = (struct resctrl_group){ 0 };
  g->root = strdup (root);
  g->name = strdup (rdt->clos_id ? rdt->clos_id : id);
  g->mon = resctrl_wants_monitoring (rdt) ? strdup (id) : NULL;
  if (g->root == NULL || g->name == NULL || (resctrl_wants_monitoring (rdt) && g->mon == NULL))
    abort ();
  cleanup_close int rfd = open_dir (AT_FDCWD, root, "linux.intelRdt", root, err);
  if (rfd < 0)
    return -1;
  if (is_root (g->name))
    g->existed = true;
  else if (fstatat (rfd, g->name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    {
      if (!S_ISDIR (st.st_mode))
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "%s: `%s/%s` is not a resctrl group", group_key (rdt), root,
                                     g->name);
      g->existed = true;
    }
  else if (errno != ENOENT)
    return skiff_error (err, errno, "%s: `%s/%s`", group_key (rdt), root, g->name);
  /* 1.3: a closID without a schema names a group set up beforehand */
  if (!g->existed && rdt->clos_id && !has_schema (rdt))
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.intelRdt.closID: no group `%s` in the resctrl filesystem "
                                 "at `%s`: without a schema to set it up with, closID must name "
                                 "an existing group",
                                 g->name, root);
  if (g->mon && g->existed)
    {
      cleanup_free char *what = path_of (g, true, "");
      char sub[PATH_MAX];
      snprintf (sub, sizeof sub, "%s/mon_groups/%s", is_root (g->name) ? "." : g->name, g->mon);
      if (fstatat (rfd, sub, &st, AT_SYMLINK_NOFOLLOW) == 0)
        return skiff_error_kind_set (err, SKIFF_ERR_EXISTS, 0,
                                     "linux.intelRdt.enableMonitoring: the monitoring group `%s` "
                                     "already exists",
                                     what);
    }
  g->owned = !g->existed && rdt->clos_id == NULL;
  return 0;
}

static int
make_group (struct resctrl_group *g, const oci_intel_rdt *rdt, skiff_error_t *err)
{
  cleanup_close int rfd = open_dir (AT_FDCWD, g->root, "linux.intelRdt", g->root, err);
  if (rfd < 0)
    return -1;
  if (mkdirat (rfd, g->name, 0755) == 0)
    {
      g->made = true;
      return 0;
    }
  if (errno == EEXIST) /* made since resctrl_group_init: not ours */
    {
      g->existed = true;
      g->owned = false;
      return 0;
    }
  int e = errno;
  cleanup_free char *why = last_cmd_status (g->root); /* ENOSPC: out of CLOSIDs */
  skiff_error (err, 0, "%s: create the resctrl group `%s/%s`: %s%s", group_key (rdt), g->root,
               g->name, strerror (e), why);
  (*err)->errno_ = e;
  return -1;
}

static int
make_mon_group (struct resctrl_group *g, int gfd, skiff_error_t *err)
{
  char sub[PATH_MAX];
  snprintf (sub, sizeof sub, "mon_groups/%s", g->mon);
  if (mkdirat (gfd, sub, 0755) == 0)
    {
      g->mon_made = true;
      return 0;
    }
  int e = errno;
  cleanup_free char *what = path_of (g, true, "");
  cleanup_free char *why = e == EEXIST ? strdup ("") : last_cmd_status (g->root);
  skiff_error (err, 0, "linux.intelRdt.enableMonitoring: create the monitoring group `%s`: %s%s",
               what, strerror (e), why ? why : "");
  (*err)->errno_ = e;
  return -1;
}

int
resctrl_group_make (struct resctrl_group *g, const oci_intel_rdt *rdt, skiff_error_t *err)
{
  return g->existed ? 0 : make_group (g, rdt, err);
}

int
resctrl_group_configure (struct resctrl_group *g, const oci_intel_rdt *rdt, skiff_error_t *err)
{
  cleanup_close int gfd = open_group (g, false, group_key (rdt), err);
  if (gfd < 0)
    return -1;
  static const char *const keys[]
      = { "linux.intelRdt.l3CacheSchema", "linux.intelRdt.memBwSchema" };
  const char *values[] = { rdt->l3_cache_schema, rdt->mem_bw_schema };
  for (size_t i = 0; i < 2; i++)
    {
      if (!set (values[i]))
        continue;
      /* 1.3: an existing group's schemata must match; a new one gets
         l3CacheSchema first, memBwSchema second */
      if ((g->existed ? check_existing (g, gfd, keys[i], values[i], err)
                      : write_schema_lines (g, gfd, keys[i], values[i], err))
          < 0)
        return -1;
    }
  for (size_t i = 0; i < rdt->schemata_len; i++)
    {
      char key[64];
      snprintf (key, sizeof key, "linux.intelRdt.schemata[%zu]", i);
      if (write_line_at (g, gfd, false, "schemata", key, rdt->schemata[i], err) < 0)
        return -1;
    }
  return g->mon ? make_mon_group (g, gfd, err) : 0;
}

int
resctrl_group_setup (struct resctrl_group *g, const oci_intel_rdt *rdt, skiff_error_t *err)
{
  if (resctrl_group_make (g, rdt, err) < 0)
    return -1;
  return resctrl_group_configure (g, rdt, err);
}

int
resctrl_group_enter (const struct resctrl_group *g, pid_t pid, skiff_error_t *err)
{
  char p[32];
  snprintf (p, sizeof p, "%d", (int)pid);
  for (int mon = 0; mon <= (g->mon != NULL); mon++)
    {
      cleanup_close int fd = open_group (g, mon, "linux.intelRdt", err);
      if (fd < 0 || write_line_at (g, fd, mon, "tasks", "linux.intelRdt", p, err) < 0)
        return -1;
    }
  return 0;
}

/* rmdir: resctrl removes a group with its files and MON groups (and moves
   its tasks to the parent).  A directory that keeps files is not resctrl's
   (a unit test's tree): emptied first. */
static int
remove_dir (const struct resctrl_group *g, bool mon, skiff_error_t *err)
{
  cleanup_free char *what = path_of (g, mon, "");
  cleanup_close int rfd = open (g->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  char sub[PATH_MAX];
  if (rfd < 0)
    return errno == ENOENT ? 0 : skiff_error (err, errno, "linux.intelRdt: open `%s`", g->root);
  if (mon)
    snprintf (sub, sizeof sub, "%s/mon_groups/%s", is_root (g->name) ? "." : g->name, g->mon);
  else
    snprintf (sub, sizeof sub, "%s", g->name);
  if (unlinkat (rfd, sub, AT_REMOVEDIR) == 0 || errno == ENOENT)
    return 0;
  if (errno != ENOTEMPTY)
    return skiff_error (err, errno, "linux.intelRdt: remove `%s`", what);
  if (remove_tree_at (rfd, sub, err) < 0)
    return skiff_error_wrap (err, "linux.intelRdt: remove `%s`", what);
  return 0;
}

int
resctrl_group_undo (const struct resctrl_group *g, skiff_error_t *err)
{
  if (g->mon_made && !g->made && remove_dir (g, true, err) < 0)
    return -1;
  return g->made ? remove_dir (g, false, err) : 0;
}

int
resctrl_group_delete (const struct resctrl_group *g, skiff_error_t *err)
{
  /* 1.3: the MON group goes with the container; the group only when the
     container had it for itself (no closID) and create made it */
  if (g->mon && remove_dir (g, true, err) < 0)
    return -1;
  return g->owned && !is_root (g->name) ? remove_dir (g, false, err) : 0;
}

int
resctrl_group_from_status (const char *root, const skiff_status *st, struct resctrl_group *g,
                           skiff_error_t *err)
{
  *g = (struct resctrl_group){ 0 };
  const char *name = st->intel_rdt_group;
  if (name == NULL || (!is_root (name) && bad_group_name (name)))
    return skiff_error (err, 0, "container `%s`: state.json: intel_rdt_group `%s` is not a group",
                        st->id, name ? name : "");
  g->root = strdup (root);
  g->name = strdup (name);
  g->mon = st->intel_rdt_mon ? strdup (st->id) : NULL;
  if (g->root == NULL || g->name == NULL || (st->intel_rdt_mon && g->mon == NULL))
    abort ();
  g->existed = true;
  g->owned = st->intel_rdt_owned;
  return 0;
}

void
resctrl_group_release (struct resctrl_group *g)
{
  free (g->root);
  free (g->name);
  free (g->mon);
  *g = (struct resctrl_group){ 0 };
}

int
resctrl_write_schema (const struct resctrl_group *g, const char *key, const char *value,
                      skiff_error_t *err)
{
  char k[64];
  snprintf (k, sizeof k, "linux.intelRdt.%s", key);
  cleanup_close int gfd = open_group (g, false, k, err);
  if (gfd < 0)
    return -1;
  return write_schema_lines (g, gfd, k, value, err);
}

/* ---- stats (runc's types.IntelRdt) ------------------------------------------ */

/* "name":"value" of a file, when it has one (runc's omitempty). */
static void
json_string_file (struct skiff_strbuf *b, int dfd, const char *file, const char *name, bool *first)
{
  cleanup_free char *s = NULL;
  if (read_text_at (dfd, file, &s) < 0 || *s == '\0')
    return;
  strbuf_printf (b, "%s\"%s\":", *first ? "" : ",", name);
  skiff_json_quote (b, s);
  *first = false;
}

static bool
read_u64_at (int dfd, const char *file, unsigned long long *v)
{
  cleanup_free char *s = NULL;
  char *end;
  *v = 0;
  if (read_text_at (dfd, file, &s) < 0)
    return false;
  errno = 0;
  unsigned long long n = strtoull (s, &end, 10);
  if (errno || end == s || *end != '\0')
    return false;
  *v = n;
  return true;
}

/* "name":N of a file, unless 0 or unreadable (omitempty). */
static void
json_u64_file (struct skiff_strbuf *b, int dfd, const char *file, const char *name, bool *first)
{
  unsigned long long v;
  if (!read_u64_at (dfd, file, &v) || v == 0)
    return;
  strbuf_printf (b, "%s\"%s\":%llu", *first ? "" : ",", name, v);
  *first = false;
}

/* The line of a schemata file for `resource` (trimmed), or NULL. */
static char *
schema_line_of (int dfd, const char *resource)
{
  cleanup_free char *text = NULL;
  const char *tok;
  size_t tlen, rlen = strlen (resource);
  char *out = NULL;
  if (read_text_at (dfd, "schemata", &text) < 0
      || !resource_line (text, resource, rlen, &tok, &tlen))
    return NULL;
  while (tlen > 0 && isspace ((unsigned char)tok[tlen - 1]))
    tlen--;
  if (asprintf (&out, "%s:%.*s", resource, (int)tlen, tok) < 0)
    abort ();
  return out;
}

static void
json_schema (struct skiff_strbuf *b, int dfd, const char *resource, const char *name, bool *first)
{
  cleanup_free char *line = schema_line_of (dfd, resource);
  if (line == NULL)
    return;
  strbuf_printf (b, "%s\"%s\":", *first ? "" : ",", name);
  skiff_json_quote (b, line);
  *first = false;
}

/* An info/<resource> directory as {"file":value,...}: strings first. */
static void
json_info (struct skiff_strbuf *b, int rfd, const char *dir, const char *name,
           const char *const *strings, const char *const *numbers, bool *first)
{
  cleanup_close int fd = openat (rfd, dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return;
  strbuf_printf (b, "%s\"%s\":{", *first ? "" : ",", name);
  bool f = true;
  for (size_t i = 0; strings[i]; i++)
    json_string_file (b, fd, strings[i], strings[i], &f);
  for (size_t i = 0; numbers[i]; i++)
    json_u64_file (b, fd, numbers[i], numbers[i], &f);
  strbuf_puts (b, "}");
  *first = false;
}

static int
by_domain (const void *a, const void *b)
{
  const char *x = *(char *const *)a, *y = *(char *const *)b;
  long dx = strtol (strrchr (x, '_') + 1, NULL, 10), dy = strtol (strrchr (y, '_') + 1, NULL, 10);
  return dx < dy ? -1 : dx > dy;
}

/* mon_data/mon_L3_<domain> names, by domain. */
static size_t
mon_domains (int mfd, char ***out)
{
  int fd = openat (mfd, "mon_data", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_closedir DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  size_t n = 0;
  *out = NULL;
  if (d == NULL)
    {
      if (fd >= 0)
        close (fd);
      return 0;
    }
  for (struct dirent *de; (de = readdir (d));)
    {
      if (strncmp (de->d_name, "mon_L3_", 7) != 0)
        continue;
      char **v = realloc (*out, (n + 1) * sizeof *v);
      if (v == NULL || (v[n] = strdup (de->d_name)) == NULL)
        abort ();
      *out = v;
      n++;
    }
  if (n)
    qsort (*out, n, sizeof **out, by_domain);
  return n;
}

/* mbm_stats and cmt_stats: one entry per L3 domain of mon_data, when
   info/L3_MON/mon_features lists the events. */
static void
json_monitoring (struct skiff_strbuf *b, int rfd, int mfd, bool *first)
{
  cleanup_free char *features = NULL;
  if (read_text_at (rfd, "info/L3_MON/mon_features", &features) < 0)
    return;
  bool mbm = strstr (features, "mbm_total_bytes") || strstr (features, "mbm_local_bytes");
  bool cmt = strstr (features, "llc_occupancy") != NULL;
  char **doms = NULL;
  size_t n = mon_domains (mfd, &doms);
  for (int pass = 0; pass < 2; pass++)
    {
      if (!(pass == 0 ? mbm : cmt))
        continue;
      strbuf_printf (b, "%s\"%s\":[", *first ? "" : ",", pass == 0 ? "mbm_stats" : "cmt_stats");
      *first = false;
      for (size_t i = 0; i < n; i++)
        {
          char p[PATH_MAX];
          unsigned long long total = 0, local = 0, occ = 0;
          snprintf (p, sizeof p, "mon_data/%s", doms[i]);
          cleanup_close int dfd = openat (mfd, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          /* a counter reads "Unavailable" while the kernel cannot tell */
          if (dfd >= 0 && pass == 0)
            {
              read_u64_at (dfd, "mbm_total_bytes", &total);
              read_u64_at (dfd, "mbm_local_bytes", &local);
              strbuf_printf (b, "%s{\"mbm_total_bytes\":%llu,\"mbm_local_bytes\":%llu}",
                             i ? "," : "", total, local);
            }
          else if (dfd >= 0)
            {
              read_u64_at (dfd, "llc_occupancy", &occ);
              strbuf_printf (b, "%s{\"llc_occupancy\":%llu}", i ? "," : "", occ);
            }
        }
      strbuf_puts (b, "]");
    }
  for (size_t i = 0; i < n; i++)
    free (doms[i]);
  free (doms);
}

int
resctrl_stats_json (const struct resctrl_group *g, struct skiff_strbuf *b, skiff_error_t *err)
{
  static const char *const l3_str[] = { "cbm_mask", NULL };
  static const char *const l3_num[] = { "min_cbm_bits", "num_closids", NULL };
  static const char *const mb_str[] = { NULL };
  static const char *const mb_num[]
      = { "bandwidth_gran", "delay_linear", "min_bandwidth", "num_closids", NULL };
  cleanup_close int rfd = open_dir (AT_FDCWD, g->root, "linux.intelRdt", g->root, err);
  if (rfd < 0)
    return -1;
  cleanup_close int gfd = open_group (g, false, "linux.intelRdt", err);
  if (gfd < 0)
    return -1;
  cleanup_close int mfd
      = g->mon ? open_group (g, true, "linux.intelRdt", err) : fcntl (gfd, F_DUPFD_CLOEXEC, 0);
  if (mfd < 0)
    return g->mon ? -1 : skiff_error (err, errno, "dup");
  bool first = true;
  strbuf_puts (b, "{");
  if (faccessat (rfd, "info/L3", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    {
      json_info (b, rfd, "info/L3", "l3_cache_info", l3_str, l3_num, &first);
      json_schema (b, rfd, "L3", "l3_cache_schema_root", &first);
      json_schema (b, gfd, "L3", "l3_cache_schema", &first);
    }
  if (faccessat (rfd, "info/MB", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    {
      json_info (b, rfd, "info/MB", "mem_bw_info", mb_str, mb_num, &first);
      json_schema (b, rfd, "MB", "mem_bw_schema_root", &first);
      json_schema (b, gfd, "MB", "mem_bw_schema", &first);
    }
  json_monitoring (b, rfd, mfd, &first);
  strbuf_puts (b, "}");
  return 0;
}

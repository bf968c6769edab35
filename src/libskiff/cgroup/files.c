/* File helpers of the controller writers, runc's v1 -> v2 value
   conversions and the device rule list. */
#include "config.h"
#include "controllers.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"

int
cg_write_at (int dfd, const char *file, const char *key, const char *value, skiff_error_t *err)
{
  /* O_APPEND: on cgroupfs each write is one command; in a fixture
     directory successive writes stay visible to the test. */
  cleanup_close int fd = openat (dfd, file, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return skiff_error (err, errno, "linux.resources.%s: open `%s`", key, file);
  size_t n = strlen (value);
  cleanup_free char *line = malloc (n + 2);
  if (line == NULL)
    abort ();
  memcpy (line, value, n);
  line[n] = '\n';
  int r = write_all_fd (fd, line, n + 1);
  if (r < 0)
    return skiff_error (err, -r, "linux.resources.%s: write `%s` to `%s`", key, value, file);
  return 0;
}

int
cg_writef_at (int dfd, const char *file, const char *key, skiff_error_t *err, const char *fmt, ...)
{
  cleanup_free char *v = NULL;
  va_list ap;
  va_start (ap, fmt);
  int r = vasprintf (&v, fmt, ap);
  va_end (ap);
  if (r < 0)
    abort ();
  return cg_write_at (dfd, file, key, v, err);
}

bool
cg_has_file (int dfd, const char *file)
{
  return faccessat (dfd, file, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int
cg_read_at (int dfd, const char *file, char **out, skiff_error_t *err)
{
  cleanup_close int fd = openat (dfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  size_t len = 0;
  if (fd < 0)
    return skiff_error (err, errno, "open `%s`", file);
  int r = read_all_fd (fd, out, &len, 1 << 22);
  if (r < 0)
    return skiff_error (err, -r, "read `%s`", file);
  while (len > 0 && (*out)[len - 1] == '\n')
    (*out)[--len] = '\0';
  return 0;
}

static int
parse_u64 (const char *s, uint64_t *v)
{
  char *end;
  if (strncmp (s, "max", 3) == 0)
    {
      *v = UINT64_MAX;
      return 0;
    }
  errno = 0;
  unsigned long long x = strtoull (s, &end, 10);
  if (errno || end == s)
    return -1;
  *v = x;
  return 0;
}

int
cg_read_u64_at (int dfd, const char *file, uint64_t *v, skiff_error_t *err)
{
  cleanup_free char *s = NULL;
  if (cg_read_at (dfd, file, &s, err) < 0)
    return -1;
  if (parse_u64 (s, v) < 0)
    return skiff_error (err, EINVAL, "`%s`: not a number: `%s`", file, s);
  return 0;
}

int
cg_read_keyed_at (int dfd, const char *file, const char *key, uint64_t *v)
{
  cleanup_free char *s = NULL;
  size_t klen = strlen (key);
  if (cg_read_at (dfd, file, &s, NULL) < 0)
    return -1;
  for (char *line = s; line && *line;)
    {
      char *nl = strchr (line, '\n');
      if (nl)
        *nl = '\0';
      if (strncmp (line, key, klen) == 0 && line[klen] == ' ')
        return parse_u64 (line + klen + 1, v);
      line = nl ? nl + 1 : NULL;
    }
  return -1;
}

/* log2 and 10^x without libm, which would otherwise be loaded (~300 KiB of
   RSS, and its mapping and relocation) at every start of the runtime for
   this one conversion.  Both are good to ~1e-15; the conversion needs
   1e-10: no shares value in (2, 262144) other than 1024 puts 10^x within
   4e-10 of an integer (the unit test compares every value with libm). */
#define LN2 0.69314718055994530942
#define LN10 2.30258509299404568402

static double
log2_u64 (uint64_t v)
{
  /* v = m * 2^e, m in [1, 2): ln m = 2 atanh z, z = (m-1)/(m+1) < 1/3. */
  int e = 63 - __builtin_clzll (v);
  double m = (double)v / (double)(1ULL << e);
  double z = (m - 1) / (m + 1), z2 = z * z, t = z, sum = 0;
  for (int k = 1; k < 64; k += 2, t *= z2)
    sum += t / k;
  return e + 2 * sum / LN2;
}

static double
pow10_of (double x)
{
  double r = 1;
  if (x == (double)(int64_t)x && x >= 0 && x < 20)
    {
      /* Exact for the integral exponents (1024 shares is 10^2). */
      for (int64_t i = 0; i < (int64_t)x; i++)
        r *= 10;
      return r;
    }
  /* e^y = 2^k e^f, f in [0, ln 2). */
  double y = x * LN10;
  int k = (int)(y / LN2);
  double f = y - k * LN2, term = 1;
  for (int n = 1; n < 30; n++)
    {
      term *= f / n;
      r += term;
    }
  for (; k > 0; k--)
    r *= 2;
  return r;
}

int
cg_cpu_idle (int dfd, const oci_cpu *c, bool *idle, skiff_error_t *err)
{
  *idle = c->idle_present && c->idle != 0;
  if (!c->idle_present)
    return 0;
  if (!cg_has_file (dfd, "cpu.idle"))
    {
      if (c->idle == 0)
        return 0; /* not idle is all such a kernel knows */
      return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, 0,
                                   "linux.resources.cpu.idle: this kernel has no cpu.idle "
                                   "(idle cgroups came with Linux 5.15)");
    }
  return cg_writef_at (dfd, "cpu.idle", "cpu.idle", err, "%" PRId64, c->idle);
}

uint64_t
cg_shares_to_weight (uint64_t shares)
{
  if (shares == 0)
    return 0;
  if (shares <= 2)
    return 1;
  if (shares >= 262144)
    return 10000;
  /* A parabola in log2 space through (2, 1), (1024, 100), (262144, 10000):
     the v1 default maps to the v2 default. */
  double l = log2_u64 (shares);
  double v = pow10_of ((l * l + 125.0 * l) / 612.0 - 7.0 / 34.0);
  uint64_t w = (uint64_t)v;
  if ((double)w < v)
    w++; /* ceil */
  return w < 1 ? 1 : w > 10000 ? 10000 : w;
}

uint64_t
cg_blkio_to_io_weight (uint64_t weight)
{
  if (weight == 0)
    return 0;
  return 1 + (weight - 10) * 9999 / 990;
}

int
cg_swap_to_v2 (int64_t swap, int64_t limit, int64_t *out, skiff_error_t *err)
{
  /* Unlimited memory with swap unset means both unlimited (v1 compat). */
  if (limit == -1 && swap == 0)
    {
      *out = -1;
      return 0;
    }
  if (swap == -1 || swap == 0)
    {
      *out = swap;
      return 0;
    }
  if (limit == 0 || limit == -1)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.resources.memory.swap: a swap limit needs a memory limit");
  if (limit < 0)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.resources.memory.limit: invalid value %" PRId64, limit);
  if (swap < limit)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.resources.memory.swap: %" PRId64
                                 " is below memory.limit %" PRId64
                                 " (swap counts memory plus swap, as on cgroup v1)",
                                 swap, limit);
  *out = swap - limit;
  return 0;
}

static int
parse_access (const char *s, unsigned *out)
{
  *out = 0;
  if (s == NULL || *s == '\0')
    {
      *out = CG_DEV_ALL;
      return 0;
    }
  for (; *s; s++)
    switch (*s)
      {
      case 'r':
        *out |= CG_DEV_READ;
        break;
      case 'w':
        *out |= CG_DEV_WRITE;
        break;
      case 'm':
        *out |= CG_DEV_MKNOD;
        break;
      default:
        return -1;
      }
  return 0;
}

int
cg_dev_rules (oci_device_cgroup **devs, size_t n, struct cg_dev_rule **out, size_t *nout,
              skiff_error_t *err)
{
  static const struct cg_dev_rule defaults[] = {
    { true, 'c', -1, -1, CG_DEV_MKNOD }, { true, 'b', -1, -1, CG_DEV_MKNOD },
    { true, 'c', 1, 3, CG_DEV_ALL },     { true, 'c', 1, 8, CG_DEV_ALL },
    { true, 'c', 1, 7, CG_DEV_ALL },     { true, 'c', 5, 0, CG_DEV_ALL },
    { true, 'c', 1, 5, CG_DEV_ALL },     { true, 'c', 1, 9, CG_DEV_ALL },
    { true, 'c', 136, -1, CG_DEV_ALL },  { true, 'c', 5, 2, CG_DEV_ALL },
    { true, 'c', 10, 200, CG_DEV_ALL },
  };
  size_t nd = sizeof defaults / sizeof *defaults;
  struct cg_dev_rule *r = calloc (n + nd, sizeof *r);
  if (r == NULL)
    abort ();
  for (size_t i = 0; i < n; i++)
    {
      const oci_device_cgroup *d = devs[i];
      const char *t = d->type ? d->type : "a";
      r[i].allow = d->allow;
      r[i].type = t[0];
      r[i].major = d->major_present ? d->major : -1;
      r[i].minor = d->minor_present ? d->minor : -1;
      if ((strcmp (t, "a") && strcmp (t, "c") && strcmp (t, "b"))
          || parse_access (d->access, &r[i].access) < 0)
        {
          free (r);
          return skiff_error_kind_set (
              err, SKIFF_ERR_INVALID_CONFIG, 0,
              "linux.resources.devices[%zu]: invalid type `%s` or access `%s`", i, t,
              d->access ? d->access : "");
        }
    }
  memcpy (r + n, defaults, sizeof defaults);
  *out = r;
  *nout = n + nd;
  return 0;
}

int
cg_check_memory_usage (int dfd, const char *usage_file, const oci_memory *m, skiff_error_t *err)
{
  uint64_t usage = 0;
  if (m == NULL || !m->check_before_update || !m->limit_present || m->limit <= 0)
    return 0;
  if (cg_read_u64_at (dfd, usage_file, &usage, NULL) < 0)
    return 0;
  if ((uint64_t)m->limit < usage)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, EBUSY,
                                 "linux.resources.memory.limit: %" PRId64
                                 " is below the current usage %" PRIu64 " (checkBeforeUpdate)",
                                 m->limit, usage);
  return 0;
}

size_t
cg_hugepage_sizes (char sizes[][32], size_t max)
{
  cleanup_closedir DIR *d = opendir ("/sys/kernel/mm/hugepages");
  struct dirent *de;
  size_t n = 0;
  if (d == NULL)
    return 0;
  while ((de = readdir (d)) && n < max)
    {
      unsigned long kb;
      if (sscanf (de->d_name, "hugepages-%lukB", &kb) != 1)
        continue;
      if (kb >= 1024 * 1024)
        snprintf (sizes[n++], 32, "%luGB", kb / (1024 * 1024));
      else if (kb >= 1024)
        snprintf (sizes[n++], 32, "%luMB", kb / 1024);
      else
        snprintf (sizes[n++], 32, "%luKB", kb);
    }
  return n;
}

int
cg_no_swap_accounting (const char *file, skiff_error_t *err)
{
  return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, 0,
                               "linux.resources.memory.swap: this host does not account swap "
                               "(its memory cgroups have no %s; the kernel was built or booted "
                               "without swap accounting, e.g. swapaccount=0)",
                               file);
}

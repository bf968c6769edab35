/* The cgroup controller writers against a temp directory of fixture files:
   which files get which values (v1, v2, runc's conversions), errors that
   name linux.resources.<key>, the stats JSON, and, as root on a host with
   a cgroup2 mount, the device BPF program enforcing its rules for real. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/magic.h>

#include <cmocka.h>

#include "cgroup/controllers.h"
#include "cleanup.h"
#include "fsutil.h"
#include "ocispec.h"
#include "strbuf.h"

/* ---- fixture directory ---- */

struct fx
{
  char path[64];
  int fd;
};

static int
fx_setup (void **state)
{
  struct fx *f = calloc (1, sizeof *f);
  snprintf (f->path, sizeof f->path, "/tmp/skiff-cgtest-XXXXXX");
  assert_non_null (mkdtemp (f->path));
  f->fd = open (f->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true (f->fd >= 0);
  *state = f;
  return 0;
}

static int
fx_teardown (void **state)
{
  struct fx *f = *state;
  skiff_error_t err = NULL;
  close (f->fd);
  remove_tree_at (AT_FDCWD, f->path, &err);
  skiff_error_free (&err);
  free (f);
  return 0;
}

/* Create the files a kernel would offer, with their current content. */
static void
fx_files (struct fx *f, ...)
{
  va_list ap;
  va_start (ap, f);
  for (const char *name; (name = va_arg (ap, const char *));)
    {
      const char *content = va_arg (ap, const char *);
      skiff_error_t err = NULL;
      assert_int_equal (write_file_at (f->fd, name, content, strlen (content), 0644, 0, &err), 0);
    }
  va_end (ap);
}

static char *
fx_read (struct fx *f, const char *name)
{
  char *s = NULL;
  skiff_error_t err = NULL;
  if (read_file_at (f->fd, name, &s, NULL, &err) < 0)
    {
      skiff_error_free (&err);
      return NULL;
    }
  return s;
}

#define assert_file(f, name, want)                                                                 \
  do                                                                                               \
    {                                                                                              \
      cleanup_free char *_got = fx_read (f, name);                                                 \
      assert_non_null (_got);                                                                      \
      assert_string_equal (_got, want);                                                            \
    }                                                                                              \
  while (0)

#define assert_err_has(err, needle)                                                                \
  do                                                                                               \
    {                                                                                              \
      assert_non_null (err);                                                                       \
      if (strstr ((err)->msg, needle) == NULL)                                                     \
        fail_msg ("error `%s` lacks `%s`", (err)->msg, needle);                                    \
    }                                                                                              \
  while (0)

/* ---- conversions ---- */

static void
test_shares_to_weight (void **state)
{
  (void)state;
  assert_int_equal (cg_shares_to_weight (0), 0);
  assert_int_equal (cg_shares_to_weight (2), 1);
  assert_int_equal (cg_shares_to_weight (1024), 100);
  assert_int_equal (cg_shares_to_weight (262144), 10000);
  assert_int_equal (cg_shares_to_weight (1 << 20), 10000);
  assert_true (cg_shares_to_weight (512) < 100 && cg_shares_to_weight (512) > 1);
  assert_true (cg_shares_to_weight (2048) > 100);
  /* Every value as the formula computes it with libm (the runtime has its
     own log2 and 10^x so that it does not load libm at every start). */
  for (uint64_t s = 3; s < 262144; s++)
    {
      double l = log2 ((double)s);
      double w = ceil (pow (10.0, (l * l + 125.0 * l) / 612.0 - 7.0 / 34.0));
      uint64_t want = w < 1 ? 1 : w > 10000 ? 10000 : (uint64_t)w;
      if (cg_shares_to_weight (s) != want)
        fail_msg ("shares %llu: weight %llu, libm says %llu", (unsigned long long)s,
                  (unsigned long long)cg_shares_to_weight (s), (unsigned long long)want);
    }
}

static void
test_blkio_weight (void **state)
{
  (void)state;
  assert_int_equal (cg_blkio_to_io_weight (0), 0);
  assert_int_equal (cg_blkio_to_io_weight (10), 1);
  assert_int_equal (cg_blkio_to_io_weight (1000), 10000);
  assert_int_equal (cg_blkio_to_io_weight (500), 4950);
}

static void
test_swap_to_v2 (void **state)
{
  skiff_error_t err = NULL;
  int64_t out = 42;
  (void)state;
  assert_int_equal (cg_swap_to_v2 (0, -1, &out, &err), 0);
  assert_int_equal (out, -1);
  assert_int_equal (cg_swap_to_v2 (-1, 100, &out, &err), 0);
  assert_int_equal (out, -1);
  assert_int_equal (cg_swap_to_v2 (0, 100, &out, &err), 0);
  assert_int_equal (out, 0);
  assert_int_equal (cg_swap_to_v2 (300, 100, &out, &err), 0);
  assert_int_equal (out, 200);
  assert_int_equal (cg_swap_to_v2 (100, 100, &out, &err), 0);
  assert_int_equal (out, 0);
  assert_int_equal (cg_swap_to_v2 (50, 100, &out, &err), -1);
  assert_err_has (err, "linux.resources.memory.swap");
  skiff_error_free (&err);
  assert_int_equal (cg_swap_to_v2 (50, 0, &out, &err), -1);
  assert_err_has (err, "needs a memory limit");
  skiff_error_free (&err);
}

/* ---- v1 ---- */

static void
test_v1_memory (void **state)
{
  struct fx *f = *state;
  skiff_error_t err = NULL;
  oci_memory m = { .limit = 1 << 30,
                   .limit_present = true,
                   .swap = 2LL << 30,
                   .swap_present = true,
                   .reservation = 1 << 29,
                   .reservation_present = true,
                   .swappiness = 10,
                   .swappiness_present = true,
                   .disable_oom_killer = true,
                   .disable_oom_killer_present = true,
                   .kernel_tcp = 4096,
                   .kernel_tcp_present = true };
  fx_files (f, "memory.limit_in_bytes", "9223372036854771712\n", "memory.memsw.limit_in_bytes", "",
            "memory.soft_limit_in_bytes", "", "memory.swappiness", "", "memory.oom_control", "",
            "memory.kmem.tcp.limit_in_bytes", "", NULL);
  assert_int_equal (cg_v1_memory (f->fd, &m, &err), 0);
  assert_file (f, "memory.limit_in_bytes", "9223372036854771712\n1073741824\n");
  assert_file (f, "memory.memsw.limit_in_bytes", "2147483648\n");
  assert_file (f, "memory.soft_limit_in_bytes", "536870912\n");
  assert_file (f, "memory.swappiness", "10\n");
  assert_file (f, "memory.oom_control", "1\n");
  assert_file (f, "memory.kmem.tcp.limit_in_bytes", "4096\n");
}

static void
test_v1_memory_unlimited_and_errors (void **state)
{
  struct fx *f = *state;
  skiff_error_t err = NULL;
  oci_memory m = { .limit = -1, .limit_present = true };
  fx_files (f, "memory.limit_in_bytes", "", "memory.memsw.limit_in_bytes", "", NULL);
  assert_int_equal (cg_v1_memory (f->fd, &m, &err), 0);
  /* -1 with swap unset: swap unlimited too, memsw first. */
  assert_file (f, "memory.limit_in_bytes", "-1\n");
  assert_file (f, "memory.memsw.limit_in_bytes", "-1\n");
  oci_memory bad = { .swappiness = 101, .swappiness_present = true };
  assert_int_equal (cg_v1_memory (f->fd, &bad, &err), -1);
  assert_err_has (err, "linux.resources.memory.swappiness");
  skiff_error_free (&err);
  /* A missing file: the error names the key and the file. */
  oci_memory res = { .reservation = 5, .reservation_present = true };
  assert_int_equal (cg_v1_memory (f->fd, &res, &err), -1);
  assert_err_has (err, "linux.resources.memory.reservation: open `memory.soft_limit_in_bytes`");
  skiff_error_free (&err);
}

static void
test_v1_memory_without_swap_accounting (void **state)
{
  struct fx *f = *state;
  skiff_error_t err = NULL;
  fx_files (f, "memory.limit_in_bytes", "", NULL);
  /* A swap limit cannot be kept: refused, naming the key and the cause. */
  oci_memory m = { .limit = 64, .limit_present = true, .swap = 128, .swap_present = true };
  assert_int_equal (cg_v1_memory (f->fd, &m, &err), -1);
  assert_err_has (err, "linux.resources.memory.swap: this host does not account swap");
  skiff_error_free (&err);
  /* "No swap" (swap == limit) and "unlimited" need no file. */
  oci_memory same = { .limit = 64, .limit_present = true, .swap = 64, .swap_present = true };
  assert_int_equal (cg_v1_memory (f->fd, &same, &err), 0);
  assert_file (f, "memory.limit_in_bytes", "64\n");
  fx_files (f, "memory.limit_in_bytes", "", NULL);
  oci_memory unl = { .limit = 32, .limit_present = true, .swap = -1, .swap_present = true };
  assert_int_equal (cg_v1_memory (f->fd, &unl, &err), 0);
  assert_file (f, "memory.limit_in_bytes", "32\n");
}

static void
test_v1_cpu (void **state)
{
  struct fx *f = *state;
  skiff_error_t err = NULL;
  oci_cpu c = { .shares = 512,
                .shares_present = true,
                .quota = 50000,
                .quota_present = true,
                .period = 100000,
                .period_present = true,
                .realtime_period = 1000000,
                .realtime_period_present = true,
                .realtime_runtime = 950000,
                .realtime_runtime_present = true,
                .cpus = (char *)"0-1",
                .mems = (char *)"0",
                .idle = 1,
                .idle_present = true,
                .burst = 1000,
                .burst_present = true };
  fx_files (f, "cpu.shares", "", "cpu.cfs_quota_us", "", "cpu.cfs_period_us", "",
            "cpu.rt_period_us", "", "cpu.rt_runtime_us", "", "cpuset.cpus", "", "cpuset.mems", "",
            "cpu.idle", "", "cpu.cfs_burst_us", "", NULL);
  assert_int_equal (cg_v1_cpu (f->fd, &c, &err), 0);
  assert_int_equal (cg_v1_cpuset (f->fd, &c, &err), 0);
  /* Idle: the kernel would refuse the shares (EINVAL). */
  assert_file (f, "cpu.shares", "");
  assert_file (f, "cpu.cfs_quota_us", "50000\n");
  assert_file (f, "cpu.cfs_period_us", "100000\n");
  assert_file (f, "cpu.cfs_burst_us", "1000\n");
  assert_file (f, "cpu.rt_period_us", "1000000\n");
  assert_file (f, "cpu.rt_runtime_us", "950000\n");
  assert_file (f, "cpu.idle", "1\n");
  assert_file (f, "cpuset.cpus", "0-1\n");
  assert_file (f, "cpuset.mems", "0\n");
  /* Idle back to 0 first, then the shares. */
  oci_cpu busy = { .shares = 512, .shares_present = true, .idle = 0, .idle_present = true };
  assert_int_equal (cg_v1_cpu (f->fd, &busy, &err), 0);
  assert_file (f, "cpu.idle", "1\n0\n");
  assert_file (f, "cpu.shares", "512\n");
}

/* A kernel without cpu.idle (before 5.15): idle 1 is an error naming the
   key, idle 0 what it has anyway. */
static void
test_cpu_idle_unsupported (void **state)
{
  struct fx *f = *state;
  skiff_error_t err = NULL;
  fx_files (f, "cpu.shares", "", "cpu.weight", "", NULL);
  oci_cpu idle = { .shares = 512, .shares_present = true, .idle = 1, .idle_present = true };
  assert_int_equal (cg_v1_cpu (f->fd, &idle, &err), -1);
  assert_err_has (err, "linux.resources.cpu.idle: this kernel has no cpu.idle");
  assert_int_equal (err->kind, SKIFF_ERR_UNSUPPORTED);
  skiff_error_free (&err);
  assert_int_equal (cg_v2_cpu (f->fd, &idle, &err), -1);
  assert_err_has (err, "linux.resources.cpu.idle: this kernel has no cpu.idle");
  skiff_error_free (&err);
  oci_cpu busy = { .shares = 512, .shares_present = true, .idle = 0, .idle_present = true };
  assert_int_equal (cg_v1_cpu (f->fd, &busy, &err), 0);
  assert_int_equal (cg_v2_cpu (f->fd, &busy, &err), 0);
  assert_file (f, "cpu.shares", "512\n");
  assert_file (f, "cpu.weight", "59\n");
}

static void
test_v1_pids (void **state)
{
  struct fx *f = *state;
  skiff_error_t err = NULL;
  oci_pids unset = { .limit = 0 }, max = { .limit = -1 }, ten = { .limit = 10 };
  fx_files (f, "pids.max", "", NULL);
  assert_int_equal (cg_v1_pids (f->fd, &unset, &err), 0);
  assert_file (f, "pids.max", "");
  assert_int_equal (cg_v1_pids (f->fd, &max, &err), 0);
  assert_int_equal (cg_v1_pids (f->fd, &ten, &err), 0);
  assert_file (f, "pids.max", "max\n10\n");
}

static void
test_v1_blkio (void **state)
{
  struct fx *f = *state;
  skiff_error_t err = NULL;
  oci_weight_device wd = { .major = 8,
                           .minor = 0,
                           .weight = 300,
                           .weight_present = true,
                           .leaf_weight = 200,
                           .leaf_weight_present = true };
  oci_weight_device *wds[] = { &wd };
  oci_throttle_device t1 = { .major = 8, .minor = 0, .rate = 1048576 };
  oci_throttle_device t2 = { .major = 8, .minor = 16, .rate = 100 };
  oci_throttle_device *rbps[] = { &t1, &t2 }, *wiops[] = { &t2 };
  oci_block_io b = { .weight = 500,
                     .weight_present = true,
                     .leaf_weight = 400,
                     .leaf_weight_present = true,
                     .weight_device = wds,
                     .weight_device_len = 1,
                     .throttle_read_bps_device = rbps,
                     .throttle_read_bps_device_len = 2,
                     .throttle_write_iops_device = wiops,
                     .throttle_write_iops_device_len = 1 };
  /* Neither (no BFQ, no CFQ): an error naming the key and the host's
     block devices, and nothing written. */
  oci_block_io nw = { .weight = 600, .weight_present = true };
  assert_int_equal (cg_v1_blkio (f->fd, &nw, &err), -1);
  assert_non_null (strstr (err->msg, "linux.resources.blockIO.weight: this host's block devices "
                                     "do not support I/O weights"));
  assert_non_null (strstr (err->msg, "(block devices: "));
  skiff_error_free (&err);
  oci_block_io nl = { .leaf_weight = 600, .leaf_weight_present = true };
  assert_int_equal (cg_v1_blkio (f->fd, &nl, &err), -1);
  assert_non_null (strstr (err->msg, "linux.resources.blockIO.leafWeight: "));
  skiff_error_free (&err);
  /* No CFQ blkio.weight: BFQ's files. */
  fx_files (f, "blkio.bfq.weight", "", "blkio.bfq.weight_device", "", "blkio.leaf_weight", "",
            "blkio.leaf_weight_device", "", "blkio.throttle.read_bps_device", "",
            "blkio.throttle.write_iops_device", "", NULL);
  assert_int_equal (cg_v1_blkio (f->fd, &b, &err), 0);
  assert_file (f, "blkio.bfq.weight", "500\n");
  assert_file (f, "blkio.bfq.weight_device", "8:0 300\n");
  assert_file (f, "blkio.leaf_weight", "400\n");
  assert_file (f, "blkio.leaf_weight_device", "8:0 200\n");
  assert_file (f, "blkio.throttle.read_bps_device", "8:0 1048576\n8:16 100\n");
  assert_file (f, "blkio.throttle.write_iops_device", "8:16 100\n");
  /* With CFQ's blkio.weight present, that one. */
  fx_files (f, "blkio.weight", "", "blkio.weight_device", "", NULL);
  oci_block_io w = { .weight = 700, .weight_present = true };
  assert_int_equal (cg_v1_blkio (f->fd, &w, &err), 0);
  assert_file (f, "blkio.weight", "700\n");
  assert_file (f, "blkio.bfq.weight", "500\n");
}

static void
test_hugetlb (void **state)
{
  struct fx *f = *state;
  skiff_error_t err = NULL;
  oci_hugepage_limit l2 = { .page_size = (char *)"2MB", .limit = 4194304 };
  oci_hugepage_limit l1g = { .page_size = (char *)"1GB", .limit = 0 };
  oci_hugepage_limit *ok[] = { &l2 }, *bad[] = { &l1g };
  fx_files (f, "hugetlb.2MB.limit_in_bytes", "", "hugetlb.2MB.rsvd.limit_in_bytes", "",
            "hugetlb.2MB.max", "", NULL);
  assert_int_equal (cg_v1_hugetlb (f->fd, ok, 1, &err), 0);
  assert_file (f, "hugetlb.2MB.limit_in_bytes", "4194304\n");
  assert_file (f, "hugetlb.2MB.rsvd.limit_in_bytes", "4194304\n");
  assert_int_equal (cg_v2_hugetlb (f->fd, ok, 1, &err), 0);
  assert_file (f, "hugetlb.2MB.max", "4194304\n");
  assert_int_equal (cg_v1_hugetlb (f->fd, bad, 1, &err), -1);
  assert_err_has (err, "linux.resources.hugepageLimits[0].pageSize");
  skiff_error_free (&err);
}

static void
test_v1_network_rdma (void **state)
{
  struct fx *f = *state;
  skiff_error_t err = NULL;
  oci_interface_priority p1 = { .name = (char *)"eth0", .priority = 5 };
  oci_interface_priority p2 = { .name = (char *)"lo", .priority = 2 };
  oci_interface_priority *ps[] = { &p1, &p2 };
  oci_network n
      = { .class_id = 0x100001, .class_id_present = true, .priorities = ps, .priorities_len = 2 };
  oci_rdma r = { .hca_handles = 3, .hca_handles_present = true };
  oci_rdma *rv[] = { &r };
  char *rk[] = { (char *)"mlx5_1" };
  oci_rdma_map rm = { .keys = rk, .values = rv, .len = 1 };
  fx_files (f, "net_cls.classid", "", "net_prio.ifpriomap", "", "rdma.max", "", NULL);
  assert_int_equal (cg_v1_net_cls (f->fd, &n, &err), 0);
  assert_int_equal (cg_v1_net_prio (f->fd, &n, &err), 0);
  assert_int_equal (cg_rdma (f->fd, &rm, &err), 0);
  assert_file (f, "net_cls.classid", "1048577\n");
  assert_file (f, "net_prio.ifpriomap", "eth0 5\nlo 2\n");
  assert_file (f, "rdma.max", "mlx5_1 hca_handle=3 hca_object=max\n");
}

static void
test_dev_rules_and_v1_devices (void **state)
{
  struct fx *f = *state;
  skiff_error_t err = NULL;
  oci_device_cgroup deny = { .allow = false, .access = (char *)"rwm" };
  oci_device_cgroup fuse = { .allow = true,
                             .type = (char *)"c",
                             .major = 10,
                             .major_present = true,
                             .minor = 229,
                             .minor_present = true,
                             .access = (char *)"rw" };
  oci_device_cgroup anyblk = {
    .allow = true, .type = (char *)"a", .major = 7, .major_present = true, .access = (char *)"r"
  };
  oci_device_cgroup *devs[] = { &deny, &fuse, &anyblk };
  cleanup_free struct cg_dev_rule *r = NULL;
  size_t n = 0;
  assert_int_equal (cg_dev_rules (devs, 3, &r, &n, &err), 0);
  assert_true (n > 3);
  assert_int_equal (r[0].type, 'a');
  assert_int_equal (r[0].access, CG_DEV_ALL);
  assert_int_equal (r[1].access, CG_DEV_READ | CG_DEV_WRITE);
  fx_files (f, "devices.allow", "", "devices.deny", "", NULL);
  assert_int_equal (cg_v1_devices (f->fd, r, 3, &err), 0);
  assert_file (f, "devices.deny", "a\na\n");
  /* "a 7:*" would mean everything on v1: it becomes c and b rules. */
  assert_file (f, "devices.allow", "c 10:229 rw\nc 7:* r\nb 7:* r\n");

  oci_device_cgroup badtype = { .allow = true, .type = (char *)"x" };
  oci_device_cgroup *bd[] = { &badtype };
  cleanup_free struct cg_dev_rule *r2 = NULL;
  assert_int_equal (cg_dev_rules (bd, 1, &r2, &n, &err), -1);
  assert_err_has (err, "linux.resources.devices[0]");
  skiff_error_free (&err);
}

static void
test_v1_devices_update (void **state)
{
  struct fx *f = *state;
  skiff_error_t err = NULL;
  struct cg_dev_rule r[] = {
    { false, 'a', -1, -1, CG_DEV_ALL },  { true, 'c', 1, 3, CG_DEV_ALL },
    { true, 'c', 5, 0, CG_DEV_ALL },     { true, 'c', 10, 200, CG_DEV_READ | CG_DEV_WRITE },
    { true, 'c', -1, -1, CG_DEV_MKNOD }, { false, 'c', 10, 200, CG_DEV_WRITE },
  };
  /* Now: null, zero (to go), tty without m, any-mknod. */
  fx_files (f, "devices.list", "c 1:3 rwm\nc 1:5 rwm\nc 5:0 rw\nc *:* m\n", "devices.allow", "",
            "devices.deny", "", NULL);
  assert_int_equal (cg_v1_devices_update (f->fd, r, 6, &err), 0);
  /* Grants first, no deny-all anywhere, then only what must go. */
  assert_file (f, "devices.allow", "c 1:3 rwm\nc 5:0 rwm\nc 10:200 r\nc *:* m\n");
  assert_file (f, "devices.deny", "c 1:5 rwm\n");
  /* From allow-all there is no exception list to move: full rewrite. */
  fx_files (f, "devices.list", "a *:* rwm\n", "devices.allow", "", "devices.deny", "", NULL);
  assert_int_equal (cg_v1_devices_update (f->fd, r, 2, &err), 0);
  assert_file (f, "devices.deny", "a\na\n"); /* the reset, then rule 0 */
  assert_file (f, "devices.allow", "c 1:3 rwm\n");
}

/* ---- v2 ---- */

static void
test_v2_memory (void **state)
{
  struct fx *f = *state;
  skiff_error_t err = NULL;
  oci_memory m = { .limit = 1 << 30,
                   .limit_present = true,
                   .swap = 3LL << 29,
                   .swap_present = true,
                   .reservation = 1 << 28,
                   .reservation_present = true };
  fx_files (f, "memory.max", "", "memory.swap.max", "", "memory.low", "", NULL);
  assert_int_equal (cg_v2_memory (f->fd, &m, &err), 0);
  assert_file (f, "memory.max", "1073741824\n");
  assert_file (f, "memory.swap.max", "536870912\n");
  assert_file (f, "memory.low", "268435456\n");
  /* memory == swap: no swap at all. */
  oci_memory same = { .limit = 100, .limit_present = true, .swap = 100, .swap_present = true };
  assert_int_equal (cg_v2_memory (f->fd, &same, &err), 0);
  assert_file (f, "memory.swap.max", "536870912\n0\n");
  /* No swap accounting (no memory.swap.max): unlimited needs no file. */
  assert_int_equal (unlinkat (f->fd, "memory.swap.max", 0), 0);
  oci_memory unl = { .limit = -1, .limit_present = true };
  assert_int_equal (cg_v2_memory (f->fd, &unl, &err), 0);
  assert_file (f, "memory.max", "1073741824\n100\nmax\n");
  oci_memory needs = { .limit = 100, .limit_present = true, .swap = 300, .swap_present = true };
  assert_int_equal (cg_v2_memory (f->fd, &needs, &err), -1);
  assert_err_has (err, "linux.resources.memory.swap");
  skiff_error_free (&err);
}

static void
test_v2_cpu (void **state)
{
  struct fx *f = *state;
  skiff_error_t err = NULL;
  oci_cpu c = { .shares = 1024,
                .shares_present = true,
                .quota = 50000,
                .quota_present = true,
                .burst = 10000,
                .burst_present = true,
                .idle = 0,
                .idle_present = true };
  fx_files (f, "cpu.weight", "", "cpu.max", "", "cpu.max.burst", "", "cpu.idle", "", NULL);
  assert_int_equal (cg_v2_cpu (f->fd, &c, &err), 0);
  assert_file (f, "cpu.weight", "100\n");
  assert_file (f, "cpu.max", "50000 100000\n");
  assert_file (f, "cpu.max.burst", "10000\n");
  assert_file (f, "cpu.idle", "0\n");
  /* Idle: the kernel would refuse the weight (EINVAL). */
  oci_cpu idle = { .shares = 2048, .shares_present = true, .idle = 1, .idle_present = true };
  assert_int_equal (cg_v2_cpu (f->fd, &idle, &err), 0);
  assert_file (f, "cpu.idle", "0\n1\n");
  assert_file (f, "cpu.weight", "100\n");
  oci_cpu unl = { .quota = -1, .quota_present = true, .period = 20000, .period_present = true };
  assert_int_equal (cg_v2_cpu (f->fd, &unl, &err), 0);
  assert_file (f, "cpu.max", "50000 100000\nmax 20000\n");
  oci_cpu rt = { .realtime_runtime = 1000, .realtime_runtime_present = true };
  assert_int_equal (cg_v2_cpu (f->fd, &rt, &err), -1);
  assert_err_has (err, "linux.resources.cpu.realtimeRuntime");
  assert_int_equal (err->kind, SKIFF_ERR_UNSUPPORTED);
  skiff_error_free (&err);
}

static void
test_v2_io (void **state)
{
  struct fx *f = *state;
  skiff_error_t err = NULL;
  oci_weight_device wd = { .major = 8, .minor = 0, .weight = 1000, .weight_present = true };
  oci_weight_device *wds[] = { &wd };
  oci_throttle_device t = { .major = 8, .minor = 0, .rate = 2097152 };
  oci_throttle_device *tv[] = { &t };
  oci_block_io b = { .weight = 500,
                     .weight_present = true,
                     .weight_device = wds,
                     .weight_device_len = 1,
                     .throttle_read_bps_device = tv,
                     .throttle_read_bps_device_len = 1,
                     .throttle_write_bps_device = tv,
                     .throttle_write_bps_device_len = 1,
                     .throttle_read_iops_device = tv,
                     .throttle_read_iops_device_len = 1 };
  fx_files (f, "io.weight", "", "io.max", "", NULL);
  assert_int_equal (cg_v2_io (f->fd, &b, &err), 0);
  assert_file (f, "io.weight", "default 4950\n8:0 10000\n");
  assert_file (f, "io.max", "8:0 rbps=2097152\n8:0 wbps=2097152\n8:0 riops=2097152\n");
  /* BFQ: its own file, blkio's scale. */
  fx_files (f, "io.bfq.weight", "", NULL);
  oci_block_io w = { .weight = 500, .weight_present = true };
  assert_int_equal (cg_v2_io (f->fd, &w, &err), 0);
  assert_file (f, "io.bfq.weight", "500\n");
}

static void
test_v2_unified (void **state)
{
  struct fx *f = *state;
  skiff_error_t err = NULL;
  char *keys[] = { (char *)"memory.high" }, *vals[] = { (char *)"123456" };
  oci_string_map u = { .keys = keys, .values = vals, .len = 1 };
  fx_files (f, "memory.high", "", NULL);
  assert_int_equal (cg_v2_unified (f->fd, &u, &err), 0);
  assert_file (f, "memory.high", "123456\n");
  char *k2[] = { (char *)"../escape.max" };
  oci_string_map bad = { .keys = k2, .values = vals, .len = 1 };
  assert_int_equal (cg_v2_unified (f->fd, &bad, &err), -1);
  assert_err_has (err, "linux.resources.unified.../escape.max");
  skiff_error_free (&err);
  char *k3[] = { (char *)"rdma.max" };
  oci_string_map missing = { .keys = k3, .values = vals, .len = 1 };
  assert_int_equal (cg_v2_unified (f->fd, &missing, &err), -1);
  assert_err_has (err, "`rdma` controller");
  skiff_error_free (&err);
}

static void
test_check_before_update (void **state)
{
  struct fx *f = *state;
  skiff_error_t err = NULL;
  oci_memory m = { .limit = 1000,
                   .limit_present = true,
                   .check_before_update = true,
                   .check_before_update_present = true };
  fx_files (f, "memory.current", "4096\n", NULL);
  assert_int_equal (cg_check_memory_usage (f->fd, "memory.current", &m, &err), -1);
  assert_err_has (err, "checkBeforeUpdate");
  skiff_error_free (&err);
  m.limit = 8192;
  assert_int_equal (cg_check_memory_usage (f->fd, "memory.current", &m, &err), 0);
}

/* ---- stats ---- */

static void
test_v2_stats (void **state)
{
  struct fx *f = *state;
  cleanup_strbuf struct skiff_strbuf b = { 0 };
  fx_files (f, "cpu.stat",
            "usage_usec 5\nuser_usec 3\nsystem_usec 2\nnr_periods 7\n"
            "nr_throttled 1\nthrottled_usec 4\n",
            "memory.current", "8192\n", "memory.max", "max\n", "memory.stat",
            "anon 4096\nfile 1024\n", "pids.current", "3\n", "pids.max", "10\n", "io.stat",
            "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n", "cpu.pressure",
            "some avg10=1.50 avg60=0.25 avg300=0.00 total=1234\n"
            "full avg10=0.00 avg60=0.00 avg300=0.00 total=56\n",
            "memory.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=7\n", NULL);
  cg_v2_stats_json (f->fd, &b);
  const char *want[] = {
    "\"cpu\":{\"usage\":{\"total\":5000,\"kernel\":2000,\"user\":3000}",
    "\"throttling\":{\"periods\":7,\"throttledPeriods\":1,\"throttledTime\":4000}",
    "\"cache\":1024",
    "\"usage\":{\"limit\":18446744073709551615,\"usage\":8192",
    "\"raw\":{\"anon\":4096,\"file\":1024}",
    "\"pids\":{\"current\":3,\"limit\":10}",
    "{\"major\":8,\"minor\":0,\"op\":\"Read\",\"value\":100}",
    "\"ioServicedRecursive\":[{\"major\":8,\"minor\":0,\"op\":\"Read\",\"value\":1},",
    "\"throttledTime\":4000},\"psi\":{\"some\":{\"avg10\":1.50,\"avg60\":0.25,\"avg300\":0.00,"
    "\"total\":1234},\"full\":{\"avg10\":0.00,\"avg60\":0.00,\"avg300\":0.00,\"total\":56}}}",
    "\"psi\":{\"some\":{\"avg10\":0.00,\"avg60\":0.00,\"avg300\":0.00,\"total\":7}}}",
  };
  for (size_t i = 0; i < sizeof want / sizeof *want; i++)
    if (strstr (b.s, want[i]) == NULL)
      fail_msg ("stats `%s` lack `%s`", b.s, want[i]);
  /* No io.pressure: no blkio psi. */
  assert_null (strstr (strstr (b.s, "\"blkio\""), "psi"));
}

static void
test_v1_stats (void **state)
{
  struct fx *f = *state;
  cleanup_strbuf struct skiff_strbuf b = { 0 };
  fx_files (f, "cpuacct.usage", "123\n", "cpuacct.usage_percpu", "100 23 \n",
            "cpuacct.usage_percpu_sys", "60 3 \n", "cpuacct.usage_percpu_user", "40 20 \n",
            "memory.stat", "cache 10\ntotal_cache 20\n", "memory.usage_in_bytes", "4096\n",
            "memory.limit_in_bytes", "9223372036854771712\n",
            "blkio.throttle.io_service_bytes_recursive", "8:0 Read 5\n8:0 Write 6\nTotal 11\n",
            "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n", NULL);
  int fds[CG_ST_COUNT];
  for (int i = 0; i < CG_ST_COUNT; i++)
    fds[i] = f->fd;
  cg_v1_stats_json (fds, false, &b);
  const char *want[] = {
    "\"total\":123,\"percpu\":[100,23],\"percpu_kernel\":[60,3],\"percpu_user\":[40,20]",
    "\"cache\":20",
    "\"usage\":{\"limit\":9223372036854771712,\"usage\":4096",
    "\"ioServiceBytesRecursive\":[{\"major\":8,\"minor\":0,\"op\":\"Read\",\"value\":5},"
    "{\"major\":8,\"minor\":0,\"op\":\"Write\",\"value\":6}]",
  };
  for (size_t i = 0; i < sizeof want / sizeof *want; i++)
    if (strstr (b.s, want[i]) == NULL)
      fail_msg ("stats `%s` lack `%s`", b.s, want[i]);
  assert_int_equal (cg_oom_kills (f->fd, false), 2);
  assert_null (strstr (b.s, "psi")); /* runc has none on v1 */
}

/* ---- the device BPF program ---- */

static void
test_bpf_build (void **state)
{
  skiff_error_t err = NULL;
  struct cg_dev_rule r[]
      = { { false, 'a', -1, -1, CG_DEV_ALL }, { true, 'c', 1, 3, CG_DEV_READ | CG_DEV_WRITE } };
  cleanup_free struct bpf_insn *insn = NULL;
  size_t len = 0;
  (void)state;
  assert_int_equal (cg_bpf_devices_build (r, 2, &insn, &len, &err), 0);
  /* 6 loads, rule 1: type + 3 access + major + minor + 2, rule 0 (all
     devices: the end, no unreachable tail): 2. */
  assert_int_equal (len, 6 + 8 + 2);
  assert_int_equal (insn[len - 1].code, BPF_JMP | BPF_EXIT);
  /* The last rule is tested first; its jumps land past its block. */
  assert_int_equal (insn[6].code, BPF_JMP | BPF_JNE | BPF_K);
  assert_int_equal (insn[6].off, 7);
  assert_int_equal (insn[6].imm, BPF_DEVCG_DEV_CHAR);
}

/* A cgroup2 mount to try the program on: the host's own, or the hybrid
   host's /sys/fs/cgroup/unified. */
static const char *
cgroup2_mount (void)
{
  static const char *const cands[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
  for (size_t i = 0; i < 2; i++)
    {
      struct statfs st;
      if (statfs (cands[i], &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
        return cands[i];
    }
  return NULL;
}

static int
try_open (const char *path)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno;
  close (fd);
  return 0;
}

static void
test_bpf_enforces (void **state)
{
  const char *mnt = cgroup2_mount ();
  char dir[256];
  skiff_error_t err = NULL;
  (void)state;
  if (geteuid () != 0 || mnt == NULL)
    skip ();
  snprintf (dir, sizeof dir, "%s/skiff-unit-bpf-%d", mnt, (int)getpid ());
  assert_int_equal (mkdir (dir, 0755), 0);
  int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true (dfd >= 0);
  struct cg_dev_rule r[] = { { false, 'a', -1, -1, CG_DEV_ALL },
                             { true, 'c', 1, 3, CG_DEV_READ | CG_DEV_WRITE },
                             { true, 'c', 1, 5, CG_DEV_ALL },
                             { false, 'c', 1, 5, CG_DEV_READ } };
  /* Twice: the second replaces the first rather than stacking. */
  if (cg_bpf_devices_apply (dfd, r, 4, &err) < 0 || cg_bpf_devices_apply (dfd, r, 4, &err) < 0)
    {
      close (dfd);
      rmdir (dir);
      fail_msg ("%s", err->msg);
    }
  pid_t pid = fork ();
  if (pid == 0)
    {
      int fd = openat (dfd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
      if (fd < 0 || write (fd, "0", 1) != 1)
        _exit (10);
      /* null allowed, urandom denied by default, zero: read denied by
         the later rule. */
      _exit (try_open ("/dev/null") != 0          ? 11
             : try_open ("/dev/urandom") != EPERM ? 12
             : try_open ("/dev/zero") != EPERM    ? 13
                                                  : 0);
    }
  int status = 0;
  assert_int_equal (waitpid (pid, &status, 0), pid);
  uint32_t ids[8];
  union bpf_attr q;
  memset (&q, 0, sizeof q);
  q.query.target_fd = (uint32_t)dfd;
  q.query.attach_type = BPF_CGROUP_DEVICE;
  q.query.prog_ids = (uint64_t)(uintptr_t)ids;
  q.query.prog_cnt = 8;
  long qr = syscall (__NR_bpf, BPF_PROG_QUERY, &q, sizeof q);
  close (dfd);
  /* The exited child may keep the cgroup busy for a moment. */
  for (int i = 0; i < 200 && rmdir (dir) < 0 && errno == EBUSY; i++)
    usleep (5000);
  assert_true (WIFEXITED (status));
  assert_int_equal (WEXITSTATUS (status), 0);
  assert_int_equal (qr, 0);
  assert_int_equal (q.query.prog_cnt, 1);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_shares_to_weight),
    cmocka_unit_test (test_blkio_weight),
    cmocka_unit_test (test_swap_to_v2),
    cmocka_unit_test_setup_teardown (test_v1_memory, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown (test_v1_memory_unlimited_and_errors, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown (test_v1_memory_without_swap_accounting, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown (test_v1_cpu, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown (test_cpu_idle_unsupported, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown (test_v1_pids, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown (test_v1_blkio, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown (test_hugetlb, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown (test_v1_network_rdma, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown (test_dev_rules_and_v1_devices, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown (test_v1_devices_update, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown (test_v2_memory, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown (test_v2_cpu, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown (test_v2_io, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown (test_v2_unified, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown (test_check_before_update, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown (test_v2_stats, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown (test_v1_stats, fx_setup, fx_teardown),
    cmocka_unit_test (test_bpf_build),
    cmocka_unit_test (test_bpf_enforces),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

/* Per-controller writers and readers.  Each takes the fd of one cgroup
   directory and the part of linux.resources it applies, and touches only
   files relative to that fd, so unit tests point them at a temp directory
   of fixture files.  Every write is "value\n" (what `echo` sends, which
   every cgroup file accepts); errors name the resource as
   `linux.resources.<key>`. */
#ifndef SKIFF_CGROUP_CONTROLLERS_H
#define SKIFF_CGROUP_CONTROLLERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "ocispec.h"
#include "strbuf.h"

/* ---- file helpers ---- */

int cg_write_at (int dfd, const char *file, const char *key, const char *value, skiff_error_t *err);
int cg_writef_at (int dfd, const char *file, const char *key, skiff_error_t *err, const char *fmt,
                  ...) __attribute__ ((format (printf, 5, 6)));
bool cg_has_file (int dfd, const char *file);
/* Whole file, trailing newline stripped. */
int cg_read_at (int dfd, const char *file, char **out, skiff_error_t *err);
/* A number; "max" reads as UINT64_MAX. */
int cg_read_u64_at (int dfd, const char *file, uint64_t *v, skiff_error_t *err);
/* The value of `key` in a flat-keyed file ("key value" lines). */
int cg_read_keyed_at (int dfd, const char *file, const char *key, uint64_t *v);

/* The error for a swap limit on a host without swap accounting; file:
   the one the memory cgroup lacks. */
int cg_no_swap_accounting (const char *file, skiff_error_t *err);

/* cpu.idle (v1 and v2 alike), written before any CPU weight: the kernel
   refuses a weight (cpu.shares, cpu.weight: EINVAL) to an idle group, whose
   weight is its own, and gives the old one back when idle returns to 0.
   *idle: the group is idle now, and its weight is to be left alone (as
   runc and systemd do). */
int cg_cpu_idle (int dfd, const oci_cpu *c, bool *idle, skiff_error_t *err);

/* ---- block I/O weights (io-weight.c) ---- */

/* The weight file of the cgroup dfd (v2: io.bfq.weight, else io.weight;
   v1: blkio.weight, else blkio.bfq.weight), or NULL: the kernel has no
   weight-aware I/O policy. */
const char *cg_io_weight_file (int dfd, bool v2);
/* "vda: none [mq-deadline] kyber; sda: ..." from /sys/block. */
void cg_block_devices (char *out, size_t size);
/* The error for linux.resources.<key> on such a host; files: what the
   cgroup lacks, one of these. */
#define CG_WEIGHT_FILES_V1 "blkio.bfq.weight (BFQ) nor blkio.weight (CFQ)"
#define CG_WEIGHT_FILES_V2 "io.bfq.weight (BFQ) nor io.weight (iocost)"
#define CG_LEAF_WEIGHT_FILES "blkio.leaf_weight nor its _device file (CFQ, gone since Linux 5.0)"
int cg_io_weight_unsupported (const char *key, const char *files, skiff_error_t *err);
/* skiff check: one warning through cb when b asks for weights and a cgroup
   of the hierarchy mounted at mount has no weight file. */
void cg_io_weight_check (const oci_block_io *b, bool v2, const char *mount,
                         void (*cb) (void *data, const char *key, const char *msg), void *data);

/* ---- runc's v1 -> v2 conversions ---- */

/* cpu.shares [2, 262144] -> cpu.weight [1, 10000], the log-quadratic
   mapping of runc >= 1.3.2 and crun >= 1.23 (1024 -> 100); 0 stays 0. */
uint64_t cg_shares_to_weight (uint64_t shares);
/* blkio.weight [10, 1000] -> io.weight [1, 10000]; 0 stays 0. */
uint64_t cg_blkio_to_io_weight (uint64_t weight);
/* v1 memory.swap is memory+swap; v2 memory.swap.max is swap alone.
 *out: -1 "max", 0 unset, else bytes. */
int cg_swap_to_v2 (int64_t swap, int64_t limit, int64_t *out, skiff_error_t *err);

/* ---- device rules ---- */

enum
{
  CG_DEV_MKNOD = 1,
  CG_DEV_READ = 2,
  CG_DEV_WRITE = 4,
  CG_DEV_ALL = 7,
};

struct cg_dev_rule
{
  bool allow;
  char type;            /* 'a', 'c' or 'b' */
  int64_t major, minor; /* -1: any */
  unsigned access;      /* CG_DEV_* bits */
};

/* linux.resources.devices followed by the devices every container may use
   (mknod of anything, null, zero, full, random, urandom, tty, ptmx,
   pts/N, net/tun), on a deny-all default.  Later rules win. */
int cg_dev_rules (oci_device_cgroup **devs, size_t n, struct cg_dev_rule **out, size_t *nout,
                  skiff_error_t *err);

/* ---- cgroup v1 ---- */

int cg_v1_memory (int dfd, const oci_memory *m, skiff_error_t *err);
int cg_v1_cpu (int dfd, const oci_cpu *c, skiff_error_t *err);
int cg_v1_cpuset (int dfd, const oci_cpu *c, skiff_error_t *err);
int cg_v1_pids (int dfd, const oci_pids *p, skiff_error_t *err);
int cg_v1_blkio (int dfd, const oci_block_io *b, skiff_error_t *err);
int cg_v1_hugetlb (int dfd, oci_hugepage_limit **l, size_t n, skiff_error_t *err);
int cg_v1_net_cls (int dfd, const oci_network *n, skiff_error_t *err);
int cg_v1_net_prio (int dfd, const oci_network *n, skiff_error_t *err);
int cg_v1_devices (int dfd, const struct cg_dev_rule *r, size_t n, skiff_error_t *err);
/* On a running container: move devices.list to what the rules give by
   granting first and revoking after, never through deny-all (rules that
   do not start with deny-all get cg_v1_devices). */
int cg_v1_devices_update (int dfd, const struct cg_dev_rule *r, size_t n, skiff_error_t *err);
/* rdma.max has one format on v1 and v2. */
int cg_rdma (int dfd, const oci_rdma_map *m, skiff_error_t *err);

/* ---- cgroup v2 ---- */

int cg_v2_memory (int dfd, const oci_memory *m, skiff_error_t *err);
int cg_v2_cpu (int dfd, const oci_cpu *c, skiff_error_t *err);
int cg_v2_cpuset (int dfd, const oci_cpu *c, skiff_error_t *err);
int cg_v2_pids (int dfd, const oci_pids *p, skiff_error_t *err);
int cg_v2_io (int dfd, const oci_block_io *b, skiff_error_t *err);
int cg_v2_hugetlb (int dfd, oci_hugepage_limit **l, size_t n, skiff_error_t *err);
int cg_v2_unified (int dfd, const oci_string_map *u, skiff_error_t *err);

/* checkBeforeUpdate: refuse a memory limit below the current usage. */
int cg_check_memory_usage (int dfd, const char *usage_file, const oci_memory *m,
                           skiff_error_t *err);

/* ---- v2 devices: a BPF_PROG_TYPE_CGROUP_DEVICE program ---- */

struct bpf_insn;
/* The program for these rules (malloc'd instructions). */
int cg_bpf_devices_build (const struct cg_dev_rule *r, size_t n, struct bpf_insn **out, size_t *len,
                          skiff_error_t *err);
/* Load it and attach it to the cgroup dfd, replacing the programs that
   were attached before (attach the new one first: no unguarded window). */
int cg_bpf_devices_apply (int dfd, const struct cg_dev_rule *r, size_t n, skiff_error_t *err);

/* ---- stats (the "data" of runc's stats event, as JSON) ---- */

enum cg_v1_stat_ctrl
{
  CG_ST_CPU,
  CG_ST_CPUACCT,
  CG_ST_MEMORY,
  CG_ST_PIDS,
  CG_ST_BLKIO,
  CG_ST_HUGETLB,
  CG_ST_CPUSET,
  CG_ST_COUNT,
};
/* fds[i] < 0: controller not mounted.  hugetlb_v2: hugetlb lives on the
   cgroup2 mount of a hybrid host. */
void cg_v1_stats_json (const int fds[CG_ST_COUNT], bool hugetlb_v2, struct skiff_strbuf *out);
void cg_v2_stats_json (int dfd, struct skiff_strbuf *out);
/* The OOM-kill counter (v2 memory.events, v1 memory.oom_control). */
uint64_t cg_oom_kills (int memory_dfd, bool v2);

/* Huge page sizes of this host as cgroup files name them ("2MB", "1GB"). */
size_t cg_hugepage_sizes (char sizes[][32], size_t max);

#endif

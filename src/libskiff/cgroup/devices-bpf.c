/* cgroup v2 device control: the rules become a BPF_PROG_TYPE_CGROUP_DEVICE
   program, assembled here instruction by instruction, loaded with bpf(2)
   and attached to the container's cgroup (BPF_CGROUP_DEVICE).

   The program sees struct bpf_cgroup_dev_ctx {access_type, major, minor}
   (access_type = access << 16 | type) and returns 1 to allow.  Rules are
   tested from the last to the first, so the last matching rule decides,
   and nothing matching means deny. */
#include "config.h"
#include "controllers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/bpf.h>

#include "cleanup.h"

#define R0 0
#define R1 1
#define R2 2 /* device type */
#define R3 3 /* access requested */
#define R4 4 /* major */
#define R5 5 /* minor */

struct prog
{
  struct bpf_insn *insn;
  size_t len, cap;
};

static void
emit (struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
  if (p->len == p->cap)
    {
      p->cap = p->cap ? p->cap * 2 : 64;
      p->insn = realloc (p->insn, p->cap * sizeof *p->insn);
      if (p->insn == NULL)
        abort ();
    }
  p->insn[p->len++]
      = (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
}

static void
emit_rule (struct prog *p, const struct cg_dev_rule *r)
{
  /* Count the block first: each failed test jumps past its end. */
  bool t = r->type != 'a', a = (r->access & CG_DEV_ALL) != CG_DEV_ALL;
  bool ma = r->major >= 0, mi = r->minor >= 0;
  int len = t + 3 * a + ma + mi + 2;
  int at = 0;
#define SKIP ((int16_t)(len - at - 1))
  if (t)
    {
      emit (p, BPF_JMP | BPF_JNE | BPF_K, R2, 0, SKIP,
            r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
      at++;
    }
  if (a)
    {
      /* Matches when nothing outside the rule's access is asked for. */
      emit (p, BPF_ALU | BPF_MOV | BPF_X, R1, R3, 0, 0);
      at++;
      emit (p, BPF_ALU | BPF_AND | BPF_K, R1, 0, 0, (int32_t)(~r->access & CG_DEV_ALL));
      at++;
      emit (p, BPF_JMP | BPF_JNE | BPF_K, R1, 0, SKIP, 0);
      at++;
    }
  if (ma)
    {
      emit (p, BPF_JMP | BPF_JNE | BPF_K, R4, 0, SKIP, (int32_t)r->major);
      at++;
    }
  if (mi)
    {
      emit (p, BPF_JMP | BPF_JNE | BPF_K, R5, 0, SKIP, (int32_t)r->minor);
      at++;
    }
#undef SKIP
  emit (p, BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, r->allow ? 1 : 0);
  emit (p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

int
cg_bpf_devices_build (const struct cg_dev_rule *r, size_t n, struct bpf_insn **out, size_t *len,
                      skiff_error_t *err)
{
  struct prog p = { 0 };
  /* r2 = type, r3 = access, r4 = major, r5 = minor */
  emit (&p, BPF_LDX | BPF_W | BPF_MEM, R2, R1, 0, 0);
  emit (&p, BPF_ALU | BPF_AND | BPF_K, R2, 0, 0, 0xffff);
  emit (&p, BPF_LDX | BPF_W | BPF_MEM, R3, R1, 0, 0);
  emit (&p, BPF_ALU | BPF_RSH | BPF_K, R3, 0, 0, 16);
  emit (&p, BPF_LDX | BPF_W | BPF_MEM, R4, R1, 4, 0);
  emit (&p, BPF_LDX | BPF_W | BPF_MEM, R5, R1, 8, 0);
  for (size_t i = n; i-- > 0;)
    {
      if (r[i].major > INT32_MAX || r[i].minor > INT32_MAX)
        {
          free (p.insn);
          return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                       "linux.resources.devices: device number out of range");
        }
      emit_rule (&p, &r[i]);
      /* A rule matching everything decides alone: what would follow is
         unreachable, which the verifier rejects. */
      if (r[i].type == 'a' && r[i].major < 0 && r[i].minor < 0
          && (r[i].access & CG_DEV_ALL) == CG_DEV_ALL)
        goto done;
    }
  emit (&p, BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 0);
  emit (&p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
done:
  *out = p.insn;
  *len = p.len;
  return 0;
}

static long
sys_bpf (int cmd, union bpf_attr *attr)
{
  return syscall (SYS_bpf, cmd, attr, sizeof *attr);
}

static int
load_prog (const struct bpf_insn *insn, size_t len, skiff_error_t *err)
{
  union bpf_attr attr;
  memset (&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t)(uintptr_t)insn;
  attr.insn_cnt = (uint32_t)len;
  attr.license = (uint64_t)(uintptr_t) "GPL";
  int fd = (int)sys_bpf (BPF_PROG_LOAD, &attr);
  if (fd < 0 && errno == EPERM)
    {
      /* Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK. */
      struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
      setrlimit (RLIMIT_MEMLOCK, &rl);
      fd = (int)sys_bpf (BPF_PROG_LOAD, &attr);
    }
  if (fd >= 0)
    return fd;
  int saved = errno;
  /* Once more with the verifier's log, to say why. */
  char log[4096] = "";
  attr.log_buf = (uint64_t)(uintptr_t)log;
  attr.log_size = sizeof log;
  attr.log_level = 1;
  fd = (int)sys_bpf (BPF_PROG_LOAD, &attr);
  if (fd >= 0)
    return fd;
  log[sizeof log - 1] = '\0';
  char *last = log + strlen (log);
  while (last > log && last[-1] == '\n')
    *--last = '\0';
  char *line = strrchr (log, '\n');
  return skiff_error (err, saved, "linux.resources.devices: load the device BPF program%s%s",
                      *log ? ": verifier: " : "", *log ? (line ? line + 1 : log) : "");
}

/* Ids of the device programs attached to the cgroup now. */
static size_t
query_progs (int dfd, uint32_t *ids, size_t max)
{
  union bpf_attr attr;
  memset (&attr, 0, sizeof attr);
  attr.query.target_fd = (uint32_t)dfd;
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
  attr.query.prog_cnt = (uint32_t)max;
  if (sys_bpf (BPF_PROG_QUERY, &attr) < 0)
    return 0;
  return attr.query.prog_cnt < max ? attr.query.prog_cnt : max;
}

int
cg_bpf_devices_apply (int dfd, const struct cg_dev_rule *r, size_t n, skiff_error_t *err)
{
  cleanup_free struct bpf_insn *insn = NULL;
  size_t len = 0;
  uint32_t old[64];
  if (cg_bpf_devices_build (r, n, &insn, &len, err) < 0)
    return -1;
  cleanup_close int prog = load_prog (insn, len, err);
  if (prog < 0)
    return -1;
  size_t nold = query_progs (dfd, old, 64);
  union bpf_attr attr;
  memset (&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t)dfd;
  attr.attach_bpf_fd = (uint32_t)prog;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (sys_bpf (BPF_PROG_ATTACH, &attr) < 0)
    return skiff_error (err, errno, "linux.resources.devices: attach the device BPF program");
  for (size_t i = 0; i < nold; i++)
    {
      union bpf_attr get;
      memset (&get, 0, sizeof get);
      get.prog_id = old[i];
      cleanup_close int ofd = (int)sys_bpf (BPF_PROG_GET_FD_BY_ID, &get);
      if (ofd < 0)
        continue;
      memset (&attr, 0, sizeof attr);
      attr.target_fd = (uint32_t)dfd;
      attr.attach_bpf_fd = (uint32_t)ofd;
      attr.attach_type = BPF_CGROUP_DEVICE;
      if (sys_bpf (BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT)
        return skiff_error (err, errno,
                            "linux.resources.devices: detach the previous device program");
    }
  return 0;
}

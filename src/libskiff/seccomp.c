/* seccomp filters through libseccomp.

   linux.seccomp is translated in three steps: a plan (names to numbers,
   every check that needs no library), a cache lookup keyed by the plan, and
   on a miss the libseccomp compile, exported as classic BPF.  The container
   init only hands the BPF to seccomp(2), so nothing of libseccomp runs
   after the clone.  See docs/seccomp.md.

   libseccomp is loaded with dlopen by seccomp_prepare, that is in the
   runtime before the clone and only for a config with linux.seccomp:
   linked, it would be loaded at every start of every command (see
   docs/performance.md). */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* Our own header is also called seccomp.h and src/libskiff is an -I
   directory, so <seccomp.h> would find it again: name libseccomp's header
   by a path only the system include directory resolves. */
#include <seccomp.h>

#include "build-features.h"
#include "cleanup.h"
#include "fsutil.h"
#include "log.h"
#include "seccomp.h"
#include "strbuf.h"

const char skiff_feature_seccomp[] = "+SECCOMP";

/* The libseccomp functions used below, filled by libseccomp_load (); the
   names are mapped onto this table so that the code reads as usual. */
static struct
{
  __typeof__ (&seccomp_api_get) api_get;
  __typeof__ (&seccomp_arch_add) arch_add;
  __typeof__ (&seccomp_arch_native) arch_native;
  __typeof__ (&seccomp_attr_set) attr_set;
  __typeof__ (&seccomp_export_bpf) export_bpf;
  __typeof__ (&seccomp_init) init;
  __typeof__ (&seccomp_release) release;
  __typeof__ (&seccomp_rule_add_array) rule_add_array;
  __typeof__ (&seccomp_syscall_resolve_name) syscall_resolve_name;
  __typeof__ (&seccomp_version) version;
} scmp;

static int
libseccomp_load (skiff_error_t *err)
{
  static int state; /* 0 not tried, 1 loaded, -1 missing */
  static char why[256];
  if (state == 0)
    {
      __typeof__ (scmp) lib;
      void *h = dlopen ("libseccomp.so.2", RTLD_NOW | RTLD_LOCAL);
      state = -1;
      if (h)
        {
          *(void **)&lib.api_get = dlsym (h, "seccomp_api_get");
          *(void **)&lib.arch_add = dlsym (h, "seccomp_arch_add");
          *(void **)&lib.arch_native = dlsym (h, "seccomp_arch_native");
          *(void **)&lib.attr_set = dlsym (h, "seccomp_attr_set");
          *(void **)&lib.export_bpf = dlsym (h, "seccomp_export_bpf");
          *(void **)&lib.init = dlsym (h, "seccomp_init");
          *(void **)&lib.release = dlsym (h, "seccomp_release");
          *(void **)&lib.rule_add_array = dlsym (h, "seccomp_rule_add_array");
          *(void **)&lib.syscall_resolve_name = dlsym (h, "seccomp_syscall_resolve_name");
          *(void **)&lib.version = dlsym (h, "seccomp_version");
          if (lib.api_get && lib.arch_add && lib.arch_native && lib.attr_set && lib.export_bpf
              && lib.init && lib.release && lib.rule_add_array && lib.syscall_resolve_name
              && lib.version)
            {
              scmp = lib;
              state = 1;
            }
        }
      if (state < 0)
        snprintf (why, sizeof why, "%s", h ? "symbols missing" : dlerror ());
    }
  if (state < 0)
    return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, 0,
                                 "linux.seccomp: cannot load libseccomp.so.2: "
                                 "%s",
                                 why);
  return 0;
}

#define seccomp_api_get (scmp.api_get)
#define seccomp_arch_add (scmp.arch_add)
#define seccomp_arch_native (scmp.arch_native)
#define seccomp_attr_set (scmp.attr_set)
#define seccomp_export_bpf (scmp.export_bpf)
#define seccomp_init (scmp.init)
#define seccomp_release (scmp.release)
#define seccomp_rule_add_array (scmp.rule_add_array)
#define seccomp_syscall_resolve_name (scmp.syscall_resolve_name)
#define seccomp_version (scmp.version)

/* Older uapi headers lack the newer flags; the values are kernel ABI. */
#ifndef SECCOMP_FILTER_FLAG_LOG
#define SECCOMP_FILTER_FLAG_LOG (1UL << 1)
#endif
#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
/* libseccomp 2.5 predates LoongArch; the token is AUDIT_ARCH_LOONGARCH64,
   which such a libseccomp refuses with a clear error. */
#ifndef SCMP_ARCH_LOONGARCH64
#define SCMP_ARCH_LOONGARCH64 0xc0000102U
#endif

#define MAX_ARGS 6       /* syscall arguments seccomp can look at */
#define MAX_ERRNO 4095   /* the kernel clamps SECCOMP_RET_ERRNO data to it */
#define MAX_TRACE 0xffff /* SECCOMP_RET_DATA */

struct seccomp_prog
{
  struct sock_filter *insns;
  size_t len;
  uint32_t flags; /* SECCOMP_FILTER_FLAG_*, without NEW_LISTENER */
  bool notify;    /* has SCMP_ACT_NOTIFY rules: load with NEW_LISTENER */
};

/* ------------------------------------------------------------ names */

struct name_value
{
  const char *name;
  uint32_t value;
};

enum action_kind
{
  ACT_PLAIN,
  ACT_ERRNO,
  ACT_TRACE,
};

struct action_def
{
  const char *name;
  uint32_t base;
  enum action_kind kind;
};

static const struct action_def actions[] = {
  { "SCMP_ACT_KILL", SCMP_ACT_KILL, ACT_PLAIN },
  { "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, ACT_PLAIN },
  { "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, ACT_PLAIN },
  { "SCMP_ACT_TRAP", SCMP_ACT_TRAP, ACT_PLAIN },
  { "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO (0), ACT_ERRNO },
  { "SCMP_ACT_TRACE", SCMP_ACT_TRACE (0), ACT_TRACE },
  { "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, ACT_PLAIN },
  { "SCMP_ACT_LOG", SCMP_ACT_LOG, ACT_PLAIN },
  { "SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, ACT_PLAIN },
};

static const struct name_value arches[] = {
  { "SCMP_ARCH_X86", SCMP_ARCH_X86 },
  { "SCMP_ARCH_X86_64", SCMP_ARCH_X86_64 },
  { "SCMP_ARCH_X32", SCMP_ARCH_X32 },
  { "SCMP_ARCH_ARM", SCMP_ARCH_ARM },
  { "SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64 },
  { "SCMP_ARCH_MIPS", SCMP_ARCH_MIPS },
  { "SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64 },
  { "SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32 },
  { "SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL },
  { "SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64 },
  { "SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32 },
  { "SCMP_ARCH_PPC", SCMP_ARCH_PPC },
  { "SCMP_ARCH_PPC64", SCMP_ARCH_PPC64 },
  { "SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE },
  { "SCMP_ARCH_S390", SCMP_ARCH_S390 },
  { "SCMP_ARCH_S390X", SCMP_ARCH_S390X },
  { "SCMP_ARCH_PARISC", SCMP_ARCH_PARISC },
  { "SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64 },
  { "SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64 },
  { "SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64 },
};

static const struct name_value operators[] = {
  { "SCMP_CMP_NE", SCMP_CMP_NE },
  { "SCMP_CMP_LT", SCMP_CMP_LT },
  { "SCMP_CMP_LE", SCMP_CMP_LE },
  { "SCMP_CMP_EQ", SCMP_CMP_EQ },
  { "SCMP_CMP_GE", SCMP_CMP_GE },
  { "SCMP_CMP_GT", SCMP_CMP_GT },
  { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

static const struct name_value filter_flags[] = {
  { "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC },
  { "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
  { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
  { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV },
};

/* Syscalls the init makes between loading the filter and handing the
   listener fd to the runtime: notified, they would wait for an agent that
   cannot have the fd yet, and the container would hang (runc refuses
   notify on `write` for the same reason). */
static const char *const notify_forbidden[] = { "sendmsg" };

#define N_ELEMENTS(a) (sizeof (a) / sizeof ((a)[0]))

static const struct name_value *
lookup (const struct name_value *table, size_t n, const char *name)
{
  for (size_t i = 0; name && i < n; i++)
    if (strcmp (table[i].name, name) == 0)
      return &table[i];
  return NULL;
}

static const struct action_def *
lookup_action (const char *name)
{
  for (size_t i = 0; name && i < N_ELEMENTS (actions); i++)
    if (strcmp (actions[i].name, name) == 0)
      return &actions[i];
  return NULL;
}

/* ------------------------------------------------------------- plan */

struct entry_plan
{
  const oci_syscall *sc;
  size_t index; /* in linux.seccomp.syscalls, for messages */
  uint32_t action;
  struct scmp_arg_cmp *args;
  size_t n_args;
  bool one_rule_per_arg; /* an index repeats: OR the comparisons */
};

struct plan
{
  uint32_t default_action;
  uint32_t *arches;
  size_t n_arches;
  uint32_t flags;
  bool notify;
  struct entry_plan *entries;
  size_t n_entries;
};

static void
plan_free (struct plan *p)
{
  for (size_t i = 0; i < p->n_entries; i++)
    free (p->entries[i].args);
  free (p->entries);
  free (p->arches);
}
#define cleanup_plan __attribute__ ((cleanup (plan_free)))

static void *
xcalloc (size_t n, size_t size)
{
  void *p = calloc (n ? n : 1, size);
  if (p == NULL)
    abort ();
  return p;
}

/* `what` is the JSON path of the action (".defaultAction" or
   ".syscalls[3].action"), `ret_path` that of its errno value. */
static int
translate_action (const char *name, bool has_ret, uint32_t ret, const char *what,
                  const char *ret_path, uint32_t *out, skiff_error_t *err)
{
  const struct action_def *a = lookup_action (name);
  if (a == NULL)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.seccomp%s: unknown action `%s`", what,
                                 name ? name : "(null)");
  if (a->kind == ACT_PLAIN && has_ret)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.seccomp%s: %s takes no errno value; "
                                 "only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do",
                                 ret_path, a->name);
  if (!has_ret)
    ret = EPERM; /* the runtime-spec default for both */
  uint32_t max = a->kind == ACT_ERRNO ? MAX_ERRNO : MAX_TRACE;
  if (a->kind != ACT_PLAIN && ret > max)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.seccomp%s: %" PRIu32 " is out of range for %s (0..%" PRIu32
                                 ")",
                                 ret_path, ret, a->name, max);
  *out = a->kind == ACT_PLAIN ? a->base : (a->base | ret);
  return 0;
}

static int
plan_arches (const oci_seccomp *s, struct plan *p, skiff_error_t *err)
{
  p->arches = xcalloc (s->architectures_len, sizeof *p->arches);
  for (size_t i = 0; i < s->architectures_len; i++)
    {
      const struct name_value *a = lookup (arches, N_ELEMENTS (arches), s->architectures[i]);
      if (a == NULL)
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "linux.seccomp.architectures[%zu]: unknown architecture `%s`",
                                     i, s->architectures[i] ? s->architectures[i] : "(null)");
      p->arches[p->n_arches++] = a->value;
    }
  return 0;
}

/* Whether the running kernel knows `flag`: with a NULL program the kernel
   checks the flags first (EINVAL) and only then faults copying the
   program (EFAULT), so nothing is loaded.  libseccomp probes the same way. */
static bool
kernel_has_flag (uint32_t flag)
{
  if (flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
    flag |= SECCOMP_FILTER_FLAG_NEW_LISTENER; /* invalid alone */
  long r = syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, NULL);
  return r < 0 && errno == EFAULT;
}

size_t
seccomp_supported_flags (const char **out, size_t max)
{
  size_t n = 0;
  for (size_t i = 0; i < N_ELEMENTS (filter_flags) && n < max; i++)
    if (kernel_has_flag (filter_flags[i].value))
      out[n++] = filter_flags[i].name;
  return n;
}

bool
seccomp_library_version (char *buf, size_t len)
{
  if (libseccomp_load (NULL) < 0)
    return false;
  const struct scmp_version *v = seccomp_version ();
  snprintf (buf, len, "%u.%u.%u", v->major, v->minor, v->micro);
  return true;
}

static int
plan_flags (const oci_seccomp *s, struct plan *p, skiff_error_t *err)
{
  for (size_t i = 0; i < s->flags_len; i++)
    {
      const struct name_value *f = lookup (filter_flags, N_ELEMENTS (filter_flags), s->flags[i]);
      if (f == NULL)
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "linux.seccomp.flags[%zu]: unknown flag `%s`", i,
                                     s->flags[i] ? s->flags[i] : "(null)");
      if (!kernel_has_flag (f->value))
        return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, 0,
                                     "linux.seccomp.flags[%zu]: %s is not supported by this kernel",
                                     i, f->name);
      p->flags |= f->value;
    }
  return 0;
}

static int
plan_args (const oci_syscall *sc, size_t idx, struct entry_plan *e, skiff_error_t *err)
{
  unsigned seen[MAX_ARGS] = { 0 };
  e->args = xcalloc (sc->args_len, sizeof *e->args);
  for (size_t j = 0; j < sc->args_len; j++)
    {
      const oci_syscall_arg *a = sc->args[j];
      const struct name_value *op = lookup (operators, N_ELEMENTS (operators), a->op);
      if (a->index >= MAX_ARGS)
        return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                     "linux.seccomp.syscalls[%zu].args[%zu].index: %" PRIu32
                                     " is out of range (0..5)",
                                     idx, j, a->index);
      if (op == NULL)
        return skiff_error_kind_set (
            err, SKIFF_ERR_INVALID_CONFIG, 0,
            "linux.seccomp.syscalls[%zu].args[%zu].op: unknown operator `%s`", idx, j,
            a->op ? a->op : "(null)");
      /* For MASKED_EQ, value is the mask and valueTwo the expected value,
         which is libseccomp's datum_a / datum_b order. */
      e->args[j] = (struct scmp_arg_cmp){ .arg = a->index,
                                          .op = (enum scmp_compare)op->value,
                                          .datum_a = a->value,
                                          .datum_b = a->value_two };
      if (++seen[a->index] > 1)
        e->one_rule_per_arg = true;
    }
  e->n_args = sc->args_len;
  return 0;
}

static int
check_notify_entry (const oci_syscall *sc, size_t idx, skiff_error_t *err)
{
  for (size_t n = 0; n < sc->names_len; n++)
    for (size_t k = 0; k < N_ELEMENTS (notify_forbidden); k++)
      if (sc->names[n] && strcmp (sc->names[n], notify_forbidden[k]) == 0)
        return skiff_error_kind_set (
            err, SKIFF_ERR_INVALID_CONFIG, 0,
            "linux.seccomp.syscalls[%zu].names[%zu]: SCMP_ACT_NOTIFY cannot "
            "be used for `%s`: the container init needs it to hand over the "
            "notification fd",
            idx, n, sc->names[n]);
  return 0;
}

static int
plan_entry (const oci_seccomp *s, size_t idx, struct plan *p, skiff_error_t *err)
{
  const oci_syscall *sc = s->syscalls[idx];
  char what[64], ret_path[64];
  snprintf (what, sizeof what, ".syscalls[%zu].action", idx);
  snprintf (ret_path, sizeof ret_path, ".syscalls[%zu].errnoRet", idx);
  uint32_t action;
  if (translate_action (sc->action, sc->errno_ret_present, sc->errno_ret, what, ret_path, &action,
                        err)
      < 0)
    return -1;
  if (sc->names_len == 0)
    return skiff_error_kind_set (
        err, SKIFF_ERR_INVALID_CONFIG, 0,
        "linux.seccomp.syscalls[%zu].names: must name at least one syscall", idx);
  struct entry_plan *e = &p->entries[p->n_entries++];
  e->sc = sc;
  e->index = idx;
  e->action = action;
  if (plan_args (sc, idx, e, err) < 0)
    return -1;
  /* libseccomp refuses a rule that repeats the default action; it would
     change nothing anyway.  Checked after the arguments so a bad one is
     reported whatever the action. */
  if (action == p->default_action)
    {
      free (e->args);
      memset (e, 0, sizeof *e);
      p->n_entries--;
      return 0;
    }
  if (action == SCMP_ACT_NOTIFY && check_notify_entry (sc, idx, err) < 0)
    return -1;
  p->notify |= action == SCMP_ACT_NOTIFY;
  return 0;
}

static int
plan_listener (const oci_seccomp *s, struct plan *p, skiff_error_t *err)
{
  bool has_path = s->listener_path && s->listener_path[0];
  if (s->listener_metadata && s->listener_metadata[0] && !has_path)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.seccomp.listenerMetadata: must not be "
                                 "set without listenerPath");
  if (p->notify && !has_path)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.seccomp.listenerPath: required by "
                                 "SCMP_ACT_NOTIFY rules");
  if (!p->notify && (p->flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV))
    {
      /* The kernel refuses the flag without a listener, and without
         notify rules it has no meaning. */
      skiff_warn ("linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV "
                  "ignored: the profile has no SCMP_ACT_NOTIFY rules");
      p->flags &= ~(uint32_t)SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
    }
  return 0;
}

static int
make_plan (const oci_seccomp *s, struct plan *p, skiff_error_t *err)
{
  if (translate_action (s->default_action, s->default_errno_ret_present, s->default_errno_ret,
                        ".defaultAction", ".defaultErrnoRet", &p->default_action, err)
      < 0)
    return -1;
  if (p->default_action == SCMP_ACT_NOTIFY)
    return skiff_error_kind_set (
        err, SKIFF_ERR_INVALID_CONFIG, 0,
        "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default: "
        "the container init could not hand over the notification fd");
  if (plan_arches (s, p, err) < 0 || plan_flags (s, p, err) < 0)
    return -1;
  p->entries = xcalloc (s->syscalls_len, sizeof *p->entries);
  for (size_t i = 0; i < s->syscalls_len; i++)
    if (plan_entry (s, i, p, err) < 0)
      return -1;
  return plan_listener (s, p, err);
}

/* -------------------------------------------------------------- key */

/* The cache key: everything the compiled program depends on, in a
   canonical text form (the plan, not the JSON, so formatting and
   spelled-out defaults do not matter).  It is stored in the cache file and
   compared in full, so the file-name hash only has to spread, not to resist
   collisions. */
static void
plan_key (const struct plan *p, struct skiff_strbuf *b)
{
  const struct scmp_version *v = seccomp_version ();
  struct utsname u;
  if (uname (&u) < 0)
    u.release[0] = '\0';
  strbuf_printf (b, "skiff-seccomp 1\nlibseccomp %u.%u.%u api %u\n", v->major, v->minor, v->micro,
                 seccomp_api_get ());
  strbuf_printf (b, "kernel %s native %" PRIu32 "\n", u.release, seccomp_arch_native ());
  strbuf_printf (b, "default %" PRIu32 " flags %" PRIu32 " notify %d\narch", p->default_action,
                 p->flags, (int)p->notify);
  for (size_t i = 0; i < p->n_arches; i++)
    strbuf_printf (b, " %" PRIu32, p->arches[i]);
  for (size_t i = 0; i < p->n_entries; i++)
    {
      const struct entry_plan *e = &p->entries[i];
      strbuf_printf (b, "\nrule %" PRIu32 " %d", e->action, (int)e->one_rule_per_arg);
      for (size_t j = 0; j < e->n_args; j++)
        strbuf_printf (b, " (%u %d %" PRIu64 " %" PRIu64 ")", e->args[j].arg, (int)e->args[j].op,
                       (uint64_t)e->args[j].datum_a, (uint64_t)e->args[j].datum_b);
      for (size_t n = 0; n < e->sc->names_len; n++)
        {
          strbuf_puts (b, " ");
          skiff_json_quote (b, e->sc->names[n] ? e->sc->names[n] : "");
        }
    }
  strbuf_puts (b, "\n");
}

static uint64_t
fnv1a64 (const void *data, size_t len)
{
  const unsigned char *p = data;
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < len; i++)
    h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

/* ----------------------------------------------------------- compile */

static int
add_rule (scmp_filter_ctx ctx, const struct entry_plan *e, size_t n, int nr, skiff_error_t *err)
{
  int r = 0;
  if (!e->one_rule_per_arg)
    r = seccomp_rule_add_array (ctx, e->action, nr, (unsigned)e->n_args, e->args);
  /* libseccomp cannot compare one argument twice in a rule: like runc,
     give each comparison its own rule, i.e. match if any holds. */
  for (size_t j = 0; r == 0 && e->one_rule_per_arg && j < e->n_args; j++)
    r = seccomp_rule_add_array (ctx, e->action, nr, 1, &e->args[j]);
  if (r == 0)
    return 0;
  return skiff_error_kind_set (
      err, r == -EOPNOTSUPP ? SKIFF_ERR_UNSUPPORTED : SKIFF_ERR_INVALID_CONFIG, -r,
      "linux.seccomp.syscalls[%zu].names[%zu]: "
      "add rule for `%s`",
      e->index, n, e->sc->names[n]);
}

static int
add_entry (scmp_filter_ctx ctx, const struct entry_plan *e, skiff_error_t *err)
{
  for (size_t n = 0; n < e->sc->names_len; n++)
    {
      const char *name = e->sc->names[n] ? e->sc->names[n] : "";
      int nr = seccomp_syscall_resolve_name (name);
      if (nr == __NR_SCMP_ERROR)
        {
          /* As runc: a profile lists syscalls of newer kernels and other
             architectures; one this libseccomp does not know cannot be
             filtered, so it falls to the default action. */
          skiff_warn ("linux.seccomp.syscalls[%zu].names[%zu]: unknown "
                      "syscall `%s` skipped",
                      e->index, n, name);
          continue;
        }
      if (add_rule (ctx, e, n, nr, err) < 0)
        return -1;
    }
  return 0;
}

static void
release_ctx (scmp_filter_ctx *ctx)
{
  if (*ctx)
    seccomp_release (*ctx);
}

static int
build_ctx (const struct plan *p, scmp_filter_ctx ctx, skiff_error_t *err)
{
  /* The init sets no_new_privs itself as the config says; the exported
     program does not carry it anyway, but keep libseccomp's view right. */
  int r = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (r < 0)
    return skiff_error (err, -r, "linux.seccomp: libseccomp attribute");
  for (size_t i = 0; i < p->n_arches; i++)
    {
      r = seccomp_arch_add (ctx, p->arches[i]);
      if (r < 0 && r != -EEXIST)
        return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, -r,
                                     "linux.seccomp.architectures[%zu]: "
                                     "not supported by this libseccomp",
                                     i);
    }
  for (size_t i = 0; i < p->n_entries; i++)
    if (add_entry (ctx, &p->entries[i], err) < 0)
      return -1;
  return 0;
}

/* libseccomp 2.5 exports only to an fd: use a memfd and read it back. */
static int
export_bpf (scmp_filter_ctx ctx, struct seccomp_prog *prog, skiff_error_t *err)
{
  cleanup_close int fd = memfd_create ("skiff-seccomp", MFD_CLOEXEC);
  if (fd < 0)
    return skiff_error (err, errno, "linux.seccomp: memfd_create");
  int r = seccomp_export_bpf (ctx, fd);
  if (r < 0)
    return skiff_error (err, -r, "linux.seccomp: export BPF");
  struct stat st;
  if (fstat (fd, &st) < 0)
    return skiff_error (err, errno, "linux.seccomp: fstat memfd");
  size_t size = (size_t)st.st_size;
  if (size == 0 || size % sizeof (struct sock_filter) != 0)
    return skiff_error (err, EINVAL,
                        "linux.seccomp: libseccomp exported "
                        "%zu bytes",
                        size);
  if (size / sizeof (struct sock_filter) > BPF_MAXINSNS)
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.seccomp: the filter compiles to %zu "
                                 "instructions, the kernel takes at most %d",
                                 size / sizeof (struct sock_filter), BPF_MAXINSNS);
  cleanup_free struct sock_filter *insns = xcalloc (1, size);
  ssize_t got = pread (fd, insns, size, 0);
  if (got != (ssize_t)size)
    return skiff_error (err, got < 0 ? errno : EIO, "linux.seccomp: read back the BPF");
  prog->insns = steal_pointer (&insns);
  prog->len = size / sizeof (struct sock_filter);
  return 0;
}

static int
compile (const struct plan *p, struct seccomp_prog *prog, skiff_error_t *err)
{
  __attribute__ ((cleanup (release_ctx))) scmp_filter_ctx ctx = seccomp_init (p->default_action);
  if (ctx == NULL)
    return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, 0,
                                 "linux.seccomp.defaultAction: not supported "
                                 "by this kernel or libseccomp");
  if (build_ctx (p, ctx, err) < 0)
    return -1;
  return export_bpf (ctx, prog, err);
}

/* ------------------------------------------------------------- cache */

/* File layout: header, key (padded to 8), BPF.  Every field is checked on
   read; anything odd makes the file a miss that gets rewritten.  The
   checksum catches torn or damaged files that happen to keep their size. */
#define CACHE_MAGIC "SKFBPF\r\n"
#define CACHE_VERSION 1U
#define CACHE_MAX_FILE (8U << 20)

struct cache_header
{
  char magic[8];
  uint32_t version;
  uint32_t flags; /* SECCOMP_FILTER_FLAG_* */
  uint32_t notify;
  uint32_t key_len;
  uint32_t insn_count;
  uint32_t reserved;
  uint64_t checksum; /* FNV-1a of everything after the header */
};

_Static_assert(sizeof (struct cache_header) % 8 == 0, "header size");

static size_t
pad8 (size_t n)
{
  return (n + 7) & ~(size_t)7;
}

/* The directory may only be ours: a program loaded from a file someone
   else can write would be their filter, not the config's. */
static int
cache_open_dir (const char *dir)
{
  if (mkdir (dir, 0700) < 0 && errno != EEXIST)
    {
      skiff_warn ("seccomp cache: mkdir `%s`: %s", dir, strerror (errno));
      return -1;
    }
  cleanup_close int fd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat (fd, &st) < 0)
    {
      skiff_warn ("seccomp cache: open `%s`: %s", dir, strerror (errno));
      return -1;
    }
  if (st.st_uid != geteuid () || (st.st_mode & 022) != 0)
    {
      skiff_warn ("seccomp cache: `%s` is not private to us; not used", dir);
      return -1;
    }
  return steal_fd (&fd);
}

static bool
cache_parse (const char *buf, size_t size, const struct plan *p, const struct skiff_strbuf *key,
             struct seccomp_prog *prog)
{
  struct cache_header h;
  if (size < sizeof h || size % 8 != 0)
    return false;
  memcpy (&h, buf, sizeof h);
  size_t key_space = pad8 (h.key_len);
  if (memcmp (h.magic, CACHE_MAGIC, sizeof h.magic) != 0 || h.version != CACHE_VERSION
      || h.flags != p->flags || h.notify != (uint32_t)p->notify || h.key_len != key->len
      || h.insn_count == 0 || h.insn_count > BPF_MAXINSNS
      || size != sizeof h + key_space + (size_t)h.insn_count * sizeof (struct sock_filter))
    return false;
  const char *body = buf + sizeof h;
  if (fnv1a64 (body, size - sizeof h) != h.checksum || memcmp (body, key->s, key->len) != 0)
    return false;
  size_t bytes = (size_t)h.insn_count * sizeof (struct sock_filter);
  prog->insns = xcalloc (1, bytes);
  memcpy (prog->insns, body + key_space, bytes);
  prog->len = h.insn_count;
  return true;
}

static bool
cache_load (int dfd, const char *name, const struct plan *p, const struct skiff_strbuf *key,
            struct seccomp_prog *prog)
{
  cleanup_close int fd = openat (dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) || st.st_uid != geteuid ()
      || st.st_size > (off_t)CACHE_MAX_FILE)
    return false;
  cleanup_free char *buf = NULL;
  size_t len = 0;
  if (read_all_fd (fd, &buf, &len, CACHE_MAX_FILE + 1) < 0)
    return false;
  if (cache_parse (buf, len, p, key, prog))
    return true;
  skiff_debug ("seccomp cache: `%s` is stale or damaged; rewriting it", name);
  return false;
}

static int
cache_write_tmp (int dfd, char *tmp, size_t tmp_size, const void *data, size_t len)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  for (unsigned attempt = 0; attempt < 8; attempt++)
    {
      /* Unique per writer: two runtimes filling the same entry must not
         write through one file. */
      snprintf (tmp, tmp_size, ".tmp-%ld-%lx-%u", (long)getpid (), (unsigned long)ts.tv_nsec,
                attempt);
      cleanup_close int fd
          = openat (dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd < 0 && errno == EEXIST)
        continue;
      if (fd < 0)
        return -errno;
      int r = write_all_fd (fd, data, len);
      if (r < 0)
        unlinkat (dfd, tmp, 0);
      return r;
    }
  return -EEXIST;
}

static void
cache_store (int dfd, const char *name, const struct plan *p, const struct skiff_strbuf *key,
             const struct seccomp_prog *prog)
{
  size_t key_space = pad8 (key->len);
  size_t bpf = prog->len * sizeof (struct sock_filter);
  size_t size = sizeof (struct cache_header) + key_space + bpf;
  cleanup_free char *buf = xcalloc (1, size);
  struct cache_header h = { .version = CACHE_VERSION,
                            .flags = p->flags,
                            .notify = p->notify,
                            .key_len = (uint32_t)key->len,
                            .insn_count = (uint32_t)prog->len };
  memcpy (h.magic, CACHE_MAGIC, sizeof h.magic);
  memcpy (buf + sizeof h, key->s, key->len);
  memcpy (buf + sizeof h + key_space, prog->insns, bpf);
  h.checksum = fnv1a64 (buf + sizeof h, size - sizeof h);
  memcpy (buf, &h, sizeof h);

  char tmp[64];
  int r = cache_write_tmp (dfd, tmp, sizeof tmp, buf, size);
  if (r == 0 && renameat (dfd, tmp, dfd, name) < 0)
    {
      r = -errno;
      unlinkat (dfd, tmp, 0);
    }
  if (r < 0)
    skiff_warn ("seccomp cache: write `%s`: %s", name, strerror (-r));
}

/* Returns true when *prog came from the cache.  A miss leaves the open
   directory in *dfd and the file name in name for cache_store. */
static bool
cache_lookup (const char *cache_dir, const struct plan *p, const struct skiff_strbuf *key, int *dfd,
              char *name, size_t name_size, struct seccomp_prog *prog)
{
  *dfd = cache_open_dir (cache_dir);
  if (*dfd < 0)
    return false;
  snprintf (name, name_size, "%016" PRIx64 ".bpf", fnv1a64 (key->s, key->len));
  if (!cache_load (*dfd, name, p, key, prog))
    return false;
  skiff_debug ("seccomp cache: hit `%s/%s`", cache_dir, name);
  return true;
}

/* ---------------------------------------------------------- interface */

void
seccomp_prog_free (struct seccomp_prog *p)
{
  if (p == NULL)
    return;
  free (p->insns);
  free (p);
}

static void
prog_cleanup (struct seccomp_prog **p)
{
  seccomp_prog_free (*p);
}

int
seccomp_prepare (const oci_seccomp *s, const char *cache_dir, struct seccomp_prog **out,
                 skiff_error_t *err)
{
  cleanup_plan struct plan plan = { 0 };
  cleanup_strbuf struct skiff_strbuf key = { 0 };
  __attribute__ ((cleanup (prog_cleanup))) struct seccomp_prog *prog = NULL;
  cleanup_close int dfd = -1;
  char name[32] = "";

  *out = NULL;
  if (s == NULL)
    return 0;
  if (libseccomp_load (err) < 0 || make_plan (s, &plan, err) < 0)
    return -1;
  prog = xcalloc (1, sizeof *prog);
  prog->flags = plan.flags;
  prog->notify = plan.notify;
  plan_key (&plan, &key);
  if (cache_dir && cache_lookup (cache_dir, &plan, &key, &dfd, name, sizeof name, prog))
    {
      *out = steal_pointer (&prog);
      return 0;
    }
  if (compile (&plan, prog, err) < 0)
    return -1;
  if (dfd >= 0)
    cache_store (dfd, name, &plan, &key, prog);
  *out = steal_pointer (&prog);
  return 0;
}

int
seccomp_install (struct seccomp_prog *p, int *notify_fd, skiff_error_t *err)
{
  *notify_fd = -1;
  if (p == NULL)
    return 0;
  struct sock_fprog fprog = { .len = (unsigned short)p->len, .filter = p->insns };
  unsigned long flags = p->flags;
  if (p->notify)
    flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  /* With a listener, a TSYNC failure would be reported as a thread id
     indistinguishable from the fd: ask for ESRCH instead. */
  if (p->notify && (flags & SECCOMP_FILTER_FLAG_TSYNC))
    flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  long r = syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
  if (r < 0 && errno == EACCES)
    return skiff_error (err, EACCES,
                        "load seccomp filter (without "
                        "noNewPrivileges it needs CAP_SYS_ADMIN)");
  if (r < 0)
    return skiff_error (err, errno, "load seccomp filter");
  if (!p->notify && r > 0)
    return skiff_error (err, ESRCH,
                        "load seccomp filter: thread %ld could "
                        "not be synchronized",
                        r);
  if (p->notify)
    *notify_fd = (int)r;
  return 0;
}

/* The runtime-spec "container process state": the payload agents at
   listenerPath expect, naming the fds that ride along in SCM_RIGHTS. */
static int
process_state_json (const oci_seccomp *s, const char *state_json, struct skiff_strbuf *b,
                    skiff_error_t *err)
{
  oci_state *st = oci_state_parse_data (state_json, strlen (state_json), NULL, NULL);
  if (st == NULL || !st->pid_present)
    {
      oci_state_free (st);
      return skiff_error (err, EINVAL,
                          "seccomp listener: invalid container "
                          "state");
    }
  strbuf_puts (b, "{\"ociVersion\":");
  skiff_json_quote (b, OCI_SPEC_VERSION);
  strbuf_printf (b, ",\"fds\":[\"seccompFd\"],\"pid\":%d", st->pid);
  oci_state_free (st);
  if (s->listener_metadata)
    {
      strbuf_puts (b, ",\"metadata\":");
      skiff_json_quote (b, s->listener_metadata);
    }
  strbuf_puts (b, ",\"state\":");
  strbuf_puts (b, state_json);
  strbuf_puts (b, "}");
  return 0;
}

static int
connect_listener (const char *path, skiff_error_t *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  size_t len = strlen (path);
  if (len >= sizeof addr.sun_path)
    return skiff_error (err, ENAMETOOLONG, "seccomp listener `%s`", path);
  memcpy (addr.sun_path, path, len + 1);
  cleanup_close int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return skiff_error (err, errno, "seccomp listener: socket");
  int r;
  do
    r = connect (fd, (struct sockaddr *)&addr, sizeof addr);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return skiff_error (err, errno, "connect to seccomp listener `%s`", path);
  return steal_fd (&fd);
}

/* One sendmsg carries the fd and as much of the payload as fits; the rest
   follows without fds, as the runtime-spec allows. */
static int
send_with_fd (int sock, int fd, const char *data, size_t len, skiff_error_t *err)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  memset (&control, 0, sizeof control);
  struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
  struct msghdr msg = { .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = control.buf,
                        .msg_controllen = sizeof control.buf };
  struct cmsghdr *cm = CMSG_FIRSTHDR (&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (cm), &fd, sizeof fd);
  ssize_t w;
  do
    w = sendmsg (sock, &msg, MSG_NOSIGNAL);
  while (w < 0 && errno == EINTR);
  if (w < 0)
    return skiff_error (err, errno, "send to seccomp listener");
  for (size_t off = (size_t)w; off < len; off += (size_t)w)
    {
      w = send (sock, data + off, len - off, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR)
        w = 0;
      else if (w < 0)
        return skiff_error (err, errno, "send to seccomp listener");
    }
  return 0;
}

int
seccomp_send_notify_fd (const oci_seccomp *s, int notify_fd, const char *state_json,
                        skiff_error_t *err)
{
  cleanup_strbuf struct skiff_strbuf payload = { 0 };
  if (s == NULL || s->listener_path == NULL || s->listener_path[0] == '\0')
    return skiff_error_kind_set (err, SKIFF_ERR_INVALID_CONFIG, 0,
                                 "linux.seccomp.listenerPath: required by "
                                 "SCMP_ACT_NOTIFY rules");
  if (state_json == NULL)
    return skiff_error (err, EINVAL, "seccomp listener: no container state");
  if (process_state_json (s, state_json, &payload, err) < 0)
    return -1;
  cleanup_close int sock = connect_listener (s->listener_path, err);
  if (sock < 0)
    return -1;
  /* The spec: one state per connection, closed right after. */
  return send_with_fd (sock, notify_fd, payload.s, payload.len, err);
}

bool
seccomp_prog_notifies (const struct seccomp_prog *p)
{
  return p && p->notify;
}

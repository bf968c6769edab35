/* Unit tests of the seccomp translation: profiles are parsed from JSON,
   prepared in the test process (as the runtime does before the clone) and
   installed in a forked child, which reports what its syscalls did through
   its exit status.  The same program linked with seccomp-stub.c checks
   that a build without seccomp refuses a profile. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "build-features.h"
#include "cleanup.h"
#include "fsutil.h"
#include "ocispec.h"
#include "seccomp.h"

/* An errno the kernel never returns for the calls below, so a match is
   the filter's doing. */
#define FILTER_ERRNO 77 /* EBADMSG */

/* -------------------------------------------------------------- helpers */

struct profile
{
  oci_config *config;
  oci_seccomp *s; /* borrowed from config */
};

static struct profile *
parse_profile (const char *seccomp_json)
{
  char *doc = NULL;
  oci_diags diags = { 0 };
  assert_true (asprintf (&doc,
                         "{\"ociVersion\":\"1.0.2\",\"linux\":"
                         "{\"seccomp\":%s}}",
                         seccomp_json)
               > 0);
  struct profile *p = calloc (1, sizeof *p);
  assert_non_null (p);
  p->config = oci_config_parse_data (doc, strlen (doc), NULL, &diags);
  for (size_t i = 0; i < diags.len; i++)
    {
      char *m = oci_diag_format (&diags.items[i]);
      print_error ("%s\n", m);
      free (m);
    }
  oci_diags_free (&diags);
  free (doc);
  assert_non_null (p->config);
  assert_non_null (p->config->linux);
  p->s = p->config->linux->seccomp;
  return p;
}

static void
profile_free (struct profile *p)
{
  oci_config_free (p->config);
  free (p);
}

static struct seccomp_prog *
prepare_ok (const struct profile *p, const char *cache_dir)
{
  skiff_error_t err = NULL;
  struct seccomp_prog *prog = NULL;
  int r = seccomp_prepare (p->s, cache_dir, &prog, &err);
  if (r < 0)
    fail_msg ("seccomp_prepare: %s", err->msg);
  assert_non_null (prog);
  return prog;
}

/* Prepare must fail; returns the message (caller frees). */
static char *
prepare_fails (const struct profile *p, skiff_error_kind kind)
{
  skiff_error_t err = NULL;
  struct seccomp_prog *prog = NULL;
  assert_int_equal (seccomp_prepare (p->s, NULL, &prog, &err), -1);
  assert_null (prog);
  assert_non_null (err);
  assert_int_equal (err->kind, kind);
  char *msg = strdup (err->msg);
  skiff_error_free (&err);
  return msg;
}

static void
assert_contains (const char *haystack, const char *needle)
{
  if (strstr (haystack, needle) == NULL)
    fail_msg ("`%s` does not contain `%s`", haystack, needle);
}

/* What the child does once the filter is in: returns its exit status. */
typedef int (*child_fn) (int notify_fd, void *data);

static void
child_setup (void)
{
  /* TRAP and the kill actions deliver SIGSYS, whose default is a core
     dump; keep the test directory clean. */
  struct rlimit no_core = { 0, 0 };
  setrlimit (RLIMIT_CORE, &no_core);
  /* cmocka catches SIGSYS to report a crashed test; here it must kill. */
  signal (SIGSYS, SIG_DFL);
  prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/* Fork, install prog in the child, run fn there; returns the wait status.
   Exit status 100 means install failed. */
static int
run_child (struct seccomp_prog *prog, child_fn fn, void *data)
{
  fflush (NULL);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      skiff_error_t err = NULL;
      int notify_fd = -1;
      child_setup ();
      if (seccomp_install (prog, &notify_fd, &err) < 0)
        {
          dprintf (2, "install: %s\n", err->msg);
          _exit (100);
        }
      _exit (fn (notify_fd, data));
    }
  int status;
  assert_int_equal (waitpid (pid, &status, 0), pid);
  return status;
}

static int
exit_code (int status)
{
  if (!WIFEXITED (status))
    fail_msg ("child did not exit: status 0x%x (signal %d)", status,
              WIFSIGNALED (status) ? WTERMSIG (status) : 0);
  return WEXITSTATUS (status);
}

/* A syscall and its arguments; the child exits with its errno (0 when it
   succeeded). */
struct call
{
  long nr;
  long a0, a1;
};

static int
do_call (int notify_fd, void *data)
{
  (void)notify_fd;
  const struct call *c = data;
  errno = 0;
  long r = syscall (c->nr, c->a0, c->a1, 0, 0, 0, 0);
  return r < 0 ? errno : 0;
}

/* errno of `nr(a0, a1)` in a child under the profile. */
static int
errno_under (const char *json, long nr, long a0, long a1)
{
  struct profile *p = parse_profile (json);
  struct seccomp_prog *prog = prepare_ok (p, NULL);
  struct call c = { nr, a0, a1 };
  int e = exit_code (run_child (prog, do_call, &c));
  seccomp_prog_free (prog);
  profile_free (p);
  return e;
}

static int
signal_under (const char *json, long nr)
{
  struct profile *p = parse_profile (json);
  struct seccomp_prog *prog = prepare_ok (p, NULL);
  struct call c = { nr, 0, 0 };
  int status = run_child (prog, do_call, &c);
  seccomp_prog_free (prog);
  profile_free (p);
  assert_true (WIFSIGNALED (status));
  return WTERMSIG (status);
}

static char buf_json[4096];

/* Default ALLOW with one rule on getcwd. */
static const char *
one_rule (const char *action_and_more)
{
  snprintf (buf_json, sizeof buf_json,
            "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":"
            "[{\"names\":[\"getcwd\"],%s}]}",
            action_and_more);
  return buf_json;
}

/* -------------------------------------------------------------- actions */

static void
test_errno_default_eperm (void **state)
{
  (void)state;
  assert_int_equal (errno_under (one_rule ("\"action\":\"SCMP_ACT_ERRNO\""), SYS_getcwd, 0, 0),
                    EPERM);
}

static void
test_errno_ret_honored (void **state)
{
  (void)state;
  assert_int_equal (
      errno_under (one_rule ("\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":77"), SYS_getcwd, 0, 0),
      FILTER_ERRNO);
  /* errnoRet 0 fakes success without running the call. */
  assert_int_equal (
      errno_under (one_rule ("\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":0"), SYS_getcwd, 0, 0), 0);
}

static void
test_other_calls_unaffected (void **state)
{
  (void)state;
  assert_int_equal (errno_under (one_rule ("\"action\":\"SCMP_ACT_ERRNO\""), SYS_getppid, 0, 0), 0);
}

static void
test_kill_actions (void **state)
{
  (void)state;
  const char *kills[]
      = { "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP" };
  for (size_t i = 0; i < sizeof kills / sizeof kills[0]; i++)
    {
      char rule[128];
      snprintf (rule, sizeof rule, "\"action\":\"%s\"", kills[i]);
      assert_int_equal (signal_under (one_rule (rule), SYS_getcwd), SIGSYS);
    }
}

static void
test_log_and_allow (void **state)
{
  (void)state;
  assert_int_equal (errno_under (one_rule ("\"action\":\"SCMP_ACT_LOG\""), SYS_getcwd, 0, 0),
                    ERANGE); /* getcwd(NULL, 0) ran: the kernel's own answer */
  /* Default ERRNO, explicit ALLOW for what the child needs (the sanitizer
     runtime's _exit also wants sigaltstack, gettid and friends). */
  const char *json = "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":77,"
                     "\"syscalls\":[{\"names\":[\"exit_group\",\"exit\",\"getppid\","
                     "\"sigaltstack\",\"gettid\",\"write\",\"mmap\",\"munmap\"],"
                     "\"action\":\"SCMP_ACT_ALLOW\"}]}";
  assert_int_equal (errno_under (json, SYS_getppid, 0, 0), 0);
  assert_int_equal (errno_under (json, SYS_getcwd, 0, 0), FILTER_ERRNO);
}

static void
test_default_action_kill (void **state)
{
  (void)state;
  const char *json = "{\"defaultAction\":\"SCMP_ACT_KILL_PROCESS\","
                     "\"syscalls\":[{\"names\":[\"exit_group\",\"exit\"],"
                     "\"action\":\"SCMP_ACT_ALLOW\"}]}";
  assert_int_equal (signal_under (json, SYS_getppid), SIGSYS);
}

static void
test_trace_without_tracer (void **state)
{
  (void)state;
  /* With no tracer attached the kernel fails a traced call with ENOSYS. */
  assert_int_equal (
      errno_under (one_rule ("\"action\":\"SCMP_ACT_TRACE\",\"errnoRet\":5"), SYS_getcwd, 0, 0),
      ENOSYS);
}

static void
test_rule_equal_to_default_skipped (void **state)
{
  (void)state;
  assert_int_equal (errno_under (one_rule ("\"action\":\"SCMP_ACT_ALLOW\""), SYS_getcwd, 0, 0),
                    ERANGE);
}

static void
test_unknown_syscall_skipped (void **state)
{
  (void)state;
  const char *json = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":"
                     "[{\"names\":[\"no_such_syscall\",\"getcwd\"],"
                     "\"action\":\"SCMP_ACT_ERRNO\"}]}";
  assert_int_equal (errno_under (json, SYS_getcwd, 0, 0), EPERM);
}

static void
test_architectures_and_flags (void **state)
{
  (void)state;
  const char *json = "{\"defaultAction\":\"SCMP_ACT_ALLOW\","
                     "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\","
                     "\"SCMP_ARCH_X32\"],"
                     "\"flags\":[\"SECCOMP_FILTER_FLAG_TSYNC\",\"SECCOMP_FILTER_FLAG_LOG\","
                     "\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"],"
                     "\"syscalls\":[{\"names\":[\"getcwd\"],\"action\":\"SCMP_ACT_ERRNO\"}]}";
  assert_int_equal (errno_under (json, SYS_getcwd, 0, 0), EPERM);
}

/* ------------------------------------------------------------------ args */

/* close(fd) with fds that are never open: EBADF unless the filter hits. */
static int
close_errno (const char *op, uint64_t value, uint64_t value_two, long fd)
{
  char json[512];
  snprintf (json, sizeof json,
            "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":"
            "[{\"names\":[\"close\"],\"action\":\"SCMP_ACT_ERRNO\","
            "\"errnoRet\":77,\"args\":[{\"index\":0,\"value\":%llu,"
            "\"valueTwo\":%llu,\"op\":\"%s\"}]}]}",
            (unsigned long long)value, (unsigned long long)value_two, op);
  return errno_under (json, SYS_close, fd, 0);
}

static void
test_arg_ops (void **state)
{
  (void)state;
  struct
  {
    const char *op;
    uint64_t value, two;
    long fd;
    int want;
  } cases[] = {
    { "SCMP_CMP_EQ", 1000, 0, 1000, FILTER_ERRNO },
    { "SCMP_CMP_EQ", 1000, 0, 1001, EBADF },
    { "SCMP_CMP_NE", 1000, 0, 1001, FILTER_ERRNO },
    { "SCMP_CMP_NE", 1000, 0, 1000, EBADF },
    { "SCMP_CMP_LT", 1000, 0, 999, FILTER_ERRNO },
    { "SCMP_CMP_LT", 1000, 0, 1000, EBADF },
    { "SCMP_CMP_LE", 1000, 0, 1000, FILTER_ERRNO },
    { "SCMP_CMP_LE", 1000, 0, 1001, EBADF },
    { "SCMP_CMP_GT", 1000, 0, 1001, FILTER_ERRNO },
    { "SCMP_CMP_GT", 1000, 0, 1000, EBADF },
    { "SCMP_CMP_GE", 1000, 0, 1000, FILTER_ERRNO },
    { "SCMP_CMP_GE", 1000, 0, 999, EBADF },
    /* value is the mask, valueTwo the expected result. */
    { "SCMP_CMP_MASKED_EQ", 0xf0, 0x30, 0x1234, FILTER_ERRNO },
    { "SCMP_CMP_MASKED_EQ", 0xf0, 0x30, 0x1204, EBADF },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      int got = close_errno (cases[i].op, cases[i].value, cases[i].two, cases[i].fd);
      if (got != cases[i].want)
        fail_msg ("%s value=%llu valueTwo=%llu on %ld: errno %d, want %d", cases[i].op,
                  (unsigned long long)cases[i].value, (unsigned long long)cases[i].two, cases[i].fd,
                  got, cases[i].want);
    }
}

static void
test_args_and_or (void **state)
{
  (void)state;
  /* Different indexes: all must hold. */
  const char *and_json = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                         "[\"getpriority\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":77,"
                         "\"args\":[{\"index\":0,\"value\":100,\"op\":\"SCMP_CMP_EQ\"},"
                         "{\"index\":1,\"value\":7,\"op\":\"SCMP_CMP_EQ\"}]}]}";
  assert_int_equal (errno_under (and_json, SYS_getpriority, 100, 7), FILTER_ERRNO);
  assert_int_equal (errno_under (and_json, SYS_getpriority, 100, 8), EINVAL);
  /* One index twice: libseccomp cannot AND them; as runc, any matches. */
  const char *or_json = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                        "[\"close\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":77,"
                        "\"args\":[{\"index\":0,\"value\":1000,\"op\":\"SCMP_CMP_EQ\"},"
                        "{\"index\":0,\"value\":1001,\"op\":\"SCMP_CMP_EQ\"}]}]}";
  assert_int_equal (errno_under (or_json, SYS_close, 1000, 0), FILTER_ERRNO);
  assert_int_equal (errno_under (or_json, SYS_close, 1001, 0), FILTER_ERRNO);
  assert_int_equal (errno_under (or_json, SYS_close, 1002, 0), EBADF);
}

/* ---------------------------------------------------------------- notify */

static int
send_fd (int sock, int fd)
{
  char byte = 'f';
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  memset (&control, 0, sizeof control);
  struct iovec iov = { &byte, 1 };
  struct msghdr msg = { .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = control.buf,
                        .msg_controllen = sizeof control.buf };
  struct cmsghdr *cm = CMSG_FIRSTHDR (&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (cm), &fd, sizeof fd);
  return sendmsg (sock, &msg, 0) == 1 ? 0 : -1;
}

static int
recv_fd (int sock)
{
  char byte;
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { &byte, 1 };
  struct msghdr msg = { .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = control.buf,
                        .msg_controllen = sizeof control.buf };
  if (recvmsg (sock, &msg, MSG_CMSG_CLOEXEC) != 1)
    return -1;
  struct cmsghdr *cm = CMSG_FIRSTHDR (&msg);
  if (cm == NULL || cm->cmsg_type != SCM_RIGHTS)
    return -1;
  int fd;
  memcpy (&fd, CMSG_DATA (cm), sizeof fd);
  return fd;
}

struct notify_child
{
  int sock;
};

/* Hand the listener to the parent, then make the notified call twice:
   the parent answers 4242 first, then EXDEV. */
static int
notify_child_fn (int notify_fd, void *data)
{
  struct notify_child *nc = data;
  if (notify_fd < 0 || send_fd (nc->sock, notify_fd) < 0)
    return 101;
  close (notify_fd);
  long r = syscall (SYS_getppid);
  if (r != 4242)
    return 102;
  r = syscall (SYS_getppid);
  if (r != -1 || errno != EXDEV)
    return 103;
  return 0;
}

static void
answer (int listener, long val, int error)
{
  struct seccomp_notif req;
  memset (&req, 0, sizeof req);
  assert_int_equal (ioctl (listener, SECCOMP_IOCTL_NOTIF_RECV, &req), 0);
  assert_int_equal (req.data.nr, SYS_getppid);
  struct seccomp_notif_resp resp = { .id = req.id, .val = val, .error = error };
  assert_int_equal (ioctl (listener, SECCOMP_IOCTL_NOTIF_SEND, &resp), 0);
}

static void
test_notify (void **state)
{
  (void)state;
  struct profile *p
      = parse_profile ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/unused\","
                       "\"flags\":[\"SECCOMP_FILTER_FLAG_TSYNC\","
                       "\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"],"
                       "\"syscalls\":[{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}");
  struct seccomp_prog *prog = prepare_ok (p, NULL);
  int sv[2];
  assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  struct notify_child nc = { sv[1] };
  fflush (NULL);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      skiff_error_t err = NULL;
      int fd = -1;
      child_setup ();
      if (seccomp_install (prog, &fd, &err) < 0)
        _exit (100);
      _exit (notify_child_fn (fd, &nc));
    }
  cleanup_close int listener = recv_fd (sv[0]);
  assert_true (listener >= 0);
  answer (listener, 4242, 0);
  answer (listener, -1, -EXDEV);
  int status;
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_int_equal (exit_code (status), 0);
  close (sv[0]);
  close (sv[1]);
  seccomp_prog_free (prog);
  profile_free (p);
}

static void
test_install_null (void **state)
{
  (void)state;
  skiff_error_t err = NULL;
  struct seccomp_prog *prog = (struct seccomp_prog *)1;
  assert_int_equal (seccomp_prepare (NULL, NULL, &prog, &err), 0);
  assert_null (prog);
  int fd = 7;
  assert_int_equal (seccomp_install (NULL, &fd, &err), 0);
  assert_int_equal (fd, -1);
  assert_null (err);
}

/* The listener side of the handoff: one connection, the container process
   state as payload, the fd in SCM_RIGHTS. */
static void
test_send_notify_fd (void **state)
{
  (void)state;
  char dir[] = "/tmp/skiff-seccomp-XXXXXX";
  assert_non_null (mkdtemp (dir));
  char path[128], json[512];
  snprintf (path, sizeof path, "%s/agent.sock", dir);
  snprintf (json, sizeof json,
            "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"%s\","
            "\"listenerMetadata\":\"MKNOD=/dev/null\",\"syscalls\":[{\"names\":"
            "[\"getppid\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}",
            path);
  struct profile *p = parse_profile (json);

  cleanup_close int srv = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  memcpy (addr.sun_path, path, strlen (path) + 1);
  assert_int_equal (bind (srv, (struct sockaddr *)&addr, sizeof addr), 0);
  assert_int_equal (listen (srv, 1), 0);

  int pipefd[2];
  assert_int_equal (pipe2 (pipefd, O_CLOEXEC), 0);
  const char *state_json = "{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"status\":\"creating\","
                           "\"pid\":4422,\"bundle\":\"/b\",\"annotations\":{\"k\":\"v\"}}";
  skiff_error_t err = NULL;
  if (seccomp_send_notify_fd (p->s, pipefd[0], state_json, &err) < 0)
    fail_msg ("send: %s", err->msg);

  cleanup_close int conn = accept4 (srv, NULL, NULL, SOCK_CLOEXEC);
  assert_true (conn >= 0);
  char payload[2048] = "";
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { payload, sizeof payload - 1 };
  struct msghdr msg = { .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = control.buf,
                        .msg_controllen = sizeof control.buf };
  ssize_t n = recvmsg (conn, &msg, MSG_CMSG_CLOEXEC);
  assert_true (n > 0);
  struct cmsghdr *cm = CMSG_FIRSTHDR (&msg);
  assert_non_null (cm);
  assert_int_equal (cm->cmsg_type, SCM_RIGHTS);
  int got;
  memcpy (&got, CMSG_DATA (cm), sizeof got);
  /* The received fd is the pipe's read end: write through the other. */
  assert_int_equal (write (pipefd[1], "x", 1), 1);
  char c = 0;
  assert_int_equal (read (got, &c, 1), 1);
  assert_int_equal (c, 'x');
  close (got);
  /* One state per connection: the runtime closed its end. */
  char more;
  assert_int_equal (recv (conn, &more, 1, 0), 0);

  assert_contains (payload, "\"ociVersion\":\"" OCI_SPEC_VERSION "\"");
  assert_contains (payload, "\"fds\":[\"seccompFd\"]");
  assert_contains (payload, "\"pid\":4422");
  assert_contains (payload, "\"metadata\":\"MKNOD=/dev/null\"");
  assert_contains (payload, "\"state\":{\"ociVersion\":\"1.0.2\",\"id\":\"c1\"");
  assert_int_equal (payload[n - 1], '}');

  /* No agent listening: a clear error naming the path. */
  unlink (path);
  assert_int_equal (seccomp_send_notify_fd (p->s, pipefd[0], state_json, &err), -1);
  assert_contains (err->msg, path);
  skiff_error_free (&err);
  close (pipefd[0]);
  close (pipefd[1]);
  rmdir (dir);
  profile_free (p);
}

/* ---------------------------------------------------------------- errors */

static void
set_string (char **field, const char *value)
{
  free (*field);
  *field = strdup (value);
}

static void
expect_error (struct profile *p, skiff_error_kind kind, const char *path, const char *detail)
{
  char *msg = prepare_fails (p, kind);
  assert_contains (msg, path);
  if (detail)
    assert_contains (msg, detail);
  free (msg);
  profile_free (p);
}

static const char *rule_with_arg
    = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":"
      "[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],\"flags\":"
      "[\"SECCOMP_FILTER_FLAG_LOG\"],\"syscalls\":[{\"names\":[\"getcwd\"],"
      "\"action\":\"SCMP_ACT_ERRNO\"},{\"names\":[\"close\"],"
      "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":1,"
      "\"op\":\"SCMP_CMP_EQ\"}]}]}";

/* The parser already refuses names outside the runtime-spec's lists; a
   struct built by other code (or a newer spec) may still carry them. */
static void
test_error_unknown_names (void **state)
{
  (void)state;
  struct profile *p = parse_profile (rule_with_arg);
  set_string (&p->s->syscalls[1]->action, "SCMP_ACT_FOO");
  expect_error (p, SKIFF_ERR_INVALID_CONFIG, "linux.seccomp.syscalls[1].action", "SCMP_ACT_FOO");

  p = parse_profile (rule_with_arg);
  set_string (&p->s->default_action, "SCMP_ACT_BAR");
  expect_error (p, SKIFF_ERR_INVALID_CONFIG, "linux.seccomp.defaultAction", "SCMP_ACT_BAR");

  p = parse_profile (rule_with_arg);
  set_string (&p->s->architectures[1], "SCMP_ARCH_VAX");
  expect_error (p, SKIFF_ERR_INVALID_CONFIG, "linux.seccomp.architectures[1]", "SCMP_ARCH_VAX");

  p = parse_profile (rule_with_arg);
  set_string (&p->s->syscalls[1]->args[0]->op, "SCMP_CMP_ALMOST");
  expect_error (p, SKIFF_ERR_INVALID_CONFIG, "linux.seccomp.syscalls[1].args[0].op",
                "SCMP_CMP_ALMOST");

  p = parse_profile (rule_with_arg);
  set_string (&p->s->flags[0], "SECCOMP_FILTER_FLAG_MAGIC");
  expect_error (p, SKIFF_ERR_INVALID_CONFIG, "linux.seccomp.flags[0]", "SECCOMP_FILTER_FLAG_MAGIC");
}

static void
test_error_values (void **state)
{
  (void)state;
  expect_error (parse_profile (one_rule ("\"action\":\"SCMP_ACT_KILL\",\"errnoRet\":1")),
                SKIFF_ERR_INVALID_CONFIG, "linux.seccomp.syscalls[0].errnoRet", "SCMP_ACT_KILL");
  expect_error (parse_profile ("{\"defaultAction\":\"SCMP_ACT_ALLOW\","
                               "\"defaultErrnoRet\":1}"),
                SKIFF_ERR_INVALID_CONFIG, "linux.seccomp.defaultErrnoRet", NULL);
  expect_error (parse_profile (one_rule ("\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":5000")),
                SKIFF_ERR_INVALID_CONFIG, "linux.seccomp.syscalls[0].errnoRet", "out of range");
  expect_error (parse_profile (one_rule ("\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":6,"
                                         "\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]")),
                SKIFF_ERR_INVALID_CONFIG, "linux.seccomp.syscalls[0].args[0].index", NULL);
  expect_error (parse_profile ("{\"defaultAction\":\"SCMP_ACT_ALLOW\","
                               "\"syscalls\":[{\"names\":[],"
                               "\"action\":\"SCMP_ACT_ERRNO\"}]}"),
                SKIFF_ERR_INVALID_CONFIG, "linux.seccomp.syscalls[0].names", NULL);
}

static void
test_error_notify (void **state)
{
  (void)state;
  expect_error (parse_profile (one_rule ("\"action\":\"SCMP_ACT_NOTIFY\"")),
                SKIFF_ERR_INVALID_CONFIG, "linux.seccomp.listenerPath", NULL);
  expect_error (parse_profile ("{\"defaultAction\":\"SCMP_ACT_ALLOW\","
                               "\"listenerMetadata\":\"x\"}"),
                SKIFF_ERR_INVALID_CONFIG, "linux.seccomp.listenerMetadata", NULL);
  expect_error (parse_profile ("{\"defaultAction\":\"SCMP_ACT_NOTIFY\","
                               "\"listenerPath\":\"/x\"}"),
                SKIFF_ERR_INVALID_CONFIG, "linux.seccomp.defaultAction", NULL);
  expect_error (parse_profile ("{\"defaultAction\":\"SCMP_ACT_ALLOW\","
                               "\"listenerPath\":\"/x\",\"syscalls\":"
                               "[{\"names\":[\"getpid\",\"sendmsg\"],"
                               "\"action\":\"SCMP_ACT_NOTIFY\"}]}"),
                SKIFF_ERR_INVALID_CONFIG, "linux.seccomp.syscalls[0].names[1]", "sendmsg");
}

/* ----------------------------------------------------------------- cache */

struct cache_dir
{
  char root[64];
  char path[96];
};

static void
cache_dir_init (struct cache_dir *c)
{
  snprintf (c->root, sizeof c->root, "/tmp/skiff-seccomp-XXXXXX");
  assert_non_null (mkdtemp (c->root));
  snprintf (c->path, sizeof c->path, "%s/seccomp-cache", c->root);
}

static void
cache_dir_remove (struct cache_dir *c)
{
  skiff_error_t err = NULL;
  assert_int_equal (remove_tree_at (AT_FDCWD, c->root, &err), 0);
}

/* The single .bpf file of the cache: its path and stat. */
static int
cache_entries (const struct cache_dir *c, char *file, size_t size, struct stat *st)
{
  cleanup_closedir DIR *d = opendir (c->path);
  assert_non_null (d);
  int n = 0;
  struct dirent *de;
  while ((de = readdir (d)))
    {
      if (de->d_name[0] == '.')
        continue;
      n++;
      snprintf (file, size, "%s/%s", c->path, de->d_name);
      assert_int_equal (stat (file, st), 0);
    }
  return n;
}

static void
assert_denies_getcwd (struct seccomp_prog *prog)
{
  struct call c = { SYS_getcwd, 0, 0 };
  assert_int_equal (exit_code (run_child (prog, do_call, &c)), EPERM);
}

static void
overwrite (const char *file, const void *data, size_t len, off_t at)
{
  cleanup_close int fd = open (file, O_WRONLY | O_CLOEXEC);
  assert_true (fd >= 0);
  assert_int_equal (pwrite (fd, data, len, at), (ssize_t)len);
}

static void
test_cache_hit (void **state)
{
  (void)state;
  struct cache_dir c;
  cache_dir_init (&c);
  struct profile *p = parse_profile (one_rule ("\"action\":\"SCMP_ACT_ERRNO\""));
  struct seccomp_prog *prog = prepare_ok (p, c.path);
  seccomp_prog_free (prog);

  struct stat dir_st, st1, st2;
  char file[512];
  assert_int_equal (stat (c.path, &dir_st), 0);
  assert_int_equal (dir_st.st_mode & 07777, 0700);
  assert_int_equal (cache_entries (&c, file, sizeof file, &st1), 1);
  assert_int_equal (st1.st_size % 8, 0);

  /* A hit reads the file and leaves it alone (a rewrite is a new inode). */
  prog = prepare_ok (p, c.path);
  assert_int_equal (cache_entries (&c, file, sizeof file, &st2), 1);
  assert_int_equal (st1.st_ino, st2.st_ino);
  assert_denies_getcwd (prog);
  seccomp_prog_free (prog);

  /* The same profile spelled differently is the same entry. */
  profile_free (p);
  p = parse_profile (one_rule ("\"errnoRet\":1,  \"action\":\"SCMP_ACT_ERRNO\""));
  seccomp_prog_free (prepare_ok (p, c.path));
  assert_int_equal (cache_entries (&c, file, sizeof file, &st2), 1);
  assert_int_equal (st1.st_ino, st2.st_ino);

  /* Another profile, another entry. */
  profile_free (p);
  p = parse_profile (one_rule ("\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":2"));
  seccomp_prog_free (prepare_ok (p, c.path));
  assert_int_equal (cache_entries (&c, file, sizeof file, &st2), 2);
  profile_free (p);
  cache_dir_remove (&c);
}

static void
test_cache_corrupt_rewritten (void **state)
{
  (void)state;
  struct cache_dir c;
  cache_dir_init (&c);
  struct profile *p = parse_profile (one_rule ("\"action\":\"SCMP_ACT_ERRNO\""));
  seccomp_prog_free (prepare_ok (p, c.path));
  struct stat good, st;
  char file[512];
  assert_int_equal (cache_entries (&c, file, sizeof file, &good), 1);

  /* Damage that keeps the size (a flipped byte in the program), a bad
     magic, a truncation, garbage: each is a miss and gets rewritten. */
  const struct
  {
    const char *what;
    off_t at;
  } damage[] = { { "\xff", -9 }, { "XX", 0 }, { NULL, 13 }, { NULL, 0 } };
  for (size_t i = 0; i < sizeof damage / sizeof damage[0]; i++)
    {
      assert_int_equal (cache_entries (&c, file, sizeof file, &st), 1);
      ino_t before = st.st_ino;
      if (damage[i].what)
        overwrite (file, damage[i].what, strlen (damage[i].what),
                   damage[i].at < 0 ? st.st_size + damage[i].at : damage[i].at);
      else
        assert_int_equal (truncate (file, damage[i].at), 0);
      struct seccomp_prog *prog = prepare_ok (p, c.path);
      assert_denies_getcwd (prog);
      seccomp_prog_free (prog);
      assert_int_equal (cache_entries (&c, file, sizeof file, &st), 1);
      assert_true (st.st_ino != before);
      assert_int_equal (st.st_size, good.st_size);
    }
  profile_free (p);
  cache_dir_remove (&c);
}

static void
test_cache_dir_not_private (void **state)
{
  (void)state;
  struct cache_dir c;
  cache_dir_init (&c);
  assert_int_equal (mkdir (c.path, 0777), 0);
  assert_int_equal (chmod (c.path, 0777), 0);
  struct profile *p = parse_profile (one_rule ("\"action\":\"SCMP_ACT_ERRNO\""));
  struct seccomp_prog *prog = prepare_ok (p, c.path);
  assert_denies_getcwd (prog);
  seccomp_prog_free (prog);
  struct stat st;
  char file[512];
  assert_int_equal (cache_entries (&c, file, sizeof file, &st), 0);
  profile_free (p);
  cache_dir_remove (&c);
}

static double
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The functional suite's default profile: compiles, loads, and a cache hit
   is much cheaper than the compile. */
static void
test_default_profile (void **state)
{
  (void)state;
  const char *srcdir = getenv ("srcdir");
  char path[512];
  snprintf (path, sizeof path, "%s/functional/fixtures/seccomp-default.json",
            srcdir ? srcdir : ".");
  cleanup_free char *json = NULL;
  skiff_error_t err = NULL;
  if (read_file_at (AT_FDCWD, path, &json, NULL, &err) < 0)
    {
      skiff_error_free (&err);
      skip ();
    }
  struct profile *p = parse_profile (json);
  struct cache_dir c;
  cache_dir_init (&c);
  double t0 = now_ms ();
  struct seccomp_prog *prog = prepare_ok (p, c.path);
  double t1 = now_ms ();
  seccomp_prog_free (prog);
  prog = prepare_ok (p, c.path);
  double t2 = now_ms ();
  print_message ("default profile: compile %.2f ms, cache hit %.2f ms\n", t1 - t0, t2 - t1);
  struct call ok = { SYS_getppid, 0, 0 };
  assert_int_equal (exit_code (run_child (prog, do_call, &ok)), 0);
  struct call denied = { SYS_acct, 0, 0 };
  assert_int_equal (exit_code (run_child (prog, do_call, &denied)), EPERM);
  seccomp_prog_free (prog);
  profile_free (p);
  cache_dir_remove (&c);
}

/* ------------------------------------------------------------------ stub */

static void
test_stub_refuses (void **state)
{
  (void)state;
  struct profile *p = parse_profile (one_rule ("\"action\":\"SCMP_ACT_ERRNO\""));
  char *msg = prepare_fails (p, SKIFF_ERR_UNSUPPORTED);
  assert_contains (msg, "linux.seccomp");
  assert_contains (msg, "without seccomp");
  free (msg);
  profile_free (p);
  skiff_error_t err = NULL;
  struct seccomp_prog *prog = NULL;
  assert_int_equal (seccomp_prepare (NULL, NULL, &prog, &err), 0);
  assert_null (prog);
}

int
main (void)
{
  const struct CMUnitTest stub[] = {
    cmocka_unit_test (test_stub_refuses),
  };
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_errno_default_eperm),
    cmocka_unit_test (test_errno_ret_honored),
    cmocka_unit_test (test_other_calls_unaffected),
    cmocka_unit_test (test_kill_actions),
    cmocka_unit_test (test_log_and_allow),
    cmocka_unit_test (test_default_action_kill),
    cmocka_unit_test (test_trace_without_tracer),
    cmocka_unit_test (test_rule_equal_to_default_skipped),
    cmocka_unit_test (test_unknown_syscall_skipped),
    cmocka_unit_test (test_architectures_and_flags),
    cmocka_unit_test (test_arg_ops),
    cmocka_unit_test (test_args_and_or),
    cmocka_unit_test (test_notify),
    cmocka_unit_test (test_install_null),
    cmocka_unit_test (test_send_notify_fd),
    cmocka_unit_test (test_error_unknown_names),
    cmocka_unit_test (test_error_values),
    cmocka_unit_test (test_error_notify),
    cmocka_unit_test (test_cache_hit),
    cmocka_unit_test (test_cache_corrupt_rewritten),
    cmocka_unit_test (test_cache_dir_not_private),
    cmocka_unit_test (test_default_profile),
  };
  /* Linked with seccomp-stub.c (or built with --disable-seccomp) the
     program checks the refusal instead. */
  if (skiff_feature_seccomp[0] == '-')
    return cmocka_run_group_tests_name ("seccomp-stub", stub, NULL, NULL);
  return cmocka_run_group_tests_name ("seccomp", tests, NULL, NULL);
}

/* skiff-init: a static multi-call helper that runs inside test containers
   and reports what the container sees.

   Build:  gcc -static -O2 -Wall -Wextra -o init tests/init.c
           (or `make -C tests init`).  C11 + POSIX/Linux headers only.

   Invocation:  init SUBCOMMAND [ARGS...]
   If the program is invoked through a name that is itself a subcommand
   (a symlink `ns -> init`), argv[0] selects the subcommand instead.

   Output format (stdout, line buffered):
     Every report is a sequence of `key=value` lines; a value runs to the end
     of the line and never contains a newline (multi-line sources such as
     uid_map are joined with ';' and runs of blanks collapsed to one space).
     List values are comma separated.  The exceptions print a file verbatim:
     `mounts` (/proc/self/mountinfo), `cgroup` (/proc/self/cgroup), `env`
     (one NAME=VALUE per line, which is the same format) and `read` (the
     file's bytes).
   Failures:
     A subcommand that tries an operation prints `errno=NAME` (`errno=0` on
     success; NAME is the symbolic errno such as EPERM, or a number when
     unknown) and exits 0 when the operation succeeded, 1 when it failed.
     Usage errors print `usage: ...` on stderr and exit 2.

   Subcommands:
     ns            ns.<name>=<inode> for each link in /proc/self/ns
     ids           uid euid suid fsuid gid egid sgid fsgid groups uid_map
                   gid_map setgroups
     caps          CapInh CapPrm CapEff CapBnd CapAmb (hex, from status)
     status        NoNewPrivs Seccomp Seccomp_filters
     rlimits       RLIMIT_<NAME>=<soft> <hard> (numbers or "unlimited")
     hostname      hostname domainname
     fds           fds=<list>, fd.<n>=<readlink target> for every open fd
     cwd           cwd=<getcwd()>
     env           the environment, one NAME=VALUE per line
     keyring       keyring.id keyring.name of the session keyring
     mounts        /proc/self/mountinfo verbatim
     umask         umask=<octal>
     oom           oom_score_adj=<n>
     tty           isatty.<n> ttyname.<n> for 0..2, sid pgrp tty_nr
                   dev_tty (errno of open("/dev/tty")), foreground pgrp,
                   winsize, console (type and rdev of /dev/console)
     sysctl NAME   <NAME>=<value of /proc/sys/NAME with dots as slashes>
     cgroup        /proc/self/cgroup verbatim
     personality   personality=0x<hex>
     ioprio        ioprio_class=<n> ioprio_level=<n>
     mempolicy     mode=<MPOL_*> flags=<MPOL_F_* list> nodes=<node list>
                   mems_allowed=<node list> (get_mempolicy(2)); errno=
     sched         policy=<name> priority=<n> nice=<n>
     affinity      affinity=<cpu list>
     pid           pid ppid pgid sid
     sigmask       SigBlk SigIgn SigCgt (hex, from status)
     sleep N       sleep N seconds (fractions allowed), then exit 0
     exit N        exit with status N
     kill-self SIG raise SIG (name like TERM/SIGTERM or number) with the
                   default action; note that pid 1 of a pid namespace cannot
                   kill itself this way (the kernel ignores it), in which
                   case it prints `errno=ESRCH` and exits 1
     write FILE TEXT  create/truncate FILE and write TEXT; errno=
     append FILE TEXT append TEXT (plus newline) to FILE; errno=
     read FILE     print FILE's content, or errno= and exit 1
     stat PATH     type mode uid gid size ino nlink rdev (lstat); errno=
     mkdir PATH    errno=
     fork-bomb N   try N forks; forked=<successes> errno=<first failure>
     hog BYTES     allocate and touch BYTES (suffix k/m/g), then print
                   hogged=BYTES and exit 0
     sigwait       block all signals, print `ready`, then print
                   `signal=<NAME>` for each one received; exit 0 after TERM
     ready         print `ready`, then pause forever
     syscall NAME [ARG]  try a system call; errno=.  Known names: getcwd,
                   getpid, mkdir, rmdir, chmod, chdir, unshare, keyctl,
                   add_key, ptrace, mount, umount2, sethostname, setns,
                   personality, socket, kill, reboot, swapon, uname, chroot,
                   setuid, setgid, mknod, clock_settime, acct
     notify-ready  send READY=1 to $NOTIFY_SOCKET; errno=
*/
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- names */

struct name_num
{
  const char *name;
  int num;
};

/* clang-format off */
#define E(x) { #x, x }
/* clang-format on */
static const struct name_num errno_names[] = {
  E (EPERM),        E (ENOENT),          E (ESRCH),      E (EINTR),        E (EIO),
  E (ENXIO),        E (E2BIG),           E (ENOEXEC),    E (EBADF),        E (ECHILD),
  E (EAGAIN),       E (ENOMEM),          E (EACCES),     E (EFAULT),       E (ENOTBLK),
  E (EBUSY),        E (EEXIST),          E (EXDEV),      E (ENODEV),       E (ENOTDIR),
  E (EISDIR),       E (EINVAL),          E (ENFILE),     E (EMFILE),       E (ENOTTY),
  E (ETXTBSY),      E (EFBIG),           E (ENOSPC),     E (ESPIPE),       E (EROFS),
  E (EMLINK),       E (EPIPE),           E (EDOM),       E (ERANGE),       E (EDEADLK),
  E (ENAMETOOLONG), E (ENOLCK),          E (ENOSYS),     E (ENOTEMPTY),    E (ELOOP),
  E (ENOMSG),       E (EOVERFLOW),       E (EOPNOTSUPP), E (EAFNOSUPPORT), E (EADDRINUSE),
  E (ECONNREFUSED), E (ENOTCONN),        E (ETIMEDOUT),  E (EDQUOT),       E (EKEYREJECTED),
  E (ENOKEY),       E (EPROTONOSUPPORT),
};

static const struct name_num signal_names[] = {
  E (SIGHUP),  E (SIGINT),    E (SIGQUIT), E (SIGILL),  E (SIGTRAP),   E (SIGABRT), E (SIGBUS),
  E (SIGFPE),  E (SIGKILL),   E (SIGUSR1), E (SIGSEGV), E (SIGUSR2),   E (SIGPIPE), E (SIGALRM),
  E (SIGTERM), E (SIGSTKFLT), E (SIGCHLD), E (SIGCONT), E (SIGSTOP),   E (SIGTSTP), E (SIGTTIN),
  E (SIGTTOU), E (SIGURG),    E (SIGXCPU), E (SIGXFSZ), E (SIGVTALRM), E (SIGPROF), E (SIGWINCH),
  E (SIGIO),   E (SIGPWR),    E (SIGSYS),
};
#undef E

#define COUNT(a) (sizeof (a) / sizeof ((a)[0]))

static const char *
errno_name (int e)
{
  static char buf[16];
  if (e == 0)
    return "0";
  for (size_t i = 0; i < COUNT (errno_names); i++)
    if (errno_names[i].num == e)
      return errno_names[i].name;
  snprintf (buf, sizeof buf, "%d", e);
  return buf;
}

static const char *
signal_name (int s)
{
  static char buf[32];
  for (size_t i = 0; i < COUNT (signal_names); i++)
    if (signal_names[i].num == s)
      return signal_names[i].name;
  if (s >= SIGRTMIN && s <= SIGRTMAX)
    snprintf (buf, sizeof buf, "SIGRTMIN+%d", s - SIGRTMIN);
  else
    snprintf (buf, sizeof buf, "%d", s);
  return buf;
}

static int
parse_signal (const char *s)
{
  char *end;
  long n = strtol (s, &end, 10);
  if (*s && *end == '\0')
    return (int)n;
  for (size_t i = 0; i < COUNT (signal_names); i++)
    {
      const char *name = signal_names[i].name;
      if (strcasecmp (s, name) == 0 || strcasecmp (s, name + 3) == 0)
        return signal_names[i].num;
    }
  return -1;
}

/* ------------------------------------------------------------- helpers */

static void __attribute__ ((noreturn)) usage (const char *fmt, ...)
{
  va_list ap;
  fputs ("usage: ", stderr);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
  exit (2);
}

/* Print errno=NAME and return the exit status for it. */
static int
report_errno (int e)
{
  printf ("errno=%s\n", errno_name (e));
  return e ? 1 : 0;
}

/* Read a whole (small, procfs) file into a static buffer.  Returns NULL and
   sets errno on failure. */
static char *
slurp (const char *path, size_t *len_out)
{
  static char *buf;
  static size_t cap;
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  size_t len = 0;
  for (;;)
    {
      if (cap - len < 4096)
        {
          size_t ncap = cap ? cap * 2 : 65536;
          char *n = realloc (buf, ncap);
          if (!n)
            {
              close (fd);
              errno = ENOMEM;
              return NULL;
            }
          buf = n;
          cap = ncap;
        }
      ssize_t r = read (fd, buf + len, cap - len - 1);
      if (r < 0)
        {
          if (errno == EINTR)
            continue;
          int e = errno;
          close (fd);
          errno = e;
          return NULL;
        }
      if (r == 0)
        break;
      len += (size_t)r;
    }
  close (fd);
  buf[len] = '\0';
  if (len_out)
    *len_out = len;
  return buf;
}

static int
print_file_verbatim (const char *path)
{
  size_t len;
  char *s = slurp (path, &len);
  if (!s)
    return report_errno (errno);
  fwrite (s, 1, len, stdout);
  return 0;
}

/* Print `key=value` for the lines of /proc/self/status named in keys. */
static int
print_status_fields (const char *const *keys)
{
  char *s = slurp ("/proc/self/status", NULL);
  if (!s)
    return report_errno (errno);
  for (char *line = strtok (s, "\n"); line; line = strtok (NULL, "\n"))
    {
      char *colon = strchr (line, ':');
      if (!colon)
        continue;
      *colon = '\0';
      for (size_t i = 0; keys[i]; i++)
        if (strcmp (line, keys[i]) == 0)
          {
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
              v++;
            printf ("%s=%s\n", line, v);
          }
    }
  return 0;
}

/* Print key=<file content> with newlines turned into ';' and blank runs
   collapsed. */
static void
print_flattened (const char *key, const char *path)
{
  char *s = slurp (path, NULL);
  if (!s)
    {
      printf ("%s=errno:%s\n", key, errno_name (errno));
      return;
    }
  printf ("%s=", key);
  int in_blank = 0, at_start = 1;
  size_t n = strlen (s);
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
    s[--n] = '\0';
  for (char *p = s; *p; p++)
    {
      if (*p == '\n')
        {
          putchar (';');
          in_blank = 0;
          at_start = 1;
        }
      else if (*p == ' ' || *p == '\t')
        {
          if (!in_blank && !at_start)
            putchar (' ');
          in_blank = 1;
        }
      else
        {
          putchar (*p);
          in_blank = 0;
          at_start = 0;
        }
    }
  putchar ('\n');
}

static long long
parse_size (const char *s)
{
  char *end;
  errno = 0;
  double v = strtod (s, &end);
  if (errno || end == s || v < 0)
    usage ("bad size '%s'", s);
  switch (tolower ((unsigned char)*end))
    {
    case 'k':
      v *= 1024;
      break;
    case 'm':
      v *= 1024 * 1024;
      break;
    case 'g':
      v *= 1024.0 * 1024 * 1024;
      break;
    case '\0':
      break;
    default:
      usage ("bad size suffix in '%s'", s);
    }
  return (long long)v;
}

/* --------------------------------------------------------- subcommands */

static int
skip_dots (const struct dirent *de)
{
  return de->d_name[0] != '.';
}

static int
cmd_ns (int argc, char **argv)
{
  (void)argc;
  (void)argv;
  int dfd = open ("/proc/self/ns", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return report_errno (errno);
  struct dirent **names;
  int n = scandir ("/proc/self/ns", &names, skip_dots, alphasort);
  if (n < 0)
    return report_errno (errno);
  for (int i = 0; i < n; i++)
    {
      struct stat st;
      if (fstatat (dfd, names[i]->d_name, &st, 0) < 0)
        printf ("ns.%s=errno:%s\n", names[i]->d_name, errno_name (errno));
      else
        printf ("ns.%s=%llu\n", names[i]->d_name, (unsigned long long)st.st_ino);
      free (names[i]);
    }
  free (names);
  close (dfd);
  return 0;
}

static int
cmd_ids (int argc, char **argv)
{
  (void)argc;
  (void)argv;
  uid_t ru, eu, su;
  gid_t rg, eg, sg;
  getresuid (&ru, &eu, &su);
  getresgid (&rg, &eg, &sg);
  printf ("uid=%u\neuid=%u\nsuid=%u\n", ru, eu, su);
  printf ("gid=%u\negid=%u\nsgid=%u\n", rg, eg, sg);
  gid_t groups[NGROUPS_MAX];
  int ng = getgroups (NGROUPS_MAX, groups);
  printf ("groups=");
  for (int i = 0; i < ng; i++)
    printf ("%s%u", i ? "," : "", groups[i]);
  putchar ('\n');
  print_flattened ("uid_map", "/proc/self/uid_map");
  print_flattened ("gid_map", "/proc/self/gid_map");
  print_flattened ("setgroups", "/proc/self/setgroups");
  return 0;
}

static int
cmd_caps (int argc, char **argv)
{
  (void)argc;
  (void)argv;
  static const char *const keys[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", NULL };
  return print_status_fields (keys);
}

static int
cmd_status (int argc, char **argv)
{
  (void)argc;
  (void)argv;
  static const char *const keys[] = { "NoNewPrivs", "Seccomp", "Seccomp_filters", NULL };
  return print_status_fields (keys);
}

static int
cmd_sigmask (int argc, char **argv)
{
  (void)argc;
  (void)argv;
  static const char *const keys[] = { "SigBlk", "SigIgn", "SigCgt", NULL };
  return print_status_fields (keys);
}

static int
cmd_rlimits (int argc, char **argv)
{
  (void)argc;
  (void)argv;
  static const struct name_num limits[] = {
    { "RLIMIT_AS", RLIMIT_AS },
    { "RLIMIT_CORE", RLIMIT_CORE },
    { "RLIMIT_CPU", RLIMIT_CPU },
    { "RLIMIT_DATA", RLIMIT_DATA },
    { "RLIMIT_FSIZE", RLIMIT_FSIZE },
    { "RLIMIT_LOCKS", RLIMIT_LOCKS },
    { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
    { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
    { "RLIMIT_NICE", RLIMIT_NICE },
    { "RLIMIT_NOFILE", RLIMIT_NOFILE },
    { "RLIMIT_NPROC", RLIMIT_NPROC },
    { "RLIMIT_RSS", RLIMIT_RSS },
    { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
    { "RLIMIT_RTTIME", RLIMIT_RTTIME },
    { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
    { "RLIMIT_STACK", RLIMIT_STACK },
  };
  for (size_t i = 0; i < COUNT (limits); i++)
    {
      struct rlimit rl;
      if (getrlimit ((__rlimit_resource_t)limits[i].num, &rl) < 0)
        {
          printf ("%s=errno:%s\n", limits[i].name, errno_name (errno));
          continue;
        }
      printf ("%s=", limits[i].name);
      if (rl.rlim_cur == RLIM_INFINITY)
        printf ("unlimited ");
      else
        printf ("%llu ", (unsigned long long)rl.rlim_cur);
      if (rl.rlim_max == RLIM_INFINITY)
        printf ("unlimited\n");
      else
        printf ("%llu\n", (unsigned long long)rl.rlim_max);
    }
  return 0;
}

static int
cmd_hostname (int argc, char **argv)
{
  (void)argc;
  (void)argv;
  struct utsname u;
  if (uname (&u) < 0)
    return report_errno (errno);
  printf ("hostname=%s\ndomainname=%s\n", u.nodename, u.domainname);
  return 0;
}

static int
cmd_fds (int argc, char **argv)
{
  (void)argc;
  (void)argv;
  DIR *d = opendir ("/proc/self/fd");
  if (!d)
    return report_errno (errno);
  int self = dirfd (d);
  int fds[1024];
  int n = 0;
  struct dirent *de;
  while ((de = readdir (d)) && n < 1024)
    {
      if (de->d_name[0] == '.')
        continue;
      int fd = atoi (de->d_name);
      if (fd == self)
        continue;
      fds[n++] = fd;
    }
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++)
      if (fds[i] > fds[j])
        {
          int t = fds[i];
          fds[i] = fds[j];
          fds[j] = t;
        }
  printf ("fds=");
  for (int i = 0; i < n; i++)
    printf ("%s%d", i ? "," : "", fds[i]);
  putchar ('\n');
  for (int i = 0; i < n; i++)
    {
      char path[64], target[PATH_MAX];
      snprintf (path, sizeof path, "/proc/self/fd/%d", fds[i]);
      ssize_t r = readlink (path, target, sizeof target - 1);
      if (r < 0)
        snprintf (target, sizeof target, "errno:%s", errno_name (errno));
      else
        target[r] = '\0';
      printf ("fd.%d=%s\n", fds[i], target);
    }
  closedir (d);
  return 0;
}

static int
cmd_cwd (int argc, char **argv)
{
  (void)argc;
  (void)argv;
  char buf[PATH_MAX];
  if (!getcwd (buf, sizeof buf))
    return report_errno (errno);
  printf ("cwd=%s\n", buf);
  return 0;
}

/* The session keyring: its serial and description ("keyring;uid;gid;perm;name"). */
static int
cmd_keyring (int argc, char **argv)
{
  (void)argc;
  (void)argv;
  char desc[512];
  long id = syscall (SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0);
  if (id < 0)
    return report_errno (errno);
  long n = syscall (SYS_keyctl, 6 /* KEYCTL_DESCRIBE */, id, desc, sizeof desc);
  if (n < 0)
    return report_errno (errno);
  desc[sizeof desc - 1] = '\0';
  const char *name = strrchr (desc, ';');
  printf ("keyring.id=%ld\nkeyring.name=%s\n", id, name ? name + 1 : desc);
  return 0;
}

static int
cmd_env (int argc, char **argv)
{
  (void)argc;
  (void)argv;
  extern char **environ;
  for (char **e = environ; e && *e; e++)
    printf ("%s\n", *e);
  return 0;
}

static int
cmd_mounts (int argc, char **argv)
{
  (void)argc;
  (void)argv;
  return print_file_verbatim ("/proc/self/mountinfo");
}

static int
cmd_cgroup (int argc, char **argv)
{
  (void)argc;
  (void)argv;
  return print_file_verbatim ("/proc/self/cgroup");
}

static int
cmd_umask (int argc, char **argv)
{
  (void)argc;
  (void)argv;
  mode_t m = umask (0);
  umask (m);
  printf ("umask=%04o\n", (unsigned)m);
  return 0;
}

static int
cmd_oom (int argc, char **argv)
{
  (void)argc;
  (void)argv;
  char *s = slurp ("/proc/self/oom_score_adj", NULL);
  if (!s)
    return report_errno (errno);
  printf ("oom_score_adj=%ld\n", strtol (s, NULL, 10));
  return 0;
}

static int
cmd_tty (int argc, char **argv)
{
  (void)argc;
  (void)argv;
  for (int fd = 0; fd < 3; fd++)
    {
      int t = isatty (fd);
      printf ("isatty.%d=%d\n", fd, t);
      if (t)
        {
          char *name = ttyname (fd);
          printf ("ttyname.%d=%s\n", fd, name ? name : "?");
        }
    }
  printf ("sid=%d\npgrp=%d\n", (int)getsid (0), (int)getpgrp ());
  /* Field 7 of /proc/self/stat: controlling terminal device number. */
  char *st = slurp ("/proc/self/stat", NULL);
  if (st)
    {
      char *p = strrchr (st, ')');
      int field = 2;
      while (p && *p && field < 7)
        {
          p = strchr (p + 1, ' ');
          if (p)
            field++;
        }
      if (p)
        {
          unsigned long nr = strtoul (p + 1, NULL, 10);
          printf ("tty_nr=%lu\n", nr);
          printf ("tty_dev=%u:%u\n", major (nr), minor (nr));
        }
    }
  int fd = open ("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  printf ("dev_tty=%s\n", fd >= 0 ? "0" : errno_name (errno));
  if (fd >= 0)
    {
      printf ("foreground=%d\n", (int)tcgetpgrp (fd));
      close (fd);
    }
  struct winsize ws;
  if (ioctl (0, TIOCGWINSZ, &ws) == 0)
    printf ("winsize=%u %u\n", ws.ws_row, ws.ws_col);
  struct stat cs;
  if (stat ("/dev/console", &cs) < 0)
    printf ("console=errno:%s\n", errno_name (errno));
  else
    printf ("console=%s %u:%u\n",
            S_ISCHR (cs.st_mode)   ? "char"
            : S_ISREG (cs.st_mode) ? "file"
                                   : "other",
            major (cs.st_rdev), minor (cs.st_rdev));
  return 0;
}

static int
cmd_sysctl (int argc, char **argv)
{
  if (argc < 2)
    usage ("sysctl NAME");
  char path[PATH_MAX];
  snprintf (path, sizeof path, "/proc/sys/%s", argv[1]);
  for (char *p = path + strlen ("/proc/sys/"); *p; p++)
    if (*p == '.')
      *p = '/';
  char *s = slurp (path, NULL);
  if (!s)
    return report_errno (errno);
  size_t n = strlen (s);
  while (n > 0 && s[n - 1] == '\n')
    s[--n] = '\0';
  for (char *p = s; *p; p++)
    if (*p == '\n' || *p == '\t')
      *p = ' ';
  printf ("%s=%s\n", argv[1], s);
  return 0;
}

static int
cmd_personality (int argc, char **argv)
{
  (void)argc;
  (void)argv;
  int p = personality (0xffffffff);
  if (p < 0)
    return report_errno (errno);
  printf ("personality=0x%x\n", (unsigned)p);
  return 0;
}

static int
cmd_ioprio (int argc, char **argv)
{
  (void)argc;
  (void)argv;
  /* IOPRIO_WHO_PROCESS = 1; class in bits 13.., level in the low bits. */
  long r = syscall (SYS_ioprio_get, 1, 0);
  if (r < 0)
    return report_errno (errno);
  printf ("ioprio_class=%ld\nioprio_level=%ld\n", r >> 13, r & 0x1fff);
  return 0;
}

/* "0-3,7": a node mask of get_mempolicy(2) as a list. */
static void
print_nodes (const char *key, const unsigned long *mask, size_t bits)
{
  const size_t wb = 8 * sizeof (unsigned long);
  const char *sep = "";
  printf ("%s=", key);
  for (size_t n = 0; n < bits; n++)
    {
      if (!(mask[n / wb] >> (n % wb) & 1))
        continue;
      size_t end = n;
      while (end + 1 < bits && (mask[(end + 1) / wb] >> ((end + 1) % wb) & 1))
        end++;
      if (end > n)
        printf ("%s%zu-%zu", sep, n, end);
      else
        printf ("%s%zu", sep, n);
      sep = ",";
      n = end;
    }
  printf ("\n");
}

static int
cmd_mempolicy (int argc, char **argv)
{
  (void)argc;
  (void)argv;
  /* The kernel's uapi numbers (linux/mempolicy.h); libc may lack some. */
  static const char *const modes[] = {
    "MPOL_DEFAULT",        "MPOL_PREFERRED",          "MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_LOCAL",
    "MPOL_PREFERRED_MANY", "MPOL_WEIGHTED_INTERLEAVE"
  };
  static const struct name_num flags[] = { { "MPOL_F_STATIC_NODES", 1 << 15 },
                                           { "MPOL_F_RELATIVE_NODES", 1 << 14 },
                                           { "MPOL_F_NUMA_BALANCING", 1 << 13 } };
  enum
  {
    BITS = 4096
  };
  unsigned long nodes[BITS / (8 * sizeof (unsigned long))] = { 0 };
  unsigned long allowed[BITS / (8 * sizeof (unsigned long))] = { 0 };
  int mode = 0;
  /* maxnode is one more than the bits of the mask; 4: MPOL_F_MEMS_ALLOWED */
  if (syscall (SYS_get_mempolicy, &mode, nodes, (unsigned long)BITS + 1, NULL, 0UL) < 0
      || syscall (SYS_get_mempolicy, NULL, allowed, (unsigned long)BITS + 1, NULL, 4UL) < 0)
    return report_errno (errno);
  int base = mode & ~0xe000;
  printf ("mode=%s\n", base >= 0 && (size_t)base < COUNT (modes) ? modes[base] : "unknown");
  const char *sep = "";
  printf ("flags=");
  for (size_t i = 0; i < COUNT (flags); i++)
    if (mode & flags[i].num)
      {
        printf ("%s%s", sep, flags[i].name);
        sep = ",";
      }
  printf ("\n");
  print_nodes ("nodes", nodes, BITS);
  print_nodes ("mems_allowed", allowed, BITS);
  return 0;
}

static int
cmd_sched (int argc, char **argv)
{
  (void)argc;
  (void)argv;
  int pol = sched_getscheduler (0);
  if (pol < 0)
    return report_errno (errno);
  int reset = pol & SCHED_RESET_ON_FORK;
  pol &= ~SCHED_RESET_ON_FORK;
  const char *name = pol == SCHED_OTHER   ? "SCHED_OTHER"
                     : pol == SCHED_FIFO  ? "SCHED_FIFO"
                     : pol == SCHED_RR    ? "SCHED_RR"
                     : pol == SCHED_BATCH ? "SCHED_BATCH"
                     : pol == SCHED_IDLE  ? "SCHED_IDLE"
                                          : "other";
  struct sched_param sp;
  sched_getparam (0, &sp);
  errno = 0;
  int nice = getpriority (PRIO_PROCESS, 0);
  printf ("policy=%s\npolicy_num=%d\nreset_on_fork=%d\npriority=%d\nnice=%d\n", name, pol,
          reset ? 1 : 0, sp.sched_priority, nice);
  return 0;
}

static int
cmd_affinity (int argc, char **argv)
{
  (void)argc;
  (void)argv;
  cpu_set_t set;
  if (sched_getaffinity (0, sizeof set, &set) < 0)
    return report_errno (errno);
  printf ("affinity=");
  int first = 1;
  for (int i = 0; i < CPU_SETSIZE; i++)
    if (CPU_ISSET (i, &set))
      {
        printf ("%s%d", first ? "" : ",", i);
        first = 0;
      }
  putchar ('\n');
  return 0;
}

static int
cmd_pid (int argc, char **argv)
{
  (void)argc;
  (void)argv;
  printf ("pid=%d\nppid=%d\npgid=%d\nsid=%d\n", (int)getpid (), (int)getppid (), (int)getpgrp (),
          (int)getsid (0));
  return 0;
}

static int
cmd_sleep (int argc, char **argv)
{
  if (argc < 2)
    usage ("sleep SECONDS");
  double secs = strtod (argv[1], NULL);
  struct timespec ts
      = { .tv_sec = (time_t)secs, .tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9) };
  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
  return 0;
}

static int
cmd_exit (int argc, char **argv)
{
  if (argc < 2)
    usage ("exit STATUS");
  fflush (stdout);
  _exit (atoi (argv[1]));
}

static int
cmd_kill_self (int argc, char **argv)
{
  if (argc < 2)
    usage ("kill-self SIGNAL");
  int sig = parse_signal (argv[1]);
  if (sig <= 0)
    usage ("unknown signal '%s'", argv[1]);
  fflush (stdout);
  signal (sig, SIG_DFL);
  sigset_t set;
  sigemptyset (&set);
  sigaddset (&set, sig);
  sigprocmask (SIG_UNBLOCK, &set, NULL);
  kill (getpid (), sig);
  /* Still alive: either a non-fatal default action or pid 1. */
  struct timespec ts = { 0, 100 * 1000 * 1000 };
  nanosleep (&ts, NULL);
  return report_errno (ESRCH);
}

static int
cmd_write (int argc, char **argv, int flags, int newline)
{
  if (argc < 3)
    usage ("%s FILE TEXT", argv[0]);
  int fd = open (argv[1], O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
  if (fd < 0)
    return report_errno (errno);
  size_t len = strlen (argv[2]);
  ssize_t w = write (fd, argv[2], len);
  int e = w < 0 ? errno : (size_t)w != len ? EIO : 0;
  if (!e && newline && write (fd, "\n", 1) != 1)
    e = errno ? errno : EIO;
  if (close (fd) < 0 && !e)
    e = errno;
  return report_errno (e);
}

static int
cmd_read (int argc, char **argv)
{
  if (argc < 2)
    usage ("read FILE");
  size_t len;
  char *s = slurp (argv[1], &len);
  if (!s)
    return report_errno (errno);
  fwrite (s, 1, len, stdout);
  return 0;
}

static int
cmd_stat (int argc, char **argv)
{
  if (argc < 2)
    usage ("stat PATH");
  struct stat st;
  if (lstat (argv[1], &st) < 0)
    return report_errno (errno);
  const char *type = S_ISREG (st.st_mode)    ? "file"
                     : S_ISDIR (st.st_mode)  ? "dir"
                     : S_ISLNK (st.st_mode)  ? "symlink"
                     : S_ISCHR (st.st_mode)  ? "char"
                     : S_ISBLK (st.st_mode)  ? "block"
                     : S_ISFIFO (st.st_mode) ? "fifo"
                     : S_ISSOCK (st.st_mode) ? "socket"
                                             : "unknown";
  printf ("type=%s\nmode=%04o\nuid=%u\ngid=%u\nsize=%lld\nino=%llu\n"
          "nlink=%lu\nrdev=%u:%u\n",
          type, (unsigned)(st.st_mode & 07777), st.st_uid, st.st_gid, (long long)st.st_size,
          (unsigned long long)st.st_ino, (unsigned long)st.st_nlink, major (st.st_rdev),
          minor (st.st_rdev));
  return report_errno (0);
}

static int
cmd_mkdir (int argc, char **argv)
{
  if (argc < 2)
    usage ("mkdir PATH");
  return report_errno (mkdir (argv[1], 0755) < 0 ? errno : 0);
}

static int
cmd_fork_bomb (int argc, char **argv)
{
  if (argc < 2)
    usage ("fork-bomb N");
  int n = atoi (argv[1]);
  pid_t *kids = calloc ((size_t)(n > 0 ? n : 1), sizeof *kids);
  int ok = 0, err = 0;
  /* Children wait on a pipe so that they all exist at the same time. */
  int p[2];
  if (pipe (p) < 0)
    return report_errno (errno);
  for (int i = 0; i < n; i++)
    {
      pid_t pid = fork ();
      if (pid < 0)
        {
          err = errno;
          break;
        }
      if (pid == 0)
        {
          char c;
          close (p[1]);
          while (read (p[0], &c, 1) < 0 && errno == EINTR)
            ;
          _exit (0);
        }
      kids[ok++] = pid;
    }
  close (p[1]);
  close (p[0]);
  for (int i = 0; i < ok; i++)
    waitpid (kids[i], NULL, 0);
  printf ("forked=%d\n", ok);
  report_errno (err);
  return 0;
}

static int
cmd_hog (int argc, char **argv)
{
  if (argc < 2)
    usage ("hog BYTES");
  long long want = parse_size (argv[1]);
  long page = sysconf (_SC_PAGESIZE);
  long long done = 0;
  const long long chunk = 1024 * 1024;
  while (done < want)
    {
      long long sz = want - done < chunk ? want - done : chunk;
      char *m = mmap (NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (m == MAP_FAILED)
        {
          printf ("hogged=%lld\n", done);
          return report_errno (errno);
        }
      for (long long off = 0; off < sz; off += page)
        m[off] = 1;
      done += sz;
    }
  printf ("hogged=%lld\n", done);
  return report_errno (0);
}

static int
cmd_sigwait (int argc, char **argv)
{
  (void)argc;
  (void)argv;
  sigset_t all;
  sigfillset (&all);
  sigprocmask (SIG_BLOCK, &all, NULL);
  printf ("ready\n");
  fflush (stdout);
  for (;;)
    {
      siginfo_t si;
      int s = sigwaitinfo (&all, &si);
      if (s < 0)
        {
          if (errno == EINTR)
            continue;
          return report_errno (errno);
        }
      printf ("signal=%s\n", signal_name (s));
      fflush (stdout);
      if (s == SIGTERM)
        return 0;
    }
}

static int
cmd_ready (int argc, char **argv)
{
  (void)argc;
  (void)argv;
  printf ("ready\n");
  fflush (stdout);
  for (;;)
    pause ();
  return 0;
}

static int
cmd_syscall (int argc, char **argv)
{
  if (argc < 2)
    usage ("syscall NAME [ARG]");
  const char *name = argv[1];
  const char *arg = argc > 2 ? argv[2] : NULL;
  long r;
  char buf[PATH_MAX];
  errno = 0;
  if (strcmp (name, "getcwd") == 0)
    r = syscall (SYS_getcwd, buf, sizeof buf);
  else if (strcmp (name, "getpid") == 0)
    r = syscall (SYS_getpid);
  else if (strcmp (name, "uname") == 0)
    {
      struct utsname u;
      r = syscall (SYS_uname, &u);
    }
  else if (strcmp (name, "mkdir") == 0)
    r = syscall (SYS_mkdirat, AT_FDCWD, arg ? arg : "/tmp/.skiff-init-mkdir", 0755);
  else if (strcmp (name, "rmdir") == 0)
    r = syscall (SYS_unlinkat, AT_FDCWD, arg ? arg : "/tmp/.skiff-init-mkdir", AT_REMOVEDIR);
  else if (strcmp (name, "chmod") == 0)
    r = syscall (SYS_fchmodat, AT_FDCWD, arg ? arg : "/", 0755);
  else if (strcmp (name, "chdir") == 0)
    r = syscall (SYS_chdir, arg ? arg : "/");
  else if (strcmp (name, "chroot") == 0)
    r = syscall (SYS_chroot, arg ? arg : "/");
  else if (strcmp (name, "unshare") == 0)
    r = syscall (SYS_unshare, arg ? strtol (arg, NULL, 0) : CLONE_NEWUTS);
  else if (strcmp (name, "setns") == 0)
    {
      int fd = open (arg ? arg : "/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return report_errno (errno);
      r = syscall (SYS_setns, fd, 0);
    }
  else if (strcmp (name, "keyctl") == 0)
    /* KEYCTL_GET_KEYRING_ID (0) of KEY_SPEC_SESSION_KEYRING (-3). */
    r = syscall (SYS_keyctl, 0, -3, 0);
  else if (strcmp (name, "add_key") == 0)
    r = syscall (SYS_add_key, "user", "skiff-init", "x", 1, -3);
  else if (strcmp (name, "ptrace") == 0)
    /* PTRACE_PEEKUSER on ourselves fails with ESRCH when allowed. */
    r = syscall (SYS_ptrace, 3, getpid (), 0, 0);
  else if (strcmp (name, "mount") == 0)
    r = syscall (SYS_mount, "none", arg ? arg : "/tmp", "tmpfs", 0, NULL);
  else if (strcmp (name, "umount2") == 0)
    r = syscall (SYS_umount2, arg ? arg : "/tmp", 0);
  else if (strcmp (name, "sethostname") == 0)
    r = syscall (SYS_sethostname, arg ? arg : "skiff-init", strlen (arg ? arg : "skiff-init"));
  else if (strcmp (name, "personality") == 0)
    r = syscall (SYS_personality, arg ? strtoul (arg, NULL, 0) : 0xffffffffUL);
  else if (strcmp (name, "socket") == 0)
    r = syscall (SYS_socket, arg ? atoi (arg) : AF_INET, SOCK_STREAM, 0);
  else if (strcmp (name, "kill") == 0)
    r = syscall (SYS_kill, arg ? atoi (arg) : getpid (), 0);
  else if (strcmp (name, "reboot") == 0)
    /* Bad magic: EINVAL if the call is allowed, EPERM without the cap. */
    r = syscall (SYS_reboot, 0, 0, 0, NULL);
  else if (strcmp (name, "swapon") == 0)
    r = syscall (SYS_swapon, arg ? arg : "/nonexistent", 0);
  else if (strcmp (name, "setuid") == 0)
    r = syscall (SYS_setuid, arg ? atoi (arg) : (int)getuid ());
  else if (strcmp (name, "setgid") == 0)
    r = syscall (SYS_setgid, arg ? atoi (arg) : (int)getgid ());
  else if (strcmp (name, "mknod") == 0)
    r = syscall (SYS_mknodat, AT_FDCWD, arg ? arg : "/tmp/.skiff-init-null", S_IFCHR | 0600,
                 makedev (1, 3));
  else if (strcmp (name, "clock_settime") == 0)
    {
      struct timespec ts;
      clock_gettime (CLOCK_REALTIME, &ts);
      r = syscall (SYS_clock_settime, CLOCK_REALTIME, &ts);
    }
  else if (strcmp (name, "acct") == 0)
    r = syscall (SYS_acct, NULL);
  else
    usage ("unknown syscall '%s'", name);
  int e = r < 0 ? errno : 0;
  printf ("ret=%ld\n", r);
  return report_errno (e);
}

static int
cmd_notify_ready (int argc, char **argv)
{
  (void)argc;
  (void)argv;
  const char *path = getenv ("NOTIFY_SOCKET");
  if (!path || !*path)
    return report_errno (ENOENT);
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  size_t len = strlen (path);
  if (len >= sizeof sa.sun_path)
    return report_errno (ENAMETOOLONG);
  memcpy (sa.sun_path, path, len);
  if (sa.sun_path[0] == '@')
    sa.sun_path[0] = '\0';
  int fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return report_errno (errno);
  static const char msg[] = "READY=1";
  ssize_t r = sendto (fd, msg, sizeof msg - 1, 0, (struct sockaddr *)&sa,
                      (socklen_t)(offsetof (struct sockaddr_un, sun_path) + len));
  int e = r < 0 ? errno : 0;
  close (fd);
  return report_errno (e);
}

/* ---------------------------------------------------------------- main */

static int
cmd_write_trunc (int argc, char **argv)
{
  return cmd_write (argc, argv, O_TRUNC, 0);
}

static int
cmd_append (int argc, char **argv)
{
  return cmd_write (argc, argv, O_APPEND, 1);
}

static const struct
{
  const char *name;
  int (*fn) (int, char **);
} commands[] = {
  { "ns", cmd_ns },
  { "ids", cmd_ids },
  { "caps", cmd_caps },
  { "status", cmd_status },
  { "sigmask", cmd_sigmask },
  { "rlimits", cmd_rlimits },
  { "hostname", cmd_hostname },
  { "fds", cmd_fds },
  { "cwd", cmd_cwd },
  { "env", cmd_env },
  { "keyring", cmd_keyring },
  { "mounts", cmd_mounts },
  { "umask", cmd_umask },
  { "oom", cmd_oom },
  { "tty", cmd_tty },
  { "sysctl", cmd_sysctl },
  { "cgroup", cmd_cgroup },
  { "personality", cmd_personality },
  { "ioprio", cmd_ioprio },
  { "mempolicy", cmd_mempolicy },
  { "sched", cmd_sched },
  { "affinity", cmd_affinity },
  { "pid", cmd_pid },
  { "sleep", cmd_sleep },
  { "exit", cmd_exit },
  { "kill-self", cmd_kill_self },
  { "write", cmd_write_trunc },
  { "append", cmd_append },
  { "read", cmd_read },
  { "stat", cmd_stat },
  { "mkdir", cmd_mkdir },
  { "fork-bomb", cmd_fork_bomb },
  { "hog", cmd_hog },
  { "sigwait", cmd_sigwait },
  { "ready", cmd_ready },
  { "syscall", cmd_syscall },
  { "notify-ready", cmd_notify_ready },
};

static void
list_commands (FILE *out)
{
  fputs ("usage: init SUBCOMMAND [ARGS...]\nsubcommands:", out);
  for (size_t i = 0; i < COUNT (commands); i++)
    fprintf (out, " %s", commands[i].name);
  fputc ('\n', out);
}

int
main (int argc, char **argv)
{
  setvbuf (stdout, NULL, _IOLBF, 0);
  const char *base = argc > 0 ? strrchr (argv[0], '/') : NULL;
  base = base ? base + 1 : (argc > 0 ? argv[0] : "init");
  for (size_t i = 0; i < COUNT (commands); i++)
    if (strcmp (base, commands[i].name) == 0)
      return commands[i].fn (argc, argv);
  if (argc < 2)
    {
      list_commands (stderr);
      return 2;
    }
  if (strcmp (argv[1], "help") == 0 || strcmp (argv[1], "--help") == 0)
    {
      list_commands (stdout);
      return 0;
    }
  for (size_t i = 0; i < COUNT (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      {
        int rc = commands[i].fn (argc - 1, argv + 1);
        fflush (stdout);
        return rc;
      }
  list_commands (stderr);
  return 2;
}

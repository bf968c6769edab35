/* Test helper: make the new fd-based file and mount syscalls fail with
   ENOSYS, as on a kernel that predates them, so each "new syscall, else
   fallback" pair is exercised on the real error path and not only through
   the test switches. */
#ifndef SKIFF_TEST_ENOSYS_H
#define SKIFF_TEST_ENOSYS_H

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ENOSYS_TEST_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ENOSYS_TEST_ARCH AUDIT_ARCH_AARCH64
#endif

static const long enosys_syscalls[] = {
  SYS_openat2,  SYS_open_tree, SYS_move_mount, SYS_fsopen,
  SYS_fsconfig, SYS_fsmount,   SYS_fspick,     SYS_mount_setattr,
};
#define N_ENOSYS (sizeof enosys_syscalls / sizeof enosys_syscalls[0])

/* Raw classic BPF, no libseccomp: the filter is the thing under test's
   environment, so keep it obvious. */
static __attribute__ ((unused)) int
enosys_filter_install (void)
{
#ifdef ENOSYS_TEST_ARCH
  struct sock_filter f[4 + 2 * N_ENOSYS + 1];
  size_t n = 0;
  f[n++] = (struct sock_filter)BPF_STMT (BPF_LD | BPF_W | BPF_ABS,
                                         offsetof (struct seccomp_data, arch));
  f[n++] = (struct sock_filter)BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, ENOSYS_TEST_ARCH, 1, 0);
  f[n++] = (struct sock_filter)BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  f[n++]
      = (struct sock_filter)BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, nr));
  for (size_t i = 0; i < N_ENOSYS; i++)
    {
      f[n++] = (struct sock_filter)BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K,
                                             (unsigned)enosys_syscalls[i], 0, 1);
      f[n++] = (struct sock_filter)BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
    }
  f[n++] = (struct sock_filter)BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  struct sock_fprog prog = { .len = (unsigned short)n, .filter = f };
  /* root has CAP_SYS_ADMIN: no need for no_new_privs */
  return prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
#else
  errno = ENOTSUP;
  return -1;
#endif
}

/* Run a cmocka group in a child under the filter.  Returns the number of
   failures (1 if the child could not run it). */
static __attribute__ ((unused)) int
run_group_under_enosys (const char *name, const struct CMUnitTest *tests, size_t n)
{
  fflush (NULL);
  pid_t pid = fork ();
  if (pid < 0)
    return 1;
  if (pid == 0)
    {
      if (enosys_filter_install () < 0)
        {
          perror ("install the ENOSYS seccomp filter");
          _exit (1);
        }
      /* prove the filter bites before trusting the results */
      if (syscall (SYS_openat2, -1, "", NULL, 0) != -1 || errno != ENOSYS
          || syscall (SYS_fsopen, "tmpfs", 0) != -1 || errno != ENOSYS)
        {
          fprintf (stderr, "ENOSYS filter did not take\n");
          _exit (1);
        }
      _exit (_cmocka_run_group_tests (name, tests, n, NULL, NULL) ? 1 : 0);
    }
  int status;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return 1;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 1;
}

#endif

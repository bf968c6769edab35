/* Typed messages between the runtime and the processes it clones, over a
   SOCK_SEQPACKET socketpair.  Each step names the message it expects, so the
   order of the protocol is checked by tags, not by convention.  This is the
   only place where SCM_RIGHTS appears. */
#ifndef SKIFF_SYNC_H
#define SKIFF_SYNC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

enum sync_type
{
  SYNC_GO = 1,       /* parent -> child: cgroup joined, maps written */
  SYNC_USERNS_READY, /* child -> parent: unshared a userns, write maps */
  SYNC_MAPS_DONE,    /* parent -> child */
  SYNC_PID,          /* intermediate -> parent: pid of the init (payload pid_t) */
  SYNC_RUN_HOOKS,    /* child -> parent: run prestart+createRuntime now */
  SYNC_HOOKS_DONE,   /* parent -> child */
  SYNC_CONSOLE,      /* child -> parent: pty master attached (SCM_RIGHTS) */
  SYNC_SECCOMP_FD,   /* child -> parent: the seccomp listener (SCM_RIGHTS) */
  SYNC_READY,        /* child -> parent: created, now waiting for start */
  SYNC_STATE,        /* parent -> child: state JSON for in-container hooks */
  SYNC_ERROR,        /* child -> parent: payload is the error message */
};

struct sync_msg
{
  uint32_t type;
  int32_t errno_;
  uint32_t len; /* payload bytes that follow */
};

#define SYNC_MAX_PAYLOAD (32 * 1024)

int sync_send (int fd, enum sync_type type, const void *payload, size_t len, skiff_error_t *err);
int sync_send_fd (int fd, enum sync_type type, int passed_fd, skiff_error_t *err);
/* Child side: forward *err to the parent as SYNC_ERROR. */
void sync_send_error (int fd, skiff_error_t *err);
/* Wait for a message of `type`.  SYNC_ERROR from the peer becomes *err with
   the peer's message; EOF becomes "child exited unexpectedly".  payload may
   be NULL; *fd_out receives a passed fd when not NULL. */
int sync_expect (int fd, enum sync_type type, void *payload, size_t *len, int *fd_out,
                 skiff_error_t *err);

/* Wait until the peer execs (EOF on the CLOEXEC socket) or reports an
   error. */
int sync_expect_exec (int fd, skiff_error_t *err);

/* Send one fd over a unix socket, as --console-socket receivers expect
   (one SCM_RIGHTS message; the payload names the fd). */
int send_fd_unix (int sock, int fd, const char *name, skiff_error_t *err);
/* Connect to the unix socket at path (given by the caller's flag, named in
   errors) and send fd with name as the payload (--console-socket,
   --pidfd-socket). */
int send_fd_to_path (const char *flag, const char *path, int fd, const char *name,
                     skiff_error_t *err);
/* A pidfd of pid to --pidfd-socket. */
int send_pidfd_to_path (const char *path, pid_t pid, skiff_error_t *err);

#endif

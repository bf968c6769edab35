/* NOTIFY_SOCKET (sd_notify) as runc does it: the container gets a socket
   of its own (a directory of the state dir bind-mounted at /run/notify),
   `start` waits there for READY=1 and passes it on to the caller's socket. */
#ifndef SKIFF_NOTIFY_H
#define SKIFF_NOTIFY_H

#include "error.h"
#include "ocispec.h"
#include "state.h"

#define NOTIFY_DIR_IN_CONTAINER "/run/notify"
#define NOTIFY_SOCKET_IN_CONTAINER "/run/notify/notify.sock"

/* create: make <state>/notify and add its bind mount to the config. */
int notify_prepare (struct state_dir *sd, oci_config *c, uid_t uid, gid_t gid, skiff_error_t *err);
/* start, before releasing the init: bind the socket.  Returns the fd. */
int notify_listen (struct state_dir *sd, skiff_error_t *err);
/* start, after releasing it: wait for READY=1 (while the init lives) and
   forward the message to host_path. */
int notify_wait_ready (int fd, const skiff_status *st, const char *host_path, skiff_error_t *err);

#endif

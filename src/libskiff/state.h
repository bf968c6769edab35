/* Container state on disk: <root>/<id>/ holds state.json (written
   atomically), config.json (the config the container was created from),
   exec.fifo while created, and a lock file.  Mutating commands hold the
   container's lock; commands on different ids never block each other. */
#ifndef SKIFF_STATE_H
#define SKIFF_STATE_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "ocispec.h"

struct state_dir
{
  int root_fd;
  int dir_fd;
  int lock_fd;
  char *id;
  char *path; /* <root>/<id> */
};

#define STATE_DIR_INIT                                                                             \
  {                                                                                                \
    .root_fd = -1, .dir_fd = -1, .lock_fd = -1                                                     \
  }

int state_validate_id (const char *id, skiff_error_t *err);
/* root is NULL when a rootless caller has no default (rootless.h): say
   why. */
int state_root_check (const char *root, skiff_error_t *err);
/* Make <root>/<id> (error if it exists) and lock it. */
int state_dir_create (const char *root, const char *id, struct state_dir *sd, skiff_error_t *err);
/* Open an existing container; lock it when `lock`. */
int state_dir_open (const char *root, const char *id, bool lock, struct state_dir *sd,
                    skiff_error_t *err);
void state_dir_close (struct state_dir *sd);
#define cleanup_state_dir __attribute__ ((cleanup (state_dir_close)))
/* Remove <root>/<id> and everything in it. */
int state_dir_remove (struct state_dir *sd, skiff_error_t *err);

int state_read (struct state_dir *sd, skiff_status **out, skiff_error_t *err);
/* The text of state.json (read from dir) into *out, refusing what would
   make skiff act on an unproved pid (state-parse.c; fuzzed by
   tests/fuzz/fuzz_state.c). */
int state_parse (const char *id, const char *dir, const char *data, size_t len, skiff_status **out,
                 skiff_error_t *err);
int state_write (struct state_dir *sd, const skiff_status *st, skiff_error_t *err);

/* /proc/<pid>/stat starttime, 0 when the process is gone. */
unsigned long long proc_start_time (pid_t pid);
/* The recorded process still exists (same start time) and is no zombie. */
bool state_process_alive (const skiff_status *st);

typedef enum
{
  STATUS_CREATING,
  STATUS_CREATED,
  STATUS_RUNNING,
  STATUS_PAUSED,
  STATUS_STOPPED,
} container_status;

const char *status_name (container_status s);
container_status state_status (struct state_dir *sd, const skiff_status *st);

/* RFC 3339 UTC with nanoseconds, as runc prints `created`. */
char *rfc3339_now (void);

#endif

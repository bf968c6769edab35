/* Small file helpers relative to a directory fd. */
#ifndef SKIFF_FSUTIL_H
#define SKIFF_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Write len bytes to dirfd/name.  extra_flags may hold O_EXCL. */
int write_file_at (int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                   int extra_flags, skiff_error_t *err);
/* Write through a temp file and rename(2), so readers see all or nothing. */
int write_file_atomic_at (int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                          skiff_error_t *err);
/* Read a whole file (NUL-terminated; *len_out without the NUL). */
int read_file_at (int dirfd, const char *name, char **out, size_t *len_out, skiff_error_t *err);
/* read_file_at for a file that comes with a bundle or the state root
   (config.json, state.json): only a regular file, opened without
   blocking, so a FIFO or a device there is an error, not a hang. */
int read_regular_file_at (int dirfd, const char *name, char **out, size_t *len_out,
                          skiff_error_t *err);
int read_all_fd (int fd, char **out, size_t *len_out, size_t max);
int write_all_fd (int fd, const void *data, size_t len);
/* Write a pid file (decimal, no newline) via tmp + rename. */
int write_pid_file (const char *path, pid_t pid, skiff_error_t *err);
/* rm -rf below dirfd/name without following symlinks. */
int remove_tree_at (int dirfd, const char *name, skiff_error_t *err);

#endif

/* Block I/O weights need a weight-aware I/O policy in the kernel: BFQ
   (blkio.bfq.weight, io.bfq.weight), CFQ (blkio.weight; removed in Linux
   5.0) or, on cgroup v2, iocost (io.weight).  Without one a cgroup has no
   weight file and the write fails with a bare ENOENT; these say why, with
   the host's block devices and their schedulers. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "controllers.h"

const char *
cg_io_weight_file (int dfd, bool v2)
{
  /* v2: BFQ's file takes blkio's scale, so it wins; v1: CFQ's first. */
  static const char *const v2_files[] = { "io.bfq.weight", "io.weight" };
  static const char *const v1_files[] = { "blkio.weight", "blkio.bfq.weight" };
  const char *const *f = v2 ? v2_files : v1_files;
  for (size_t i = 0; i < 2; i++)
    if (cg_has_file (dfd, f[i]))
      return f[i];
  return NULL;
}

/* One device's "NAME: sched1 [active] sched2" into out at *len. */
static void
append_device (int sysblock, const char *name, char *out, size_t size, size_t *len)
{
  char path[300], sched[128] = "";
  snprintf (path, sizeof path, "%s/queue/scheduler", name);
  cleanup_close int fd = openat (sysblock, path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read (fd, sched, sizeof sched - 1) : -1;
  while (n > 0 && (sched[n - 1] == '\n' || sched[n - 1] == ' '))
    n--;
  sched[n > 0 ? n : 0] = '\0';
  if (*len < size)
    *len += (size_t)snprintf (out + *len, size - *len, "%s%s: %s", *len ? "; " : "", name,
                              *sched ? sched : "no scheduler");
}

void
cg_block_devices (char *out, size_t size)
{
  size_t len = 0;
  /* Devices with hardware behind them first (not loop, ram, dm): the
     ones a weight is for; every device only when there are none. */
  for (int pass = 0; pass < 2 && len == 0; pass++)
    {
      cleanup_closedir DIR *d = opendir ("/sys/block");
      struct dirent *e;
      char dev[300];
      while (d && (e = readdir (d)))
        {
          snprintf (dev, sizeof dev, "%s/device", e->d_name);
          if (e->d_name[0] != '.' && (pass == 1 || faccessat (dirfd (d), dev, F_OK, 0) == 0))
            append_device (dirfd (d), e->d_name, out, size, &len);
        }
    }
  if (len >= size && size > 4)
    strcpy (out + size - 4, "...");
  if (len == 0)
    snprintf (out, size, "none found in /sys/block");
}

int
cg_io_weight_unsupported (const char *key, const char *files, skiff_error_t *err)
{
  char devs[512];
  cg_block_devices (devs, sizeof devs);
  return skiff_error_kind_set (err, SKIFF_ERR_UNSUPPORTED, 0,
                               "linux.resources.%s: this host's block devices do not support I/O "
                               "weights: the cgroup has neither %s (block devices: %s)",
                               key, files, devs);
}

/* The fd of a cgroup below the hierarchy's root (the root has no weight
   files): the first subdirectory.  -1 when there is none. */
static int
open_some_child (const char *mount)
{
  cleanup_closedir DIR *d = opendir (mount);
  struct dirent *e;
  int fd = -1;
  while (d && fd < 0 && (e = readdir (d)))
    if (e->d_name[0] != '.' && e->d_type == DT_DIR)
      fd = openat (dirfd (d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return fd;
}

void
cg_io_weight_check (const oci_block_io *b, bool v2, const char *mount,
                    void (*cb) (void *data, const char *key, const char *msg), void *data)
{
  bool weights = b->weight_present && b->weight;
  for (size_t i = 0; i < b->weight_device_len; i++)
    weights |= b->weight_device[i]->weight_present && b->weight_device[i]->weight;
  if (!weights || mount == NULL)
    return;
  char devs[512], msg[768];
  cg_block_devices (devs, sizeof devs);
  /* BFQ and CFQ register their weight files with their elevators: a
     device that offers one is enough, on v1 and v2 alike */
  if (strstr (devs, "bfq") || strstr (devs, "cfq"))
    return;
  if (v2)
    {
      /* iocost's io.weight comes with io.cost.qos on the root */
      cleanup_close int root = open (mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (root < 0 || cg_has_file (root, "io.cost.qos"))
        return;
    }
  else
    {
      /* a cgroup of the hierarchy says it best, when there is one */
      cleanup_close int child = open_some_child (mount);
      if (child >= 0 && cg_io_weight_file (child, false) != NULL)
        return;
    }
  snprintf (msg, sizeof msg,
            "this host's block devices do not support I/O weights: its cgroups have neither %s "
            "(block devices: %s)",
            v2 ? CG_WEIGHT_FILES_V2 : CG_WEIGHT_FILES_V1, devs);
  cb (data, "linux.resources.blockIO.weight", msg);
}

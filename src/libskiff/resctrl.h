/* linux.intelRdt through the resctrl filesystem (Intel RDT, AMD QoS): the
   container's CTRL_MON group, its schemata, its MON group and its stats.
   Every function that touches the filesystem takes the resctrl mount's
   path (found by resctrl_find_root), so the unit test points them at a
   directory tree laid out like one. */
#ifndef SKIFF_RESCTRL_H
#define SKIFF_RESCTRL_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "ocispec.h"
#include "strbuf.h"

#define RESCTRL_NO_MOUNT "this host has no resctrl filesystem mounted (Intel RDT / AMD QoS)"

struct resctrl_group
{
  char *root;    /* the resctrl mount */
  char *name;    /* CTRL_MON group: closID, else the container id; "/": the root group */
  char *mon;     /* its MON group mon_groups/<mon> (the container id), or NULL */
  bool existed;  /* the group was there before create */
  bool made;     /* create made the group: a failed create removes it */
  bool mon_made; /* create made the MON group */
  bool owned;    /* delete removes the group (made for a config without closID) */
};

/* The resctrl mount: a resctrl line of /proc/self/mountinfo whose mount
   point reaches it (statfs magic RDTGROUP_SUPER_MAGIC, and the mount id).
   Without one: an UNSUPPORTED error "<key>: " RESCTRL_NO_MOUNT. */
int resctrl_find_root (const char *key, char **root, skiff_error_t *err);
bool resctrl_mounted (void);

/* linux.intelRdt checked without the host: closID is a group name or "/",
   the container id can name the group when closID is absent, memBwSchema
   starts with "MB:", and no memBwSchema or schemata line holds a newline. */
int resctrl_check_config (const oci_intel_rdt *rdt, const char *id, skiff_error_t *err);
/* enableMonitoring, or one of the v1.1 enableCMT/enableMBM it replaced. */
bool resctrl_wants_monitoring (const oci_intel_rdt *rdt);

/* create, before it makes anything: which group, and whether it exists.
   A closID with no schema must name an existing group, and the container's
   MON group must not exist yet. */
int resctrl_group_init (const char *root, const oci_intel_rdt *rdt, const char *id,
                        struct resctrl_group *g, skiff_error_t *err);
/* resctrl_group_make, then resctrl_group_configure. */
int resctrl_group_setup (struct resctrl_group *g, const oci_intel_rdt *rdt, skiff_error_t *err);
/* Make the group unless it existed (the kernel fills it with its files). */
int resctrl_group_make (struct resctrl_group *g, const oci_intel_rdt *rdt, skiff_error_t *err);
/* Check an existing group's schemata against l3CacheSchema and
   memBwSchema, or write them to a new one (L3 first); write the schemata
   lines last, one line per write; make the MON group. */
int resctrl_group_configure (struct resctrl_group *g, const oci_intel_rdt *rdt, skiff_error_t *err);
/* Put pid in the group, then in its MON group (the kernel takes a task
   there only from the parent group). */
int resctrl_group_enter (const struct resctrl_group *g, pid_t pid, skiff_error_t *err);
/* A failed create: remove what setup made. */
int resctrl_group_undo (const struct resctrl_group *g, skiff_error_t *err);
/* delete: remove the MON group, and the group when owned. */
int resctrl_group_delete (const struct resctrl_group *g, skiff_error_t *err);
/* A container's group, from its state (intel_rdt_group, _owned, _mon). */
int resctrl_group_from_status (const char *root, const skiff_status *st, struct resctrl_group *g,
                               skiff_error_t *err);
void resctrl_group_release (struct resctrl_group *g);
#define cleanup_resctrl_group __attribute__ ((cleanup (resctrl_group_release)))

/* update: write linux.intelRdt.<key> (each of its lines) to the schemata. */
int resctrl_write_schema (const struct resctrl_group *g, const char *key, const char *value,
                          skiff_error_t *err);
/* Whether every domain of one schemata line ("L3:0=ff;1=f0") has that
   value in a schemata file's text (hex masks and decimal bandwidths
   compared as numbers: the kernel prints them its own way). */
bool resctrl_schema_matches (const char *schemata, const char *line);
/* events --stats: runc's intel_rdt object for the group. */
int resctrl_stats_json (const struct resctrl_group *g, struct skiff_strbuf *b, skiff_error_t *err);

#endif

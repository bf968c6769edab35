/* Namespaces of a container: which are new and which are joined by path
   (the maps of a new user namespace: userns.h). */
#ifndef SKIFF_NAMESPACES_H
#define SKIFF_NAMESPACES_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "ocispec.h"

#define NS_MAX 8

struct ns_join
{
  int flag; /* CLONE_NEW* */
  int fd;   /* opened in the runtime, inherited by the child */
  char *path;
};

struct ns_plan
{
  int new_flags; /* CLONE_NEW* to create */
  struct ns_join join[NS_MAX];
  size_t njoin;
};

/* "pid" -> CLONE_NEWPID, 0 when unknown. */
int ns_flag_from_type (const char *type);
/* "pid" -> "pid", "network" -> "net" (the /proc/<pid>/ns name). */
const char *ns_proc_name (int flag);
const char *ns_type_name (int flag);

/* Validate linux.namespaces and open the paths to join. */
int ns_plan_build (const oci_config *c, struct ns_plan *plan, skiff_error_t *err);
/* hostname and domainname within the kernel's 64 bytes (create and check
   share the rule; the init's sethostname would fail). */
int ns_uts_names_check (const oci_config *c, skiff_error_t *err);
void ns_plan_release (struct ns_plan *plan);
bool ns_plan_has (const struct ns_plan *plan, int flag);

/* Child side: setns into every joined namespace (user last: once inside a
   joined user namespace we could no longer join the others). */
int ns_join_all (struct ns_plan *plan, skiff_error_t *err);

#endif

/* runtime-spec's plain rules on config.json's values (SemVer ociVersion,
   absolute paths, non-empty annotation keys, hook timeouts), shared by
   create and check. */
#ifndef SKIFF_CONFIG_RULES_H
#define SKIFF_CONFIG_RULES_H

#include "error.h"
#include "ocispec.h"

/* Takes one error (*e, which it may steal); -1 stops the run. */
typedef int (*config_rule_emit) (void *data, skiff_error_t *e);

/* Every rule, each of its errors through emit: check reports them all. */
int config_rules_run (const oci_config *c, config_rule_emit emit, void *data);
/* create: the first error, in *err. */
int config_rules_check (const oci_config *c, skiff_error_t *err);

#endif

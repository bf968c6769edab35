/* `skiff features`: what this build and this host support, in the
   runtime-spec features format. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build-features.h"
#include "cgroup/cgroup.h"
#include "label.h"
#include "mounts.h"
#include "process.h"
#include "seccomp.h"
#include "skiff.h"

static char *hooks[]
    = { "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop" };
static char *no_annotations[1]; /* emitted as [] (a NULL list is left out) */
static char *namespaces[] = { "cgroup", "ipc", "mount", "network", "pid", "user", "uts", "time" };

static size_t
strv_len (const char *const *v)
{
  size_t n = 0;
  while (v[n])
    n++;
  return n;
}

char *
skiff_features_json (void)
{
  const char *opts[128], *flags[16];
  char libseccomp[32];
  size_t ncaps = 0;
  char **caps = process_cap_names (&ncaps);
  bool seccomp = skiff_feature_seccomp[0] == '+';
  bool selinux = skiff_feature_selinux[0] == '+';
  oci_features_cgroup cg = {
    .v1 = true,
    .v1_present = true,
    .v2 = true,
    .v2_present = true,
    .systemd = skiff_feature_systemd[0] == '+',
    .systemd_present = true,
    .systemd_user = false,
    .systemd_user_present = true,
    .rdma = true,
    .rdma_present = true, /* rdma.max: v1 and v2 */
  };
  oci_features_seccomp sc = {
    .enabled = seccomp,
    .enabled_present = true,
    .actions = (char **)oci_seccomp_action_values,
    .actions_len = seccomp ? strv_len (oci_seccomp_action_values) : 0,
    .operators = (char **)oci_seccomp_operator_values,
    .operators_len = seccomp ? strv_len (oci_seccomp_operator_values) : 0,
    .archs = (char **)oci_seccomp_arch_values,
    .archs_len = seccomp ? strv_len (oci_seccomp_arch_values) : 0,
    .known_flags = (char **)oci_seccomp_flag_values,
    .known_flags_len = seccomp ? strv_len (oci_seccomp_flag_values) : 0,
    .supported_flags = (char **)flags,
    .supported_flags_len = seccomp ? seccomp_supported_flags (flags, 16) : 0,
  };
  oci_features_enabled apparmor = { .enabled = apparmor_host_enabled (), .enabled_present = true };
  oci_features_enabled se = { .enabled = selinux, .enabled_present = true };
  /* What skiff recognises (features-linux.md), whatever this kernel has. */
  oci_features_memory_policy mpol = {
    .modes = (char **)oci_mpol_mode_values,
    .modes_len = strv_len (oci_mpol_mode_values),
    .flags = (char **)oci_mpol_flag_values,
    .flags_len = strv_len (oci_mpol_flag_values),
  };
  oci_features_enabled on = { .enabled = true, .enabled_present = true };
  /* what skiff implements, whether or not this host has resctrl */
  oci_features_intel_rdt rdt = { .enabled = true,
                                 .enabled_present = true,
                                 .schemata = true,
                                 .schemata_present = true,
                                 .monitoring = true,
                                 .monitoring_present = true };
  oci_features_enabled idmap = { .enabled = true, .enabled_present = true };
  oci_features_mount_extensions mx = { .idmap = &idmap };
  oci_features_linux lx = {
    .namespaces = namespaces,
    .namespaces_len = sizeof namespaces / sizeof *namespaces,
    .capabilities = caps,
    .capabilities_len = ncaps,
    .cgroup = &cg,
    .seccomp = &sc,
    .apparmor = &apparmor,
    .selinux = &se,
    .memory_policy = &mpol,
    .intel_rdt = &rdt,
    .mount_extensions = &mx,
    .net_devices = &on,
  };
  oci_features f = {
    .oci_version_min = (char *)"1.0.0",
    .oci_version_max = (char *)OCI_SPEC_VERSION,
    .hooks = hooks,
    .hooks_len = sizeof hooks / sizeof *hooks,
    .mount_options = (char **)opts,
    .mount_options_len = mount_option_names (opts, 128),
    .linux = &lx,
    /* skiff acts on no annotation of config.json: the list is empty */
    .potentially_unsafe_config_annotations = no_annotations,
    .potentially_unsafe_config_annotations_len = 0,
  };
  /* Runtime-specific facts, under reverse-domain names as features.md asks. */
  oci_string_map_set (&f.annotations, "org.skiff.version", PACKAGE_VERSION);
  if (seccomp && seccomp_library_version (libseccomp, sizeof libseccomp))
    oci_string_map_set (&f.annotations, "io.github.seccomp.libseccomp.version", libseccomp);
  oci_string_map_set (&f.annotations, "org.skiff.checkpoint.enabled", "false");
  oci_diags d = { 0 };
  char *json = oci_features_emit (&f, true, NULL, &d);
  oci_diags_free (&d);
  oci_string_map_free (f.annotations);
  for (size_t i = 0; i < ncaps; i++)
    free (caps[i]);
  free (caps);
  return json;
}

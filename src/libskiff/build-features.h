/* Optional features, each defined by its real module or its whole-file
   stub (chosen by automake conditionals, never #ifdef in a body). */
#ifndef SKIFF_FEATURES_H
#define SKIFF_FEATURES_H

extern const char skiff_feature_seccomp[]; /* "+SECCOMP" or "-SECCOMP" */
extern const char skiff_feature_selinux[];
extern const char skiff_feature_systemd[];

#endif

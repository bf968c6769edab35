/* Built with --disable-selinux: any label in a config is refused. */
#include "config.h"

#include "build-features.h"

const char skiff_feature_selinux[] = "-SELINUX";

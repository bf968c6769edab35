/* SELinux labels through libselinux. */
#include "config.h"

#include "build-features.h"

const char skiff_feature_selinux[] = "+SELINUX";

/* Built with --disable-seccomp: a config asking for seccomp is refused. */
#include "config.h"

#include "features.h"

const char skiff_feature_seccomp[] = "-SECCOMP";

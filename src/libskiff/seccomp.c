/* seccomp filters through libseccomp. */
#include "config.h"

#include "features.h"

const char skiff_feature_seccomp[] = "+SECCOMP";

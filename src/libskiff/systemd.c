#include "config.h"

#include "build-features.h"

const char skiff_feature_systemd[] = "+SYSTEMD";

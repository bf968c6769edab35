#include "config.h"

#include "features.h"

const char skiff_feature_systemd[] = "+SYSTEMD";

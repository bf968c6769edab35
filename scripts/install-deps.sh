#!/bin/sh
# Install what building and testing skiff needs on Debian 12 (as root).
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  build-essential autoconf automake libtool pkg-config python3 python3-pytest \
  libyajl-dev libseccomp-dev libcap-dev libselinux1-dev libsystemd-dev \
  python3-pytest-timeout libcmocka-dev busybox-static go-md2man clang libclang-rt-14-dev \
  podman conmon catatonit containerd containernetworking-plugins python3-grpcio \
  clang-format apparmor util-linux iproute2 git ca-certificates >/dev/null

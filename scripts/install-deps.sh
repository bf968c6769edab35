#!/bin/sh
# Install what building and testing skiff needs on Debian 12 (as root).
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# docker.io's postinst starts the system dockerd (/etc/init.d/docker) on a
# host without systemd; the client tests run a private one and want no
# other: service starts are refused for this install (policy-rc.d exit
# 101) unless the host has a policy of its own.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  trap 'rm -f "$policy"' EXIT
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
fi
apt-get install -y -qq --no-install-recommends \
  build-essential autoconf automake libtool pkg-config python3 python3-pytest \
  libyajl-dev libseccomp-dev libcap-dev libselinux1-dev libsystemd-dev \
  python3-pytest-timeout libcmocka-dev busybox-static go-md2man clang libclang-rt-14-dev \
  podman conmon catatonit containerd containernetworking-plugins python3-grpcio \
  docker.io procps \
  clang-format apparmor util-linux iproute2 uidmap git ca-certificates >/dev/null

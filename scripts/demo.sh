#!/bin/sh
# From a fresh Debian 12 machine (as root): install the build dependencies,
# build skiff, and run a container from an example busybox bundle.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/install-deps.sh"
cd "$top"
[ -x configure ] || ./autogen.sh >/dev/null
[ -f Makefile ] || ./configure -q
make -j"$(nproc)" >/dev/null
bundle=$(mktemp -d /tmp/skiff-demo.XXXXXX)
mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/proc" "$bundle/rootfs/dev" "$bundle/rootfs/sys"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
for a in $(/bin/busybox --list); do ln -sf busybox "$bundle/rootfs/bin/$a"; done
./src/skiff spec --bundle "$bundle"
# A non-interactive demo: no terminal, one command.
sed -i 's/"terminal": true/"terminal": false/; s/"args": \["sh"\]/"args": ["sh", "-c", "echo hello from $(hostname), pid $$; id"]/' \
  "$bundle/config.json"
./src/skiff check --bundle "$bundle"
./src/skiff run --bundle "$bundle" demo-$$
rm -rf "$bundle"

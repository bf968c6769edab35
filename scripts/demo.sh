#!/bin/sh
# From a fresh Debian 12 machine (as root): install the build dependencies,
# build skiff, and run a container from an example busybox bundle.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/install-deps.sh"
cd "$top"
if [ ! -x configure ]; then
  log=$(mktemp)
  ./autogen.sh >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 1; }
  rm -f "$log"
fi
[ -f Makefile ] || ./configure -q
make -j"$(nproc)" >/dev/null
bundle=$(mktemp -d /tmp/skiff-demo.XXXXXX)
trap 'rm -rf "$bundle"' EXIT
mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/proc" "$bundle/rootfs/dev" "$bundle/rootfs/sys"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
# Debian's busybox lists itself among its applets: a link named busybox
# would replace the binary with a symlink to itself.
for a in $(/bin/busybox --list); do
  [ "$a" = busybox ] || ln -sf busybox "$bundle/rootfs/bin/$a"
done
./src/skiff spec --bundle "$bundle"
# A non-interactive demo: no terminal, one command.
sed -i 's/"terminal": true/"terminal": false/; s/"args": \["sh"\]/"args": ["sh", "-c", "echo hello from $(hostname), pid $$; id"]/' \
  "$bundle/config.json"
./src/skiff check --bundle "$bundle"
out=$(./src/skiff run --bundle "$bundle" demo-$$)
echo "$out"
case $out in
  "hello from "*) ;;
  *) echo "demo: the container did not print its greeting" >&2; exit 1 ;;
esac

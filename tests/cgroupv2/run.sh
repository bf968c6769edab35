#!/bin/bash
# make check-cgroupv2: skiff's functional suite on a pure cgroup v2 kernel.
#
# Boots Debian's own kernel (linux-image-*-amd64, unpacked with dpkg-deb
# into a cache, never installed on this host) under qemu with TCG, cgroup2
# alone at /sys/fs/cgroup with every controller enabled (cgroup_no_v1=all).
# The guest's root is this host's / shared read-only over 9p, so python3,
# pytest and skiff's shared libraries run unchanged; skiff, the test helper
# and the tests travel in the initramfs and run from tmpfs.  Results come
# back over the serial console as TAP and a final EXIT_STATUS=N line.
#
# Environment: SKIFF, SKIFF_INIT (required), SKIFF_UNIT (the test-cgroup
# unit test, optional), SKIFF_CGV2_TESTS (pytest arguments, relative to
# tests/), SKIFF_CGV2_CACHE (kernel cache, default
# /var/cache/skiff-cgroupv2), SKIFF_CGV2_TIMEOUT (seconds, default 1500),
# SKIFF_CGV2_MEM (MiB, default 2048), SKIFF_CGV2_SYSTEMD=1 (boot this
# host's systemd as the guest's PID 1, with D-Bus, and run the suite with
# the systemd cgroup driver: SKIFF_TEST_CGROUP_DRIVER=systemd).  The
# default tests are the whole functional suite.
# Exit: the guest's status; 77 (skip) without root.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
: "${SKIFF:?set SKIFF to the skiff binary}" "${SKIFF_INIT:?set SKIFF_INIT to the static tests/init}"
systemd=${SKIFF_CGV2_SYSTEMD:-0}
tests=${SKIFF_CGV2_TESTS:-functional}
timeout=${SKIFF_CGV2_TIMEOUT:-1500}
mem=${SKIFF_CGV2_MEM:-2048}

log() { echo "check-cgroupv2: $*" >&2; }

if [ "$(id -u)" != 0 ]; then
  log "SKIP: needs root (qemu's 9p share of / and the kernel cache)"
  exit 77
fi

# One setup at a time (apt and the kernel cache): both guests may start
# together (tests/cgroupv2/both.sh).
cache=${SKIFF_CGV2_CACHE:-/var/cache/skiff-cgroupv2}
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

# Tools: qemu, a static busybox for the initramfs, cpio.
missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
[ -x /bin/busybox ] || missing+=(busybox-static)
command -v cpio >/dev/null || missing+=(cpio)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The kernel: the version linux-image-amd64 points at, unpacked once.
ver=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: linux-image-\(.*\)$/\1/p' | head -1)
if [ -z "$ver" ]; then
  ver=$(ls "$cache" | sed -n 's/^k-//p' | sort -V | tail -1)
fi
[ -n "$ver" ] || { log "cannot find a linux-image-*-amd64 version (apt-get update?)"; exit 1; }
kdir=$cache/k-$ver
if [ ! -f "$kdir/vmlinux" ]; then
  log "fetching linux-image-$ver"
  tmp=$(mktemp -d "$cache/dl.XXXXXX")
  (cd "$tmp" && apt-get download -q "linux-image-$ver" >/dev/null 2>&1) \
    || { rm -rf "$tmp"; log "apt-get download linux-image-$ver failed"; exit 1; }
  dpkg-deb -x "$tmp"/linux-image-*.deb "$tmp/x"
  # An uncompressed vmlinux boots through PVH: no in-guest decompression.
  z=$(ls "$tmp"/x/boot/vmlinuz-*)
  off=$(python3 -c '
import sys
d = open(sys.argv[1], "rb").read()
for m in (b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd"):
    i = d.find(m)
    if i >= 0:
        print(i, "xz" if m[0] == 0xfd else "zstd"); break' "$z")
  set -- $off
  tail -c +"$(( $1 + 1 ))" "$z" | { if [ "$2" = xz ]; then xz -dc; else zstd -dcq; fi; } \
    > "$tmp/vmlinux" 2>/dev/null || true
  head -c 4 "$tmp/vmlinux" | grep -q ELF || { log "could not extract vmlinux from $z"; exit 1; }
  mkdir -p "$tmp/k"
  mv "$tmp/vmlinux" "$tmp/k/"
  cp -a "$tmp/x/lib/modules" "$tmp/k/modules"
  rm -rf "$kdir"
  mv "$tmp/k" "$kdir"
  rm -rf "$tmp"
fi
exec 9>&-

# The initramfs: busybox, the 9p/virtio modules, skiff and the tests.
work=$(mktemp -d /tmp/skiff-cgv2.XXXXXX)
trap 'rm -rf "$work"' EXIT
rd=$work/root
mkdir -p "$rd"/{bin,dev,proc,sys,newroot,payload/bin,payload/tests}
cp /bin/busybox "$rd/bin/busybox"
for a in sh mount mkdir cp cat echo modprobe switch_root poweroff ln sleep; do
  ln -s busybox "$rd/bin/$a"
done
mdir=lib/modules/$ver
for d in drivers/virtio fs/9p net/9p fs/netfs fs/fscache; do
  mkdir -p "$rd/$mdir/kernel/$d"
  cp -a "$kdir/modules/$ver/kernel/$d/." "$rd/$mdir/kernel/$d/"
done
# veth pairs for the linux.netDevices tests (test_network.py).
mkdir -p "$rd/$mdir/kernel/drivers/net"
cp "$kdir/modules/$ver/kernel/drivers/net/veth.ko" "$rd/$mdir/kernel/drivers/net/"
# A small virtio disk, so that the block I/O limits have a device.
mkdir -p "$rd/$mdir/kernel/drivers/block"
cp "$kdir/modules/$ver/kernel/drivers/block/virtio_blk.ko" "$rd/$mdir/kernel/drivers/block/"
truncate -s 16M "$work/disk.img"
/bin/busybox depmod -b "$rd" "$ver"
cp "$SKIFF" "$rd/payload/bin/skiff"
cp "$SKIFF_INIT" "$rd/payload/bin/init"
if [ -n "${SKIFF_UNIT:-}" ] && [ -x "$SKIFF_UNIT" ]; then
  cp "$SKIFF_UNIT" "$rd/payload/bin/test-cgroup"
fi
# The tests and what some of them read beside them (fixtures, the check
# corpus, attack sources, the man pages and completions --help must match).
for d in tests/functional tests/check tests/security man completions; do
  if [ -d "$top/$d" ]; then
    mkdir -p "$rd/payload/$(dirname "$d")"
    cp -a "$top/$d" "$rd/payload/$(dirname "$d")/"
  fi
done
find "$rd/payload" -name __pycache__ -prune -exec rm -rf {} +
cp "$top/tests/init.c" "$rd/payload/tests/"
cp "$here/stage2.sh" "$rd/payload/stage2.sh"
printf 'CGV2_TESTS=%q\nCGV2_SYSTEMD=%q\n' "$tests" "$systemd" > "$rd/payload/env"
extra=
if [ "$systemd" = 1 ]; then
  [ -x /lib/systemd/systemd ] || { log "SKIP: no /lib/systemd/systemd on this host to boot"; exit 77; }
  # A runtime unit (the root is read-only): the tests, once D-Bus is up.
  cat > "$rd/payload/skiff-cgv2.service" <<'UNIT'
[Unit]
Description=skiff cgroup tests
DefaultDependencies=no
Requires=dbus.socket
After=dbus.socket
[Service]
Type=oneshot
ExecStart=/bin/sh /run/cgv2/stage2.sh
StandardOutput=tty
StandardError=tty
TTYPath=/dev/console
UNIT
  extra="systemd.unit=skiff-cgv2.service systemd.show_status=0"
fi
cp "$here/init" "$rd/init"
chmod 755 "$rd/init" "$rd/payload/stage2.sh"
(cd "$rd" && find . | cpio -o -H newc --quiet) > "$work/initrd"

log "booting linux $ver (TCG), tests: $tests"
out=$work/serial.log
set +e
timeout "$timeout" qemu-system-x86_64 \
  -machine q35 -cpu max -accel tcg,thread=multi -smp 2 -m "$mem" \
  -nodefaults -no-user-config -display none -no-reboot -serial stdio \
  -kernel "$kdir/vmlinux" -initrd "$work/initrd" \
  -drive "if=virtio,file=$work/disk.img,format=raw,cache=unsafe" \
  -append "console=ttyS0 quiet panic=-1 cgroup_no_v1=all mitigations=off norandmaps $extra" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  </dev/null | tee "$out"
qrc=${PIPESTATUS[0]}
set -e
status=$(tr -d '\r' < "$out" | sed -n 's/^EXIT_STATUS=\([0-9]*\)$/\1/p' | tail -1)
if [ -z "$status" ]; then
  log "the guest reported no EXIT_STATUS (qemu exit $qrc${qrc:+; 124 is the $timeout s timeout})"
  exit 1
fi
log "guest exit status $status"
exit "$status"

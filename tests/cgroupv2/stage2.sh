#!/bin/sh
# The tests of the cgroup v2 guest, on the host's read-only root: as PID 1,
# mount cgroup2 alone with every controller enabled (or, in the systemd
# guest, run as a unit of the host's systemd, with the systemd cgroup
# driver), run the unit test and the functional tests, print TAP and
# EXIT_STATUS=N, power off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TMPDIR=/tmp PYTHONDONTWRITEBYTECODE=1 LANG=C.UTF-8
. /run/cgv2/env
if [ "$CGV2_SYSTEMD" != 1 ]; then
  # The 9p share crosses the host's mounts: /proc, /sys and /dev here are
  # the host's until the guest's own are mounted over them.
  mount -t proc proc /proc
  mount -t sysfs sysfs /sys
  mount -t devtmpfs devtmpfs /dev
  mkdir -p /dev/pts /dev/shm /dev/mqueue
  mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts /dev/pts
  mount -t tmpfs -o mode=1777 tmpfs /dev/shm
  mount -t mqueue mqueue /dev/mqueue
  ln -sf /proc/self/fd /dev/fd
  ln -sf /proc/self/fd/0 /dev/stdin
  ln -sf /proc/self/fd/1 /dev/stdout
  ln -sf /proc/self/fd/2 /dev/stderr
  [ -e /dev/ptmx ] || ln -sf pts/ptmx /dev/ptmx
  mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup
  for c in cpuset cpu io memory hugetlb pids rdma misc; do
    echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || echo "# no $c controller"
  done
  hostname cgv2 2>/dev/null
  # Short pids like a fresh host would hand out are fine; skip past the
  # lowest ones so no test mistakes a tiny pid for init's.
  echo 1000 > /proc/sys/kernel/ns_last_pid 2>/dev/null
else
  echo "# systemd $(systemctl --version | head -1 | cut -d' ' -f2) is PID 1"
  export SKIFF_TEST_CGROUP_DRIVER=systemd
fi

# AppArmor's interface, in both guests (test_security_apparmor.py loads
# profiles); systemd does not mount it here.
mountpoint -q /sys/kernel/security || mount -t securityfs securityfs /sys/kernel/security
echo "# kernel $(uname -r); cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
rc=0
if [ -x /run/cgv2/bin/test-cgroup ]; then
  echo "# unit test test-cgroup"
  /run/cgv2/bin/test-cgroup || rc=1
fi
cd /run/cgv2/tests
export SKIFF=/run/cgv2/bin/skiff SKIFF_INIT=/run/cgv2/bin/init SKIFF_TEST_TMP=/tmp
# A test that hangs fails after 5 minutes with every thread's stack,
# instead of stalling the guest until qemu's timeout.
timeout_args=
python3 -c 'import pytest_timeout' 2>/dev/null && timeout_args="--timeout=300"
# shellcheck disable=SC2086
python3 -m pytest -p no:cacheprovider --color=no -q -ra --junitxml=/tmp/junit.xml $timeout_args \
  $CGV2_TESTS || rc=1
python3 - /tmp/junit.xml <<'PY'
import sys, xml.etree.ElementTree as ET
cases = list(ET.parse(sys.argv[1]).getroot().iter("testcase"))
print(f"1..{len(cases)}")
for i, c in enumerate(cases, 1):
    name = f"{c.get('classname')}::{c.get('name')}"
    if c.find("failure") is not None or c.find("error") is not None:
        print(f"not ok {i} - {name}")
    elif c.find("skipped") is not None:
        reason = c.find("skipped").get("message", "").replace("\n", " ")
        print(f"ok {i} - {name} # SKIP {reason}")
    else:
        print(f"ok {i} - {name}")
PY
echo "EXIT_STATUS=$rc"
sync
/bin/busybox poweroff -f

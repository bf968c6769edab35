"""What this host has: the one place the tests ask it.

A test never assumes the machine it was written on (its kernel build, block
scheduler, cgroup layout, capability bounding set, security modules): it
asks here, then asserts skiff's behaviour for that answer, which is
skiff's clear error when the host lacks the feature.  Cgroup hierarchies
are recognised by filesystem type and device (statfs magic, mountinfo's
major:minor), never by a path that exists: a tmpfs over
/sys/fs/cgroup/unified is a directory, not a hierarchy.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import re
from functools import lru_cache
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP_SUPER_MAGIC = 0x27E0EB
CGROUP2_SUPER_MAGIC = 0x63677270
RDTGROUP_SUPER_MAGIC = 0x7655821
TMPFS_MAGIC = 0x01021994

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


class _Statfs(ctypes.Structure):
    # struct statfs on 64-bit Linux: f_type first, then the rest.
    _fields_ = [("f_type", ctypes.c_long), ("rest", ctypes.c_byte * 112)]


def fs_magic(path) -> int | None:
    """statfs(2) f_type of path, or None when it cannot be reached."""
    st = _Statfs()
    if _libc.statfs(os.fsencode(str(path)), ctypes.byref(st)) != 0:
        return None
    return st.f_type & 0xFFFFFFFF


class Hierarchy:
    """One reachable cgroup mount: its mount point, v2 or not, and its
    controllers (v1: the super options; v2: cgroup.controllers)."""

    def __init__(self, mount: Path, v2: bool, controllers: list[str]):
        self.mount, self.v2, self.controllers = mount, v2, controllers

    def __repr__(self):
        return f"Hierarchy({self.mount}, v2={self.v2}, {self.controllers})"


def mountinfo(path="/proc/self/mountinfo"):
    """(mount id, major:minor, mount point, fstype, super options) per line."""
    out = []
    with open(path) as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])
            out.append((int(fields[0]), fields[2], point, fields[sep + 1], fields[sep + 3]))
    return out


def _reachable(point: str, devno: str, fstype: str) -> bool:
    """A lookup of point reaches this mount: right type, same device."""
    magic = CGROUP2_SUPER_MAGIC if fstype == "cgroup2" else CGROUP_SUPER_MAGIC
    try:
        st = os.stat(point)
    except OSError:
        return False
    major, minor = (int(x) for x in devno.split(":"))
    return fs_magic(point) == magic and st.st_dev == os.makedev(major, minor)


def cgroup_hierarchies() -> list[Hierarchy]:
    """Every reachable cgroup hierarchy at or below /sys/fs/cgroup."""
    out, seen = [], set()
    for _, devno, point, fstype, opts in mountinfo():
        if fstype not in ("cgroup", "cgroup2") or point in seen:
            continue
        if point != str(CGROUP_ROOT) and not point.startswith(f"{CGROUP_ROOT}/"):
            continue
        if not _reachable(point, devno, fstype):
            continue
        seen.add(point)
        v2 = fstype == "cgroup2"
        if v2:
            ctrls = (Path(point) / "cgroup.controllers").read_text().split()
        else:
            skip = {"rw", "ro", "clone_children", "noprefix", "xattr", "none"}
            ctrls = [o for o in opts.split(",") if o not in skip and not o.startswith("release_agent=")]
        out.append(Hierarchy(Path(point), v2, ctrls))
    return out


def cgroup_v2() -> bool:
    """cgroup2 alone at /sys/fs/cgroup (a pure v2 host)."""
    return fs_magic(CGROUP_ROOT) == CGROUP2_SUPER_MAGIC


def cgroup_layout() -> str:
    if cgroup_v2():
        return "v2"
    if any(h.v2 for h in cgroup_hierarchies()):
        return "hybrid"
    return "v1"


def hierarchy_of(ctrl: str) -> Hierarchy | None:
    """The hierarchy a runtime uses for ctrl: a v1 one first, else the
    cgroup2 mount that has it."""
    hs = cgroup_hierarchies()
    for h in hs:
        if not h.v2 and ctrl in h.controllers:
            return h
    for h in hs:
        if h.v2 and ctrl in h.controllers:
            return h
    return None


def has_controller(ctrl: str) -> bool:
    return hierarchy_of(ctrl) is not None


def cgroup_dir(ctrl: str, path: str) -> Path:
    """The directory of cgroup `path` in the hierarchy that has ctrl."""
    h = hierarchy_of(ctrl)
    if h is None:
        raise AssertionError(f"this host has no {ctrl} cgroup controller")
    return h.mount / path.lstrip("/")


def unified_mount() -> Path | None:
    """The cgroup2 mount (the root on v2, `unified` on a hybrid host)."""
    for h in cgroup_hierarchies():
        if h.v2:
            return h.mount
    return None


@lru_cache(maxsize=None)
def new_cgroup_files(ctrl: str) -> frozenset[str]:
    """The files a new cgroup of ctrl's hierarchy gets (a root has fewer),
    found by making one below the root and removing it.  On cgroup2 the
    root's cgroup.subtree_control gets ctrl first, as a runtime does for
    its own cgroups."""
    h = hierarchy_of(ctrl)
    if h is None:
        return frozenset()
    if h.v2:
        sub = h.mount / "cgroup.subtree_control"
        if ctrl not in sub.read_text().split():
            sub.write_text(f"+{ctrl}")
    probe = h.mount / f"skiff-test-{os.getpid()}-probe"
    probe.mkdir(exist_ok=True)
    try:
        return frozenset(p.name for p in probe.iterdir())
    finally:
        probe.rmdir()


def io_weight_files() -> set[str]:
    """The block I/O weight files of a new cgroup (BFQ, CFQ, iocost).
    Empty: this kernel cannot weight block I/O."""
    if cgroup_v2():
        return set(new_cgroup_files("io") & {"io.weight", "io.bfq.weight"})
    return set(new_cgroup_files("blkio") & {"blkio.weight", "blkio.bfq.weight"})


def cpu_idle() -> bool:
    """CPU cgroups can be made SCHED_IDLE (cpu.idle, Linux 5.15+)."""
    return "cpu.idle" in new_cgroup_files("cpu")


def resctrl_root() -> Path | None:
    """The resctrl mount (Intel RDT, AMD QoS) as skiff finds it: a resctrl
    line of mountinfo whose mount point has resctrl's magic (the usual
    /sys/fs/resctrl directory alone belongs to sysfs)."""
    for _, devno, point, fstype, _ in mountinfo():
        if fstype != "resctrl" or fs_magic(point) != RDTGROUP_SUPER_MAGIC:
            continue
        major, minor = (int(x) for x in devno.split(":"))
        if os.stat(point).st_dev == os.makedev(major, minor):
            return Path(point)
    return None


def resctrl_mounted() -> bool:
    return resctrl_root() is not None


NO_RESCTRL = (
    "this host has no resctrl filesystem (no CPU with Intel RDT or AMD QoS, and qemu's TCG "
    "emulates neither): the positive path of linux.intelRdt is covered by tests/unit/test-resctrl"
)


def swap_accounting() -> bool:
    """Memory cgroups limit swap (memory.memsw.* on v1, memory.swap.max on
    v2): not with swapaccount=0 or a kernel built without it."""
    name = "memory.swap.max" if cgroup_v2() else "memory.memsw.limit_in_bytes"
    return name in new_cgroup_files("memory")


def swap_active() -> bool:
    """A swap device or file is on (/proc/swaps lists more than its header)."""
    return len(Path("/proc/swaps").read_text().splitlines()) > 1


HOG_SWAPS = "swap is on but not accounted: a hog over its memory limit swaps instead of being OOM-killed"


def hog_swaps() -> bool:
    """What an OOM test cannot get past: see HOG_SWAPS."""
    return swap_active() and not swap_accounting()


@lru_cache(maxsize=None)
def bounding_set() -> int:
    """This process's capability bounding set (CapBnd), as a mask."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapBnd:"):
            return int(line.split()[1], 16)
    return 0


def has_cap(num: int) -> bool:
    return bool(bounding_set() >> num & 1)


def kernel_version() -> tuple[int, int]:
    m = re.match(r"(\d+)\.(\d+)", platform.release())
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def systemd_running() -> bool:
    return Path("/run/systemd/system").is_dir()


# ------------------------------------------------------------------ NUMA

NUMA_DIR = Path("/sys/devices/system/node")
MPOL = {
    "MPOL_DEFAULT": 0, "MPOL_PREFERRED": 1, "MPOL_BIND": 2, "MPOL_INTERLEAVE": 3,
    "MPOL_LOCAL": 4, "MPOL_PREFERRED_MANY": 5, "MPOL_WEIGHTED_INTERLEAVE": 6,
}
MPOL_F = {"MPOL_F_STATIC_NODES": 1 << 15, "MPOL_F_RELATIVE_NODES": 1 << 14, "MPOL_F_NUMA_BALANCING": 1 << 13}


def parse_node_list(text: str) -> list[int]:
    """A node list as sysfs writes it: '0-2,5' -> [0, 1, 2, 5]."""
    out = []
    for part in filter(None, text.strip().split(",")):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def numa_nodes(which: str = "online") -> list[int] | None:
    """The host's NUMA nodes (`online`, `has_memory`, `possible`), or None
    for a kernel without NUMA (CONFIG_NUMA) or without /sys."""
    try:
        return parse_node_list((NUMA_DIR / which).read_text())
    except OSError:
        return None


def numa_node_with_memory() -> int | None:
    """A node a memory policy may name: online, with memory."""
    nodes = numa_nodes("has_memory") or []
    return nodes[0] if nodes else None


def absent_numa_node() -> int:
    """A node number this host does not have (7 unless it has node 7)."""
    online = set(numa_nodes() or [])
    return next(n for n in [7, *range(8, 4096)] if n not in online)


@lru_cache(maxsize=None)
def mempolicy_supported(mode: str, flags: tuple[str, ...] = ()) -> bool:
    """Whether this kernel takes set_mempolicy(mode|flags) on the first
    node with memory (a newer mode or flag gets EINVAL from an older
    kernel), for the modes that take nodes.  Tried in a child: the policy
    is per task."""
    node = numa_node_with_memory()
    if node is None:
        return False
    mask = (ctypes.c_ulong * 64)()
    mask[node // 64] |= 1 << (node % 64)
    value = MPOL[mode] | sum(MPOL_F[f] for f in flags)
    pid = os.fork()
    if pid == 0:  # SYS_set_mempolicy: 238 on x86-64, 237 on arm64
        nr = {"x86_64": 238, "aarch64": 237}.get(platform.machine(), -1)
        ok = _libc.syscall(nr, value, mask, ctypes.c_ulong(node + 2)) == 0
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0

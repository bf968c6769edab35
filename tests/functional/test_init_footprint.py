"""What the container's init costs the container: the pages it writes after
joining its cgroup are charged to the container's memory limit, and they
set the smallest limit at which a container still starts (make bench,
docs/performance.md).  The runtime prepares everything it can before the
clone (the mount plan, the host's mounts, argv, env) and the init keeps off
the heap.  Read page by page: /proc/PID/pagemap gives each page's frame,
/proc/kpagecgroup the inode of the memory cgroup that frame is charged to.
Not a timing: a count of pages, the same on every run within a few stack
pages."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

import host
from harness import CGROUP_ROOT

V2 = host.cgroup_v2()
PAGE = os.sysconf("SC_PAGE_SIZE")


def memcg_dir(pid: int) -> Path | None:
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, ctrls, path = line.split(":", 2)
        if V2 and ctrls == "":
            return CGROUP_ROOT / path.lstrip("/")
        if "memory" in ctrls.split(",") and host.hierarchy_of("memory"):
            return host.cgroup_dir("memory", path)
    return None


def charged_pages(pid: int, memcg: Path) -> dict[str, int]:
    """Pages of pid's mappings charged to memcg, by mapping name."""
    ino = memcg.stat().st_ino
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/pagemap", "rb") as pm, open("/proc/kpagecgroup", "rb") as kc:
        for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
            parts = line.split()
            name = parts[5] if len(parts) > 5 else "[anon]"
            if name == "[vsyscall]":
                continue
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            for va in range(lo, hi, PAGE):
                pm.seek(va // PAGE * 8)
                entry = struct.unpack("<Q", pm.read(8))[0]
                if not entry >> 63 & 1:
                    continue
                kc.seek((entry & ((1 << 55) - 1)) * 8)
                if struct.unpack("<Q", kc.read(8))[0] == ino:
                    out[name] = out.get(name, 0) + 1
    return out


@pytest.mark.skiff_only
@pytest.mark.parametrize("memory_policy", [False, True], ids=["plain", "memory-policy"])
def test_created_init_writes_no_heap(runtime, bundle, cid, memory_policy):
    if memory_policy:
        node = host.numa_node_with_memory()
        if node is None:
            pytest.skip("no NUMA node with memory (CONFIG_NUMA)")
        # prepared by the runtime: the init only calls get/set_mempolicy
        bundle.linux["memoryPolicy"] = {"mode": "MPOL_BIND", "nodes": str(node)}
    if not os.path.exists("/proc/kpagecgroup"):
        pytest.skip("no /proc/kpagecgroup (CONFIG_MEMCG and CONFIG_PROC_PAGE_MONITOR)")
    if "ASAN_OPTIONS" in os.environ:
        pytest.skip("a sanitizer's allocator and shadow memory are not skiff's")
    bundle.linux.setdefault("resources", {})["memory"] = {"limit": 64 << 20}
    runtime.create(cid, bundle).ok()
    pid = runtime.state(cid)["pid"]
    memcg = memcg_dir(pid)
    if memcg is None or memcg == CGROUP_ROOT or not memcg.is_dir():
        pytest.skip("no memory cgroup of the container's own")
    pages = charged_pages(pid, memcg)
    # the default bundle has the cgroup mount, /dev, masked and read-only
    # paths: every step of the init's setup ran
    assert pages.get("[heap]", 0) == 0, pages
    # A few stack pages, libc's and the TLS block: 3-6 when the runtime moves
    # the init into its cgroup (crun's init: 4), ~10 on v2, where the init is
    # born in it (CLONE_INTO_CGROUP) and all it touches from its first
    # instruction counts.  The init of before this test: 15, 11 of them heap.
    assert sum(pages.values()) <= 12, pages

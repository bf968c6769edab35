#!/usr/bin/env python3
"""make soak: thousands of create/start/exec/delete cycles, then many at
once, watching what a leak would make grow.

Every --every cycles it records the host's mounts, the cgroup directories
below the soak's parent in every hierarchy, the state directories, the
caller's open fds, zombie children and the time per cycle.  It fails when
a count ends higher than it started, when any cycle fails, or when the
time per cycle of the last tenth is more than --drift times that of the
first tenth.  Needs root, a built skiff and /bin/busybox.

usage: soak.py SKIFF [--cycles 2000] [--parallel 200] [--every 100]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functional"))
import host  # noqa: E402  (the functional suite's host probes)


def busybox_bundle(top: Path) -> Path:
    rootfs = top / "rootfs"
    for d in ("bin", "proc", "dev", "sys", "tmp"):
        (rootfs / d).mkdir(parents=True)
    shutil.copy("/bin/busybox", rootfs / "bin/busybox")
    for applet in ("sh", "sleep", "true"):
        (rootfs / "bin" / applet).symlink_to("busybox")
    return top


def config(skiff: str, bundle: Path, parent: str):
    subprocess.run([skiff, "spec", "--bundle", str(bundle)], check=True)
    c = json.loads((bundle / "config.json").read_text())
    c["process"]["terminal"] = False
    c["process"]["args"] = ["sleep", "1000"]
    c["linux"]["cgroupsPath"] = f"/{parent}/placeholder"
    return c


def counts(root: Path, parent: str) -> dict[str, int]:
    zombies = 0
    me = os.getpid()
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                stat = (p / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            zombies += fields[0] == "Z" and int(fields[1]) == me
    cgroups = 0
    for h in host.cgroup_hierarchies():
        d = h.mount / parent
        if d.is_dir():
            cgroups += sum(len(dirs) for _, dirs, _ in os.walk(d))
    return {
        "mounts": len(Path("/proc/self/mountinfo").read_text().splitlines()),
        "cgroup dirs": cgroups,
        "state dirs": len([e for e in root.iterdir() if not e.name.startswith(".")]),
        "caller fds": len(os.listdir("/proc/self/fd")),
        "zombies": zombies,
    }


class Soak:
    def __init__(self, skiff: str, work: Path, parent: str):
        self.skiff, self.parent = skiff, parent
        self.root = work / "state"
        self.bundle = busybox_bundle(work / "bundle")
        self.config = config(skiff, self.bundle, parent)
        self.errors: list[str] = []

    def call(self, *args) -> bool:
        # stderr to a file: the container inherits create's stdio, and a
        # pipe would be read until it exits
        with tempfile.TemporaryFile() as err:
            r = subprocess.run([self.skiff, "--root", str(self.root), *args],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                               timeout=60)
            if r.returncode != 0:
                err.seek(0)
                self.errors.append(f"{' '.join(args)}: {err.read().decode(errors='replace').strip()}")
        return r.returncode == 0

    def cycle(self, i: int) -> float:
        cid = f"soak-{i}"
        b = self.bundle.parent / f"b-{i}"
        b.mkdir()
        (b / "rootfs").symlink_to(self.bundle / "rootfs")
        c = dict(self.config)
        c["linux"] = dict(c["linux"], cgroupsPath=f"/{self.parent}/{cid}")
        (b / "config.json").write_text(json.dumps(c))
        t0 = time.monotonic()
        ok = self.call("create", "--bundle", str(b), cid)
        ok = ok and self.call("start", cid)
        ok = ok and self.call("exec", cid, "true")
        self.call("delete", "--force", cid)
        dt = time.monotonic() - t0
        shutil.rmtree(b)
        return dt if ok else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("skiff")
    ap.add_argument("--cycles", type=int, default=2000)
    ap.add_argument("--parallel", type=int, default=200)
    ap.add_argument("--every", type=int, default=100)
    ap.add_argument("--drift", type=float, default=1.5)
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("soak: needs root", file=sys.stderr)
        return 77
    parent = f"skiff-soak-{os.getpid()}"
    work = Path(tempfile.mkdtemp(prefix="skiff-soak."))
    s = Soak(os.path.abspath(a.skiff), work, parent)
    s.root.mkdir()
    start = counts(s.root, parent)
    print(f"soak: {a.cycles} cycles of create/start/exec/delete, then {a.parallel} at once")
    print(f"soak: at start: {start}")
    times = []
    for i in range(a.cycles):
        times.append(s.cycle(i))
        if (i + 1) % a.every == 0:
            window = [t for t in times[-a.every:] if t == t]
            med = statistics.median(window) * 1000 if window else float("nan")
            print(f"soak: {i + 1:5d} cycles, median {med:.1f} ms/cycle, {counts(s.root, parent)}")
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=a.parallel) as pool:
        par = list(pool.map(s.cycle, range(a.cycles, a.cycles + a.parallel)))
    wall = time.monotonic() - t0
    end = counts(s.root, parent)
    print(f"soak: {a.parallel} at once: {wall:.2f} s, {sum(t != t for t in par)} failed")
    print(f"soak: at end: {end}")
    failed = [t for t in times + par if t != t]
    tenth = max(1, a.cycles // 10)
    first = statistics.median([t for t in times[:tenth] if t == t] or [0])
    last = statistics.median([t for t in times[-tenth:] if t == t] or [0])
    print(f"soak: median ms/cycle, first tenth {first * 1000:.1f}, last tenth {last * 1000:.1f}")
    problems = [f"{k} grew from {start[k]} to {end[k]}" for k in start if end[k] > start[k]]
    if failed:
        problems.append(f"{len(failed)} cycles failed; first errors: {s.errors[:3]}")
    if first and last > a.drift * first:
        problems.append(f"time per cycle drifted up: {first * 1000:.1f} -> {last * 1000:.1f} ms")
    for h in host.cgroup_hierarchies():
        try:
            (h.mount / parent).rmdir()
        except OSError:
            pass
    shutil.rmtree(work, ignore_errors=True)
    for p in problems:
        print(f"soak: FAIL: {p}")
    print("soak: " + ("FAILED" if problems else "passed"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

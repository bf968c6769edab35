"""Reading /proc/self/mountinfo as printed by `/init mounts` inside a
container: the helpers of test_mounts.py."""

from __future__ import annotations

import re
from dataclasses import dataclass


def _unescape(s: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)


@dataclass
class Mount:
    id: int
    parent: int
    root: str
    point: str
    opts: set  # per-mount options (field 6)
    optional: str  # "shared:1 master:2" ...
    fstype: str
    source: str
    super_opts: set  # superblock options

    def has(self, *wanted: str) -> bool:
        """Every option is a mount or superblock option of this mount."""
        return all(w in self.opts or w in self.super_opts for w in wanted)


def parse(text: str) -> list[Mount]:
    mounts = []
    for line in text.splitlines():
        f = line.split()
        if "-" not in f or len(f) < 10:
            continue
        sep = f.index("-")
        mounts.append(
            Mount(
                id=int(f[0]),
                parent=int(f[1]),
                root=_unescape(f[3]),
                point=_unescape(f[4]),
                opts=set(f[5].split(",")),
                optional=" ".join(f[6:sep]),
                fstype=f[sep + 1],
                source=_unescape(f[sep + 2]),
                super_opts=set(f[sep + 3].split(",")),
            )
        )
    return mounts


def at(mounts: list[Mount], point: str) -> Mount | None:
    """The topmost mount at point (the one a lookup reaches), or None."""
    hit = None
    for m in mounts:
        if m.point == point:
            hit = m
    return hit


def visible(mounts: list[Mount]) -> list[Mount]:
    """The topmost mount of every mount point."""
    return [m for m in mounts if at(mounts, m.point) is m]

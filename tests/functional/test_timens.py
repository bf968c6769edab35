"""Time namespaces: linux.timeOffsets are written before the container's
init enters the namespace (the kernel allows it only then), so the
container's boot-time and monotonic clocks are shifted."""

import os

import pytest

from harness import parse_kv

pytestmark = [
    pytest.mark.skiff_only,  # runc 1.1 and crun 1.8 have no time namespaces
    pytest.mark.skipif(not os.path.exists("/proc/self/ns/time"), reason="no time namespaces"),
]

TEN_DAYS = 10 * 86400


def host_uptime() -> float:
    with open("/proc/uptime") as f:
        return float(f.read().split()[0])


def test_boottime_offset_shifts_uptime(runtime, bundle, cid):
    bundle.add_namespace("time")
    bundle.linux["timeOffsets"] = {"boottime": {"secs": TEN_DAYS, "nanosecs": 0}}
    bundle.args = ["/bin/cat", "/proc/uptime"]
    out = runtime.run(cid, bundle).ok().stdout
    inside = float(out.split()[0])
    assert inside >= host_uptime() + TEN_DAYS - 60, out


def test_time_namespace_is_new(runtime, bundle, cid):
    bundle.add_namespace("time")
    bundle.args = ["/init", "ns"]
    ns = parse_kv(runtime.run(cid, bundle).ok().stdout)
    assert ns["ns.time"] != str(os.stat("/proc/self/ns/time").st_ino)


def test_offsets_without_time_namespace_fail(runtime, bundle, cid):
    bundle.linux["timeOffsets"] = {"monotonic": {"secs": 5}}
    r = runtime.run(cid, bundle).failed()
    assert "timeOffsets" in r.stderr

"""Attack class: a container's cgroup that is not its own.

A container whose id or cgroupsPath names a cgroup that already holds
processes would adopt them: `kill --all` and `delete --force` kill what is
in the container's cgroup.  Without cgroupsPath the default cgroup used to
be `/<id>` at the root of every hierarchy, so a container named
`system.slice` or `kubepods` took the host's cgroup of that name.  skiff
places the default below its own cgroup, as runc does, and refuses a
cgroup that already holds processes (itself or below), as runc 1.2 does."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import host
from harness import CGROUP_PARENT, IS_SKIFF, SYSTEMD_DRIVER, pid_alive

pytestmark = pytest.mark.skipif(SYSTEMD_DRIVER, reason="cgroupfs paths: the systemd driver names scopes")


def own_cgroup(ctrl_line: str) -> str:
    """Our cgroup in the hierarchy of /proc/self/cgroup's line for ctrl
    ("" for the cgroup2 line)."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, ctrls, path = line.split(":", 2)
        if (ctrl_line == "" and ctrls == "") or ctrl_line in ctrls.split(","):
            return path
    raise AssertionError(f"no {ctrl_line!r} line in /proc/self/cgroup")


def test_default_cgroup_is_below_the_runtimes_own(runtime, bundle, cid):
    """No cgroupsPath: the container's cgroup is below the runtime's own,
    named for the container, never `/<id>` at a hierarchy's root."""
    bundle.auto_cgroup = False
    bundle.linux.pop("cgroupsPath", None)
    bundle.args = ["/init", "cgroup"]
    out = runtime.run(cid, bundle).ok().stdout
    # the memory line on v1 and hybrid hosts, the cgroup2 line on v2
    ctrl = "" if host.cgroup_v2() else "memory"
    if not host.cgroup_v2() and not host.has_controller("memory"):
        pytest.skip("no memory hierarchy to compare with")
    mine = own_cgroup(ctrl).rstrip("/")
    theirs = None
    for line in out.splitlines():
        _, ctrls, path = line.split(":", 2)
        if ctrls == ctrl or ctrl in ctrls.split(","):
            theirs = path
    assert theirs not in (None, f"/{cid}"), out
    if IS_SKIFF:
        assert theirs == f"{mine}/skiff-{cid}", (mine, out)
    else:
        assert theirs.startswith(mine + "/"), (mine, out)


@pytest.fixture
def busy_cgroup(test_env):
    """A cgroup of "the host" below the test parent with a sleeping
    process in it, in the pids hierarchy (or cgroup2); yields (path,
    pid).  The process and the cgroup are removed afterwards."""
    ctrl = "pids" if host.has_controller("pids") else None
    h = host.hierarchy_of(ctrl) if ctrl else None
    mount = h.mount if h else host.unified_mount()
    if mount is None:
        pytest.skip("no pids or cgroup2 hierarchy to hold a process")
    path = f"/{CGROUP_PARENT}/host-{os.getpid()}"
    d = mount / path.lstrip("/") / "inner"
    d.mkdir(parents=True)
    proc = subprocess.Popen(["sleep", "1000"])
    (d / "cgroup.procs").write_text(str(proc.pid))

    def cleanup():
        proc.kill()
        proc.wait()
        for x in (d, d.parent):
            try:
                x.rmdir()
            except OSError:
                pass

    test_env.add_cleanup(cleanup)
    return path, proc.pid


@pytest.mark.parametrize("where", ["itself", "below"])
@pytest.mark.xfail_runtime("runc", reason="runc 1.1 adopts the cgroup (runc 1.2 refuses it)")
def test_cgroup_holding_processes_is_refused(runtime, bundle, cid, busy_cgroup, where):
    path, pid = busy_cgroup
    bundle.auto_cgroup = False
    bundle.linux["cgroupsPath"] = path + ("/inner" if where == "itself" else "")
    bundle.args = ["sleep", "1000"]
    r = runtime.create(cid, bundle).failed()
    if IS_SKIFF:
        assert "linux.cgroupsPath: cgroup" in r.stderr and "already exists and holds processes" in r.stderr, r.describe()
        assert f"pid {pid}" in r.stderr, r.describe()
    assert runtime.state_dirs() == []
    runtime.delete(cid, force=True)
    assert pid_alive(pid), "the host's process was killed"
    mount = host.hierarchy_of("pids").mount if host.has_controller("pids") else host.unified_mount()
    assert (mount / path.lstrip("/") / "inner").is_dir(), "the host's cgroup was removed"

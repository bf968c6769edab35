"""Attack class: state that lies or hides.

A container whose state.json is truncated, empty, garbage, a directory
or a FIFO used to vanish from `list` (no line, no warning) and stay behind
after `delete --force`.  `list` shows it with status "unknown" and says
why; `state` names it; `delete --force` removes it, killing its processes
through the cgroup its saved config.json names (create made sure that
cgroup held nothing else)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

import host
from harness import SYSTEMD_DRIVER, cgroup_path, pid_alive, wait_for

pytestmark = pytest.mark.skiff_only


def break_state(path, how):
    f = path / "state.json"
    if how == "truncated":
        f.write_text(f.read_text()[:20])
    elif how == "empty":
        f.write_text("")
    elif how == "garbage":
        f.write_bytes(b"\x00\xff garbage")
    else:
        f.unlink()
        os.mkdir(f) if how == "directory" else os.mkfifo(f)


@pytest.mark.parametrize("how", ["truncated", "empty", "garbage", "directory", "fifo"])
def test_broken_state_is_shown_named_and_cleaned_up(runtime, bundle, cid, how):
    bundle.args = ["sleep", "1000"]
    pid = runtime.create_started(cid, bundle)["pid"]
    cg = host.cgroup_dir("pids" if host.has_controller("pids") else "memory", cgroup_path(bundle))
    other = f"{cid}-ok"
    runtime.create(other, bundle).ok()
    break_state(runtime.root / cid, how)

    r = runtime.list("--format", "json", timeout=10).ok()
    listed = {c["id"]: c for c in json.loads(r.stdout)}
    assert listed[cid]["status"] == "unknown", r.describe()
    assert listed[other]["status"] == "created", r.describe()
    assert f"container `{cid}`" in r.stderr, r.describe()

    r = runtime.state_result(cid, timeout=10).failed()
    assert f"container `{cid}`" in r.stderr, r.describe()

    runtime.delete(cid, force=True, timeout=10).ok()
    wait_for(lambda: not pid_alive(pid), what="the container's init to be killed")
    assert cid not in runtime.state_dirs()
    assert not cg.exists(), cg
    assert runtime.status(other) == "created"


def test_broken_state_without_absolute_cgroup_leaves_processes(runtime, bundle, cid, test_env):
    """A relative cgroupsPath depends on the caller's own cgroup: delete
    cannot prove what is there is the container's, says so, and leaves it
    (the test removes it afterwards, pass or fail)."""
    if SYSTEMD_DRIVER:
        pytest.skip("the systemd driver names scopes, not relative paths")
    bundle.auto_cgroup = False
    rel = f"skiff-state-{cid}"
    bundle.linux["cgroupsPath"] = rel
    bundle.args = ["sleep", "1000"]
    pid = runtime.create_started(cid, bundle)["pid"]
    own = {l.split(":", 2)[2] for l in Path("/proc/self/cgroup").read_text().splitlines()}
    dirs = [h.mount / o.lstrip("/") / rel for h in host.cgroup_hierarchies() for o in own]

    def cleanup():
        if pid_alive(pid):
            os.kill(pid, 9)
            wait_for(lambda: not pid_alive(pid), what="the init to die")
        for d in dirs:
            if d.is_dir():
                wait_for(lambda d=d: _rmdir(d), what=f"rmdir {d}")

    test_env.add_cleanup(cleanup)
    break_state(runtime.root / cid, "garbage")
    r = runtime.delete(cid, force=True, timeout=10).ok()
    assert "cannot be proved its own and are left" in r.stderr, r.describe()
    assert cid not in runtime.state_dirs()
    assert pid_alive(pid)


def _rmdir(d):
    try:
        d.rmdir()
        return True
    except FileNotFoundError:
        return True
    except OSError:
        return False


def test_full_state_root_leaves_nothing(runtime, bundle, cid, workdir, test_env):
    """A state root out of inodes at every step of create: create fails
    with ENOSPC and leaves no directory, cgroup or process; the id stays
    free."""
    tiny = workdir / "tiny-root"
    tiny.mkdir()
    bundle.args = ["sleep", "1000"]
    for inodes in range(2, 8):
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"nr_inodes={inodes},size=1m", "tmpfs", str(tiny)], check=True)
        try:
            r = runtime("--root", str(tiny), "create", "--bundle", str(bundle.save(cid)), cid)
            if r.returncode == 0:
                runtime("--root", str(tiny), "delete", "--force", cid).ok()
            else:
                assert "No space left on device" in r.stderr, r.describe()
            assert os.listdir(tiny) == [], (inodes, os.listdir(tiny))
            cg = host.cgroup_dir("pids" if host.has_controller("pids") else "memory", cgroup_path(bundle))
            assert not cg.exists(), (inodes, cg)
        finally:
            subprocess.run(["umount", str(tiny)], check=True)

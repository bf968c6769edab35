"""Attack class: a pid that is no longer the container's.

state.json records the init's pid and its start time.  When the start
time was missing, `kill` signalled whatever process had that pid now and
`exec` joined its namespaces.  skiff acts on a pid only when its start
time proves it is the init (and signals through a pidfd, so it cannot be
reused in between); otherwise it says so, and `delete --force` cleans up
through the container's cgroup."""

from __future__ import annotations

import json
import subprocess

import pytest

from harness import pid_alive, wait_for

pytestmark = pytest.mark.skiff_only


@pytest.fixture
def decoy(test_env):
    """A host process the container's state will be made to point at."""
    p = subprocess.Popen(["sleep", "1000"])
    test_env.add_cleanup(lambda: (p.kill(), p.wait()))
    return p.pid


def retarget(runtime, cid, pid, start=None):
    f = runtime.root / cid / "state.json"
    st = json.loads(f.read_text())
    st["pid"] = pid
    if start is None:
        st.pop("pid_start", None)
    else:
        st["pid_start"] = start
    f.write_text(json.dumps(st))


@pytest.mark.parametrize("start", ["missing", "wrong"])
def test_unprovable_pid_is_never_acted_on(runtime, bundle, cid, decoy, workdir, start):
    bundle.args = ["sleep", "1000"]
    init = runtime.create_started(cid, bundle)["pid"]
    st = json.loads((runtime.root / cid / "state.json").read_text())
    retarget(runtime, cid, decoy, None if start == "missing" else st["pid_start"])

    r = runtime.kill(cid, "KILL")
    r.failed()
    assert pid_alive(decoy), "kill signalled a process that is not the container's"

    marker = workdir / "exec-wrote-here"
    r = runtime.exec(cid, "/bin/sh", "-c", f"echo x > {marker}")
    r.failed()
    assert not marker.exists(), "exec joined the namespaces of a process that is not the container's"

    if start == "missing":
        r = runtime.state_result(cid).failed()
        assert "cannot be proved to be the container's init" in r.stderr, r.describe()
    else:
        assert runtime.status(cid) == "stopped"

    runtime.delete(cid, force=True).ok()
    wait_for(lambda: not pid_alive(init), what="the container's init to be killed")
    assert pid_alive(decoy)
    assert cid not in runtime.state_dirs()

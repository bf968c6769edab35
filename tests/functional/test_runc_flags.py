"""runc 1.4's flags that managers use: --pidfd-socket (create, run,
exec), run --no-subreaper, exec --cgroup and --ignore-paused, and exec's
fallback to the init's cgroup when the container's has no room for
processes (cgroup v2)."""

from __future__ import annotations

import array
import os
import socket
import threading
import time
from pathlib import Path

import pytest

import host
from harness import SYSTEMD_DRIVER, cgroup_path, wait_for


class FdReceiver:
    """A unix socket that takes one connection and keeps the fd it sends
    (SCM_RIGHTS) with its payload."""

    def __init__(self, path: Path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(1)
        self.sock.settimeout(20)
        self.fd = None
        self.name = None
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        conn, _ = self.sock.accept()
        with conn:
            fds = array.array("i")
            msg, anc, _flags, _addr = conn.recvmsg(256, socket.CMSG_SPACE(fds.itemsize))
            for level, kind, data in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.frombytes(data[: fds.itemsize])
            self.fd = fds[0] if fds else None
            self.name = msg.decode()

    def pid_of_fd(self) -> int:
        """The pid a received pidfd names (its fdinfo's Pid line)."""
        self.thread.join(20)
        assert self.fd is not None, "no fd received"
        info = Path(f"/proc/self/fdinfo/{self.fd}").read_text()
        assert os.readlink(f"/proc/self/fd/{self.fd}") == "anon_inode:[pidfd]", info
        return int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pid:")))

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
        self.sock.close()


@pytest.fixture
def receiver(test_env):
    made = []

    def make(name="pidfd.sock"):
        r = FdReceiver(test_env.workdir / name)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


# ------------------------------------------------------------ --pidfd-socket


def test_create_sends_a_pidfd_of_the_init(runtime, bundle, cid, receiver):
    rx = receiver()
    bundle.args = ["sleep", "100"]
    runtime.create(cid, bundle, "--pidfd-socket", str(rx.path)).ok()
    assert rx.pid_of_fd() == runtime.state(cid)["pid"]
    assert rx.name == "pidfd"


def test_run_detached_sends_a_pidfd(runtime, bundle, cid, receiver):
    rx = receiver()
    bundle.args = ["sleep", "100"]
    runtime.run(cid, bundle, "--pidfd-socket", str(rx.path), detach=True).ok()
    assert rx.pid_of_fd() == runtime.state(cid)["pid"]


def test_exec_sends_a_pidfd_of_its_process(runtime, bundle, cid, receiver, workdir):
    rx = receiver()
    bundle.args = ["sleep", "100"]
    runtime.create_started(cid, bundle)
    pidfile = workdir / "exec.pid"
    runtime.exec(
        cid, "sleep", "50", opts=["-d", "--pid-file", str(pidfile), "--pidfd-socket", str(rx.path)]
    ).ok()
    assert rx.pid_of_fd() == int(pidfile.read_text())


def test_pidfd_socket_that_does_not_listen_fails_create(runtime, bundle, cid, workdir):
    bundle.args = ["sleep", "100"]
    r = runtime.create(cid, bundle, "--pidfd-socket", str(workdir / "nobody.sock")).failed()
    assert "--pidfd-socket: connect" in r.stderr, r.describe()
    assert runtime.state_dirs() == []


# ------------------------------------------------------------ --no-subreaper


def _run_orphaning(runtime, bundle, cid, *opts):
    """A container in the host's pid namespace whose init orphans a child
    (a subshell's background job) and lives on for a while: whose child
    does the orphan become?"""
    bundle.remove_namespace("pid")
    f = bundle.shared / "orphan"
    bundle.sh("(sleep 30 & echo $! > /shared/orphan); sleep 4")
    bg = runtime.run(cid, bundle, *opts, background=True)
    orphan = wait_for(lambda: f.exists() and f.read_text().strip(), 10, what="the orphan's pid")
    return bg, int(orphan)


def _ppid(pid):
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_run_adopts_orphans_as_a_subreaper(runtime, bundle, cid):
    bg, orphan = _run_orphaning(runtime, bundle, cid)
    assert _ppid(orphan) == bg.pid
    bg.wait().ok()


def test_run_no_subreaper(runtime, bundle, cid):
    bg, orphan = _run_orphaning(runtime, bundle, cid, "--no-subreaper")
    assert _ppid(orphan) != bg.pid
    bg.wait().ok()


# ------------------------------------------------------------ --ignore-paused


def test_exec_into_paused_needs_ignore_paused(runtime, bundle, cid, workdir):
    """As with runc: refused without the flag; with it, the process joins
    the frozen cgroup, and it and the exec go on at resume."""
    bundle.args = ["sleep", "100"]
    runtime.create_started(cid, bundle)
    runtime("pause", cid).ok()
    r = runtime.exec(cid, "true").failed()
    assert "container not running (paused); --ignore-paused" in r.stderr, r.describe()
    pidfile = workdir / "exec.pid"
    bg = runtime.popen("exec", "-d", "--ignore-paused", "--pid-file", str(pidfile), cid, "sleep", "60")
    time.sleep(1)
    assert bg.proc.poll() is None and not pidfile.exists(), "the exec went on in a paused container"
    runtime("resume", cid).ok()
    bg.wait(20).ok()
    assert str(int(pidfile.read_text())) in runtime("ps", "--format", "json", cid).ok().stdout


# ------------------------------------------------------------ --cgroup


def _container_dirs(bundle):
    """The container's directory in every hierarchy."""
    path = cgroup_path(bundle).lstrip("/")
    return {h: h.mount / path for h in host.cgroup_hierarchies() if (h.mount / path).is_dir()}


def _exec_cgroups(runtime, cid, *opts):
    out = runtime.exec(cid, "cat", "/proc/self/cgroup", opts=list(opts)).ok().stdout
    return {line.split(":", 2)[1]: line.split(":", 2)[2] for line in out.splitlines()}


def test_exec_cgroup_sub_path(runtime, bundle, cid):
    bundle.args = ["sleep", "100"]
    bundle.linux["namespaces"] = [n for n in bundle.linux["namespaces"] if n["type"] != "cgroup"]
    runtime.create_started(cid, bundle)
    for h, d in _container_dirs(bundle).items():
        (d / "sub").mkdir()
        for f in ("cpuset.cpus", "cpuset.mems"):  # v1 cpuset: a new cgroup starts empty
            if not h.v2 and (d / f).exists():
                (d / "sub" / f).write_text((d / f).read_text())
    if host.cgroup_v2():
        seen = _exec_cgroups(runtime, cid, "--cgroup", "sub")
        assert seen[""] == cgroup_path(bundle) + "/sub", seen
        return
    # v1 and hybrid: the pids hierarchy in sub, the others in the container's
    base = cgroup_path(bundle)
    seen = _exec_cgroups(runtime, cid, "--cgroup", "pids:sub")
    mine = {c: p for c, p in seen.items() if p == base or p.startswith(base + "/")}
    assert any("pids" in c.split(",") for c in mine), seen
    for ctrls, path in mine.items():
        assert path == base + ("/sub" if "pids" in ctrls.split(",") else ""), (ctrls, seen)
    seen = _exec_cgroups(runtime, cid, "--cgroup", "sub")
    mine = [p for p in seen.values() if p == base or p.startswith(base + "/")]
    assert mine and all(p == base + "/sub" for p in mine), seen


@pytest.mark.parametrize("arg,msg", [
    ("../escape", "without `..`"),
    ("/abs", "relative to the container's cgroup"),
    ("no-such-sub", "no-such-sub"),
])
def test_exec_cgroup_refuses(runtime, bundle, cid, arg, msg):
    bundle.args = ["sleep", "100"]
    runtime.create_started(cid, bundle)
    r = runtime.exec(cid, "true", opts=["--cgroup", arg]).failed()
    assert "--cgroup" in r.stderr and msg in r.stderr, r.describe()


def test_exec_cgroup_unknown_controller(runtime, bundle, cid):
    bundle.args = ["sleep", "100"]
    runtime.create_started(cid, bundle)
    r = runtime.exec(cid, "true", opts=["--cgroup", "nosuchctl:sub"]).failed()
    if host.cgroup_v2():
        assert "cgroup v2 has one hierarchy" in r.stderr, r.describe()
    else:
        assert "no cgroup hierarchy of this host has `nosuchctl`" in r.stderr, r.describe()


@pytest.mark.skipif(not host.cgroup_v2(), reason="needs a pure cgroup v2 host (the no-internal-process rule)")
@pytest.mark.skipif(SYSTEMD_DRIVER, reason="systemd owns the scope's subtree_control")
def test_exec_joins_the_inits_cgroup_when_the_containers_is_busy(runtime, bundle, cid):
    """systemd in a container (or docker-in-docker) moves its init into a
    sub-cgroup and enables controllers for its children: the container's
    own cgroup can then hold no process (EBUSY), and exec joins the
    init's, as runc and crun do."""
    bundle.args = ["sleep", "100"]
    st = runtime.create_started(cid, bundle)
    top = host.CGROUP_ROOT / cgroup_path(bundle).lstrip("/")
    (top / "init").mkdir()
    (top / "init" / "cgroup.procs").write_text(str(st["pid"]))
    ctrls = (top / "cgroup.controllers").read_text().split()
    assert "pids" in ctrls, ctrls
    (top / "cgroup.subtree_control").write_text("+pids")
    seen = _exec_cgroups(runtime, cid)
    assert seen[""] == cgroup_path(bundle) + "/init", seen

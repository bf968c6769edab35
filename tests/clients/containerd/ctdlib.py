"""A private containerd: its own root, state, sockets and config, started for
a test module and stopped by its pid afterwards, leaving nothing behind."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import clientlib
from clientlib import ArgvLog, CreatedDirs, wait_for

# One namespace per run: its cgroup (/<namespace>/<id>) is then ours alone,
# even when two runs of the suite overlap.
NAMESPACE = f"skiff-clients-{os.getpid()}"
IMAGE = "docker.io/library/busybox:skiff"

# containerd 1.6 puts shim sockets in /run/containerd/s whatever its
# config says (and ctr its fifos in /run/containerd/fifo unless told).
HARDCODED_DIRS = ["/run/containerd", "/run/containerd/s", "/run/containerd/fifo"]


def base_config(base: Path, extra: str = "", disable_cri: bool = True) -> str:
    disabled = '["io.containerd.grpc.v1.cri"]' if disable_cri else "[]"
    return f"""version = 2
root = "{base}/root"
state = "{base}/state"
disabled_plugins = {disabled}

[grpc]
  address = "{base}/c.sock"

[ttrpc]
  address = "{base}/c.sock.ttrpc"

[debug]
  address = "{base}/debug.sock"
  level = "info"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "{base}/opt"
{extra}"""


class Containerd:
    def __init__(self, base: Path, runtime: str, config: str):
        self.base = base
        self.runtime = runtime
        base.mkdir(parents=True, exist_ok=True)
        self.sock = base / "c.sock"
        self.config = base / "config.toml"
        self.config.write_text(config)
        self.log = base / "containerd.log"
        self.wrapper = ArgvLog(base / "bin", runtime, "skiff")
        self.runc_root = base / "runc"  # not created: the runtime makes it
        self.fifo = base / "fifo"
        self.fifo.mkdir(exist_ok=True)
        self.created = CreatedDirs(HARDCODED_DIRS)
        # containerd puts a namespace's containers below a cgroup named
        # after it (/skiff-clients/<id>, /k8s.io/<id> for CRI)
        self.new_cgroups = [d for ns in (NAMESPACE, "k8s.io") for d in clientlib.cgroup_dirs(ns)
                            if not d.exists()]
        self.proc = None

    def start(self):
        if len(str(self.sock)) > 100:
            raise RuntimeError(f"socket path too long: {self.sock}")
        logf = open(self.log, "wb")
        self.proc = subprocess.Popen(
            ["containerd", "--config", str(self.config)],
            stdout=logf, stderr=subprocess.STDOUT, start_new_session=True,
        )
        logf.close()

        def up():
            if self.proc.poll() is not None:
                raise AssertionError(f"containerd exited {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            if not self.sock.exists():
                return False
            return self.ctr("version", check=False).returncode == 0

        wait_for(up, timeout=30, what="containerd serving")

    def ctr(self, *args, check=True, timeout=60, namespace=NAMESPACE):
        mark = self.wrapper.mark()
        args = [str(a) for a in args]
        if args[:2] in (["tasks", "exec"], ["t", "exec"]):
            args[2:2] = ["--fifo-dir", str(self.fifo)]
        r = subprocess.run(
            ["ctr", "--address", str(self.sock), "--namespace", namespace] + args,
            capture_output=True, text=True, timeout=timeout,
        )
        if check and r.returncode != 0:
            calls = "\n".join("  " + ArgvLog.show(c) for c in self.wrapper.since(mark))
            raise AssertionError(
                f"ctr {' '.join(map(str, args))} exited {r.returncode}\n"
                f"stdout: {r.stdout}\nstderr: {r.stderr}\nruntime calls:\n{calls}"
            )
        return r

    def runtime_opts(self):
        return ["--runc-binary", str(self.wrapper.path), "--runc-root", str(self.runc_root),
                "--fifo-dir", str(self.fifo)]

    def tasks(self) -> dict:
        """{task id: (pid, status)} from `ctr tasks ls`."""
        out = {}
        for line in self.ctr("tasks", "ls").stdout.splitlines()[1:]:
            f = line.split()
            if len(f) >= 3:
                out[f[0]] = (int(f[1]), f[2])
        return out

    def remove(self, cid):
        if cid in self.tasks():
            self.ctr("tasks", "kill", "-s", "KILL", cid, check=False)
            wait_for(lambda: self.tasks().get(cid, (0, "STOPPED"))[1] == "STOPPED",
                     timeout=15, what=f"task {cid} stopped")
            self.ctr("tasks", "rm", "-f", cid, check=False)
        self.ctr("containers", "rm", cid, check=False)

    def stop(self):
        """Remove every container, stop containerd by its pid, kill shims of
        this instance (their command line names our socket), unmount what
        is left below our dirs and remove the hard-coded dirs we created."""
        if self.proc is None:
            return
        problems = []
        if self.proc.poll() is None:
            for cid in self.ctr("containers", "ls", "-q", check=False).stdout.split():
                self.remove(cid)
            self.ctr("images", "rm", IMAGE, check=False)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                problems.append("containerd ignored SIGTERM")
                self.proc.kill()
                self.proc.wait()
        deadline = time.monotonic() + 5
        while (pids := clientlib.pids_with_arg(str(self.base))) and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in pids:
            problems.append(f"process {pid} left: {Path(f'/proc/{pid}/cmdline').read_bytes()!r}")
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc = None
        clientlib.unmount_below(self.base)
        # (not empty: another containerd, or another run, uses them)
        self.created.cleanup()
        # a cgroup named after a container the runtime created and deleted
        # must be gone; parents may be shared (k8s.io) and can stay
        ids = {c[-1] for c in self.wrapper.calls_of("create")}
        problems += [f"cgroup left: {d}" for d in clientlib.remove_cgroup_trees(self.new_cgroups)
                     if Path(d).name in ids]
        return problems


def have_containerd() -> str | None:
    for tool in ("containerd", "ctr", "containerd-shim-runc-v2"):
        if shutil.which(tool) is None:
            return f"{tool} not installed: apt-get install containerd"
    return None

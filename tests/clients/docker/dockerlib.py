"""A private Docker daemon for the client suite: dockerd (Debian's docker.io
20.10) on a private containerd, both in a mount namespace of their own,
with the runtime under test and runc registered by --add-runtime.

Everything lives below one directory (sockets, data-root, exec-root,
containerd's root and state, the CLI's config); the daemons are stopped by
their pids and the teardown reports whatever is left: processes, cgroups,
mounts, directories made outside it.  See docs/clients.md.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import clientlib
from clientlib import ArgvLog, CreatedDirs, wait_for

DOCKERD = os.environ.get("SKIFF_DOCKERD", "/usr/sbin/dockerd")
# /usr/local/bin/docker may be another CLI: use the one of the package
DOCKER = os.environ.get("SKIFF_DOCKER", "/usr/bin/docker")
RUNC = os.environ.get("SKIFF_REF_RUNC", "/usr/sbin/runc")
IMAGE = "busybox:skiff"

# runtime id of a test -> the name dockerd knows it by ("runc" is dockerd's
# own reserved entry, which always runs `runc` from PATH: the reference
# gets a name of its own and goes through an argv wrapper like skiff).
DOCKER_NAMES = {"skiff": "skiff", "runc": "ref-runc"}

# containerd 1.6 puts shim sockets in /run/containerd/s whatever its config
# says; dockerd 20.10 reads and writes nothing else outside its dirs when
# given --config-file, --deprecated-key-path (else /etc/docker/key.json),
# --exec-root, --data-root and --pidfile.
HARDCODED_DIRS = ["/run/containerd", "/run/containerd/s"]
DEFAULT_PLACES = ["/etc/docker/key.json", "/var/lib/docker", "/run/docker", "/var/run/docker.sock",
                  "/run/docker.pid", "/var/lib/containerd", "/run/containerd/containerd.sock"]


def missing_tools() -> str | None:
    for path, pkg in ((DOCKERD, "docker.io"), (DOCKER, "docker.io"), ("/usr/bin/docker-init", "docker.io"),
                      ("/usr/bin/containerd", "containerd"),
                      ("/usr/bin/containerd-shim-runc-v2", "containerd"),
                      ("/usr/bin/unshare", "util-linux"), ("/usr/bin/nsenter", "util-linux")):
        if not os.access(path, os.X_OK):
            return f"{path} not installed: apt-get install {pkg}"
    return None


def storage_driver(base: Path) -> str:
    """overlay2, unless the directory is itself on overlayfs (a container's
    root), where overlay cannot stack: vfs then."""
    d = os.environ.get("SKIFF_DOCKER_STORAGE_DRIVER")
    if d:
        return d
    fs = subprocess.run(["stat", "-f", "-c", "%T", str(base)], capture_output=True, text=True).stdout.strip()
    return "vfs" if fs in ("overlayfs", "overlay") else "overlay2"


def containerd_config(base: Path) -> str:
    return f"""version = 2
root = "{base}/ctd/root"
state = "{base}/ctd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "{base}/c.sock"

[ttrpc]
  address = "{base}/c.sock.ttrpc"

[debug]
  address = "{base}/cd.sock"
  level = "info"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "{base}/ctd/opt"
"""


class Dockerd:
    def __init__(self, base: Path, runtimes: dict, config: dict | None = None, share: Dockerd | None = None):
        """runtimes: {test id: binary}; each is reached through an argv
        wrapper named after the test id, registered with --add-runtime
        unless `config` (daemon.json settings) is given: then that file
        must name them.  `share`: use that instance's containerd (and mount
        namespace) with a containerd namespace of our own."""
        self.base = base
        base.mkdir(parents=True, exist_ok=True)
        self.share = share
        self.namespace = "moby" if share is None else f"moby-{base.name}"
        self.sock = base / "d.sock"
        self.csock = share.csock if share else base / "c.sock"
        self.data = base / "data"
        self.exec_root = base / "exec"
        # the shim's --root for every runtime dockerd 20.10 registers
        self.runtime_root = self.exec_root / "runtime-runc" / self.namespace
        self.ctd_log = (share or self).base / "containerd.log"
        self.log = base / "dockerd.log"
        self.ctd_state = (share or self).base / "ctd" / "state" / "io.containerd.runtime.v2.task" / self.namespace
        self.cgroup_parent = f"skc-docker-{os.getpid()}" + (f"-{base.name}" if share else "")
        self.wrappers = {rt: ArgvLog(base / "bin", binary, rt) for rt, binary in runtimes.items()}
        self.binaries = dict(runtimes)
        self.driver = storage_driver(base)
        if share is None:
            (base / "ctd").mkdir(exist_ok=True)
            (base / "ctd" / "config.toml").write_text(containerd_config(base))
        # dockerd reads /etc/docker/daemon.json unless told another file
        self.config = config
        daemon_json = {"deprecated-key-path": str(base / "key.json"), **(config or {})}
        (base / "daemon.json").write_text(json.dumps(daemon_json, indent=2) + "\n")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        self.env["DOCKER_CONFIG"] = str(base / "cli")
        self.cmd = [DOCKER, "-H", f"unix://{self.sock}"]
        self.created = CreatedDirs(HARDCODED_DIRS)
        self.preexisting = {p for p in DEFAULT_PLACES if os.path.lexists(p)}
        self.new_cgroups = [d for d in clientlib.cgroup_dirs(self.cgroup_parent) if not d.exists()]
        self.ctd = None  # our containerd (not when shared)
        self.ctd_pid = None
        self.dockerd = None
        self.mntns = None

    # ------------------------------------------------------------ start

    def dockerd_argv(self) -> list:
        argv = [
            DOCKERD,
            "--config-file", str(self.base / "daemon.json"),
            "--data-root", str(self.data),
            "--exec-root", str(self.exec_root),
            "--pidfile", str(self.base / "dockerd.pid"),
            "-H", f"unix://{self.sock}",
            "--containerd", str(self.csock),
            "--storage-driver", self.driver,
            "--exec-opt", "native.cgroupdriver=cgroupfs",
            "--cgroup-parent", "/" + self.cgroup_parent,
            "--bridge=none", "--iptables=false", "--ip-masq=false", "--ip6tables=false",
            "--ip-forward=false",
            "--shutdown-timeout", "5",
        ]
        if self.share:
            argv += ["--containerd-namespace", self.namespace,
                     "--containerd-plugins-namespace", f"plugins.{self.namespace}"]
        if self.config is None:
            for rt, w in self.wrappers.items():
                argv += ["--add-runtime", f"{DOCKER_NAMES[rt]}={w.path}"]
        return argv

    def start(self):
        for s in (self.sock, self.csock):
            if len(str(s)) > 100:
                raise RuntimeError(f"socket path too long: {s}")
        if self.share:
            self.ctd_pid, self.mntns = self.share.ctd.pid, self.share.mntns
        else:
            self.start_containerd()
        # dockerd joins containerd's mount namespace (nsenter execs it too)
        with open(self.log, "wb") as logf:
            self.dockerd = subprocess.Popen(
                ["nsenter", f"--target={self.ctd_pid}", "--mount"] + self.dockerd_argv(),
                stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )

        def up():
            if self.dockerd.poll() is not None:
                raise AssertionError(f"dockerd exited {self.dockerd.returncode}:\n{self.log.read_text()[-3000:]}")
            if not self.sock.exists():
                return False
            return self("version", check=False).returncode == 0

        wait_for(up, timeout=60, interval=0.2, what="dockerd serving")

    def start_containerd(self):
        # containerd in a new mount namespace (private propagation: none of
        # its, dockerd's or the shims' mounts reach the host's table, and
        # they all go when the last process in it exits); unshare execs
        # containerd, so the pid is containerd's own.
        with open(self.ctd_log, "wb") as logf:
            self.ctd = subprocess.Popen(
                ["unshare", "--mount", "--propagation", "private",
                 "containerd", "--config", str(self.base / "ctd" / "config.toml")],
                stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )

        def ctd_up():
            if self.ctd.poll() is not None:
                raise AssertionError(f"containerd exited {self.ctd.returncode}:\n{self.ctd_log.read_text()[-3000:]}")
            return self.csock.exists() and "serving..." in self.ctd_log.read_text()

        wait_for(ctd_up, timeout=30, what="containerd serving")
        self.ctd_pid = self.ctd.pid
        self.mntns = os.readlink(f"/proc/{self.ctd.pid}/ns/mnt")
        assert self.mntns != os.readlink("/proc/self/ns/mnt")

    # ------------------------------------------------------------ the CLI

    def __call__(self, *args, check=True, timeout=60, input=None):
        marks = {rt: w.mark() for rt, w in self.wrappers.items()}
        r = subprocess.run(self.cmd + [str(a) for a in args], env=self.env, capture_output=True,
                           text=True, timeout=timeout, input=input)
        if check and r.returncode != 0:
            raise AssertionError(
                f"docker {' '.join(map(str, args))} exited {r.returncode}\n"
                f"stdout: {r.stdout}\nstderr: {r.stderr}\n" + self.calls_since(marks))
        return r

    def marks(self) -> dict:
        return {rt: w.mark() for rt, w in self.wrappers.items()}

    def calls_since(self, marks) -> str:
        out = ""
        for rt, w in self.wrappers.items():
            calls = w.since(marks[rt])
            if calls:
                out += f"{rt} calls:\n" + "".join(f"  {ArgvLog.show(c)}\n" for c in calls)
        return out

    def inspect(self, name, fmt) -> str:
        return self("inspect", "-f", fmt, name).stdout.strip()

    def status(self, name) -> str:
        return self.inspect(name, "{{.State.Status}}")

    def pid(self, name) -> int:
        return int(self.inspect(name, "{{.State.Pid}}"))

    def logs(self, name) -> str:
        r = self("logs", name)
        return r.stdout + r.stderr

    def created_ids(self, rt) -> set:
        return {c[-1] for c in self.wrappers[rt].calls_of("create")}

    def runtime_containers(self, rt) -> set:
        """Containers docker created with runtime `rt` that it still lists
        in the shim's root."""
        if not self.runtime_root.is_dir():
            return set()
        r = subprocess.run([self.binaries[rt], "--root", str(self.runtime_root), "list", "-q"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r
        return set(r.stdout.split()) & self.created_ids(rt)

    # ------------------------------------------------------------ stop

    def _stop_proc(self, proc, what, problems, timeout=30):
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            problems.append(f"{what} ignored SIGTERM for {timeout}s")
            proc.kill()
            proc.wait()

    def _in_our_mntns(self) -> list:
        out = []
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    if os.readlink(f"/proc/{d}/ns/mnt") == self.mntns:
                        out.append(int(d))
                except OSError:
                    pass
        return out

    def stop(self) -> list:
        """Remove every container, stop dockerd then containerd by pid; then
        report (and clean up) processes, mounts, cgroups and directories
        that are left."""
        problems = []
        if self.dockerd is not None and self.dockerd.poll() is None:
            ids = self("ps", "-aq", check=False).stdout.split()
            if ids:
                self("rm", "-f", *ids, check=False, timeout=120)
            self("volume", "prune", "-f", check=False)
        self._stop_proc(self.dockerd, "dockerd", problems)
        self._stop_proc(self.ctd, "containerd", problems)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            left = set(clientlib.pids_with_arg(str(self.base)))
            if self.mntns and not self.share:
                left |= set(self._in_our_mntns())
            if not left:
                break
            time.sleep(0.1)
        for pid in left:
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                os.kill(pid, signal.SIGKILL)
            except OSError:
                continue
            problems.append(f"process {pid} left: {cmd!r}")
        self.dockerd = self.ctd = None
        found = clientlib.unmount_below(self.base)
        problems += [f"mount on the host: {m}" for m in found]
        self.created.cleanup()
        for p in DEFAULT_PLACES:
            if p not in self.preexisting and os.path.lexists(p):
                problems.append(f"made outside its dirs: {p}")
        # every container's cgroup must be gone (the runtime removes it at
        # delete); the parent is ours alone
        owner = {i: rt for rt in self.wrappers for i in self.created_ids(rt)}
        for top in self.new_cgroups:
            if top.is_dir():
                for sub in top.iterdir():
                    if sub.is_dir():
                        problems.append(f"cgroup left: {sub} (runtime {owner.get(sub.name, '?')})")
        problems += [f"cgroup not removable: {d}" for d in clientlib.remove_cgroup_trees(self.new_cgroups)]
        return problems

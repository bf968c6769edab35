"""Shared helpers of the client suite (podman, containerd): the runtime under
test, an argv-logging wrapper, the busybox image, cgroup and cleanup helpers.
See docs/clients.md."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOP = HERE.parent.parent
BUSYBOX = "/bin/busybox"


def runtime_path() -> str:
    return os.path.abspath(os.environ.get("SKIFF", str(TOP / "src" / "skiff")))


def runtime_commands(runtime: str) -> set:
    """Commands listed by `RUNTIME --help` (skiff's and runc's layout)."""
    try:
        out = subprocess.run(
            [runtime, "--help"], capture_output=True, text=True, timeout=10
        ).stdout
    except OSError:
        return set()
    cmds = set()
    section = False
    for line in out.splitlines():
        if re.match(r"^(Commands|COMMANDS):", line):
            section = True
            continue
        if section:
            m = re.match(r"^\s+(\w[\w-]*)", line)
            if m:
                cmds.add(m.group(1))
            elif line.strip() == "" and cmds:
                section = False
    return cmds


# ----------------------------------------------------------- argv logging


class ArgvLog:
    """A wrapper script that appends its argv to a log, then execs the
    runtime.  Each call is one line, arguments separated by \\x1f, so the
    exact command line a client used can be asserted on and reported."""

    def __init__(self, directory: Path, runtime: str, name: str = "skiff"):
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / name
        self.log = directory / f"{name}.argv"
        self.log.touch()
        self.path.write_text(
            "#!/bin/sh\n"
            f"{{ for a in \"$@\"; do printf '%s\\037' \"$a\"; done; printf '\\n'; }} >> '{self.log}'\n"
            f"exec '{runtime}' \"$@\"\n"
        )
        self.path.chmod(0o755)

    def calls(self) -> list:
        out = []
        for line in self.log.read_text().splitlines():
            out.append(line.rstrip("\x1f").split("\x1f") if line else [])
        return out

    def calls_of(self, command: str) -> list:
        """Calls whose subcommand (first non-flag word) is `command`."""
        return [c for c in self.calls() if subcommand(c) == command]

    def mark(self) -> int:
        return len(self.calls())

    def since(self, mark: int) -> list:
        return self.calls()[mark:]

    @staticmethod
    def show(call) -> str:
        return " ".join(call)


_GLOBAL_WITH_VALUE = {"--root", "--log", "--log-format", "--criu", "--rootless"}


def subcommand(call) -> str | None:
    i = 0
    while i < len(call):
        a = call[i]
        if a in _GLOBAL_WITH_VALUE:
            i += 2
            continue
        if a.startswith("-"):
            i += 1
            continue
        return a
    return None


# ------------------------------------------------------------ the image


def busybox_rootfs_tar(dest: Path) -> Path:
    """A rootfs tarball: static busybox with its applet links, /etc/passwd
    and /etc/group (root, nobody, user 1000)."""
    if not os.path.exists(BUSYBOX):
        raise FileNotFoundError(f"{BUSYBOX} missing: apt-get install busybox-static")
    applets = subprocess.run(
        [BUSYBOX, "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    files = {
        "etc/passwd": "root:x:0:0:root:/root:/bin/sh\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
        "user:x:1000:1000:user:/home/user:/bin/sh\n",
        "etc/group": "root:x:0:\nnobody:x:65534:\nuser:x:1000:\n",
    }

    def info(name, kind=tarfile.REGTYPE, mode=0o644, size=0, link=""):
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.size, ti.linkname = kind, mode, size, link
        ti.mtime = 0
        return ti

    with tarfile.open(dest, "w") as tf:
        for d in ("bin", "etc", "dev", "proc", "sys", "root", "home", "home/user", "run", "var"):
            tf.addfile(info(d, tarfile.DIRTYPE, 0o755))
        tf.addfile(info("tmp", tarfile.DIRTYPE, 0o1777))
        data = Path(BUSYBOX).read_bytes()
        tf.addfile(info("bin/busybox", mode=0o755, size=len(data)), io.BytesIO(data))
        for a in applets:
            if a != "busybox" and "/" not in a:
                tf.addfile(info(f"bin/{a}", tarfile.SYMTYPE, 0o777, link="busybox"))
        for name, text in files.items():
            b = text.encode()
            tf.addfile(info(name, size=len(b)), io.BytesIO(b))
    return dest


def oci_archive(layer_tar: Path, dest: Path, ref: str, cmd=("sh",)) -> Path:
    """An OCI image layout tarball of one gzip layer, named `ref` (as `ctr
    images import` reads it from the io.containerd.image.name annotation)."""
    layer = layer_tar.read_bytes()
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    gz = gzip.compress(layer, mtime=0)

    with tarfile.open(dest, "w") as tf:

        def add(name, data, kind=tarfile.REGTYPE):
            ti = tarfile.TarInfo(name)
            ti.type, ti.mode, ti.mtime = kind, 0o755 if kind == tarfile.DIRTYPE else 0o644, 0
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data) if data else None)

        def blob(data):
            d = hashlib.sha256(data).hexdigest()
            add(f"blobs/sha256/{d}", data)
            return {"digest": f"sha256:{d}", "size": len(data)}

        add("blobs", b"", tarfile.DIRTYPE)
        add("blobs/sha256", b"", tarfile.DIRTYPE)
        layer_desc = blob(gz)
        config = {
            "architecture": "amd64" if os.uname().machine == "x86_64" else os.uname().machine,
            "os": "linux",
            "config": {"Env": ["PATH=/bin"], "Cmd": list(cmd)},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        }
        if config["architecture"] == "aarch64":
            config["architecture"] = "arm64"
        config_desc = blob(json.dumps(config).encode())
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config_desc},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **layer_desc}],
        }
        manifest_desc = blob(json.dumps(manifest).encode())
        index = {
            "schemaVersion": 2,
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    **manifest_desc,
                    "annotations": {
                        "io.containerd.image.name": ref,
                        "org.opencontainers.image.ref.name": ref.rsplit(":", 1)[-1],
                    },
                }
            ],
        }
        add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add("index.json", json.dumps(index).encode())
    return dest


# ------------------------------------------------------------- cgroups


def cgroup_v2_unified() -> bool:
    return os.path.exists("/sys/fs/cgroup/cgroup.controllers")


def cgroup_file(pid: int, controller: str, v1_file: str, v2_file: str) -> Path:
    """The host path of a controller file of the cgroup `pid` is in."""
    with open(f"/proc/{pid}/cgroup") as f:
        lines = [l.rstrip("\n").split(":", 2) for l in f]
    if cgroup_v2_unified():
        path = next(p for h, c, p in lines if h == "0")
        return Path("/sys/fs/cgroup" + path) / v2_file
    path = next(p for h, c, p in lines if controller in c.split(","))
    return Path(f"/sys/fs/cgroup/{controller}" + path) / v1_file


# ------------------------------------------------------------- waiting


def wait_for(pred, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# ------------------------------------------------------------- cleanup


def mounts_below(top: Path) -> list:
    t = str(top)
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4]
            if mp == t or mp.startswith(t + "/"):
                out.append(mp)
    return out


def unmount_below(top: Path) -> list:
    """Lazily unmount whatever is still mounted below `top` (deepest first);
    returns what was found."""
    found = mounts_below(top)
    for mp in sorted(found, key=len, reverse=True):
        subprocess.run(["umount", "-l", mp], capture_output=True)
    return found


def remove_tree(top: Path):
    unmount_below(top)
    shutil.rmtree(top, ignore_errors=True)


class CreatedDirs:
    """Directories a client creates outside its private dirs (hard-coded
    paths): remember which did not exist, remove them afterwards if empty."""

    def __init__(self, paths):
        self.missing = [Path(p) for p in paths if not os.path.exists(p)]

    def cleanup(self) -> list:
        """Returns those that could not be removed (not empty)."""
        stuck = []
        for p in sorted(self.missing, key=lambda x: len(str(x)), reverse=True):
            try:
                p.rmdir()
            except FileNotFoundError:
                pass
            except OSError:
                stuck.append(p)
        return stuck


def cgroup_dirs(name: str) -> list:
    """`name` below the root of every cgroup hierarchy (v1 controllers,
    the v2 root)."""
    roots = [Path("/sys/fs/cgroup")] + [p for p in Path("/sys/fs/cgroup").iterdir()
                                        if p.is_dir() and (p / "cgroup.procs").exists()]
    return [r / name for r in roots]


def remove_cgroup_trees(paths) -> list:
    """rmdir each cgroup tree bottom-up; returns the ones that stayed."""
    stuck = []
    for top in paths:
        if not top.is_dir():
            continue
        for d, _subdirs, _files in sorted(os.walk(top), key=lambda t: len(t[0]), reverse=True):
            try:
                os.rmdir(d)
            except OSError:
                stuck.append(d)
    return stuck


def pids_with_arg(substring: str) -> list:
    """Processes whose command line mentions `substring` (a private dir of
    the test, so only the test's own processes match)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{d}/cmdline").read_bytes()
        except OSError:
            continue
        if substring.encode() in cmd and int(d) != os.getpid():
            out.append(int(d))
    return out


# ------------------------------------------------------------- terminals


class PtySession:
    """A client run on a new pty as its controlling terminal (as from an
    interactive shell): write keys, read what the screen gets."""

    def __init__(self, argv, env=None, rows=30, cols=100):
        import fcntl
        import struct
        import termios

        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

        def ctty():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env,
            preexec_fn=ctty, close_fds=True,
        )
        os.close(slave)
        self.out = b""
        self.eof = False

    def read_until(self, token: bytes, timeout: float) -> bool:
        import select

        deadline = time.monotonic() + timeout
        while token not in self.out and not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([self.master], [], [], left)
            if not r:
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # EIO: every slave fd is closed
                chunk = b""
            if not chunk:
                self.eof = True
            self.out += chunk
        return token in self.out

    def write(self, data: bytes):
        os.write(self.master, data)

    def finish(self, timeout=30):
        """Read to the end, wait for the client; returns (exit code, text)."""
        try:
            self.read_until(b"\0never\0", timeout)
            rc = self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            os.close(self.master)
        return rc, self.text

    @property
    def text(self) -> str:
        return self.out.decode(errors="replace")

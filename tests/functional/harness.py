"""Helpers for the functional suite: the runtime driver, bundles, the
busybox rootfs, parsing of the in-container helper's output and the leak
snapshots.  Fixtures live in conftest.py; tests import what they need from
here (``from harness import parse_kv, ...``)."""

from __future__ import annotations

import copy
import itertools
import json
import os
import pwd
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path

import host

TESTS_DIR = Path(__file__).resolve().parents[1]
REPO_DIR = TESTS_DIR.parent

RUNTIME = os.path.abspath(os.environ.get("SKIFF") or REPO_DIR / "src" / "skiff")
RUNTIME_NAME = os.path.basename(RUNTIME)
IS_SKIFF = RUNTIME_NAME == "skiff"
# Extra global flags put before --root on every invocation (e.g. for a
# runtime that needs --cgroup-manager=... on this host).
GLOBAL_ARGS = shlex.split(os.environ.get("SKIFF_GLOBAL_ARGS", ""))
# The cgroup driver every container is created with: "cgroupfs", or
# "systemd" (--systemd-cgroup on every call, cgroupsPath slice:prefix:name,
# each container a scope in the session's slice).
CGROUP_DRIVER = os.environ.get("SKIFF_TEST_CGROUP_DRIVER", "cgroupfs")
SYSTEMD_DRIVER = CGROUP_DRIVER == "systemd"
if SYSTEMD_DRIVER and "--systemd-cgroup" not in GLOBAL_ARGS:
    GLOBAL_ARGS.append("--systemd-cgroup")
# Seconds any one runtime invocation may take before the test fails.
TIMEOUT = float(os.environ.get("SKIFF_TEST_TIMEOUT", "30"))

BUSYBOX = "/bin/busybox"
TOKEN_VAR = "SKIFF_TEST_TOKEN"
CGROUP_ROOT = Path("/sys/fs/cgroup")
# All containers' cgroups live below this parent in every hierarchy (the
# systemd driver: a slice, no dash, which would nest it).
SYSTEMD_SLICE = f"skifftest{os.getpid()}.slice"
CGROUP_PARENT = SYSTEMD_SLICE if SYSTEMD_DRIVER else f"skiff-test-{os.getpid()}"

PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Capability numbers (linux/capability.h).
CAPS = {
    name: num
    for num, name in enumerate(
        "CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID "
        "SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN "
        "NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE "
        "SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME "
        "SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP "
        "MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ "
        "PERFMON BPF CHECKPOINT_RESTORE".split()
    )
}
DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]


def cap_mask(names) -> int:
    """The mask a container asking for these capabilities gets: those of
    them in the runtime's bounding set (skiff leaves the others out)."""
    mask = 0
    for n in names:
        mask |= 1 << CAPS[n.removeprefix("CAP_")]
    return mask & host.bounding_set()


def default_config(args, token: str) -> dict:
    """runc-spec-like defaults, non-terminal, with the test token in env."""
    caps = list(DEFAULT_CAPS)
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": list(args),
            "env": [PATH_ENV, "TERM=xterm", f"{TOKEN_VAR}={token}"],
            "cwd": "/",
            "capabilities": {
                "bounding": list(caps),
                "effective": list(caps),
                "permitted": list(caps),
                "ambient": list(caps),
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "skiff",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {
                "destination": "/dev",
                "type": "tmpfs",
                "source": "tmpfs",
                "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
            },
            {
                "destination": "/dev/pts",
                "type": "devpts",
                "source": "devpts",
                "options": [
                    "nosuid",
                    "noexec",
                    "newinstance",
                    "ptmxmode=0666",
                    "mode=0620",
                    "gid=5",
                ],
            },
            {
                "destination": "/dev/shm",
                "type": "tmpfs",
                "source": "shm",
                "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
            },
            {
                "destination": "/dev/mqueue",
                "type": "mqueue",
                "source": "mqueue",
                "options": ["nosuid", "noexec", "nodev"],
            },
            {
                "destination": "/sys",
                "type": "sysfs",
                "source": "sysfs",
                "options": ["nosuid", "noexec", "nodev", "ro"],
            },
            {
                "destination": "/sys/fs/cgroup",
                "type": "cgroup",
                "source": "cgroup",
                "options": ["nosuid", "noexec", "nodev", "relatime", "ro"],
            },
        ],
        "linux": {
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [
                {"type": t} for t in ("pid", "network", "ipc", "uts", "mount")
            ],
            "maskedPaths": [
                "/proc/acpi",
                "/proc/asound",
                "/proc/kcore",
                "/proc/keys",
                "/proc/latency_stats",
                "/proc/timer_list",
                "/proc/timer_stats",
                "/proc/sched_debug",
                "/sys/firmware",
                "/proc/scsi",
            ],
            "readonlyPaths": [
                "/proc/bus",
                "/proc/fs",
                "/proc/irq",
                "/proc/sys",
                "/proc/sysrq-trigger",
            ],
        },
    }


# ----------------------------------------------------------------- output


def parse_kv(text: str) -> dict:
    """Parse the helper's key=value lines (later keys win)."""
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key] = value
    return out


def parse_env(text: str) -> dict:
    return parse_kv(text)


def parse_sections(text: str, sep: str = "---") -> list:
    """Split output at lines equal to sep and parse each part as key=value
    lines (for `sh -c "/init a; echo ---; /init b"`)."""
    parts, cur = [], []
    for line in text.splitlines():
        if line == sep:
            parts.append("\n".join(cur))
            cur = []
        else:
            cur.append(line)
    parts.append("\n".join(cur))
    return [parse_kv(p) for p in parts]


def wait_for(pred, timeout=10.0, interval=0.02, what="condition"):
    """Poll pred() until it returns a truthy value; return it or fail."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
        interval = min(interval * 1.5, 0.2)


def pid_alive(pid: int) -> bool:
    """True if pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return False
    state = stat[stat.rindex(")") + 2]
    return state not in "ZX"


# ----------------------------------------------------------------- rootfs


def build_rootfs(dest: Path, init_bin: str) -> Path:
    """A minimal busybox rootfs with the helper as /init."""
    dest.mkdir(parents=True, exist_ok=True)
    for d in ("bin", "proc", "sys", "dev", "tmp", "etc", "root", "home/user", "mnt"):
        (dest / d).mkdir(parents=True, exist_ok=True)
    os.chmod(dest / "tmp", 0o1777)
    os.chmod(dest / "root", 0o700)
    shutil.copy2(BUSYBOX, dest / "bin" / "busybox")
    applets = subprocess.run(
        [BUSYBOX, "--list"], capture_output=True, text=True, check=True, timeout=10
    ).stdout.split()
    for a in applets:
        p = dest / "bin" / a
        if a != "busybox" and "/" not in a and not p.exists():
            p.symlink_to("busybox")
    shutil.copy2(init_bin, dest / "init")
    os.chmod(dest / "init", 0o755)
    os.link(dest / "init", dest / "bin" / "skiff-init")
    (dest / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\n"
        "user:x:1000:1000:user:/home/user:/bin/sh\n"
        "nobody:x:65534:65534:nobody:/:/bin/false\n"
    )
    (dest / "etc" / "group").write_text(
        "root:x:0:\ntty:x:5:\nuser:x:1000:\nextra:x:2000:user\nnogroup:x:65534:\n"
    )
    os.chown(dest / "home" / "user", 1000, 1000)
    return dest


def clone_tree(src: Path, dst: Path, hardlink_over: int = 65536):
    """Copy a tree, hard-linking large regular files (busybox, init)."""
    dst.mkdir(mode=0o755)
    shutil.copystat(src, dst)
    for entry in os.scandir(src):
        s, d = Path(entry.path), dst / entry.name
        st = entry.stat(follow_symlinks=False)
        if entry.is_symlink():
            os.symlink(os.readlink(s), d)
        elif entry.is_dir(follow_symlinks=False):
            clone_tree(s, d, hardlink_over)
        elif hardlink_over and st.st_size > hardlink_over:
            os.link(s, d)
        else:
            shutil.copy2(s, d)
        if not entry.is_symlink():
            os.chown(d, st.st_uid, st.st_gid)


# ----------------------------------------------------------------- bundle


class Bundle:
    """A bundle directory with a config dict the test mutates.

    The runtime helpers save it (and fill in the cgroupsPath for the
    container id when cgroups_path is left as None) before each create/run.
    """

    def __init__(self, path: Path, config: dict):
        self.path = path
        self.rootfs = path / "rootfs"
        self.config = config
        self.auto_cgroup = True
        self._shared = None

    # Shortcuts ---------------------------------------------------------
    @property
    def process(self) -> dict:
        return self.config["process"]

    @property
    def linux(self) -> dict:
        return self.config["linux"]

    @property
    def args(self):
        return self.process["args"]

    @args.setter
    def args(self, value):
        self.process["args"] = list(value)

    def sh(self, script: str):
        """Make the process `sh -c SCRIPT`."""
        self.args = ["/bin/sh", "-c", script]

    def set_env(self, name: str, value: str):
        env = [e for e in self.process["env"] if not e.startswith(name + "=")]
        env.append(f"{name}={value}")
        self.process["env"] = env

    def namespaces(self):
        return [n["type"] for n in self.linux.get("namespaces", [])]

    def remove_namespace(self, ns_type: str):
        self.linux["namespaces"] = [
            n for n in self.linux.get("namespaces", []) if n["type"] != ns_type
        ]

    def add_namespace(self, ns_type: str, path: str | None = None):
        self.remove_namespace(ns_type)
        entry = {"type": ns_type}
        if path:
            entry["path"] = path
        self.linux.setdefault("namespaces", []).append(entry)

    def add_mount(self, destination, source, mtype="bind", options=None):
        m = {"destination": destination, "type": mtype, "source": str(source)}
        if options is None and mtype == "bind":
            options = ["rbind", "rw"]
        if options:
            m["options"] = options
        self.config.setdefault("mounts", []).append(m)

    def add_tmpfs(self, destination, options=("nosuid", "nodev", "mode=1777")):
        self.add_mount(destination, "tmpfs", "tmpfs", list(options))

    @property
    def shared(self) -> Path:
        """A host directory bind-mounted read-write at /shared."""
        if self._shared is None:
            self._shared = self.path / "shared"
            self._shared.mkdir()
            os.chmod(self._shared, 0o777)
            self.add_mount("/shared", self._shared)
            (self.rootfs / "shared").mkdir(exist_ok=True)
        return self._shared

    def process_json(self, **overrides) -> Path:
        """Write a process.json for `exec --process` (config's process +
        overrides) next to the bundle and return its path."""
        proc = copy.deepcopy(self.process)
        proc.update(overrides)
        p = self.path / f"process-{next(_counter)}.json"
        p.write_text(json.dumps(proc, indent=2))
        return p

    def save(self, container_id: str | None = None):
        if self.auto_cgroup and container_id:
            self.linux["cgroupsPath"] = (
                f"{SYSTEMD_SLICE}:skiff:{container_id}"
                if SYSTEMD_DRIVER
                else f"/{CGROUP_PARENT}/{container_id}"
            )
        (self.path / "config.json").write_text(json.dumps(self.config, indent=2))
        return self.path


def cgroup_path(bundle) -> str:
    """The container's cgroup, as /proc/PID/cgroup names it: cgroupsPath,
    or for the systemd driver the scope of slice:prefix:name (a top-level
    slice, as the suite's are)."""
    path = bundle.linux["cgroupsPath"]
    if SYSTEMD_DRIVER and path.count(":") == 2:
        slice_, prefix, name = path.split(":")
        return f"/{slice_}/{prefix}-{name}.scope"
    return path


_counter = itertools.count(1)
SAFE_ID = re.compile(r"[A-Za-z0-9_+.-]+")


def unique(prefix: str) -> str:
    return f"{prefix}{os.getpid()}-{next(_counter)}"


# ---------------------------------------------------------------- runtime


class Result:
    def __init__(self, args, returncode, out_path, err_path):
        self.args = args
        self.returncode = returncode
        self.out_path = out_path
        self.err_path = err_path
        self.stdout = self.read_stdout()
        self.stderr = err_path.read_text(errors="replace") if err_path else ""

    def read_stdout(self) -> str:
        """The stdout file now (a detached container may still write)."""
        return self.out_path.read_text(errors="replace") if self.out_path else ""

    def wait_output(self, needle: str, timeout=10.0) -> str:
        return wait_for(
            lambda: (lambda s: s if needle in s else None)(self.read_stdout()),
            timeout,
            what=f"{needle!r} in the output of {shlex.join(self.args)}",
        )

    @property
    def kv(self) -> dict:
        return parse_kv(self.stdout)

    def describe(self) -> str:
        return (
            f"$ {shlex.join(self.args)}\n-> exit {self.returncode}\n"
            f"--- stdout\n{self.stdout}--- stderr\n{self.stderr}"
        )

    def ok(self) -> "Result":
        assert self.returncode == 0, self.describe()
        return self

    def failed(self) -> "Result":
        assert self.returncode != 0, "expected failure\n" + self.describe()
        return self

    def __repr__(self):
        return f"<Result rc={self.returncode} {shlex.join(self.args)}>"


class Background:
    """A runtime invocation left running (e.g. foreground `run`)."""

    def __init__(self, proc, args, out_path, err_path):
        self.proc = proc
        self.args = args
        self.out_path = out_path
        self.err_path = err_path

    @property
    def pid(self):
        return self.proc.pid

    def read_stdout(self) -> str:
        return self.out_path.read_text(errors="replace")

    def wait_output(self, needle: str, timeout=10.0) -> str:
        def check():
            s = self.read_stdout()
            if needle in s:
                return s
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"{shlex.join(self.args)} exited {self.proc.returncode} "
                    f"before printing {needle!r}\n--- stdout\n{s}--- stderr\n"
                    + self.err_path.read_text(errors="replace")
                )
            return None

        return wait_for(check, timeout, what=f"{needle!r} from {self.args}")

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=TIMEOUT) -> Result:
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"{shlex.join(self.args)} did not exit in {timeout}s")
        return Result(self.args, rc, self.out_path, self.err_path)


def _fd_args(fds):
    """Popen arguments that place fds {target: source} in the child."""
    if not fds:
        return {}
    fds = dict(fds)

    def place():
        # Move sources out of the way first so a source numbered like a
        # target is not clobbered before it is used.
        tmp = {t: os.dup(src) for t, src in fds.items()}
        for t, d in tmp.items():
            os.dup2(d, t)  # dup2 leaves the target inheritable
            os.close(d)

    return {"pass_fds": tuple(fds), "preexec_fn": place}


class Runtime:
    """Drives the runtime binary with a per-test --root."""

    def __init__(self, workdir: Path, token: str, root: Path | None = None):
        self.binary = RUNTIME
        self.name = RUNTIME_NAME
        self.workdir = workdir
        if root is None:
            root = workdir / "state"
            root.mkdir(mode=0o700)
        self.root = root
        self.token = token
        self.ids: list[str] = []
        self.background: list[Background] = []
        self.log_path: Path | None = None
        self.log_format = "json"

    # Plumbing -----------------------------------------------------------
    def cmd(self, *args) -> list[str]:
        c = [self.binary, *GLOBAL_ARGS, "--root", str(self.root)]
        if self.log_path:
            c += ["--log", str(self.log_path), "--log-format", self.log_format]
        return c + [str(a) for a in args]

    def _files(self):
        n = next(_counter)
        return self.workdir / f"cmd{n}.out", self.workdir / f"cmd{n}.err"

    def _env(self, extra):
        env = dict(os.environ)
        env[TOKEN_VAR] = self.token
        env.pop("NOTIFY_SOCKET", None)
        env.pop("LISTEN_FDS", None)
        env.pop("LISTEN_PID", None)
        if extra:
            env.update(extra)
        return env

    def popen(self, *args, stdin=subprocess.DEVNULL, fds=None, env=None, cwd=None):
        out, err = self._files()
        argv = self.cmd(*args)
        with open(out, "wb") as fo, open(err, "wb") as fe:
            proc = subprocess.Popen(
                argv,
                stdin=stdin,
                stdout=fo,
                stderr=fe,
                env=self._env(env),
                cwd=cwd or self.workdir,
                start_new_session=True,
                **_fd_args(fds),
            )
        bg = Background(proc, argv, out, err)
        self.background.append(bg)
        return bg

    def __call__(
        self,
        *args,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
        input=None,
        fds=None,
        env=None,
        cwd=None,
        listen_pid=False,
        wrap=(),
    ) -> Result:
        """Run the runtime to completion; stdout/stderr go to files so a
        container that inherits them cannot hold up the call.  fds maps
        fd numbers in the runtime to fds of ours ({3: w} passes w as 3).  With
        listen_pid, LISTEN_PID is set to the runtime's own pid (socket
        activation hands fds only to the process LISTEN_PID names).  wrap:
        a command line the runtime's is appended to (e.g. an unshare)."""
        out, err = self._files()
        argv = [*wrap, *self.cmd(*args)]
        if listen_pid:
            argv = ["/bin/sh", "-c", 'LISTEN_PID=$$; export LISTEN_PID; exec "$@"', "sh", *argv]
        if input is not None:
            inp = self.workdir / f"{out.stem}.in"
            inp.write_bytes(input.encode() if isinstance(input, str) else input)
            stdin = open(inp, "rb")
        try:
            with open(out, "wb") as fo, open(err, "wb") as fe:
                proc = subprocess.Popen(
                    argv,
                    stdin=stdin,
                    stdout=fo,
                    stderr=fe,
                    env=self._env(env),
                    cwd=cwd or self.workdir,
                    start_new_session=True,
                    **_fd_args(fds),
                )
            try:
                rc = proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise AssertionError(
                    f"{shlex.join(argv)} did not finish in {timeout}s\n--- stderr\n"
                    + err.read_text(errors="replace")
                )
        finally:
            if input is not None:
                stdin.close()
        return Result(argv, rc, out, err)

    def pty_call(self, *args, send: bytes = b"", timeout=TIMEOUT):
        """Run the runtime with a pty as its stdio and controlling terminal
        (what `run -t`/`exec -t` in the foreground need); returns
        (exit status, everything read from the pty)."""
        master, slave = os.openpty()
        argv = ["setsid", "--ctty", "--wait", *self.cmd(*args)]
        try:
            proc = subprocess.Popen(
                argv, stdin=slave, stdout=slave, stderr=slave,
                env=self._env(None), cwd=self.workdir,
            )
        finally:
            os.close(slave)
        out = b""
        deadline = time.monotonic() + timeout
        try:
            if send:
                os.write(master, send)
            while time.monotonic() < deadline:
                r, _, _ = select.select([master], [], [], 0.1)
                if r:
                    try:
                        chunk = os.read(master, 4096)
                    except OSError:  # EIO: every slave fd is closed
                        break
                    if not chunk:
                        break
                    out += chunk
                elif proc.poll() is not None:
                    break
            else:
                proc.kill()
                raise AssertionError(f"{shlex.join(argv)} timed out; pty: {out!r}")
            rc = proc.wait(timeout=max(1, deadline - time.monotonic()))
        finally:
            os.close(master)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        return rc, out

    def _track(self, cid):
        if cid not in self.ids:
            self.ids.append(cid)

    @staticmethod
    def _bundle_path(bundle, cid):
        if isinstance(bundle, Bundle):
            return bundle.save(cid)
        return Path(bundle)

    # Commands -----------------------------------------------------------
    def create(self, cid, bundle, *opts, **kw) -> Result:
        self._track(cid)
        path = self._bundle_path(bundle, cid)
        return self("create", "--bundle", path, *opts, cid, **kw)

    def start(self, cid, **kw) -> Result:
        return self("start", cid, **kw)

    def run(self, cid, bundle, *opts, detach=False, background=False, **kw):
        self._track(cid)
        path = self._bundle_path(bundle, cid)
        args = ["run", "--bundle", path, *opts]
        if detach:
            args.append("--detach")
        args.append(cid)
        if background:
            return self.popen(*args, **kw)
        return self(*args, **kw)

    def state_result(self, cid, **kw) -> Result:
        return self("state", cid, **kw)

    def state(self, cid) -> dict:
        r = self.state_result(cid).ok()
        try:
            return json.loads(r.stdout)
        except ValueError as e:
            raise AssertionError(f"state is not JSON: {e}\n{r.describe()}")

    def status(self, cid) -> str:
        return self.state(cid)["status"]

    def wait_status(self, cid, status, timeout=10.0) -> dict:
        last = {}

        def check():
            nonlocal last
            last = self.state(cid)
            return last if last["status"] == status else None

        try:
            return wait_for(check, timeout, what=f"{cid} to be {status}")
        except AssertionError as e:
            raise AssertionError(f"{e}; last state: {last}") from None

    def kill(self, cid, sig=None, *opts, **kw) -> Result:
        args = ["kill", *opts, cid]
        if sig is not None:
            args.append(str(sig))
        return self(*args, **kw)

    def delete(self, cid, force=False, **kw) -> Result:
        return self("delete", *(["--force"] if force else []), cid, **kw)

    def exec(self, cid, *args, opts=(), **kw) -> Result:
        return self("exec", *opts, cid, *args, **kw)

    def list(self, *opts, **kw) -> Result:
        return self("list", *opts, **kw)

    def create_started(self, cid, bundle, *opts) -> dict:
        """create + start, asserting both succeed; returns the state."""
        self.create(cid, bundle, *opts).ok()
        self.start(cid).ok()
        return self.state(cid)

    def state_dirs(self):
        try:
            return sorted(p.name for p in self.root.iterdir())
        except FileNotFoundError:
            return []

    # Teardown -----------------------------------------------------------
    def cleanup(self):
        for bg in self.background:
            if bg.proc.poll() is None:
                bg.proc.kill()
                try:
                    bg.proc.wait(10)
                except subprocess.TimeoutExpired:
                    pass
        ids = list(self.ids)
        for name in self.state_dirs():
            if name not in ids and not name.startswith("."):
                ids.append(name)
        for cid in ids:
            if not SAFE_ID.fullmatch(cid) or cid in (".", ".."):
                continue  # never hand a path-like id to delete --force
            try:
                self("delete", "--force", cid, timeout=20)
            except AssertionError:
                pass


# --------------------------------------------------------------- rootless


class RootlessUser:
    """The unprivileged user the rootless tests run the runtime as (made
    once by ensure_rootless_user), with its subordinate id ranges."""

    def __init__(self, name: str):
        pw = pwd.getpwnam(name)
        self.name = name
        self.uid = pw.pw_uid
        self.gid = pw.pw_gid
        self.home = Path(pw.pw_dir)
        self.subuids = _subids("/etc/subuid", name, self.uid)
        self.subgids = _subids("/etc/subgid", name, self.uid)

    @property
    def wrap(self) -> list[str]:
        """A command line that runs the rest as this user, without any
        capability (setuid from root drops them all)."""
        return ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--init-groups", "--"]

    def chown_tree(self, top: Path):
        os.chown(top, self.uid, self.gid, follow_symlinks=False)
        for dirpath, dirnames, filenames in os.walk(top):
            for n in dirnames + filenames:
                os.chown(os.path.join(dirpath, n), self.uid, self.gid, follow_symlinks=False)


def _subids(path: str, name: str, uid: int) -> list[tuple[int, int]]:
    """(start, count) of every range of the user in /etc/subuid or subgid."""
    out = []
    try:
        lines = Path(path).read_text().splitlines()
    except FileNotFoundError:
        return out
    for line in lines:
        f = line.strip().split(":")
        if len(f) == 3 and f[0] in (name, str(uid)) and f[1].isdigit() and f[2].isdigit():
            out.append((int(f[1]), int(f[2])))
    return out


def _add_subids(path: str, name: str, count: int = 65536):
    """Give name a range of its own after every range of the file."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        text = ""
    end = 100000
    for line in text.splitlines():
        f = line.strip().split(":")
        if len(f) == 3 and f[1].isdigit() and f[2].isdigit():
            end = max(end, int(f[1]) + int(f[2]))
    if text and not text.endswith("\n"):
        text += "\n"
    Path(path).write_text(f"{text}{name}:{end}:{count}\n")
    os.chmod(path, 0o644)


def ensure_rootless_user(name: str) -> RootlessUser:
    """The user (no password, no login shell, a home) and its subordinate
    ids, made when missing; left in place, harmless, for the next run."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--create-home", "--shell", "/usr/sbin/nologin",
             "--comment", "skiff rootless tests", name],
            check=True, capture_output=True, timeout=30,
        )
    uid = pwd.getpwnam(name).pw_uid
    for path in ("/etc/subuid", "/etc/subgid"):
        if not _subids(path, name, uid):
            _add_subids(path, name)
    return RootlessUser(name)


def to_rootless(config: dict, uid: int, gid: int) -> dict:
    """What `runc spec --rootless` does to the default config: a user
    namespace mapping the caller to root, no network namespace (so /sys is
    a bind of the host's), no uid=/gid= mount options (ids the namespace
    does not map), no resources."""
    c = copy.deepcopy(config)
    lx = c["linux"]
    lx["namespaces"] = [
        n for n in lx["namespaces"] if n["type"] not in ("network", "user")
    ] + [{"type": "user"}]
    lx["uidMappings"] = [{"containerID": 0, "hostID": uid, "size": 1}]
    lx["gidMappings"] = [{"containerID": 0, "hostID": gid, "size": 1}]
    lx.pop("resources", None)
    mounts = []
    for m in c["mounts"]:
        if m["destination"] == "/sys":
            m = {
                "destination": "/sys",
                "type": "none",
                "source": "/sys",
                "options": ["rbind", "nosuid", "noexec", "nodev", "ro"],
            }
        elif "options" in m:
            m["options"] = [
                o for o in m["options"] if not o.startswith(("uid=", "gid="))
            ]
        mounts.append(m)
    c["mounts"] = mounts
    return c


class UserRuntime(Runtime):
    """The runtime run as an unprivileged user, without --root: its state
    goes to $XDG_RUNTIME_DIR/<name>, a directory of the test's that the
    user owns (root is `xdg / RUNTIME_NAME`)."""

    def __init__(self, workdir: Path, token: str, user: RootlessUser):
        self.user = user
        self.xdg = workdir / "xdg"
        self.xdg.mkdir(mode=0o700)
        os.chown(self.xdg, user.uid, user.gid)
        super().__init__(workdir, token, root=self.xdg / RUNTIME_NAME)

    def cmd(self, *args) -> list[str]:
        # No systemd driver: a rootless one would be the user's instance.
        glob = [a for a in GLOBAL_ARGS if a != "--systemd-cgroup"]
        c = [*self.user.wrap, self.binary, *glob]
        if self.log_path:
            c += ["--log", str(self.log_path), "--log-format", self.log_format]
        return c + [str(a) for a in args]

    def _env(self, extra):
        env = super()._env(None)
        env.update(
            HOME=str(self.user.home),
            USER=self.user.name,
            LOGNAME=self.user.name,
            XDG_RUNTIME_DIR=str(self.xdg),
        )
        if extra:
            env.update(extra)
        return env


# ------------------------------------------------------------------ leaks


def mount_snapshot() -> Counter:
    c = Counter()
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            c[(fields[4], fields[sep + 1], fields[sep + 2])] += 1
    return c


def cgroup_hierarchies():
    """The mount point of every reachable cgroup hierarchy below
    /sys/fs/cgroup (or the root itself on a pure v2 host)."""
    return [h.mount for h in host.cgroup_hierarchies()]


def cgroup_leftovers(parent=CGROUP_PARENT):
    """Directories below the test parent in any hierarchy."""
    left = []
    for h in cgroup_hierarchies():
        p = h / parent
        if not p.is_dir():
            continue
        for dirpath, dirnames, _ in os.walk(p):
            for d in dirnames:
                left.append(os.path.join(dirpath, d))
    return sorted(left)


def remove_cgroup_tree(parent=CGROUP_PARENT):
    """rmdir the parent (and anything below it) in every hierarchy; returns
    what could not be removed."""
    stuck = []
    for h in cgroup_hierarchies():
        p = h / parent
        if not p.is_dir():
            continue
        for dirpath, dirnames, _ in os.walk(p, topdown=False):
            for d in dirnames:
                _rmdir_cgroup(os.path.join(dirpath, d), stuck)
        if not SYSTEMD_DRIVER:  # systemd's slice: `systemctl stop` at the end
            _rmdir_cgroup(str(p), stuck)
    return stuck


def _rmdir_cgroup(path, stuck):
    for _ in range(50):
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            # Kill whatever is left inside, then retry.
            try:
                for pid in Path(path, "cgroup.procs").read_text().split():
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            except OSError:
                pass
            time.sleep(0.05)
    stuck.append(path)


def processes_of_test(token: str, bundle_root: Path, parent=CGROUP_PARENT):
    """Live processes that belong to this test: carrying the token in their
    environment, with cwd inside the test's directory, or in a cgroup below
    the test parent."""
    me = os.getpid()
    needle = f"{TOKEN_VAR}={token}".encode()
    root = str(bundle_root)
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if pid == me or not pid_alive(pid):
            continue
        why = None
        try:
            if needle in Path(f"/proc/{pid}/environ").read_bytes():
                why = "token in environ"
        except OSError:
            pass
        if not why:
            try:
                cwd = os.readlink(f"/proc/{pid}/cwd")
                if cwd == root or cwd.startswith(root + "/"):
                    why = f"cwd {cwd}"
            except OSError:
                pass
        if not why:
            try:
                if f"/{parent}/" in Path(f"/proc/{pid}/cgroup").read_text():
                    why = "in a test cgroup"
            except OSError:
                pass
        if why:
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                cmd = b"?"
            found[pid] = f"{cmd.decode(errors='replace').strip()} ({why})"
    return found


# ---------------------------------------------------------------- console


class ConsoleSocket:
    """Server side of --console-socket: receives the pty master."""

    def __init__(self, path: Path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(4)
        self.sock.settimeout(TIMEOUT)
        self.master = None

    def receive(self) -> int:
        conn, _ = self.sock.accept()
        with conn:
            conn.settimeout(TIMEOUT)
            msg, fds, _flags, _addr = socket.recv_fds(conn, 4096, 4)
        assert fds, f"no fd received on the console socket (message {msg!r})"
        for extra in fds[1:]:
            os.close(extra)
        self.master = fds[0]
        return self.master

    def read_until(self, needle: bytes, timeout=10.0) -> bytes:
        buf = b""
        deadline = time.monotonic() + timeout
        while needle not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out reading {needle!r} from pty: {buf!r}")
            r, _, _ = select.select([self.master], [], [], left)
            if not r:
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # EIO: the slave side is closed
                chunk = b""
            if not chunk:
                raise AssertionError(f"pty closed before {needle!r} appeared: {buf!r}")
            buf += chunk
        return buf

    def write(self, data: bytes):
        os.write(self.master, data)

    def close(self):
        if self.master is not None:
            os.close(self.master)
            self.master = None
        self.sock.close()


def netns_inode(path) -> int:
    return os.stat(path).st_ino


def host_ns_inodes() -> dict:
    out = {}
    for name in os.listdir("/proc/self/ns"):
        out[name] = os.stat(f"/proc/self/ns/{name}").st_ino
    return out


def rfc3339_ok(ts: str) -> bool:
    return bool(
        re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", ts
        )
    )

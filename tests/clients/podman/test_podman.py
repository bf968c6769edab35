"""Podman (Debian's podman + conmon) drives the runtime under test.

One private podman per module: its own storage (--root/--runroot), tmp dir,
containers.conf (CONTAINERS_CONF) naming the runtime `skiff` in
[engine.runtimes] and runtime_supports_json, cgroupfs cgroup manager (these
hosts have no systemd), file events logger, and no network (--network none:
no CNI/netavark setup is needed).  The runtime is reached through a wrapper
that logs every command line podman used.  See docs/clients.md.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

import clientlib
from clientlib import ArgvLog, PtySession, wait_for

IMAGE = "localhost/busybox:skiff"


def _catatonit() -> str | None:
    for p in ("/usr/libexec/podman/catatonit", "/usr/bin/catatonit"):
        if os.access(p, os.X_OK):
            return p
    return None


class Podman:
    def __init__(self, base: Path, runtime: str):
        self.base = base
        self.runtime = runtime
        for d in ("root", "runroot", "tmp", "net"):
            (base / d).mkdir(parents=True, exist_ok=True)
        self.wrapper = ArgvLog(base / "bin", runtime, "skiff")
        # The runtime's state stays in its default root (/run/skiff for
        # skiff): `--runtime-flag root=...` would reach create/start but not
        # the `podman container cleanup` that conmon runs when a container
        # exits, whose `delete` would then look in the default root.
        self.state = None
        # Podman as root asks for RLIMIT_NOFILE/NPROC of 1048576/4194304;
        # a container (CI, this sandbox) may have lower hard limits, which
        # no runtime can raise: use the ones we have.
        # (podman itself lowers its RLIMIT_NPROC, to 32768 here, so nproc
        # gets a modest fixed value.)
        nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        if nofile == resource.RLIM_INFINITY or nofile > 1048576:
            nofile = 1048576
        nproc = resource.getrlimit(resource.RLIMIT_NPROC)[1]
        if nproc == resource.RLIM_INFINITY or nproc > 4096:
            nproc = 4096
        ulimits = [f'"nofile={nofile}:{nofile}"', f'"nproc={nproc}:{nproc}"']
        init = _catatonit()
        conf = f"""[containers]
log_driver = "k8s-file"
netns = "none"
default_ulimits = [{", ".join(ulimits)}]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{base}/events.log"
tmp_dir = "{base}/tmp"
runtime = "skiff"
runtime_supports_json = ["skiff", "crun", "runc"]
{f'init_path = "{init}"' if init else ""}

[engine.runtimes]
skiff = ["{self.wrapper.path}"]

[network]
network_config_dir = "{base}/net"
"""
        (base / "containers.conf").write_text(conf)
        self.driver = os.environ.get("SKIFF_PODMAN_STORAGE_DRIVER", "overlay")
        (base / "storage.conf").write_text(
            f'[storage]\ndriver = "{self.driver}"\n'
            f'graphroot = "{base}/root"\nrunroot = "{base}/runroot"\n'
        )
        (base / "registries.conf").write_text("unqualified-search-registries = []\n")
        self.env = dict(
            os.environ,
            CONTAINERS_CONF=str(base / "containers.conf"),
            CONTAINERS_STORAGE_CONF=str(base / "storage.conf"),
            CONTAINERS_REGISTRIES_CONF=str(base / "registries.conf"),
        )
        self.cmd = [
            "podman",
            "--root", str(base / "root"),
            "--runroot", str(base / "runroot"),
            "--tmpdir", str(base / "tmp"),
            "--storage-driver", self.driver,
            "--cgroup-manager", "cgroupfs",
            "--events-backend", "file",
            "--runtime", str(self.wrapper.path),
        ]

    def __call__(self, *args, check=True, timeout=60, input=None):
        mark = self.wrapper.mark()
        r = subprocess.run(
            self.cmd + [str(a) for a in args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
        )
        if check and r.returncode != 0:
            calls = "\n".join("  " + ArgvLog.show(c) for c in self.wrapper.since(mark))
            raise AssertionError(
                f"podman {' '.join(map(str, args))} exited {r.returncode}\n"
                f"stdout: {r.stdout}\nstderr: {r.stderr}\nruntime calls:\n{calls}"
            )
        return r

    def status(self, name) -> str:
        return self("inspect", "-f", "{{.State.Status}}", name).stdout.strip()

    def pid(self, name) -> int:
        return int(self("inspect", "-f", "{{.State.Pid}}", name).stdout.strip())

    def cid(self, name) -> str:
        return self("inspect", "-f", "{{.Id}}", name).stdout.strip()

    def logs(self, name) -> str:
        r = self("logs", name)
        return r.stdout + r.stderr

    def run_d(self, name, *args, opts=()):
        self("run", "-d", "--name", name, *opts, IMAGE, *args)
        wait_for(lambda: self.status(name) == "running", what=f"{name} running")

    def created_ids(self) -> set:
        return {c[-1] for c in self.wrapper.calls_of("create")}

    def runtime_containers(self) -> set:
        """Containers podman created that the runtime still lists."""
        r = subprocess.run([self.runtime, "list", "-q"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r
        return set(r.stdout.split()) & self.created_ids()

    def teardown(self):
        self("rm", "--all", "--force", "--time", "0", check=False, timeout=120)
        for pid in clientlib.pids_with_arg(str(self.base)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture(scope="module")
def podman(workroot, busybox_tar, runtime):
    for tool in ("podman", "conmon"):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/libexec/podman/{tool}"):
            pytest.skip(f"{tool} not installed: apt-get install podman conmon")
    # Podman's image import keeps a blob-info cache in /var/lib/containers/cache
    # whatever --root says: remove it afterwards when it was ours.
    had_var_lib = os.path.exists("/var/lib/containers")
    # podman's cgroupfs manager puts containers below libpod_parent/
    new_cgroups = [d for d in clientlib.cgroup_dirs("libpod_parent") if not d.exists()]
    pm = Podman(workroot / "podman", runtime)
    r = pm("import", busybox_tar, IMAGE)
    assert re.search(r"sha256:[0-9a-f]{64}|^[0-9a-f]{64}$", r.stdout, re.M), r.stdout
    assert IMAGE in pm("images", "--format", "{{.Repository}}:{{.Tag}}").stdout
    yield pm
    pm.teardown()
    if not had_var_lib:
        shutil.rmtree("/var/lib/containers", ignore_errors=True)
    left = pm.runtime_containers()
    assert not left, f"runtime state left behind: {left}"
    # libpod-<id> of a removed container must be gone (libpod_parent itself
    # may be in use by another podman)
    ids = pm.created_ids()
    stuck = [d for d in clientlib.remove_cgroup_trees(new_cgroups)
             if any(Path(d).name == f"libpod-{i}" for i in ids)]
    assert not stuck, f"cgroups left behind: {stuck}"


@pytest.fixture
def name(request):
    return "t-" + re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:40].strip("-")


@pytest.fixture(autouse=True)
def _remove_test_container(request, name):
    yield
    pm = request.getfixturevalue("podman")
    pm("rm", "--force", "--time", "0", "--ignore", name, check=False)


LOOP = 'echo started; trap "echo got-term; exit 0" TERM; trap "echo got-usr1" USR1; while true; do sleep 0.1; done'


# ---------------------------------------------------------------- basics


def test_run_rm_echo(podman, name):
    mark = podman.wrapper.mark()
    r = podman("run", "--rm", "--name", name, IMAGE, "echo", "hello from skiff")
    assert r.stdout == "hello from skiff\n"
    calls = podman.wrapper.since(mark)
    create = [c for c in calls if clientlib.subcommand(c) == "create"]
    assert len(create) == 1, calls
    # podman asks for a JSON error log and a pid file, and runs create/start/delete
    assert "--log-format=json" in create[0] or "json" in create[0], create[0]
    assert "--pid-file" in create[0] and "--bundle" in create[0]
    assert [clientlib.subcommand(c) for c in calls if clientlib.subcommand(c) in ("start", "delete")][:1] == ["start"]
    assert podman("ps", "-a", "--format", "{{.Names}}").stdout.split().count(name) == 0


def test_detached_exec_logs_stop_rm(podman, name):
    podman.run_d(name, "sh", "-c", LOOP)
    wait_for(lambda: "started" in podman.logs(name), what="started in logs")
    r = podman("exec", name, "sh", "-c", "echo exec-out $(cat /proc/1/cmdline | tr '\\0' ' ')")
    assert r.stdout.startswith("exec-out sh -c echo started"), r.stdout
    r = podman("exec", name, "sh", "-c", "exit 9", check=False)
    assert r.returncode == 9
    r = podman("exec", "--user", "1000", "--workdir", "/tmp", "--env", "FOO=bar", name,
               "sh", "-c", 'echo "$(id -u) $(pwd) $FOO"')
    assert r.stdout == "1000 /tmp bar\n"
    assert podman("ps", "--format", "{{.Names}} {{.Status}}").stdout.count(f"{name} Up") == 1
    mark = podman.wrapper.mark()
    podman("stop", "--time", "10", name)
    assert "got-term" in podman.logs(name)
    assert podman.status(name) == "exited"
    assert podman("inspect", "-f", "{{.State.ExitCode}}", name).stdout.strip() == "0"
    kills = [c for c in podman.wrapper.since(mark) if clientlib.subcommand(c) == "kill"]
    assert kills and kills[0][-1] in ("15", "TERM", "SIGTERM"), kills
    podman("rm", name)
    assert name not in podman("ps", "-a", "--format", "{{.Names}}").stdout.split()


def test_stop_escalates_to_kill(podman, name):
    podman.run_d(name, "sh", "-c", 'trap "" TERM; echo ignoring; while true; do sleep 0.1; done')
    mark = podman.wrapper.mark()
    t0 = time.monotonic()
    podman("stop", "--time", "1", name)
    assert time.monotonic() - t0 < 15
    assert podman("inspect", "-f", "{{.State.ExitCode}}", name).stdout.strip() == "137"
    signals = [c[-1] for c in podman.wrapper.since(mark) if clientlib.subcommand(c) == "kill"]
    assert signals[:1] in (["15"], ["TERM"], ["SIGTERM"]) and signals[-1] in ("9", "KILL", "SIGKILL"), signals


def test_interactive_tty(podman, name):
    """podman run -it through a pty: the runtime gets --console-socket and
    hands the pty master to conmon."""
    mark = podman.wrapper.mark()
    t = PtySession(podman.cmd + ["run", "-it", "--rm", "--name", name, IMAGE, "sh"], env=podman.env)
    try:
        assert t.read_until(b"# ", 30), f"no shell prompt; output: {t.text!r}"
        t.write(b'tty; echo "in=$((6*7))"; stty size; exit 3\n')
        assert t.read_until(b"in=42", 20), f"output: {t.text!r}"
    finally:
        rc, text = t.finish()
    assert re.search(r"^/dev/pts/\d+\r*$", text, re.M), text
    assert re.search(r"^30 100\r*$", text, re.M), text  # the client's window size
    assert rc == 3, text
    creates = [c for c in podman.wrapper.since(mark) if clientlib.subcommand(c) == "create"]
    assert creates and any(a.startswith("--console-socket") for a in creates[0]), creates


def test_exec_interactive_tty(podman, name):
    """podman exec -it: exec --tty with --console-socket, in a running
    container whose own process has no terminal."""
    podman.run_d(name, "sleep", "1000")
    mark = podman.wrapper.mark()
    t = PtySession(podman.cmd + ["exec", "-it", name, "sh"], env=podman.env)
    try:
        assert t.read_until(b"# ", 30), f"no shell prompt; output: {t.text!r}"
        t.write(b'tty; echo "pid1=$(cat /proc/1/comm)"; exit 4\n')
        assert t.read_until(b"pid1=sleep", 20), f"output: {t.text!r}"
    finally:
        rc, text = t.finish()
    assert re.search(r"^/dev/pts/\d+\r*$", text, re.M), text
    assert rc == 4, text
    execs = [c for c in podman.wrapper.since(mark) if clientlib.subcommand(c) == "exec"]
    assert execs and any(a.startswith("--console-socket") for a in execs[0]), execs


# ---------------------------------------------------------- pause, top, kill


@pytest.mark.needs_command("pause", "resume")
def test_pause_unpause(podman, name):
    podman.run_d(name, "sh", "-c", "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.05; done")
    wait_for(lambda: podman.logs(name).count("tick") >= 3, what="ticks")
    podman("pause", name)
    assert podman.status(name) == "paused"
    assert "Paused" in podman("ps", "-a", "--format", "{{.Names}} {{.Status}}").stdout
    time.sleep(0.3)  # conmon may still be copying output written before the freeze
    n1 = podman.logs(name).count("tick")
    time.sleep(0.6)
    n2 = podman.logs(name).count("tick")
    assert n1 == n2, "the container kept running while paused"
    podman("unpause", name)
    assert podman.status(name) == "running"
    wait_for(lambda: podman.logs(name).count("tick") > n2 + 2, what="ticks after unpause")
    subs = [clientlib.subcommand(c) for c in podman.wrapper.calls()]
    assert "pause" in subs and "resume" in subs


def test_top(podman, name):
    podman.run_d(name, "sh", "-c", "sleep 1000 & wait")
    wait_for(lambda: "sleep 1000" in podman("top", name, "pid", "args").stdout, what="sleep in top")
    r = podman("top", name, "pid", "user", "args")
    rows = [l.split(None, 2) for l in r.stdout.splitlines()[1:]]
    assert ["1", "root", "sh -c sleep 1000 & wait"] in [[x.strip() for x in row] for row in rows], r.stdout


def test_kill_signal(podman, name):
    podman.run_d(name, "sh", "-c", LOOP)
    wait_for(lambda: "started" in podman.logs(name), what="started")
    mark = podman.wrapper.mark()
    podman("kill", "--signal", "USR1", name)
    wait_for(lambda: "got-usr1" in podman.logs(name), what="got-usr1 in logs")
    assert podman.status(name) == "running"
    kills = [c for c in podman.wrapper.since(mark) if clientlib.subcommand(c) == "kill"]
    assert kills and kills[0][-1] in ("10", "USR1", "SIGUSR1") and kills[0][-2] == podman.cid(name), kills
    podman("kill", "-s", "KILL", name)
    wait_for(lambda: podman.status(name) == "exited", what="exited after KILL")
    assert podman("inspect", "-f", "{{.State.ExitCode}}", name).stdout.strip() == "137"


# ------------------------------------------------------------- resources


def _in_container_cgroup_value(podman, name, v1, v2):
    return podman("exec", name, "sh", "-c",
                  f"cat /sys/fs/cgroup/{v2} 2>/dev/null || cat /sys/fs/cgroup/{v1}").stdout.strip()


def test_memory_limit(podman, name):
    podman.run_d(name, "sleep", "1000", opts=("--memory", "64m"))
    host = clientlib.cgroup_file(podman.pid(name), "memory", "memory.limit_in_bytes", "memory.max")
    assert host.read_text().strip() == "67108864", host
    assert _in_container_cgroup_value(podman, name, "memory/memory.limit_in_bytes", "memory.max") == "67108864"


def test_pids_limit(podman, name):
    podman.run_d(name, "sleep", "1000", opts=("--pids-limit", "42"))
    host = clientlib.cgroup_file(podman.pid(name), "pids", "pids.max", "pids.max")
    assert host.read_text().strip() == "42", host
    assert _in_container_cgroup_value(podman, name, "pids/pids.max", "pids.max") == "42"


def test_stats(podman, name):
    """podman stats reads the cgroup the runtime made at the path podman
    asked for (cgroupsPath): 3 pids, the 64m limit."""
    podman.run_d(name, "sh", "-c", "sleep 1000 & sleep 1000 & wait", opts=("--memory", "64m"))
    wait_for(lambda: len(podman("top", name, "pid").stdout.split()) == 4, what="three processes")
    r = podman("stats", "--no-stream", "--format", "{{.PIDs}} {{.MemUsage}}", name)
    pids, usage = r.stdout.split(None, 1)
    assert pids == "3" and usage.strip().endswith("/ 67.11MB"), r.stdout


@pytest.mark.needs_command("update")
def test_update_memory(podman, name):
    podman.run_d(name, "sleep", "1000", opts=("--memory", "64m"))
    mark = podman.wrapper.mark()
    podman("update", "--memory", "96m", name)
    host = clientlib.cgroup_file(podman.pid(name), "memory", "memory.limit_in_bytes", "memory.max")
    assert host.read_text().strip() == str(96 << 20)
    updates = [c for c in podman.wrapper.since(mark) if clientlib.subcommand(c) == "update"]
    assert updates and "--resources" in " ".join(updates[0]), updates


# ---------------------------------------------------------- process options


def _cap_eff(text: str) -> int:
    return int(re.search(r"^CapEff:\s*([0-9a-f]+)$", text, re.M).group(1), 16)


def test_cap_drop(podman, name):
    default = _cap_eff(podman("run", "--rm", IMAGE, "cat", "/proc/self/status").stdout)
    assert default & 1, "CAP_CHOWN is in podman's default set"
    r = podman("run", "--rm", "--name", name, "--cap-drop", "CHOWN", IMAGE, "sh", "-c",
               "grep CapEff /proc/self/status; chown 1 /tmp; echo chown=$?")
    assert _cap_eff(r.stdout) == default & ~1
    assert "chown=1" in r.stdout and "Operation not permitted" in r.stderr


def test_read_only(podman, name):
    r = podman("run", "--rm", "--name", name, "--read-only", IMAGE, "sh", "-c",
               "touch /x; echo root=$?; touch /tmp/y; echo tmp=$?; awk '$2==\"/\"{print $4}' /proc/mounts")
    assert "root=1" in r.stdout and "tmp=0" in r.stdout, r.stdout
    assert "Read-only file system" in r.stderr
    assert r.stdout.strip().splitlines()[-1].split(",")[0] == "ro"


def test_user(podman, name):
    r = podman("run", "--rm", "--name", name, "--user", "1000:1000", IMAGE, "id")
    assert r.stdout.strip() == "uid=1000(user) gid=1000(user) groups=1000(user)"
    r = podman("run", "--rm", "--user", "nobody", IMAGE, "sh", "-c", "id -u; id -g")
    assert r.stdout.split() == ["65534", "65534"]


def test_init(podman, name):
    if _catatonit() is None:
        pytest.skip("--init needs catatonit: apt-get install catatonit")
    r = podman("run", "--rm", "--name", name, "--init", IMAGE, "sh", "-c",
               "tr '\\0' ' ' < /proc/1/cmdline; echo; echo self=$$")
    first, second = r.stdout.splitlines()[:2]
    assert first.startswith("/run/podman-init -- sh -c"), r.stdout
    assert second != "self=1"


def test_systemd_cgroup_manager(podman, name):
    """podman's default cgroup manager, systemd: the runtime gets
    --systemd-cgroup and a slice:prefix:name cgroupsPath."""
    if not os.path.isdir("/run/systemd/system"):
        pytest.skip("no systemd on this host (/run/systemd/system is absent): podman's systemd "
                    "cgroup manager (runtime --systemd-cgroup) cannot run; the suite uses cgroupfs")
    cmd = list(podman.cmd)
    cmd[cmd.index("--cgroup-manager") + 1] = "systemd"
    r = subprocess.run(cmd + ["run", "--rm", "--name", name, IMAGE, "cat", "/proc/self/cgroup"],
                       env=podman.env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert ".scope" in r.stdout, r.stdout
    create = podman.wrapper.calls_of("create")[-1]
    assert "--systemd-cgroup" in create, create


# ------------------------------------------------------------- exit codes


def test_exit_codes(podman, name):
    assert podman("run", "--rm", IMAGE, "sh", "-c", "exit 7", check=False).returncode == 7
    r = podman("run", "--rm", IMAGE, "/nonexistent", check=False)
    assert r.returncode == 127 and "/nonexistent" in r.stderr, r
    r = podman("run", "--rm", IMAGE, "no-such-command", check=False)
    assert r.returncode == 127 and "no-such-command" in r.stderr, r
    r = podman("run", "--rm", IMAGE, "/etc/passwd", check=False)
    assert r.returncode == 126 and "/etc/passwd" in r.stderr, r
    podman("run", "-d", "--name", name, IMAGE, "sh", "-c", "exit 3")
    assert podman("wait", name).stdout.strip() == "3"
    assert podman("inspect", "-f", "{{.State.ExitCode}} {{.State.Status}}", name).stdout.strip() == "3 exited"


def test_exec_exit_codes(podman, name):
    podman.run_d(name, "sleep", "1000")
    # A quick command may be a zombie before the runtime's `exec --detach`
    # returns; conmon must still get its status (not 255): try a few.
    codes = [podman("exec", name, "sh", "-c", f"exit {9 + i}", check=False).returncode for i in range(6)]
    assert codes == [9 + i for i in range(6)]
    r = podman("exec", name, "/nonexistent", check=False)
    assert r.returncode == 127 and "/nonexistent" in r.stderr, r
    r = podman("exec", name, "/etc/passwd", check=False)
    assert r.returncode == 126, r


def test_runtime_error_reaches_podman(podman, name):
    """The runtime's JSON log (--log-format=json --log FILE) is what podman
    shows when create fails: its message, not a generic one."""
    r = podman("run", "--rm", "--name", name, IMAGE, "/nonexistent", check=False)
    last = podman.wrapper.calls_of("create")[-1]
    assert any(a.startswith("--log") and "json" in a for a in last) or "json" in last
    assert os.path.basename(podman.wrapper.path) in r.stderr  # podman names the runtime
    msg = r.stderr.strip().splitlines()[-1]
    assert "/nonexistent" in msg and ("no such file" in msg.lower() or "not found" in msg.lower()), msg


def test_state_left_clean(podman):
    """After the containers above are removed, the runtime lists none of the
    containers podman created (every one was deleted, also those of --rm,
    deleted by the cleanup process conmon starts at exit)."""
    podman("rm", "--all", "--force", "--time", "0")
    assert len(podman.created_ids()) >= 10
    assert podman.runtime_containers() == set()

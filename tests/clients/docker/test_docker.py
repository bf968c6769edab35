"""Docker (Debian's docker.io 20.10: dockerd, the docker CLI) drives the
runtime under test through `dockerd --add-runtime skiff=<wrapper>`.

One private dockerd and containerd for the module (dockerlib.Dockerd: own
sockets, data-root, exec-root, containerd root/state, a mount namespace of
their own, stopped by pid).  Each scenario runs twice, with
`docker run --runtime skiff` and with runc registered the same way
(`--runtime ref-runc`): skiff must pass whatever runc passes.  A scenario
that runc cannot pass on this host is skipped for both, naming what the
host lacks.  See docs/clients.md.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

import clientlib
from clientlib import ArgvLog, PtySession, wait_for
from dockerlib import DOCKER_NAMES, IMAGE, RUNC, Dockerd, missing_tools


@pytest.fixture(scope="module")
def dk(workroot, busybox_tar, runtime):
    why = missing_tools()
    if why:
        pytest.skip(why)
    runtimes = {"skiff": runtime}
    if os.access(RUNC, os.X_OK):
        runtimes["runc"] = RUNC
    d = Dockerd(workroot / "docker", runtimes)
    try:
        d.start()
        r = d("import", "--change", 'CMD ["sh"]', busybox_tar, IMAGE)
        assert re.match(r"^sha256:[0-9a-f]{64}$", r.stdout.strip()), r.stdout
        assert IMAGE in d("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
        yield d
    finally:
        problems = d.stop()
    assert not problems, problems


@pytest.fixture(params=["skiff", "runc"])
def rt(request, dk):
    if request.param not in dk.wrappers:
        pytest.skip(f"{RUNC} not installed: apt-get install runc")
    return request.param


class Case:
    """One scenario on one runtime: `docker run --runtime <rt>` and the
    names of its containers (all start with self.name)."""

    def __init__(self, dk: Dockerd, rt: str, name: str):
        self.dk, self.rt, self.name = dk, rt, name
        self.wrapper: ArgvLog = dk.wrappers[rt]
        self.dir = dk.base / "t" / name
        self.dir.mkdir(parents=True, exist_ok=True)

    def __call__(self, *args, **kw):
        return self.dk(*args, **kw)

    def run_args(self, opts) -> list:
        # no network: dockerd has no bridge (--bridge=none)
        return ["--runtime", DOCKER_NAMES[self.rt], "--network", "none", *opts]

    def run(self, *args, opts=(), check=True, input=None, timeout=60):
        """docker run --rm in the foreground."""
        flags = ["-i"] if input is not None else []
        return self.dk("run", "--rm", *flags, *self.run_args(opts), IMAGE, *args,
                       check=check, input=input, timeout=timeout)

    def run_d(self, *args, name=None, opts=(), running=True) -> str:
        """docker run -d; checks the container went through this runtime."""
        name = name or self.name
        cid = self.dk("run", "-d", "--name", name, *self.run_args(opts), IMAGE, *args).stdout.strip()
        assert cid in self.dk.created_ids(self.rt), f"{cid} was not created by {self.rt}"
        if running:
            wait_for(lambda: self.dk.status(name) == "running", what=f"{name} running")
        return cid

    def calls(self, mark, sub) -> list:
        return [c for c in self.wrapper.since(mark) if clientlib.subcommand(c) == sub]


@pytest.fixture
def c(request, dk, rt):
    base = re.sub(r"[^a-z0-9]+", "-", request.node.originalname.lower().removeprefix("test_"))
    case = Case(dk, rt, f"t-{base[:30].strip('-')}-{rt}")
    yield case
    ids = dk("ps", "-aq", "--filter", f"name=^/?{case.name}", check=False).stdout.split()
    if ids:
        dk("rm", "-f", *ids, check=False)


LOOP = 'echo started; trap "echo got-term; exit 0" TERM; trap "echo got-usr1" USR1; while true; do sleep 0.1; done'


def show(r) -> str:
    """A docker command's result for an assertion message (pytest would
    shorten the CompletedProcess)."""
    return f"exit {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"


def _status_field(text: str, field: str) -> str:
    return re.search(rf"^{field}:\s*(\S+)", text, re.M).group(1)


def _host_cap_bounding() -> int:
    return int(_status_field(Path("/proc/self/status").read_text(), "CapBnd"), 16)


CAP = {"CHOWN": 0, "DAC_OVERRIDE": 1, "FOWNER": 3, "FSETID": 4, "KILL": 5, "SETGID": 6, "SETUID": 7,
       "SETPCAP": 8, "NET_BIND_SERVICE": 10, "NET_ADMIN": 12, "NET_RAW": 13, "SYS_CHROOT": 18,
       "SYS_ADMIN": 21, "SYS_RESOURCE": 24, "MKNOD": 27, "AUDIT_WRITE": 29, "SETFCAP": 31}
DOCKER_DEFAULT_CAPS = ["CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID",
                       "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE"]


def _caps(*names) -> int:
    return sum(1 << CAP[n] for n in names)


# ------------------------------------------------------------ run, exit codes


def test_run_echo(c):
    mark = c.wrapper.mark()
    r = c.run("sh", "-c", "echo hello from $(cat /proc/1/comm); id -u")
    assert r.stdout == "hello from sh\n0\n", show(r)
    subs = [clientlib.subcommand(x) for x in c.wrapper.since(mark)]
    assert subs[:2] == ["create", "start"] and "delete" in subs, subs
    create = c.wrapper.since(mark)[0]
    # the shim's contract: --root, a JSON --log in the bundle, --pid-file
    assert create[:2] == ["--root", str(c.dk.runtime_root)], create
    assert create[create.index("--log-format") + 1] == "json"
    assert "--pid-file" in create and "--bundle" in create


def test_exit_code(c):
    assert c.run("true", check=False).returncode == 0
    r = c.run("sh", "-c", "echo out; exit 3", check=False)
    assert (r.returncode, r.stdout) == (3, "out\n"), show(r)


# docker turns the runtime's create error into 127 / 126 by its wording
# (runc's "executable file not found", "no such file or directory",
# "permission denied"), otherwise 125


def test_exit_code_missing_command(c):
    r = c.run("no-such-cmd", check=False)
    assert r.returncode == 127 and "no-such-cmd" in r.stderr, show(r)
    r = c.run("/nonexistent", check=False)
    assert r.returncode == 127 and "/nonexistent" in r.stderr, show(r)


def test_exit_code_not_executable(c):
    r = c.run("/etc/passwd", check=False)
    assert r.returncode == 126 and "/etc/passwd" in r.stderr, show(r)


def test_exit_code_docker_error(c):
    """125: docker failed (an unknown user: the daemon; a file mounted on
    a directory: the runtime's create)."""
    r = c.run("true", opts=("--user", "nosuchuser"), check=False)
    assert r.returncode == 125 and "nosuchuser" in r.stderr, show(r)
    r = c.run("true", opts=("-v", "/etc/hostname:/bin"), check=False)
    assert r.returncode == 125 and "OCI runtime create failed" in r.stderr, show(r)


def test_run_stdin(c):
    """docker run -i: piped stdin reaches the process, EOF ends it."""
    r = c.run("sh", "-c", "tr a-z A-Z; echo eof", input="hello\nworld\n")
    assert r.stdout == "HELLO\nWORLD\neof\n", show(r)
    data = "x" * 200000
    r = c.run("wc", "-c", input=data)
    assert r.stdout.strip() == "200000", show(r)


def test_run_tty(c):
    """docker run -it on a pty: the container's terminal, the client's
    window size, typed input, the exit code."""
    mark = c.wrapper.mark()
    t = PtySession(c.dk.cmd + ["run", "-it", "--rm", "--name", c.name, *c.run_args(()), IMAGE, "sh"],
                   env=c.dk.env)
    try:
        assert t.read_until(b"# ", 30), f"no shell prompt; output: {t.text!r}"
        t.write(b'tty; echo "in=$((6*7))"; stty size; exit 3\n')
        assert t.read_until(b"in=42", 20), f"output: {t.text!r}"
    finally:
        rc, text = t.finish()
    assert re.search(r"^/dev/pts/\d+\r*$", text, re.M), text
    assert re.search(r"^30 100\r*$", text, re.M), text
    assert rc == 3, text
    create = c.calls(mark, "create")
    assert create and "--console-socket" in create[0], create


def test_detached_logs_wait(c):
    c.run_d("sh", "-c", "echo err >&2; sleep 0.3; echo out1; echo out2; exit 5", running=False)
    assert c("wait", c.name).stdout.strip() == "5"
    r = c("logs", c.name)
    assert (r.stdout, r.stderr) == ("out1\nout2\n", "err\n"), show(r)
    assert c.dk.inspect(c.name, "{{.State.Status}} {{.State.ExitCode}}") == "exited 5"
    r = c("logs", "--tail", "1", c.name)
    assert (r.stdout, r.stderr) == ("out2\n", ""), show(r)


# ------------------------------------------------------------------- exec


def test_exec(c):
    c.run_d("sh", "-c", LOOP, opts=("-e", "FOO=orig"))
    r = c("exec", c.name, "sh", "-c", "echo exec-out $(tr '\\0' ' ' < /proc/1/cmdline)")
    assert r.stdout.startswith("exec-out sh -c echo started"), r.stdout
    r = c("exec", "--user", "1000", "--workdir", "/tmp", c.name, "sh", "-c", 'echo "$(id -u) $(pwd)"')
    assert r.stdout == "1000 /tmp\n"
    # quick exits: the shim must get each status
    codes = [c("exec", c.name, "sh", "-c", f"exit {9 + i}", check=False).returncode for i in range(5)]
    assert codes == [9, 10, 11, 12, 13]
    # docker exec reports a failed exec as 126, whatever the reason
    # (and prints the error on stdout)
    r = c("exec", c.name, "no-such-cmd", check=False)
    assert r.returncode == 126 and "no-such-cmd" in r.stdout + r.stderr, show(r)
    r = c("exec", c.name, "/etc/passwd", check=False)
    assert r.returncode == 126 and "/etc/passwd" in r.stdout + r.stderr, show(r)


def test_exec_env(c):
    """exec -e overrides the container's variable (once, not twice) and adds
    new ones; the rest of the container's environment is kept."""
    c.run_d("sleep", "1000", opts=("-e", "FOO=orig", "-e", "KEEP=1"))
    r = c("exec", "-e", "FOO=bar", "-e", "NEW=x y", "-e", "TWICE=1", "-e", "TWICE=2", "-e", "EMPTY=",
          "-e", "PATH=/x:/bin", "-e", "HOME=/tmp", c.name, "env")
    env = r.stdout.splitlines()
    names = [l.split("=", 1)[0] for l in env]
    assert sorted(set(names)) == sorted(names), f"duplicate variables: {env}"
    for v in ("FOO=bar", "NEW=x y", "KEEP=1", "TWICE=2", "EMPTY=", "PATH=/x:/bin", "HOME=/tmp"):
        assert v in env, (v, env)
    # and the container's own environment is as it was
    env = c("exec", c.name, "env").stdout.splitlines()
    assert "FOO=orig" in env and "HOME=/root" in env and not any(v.startswith("NEW=") for v in env), env


def test_exec_session(c):
    """An exec'd process without a terminal leads a session and process
    group of its own (runc's setsid), like the container's init."""
    c.run_d("sleep", "1000")
    prog = 'read pid comm state ppid pgrp sid rest < /proc/$$/stat; echo "$$ $pgrp $sid"'
    r = c("exec", c.name, "sh", "-c", prog)
    pid, pgrp, sid = r.stdout.split()
    assert pid == pgrp == sid, f"exec'd process: pid {pid} pgrp {pgrp} sid {sid}"
    r = c("exec", c.name, "sh", "-c", "read pid comm state ppid pgrp sid rest < /proc/1/stat; echo $pgrp $sid")
    assert r.stdout.split() == ["1", "1"], r.stdout


def test_exec_tty(c):
    c.run_d("sleep", "1000")
    mark = c.wrapper.mark()
    t = PtySession(c.dk.cmd + ["exec", "-it", c.name, "sh"], env=c.dk.env)
    try:
        assert t.read_until(b"# ", 30), f"no shell prompt; output: {t.text!r}"
        t.write(b'tty; echo "pid1=$(cat /proc/1/comm)"; stty size; exit 4\n')
        assert t.read_until(b"pid1=sleep", 20), f"output: {t.text!r}"
    finally:
        rc, text = t.finish()
    assert re.search(r"^/dev/pts/\d+\r*$", text, re.M), text
    assert re.search(r"^30 100\r*$", text, re.M), text
    assert rc == 4, text
    ex = c.calls(mark, "exec")
    assert ex and "--console-socket" in ex[0] and "--detach" in ex[0], ex


# --------------------------------------------------- stop, kill, restart


def test_stop(c):
    c.run_d("sh", "-c", LOOP)
    wait_for(lambda: "started" in c.dk.logs(c.name), what="started")
    mark = c.wrapper.mark()
    c("stop", "-t", "10", c.name)
    assert "got-term" in c.dk.logs(c.name)
    assert c.dk.inspect(c.name, "{{.State.Status}} {{.State.ExitCode}}") == "exited 0"
    kills = c.calls(mark, "kill")
    assert kills and kills[0][-1] in ("15", "TERM", "SIGTERM"), kills


def test_stop_escalates_to_kill(c):
    c.run_d("sh", "-c", 'trap "" TERM; echo ignoring; while true; do sleep 0.1; done')
    wait_for(lambda: "ignoring" in c.dk.logs(c.name), what="trap set")
    mark = c.wrapper.mark()
    t0 = time.monotonic()
    c("stop", "-t", "1", c.name)
    assert time.monotonic() - t0 < 15
    assert c.dk.inspect(c.name, "{{.State.ExitCode}}") == "137"
    signals = [k[-1] for k in c.calls(mark, "kill")]
    assert signals[:1] == ["15"] and signals[-1] == "9", signals


def test_kill(c):
    c.run_d("sh", "-c", LOOP)
    wait_for(lambda: "started" in c.dk.logs(c.name), what="started")
    c("kill", "-s", "USR1", c.name)
    wait_for(lambda: "got-usr1" in c.dk.logs(c.name), what="got-usr1")
    assert c.dk.status(c.name) == "running"
    c("kill", c.name)
    wait_for(lambda: c.dk.status(c.name) == "exited", what="exited after kill")
    assert c.dk.inspect(c.name, "{{.State.ExitCode}} {{.State.OOMKilled}}") == "137 false"


def test_sig_proxy(c):
    """An attached `docker run` passes the signals it gets on to the
    container (through dockerd and the runtime's kill)."""
    p = subprocess.Popen(
        c.dk.cmd + ["run", "--rm", "--name", c.name, *c.run_args(()), IMAGE, "sh", "-c",
                    'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.1; done'],
        env=c.dk.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "ready\n"
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert (p.returncode, out) == (7, "got-term\n"), (p.returncode, out, err)


def test_kill_paused(c):
    """Stopping or killing a paused container (frozen cgroup) ends it."""
    c.run_d("sleep", "1000")
    c("pause", c.name)
    c("stop", "-t", "1", c.name)
    assert c.dk.inspect(c.name, "{{.State.Status}} {{.State.ExitCode}}") == "exited 137"
    c("start", c.name)
    c("pause", c.name)
    c("kill", c.name)
    wait_for(lambda: c.dk.status(c.name) == "exited", what="exited after kill")
    c("start", c.name)
    c("pause", c.name)
    pid = c.dk.pid(c.name)
    c("rm", "-f", c.name)
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"), what="the process gone")


def test_restart(c):
    cid = c.run_d("sh", "-c", LOOP)
    wait_for(lambda: "started" in c.dk.logs(c.name), what="started")
    pid1 = c.dk.pid(c.name)
    c("restart", "-t", "5", c.name)
    assert c.dk.status(c.name) == "running"
    wait_for(lambda: c.dk.logs(c.name).count("started") == 2, what="started twice")
    assert "got-term" in c.dk.logs(c.name)
    assert c.dk.pid(c.name) != pid1 and not os.path.exists(f"/proc/{pid1}")
    assert [x[-1] for x in c.wrapper.calls_of("create")].count(cid) == 2


def test_restart_on_failure(c):
    """--restart on-failure:2: docker starts the container again twice."""
    c.run_d("sh", "-c", "echo run; exit 1", opts=("--restart", "on-failure:2"), running=False)

    def done():
        s = c.dk.inspect(c.name, "{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}")
        return s if s.startswith("exited 2 ") else None

    assert wait_for(done, timeout=30, what="two restarts, then exited") == "exited 2 1"
    time.sleep(0.5)
    assert c.dk.inspect(c.name, "{{.State.Status}} {{.RestartCount}}") == "exited 2"
    assert c.dk.logs(c.name).count("run") == 3


def test_pause_unpause(c):
    c.run_d("sh", "-c", "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.05; done")
    wait_for(lambda: c.dk.logs(c.name).count("tick") >= 3, what="ticks")
    mark = c.wrapper.mark()
    c("pause", c.name)
    assert c.dk.status(c.name) == "paused"
    time.sleep(0.3)  # output written before the freeze may still be copied
    n1 = c.dk.logs(c.name).count("tick")
    time.sleep(0.6)
    n2 = c.dk.logs(c.name).count("tick")
    assert n1 == n2, "the container kept running while paused"
    c("unpause", c.name)
    assert c.dk.status(c.name) == "running"
    wait_for(lambda: c.dk.logs(c.name).count("tick") > n2 + 2, what="ticks after unpause")
    assert c.calls(mark, "pause") and c.calls(mark, "resume")


def test_rm_force(c):
    cid = c.run_d("sleep", "1000")
    pid = c.dk.pid(c.name)
    c("rm", "-f", c.name)
    assert c.name not in c("ps", "-a", "--format", "{{.Names}}").stdout.split()
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"), what="the process gone")
    assert cid not in c.dk.runtime_containers(c.rt)
    assert cid in {x[-1] for x in c.wrapper.calls_of("delete")}


# ---------------------------------------------------- the process tree


def test_process_tree(c):
    """The container's process is a child of its containerd-shim-runc-v2
    (-id <container id>, -address <our containerd>), as `ps` shows it;
    `docker top` (the runtime's `ps`) lists it."""
    cid = c.run_d("sh", "-c", "sleep 1001 & wait")
    pid = c.dk.pid(c.name)
    r = subprocess.run(["ps", "-e", "-o", "pid=,ppid=,args="], capture_output=True, text=True, check=True)
    rows = {}
    for line in r.stdout.splitlines():
        p, pp, args = (line.split(None, 2) + [""])[:3]
        rows[int(p)] = (int(pp), args)
    ppid, args = rows[pid]
    assert args == "sh -c sleep 1001 & wait", args
    shim = rows[ppid][1]
    assert shim.startswith("/usr/bin/containerd-shim-runc-v2 ") and f"-id {cid}" in shim, shim
    assert f"-address {c.dk.csock}" in shim, shim
    sleeps = [p for p, (pp, a) in rows.items() if pp == pid and a == "sleep 1001"]
    assert len(sleeps) == 1, rows
    # ps fauxw draws the tree: shim, then sh, then sleep below it
    tree = subprocess.run(["ps", "fauxw"], capture_output=True, text=True, check=True).stdout.splitlines()
    i = next(n for n, l in enumerate(tree) if "containerd-shim-runc-v2" in l and cid in l)
    assert re.search(rf"^root\s+{pid}\s.*\\_ sh -c sleep 1001 & wait$", tree[i + 1]), tree[i:i + 3]
    assert re.search(rf"^root\s+{sleeps[0]}\s.*\\_ sleep 1001$", tree[i + 2]), tree[i:i + 3]
    mark = c.wrapper.mark()
    top = c("top", c.name, "-o", "pid,args").stdout.splitlines()[1:]
    listed = {int(l.split(None, 1)[0]): l.split(None, 1)[1] for l in top}
    assert listed == {pid: "sh -c sleep 1001 & wait", sleeps[0]: "sleep 1001"}, top
    ps = c.calls(mark, "ps")
    assert ps and "json" in ps[0], ps


# -------------------------------------------------------------- resources


def _host_cgroup(c, controller, v1, v2) -> str:
    return clientlib.cgroup_file(c.dk.pid(c.name), controller, v1, v2).read_text().strip()


def _inside(c, v1, v2) -> str:
    """A cgroup file as the container sees it (v1 hierarchy or unified)."""
    return c("exec", c.name, "sh", "-c",
             f"cat /sys/fs/cgroup/{v1} 2>/dev/null || cat /sys/fs/cgroup/{v2}").stdout.strip()


def test_stats(c):
    """docker stats reads the container's cgroup (through the shim): 3
    processes, the 64 MiB limit."""
    c.run_d("sh", "-c", "sleep 1000 & sleep 1000 & wait", opts=("--memory", "64m"))
    wait_for(lambda: len(c("top", c.name).stdout.splitlines()) == 4, what="three processes")
    r = c("stats", "--no-stream", "--format", "{{.PIDs}} {{.MemUsage}}", c.name)
    pids, usage = r.stdout.split(None, 1)
    assert pids == "3" and usage.strip().endswith("/ 64MiB"), r.stdout


def test_memory_oom(c):
    """--memory: the limit is in the cgroup; a process that outgrows it is
    OOM-killed, docker sees OOMKilled and exit 137."""
    c.run_d("sh", "-c", "echo ready; sleep 1000", opts=("--memory", "32m", "--memory-swap", "32m"))
    assert _host_cgroup(c, "memory", "memory.limit_in_bytes", "memory.max") == str(32 << 20)
    assert _inside(c, "memory/memory.limit_in_bytes", "memory.max") == str(32 << 20)
    c("rm", "-f", c.name)
    # tail keeps the newline-less /dev/zero in memory
    r = c.run("sh", "-c", "echo start; tail /dev/zero; echo tail=$?",
              opts=("--name", c.name + "-oom", "--memory", "32m", "--memory-swap", "32m"), check=False)
    assert "start" in r.stdout, show(r)
    c.run_d("sh", "-c", "tail /dev/zero", name=c.name + "-d", running=False,
            opts=("--memory", "32m", "--memory-swap", "32m"))
    assert c("wait", c.name + "-d", timeout=60).stdout.strip() == "137"
    assert c.dk.inspect(c.name + "-d", "{{.State.OOMKilled}} {{.State.ExitCode}}") == "true 137"


def test_pids_limit(c):
    c.run_d("sleep", "1000", opts=("--pids-limit", "10"))
    assert _host_cgroup(c, "pids", "pids.max", "pids.max") == "10"
    assert _inside(c, "pids/pids.max", "pids.max") == "10"
    r = c("exec", c.name, "sh", "-c", "i=0; while [ $i -lt 20 ]; do sleep 30 & i=$((i+1)); done", check=False)
    assert "can't fork" in r.stderr, show(r)
    current = int(_host_cgroup(c, "pids", "pids.current", "pids.current"))
    assert 2 <= current <= 10, current


def test_cpus(c):
    c.run_d("sleep", "1000", opts=("--cpus", "0.5"))
    if clientlib.cgroup_v2_unified():
        assert _host_cgroup(c, "cpu", "", "cpu.max") == "50000 100000"
    else:
        assert _host_cgroup(c, "cpu", "cpu.cfs_quota_us", "") == "50000"
        assert _host_cgroup(c, "cpu", "cpu.cfs_period_us", "") == "100000"
    assert _inside(c, "cpu/cpu.cfs_quota_us", "cpu.max").split()[0] == "50000"


def test_update(c):
    c.run_d("sleep", "1000", opts=("--memory", "64m", "--cpus", "1"))
    mark = c.wrapper.mark()
    c("update", "--memory", "96m", "--memory-swap", "192m", "--cpus", "0.5", c.name)
    assert _host_cgroup(c, "memory", "memory.limit_in_bytes", "memory.max") == str(96 << 20)
    assert _inside(c, "memory/memory.limit_in_bytes", "memory.max") == str(96 << 20)
    assert _inside(c, "cpu/cpu.cfs_quota_us", "cpu.max").split()[0] == "50000"
    updates = c.calls(mark, "update")
    assert updates and "--resources" in updates[0], updates
    assert c.dk.inspect(c.name, "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}") == f"{96 << 20} 500000000"


# ----------------------------------------------------------- filesystems


def test_read_only_tmpfs(c):
    r = c.run("sh", "-c", "touch /x; echo root=$?; touch /run/y; echo run=$?; grep -E ' / | /run ' /proc/mounts",
              opts=("--read-only", "--tmpfs", "/run:rw,size=1m,mode=1777"))
    assert "root=1" in r.stdout and "run=0" in r.stdout, show(r)
    assert "Read-only file system" in r.stderr, show(r)
    mounts = {l.split()[1]: l.split() for l in r.stdout.splitlines() if l.count(" ") >= 3}
    assert mounts["/"][3].split(",")[0] == "ro", mounts
    assert mounts["/run"][2] == "tmpfs" and "size=1024k" in mounts["/run"][3], mounts


def test_volumes(c):
    host = c.dir / "vol"
    host.mkdir()
    (host / "from-host").write_text("hello from the host\n")
    r = c.run("sh", "-c", "cat /data/from-host; echo written > /data/from-container; id -u > /data/uid",
              opts=("-v", f"{host}:/data"))
    assert r.stdout == "hello from the host\n"
    assert (host / "from-container").read_text() == "written\n"
    r = c.run("sh", "-c", "touch /data/x; echo rc=$?", opts=("-v", f"{host}:/data:ro"), check=False)
    assert "rc=1" in r.stdout and "Read-only file system" in r.stderr, show(r)
    vol = c.name + "-vol"
    c("volume", "create", vol)
    try:
        c.run("sh", "-c", "echo kept > /v/file", opts=("-v", f"{vol}:/v"))
        assert c.run("cat", "/v/file", opts=("-v", f"{vol}:/v")).stdout == "kept\n"
    finally:
        c("volume", "rm", "-f", vol, check=False)


def test_cp(c):
    c.run_d("sleep", "1000")
    src = c.dir / "in.txt"
    src.write_text("copied in\n")
    c("cp", src, f"{c.name}:/tmp/in.txt")
    assert c("exec", c.name, "cat", "/tmp/in.txt").stdout == "copied in\n"
    c("exec", c.name, "sh", "-c", "mkdir /tmp/d; echo copied out > /tmp/d/out.txt")
    c("cp", f"{c.name}:/tmp/d", c.dir / "d")
    assert (c.dir / "d" / "out.txt").read_text() == "copied out\n"
    c("cp", f"{c.name}:/etc/passwd", c.dir / "passwd")
    assert (c.dir / "passwd").read_text().startswith("root:x:0:0:")


# ---------------------------------------------------- process attributes


def test_user(c):
    assert c.run("id", opts=("--user", "1000:1000")).stdout.strip() == \
        "uid=1000(user) gid=1000(user) groups=1000(user)"
    assert c.run("sh", "-c", "id -u; id -g", opts=("--user", "nobody")).stdout.split() == ["65534", "65534"]
    r = c.run("sh", "-c", "id -G", opts=("--user", "1000", "--group-add", "65534"))
    assert r.stdout.split() == ["1000", "65534"], show(r)


def test_capabilities(c):
    status = c.run("cat", "/proc/self/status").stdout
    default = _caps(*DOCKER_DEFAULT_CAPS)
    for field in ("CapEff", "CapPrm", "CapBnd"):
        assert int(_status_field(status, field), 16) == default, (field, status)
    r = c.run("sh", "-c", "grep CapEff /proc/self/status; chown 1 /tmp; echo chown=$?",
              opts=("--cap-drop", "CHOWN"), check=False)
    assert int(_status_field(r.stdout, "CapEff"), 16) == default & ~_caps("CHOWN"), show(r)
    assert "chown=1" in r.stdout and "Operation not permitted" in r.stderr, show(r)
    r = c.run("sh", "-c", "grep CapEff /proc/self/status; ip link set lo mtu 1400; echo ip=$?",
              opts=("--cap-add", "NET_ADMIN"), check=False)
    assert int(_status_field(r.stdout, "CapEff"), 16) == default | _caps("NET_ADMIN"), show(r)
    assert "ip=0" in r.stdout, show(r)
    r = c.run("sh", "-c", "ip link set lo mtu 1400; echo ip=$?", check=False)
    assert "ip=0" not in r.stdout, show(r)
    r = c.run("grep", "Cap", "/proc/self/status", opts=("--cap-drop", "ALL", "--cap-add", "CHOWN"))
    assert int(_status_field(r.stdout, "CapEff"), 16) == _caps("CHOWN"), show(r)
    assert int(_status_field(r.stdout, "CapBnd"), 16) == _caps("CHOWN"), show(r)


def test_privileged(c):
    """--privileged: docker asks for every capability it knows, all host
    devices, no seccomp; mounting works."""
    if not _host_cap_bounding() & _caps("SYS_RESOURCE"):
        pytest.skip("CAP_SYS_RESOURCE is not in this host's capability bounding set: runc cannot "
                    "apply --privileged's capability set (`unable to apply caps: operation not permitted`)")
    r = c.run("sh", "-c", "cat /proc/self/status; ls /dev | wc -l; mkdir -p /mnt; "
              "mount -t tmpfs t /mnt && echo mounted", opts=("--privileged",))
    eff = int(_status_field(r.stdout, "CapEff"), 16)
    assert eff & _caps("SYS_ADMIN", "SYS_RESOURCE", "NET_ADMIN") == _caps("SYS_ADMIN", "SYS_RESOURCE", "NET_ADMIN")
    assert eff & ~_host_cap_bounding() == 0, hex(eff)
    assert _status_field(r.stdout, "Seccomp") == "0"
    assert "mounted" in r.stdout, show(r)
    ndev = int(r.stdout.splitlines()[-2])
    assert ndev > int(c.run("sh", "-c", "ls /dev | wc -l").stdout), show(r)


def test_security_opts(c):
    r = c.run("grep", "-E", "NoNewPrivs|Seccomp:", "/proc/self/status")
    assert (_status_field(r.stdout, "NoNewPrivs"), _status_field(r.stdout, "Seccomp")) == ("0", "2"), show(r)
    r = c.run("grep", "-E", "NoNewPrivs|Seccomp:", "/proc/self/status",
              opts=("--security-opt", "no-new-privileges"))
    assert (_status_field(r.stdout, "NoNewPrivs"), _status_field(r.stdout, "Seccomp")) == ("1", "2"), show(r)
    r = c.run("grep", "-E", "NoNewPrivs|Seccomp:", "/proc/self/status",
              opts=("--security-opt", "seccomp=unconfined"))
    assert (_status_field(r.stdout, "NoNewPrivs"), _status_field(r.stdout, "Seccomp")) == ("0", "0"), show(r)
    # the default profile is in force: it refuses a new user namespace
    r = c.run("sh", "-c", "unshare -U true; echo unshare=$?", check=False)
    assert "unshare=0" not in r.stdout, show(r)
    r = c.run("sh", "-c", "unshare -U true; echo unshare=$?", opts=("--security-opt", "seccomp=unconfined"))
    assert "unshare=0" in r.stdout, show(r)


def test_ulimit(c):
    r = c.run("cat", "/proc/self/limits", opts=("--ulimit", "nofile=1024:2048", "--ulimit", "nproc=500:600"))
    assert re.search(r"^Max open files\s+1024\s+2048\s", r.stdout, re.M), r.stdout
    assert re.search(r"^Max processes\s+500\s+600\s", r.stdout, re.M), r.stdout


def test_ulimit_above_hard_limit(c):
    import resource

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if not _host_cap_bounding() & _caps("SYS_RESOURCE"):
        pytest.skip(f"CAP_SYS_RESOURCE is not in this host's capability bounding set: no runtime can raise "
                    f"RLIMIT_NOFILE above the hard limit {hard} (runc: `operation not permitted`)")
    want = 1048576 if hard < 1048576 else hard
    r = c.run("cat", "/proc/self/limits", opts=("--ulimit", f"nofile={want}:{want}"))
    assert re.search(rf"^Max open files\s+{want}\s+{want}\s", r.stdout, re.M), r.stdout


def test_sysctl(c):
    r = c.run("sh", "-c", "cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/kernel/shmmax "
              "/proc/sys/net/core/somaxconn",
              opts=("--sysctl", "net.ipv4.ip_unprivileged_port_start=99", "--sysctl", "kernel.shmmax=123456789",
                    "--sysctl", "net.core.somaxconn=777"))
    assert r.stdout.split() == ["99", "123456789", "777"], show(r)


def test_init(c):
    r = c.run("sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline; echo; echo self=$$; sleep 0.1 & wait",
              opts=("--init",))
    first, second = r.stdout.splitlines()[:2]
    assert first.startswith("/sbin/docker-init -- sh -c"), r.stdout
    assert second != "self=1", r.stdout


# ------------------------------------------------------------ namespaces


def test_pid_host(c):
    r = c.run("sh", "-c", f"readlink /proc/self/ns/pid; test -d /proc/{os.getpid()} && echo sees-pytest",
              opts=("--pid", "host"))
    assert r.stdout.split() == [os.readlink("/proc/self/ns/pid"), "sees-pytest"], show(r)
    r = c.run("readlink", "/proc/self/ns/pid")
    assert r.stdout.strip() != os.readlink("/proc/self/ns/pid")


def test_pid_container(c):
    c.run_d("sleep", "1001")
    ns = c("exec", c.name, "readlink", "/proc/self/ns/pid").stdout.strip()
    r = c.run("sh", "-c", "readlink /proc/self/ns/pid; ps -o pid,args", opts=("--pid", f"container:{c.name}"))
    lines = r.stdout.splitlines()
    assert lines[0] == ns, show(r)
    assert any(l.split(None, 1) == ["1", "sleep 1001"] for l in lines[2:]), r.stdout


def test_ipc_container(c):
    c.run_d("sh", "-c", "echo shared > /dev/shm/from-a; exec sleep 1000", opts=("--ipc", "shareable"))
    wait_for(lambda: c("exec", c.name, "cat", "/dev/shm/from-a", check=False).stdout == "shared\n",
             what="/dev/shm/from-a")
    ns = c("exec", c.name, "readlink", "/proc/self/ns/ipc").stdout.strip()
    r = c.run("sh", "-c", "readlink /proc/self/ns/ipc; cat /dev/shm/from-a", opts=("--ipc", f"container:{c.name}"))
    assert r.stdout.split("\n")[:2] == [ns, "shared"], show(r)
    other = c.run("readlink", "/proc/self/ns/ipc").stdout.strip()
    assert other != ns


# ---------------------------------------------------------- healthchecks


def test_healthcheck(c):
    """--health-cmd runs in the container (a runtime exec) until it passes."""
    mark = c.wrapper.mark()
    c.run_d("sh", "-c", "sleep 1; touch /tmp/ready; exec sleep 1000",
            opts=("--health-cmd", "test -e /tmp/ready", "--health-interval", "200ms",
                  "--health-retries", "50", "--health-timeout", "5s"))
    wait_for(lambda: c.dk.inspect(c.name, "{{.State.Health.Status}}") == "healthy", timeout=30, what="healthy")
    log = json.loads(c.dk.inspect(c.name, "{{json .State.Health.Log}}"))
    assert log[-1]["ExitCode"] == 0 and any(e["ExitCode"] == 1 for e in log), log
    assert len(c.calls(mark, "exec")) >= 2
    bad = c.name + "-bad"
    c.run_d("sleep", "1000", name=bad,
            opts=("--health-cmd", "echo failing; exit 1", "--health-interval", "200ms", "--health-retries", "2"))
    wait_for(lambda: c.dk.inspect(bad, "{{.State.Health.Status}}") == "unhealthy", timeout=30, what="unhealthy")
    log = json.loads(c.dk.inspect(bad, "{{json .State.Health.Log}}"))
    assert log[-1]["ExitCode"] == 1 and log[-1]["Output"] == "failing\n", log


# ------------------------------------------------------ docs/clients.md


def _docs_daemon_json() -> dict:
    text = (clientlib.TOP / "docs" / "clients.md").read_text()
    section = text[text.index("\n## Docker"):]
    end = section.find("\n## ", 1)
    section = section if end < 0 else section[:end]
    blocks = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", section, re.S)]
    return next(b for b in blocks if "runtimes" in b)


def test_daemon_json_from_docs(dk, workroot, busybox_tar, runtime):
    """The daemon.json of docs/clients.md (`runtimes` and `default-runtime`,
    the path replaced by the runtime under test) on a second dockerd
    (sharing the containerd, in a containerd namespace of its own): a
    plain `docker run` goes through skiff."""
    conf = _docs_daemon_json()
    assert conf["runtimes"]["skiff"] == {"path": "/usr/local/bin/skiff"} and conf["default-runtime"] == "skiff"
    base = workroot / "dk2"
    conf["runtimes"]["skiff"]["path"] = str(base / "bin" / "skiff")  # ArgvLog's wrapper
    d2 = Dockerd(base, {"skiff": runtime}, config=conf, share=dk)
    try:
        d2.start()
        assert str(d2.wrappers["skiff"].path) == conf["runtimes"]["skiff"]["path"]
        assert d2("info", "--format", "{{.DefaultRuntime}}").stdout.strip() == "skiff"
        d2("import", "--change", 'CMD ["sh"]', busybox_tar, IMAGE)
        r = d2("run", "--rm", "--network", "none", IMAGE, "echo", "default runtime")
        assert r.stdout == "default runtime\n"
        cid = d2("run", "-d", "--network", "none", IMAGE, "sleep", "1000").stdout.strip()
        assert d2.inspect(cid, "{{.HostConfig.Runtime}}") == "skiff"
        assert len(d2.created_ids("skiff")) == 2 and cid in d2.created_ids("skiff")
    finally:
        problems = d2.stop()
    assert not problems, problems


# -------------------------------------------------------------- the end


def test_state_left_clean(c):
    """Once docker has removed its containers, the runtime lists none of
    those it created in the shim's root."""
    for cid in c("ps", "-aq").stdout.split():
        if cid in {x[:12] for x in c.dk.created_ids(c.rt)}:
            c("rm", "-f", cid)
    assert len(c.dk.created_ids(c.rt)) >= 20
    assert c.dk.runtime_containers(c.rt) == set()

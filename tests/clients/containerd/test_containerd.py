"""containerd (Debian's containerd, its runc v2 shim and ctr) drives the
runtime under test: `ctr run --runc-binary <runtime>` on a private
containerd (own root, state, sockets; stopped by its pid afterwards).
The runtime is reached through a wrapper logging every command line the
shim used.  See docs/clients.md."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
import re
import time

import pytest

import clientlib
from clientlib import ArgvLog, PtySession, wait_for
from ctdlib import IMAGE, NAMESPACE, Containerd, base_config, have_containerd


@pytest.fixture(scope="module")
def ctd(workroot, busybox_tar, runtime):
    why = have_containerd()
    if why:
        pytest.skip(why)
    c = Containerd(workroot / "ctd", runtime, base_config(workroot / "ctd"))
    try:
        c.start()
        archive = clientlib.oci_archive(busybox_tar, workroot / "busybox-oci.tar", IMAGE)
        r = c.ctr("images", "import", archive)
        assert IMAGE in r.stdout, r.stdout
        assert IMAGE in c.ctr("images", "ls", "-q").stdout.split()
        yield c
    finally:
        problems = c.stop()
    assert not problems, problems


@pytest.fixture
def cid(request, ctd):
    name = "t-" + re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:40].strip("-")
    yield name
    ctd.remove(name)


LOOP = ('echo started; trap "echo got-term; exit 0" TERM; trap "echo got-usr1" USR1; '
        'i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.05; done')


def run_detached(ctd, cid, *args, log=None):
    log = log or ctd.base / f"{cid}.log"
    log.unlink(missing_ok=True)
    ctd.ctr("run", "-d", *ctd.runtime_opts(), "--log-uri", f"file://{log}", IMAGE, cid, *args)
    wait_for(lambda: ctd.tasks().get(cid, (0, ""))[1] == "RUNNING", what=f"{cid} RUNNING")
    return log


def test_run_echo(ctd, cid):
    mark = ctd.wrapper.mark()
    r = ctd.ctr("run", "--rm", *ctd.runtime_opts(), IMAGE, cid, "echo", "hello from skiff")
    assert r.stdout == "hello from skiff\n"
    calls = ctd.wrapper.since(mark)
    subs = [clientlib.subcommand(c) for c in calls]
    assert subs[:2] == ["create", "start"] and "delete" in subs, subs
    create = calls[0]
    ns_root = ctd.runc_root / NAMESPACE
    # the shim's contract: per-namespace --root (which the runtime creates),
    # JSON log in the bundle, pid file, bundle
    assert create[:2] == ["--root", str(ns_root)], create
    assert "--log-format" in create and create[create.index("--log-format") + 1] == "json"
    assert create[create.index("--log") + 1].endswith(f"/{cid}/log.json")
    assert "--pid-file" in create and "--bundle" in create and create[-1] == cid
    assert ns_root.is_dir()


def test_systemd_cgroup(ctd, cid):
    """ctr run --runc-systemd-cgroup: the shim passes --systemd-cgroup."""
    import os

    if not os.path.isdir("/run/systemd/system"):
        pytest.skip("no systemd on this host (/run/systemd/system is absent): the shim's "
                    "SystemdCgroup (runtime --systemd-cgroup) cannot run; the suite uses cgroupfs")
    r = ctd.ctr("run", "--rm", *ctd.runtime_opts(), "--runc-systemd-cgroup", "--cgroup", "system.slice:skiff:" + cid,
                IMAGE, cid, "cat", "/proc/self/cgroup")
    assert ".scope" in r.stdout, r.stdout
    create = ctd.wrapper.calls_of("create")[-1]
    assert "--systemd-cgroup" in create, create


def test_exit_code(ctd, cid):
    r = ctd.ctr("run", "--rm", *ctd.runtime_opts(), IMAGE, cid, "sh", "-c", "echo out; exit 7", check=False)
    assert r.returncode == 7 and r.stdout == "out\n", r


def test_run_tty(ctd, cid):
    """ctr run -t: the shim gives the runtime --console-socket and copies
    the pty to ctr's terminal."""
    mark = ctd.wrapper.mark()
    argv = ["ctr", "--address", str(ctd.sock), "--namespace", NAMESPACE, "run", "-t", "--rm",
            *ctd.runtime_opts(), IMAGE, cid, "sh"]
    t = PtySession(argv)
    try:
        assert t.read_until(b"# ", 30), f"no shell prompt; output: {t.text!r}"
        t.write(b'tty; echo "in=$((6*7))"; stty size; exit 5\n')
        assert t.read_until(b"in=42", 20), f"output: {t.text!r}"
    finally:
        rc, text = t.finish()
    assert re.search(r"^/dev/pts/\d+\r*$", text, re.M), text
    assert re.search(r"^30 100\r*$", text, re.M), text
    assert rc == 5, text
    create = next(c for c in ctd.wrapper.since(mark) if clientlib.subcommand(c) == "create")
    assert "--console-socket" in create, create


def test_exec(ctd, cid):
    run_detached(ctd, cid, "sh", "-c", LOOP)
    r = ctd.ctr("tasks", "exec", "--exec-id", "e1", cid, "sh", "-c",
                "echo exec-out; id -u; tr '\\0' ' ' < /proc/1/cmdline")
    assert r.stdout.splitlines()[:2] == ["exec-out", "0"]
    assert r.stdout.splitlines()[2].startswith("sh -c echo started")
    r = ctd.ctr("tasks", "exec", "--exec-id", "e2", "--user", "1000", cid, "id", "-u")
    assert r.stdout == "1000\n"
    # quick commands: the shim (a subreaper) must get each exit status
    codes = [ctd.ctr("tasks", "exec", "--exec-id", f"q{i}", cid, "sh", "-c", f"exit {3 + i}",
                     check=False).returncode for i in range(5)]
    assert codes == [3, 4, 5, 6, 7]
    execs = ctd.wrapper.calls_of("exec")
    assert execs and "--detach" in execs[-1] and "--process" in execs[-1], execs[-1]


def test_exec_tty(ctd, cid):
    """ctr tasks exec -t: exec with --console-socket into a task without
    a terminal."""
    run_detached(ctd, cid, "sleep", "1000")
    mark = ctd.wrapper.mark()
    argv = ["ctr", "--address", str(ctd.sock), "--namespace", NAMESPACE, "tasks", "exec", "-t",
            "--fifo-dir", str(ctd.fifo), "--exec-id", "tty1", cid, "sh"]
    t = PtySession(argv)
    try:
        assert t.read_until(b"# ", 30), f"no shell prompt; output: {t.text!r}"
        t.write(b'tty; echo "pid1=$(cat /proc/1/comm)"; exit 6\n')
        assert t.read_until(b"pid1=sleep", 20), f"output: {t.text!r}"
    finally:
        rc, text = t.finish()
    assert re.search(r"^/dev/pts/\d+\r*$", text, re.M), text
    assert rc == 6, text
    ex = next(c for c in ctd.wrapper.since(mark) if clientlib.subcommand(c) == "exec")
    assert "--console-socket" in ex and "--detach" in ex, ex


def test_kill(ctd, cid):
    log = run_detached(ctd, cid, "sh", "-c", LOOP)
    wait_for(lambda: log.exists() and "started" in log.read_text(), what="started")
    ctd.ctr("tasks", "kill", "-s", "USR1", cid)
    wait_for(lambda: "got-usr1" in log.read_text(), what="got-usr1")
    assert ctd.tasks()[cid][1] == "RUNNING"
    ctd.ctr("tasks", "kill", "-s", "TERM", cid)
    wait_for(lambda: ctd.tasks()[cid][1] == "STOPPED", what="STOPPED after TERM")
    assert "got-term" in log.read_text()
    kills = ctd.wrapper.calls_of("kill")
    assert [k[-2:] for k in kills[-2:]] == [[cid, "10"], [cid, "15"]], kills


def test_kill_all(ctd, cid):
    """tasks kill --all -s KILL: every process of the task (an exec'd one
    too) dies; the task exits 137."""
    run_detached(ctd, cid, "sh", "-c", LOOP)
    ctd.ctr("tasks", "exec", "-d", "--exec-id", "bg", cid, "sleep", "1001")

    def sleeps():
        # pids_with_arg matched on the whole command line; keep exact ones
        out = []
        for p in clientlib.pids_with_arg("sleep\x001001"):
            try:
                if Path(f"/proc/{p}/cmdline").read_bytes() == b"sleep\x001001\x00":
                    out.append(p)
            except OSError:
                pass
        return out

    wait_for(sleeps, what="exec'd sleep")
    ctd.ctr("tasks", "kill", "--all", "-s", "KILL", cid)
    wait_for(lambda: ctd.tasks()[cid][1] == "STOPPED", what="STOPPED after KILL")
    kills = ctd.wrapper.calls_of("kill")
    assert "--all" in kills[-1] and kills[-1][-2:] == [cid, "9"], kills[-1]
    r = ctd.ctr("tasks", "rm", cid)
    assert r.returncode == 0
    assert cid not in ctd.tasks()
    wait_for(lambda: not sleeps(), what="exec'd sleep killed too")


@pytest.mark.needs_command("ps")
def test_tasks_ps(ctd, cid):
    run_detached(ctd, cid, "sh", "-c", "sleep 1000 & sleep 2000 & wait")
    pid = ctd.tasks()[cid][0]

    def children():
        kids = set()
        for t in (Path(f"/proc/{pid}/task").iterdir()):
            kids |= {int(x) for x in (t / "children").read_text().split()}
        return kids if len(kids) == 2 else None

    kids = wait_for(children, what="two sleeps")
    r = ctd.ctr("tasks", "ps", cid)
    listed = {int(l.split()[0]) for l in r.stdout.splitlines()[1:] if l.strip()}
    assert listed == {pid} | kids, r.stdout
    ps = ctd.wrapper.calls_of("ps")
    assert ps and "--format" in ps[-1] and ps[-1][ps[-1].index("--format") + 1] == "json", ps


@pytest.mark.needs_command("pause", "resume")
def test_pause_resume(ctd, cid):
    log = run_detached(ctd, cid, "sh", "-c", LOOP)
    wait_for(lambda: log.exists() and log.read_text().count("tick") >= 3, what="ticks")
    ctd.ctr("tasks", "pause", cid)
    assert ctd.tasks()[cid][1] == "PAUSED"
    time.sleep(0.3)  # the shim may still be copying output written before the freeze
    n1 = log.read_text().count("tick")
    time.sleep(0.6)
    assert log.read_text().count("tick") == n1, "the task kept running while paused"
    ctd.ctr("tasks", "resume", cid)
    assert ctd.tasks()[cid][1] == "RUNNING"
    wait_for(lambda: log.read_text().count("tick") > n1 + 2, what="ticks after resume")


def _create_error(ctd, cid, *args, opts=()):
    r = ctd.ctr("run", "--rm", *ctd.runtime_opts(), *opts, IMAGE, cid, *args, check=False)
    assert r.returncode != 0, r
    m = re.search(r"OCI runtime create failed: (.*)$", r.stderr, re.M)
    assert m, r.stderr
    return m.group(1)


def test_failing_create_reports_json_log(ctd, cid):
    """On a failed create the shim reads the runtime's --log (JSON) and
    shows its last error message; without a parsable log it would say
    `<runtime> did not terminate successfully: exit status 1`."""
    msg = _create_error(ctd, cid, "/nonexistent")
    assert "did not terminate successfully" not in msg, msg
    assert "/nonexistent" in msg and msg.endswith(": unknown"), msg
    create = ctd.wrapper.calls_of("create")[-1]
    assert create[create.index("--log-format") + 1] == "json"


def test_failing_create_bad_cwd(ctd, cid):
    msg = _create_error(ctd, cid, "true", opts=("--cwd", "relative/dir"))
    assert "did not terminate successfully" not in msg, msg
    assert "relative/dir" in msg or "cwd" in msg.lower(), msg


def test_json_log_lines(ctd, cid, tmp_path):
    """The log the shim reads: one JSON object per line with level, msg
    and time (checked on the runtime directly, as the shim removes the
    bundle with its log.json)."""
    log = tmp_path / "log.json"
    r = subprocess.run(
        [ctd.runtime, "--root", str(tmp_path / "root"), "--log", str(log), "--log-format", "json",
         "delete", "no-such-container"], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    lines = [json.loads(l) for l in log.read_text().splitlines() if l.strip()]
    assert lines and lines[-1]["level"] == "error" and "does not exist" in lines[-1]["msg"]
    assert "time" in lines[-1]


def test_state_left_clean(ctd):
    """After the tests' containers are gone, the runtime lists nothing in
    the shim's per-namespace root."""
    for c in ctd.ctr("containers", "ls", "-q").stdout.split():
        ctd.remove(c)
    r = subprocess.run([ctd.runtime, "--root", str(ctd.runc_root / NAMESPACE), "list", "-q"],
                                 capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout.strip() == "", r

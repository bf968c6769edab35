"""create / start / state / kill / delete / run / list: runc's CLI contract
and the runtime-spec lifecycle."""

import json
import os
import re
import signal
import time
from pathlib import Path

import pytest

import host
from harness import IS_SKIFF, pid_alive, rfc3339_ok, unique, wait_for


def marker_script(marker="/shared/ran"):
    """sh: record that the user process ran, then wait forever."""
    return f"echo ran > {marker}; exec /init ready"


# ------------------------------------------------------------- lifecycle


def test_create_does_not_run_user_process(runtime, bundle, cid):
    shared = bundle.shared
    bundle.sh(marker_script())
    runtime.create(cid, bundle).ok()
    st = runtime.state(cid)
    assert st["status"] == "created"
    assert isinstance(st["pid"], int) and st["pid"] > 0
    assert pid_alive(st["pid"]), "the container's init must exist after create"
    time.sleep(0.2)
    assert not (shared / "ran").exists(), "user process ran before start"


def test_start_runs_user_process(runtime, bundle, cid):
    shared = bundle.shared
    bundle.sh(marker_script())
    runtime.create(cid, bundle).ok()
    pid = runtime.state(cid)["pid"]
    runtime.start(cid).ok()
    wait_for(lambda: (shared / "ran").exists(), what="the user process")
    st = runtime.state(cid)
    assert st["status"] == "running"
    assert st["pid"] == pid, "start must exec in the process create made"


def test_stopped_after_process_exits(runtime, bundle, cid):
    bundle.args = ["/init", "exit", "3"]
    runtime.create(cid, bundle).ok()
    pid = runtime.state(cid)["pid"]
    runtime.start(cid).ok()
    runtime.wait_status(cid, "stopped")
    wait_for(lambda: not pid_alive(pid), what="init to be gone")


def test_full_cycle_then_delete(runtime, bundle, cid):
    bundle.args = ["/init", "exit", "0"]
    runtime.create(cid, bundle).ok()
    runtime.start(cid).ok()
    runtime.wait_status(cid, "stopped")
    runtime.delete(cid).ok()
    runtime.state_result(cid).failed()
    assert cid not in runtime.state_dirs()


# ------------------------------------------------------------------ state


def test_state_json_fields(runtime, bundle, cid):
    runtime.create(cid, bundle).ok()
    st = runtime.state(cid)
    for key in ("ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"):
        assert key in st, f"state lacks {key}: {st}"
    assert st["id"] == cid
    assert isinstance(st["ociVersion"], str) and st["ociVersion"]
    assert os.path.isabs(st["bundle"])
    assert os.path.samefile(st["bundle"], bundle.path)
    assert rfc3339_ok(st["created"]), st["created"]
    assert "." in st["created"], "created should carry fractional seconds"
    assert st["owner"] in ("", "root")  # runc: "", crun: "root"
    if IS_SKIFF:
        assert st["owner"] == ""  # as runc; `list` names the owner
    # No annotations in the config: absent or empty.
    assert not st.get("annotations")


@pytest.mark.xfail_runtime("crun", reason="crun copies root.path as given")
def test_state_rootfs_is_absolute(runtime, bundle, cid):
    runtime.create(cid, bundle).ok()
    rootfs = runtime.state(cid)["rootfs"]
    assert os.path.isabs(rootfs), rootfs
    assert os.path.samefile(rootfs, bundle.rootfs)


def test_state_created_time_is_now(runtime, bundle, cid):
    from datetime import datetime, timezone

    before = datetime.now(timezone.utc)
    runtime.create(cid, bundle).ok()
    after = datetime.now(timezone.utc)
    created = runtime.state(cid)["created"]
    # Python 3.11 parses RFC3339 with up to microseconds; trim nanoseconds.
    head, _, frac = created.partition(".")
    digits = "".join(c for c in frac if c.isdigit())
    tz = frac[len(digits):]
    ts = datetime.fromisoformat(f"{head}.{digits[:6]}{'+00:00' if tz == 'Z' else tz}")
    assert before.timestamp() - 1 <= ts.timestamp() <= after.timestamp() + 1


def test_state_annotations(runtime, bundle, cid):
    bundle.config["annotations"] = {"org.skiff.test": "yes", "b": "2"}
    runtime.create(cid, bundle).ok()
    assert runtime.state(cid)["annotations"] == {"org.skiff.test": "yes", "b": "2"}


def test_state_bundle_is_absolute_for_relative_path(runtime, bundle, cid):
    bundle.save(cid)
    rel = os.path.relpath(bundle.path, runtime.workdir)
    runtime("create", "--bundle", rel, cid, cwd=runtime.workdir).ok()
    runtime.ids.append(cid)
    st = runtime.state(cid)
    assert os.path.isabs(st["bundle"])
    assert os.path.samefile(st["bundle"], bundle.path)


def test_bundle_defaults_to_cwd(runtime, bundle, cid):
    bundle.save(cid)
    runtime.ids.append(cid)
    runtime("create", cid, cwd=bundle.path).ok()
    assert os.path.samefile(runtime.state(cid)["bundle"], bundle.path)


def test_pid_file(runtime, bundle, cid, workdir):
    pidfile = workdir / "init.pid"
    runtime.create(cid, bundle, "--pid-file", pidfile).ok()
    raw = pidfile.read_text()
    assert raw.isdigit(), f"pid file must hold only the decimal pid: {raw!r}"
    assert int(raw) == runtime.state(cid)["pid"]


@pytest.mark.xfail_runtime("crun", reason="crun 1.8 resolves --pid-file elsewhere")
def test_pid_file_relative_to_cwd(runtime, bundle, cid, workdir):
    runtime.create(cid, bundle, "--pid-file", "rel.pid", cwd=workdir).ok()
    assert int((workdir / "rel.pid").read_text()) == runtime.state(cid)["pid"]


def test_run_detach_pid_file(runtime, bundle, cid, workdir):
    pidfile = workdir / "run.pid"
    runtime.run(cid, bundle, "--pid-file", pidfile, detach=True).ok()
    st = runtime.state(cid)
    assert st["status"] == "running"
    assert int(pidfile.read_text()) == st["pid"]


# ------------------------------------------------------------------- kill


@pytest.mark.parametrize("sig", ["KILL", "SIGKILL", "9"])
def test_kill_spellings(runtime, bundle, cid, sig):
    st = runtime.create_started(cid, bundle)
    runtime.kill(cid, sig).ok()
    runtime.wait_status(cid, "stopped")
    wait_for(lambda: not pid_alive(st["pid"]), what="init to die")


def test_kill_default_is_term(runtime, bundle, cid):
    bundle.args = ["/init", "sigwait"]
    r = runtime.create(cid, bundle).ok()
    runtime.start(cid).ok()
    r.wait_output("ready")
    runtime.kill(cid).ok()
    out = r.wait_output("signal=")
    assert "signal=SIGTERM" in out
    runtime.wait_status(cid, "stopped")


# Real-time signals as kill(1) names them: relative to libc's SIGRTMIN (34
# with glibc, whose first two it keeps), as the helper prints them.
@pytest.mark.parametrize(
    "sig,name",
    [
        ("USR1", "SIGUSR1"),
        ("SIGHUP", "SIGHUP"),
        ("12", "SIGUSR2"),
        ("RTMIN", "SIGRTMIN+0"),
        ("SIGRTMIN+3", "SIGRTMIN+3"),
        ("rtmax-1", "SIGRTMIN+29"),
        ("SIGRTMAX", "SIGRTMIN+30"),
    ],
)
def test_kill_delivers_named_signal(runtime, bundle, cid, sig, name):
    bundle.args = ["/init", "sigwait"]
    r = runtime.create(cid, bundle).ok()
    runtime.start(cid).ok()
    r.wait_output("ready")
    runtime.kill(cid, sig).ok()
    assert f"signal={name}" in r.wait_output(f"signal={name}")
    assert runtime.status(cid) == "running"


def test_kill_created_container(runtime, bundle, cid):
    bundle.sh(marker_script())
    shared = bundle.shared
    runtime.create(cid, bundle).ok()
    runtime.kill(cid, "KILL").ok()
    runtime.wait_status(cid, "stopped")
    assert not (shared / "ran").exists()


@pytest.mark.xfail_runtime("crun", reason="crun 1.8 accepts an unknown signal name")
def test_kill_bad_signal(runtime, bundle, cid):
    runtime.create_started(cid, bundle)
    runtime.kill(cid, "NOTASIGNAL").failed()
    assert runtime.status(cid) == "running"


def test_kill_stopped_container_fails(runtime, bundle, cid):
    bundle.args = ["/init", "exit", "0"]
    runtime.create_started(cid, bundle)
    runtime.wait_status(cid, "stopped")
    runtime.kill(cid, "KILL").failed()


def _container_cgroup_procs(pid):
    """The cgroup.procs of the container's cgroup (pids controller, else
    the cgroup2 one)."""
    lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    for line in lines:
        _h, ctrls, path = line.split(":", 2)
        if "pids" in ctrls.split(",") and host.has_controller("pids"):
            return host.cgroup_dir("pids", path) / "cgroup.procs"
    unified = host.unified_mount()
    for line in lines:
        if line.startswith("0::") and unified:
            return unified / line[3:].lstrip("/") / "cgroup.procs"
    raise AssertionError("no pids or cgroup2 hierarchy")


def test_kill_all(runtime, bundle, cid):
    # No pid namespace: killing init alone would leave its children behind.
    bundle.remove_namespace("pid")
    bundle.sh("/init sleep 300 & /init sleep 300 & echo started; wait")
    r = runtime.run(cid, bundle, detach=True).ok()
    r.wait_output("started")
    pid = runtime.state(cid)["pid"]
    procs = _container_cgroup_procs(pid)
    wait_for(lambda: len(procs.read_text().split()) >= 3, what="3 processes")
    members = [int(p) for p in procs.read_text().split()]
    runtime.kill(cid, "KILL", "--all").ok()
    wait_for(lambda: not any(pid_alive(p) for p in members), what="every process to die")
    runtime.wait_status(cid, "stopped")


def test_kill_without_all_leaves_children_without_pidns(runtime, bundle, cid):
    """Control for test_kill_all: without --all only init gets the signal."""
    bundle.remove_namespace("pid")
    bundle.sh("/init sleep 300 & echo started; wait")
    r = runtime.run(cid, bundle, detach=True).ok()
    r.wait_output("started")
    pid = runtime.state(cid)["pid"]
    procs = _container_cgroup_procs(pid)
    wait_for(lambda: len(procs.read_text().split()) >= 2, what="2 processes")
    members = [int(p) for p in procs.read_text().split() if int(p) != pid]
    runtime.kill(cid, "KILL").ok()
    wait_for(lambda: not pid_alive(pid), what="init to die")
    assert any(pid_alive(p) for p in members)
    # delete --force (teardown) must clean up the rest.
    runtime.delete(cid, force=True).ok()
    wait_for(lambda: not any(pid_alive(p) for p in members), what="children to die")


def test_kill_all_reaches_leftovers_of_a_stopped_container(runtime, bundle, cid):
    """Without its own pid namespace, what the init started outlives it in
    the container's cgroup; as with runc, kill --all of the stopped
    container signals it (a shim reaps leftovers so), plain kill refuses."""
    bundle.remove_namespace("pid")
    shared = bundle.shared
    bundle.sh("setsid /init sleep 300 </dev/null >/dev/null 2>&1 & echo $! >/shared/pid")
    runtime.run(cid, bundle, detach=True).ok()
    runtime.wait_status(cid, "stopped")
    pid_file = shared / "pid"
    left = int(wait_for(lambda: pid_file.exists() and pid_file.read_text().strip(), what="pid"))
    assert pid_alive(left)
    r = runtime.kill(cid, "KILL").failed()
    if IS_SKIFF:
        assert "container not running (stopped)" in r.stderr, r.describe()
    runtime.kill(cid, "KILL", "--all").ok()
    wait_for(lambda: not pid_alive(left), what="the leftover process to die")
    # Nothing left: still a success.
    runtime.kill(cid, "9", "--all").ok()
    runtime.delete(cid).ok()
    assert cid not in runtime.state_dirs()


# ----------------------------------------------------------------- delete


def test_delete_running_requires_force(runtime, bundle, cid):
    st = runtime.create_started(cid, bundle)
    runtime.delete(cid).failed()
    assert runtime.status(cid) == "running"
    assert pid_alive(st["pid"])
    runtime.delete(cid, force=True).ok()
    wait_for(lambda: not pid_alive(st["pid"]), what="init to die")
    runtime.state_result(cid).failed()
    assert cid not in runtime.state_dirs()


def test_delete_created_container(runtime, bundle, cid):
    """runc deletes a created (never started) container without --force and
    kills its init; the user process never runs."""
    shared = bundle.shared
    bundle.sh(marker_script())
    runtime.create(cid, bundle).ok()
    pid = runtime.state(cid)["pid"]
    runtime.delete(cid).ok()
    wait_for(lambda: not pid_alive(pid), what="init to die")
    runtime.state_result(cid).failed()
    assert not (shared / "ran").exists()


def test_delete_stopped_removes_state_and_cgroup(runtime, bundle, cid):
    bundle.args = ["/init", "exit", "0"]
    runtime.create_started(cid, bundle)
    runtime.wait_status(cid, "stopped")
    runtime.delete(cid).ok()
    assert cid not in runtime.state_dirs()
    from harness import cgroup_leftovers

    assert not [c for c in cgroup_leftovers() if c.endswith("/" + cid)]


def test_delete_force_nonexistent(runtime):
    """delete --force of an unknown id succeeds (runc treats it as done)."""
    r = runtime.delete(unique("missing"), force=True)
    assert r.returncode == 0, r.describe()


# ----------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "verb", [("state",), ("start",), ("kill",), ("delete",), ("exec", "/init", "pid")]
)
@pytest.mark.xfail_runtime("crun", reason="crun reports the missing status file instead")
def test_unknown_id(runtime, verb):
    missing = unique("missing")
    r = runtime(verb[0], missing, *verb[1:]).failed()
    assert "does not exist" in r.stderr, r.describe()


def test_duplicate_id(runtime, make_bundle, cid):
    b1, b2 = make_bundle(), make_bundle()
    st = runtime.create_started(cid, b1)
    r = runtime.create(cid, b2).failed()
    assert r.stderr.strip()
    st2 = runtime.state(cid)
    assert st2["pid"] == st["pid"] and st2["status"] == "running"
    assert os.path.samefile(st2["bundle"], b1.path)


def test_start_running_fails(runtime, bundle, cid):
    runtime.create_started(cid, bundle)
    runtime.start(cid).failed()
    assert runtime.status(cid) == "running"


def test_start_stopped_fails(runtime, bundle, cid):
    bundle.args = ["/init", "exit", "0"]
    runtime.create_started(cid, bundle)
    runtime.wait_status(cid, "stopped")
    runtime.start(cid).failed()


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "a/b",
        "..",
        pytest.param(
            "with space",
            marks=pytest.mark.xfail_runtime("crun", reason="crun 1.8 accepts spaces"),
        ),
    ],
)
def test_invalid_container_id(runtime, bundle, bad, workdir):
    # A runtime that took ".." or "a/b" as a path would write next to its
    # root: give it a root nested in a scratch directory, and do not track
    # the id (teardown must not `delete --force ..`).
    runtime.root = workdir / "nest" / "state"
    runtime.root.mkdir(parents=True)
    bundle.save(unique("c"))
    r = runtime("create", "--bundle", bundle.path, bad).failed()
    assert r.stderr.strip()
    assert runtime.state_dirs() == []
    assert sorted(os.listdir(workdir / "nest")) == ["state"]


# -------------------------------------------------------------------- run


@pytest.mark.parametrize("code", [0, 1, 3, 42, 255])
def test_run_exit_status(runtime, bundle, cid, code):
    bundle.args = ["/init", "exit", str(code)]
    r = runtime.run(cid, bundle)
    assert r.returncode == code, r.describe()


def test_run_removes_container_after_exit(runtime, bundle, cid):
    bundle.args = ["/init", "exit", "0"]
    runtime.run(cid, bundle).ok()
    runtime.state_result(cid).failed()
    assert cid not in runtime.state_dirs()


def test_run_output_passthrough(runtime, bundle, cid):
    bundle.sh("echo to-stdout; echo to-stderr >&2")
    r = runtime.run(cid, bundle).ok()
    assert "to-stdout" in r.stdout
    assert "to-stderr" in r.stderr


def test_run_stdin_passthrough(runtime, bundle, cid):
    bundle.args = ["/bin/cat"]
    r = runtime.run(cid, bundle, input="hello from stdin\n").ok()
    assert r.stdout == "hello from stdin\n"


def test_run_killed_by_signal_status(runtime, bundle, cid):
    bundle.args = ["/init", "ready"]
    bg = runtime.run(cid, bundle, background=True)
    bg.wait_output("ready")
    runtime.kill(cid, "KILL").ok()
    assert bg.wait().returncode == 128 + signal.SIGKILL


def test_run_self_signal_status_without_pidns(runtime, bundle, cid):
    # Outside a pid namespace the process is not pid 1 and can die of TERM.
    bundle.remove_namespace("pid")
    bundle.args = ["/init", "kill-self", "TERM"]
    r = runtime.run(cid, bundle)
    assert r.returncode == 128 + signal.SIGTERM, r.describe()


def test_run_detach(runtime, bundle, cid):
    bundle.sh("echo detached-output; exec /init ready")
    r = runtime.run(cid, bundle, detach=True).ok()
    st = runtime.state(cid)
    assert st["status"] == "running"
    assert pid_alive(st["pid"])
    r.wait_output("detached-output")


def test_run_forwards_signals(runtime, bundle, cid):
    bundle.args = ["/init", "sigwait"]
    bg = runtime.run(cid, bundle, background=True)
    bg.wait_output("ready")
    bg.signal(signal.SIGUSR1)
    bg.wait_output("signal=SIGUSR1")
    bg.signal(signal.SIGHUP)
    bg.wait_output("signal=SIGHUP")
    bg.signal(signal.SIGTERM)
    r = bg.wait()
    assert r.returncode == 0, r.describe()
    assert "signal=SIGTERM" in r.stdout


# ------------------------------------------------------------------- list


def _start_two(runtime, make_bundle):
    ids = [unique("l"), unique("l")]
    for i in ids:
        runtime.create_started(i, make_bundle())
    return ids


@pytest.mark.xfail_runtime("crun", reason="crun names the first column NAME")
def test_list_table(runtime, make_bundle):
    ids = _start_two(runtime, make_bundle)
    r = runtime.list().ok()
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
    rows = {line.split()[0]: line.split() for line in lines[1:] if line.strip()}
    assert set(rows) == set(ids)
    for i in ids:
        st = runtime.state(i)
        assert rows[i][1] == str(st["pid"])
        assert rows[i][2] == "running"
        assert rows[i][3] == st["bundle"]


def test_list_json(runtime, make_bundle):
    ids = _start_two(runtime, make_bundle)
    r = runtime.list("--format", "json").ok()
    items = json.loads(r.stdout)
    assert sorted(i["id"] for i in items) == sorted(ids)
    for item in items:
        st = runtime.state(item["id"])
        assert item["pid"] == st["pid"]
        assert item["status"] == "running"
        assert item["bundle"] == st["bundle"]
        assert item["created"] == st["created"]
        assert "owner" in item
        if IS_SKIFF:
            assert item["owner"] == "root"  # the state directory's owner, as runc

def test_list_quiet(runtime, make_bundle):
    ids = _start_two(runtime, make_bundle)
    r = runtime.list("-q").ok()
    assert sorted(r.stdout.split()) == sorted(ids)


def test_list_empty(runtime):
    assert runtime.list("-q").ok().stdout.strip() == ""
    out = runtime.list("--format", "json").ok().stdout
    assert json.loads(out) in (None, [])


def test_list_shows_stopped_and_created(runtime, make_bundle):
    created, stopped = unique("l"), unique("l")
    runtime.create(created, make_bundle()).ok()
    b = make_bundle(args=["/init", "exit", "0"])
    runtime.create_started(stopped, b)
    runtime.wait_status(stopped, "stopped")
    items = {i["id"]: i for i in json.loads(runtime.list("--format", "json").ok().stdout)}
    assert items[created]["status"] == "created"
    assert items[stopped]["status"] == "stopped"


# --------------------------------------------------------------- features


@pytest.mark.xfail_runtime("crun", reason="crun 1.8 has no features command")
def test_features(runtime):
    feats = json.loads(runtime("features").ok().stdout)
    assert feats["ociVersionMin"].startswith("1.0")
    assert feats["ociVersionMax"] >= "1.0.2"
    assert set(feats["hooks"]) >= {
        "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
    }
    assert {"bind", "rbind", "ro", "nosuid", "nodev", "noexec"} <= set(feats["mountOptions"])
    linux = feats["linux"]
    assert {"cgroup", "ipc", "mount", "network", "pid", "user", "uts"} <= set(linux["namespaces"])
    assert {"CAP_SYS_ADMIN", "CAP_KILL", "CAP_NET_BIND_SERVICE"} <= set(linux["capabilities"])


@pytest.mark.skiff_only
def test_features_is_complete_for_1_3(runtime):
    """Every member of runtime-spec 1.3's features.md and
    features-linux.md that skiff has something to say about."""
    feats = json.loads(runtime("features").ok().stdout)
    assert feats["ociVersionMax"] == "1.3.0"
    assert feats["potentiallyUnsafeConfigAnnotations"] == []  # skiff acts on none
    ann = feats["annotations"]
    assert ann["org.skiff.version"] and ann["org.skiff.checkpoint.enabled"] == "false"
    seccomp = feats["linux"]["seccomp"]
    if seccomp["enabled"]:
        assert re.fullmatch(r"\d+\.\d+\.\d+", ann["io.github.seccomp.libseccomp.version"])
        # the kernel is asked: TSYNC has been there since 3.17
        assert "SECCOMP_FILTER_FLAG_TSYNC" in seccomp["supportedFlags"]
        assert set(seccomp["supportedFlags"]) <= set(seccomp["knownFlags"])
    linux = feats["linux"]
    for key in ("intelRdt", "netDevices", "mountExtensions", "apparmor", "selinux", "cgroup"):
        assert key in linux, key
    assert linux["mountExtensions"]["idmap"]["enabled"] is True  # features-linux.md: MUST


# ------------------------------------------------ no /proc in the container
#
# The exec fifo is never reopened by a path: create opens it read-write
# and the init keeps that fd.  It used to be reopened through /proc/self/fd
# inside the container, so a bundle without /proc (or with a mount over /)
# failed in the init after create had returned 0.


def test_container_without_proc_mount(runtime, bundle, cid):
    bundle.config["mounts"] = [m for m in bundle.config["mounts"] if m["destination"] != "/proc"]
    bundle.linux.pop("maskedPaths", None)
    bundle.linux.pop("readonlyPaths", None)
    bundle.sh("test -e /proc/self || echo no-proc")
    runtime.create(cid, bundle).ok()
    runtime.start(cid).ok()
    runtime.wait_status(cid, "stopped")
    r = runtime.run(cid + "r", bundle).ok()
    assert r.stdout == "no-proc\n", r.describe()


def test_bind_mount_over_root(runtime, bundle, cid, make_bundle):
    """A bind whose destination is / replaces the rootfs (here with another
    busybox tree): /proc of the first is hidden, and the program runs."""
    other = make_bundle()
    (other.rootfs / "marker").write_text("other\n")
    bundle.add_mount("/", other.rootfs, options=["rbind", "rw"])
    bundle.sh("cat /marker")
    r = runtime.run(cid, bundle).ok()
    assert r.stdout == "other\n", r.describe()

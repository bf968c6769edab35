"""exec: a new process in a running container."""

import json
import os
import signal

import pytest

import host
from harness import DEFAULT_CAPS, IS_SKIFF, SYSTEMD_DRIVER, TOKEN_VAR, cap_mask, parse_kv, parse_sections, pid_alive, wait_for


@pytest.fixture
def running(runtime, bundle, cid):
    """A running container (init waits forever); returns its state."""
    return runtime.create_started(cid, bundle)


def ex(runtime, cid, *args, opts=(), **kw):
    return runtime.exec(cid, *args, opts=opts, **kw)


def test_exec_joins_all_namespaces(runtime, cid, running):
    pid = running["pid"]
    kv = parse_kv(ex(runtime, cid, "/init", "ns").ok().stdout)
    for name in ("pid", "net", "ipc", "uts", "mnt", "cgroup", "user"):
        assert int(kv[f"ns.{name}"]) == os.stat(f"/proc/{pid}/ns/{name}").st_ino, name


def test_exec_sees_container_pid_namespace(runtime, cid, running):
    kv = parse_kv(ex(runtime, cid, "/init", "pid").ok().stdout)
    assert kv["pid"] != "1"
    assert kv["ppid"] == "0", "exec'd process's parent is outside the pid ns"


@pytest.mark.parametrize("code", [0, 1, 7, 255])
def test_exec_exit_status(runtime, cid, running, code):
    r = ex(runtime, cid, "/init", "exit", str(code))
    assert r.returncode == code, r.describe()
    assert runtime.status(cid) == "running"


def test_exec_killed_by_signal_status(runtime, cid, running):
    r = ex(runtime, cid, "/init", "kill-self", "TERM")
    assert r.returncode == 128 + signal.SIGTERM, r.describe()


def test_exec_stdio(runtime, cid, running):
    r = ex(runtime, cid, "/bin/sh", "-c", "cat; echo err >&2", input="piped\n").ok()
    assert r.stdout == "piped\n"
    assert r.stderr == "err\n"


@pytest.mark.xfail_runtime("crun", reason="crun 1.8 exec does not start from config env")
def test_exec_inherits_config_env_and_adds(runtime, bundle, cid):
    bundle.set_env("FROM_CONFIG", "1")
    runtime.create_started(cid, bundle)
    r = ex(runtime, cid, "/init", "env", opts=["--env", "EXTRA=x y", "--env", "FROM_CONFIG=2"]).ok()
    env = parse_kv(r.stdout)
    assert env["EXTRA"] == "x y"
    assert env["FROM_CONFIG"] == "2"
    # replaced, not appended: getenv() would find the old value first
    assert [line for line in r.stdout.splitlines() if line.startswith("FROM_CONFIG=")] == ["FROM_CONFIG=2"]
    assert env["PATH"].startswith("/usr/local/sbin")
    assert env[TOKEN_VAR] == runtime.token


def test_exec_cwd(runtime, cid, running):
    kv = parse_kv(ex(runtime, cid, "/init", "cwd", opts=["--cwd", "/tmp"]).ok().stdout)
    assert kv["cwd"] == "/tmp"


def test_exec_joins_the_containers_session_keyring(runtime, cid, running):
    """As runc: exec's process gets the container's session keyring (not
    the runtime's, nor the host's): runc names it "_ses.<id>", crun <id>."""
    kv = parse_kv(ex(runtime, cid, "/init", "keyring").ok().stdout)
    assert kv["keyring.name"] in ("_ses." + cid, cid), kv
    if IS_SKIFF:
        assert kv["keyring.name"] == "_ses." + cid


@pytest.mark.skiff_only
def test_exec_no_new_keyring_from_create(runtime, bundle, cid):
    """create --no-new-keyring is remembered: exec joins none either."""
    bundle.args = ["/init", "ready"]
    c = runtime.create(cid, bundle, "--no-new-keyring").ok()
    runtime.start(cid).ok()
    c.wait_output("ready")
    kv = parse_kv(ex(runtime, cid, "/init", "keyring").ok().stdout)
    assert kv["keyring.name"] not in ("_ses." + cid, cid), kv


@pytest.mark.skiff_only
def test_v2_exec_born_in_the_containers_cgroup(runtime, bundle, cid):
    """On a pure v2 host exec's process is cloned straight into the
    container's cgroup (CLONE_INTO_CGROUP), and is there when it runs."""
    if not host.cgroup_v2():
        pytest.skip("CLONE_INTO_CGROUP needs the cgroup v2 hierarchy at /sys/fs/cgroup")
    if SYSTEMD_DRIVER:
        pytest.skip("the systemd driver: exec's process joins the scope by cgroup.procs")
    init = runtime.create_started(cid, bundle)["pid"]
    runtime.log_path = runtime.workdir / f"{cid}-exec.log"
    r = runtime("--debug", "exec", cid, "/init", "cgroup").ok()
    msgs = [json.loads(line)["msg"] for line in runtime.log_path.read_text().splitlines() if line]
    assert any("born in the container's cgroup" in m for m in msgs), msgs
    mine = [line for line in r.stdout.splitlines() if line.startswith("0::")]
    with open(f"/proc/{init}/cgroup") as f:
        assert mine == [line.strip() for line in f if line.startswith("0::")]


def test_exec_missing_cwd_fails(runtime, cid, running):
    """exec does not create its cwd (create does), as in runc."""
    r = ex(runtime, cid, "/init", "cwd", opts=["--cwd", "/no/such/dir"]).failed()
    assert "/no/such/dir" in r.stderr


@pytest.mark.xfail_runtime("crun", reason="crun 1.8 exec defaults cwd to /")
def test_exec_default_cwd_from_config(runtime, bundle, cid):
    bundle.process["cwd"] = "/home/user"
    runtime.create_started(cid, bundle)
    assert parse_kv(ex(runtime, cid, "/init", "cwd").ok().stdout)["cwd"] == "/home/user"


def test_exec_user(runtime, cid, running):
    kv = parse_kv(ex(runtime, cid, "/init", "ids", opts=["--user", "1000:1000"]).ok().stdout)
    assert kv["uid"] == "1000" and kv["gid"] == "1000"
    assert kv["groups"] == ""


def test_exec_user_uid_only(runtime, cid, running):
    kv = parse_kv(ex(runtime, cid, "/init", "ids", opts=["-u", "1000"]).ok().stdout)
    assert kv["uid"] == "1000" and kv["gid"] == "0"


@pytest.mark.xfail_runtime("crun", reason="crun 1.8 has no exec --additional-gids")
def test_exec_additional_gids(runtime, cid, running):
    kv = parse_kv(
        ex(
            runtime, cid, "/init", "ids",
            opts=["--user", "1000:1000", "--additional-gids", "2000", "--additional-gids", "3000"],
        ).ok().stdout
    )
    assert sorted(kv["groups"].split(",")) == ["2000", "3000"]


@pytest.mark.xfail_runtime("crun", reason="crun 1.8 exec --cap replaces the sets")
def test_exec_cap_added(runtime, cid, running):
    base = parse_kv(ex(runtime, cid, "/init", "caps").ok().stdout)
    assert int(base["CapBnd"], 16) == cap_mask(DEFAULT_CAPS)
    kv = parse_kv(ex(runtime, cid, "/init", "caps", opts=["--cap", "CAP_SYS_CHROOT"]).ok().stdout)
    want = cap_mask(DEFAULT_CAPS + ["CAP_SYS_CHROOT"])
    assert int(kv["CapBnd"], 16) == want
    assert int(kv["CapEff"], 16) == want
    assert int(kv["CapPrm"], 16) == want
    r = ex(runtime, cid, "/init", "syscall", "chroot", "/", opts=["--cap", "CAP_SYS_CHROOT"])
    assert "errno=0" in r.stdout, r.describe()


def test_exec_no_new_privs(runtime, bundle, cid):
    bundle.process["noNewPrivileges"] = False
    runtime.create_started(cid, bundle)
    assert parse_kv(ex(runtime, cid, "/init", "status").ok().stdout)["NoNewPrivs"] == "0"
    kv = parse_kv(ex(runtime, cid, "/init", "status", opts=["--no-new-privs"]).ok().stdout)
    assert kv["NoNewPrivs"] == "1"


@pytest.mark.xfail_runtime(
    "runc",
    reason="runc 1.1 built with Go >= 1.19 races Go's NOFILE soft-limit bump "
    "in exec (opencontainers/runc#4195)",
    strict=False,
)
@pytest.mark.xfail_runtime("crun", reason="crun 1.8 exec keeps its own rlimits")
def test_exec_inherits_process_settings(runtime, bundle, cid):
    """Caps, rlimits and nnp of config.process apply to exec'd processes."""
    bundle.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456}]
    runtime.create_started(cid, bundle)
    r = ex(runtime, cid, "/bin/sh", "-c", "/init rlimits; /init caps; /init status").ok()
    kv = parse_kv(r.stdout)
    assert kv["RLIMIT_NOFILE"] == "123 456"
    assert int(kv["CapEff"], 16) == cap_mask(DEFAULT_CAPS)
    assert kv["NoNewPrivs"] == "1"


def test_exec_in_container_cgroup(runtime, cid, running):
    pid = running["pid"]
    with open(f"/proc/{pid}/cgroup") as f:
        want = sorted(f.read().splitlines())
    got = sorted(ex(runtime, cid, "/init", "cgroup").ok().stdout.splitlines())
    assert got == want


def test_exec_only_stdio_fds(runtime, cid, running):
    assert parse_kv(ex(runtime, cid, "/init", "fds").ok().stdout)["fds"] == "0,1,2"


def test_exec_preserve_fds(runtime, cid, running):
    rd, wr = os.pipe()
    try:
        r = ex(
            runtime, cid, "/bin/sh", "-c", "/init fds; echo through-3 >&3",
            opts=["--preserve-fds", "1"], fds={3: wr},
        ).ok()
    finally:
        os.close(wr)
    assert parse_kv(r.stdout)["fds"] == "0,1,2,3"
    assert os.read(rd, 100) == b"through-3\n"
    os.close(rd)


def test_exec_process_json(runtime, bundle, cid):
    runtime.create_started(cid, bundle)
    pj = bundle.process_json(
        args=["/bin/sh", "-c", "/init ids; echo ---; /init cwd; echo ---; /init env"],
        cwd="/tmp",
        user={"uid": 1000, "gid": 1000, "additionalGids": [2000]},
        env=bundle.process["env"] + ["FROM_JSON=yes"],
    )
    r = ex(runtime, cid, opts=["--process", pj]).ok()
    ids, cwd, env = parse_sections(r.stdout)
    assert ids["uid"] == "1000" and ids["gid"] == "1000" and ids["groups"] == "2000"
    assert cwd["cwd"] == "/tmp"
    assert env["FROM_JSON"] == "yes"


def test_exec_process_json_exit_status(runtime, bundle, cid):
    runtime.create_started(cid, bundle)
    pj = bundle.process_json(args=["/init", "exit", "9"])
    assert ex(runtime, cid, opts=["-p", pj]).returncode == 9


def test_exec_process_json_bad_json(runtime, bundle, cid, workdir):
    runtime.create_started(cid, bundle)
    bad = workdir / "bad.json"
    bad.write_text('{"args": ["/init", ')
    r = ex(runtime, cid, opts=["--process", bad]).failed()
    assert r.stderr.strip()
    assert runtime.status(cid) == "running"


def test_exec_detach_pid_file(runtime, cid, running, workdir):
    pidfile = workdir / "exec.pid"
    r = ex(runtime, cid, "/init", "sleep", "300", opts=["--detach", "--pid-file", pidfile]).ok()
    raw = pidfile.read_text()
    assert raw.isdigit(), repr(raw)
    pid = int(raw)
    assert pid_alive(pid)
    assert os.stat(f"/proc/{pid}/ns/pid").st_ino == os.stat(f"/proc/{running['pid']}/ns/pid").st_ino
    assert r.returncode == 0


def test_exec_processes_die_with_container(runtime, cid, running, workdir):
    pidfile = workdir / "exec.pid"
    ex(runtime, cid, "/init", "sleep", "300", opts=["-d", "--pid-file", pidfile]).ok()
    pid = int(pidfile.read_text())
    runtime.kill(cid, "KILL").ok()
    runtime.wait_status(cid, "stopped")
    wait_for(lambda: not pid_alive(pid), what="the exec'd process to die with the pid ns")


def test_exec_missing_binary(runtime, cid, running):
    r = ex(runtime, cid, "/no/such/binary").failed()
    assert r.stderr.strip()
    assert runtime.status(cid) == "running"


def test_exec_stopped_container_fails(runtime, bundle, cid):
    bundle.args = ["/init", "exit", "0"]
    runtime.create_started(cid, bundle)
    runtime.wait_status(cid, "stopped")
    ex(runtime, cid, "/init", "pid").failed()


def test_exec_in_created_container(runtime, bundle, cid):
    """runc allows exec before start; the user process still has not run."""
    shared = bundle.shared
    bundle.sh("echo ran > /shared/ran; exec /init ready")
    runtime.create(cid, bundle).ok()
    r = ex(runtime, cid, "/init", "pid").ok()
    assert parse_kv(r.stdout)["pid"] != "1"
    assert not (shared / "ran").exists()
    assert runtime.status(cid) == "created"


def test_exec_many_sequential(runtime, cid, running):
    for i in range(5):
        assert ex(runtime, cid, "/bin/echo", str(i)).ok().stdout == f"{i}\n"


def test_exec_requires_command(runtime, cid, running):
    ex(runtime, cid).failed()


def test_exec_state_json_unchanged(runtime, cid, running):
    ex(runtime, cid, "/init", "exit", "0").ok()
    st = runtime.state(cid)
    assert st["pid"] == running["pid"] and st["status"] == "running"


def test_exec_program_errors_use_runcs_phrases(runtime, cid, running):
    """exec resolves its program with create's messages, in runc's words:
    `docker exec` maps them to 127 and 126 as for `docker run`."""
    for args, phrase in (
        (["no-such-program"], "executable file not found"),
        (["/no/such"], "no such file or directory"),
        (["/etc/passwd"], "permission denied"),
    ):
        r = ex(runtime, cid, *args).failed()
        assert phrase in r.stderr and f"`{args[0]}`" in r.stderr, r.describe()


def test_exec_process_leads_its_own_session(runtime, cid, running):
    """As with runc, the exec'd process is a session and group leader in
    the container: skiff's group lies outside the pid namespace (0 there),
    and `kill -- -PGID` in the container would not reach it."""
    kv = parse_kv(ex(runtime, cid, "/init", "pid").ok().stdout)
    assert kv["pgid"] == kv["pid"] and kv["sid"] == kv["pid"], kv


def test_init_leads_its_own_session(runtime, bundle, cid):
    bundle.args = ["/init", "pid"]
    kv = parse_kv(runtime.run(cid, bundle).ok().stdout)
    assert (kv["pid"], kv["pgid"], kv["sid"]) == ("1", "1", "1"), kv


def test_duplicate_env_names_keep_the_last_value(runtime, bundle, cid, workdir):
    """A manager's process.json may repeat a name (docker exec -e X=1 -e X=2):
    as with runc, the last value wins and the process sees one entry; the
    same for the config's own process."""
    bundle.process["env"] += ["DUP=config1", "DUP=config2"]
    bundle.args = ["sleep", "100"]
    runtime.create_started(cid, bundle)
    proc = dict(bundle.process, args=["/init", "env"], env=bundle.process["env"] + ["TWICE=1", "TWICE=2"])
    pf = workdir / "process.json"
    pf.write_text(json.dumps(proc))
    out = ex(runtime, cid, opts=["--process", str(pf)]).ok().stdout.splitlines()
    assert [x for x in out if x.startswith("TWICE=")] == ["TWICE=2"], out
    assert [x for x in out if x.startswith("DUP=")] == ["DUP=config2"], out
    r = runtime("exec", cid, "/init", "env").ok()  # the config's env, deduplicated too
    assert [x for x in r.stdout.splitlines() if x.startswith("DUP=")] == ["DUP=config2"]

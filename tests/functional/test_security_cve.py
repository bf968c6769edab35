"""Regression tests for runtime CVEs: what a hostile container tried
against runc and friends must fail against the runtime under test.

* CVE-2019-5736: overwriting the runtime's binary through /proc/<pid>/exe
  (the container's side is tests/security/attack.c, see its header).  Every
  attack runs against a private copy of the runtime binary, so a runtime
  that is vulnerable fails the test without breaking the rest of the suite.
* CVE-2024-21626: a leaked fd of the runtime as process.cwd, and fds of the
  runtime reaching the container.
* CVE-2022-29162: `exec --cap` must not fill the inheritable set.
"""

import hashlib
import os
import re
import shutil
import subprocess

import pytest

from harness import (
    DEFAULT_CAPS,
    RUNTIME,
    RUNTIME_NAME,
    TESTS_DIR,
    cap_mask,
    parse_kv,
)

ATTACK_SRC = TESTS_DIR / "security" / "attack.c"


@pytest.fixture(scope="session")
def attack_binary(tmp_path_factory) -> str:
    path = os.environ.get("SKIFF_ATTACK")
    if path:
        return path
    path = str(tmp_path_factory.mktemp("attack") / "attack")
    r = subprocess.run(
        ["gcc", "-static", "-O2", "-Wall", "-Wextra", "-o", path, str(ATTACK_SRC)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if r.returncode != 0:
        pytest.fail(f"building {ATTACK_SRC} failed:\n{r.stderr}")
    return path


def target(path) -> str:
    """DEV:INO of the binary the helper may attack (and nothing else)."""
    st = os.stat(path)
    return f"{st.st_dev}:{st.st_ino}"


def sha256(path) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@pytest.fixture
def private_runtime(runtime, workdir):
    """Point the runtime fixture at a private copy of the binary (same
    basename, on the writable file system of the work dir: the case the
    protection is for).  Returns (runtime, path, sha256 before)."""
    d = workdir / "rtbin"
    d.mkdir()
    path = d / RUNTIME_NAME
    shutil.copy2(RUNTIME, path)
    runtime.binary = str(path)
    return runtime, path, sha256(path)


def shared_objects(binary) -> list:
    """The files the dynamic loader maps for binary (ldd), loader included."""
    r = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:  # a static binary
        return []
    return sorted(set(re.findall(r"(/\S+)", r.stdout)))


def hostile_bundle(make_bundle, attack_binary, binary, args):
    """A writable rootfs with the attack helper as /attack and the
    runtime's shared libraries, so that the runtime's image can run in the
    container (the exploit makes it do just that)."""
    bundle = make_bundle(args=args)
    bundle.config["root"]["readonly"] = False
    shutil.copy2(attack_binary, bundle.rootfs / "attack")
    for so in shared_objects(binary):
        dest = bundle.rootfs / so.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(so, dest)
    return bundle


def assert_binary_unchanged(binary, digest):
    """Compare with the digest taken before the attack.  A modified copy is
    replaced by the real binary first, so that the teardown can still
    delete the container with it."""
    if sha256(binary) != digest:
        shutil.copy2(RUNTIME, binary)
        pytest.fail("the container overwrote the runtime's binary on the host")


def assert_not_written(kv: dict, suffix: str = ""):
    """Reopening the held handle for writing, or the write, failed."""
    assert kv.get(f"target{suffix}") == "runtime", f"the helper held another image: {kv}"
    reopen = kv.get(f"reopen_wr{suffix}")
    write = kv.get(f"write{suffix}", "not attempted")
    assert reopen is not None, kv
    assert reopen != "0" or write != "0", f"the container wrote the runtime's image: {kv}"


def add_caps(process: dict, *caps):
    c = process.setdefault("capabilities", {})
    for s in ("bounding", "effective", "permitted"):
        c[s] = sorted(set(c.get(s, [])) | set(caps))


# ------------------------------------------------------------ CVE-2019-5736


def test_shebang_exec_cannot_overwrite_runtime(private_runtime, make_bundle, cid, attack_binary):
    """The published exploit: the container makes `exec` run a script
    whose interpreter is /proc/self/exe, i.e. the runtime's own image, as a
    container process; a loop in the container scanning /proc/*/exe holds
    it, and writes it once it exited."""
    rt, binary, digest = private_runtime
    args = ["/attack", "shebang", "20", target(binary)]
    bundle = hostile_bundle(make_bundle, attack_binary, binary, args)
    c = rt.run(cid, bundle, detach=True).ok()
    c.wait_output("ready")
    e = rt.exec(cid, "/evil")
    out = c.wait_output("done", timeout=30)
    assert_binary_unchanged(binary, digest)
    kv = parse_kv(out)
    assert int(kv["caught"]) >= 1, "the runtime's image never ran in the container\n" + e.describe()
    for i in range(int(kv["caught"])):
        assert kv[f"open_wr.{i}"] != "0", out
        assert_not_written(kv, f".{i}")


def test_created_init_exe_not_writable(private_runtime, make_bundle, cid, attack_binary):
    """A process with CAP_SYS_PTRACE in the container's pid namespace holds
    /proc/1/exe of a created (not yet started) container, whose init still
    runs the runtime's image, and writes it after start."""
    rt, binary, digest = private_runtime
    bundle = hostile_bundle(make_bundle, attack_binary, binary, ["/init", "ready"])
    rt.create(cid, bundle).ok()
    # Detached: no `exec` process of ours keeps running the image (which
    # would make the write fail with ETXTBSY whatever the protection).
    attack = ["/attack", "hold", "1", "20", target(binary)]
    a = rt("exec", "--detach", "--cap", "CAP_SYS_PTRACE", cid, *attack).ok()
    a.wait_output("held")
    rt.start(cid).ok()
    out = a.wait_output("done", timeout=30)
    assert_binary_unchanged(binary, digest)
    kv = parse_kv(out)
    assert kv["grab"] == "0", out
    assert kv["open_wr"] != "0", out
    assert kv["released"] == "1", out
    assert_not_written(kv)


@pytest.mark.xfail_runtime(
    "runc",
    reason="runc protects only `runc init`: the runc process itself runs from the host "
    "binary, which a container sharing the host pid namespace with CAP_SYS_PTRACE can write",
)
def test_runtime_exe_not_writable_from_host_pid_namespace(
    private_runtime, make_bundle, cid, attack_binary
):
    """Without a pid namespace the container sees the runtime process
    itself: its image must be as safe as the init's.  A poststart hook keeps
    the runtime alive while the container grabs its parent's exe."""
    rt, binary, digest = private_runtime
    args = ["/attack", "hold", "ppid", "20", target(binary)]
    bundle = hostile_bundle(make_bundle, attack_binary, binary, args)
    bundle.remove_namespace("pid")
    add_caps(bundle.process, "CAP_SYS_PTRACE")
    bundle.config["hooks"] = {"poststart": [{"path": "/bin/sleep", "args": ["sleep", "2"]}]}
    c = rt.run(cid, bundle, detach=True).ok()
    out = c.wait_output("done", timeout=30)
    assert_binary_unchanged(binary, digest)
    kv = parse_kv(out)
    assert kv.get("grab") == "0", out
    assert kv["released"] == "1", kv
    assert_not_written(kv)


def _exe_is_protected(pid: int) -> bool:
    fd = os.open(f"/proc/{pid}/exe", os.O_RDONLY)
    try:
        if os.fstatvfs(fd).f_flag & os.ST_RDONLY:
            return True
        import fcntl

        F_GET_SEALS = 1034
        F_SEAL_WRITE = 8
        try:
            return bool(fcntl.fcntl(fd, F_GET_SEALS) & F_SEAL_WRITE)
        except OSError:
            return False
    finally:
        os.close(fd)


@pytest.mark.skiff_only
def test_init_image_is_read_only_or_sealed(runtime, bundle, cid):
    """White box: the created init runs from an image nobody can write."""
    runtime.create(cid, bundle).ok()
    assert _exe_is_protected(runtime.state(cid)["pid"])


@pytest.mark.skiff_only
def test_image_on_read_only_mount_is_not_copied(runtime, bundle, cid, workdir, test_env):
    """A binary installed on a read-only mount is already safe: no re-exec,
    the init's exe is the installed file itself."""
    d = workdir / "ro"
    d.mkdir()
    shutil.copy2(RUNTIME, d / RUNTIME_NAME)
    subprocess.run(["mount", "--bind", str(d), str(d)], check=True, timeout=10)
    test_env.add_cleanup(lambda: subprocess.run(["umount", "-l", str(d)], timeout=10))
    subprocess.run(["mount", "-o", "remount,bind,ro", str(d)], check=True, timeout=10)
    runtime.binary = str(d / RUNTIME_NAME)
    runtime.create(cid, bundle).ok()
    pid = runtime.state(cid)["pid"]
    assert os.readlink(f"/proc/{pid}/exe") == str(d / RUNTIME_NAME)
    assert _exe_is_protected(pid)


def _image_log(runtime, workdir, prefix=()):
    log = workdir / f"image-{len(list(workdir.iterdir()))}.log"
    subprocess.run(
        [*prefix, runtime.binary, "--debug", "--log", str(log), "create", "--help"],
        capture_output=True,
        timeout=30,
        check=True,
    )
    return log.read_text()


@pytest.mark.skiff_only
def test_reexec_paths(runtime, workdir):
    """White box: root re-executes through a read-only bind; without mount
    privilege (a user namespace) through a sealed memfd; and the commands
    that do not enter a container do not re-execute at all."""
    assert "runtime image: read-only mount (re-executed)" in _image_log(runtime, workdir)
    userns = _image_log(runtime, workdir, prefix=("unshare", "--user", "--map-root-user"))
    assert "runtime image: sealed memfd (re-executed)" in userns
    log = workdir / "state.log"
    subprocess.run(
        [runtime.binary, "--debug", "--log", str(log), "state", "--help"],
        capture_output=True,
        timeout=30,
    )
    assert "runtime image" not in log.read_text()


# ----------------------------------------------------------- CVE-2024-21626


@pytest.mark.parametrize("fd", [3, 4, 5, 6, 7, 8])
def test_cwd_through_leaked_fd_fails(runtime, bundle, cid, fd):
    """process.cwd /proc/self/fd/N would be a directory of the host if the
    runtime leaked an fd N into the init: it must be refused whatever N is
    (a magic link is never a cwd inside the container)."""
    bundle.process["cwd"] = f"/proc/self/fd/{fd}"
    bundle.args = ["/init", "cwd"]
    r = runtime.run(cid, bundle).failed()
    assert "cwd=" not in r.stdout


@pytest.mark.parametrize("fd", [3, 4, 5, 6, 7, 8])
def test_exec_cwd_through_leaked_fd_fails(runtime, bundle, cid, fd):
    runtime.create_started(cid, bundle)
    r = runtime.exec(cid, "/init", "cwd", opts=["--cwd", f"/proc/self/fd/{fd}"]).failed()
    assert "cwd=" not in r.stdout


def _fd_report(text: str) -> dict:
    kv = parse_kv(text)
    return {int(k[3:]): v for k, v in kv.items() if k.startswith("fd.")}


def test_no_runtime_fds_in_container_with_log_and_leaks(runtime, bundle, cid, workdir):
    """The runtime's own fds (log file, state dir, cgroup, sync socket) and
    fds the caller leaked must not reach the container: the init's fd
    table is stdio plus the preserved fds, nothing of the host."""
    runtime.log_path = workdir / "runtime.log"
    bundle.args = ["/init", "fds"]
    leak_dir = os.open(str(workdir), os.O_RDONLY | os.O_DIRECTORY)
    rd, wr = os.pipe()
    try:
        r = runtime.run(cid, bundle, "--preserve-fds", "1", fds={3: wr, 5: leak_dir, 9: leak_dir})
        r.ok()
    finally:
        for f in (leak_dir, rd, wr):
            os.close(f)
    fds = _fd_report(r.stdout)
    assert sorted(fds) == [0, 1, 2, 3], r.stdout
    assert fds[3].startswith("pipe:"), fds


def test_exec_no_runtime_fds(runtime, bundle, cid, workdir):
    runtime.create_started(cid, bundle)
    runtime.log_path = workdir / "runtime.log"
    leak_dir = os.open(str(workdir), os.O_RDONLY | os.O_DIRECTORY)
    rd, wr = os.pipe()
    try:
        r = runtime.exec(
            cid, "/init", "fds", opts=["--preserve-fds", "1"], fds={3: wr, 6: leak_dir}
        ).ok()
    finally:
        for f in (leak_dir, rd, wr):
            os.close(f)
    fds = _fd_report(r.stdout)
    assert sorted(fds) == [0, 1, 2, 3], r.stdout
    assert fds[3].startswith("pipe:"), fds


def test_proc_self_fd_lists_only_stdio(runtime, bundle, cid):
    """Seen through /proc/self/fd itself (ls opens the directory: one fd
    more for it), in the init and in an exec'd process."""
    bundle.sh("ls /proc/self/fd")
    r = runtime.run(cid, bundle).ok()
    assert sorted(int(x) for x in r.stdout.split()) == [0, 1, 2, 3]
    bundle.args = ["/init", "ready"]
    runtime.create_started(cid + "x", bundle)
    e = runtime.exec(cid + "x", "/bin/ls", "/proc/self/fd").ok()
    assert sorted(int(x) for x in e.stdout.split()) == [0, 1, 2, 3]


def test_created_init_holds_no_host_directory(runtime, bundle, cid, workdir):
    """While it waits for start, the init holds stdio and what it needs to
    learn about start, never a directory of the host (what a CVE-2024-21626
    exploit uses as cwd)."""
    runtime.log_path = workdir / "runtime.log"
    runtime.create(cid, bundle).ok()
    pid = runtime.state(cid)["pid"]
    for name in os.listdir(f"/proc/{pid}/fd"):
        path = f"/proc/{pid}/fd/{name}"
        assert int(name) <= 2 or not os.path.isdir(path), (name, os.readlink(path))


# ----------------------------------------------------------- CVE-2022-29162


def test_exec_cap_leaves_inheritable_empty(runtime, bundle, cid):
    runtime.create_started(cid, bundle)
    r = runtime.exec(
        cid, "/init", "caps", opts=["--cap", "CAP_SYS_ADMIN", "--cap", "CAP_NET_ADMIN"]
    ).ok()
    kv = parse_kv(r.stdout)
    assert int(kv["CapInh"], 16) == 0, kv
    assert int(kv["CapEff"], 16) & cap_mask(["CAP_SYS_ADMIN", "CAP_NET_ADMIN"])


def test_exec_cap_as_non_root_gets_no_ambient_or_inheritable(runtime, bundle, cid):
    """A non-root exec'd process with --cap: the caps are not inheritable,
    so they cannot become ambient and follow the process across exec."""
    runtime.create_started(cid, bundle)
    r = runtime.exec(cid, "/init", "caps", opts=["--user", "1000:1000", "--cap", "CAP_NET_ADMIN"])
    kv = parse_kv(r.ok().stdout)
    assert int(kv["CapInh"], 16) == 0, kv
    assert int(kv["CapAmb"], 16) == 0, kv


def test_run_default_caps_inheritable_empty(runtime, bundle, cid):
    bundle.process["capabilities"].pop("inheritable", None)
    bundle.args = ["/init", "caps"]
    kv = parse_kv(runtime.run(cid, bundle).ok().stdout)
    assert int(kv["CapInh"], 16) == 0
    assert int(kv["CapBnd"], 16) == cap_mask(DEFAULT_CAPS)


# ------------------------------------------------------------ non-dumpable


@pytest.mark.xfail_runtime(
    "runc", reason="runc 1.1's init is dumpable again while it waits for start"
)
def test_created_init_is_not_dumpable(runtime, bundle, cid):
    """Until it execs, the init is not dumpable: a container process without
    CAP_SYS_PTRACE cannot follow its magic links (exe, fds, cwd, root)."""
    runtime.create(cid, bundle).ok()
    for link in ("exe", "fd/0", "cwd", "root"):
        e = runtime.exec(cid, "/bin/readlink", f"/proc/1/{link}")
        assert e.returncode != 0 and e.stdout == "", e.describe()


def test_exec_process_runs_container_image(runtime, bundle, cid):
    """After exec the process is the container's own: it runs the
    container's image, not the runtime's."""
    runtime.create_started(cid, bundle)
    r = runtime.exec(cid, "/bin/sh", "-c", "readlink /proc/self/exe; readlink /proc/1/exe").ok()
    assert r.stdout.split() == ["/bin/busybox", "/init"], r.stdout


def test_plain_use_leaves_private_binary_alone(private_runtime, bundle, cid):
    """Sanity of the fixtures above: plain use leaves the copy as it was."""
    rt, binary, digest = private_runtime
    bundle.args = ["/init", "exit", "0"]
    rt.run(cid, bundle).ok()
    assert sha256(binary) == digest

"""Fixtures of the functional suite.  See README.md beside this file.

Environment:
  SKIFF               runtime binary (default: <repo>/src/skiff)
  SKIFF_INIT          static helper built from tests/init.c (default:
                      tests/init when up to date, else built with gcc)
  SKIFF_GLOBAL_ARGS   extra global flags for every runtime invocation
  SKIFF_TEST_TIMEOUT  seconds one runtime invocation may take (default 30)
  SKIFF_TEST_TMP      where per-test work directories go (default /tmp)
  SKIFF_KEEP          keep per-test work directories when set to 1
  SKIFF_STRICT_MOUNTS 1: any new host mount fails the leak check, not only
                      the test's own (for a machine running nothing else)
  SKIFF_TEST_ROOTLESS_USER  the unprivileged user the rootless tests run
                      the runtime as, made when missing (default skiffrl)
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import harness
from harness import (
    RUNTIME,
    RUNTIME_NAME,
    IS_SKIFF,
    TESTS_DIR,
    Bundle,
    Runtime,
    UserRuntime,
    build_rootfs,
    cgroup_leftovers,
    clone_tree,
    default_config,
    mount_snapshot,
    processes_of_test,
    remove_cgroup_tree,
    to_rootless,
    unique,
)


def pytest_configure(config):
    # Bundles and rootfs trees get their modes from our umask: a caller's
    # 077 would leave them untraversable for uid 1000 and user namespaces.
    os.umask(0o022)
    config.addinivalue_line(
        "markers",
        "skiff_only: behaviour specific to skiff (wording, extra commands); "
        "skipped unless the runtime's basename is skiff",
    )
    config.addinivalue_line(
        "markers",
        "xfail_runtime(*names, reason, strict=True): a known gap of the named "
        "runtimes (xfail for them, a normal test for the others)",
    )
    config.addinivalue_line(
        "markers", "slow: takes more than a couple of seconds"
    )


def pytest_report_header(config):
    return [f"runtime: {RUNTIME} ({'skiff' if IS_SKIFF else 'reference runtime'})"]


def pytest_collection_modifyitems(config, items):
    if os.geteuid() != 0:
        skip = pytest.mark.skip(
            reason="the functional suite creates real containers and needs root"
        )
        for item in items:
            item.add_marker(skip)
        return
    if not (os.path.isfile(RUNTIME) and os.access(RUNTIME, os.X_OK)):
        raise pytest.UsageError(
            f"runtime binary {RUNTIME} not found or not executable: build skiff "
            "(make) or point SKIFF at a runtime, e.g. SKIFF=/usr/sbin/runc"
        )
    skiff_skip = pytest.mark.skip(
        reason=f"skiff-only behaviour; runtime is {RUNTIME_NAME}"
    )
    for item in items:
        if not IS_SKIFF and item.get_closest_marker("skiff_only"):
            item.add_marker(skiff_skip)
        for m in item.iter_markers("xfail_runtime"):
            if RUNTIME_NAME in m.args:
                item.add_marker(
                    pytest.mark.xfail(
                        reason=m.kwargs.get("reason", f"known gap of {RUNTIME_NAME}"),
                        strict=m.kwargs.get("strict", True),
                    )
                )


# ------------------------------------------------------------- session


def _is_static_elf(path: str) -> bool:
    """True when the ELF file has no PT_INTERP (no dynamic loader)."""
    with open(path, "rb") as f:
        hdr = f.read(64)
        if hdr[:4] != b"\x7fELF" or hdr[4] != 2:
            return False
        e_phoff = struct.unpack_from("<Q", hdr, 32)[0]
        e_phentsize, e_phnum = struct.unpack_from("<HH", hdr, 54)
        f.seek(e_phoff)
        table = f.read(e_phentsize * e_phnum)
    for i in range(e_phnum):
        if struct.unpack_from("<I", table, i * e_phentsize)[0] == 3:  # PT_INTERP
            return False
    return True


@pytest.fixture(scope="session")
def init_binary(tmp_path_factory) -> str:
    path = os.environ.get("SKIFF_INIT")
    src = TESTS_DIR / "init.c"
    if not path:
        built = TESTS_DIR / "init"
        if built.is_file() and built.stat().st_mtime >= src.stat().st_mtime:
            path = str(built)
    if not path:
        path = str(tmp_path_factory.mktemp("init") / "init")
        r = subprocess.run(
            ["gcc", "-static", "-O2", "-Wall", "-Wextra", "-o", path, str(src)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if r.returncode != 0:
            pytest.fail(f"building {src} failed:\n{r.stderr}")
    if not _is_static_elf(path):
        pytest.fail(f"{path} is not a static binary; build it with gcc -static")
    return path


@pytest.fixture(scope="session")
def rootfs(tmp_path_factory, init_binary) -> Path:
    if not os.path.exists(harness.BUSYBOX):
        pytest.fail(f"{harness.BUSYBOX} missing: install busybox-static")
    return build_rootfs(tmp_path_factory.mktemp("rootfs") / "rootfs", init_binary)


@pytest.fixture(scope="session")
def rootless_user():
    """An unprivileged user with a home and subordinate ids (made once,
    idempotently, and left in place: no password, no login shell)."""
    if not shutil.which("setpriv"):
        pytest.fail("setpriv missing: install util-linux")
    name = os.environ.get("SKIFF_TEST_ROOTLESS_USER", "skiffrl")
    try:
        return harness.ensure_rootless_user(name)
    except (OSError, subprocess.CalledProcessError) as e:
        # e.g. the cgroup v2 guest, whose /etc is the host's, read-only:
        # a run on the host makes the user first.
        pytest.skip(f"cannot make the rootless test user {name}: {e}")


@pytest.fixture(scope="session", autouse=True)
def _session_cgroups():
    yield
    remove_cgroup_tree()
    if harness.SYSTEMD_DRIVER:
        subprocess.run(["systemctl", "stop", harness.SYSTEMD_SLICE], check=False)


# ------------------------------------------------------------ per test


class TestEnv:
    """Per-test state shared by the fixtures: the work directory (bundles,
    runtime root, command output), the token placed in every container's
    environment, and the runtimes to clean up."""

    def __init__(self, workdir: Path, token: str):
        self.workdir = workdir
        self.token = token
        self.runtimes: list[Runtime] = []
        self.cleanups: list = []

    def add_cleanup(self, fn):
        self.cleanups.append(fn)


def _below(path: str, top: Path) -> bool:
    t = str(top)
    return path == t or path.startswith(t + "/")


def _mount_is_ours(mount, workdir: Path, ids) -> bool:
    mp, _fs, src = mount
    if _below(mp, workdir) or _below(src, workdir):
        return True
    return any(f"/{cid}/" in mp + "/" or mp.endswith("/" + cid) for cid in ids)


def _mounts_below(path: Path):
    p = str(path)
    with open("/proc/self/mountinfo") as f:
        return [
            line.split()[4]
            for line in f
            if line.split()[4] == p or line.split()[4].startswith(p + "/")
        ]


@pytest.fixture(autouse=True)
def test_env(request):
    """The leak checker: snapshots before the test, and after the runtime's
    teardown (delete --force of every container) fails the test if a mount,
    cgroup, process or state directory of the test is left behind."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    workdir = Path(
        tempfile.mkdtemp(prefix="skiff-t", dir=os.environ.get("SKIFF_TEST_TMP", "/tmp"))
    )
    os.chmod(workdir, 0o755)
    env = TestEnv(workdir, unique("tok"))
    stuck = remove_cgroup_tree()
    if stuck:
        pytest.fail(f"cgroups from an earlier test cannot be removed: {stuck}")
    mounts_before = mount_snapshot()

    yield env

    problems = []
    for fn in reversed(env.cleanups):
        try:
            fn()
        except Exception as e:  # keep checking the rest
            problems.append(f"cleanup {fn}: {e!r}")
    for rt in env.runtimes:
        rt.cleanup()

    # Processes: give killed ones a moment to go away.
    procs = {}
    deadline = time.monotonic() + 5
    while True:
        procs = processes_of_test(env.token, workdir)
        if not procs or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if procs:
        problems.append(
            "processes left running:\n"
            + "\n".join(f"  {pid}: {desc}" for pid, desc in procs.items())
        )
        for pid in procs:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass

    left = cgroup_leftovers()
    if left:
        problems.append("cgroups left behind:\n  " + "\n  ".join(left))
    stuck = remove_cgroup_tree()
    if stuck:
        problems.append("cgroups that cannot be removed:\n  " + "\n  ".join(stuck))

    for rt in env.runtimes:
        dirs = rt.state_dirs()
        if dirs:
            problems.append(f"state left in {rt.root}: {dirs}")

    # Other sessions may mount things on this host meanwhile: only mounts
    # that are this test's are judged (and undone): below its work dir, or
    # naming one of its containers.  SKIFF_STRICT_MOUNTS=1 judges every new
    # host mount (for a machine running nothing else).
    mounts_after = mount_snapshot()
    ids = [cid for rt in env.runtimes for cid in rt.ids if cid]
    new = [
        m
        for m in (mounts_after - mounts_before)
        if os.environ.get("SKIFF_STRICT_MOUNTS") == "1" or _mount_is_ours(m, workdir, ids)
    ]
    if new:
        problems.append(
            "host mounts left behind:\n  "
            + "\n  ".join(f"{mp} ({fs} {src})" for (mp, fs, src) in sorted(new))
        )
        for mp, _fs, _src in sorted(new, key=lambda m: -len(m[0])):
            if _below(mp, workdir):
                subprocess.run(["umount", "-l", mp], capture_output=True, timeout=10)

    if os.environ.get("SKIFF_KEEP") != "1":
        if _mounts_below(workdir):
            problems.append(f"mounts remain below {workdir}; not removing it")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    if problems:
        pytest.fail("leak check failed:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def runtime(test_env) -> Runtime:
    rt = Runtime(test_env.workdir, test_env.token)
    test_env.runtimes.append(rt)
    return rt


@pytest.fixture
def make_bundle(test_env, rootfs):
    """make_bundle(args=..., full_copy=False) -> Bundle with the default
    config; the runtime helpers save the config before create/run."""

    def make(args=("/init", "ready"), full_copy=False) -> Bundle:
        path = test_env.workdir / unique("b")
        path.mkdir()
        clone_tree(rootfs, path / "rootfs", hardlink_over=0 if full_copy else 65536)
        return Bundle(path, default_config(args, test_env.token))

    return make


@pytest.fixture
def bundle(make_bundle) -> Bundle:
    return make_bundle()


@pytest.fixture
def cid() -> str:
    """A container id unique in the session."""
    return unique("c")


@pytest.fixture
def workdir(test_env) -> Path:
    return test_env.workdir


@pytest.fixture
def user_runtime(test_env, rootless_user) -> UserRuntime:
    """The runtime run as the rootless user, without --root (its state is
    in $XDG_RUNTIME_DIR, a directory of the test the user owns)."""
    rt = UserRuntime(test_env.workdir, test_env.token, rootless_user)
    test_env.runtimes.append(rt)
    return rt


@pytest.fixture
def make_user_bundle(test_env, rootfs, rootless_user):
    """make_user_bundle(args=...) -> Bundle owned by the rootless user
    (a full copy of the rootfs: a hard link's owner is the shared inode's)
    with the default config made rootless as runc's `spec --rootless`
    does, and no cgroupsPath (a rootless runtime puts its container below
    its own cgroup, when it may)."""

    def make(args=("/init", "ready")) -> Bundle:
        path = test_env.workdir / unique("b")
        path.mkdir()
        clone_tree(rootfs, path / "rootfs", hardlink_over=0)
        rootless_user.chown_tree(path)
        config = to_rootless(
            default_config(args, test_env.token), rootless_user.uid, rootless_user.gid
        )
        b = Bundle(path, config)
        b.auto_cgroup = False
        return b

    return make


@pytest.fixture
def user_bundle(make_user_bundle) -> Bundle:
    return make_user_bundle()

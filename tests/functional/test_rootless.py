"""Rootless: the runtime run by an unprivileged user (the `rootless_user`
fixture, by `setpriv` without any capability) on a bundle the user owns,
made as `spec --rootless` makes it (a user namespace mapping the user to
root, no network namespace, /sys bound from the host, no resources).  Its
state is in $XDG_RUNTIME_DIR (a directory of the test's the user owns);
it cannot write the cgroup tree, so its containers have no cgroup."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import host
import mountinfo
from harness import (
    DEFAULT_CAPS,
    IS_SKIFF,
    RUNTIME,
    SYSTEMD_DRIVER,
    TOKEN_VAR,
    ConsoleSocket,
    cap_mask,
    cgroup_path,
    clone_tree,
    parse_kv,
    pid_alive,
    unique,
    wait_for,
)


def run_init(rt, bundle, cid, *args, **kw) -> dict:
    bundle.args = ["/init", *args]
    return rt.run(cid, bundle, **kw).ok().kv


def container_dirs(rt) -> list[str]:
    """The containers' state directories in the runtime's root (files and
    dot-directories, such as skiff's seccomp cache, are not containers)."""
    try:
        return sorted(
            p.name for p in rt.root.iterdir() if p.is_dir() and not p.name.startswith(".")
        )
    except FileNotFoundError:
        return []


def user_dir(user, path: Path, mode=0o755) -> Path:
    path.mkdir(mode=mode)
    os.chown(path, user.uid, user.gid)
    return path


# ----------------------------------------------------------------- lifecycle


def test_create_start_state_kill_delete(user_runtime, user_bundle, cid, rootless_user):
    rt = user_runtime
    rt.create(cid, user_bundle).ok()
    # The state is in $XDG_RUNTIME_DIR/<runtime>, which the user owns.
    assert container_dirs(rt) == [cid]
    assert os.stat(rt.root / cid).st_uid == rootless_user.uid
    st = rt.state(cid)
    assert st["status"] == "created"
    pid = st["pid"]
    assert pid_alive(pid)
    assert os.stat(f"/proc/{pid}").st_uid == rootless_user.uid
    rt.start(cid).ok()
    rt.wait_status(cid, "running")
    rt.kill(cid, "KILL").ok()
    rt.wait_status(cid, "stopped")
    rt.delete(cid).ok()
    assert container_dirs(rt) == []
    wait_for(lambda: not pid_alive(pid), what="the init to be gone")


def test_run_sees_its_own_uid_as_root(user_runtime, user_bundle, cid, rootless_user):
    kv = run_init(user_runtime, user_bundle, cid, "ids")
    assert kv["uid"] == kv["euid"] == "0"
    assert kv["gid"] == kv["egid"] == "0"
    # One id each, the user's: the kernel lets an unprivileged runtime write
    # this map itself, once setgroups is denied for the gid map.
    assert kv["uid_map"] == f"0 {rootless_user.uid} 1"
    assert kv["gid_map"] == f"0 {rootless_user.gid} 1"
    assert kv["setgroups"] == "deny"
    assert container_dirs(user_runtime) == []


def test_exec_and_delete_force(user_runtime, user_bundle, cid, rootless_user):
    rt = user_runtime
    rt.run(cid, user_bundle, detach=True).ok()
    r = rt.exec(cid, "/init", "ids").ok()
    assert r.kv["uid"] == "0"
    assert r.kv["uid_map"] == f"0 {rootless_user.uid} 1"
    r = rt.exec(cid, "/bin/sh", "-c", "echo $$ > /dev/null; /init pid").ok()
    assert r.kv["pid"] != "1"
    rt.delete(cid, force=True).ok()
    assert container_dirs(rt) == []


@pytest.mark.skiff_only
def test_init_runs_from_a_sealed_copy(user_runtime, user_bundle, cid):
    """CVE-2019-5736 unprivileged: no read-only bind without mount
    privilege, so the created init runs from a sealed memfd copy."""
    rt = user_runtime
    rt.create(cid, user_bundle).ok()
    pid = rt.state(cid)["pid"]
    exe = os.readlink(f"/proc/{pid}/exe")
    assert exe.startswith("/memfd:"), exe
    assert os.stat(f"/proc/{pid}/exe").st_ino != os.stat(RUNTIME).st_ino
    fd = os.open(f"/proc/{pid}/exe", os.O_RDONLY)
    try:
        seals = fcntl.fcntl(fd, fcntl.F_GET_SEALS)
    finally:
        os.close(fd)
    assert seals & fcntl.F_SEAL_WRITE and seals & fcntl.F_SEAL_SEAL


@pytest.mark.skiff_only
def test_no_xdg_runtime_dir_is_an_error(user_runtime):
    r = user_runtime("list", env={"XDG_RUNTIME_DIR": ""}).failed()
    assert "XDG_RUNTIME_DIR is not set" in r.stderr, r.describe()


# -------------------------------------------------------------------- mounts


def test_default_mounts(user_runtime, user_bundle, cid):
    user_bundle.sh("/init mounts; echo ok > /dev/null && echo devnull=ok")
    r = user_runtime.run(cid, user_bundle).ok()
    mounts = mountinfo.parse(r.stdout)
    assert mountinfo.at(mounts, "/proc").fstype == "proc"
    assert mountinfo.at(mounts, "/dev").fstype == "tmpfs"
    assert mountinfo.at(mounts, "/dev/pts").fstype == "devpts"
    assert mountinfo.at(mounts, "/dev/mqueue").fstype == "mqueue"
    sys = mountinfo.at(mounts, "/sys")
    # no network namespace of its own: a bind of the host's sysfs
    assert sys.fstype == "sysfs" and sys.has("ro", "nosuid", "nodev", "noexec")
    assert mountinfo.at(mounts, "/").has("ro")
    assert "devnull=ok" in r.stdout


def test_bind_user_dir_and_tmpfs(user_runtime, user_bundle, cid, rootless_user, workdir):
    data = user_dir(rootless_user, workdir / "data")
    (user_bundle.rootfs / "data").mkdir()
    (user_bundle.rootfs / "scratch").mkdir()
    user_bundle.add_mount("/data", data, options=["rbind", "rw"])
    user_bundle.add_tmpfs("/scratch")
    user_bundle.sh(
        "echo hi > /data/f && echo tmp > /scratch/t && cat /scratch/t && /init mounts"
    )
    r = user_runtime.run(cid, user_bundle).ok()
    mounts = mountinfo.parse(r.stdout)
    assert mountinfo.at(mounts, "/scratch").fstype == "tmpfs"
    assert "tmp" in r.stdout.splitlines()
    # root in the container is the user on the host
    assert (data / "f").read_text() == "hi\n"
    assert os.stat(data / "f").st_uid == rootless_user.uid


@pytest.fixture
def locked_mount(test_env, rootless_user):
    """A host mount with nosuid, nodev and noexec: bound into a user
    namespace, the kernel locks those flags on the copy."""
    path = test_env.workdir / "locked"
    path.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "nosuid,nodev,noexec,mode=0777", "locked", str(path)],
        check=True,
        timeout=10,
    )
    test_env.add_cleanup(
        lambda: subprocess.run(["umount", "-l", str(path)], check=True, timeout=10)
    )
    return path


@pytest.mark.xfail_runtime(
    "runc", reason="runc 1.1.5 remounts a bind without the source's locked flags (EPERM)"
)
def test_bind_keeps_locked_flags(user_runtime, user_bundle, cid, locked_mount):
    (user_bundle.rootfs / "a").mkdir()
    (user_bundle.rootfs / "b").mkdir()
    # Neither asks to clear a locked flag: the binds keep them (a remount
    # that dropped them would fail with EPERM).
    user_bundle.add_mount("/a", locked_mount, options=["rbind", "ro"])
    user_bundle.add_mount("/b", locked_mount, options=["bind", "nosuid"])
    user_bundle.sh("/init mounts")
    r = user_runtime.run(cid, user_bundle).ok()
    mounts = mountinfo.parse(r.stdout)
    a, b = mountinfo.at(mounts, "/a"), mountinfo.at(mounts, "/b")
    assert a.has("ro", "nosuid", "nodev", "noexec"), a
    assert b.has("rw", "nosuid", "nodev", "noexec"), b


@pytest.mark.skiff_only
def test_bind_cannot_clear_a_locked_flag(user_runtime, user_bundle, cid, locked_mount):
    (user_bundle.rootfs / "a").mkdir()
    user_bundle.add_mount("/a", locked_mount, options=["rbind", "exec"])
    r = user_runtime.run(cid, user_bundle).failed()
    assert "mounts[7]" in r.stderr and "option `exec` would clear `noexec`" in r.stderr, r.describe()
    assert container_dirs(user_runtime) == []


# ------------------------------------------------------------------- process


def test_console_socket(user_runtime, user_bundle, cid, test_env, rootless_user):
    console = ConsoleSocket(test_env.workdir / "console.sock")
    test_env.add_cleanup(console.close)
    os.chmod(console.path, 0o777)  # the user connects to it
    user_bundle.process["terminal"] = True
    user_bundle.sh("/init tty; exec /init ready")
    user_runtime.create(cid, user_bundle, "--console-socket", console.path).ok()
    master = console.receive()
    assert os.isatty(master)
    user_runtime.start(cid).ok()
    out = console.read_until(b"ready")
    kv = parse_kv(out.decode(errors="replace").replace("\r", ""))
    assert kv["isatty.0"] == kv["isatty.1"] == kv["isatty.2"] == "1"
    assert kv["ttyname.0"].startswith("/dev/pts/")
    assert kv["dev_tty"] == "0"


def test_terminal_run_and_exec(user_runtime, make_user_bundle, cid):
    """Foreground `run` and `exec --tty` relay a pty of the container's
    own devpts to the runtime's terminal."""
    b = make_user_bundle()
    b.process["terminal"] = True
    b.sh("/init tty; /init exit 3")
    b.save(cid)
    user_runtime.ids.append(cid)
    rc, out = user_runtime.pty_call("run", "--bundle", b.path, cid)
    kv = parse_kv(out.decode(errors="replace").replace("\r", ""))
    assert kv["isatty.0"] == kv["isatty.1"] == "1", out
    assert rc == 3, out
    user_runtime.run(cid + "x", make_user_bundle(), detach=True).ok()
    rc, out = user_runtime.pty_call(
        "exec", "--tty", cid + "x", "/bin/sh", "-c", "/init tty; /init exit 4"
    )
    kv = parse_kv(out.decode(errors="replace").replace("\r", ""))
    assert kv["isatty.0"] == kv["isatty.1"] == "1", out
    assert kv["ttyname.0"].startswith("/dev/pts/"), out
    assert rc == 4, out


def test_capabilities_in_the_user_namespace(user_runtime, make_user_bundle, cid):
    b = make_user_bundle()
    b.sh("/init caps; /init status; /init syscall sethostname; exit 0")
    r = user_runtime.run(cid + "a", b).ok()
    kv = parse_kv(r.stdout)
    want = cap_mask(DEFAULT_CAPS)
    assert int(kv["CapEff"], 16) == int(kv["CapPrm"], 16) == want
    assert int(kv["CapBnd"], 16) == want
    assert kv["NoNewPrivs"] == "1"
    assert kv["errno"] == "EPERM"  # sethostname needs CAP_SYS_ADMIN
    # CAP_SYS_ADMIN of the user namespace: enough for its uts namespace.
    b = make_user_bundle()
    caps = DEFAULT_CAPS + ["CAP_SYS_ADMIN"]
    for k in ("bounding", "effective", "permitted"):
        b.process["capabilities"][k] = list(caps)
    b.sh("/init caps; /init syscall sethostname")
    r = user_runtime.run(cid + "b", b).ok()
    kv = parse_kv(r.stdout)
    assert int(kv["CapEff"], 16) == cap_mask(caps)
    assert kv["errno"] == "0"


SECCOMP_ERRNO = 200


def test_seccomp(user_runtime, user_bundle, cid, rootless_user, test_env):
    cache = user_runtime.root / ".seccomp-cache"
    test_env.add_cleanup(lambda: shutil.rmtree(cache, ignore_errors=True))
    user_bundle.linux["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": SECCOMP_ERRNO}
        ],
    }
    user_bundle.sh("/init status; /init mkdir /tmp/x")
    r = user_runtime.run(cid, user_bundle)
    assert r.returncode == 1, r.describe()
    kv = parse_kv(r.stdout)
    assert kv["Seccomp"] == "2"
    assert kv["errno"] == str(SECCOMP_ERRNO)
    if IS_SKIFF:
        # the compiled-filter cache is the user's, in the user's root
        assert cache.is_dir() and os.stat(cache).st_uid == rootless_user.uid


def test_rlimits_up_to_the_hard_limit(user_runtime, make_user_bundle, cid):
    # The runtime inherits a hard limit of 2048 open files; it may set any
    # limit up to that, not above.
    lower = ["prlimit", "--nofile=2048:2048", "--"]
    b = make_user_bundle()
    b.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 2048, "hard": 2048}]
    b.args = ["/init", "rlimits"]
    r = user_runtime.run(cid + "a", b, wrap=lower).ok()
    assert r.kv["RLIMIT_NOFILE"] == "2048 2048"
    b = make_user_bundle()
    b.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 4096}]
    b.args = ["/init", "rlimits"]
    r = user_runtime.run(cid + "b", b, wrap=lower).failed()
    if IS_SKIFF:
        assert "process.rlimits[0]" in r.stderr and "CAP_SYS_RESOURCE" in r.stderr, r.describe()
    assert container_dirs(user_runtime) == []


# ------------------------------------------------------------------ id maps


def map_subordinate_ids(bundle, user) -> tuple[int, int, int]:
    """Container ids 1..n to the user's first subordinate ranges; returns
    (n, first subuid, first subgid)."""
    (ustart, ucount), (gstart, gcount) = user.subuids[0], user.subgids[0]
    n = min(ucount, gcount, 65536)
    bundle.linux["uidMappings"] = [
        {"containerID": 0, "hostID": user.uid, "size": 1},
        {"containerID": 1, "hostID": ustart, "size": n},
    ]
    bundle.linux["gidMappings"] = [
        {"containerID": 0, "hostID": user.gid, "size": 1},
        {"containerID": 1, "hostID": gstart, "size": n},
    ]
    return n, ustart, gstart


def test_subordinate_ids_through_newuidmap(
    user_runtime, user_bundle, cid, rootless_user, workdir
):
    """Ids beyond the user's own come from /etc/subuid and /etc/subgid,
    mapped by the setuid newuidmap/newgidmap."""
    n, ustart, gstart = map_subordinate_ids(user_bundle, rootless_user)
    shared = user_dir(rootless_user, workdir / "shared", mode=0o777)
    os.chmod(shared, 0o777)
    (user_bundle.rootfs / "shared").mkdir()
    user_bundle.add_mount("/shared", shared, options=["rbind", "rw"])
    user_bundle.process["user"] = {"uid": 1000, "gid": 1000}
    user_bundle.sh("/init ids; echo x > /shared/f")
    r = user_runtime.run(cid, user_bundle).ok()
    kv = r.kv
    assert kv["uid"] == "1000" and kv["gid"] == "1000"
    assert kv["uid_map"] == f"0 {rootless_user.uid} 1;1 {ustart} {n}"
    assert kv["gid_map"] == f"0 {rootless_user.gid} 1;1 {gstart} {n}"
    st = os.stat(shared / "f")
    assert (st.st_uid, st.st_gid) == (ustart + 999, gstart + 999)


@pytest.mark.skiff_only  # runc 1.1 has no time namespaces
@pytest.mark.skipif(not os.path.exists("/proc/self/ns/time"), reason="no time namespaces")
def test_two_stage_maps_and_time_offsets(user_runtime, user_bundle, cid, rootless_user):
    """A time namespace needs a second stage: the intermediate unshares the
    user namespace, the runtime maps it, and the intermediate writes the
    offsets; both need its /proc files to be the user's until then."""
    days = 10 * 86400
    user_bundle.add_namespace("time")
    user_bundle.linux["timeOffsets"] = {"boottime": {"secs": days, "nanosecs": 0}}
    user_bundle.sh("/init ids; cat /proc/uptime")
    r = user_runtime.run(cid, user_bundle).ok()
    assert r.kv["uid_map"] == f"0 {rootless_user.uid} 1"
    with open("/proc/uptime") as f:
        host = float(f.read().split()[0])
    inside = float(r.stdout.strip().splitlines()[-1].split()[0])
    assert inside >= host + days - 60, r.stdout


@pytest.mark.xfail_runtime(
    "runc", reason="runc 1.1.5 refuses any additional gid rootless, mapped or not"
)
def test_additional_gids_with_subordinate_gids(user_runtime, user_bundle, cid, rootless_user):
    """newgidmap leaves setgroups allowed: mapped groups can be joined."""
    map_subordinate_ids(user_bundle, rootless_user)
    user_bundle.process["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [5, 2000]}
    kv = run_init(user_runtime, user_bundle, cid, "ids")
    assert kv["setgroups"] == "allow", kv
    assert {"5", "2000"} <= set(kv["groups"].split(",")), kv


def test_additional_gids_need_mapped_groups(user_runtime, user_bundle, cid):
    """With the user's gid alone, mapped without privilege, the kernel
    denies setgroups(2) in the namespace."""
    user_bundle.process["user"] = {"uid": 0, "gid": 0, "additionalGids": [5]}
    user_bundle.args = ["/init", "ids"]
    r = user_runtime.run(cid, user_bundle).failed()
    if IS_SKIFF:
        assert "process.user.additionalGids" in r.stderr and "denied" in r.stderr, r.describe()
    assert container_dirs(user_runtime) == []


def test_ids_not_granted_are_refused(user_runtime, user_bundle, cid, rootless_user):
    ranges = rootless_user.subuids
    beyond = max(s + c for s, c in ranges) + 1000
    user_bundle.linux["uidMappings"] = [
        {"containerID": 0, "hostID": rootless_user.uid, "size": 1},
        {"containerID": 1, "hostID": beyond, "size": 10},
    ]
    r = user_runtime.run(cid, user_bundle).failed()
    if IS_SKIFF:
        assert "linux.uidMappings[1]" in r.stderr and "/etc/subuid" in r.stderr, r.describe()
    assert container_dirs(user_runtime) == []


# ------------------------------------------------------------------- cgroups


def test_resources_need_a_delegated_cgroup(user_runtime, user_bundle, cid):
    user_bundle.linux["resources"] = {"memory": {"limit": 64 * 1024 * 1024}}
    r = user_runtime.run(cid, user_bundle).failed()
    if IS_SKIFF:
        assert "linux.resources.memory" in r.stderr and "delegate" in r.stderr, r.describe()
    assert container_dirs(user_runtime) == []


@pytest.mark.skiff_only
def test_verbs_without_a_cgroup_say_why(user_runtime, user_bundle, cid):
    rt = user_runtime
    rt.run(cid, user_bundle, detach=True).ok()
    assert rt.state(cid)["status"] == "running"
    why = "no cgroup: rootless without a delegated cgroup"
    for args in (
        ("pause", cid),
        ("ps", cid),
        ("events", "--stats", cid),
        ("update", "--memory", "100M", cid),
    ):
        r = rt(*args).failed()
        assert why in r.stderr, r.describe()
    rt.kill(cid, "KILL").ok()
    rt.wait_status(cid, "stopped")
    rt.delete(cid).ok()


@pytest.mark.skiff_only
def test_check_warns_what_rootless_create_refuses(user_runtime, user_bundle, rootless_user):
    user_bundle.linux["resources"] = {"pids": {"limit": 100}}
    beyond = max(s + c for s, c in rootless_user.subgids) + 1000
    user_bundle.linux["gidMappings"].append({"containerID": 1, "hostID": beyond, "size": 1})
    r = user_runtime("check", "--bundle", user_bundle.save()).ok()
    assert "warning: linux.resources.pids: rootless" in r.stdout, r.describe()
    assert "warning: linux.gidMappings[1]: rootless" in r.stdout, r.describe()
    assert "0 errors, 2 warnings" in r.stdout, r.describe()
    user_bundle.remove_namespace("user")
    del user_bundle.linux["uidMappings"], user_bundle.linux["gidMappings"]
    del user_bundle.linux["resources"]
    r = user_runtime("check", "--bundle", user_bundle.save()).ok()
    assert "warning: linux.namespaces: rootless, a container needs a user namespace" in r.stdout, (
        r.describe()
    )


@pytest.mark.skiff_only
def test_rootless_false_keeps_the_privileged_paths(user_runtime, user_bundle, cid):
    r = user_runtime("--rootless", "false", "run", "--bundle", user_bundle.save(), cid).failed()
    assert "/run/skiff" in r.stderr, r.describe()


@pytest.mark.skiff_only
@pytest.mark.skipif(SYSTEMD_DRIVER, reason="rootless with --systemd-cgroup is refused")
def test_rootless_true_uses_a_writable_cgroup(runtime, bundle, cid):
    """The decision is whether the tree is writable, not who asks: root
    forcing rootless still gets its cgroup and its limits."""
    bundle.linux["resources"]["memory"] = {"limit": 256 * 1024 * 1024}
    bundle.args = ["/init", "ready"]
    runtime("--rootless", "true", "run", "--detach", "--bundle", bundle.save(cid), cid).ok()
    runtime.ids.append(cid)
    r = runtime("ps", "--format", "json", cid).ok()
    assert json.loads(r.stdout), r.describe()
    limit = host.cgroup_dir("memory", cgroup_path(bundle)) / "memory.limit_in_bytes"
    if not limit.exists():
        limit = host.cgroup_dir("memory", cgroup_path(bundle)) / "memory.max"
    assert int(limit.read_text()) == 256 * 1024 * 1024


# ---------------------------------------------------------------------- spec


def test_spec_rootless_runs(user_runtime, rootfs, test_env, rootless_user, cid):
    """The bundle `spec --rootless` writes runs as the user, as it is but
    for the terminal and the command."""
    path = test_env.workdir / unique("b")
    path.mkdir()
    clone_tree(rootfs, path / "rootfs", hardlink_over=0)
    rootless_user.chown_tree(path)
    user_runtime("spec", "--rootless", cwd=path).ok()
    cfg = json.loads((path / "config.json").read_text())
    types = [n["type"] for n in cfg["linux"]["namespaces"]]
    assert "user" in types and "network" not in types
    assert cfg["linux"]["uidMappings"] == [
        {"containerID": 0, "hostID": rootless_user.uid, "size": 1}
    ]
    assert "resources" not in cfg["linux"]
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = ["/init", "ids"]
    cfg["process"]["env"].append(f"{TOKEN_VAR}={test_env.token}")
    (path / "config.json").write_text(json.dumps(cfg))
    r = user_runtime.run(cid, path).ok()
    assert r.kv["uid_map"] == f"0 {rootless_user.uid} 1"

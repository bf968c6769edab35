"""The container's filesystem: mounts[] with their options and propagation,
/dev, masked and read-only paths, root.readonly, cgroup mounts, and the
security regressions of hostile rootfs trees.  Each test reads
/proc/self/mountinfo (or stats files) inside a real container; the leak
checker of conftest.py fails any test after which the host's mount table
differs."""

import os

import pytest

import host
import mountinfo
from harness import IS_SKIFF, ConsoleSocket, parse_kv, parse_sections


def mounts_of(runtime, bundle, cid):
    bundle.args = ["/init", "mounts"]
    return mountinfo.parse(runtime.run(cid, bundle).ok().stdout)


def sh_sections(runtime, bundle, cid, *commands):
    """Run the /init commands in one container; their key=value outputs
    (a command that reports a failing errno does not fail the run)."""
    bundle.sh("; echo ---; ".join(commands) + "; true")
    return parse_sections(runtime.run(cid, bundle).ok().stdout)


def host_dev_submount():
    """A submount of the host's /dev (pts, shm, mqueue): bind sources with
    submounts without mounting anything on the host, where a concurrent
    test session's leak checker would take it for a leak."""
    with open("/proc/self/mountinfo") as f:
        points = [m.point for m in mountinfo.parse(f.read())]
    subs = sorted(p for p in points if p.startswith("/dev/") and p.count("/") == 2)
    if not subs:
        pytest.skip("the host's /dev has no submount")
    return subs[0].removeprefix("/dev/")


# ------------------------------------------------------------- defaults


@pytest.mark.xfail_runtime("runc", reason="runc 1.1 leaves the cgroup tmpfs writable")
def test_default_mounts(runtime, bundle, cid):
    ms = mounts_of(runtime, bundle, cid)
    root = mountinfo.at(ms, "/")
    assert root is not None and "ro" in root.opts  # root.readonly
    proc = mountinfo.at(ms, "/proc")
    assert proc.fstype == "proc"
    dev = mountinfo.at(ms, "/dev")
    assert dev.fstype == "tmpfs" and dev.has("nosuid", "mode=755", "size=65536k")
    assert "relatime" not in dev.opts and "noatime" not in dev.opts  # strictatime
    pts = mountinfo.at(ms, "/dev/pts")
    assert pts.fstype == "devpts" and pts.has("nosuid", "noexec", "ptmxmode=666", "gid=5")
    shm = mountinfo.at(ms, "/dev/shm")
    assert shm.fstype == "tmpfs" and shm.has("nosuid", "nodev", "noexec", "size=65536k")
    assert mountinfo.at(ms, "/dev/mqueue").fstype == "mqueue"
    sys = mountinfo.at(ms, "/sys")
    assert sys.fstype == "sysfs" and sys.has("ro", "nosuid", "nodev", "noexec")
    cg = mountinfo.at(ms, "/sys/fs/cgroup")
    assert cg is not None and "ro" in cg.opts
    # nothing the container mounts can travel back to the host
    for m in ms:
        assert "shared:" not in m.optional, m


@pytest.mark.xfail_runtime("runc", reason="runc 1.1 leaves the cgroup tmpfs writable")
def test_cgroup_mounts_read_only(runtime, bundle, cid):
    ms = mounts_of(runtime, bundle, cid)
    below = [m for m in mountinfo.visible(ms) if m.point.startswith("/sys/fs/cgroup")]
    assert below
    for m in below:
        assert "ro" in m.opts, m
        assert m.fstype in ("tmpfs", "cgroup", "cgroup2"), m
    if mountinfo.at(ms, "/sys/fs/cgroup").fstype == "tmpfs":  # v1 or hybrid host
        assert any(m.fstype == "cgroup" for m in below)


def test_cgroup_namespace_sees_its_root(runtime, bundle, cid):
    bundle.add_namespace("cgroup")
    ms = mounts_of(runtime, bundle, cid)
    for m in mountinfo.visible(ms):
        if m.fstype in ("cgroup", "cgroup2") and m.point.startswith("/sys/fs/cgroup"):
            assert m.root == "/", m


def test_read_only_root_refuses_writes(runtime, bundle, cid):
    mkdir, write, tmp = sh_sections(
        runtime, bundle, cid, "/init mkdir /newdir", "/init write /etc/x y", "/init mkdir /dev/ok"
    )
    assert mkdir["errno"] == "EROFS"
    assert write["errno"] == "EROFS"
    assert tmp["errno"] == "0"  # the mounts on it stay writable


def test_writable_root(runtime, bundle, cid):
    bundle.config["root"]["readonly"] = False
    (kv,) = sh_sections(runtime, bundle, cid, "/init mkdir /newdir")
    assert kv["errno"] == "0"
    assert (bundle.rootfs / "newdir").is_dir()


def test_dev_contents(runtime, bundle, cid):
    bundle.linux["devices"] = [
        {"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 0o600},
        {"type": "c", "path": "/dev/net/tun", "major": 10, "minor": 200, "fileMode": 0o666},
    ]
    want = {
        "null": "1:3", "zero": "1:5", "full": "1:7", "random": "1:8",
        "urandom": "1:9", "tty": "5:0", "fuse": "10:229", "net/tun": "10:200",
    }
    links = {
        "fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
        "stderr": "/proc/self/fd/2", "ptmx": "pts/ptmx",
    }
    cmds = [f"/init stat /dev/{n}" for n in want]
    cmds.append("; ".join(f"echo {n}=$(readlink /dev/{n})" for n in links))
    out = sh_sections(runtime, bundle, cid, *cmds)
    for (name, rdev), kv in zip(want.items(), out):
        assert kv["type"] == "char", (name, kv)
        assert kv["rdev"] == rdev, (name, kv)
        assert kv["mode"] == ("0600" if name == "fuse" else "0666"), (name, kv)
    assert out[-1] == links


def test_no_console_without_terminal(runtime, bundle, cid):
    (kv,) = sh_sections(runtime, bundle, cid, "/init stat /dev/console")
    assert kv["errno"] == "ENOENT"


@pytest.mark.skiff_only
def test_default_dev_when_config_has_none(runtime, bundle, cid):
    bundle.config["mounts"] = [m for m in bundle.config["mounts"]
                               if not m["destination"].startswith("/dev")]
    ms = mounts_of(runtime, bundle, cid)
    assert mountinfo.at(ms, "/dev").fstype == "tmpfs"
    assert mountinfo.at(ms, "/dev/pts").fstype == "devpts"
    assert mountinfo.at(ms, "/dev/shm").has("nosuid", "nodev", "noexec")


# ------------------------------------------------------ masked / read-only


def test_masked_paths(runtime, bundle, cid):
    bundle.linux["maskedPaths"].append("/proc/does-not-exist")
    keys, content, firmware, firmware_mkdir, write, reread = sh_sections(
        runtime, bundle, cid,
        "/init stat /proc/keys", "echo content=$(cat /proc/keys)",
        "echo entries=$(ls -A /sys/firmware | wc -l)",
        "/init mkdir /sys/firmware/x",
        "/init write /proc/keys secret", "echo content=$(cat /proc/keys)",
    )
    assert keys["type"] == "char" and keys["rdev"] == "1:3"
    assert content["content"] == ""
    assert firmware["entries"] == "0"
    assert firmware_mkdir["errno"] == "EROFS"
    # writes to a masked file go nowhere
    assert write["errno"] == "0"
    assert reread["content"] == ""


def test_readonly_paths(runtime, bundle, cid):
    sysctl, proc_self = sh_sections(
        runtime, bundle, cid,
        "/init write /proc/sys/kernel/domainname skiff-test",
        "/init write /proc/self/comm skiff-test",
    )
    assert sysctl["errno"] == "EROFS"
    assert proc_self["errno"] == "0"
    ms = mounts_of(runtime, bundle, cid + "-2")
    assert "ro" in mountinfo.at(ms, "/proc/sys").opts


# ------------------------------------------------------------- mounts[]


def test_bind_options(runtime, bundle, cid, workdir):
    src = workdir / "bindsrc"
    src.mkdir()
    (src / "file").write_text("hello")
    for d in ("b1", "b2", "b3"):
        (bundle.rootfs / d).mkdir()
    bundle.add_mount("/b1", src, options=["rbind", "ro", "nosuid", "nodev", "noexec", "noatime"])
    bundle.add_mount("/b2", src, options=["bind", "rw", "strictatime", "nodiratime"])
    bundle.add_mount("/b3", src, options=["rbind", "ro", "unbindable"])
    ms = mounts_of(runtime, bundle, cid)
    b1 = mountinfo.at(ms, "/b1")
    assert {"ro", "nosuid", "nodev", "noexec", "noatime"} <= b1.opts
    b2 = mountinfo.at(ms, "/b2")
    assert "rw" in b2.opts and "nodiratime" in b2.opts
    assert "relatime" not in b2.opts and "noatime" not in b2.opts
    assert "unbindable" in mountinfo.at(ms, "/b3").optional


@pytest.mark.xfail_runtime("runc", reason="runc 1.1 leaves submounts of a ro rbind writable")
def test_read_only_rbind_covers_submounts(runtime, bundle, cid):
    sub = host_dev_submount()
    (bundle.rootfs / "r1").mkdir()
    (bundle.rootfs / "r2").mkdir()
    bundle.add_mount("/r1", "/dev", options=["rbind", "ro"])
    bundle.add_mount("/r2", "/dev", options=["rbind", "rro"])
    ms = mounts_of(runtime, bundle, cid)
    for point in ("/r1", f"/r1/{sub}", "/r2", f"/r2/{sub}"):
        m = mountinfo.at(ms, point)
        assert m is not None and "ro" in m.opts, (point, m)
    (write,) = sh_sections(runtime, bundle, cid + "-w", f"/init mkdir /r1/{sub}/x")
    assert write["errno"] == "EROFS"


def test_recursive_attributes(runtime, bundle, cid):
    sub = host_dev_submount()
    (bundle.rootfs / "a").mkdir()
    bundle.add_mount("/a", "/dev", options=["rbind", "rnosuid", "rnoexec", "rnoatime"])
    ms = mounts_of(runtime, bundle, cid)
    for point in ("/a", f"/a/{sub}"):
        assert {"nosuid", "noexec", "noatime"} <= mountinfo.at(ms, point).opts


def test_file_bind(runtime, bundle, cid, workdir):
    f = workdir / "hostfile"
    f.write_text("from-host")
    bundle.add_mount("/etc/injected", f, options=["bind", "ro"])
    read, write = sh_sections(runtime, bundle, cid, "echo content=$(cat /etc/injected)",
                              "/init write /etc/injected x")
    assert read["content"] == "from-host"
    assert write["errno"] == "EROFS"
    assert f.read_text() == "from-host"


def test_tmpfs_options(runtime, bundle, cid):
    bundle.add_tmpfs("/scratch", ["size=2m", "mode=0700", "nosuid", "nodev", "noexec"])
    ms = mounts_of(runtime, bundle, cid)
    m = mountinfo.at(ms, "/scratch")
    assert m.fstype == "tmpfs" and m.has("size=2048k", "mode=700", "nosuid", "nodev", "noexec")


def test_bind_propagation_shared(runtime, bundle, cid, workdir):
    src = workdir / "psrc"
    src.mkdir()
    (bundle.rootfs / "p").mkdir()
    bundle.add_mount("/p", src, options=["rbind", "rshared"])
    ms = mounts_of(runtime, bundle, cid)
    assert "shared:" in mountinfo.at(ms, "/p").optional


def test_rootfs_propagation_private(runtime, bundle, cid):
    bundle.linux["rootfsPropagation"] = "rprivate"
    ms = mounts_of(runtime, bundle, cid)
    for m in ms:
        assert "shared:" not in m.optional and "master:" not in m.optional, m


def idmap_refused(path) -> bool:
    """tmpfs takes idmapped mounts from Linux 6.3 on (the qemu guest of
    make check-cgroupv2 runs Debian's 6.1 with its files on tmpfs)."""
    return host.fs_magic(path) == host.TMPFS_MAGIC and host.kernel_version() < (6, 3)


def assert_idmap_refused(runtime, bundle, cid):
    """The kernel cannot idmap the source: create fails saying so."""
    r = runtime.run(cid, bundle).failed()
    if IS_SKIFF:
        assert "this kernel cannot idmap a mount of tmpfs" in r.stderr, r.describe()
    assert runtime.state_dirs() == []


def idmapped_root_file(bundle, workdir, host_id):
    """A host directory with a file owned by root, bound at /id with an
    idmap that shows on-disk uid/gid 0 as host_id; returns the file."""
    src = workdir / "idsrc"
    src.mkdir()
    (src / "owned-by-root").write_text("x")
    (bundle.rootfs / "id").mkdir()
    m = [{"containerID": 0, "hostID": host_id, "size": 1}]
    bundle.config["mounts"].append({
        "destination": "/id", "type": "bind", "source": str(src),
        "options": ["rbind", "idmap"], "uidMappings": m, "gidMappings": list(m),
    })
    return src / "owned-by-root"


@pytest.mark.xfail_runtime("runc", reason="idmapped mounts need runc 1.2")
def test_idmapped_bind(runtime, bundle, cid, workdir):
    f = idmapped_root_file(bundle, workdir, 1000)
    if idmap_refused(workdir):
        return assert_idmap_refused(runtime, bundle, cid)
    (kv,) = sh_sections(runtime, bundle, cid, "/init stat /id/owned-by-root")
    assert kv["uid"] == "1000" and kv["gid"] == "1000"
    assert os.stat(f).st_uid == 0


@pytest.mark.xfail_runtime("runc", reason="idmapped mounts need runc 1.2")
def test_idmapped_bind_in_userns(runtime, bundle, cid, workdir):
    """With a user namespace the init has no privilege over the source's
    filesystem: the runtime makes the idmapped tree before the clone and
    the init attaches it.  Host root's file shows as the container's root,
    where a plain bind would show the overflow uid."""
    f = idmapped_root_file(bundle, workdir, 100000)
    userns = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.add_namespace("user")
    bundle.linux["uidMappings"] = list(userns)
    bundle.linux["gidMappings"] = list(userns)
    if idmap_refused(workdir):
        return assert_idmap_refused(runtime, bundle, cid)
    (kv,) = sh_sections(runtime, bundle, cid, "/init stat /id/owned-by-root")
    assert kv["uid"] == "0" and kv["gid"] == "0"
    assert os.stat(f).st_uid == 0


@pytest.mark.skiff_only
def test_missing_bind_source_names_the_mount(runtime, bundle, cid):
    bundle.add_mount("/data", "/srv/skiff-does-not-exist")
    r = runtime.create(cid, bundle).failed()
    assert 'mount "/srv/skiff-does-not-exist" on "/data"' in r.stderr
    assert "mounts[7] (/data)" in r.stderr


@pytest.mark.skiff_only
def test_mount_over_proc_refused(runtime, bundle, cid):
    bundle.add_tmpfs("/proc/sys")
    r = runtime.create(cid, bundle).failed()
    assert "/proc" in r.stderr


def test_no_pivot(runtime, bundle, cid):
    bundle.args = ["/init", "stat", "/init"]
    r = runtime.run(cid, bundle, "--no-pivot").ok()
    assert parse_kv(r.stdout)["type"] == "file"


# ------------------------------------------------- security regressions


@pytest.mark.xfail_runtime("runc", reason="runc 1.1 creates /dev/fd etc. through the link")
def test_dev_symlink_to_host_dir(runtime, bundle, cid, workdir):
    """A rootfs whose /dev points at a host directory: nothing is created
    there (CVE-2025-52881 class)."""
    hostdir = workdir / "hostdev"
    hostdir.mkdir()
    dev = bundle.rootfs / "dev"
    if dev.is_dir() and not dev.is_symlink():
        dev.rmdir()
    dev.symlink_to(hostdir)
    r = runtime.create(cid, bundle)
    if IS_SKIFF:  # others resolve the link inside the rootfs and go on
        r.failed()
    assert list(hostdir.iterdir()) == []


def test_destination_symlink_escape_lands_inside(runtime, bundle, cid, workdir):
    """mounts[].destination is a symlink to /../../somewhere: the mount goes
    to <rootfs>/somewhere, the host's / is untouched (CVE-2015-1395,
    CVE-2021-30465 class)."""
    name = f"skiff-escape-{cid}"
    src = workdir / "esrc"
    src.mkdir()
    (src / "marker").write_text("m")
    (bundle.rootfs / "data").symlink_to(f"/../../{name}")
    bundle.add_mount("/data", src, options=["rbind", "ro"])
    ms = mounts_of(runtime, bundle, cid)
    assert mountinfo.at(ms, f"/{name}") is not None
    assert not os.path.lexists(f"/{name}")
    assert (bundle.rootfs / name).is_dir()


@pytest.mark.parametrize("kind", ["symlink-root", "symlink-host", "file"])
def test_proc_must_be_a_directory(runtime, bundle, cid, workdir, kind):
    """/proc replaced by a symlink or a file: create fails (CVE-2019-19921)."""
    proc = bundle.rootfs / "proc"
    proc.rmdir()
    if kind == "symlink-root":
        proc.symlink_to("/")
    elif kind == "symlink-host":
        (workdir / "fakeproc").mkdir()
        proc.symlink_to(workdir / "fakeproc")
    else:
        proc.write_text("not a directory")
    r = runtime.create(cid, bundle).failed()
    assert "/proc" in r.stderr


@pytest.mark.xfail_runtime("runc", reason="CVE-2025-31133, fixed in runc 1.2.8")
def test_dev_null_symlink_to_procfs(runtime, bundle, cid):
    """/dev (bound from the image) with null -> a procfs file: masking must
    not bind that file over the masked paths (CVE-2025-31133)."""
    devsrc = bundle.rootfs / "devsrc"
    devsrc.mkdir()
    (devsrc / "null").symlink_to("/proc/sys/kernel/core_pattern")
    bundle.config["mounts"] = [m for m in bundle.config["mounts"]
                               if not m["destination"].startswith("/dev")]
    bundle.add_mount("/dev", "rootfs/devsrc", options=["rbind"])
    bundle.linux["maskedPaths"] = ["/proc/keys"]
    bundle.linux["readonlyPaths"] = []
    r = runtime.create(cid, bundle).failed()
    assert "/dev/null" in r.stderr


def test_prepopulated_dev_pts_console_is_real_pty(runtime, bundle, cid, test_env):
    """Files planted in the image's /dev/pts and /dev/console: with a
    terminal, /dev/console is the container's own pty (CVE-2025-52565)."""
    pts = bundle.rootfs / "dev" / "pts"
    pts.mkdir(parents=True, exist_ok=True)
    (pts / "0").symlink_to("/etc/passwd")
    (pts / "ptmx").write_text("planted")
    console = bundle.rootfs / "dev" / "console"
    if not console.exists():
        console.symlink_to("/etc/passwd")
    sock = ConsoleSocket(test_env.workdir / "console.sock")
    test_env.add_cleanup(sock.close)
    bundle.process["terminal"] = True
    bundle.sh("/init tty; exec /init ready")
    runtime.create(cid, bundle, "--console-socket", sock.path).ok()
    sock.receive()
    runtime.start(cid).ok()
    kv = parse_kv(sock.read_until(b"ready").decode(errors="replace").replace("\r", ""))
    cons = kv["console"]
    assert cons.startswith("char "), cons
    assert cons.split()[1] == kv["tty_dev"]
    assert (bundle.rootfs / "dev" / "pts" / "ptmx").read_text() == "planted"


def test_type_mismatch_refused(runtime, bundle, cid, workdir):
    """A directory bound onto a file of the image (or a file onto a
    directory) fails instead of replacing it."""
    src = workdir / "dsrc"
    src.mkdir()
    (bundle.rootfs / "afile").write_text("x")
    bundle.add_mount("/afile", src)
    runtime.create(cid, bundle).failed()
    assert (bundle.rootfs / "afile").read_text() == "x"


# ------------------------------------------------------------ tmpfs details


@pytest.mark.parametrize("exists,options,want", [
    (True, ["nosuid"], "750"),          # the mountpoint's mode, as runc and crun
    (False, ["nosuid"], "1777"),        # made for the mount: tmpfs's own
    (True, ["nosuid", "mode=700"], "700"),  # mode= wins
])
def test_tmpfs_mode(runtime, bundle, cid, exists, options, want):
    if exists:
        (bundle.rootfs / "t").mkdir()
        os.chmod(bundle.rootfs / "t", 0o750)
    bundle.add_tmpfs("/t", options)
    bundle.sh("stat -c %a /t")
    assert runtime.run(cid, bundle).ok().stdout.strip() == want


def test_tmpcopyup_copies_the_image_tree(runtime, bundle, cid):
    """Podman's --read-only and --tmpfs: the tmpfs starts with what the
    image had there (files, directories, symlinks, fifos, with owners,
    modes and times); writes go to the tmpfs, not to the image."""
    d = bundle.rootfs / "data"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "f").write_text("hello\n")
    os.chmod(d / "sub" / "f", 0o640)
    os.chown(d / "sub" / "f", 0, 1001)
    os.utime(d / "sub" / "f", (1_000_000_000, 1_000_000_000))
    os.symlink("sub/f", d / "link")
    os.mkfifo(d / "fifo")
    os.chown(d / "sub", 1000, 1000)
    os.chmod(d, 0o751)
    bundle.add_mount("/data", "tmpfs", "tmpfs", ["nosuid", "tmpcopyup"])
    bundle.sh(
        "grep -q ' /data tmpfs ' /proc/mounts && echo tmpfs=1;"
        " stat -c '%n %a %u:%g %Y' /data /data/sub/f; stat -c %u:%g /data/sub; cat /data/link;"
        " test -p /data/fifo && echo fifo=1; echo changed > /data/sub/f; cat /data/sub/f"
    )
    out = runtime.run(cid, bundle).ok().stdout.splitlines()
    assert out == ["tmpfs=1", "/data 751 0:0 " + str(int(os.stat(d).st_mtime)),
                   "/data/sub/f 640 0:1001 1000000000", "1000:1000", "hello", "fifo=1", "changed"], out
    assert (d / "sub" / "f").read_text() == "hello\n"


def test_tmpcopyup_refused_on_a_bind(runtime, bundle, cid, workdir):
    (workdir / "src").mkdir()
    bundle.add_mount("/x", workdir / "src", options=["rbind", "tmpcopyup"])
    r = runtime.create(cid, bundle).failed()
    assert "tmpcopyup applies to a tmpfs only" in r.stderr, r.describe()


def test_bind_source_unreachable_by_mapped_root(runtime, bundle, cid, workdir):
    """With a user namespace, the container's root is an unprivileged user
    on the host: a bind source below a 0700 directory of host root is out
    of its reach.  The runtime opens the source (with its own rights) and
    the init only attaches the tree, as for idmapped mounts."""
    locked = workdir / "locked"
    (locked / "inner").mkdir(parents=True)
    (locked / "inner" / "f").write_text("reached\n")
    os.chmod(locked / "inner", 0o755)
    os.chmod(locked / "inner" / "f", 0o644)
    os.chmod(locked, 0o700)
    (bundle.rootfs / "data").mkdir()  # the rootfs is host root's: the mapped root cannot mkdir
    userns = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.add_namespace("user")
    bundle.linux["uidMappings"] = list(userns)
    bundle.linux["gidMappings"] = list(userns)
    bundle.add_mount("/data", locked / "inner", options=["rbind", "ro"])
    bundle.sh("cat /data/f; grep ' /data ' /proc/self/mountinfo | grep -c ' ro,'")
    r = runtime.run(cid, bundle).ok()
    assert r.stdout == "reached\n1\n", r.describe()


def test_bind_source_missing_in_userns_names_the_mount(runtime, bundle, cid):
    userns = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.add_namespace("user")
    bundle.linux["uidMappings"] = list(userns)
    bundle.linux["gidMappings"] = list(userns)
    bundle.add_mount("/data", "/srv/skiff-does-not-exist")
    r = runtime.create(cid, bundle).failed()
    assert "mounts[7] (/data)" in r.stderr and "/srv/skiff-does-not-exist" in r.stderr, r.describe()
    assert runtime.state_dirs() == []

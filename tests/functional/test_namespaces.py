"""linux.namespaces: new namespaces, shared ones, joined ones (path), user
namespace mappings."""

import os
import subprocess

import pytest

from harness import host_ns_inodes, parse_kv, parse_sections, unique, wait_for

# config type -> /proc/self/ns name
NS_FILE = {
    "pid": "pid",
    "network": "net",
    "ipc": "ipc",
    "uts": "uts",
    "mount": "mnt",
    "cgroup": "cgroup",
    "user": "user",
}

USER_MAP = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def ns_of(runtime, bundle, cid):
    bundle.args = ["/init", "ns"]
    r = runtime.run(cid, bundle).ok()
    return {k.removeprefix("ns."): int(v) for k, v in parse_kv(r.stdout).items()}


def use_userns(bundle):
    bundle.add_namespace("user")
    bundle.linux["uidMappings"] = list(USER_MAP)
    bundle.linux["gidMappings"] = list(USER_MAP)


def test_default_namespaces(runtime, bundle, cid):
    host = host_ns_inodes()
    seen = ns_of(runtime, bundle, cid)
    for t in ("pid", "network", "ipc", "uts", "mount"):
        assert seen[NS_FILE[t]] != host[NS_FILE[t]], f"{t} namespace not new"
    for name in ("cgroup", "user"):
        assert seen[name] == host[name], f"{name} namespace not shared"


@pytest.mark.parametrize("ns_type", ["pid", "network", "ipc", "uts"])
def test_omitted_namespace_is_shared(runtime, bundle, cid, ns_type):
    host = host_ns_inodes()
    bundle.remove_namespace(ns_type)
    if ns_type == "uts":
        del bundle.config["hostname"]  # a hostname needs a private uts ns
    seen = ns_of(runtime, bundle, cid)
    assert seen[NS_FILE[ns_type]] == host[NS_FILE[ns_type]]
    for other in ("pid", "network", "ipc", "uts", "mount"):
        if other != ns_type:
            assert seen[NS_FILE[other]] != host[NS_FILE[other]]


def test_cgroup_namespace(runtime, bundle, cid):
    host = host_ns_inodes()
    bundle.add_namespace("cgroup")
    bundle.sh("/init ns; /init cgroup")
    out = runtime.run(cid, bundle).ok().stdout
    kv = parse_kv(out)
    assert int(kv["ns.cgroup"]) != host["cgroup"]
    cg_lines = [line for line in out.splitlines() if line.count(":") >= 2 and "=" not in line]
    assert cg_lines
    for line in cg_lines:
        assert line.split(":", 2)[2] == "/", f"cgroup ns root must be /: {line}"


def test_user_namespace_mappings(runtime, bundle, cid):
    host = host_ns_inodes()
    use_userns(bundle)
    bundle.sh("/init ns; echo ---; /init ids; echo ---; /init stat /init")
    ns, ids, st = parse_sections(runtime.run(cid, bundle).ok().stdout)
    assert int(ns["ns.user"]) != host["user"]
    assert ids["uid_map"] == "0 100000 65536"
    assert ids["gid_map"] == "0 100000 65536"
    assert ids["uid"] == "0" and ids["gid"] == "0"
    # /init belongs to host root, unmapped here: it shows as the overflow id.
    assert st["uid"] == "65534" and st["gid"] == "65534"


def test_user_namespace_process_runs_as_mapped_host_uid(runtime, bundle, cid):
    use_userns(bundle)
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.args = ["/init", "sleep", "30"]
    runtime.create(cid, bundle).ok()
    pid = runtime.state(cid)["pid"]
    runtime.start(cid).ok()

    def host_ids():
        status = open(f"/proc/{pid}/status").read()
        uid = next(line for line in status.splitlines() if line.startswith("Uid:"))
        return uid.split()[1] == "101000" and uid

    wait_for(host_ids, what="the process to run as host uid 101000")


def test_user_namespace_multiple_ranges(runtime, bundle, cid):
    use_userns(bundle)
    maps = [
        {"containerID": 0, "hostID": 200000, "size": 1000},
        {"containerID": 1000, "hostID": 300000, "size": 1},
    ]
    bundle.linux["uidMappings"] = maps
    bundle.linux["gidMappings"] = maps
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.args = ["/init", "ids"]
    kv = parse_kv(runtime.run(cid, bundle).ok().stdout)
    assert sorted(kv["uid_map"].split(";")) == ["0 200000 1000", "1000 300000 1"]
    assert kv["uid"] == "1000"


# ------------------------------------------------------------ join by path


@pytest.fixture
def netns(test_env):
    """A network namespace kept alive by a bind mount on a file in the
    test's work dir (what `ip netns add` does under /run/netns, without
    touching a directory other sessions share), unmounted at teardown."""
    path = test_env.workdir / "netns"
    path.touch()
    subprocess.run(["unshare", f"--net={path}", "true"], check=True, timeout=10)
    test_env.add_cleanup(lambda: subprocess.run(["umount", str(path)], check=True, timeout=10))
    assert os.stat(path).st_ino != host_ns_inodes()["net"]
    return str(path)


@pytest.fixture
def ns_holder(test_env):
    """A host process in fresh uts+ipc namespaces (unshare), killed at
    teardown."""
    p = subprocess.Popen(["unshare", "--uts", "--ipc", "sleep", "300"])
    test_env.add_cleanup(lambda: (p.kill(), p.wait()))
    host = host_ns_inodes()
    wait_for(
        lambda: os.stat(f"/proc/{p.pid}/ns/uts").st_ino != host["uts"],
        what="unshare to take effect",
    )
    return p.pid


def test_join_network_namespace_by_path(runtime, bundle, cid, netns):
    bundle.add_namespace("network", netns)
    seen = ns_of(runtime, bundle, cid)
    assert seen["net"] == os.stat(netns).st_ino


def test_join_held_namespaces_by_path(runtime, bundle, cid, ns_holder):
    del bundle.config["hostname"]  # joining, not configuring, the uts ns
    bundle.add_namespace("uts", f"/proc/{ns_holder}/ns/uts")
    bundle.add_namespace("ipc", f"/proc/{ns_holder}/ns/ipc")
    seen = ns_of(runtime, bundle, cid)
    assert seen["uts"] == os.stat(f"/proc/{ns_holder}/ns/uts").st_ino
    assert seen["ipc"] == os.stat(f"/proc/{ns_holder}/ns/ipc").st_ino


def test_join_other_container_namespaces(runtime, make_bundle):
    a_id, b_id = unique("a"), unique("b")
    a = make_bundle()
    st = runtime.create_started(a_id, a)
    pid = st["pid"]
    b = make_bundle()
    for t in ("network", "ipc", "uts", "pid"):
        b.add_namespace(t, f"/proc/{pid}/ns/{NS_FILE[t]}")
    b.sh("/init ns; /init pid")
    kv = parse_kv(runtime.run(b_id, b).ok().stdout)
    for t in ("network", "ipc", "uts", "pid"):
        assert int(kv[f"ns.{NS_FILE[t]}"]) == os.stat(f"/proc/{pid}/ns/{NS_FILE[t]}").st_ino
    assert int(kv["ns.mnt"]) != os.stat(f"/proc/{pid}/ns/mnt").st_ino
    assert kv["pid"] != "1", "a process joining a pid namespace is not its init"


def test_hostname_in_joined_uts_namespace(runtime, bundle, cid, ns_holder):
    bundle.add_namespace("uts", f"/proc/{ns_holder}/ns/uts")
    bundle.config["hostname"] = "joined-host"
    bundle.args = ["/init", "hostname"]
    r = runtime.run(cid, bundle).ok()
    assert parse_kv(r.stdout)["hostname"] == "joined-host"
    out = subprocess.run(
        ["nsenter", f"--uts=/proc/{ns_holder}/ns/uts", "hostname"],
        capture_output=True, text=True, timeout=10,
    ).stdout.strip()
    assert out == "joined-host"


def test_join_nonexistent_path_fails(runtime, bundle, cid):
    bundle.add_namespace("network", "/proc/999999999/ns/net")
    r = runtime.create(cid, bundle).failed()
    assert r.stderr.strip()
    assert runtime.state_result(cid).returncode != 0


def test_join_wrong_namespace_type_fails(runtime, bundle, cid):
    bundle.add_namespace("network", "/proc/self/ns/uts")
    runtime.create(cid, bundle).failed()
    assert runtime.state_result(cid).returncode != 0


def test_hostname_requires_uts_namespace(runtime, bundle, cid):
    host = os.uname().nodename
    bundle.remove_namespace("uts")
    bundle.config["hostname"] = "must-not-apply"
    r = runtime.run(cid, bundle)
    assert r.returncode != 0, "setting hostname without a uts namespace must fail"
    assert os.uname().nodename == host


# ------------------------------------------ no mount namespace of its own
#
# runtime-spec: a namespace type that is not listed is inherited from the
# runtime.  Without a mount namespace, the container shares the runtime's
# (the host's): skiff chroots into the rootfs (as runc does) and refuses
# whatever would need a mount, since it would be made on the host.


def _without_mountns(bundle):
    bundle.remove_namespace("mount")
    bundle.config["mounts"] = []
    bundle.config["root"]["readonly"] = False
    for key in ("maskedPaths", "readonlyPaths", "devices", "rootfsPropagation"):
        bundle.linux.pop(key, None)


def test_no_mount_namespace_chroots_and_mounts_nothing(runtime, bundle, cid):
    _without_mountns(bundle)
    (bundle.rootfs / "marker").write_text("rootfs\n")
    bundle.process["cwd"] = "/made/for/it"
    bundle.sh("cat /marker; pwd; test -e /proc/self && echo proc; true")
    before = open("/proc/self/mountinfo").read().count("\n")
    r = runtime.run(cid, bundle).ok()
    assert r.stdout == "rootfs\n/made/for/it\n", r.describe()
    assert open("/proc/self/mountinfo").read().count("\n") == before


def test_no_mount_namespace_exec_enters_the_rootfs(runtime, bundle, cid):
    _without_mountns(bundle)
    (bundle.rootfs / "marker").write_text("rootfs\n")
    bundle.args = ["sleep", "100"]
    runtime.create_started(cid, bundle)
    assert runtime.exec(cid, "cat", "/marker").ok().stdout == "rootfs\n"


@pytest.mark.parametrize("key,value,named", [
    ("mounts", [{"destination": "/proc", "type": "proc", "source": "proc"}], "mounts[0] (/proc)"),
    ("maskedPaths", ["/proc/kcore"], "linux.maskedPaths"),
    ("readonly", True, "root.readonly"),
])
def test_no_mount_namespace_refuses_mounts(runtime, bundle, cid, key, value, named):
    _without_mountns(bundle)
    if key == "mounts":
        bundle.config["mounts"] = value
    elif key == "readonly":
        bundle.config["root"]["readonly"] = value
    else:
        bundle.linux[key] = value
    r = runtime.create(cid, bundle).failed()
    assert f"no mount namespace, so {named} would be mounted in the runtime's own" in r.stderr, r.describe()
    assert runtime.state_dirs() == []
    c = runtime("check", "--bundle", str(bundle.save(cid)))
    assert c.returncode == 1 and named in c.stdout, c.describe()

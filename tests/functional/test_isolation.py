"""Isolation the default config promises: the default device nodes and
nothing else usable, a private /proc, no view of host processes."""

import pytest

from harness import parse_kv, parse_sections

DEFAULT_DEVICES = {
    "/dev/null": "1:3",
    "/dev/zero": "1:5",
    "/dev/full": "1:7",
    "/dev/random": "1:8",
    "/dev/urandom": "1:9",
    "/dev/tty": "5:0",
}


def test_default_devices(runtime, bundle, cid):
    script = "; echo ---; ".join(f"/init stat {d}" for d in DEFAULT_DEVICES)
    bundle.sh(script)
    sections = parse_sections(runtime.run(cid, bundle).ok().stdout)
    for (dev, rdev), st in zip(DEFAULT_DEVICES.items(), sections):
        assert st.get("type") == "char", (dev, st)
        assert st["rdev"] == rdev, (dev, st)
        assert st["mode"] == "0666", (dev, st)


def test_default_devices_usable(runtime, bundle, cid):
    bundle.sh("/init write /dev/null x; head -c 4 /dev/urandom | wc -c; head -c 3 /dev/zero | wc -c")
    out = runtime.run(cid, bundle).ok().stdout.split()
    assert out == ["errno=0", "4", "3"]


def test_dev_standard_links(runtime, bundle, cid):
    bundle.sh("for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done")
    links = runtime.run(cid, bundle).ok().stdout.split()
    assert links[:4] == ["/proc/self/fd", "/proc/self/fd/0", "/proc/self/fd/1", "/proc/self/fd/2"]
    assert links[4] in ("pts/ptmx", "/dev/pts/ptmx")


def test_no_host_devices(runtime, bundle, cid):
    bundle.sh("ls /dev")
    present = set(runtime.run(cid, bundle).ok().stdout.split())
    for host_only in ("sda", "vda", "mem", "kmem", "port", "kmsg"):
        assert host_only not in present


def test_device_cgroup_denies_made_node(runtime, bundle, cid):
    """Even with CAP_MKNOD, a node the device rules do not allow cannot be
    opened (here /dev/mem's numbers)."""
    for s in ("bounding", "permitted", "effective"):
        bundle.process["capabilities"][s].append("CAP_MKNOD")
    bundle.sh("mknod /dev/skiff-mem c 1 1 && /init read /dev/skiff-mem")
    r = runtime.run(cid, bundle)
    assert "errno=EPERM" in r.stdout, r.describe()


def test_allowed_device_in_config(runtime, bundle, cid):
    """linux.devices creates the node and the allow rule lets it be used."""
    bundle.linux["devices"] = [
        {"path": "/dev/skiff-null", "type": "c", "major": 1, "minor": 3,
         "fileMode": 0o640, "uid": 0, "gid": 0}
    ]
    bundle.linux["resources"]["devices"].append(
        {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rw"}
    )
    bundle.sh("/init stat /dev/skiff-null; /init write /dev/skiff-null x")
    kv = parse_kv(runtime.run(cid, bundle).ok().stdout)
    assert kv["type"] == "char" and kv["rdev"] == "1:3" and kv["mode"] == "0640"
    assert kv["errno"] == "0"


def test_host_processes_invisible(runtime, bundle, cid):
    bundle.sh("ls /proc | grep -E '^[0-9]+$'")
    pids = runtime.run(cid, bundle).ok().stdout.split()
    # sh (pid 1), ls and grep at most.
    assert "1" in pids and len(pids) <= 3, pids


def test_proc_is_private_mount(runtime, bundle, cid):
    bundle.args = ["/init", "mounts"]
    out = runtime.run(cid, bundle).ok().stdout
    procs = [line for line in out.splitlines() if line.split()[4] == "/proc"]
    assert procs, out
    assert " - proc " in procs[0]


@pytest.mark.parametrize("syscall", ["sethostname", "mount", "swapon"])
def test_default_caps_deny_admin_syscalls(runtime, bundle, cid, syscall):
    bundle.args = ["/init", "syscall", syscall]
    r = runtime.run(cid, bundle)
    assert r.returncode == 1 and "errno=EPERM" in r.stdout, r.describe()

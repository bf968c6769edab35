"""The container's network devices.

`linux.netDevices` (config-linux.md 1.3, "Network Devices"): each host
device named by a key is moved into the container's network namespace,
renamed to `name`, with its permanent addresses of global scope, and set
up; a device that cannot be moved fails create.  Delete does not move it
back (the spec: the runtime MUST NOT): a veth dies with a namespace of the
container's own, and stays in one joined by path.  A create that fails
returns what it moved (runtime.md: as if it was never attempted).

The loopback device of a new network namespace is up, as with runc and
crun (config-linux.md says nothing of it; a container whose `nc 127.0.0.1`
fails with "Network is unreachable" is of little use).

The devices are veth pairs (the dummy driver may be missing), with names
unique to the session; every test checks at teardown that none is left on
the host."""

from __future__ import annotations

import itertools
import json
import os
import subprocess

import pytest

from harness import RUNTIME, parse_kv, wait_for

# runc 1.1 and crun 1.8 (this host's) accept linux.netDevices and ignore it.
IGNORES_NETDEVICES = pytest.mark.xfail_runtime(
    "runc", "crun", reason="runc < 1.4 and crun < 1.22 ignore linux.netDevices"
)
_names = itertools.count(1)


def ip(*args, netns=None, check=True):
    argv = ["ip", *args] if netns is None else ["nsenter", f"--net={netns}", "ip", *args]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(argv)}: exit {r.returncode}\n{r.stderr}")
    return r


def link(name, netns=None) -> dict | None:
    """`ip -j addr show dev NAME` as a dict, None when there is no such
    device."""
    r = ip("-j", "addr", "show", "dev", name, netns=netns, check=False)
    return json.loads(r.stdout)[0] if r.returncode == 0 else None


def addrs(info: dict) -> set:
    return {f"{a['local']}/{a['prefixlen']}" for a in info.get("addr_info", [])}


@pytest.fixture
def veth(test_env):
    """veth(mtu=None, addrs=(), up=True) -> (host end, peer): a veth pair on
    the host, the first end configured.  Teardown deletes whatever is left
    of the pairs and fails the test if any device remains."""
    made = []

    def make(mtu=None, addresses=(), up=True):
        n = next(_names)
        a, b = f"skt{os.getpid()}a{n}", f"skt{os.getpid()}b{n}"
        assert len(a) < 16
        r = ip("link", "add", a, "type", "veth", "peer", "name", b, check=False)
        if r.returncode != 0 and "Unknown device type" in r.stderr:
            pytest.skip("this kernel has no veth driver (CONFIG_VETH; modprobe veth)")
        assert r.returncode == 0, r.stderr
        made.extend([a, b])
        if mtu:
            ip("link", "set", a, "mtu", str(mtu))
        for addr in addresses:
            ip("addr", "add", *addr.split(), "dev", a)
        if up:
            ip("link", "set", a, "up")
        return a, b

    def cleanup():
        for name in made:
            ip("link", "del", name, check=False)  # one end takes the other
        # A namespace's devices go with it asynchronously.
        wait_for(
            lambda: not any(link(n) for n in made),
            timeout=5,
            what=f"no test device left on the host ({made})",
        )

    test_env.add_cleanup(cleanup)
    return make


@pytest.fixture
def netns(test_env):
    """A network namespace held by a bind mount in the work dir (what `ip
    netns add` does); unmounted at teardown, which destroys what is in it."""
    path = test_env.workdir / "netns"
    path.touch()
    subprocess.run(["unshare", f"--net={path}", "true"], check=True, timeout=10)
    test_env.add_cleanup(lambda: subprocess.run(["umount", str(path)], check=True, timeout=10))
    return str(path)


# ------------------------------------------------------------------ lo


# A server on 127.0.0.1 that answers "pong" and closes, and a client that
# retries until it listens.
LOOPBACK_SCRIPT = """
echo "flags=$(cat /sys/class/net/lo/flags)"
nc -l -p 5555 -e echo pong &
for i in $(seq 1 50); do
  reply=$(nc 127.0.0.1 5555 </dev/null 2>/dev/shm/err) && [ -n "$reply" ] && break
  sleep 0.1
done
[ -n "$reply" ] || kill $!
echo "reply=$reply"
echo "err=$(cat /dev/shm/err)"
"""


def test_loopback_up_in_new_network_namespace(runtime, bundle, cid):
    bundle.sh(LOOPBACK_SCRIPT)
    kv = parse_kv(runtime.run(cid, bundle).ok().stdout)
    assert int(kv["flags"], 16) & 0x1, kv  # IFF_UP
    assert kv["reply"] == "pong", kv


def test_loopback_of_joined_namespace_left_alone(runtime, bundle, cid, netns):
    """A namespace joined by path is its owner's to configure."""
    bundle.add_namespace("network", netns)
    bundle.sh("cat /sys/class/net/lo/flags")
    assert int(runtime.run(cid, bundle).ok().stdout, 16) & 0x1 == 0


# ------------------------------------------------------------ netDevices

INSIDE = """
echo "mtu=$(cat /sys/class/net/ctr0/mtu)"
echo "flags=$(cat /sys/class/net/ctr0/flags)"
echo "links=$(ls /sys/class/net | tr '\\n' ' ')"
ip -o addr show dev ctr0
"""


@IGNORES_NETDEVICES
def test_net_device_moved_renamed_with_addresses(runtime, bundle, cid, veth):
    dev, peer = veth(
        mtu=1400,
        addresses=["192.0.2.7/24", "2001:db8::7/64 nodad", "10.9.9.9/24 scope link"],
    )
    bundle.linux["netDevices"] = {dev: {"name": "ctr0"}}
    bundle.sh(INSIDE + "echo done")
    r = runtime.create(cid, bundle).ok()
    assert link(dev) is None, "the device is still on the host"
    assert link(peer), "its peer stays on the host"
    runtime.start(cid).ok()
    out = r.wait_output("done")
    kv = parse_kv(out)
    assert kv["mtu"] == "1400", out
    assert int(kv["flags"], 16) & 0x1, out  # the spec: set up once moved
    assert kv["links"].split() == ["ctr0", "lo"], out
    assert "inet 192.0.2.7/24" in out and "inet6 2001:db8::7/64" in out, out
    # Only permanent addresses of global scope travel (the spec's rule).
    assert "10.9.9.9" not in out, out
    runtime.wait_status(cid, "stopped")
    runtime.delete(cid).ok()
    # Not moved back: the namespace took the veth (and its peer) with it.
    wait_for(lambda: link(dev) is None and link(peer) is None, what="the veth pair to go")


@IGNORES_NETDEVICES
def test_sysctl_of_moved_device(runtime, bundle, cid, veth):
    """The devices are moved before the init goes on: the config's sysctls
    of a moved device find it."""
    dev, _ = veth()
    bundle.linux["netDevices"] = {dev: {"name": "ctr0"}}
    bundle.linux["sysctl"] = {"net.ipv4.conf.ctr0.forwarding": "1"}
    bundle.sh("cat /proc/sys/net/ipv4/conf/ctr0/forwarding")
    assert runtime.run(cid, bundle).ok().stdout.strip() == "1"


@IGNORES_NETDEVICES
def test_net_device_keeps_its_name_without_name(runtime, bundle, cid, veth):
    dev, _ = veth()
    bundle.linux["netDevices"] = {dev: {}}
    bundle.sh(f"cat /sys/class/net/{dev}/flags")
    assert int(runtime.run(cid, bundle).ok().stdout, 16) & 0x1


@IGNORES_NETDEVICES
def test_net_device_name_template(runtime, bundle, cid, veth):
    first, _ = veth()
    second, _ = veth()
    bundle.linux["netDevices"] = {first: {"name": "ctr%d"}, second: {"name": "ctr%d"}}
    bundle.sh("ls /sys/class/net | tr '\\n' ' '")
    assert runtime.run(cid, bundle).ok().stdout.split() == ["ctr0", "ctr1", "lo"]


@IGNORES_NETDEVICES
def test_net_device_in_user_namespace(runtime, bundle, cid, veth):
    dev, _ = veth(addresses=["192.0.2.9/24"])
    bundle.add_namespace("user")
    bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.linux["netDevices"] = {dev: {"name": "ctr0"}}
    bundle.sh("ip -o addr show dev ctr0")
    assert "inet 192.0.2.9/24" in runtime.run(cid, bundle).ok().stdout


@IGNORES_NETDEVICES
def test_net_device_stays_in_joined_namespace_after_delete(runtime, bundle, cid, veth, netns):
    """The spec: the runtime MUST NOT move it out before deletion."""
    dev, _ = veth(addresses=["192.0.2.8/24"])
    bundle.add_namespace("network", netns)
    bundle.linux["netDevices"] = {dev: {"name": "ctr0"}}
    bundle.args = ["/init", "ready"]
    runtime.create(cid, bundle).ok()
    runtime.delete(cid, force=True).ok()
    inside = link("ctr0", netns=netns)
    assert inside and "192.0.2.8/24" in addrs(inside), inside
    assert link(dev) is None


@pytest.mark.skiff_only
def test_net_device_missing_fails_create(runtime, bundle, cid, veth):
    dev, _ = veth(addresses=["192.0.2.10/24"])
    bundle.linux["netDevices"] = {dev: {"name": "ctr0"}, "sktnodev0": {}}
    r = runtime.create(cid, bundle).failed()
    assert 'linux.netDevices["sktnodev0"]: no such network device on the host' in r.stderr
    assert "does not exist" in runtime("state", cid).failed().stderr
    assert "192.0.2.10/24" in addrs(link(dev)), "the other device was touched"


@pytest.mark.skiff_only
@pytest.mark.parametrize(
    "step", ["net-devices", "init-early", "runtime-hooks", "init-ready", "finish"]
)
def test_failed_create_returns_net_devices(runtime, bundle, cid, veth, step):
    """runtime.md: a failed create leaves the host as it was; the device
    comes back under its name, with its addresses, MTU and state."""
    dev, _ = veth(mtu=1400, addresses=["192.0.2.11/24", "2001:db8::11/64 nodad"])
    bundle.linux["netDevices"] = {dev: {"name": "ctr0"}}
    r = runtime.create(cid, bundle, env={"SKIFF_TEST_FAIL_AT": step}).failed()
    assert f"fault injected at `{step}`" in r.stderr
    back = link(dev)
    assert back, f"{dev} did not come back to the host"
    assert back["mtu"] == 1400 and "UP" in back["flags"], back
    assert {"192.0.2.11/24", "2001:db8::11/64"} <= addrs(back), back


@pytest.mark.skiff_only
def test_name_taken_in_container_fails_and_returns_the_others(runtime, bundle, cid, veth, netns):
    """The spec: an error when the name exists in the container's
    namespace.  The device moved before it comes back."""
    first, _ = veth(addresses=["192.0.2.12/24"])
    second, _ = veth()
    ip("link", "add", "taken0", "type", "veth", "peer", "name", "taken1", netns=netns)
    bundle.add_namespace("network", netns)
    bundle.linux["netDevices"] = {first: {"name": "ctr0"}, second: {"name": "taken0"}}
    r = runtime.create(cid, bundle).failed()
    assert (
        f'linux.netDevices["{second}"]: the container\'s network namespace already has a '
        "device named `taken0`" in r.stderr
    ), r.stderr
    assert "192.0.2.12/24" in addrs(link(first))
    assert link(second)
    assert link("ctr0", netns=netns) is None


@pytest.mark.skiff_only
@pytest.mark.parametrize(
    "devices, message",
    [
        ({"DEV": {"name": "a/b"}}, 'linux.netDevices["DEV"].name: `a/b` is not a network device name'),
        ({"DEV": {"name": "x" * 16}}, "longer than 15 bytes"),
        ({"DEV": {"name": "has space"}}, "has '/', ':' or white space"),
        ({"DEV": {"name": "c%s"}}, "not one \"%d\" template"),
        ({"DEV": {"name": "lo"}}, 'linux.netDevices["DEV"].name: `lo` is taken'),
        ({"lo": {}}, 'linux.netDevices["lo"]: the loopback device cannot leave'),
        (
            {"DEV": {"name": "ctr0"}, "DEV2": {"name": "ctr0"}},
            'linux.netDevices["DEV2"].name: `ctr0` is also the name of linux.netDevices["DEV"]',
        ),
    ],
)
def test_invalid_net_device_names_refused(runtime, bundle, cid, veth, devices, message):
    dev, other = veth(addresses=["192.0.2.13/24"])
    names = {"DEV": dev, "DEV2": other}
    bundle.linux["netDevices"] = {names.get(k, k): v for k, v in devices.items()}
    r = runtime.create(cid, bundle).failed()
    assert message.replace("DEV2", other).replace("DEV", dev) in r.stderr, r.stderr
    assert "192.0.2.13/24" in addrs(link(dev))


@pytest.mark.skiff_only
def test_net_devices_need_a_network_namespace(runtime, bundle, cid, veth):
    dev, _ = veth()
    bundle.remove_namespace("network")
    bundle.linux["netDevices"] = {dev: {}}
    r = runtime.create(cid, bundle).failed()
    assert "linux.netDevices: moving network devices needs a network namespace" in r.stderr
    assert link(dev)


@pytest.mark.skiff_only
def test_net_devices_refuse_the_runtimes_own_namespace(runtime, bundle, cid, veth):
    dev, _ = veth()
    bundle.add_namespace("network", "/proc/self/ns/net")
    bundle.linux["netDevices"] = {dev: {"name": "ctr0"}}
    r = runtime.create(cid, bundle).failed()
    assert "is the runtime's own" in r.stderr
    assert link(dev) and link("ctr0") is None


@IGNORES_NETDEVICES
def test_features_net_devices_enabled():
    out = subprocess.run([RUNTIME, "features"], capture_output=True, text=True, timeout=30)
    assert json.loads(out.stdout)["linux"]["netDevices"] == {"enabled": True}

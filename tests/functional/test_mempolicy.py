"""linux.memoryPolicy (runtime-spec 1.3): the NUMA memory policy of the
container's processes, as they see it (get_mempolicy(2) through /init
mempolicy, and /proc/self/numa_maps), and the refusal of what the kernel
would refuse or apply only in part.  The positive tests use a node this
host has (node 0 here); without NUMA the tests assert skiff's error."""

import json
import sys

import pytest

import host
from harness import parse_kv
from test_errors import assert_no_leftovers, create_fails

# runc 1.1 and crun 1.8 have no linux.memoryPolicy; the wording is skiff's.
pytestmark = pytest.mark.skiff_only

NODE = host.numa_node_with_memory()
needs_numa = pytest.mark.skipif(NODE is None, reason="no NUMA node with memory (CONFIG_NUMA)")


def policy(mode, nodes=None, flags=None):
    p = {"mode": mode}
    if nodes is not None:
        p["nodes"] = nodes
    if flags:
        p["flags"] = list(flags)
    return p


def seen(runtime, bundle, cid, **kw):
    """What the container's process sees: get_mempolicy, and the policy
    numa_maps shows for its first mapping (the task's, for a mapping
    without one of its own)."""
    bundle.sh("/init mempolicy; /init read /proc/self/numa_maps")
    out = runtime.run(cid, bundle, **kw).ok().stdout
    kv = parse_kv(out)
    maps = [line for line in out.splitlines() if line.split() and "=" not in line.split()[0]]
    kv["numa_maps"] = maps[0].split()[1] if maps else ""
    return kv


# ------------------------------------------------------------ applied


@needs_numa
@pytest.mark.parametrize(
    "mode, shown",
    [("MPOL_BIND", "bind"), ("MPOL_INTERLEAVE", "interleave"), ("MPOL_PREFERRED", "prefer")],
)
def test_mode_with_a_node(runtime, bundle, cid, mode, shown):
    bundle.linux["memoryPolicy"] = policy(mode, str(NODE))
    kv = seen(runtime, bundle, cid)
    assert (kv["mode"], kv["nodes"], kv["flags"]) == (mode, str(NODE), ""), kv
    assert kv["numa_maps"] == f"{shown}:{NODE}", kv


@needs_numa
@pytest.mark.parametrize("mode", ["MPOL_PREFERRED_MANY", "MPOL_WEIGHTED_INTERLEAVE"])
def test_newer_modes(runtime, bundle, cid, mode):
    """Modes of newer kernels: applied, or refused naming what the kernel
    lacks."""
    bundle.linux["memoryPolicy"] = policy(mode, str(NODE))
    if not host.mempolicy_supported(mode):
        r = create_fails(runtime, bundle, cid)
        assert f"linux.memoryPolicy: set_mempolicy {mode} (" in r.stderr, r.stderr
        return
    kv = seen(runtime, bundle, cid)
    assert (kv["mode"], kv["nodes"]) == (mode, str(NODE)), kv


@needs_numa
def test_local(runtime, bundle, cid):
    bundle.linux["memoryPolicy"] = policy("MPOL_LOCAL")
    kv = seen(runtime, bundle, cid)
    assert (kv["mode"], kv["nodes"], kv["numa_maps"]) == ("MPOL_LOCAL", "", "local"), kv


@needs_numa
def test_preferred_without_nodes_is_local(runtime, bundle, cid):
    """set_mempolicy(2): MPOL_PREFERRED with an empty set is local
    allocation."""
    bundle.linux["memoryPolicy"] = policy("MPOL_PREFERRED", "")
    assert seen(runtime, bundle, cid)["mode"] == "MPOL_LOCAL"


# The runtime itself under a bind policy (as `numactl --membind` would put
# it): its children inherit it unless the container says otherwise.
BOUND_RUNTIME = (
    "import ctypes, os, platform, sys; "
    "nr = {'x86_64': 238, 'aarch64': 237}[platform.machine()]; "
    "node = int(sys.argv[1]); m = (ctypes.c_ulong * 64)(); m[node // 64] = 1 << (node % 64); "
    "assert ctypes.CDLL(None).syscall(nr, 2, m, ctypes.c_ulong(node + 2)) == 0; "
    "os.execv(sys.argv[2], sys.argv[2:])"
)


@needs_numa
def test_default_resets_the_runtimes_policy(runtime, bundle, cid):
    wrap = [sys.executable, "-c", BOUND_RUNTIME, str(NODE)]
    assert seen(runtime, bundle, cid, wrap=wrap)["mode"] == "MPOL_BIND"  # inherited
    bundle.linux["memoryPolicy"] = policy("MPOL_DEFAULT")
    kv = seen(runtime, bundle, f"{cid}-2", wrap=wrap)
    assert (kv["mode"], kv["numa_maps"]) == ("MPOL_DEFAULT", "default"), kv


@needs_numa
@pytest.mark.parametrize(
    "flag, shown",
    [
        ("MPOL_F_STATIC_NODES", "bind=static"),
        ("MPOL_F_RELATIVE_NODES", "bind=relative"),
        ("MPOL_F_NUMA_BALANCING", "bind=balancing"),
    ],
)
def test_flags(runtime, bundle, cid, flag, shown):
    bundle.linux["memoryPolicy"] = policy("MPOL_BIND", str(NODE), [flag])
    if not host.mempolicy_supported("MPOL_BIND", (flag,)):
        r = create_fails(runtime, bundle, cid)
        assert "linux.memoryPolicy: set_mempolicy MPOL_BIND (" in r.stderr, r.stderr
        return
    kv = seen(runtime, bundle, cid)
    assert (kv["mode"], kv["flags"], kv["nodes"]) == ("MPOL_BIND", flag, str(NODE)), kv
    assert kv["numa_maps"] == f"{shown}:{NODE}", kv


@needs_numa
def test_relative_nodes_are_positions(runtime, bundle, cid):
    """With MPOL_F_RELATIVE_NODES a node is a position in the allowed set,
    folded onto it: not checked against the host's node numbers."""
    absent = host.absent_numa_node()
    bundle.linux["memoryPolicy"] = policy("MPOL_BIND", str(absent), ["MPOL_F_RELATIVE_NODES"])
    kv = seen(runtime, bundle, cid)
    assert (kv["mode"], kv["flags"], kv["nodes"]) == ("MPOL_BIND", "MPOL_F_RELATIVE_NODES", str(absent))


@needs_numa
def test_exec_gets_the_policy(runtime, bundle, cid):
    """A process exec'd into the container is under its policy too."""
    bundle.linux["memoryPolicy"] = policy("MPOL_INTERLEAVE", str(NODE))
    runtime.create_started(cid, bundle)
    kv = parse_kv(runtime.exec(cid, "/init", "mempolicy").ok().stdout)
    assert (kv["mode"], kv["nodes"]) == ("MPOL_INTERLEAVE", str(NODE)), kv


# ------------------------------------------------------------ refused


@needs_numa
def test_absent_node(runtime, bundle, cid):
    """The kernel would bind to the nodes it has and drop the other one
    without a word."""
    absent = host.absent_numa_node()
    bundle.linux["memoryPolicy"] = policy("MPOL_BIND", f"{NODE},{absent}")
    r = create_fails(runtime, bundle, cid)
    assert f"linux.memoryPolicy.nodes: node {absent} does not exist on this host" in r.stderr


@needs_numa
def test_absent_static_node(runtime, bundle, cid):
    absent = host.absent_numa_node()
    bundle.linux["memoryPolicy"] = policy("MPOL_BIND", str(absent), ["MPOL_F_STATIC_NODES"])
    r = create_fails(runtime, bundle, cid)
    assert f"linux.memoryPolicy.nodes: node {absent} does not exist on this host" in r.stderr


@pytest.mark.parametrize("nodes", ["0-", "a", "1-0", "0,,1", " 0", "0 ", "-1", "0:2", ","])
def test_bad_nodes_syntax(runtime, bundle, cid, nodes):
    bundle.linux["memoryPolicy"] = policy("MPOL_BIND", nodes)
    r = create_fails(runtime, bundle, cid)
    assert f"linux.memoryPolicy.nodes: `{nodes}` is not a list of nodes" in r.stderr, r.stderr


def test_node_beyond_any_kernel(runtime, bundle, cid):
    bundle.linux["memoryPolicy"] = policy("MPOL_BIND", "0,5000", ["MPOL_F_RELATIVE_NODES"])
    r = create_fails(runtime, bundle, cid)
    assert "linux.memoryPolicy.nodes: node 5000 is beyond 4095" in r.stderr, r.stderr


@pytest.mark.parametrize(
    "config, needle",
    [
        (policy("MPOL_BIND"), "linux.memoryPolicy.nodes: MPOL_BIND needs at least one node"),
        (policy("MPOL_INTERLEAVE", ""), "linux.memoryPolicy.nodes: MPOL_INTERLEAVE needs at least one node"),
        (policy("MPOL_PREFERRED_MANY"), "linux.memoryPolicy.nodes: MPOL_PREFERRED_MANY needs at least one node"),
        (policy("MPOL_DEFAULT", "0"), "linux.memoryPolicy.nodes: MPOL_DEFAULT takes no nodes"),
        (policy("MPOL_LOCAL", "0"), "linux.memoryPolicy.nodes: MPOL_LOCAL takes no nodes"),
        (
            policy("MPOL_PREFERRED", "0,1"),
            "linux.memoryPolicy.nodes: MPOL_PREFERRED takes one node, and the kernel would use only the first",
        ),
        (
            policy("MPOL_BIND", "0", ["MPOL_F_STATIC_NODES", "MPOL_F_RELATIVE_NODES"]),
            "linux.memoryPolicy.flags[1]: MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other",
        ),
        (
            policy("MPOL_INTERLEAVE", "0", ["MPOL_F_NUMA_BALANCING"]),
            "linux.memoryPolicy.flags[0]: MPOL_F_NUMA_BALANCING goes with mode MPOL_BIND or "
            "MPOL_PREFERRED_MANY, not MPOL_INTERLEAVE",
        ),
        (
            policy("MPOL_DEFAULT", None, ["MPOL_F_STATIC_NODES"]),
            "linux.memoryPolicy.flags[0]: MPOL_F_STATIC_NODES qualifies the nodes, and MPOL_DEFAULT has none",
        ),
        (
            policy("MPOL_LOCAL", None, ["MPOL_F_RELATIVE_NODES"]),
            "linux.memoryPolicy.flags[0]: MPOL_F_RELATIVE_NODES qualifies the nodes, and MPOL_LOCAL has none",
        ),
        (
            policy("MPOL_PREFERRED", "", ["MPOL_F_STATIC_NODES"]),
            "linux.memoryPolicy.flags[0]: MPOL_F_STATIC_NODES qualifies the nodes, and MPOL_PREFERRED has none",
        ),
        (policy("MPOL_NOSUCH", "0"), "linux.memoryPolicy.mode"),
        (policy("MPOL_BIND", "0", ["MPOL_F_NOSUCH"]), "linux.memoryPolicy.flags[0]"),
    ],
)
def test_combination_refused(runtime, bundle, cid, config, needle):
    """What set_mempolicy(2) refuses, or takes and applies in part."""
    bundle.linux["memoryPolicy"] = config
    r = create_fails(runtime, bundle, cid)
    assert needle in r.stderr, r.stderr


@needs_numa
def test_node_outside_the_cpuset_fails_in_the_init(runtime, bundle, cid):
    """A host with a second node (simulated): the runtime lets node 1
    through, the init finds it outside its cpuset, where the kernel would
    drop it, and create fails with that reason, leaving nothing."""
    other = host.absent_numa_node()
    bundle.linux["memoryPolicy"] = policy("MPOL_BIND", f"{NODE},{other}")
    r = runtime.create(cid, bundle, env={"SKIFF_TEST_NUMA_ONLINE": f"{NODE},{other}"}).failed()
    assert f"linux.memoryPolicy.nodes: node {other} is not one the container may use" in r.stderr, r.stderr
    assert_no_leftovers(runtime, cid)


@needs_numa
def test_kernel_refusal_fails_create(runtime, bundle, cid):
    """A static node the kernel cannot use at all: its EINVAL, from the
    init, names the key."""
    other = host.absent_numa_node()
    bundle.linux["memoryPolicy"] = policy("MPOL_BIND", str(other), ["MPOL_F_STATIC_NODES"])
    r = runtime.create(cid, bundle, env={"SKIFF_TEST_NUMA_ONLINE": f"{NODE},{other}"}).failed()
    assert "linux.memoryPolicy: set_mempolicy MPOL_BIND: Invalid argument" in r.stderr, r.stderr
    assert_no_leftovers(runtime, cid)


@pytest.mark.skipif(NODE is not None, reason="this host has NUMA nodes")
def test_no_numa_host(runtime, bundle, cid):
    bundle.linux["memoryPolicy"] = policy("MPOL_BIND", "0")
    r = create_fails(runtime, bundle, cid)
    assert "linux.memoryPolicy: this host has no NUMA memory policies" in r.stderr


# ------------------------------------------------------------ features, check


def test_features(runtime):
    f = json.loads(runtime("features").ok().stdout)["linux"]["memoryPolicy"]
    assert f["modes"] == [
        "MPOL_DEFAULT", "MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_WEIGHTED_INTERLEAVE",
        "MPOL_PREFERRED", "MPOL_PREFERRED_MANY", "MPOL_LOCAL",
    ]
    assert f["flags"] == ["MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES"]


@needs_numa
def test_plan_shows_the_policy(runtime, bundle, cid):
    bundle.linux["memoryPolicy"] = policy("MPOL_BIND", str(NODE), ["MPOL_F_STATIC_NODES"])
    bundle.save(cid)
    out = runtime("check", "--plan", "--bundle", bundle.path).ok().stdout
    early = out[out.index("before the mounts"):out.index("mounts, before the pivot")]
    assert f"memory policy MPOL_BIND, nodes {NODE}, flags MPOL_F_STATIC_NODES (set_mempolicy" in early, out


@needs_numa
def test_check_warns_about_an_absent_node(runtime, bundle, cid):
    """check is about the bundle: a node this host lacks is a warning
    there (create's error)."""
    absent = host.absent_numa_node()
    bundle.linux["memoryPolicy"] = policy("MPOL_BIND", f"{NODE},{absent}")
    bundle.save(cid)
    r = runtime("check", "--bundle", bundle.path)
    assert r.returncode == 0, r.describe()
    assert f"warning: linux.memoryPolicy.nodes: node {absent} does not exist on this host" in r.stdout

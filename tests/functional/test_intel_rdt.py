"""linux.intelRdt (runtime-spec 1.3: Intel RDT / AMD QoS through resctrl).

No machine or emulator these tests run on has resctrl (it needs a CPU with
RDT or QoS, and qemu's TCG emulates neither), so here they prove what the
spec requires of a host without it: create fails naming linux.intelRdt and
leaves nothing behind.  The positive path (groups, schemata, tasks,
monitoring, stats) is tested by tests/unit/test-resctrl against a
directory tree laid out like resctrl, and by the tests at the end of this
file, which run only where resctrl is mounted."""

import json
import os

import pytest

import host
from harness import IS_SKIFF, cgroup_leftovers, processes_of_test, wait_for

NO_MOUNT = "linux.intelRdt: this host has no resctrl filesystem mounted (Intel RDT / AMD QoS)"

needs_resctrl = pytest.mark.skipif(not host.resctrl_mounted(), reason=host.NO_RESCTRL)
without_resctrl = pytest.mark.skipif(
    host.resctrl_mounted(), reason="checks the refusal on a host without resctrl"
)


def assert_nothing_left(runtime, cid):
    assert runtime.state_result(cid).returncode != 0, "a failed container has no state"
    assert cid not in runtime.state_dirs(), f"state dir left: {runtime.state_dirs()}"
    assert not [c for c in cgroup_leftovers() if c.endswith("/" + cid)], "cgroup left"
    wait_for(
        lambda: not processes_of_test(runtime.token, runtime.workdir),
        timeout=3,
        what="no process of the failed container",
    )


# ------------------------------------------------- a host without resctrl

CONFIGS = {
    "empty": {},
    "closID": {"closID": "gold"},
    "l3CacheSchema": {"l3CacheSchema": "L3:0=ff"},
    "memBwSchema": {"memBwSchema": "MB:0=50"},
    "schemata": {"schemata": ["L3:0=ff", "MB:0=50"]},
    "enableMonitoring": {"enableMonitoring": True},
}


@without_resctrl
@pytest.mark.parametrize("name", CONFIGS)
def test_create_fails_without_resctrl(runtime, bundle, cid, name):
    """config-linux.md: with no resctrl mounted, intelRdt MUST be an error,
    whatever it asks for (even nothing); and a failed create leaves the
    host as it was (no state, no cgroup, no process)."""
    bundle.linux["intelRdt"] = CONFIGS[name]
    r = runtime.create(cid, bundle).failed()
    if IS_SKIFF:
        assert NO_MOUNT in r.stderr, r.describe()
    assert_nothing_left(runtime, cid)


@without_resctrl
def test_run_fails_without_resctrl(runtime, bundle, cid):
    bundle.args = ["/init", "exit", "0"]
    bundle.linux["intelRdt"] = {"closID": "gold", "l3CacheSchema": "L3:0=ff"}
    r = runtime.run(cid, bundle).failed()
    if IS_SKIFF:
        assert NO_MOUNT in r.stderr, r.describe()
    assert_nothing_left(runtime, cid)


@without_resctrl
@pytest.mark.skiff_only
def test_check_and_plan_without_resctrl(runtime, bundle, cid):
    """check warns as create would fail; --plan fails as create does."""
    bundle.linux["intelRdt"] = {"l3CacheSchema": "L3:0=ff"}
    path = bundle.save(cid)
    r = runtime("check", "--bundle", path, "--format", "json").ok()
    diags = json.loads(r.stdout)["diagnostics"]
    rdt = [d for d in diags if d["path"] == "linux.intelRdt"]
    assert len(rdt) == 1 and rdt[0]["severity"] == "warning", diags
    assert "no resctrl filesystem mounted" in rdt[0]["message"], rdt
    r = runtime("check", "--plan", "--bundle", path).failed()
    assert NO_MOUNT in r.stderr, r.describe()


# ----------------------------------------------- config errors, any host

BAD_CLOS_IDS = {
    "dotdot-path": "../../etc",
    "slash": "a/b",
    "absolute": "/etc",
    "dotdot": "..",
    "dot": ".",
    "empty": "",
    "info": "info",
    "mon_groups": "mon_groups",
    "too-long": "x" * 256,
}


@pytest.mark.skiff_only
@pytest.mark.parametrize("name", BAD_CLOS_IDS)
def test_bad_clos_id_is_refused(runtime, bundle, cid, name):
    """closID names one directory below the resctrl mount ("/" is its root
    group): anything else is refused before the host is asked."""
    bundle.linux["intelRdt"] = {"closID": BAD_CLOS_IDS[name]}
    r = runtime.create(cid, bundle).failed()
    assert "linux.intelRdt.closID: " in r.stderr, r.describe()
    assert "use a plain name" in r.stderr, r.describe()
    assert_nothing_left(runtime, cid)


@pytest.mark.skiff_only
@pytest.mark.parametrize(
    "rdt, key, words",
    [
        ({"memBwSchema": "L3:0=ff"}, "linux.intelRdt.memBwSchema", "must start with `MB:`"),
        ({"memBwSchema": "MB:0=50\nMB:1=50"}, "linux.intelRdt.memBwSchema", "one line"),
        ({"schemata": ["L3:0=ff", "MB:0=5\nL2:0=f"]}, "linux.intelRdt.schemata[1]", "one line"),
    ],
    ids=["membw-not-MB", "membw-newline", "schemata-newline"],
)
def test_bad_schema_is_refused(runtime, bundle, cid, rdt, key, words):
    """runtime-spec 1.3: memBwSchema MUST start with MB:, and neither it nor
    a schemata line may hold a newline."""
    bundle.linux["intelRdt"] = rdt
    r = runtime.create(cid, bundle).failed()
    assert f"{key}: " in r.stderr and words in r.stderr, r.describe()
    assert_nothing_left(runtime, cid)


# ------------------------------------------------------ update, features


@pytest.mark.skiff_only
def test_update_schemas_need_intel_rdt(runtime, bundle, cid):
    """--l3-cache-schema/--mem-bw-schema write to the container's resctrl
    group: a container created without linux.intelRdt has none (and this
    host may have no resctrl at all); nothing changes."""
    bundle.args = ["sleep", "1000"]
    bundle.linux["resources"]["pids"] = {"limit": 50}
    runtime.create_started(cid, bundle)
    for flag, key in (("--l3-cache-schema", "l3CacheSchema"), ("--mem-bw-schema", "memBwSchema")):
        r = runtime("update", flag, "L3:0=ff", "--pids-limit", "33", cid).failed()
        want = f"linux.intelRdt.{key}: the container was created without linux.intelRdt"
        assert want in r.stderr, r.describe()
        assert ("no resctrl filesystem mounted" in r.stderr) == (not host.resctrl_mounted())
    d = json.loads(runtime("events", "--stats", cid).ok().stdout)["data"]
    assert d["pids"]["limit"] == 50 and d["intel_rdt"] == {}
    # An empty schema is no request, as with runc.
    runtime("update", "--l3-cache-schema", "", "--pids-limit", "33", cid).ok()


@pytest.mark.skiff_only
def test_features_intel_rdt(runtime):
    """What skiff implements (features.md: not what this host has)."""
    f = json.loads(runtime("features").ok().stdout)
    assert f["linux"]["intelRdt"] == {"enabled": True, "schemata": True, "monitoring": True}


# ---------------------------------------- a host with resctrl (not here)


def rdt_root():
    return host.resctrl_root()


@needs_resctrl
def test_group_made_for_the_container_and_removed(runtime, bundle, cid):
    bundle.args = ["sleep", "1000"]
    bundle.linux["intelRdt"] = {}
    state = runtime.create_started(cid, bundle)
    group = rdt_root() / cid
    assert str(state["pid"]) in (group / "tasks").read_text().split()
    runtime.delete(cid, force=True).ok()
    assert not group.exists()


@needs_resctrl
def test_monitoring_group(runtime, bundle, cid):
    if not (rdt_root() / "mon_groups").is_dir():
        pytest.skip("this CPU has no resctrl monitoring")
    bundle.args = ["sleep", "1000"]
    bundle.linux["intelRdt"] = {"enableMonitoring": True}
    state = runtime.create_started(cid, bundle)
    mon = rdt_root() / cid / "mon_groups" / cid
    assert str(state["pid"]) in (mon / "tasks").read_text().split()
    assert "intel_rdt" in json.loads(runtime("events", "--stats", cid).ok().stdout)["data"]
    runtime.delete(cid, force=True).ok()
    assert not (rdt_root() / cid).exists()


@needs_resctrl
def test_existing_clos_id_is_joined_and_kept(runtime, bundle, cid):
    group = rdt_root() / f"skifftest-{cid}"
    os.mkdir(group)
    try:
        bundle.args = ["sleep", "1000"]
        bundle.linux["intelRdt"] = {"closID": group.name}
        state = runtime.create_started(cid, bundle)
        assert str(state["pid"]) in (group / "tasks").read_text().split()
        runtime.delete(cid, force=True).ok()
        assert group.is_dir(), "a closID group is never removed by delete"
    finally:
        os.rmdir(group)


@needs_resctrl
def test_missing_clos_id_without_schema_fails(runtime, bundle, cid):
    bundle.linux["intelRdt"] = {"closID": f"skifftest-missing-{cid}"}
    r = runtime.create(cid, bundle).failed()
    assert "linux.intelRdt.closID" in r.stderr, r.describe()
    assert_nothing_left(runtime, cid)


@needs_resctrl
@pytest.mark.skiff_only
@pytest.mark.parametrize("step", ["resctrl", "resctrl-enter"])
def test_create_fails_at_resctrl_step_and_unwinds(runtime, bundle, cid, step):
    bundle.linux["intelRdt"] = {}
    r = runtime.create(cid, bundle, env={"SKIFF_TEST_FAIL_AT": step}).failed()
    assert f"fault injected at `{step}`" in r.stderr, r.describe()
    assert not (rdt_root() / cid).exists()
    assert_nothing_left(runtime, cid)

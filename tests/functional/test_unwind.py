"""create unwinds completely: failing it at every step in turn, or killing
the runtime with SIGKILL there followed by `delete --force`, leaves the host
exactly as before (the autouse leak checker compares mounts, cgroups, state
and processes after each test)."""

import pytest

from harness import parse_kv

# Steps where skiff's create can be made to fail (SKIFF_TEST_FAIL_AT), in
# the order create reaches them.  Runtime side, then container side.
STEPS = [
    "state",
    "cgroup",
    "cgroup-enter",
    "net-devices",
    "init-early",
    "init-mounts",
    "runtime-hooks",
    "init-pivot",
    "init-ready",
    "finish",
]

pytestmark = pytest.mark.skiff_only


@pytest.mark.parametrize("step", STEPS)
def test_create_fails_at_step_and_unwinds(runtime, bundle, cid, step):
    r = runtime.create(cid, bundle, env={"SKIFF_TEST_FAIL_AT": step}).failed()
    assert f"fault injected at `{step}`" in r.stderr
    assert "does not exist" in runtime("state", cid).failed().stderr
    # The id is free again: a normal create works.
    runtime.create(cid, bundle).ok()
    runtime.start(cid).ok()
    assert runtime.status(cid) in ("running", "stopped")
    runtime.delete(cid, force=True).ok()


@pytest.mark.parametrize("step", STEPS)
def test_runtime_killed_at_step_then_delete_force(runtime, bundle, cid, step):
    r = runtime.create(cid, bundle, env={"SKIFF_TEST_KILL_AT": step})
    assert r.returncode != 0, r.describe()
    runtime.delete(cid, force=True).ok()
    assert "does not exist" in runtime("state", cid).failed().stderr


def test_failed_create_keeps_other_containers(runtime, make_bundle, cid):
    other = make_bundle()
    runtime.create(cid + "-other", other).ok()
    bad = make_bundle()
    runtime.create(cid, bad, env={"SKIFF_TEST_FAIL_AT": "init-mounts"}).failed()
    assert runtime.status(cid + "-other") == "created"
    runtime.delete(cid + "-other", force=True).ok()


def test_unwound_create_leaves_working_runtime(runtime, bundle, cid):
    bundle.args = ["/init", "pid"]
    runtime.create(cid, bundle, env={"SKIFF_TEST_FAIL_AT": "init-ready"}).failed()
    out = runtime.run(cid, bundle).ok().stdout
    assert parse_kv(out)["pid"] == "1"

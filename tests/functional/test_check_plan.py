"""`skiff check --plan`: the expected plan of a few bundles, and a real
container that does what its plan says (mounts, capabilities, hostname,
cgroup), so the plan cannot drift from what create does."""

import os
import re
import subprocess

import pytest

import mountinfo
from harness import CAPS, GLOBAL_ARGS, RUNTIME, TESTS_DIR, cap_mask, cgroup_path, parse_kv

PLANS = TESTS_DIR / "check" / "plan"
CHECK_DIR = TESTS_DIR / "check"

pytestmark = pytest.mark.skiff_only


def plan_of(bundle, cwd=None, global_args=()):
    r = subprocess.run(
        [RUNTIME, *global_args, "check", "--plan", "--bundle", str(bundle)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=cwd,
    )
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    return r.stdout


def normalize(text):
    """The parts that depend on where the tree is and on the host's cgroups."""
    text = text.replace(str(CHECK_DIR), "@CHECK@")
    return re.sub(r"\(\S+ manager, cgroup \S+ host", "(@MANAGER@ manager, cgroup @LAYOUT@ host", text)


@pytest.mark.parametrize("name", sorted(p.name for p in PLANS.iterdir() if p.is_dir()))
def test_expected_plan(name):
    got = normalize(plan_of(PLANS / name))
    expected = PLANS / name / "expected"
    if os.environ.get("SKIFF_UPDATE_EXPECTED") == "1":
        expected.write_text(got)
    assert got == expected.read_text()


def test_plan_refuses_a_broken_bundle():
    r = subprocess.run(
        [RUNTIME, "check", "--plan", "--bundle", str(CHECK_DIR / "duplicate-namespace")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 1
    assert "linux.namespaces[5]: duplicate namespace `pid`" in r.stderr


# ------------------------------------------------------- plan vs reality

OP = re.compile(
    r"^\s+\d+\. (propagation|bind rootfs|bind|mount|cgroup|remount|devices|symlinks|console"
    r"|pivot|readonly root|readonly|mask)\s+(\S+)(?: type=(\S+))?"
)


def planned_mounts(plan):
    ops = []
    for line in plan.splitlines():
        m = OP.match(line)
        if m:
            ops.append((m[1], m[2], m[3]))
    return ops


def planned_caps(plan):
    caps = {}
    for line in plan.splitlines():
        m = re.match(r"^\s+capabilities\.(\w+): (.*)$", line)
        if m:
            caps[m[1]] = [] if m[2] == "(none)" else m[2].split()
    return caps


def test_container_matches_plan(runtime, bundle, cid):
    bundle.add_tmpfs("/scratch")
    bundle.add_mount("/data", bundle.path / "rootfs" / "etc", options=["rbind", "ro"])
    bundle.process["capabilities"]["inheritable"] = ["CAP_KILL"]
    bundle.process["capabilities"]["ambient"] = ["CAP_KILL", "CAP_AUDIT_WRITE"]
    bundle.sh("/init mounts; echo ---; /init caps; echo ---; /init hostname")
    bundle.save(cid)
    plan = plan_of(bundle.path, global_args=GLOBAL_ARGS)
    r = runtime.run(cid, bundle).ok()
    mounts_text, caps_text, host_text = r.stdout.split("\n---\n")
    mounts = {m.point: m for m in mountinfo.parse(mounts_text)}

    ops = planned_mounts(plan)
    assert ops, plan
    cgroup_dests = [d for k, d, _ in ops if k == "cgroup"]
    for kind, dest, fstype in ops:
        if kind == "mount":
            assert dest in mounts, f"planned {dest} ({fstype}) is not mounted:\n{plan}"
            assert mounts[dest].fstype == fstype, (dest, mounts[dest])
        elif kind == "bind":
            assert dest in mounts, f"planned bind on {dest} is not mounted"
        elif kind == "readonly":
            if dest in mounts:
                assert "ro" in mounts[dest].opts, (dest, mounts[dest])
        elif kind == "readonly root":
            assert "ro" in mounts["/"].opts
    planned = {d for k, d, _ in ops if k in ("mount", "bind", "cgroup", "mask", "readonly")}
    for point in mounts:
        if point == "/" or any(point.startswith(c + "/") for c in cgroup_dests):
            continue
        assert point in planned, f"{point} is mounted but not in the plan:\n{plan}"

    caps = parse_kv(caps_text)
    want = planned_caps(plan)
    for field, key in [
        ("bounding", "CapBnd"),
        ("effective", "CapEff"),
        ("inheritable", "CapInh"),
        ("permitted", "CapPrm"),
        ("ambient", "CapAmb"),
    ]:
        assert int(caps[key], 16) == cap_mask(want[field]), (field, caps, want)
    assert want["ambient"] == ["CAP_KILL"], "CAP_AUDIT_WRITE is not inheritable: not raised"

    assert f'hostname "{parse_kv(host_text)["hostname"]}"' in plan
    cgroup = cgroup_path(bundle)
    assert f"cgroup {cgroup} (" in plan


def test_plan_names_the_resolved_program(bundle, cid):
    bundle.args = ["sh", "-c", "true"]
    bundle.save(cid)
    plan = plan_of(bundle.path)
    assert re.search(r'process\.args\[0\] "sh" -> /\S+/sh', plan), plan
    bundle.args = ["no-such-program"]
    bundle.save(cid)
    plan = plan_of(bundle.path)
    assert "`no-such-program`: executable file not found in the container's $PATH" in plan


def test_plan_is_not_json():
    r = subprocess.run(
        [RUNTIME, "check", "--plan", "--format", "json", "--bundle", str(PLANS / "basic")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode != 0 and "--plan" in r.stderr


assert CAPS  # the harness's capability numbers, used by cap_mask

"""Attack class: ids that wrap to root.

setresuid(-1, -1, -1) and setresgid(-1, ...) mean "leave unchanged": a
process asked to run as 4294967295 ((uid_t)-1) would keep the runtime's
uid 0.  strtoul() takes "-1" and wraps 4294967296 to 0.  skiff refuses
those values wherever an id enters (config.json, exec --user,
--additional-gids, exec --process) and checks the ids after the switch."""

from __future__ import annotations


import pytest

from harness import IS_SKIFF, parse_kv

MINUS_ONE = 4294967295


def assert_refused(r, where):
    r.failed()
    if IS_SKIFF:
        assert where in r.stderr, r.describe()
        assert "4294967295" in r.stderr or "-1" in r.stderr, r.describe()


@pytest.mark.parametrize(
    "uid, gid",
    [(MINUS_ONE, MINUS_ONE), (1000, MINUS_ONE), (MINUS_ONE, 1000)],
)
def test_config_id_minus_one_is_refused(runtime, bundle, cid, uid, gid):
    bundle.process["user"] = {"uid": uid, "gid": gid}
    bundle.args = ["/init", "ids"]
    r = runtime.run(cid, bundle)
    assert_refused(r, "process.user.uid" if uid == MINUS_ONE else "process.user.gid")
    assert runtime.state_dirs() == []


def test_additional_gid_minus_one_is_refused(runtime, bundle, cid):
    bundle.process["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [MINUS_ONE]}
    bundle.args = ["/init", "ids"]
    assert_refused(runtime.run(cid, bundle), "process.user.additionalGids[0]")


@pytest.mark.skiff_only
def test_check_names_the_id_with_its_position(runtime, bundle):
    bundle.process["user"] = {"uid": 1000, "gid": MINUS_ONE}
    r = runtime("check", "--bundle", str(bundle.save()))
    assert r.returncode == 1, r.describe()
    assert "process.user.gid: integer 4294967295 out of range for a uid or gid" in r.stdout, r.describe()
    assert "config.json:" in r.stdout.split("process.user.gid")[0].splitlines()[-1], r.stdout


@pytest.mark.parametrize(
    "spec",
    [
        "4294967295:4294967295",
        "1000:4294967295",
        "-1",
        "-1:-1",
        pytest.param("4294967296", marks=pytest.mark.xfail_runtime("runc", reason="runc 1.1 wraps it to 0")),
        pytest.param("1000:4294967296", marks=pytest.mark.xfail_runtime("runc", reason="runc 1.1 wraps it to 0")),
    ],
)
def test_exec_user_that_wraps_is_refused(runtime, bundle, cid, spec):
    bundle.args = ["sleep", "1000"]
    runtime.create_started(cid, bundle)
    r = runtime.exec(cid, "/init", "ids", opts=["--user", spec])
    r.failed()
    if IS_SKIFF:
        assert f"--user `{spec}`" in r.stderr and "4294967294" in r.stderr, r.describe()


def test_exec_additional_gid_that_wraps_is_refused(runtime, bundle, cid):
    bundle.args = ["sleep", "1000"]
    runtime.create_started(cid, bundle)
    r = runtime.exec(cid, "/init", "ids", opts=["--user", "1000:1000", "--additional-gids", "-1"])
    r.failed()
    if IS_SKIFF:
        assert "--additional-gids `-1`" in r.stderr, r.describe()


def test_exec_process_json_id_minus_one_is_refused(runtime, bundle, cid):
    bundle.args = ["sleep", "1000"]
    runtime.create_started(cid, bundle)
    proc = bundle.process_json(args=["/init", "ids"], user={"uid": MINUS_ONE, "gid": MINUS_ONE})
    r = runtime.exec(cid, opts=["--process", str(proc)])
    assert_refused(r, "user.uid")


@pytest.mark.xfail_runtime("runc", reason="runc 1.1 limits ids to 0-2147483647")
def test_largest_id_runs(runtime, bundle, cid):
    """4294967294 is a valid id: the process runs as exactly that."""
    bundle.process["user"] = {"uid": MINUS_ONE - 1, "gid": MINUS_ONE - 1}
    bundle.args = ["/init", "ids"]
    kv = parse_kv(runtime.run(cid, bundle).ok().stdout)
    assert kv["uid"] == kv["euid"] == str(MINUS_ONE - 1), kv
    assert kv["gid"] == kv["egid"] == str(MINUS_ONE - 1), kv

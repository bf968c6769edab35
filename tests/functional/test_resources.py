"""A smoke test of linux.resources through the helper's fork-bomb and hog
(the cgroup suite proper belongs to the cgroup work; this keeps the helper
and the harness honest)."""

import signal

import pytest

import host
from harness import cgroup_path, parse_kv


def test_pids_limit(runtime, bundle, cid):
    bundle.linux["resources"]["pids"] = {"limit": 10}
    bundle.args = ["/init", "fork-bomb", "40"]
    kv = parse_kv(runtime.run(cid, bundle).ok().stdout)
    forked = int(kv["forked"])
    assert 0 < forked < 10, kv
    assert kv["errno"] == "EAGAIN"


def test_no_pids_limit_control(runtime, bundle, cid):
    bundle.args = ["/init", "fork-bomb", "40"]
    kv = parse_kv(runtime.run(cid, bundle).ok().stdout)
    assert kv["forked"] == "40" and kv["errno"] == "0"


def test_memory_limit_oom_kills(runtime, bundle, cid):
    if host.hog_swaps():
        pytest.skip(host.HOG_SWAPS)
    limit = 32 * 1024 * 1024
    bundle.linux["resources"]["memory"] = {"limit": limit, "swap": limit}
    bundle.args = ["/init", "hog", "256m"]
    r = runtime.run(cid, bundle)
    # Killed by the OOM killer, or the allocation refused.
    assert r.returncode == 128 + signal.SIGKILL or "errno=ENOMEM" in r.stdout, r.describe()
    assert "hogged=268435456" not in r.stdout


def test_memory_under_limit(runtime, bundle, cid):
    limit = 64 * 1024 * 1024
    bundle.linux["resources"]["memory"] = {"limit": limit, "swap": limit}
    bundle.args = ["/init", "hog", "16m"]
    kv = parse_kv(runtime.run(cid, bundle).ok().stdout)
    assert kv["hogged"] == str(16 * 1024 * 1024)


def test_limits_written_to_cgroup(runtime, bundle, cid):
    bundle.linux["resources"]["pids"] = {"limit": 77}
    runtime.create(cid, bundle).ok()
    path = cgroup_path(bundle)
    assert (host.cgroup_dir("pids", path) / "pids.max").read_text().strip() == "77"


def test_update_raises_pids_limit(runtime, bundle, cid):
    """update changes a running container's limit: forks refused under the
    old one succeed under the new one."""
    # Room for a Go runtime's threads: runc's exec joins the cgroup too.
    bundle.linux["resources"]["pids"] = {"limit": 20}
    bundle.args = ["sleep", "1000"]
    runtime.create_started(cid, bundle)
    kv = parse_kv(runtime.exec(cid, "/init", "fork-bomb", "40").ok().stdout)
    assert int(kv["forked"]) < 20 and kv["errno"] == "EAGAIN", kv
    runtime("update", "--pids-limit", "200", cid).ok()
    kv = parse_kv(runtime.exec(cid, "/init", "fork-bomb", "40").ok().stdout)
    assert kv["forked"] == "40" and kv["errno"] == "0", kv


def test_update_lowers_memory_limit(runtime, bundle, cid):
    """A hog that fits under the first limit is killed after update lowers it."""
    if host.hog_swaps():
        pytest.skip(host.HOG_SWAPS)
    limit = 96 * 1024 * 1024
    bundle.linux["resources"]["memory"] = {"limit": limit, "swap": limit}
    bundle.args = ["sleep", "1000"]
    runtime.create_started(cid, bundle)
    assert "hogged=33554432" in runtime.exec(cid, "/init", "hog", "32m").ok().stdout
    small = 16 * 1024 * 1024
    runtime("update", "--memory", str(small), "--memory-swap", str(small), cid).ok()
    r = runtime.exec(cid, "/init", "hog", "32m")
    assert r.returncode == 128 + signal.SIGKILL or "errno=ENOMEM" in r.stdout, r.describe()


def test_cgroup_limits_seen_inside(runtime, bundle, cid):
    """With a cgroup namespace the container reads its own limit at the
    root of its /sys/fs/cgroup."""
    bundle.add_namespace("cgroup")
    bundle.linux["resources"]["pids"] = {"limit": 21}
    bundle.sh("for f in /sys/fs/cgroup/pids.max /sys/fs/cgroup/pids/pids.max; do"
              " [ -e $f ] && cat $f; done; true")
    out = runtime.run(cid, bundle).ok().stdout.split()
    assert "21" in out, out

"""cgroups: linux.resources read back from the container's cgroup files (v1,
hybrid or v2, whichever this host has), pause/resume, ps, update, events,
kill --all and delete --force.  The same tests run on the hybrid CI host
and inside the pure-v2 guest of `make check-cgroupv2`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

import host
from harness import IS_SKIFF, SYSTEMD_DRIVER, cgroup_path, parse_kv, pid_alive, wait_for

V2 = host.cgroup_v2()


def cg_dir(ctrl: str, path: str) -> Path:
    """The container's directory in the hierarchy that has ctrl."""
    return host.cgroup_dir(ctrl, path)


def has_ctrl(ctrl: str) -> bool:
    return host.has_controller(ctrl)


def read(ctrl, path, name) -> str:
    return (cg_dir(ctrl, path) / name).read_text().strip()


def cgpath(bundle) -> str:
    return cgroup_path(bundle)


def first_disk():
    """major:minor of a whole disk, for blkio throttling, or None."""
    for d in sorted(Path("/sys/block").iterdir()):
        if d.name.startswith(("loop", "zram", "ram", "nbd")):
            continue
        dev = (d / "dev").read_text().strip()
        return tuple(int(x) for x in dev.split(":"))
    return None


def procs_of(ctrl, path):
    f = cg_dir(ctrl, path) / "cgroup.procs"
    return [int(p) for p in f.read_text().split()] if f.exists() else []


@pytest.mark.skiff_only
def test_v2_init_born_in_its_cgroup(runtime, bundle, cid):
    """On a pure v2 host the init is cloned straight into its cgroup
    (clone3 with CLONE_INTO_CGROUP): it never runs in the runtime's, and
    no cgroup.procs write is needed."""
    if not V2:
        pytest.skip("CLONE_INTO_CGROUP needs the cgroup v2 hierarchy at /sys/fs/cgroup")
    if SYSTEMD_DRIVER:
        pytest.skip("the systemd driver: systemd moves the init into its scope (test_systemd_scope)")
    runtime.log_path = runtime.workdir / f"{cid}.log"
    bundle.save(cid)
    runtime.ids.append(cid)
    runtime("--debug", "create", "--bundle", bundle.path, cid).ok()
    pid = runtime.state(cid)["pid"]
    msgs = [json.loads(line)["msg"] for line in runtime.log_path.read_text().splitlines() if line]
    assert any("born in its cgroup" in m for m in msgs), msgs
    assert pid in procs_of("pids", cgpath(bundle))


# --------------------------------------------------------------- resources


def test_memory_values(runtime, bundle, cid):
    mem = {"limit": 64 << 20, "reservation": 32 << 20}
    if not V2:
        mem["swappiness"] = 20
        mem["swap"] = 128 << 20
    bundle.linux["resources"]["memory"] = mem
    r = runtime.create(cid, bundle)
    if not V2 and not host.swap_accounting():
        r.failed()
        if IS_SKIFF:
            assert "linux.resources.memory.swap: this host does not account swap" in r.stderr, r.describe()
        assert runtime.state_dirs() == []
        return
    r.ok()
    p = cgpath(bundle)
    if V2:
        assert read("memory", p, "memory.max") == str(64 << 20)
        assert read("memory", p, "memory.low") == str(32 << 20)
    else:
        assert read("memory", p, "memory.limit_in_bytes") == str(64 << 20)
        assert read("memory", p, "memory.soft_limit_in_bytes") == str(32 << 20)
        assert read("memory", p, "memory.swappiness") == "20"
        if (cg_dir("memory", p) / "memory.memsw.limit_in_bytes").exists():
            assert read("memory", p, "memory.memsw.limit_in_bytes") == str(128 << 20)


@pytest.mark.skipif(not V2, reason="cgroup v2 swap conversion")
def test_v2_swap_is_converted(runtime, bundle, cid):
    bundle.linux["resources"]["memory"] = {"limit": 64 << 20, "swap": 96 << 20}
    r = runtime.create(cid, bundle)
    if not host.swap_accounting():
        r.failed()
        if IS_SKIFF:
            assert "linux.resources.memory.swap: this host does not account swap" in r.stderr, r.describe()
        return
    r.ok()
    f = cg_dir("memory", cgpath(bundle)) / "memory.swap.max"
    assert f.read_text().strip() == str(32 << 20)


def first_memory_node() -> str:
    """A NUMA node with memory (not always 0), "0" without NUMA."""
    f = Path("/sys/devices/system/node/has_memory")
    return f.read_text().strip().split(",")[0].split("-")[0] if f.exists() else "0"


def test_cpu_values(runtime, bundle, cid):
    cpu, node = str(min(os.sched_getaffinity(0))), first_memory_node()
    bundle.linux["resources"]["cpu"] = {
        "shares": 512, "quota": 20000, "period": 100000, "cpus": cpu, "mems": node
    }
    r = runtime.create(cid, bundle)
    missing = [c for c in ("cpu", "cpuset") if not has_ctrl(c)]
    if missing:
        r.failed()
        assert "linux.resources.cpu" in r.stderr and missing[0] in r.stderr, r.describe()
        return
    r.ok()
    p = cgpath(bundle)
    if V2:
        assert read("cpu", p, "cpu.max") == "20000 100000"
        weight = int(read("cpu", p, "cpu.weight"))
        assert 1 < weight < 100  # below the default, as 512 < 1024 shares
    else:
        assert read("cpu", p, "cpu.shares") == "512"
        assert read("cpu", p, "cpu.cfs_quota_us") == "20000"
        assert read("cpu", p, "cpu.cfs_period_us") == "100000"
    assert read("cpuset", p, "cpuset.cpus") == cpu
    assert read("cpuset", p, "cpuset.mems") == node


@pytest.mark.skiff_only
@pytest.mark.skipif(not V2, reason="cpu.weight exists on cgroup v2")
def test_v2_default_shares_map_to_default_weight(runtime, bundle, cid):
    bundle.linux["resources"]["cpu"] = {"shares": 1024}
    runtime.create(cid, bundle).ok()
    assert read("cpu", cgpath(bundle), "cpu.weight") == "100"


def test_pids_value_and_effect(runtime, bundle, cid):
    bundle.linux["resources"]["pids"] = {"limit": 12}
    bundle.args = ["/init", "fork-bomb", "30"]
    kv = parse_kv(runtime.run(cid, bundle).ok().stdout)
    assert 0 < int(kv["forked"]) < 12 and kv["errno"] == "EAGAIN"


def test_blkio_values(runtime, bundle, cid):
    ctrl = "io" if V2 else "blkio"
    if not has_ctrl(ctrl):
        pytest.skip(f"this host has no {ctrl} cgroup controller")
    disk = first_disk()
    if not disk:
        pytest.skip("no disk in /sys/block to throttle")
    bundle.linux["resources"]["blockIO"] = {
        "throttleReadBpsDevice": [{"major": disk[0], "minor": disk[1], "rate": 1048576}]
    }
    runtime.create(cid, bundle).ok()
    d = cg_dir(ctrl, cgpath(bundle))
    if V2:
        assert f"{disk[0]}:{disk[1]} rbps=1048576" in (d / "io.max").read_text()
    else:
        got = (d / "blkio.throttle.read_bps_device").read_text()
        assert f"{disk[0]}:{disk[1]} 1048576" in got


def test_directory_at_unified_is_not_a_hierarchy(runtime, bundle, cid):
    """A plain directory at /sys/fs/cgroup/unified (a tmpfs over it, as on
    some container hosts and minimal VMs) is not a cgroup hierarchy: the
    runtime tells hierarchies by filesystem type, so the container runs,
    in its cgroups of the v1 hierarchies, and sees no cgroup2 tree."""
    if V2:
        pytest.skip("pure cgroup v2 host: /sys/fs/cgroup is the cgroup2 mount, no unified directory to cover")
    if not Path("/sys/fs/cgroup/unified").is_dir():
        pytest.skip("v1 host without /sys/fs/cgroup/unified: no directory to cover")
    bundle.args = ["/bin/sh", "-c", "cat /proc/self/cgroup; echo ---; ls /sys/fs/cgroup"]
    cover = "mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup/unified && exec \"$@\""
    wrap = ["unshare", "-m", "--propagation", "private", "sh", "-c", cover, "sh"]
    r = runtime.run(cid, bundle, wrap=wrap).ok()
    cgroups, listing = r.stdout.split("---\n")
    assert "unified" not in listing.split(), r.describe()
    memory = host.hierarchy_of("memory")
    if memory is not None and not memory.v2:
        assert any(
            ":memory:" in line and line.endswith(cgpath(bundle)) for line in cgroups.splitlines()
        ), r.describe()


def test_blkio_weight(runtime, bundle, cid):
    """A weight is written where the kernel has a weight-aware I/O policy
    (BFQ, CFQ, iocost); without one, create fails naming the key and the
    block devices, and leaves nothing behind."""
    ctrl = "io" if V2 else "blkio"
    if not has_ctrl(ctrl):
        pytest.skip(f"this host has no {ctrl} cgroup controller")
    files = host.io_weight_files()
    bundle.linux["resources"]["blockIO"] = {"weight": 500}
    r = runtime.create(cid, bundle)
    if not files:
        r.failed()
        if IS_SKIFF:
            assert "linux.resources.blockIO.weight: this host's block devices do not support I/O weights" in r.stderr, r.describe()
            assert "(block devices: " in r.stderr, r.describe()
        assert runtime.state_dirs() == []
        assert not cg_dir(ctrl, cgpath(bundle)).exists()
        return
    r.ok()
    d = cg_dir(ctrl, cgpath(bundle))
    if "io.bfq.weight" in files:
        assert "500" in (d / "io.bfq.weight").read_text()
    elif "io.weight" in files:
        assert (d / "io.weight").read_text().split()[:2] == ["default", "4950"]
    else:
        wf = "blkio.weight" if "blkio.weight" in files else "blkio.bfq.weight"
        assert (d / wf).read_text().split()[-1] == "500"


@pytest.mark.skiff_only
def test_check_warns_without_io_weights(runtime, bundle):
    """skiff check says before create what create would refuse."""
    if not has_ctrl("io" if V2 else "blkio"):
        pytest.skip("no blkio/io cgroup controller")
    supported = bool(host.io_weight_files())
    bundle.linux["resources"]["blockIO"] = {"weight": 500}
    r = runtime("check", "--bundle", str(bundle.save()))
    warned = "linux.resources.blockIO.weight: this host's block devices do not support I/O weights" in r.stdout + r.stderr
    assert warned == (not supported), r.describe()


@pytest.mark.skiff_only
def test_hugetlb_value(runtime, bundle, cid):
    if not has_ctrl("hugetlb") or not Path("/sys/kernel/mm/hugepages/hugepages-2048kB").exists():
        pytest.skip("no hugetlb controller or 2MB pages")
    bundle.linux["resources"]["hugepageLimits"] = [{"pageSize": "2MB", "limit": 4 << 20}]
    runtime.create(cid, bundle).ok()
    d = cg_dir("hugetlb", cgpath(bundle))
    name = "hugetlb.2MB.max" if (d / "hugetlb.2MB.max").exists() else "hugetlb.2MB.limit_in_bytes"
    assert (d / name).read_text().strip() == str(4 << 20)


@pytest.mark.skiff_only
def test_unknown_hugepage_size_names_the_key(runtime, bundle, cid):
    bundle.linux["resources"]["hugepageLimits"] = [{"pageSize": "3MB", "limit": 1 << 20}]
    r = runtime.create(cid, bundle).failed()
    if has_ctrl("hugetlb"):
        assert "linux.resources.hugepageLimits[0]" in r.stderr, r.describe()
    else:
        assert "linux.resources.hugepageLimits: " in r.stderr and "hugetlb" in r.stderr, r.describe()
    assert runtime.state_dirs() == []


@pytest.mark.skiff_only
def test_unified_on_v1_is_refused_clearly(runtime, bundle, cid):
    bundle.linux["resources"]["unified"] = {"pids.max": "10"}
    r = runtime.create(cid, bundle)
    if V2:
        r.ok()
        assert read("pids", cgpath(bundle), "pids.max") == "10"
    else:
        r.failed()
        assert "linux.resources.unified" in r.stderr and "cgroup v2" in r.stderr, r.describe()


@pytest.mark.skiff_only
def test_memory_error_names_the_key(runtime, bundle, cid):
    bundle.linux["resources"]["memory"] = {"limit": 64 << 20, "swap": 32 << 20}
    r = runtime.create(cid, bundle).failed()
    assert "linux.resources.memory" in r.stderr, r.describe()


@pytest.mark.skiff_only
def test_memory_limit_too_small_for_setup_says_so(runtime, bundle, cid):
    """An init killed by the OOM killer during create is named as such,
    with the setting to change, not as a closed sync socket."""
    if not has_ctrl("memory"):
        pytest.skip("no memory controller")
    if SYSTEMD_DRIVER and V2:
        pytest.skip(
            "the systemd driver on v2: the init moves into its scope after the clone, its pages stay "
            "charged to the runtime's cgroup, and what it writes later fits in 64 KiB"
        )
    bundle.linux.setdefault("resources", {})["memory"] = {"limit": 64 * 1024}
    r = runtime.create(cid, bundle).failed()
    assert "linux.resources.memory.limit: 65536 bytes is too small" in r.stderr, r.describe()
    assert "OOM killer" in r.stderr


def test_memory_limit_kills_a_hog(runtime, bundle, cid):
    if host.hog_swaps():
        pytest.skip(host.HOG_SWAPS)
    bundle.linux["resources"]["memory"] = {"limit": 32 << 20, "swap": 32 << 20}
    bundle.args = ["/init", "hog", "200m"]
    r = runtime.run(cid, bundle)
    assert r.returncode == 128 + signal.SIGKILL or "errno=ENOMEM" in r.stdout, r.describe()


@pytest.mark.skipif(V2 or not has_ctrl("devices"), reason="the v1 device cgroup")
def test_v1_device_list(runtime, bundle, cid):
    """Deny-all first, then the spec's rules and the default devices: the
    kernel's list holds exactly the allowed ones."""
    bundle.linux["resources"]["devices"].append(
        {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rw"}
    )
    runtime.create(cid, bundle).ok()
    lst = read("devices", cgpath(bundle), "devices.list").splitlines()
    assert "a *:* rwm" not in lst
    for want in ("c 1:3 rwm", "c 10:229 rw", "c *:* m", "b *:* m", "c 136:* rwm"):
        assert want in lst, lst


# ------------------------------------------------------------ pause/resume


def test_pause_resume(runtime, bundle, cid):
    bundle.args = ["sleep", "1000"]
    runtime.create_started(cid, bundle)
    runtime("pause", cid).ok()
    assert runtime.status(cid) == "paused"
    p = cgpath(bundle)
    if V2:
        assert read("pids", p, "cgroup.freeze") == "1"
    else:
        assert read("freezer", p, "freezer.state") == "FROZEN"
    pid = runtime.state(cid)["pid"]
    with open(f"/proc/{pid}/stat") as f:
        state = f.read().rsplit(")", 1)[1].split()[0]
    assert state in ("D", "S", "T")
    runtime("pause", cid).failed()  # already paused
    runtime("resume", cid).ok()
    assert runtime.status(cid) == "running"
    runtime("resume", cid).failed()  # not paused


@pytest.mark.skiff_only  # runc pauses a created container too
@pytest.mark.xfail_runtime("crun", reason="crun 1.8 refuses to pause a created container")
def test_pause_created(runtime, bundle, cid):
    """As runc: a created container can be paused; resumed, it is created
    again, and start then runs it.  A paused one cannot be started."""
    bundle.args = ["/init", "ready"]
    c = runtime.create(cid, bundle).ok()
    runtime("pause", cid).ok()
    assert runtime.status(cid) == "paused"
    runtime.start(cid).failed()
    runtime("resume", cid).ok()
    assert runtime.status(cid) == "created"
    runtime.start(cid).ok()
    c.wait_output("ready")
    assert runtime.status(cid) == "running"


def test_delete_force_paused(runtime, bundle, cid):
    bundle.sh("sleep 1000 & sleep 1000 & wait")
    runtime.create_started(cid, bundle)
    runtime("pause", cid).ok()
    runtime.delete(cid, force=True).ok()
    assert runtime.state_dirs() == []
    assert not cg_dir("pids", cgpath(bundle)).exists()


def test_kill_paused_container(runtime, bundle, cid):
    bundle.args = ["sleep", "1000"]
    st = runtime.create_started(cid, bundle)
    runtime("pause", cid).ok()
    runtime.kill(cid, "KILL").ok()
    wait_for(lambda: not pid_alive(st["pid"]), what="the paused init to die")
    assert runtime.status(cid) == "stopped"


# ----------------------------------------------------------- kill --all, ps


def test_kill_all_reaches_every_process(runtime, bundle, cid):
    bundle.sh("sleep 1000 & sleep 1000 & (sleep 1000 &) ; wait")
    runtime.create_started(cid, bundle)
    p = cgpath(bundle)
    wait_for(lambda: len(procs_of("pids", p)) >= 4, what="the forks")
    pids = procs_of("pids", p)
    runtime.kill(cid, "KILL", "--all").ok()
    wait_for(lambda: not any(pid_alive(x) for x in pids), what="every process to die")


def test_ps_and_kill_all_reach_sub_cgroups(runtime, bundle, cid):
    """A process moved into a cgroup below the container's is still the
    container's: ps lists it, kill --all kills it, delete removes the
    sub-cgroup."""
    bundle.sh("sleep 1000 & wait")
    st = runtime.create_started(cid, bundle)
    p = cgpath(bundle)
    wait_for(lambda: len(procs_of("pids", p)) >= 2, what="the fork")
    child = [x for x in procs_of("pids", p) if x != st["pid"]][0]
    sub = cg_dir("pids", p) / "sub"
    sub.mkdir()
    (sub / "cgroup.procs").write_text(str(child))
    pids = json.loads(runtime("ps", "--format", "json", cid).ok().stdout)
    assert sorted(pids) == sorted([st["pid"], child]), pids
    runtime.kill(cid, "KILL", "--all").ok()
    wait_for(lambda: not pid_alive(child), what="the process in the sub-cgroup to die")


def test_ps_json_lists_exec_processes(runtime, bundle, cid):
    bundle.args = ["sleep", "1000"]
    st = runtime.create_started(cid, bundle)
    runtime.exec(cid, "sleep", "1000", opts=("--detach",)).ok()
    pids = wait_for(
        lambda: (lambda v: v if len(v) >= 2 else None)(
            json.loads(runtime("ps", "--format", "json", cid).ok().stdout)
        ),
        what="two processes in ps",
    )
    assert st["pid"] in pids and all(isinstance(x, int) for x in pids)


def test_ps_table(runtime, bundle, cid):
    bundle.args = ["sleep", "1000"]
    st = runtime.create_started(cid, bundle)
    out = runtime("ps", cid).ok().stdout.splitlines()
    assert "PID" in out[0].split()
    idx = out[0].split().index("PID")
    assert [int(line.split()[idx]) for line in out[1:]] == [st["pid"]]
    out = runtime("ps", cid, "-o", "pid,comm").ok().stdout.splitlines()
    assert out[0].split() == ["PID", "COMMAND"] and out[1].split() == [str(st["pid"]), "sleep"]


def test_ps_stopped_container_is_empty(runtime, bundle, cid):
    bundle.args = ["true"]
    runtime.create(cid, bundle).ok()
    runtime.start(cid).ok()
    runtime.wait_status(cid, "stopped")
    out = runtime("ps", cid).ok().stdout.splitlines()
    assert len(out) == 1 and "PID" in out[0].split()
    assert json.loads(runtime("ps", "--format", "json", cid).ok().stdout or "[]") in ([], None)


# ----------------------------------------------------------------- update


def test_update_flags(runtime, bundle, cid):
    bundle.args = ["sleep", "1000"]
    bundle.linux["resources"]["pids"] = {"limit": 50}
    runtime.create_started(cid, bundle)
    runtime("update", "--pids-limit", "20", "--memory", "100m", "--cpu-quota", "30000",
            "--cpu-period", "100000", cid).ok()
    p = cgpath(bundle)
    assert read("pids", p, "pids.max") == "20"
    if V2:
        assert read("memory", p, "memory.max") == str(100 << 20)
        assert read("cpu", p, "cpu.max") == "30000 100000"
    else:
        assert read("memory", p, "memory.limit_in_bytes") == str(100 << 20)
        assert read("cpu", p, "cpu.cfs_quota_us") == "30000"
    # A second update starts from the first: pids stay at 20.
    runtime("update", "--memory", "120m", cid).ok()
    assert read("pids", p, "pids.max") == "20"


def test_update_resources_file_and_stdin(runtime, bundle, cid, workdir):
    bundle.args = ["sleep", "1000"]
    runtime.create_started(cid, bundle)
    f = workdir / "res.json"
    f.write_text(json.dumps({"pids": {"limit": 42}, "memory": {"limit": 80 << 20}}))
    runtime("update", "-r", f, cid).ok()
    p = cgpath(bundle)
    assert read("pids", p, "pids.max") == "42"
    runtime("update", "--resources", "-", cid, input='{"pids": {"limit": 43}}').ok()
    assert read("pids", p, "pids.max") == "43"


@pytest.mark.skiff_only
def test_update_bad_json_names_the_key(runtime, bundle, cid):
    bundle.args = ["sleep", "1000"]
    runtime.create_started(cid, bundle)
    r = runtime("update", "-r", "-", cid, input='{"pids": {"limit": "many"}}').failed()
    assert "linux.resources.pids.limit" in r.stderr, r.describe()


def test_update_stopped_container_fails(runtime, bundle, cid):
    bundle.args = ["true"]
    runtime.create(cid, bundle).ok()
    runtime.start(cid).ok()
    runtime.wait_status(cid, "stopped")
    runtime("update", "--pids-limit", "10", cid).failed()


def test_update_cpu_idle(runtime, bundle, cid):
    """cpu.idle, by --cpu-idle or -r.  The kernel refuses a weight to an idle
    group (cpu.shares, cpu.weight: EINVAL), so while idle the weight is left
    alone: a later update of anything else must still work, and idle 0 gives
    the group its weight again."""
    if not has_ctrl("cpu"):
        pytest.skip("this host has no cpu cgroup controller")
    bundle.args = ["sleep", "1000"]
    bundle.linux["resources"]["cpu"] = {"shares": 512}
    bundle.linux["resources"]["pids"] = {"limit": 50}
    runtime.create_started(cid, bundle)
    p = cgpath(bundle)
    r = runtime("update", "-r", "-", cid, input='{"cpu": {"idle": 1}}')
    if not host.cpu_idle():
        r.failed()
        assert "linux.resources.cpu.idle" in r.stderr, r.describe()
        return
    r.ok()
    assert read("cpu", p, "cpu.idle") == "1"
    runtime("update", "--pids-limit", "40", cid).ok()
    assert read("pids", p, "pids.max") == "40"
    runtime("update", "-r", "-", cid, input='{"cpu": {"shares": 1024}}').ok()
    runtime("update", "--cpu-idle", "0", cid).ok()
    assert read("cpu", p, "cpu.idle") == "0"
    assert read("cpu", p, "cpu.weight" if V2 else "cpu.shares") == ("100" if V2 else "1024")
    runtime("update", "--cpu-idle", "1", cid).ok()
    assert read("cpu", p, "cpu.idle") == "1"


@pytest.mark.xfail_runtime("runc", reason="runc 1.1 update ignores linux.resources.devices")
def test_update_devices(runtime, bundle, cid):
    """New device rules replace the old ones on a running container; the
    default devices keep working throughout."""
    bundle.args = ["sleep", "1000"]
    runtime.create_started(cid, bundle)
    rules = {"devices": [{"allow": False, "access": "rwm"},
                         {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rw"}]}
    runtime("update", "-r", "-", cid, input=json.dumps(rules)).ok()
    if not V2 and has_ctrl("devices"):
        lst = read("devices", cgpath(bundle), "devices.list").splitlines()
        assert "c 10:229 rw" in lst and "c 1:3 rwm" in lst, lst
    assert "errno=0" in runtime.exec(cid, "/init", "write", "/dev/null", "x").ok().stdout


# ----------------------------------------------------------------- events


def test_events_stats(runtime, bundle, cid):
    bundle.args = ["sleep", "1000"]
    bundle.linux["resources"]["pids"] = {"limit": 30}
    runtime.create_started(cid, bundle)
    ev = json.loads(runtime("events", "--stats", cid).ok().stdout)
    assert ev["type"] == "stats" and ev["id"] == cid
    d = ev["data"]
    assert d["pids"]["current"] >= 1 and d["pids"]["limit"] == 30
    assert d["memory"]["usage"]["usage"] > 0
    assert "total" in d["cpu"]["usage"] or d["cpu"]["usage"] == {}
    assert "blkio" in d and "hugetlb" in d


def possible_cpus() -> int:
    """CPUs the kernel could bring up (cpuacct's per-CPU lists have one
    entry for each)."""
    n = 0
    for part in Path("/sys/devices/system/cpu/possible").read_text().strip().split(","):
        lo, _, hi = part.partition("-")
        n += int(hi or lo) - int(lo) + 1
    return n


PSI_DATA = {"avg10", "avg60", "avg300", "total"}


def test_events_stats_runc_fields(runtime, bundle, cid):
    """What runc's stats add to the cgroup's: per-CPU kernel and user time
    on v1, pressure stall information on v2, intel_rdt, and the interfaces
    of the container's network namespace."""
    bundle.args = ["sleep", "1000"]
    runtime.create_started(cid, bundle)
    d = json.loads(runtime("events", "--stats", cid).ok().stdout)["data"]
    usage = d["cpu"]["usage"]
    if V2:
        assert not {"percpu", "percpu_kernel", "percpu_user"} & usage.keys(), usage
    elif has_ctrl("cpuacct"):
        for key in ("percpu", "percpu_kernel", "percpu_user"):
            assert len(usage[key]) == possible_cpus(), usage
            assert all(isinstance(v, int) and v >= 0 for v in usage[key]), usage
    pressure = False
    if V2:  # the files are there even with psi=0, which makes reads fail
        try:
            pressure = bool((cg_dir("memory", cgpath(bundle)) / "cpu.pressure").read_text())
        except OSError:
            pass
    for obj in (d["cpu"], d["memory"], d["blkio"]):
        if not pressure:
            assert "psi" not in obj, obj
            continue
        assert set(obj["psi"]) <= {"some", "full"} and "some" in obj["psi"], obj
        for line in obj["psi"].values():
            assert set(line) == PSI_DATA and 0 <= line["avg10"] <= 100, obj
    assert d["intel_rdt"] == {}
    ifaces = {i["Name"]: i for i in d["network_interfaces"]}
    # The container's namespace: lo, and whatever fallback tunnels (sit0,
    # tunl0...) this host's loaded modules put in every new one.
    pid = runtime.state(cid)["pid"]
    lines = Path(f"/proc/{pid}/net/dev").read_text().splitlines()[2:]
    seen = {ln.split(":")[0].strip(): [int(x) for x in ln.split(":")[1].split()] for ln in lines}
    assert set(ifaces) == set(seen) and "lo" in ifaces, ifaces
    counts = ("Bytes", "Packets", "Errors", "Dropped")
    keys = {f"{side}{c}" for side in ("Rx", "Tx") for c in counts}
    assert set(ifaces["lo"]) == keys | {"Name"}
    v = seen["lo"]  # nothing talks on the container's lo: the same numbers
    assert [ifaces["lo"][k] for k in ("RxBytes", "RxPackets", "RxErrors", "RxDropped")] == v[:4]
    assert [ifaces["lo"][k] for k in ("TxBytes", "TxPackets", "TxErrors", "TxDropped")] == v[8:12]
    # A container in the host's network namespace has no interfaces of its own.
    host_net = bundle.linux
    host_net["namespaces"] = [n for n in host_net["namespaces"] if n["type"] != "network"]
    other = cid + "-hostnet"
    runtime.create_started(other, bundle)
    d = json.loads(runtime("events", "--stats", other).ok().stdout)["data"]
    assert d["network_interfaces"] is None


@pytest.mark.slow
@pytest.mark.xfail_runtime("runc", reason="runc 1.1 events keeps running after the container stops")
def test_events_stream_and_oom(runtime, bundle, cid):
    if host.hog_swaps():
        pytest.skip(host.HOG_SWAPS)
    bundle.args = ["sleep", "1000"]
    bundle.linux["resources"]["memory"] = {"limit": 24 << 20, "swap": 24 << 20}
    runtime.create_started(cid, bundle)
    bg = runtime.popen("events", "--interval", "200ms", cid)
    bg.wait_output('"type":"stats"')
    runtime.exec(cid, "/init", "hog", "200m")  # OOM-killed
    bg.wait_output('"type":"oom"', timeout=15)
    runtime.kill(cid, "KILL").ok()
    r = bg.wait(timeout=15)
    assert r.returncode == 0, r.describe()
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert sum(1 for x in lines if x["type"] == "stats") >= 1


# --------------------------------------------------------------- features


@pytest.mark.skiff_only
def test_features_cgroup(runtime):
    f = json.loads(runtime("features").ok().stdout)
    cg = f["linux"]["cgroup"]
    assert cg["v1"] and cg["v2"] and cg["rdma"]


# ---------------------------------------------------------------- systemd

SYSTEMD = Path("/run/systemd/system").exists()
NO_SYSTEMD = "no systemd on this host (/run/systemd/system is missing): the systemd cgroup driver cannot be exercised"


def systemd_create(runtime, bundle, cid, path):
    bundle.auto_cgroup = False
    bundle.linux["cgroupsPath"] = path
    runtime._track(cid)
    return runtime("--systemd-cgroup", "create", "--bundle", bundle.save(cid), cid)


@pytest.mark.skiff_only
@pytest.mark.skipif(SYSTEMD, reason="checks the refusal on a host without systemd")
def test_systemd_cgroup_refused_without_systemd(runtime, bundle, cid):
    r = systemd_create(runtime, bundle, cid, f"system.slice:skifftest:{cid}").failed()
    assert "systemd is not running" in r.stderr or "without libsystemd" in r.stderr, r.describe()
    assert runtime.state_dirs() == []


@pytest.mark.skiff_only
def test_systemd_cgroups_path_syntax(runtime, bundle, cid):
    r = systemd_create(runtime, bundle, cid, "/not/a/unit").failed()
    assert "slice:prefix:name" in r.stderr, r.describe()


@pytest.mark.skipif(not SYSTEMD, reason=NO_SYSTEMD)
def test_systemd_scope(runtime, bundle, cid):
    bundle.args = ["sleep", "1000"]
    bundle.linux["resources"]["pids"] = {"limit": 33}
    systemd_create(runtime, bundle, cid, f"system.slice:skifftest:{cid}").ok()
    pid = runtime.state(cid)["pid"]
    cg = Path(f"/proc/{pid}/cgroup").read_text()
    assert f"skifftest-{cid}.scope" in cg, cg
    unit = cg_dir("pids", f"/system.slice/skifftest-{cid}.scope")
    assert (unit / "pids.max").read_text().strip() == "33"
    runtime("--systemd-cgroup", "delete", "--force", cid).ok()
    wait_for(lambda: not unit.exists(), what="systemd to remove the scope")


@pytest.mark.skipif(not SYSTEMD, reason=NO_SYSTEMD)
def test_systemd_unit_properties(runtime, bundle, cid):
    """The limits are the scope unit's properties too, so systemd keeps
    them; the container can be paused, listed and killed through the
    scope."""
    bundle.args = ["sleep", "1000"]
    bundle.linux["resources"]["memory"] = {"limit": 64 << 20}
    bundle.linux["resources"]["cpu"] = {"shares": 1024}
    bundle.linux["resources"]["pids"] = {"limit": 44}
    systemd_create(runtime, bundle, cid, f"machine.slice:skifftest:{cid}").ok()
    runtime.start(cid).ok()
    unit = f"skifftest-{cid}.scope"
    show = subprocess.run(
        ["systemctl", "show", unit, "-p", "MemoryMax", "-p", "TasksMax", "-p", "Slice", "-p",
         "Delegate", "-p", "ActiveState"],
        capture_output=True, text=True, timeout=30,
    ).stdout
    props = dict(line.split("=", 1) for line in show.splitlines() if "=" in line)
    assert props["MemoryMax"] == str(64 << 20), show
    assert props["TasksMax"] == "44", show
    assert props["Slice"] == "machine.slice" and props["Delegate"] == "yes", show
    assert props["ActiveState"] == "active", show
    st = runtime.state(cid)
    assert json.loads(runtime("ps", "--format", "json", cid).ok().stdout) == [st["pid"]]
    runtime("pause", cid).ok()
    assert runtime.status(cid) == "paused"
    runtime("resume", cid).ok()
    runtime("--systemd-cgroup", "delete", "--force", cid).ok()
    wait_for(
        lambda: subprocess.run(["systemctl", "is-active", unit], capture_output=True,
                               text=True).stdout.strip() != "active",
        what="the scope to stop",
    )

"""Debugging a bundle after the fact: errors of create/start that name the
config element (the same text in the JSON log), failing hooks that say
phase, index, path, status and stderr, and --debug phase timings."""

import json
import re
import shutil

import pytest

from harness import wait_for

pytestmark = pytest.mark.skiff_only


def log_entries(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def fails_naming(runtime, bundle, cid, pattern, verb="create"):
    """create (or run) fails; stderr and the JSON log's last error say pattern."""
    runtime.log_path = runtime.workdir / f"{cid}.log"
    bundle.save(cid)
    runtime.ids.append(cid)
    r = runtime(verb, "--bundle", bundle.path, cid).failed()
    assert re.search(pattern, r.stderr), r.describe()
    errors = [e for e in log_entries(runtime.log_path) if e["level"] == "error"]
    assert errors and re.search(pattern, errors[-1]["msg"]), errors
    return r


# The lower-case phrases are runc's: Docker's CLI and daemon and Podman map
# "executable file not found" and "no such file or directory" (with the
# command named) to exit code 127, and "permission denied" to 126.


def test_program_not_found_names_args0(runtime, bundle, cid):
    bundle.args = ["/bin/no-such-shell"]
    fails_naming(
        runtime,
        bundle,
        cid,
        r"process\.args\[0\] `/bin/no-such-shell`: no such file or directory in the container's rootfs($|\n)",
    )


def test_program_not_in_path_names_args0_and_path(runtime, bundle, cid):
    bundle.args = ["no-such-program"]
    fails_naming(
        runtime,
        bundle,
        cid,
        r"process\.args\[0\] `no-such-program`: executable file not found in the container's \$PATH \(PATH=",
    )


def test_program_not_executable(runtime, bundle, cid):
    bundle.args = ["/etc/passwd"]
    fails_naming(
        runtime, bundle, cid, r"process\.args\[0\] `/etc/passwd`: permission denied: not an executable file"
    )



def test_missing_bind_source_names_the_mount(runtime, bundle, cid, workdir):
    missing = workdir / "no-such-dir"
    bundle.add_mount("/data", missing)
    n = len(bundle.config["mounts"]) - 1
    fails_naming(
        runtime,
        bundle,
        cid,
        rf'mounts\[{n}\] \(/data\): mount "{re.escape(str(missing))}" on "/data": No such file or directory',
    )


def test_failing_hook_reports_phase_index_path_status_stderr(runtime, bundle, cid):
    bundle.config["hooks"] = {
        "createRuntime": [
            {"path": "/bin/sh", "args": ["sh", "-c", "true"]},
            {"path": "/bin/sh", "args": ["sh", "-c", "echo first >&2; echo the-reason >&2; exit 3"]},
        ]
    }
    fails_naming(
        runtime,
        bundle,
        cid,
        r"hooks\.createRuntime\[1\] `/bin/sh`: exit status 3: first\nthe-reason|"
        r"hooks\.createRuntime\[1\] `/bin/sh`: exit status 3: .*the-reason",
    )


def test_failing_start_container_hook_reported_by_start(runtime, bundle, cid):
    bundle.config["hooks"] = {
        "startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "echo no-start >&2; exit 4"]}]
    }
    runtime.create(cid, bundle).ok()
    r = runtime("start", cid).failed()
    assert re.search(r"hooks\.startContainer\[0\] `/bin/sh`: exit status 4: no-start", r.stderr), r.describe()


def test_timed_out_hook_says_so(runtime, bundle, cid):
    bundle.config["hooks"] = {"prestart": [{"path": "/bin/sleep", "args": ["sleep", "5"], "timeout": 1}]}
    fails_naming(runtime, bundle, cid, r"hooks\.prestart\[0\] `/bin/sleep`: timed out after 1s")


CREATE_PHASES = [
    "parse",
    "state write",
    "cgroup",
    "clone",
    "cgroup (join)",
    "namespaces",
    "process attributes (hostname, sysctl, rlimits)",
    "mounts",
    "devices (part of mounts)",
    "pivot (and masked, readonly paths)",
    "container setup (total, in the init)",
    "create (total)",
]


def test_debug_logs_phase_timings(runtime, bundle, cid, test_env):
    # Compiled filters are cached in the state root: not a leak.
    test_env.add_cleanup(lambda: shutil.rmtree(runtime.root / ".seccomp-cache", ignore_errors=True))
    runtime.log_path = runtime.workdir / "debug.log"
    bundle.config["hooks"] = {"prestart": [{"path": "/bin/true"}]}
    bundle.config["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW"}
    bundle.sh("echo ran")
    bundle.save(cid)
    runtime.ids.append(cid)
    runtime("--debug", "create", "--bundle", bundle.path, cid).ok()
    runtime("--debug", "start", cid).ok()
    wait_for(lambda: runtime.status(cid) == "stopped", what="the container to finish")
    phases = {}
    for e in log_entries(runtime.log_path):
        m = re.fullmatch(r"phase (.+): (\d+)\.(\d{3}) ms", e["msg"])
        if m:
            assert e["level"] == "debug"
            phases[m[1]] = int(m[2]) * 1000 + int(m[3])
    for p in CREATE_PHASES + [
        "seccomp (compile)",
        "hooks (prestart, createRuntime)",
        "start: release the init (exec fifo)",
    ]:
        assert p in phases, f"no timing for {p}: {sorted(phases)}"
    # The init's own phases are part of the runtime's wait for it.
    inner = sum(phases[p] for p in ["mounts", "pivot (and masked, readonly paths)"])
    assert inner <= phases["container setup (total, in the init)"] + 1
    assert phases["create (total)"] >= phases["container setup (total, in the init)"]


def test_no_timings_without_debug(runtime, bundle, cid):
    runtime.log_path = runtime.workdir / "plain.log"
    bundle.sh("true")
    runtime.run(cid, bundle).ok()
    text = runtime.log_path.read_text() if runtime.log_path.exists() else ""
    assert "phase " not in text

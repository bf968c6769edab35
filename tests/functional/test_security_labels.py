"""LSM labels: process.selinuxLabel, process.apparmorProfile,
linux.mountLabel, exec --process-label / --apparmor.

This host may have neither SELinux nor AppArmor: a label that cannot be
applied must then be refused, naming the config element, and leave nothing
behind (never a silent pass).  runc refuses the same configs (its errors
come from deeper in, for AppArmor and the mount label); crun 1.8 ignores
mountLabel."""

import os
import subprocess

import pytest

from harness import IS_SKIFF, RUNTIME

SELINUX_LABEL = "system_u:system_r:container_t:s0:c1,c2"
MOUNT_LABEL = "system_u:object_r:container_file_t:s0:c1,c2"
PROFILE = "skiff-test-profile"


def selinux_enabled() -> bool:
    return os.path.exists("/sys/fs/selinux/enforce")


def apparmor_enabled() -> bool:
    try:
        with open("/sys/module/apparmor/parameters/enabled") as f:
            return f.read(1) == "Y"
    except OSError:
        return False


def _skiff_without_selinux() -> bool:
    if not IS_SKIFF:
        return False
    try:
        r = subprocess.run([RUNTIME, "--version"], capture_output=True, text=True, timeout=30)
    except OSError:  # conftest reports a missing runtime
        return False
    return "-SELINUX" in r.stdout


# What skiff says when it cannot apply an SELinux label here.
SELINUX_REASON = (
    "built without SELinux support" if _skiff_without_selinux() else "SELinux is not enabled"
)

no_selinux = pytest.mark.skipif(selinux_enabled(), reason="this host runs SELinux")
no_apparmor = pytest.mark.skipif(apparmor_enabled(), reason="this host runs AppArmor")


def assert_refused(r, field, value, reason=None):
    """Failed; skiff names the config element, the value and the reason."""
    r.failed()
    if IS_SKIFF:
        assert f"{field} `{value}`" in r.stderr, r.describe()
        if reason:
            assert reason in r.stderr, r.describe()


@no_selinux
def test_selinux_label_refused_without_selinux(runtime, bundle, cid):
    bundle.process["selinuxLabel"] = SELINUX_LABEL
    bundle.args = ["/init", "exit", "0"]
    r = runtime.run(cid, bundle)
    assert_refused(r, "process.selinuxLabel", SELINUX_LABEL, SELINUX_REASON)


@no_selinux
def test_selinux_label_refused_by_create(runtime, bundle, cid):
    """Refused before anything exists: no state, no cgroup (the leak
    checker), and the container is unknown afterwards."""
    bundle.process["selinuxLabel"] = SELINUX_LABEL
    assert_refused(runtime.create(cid, bundle), "process.selinuxLabel", SELINUX_LABEL)
    runtime.state_result(cid).failed()


@no_selinux
@pytest.mark.xfail_runtime("crun", reason="crun 1.8 ignores linux.mountLabel without SELinux")
def test_mount_label_refused_without_selinux(runtime, bundle, cid):
    bundle.linux["mountLabel"] = MOUNT_LABEL
    bundle.args = ["/init", "exit", "0"]
    assert_refused(
        runtime.run(cid, bundle), "linux.mountLabel", MOUNT_LABEL, SELINUX_REASON
    )


@no_apparmor
def test_apparmor_profile_refused_without_apparmor(runtime, bundle, cid):
    bundle.process["apparmorProfile"] = PROFILE
    bundle.args = ["/init", "exit", "0"]
    r = runtime.run(cid, bundle)
    assert_refused(r, "process.apparmorProfile", PROFILE, "AppArmor is not enabled")


@no_selinux
def test_exec_process_label_refused_without_selinux(runtime, bundle, cid):
    runtime.create_started(cid, bundle)
    r = runtime.exec(cid, "/init", "exit", "0", opts=["--process-label", SELINUX_LABEL])
    assert_refused(r, "process.selinuxLabel", SELINUX_LABEL)
    assert runtime.status(cid) == "running"


@no_apparmor
def test_exec_apparmor_refused_without_apparmor(runtime, bundle, cid):
    runtime.create_started(cid, bundle)
    r = runtime.exec(cid, "/init", "exit", "0", opts=["--apparmor", PROFILE])
    assert_refused(r, "process.apparmorProfile", PROFILE)
    assert runtime.status(cid) == "running"


def test_empty_labels_are_no_labels(runtime, bundle, cid):
    """Empty strings ask for nothing (what engines write when the host has
    no LSM): the container runs."""
    bundle.process["selinuxLabel"] = ""
    bundle.process["apparmorProfile"] = ""
    bundle.linux["mountLabel"] = ""
    bundle.args = ["/init", "exit", "0"]
    runtime.run(cid, bundle).ok()


@pytest.mark.skipif(not selinux_enabled(), reason="needs a host running SELinux")
def test_selinux_label_applied(runtime, bundle, cid):
    bundle.process["selinuxLabel"] = SELINUX_LABEL
    bundle.sh("cat /proc/self/attr/current")
    r = runtime.run(cid, bundle).ok()
    assert r.stdout.rstrip("\0\n") == SELINUX_LABEL


@pytest.mark.skipif(not apparmor_enabled(), reason="needs a host running AppArmor")
def test_apparmor_unconfined_applied(runtime, bundle, cid):
    bundle.process["apparmorProfile"] = "unconfined"
    bundle.sh("cat /proc/self/attr/current")
    r = runtime.run(cid, bundle).ok()
    assert "unconfined" in r.stdout

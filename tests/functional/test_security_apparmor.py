"""AppArmor for real: profiles loaded with apparmor_parser confine the
container's process and an exec'd one, and a profile that is not loaded
is refused before anything starts.

Needs a kernel running AppArmor, its securityfs and apparmor_parser
(Debian's apparmor package): the qemu guests of `make check-cgroupv2` boot
Debian's kernel, which has it.  Elsewhere the tests skip, naming what is
missing; test_security_labels.py checks the refusal on hosts without
AppArmor."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from harness import IS_SKIFF, parse_kv

PROFILES = Path("/sys/kernel/security/apparmor/profiles")


def missing() -> str | None:
    enabled = Path("/sys/module/apparmor/parameters/enabled")
    if not enabled.exists() or enabled.read_text().strip() != "Y":
        return "the kernel does not run AppArmor"
    if not PROFILES.exists():
        return "no AppArmor securityfs at /sys/kernel/security/apparmor"
    if shutil.which("apparmor_parser") is None:
        return "no apparmor_parser (Debian package apparmor)"
    return None


pytestmark = pytest.mark.skipif(missing() is not None, reason=missing() or "")

# Everything, but writing below /denied: what the container does not get
# is then only what the profile takes away.
DENY_WRITE = """
profile {name} flags=(attach_disconnected,mediate_deleted) {{
  capability,
  network,
  mount,
  remount,
  umount,
  pivot_root,
  ptrace,
  signal,
  unix,
  file,
  deny /denied/** w,
}}
"""

# In the style of Docker's and Podman's default profile: no mounts, no
# writes to /proc's system files, nothing of /sys/firmware or securityfs.
ENGINE_DEFAULT = """
profile {name} flags=(attach_disconnected,mediate_deleted) {{
  network,
  capability,
  file,
  umount,
  signal,
  unix,
  ptrace (trace,read,tracedby,readby) peer={name},
  deny mount,
  deny /proc/sysrq-trigger rwklx,
  deny /proc/kcore rwklx,
  deny /proc/sys/kernel/** wklx,
  deny /sys/firmware/{{,**}} rwklx,
  deny /sys/kernel/security/{{,**}} rwklx,
}}
"""


@pytest.fixture
def load_profile(test_env, workdir):
    """load_profile(template) -> name: the profile loaded for this test,
    removed afterwards."""

    def load(template: str) -> str:
        name = f"skiff-test-{os.getpid()}-{len(test_env.cleanups)}"
        f = workdir / f"{name}.aa"
        f.write_text(template.format(name=name))
        subprocess.run(["apparmor_parser", "--replace", "--skip-cache", str(f)], check=True,
                       capture_output=True)
        test_env.add_cleanup(lambda: subprocess.run(["apparmor_parser", "--remove", "--skip-cache",
                                                     str(f)], capture_output=True))
        assert f"{name} (enforce)" in PROFILES.read_text()
        return name

    return load


PROBE = "cat /proc/self/attr/current; echo; echo x > /denied/f 2>/dev/null && echo write=ok || echo write=denied"


def probe(out: str) -> tuple[str, str]:
    lines = [l for l in out.replace("\0", "").splitlines() if l]
    return lines[0], parse_kv("\n".join(lines[1:]))["write"]


def test_profile_confines_init_and_exec(runtime, bundle, cid, load_profile):
    name = load_profile(DENY_WRITE)
    bundle.add_tmpfs("/denied")
    bundle.process["apparmorProfile"] = name
    bundle.args = ["sleep", "1000"]
    runtime.create_started(cid, bundle)
    r = runtime.exec(cid, "/bin/sh", "-c", PROBE).ok()
    assert probe(r.stdout) == (f"{name} (enforce)", "denied"), r.describe()
    # the init itself, through its /proc entry from an exec'd shell
    r = runtime.exec(cid, "/bin/cat", "/proc/1/attr/current").ok()
    assert r.stdout.replace("\0", "").strip() == f"{name} (enforce)", r.describe()


def test_exec_apparmor_flag_confines_only_that_process(runtime, bundle, cid, load_profile):
    name = load_profile(DENY_WRITE)
    bundle.add_tmpfs("/denied")
    bundle.args = ["sleep", "1000"]
    runtime.create_started(cid, bundle)
    r = runtime.exec(cid, "/bin/sh", "-c", PROBE, opts=["--apparmor", name]).ok()
    assert probe(r.stdout) == (f"{name} (enforce)", "denied"), r.describe()
    r = runtime.exec(cid, "/bin/sh", "-c", PROBE).ok()
    label, write = probe(r.stdout)
    assert name not in label and write == "ok", r.describe()


def test_engine_default_style_profile(runtime, bundle, cid, load_profile):
    """With CAP_SYS_ADMIN a container may mount; under a profile in the
    style of the engines' default it may not, nor read /sys/firmware."""
    script = ("mount -t tmpfs none /mnt 2>/dev/null && echo mount=ok || echo mount=denied;"
              " ls /sys/firmware >/dev/null 2>&1 && echo firmware=ok || echo firmware=denied")
    for field in ("bounding", "effective", "permitted"):
        bundle.process["capabilities"][field].append("CAP_SYS_ADMIN")
    bundle.sh(script)
    plain = parse_kv(runtime.run(cid, bundle).ok().stdout)
    assert plain["mount"] == "ok", plain
    bundle.process["apparmorProfile"] = load_profile(ENGINE_DEFAULT)
    confined = parse_kv(runtime.run(f"{cid}-aa", bundle).ok().stdout)
    assert confined == {"mount": "denied", "firmware": "denied"}, confined


def test_profile_not_loaded_is_refused_before_start(runtime, bundle, cid):
    name = f"skiff-test-{os.getpid()}-not-loaded"
    bundle.process["apparmorProfile"] = name
    shared = bundle.shared
    bundle.sh("touch /shared/started")
    r = runtime.create(cid, bundle)
    r.failed()
    if IS_SKIFF:
        assert "process.apparmorProfile" in r.stderr and name in r.stderr, r.describe()
    assert runtime.state_dirs() == []
    assert not (shared / "started").exists()

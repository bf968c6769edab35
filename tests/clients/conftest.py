"""Fixtures of the client suite: real podman and containerd drive the runtime
under test.  See docs/clients.md.

Environment:
  SKIFF               runtime binary (default: <repo>/src/skiff); any runtime
                      with runc's command line works (SKIFF=/usr/sbin/runc
                      validates the tests themselves)
  SKIFF_CLIENTS_TMP   where the private podman/containerd dirs go (default
                      /tmp; keep it short: unix socket paths live there)
  SKIFF_KEEP          1 keeps those dirs (argv logs, containerd log)
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

import clientlib


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "needs_command(name): xfail when the runtime lacks the command"
    )


def pytest_report_header(config):
    rt = clientlib.runtime_path()
    return [f"runtime under test: {rt}", f"its commands: {' '.join(sorted(clientlib.runtime_commands(rt)))}"]


def pytest_collection_modifyitems(config, items):
    rt = clientlib.runtime_path()
    if os.geteuid() != 0:
        skip = pytest.mark.skip(reason="the client suite runs podman and containerd as root")
        for item in items:
            item.add_marker(skip)
        return
    if not (os.path.isfile(rt) and os.access(rt, os.X_OK)):
        raise pytest.UsageError(f"runtime {rt} not found or not executable: build skiff (make) or set SKIFF")
    commands = clientlib.runtime_commands(rt)
    for item in items:
        for m in item.iter_markers("needs_command"):
            for name in m.args:
                if name not in commands:
                    item.add_marker(
                        pytest.mark.xfail(
                            reason=f"{os.path.basename(rt)} has no `{name}` command yet",
                            strict=True,
                        )
                    )


@pytest.fixture(scope="session")
def runtime() -> str:
    return clientlib.runtime_path()


@pytest.fixture(scope="session")
def workroot():
    """One private directory for the session's clients."""
    d = Path(
        tempfile.mkdtemp(prefix="skc-", dir=os.environ.get("SKIFF_CLIENTS_TMP", "/tmp"))
    )
    os.chmod(d, 0o755)
    yield d
    if os.environ.get("SKIFF_KEEP") == "1":
        print(f"\nclient suite work dir kept: {d}")
        clientlib.unmount_below(d)
    else:
        clientlib.remove_tree(d)


@pytest.fixture(scope="session")
def busybox_tar(workroot) -> Path:
    return clientlib.busybox_rootfs_tar(workroot / "busybox-rootfs.tar")

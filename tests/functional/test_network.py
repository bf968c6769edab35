"""The container's network.

The loopback device of a new network namespace is up, as with runc and
crun (config-linux.md says nothing of it; a container whose `nc 127.0.0.1`
fails with "Network is unreachable" is of little use)."""

from __future__ import annotations

import subprocess

import pytest

from harness import parse_kv


@pytest.fixture
def netns(test_env):
    """A network namespace held by a bind mount in the work dir (what `ip
    netns add` does); unmounted at teardown, which destroys what is in it."""
    path = test_env.workdir / "netns"
    path.touch()
    subprocess.run(["unshare", f"--net={path}", "true"], check=True, timeout=10)
    test_env.add_cleanup(lambda: subprocess.run(["umount", str(path)], check=True, timeout=10))
    return str(path)


# ------------------------------------------------------------------ lo


# A server on 127.0.0.1 that answers "pong" and closes, and a client that
# retries until it listens.
LOOPBACK_SCRIPT = """
echo "flags=$(cat /sys/class/net/lo/flags)"
nc -l -p 5555 -e echo pong &
for i in $(seq 1 50); do
  reply=$(nc 127.0.0.1 5555 </dev/null 2>/dev/shm/err) && [ -n "$reply" ] && break
  sleep 0.1
done
[ -n "$reply" ] || kill $!
echo "reply=$reply"
echo "err=$(cat /dev/shm/err)"
"""


def test_loopback_up_in_new_network_namespace(runtime, bundle, cid):
    bundle.sh(LOOPBACK_SCRIPT)
    kv = parse_kv(runtime.run(cid, bundle).ok().stdout)
    assert int(kv["flags"], 16) & 0x1, kv  # IFF_UP
    assert kv["reply"] == "pong", kv


def test_loopback_of_joined_namespace_left_alone(runtime, bundle, cid, netns):
    """A namespace joined by path is its owner's to configure."""
    bundle.add_namespace("network", netns)
    bundle.sh("cat /sys/class/net/lo/flags")
    assert int(runtime.run(cid, bundle).ok().stdout, 16) & 0x1 == 0

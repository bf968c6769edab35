"""Attack class: hostile input files and values.

A FIFO as config.json used to hang create forever; a 10 MB string was
echoed into the error (32 KB of it, the cause cut off); check accepted
values that create then refused (a 65-byte hostname, rlimits the kernel
takes not).  Files a user names are opened without blocking and must be
regular files; messages keep the key and the cause of a huge value; check
and create share the kernel's limits."""

from __future__ import annotations

import os

import pytest


pytestmark = pytest.mark.skiff_only


def test_fifo_as_config_is_refused_not_waited_on(runtime, bundle, cid):
    path = bundle.save(cid)
    (path / "config.json").unlink()
    os.mkfifo(path / "config.json")
    for args in (["create", "--bundle", str(path), cid], ["check", "--bundle", str(path)]):
        r = runtime(*args, timeout=10)
        r.failed()
        assert "config.json` is a FIFO: expected a regular file" in r.stderr, r.describe()
    assert runtime.state_dirs() == []


def test_process_json_from_stdin_and_a_directory(runtime, bundle, cid, workdir):
    """--process is the caller's own file: not only a regular one
    (/dev/stdin works, as with runc); a directory is an error naming it."""
    bundle.args = ["sleep", "1000"]
    runtime.create_started(cid, bundle)
    d = workdir / "process-dir"
    d.mkdir()
    r = runtime.exec(cid, opts=["--process", str(d)], timeout=10).failed()
    assert f"--process: read `{d}`: Is a directory" in r.stderr, r.describe()
    proc = bundle.process_json(args=["/bin/echo", "from-a-pipe"])
    r = runtime.exec(cid, opts=["--process", "/dev/stdin"], input=proc.read_text(), timeout=10).ok()
    assert r.stdout.strip() == "from-a-pipe", r.describe()


def test_huge_value_keeps_key_and_cause(runtime, bundle, cid):
    big = "x" * (10 << 20)
    bundle.args = [big]
    r = runtime.create(cid, bundle).failed()
    err = r.stderr.strip()
    assert len(err) < 4096, len(err)
    assert "process.args[0]" in err and "bytes left out" in err, err[:300]
    assert err.endswith("(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)"), err[-300:]
    assert runtime.state_dirs() == []


@pytest.mark.parametrize("key", ["hostname", "domainname"])
def test_uts_name_over_64_bytes_refused_by_check_and_create(runtime, bundle, cid, key):
    bundle.config[key] = "h" * 65
    r = runtime("check", "--bundle", str(bundle.save(cid)))
    assert r.returncode == 1 and f"error: {key}: 65 bytes, longer than the kernel's 64" in r.stdout, r.describe()
    r = runtime.create(cid, bundle).failed()
    assert f"{key}: 65 bytes, longer than the kernel's 64" in r.stderr, r.describe()
    bundle.config[key] = "h" * 64
    runtime.create(cid, bundle).ok()


def test_rlimits_refused_by_check_and_create_alike(runtime, bundle, cid):
    nr_open = int(open("/proc/sys/fs/nr_open").read())
    cases = [
        ({"type": "RLIMIT_NOFILE", "soft": 2048, "hard": 1024}, "is above the hard limit"),
        ({"type": "RLIMIT_NOFILE", "soft": 1024, "hard": nr_open + 1}, "fs.nr_open"),
    ]
    for rl, what in cases:
        bundle.process["rlimits"] = [rl]
        r = runtime("check", "--bundle", str(bundle.save(cid)))
        assert r.returncode == 1 and "process.rlimits[0]" in r.stdout and what in r.stdout, r.describe()
        r = runtime.create(cid, bundle).failed()
        assert "process.rlimits[0]" in r.stderr and what in r.stderr, r.describe()
        assert runtime.state_dirs() == []


def test_unknown_sysctl_refused_by_check_and_create(runtime, bundle, cid):
    bundle.add_namespace("network")
    bundle.linux["sysctl"] = {"net.ipv4.skiff_no_such_knob": "1"}
    r = runtime("check", "--bundle", str(bundle.save(cid)))
    want = 'linux.sysctl["net.ipv4.skiff_no_such_knob"]: this kernel has no such sysctl'
    assert r.returncode == 1 and want in r.stdout, r.describe()
    r = runtime.create(cid, bundle).failed()
    assert want in r.stderr, r.describe()
    assert runtime.state_dirs() == []


def test_non_numeric_sysctl_value_refused_by_check_and_create(runtime, bundle, cid):
    bundle.add_namespace("network")
    bundle.linux["sysctl"] = {"net.ipv4.ip_forward": "yes"}
    r = runtime("check", "--bundle", str(bundle.save(cid)))
    want = 'linux.sysctl["net.ipv4.ip_forward"]: `yes` is not a number'
    assert r.returncode == 1 and want in r.stdout, r.describe()
    assert want in runtime.create(cid, bundle).failed().stderr
    bundle.linux["sysctl"] = {"net.ipv4.ip_forward": "1", "net.ipv4.ip_local_port_range": "32768 60999"}
    runtime.create(cid, bundle).ok()

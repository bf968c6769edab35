"""Bad input: a clear error, a non-zero exit and nothing left behind."""

import json
import os
import re
import shutil

import pytest

from harness import cgroup_leftovers, processes_of_test, unique, wait_for


def assert_no_leftovers(runtime, cid, check_processes=True):
    r = runtime.state_result(cid)
    assert r.returncode != 0, "state of a failed container:\n" + r.describe()
    assert cid not in runtime.state_dirs(), f"state dir left: {runtime.state_dirs()}"
    assert not [c for c in cgroup_leftovers() if c.endswith("/" + cid)], "cgroup left"
    if not check_processes:  # other containers of the test are running
        return
    wait_for(
        lambda: not processes_of_test(runtime.token, runtime.workdir),
        timeout=3,
        what="no process of the failed container",
    )


def create_fails(runtime, bundle, cid, *opts, check_processes=True):
    r = runtime.create(cid, bundle, *opts).failed()
    assert r.stderr.strip(), "an error must say something on stderr\n" + r.describe()
    assert_no_leftovers(runtime, cid, check_processes)
    return r


def run_fails(runtime, bundle, cid):
    r = runtime.run(cid, bundle).failed()
    assert r.stderr.strip(), r.describe()
    assert_no_leftovers(runtime, cid)
    return r


# ------------------------------------------------------------- the bundle


def test_missing_config(runtime, bundle, cid):
    bundle.save(cid)
    os.unlink(bundle.path / "config.json")
    runtime.ids.append(cid)
    r = runtime("create", "--bundle", bundle.path, cid).failed()
    assert "config.json" in r.stderr
    assert_no_leftovers(runtime, cid)


def test_missing_bundle_dir(runtime, workdir, cid):
    runtime.ids.append(cid)
    r = runtime("create", "--bundle", workdir / "no-such-bundle", cid).failed()
    assert r.stderr.strip()
    assert_no_leftovers(runtime, cid)


@pytest.mark.parametrize(
    "text",
    ["", "{", '{"ociVersion": "1.0.2",}', "[]", "null", '{"process": "x"}'],
    ids=["empty", "truncated", "trailing-comma", "array", "null", "wrong-type"],
)
def test_bad_json(runtime, bundle, cid, text):
    bundle.save(cid)
    (bundle.path / "config.json").write_text(text)
    runtime.ids.append(cid)
    r = runtime("create", "--bundle", bundle.path, cid).failed()
    assert r.stderr.strip()
    assert_no_leftovers(runtime, cid)


def test_missing_rootfs(runtime, bundle, cid):
    shutil.rmtree(bundle.rootfs)
    create_fails(runtime, bundle, cid)


def test_rootfs_is_a_file(runtime, bundle, cid):
    shutil.rmtree(bundle.rootfs)
    bundle.rootfs.write_text("not a directory")
    create_fails(runtime, bundle, cid)


def test_missing_args_binary(runtime, bundle, cid):
    bundle.args = ["/no/such/binary"]
    create_fails(runtime, bundle, cid)


def test_args_not_executable(runtime, bundle, cid):
    bundle.args = ["/etc/passwd"]
    create_fails(runtime, bundle, cid)


def test_args_empty(runtime, bundle, cid):
    bundle.args = []
    create_fails(runtime, bundle, cid)


def test_no_process(runtime, bundle, cid):
    del bundle.config["process"]
    create_fails(runtime, bundle, cid)


# --------------------------------------------------------- invalid values


@pytest.mark.xfail_runtime("crun", reason="crun 1.8 accepts a relative cwd")
def test_relative_cwd(runtime, bundle, cid):
    bundle.process["cwd"] = "tmp"
    create_fails(runtime, bundle, cid)


def test_unknown_namespace_type(runtime, bundle, cid):
    bundle.linux["namespaces"].append({"type": "bogus"})
    create_fails(runtime, bundle, cid)


@pytest.mark.xfail_runtime("crun", reason="crun 1.8 accepts a duplicate namespace")
def test_duplicate_namespace(runtime, bundle, cid):
    bundle.linux["namespaces"].append({"type": "pid"})
    create_fails(runtime, bundle, cid)


@pytest.mark.xfail_runtime("crun", reason="crun 1.8 ignores unknown caps silently")
def test_unknown_capability(runtime, bundle, cid):
    """runc ignores capabilities it does not know (newer than itself) with a
    warning; failing is fine too.  Silently accepting is not."""
    bundle.process["capabilities"]["bounding"].append("CAP_BOGUS")
    r = runtime.create(cid, bundle)
    if r.returncode == 0:
        assert "CAP_BOGUS" in r.stderr, "an ignored capability must be warned about"
    else:
        assert r.stderr.strip()
        assert_no_leftovers(runtime, cid)


def test_unknown_rlimit(runtime, bundle, cid):
    bundle.process["rlimits"].append({"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1})
    create_fails(runtime, bundle, cid)


def test_rlimit_soft_above_hard(runtime, bundle, cid):
    bundle.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 2048, "hard": 1024}]
    create_fails(runtime, bundle, cid)


def _join_relative_netns(bundle):
    bundle.remove_namespace("network")
    bundle.add_namespace("network", "proc/1/ns/net")


# runtime-spec's plain MUSTs on the config's own values (config-rules.c):
# create refuses them, naming the key, and check reports each.
SPEC_RULES = [
    ("ociVersion", lambda b: b.config.update(ociVersion="1.2"), "ociVersion: `1.2` is not a SemVer"),
    ("ociVersion", lambda b: b.config.update(ociVersion="01.0.0"), "is not a SemVer 2.0.0 version"),
    ("annotations", lambda b: b.config.update(annotations={"": "x"}), 'annotations[""]: a key must not be empty'),
    ("hook path", lambda b: b.config.update(hooks={"prestart": [{"path": "bin/hook"}]}),
     "hooks.prestart[0].path: `bin/hook` must be an absolute path"),
    ("hook timeout", lambda b: b.config.update(hooks={"poststop": [{"path": "/bin/true", "timeout": 0}]}),
     "hooks.poststop[0].timeout: 0: must be a number of seconds above 0"),
    ("namespace path", lambda b: _join_relative_netns(b), "].path: `proc/1/ns/net` must be an absolute path"),
    ("maskedPaths", lambda b: b.linux.update(maskedPaths=["proc/kcore"]),
     "linux.maskedPaths[0]: `proc/kcore` must be an absolute path in the container"),
    ("readonlyPaths", lambda b: b.linux.update(readonlyPaths=["/proc/sys", "sys"]),
     "linux.readonlyPaths[1]: `sys` must be an absolute path in the container"),
    ("rlimit twice", lambda b: b.process.update(rlimits=[
        {"type": "RLIMIT_NOFILE", "soft": 10, "hard": 10}, {"type": "RLIMIT_NOFILE", "soft": 20, "hard": 20}]),
     "process.rlimits[1].type: `RLIMIT_NOFILE` is already set by process.rlimits[0]"),
]


@pytest.mark.skiff_only
@pytest.mark.parametrize("name,change,needle", SPEC_RULES, ids=[r[0] + str(i) for i, r in enumerate(SPEC_RULES)])
def test_spec_rules_refused_by_create_and_check(runtime, bundle, cid, name, change, needle):
    change(bundle)
    r = create_fails(runtime, bundle, cid)
    assert needle in r.stderr, r.describe()
    c = runtime("check", "--bundle", str(bundle.save(cid)))
    assert c.returncode == 1 and needle.split(": ", 1)[-1][:30] in c.stdout, c.describe()


def test_user_namespace_without_mappings(runtime, bundle, cid):
    bundle.add_namespace("user")
    create_fails(runtime, bundle, cid)


def test_sysctl_not_namespaced(runtime, bundle, cid):
    bundle.linux["sysctl"] = {"kernel.panic": "10"}
    with open("/proc/sys/kernel/panic") as f:
        before = f.read()
    create_fails(runtime, bundle, cid)
    with open("/proc/sys/kernel/panic") as f:
        assert f.read() == before


def test_net_sysctl_without_netns(runtime, bundle, cid):
    bundle.remove_namespace("network")
    bundle.linux["sysctl"] = {"net.ipv4.ip_forward": "1"}
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        before = f.read()
    create_fails(runtime, bundle, cid)
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        assert f.read() == before


@pytest.mark.parametrize(
    "field, sysctl, value, needle",
    [
        ("hostname", "kernel.hostname", "other", "conflicts with hostname `box`"),
        ("hostname", "kernel.hostname", "box", "conflicts with hostname `box`"),
        (None, "kernel.hostname", "other", "conflicts with the hostname field"),
        ("domainname", "kernel.domainname", "other", "conflicts with domainname `box`"),
        ("domainname", "kernel/domainname", "other", "conflicts with domainname `box`"),
    ],
)
def test_sysctl_conflicts_with_uts_field(runtime, bundle, cid, field, sysctl, value, needle):
    """One of the two would silently win (the sysctl, written last):
    refused, naming both keys.  kernel.hostname alone is refused too, as
    runc does: the hostname field is the way to set it."""
    bundle.config.pop("hostname", None)
    if field:
        bundle.config[field] = "box"
    bundle.linux["sysctl"] = {sysctl: value}
    r = create_fails(runtime, bundle, cid)
    dotted = sysctl.replace("/", ".")
    assert f'linux.sysctl["{dotted}"]: ' in r.stderr, r.stderr
    assert needle in r.stderr, r.stderr


def test_unknown_sysctl(runtime, bundle, cid):
    bundle.linux["sysctl"] = {"net.ipv4.no_such_knob": "1"}
    create_fails(runtime, bundle, cid)


@pytest.mark.parametrize("priority", [8, -1])
def test_io_priority_out_of_range(runtime, bundle, cid, priority):
    """A level above 7 would land in the kernel's hint bits, a negative
    one in the class: refused, not passed on."""
    bundle.process["ioPriority"] = {"class": "IOPRIO_CLASS_BE", "priority": priority}
    r = create_fails(runtime, bundle, cid)
    assert f"process.ioPriority.priority: {priority} is outside 0-7" in r.stderr


def test_oom_score_adj_out_of_range(runtime, bundle, cid):
    bundle.process["oomScoreAdj"] = 5000
    create_fails(runtime, bundle, cid)


def test_bind_mount_missing_source(runtime, bundle, cid, workdir):
    bundle.add_mount("/data", workdir / "no-such-dir")
    create_fails(runtime, bundle, cid)


def test_unknown_mount_type(runtime, bundle, cid):
    bundle.add_mount("/x", "none", "no-such-fs", [])
    create_fails(runtime, bundle, cid)


def test_failed_run_leaves_nothing(runtime, bundle, cid):
    bundle.args = ["/no/such/binary"]
    run_fails(runtime, bundle, cid)


def test_failure_does_not_disturb_other_containers(runtime, make_bundle, cid):
    good = make_bundle()
    st = runtime.create_started(cid, good)
    bad = make_bundle(args=["/no/such/binary"])
    other = unique("bad")
    create_fails(runtime, bad, other, check_processes=False)
    assert runtime.state(cid)["pid"] == st["pid"]
    assert runtime.status(cid) == "running"


# ---------------------------------------------------------------- the CLI


def test_unknown_command(runtime):
    r = runtime("no-such-command").failed()
    assert r.stderr.strip() or r.stdout.strip()


@pytest.mark.parametrize("verb", ["create", "start", "state", "kill", "delete", "exec"])
def test_missing_container_id(runtime, verb):
    runtime(verb).failed()


def test_unknown_flag(runtime, bundle, cid):
    runtime.ids.append(cid)
    runtime("create", "--no-such-flag", "--bundle", bundle.save(cid), cid).failed()
    assert_no_leftovers(runtime, cid)


@pytest.mark.parametrize("verb", ["create", "run", "exec", "kill", "delete", "state", "list"])
def test_help(runtime, verb):
    r = runtime(verb, "--help").ok()
    assert r.stdout.strip()


def test_version(runtime):
    r = runtime("--version").ok()
    assert re.search(r"version \S+", r.stdout), r.stdout
    assert "spec: " in r.stdout


# -------------------------------------------------------------------- log


def test_log_file_json_on_error(runtime, bundle, cid, workdir):
    """containerd reads the reason of a failure from --log in json."""
    runtime.log_path = workdir / "runtime.log"
    bundle.args = ["/no/such/binary"]
    runtime.create(cid, bundle).failed()
    lines = [json.loads(line) for line in runtime.log_path.read_text().splitlines() if line.strip()]
    errors = [entry for entry in lines if entry.get("level") == "error"]
    assert errors, lines
    assert errors[-1]["msg"]
    assert "time" in errors[-1]
    assert_no_leftovers(runtime, cid)


# ------------------------------------------------------------ skiff only


@pytest.mark.skiff_only
def test_config_error_names_file_line_and_field(runtime, bundle, cid):
    bundle.linux["namespaces"][1]["type"] = 7
    r = create_fails(runtime, bundle, cid)
    assert re.search(r"config\.json:\d+:\d+: linux\.namespaces\[1\]\.type: ", r.stderr), r.stderr


@pytest.mark.skiff_only
def test_error_on_stderr_is_plain_text(runtime, bundle, cid):
    bundle.args = ["/no/such/binary"]
    r = create_fails(runtime, bundle, cid)
    assert "/no/such/binary" in r.stderr
    assert not r.stderr.lstrip().startswith("{")
    assert "level=" not in r.stderr


@pytest.mark.skiff_only
def test_unknown_id_wording(runtime):
    missing = unique("missing")
    r = runtime("state", missing).failed()
    assert missing in r.stderr and "does not exist" in r.stderr


@pytest.mark.skiff_only
def test_check_valid_bundle(runtime, bundle, cid):
    bundle.save(cid)
    runtime("check", cwd=bundle.path).ok()


@pytest.mark.skiff_only
def test_check_lists_every_problem(runtime, bundle, cid):
    bundle.linux["namespaces"][1]["type"] = 7
    bundle.process["cwd"] = 5
    bundle.save(cid)
    r = runtime("check", cwd=bundle.path).failed()
    text = r.stdout + r.stderr
    assert "linux.namespaces[1].type" in text
    assert "process.cwd" in text

"""config.hooks: when each kind runs, what it gets on stdin, and what a
failing or hanging hook does to the lifecycle."""

import json
import os
import time

import pytest

from harness import TOKEN_VAR, pid_alive, wait_for

HOST_HOOKS = ["prestart", "createRuntime", "createContainer", "poststart", "poststop"]
ALL_HOOKS = HOST_HOOKS[:3] + ["startContainer"] + HOST_HOOKS[3:]


class Hooks:
    """Writes hook scripts that record their stdin, args, env and cwd in
    <workdir>/hooks/<name>.* and append their name to <workdir>/hooks/seq.
    startContainer runs inside the container, so its hook is /bin/sh of the
    rootfs writing to the bundle's /shared mount."""

    def __init__(self, workdir, bundle):
        self.dir = workdir / "hooks"
        self.dir.mkdir()
        self.bundle = bundle
        self.shared = bundle.shared

    def script(self, name, code=0, sleep=None):
        p = self.dir / f"{name}.sh"
        d = self.dir
        body = (
            "#!/bin/sh\n"
            f"cat > {d}/{name}.json\n"
            f'echo "$@" > {d}/{name}.args\n'
            f"env > {d}/{name}.env\n"
            f"pwd > {d}/{name}.cwd\n"
            f"echo {name} >> {d}/seq\n"
        )
        if sleep:
            body += f"exec sleep {sleep}\n"
        body += f"exit {code}\n"
        p.write_text(body)
        p.chmod(0o755)
        return {"path": str(p), "args": [name, "arg1", "arg 2"], "env": ["HOOK_VAR=yes"]}

    def start_container(self, code=0):
        return {
            "path": "/bin/sh",
            "args": [
                "sh", "-c",
                f"cat > /shared/startContainer.json; echo startContainer >> /shared/seq; exit {code}",
            ],
        }

    def unread(self, name, code=0):
        """A hook that records its run and exits without reading stdin."""
        seq = "/shared/seq" if name == "startContainer" else f"{self.dir}/seq"
        return {"path": "/bin/sh", "args": ["sh", "-c", f"echo {name} >> {seq}; exit {code}"]}

    def install(self, failing=None, only=None):
        hooks = {}
        for name in only or ALL_HOOKS:
            code = 1 if name == failing else 0
            if name == "startContainer":
                hooks[name] = [self.start_container(code)]
            else:
                hooks[name] = [self.script(name, code)]
        self.bundle.config["hooks"] = hooks

    def ran(self):
        seq = []
        for f in (self.dir / "seq", self.shared / "seq"):
            if f.exists():
                seq += f.read_text().split()
        return seq

    def host_ran(self):
        """Hooks run on the host, in order."""
        f = self.dir / "seq"
        return f.read_text().split() if f.exists() else []

    def state(self, name):
        base = self.shared if name == "startContainer" else self.dir
        return json.loads((base / f"{name}.json").read_text())

    def env(self, name):
        return dict(
            line.split("=", 1)
            for line in (self.dir / f"{name}.env").read_text().splitlines()
            if "=" in line
        )


@pytest.fixture
def hooks(workdir, bundle):
    return Hooks(workdir, bundle)


def assert_gone(runtime, cid):
    """Nothing of the container remains: no state, no state dir."""
    r = runtime.state_result(cid)
    assert r.returncode != 0, r.describe()
    assert cid not in runtime.state_dirs()


# ------------------------------------------------------------ happy path


def test_hooks_run_in_lifecycle_order(runtime, bundle, cid, hooks):
    # poststart's timing has its own test (runc runs it early).
    hooks.install(only=[h for h in ALL_HOOKS if h != "poststart"])
    runtime.create(cid, bundle).ok()
    assert hooks.ran() == ["prestart", "createRuntime", "createContainer"]
    runtime.start(cid).ok()
    wait_for(lambda: "startContainer" in hooks.ran(), what="startContainer")
    assert hooks.host_ran() == ["prestart", "createRuntime", "createContainer"]
    runtime.delete(cid, force=True).ok()
    assert hooks.host_ran() == ["prestart", "createRuntime", "createContainer", "poststop"]


@pytest.mark.xfail_runtime(
    "runc", reason="runc 1.1 runs poststart hooks during create (status created)"
)
def test_poststart_runs_after_start_not_create(runtime, bundle, cid, hooks):
    hooks.install(only=["poststart"])
    runtime.create(cid, bundle).ok()
    assert "poststart" not in hooks.ran(), "poststart ran before start"
    runtime.start(cid).ok()
    wait_for(lambda: "poststart" in hooks.ran(), what="poststart")
    assert hooks.state("poststart")["status"] == "running"


def test_hook_state_on_stdin(runtime, bundle, cid, hooks):
    hooks.install()
    runtime.create(cid, bundle).ok()
    st = runtime.state(cid)
    runtime.start(cid).ok()
    wait_for(lambda: "startContainer" in hooks.ran(), what="startContainer")
    runtime.delete(cid, force=True).ok()
    for name in ALL_HOOKS:
        s = hooks.state(name)
        assert s["id"] == cid, name
        assert s["ociVersion"], name
        if name != "startContainer":  # runs inside: the host path may not resolve
            assert os.path.samefile(s["bundle"], bundle.path), name
    for name in ("prestart", "createRuntime", "poststart"):
        assert hooks.state(name)["pid"] == st["pid"]
    assert hooks.state("poststop")["status"] == "stopped"


@pytest.mark.xfail_runtime("crun", reason="crun 1.8 reports created during creation")
def test_hook_status_values(runtime, bundle, cid, hooks):
    hooks.install()
    runtime.create(cid, bundle).ok()
    runtime.start(cid).ok()
    wait_for(lambda: "startContainer" in hooks.ran(), what="startContainer")
    runtime.delete(cid, force=True).ok()
    for name in ("prestart", "createRuntime", "createContainer"):
        assert hooks.state(name)["status"] == "creating", name
    assert hooks.state("startContainer")["status"] == "created"
    # runc 1.1 runs poststart at create time and reports created.
    assert hooks.state("poststart")["status"] in ("created", "running")
    assert hooks.state("poststop")["status"] == "stopped"


def test_hook_args_and_env(runtime, bundle, cid, hooks):
    hooks.install(only=["prestart"])
    runtime.create(cid, bundle).ok()
    # args[0] is argv[0]; the script (via #!) sees the rest.
    assert (hooks.dir / "prestart.args").read_text() == "arg1 arg 2\n"
    env = hooks.env("prestart")
    assert env["HOOK_VAR"] == "yes"
    assert TOKEN_VAR not in env, "hooks get their own env, not the runtime's"


def test_hook_without_env_gets_the_callers(runtime, bundle, cid, hooks, workdir):
    """As with runc and crun: a host hook without env runs with the
    runtime's environment, an in-container one with the process's."""
    prestart = hooks.script("prestart")
    del prestart["env"]
    bundle.set_env("ONLY_IN_CONFIG", "c1")
    bundle.config["hooks"] = {
        "prestart": [prestart],
        "startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "env > /shared/start.env"]}],
    }
    hooks.shared  # mounted before save
    bundle.sh("true")
    runtime.run(cid, bundle, env={"ONLY_IN_RUNTIME": "r1"}).ok()
    env = hooks.env("prestart")
    assert env.get("ONLY_IN_RUNTIME") == "r1" and "ONLY_IN_CONFIG" not in env, env
    inside = dict(line.split("=", 1) for line in (hooks.shared / "start.env").read_text().splitlines() if "=" in line)
    assert inside.get("ONLY_IN_CONFIG") == "c1" and "ONLY_IN_RUNTIME" not in inside, inside


def test_hook_cwd_is_bundle(runtime, bundle, cid, hooks):
    hooks.install(only=["prestart", "createRuntime"])
    runtime.create(cid, bundle, cwd="/").ok()
    for name in ("prestart", "createRuntime"):
        cwd = (hooks.dir / f"{name}.cwd").read_text().strip()
        assert os.path.samefile(cwd, bundle.path), name


def test_hooks_with_run(runtime, bundle, cid, hooks):
    hooks.install()
    bundle.args = ["/init", "exit", "0"]
    runtime.run(cid, bundle).ok()
    assert sorted(hooks.ran()) == sorted(ALL_HOOKS)
    assert hooks.host_ran()[-1] == "poststop"


def test_poststop_on_delete_of_stopped(runtime, bundle, cid, hooks):
    hooks.install(only=["poststop"])
    bundle.args = ["/init", "exit", "0"]
    runtime.create_started(cid, bundle)
    runtime.wait_status(cid, "stopped")
    assert hooks.ran() == []
    runtime.delete(cid).ok()
    assert hooks.ran() == ["poststop"]


def test_multiple_hooks_of_a_kind_run_in_order(runtime, bundle, cid, hooks):
    d = hooks.dir
    entries = []
    for i in range(3):
        p = d / f"multi{i}.sh"
        p.write_text(f"#!/bin/sh\ncat >/dev/null\necho {i} >> {d}/multi\n")
        p.chmod(0o755)
        entries.append({"path": str(p)})
    bundle.config["hooks"] = {"prestart": entries}
    runtime.create(cid, bundle).ok()
    assert (d / "multi").read_text().split() == ["0", "1", "2"]


# --------------------------------------------------------------- failures


@pytest.mark.parametrize("failing", ["prestart", "createRuntime", "createContainer"])
def test_failing_create_hook_fails_create(runtime, bundle, cid, hooks, failing):
    shared = hooks.shared
    hooks.install(failing=failing)
    bundle.sh("echo ran > /shared/ran; exec /init ready")
    r = runtime.create(cid, bundle).failed()
    assert r.stderr.strip()
    assert_gone(runtime, cid)
    ran = hooks.ran()
    assert failing in ran
    assert "startContainer" not in ran and "poststart" not in ran
    assert not (shared / "ran").exists()


@pytest.mark.parametrize("failing", ["prestart", "createRuntime", "createContainer"])
@pytest.mark.xfail_runtime("crun", reason="crun 1.8 skips poststop after a failed create")
def test_failing_create_hook_runs_poststop(runtime, bundle, cid, hooks, failing):
    """The lifecycle continues with the destroy steps: poststop runs."""
    hooks.install(failing=failing)
    runtime.create(cid, bundle).failed()
    assert hooks.host_ran()[-1] == "poststop"


def test_failing_hook_stops_later_hooks_of_same_kind(runtime, bundle, cid, hooks):
    first = hooks.script("prestart", code=1)
    second = hooks.script("createRuntime")  # would record createRuntime
    bundle.config["hooks"] = {"prestart": [first, second]}
    runtime.create(cid, bundle).failed()
    assert hooks.ran() == ["prestart"]
    assert_gone(runtime, cid)


def test_failing_start_container_hook(runtime, bundle, cid, hooks):
    shared = hooks.shared
    hooks.install(failing="startContainer", only=["startContainer"])
    bundle.sh("echo ran > /shared/ran; exec /init ready")
    runtime.create(cid, bundle).ok()
    runtime.start(cid)
    runtime.wait_status(cid, "stopped")
    assert "startContainer" in hooks.ran()
    assert not (shared / "ran").exists(), "user process ran despite the failed hook"


@pytest.mark.skiff_only
def test_failing_start_container_hook_fails_start(runtime, bundle, cid, hooks):
    hooks.install(failing="startContainer", only=["startContainer"])
    runtime.create(cid, bundle).ok()
    runtime.start(cid).failed()


def test_failing_poststart_fails_start_and_deletes(runtime, bundle, cid, hooks):
    """runtime-spec 1.3: a failing poststart hook is an error of start; the
    container is stopped and deleted (poststop hooks run), as with runc."""
    bundle.config["hooks"] = {
        "poststart": [hooks.script("poststart", code=1), hooks.script("createRuntime")],
        "poststop": [hooks.script("poststop")],
    }
    bundle.args = ["sleep", "100"]
    runtime.create(cid, bundle).ok()
    pid = runtime.state(cid)["pid"]
    r = runtime.start(cid).failed()
    assert "hooks.poststart[0]" in r.stderr and "stopped and deleted" in r.stderr, r.describe()
    assert hooks.ran() == ["poststart", "poststop"]  # the second poststart hook did not run
    assert_gone(runtime, cid)
    assert not pid_alive(pid)


def test_failing_poststop_does_not_block_delete(runtime, bundle, cid, hooks):
    hooks.install(failing="poststop", only=["poststop"])
    runtime.create_started(cid, bundle)
    runtime.delete(cid, force=True)
    assert hooks.ran() == ["poststop"]
    assert_gone(runtime, cid)


def test_hook_timeout(runtime, bundle, cid, hooks):
    slow = hooks.script("prestart", sleep=60)
    slow["timeout"] = 1
    bundle.config["hooks"] = {"prestart": [slow]}
    t0 = time.monotonic()
    r = runtime.create(cid, bundle, timeout=20).failed()
    elapsed = time.monotonic() - t0
    assert elapsed < 10, f"a 1s hook timeout took {elapsed:.1f}s"
    assert r.stderr.strip()
    assert_gone(runtime, cid)


def test_missing_hook_binary_fails_create(runtime, bundle, cid, workdir):
    bundle.config["hooks"] = {"createRuntime": [{"path": str(workdir / "no-such-hook")}]}
    runtime.create(cid, bundle).failed()
    assert_gone(runtime, cid)


def test_failed_create_leaves_no_process(runtime, bundle, cid, hooks):
    hooks.install(failing="createContainer", only=["createRuntime", "createContainer"])
    runtime.create(cid, bundle).failed()
    pid = hooks.state("createRuntime")["pid"]
    wait_for(lambda: not pid_alive(pid), what="the half-made container's init to be gone")


def test_start_container_hook_runs_as_the_process(runtime, bundle, cid):
    """As with runc, the init has become the process (user, capabilities,
    no_new_privs) before create returns: the startContainer hooks, run by
    it after start, have its credentials."""
    os.chmod(bundle.shared, 0o777)
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.process["noNewPrivileges"] = True
    bundle.config["hooks"] = {"startContainer": [{
        "path": "/bin/sh",
        "args": ["sh", "-c", "grep -E '^(Uid|CapEff|NoNewPrivs):' /proc/self/status > /shared/creds"],
    }]}
    bundle.sh("true")
    runtime.run(cid, bundle).ok()
    creds = dict(line.split(":\t") for line in (bundle.shared / "creds").read_text().splitlines())
    assert creds["Uid"].split()[0] == "1000" and int(creds["CapEff"], 16) == 0, creds
    assert creds["NoNewPrivs"] == "1", creds


# A state larger than a pipe's buffer (64 KiB), so that writing it to a hook
# that exits without reading fails for certain: EPIPE, and SIGPIPE.  The
# hooks run in the container get their state from the runtime in one sync
# message (32 KiB at most): theirs is smaller, and the unit test
# (unit/test-hooks) covers the code they share with the others.
BIG_ANNOTATION = {"org.skiff.test.big": "x" * 100_000}
SYNC_SIZED_ANNOTATION = {"org.skiff.test.big": "x" * 12_000}


@pytest.mark.parametrize("kind", ALL_HOOKS)
def test_hook_that_does_not_read_its_state(runtime, bundle, cid, hooks, kind):
    in_container = kind in ("createContainer", "startContainer")
    bundle.config["annotations"] = SYNC_SIZED_ANNOTATION if in_container else BIG_ANNOTATION
    bundle.config["hooks"] = {kind: [hooks.unread(kind)]}
    runtime.create(cid, bundle).ok()
    runtime.start(cid).ok()
    assert runtime.status(cid) == "running"
    runtime.delete(cid, force=True).ok()
    assert_gone(runtime, cid)
    assert hooks.ran() == [kind]


# Where each kind's failure is reported: create or start fail (poststart:
# and the container is deleted), or poststop warns and delete goes on.
FAILURE_VERB = {
    "prestart": "create",
    "createRuntime": "create",
    "createContainer": "create",
    "startContainer": "start",
    "poststart": "start",
    "poststop": "delete",
}


@pytest.mark.skiff_only
@pytest.mark.parametrize("kind", ALL_HOOKS)
def test_failure_names_the_hook_index(runtime, bundle, cid, hooks, kind):
    bundle.config["hooks"] = {kind: [hooks.unread(kind), hooks.unread(kind, code=3)]}
    verb = FAILURE_VERB[kind]
    r = runtime.create(cid, bundle)
    if verb != "create":
        r.ok()
        r = runtime.start(cid)
        if verb == "delete":
            r.ok()
            r = runtime.delete(cid, force=True).ok()
    assert f"hooks.{kind}[1]" in r.stderr, r.describe()
    assert "exit status 3" in r.stderr, r.describe()
    assert f"hooks.{kind}[0]" not in r.stderr, r.describe()
    assert hooks.ran() == [kind, kind]

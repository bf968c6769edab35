"""What the container process sees: config.process and friends (user, env,
cwd, rlimits, capabilities, noNewPrivileges, oomScoreAdj, sysctl, hostname,
fds, root filesystem)."""

import os
import resource
import shutil
from pathlib import Path

import pytest

import host
from harness import CAPS, DEFAULT_CAPS, TOKEN_VAR, cap_mask, cgroup_path, parse_kv


def run_init(runtime, bundle, cid, *args, **kw):
    """Run /init ARGS in the container; return its key=value report."""
    bundle.args = ["/init", *args]
    r = runtime.run(cid, bundle, **kw).ok()
    return parse_kv(r.stdout)


def run_sh(runtime, bundle, cid, script, **kw):
    bundle.sh(script)
    return runtime.run(cid, bundle, **kw).ok()


# --------------------------------------------------------------- args, env


def test_args_passed_verbatim(runtime, bundle, cid):
    bundle.args = ["/bin/echo", "a b", "", "$HOME", "*"]
    r = runtime.run(cid, bundle).ok()
    assert r.stdout == "a b  $HOME *\n"


def test_args_resolved_through_path(runtime, bundle, cid):
    bundle.args = ["skiff-init", "exit", "5"]
    assert runtime.run(cid, bundle).returncode == 5


def test_env_exact(runtime, bundle, cid):
    bundle.set_env("FOO", "bar baz")
    bundle.set_env("EMPTY", "")
    bundle.set_env("HOME", "/custom")
    env = run_init(runtime, bundle, cid, "env")
    expected = {e.split("=", 1)[0]: e.split("=", 1)[1] for e in bundle.process["env"]}
    assert env == expected


def test_home_from_passwd_when_unset(runtime, bundle, cid):
    """runc sets HOME from the rootfs's /etc/passwd when env lacks it."""
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    env = run_init(runtime, bundle, cid, "env")
    assert env["HOME"] == "/home/user"
    assert env[TOKEN_VAR] == runtime.token


def test_home_root_default(runtime, bundle, cid):
    env = run_init(runtime, bundle, cid, "env")
    assert env["HOME"] == "/root"


def test_home_past_an_overlong_passwd_line(runtime, bundle, cid):
    """A line longer than the reader's buffer is skipped, not misread."""
    passwd = bundle.rootfs / "etc" / "passwd"
    old = passwd.read_text()
    passwd.write_text("x:" + "y" * 6000 + ":1000:1000::/wrong:/bin/sh\n" + old)
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    try:
        env = run_init(runtime, bundle, cid, "env")
    finally:
        passwd.write_text(old)
    assert env["HOME"] == "/home/user"


def test_home_unknown_uid_is_slash(runtime, bundle, cid):
    bundle.process["user"] = {"uid": 4242, "gid": 4242}
    env = run_init(runtime, bundle, cid, "env")
    assert env["HOME"] == "/"


def test_session_keyring_of_its_own(runtime, bundle, cid):
    """The init joins a new session keyring (runc: "_ses.<id>", crun: <id>)."""
    kv = run_init(runtime, bundle, cid, "keyring")
    assert kv["keyring.name"] in ("_ses." + cid, cid), kv


# --------------------------------------------------------------------- cwd


@pytest.mark.parametrize("cwd", ["/", "/tmp", "/home/user"])
def test_cwd(runtime, bundle, cid, cwd):
    bundle.process["cwd"] = cwd
    assert run_init(runtime, bundle, cid, "cwd")["cwd"] == cwd


def test_cwd_created_when_missing(runtime, bundle, cid):
    bundle.config["root"]["readonly"] = False
    bundle.process["cwd"] = "/new/dir"
    assert run_init(runtime, bundle, cid, "cwd")["cwd"] == "/new/dir"


@pytest.mark.parametrize("where", ["root.readonly", "readonlyPaths"])
def test_cwd_created_before_anything_is_read_only(runtime, bundle, cid, where):
    """As with runc, the missing cwd is made right after the pivot, before
    root.readonly or a readonlyPaths entry would refuse the mkdir."""
    if where == "root.readonly":
        bundle.config["root"]["readonly"] = True
    else:
        bundle.config["root"]["readonly"] = False
        bundle.linux["readonlyPaths"] = ["/mnt"]
    bundle.process["cwd"] = "/mnt/new/dir"
    assert run_init(runtime, bundle, cid, "cwd")["cwd"] == "/mnt/new/dir"


# -------------------------------------------------------------------- user


def test_user_uid_gid(runtime, bundle, cid):
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    ids = run_init(runtime, bundle, cid, "ids")
    assert (ids["uid"], ids["euid"], ids["suid"]) == ("1000",) * 3
    assert (ids["gid"], ids["egid"], ids["sgid"]) == ("1000",) * 3
    assert ids["groups"] == ""


def test_user_additional_gids(runtime, bundle, cid):
    bundle.process["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [2000, 3000]}
    ids = run_init(runtime, bundle, cid, "ids")
    assert ids["uid"] == "1000" and ids["gid"] == "1000"
    assert sorted(ids["groups"].split(",")) == ["2000", "3000"]


def test_root_has_no_supplementary_groups(runtime, bundle, cid):
    assert run_init(runtime, bundle, cid, "ids")["groups"] == ""


@pytest.mark.parametrize("umask,expected", [(0o27, "0027"), (0o77, "0077"), (0, "0000")])
def test_umask(runtime, bundle, cid, umask, expected):
    bundle.process["user"]["umask"] = umask
    assert run_init(runtime, bundle, cid, "umask")["umask"] == expected


def test_umask_default(runtime, bundle, cid):
    assert run_init(runtime, bundle, cid, "umask")["umask"] == "0022"


def test_user_can_write_only_where_allowed(runtime, bundle, cid):
    bundle.config["root"]["readonly"] = False
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    r = run_sh(
        runtime, bundle, cid,
        "/init write /home/user/f x; /init write /etc/f x; /init stat /home/user/f",
    )
    lines = r.stdout.splitlines()
    assert lines[0] == "errno=0"
    assert lines[1] == "errno=EACCES"
    st = parse_kv("\n".join(lines[2:]))
    assert st["uid"] == "1000" and st["gid"] == "1000"


# ----------------------------------------------------------------- rlimits


def test_rlimit_default_nofile(runtime, bundle, cid):
    r = run_init(runtime, bundle, cid, "rlimits")
    assert r["RLIMIT_NOFILE"] == "1024 1024"


def test_rlimits_set(runtime, bundle, cid):
    bundle.process["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200},
        {"type": "RLIMIT_NPROC", "soft": 500, "hard": 600},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
        {"type": "RLIMIT_MSGQUEUE", "soft": 4096, "hard": 8192},
        {"type": "RLIMIT_CPU", "soft": 1000, "hard": 2000},
    ]
    r = run_init(runtime, bundle, cid, "rlimits")
    assert r["RLIMIT_NOFILE"] == "100 200"
    assert r["RLIMIT_NPROC"] == "500 600"
    assert r["RLIMIT_CORE"] == "0 0"
    assert r["RLIMIT_MSGQUEUE"] == "4096 8192"
    assert r["RLIMIT_CPU"] == "1000 2000"


def test_rlimit_unlimited(runtime, bundle, cid):
    big = 2**64 - 1
    bundle.process["rlimits"] = [{"type": "RLIMIT_FSIZE", "soft": big, "hard": big}]
    # Raising a hard limit needs CAP_SYS_RESOURCE, which some hosts'
    # bounding sets lack: then the error names the rlimit.
    if resource.getrlimit(resource.RLIMIT_FSIZE)[1] != resource.RLIM_INFINITY and not host.has_cap(
        CAPS["SYS_RESOURCE"]
    ):
        bundle.args = ["/init", "rlimits"]
        r = runtime.run(cid, bundle).failed()
        assert "process.rlimits[0]" in r.stderr, r.describe()
        return
    r = run_init(runtime, bundle, cid, "rlimits")
    assert r["RLIMIT_FSIZE"] == "unlimited unlimited"


# ------------------------------------------------------------ capabilities


def caps_of(runtime, bundle, cid):
    return {k: int(v, 16) for k, v in run_init(runtime, bundle, cid, "caps").items()}


def test_caps_default(runtime, bundle, cid):
    caps = caps_of(runtime, bundle, cid)
    mask = cap_mask(DEFAULT_CAPS)
    assert caps["CapBnd"] == mask
    assert caps["CapPrm"] == mask
    assert caps["CapEff"] == mask
    assert caps["CapInh"] == 0


@pytest.mark.xfail_runtime("runc", "crun", reason="runc 1.1 and crun 1.8 fail (capset: EPERM)")
def test_cap_outside_bounding_set_is_left_out(runtime, bundle, cid):
    """A capability the runtime itself lacks (a host or an enclosing
    container withholds it) is left out with a warning naming it, and the
    process gets the others (config.md allows it; runc and crun fail).
    The runtime runs under setpriv without CAP_SYS_TIME, whatever the host
    grants."""
    caps = bundle.process["capabilities"]
    for field in ("bounding", "effective", "permitted"):
        caps[field] = DEFAULT_CAPS + ["CAP_SYS_TIME"]
    bundle.args = ["/init", "caps"]
    wrap = ["setpriv", "--bounding-set", "-sys_time", "--"]
    r = runtime.run(cid, bundle, wrap=wrap).ok()
    got = {k: int(v, 16) for k, v in parse_kv(r.stdout).items()}
    want = cap_mask(DEFAULT_CAPS)
    assert got["CapBnd"] == got["CapPrm"] == got["CapEff"] == want, r.describe()
    assert "CAP_SYS_TIME is not in the runtime's capability bounding set" in r.stderr, r.describe()


def test_caps_each_set(runtime, bundle, cid):
    sets = {
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_SYS_CHROOT", "CAP_NET_RAW"],
        "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_SETUID"],
        "effective": ["CAP_KILL", "CAP_SETUID"],
        "inheritable": ["CAP_CHOWN", "CAP_KILL"],
        "ambient": ["CAP_KILL"],
    }
    bundle.process["capabilities"] = sets
    caps = caps_of(runtime, bundle, cid)
    assert caps["CapBnd"] == cap_mask(sets["bounding"])
    assert caps["CapPrm"] == cap_mask(sets["permitted"])
    assert caps["CapInh"] == cap_mask(sets["inheritable"])
    assert caps["CapAmb"] == cap_mask(sets["ambient"])
    # execve as uid 0 raises the effective set to the permitted one; with
    # noNewPrivileges the permitted set cannot grow past what was set.
    assert caps["CapEff"] == cap_mask(sets["permitted"])


def test_caps_empty(runtime, bundle, cid):
    bundle.process["capabilities"] = {}
    caps = caps_of(runtime, bundle, cid)
    assert caps == {"CapInh": 0, "CapPrm": 0, "CapEff": 0, "CapBnd": 0, "CapAmb": 0}


def test_caps_kept_for_non_root_user(runtime, bundle, cid):
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.process["capabilities"] = {
        k: ["CAP_NET_BIND_SERVICE", "CAP_KILL"]
        for k in ("bounding", "permitted", "effective", "inheritable", "ambient")
    }
    caps = caps_of(runtime, bundle, cid)
    mask = cap_mask(["CAP_NET_BIND_SERVICE", "CAP_KILL"])
    assert caps["CapEff"] == mask and caps["CapPrm"] == mask and caps["CapAmb"] == mask


def test_caps_enforced(runtime, bundle, cid):
    """Without CAP_SYS_CHROOT, chroot fails with EPERM; with it, it works."""
    bundle.args = ["/init", "syscall", "chroot", "/"]
    r = runtime.run(cid, bundle)
    assert r.returncode == 1 and "errno=EPERM" in r.stdout, r.describe()
    for s in ("bounding", "permitted", "effective"):
        bundle.process["capabilities"][s].append("CAP_SYS_CHROOT")
    r = runtime.run(cid + "b", bundle)
    assert r.returncode == 0 and "errno=0" in r.stdout, r.describe()


# ------------------------------------------------------ privileges, oom


@pytest.mark.parametrize("nnp,expected", [(True, "1"), (False, "0")])
def test_no_new_privileges(runtime, bundle, cid, nnp, expected):
    bundle.process["noNewPrivileges"] = nnp
    assert run_init(runtime, bundle, cid, "status")["NoNewPrivs"] == expected


def test_no_seccomp_by_default(runtime, bundle, cid):
    assert run_init(runtime, bundle, cid, "status")["Seccomp"] == "0"


@pytest.mark.parametrize("adj", [0, 300, 1000])
def test_oom_score_adj(runtime, bundle, cid, adj):
    bundle.process["oomScoreAdj"] = adj
    # Below the lowest value the runner was given needs CAP_SYS_RESOURCE
    # (the kernel keeps that minimum; below our current value it may be
    # refused), and the refusal must name the key.
    floor = int(Path("/proc/self/oom_score_adj").read_text())
    if adj < floor and not host.has_cap(CAPS["SYS_RESOURCE"]):
        bundle.args = ["/init", "oom"]
        r = runtime.run(cid, bundle)
        if r.returncode != 0:
            assert "process.oomScoreAdj" in r.stderr, r.describe()
            return
        assert parse_kv(r.stdout)["oom_score_adj"] == str(adj)
        return
    assert run_init(runtime, bundle, cid, "oom")["oom_score_adj"] == str(adj)


def test_oom_score_adj_inherited_when_unset(runtime, bundle, cid):
    with open("/proc/self/oom_score_adj") as f:
        mine = f.read().strip()
    assert run_init(runtime, bundle, cid, "oom")["oom_score_adj"] == mine


# ------------------------------------------------------ hostname, sysctl


def test_hostname(runtime, bundle, cid):
    bundle.config["hostname"] = "skiff-host-1"
    host = os.uname().nodename
    r = run_init(runtime, bundle, cid, "hostname")
    assert r["hostname"] == "skiff-host-1"
    assert os.uname().nodename == host


@pytest.mark.xfail_runtime("runc", reason="runc 1.1 ignores domainname")
def test_domainname(runtime, bundle, cid):
    bundle.config["domainname"] = "example.test"
    assert run_init(runtime, bundle, cid, "hostname")["domainname"] == "example.test"


def test_sysctl_domainname(runtime, bundle, cid):
    """kernel.domainname alone sets the NIS domain (Docker's way, accepted
    by runc), and beside a domainname field that says the same."""
    bundle.config.pop("domainname", None)
    bundle.linux["sysctl"] = {"kernel.domainname": "sysctl.test"}
    assert run_init(runtime, bundle, cid, "hostname")["domainname"] == "sysctl.test"


def test_sysctl_domainname_agrees_with_field(runtime, bundle, cid):
    bundle.config["domainname"] = "same.test"
    bundle.linux["sysctl"] = {"kernel.domainname": "same.test"}
    assert run_init(runtime, bundle, cid, "hostname")["domainname"] == "same.test"


def test_sysctl_net(runtime, bundle, cid):
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        host_before = f.read().strip()
    want = "0" if host_before == "1" else "1"
    bundle.linux["sysctl"] = {"net.ipv4.ip_forward": want}
    r = run_init(runtime, bundle, cid, "sysctl", "net.ipv4.ip_forward")
    assert r["net.ipv4.ip_forward"] == want
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        assert f.read().strip() == host_before, "sysctl leaked to the host netns"


def test_sysctl_ipc(runtime, bundle, cid):
    bundle.linux["sysctl"] = {"kernel.shmmax": "123456789", "kernel.msgmax": "4321"}
    bundle.sh("/init sysctl kernel.shmmax; /init sysctl kernel.msgmax")
    r = parse_kv(runtime.run(cid, bundle).ok().stdout)
    assert r["kernel.shmmax"] == "123456789"
    assert r["kernel.msgmax"] == "4321"
    with open("/proc/sys/kernel/shmmax") as f:
        assert f.read().strip() != "123456789"


def test_sysctl_slash_form(runtime, bundle, cid):
    bundle.linux["sysctl"] = {"net/ipv4/ip_local_port_range": "20000 30000"}
    r = run_init(runtime, bundle, cid, "sysctl", "net.ipv4.ip_local_port_range")
    assert r["net.ipv4.ip_local_port_range"].split() == ["20000", "30000"]


# --------------------------------------------------------------------- fds


def test_only_stdio_fds_after_run(runtime, bundle, cid):
    r = run_init(runtime, bundle, cid, "fds")
    assert r["fds"] == "0,1,2", r


def test_only_stdio_fds_after_create_start(runtime, bundle, cid):
    bundle.args = ["/init", "fds"]
    c = runtime.create(cid, bundle).ok()
    runtime.start(cid).ok()
    runtime.wait_status(cid, "stopped")
    r = parse_kv(c.read_stdout())
    assert r["fds"] == "0,1,2", r


def test_fds_of_caller_not_inherited(runtime, bundle, cid, workdir):
    """An fd the caller leaks to the runtime (not asked to be preserved)
    must not reach the container."""
    bundle.args = ["/init", "fds"]
    with open(workdir / "leak", "w") as f:
        r = runtime.run(cid, bundle, fds={3: f.fileno(), 7: f.fileno()}).ok()
    assert parse_kv(r.stdout)["fds"] == "0,1,2"


def test_preserve_fds(runtime, bundle, cid):
    bundle.sh("/init fds; echo via-fd3 >&3; echo via-fd4 >&4")
    r3, w3 = os.pipe()
    r4, w4 = os.pipe()
    try:
        r = runtime.run(cid, bundle, "--preserve-fds", "2", fds={3: w3, 4: w4}).ok()
    finally:
        os.close(w3)
        os.close(w4)
    assert parse_kv(r.stdout)["fds"] == "0,1,2,3,4"
    assert os.read(r3, 100) == b"via-fd3\n"
    assert os.read(r4, 100) == b"via-fd4\n"
    os.close(r3)
    os.close(r4)


def test_preserve_fds_only_as_many_as_asked(runtime, bundle, cid):
    bundle.args = ["/init", "fds"]
    rd, wr = os.pipe()
    try:
        r = runtime.run(cid, bundle, "--preserve-fds", "1", fds={3: wr, 4: wr}).ok()
    finally:
        os.close(rd)
        os.close(wr)
    assert parse_kv(r.stdout)["fds"] == "0,1,2,3"


@pytest.mark.xfail_runtime("crun", reason="crun 1.8 does not set LISTEN_FDS/LISTEN_PID")
def test_listen_fds(runtime, bundle, cid):
    bundle.sh("/init env; /init fds; echo activated >&3")
    rd, wr = os.pipe()
    try:
        r = runtime.run(
            cid, bundle, env={"LISTEN_FDS": "1"}, fds={3: wr}, listen_pid=True
        ).ok()
    finally:
        os.close(wr)
    out = parse_kv(r.stdout)
    assert out["LISTEN_FDS"] == "1"
    assert out["LISTEN_PID"] == "1", "LISTEN_PID must name the container process"
    assert out["fds"] == "0,1,2,3"
    assert os.read(rd, 100) == b"activated\n"
    os.close(rd)


@pytest.mark.xfail_runtime("crun", reason="crun 1.8 does not check LISTEN_PID")
def test_listen_fds_ignored_for_other_pid(runtime, bundle, cid):
    """LISTEN_FDS whose LISTEN_PID is not the runtime is not for it."""
    bundle.sh("/init env; /init fds")
    rd, wr = os.pipe()
    try:
        r = runtime.run(
            cid, bundle, env={"LISTEN_FDS": "1", "LISTEN_PID": "1"}, fds={3: wr}
        ).ok()
    finally:
        os.close(rd)
        os.close(wr)
    out = parse_kv(r.stdout)
    assert out["fds"] == "0,1,2"
    assert "LISTEN_FDS" not in out


def test_not_a_tty(runtime, bundle, cid):
    r = run_init(runtime, bundle, cid, "tty")
    assert r["isatty.0"] == r["isatty.1"] == r["isatty.2"] == "0"


# -------------------------------------------------------------- root, pid


def test_readonly_root(runtime, bundle, cid):
    bundle.args = ["/init", "write", "/newfile", "x"]
    r = runtime.run(cid, bundle)
    assert r.returncode == 1 and "errno=EROFS" in r.stdout, r.describe()
    assert not (bundle.rootfs / "newfile").exists()


def test_writable_root(runtime, bundle, cid):
    bundle.config["root"]["readonly"] = False
    bundle.args = ["/init", "write", "/newfile", "hello"]
    runtime.run(cid, bundle).ok()
    assert (bundle.rootfs / "newfile").read_text() == "hello"


def test_root_is_bundle_rootfs(runtime, bundle, cid):
    (bundle.rootfs / "etc" / "marker").write_text("from-this-bundle")
    bundle.args = ["/init", "read", "/etc/marker"]
    assert runtime.run(cid, bundle).ok().stdout == "from-this-bundle"


def test_root_absolute_path(runtime, bundle, cid):
    bundle.config["root"]["path"] = str(bundle.rootfs)
    bundle.args = ["/init", "read", "/etc/passwd"]
    assert "user:x:1000" in runtime.run(cid, bundle).ok().stdout


def test_pid_one_in_pid_namespace(runtime, bundle, cid):
    r = run_init(runtime, bundle, cid, "pid")
    assert r["pid"] == "1" and r["ppid"] == "0"


def test_container_pid_is_state_pid_without_pidns(runtime, bundle, cid):
    bundle.remove_namespace("pid")
    bundle.args = ["/init", "pid"]
    c = runtime.create(cid, bundle).ok()
    pid = runtime.state(cid)["pid"]
    runtime.start(cid).ok()
    runtime.wait_status(cid, "stopped")
    assert parse_kv(c.read_stdout())["pid"] == str(pid)


def test_no_pivot(runtime, bundle, cid):
    (bundle.rootfs / "etc" / "marker").write_text("no-pivot")
    bundle.sh("/init read /etc/marker; echo; /init cwd; /init stat /init")
    r = runtime.run(cid, bundle, "--no-pivot").ok()
    lines = r.stdout.splitlines()
    assert lines[0] == "no-pivot"
    assert "cwd=/" in lines
    assert parse_kv(r.stdout)["type"] == "file"


def test_mounts_tmpfs_and_bind(runtime, bundle, cid, workdir):
    src = workdir / "bindsrc"
    src.mkdir()
    (src / "f").write_text("bound")
    bundle.add_tmpfs("/scratch")
    bundle.add_mount("/ro", src, options=["rbind", "ro"])
    bundle.sh(
        "/init write /scratch/x 1; /init read /ro/f; echo; /init write /ro/y 1; "
        "grep -E ' /(scratch|ro) ' /proc/self/mountinfo"
    )
    r = runtime.run(cid, bundle).ok()
    lines = r.stdout.splitlines()
    assert lines[0] == "errno=0"
    assert lines[1] == "bound"
    assert lines[2] == "errno=EROFS"
    info = "\n".join(lines[3:])
    assert " /scratch " in info and "tmpfs" in info
    assert " /ro " in info
    assert not (src / "y").exists()


def test_cgroup_path(runtime, bundle, cid):
    bundle.args = ["/init", "cgroup"]
    out = runtime.run(cid, bundle).ok().stdout
    path = cgroup_path(bundle)
    # The reachable hierarchies are the ones a runtime uses: the container
    # is in its cgroup in each of them, the cgroup2 one ("0::") included.
    mounted = [set(h.controllers) for h in host.cgroup_hierarchies() if not h.v2]
    has_v2 = host.unified_mount() is not None
    lines = out.splitlines()
    assert lines, out
    checked = 0
    for line in lines:
        _n, ctrls, where = line.split(":", 2)
        if (ctrls == "" and has_v2) or (ctrls and set(ctrls.split(",")) in mounted):
            assert where == path, out
            checked += 1
    assert checked == len(mounted) + has_v2, out


def test_masked_paths(runtime, bundle, cid):
    present = [p for p in bundle.linux["maskedPaths"] if os.path.exists(p)]
    if not present:
        pytest.skip("none of the masked paths exists on this host")
    script = "; ".join(
        f"echo {p} $(cat {p} 2>&1 | wc -c) $(ls -A {p} 2>/dev/null | wc -l)"
        for p in present
    )
    bundle.sh(script)
    out = runtime.run(cid, bundle).ok().stdout.splitlines()
    assert len(out) == len(present)
    for line in out:
        path, nbytes, entries = line.split()
        if os.path.isdir(path):
            assert entries == "0", f"{path} must look empty: {line}"
        else:
            assert nbytes == "0", f"{path} must read as empty: {line}"


def test_readonly_paths(runtime, bundle, cid):
    bundle.sh(
        "/init write /proc/sys/kernel/hostname x; "
        "/init write /proc/irq/default_smp_affinity 1"
    )
    r = runtime.run(cid, bundle)
    assert r.stdout.splitlines() == ["errno=EROFS"] * 2, r.describe()


def test_proc_sys_writable_without_readonly_paths(runtime, bundle, cid):
    """Control for test_readonly_paths: the uts-namespaced hostname sysctl
    is writable once /proc/sys is not listed."""
    bundle.linux["readonlyPaths"] = []
    bundle.process["capabilities"] = {
        k: ["CAP_SYS_ADMIN"] for k in ("bounding", "permitted", "effective")
    }
    bundle.sh("/init write /proc/sys/kernel/hostname changed; /init hostname")
    r = parse_kv(runtime.run(cid, bundle).ok().stdout)
    assert r["errno"] == "0" and r["hostname"] == "changed"


# ------------------------------------------- newer runtime-spec features


@pytest.mark.xfail_runtime("runc", reason="runc 1.1 has no linux.personality")
def test_personality(runtime, bundle, cid):
    bundle.linux["personality"] = {"domain": "LINUX32"}
    # PER_LINUX32 = 0x0008
    assert run_init(runtime, bundle, cid, "personality")["personality"] == "0x8"


def test_personality_default(runtime, bundle, cid):
    assert run_init(runtime, bundle, cid, "personality")["personality"] == "0x0"


@pytest.mark.xfail_runtime("runc", "crun", reason="runc 1.1 and crun 1.8 have no process.ioPriority")
def test_io_priority(runtime, bundle, cid):
    bundle.process["ioPriority"] = {"class": "IOPRIO_CLASS_BE", "priority": 6}
    kv = run_init(runtime, bundle, cid, "ioprio")
    assert (kv["ioprio_class"], kv["ioprio_level"]) == ("2", "6")  # 2 = BE


@pytest.mark.xfail_runtime("runc", "crun", reason="runc 1.1 and crun 1.8 have no process.ioPriority")
def test_io_priority_class_only(runtime, bundle, cid):
    """The schema requires only `class`; the priority is then 0."""
    bundle.process["ioPriority"] = {"class": "IOPRIO_CLASS_IDLE"}
    kv = run_init(runtime, bundle, cid, "ioprio")
    assert (kv["ioprio_class"], kv["ioprio_level"]) == ("3", "0")  # 3 = IDLE


@pytest.mark.xfail_runtime("runc", "crun", reason="runc 1.1 and crun 1.8 have no process.scheduler")
def test_scheduler(runtime, bundle, cid):
    bundle.process["scheduler"] = {"policy": "SCHED_BATCH", "nice": 7}
    kv = run_init(runtime, bundle, cid, "sched")
    assert kv["policy"] == "SCHED_BATCH"
    assert kv["nice"] == "7"


@pytest.mark.skipif(os.cpu_count() < 2, reason="needs two cpus")
@pytest.mark.xfail_runtime("runc", "crun", reason="runc 1.1 and crun 1.8 have no process.execCPUAffinity")
def test_exec_cpu_affinity(runtime, bundle, cid):
    cpus = sorted(os.sched_getaffinity(0))
    bundle.process["execCPUAffinity"] = {"final": str(cpus[-1])}
    assert run_init(runtime, bundle, cid, "affinity")["affinity"] == str(cpus[-1])


def test_affinity_default_is_inherited(runtime, bundle, cid):
    cpus = ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))
    assert run_init(runtime, bundle, cid, "affinity")["affinity"] == cpus


def test_default_io_and_sched(runtime, bundle, cid):
    bundle.sh("/init ioprio; /init sched")
    kv = parse_kv(runtime.run(cid, bundle).ok().stdout)
    assert kv["policy"] == "SCHED_OTHER"
    assert kv["nice"] == str(os.getpriority(os.PRIO_PROCESS, 0))


# ------------------------------------------- applied before create returns
#
# As with runc, the init drops to the process's user, capabilities,
# no_new_privs and seccomp filter before `create` returns: what can fail
# fails create with the reason (Docker's `--restart on-failure` would
# otherwise restart a container that can never start), and only the exec
# fifo, the startContainer hooks and execve remain for `start`.


def _status_of(pid):
    return dict(
        line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":\t" in line
    )


def test_created_init_already_runs_as_the_process(runtime, bundle, cid, test_env):
    test_env.add_cleanup(lambda: shutil.rmtree(runtime.root / ".seccomp-cache", ignore_errors=True))
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.process["noNewPrivileges"] = True
    bundle.process["capabilities"] = {k: ["CAP_KILL"] for k in ("bounding", "effective", "permitted")}
    bundle.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["acct"], "action": "SCMP_ACT_ERRNO"}]}
    bundle.args = ["/init", "ids"]
    runtime.create(cid, bundle).ok()
    st = _status_of(runtime.state(cid)["pid"])
    assert st["Uid"].split() == ["1000"] * 4 and st["Gid"].split() == ["1000"] * 4, st
    assert int(st["CapEff"], 16) == 1 << 5 and int(st["CapBnd"], 16) == 1 << 5, st  # CAP_KILL
    assert st["NoNewPrivs"].strip() == "1" and st["Seccomp"].strip() == "2", st
    runtime.start(cid).ok()


def _map_userns(bundle):
    bundle.add_namespace("user")
    m = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.linux["uidMappings"] = list(m)
    bundle.linux["gidMappings"] = list(m)


def test_unmapped_user_fails_create(runtime, bundle, cid):
    _map_userns(bundle)
    bundle.process["user"] = {"uid": 70000, "gid": 0}
    r = runtime.create(cid, bundle).failed()
    assert "process.user.uid: setresuid 70000" in r.stderr, r.describe()
    assert runtime.state_result(cid).returncode != 0
    assert runtime.state_dirs() == []


def test_mapped_non_root_user_starts(runtime, bundle, cid):
    """The exec fifo belongs to the process's user (mapped to the host)."""
    _map_userns(bundle)
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.args = ["/init", "ids"]
    r = runtime.run(cid, bundle).ok()
    assert parse_kv(r.stdout)["uid"] == "1000"


def test_duplicate_env_names_keep_the_last_value(runtime, bundle, cid):
    bundle.process["env"] += ["DUP=1", "DUP=2"]
    bundle.args = ["/init", "env"]
    out = runtime.run(cid, bundle).ok().stdout.splitlines()
    assert [x for x in out if x.startswith("DUP=")] == ["DUP=2"], out

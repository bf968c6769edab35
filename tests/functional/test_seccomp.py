"""linux.seccomp seen from inside the container: every action and argument
operator, errnoRet, the default action, flags, unknown syscall names, the
Podman-style default profile (fixtures/seccomp-default.json), and seccomp
user notification answered by a small agent in the test."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import select
import shutil
import signal
import socket
import struct
import threading
from pathlib import Path

import pytest

from harness import IS_SKIFF, parse_kv, parse_sections

FIXTURES = Path(__file__).resolve().parent / "fixtures"
# An errno no syscall of the helper returns on its own.
FILTER_ERRNO = 200
SIGSYS_STATUS = 128 + signal.SIGSYS


@pytest.fixture(autouse=True)
def _drop_seccomp_cache(test_env, runtime):
    """skiff keeps compiled filters in <root>/.seccomp-cache; it is not a
    container, so it must not count as state left behind."""
    test_env.add_cleanup(
        lambda: shutil.rmtree(runtime.root / ".seccomp-cache", ignore_errors=True)
    )


def allow_all(*rules, **extra) -> dict:
    prof = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": list(rules)}
    prof.update(extra)
    return prof


def rule(names, action, errno_ret=None, args=None) -> dict:
    r = {"names": [names] if isinstance(names, str) else list(names), "action": action}
    if errno_ret is not None:
        r["errnoRet"] = errno_ret
    if args:
        r["args"] = args
    return r


def errno_value(text: str) -> int:
    """The helper prints errno as a name (EPERM) or a number."""
    return int(text) if text.isdigit() else getattr(errno, text)


def calls(runtime, bundle, cid, seccomp, *invocations):
    """Run each `/init syscall ...` in one container under the profile.
    Returns one dict per invocation: errno (int) and status (the helper's
    exit status as sh saw it, 159 when SIGSYS killed it)."""
    bundle.linux["seccomp"] = seccomp
    script = "; echo ---; ".join(
        f"/init syscall {inv}; echo status=$?" for inv in invocations
    )
    bundle.sh(script)
    r = runtime.run(cid, bundle)
    assert r.returncode == 0, r.describe()
    out = []
    for sec in parse_sections(r.stdout):
        assert "status" in sec, r.describe()
        e = errno_value(sec["errno"]) if "errno" in sec else None
        out.append({"errno": e, "status": int(sec["status"]), "ret": sec.get("ret")})
    return out


def one_call(runtime, bundle, cid, seccomp, invocation) -> dict:
    return calls(runtime, bundle, cid, seccomp, invocation)[0]


# --------------------------------------------------------------- actions


def test_errno_defaults_to_eperm(runtime, bundle, cid):
    res = one_call(runtime, bundle, cid,
                   allow_all(rule("sethostname", "SCMP_ACT_ERRNO")),
                   "sethostname")
    assert res["errno"] == errno.EPERM


def test_errno_ret_honored(runtime, bundle, cid):
    res = calls(
        runtime, bundle, cid,
        allow_all(rule("mkdir", "SCMP_ACT_ERRNO", FILTER_ERRNO),
                  rule("mkdirat", "SCMP_ACT_ERRNO", FILTER_ERRNO)),
        "mkdir /tmp/seccomp-x", "uname",
    )
    assert res[0]["errno"] == FILTER_ERRNO
    assert res[1]["errno"] == 0, "a call without a rule gets the default action"


@pytest.mark.parametrize(
    "action",
    ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP"],
)
def test_kill_actions(runtime, bundle, cid, action):
    res = one_call(runtime, bundle, cid, allow_all(rule("acct", action)), "acct")
    assert res["status"] == SIGSYS_STATUS, res


def test_log_allows(runtime, bundle, cid):
    res = one_call(runtime, bundle, cid, allow_all(rule("uname", "SCMP_ACT_LOG")), "uname")
    assert res["errno"] == 0


def test_trace_without_tracer_is_enosys(runtime, bundle, cid):
    res = one_call(runtime, bundle, cid,
                   allow_all(rule("uname", "SCMP_ACT_TRACE", 7)), "uname")
    assert res["errno"] == errno.ENOSYS


def test_allow_rule_under_errno_default(runtime, bundle, cid):
    """defaultErrnoRet with a default-deny profile: the fixture allows what
    a shell needs and answers the rest with ENOSYS."""
    prof = json.loads((FIXTURES / "seccomp-default.json").read_text())
    prof["defaultErrnoRet"] = FILTER_ERRNO
    # personality(0x40000) matches none of the fixture's personality rules.
    res = calls(runtime, bundle, cid, prof, "uname", "personality 0x40000")
    assert res[0]["errno"] == 0
    assert res[1]["errno"] == FILTER_ERRNO


def test_rule_same_as_default_is_ignored(runtime, bundle, cid):
    res = one_call(runtime, bundle, cid, allow_all(rule("uname", "SCMP_ACT_ALLOW")), "uname")
    assert res["errno"] == 0


def test_unknown_syscall_name_skipped(runtime, bundle, cid):
    bundle.linux["seccomp"] = allow_all(
        rule(["skiff_no_such_syscall", "sethostname"], "SCMP_ACT_ERRNO", FILTER_ERRNO)
    )
    bundle.args = ["/init", "syscall", "sethostname"]
    r = runtime.run(cid, bundle)
    assert errno_value(parse_kv(r.stdout)["errno"]) == FILTER_ERRNO, r.describe()
    if IS_SKIFF:
        assert "skiff_no_such_syscall" in r.stderr, r.describe()


def test_status_shows_filter_mode(runtime, bundle, cid):
    bundle.linux["seccomp"] = allow_all(rule("acct", "SCMP_ACT_ERRNO"))
    bundle.args = ["/init", "status"]
    st = parse_kv(runtime.run(cid, bundle).ok().stdout)
    assert st["Seccomp"] == "2"
    assert st["Seccomp_filters"] == "1"


# ----------------------------------------------------------- arguments

# kill(pid, 0) for pids that do not exist in the container: ESRCH unless
# the filter matches.
OPS = [
    ("SCMP_CMP_EQ", 1000, None, 1000, True),
    ("SCMP_CMP_EQ", 1000, None, 1001, False),
    ("SCMP_CMP_NE", 1000, None, 1001, True),
    ("SCMP_CMP_NE", 1000, None, 1000, False),
    ("SCMP_CMP_LT", 1000, None, 999, True),
    ("SCMP_CMP_LT", 1000, None, 1000, False),
    ("SCMP_CMP_LE", 1000, None, 1000, True),
    ("SCMP_CMP_LE", 1000, None, 1001, False),
    ("SCMP_CMP_GT", 1000, None, 1001, True),
    ("SCMP_CMP_GT", 1000, None, 1000, False),
    ("SCMP_CMP_GE", 1000, None, 1000, True),
    ("SCMP_CMP_GE", 1000, None, 999, False),
    ("SCMP_CMP_MASKED_EQ", 0xF0, 0x30, 0x1234, True),
    ("SCMP_CMP_MASKED_EQ", 0xF0, 0x30, 0x1204, False),
]


@pytest.mark.parametrize("op", sorted({o[0] for o in OPS}))
def test_arg_operator(runtime, bundle, cid, op):
    cases = [c for c in OPS if c[0] == op]
    value, two = cases[0][1], cases[0][2]
    arg = {"index": 0, "value": value, "op": op}
    if two is not None:
        arg["valueTwo"] = two
    prof = allow_all(rule("kill", "SCMP_ACT_ERRNO", FILTER_ERRNO, [arg]))
    res = calls(runtime, bundle, cid, prof, *(f"kill {c[3]}" for c in cases))
    for c, got in zip(cases, res):
        want = FILTER_ERRNO if c[4] else errno.ESRCH
        assert got["errno"] == want, f"{op} value={value} valueTwo={two} pid={c[3]}: {got}"


def test_args_on_one_index_match_any(runtime, bundle, cid):
    prof = allow_all(rule("kill", "SCMP_ACT_ERRNO", FILTER_ERRNO, [
        {"index": 0, "value": 1000, "op": "SCMP_CMP_EQ"},
        {"index": 0, "value": 1001, "op": "SCMP_CMP_EQ"},
    ]))
    res = calls(runtime, bundle, cid, prof, "kill 1000", "kill 1001", "kill 1002")
    assert [r["errno"] for r in res] == [FILTER_ERRNO, FILTER_ERRNO, errno.ESRCH]


def test_args_on_two_indexes_match_all(runtime, bundle, cid):
    # socket(domain, SOCK_STREAM, 0): index 0 and index 1 must both match.
    prof = allow_all(rule("socket", "SCMP_ACT_ERRNO", FILTER_ERRNO, [
        {"index": 0, "value": socket.AF_INET, "op": "SCMP_CMP_EQ"},
        {"index": 1, "value": socket.SOCK_STREAM, "op": "SCMP_CMP_EQ"},
    ]))
    res = calls(runtime, bundle, cid, prof, f"socket {socket.AF_INET}",
                f"socket {socket.AF_UNIX}")
    assert res[0]["errno"] == FILTER_ERRNO
    assert res[1]["errno"] == 0


# ------------------------------------------------------------------ flags


def test_flags(runtime, bundle, cid):
    prof = allow_all(
        rule("sethostname", "SCMP_ACT_ERRNO", FILTER_ERRNO),
        flags=["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
               "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
        architectures=["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    )
    assert one_call(runtime, bundle, cid, prof, "sethostname")["errno"] == FILTER_ERRNO


# ------------------------------------------------------- default profile


def test_default_profile(runtime, bundle, cid):
    prof = json.loads((FIXTURES / "seccomp-default.json").read_text())
    invs = {
        "uname": 0,
        "getcwd": 0,
        "kill": 0,
        f"socket {socket.AF_INET}": 0,
        "personality": 0,                 # the 0xffffffff query
        "mount": errno.EPERM,
        "umount2": errno.EPERM,
        "unshare": errno.EPERM,
        "setns": errno.EPERM,
        "keyctl": errno.EPERM,
        "add_key": errno.EPERM,
        "reboot": errno.EPERM,
        "swapon": errno.EPERM,
        "acct": errno.EPERM,
        "clock_settime": errno.EPERM,
        "sethostname": errno.EPERM,
        "socket 40": errno.ENOSYS,        # AF_VSOCK: no rule, the default
        "personality 0x40000": errno.ENOSYS,
    }
    res = calls(runtime, bundle, cid, prof, *invs)
    got = {inv: r["errno"] for inv, r in zip(invs, res)}
    assert got == invs


def test_default_profile_without_no_new_privileges(runtime, bundle, cid):
    """Without no_new_privs the filter goes in while the init still has
    CAP_SYS_ADMIN, before the capabilities are dropped."""
    bundle.process["noNewPrivileges"] = False
    bundle.linux["seccomp"] = json.loads((FIXTURES / "seccomp-default.json").read_text())
    bundle.args = ["/init", "status"]
    st = parse_kv(runtime.run(cid, bundle).ok().stdout)
    assert st["NoNewPrivs"] == "0"
    assert st["Seccomp"] == "2"


@pytest.mark.skiff_only
def test_compiled_filter_cached(runtime, bundle, cid):
    bundle.linux["seccomp"] = json.loads((FIXTURES / "seccomp-default.json").read_text())
    bundle.args = ["/init", "status"]
    runtime.run(cid, bundle).ok()
    cache = runtime.root / ".seccomp-cache"
    files = sorted(p for p in cache.iterdir() if not p.name.startswith("."))
    assert len(files) == 1, files
    first = files[0].stat()
    assert oct(cache.stat().st_mode & 0o777) == oct(0o700)
    runtime.run(cid + "b", bundle).ok()
    again = files[0].stat()
    assert again.st_ino == first.st_ino, "a cache hit must not rewrite the entry"


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "prof,path",
    [
        (allow_all(rule("getcwd", "SCMP_ACT_KILL", 1)), "linux.seccomp.syscalls[0].errnoRet"),
        (allow_all(rule("getcwd", "SCMP_ACT_NOPE")), "linux.seccomp.syscalls[0].action"),
        (allow_all(architectures=["SCMP_ARCH_VAX"]), "linux.seccomp.architectures[0]"),
        (allow_all(flags=["SECCOMP_FILTER_FLAG_NOPE"]), "linux.seccomp.flags[0]"),
        (allow_all(rule("kill", "SCMP_ACT_ERRNO", None,
                        [{"index": 0, "value": 1, "op": "SCMP_CMP_NOPE"}])),
         "linux.seccomp.syscalls[0].args[0].op"),
        (allow_all(rule("kill", "SCMP_ACT_ERRNO", None,
                        [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}])),
         "linux.seccomp.syscalls[0].args[0].index"),
    ],
    ids=["errnoRet-on-kill", "action", "arch", "flag", "op", "index"],
)
def test_invalid_profile_refused(runtime, bundle, cid, prof, path):
    bundle.linux["seccomp"] = prof
    bundle.args = ["/init", "exit", "0"]
    r = runtime.run(cid, bundle).failed()
    if IS_SKIFF:
        assert path in r.stderr, r.describe()


@pytest.mark.skiff_only
def test_seccomp_refused_without_support(runtime, bundle, cid):
    """A skiff built with --disable-seccomp must refuse, never run the
    container unfiltered (the stub is also unit-tested)."""
    if "-SECCOMP" not in runtime("--version").ok().stdout:
        pytest.skip("this skiff has seccomp support")
    bundle.linux["seccomp"] = allow_all(rule("acct", "SCMP_ACT_ERRNO"))
    r = runtime.run(cid, bundle).failed()
    assert "seccomp" in r.stderr


# ---------------------------------------------------------------- notify

# linux/seccomp.h: struct seccomp_notif is 80 bytes, seccomp_notif_resp 24.
NOTIF_SIZE, RESP_SIZE = 80, 24
IOCTL_NOTIF_RECV = 0xC0000000 | (NOTIF_SIZE << 16) | (ord("!") << 8) | 0
IOCTL_NOTIF_SEND = 0xC0000000 | (RESP_SIZE << 16) | (ord("!") << 8) | 1


class Agent:
    """A seccomp agent at `path`: takes one container's listener fd with
    its process state, then answers every notification with answer(nr)
    -> (val, error)."""

    def __init__(self, path: Path, answer):
        self.path = path
        self.answer = answer
        self.state: dict | None = None
        self.fds_received = 0
        self.notified: list[int] = []
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(1)
        self.sock.settimeout(30)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _receive(self):
        conn, _ = self.sock.accept()
        with conn:
            data, fds, _flags, _addr = socket.recv_fds(conn, 65536, 4)
            while True:  # the runtime closes after one state
                more = conn.recv(65536)
                if not more:
                    break
                data += more
        self.fds_received = len(fds)
        self.state = json.loads(data)
        for fd in fds[1:]:
            os.close(fd)
        return fds[0]

    def _serve(self, fd):
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        while not self._stop.is_set():
            events = poller.poll(100)
            if not events:
                continue
            if not events[0][1] & select.POLLIN:
                return  # POLLHUP: the container is gone
            req = bytearray(NOTIF_SIZE)
            try:
                fcntl.ioctl(fd, IOCTL_NOTIF_RECV, req)
            except OSError as e:
                if e.errno in (errno.ENOENT, errno.EINTR):
                    continue
                raise
            notif_id, _pid, _flags, nr = struct.unpack_from("<QIIi", req)
            self.notified.append(nr)
            val, err = self.answer(nr)
            resp = bytearray(struct.pack("<QqiI", notif_id, val, err, 0))
            try:
                fcntl.ioctl(fd, IOCTL_NOTIF_SEND, resp)
            except OSError as e:
                if e.errno != errno.ENOENT:  # the caller died meanwhile
                    raise

    def _run(self):
        try:
            fd = self._receive()
            try:
                self._serve(fd)
            finally:
                os.close(fd)
        except BaseException as e:  # reported by stop()
            self.error = e

    def stop(self):
        self._stop.set()
        self.sock.close()
        self.thread.join(10)
        if self.error:
            raise self.error


SYS_SETHOSTNAME = 170  # x86_64


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="syscall numbers for x86_64")
def test_notify_answered_by_agent(runtime, bundle, cid, workdir, test_env):
    """sethostname is notified; the agent fakes success (the container has
    no CAP_SYS_ADMIN, so the kernel would say EPERM) and the hostname stays."""
    sock = workdir / "agent.sock"
    agent = Agent(sock, lambda nr: (0, 0) if nr == SYS_SETHOSTNAME else (0, -errno.ENOSYS))
    test_env.add_cleanup(agent.stop)
    bundle.linux["seccomp"] = allow_all(
        rule("sethostname", "SCMP_ACT_NOTIFY"),
        listenerPath=str(sock),
        listenerMetadata="answer=fake-success",
    )
    bundle.sh("/init syscall sethostname; echo ---; /init hostname")
    r = runtime.run(cid, bundle)
    assert r.returncode == 0, r.describe()
    called, host = parse_sections(r.stdout)
    assert called["errno"] == "0", r.describe()
    assert host["hostname"] == bundle.config["hostname"]
    agent.stop()
    assert agent.notified == [SYS_SETHOSTNAME]
    st = agent.state
    assert agent.fds_received == 1
    assert st["fds"] == ["seccompFd"]
    assert st["metadata"] == "answer=fake-success"
    assert isinstance(st["ociVersion"], str) and st["ociVersion"]
    assert st["state"]["id"] == cid
    assert st["pid"] == st["state"]["pid"] and st["pid"] > 0
    assert st["state"]["status"] in ("creating", "created", "running")


def test_notify_without_listener_path_refused(runtime, bundle, cid):
    bundle.linux["seccomp"] = allow_all(rule("sethostname", "SCMP_ACT_NOTIFY"))
    bundle.args = ["/init", "exit", "0"]
    r = runtime.run(cid, bundle).failed()
    if IS_SKIFF:
        assert "listenerPath" in r.stderr, r.describe()

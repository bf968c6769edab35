"""process.terminal and --console-socket: the pty master is handed to a
unix socket (SCM_RIGHTS); the container's stdio is the pty slave."""

import os

import pytest

from harness import ConsoleSocket, parse_kv, unique, wait_for


@pytest.fixture
def console(test_env):
    sock = ConsoleSocket(test_env.workdir / "console.sock")
    test_env.add_cleanup(sock.close)
    return sock


def kv_from_pty(data: bytes) -> dict:
    return parse_kv(data.decode(errors="replace").replace("\r", ""))


def test_console_socket_receives_pty(runtime, bundle, cid, console):
    bundle.process["terminal"] = True
    # A non-interactive command loop (an interactive sh would query the
    # cursor position and wait for the answer).
    bundle.args = ["/bin/sh", "-c", 'while read -r line; do eval "$line"; done']
    runtime.create(cid, bundle, "--console-socket", console.path).ok()
    master = console.receive()
    assert os.isatty(master)
    runtime.start(cid).ok()
    # The tty echoes input: quote markers so only real output matches.
    console.write(b"echo hello-$((6*7)); /init tty; echo DO''NE\n")
    out = console.read_until(b"\nDONE\r\n")
    assert b"hello-42" in out
    kv = kv_from_pty(out)
    assert kv["isatty.0"] == kv["isatty.1"] == kv["isatty.2"] == "1"
    assert kv["ttyname.0"].startswith("/dev/pts/")
    assert kv["ttyname.0"] == kv["ttyname.1"] == kv["ttyname.2"]
    # The pty is the controlling terminal of the session.
    assert kv["dev_tty"] == "0"
    assert kv["tty_nr"] != "0"
    console.write(b"exit 3\n")
    runtime.wait_status(cid, "stopped")


def test_console_is_dev_console(runtime, bundle, cid, console):
    bundle.process["terminal"] = True
    bundle.sh("/init tty; /init stat /proc/self/fd/0; exec /init ready")
    runtime.create(cid, bundle, "--console-socket", console.path).ok()
    console.receive()
    runtime.start(cid).ok()
    out = console.read_until(b"ready")
    text = out.decode(errors="replace").replace("\r", "")
    kv = parse_kv(text)
    # /dev/console is the same pty as stdin (stat follows the fd link).
    cons = kv["console"]
    assert cons.startswith("char "), cons
    assert cons.split()[1] == kv["tty_dev"]


def test_console_with_run_detach(runtime, bundle, cid, console):
    bundle.process["terminal"] = True
    bundle.sh("/init tty; exec /init ready")
    runtime.run(cid, bundle, "--console-socket", console.path, detach=True).ok()
    console.receive()
    kv = kv_from_pty(console.read_until(b"ready"))
    assert kv["isatty.1"] == "1"
    assert runtime.status(cid) == "running"


def test_console_size(runtime, bundle, cid, console):
    bundle.process["terminal"] = True
    bundle.process["consoleSize"] = {"height": 33, "width": 111}
    bundle.sh("/init tty; exec /init ready")
    runtime.create(cid, bundle, "--console-socket", console.path).ok()
    console.receive()
    runtime.start(cid).ok()
    kv = kv_from_pty(console.read_until(b"ready"))
    assert kv["winsize"] == "33 111"


def test_console_input_reaches_process(runtime, bundle, cid, console):
    bundle.process["terminal"] = True
    bundle.args = ["/bin/sh", "-c", "read line; echo got:$line; /init exit 5"]
    runtime.create(cid, bundle, "--console-socket", console.path).ok()
    console.receive()
    runtime.start(cid).ok()
    console.write(b"typed-text\n")
    out = console.read_until(b"got:typed-text")
    assert b"got:typed-text" in out
    runtime.wait_status(cid, "stopped")


def test_terminal_without_console_socket_fails_detached(runtime, bundle, cid):
    bundle.process["terminal"] = True
    r = runtime.create(cid, bundle).failed()
    assert r.stderr.strip()
    assert runtime.state_result(cid).returncode != 0
    assert cid not in runtime.state_dirs()


def test_run_foreground_terminal(runtime, bundle, cid):
    """Foreground run with terminal: the runtime relays between its own
    terminal and the container's pty; the exit status still comes back."""
    bundle.process["terminal"] = True
    bundle.sh("/init tty; /init exit 3")
    bundle.save(cid)
    runtime.ids.append(cid)
    rc, out = runtime.pty_call("run", "--bundle", bundle.path, cid)
    kv = kv_from_pty(out)
    assert kv["isatty.0"] == "1" and kv["isatty.1"] == "1", out
    assert rc == 3, out


def test_run_foreground_terminal_input(runtime, bundle, cid):
    bundle.process["terminal"] = True
    bundle.args = ["/bin/sh", "-c", "read line; echo got:$line"]
    bundle.save(cid)
    runtime.ids.append(cid)
    rc, out = runtime.pty_call("run", "--bundle", bundle.path, cid, send=b"typed\n")
    assert b"got:typed" in out
    assert rc == 0


def test_exec_tty(runtime, bundle, cid):
    runtime.create_started(cid, bundle)
    rc, out = runtime.pty_call("exec", "--tty", cid, "/bin/sh", "-c", "/init tty; /init exit 4")
    kv = kv_from_pty(out)
    assert kv["isatty.0"] == kv["isatty.1"] == "1", out
    assert rc == 4, out


def test_exec_tty_detach(runtime, bundle, cid, test_env, workdir):
    runtime.create_started(cid, bundle)
    sock = ConsoleSocket(test_env.workdir / "exec-console.sock")
    test_env.add_cleanup(sock.close)
    pidfile = workdir / "exec.pid"
    runtime.exec(
        cid, "/bin/sh", "-c", "/init tty; exec /init ready",
        opts=["-t", "-d", "--console-socket", sock.path, "--pid-file", pidfile],
    ).ok()
    sock.receive()
    out = sock.read_until(b"ready")
    kv = kv_from_pty(out)
    assert kv.get("isatty.0") == kv.get("isatty.2") == "1", out
    pid = int(pidfile.read_text())
    wait_for(lambda: os.path.exists(f"/proc/{pid}"), what="the exec'd process")


def test_console_socket_missing_path_fails(runtime, bundle, cid, workdir):
    bundle.process["terminal"] = True
    r = runtime.create(cid, bundle, "--console-socket", workdir / "nope.sock").failed()
    assert r.stderr.strip()
    assert cid not in runtime.state_dirs()


def test_two_containers_two_consoles(runtime, make_bundle, test_env):
    for i in range(2):
        b = make_bundle()
        b.process["terminal"] = True
        b.sh(f"echo I-am-{i}; exec /init ready")
        sock = ConsoleSocket(test_env.workdir / f"c{i}.sock")
        test_env.add_cleanup(sock.close)
        c = unique("con")
        runtime.create(c, b, "--console-socket", sock.path).ok()
        sock.receive()
        runtime.start(c).ok()
        assert f"I-am-{i}".encode() in sock.read_until(b"ready")

#!/usr/bin/env python3
"""skiff against crun and runc on the same machine, in the same run.

Usage: bench.py [SKIFF] [--quick] [-n N] [--json FILE] [--markdown FILE] ...

Needs root, busybox (static) and python3's standard library; installs
nothing.  crun and runc are used when found (Debian's /usr/bin/crun,
/usr/sbin/runc, or --crun/--runc).  What it measures, and how, is in
docs/performance.md; in short:

  1. sequential `run` of N containers running /bin/true (median, p90 ms);
  2. create / start / delete, ms each, and their sum;
  3. 1 and 2 with a network namespace, without one, and with the
     Podman/Docker default seccomp profile (tests/functional/fixtures);
  4. peak RSS of the runtime process (GNU time), binary size;
  5. the smallest memory limit at which `run /bin/true` still succeeds;
  6. 50 containers created and started concurrently: time until all
     started, failures, and anything left behind after deleting them;
  7. a floor: `unshare` with the same namespaces running /bin/true.

Runtimes are interleaved (A B C A B C ..., the order rotating each round)
after a warm-up, so machine noise hits all of them alike.  Prints a
markdown table with the ratios skiff/crun and skiff/runc and writes every
raw sample as JSON.
"""

import argparse
import ctypes
import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
BASE_CONFIG = os.path.join(HERE, "config.json")
SECCOMP_PROFILE = os.path.join(TOP, "tests", "functional", "fixtures", "seccomp-default.json")
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
VARIANTS = ("net", "nonet", "seccomp")
VARIANT_TITLE = {"net": "netns", "nonet": "no netns", "seccomp": "netns + seccomp"}
KIB = 1024
MIB = 1024 * 1024

libc = ctypes.CDLL(None, use_errno=True)


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


signal.signal(signal.SIGALRM, _alarm)


def die(msg):
    print(f"bench: {msg}", file=sys.stderr)
    sys.exit(1)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes

class Result:
    __slots__ = ("ms", "rc", "maxrss", "err")

    def __init__(self, ms, rc, maxrss, err=""):
        self.ms, self.rc, self.maxrss, self.err = ms, rc, maxrss, err


def spawn(argv, out_fd):
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_DUP2, out_fd, 1),
        (os.POSIX_SPAWN_DUP2, out_fd, 2),
    ]
    return os.posix_spawn(argv[0], argv, ENV, file_actions=actions)


def exit_code(status):
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    return 128 + os.WTERMSIG(status)


def tail_from(fd, pos, limit=400):
    try:
        os.lseek(fd, pos, os.SEEK_SET)
        data = os.read(fd, 65536)
    except OSError:
        return ""
    return data.decode(errors="replace").strip()[-limit:]


def timed(argv, out_fd, timeout=30.0):
    """Run argv, return wall time (ms), exit code and peak RSS (KiB)."""
    pos = os.lseek(out_fd, 0, os.SEEK_END)
    t0 = time.perf_counter_ns()
    pid = spawn(argv, out_fd)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        _, status, ru = os.wait4(pid, 0)
    except Timeout:
        os.kill(pid, signal.SIGKILL)
        os.wait4(pid, 0)
        return Result(None, -1, 0, f"timed out after {timeout}s")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    ms = (time.perf_counter_ns() - t0) / 1e6
    rc = exit_code(status)
    return Result(ms, rc, ru.ru_maxrss, tail_from(out_fd, pos) if rc else "")


def reap_orphans():
    """Container inits are reparented to us (we are a subreaper)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def wait_gone(pid, timeout=10.0):
    """Wait for a container's init (our child once its runtime exited)."""
    deadline = time.monotonic() + timeout
    try:
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            os.waitpid(pid, 0)
            return True
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except ChildProcessError:
        pass
    except Timeout:
        return False
    while time.monotonic() < deadline:
        if not os.path.exists(f"/proc/{pid}"):
            return True
        time.sleep(0.001)
    return False


# ---------------------------------------------------------------- host

def read(path, default=""):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def cgroup_mounts():
    out = []
    for line in read("/proc/self/mountinfo").splitlines():
        left, _, right = line.partition(" - ")
        if right.split(" ")[0] in ("cgroup", "cgroup2"):
            out.append(left.split(" ")[4])
    return out


def hybrid_with_v2_controllers():
    unified = "/sys/fs/cgroup/unified"
    return unified in cgroup_mounts() and read(unified + "/cgroup.controllers").strip() != ""


def private_v1_view():
    """crun 1.8 refuses a hybrid host whose cgroup2 hierarchy has a
    controller.  Give every runtime the same view: a private mount namespace
    for this process and its children in which the unified hierarchy is not
    mounted (pure cgroup v1).  Nothing changes outside."""
    CLONE_NEWNS, MS_REC, MS_PRIVATE, MNT_DETACH = 0x20000, 0x4000, 1 << 18, 2
    if libc.unshare(CLONE_NEWNS) != 0:
        return f"unshare(CLONE_NEWNS): {os.strerror(ctypes.get_errno())}"
    if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return f"make / private: {os.strerror(ctypes.get_errno())}"
    if libc.umount2(b"/sys/fs/cgroup/unified", MNT_DETACH) != 0:
        return f"umount the unified hierarchy: {os.strerror(ctypes.get_errno())}"
    return None


def memcg_dir(pid):
    """The memory cgroup directory of pid (v1 memory hierarchy, or v2)."""
    for line in read(f"/proc/{pid}/cgroup").splitlines():
        _, ctrls, path = line.split(":", 2)
        if "memory" in ctrls.split(","):
            return "/sys/fs/cgroup/memory" + path
        if ctrls == "" and os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
            return "/sys/fs/cgroup" + path
    return None


def charged_kib(pid):
    """KiB of pid's present pages charged to pid's own memory cgroup."""
    d = memcg_dir(pid)
    if d is None or not os.path.isdir(d):
        return None
    ino, page, pages = os.stat(d).st_ino, os.sysconf("SC_PAGE_SIZE"), 0
    with open(f"/proc/{pid}/pagemap", "rb") as pm, open("/proc/kpagecgroup", "rb") as kc:
        for line in read(f"/proc/{pid}/maps").splitlines():
            parts = line.split()
            if parts[-1] == "[vsyscall]":
                continue
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            pm.seek(lo // page * 8)
            entries = pm.read((hi - lo) // page * 8)
            for i in range(0, len(entries), 8):
                e = int.from_bytes(entries[i:i + 8], "little")
                if e >> 63 & 1:
                    kc.seek((e & ((1 << 55) - 1)) * 8)
                    pages += int.from_bytes(kc.read(8), "little") == ino
    return pages * page // 1024


def first_line(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10, env=ENV).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return " ".join(out.split("\n")[:2]).strip()


def machine():
    cpu = "?"
    for line in read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = 0
    for line in read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            mem = int(line.split()[1]) * KIB
    distro = "?"
    for line in read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            distro = line.split("=", 1)[1].strip('"')
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem / (1024 ** 3), 1),
        "kernel": platform.release(),
        "distro": distro,
        "python": platform.python_version(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def stripped_size(path, workdir):
    strip = shutil.which("strip")
    if not strip:
        return None
    dst = os.path.join(workdir, "stripped-" + os.path.basename(path))
    r = subprocess.run([strip, "--strip-all", "-o", dst, path], capture_output=True)
    if r.returncode != 0:
        return None
    size = os.path.getsize(dst)
    os.unlink(dst)
    return size


# ---------------------------------------------------------------- runtimes

class Runtime:
    def __init__(self, name, path, workdir, extra=()):
        self.name = name
        self.path = path
        self.root = os.path.join(workdir, "state-" + name)
        os.makedirs(self.root, exist_ok=True)
        self.prefix = [path, "--root", self.root] + list(extra)
        self.log = os.open(os.path.join(workdir, name + ".log"),
                           os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        self.ids = set()

    def cmd(self, *args):
        return self.prefix + list(args)


class Bench:
    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.token = f"skiff-bench-{os.getpid()}"
        self.cg_parent = self.token
        self.rootfs = os.path.join(workdir, "rootfs")
        self.bundles = os.path.join(workdir, "bundles")
        os.makedirs(self.bundles)
        with open(BASE_CONFIG) as f:
            self.base = json.load(f)
        with open(SECCOMP_PROFILE) as f:
            self.seccomp = json.load(f)
        self.samples = {}   # scenario -> runtime -> op -> [ms]
        self.rss = {}       # "run" | "create" -> runtime -> [KiB]
        self.failures = {}  # scenario -> runtime -> [message]
        self.seq = 0
        self.hid_unified = False
        self.hidden_leftovers = 0

    # -------------------------------------------------------- fixtures

    def make_rootfs(self):
        busybox = shutil.which("busybox") or "/bin/busybox"
        if not os.path.exists(busybox):
            die("busybox not found (apt-get install busybox-static)")
        for d in ("bin", "proc", "dev", "sys", "tmp", "etc", "root"):
            os.makedirs(os.path.join(self.rootfs, d), exist_ok=True)
        shutil.copy2(busybox, os.path.join(self.rootfs, "bin", "busybox"))
        for applet in ("true", "sh"):
            os.symlink("busybox", os.path.join(self.rootfs, "bin", applet))
        with open(os.path.join(self.rootfs, "etc", "passwd"), "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\n")
        with open(os.path.join(self.rootfs, "etc", "group"), "w") as f:
            f.write("root:x:0:\n")

    def config(self, cid, variant, memory=None):
        c = json.loads(json.dumps(self.base))
        c["root"] = {"path": self.rootfs, "readonly": True}
        c["process"]["env"].append("SKIFF_BENCH_TOKEN=" + self.token)
        lx = c["linux"]
        lx["cgroupsPath"] = f"/{self.cg_parent}/{cid}"
        if variant == "nonet":
            lx["namespaces"] = [n for n in lx["namespaces"] if n["type"] != "network"]
        if variant == "seccomp":
            lx["seccomp"] = self.seccomp
        if memory is not None:
            lx.setdefault("resources", {})["memory"] = {"limit": memory}
        return c

    def bundle(self, rt, tag, variant, memory=None):
        self.seq += 1
        cid = f"{rt.name[:2]}{os.getpid()}-{tag}-{self.seq}"
        b = os.path.join(self.bundles, cid)
        os.mkdir(b)
        with open(os.path.join(b, "config.json"), "w") as f:
            json.dump(self.config(cid, variant, memory), f)
        rt.ids.add(cid)
        return cid, b

    def drop_bundle(self, b):
        shutil.rmtree(b, ignore_errors=True)

    def force_delete(self, rt, cid):
        if rt.name != "unshare":
            timed(rt.cmd("delete", "--force", cid), rt.log, timeout=30)
        reap_orphans()

    # -------------------------------------------------------- recording

    def record(self, scen, rt, op, res):
        self.samples.setdefault(scen, {}).setdefault(rt.name, {}).setdefault(op, []).append(res.ms)

    def fail(self, scen, rt, msg):
        lst = self.failures.setdefault(scen, {}).setdefault(rt.name, [])
        lst.append(msg)
        if len(lst) <= 3:
            log(f"  {rt.name} {scen}: {msg}")

    # -------------------------------------------------------- one container

    def one_run(self, rt, variant, keep):
        scen = "run-" + variant
        if rt.name == "unshare":
            ns = ["--pid", "--fork", "--mount", "--uts", "--ipc"]
            if variant != "nonet":
                ns.append("--net")
            r = timed([rt.path] + ns + ["/bin/true"], rt.log)
            if r.rc != 0:
                self.fail(scen, rt, f"exit {r.rc}: {r.err}")
            elif keep:
                self.record(scen, rt, "run", r)
            return
        cid, b = self.bundle(rt, "r", variant)
        r = timed(rt.cmd("run", "--bundle", b, cid), rt.log)
        if r.rc != 0:
            self.fail(scen, rt, f"run exit {r.rc}: {r.err}")
            self.force_delete(rt, cid)
        elif keep:
            self.record(scen, rt, "run", r)
        reap_orphans()
        self.drop_bundle(b)

    def one_cycle(self, rt, variant, keep):
        scen = "cycle-" + variant
        cid, b = self.bundle(rt, "c", variant)
        pidfile = os.path.join(b, "pid")
        try:
            c = timed(rt.cmd("create", "--bundle", b, "--pid-file", pidfile, cid), rt.log)
            if c.rc != 0:
                self.fail(scen, rt, f"create exit {c.rc}: {c.err}")
                self.force_delete(rt, cid)
                return
            pid = int(read(pidfile, "0").strip() or 0)
            s = timed(rt.cmd("start", cid), rt.log)
            if s.rc != 0:
                self.fail(scen, rt, f"start exit {s.rc}: {s.err}")
                self.force_delete(rt, cid)
                return
            # /bin/true exits at once; reap it (untimed) so delete sees it stopped.
            if pid > 0 and not wait_gone(pid):
                self.fail(scen, rt, "container process did not exit")
            d = timed(rt.cmd("delete", cid), rt.log)
            if d.rc != 0:
                self.fail(scen, rt, f"delete exit {d.rc}: {d.err}")
                self.force_delete(rt, cid)
                return
            if keep:
                self.record(scen, rt, "create", c)
                self.record(scen, rt, "start", s)
                self.record(scen, rt, "delete", d)
                total = Result(c.ms + s.ms + d.ms, 0, 0)
                self.record(scen, rt, "cycle", total)
        finally:
            reap_orphans()
            self.drop_bundle(b)

    # -------------------------------------------------------- scenarios

    def interleaved(self, label, runtimes, fn, n, warmup):
        log(f"{label}: {warmup} warm-up + {n} interleaved rounds over {', '.join(r.name for r in runtimes)}")
        for i in range(warmup + n):
            k = i % len(runtimes)
            for rt in runtimes[k:] + runtimes[:k]:
                fn(rt, i >= warmup)

    def sequential(self, runtimes, floor):
        n, w = self.args.n, self.args.warmup
        for v in VARIANTS:
            rts = runtimes + ([floor] if floor and v != "seccomp" else [])
            self.interleaved(f"run, {VARIANT_TITLE[v]}", rts,
                             lambda rt, keep, v=v: self.one_run(rt, v, keep), n, w)
            self.interleaved(f"create/start/delete, {VARIANT_TITLE[v]}", runtimes,
                             lambda rt, keep, v=v: self.one_cycle(rt, v, keep), n, w)

    # -------------------------------------------------------- peak RSS

    def under_time(self, argv, rt, timeout=30.0):
        """Peak RSS (KiB) of argv and the children it waited for, from GNU
        time.  wait4 here would not do: posix_spawn's vfork child execs
        from our own address space, whose high-water mark the kernel then
        counts as the runtime's."""
        tf = os.path.join(self.workdir, "time.out")
        r = timed([self.time_bin, "-f", "%M", "-o", tf] + argv, rt.log, timeout)
        lines = read(tf).strip().splitlines()
        try:
            r.maxrss = int(lines[-1])
        except (IndexError, ValueError):
            r.maxrss = None
        return r

    def one_rss(self, rt, keep):
        if rt.name == "unshare":
            r = self.under_time([rt.path, "--pid", "--fork", "--mount", "--uts", "--ipc", "--net", "/bin/true"], rt)
            if r.rc == 0 and keep:
                self.rss.setdefault("run", {}).setdefault(rt.name, []).append(r.maxrss)
            return
        cid, b = self.bundle(rt, "s", "net")
        r = self.under_time(rt.cmd("run", "--bundle", b, cid), rt)
        if r.rc != 0:
            self.fail("rss", rt, f"run exit {r.rc}: {r.err}")
            self.force_delete(rt, cid)
        elif keep:
            self.rss.setdefault("run", {}).setdefault(rt.name, []).append(r.maxrss)
        self.drop_bundle(b)
        cid, b = self.bundle(rt, "s", "net")
        pidfile = os.path.join(b, "pid")
        r = self.under_time(rt.cmd("create", "--bundle", b, "--pid-file", pidfile, cid), rt)
        if r.rc != 0:
            self.fail("rss", rt, f"create exit {r.rc}: {r.err}")
        elif keep:
            self.rss.setdefault("create", {}).setdefault(rt.name, []).append(r.maxrss)
        self.force_delete(rt, cid)
        self.drop_bundle(b)

    def rss_pass(self, runtimes, floor, n, warmup):
        self.interleaved("peak RSS (GNU time)", runtimes + ([floor] if floor else []),
                         self.one_rss, n, warmup)

    def run_ok(self, rt, memory, tries):
        for _ in range(tries):
            cid, b = self.bundle(rt, "m", "net", memory)
            r = timed(rt.cmd("run", "--bundle", b, cid), rt.log, timeout=20)
            self.force_delete(rt, cid)
            self.drop_bundle(b)
            if r.rc != 0:
                return False
        return True

    def init_pages(self, rt, n=5):
        """KiB that the waiting init (after `create`) wrote and had charged
        to the container's memory cgroup, page by page: /proc/PID/pagemap
        gives each present page's frame, /proc/kpagecgroup the inode of the
        memory cgroup it is charged to.  Deterministic within a few stack
        pages, unlike the limit bisection; it is most of what sets the
        smallest workable limit (docs/performance.md).  None when the host
        cannot tell (no kpagecgroup, no memory controller)."""
        if not os.path.exists("/proc/kpagecgroup"):
            return None
        out = []
        for _ in range(n):
            cid, b = self.bundle(rt, "p", "net", 16 * MIB)
            pidfile = os.path.join(b, "pid")
            r = timed(rt.cmd("create", "--bundle", b, "--pid-file", pidfile, cid), rt.log)
            try:
                if r.rc != 0:
                    self.fail("pages", rt, f"create exit {r.rc}: {r.err}")
                    continue
                pid = int(read(pidfile).strip() or 0)
                kib = charged_kib(pid) if pid > 0 else None
                if kib is not None:
                    out.append(kib)
            finally:
                self.force_delete(rt, cid)
                self.drop_bundle(b)
        return out or None

    def min_memory(self, rt, tries=3, lo=128 * KIB, hi=16 * MIB, step=4 * KIB, walk=16 * KIB):
        """Smallest memory.limit (bytes) at which `run /bin/true` reliably
        succeeds; None when even `hi` fails.  A bisection to `step` first,
        `tries` runs per probe; then, since near the memory cgroup's charge
        batch (64 pages) success is not monotonic in the limit, a walk up:
        the answer is the lowest limit that passed `tries` runs itself and
        at each of the 4 limits `walk` apart above it."""
        if not self.run_ok(rt, hi, tries):
            return None, []
        probes = [(hi, True)]
        if self.run_ok(rt, lo, tries):
            probes.append((lo, True))
        else:
            probes.append((lo, False))
            while hi - lo > step:
                mid = (lo + hi) // 2 // step * step
                ok = self.run_ok(rt, mid, tries)
                probes.append((mid, ok))
                if ok:
                    hi = mid
                else:
                    lo = mid
            lo = hi
        for _ in range(16):
            failed = None
            for k in range(5):
                limit = lo + k * walk
                ok = self.run_ok(rt, limit, tries)
                probes.append((limit, ok))
                if not ok:
                    failed = limit
            if failed is None:
                return lo, probes
            lo = failed + walk
        return lo, probes

    def concurrent(self, rt, n, timeout=180.0):
        ids = []
        for _ in range(n):
            cid, b = self.bundle(rt, "p", "net")
            ids.append((cid, b))
        pending = {}
        failed = []
        started = 0
        t0 = time.perf_counter()
        t_all = None
        for cid, b in ids:
            pid = spawn(rt.cmd("create", "--bundle", b, "--pid-file", os.path.join(b, "pid"), cid), rt.log)
            pending[pid] = ("create", cid)
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            while pending:
                try:
                    pid, status = os.waitpid(-1, 0)
                except ChildProcessError:
                    break
                if pid not in pending:
                    continue  # a container's init, reparented to us
                kind, cid = pending.pop(pid)
                if exit_code(status) != 0:
                    failed.append(f"{kind} {cid}: exit {exit_code(status)}")
                    continue
                if kind == "create":
                    pending[spawn(rt.cmd("start", cid), rt.log)] = ("start", cid)
                else:
                    started += 1
                    t_all = time.perf_counter() - t0
        except Timeout:
            for pid, (kind, cid) in pending.items():
                failed.append(f"{kind} {cid}: timed out")
                os.kill(pid, signal.SIGKILL)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        for cid, b in ids:
            pid = int(read(os.path.join(b, "pid"), "0").strip() or 0)
            if pid > 0:
                wait_gone(pid)
        reap_orphans()
        # Delete them all, concurrently too.
        t1 = time.perf_counter()
        dels = {spawn(rt.cmd("delete", cid), rt.log): cid for cid, _ in ids}
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            while dels:
                try:
                    pid, status = os.waitpid(-1, 0)
                except ChildProcessError:
                    break
                cid = dels.pop(pid, None)
                if cid and exit_code(status) != 0:
                    failed.append(f"delete {cid}: exit {exit_code(status)}")
        except Timeout:
            for pid, cid in dels.items():
                failed.append(f"delete {cid}: timed out")
                os.kill(pid, signal.SIGKILL)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        t_del = time.perf_counter() - t1
        reap_orphans()
        left = self.leftovers(rt, {cid for cid, _ in ids})
        for cid, b in ids:
            self.drop_bundle(b)
        return {
            "n": n,
            "started": started,
            "all_started_s": t_all if started == n else None,
            "last_started_s": t_all,
            "delete_all_s": t_del,
            "failures": failed,
            "leftovers": left,
        }

    def leftovers(self, rt, ids):
        left = []
        for e in os.listdir(rt.root):
            if e in ids:
                left.append(f"state dir {e}")
        for m in cgroup_mounts():
            top = os.path.join(m, self.cg_parent)
            for dirpath, dirnames, _ in os.walk(top):
                for d in dirnames:
                    if d in ids:
                        left.append(f"cgroup {os.path.join(dirpath, d)}")
        needle = ("SKIFF_BENCH_TOKEN=" + self.token).encode()
        for p in os.listdir("/proc"):
            if p.isdigit():
                try:
                    with open(f"/proc/{p}/environ", "rb") as f:
                        if needle in f.read().split(b"\0"):
                            left.append(f"process {p}")
                except OSError:
                    pass
        for line in read("/proc/self/mountinfo").splitlines():
            if self.workdir in line or any(i in line for i in ids):
                left.append("mount " + line.split(" ")[4])
        return left

    def clean_hidden_unified(self):
        """With the cgroup2 hierarchy unmounted in our namespace, crun 1.8
        still makes its directories under /sys/fs/cgroup/unified, i.e. on
        the tmpfs below the host's mount point, where they would stay
        hidden until reboot.  Remove ours (only while nothing is mounted
        there, so these are plain directories, not cgroups)."""
        top = "/sys/fs/cgroup/unified"
        if not self.hid_unified or top in cgroup_mounts():
            return
        d = os.path.join(top, self.cg_parent)
        if os.path.isdir(d):
            self.hidden_leftovers = sum(len(ds) for _, ds, _ in os.walk(d))
            shutil.rmtree(d, ignore_errors=True)

    def phases(self, rt, n):
        """skiff --debug phase timings (`phase NAME: X ms` log lines)."""
        out = {}
        for _ in range(n):
            cid, b = self.bundle(rt, "d", "net")
            logf = os.path.join(b, "debug.log")
            r = timed([rt.path, "--root", rt.root, "--debug", "--log", logf, "run", "--bundle", b, cid], rt.log)
            if r.rc == 0:
                for line in read(logf).splitlines():
                    i = line.find("phase ")
                    line = line.rstrip().rstrip('"}')
                    if i < 0 or not line.endswith(" ms"):
                        continue
                    name, _, val = line[i + 6:].rpartition(": ")
                    try:
                        out.setdefault(name, []).append(float(val.split()[0]))
                    except ValueError:
                        pass
            else:
                self.force_delete(rt, cid)
            self.drop_bundle(b)
        return out

    def cleanup(self, runtimes):
        for rt in runtimes:
            if rt.name == "unshare":
                continue
            for cid in list(rt.ids):
                if os.path.exists(os.path.join(rt.root, cid)):
                    timed(rt.cmd("delete", "--force", cid), rt.log, timeout=30)
        reap_orphans()
        for m in cgroup_mounts():
            top = os.path.join(m, self.cg_parent)
            for dirpath, _, _ in sorted(os.walk(top), key=lambda w: -len(w[0])):
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass
        self.clean_hidden_unified()


# ---------------------------------------------------------------- report

def pct(xs, q):
    xs = sorted(xs)
    if not xs:
        return None
    k = (len(xs) - 1) * q
    f = int(k)
    c = min(f + 1, len(xs) - 1)
    return xs[f] + (xs[c] - xs[f]) * (k - f)


def fmt(v, unit=""):
    if v is None:
        return "–"
    if isinstance(v, str):
        return v
    if unit == "ms":
        return f"{v:.2f}"
    if unit == "s":
        return f"{v:.3f}"
    if unit == "KiB":
        return f"{v:,.0f}"
    if unit == "B":
        return f"{v / KIB:,.0f} KiB"
    return str(v)


def ratio(a, b):
    if a is None or b is None or isinstance(a, str) or isinstance(b, str) or b == 0:
        return "–"
    return f"{a / b:.2f}"


def summarise(bench, names):
    """Rows: (label, unit, {runtime: value}, target)."""
    rows = []
    S = bench.samples
    for v in VARIANTS:
        t = VARIANT_TITLE[v]
        run = S.get("run-" + v, {})
        rows.append((f"run /bin/true, {t}: median ms", "ms",
                     {n: statistics.median(run[n]["run"]) if run.get(n) else None for n in names + ["unshare"]},
                     ("crun", 0.75)))
        rows.append((f"run /bin/true, {t}: p90 ms", "ms",
                     {n: pct(run[n]["run"], 0.9) if run.get(n) else None for n in names + ["unshare"]}, None))
        cyc = S.get("cycle-" + v, {})
        for op in ("create", "start", "delete"):
            rows.append((f"{op}, {t}: median ms", "ms",
                         {n: statistics.median(cyc[n][op]) if cyc.get(n) else None for n in names}, None))
        rows.append((f"create+start+delete, {t}: median ms", "ms",
                     {n: statistics.median(cyc[n]["cycle"]) if cyc.get(n) else None for n in names},
                     ("crun", 0.75)))
        rows.append((f"create+start+delete, {t}: p90 ms", "ms",
                     {n: pct(cyc[n]["cycle"], 0.9) if cyc.get(n) else None for n in names}, None))
    rss_run = bench.rss.get("run", {})
    rss_create = bench.rss.get("create", {})
    rows.append(("peak RSS of `run` (runtime and its children), median KiB", "KiB",
                 {n: statistics.median(rss_run[n]) if rss_run.get(n) else None for n in names + ["unshare"]},
                 ("crun", 0.75)))
    rows.append(("peak RSS of `create` (the runtime process), median KiB", "KiB",
                 {n: statistics.median(rss_create[n]) if rss_create.get(n) else None for n in names},
                 ("crun", 0.75)))
    rows.append(("binary, stripped", "B", {n: bench.binary[n]["stripped"] for n in names}, ("crun", 1.0)))
    rows.append(("binary, as installed", "B", {n: bench.binary[n]["size"] for n in names}, None))
    mm = {}
    for n in names:
        m = bench.minmem.get(n)
        mm[n] = None if m is None else (">16 MiB" if m["limit"] is None else m["limit"])
    rows.append(("smallest memory limit that runs /bin/true", "B", mm, ("crun", 1.0)))
    rows.append(("written by the created init, charged to its cgroup, median KiB", "KiB",
                 {n: statistics.median(bench.pages[n]) if bench.pages.get(n) else None for n in names},
                 None))
    c = bench.conc
    k = bench.args.concurrency
    rows.append((f"{k} concurrent create+start: time until all started, median s", "s",
                 {n: (statistics.median([r["all_started_s"] for r in c[n]])
                      if c.get(n) and all(r["all_started_s"] is not None for r in c[n]) else None)
                  for n in names}, ("crun", 1.0)))
    rows.append((f"{k} concurrent delete: median s", "s",
                 {n: statistics.median([r["delete_all_s"] for r in c[n]]) if c.get(n) else None
                  for n in names}, None))
    rows.append((f"{k} concurrent: failures / leftovers", "",
                 {n: (f"{sum(len(r['failures']) for r in c[n])} / {sum(len(r['leftovers']) for r in c[n])}"
                      if c.get(n) else None) for n in names}, None))
    return rows


def table(rows, names):
    cols = names + ["unshare"]
    head = ["metric"] + cols
    refs = [r for r in ("crun", "runc", "base") if r in names]
    head += [f"skiff/{r}" for r in refs]
    head.append("target")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, unit, vals, target in rows:
        cells = [label] + [fmt(vals.get(n), unit) for n in cols]
        for r in refs:
            cells.append(ratio(vals.get("skiff"), vals.get(r)))
        tgt = ""
        if target and target[0] in vals:
            ref, k = target
            a, b = vals.get("skiff"), vals.get(ref)
            if isinstance(a, (int, float)) and isinstance(b, (int, float)):
                # binary and memory limit: no larger; the rest: ≤ k × ref
                met = a <= b * k
                tgt = f"≤ {k:g}× {ref}: {'met' if met else 'MISSED'}"
        cells.append(tgt)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine_text(m, versions, cg_setup):
    v = "; ".join(f"{k} {versions[k]}" for k in versions)
    return (f"Measured {m['date']} on {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, "
            f"{m['distro']}, Linux {m['kernel']}. Runtimes: {v}. Cgroups: {cg_setup}.")


# ---------------------------------------------------------------- main

def find(path, *candidates):
    if path:
        return path if os.access(path, os.X_OK) else None
    for c in candidates:
        p = shutil.which(c) if "/" not in c else (c if os.access(c, os.X_OK) else None)
        if p:
            return p
    return None


def main():
    ap = argparse.ArgumentParser(description="skiff against crun and runc (see docs/performance.md)")
    ap.add_argument("skiff", nargs="?", default=os.path.join(TOP, "src", "skiff"), help="skiff binary")
    ap.add_argument("-n", type=int, default=None, help="containers per measurement (default 100, --quick 10)")
    ap.add_argument("--warmup", type=int, default=None, help="warm-up rounds, not recorded (default 5)")
    ap.add_argument("--quick", action="store_true", help="N=10, one concurrency round, 1 try per memory probe")
    ap.add_argument("--concurrency", type=int, default=50, help="containers created at once (default 50)")
    ap.add_argument("--rounds", type=int, default=None, help="concurrency rounds per runtime (default 3)")
    ap.add_argument("--crun", default=None, help="crun binary (default: crun on PATH)")
    ap.add_argument("--runc", default=None, help="runc binary (default: runc on PATH)")
    ap.add_argument("--baseline", default=None, metavar="SKIFF",
                    help="also measure this other skiff build as `base` (A/B of a change)")
    ap.add_argument("--only", default=None, help="comma-separated runtimes to measure (skiff,crun,runc)")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: seq,rss,mem,conc,phases")
    ap.add_argument("--keep-hybrid", action="store_true",
                    help="do not hide the cgroup2 hierarchy of a hybrid host (crun then runs with --cgroup-manager=disabled)")
    ap.add_argument("--json", default="bench-results.json", help="raw results (default ./bench-results.json)")
    ap.add_argument("--markdown", default=None, help="also write the table and machine line to this file")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    if args.n is None:
        args.n = 10 if args.quick else 100
    if args.warmup is None:
        args.warmup = 2 if args.quick else 5
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    tries = 2 if args.quick else 5
    skip = set(filter(None, args.skip.split(",")))

    if os.geteuid() != 0:
        die("needs root (it creates containers)")
    skiff = find(args.skiff)
    if not skiff:
        die(f"skiff binary `{args.skiff}` not found (build it first, or pass its path)")
    skiff = os.path.abspath(skiff)
    crun = find(args.crun, "crun", "/usr/bin/crun")
    runc = find(args.runc, "runc", "/usr/sbin/runc")
    only = set(args.only.split(",")) if args.only else None

    # Container inits outlive their runtime process; make them our children
    # so we can reap them and know when they ended.
    PR_SET_CHILD_SUBREAPER = 36
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)

    crun_extra = []
    if hybrid_with_v2_controllers() and not args.keep_hybrid:
        err = private_v1_view()
        if err:
            log(f"bench: cannot hide the cgroup2 hierarchy ({err})")
            crun_extra = ["--cgroup-manager=disabled"]
            cg_setup = ("hybrid host; crun with --cgroup-manager=disabled (it refuses hybrid hosts), "
                        "skiff and runc with cgroups — not like with like")
        else:
            cg_setup = ("cgroup v1 for all three (the host is hybrid with hugetlb on cgroup2, which crun 1.8 "
                        "refuses; the bench hides the unified hierarchy in a private mount namespace)")
    elif hybrid_with_v2_controllers():
        crun_extra = ["--cgroup-manager=disabled"]
        cg_setup = "hybrid host; crun with --cgroup-manager=disabled, skiff and runc with cgroups"
    else:
        cg_setup = "v2" if "/sys/fs/cgroup" in cgroup_mounts() and read("/sys/fs/cgroup/cgroup.controllers") else "v1/hybrid"
        cg_setup = f"cgroup {cg_setup}, the same for all three"

    workdir = tempfile.mkdtemp(prefix="skiff-bench-", dir="/tmp")
    bench = Bench(args, workdir)
    bench.hid_unified = cg_setup.startswith("cgroup v1 for all three")
    bench.make_rootfs()
    runtimes = [Runtime("skiff", skiff, workdir)]
    if crun and (only is None or "crun" in only):
        runtimes.append(Runtime("crun", crun, workdir, crun_extra))
    if runc and (only is None or "runc" in only):
        runtimes.append(Runtime("runc", runc, workdir))
    if args.baseline:
        # Another skiff build, for A/B measurements of a change.
        runtimes.append(Runtime("base", os.path.abspath(args.baseline), workdir))
    if only is not None and "skiff" not in only:
        runtimes = runtimes[1:]
    names = [r.name for r in runtimes]
    unshare_bin = shutil.which("unshare")
    floor = Runtime("unshare", unshare_bin, workdir) if unshare_bin else None

    versions = {r.name: first_line([r.path, "--version"]).replace("commit:", "commit") for r in runtimes}
    m = machine()
    log(f"bench: {machine_text(m, versions, cg_setup)}")
    log(f"bench: work dir {workdir}, N={args.n}, warm-up {args.warmup}")
    bench.time_bin = find(None, "/usr/bin/time")
    bench.binary = {r.name: {"path": r.path, "size": os.path.getsize(r.path),
                             "stripped": stripped_size(r.path, workdir)} for r in runtimes}
    bench.minmem = {}
    bench.pages = {}
    bench.conc = {}
    phases = {}
    try:
        if "seq" not in skip:
            bench.sequential(runtimes, floor)
        if "rss" not in skip and bench.time_bin:
            bench.rss_pass(runtimes, floor, min(args.n, 20), 1)
        elif "rss" not in skip:
            log("bench: no GNU time (/usr/bin/time, Debian package time): peak RSS not measured")
        if "mem" not in skip:
            for rt in runtimes:
                log(f"pages the created init wrote to its memory cgroup: {rt.name}")
                bench.pages[rt.name] = bench.init_pages(rt)
            for rt in runtimes:
                log(f"memory limit bisect 16 MiB → 128 KiB: {rt.name}")
                limit, probes = bench.min_memory(rt, tries)
                bench.minmem[rt.name] = {"limit": limit, "probes": probes}
        if "conc" not in skip:
            for i in range(args.rounds):
                k = i % len(runtimes)
                for rt in runtimes[k:] + runtimes[:k]:
                    log(f"{args.concurrency} concurrent containers, round {i + 1}: {rt.name}")
                    r = bench.concurrent(rt, args.concurrency)
                    for f in r["failures"][:3] + r["leftovers"][:3]:
                        log(f"  {rt.name}: {f}")
                    bench.conc.setdefault(rt.name, []).append(r)
        if "phases" not in skip and "skiff" in names:
            log("skiff --debug phase timings")
            phases = bench.phases(runtimes[0], min(args.n, 30))
    finally:
        bench.cleanup(runtimes + ([floor] if floor else []))

    rows = summarise(bench, names)
    md = table(rows, names)
    mline = machine_text(m, versions, cg_setup)
    print()
    print(md)
    print()
    print(mline)
    fails = {s: {r: len(v) for r, v in d.items()} for s, d in bench.failures.items()}
    if fails:
        print(f"\nFailed calls (excluded from the timings): {json.dumps(fails)}")
    if phases:
        print("\nskiff --debug phases (median ms over %d runs):" % len(next(iter(phases.values()))))
        for name, xs in phases.items():
            print(f"  {name}: {statistics.median(xs):.3f}")
    out = {
        "machine": m,
        "versions": versions,
        "cgroups": cg_setup,
        "settings": {"n": args.n, "warmup": args.warmup, "concurrency": args.concurrency,
                     "rounds": args.rounds, "memory_tries": tries, "quick": args.quick},
        "binary": bench.binary,
        "samples_ms": bench.samples,
        "peak_rss_kib": bench.rss,
        "failures": bench.failures,
        "min_memory": bench.minmem,
        "init_pages_kib": bench.pages,
        "concurrent": bench.conc,
        "skiff_phases_ms": phases,
        "crun_dirs_under_hidden_unified_removed": bench.hidden_leftovers,
        "summary": [{"metric": l, "unit": u, "values": v, "target": t} for l, u, v, t in rows],
    }
    with open(args.json, "w") as f:
        json.dump(out, f, indent=1)
    log(f"bench: raw results in {os.path.abspath(args.json)}")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(md + "\n\n" + mline + "\n")
    if args.keep:
        log(f"bench: kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

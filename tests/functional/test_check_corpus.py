"""`skiff check` against the corpus of broken bundles in tests/check.

Each directory there is a bundle with one problem (README says which), plus
`many-problems` with many and `valid` with none.  `expected` holds the exact
text output, so a change of wording or position shows up as a test change.
Host facts come from SKIFF_TEST_HOST (a fixed profile, plus the bundle's
`host` file for the host warnings), never from this machine.  The bundles
share ../rootfs and are never run.

To regenerate the expected files after a deliberate change:
    SKIFF_UPDATE_EXPECTED=1 python3 -m pytest tests/functional/test_check_corpus.py
and review the diff.
"""

import json
import os
import re
import subprocess

import pytest

from harness import RUNTIME, TESTS_DIR

CORPUS = TESTS_DIR / "check"
BUNDLES = sorted(p.parent.name for p in CORPUS.glob("*/config.json"))
MULTI = {"many-problems", "valid", "rlimit-namespace-mount"}
# Everything present, nothing missing: the bundle's `host` file says what
# this host lacks.
HOST_PROFILE = "cgroup=v2,selinux=1,apparmor=1,idmap=1,resctrl=1,no-ns=,no-ctl=,no-cap="
# The path: no blank, but inside a map key (linux.netDevices["eth 7:1"]).
DIAG = re.compile(
    r'^config\.json:(\d+):(\d+): (error|warning): (?:((?:[^\s\[]|\[(?:"[^"]*"|\d+)\])+): )?(.*)$'
)

pytestmark = pytest.mark.skiff_only


def check(name, *args):
    bundle = CORPUS / name
    host = bundle / "host"
    extra = host.read_text().strip() if host.exists() else ""
    env = dict(os.environ, SKIFF_TEST_HOST=f"{HOST_PROFILE},{extra}")
    return subprocess.run(
        [RUNTIME, "check", *args], cwd=bundle, env=env, capture_output=True, text=True, timeout=30
    )


def parse_text(out):
    """[(line, col, severity, path, message, hint)] and the summary line."""
    lines = out.splitlines()
    diags = []
    for line in lines[:-1]:
        if line.startswith("    hint: "):
            diags[-1] = diags[-1][:5] + (line[len("    hint: "):],)
            continue
        m = DIAG.match(line)
        assert m, f"not a diagnostic line: {line!r}"
        diags.append((int(m[1]), int(m[2]), m[3], m[4] or "", m[5], None))
    return diags, lines[-1]


def test_corpus_size():
    single = [b for b in BUNDLES if b not in MULTI]
    assert len(single) >= 30, single
    assert "many-problems" in BUNDLES and "valid" in BUNDLES


@pytest.mark.parametrize("name", BUNDLES)
def test_expected_output(name):
    r = check(name)
    expected = CORPUS / name / "expected"
    if os.environ.get("SKIFF_UPDATE_EXPECTED") == "1":
        expected.write_text(r.stdout)
    assert r.stderr == ""
    assert r.stdout == expected.read_text()
    diags, summary = parse_text(r.stdout)
    errors = sum(1 for d in diags if d[2] == "error")
    warnings = len(diags) - errors
    assert re.fullmatch(rf"config\.json: {errors} errors?, {warnings} warnings?", summary), summary
    assert r.returncode == (1 if errors else 0)
    if name == "valid":
        assert diags == []
    elif name == "many-problems":
        assert errors >= 10
    elif name == "rlimit-namespace-mount":
        # once, the mount was lost when the other two were present
        assert [d[3] for d in diags] == [
            "process.rlimits[0]", "mounts[2].destination", "linux.namespaces[5]"], diags
    else:
        assert len(diags) == 1, "a corpus bundle has one problem:\n" + r.stdout
    for d in diags:
        assert d[0] > 0 and d[1] > 0, f"every diagnostic has a position: {d}"
        assert d[5], f"every diagnostic has a hint: {d}"


@pytest.mark.parametrize("name", BUNDLES)
def test_json_matches_text(name):
    text = check(name)
    js = check(name, "--format", "json")
    assert js.returncode == text.returncode
    doc = json.loads(js.stdout)
    diags, _ = parse_text(text.stdout)
    assert doc["file"] == "config.json"
    assert doc["errors"] == sum(1 for d in diags if d[2] == "error")
    assert doc["warnings"] == len(diags) - doc["errors"]
    got = [
        (d["line"], d["column"], d["severity"], d["path"], d["message"], d["hint"])
        for d in doc["diagnostics"]
    ]
    assert got == diags


def test_many_problems_keeps_going():
    """Past the first error of each kind: both duplicate-free namespace rules
    and the uts rule, every bad mount, every bad capability set."""
    diags, _ = parse_text(check("many-problems").stdout)
    paths = [d[3] for d in diags]
    for p in [
        "linux.namespaces[2]",
        "hostname",
        "domainname",
        "mounts[2].destination",
        "mounts[3]",
        "mounts[4].destination",
        "mounts[4].source",
        "process.capabilities.bounding[2]",
        "process.capabilities.effective[2]",
        "root.path",
        "hooks.prestart[0].path",
        "hooks.poststop[0].path",
    ]:
        assert p in paths, f"{p} not reported:\n{paths}"


def test_bundle_option_names_the_file():
    r = subprocess.run(
        [RUNTIME, "check", "--bundle", str(CORPUS / "hostname-without-uts")],
        env=dict(os.environ, SKIFF_TEST_HOST=HOST_PROFILE),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 1
    assert r.stdout.startswith(str(CORPUS / "hostname-without-uts" / "config.json") + ":")


def test_missing_config_is_an_error(tmp_path):
    r = subprocess.run(
        [RUNTIME, "check", "--bundle", str(tmp_path)], capture_output=True, text=True, timeout=30
    )
    assert r.returncode == 1
    assert "config.json" in r.stderr

"""The Docker part of the client suite: every scenario runs once on the
runtime under test (`skiff`) and once on runc (`runc`), on one private
dockerd that has both.  At the end, a short table tells which scenarios
passed on runc but not on skiff.  See docs/clients.md."""

from __future__ import annotations

import re

_outcomes: dict = {}


def pytest_runtest_logreport(report):
    m = re.match(r"(.*/docker/test_\w+\.py::\w+)\[(skiff|runc)\]$", report.nodeid)
    if not m:
        return
    key = (m.group(1).split("::")[-1], m.group(2))
    if report.when == "call" or report.outcome != "passed":
        # a failure in setup/teardown counts; a later phase's pass does not
        # hide an earlier failure
        if _outcomes.get(key) in (None, "passed"):
            _outcomes[key] = "xfailed" if hasattr(report, "wasxfail") else report.outcome


def pytest_terminal_summary(terminalreporter):
    if not _outcomes:
        return
    tests = sorted({t for t, _ in _outcomes})
    worse = [t for t in tests if _outcomes.get((t, "runc")) == "passed"
             and _outcomes.get((t, "skiff")) not in ("passed", None)]
    tr = terminalreporter
    tr.section("docker: skiff vs runc")
    width = max(len(t) for t in tests)
    tr.write_line(f"{'scenario':<{width}}  {'runc':<8}  skiff")
    for t in tests:
        tr.write_line(f"{t:<{width}}  {_outcomes.get((t, 'runc'), '-'):<8}  {_outcomes.get((t, 'skiff'), '-')}")
    if worse:
        tr.write_line(f"skiff fails where runc passes ({len(worse)}): {' '.join(worse)}")
    else:
        tr.write_line("skiff passes every scenario runc passes")

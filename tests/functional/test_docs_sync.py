"""The man pages and shell completions cannot drift from --help.

`skiff --help` lists the commands and global flags, `skiff COMMAND --help`
each command's flags.  Every command must have a man page (listed in
man/Makefile.am and in skiff(8)) and a place in the bash, zsh and fish
completions; every flag, long and short, must be documented in its command's
man page (as **--flag** in the markdown) and completed by each shell for that
command:

  bash, zsh  the body of the function _skiff_COMMAND (global flags and the
             command list: the body of _skiff)
  fish       the `complete -c skiff` lines whose condition is
             `__skiff_flags_of COMMAND` or `__skiff_using_command COMMAND`
             (global flags and commands: `__skiff_no_command`)

Nothing here needs root or a container; the sources are found relative to this
file (so the test also runs from a distribution tarball).
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from harness import RUNTIME

pytestmark = pytest.mark.skiff_only

TOP = Path(__file__).resolve().parents[2]
MAN_DIR = TOP / "man"
BASH = TOP / "completions" / "bash" / "skiff"
ZSH = TOP / "completions" / "zsh" / "_skiff"
FISH = TOP / "completions" / "fish" / "skiff.fish"

GLOBAL = None  # the "command" of the global flags


# ------------------------------------------------------------ --help parsing


def help_text(*args: str) -> str:
    r = subprocess.run(
        [RUNTIME, *args, "--help"], capture_output=True, text=True, timeout=30
    )
    assert r.returncode == 0, f"skiff {' '.join(args)} --help: exit {r.returncode}\n{r.stderr}"
    assert r.stdout.startswith("Usage:"), f"skiff {' '.join(args)} --help:\n{r.stdout}"
    return r.stdout


def parse_commands(text: str) -> list[str]:
    """The commands of the `Commands:` block of `skiff --help`."""
    lines = text.splitlines()
    assert "Commands:" in lines, f"no Commands: block in\n{text}"
    commands = []
    for line in lines[lines.index("Commands:") + 1 :]:
        if not line.strip():
            break
        m = re.match(r"^\s+([a-z][a-z0-9-]*)\s{2,}\S", line)
        assert m, f"cannot parse the command line {line!r}"
        commands.append(m.group(1))
    return commands


def parse_flags(text: str) -> list[str]:
    """Every flag of an option table: lines starting with blanks and a dash,
    whose first column ("-b, --bundle DIR") names the short and long forms."""
    flags = []
    for line in text.splitlines():
        if not re.match(r"^\s+-", line):
            continue
        column = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
        for part in column.split(","):
            m = re.match(r"^(--?[A-Za-z0-9][A-Za-z0-9-]*)", part.strip())
            assert m, f"cannot parse the option line {line!r}"
            flags.append(m.group(1))
    return flags


# ------------------------------------------------------- documentation files


def read(path: Path) -> str:
    assert path.is_file(), f"{path} is missing"
    return path.read_text()


def man_page(command: str | None) -> Path:
    return MAN_DIR / ("skiff.8.md" if command is None else f"skiff-{command}.8.md")


def shell_function(text: str, name: str) -> str | None:
    """The body of `name() {` ... `}` (closing brace in column 0)."""
    m = re.search(rf"^{re.escape(name)}\(\) \{{\n(.*?)^\}}", text, re.M | re.S)
    return m.group(1) if m else None


def has_word(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def fish_entries(text: str) -> list[dict]:
    """One dict per `complete -c skiff` line: the commands of its condition
    (None for __skiff_no_command), its flags and its -a words."""
    entries = []
    for line in text.splitlines():
        if not line.startswith("complete -c skiff "):
            continue
        words = shlex.split(line)
        e = {"commands": [], "flags": set(), "args": []}
        cond = None
        i = 3
        while i < len(words):
            w = words[i]
            if w in ("-n", "-s", "-l", "-o", "-a", "-d") and i + 1 < len(words):
                v = words[i + 1]
                if w == "-n":
                    cond = v
                elif w == "-s":
                    e["flags"].add("-" + v)
                elif w in ("-l", "-o"):
                    e["flags"].add(("--" if w == "-l" else "-") + v)
                elif w == "-a":
                    e["args"] += v.split()
                i += 2
            else:
                i += 1
        if cond is None:
            continue
        first = cond.split(";")[0].split()
        if first[0] == "__skiff_no_command":
            e["commands"] = [GLOBAL]
        elif first[0] in ("__skiff_flags_of", "__skiff_using_command"):
            e["commands"] = first[1:]
        entries.append(e)
    return entries


def zsh_specs(body: str) -> str:
    """A zsh function body without _arguments' own options (-s -S -C -A '-*'),
    which would otherwise pass for short flags."""
    return re.sub(r"_arguments((\s+-[sSCW])|(\s+-A\s+'[^']*'))*", "_arguments", body)


def undocumented(command: str | None, flags: list[str]) -> list[str]:
    """Where `flags` of `command` (None: the global flags) are missing."""
    where = "skiff" if command is None else f"skiff {command}"
    fn = "_skiff" if command is None else f"_skiff_{command}"
    missing = []

    page = man_page(command)
    man = page.read_text() if page.is_file() else ""
    bash = shell_function(read(BASH), fn) or ""
    zsh = zsh_specs(shell_function(read(ZSH), fn) or "")
    fish = set()
    for e in fish_entries(read(FISH)):
        if command in e["commands"]:
            fish |= e["flags"]

    for flag in flags:
        if f"**{flag}**" not in man:
            missing.append(f"{where} {flag}: not documented as **{flag}** in man/{page.name}")
        if not has_word(bash, flag):
            missing.append(f"{where} {flag}: not in {fn}() of completions/bash/skiff")
        if not has_word(zsh, flag):
            missing.append(f"{where} {flag}: not in {fn}() of completions/zsh/_skiff")
        if flag not in fish:
            missing.append(f"{where} {flag}: not completed for it by completions/fish/skiff.fish")
    return missing


def command_undocumented(command: str) -> list[str]:
    """Where the command itself is missing."""
    missing = []
    page = man_page(command)
    if not page.is_file():
        missing.append(f"{command}: no man page man/{page.name}")
    if f"**skiff-{command}**(8)" not in read(man_page(None)):
        missing.append(f"{command}: not listed as **skiff-{command}**(8) in man/skiff.8.md")
    if f"skiff-{command}.8" not in makefile_pages():
        missing.append(f"{command}: skiff-{command}.8 not in man8_MANS of man/Makefile.am")
    for path, name in ((BASH, "bash"), (ZSH, "zsh")):
        text = read(path)
        if shell_function(text, f"_skiff_{command}") is None:
            missing.append(f"{command}: no function _skiff_{command}() in the {name} completion")
        if not has_word(shell_function(text, "_skiff") or "", command):
            missing.append(f"{command}: not in the command list of _skiff() in the {name} completion")
    offered = [a for e in fish_entries(read(FISH)) if e["commands"] == [GLOBAL] for a in e["args"]]
    if command not in offered:
        missing.append(f"{command}: not offered by __skiff_no_command in the fish completion")
    return missing


def makefile_pages() -> list[str]:
    text = read(MAN_DIR / "Makefile.am").replace("\\\n", " ")
    m = re.search(r"^man8_MANS\s*=(.*)$", text, re.M)
    assert m, "man/Makefile.am has no man8_MANS"
    return m.group(1).split()


# --------------------------------------------------------------------- tests


def test_help_parses():
    commands = parse_commands(help_text())
    for basic in ("create", "start", "state", "kill", "delete", "run", "exec", "list"):
        assert basic in commands
    assert {"--root", "--log", "--log-format", "-h", "--help"} <= set(parse_flags(help_text()))
    assert {"-b", "--bundle", "--pid-file"} <= set(parse_flags(help_text("create")))


def test_every_command_documented_and_completed():
    missing = []
    for command in parse_commands(help_text()):
        missing += command_undocumented(command)
    assert not missing, "commands of skiff --help without docs:\n" + "\n".join(missing)


def test_every_flag_documented_and_completed():
    missing = undocumented(GLOBAL, parse_flags(help_text()))
    for command in parse_commands(help_text()):
        missing += undocumented(command, parse_flags(help_text(command)))
    assert not missing, "flags of --help without docs:\n" + "\n".join(missing)


def test_makefile_pages_exist():
    pages = makefile_pages()
    assert "skiff.8" in pages
    for page in pages:
        assert (MAN_DIR / f"{page}.md").is_file(), f"man/Makefile.am lists {page} but man/{page}.md is missing"
    for source in MAN_DIR.glob("*.md"):
        assert source.name[: -len(".md")] in pages, f"man/{source.name} is not in man8_MANS of man/Makefile.am"


def test_drift_is_detected():
    """The checks above would fail for a flag or command --help gained
    without docs."""
    fake = ["--no-such-flag-for-drift", "-Z"]
    for command in (GLOBAL, "create"):
        missing = undocumented(command, fake)
        assert len(missing) == 8, missing
        for where in ("man/", "bash", "zsh", "fish"):
            assert sum(where in m for m in missing) == 2, (where, missing)
    # A flag of one command does not count for another.
    assert undocumented("start", ["--bundle"])
    assert len(command_undocumented("no-such-command")) == 8
    assert parse_flags("  -Z, --zap N   zap things\n      --zip   zip\n") == ["-Z", "--zap", "--zip"]

#!/usr/bin/env python3
"""symbolize.py BINARY < report: resolve the sanitizer frames of BINARY.

skiff runs from a detached read-only bind of itself (or a memfd copy), so
its frames read "(/+0x1234)" or "(/memfd:skiff (deleted)+0x1234)" and the
sanitizer cannot find the file to symbolize them; this resolves them with
llvm-symbolizer against the build's binary and passes other lines on."""

import re
import shutil
import subprocess
import sys

FRAME = re.compile(
    r"^(\s*#\d+ 0x[0-9a-f]+)\s+(?:in \S+ )?\((/|/memfd:skiff \(deleted\)|[^()]*/skiff)\+(0x[0-9a-f]+)\)"
)


def main():
    binary = sys.argv[1]
    tool = shutil.which("llvm-symbolizer") or shutil.which("llvm-symbolizer-14")
    for line in sys.stdin:
        line = line.rstrip("\n")
        m = FRAME.match(line)
        if not (m and tool):
            print(line)
            continue
        r = subprocess.run(
            [tool, "--obj", binary, "--functions=linkage", "--inlining=false", m.group(3)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        where = " ".join(r.stdout.split()[:2]) if r.returncode == 0 else "?"
        print(f"{m.group(1)} in {where} (skiff+{m.group(3)})")


if __name__ == "__main__":
    main()

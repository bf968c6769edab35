#!/bin/sh
# `make bench`: skiff against crun and runc (see docs/performance.md).
# Usage: bench.sh [SKIFF] [bench.py options]; bench.py --help lists them.
# Needs root, python3 (stdlib only) and busybox-static; installs nothing.
here=$(cd "$(dirname "$0")" && pwd)
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
exec "$py" "$here/bench.py" "$@"

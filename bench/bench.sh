#!/bin/sh
# `make bench`: skiff against crun and runc (see docs/performance.md).
# Usage: bench.sh [SKIFF] [bench.py options]; bench.py --help lists them.
# Through make: make bench BENCH_ARGS="--quick --json /tmp/b.json"
# Needs root, python3 (stdlib only) and busybox-static; installs nothing.
here=$(cd "$(dirname "$0")" && pwd)
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
# shellcheck disable=SC2086 # BENCH_ARGS is a list of options
exec "$py" "$here/bench.py" "$@" $BENCH_ARGS

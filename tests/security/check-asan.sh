#!/bin/bash
# make check-asan: build skiff with AddressSanitizer + UndefinedBehaviorSanitizer
# (clang) in its own build directory and run the whole functional suite
# against it.  Fails when a test fails or any sanitizer report was written.
#
#   tests/security/check-asan.sh SRCDIR BUILDDIR [PYTEST ARGS...]
#   (PYTEST_PYTHON: the python3 that has pytest; ASAN_CC: the compiler, clang)
#
# Reports: ASan/LSan/UBSan write to BUILDDIR/sanitizer-reports/<tool>.<pid>
# (log_path), not to stderr, so a report from any runtime process is seen
# even when the test does not look at stderr.  The container's init runs
# the runtime's code until it execs; after pivot_root the log path does not
# exist for it, so a report there kills it ("Can't open file") and the test
# fails instead.  Leaks: LeakSanitizer runs at exit(); the runtime's forked
# children leave with _exit() or exec, so only the runtime processes
# themselves are checked, which is what we want (detect_leaks=1).
# Frames of the runtime show as "(/+0x...)": it runs from a detached
# read-only bind of itself (CVE-2019-5736); they are symbolized here
# against the build's binary.
set -euo pipefail
srcdir=$(cd "$1" && pwd)
builddir=$2
shift 2
CC=${ASAN_CC:-clang}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
mkdir -p "$builddir"
builddir=$(cd "$builddir" && pwd)

# A source tree configured in place refuses VPATH builds: build a copy of
# its files (tracked and new, as they are in the working tree) instead.
src=$srcdir
if [ -e "$srcdir/config.status" ]; then
  git -C "$srcdir" rev-parse --git-dir >/dev/null 2>&1 || {
    echo "check-asan: $srcdir is configured in place and not a git checkout: configure out of tree" >&2
    exit 1
  }
  src=$builddir/source
  mkdir -p "$src"
  inside=${builddir#"$srcdir"/}
  (cd "$srcdir" && git ls-files -co --exclude-standard -z | grep -zv "^$inside/" |
    tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$src"
  [ -x "$src/configure" ] || (cd "$src" && ./autogen.sh >/dev/null)
  builddir=$builddir/build
  mkdir -p "$builddir"
fi
cd "$builddir"
if [ ! -f Makefile ] || [ "$src/configure" -nt Makefile ] ||
  ! grep -qx "abs_top_srcdir = $src" Makefile; then
  "$src/configure" -q CC="$CC" CFLAGS="$SAN -g -O1" LDFLAGS="$SAN"
fi
make -j"$(nproc)" -C libocispec >/dev/null
make -j"$(nproc)" -C src >/dev/null
# The helper runs inside containers and must be static: never sanitized.
gcc -static -O2 -o "$builddir/skiff-init" "$srcdir/tests/init.c"

reports=$builddir/sanitizer-reports
rm -rf "$reports"
mkdir -p "$reports"
# test_rootless.py runs the runtime as an unprivileged user: its reports too
chmod 1777 "$reports"
export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:symbolize=0:halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1"
export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1:symbolize=0"
export LSAN_OPTIONS="log_path=$reports/lsan"

status=0
PYTHONDONTWRITEBYTECODE=1 SKIFF="$builddir/src/skiff" SKIFF_INIT="$builddir/skiff-init" \
  "${PYTEST_PYTHON:-python3}" -m pytest -q -ra -p no:cacheprovider "$@" "$srcdir/tests/functional" || status=$?

shopt -s nullglob
files=("$reports"/*)
if [ ${#files[@]} -gt 0 ]; then
  echo "check-asan: ${#files[@]} sanitizer report(s) in $reports:" >&2
  for f in "${files[@]}"; do
    echo "==== $f" >&2
    "${PYTEST_PYTHON:-python3}" "$srcdir/tests/security/symbolize.py" "$builddir/src/skiff" <"$f" >&2
  done
  status=1
fi
if [ "$status" -eq 0 ]; then
  echo "check-asan: the functional suite passed with no sanitizer report"
fi
exit "$status"

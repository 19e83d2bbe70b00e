#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs every test suite:
#   1. a -Dwerror=true build and all its suites: unit, slow, integration, install and
#      fuzz-smoke (tests/meson.build says what each holds);
#   2. the same suites in an AddressSanitizer + UndefinedBehaviorSanitizer build.
# Usage: ./test.sh            (both passes)
#        ./test.sh --quick    (the first pass only)
set -euo pipefail
cd "$(dirname "$0")"

tools/install-deps.sh

jobs=$(nproc)

echo "== werror build: unit, slow, integration, install, fuzz-smoke"
[ -d build-ci ] || meson setup build-ci -Dwerror=true -Dbuildtype=debugoptimized
meson compile -C build-ci -j "$jobs"
meson test -C build-ci --print-errorlogs --num-processes "$jobs"

[ "${1:-}" = "--quick" ] && exit 0

echo "== ASan/UBSan build: unit, slow, integration, install, fuzz-smoke"
[ -d build-asan ] || meson setup build-asan -Dwerror=true -Dbuildtype=debug \
	-Db_sanitize=address,undefined -Db_lundef=false
meson compile -C build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan --print-errorlogs --num-processes "$jobs" --timeout-multiplier 3
echo "all suites passed"

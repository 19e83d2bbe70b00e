#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs every test suite:
#   1. a -Dwerror=true build and all its suites: unit, slow, integration, install,
#      reliability and fuzz-smoke (tests/meson.build says what each holds);
#   2. the same suites in an AddressSanitizer + UndefinedBehaviorSanitizer build;
#   3. the libFuzzer build (clang, -Dfuzz=true, with ASan and UBSan): each fuzz target of
#      tests/fuzz runs 10 seconds from its corpus (the suite fuzz; tests/fuzz/run-long.sh
#      is the long mode, RELIABILITY.md has its figures).
# Usage: ./test.sh            (all three passes)
#        ./test.sh --quick    (the first pass only)
#        ./test.sh --fuzz     (the third pass only)
#        ./test.sh --tsan     (only ThreadSanitizer over the unit and integration suites,
#                              some 6 minutes on 2 cores: not in the default run, see
#                              RELIABILITY.md)
set -euo pipefail
cd "$(dirname "$0")"

tools/install-deps.sh

jobs=$(nproc)

if [ "${1:-}" = "--tsan" ]; then
	echo "== TSan build: unit, integration"
	[ -d build-tsan ] || meson setup build-tsan -Dwerror=true -Dbuildtype=debug \
		-Db_sanitize=thread -Db_lundef=false
	meson compile -C build-tsan -j "$jobs"
	# The onboardd processes the tests start report into files of their own: a race in
	# a server the test killed would not show in its exit status.
	reports=$(mktemp -d)
	status=0
	TSAN_OPTIONS="second_deadlock_stack=1 log_path=$reports/tsan" \
		meson test -C build-tsan --suite unit --suite integration --print-errorlogs \
		--num-processes "$jobs" --timeout-multiplier 4 || status=$?
	if compgen -G "$reports/tsan.*" >/dev/null; then
		cat "$reports"/tsan.*
		status=1
	fi
	rm -rf "$reports"
	[ "$status" -eq 0 ] && echo "ThreadSanitizer: no report"
	exit "$status"
fi

# The libFuzzer build compiles only the fuzz targets and what they link.
fuzz_pass() {
	echo "== libFuzzer build: every fuzz target for 10 seconds"
	[ -d build-fuzz ] || CC=clang meson setup build-fuzz -Dwerror=true -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false
	meson compile -C build-fuzz -j "$jobs" fuzzers
	meson test -C build-fuzz --no-rebuild --suite fuzz --print-errorlogs
}
if [ "${1:-}" = "--fuzz" ]; then
	fuzz_pass
	exit 0
fi

echo "== werror build: unit, slow, integration, install, reliability, fuzz-smoke"
[ -d build-ci ] || meson setup build-ci -Dwerror=true -Dbuildtype=debugoptimized
meson compile -C build-ci -j "$jobs"
meson test -C build-ci --print-errorlogs --num-processes "$jobs"

[ "${1:-}" = "--quick" ] && exit 0

echo "== ASan/UBSan build: unit, slow, integration, install, reliability, fuzz-smoke"
[ -d build-asan ] || meson setup build-asan -Dwerror=true -Dbuildtype=debug \
	-Db_sanitize=address,undefined -Db_lundef=false
meson compile -C build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan --print-errorlogs --num-processes "$jobs" --timeout-multiplier 3

fuzz_pass
echo "all suites passed"

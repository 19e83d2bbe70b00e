#!/usr/bin/env bash
# Runs the integration suite of an ASan/UBSan build N times in a row (default 20) while two
# CPU-bound processes compete for the cores, as the hardening issue asks, and stops at the
# first failure with its log. Usage, from the project root, after ./test.sh built build-asan:
#   tools/asan-loop.sh [RUNS] [BUILD_DIR]
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
build=${2:-build-asan}
[ -d "$build" ] || { echo "no $build: run ./test.sh first" >&2; exit 2; }
meson compile -C "$build" >/dev/null || exit 1
# The competition: two busy loops, bounded in time, stopped on any exit.
timeout 7200 sh -c 'while :; do :; done' &
b1=$!
timeout 7200 sh -c 'while :; do :; done' &
b2=$!
trap 'kill $b1 $b2 2>/dev/null' EXIT
log=$(mktemp /tmp/asan-loop.XXXXXX)
for i in $(seq "$runs"); do
	if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C "$build" --suite integration --print-errorlogs \
		--num-processes "$(nproc)" --timeout-multiplier 3 >"$log" 2>&1; then
		echo "run $i of $runs: pass"
	else
		echo "run $i of $runs: FAIL, log in $log"
		exit 1
	fi
done
rm -f "$log"
echo "$runs passed in a row under competing load"

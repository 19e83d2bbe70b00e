#!/usr/bin/env bash
# Runs the libFuzzer binaries of tests/fuzz, one after the other (never two at once), and
# prints for each the executions, the coverage reached and the crashes found.
#
# Usage: tests/fuzz/run-long.sh TARGET|all [SECONDS=600]
#   TARGET     a target of tests/fuzz (fuzz_TARGET.c): auth, connect, csv, dispatch, http,
#              json, pagetoken or vault
#   SECONDS    how long each target runs (libFuzzer's -max_total_time)
# Environment:
#   FUZZ_BUILD  the build directory with -Dfuzz=true (default: build-fuzz at the top of the
#               source tree), made with
#                 CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
#                     -Db_lundef=false
#               and its binaries built (meson compile -C build-fuzz fuzzers); the suite
#               fuzz of that build runs this script with 10 seconds a target.
#   FUZZ_OUT    where each run keeps its log, the inputs it found and any crash (default: a
#               new directory under FUZZ_BUILD/fuzz-runs)
#
# Each run starts from the seed corpus tests/fuzz/corpus/TARGET, reads it but never writes it
# (new inputs go into FUZZ_OUT/TARGET/new), with the dictionary tests/fuzz/TARGET.dict when
# there is one. libFuzzer stops a target at its first crash, leak or timeout and writes the
# input as FUZZ_OUT/TARGET/crash-* (leak-*, timeout-*, oom-*): reproduce it with
#   build-fuzz/tests/fuzz/fuzz_TARGET FILE
# and, once fixed, add it to tests/fuzz/corpus/TARGET as regress-WHAT.
# Exits 0 when no target found anything, 1 otherwise, 2 on a usage error.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# The targets: one fuzz_NAME.c each (tests/fuzz/meson.build builds them).
all=()
for f in "$here"/fuzz_*.c; do
	n=${f##*/fuzz_}
	all+=("${n%.c}")
done

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	sed -n '2,/^set -e/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
	exit 2
fi
if [ "$1" = all ]; then
	targets=("${all[@]}")
elif [[ " ${all[*]} " == *" $1 "* ]]; then
	targets=("$1")
else
	echo "run-long.sh: no target '$1' (one of: ${all[*]}, or all)" >&2
	exit 2
fi
seconds=${2:-600}
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
	echo "run-long.sh: SECONDS must be a positive integer, not '$seconds'" >&2
	exit 2
fi

build=${FUZZ_BUILD:-$top/build-fuzz}
out=${FUZZ_OUT:-$build/fuzz-runs/$(date -u +%Y%m%dT%H%M%SZ)-$$}
mkdir -p "$out"

# Leaks fail a run as crashes do; symbolized stacks in the logs.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

status=0
printf '%-10s %12s %10s %8s %8s %8s  %s\n' target executions exec/s cov ft corpus crashes
for t in "${targets[@]}"; do
	bin=$build/tests/fuzz/fuzz_$t
	if [ ! -x "$bin" ]; then
		echo "run-long.sh: $bin is missing: build it with -Dfuzz=true (see the usage)" >&2
		exit 2
	fi
	dir=$out/$t
	mkdir -p "$dir/new"
	args=(-max_total_time="$seconds" -timeout=10 -max_len=8192 -print_final_stats=1
		-artifact_prefix="$dir/")
	[ -f "$here/$t.dict" ] && args+=(-dict="$here/$t.dict")
	rc=0
	"$bin" "${args[@]}" "$dir/new" "$here/corpus/$t" >"$dir/log" 2>&1 || rc=$?

	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)
	line=$(grep -E '^#[0-9]+.*cov: ' "$dir/log" | tail -1 || true)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$line")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$line")
	corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$line")
	found=$(find "$dir" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o \
		-name 'timeout-*' -o -name 'oom-*' \) | sort)
	n=0
	[ -n "$found" ] && n=$(wc -l <<<"$found")
	printf '%-10s %12s %10s %8s %8s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
		"${ft:-?}" "${corp:-?}" "$n"
	if [ "$rc" -ne 0 ] || [ "$n" -gt 0 ] || [ -z "$execs" ]; then
		status=1
		echo "  fuzz_$t failed (exit $rc): $dir/log" >&2
		[ -n "$found" ] && sed 's/^/  reproducer: /' <<<"$found" >&2
		grep -E 'ERROR: |SUMMARY: |fuzz_[a-z]+: ' "$dir/log" | head -5 | sed 's/^/  /' >&2
	fi
done
echo "logs and new inputs: $out"
exit "$status"

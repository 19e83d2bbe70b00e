#!/usr/bin/env bash
# Get and GetCohort p99 with 1,000 against 1,000,000 applications (issue 11 §4), measured in
# paired rounds: two onboardd serve at once, one on each database, and each round measures
# both in turn, so that the ratio of a round compares the two sizes under the same load of a
# shared machine (compare.sh measures them minutes apart, the million right after loading it).
# GetCohort reads counters whatever the size: its ratio is the control, what the machine did.
# Loading the million takes minutes of both cores: run the script niced, which nices every
# process it starts alike:
#     BUILD=build-rel nice -n 10 deploy/loadtest/scale.sh [ROUNDS (3)] [CALLS (5000)] [LARGE (1000000)]
set -euo pipefail
source "$(dirname "$0")/common.sh"
rounds=${1:-3}
calls=${2:-5000}
large_n=${3:-1000000}

submit() { # URL N: N applications into the programme's cohort
	"$load" -s "$1" "${key[@]}" --cohort 2020-11 --scenario submit -c 64 -n "$2" --json
}
p99() { # URL SCENARIO: the p99 in microseconds of CALLS calls at concurrency 16
	field "$("$load" -s "$1" "${key[@]}" --cohort 2020-11 --scenario "$2" -c 16 -n "$calls" \
		--json)" latency_us.p99
}

start_onboardd small
small=$url_ipc
submit "$small" 1000 >/dev/null
start_onboardd large
large=$url_ipc
began=$(date +%s)
out=$(submit "$large" "$large_n")
echo "# loaded $large_n applications in $(($(date +%s) - began)) s ($(field "$out" ok) OK)," \
	"$(du -b "$work/large.db" | cut -f1) bytes; $(date -u +%FT%TZ), $(nproc) cores"
printf '%-6s %-10s %10s %10s %8s  %s\n' round method "1k p99 us" "large p99" ratio "load average"
for r in $(seq "$rounds"); do
	for m in get:Get cohort:GetCohort; do
		a=$(p99 "$small" "${m%%:*}")
		b=$(p99 "$large" "${m%%:*}")
		printf '%-6s %-10s %10s %10s %8.2f  %s\n' "$r" "${m#*:}" "$a" "$b" \
			"$(python3 -c "print($b / max($a, 1))")" "$(cut -d' ' -f1-3 /proc/loadavg)"
	done
done

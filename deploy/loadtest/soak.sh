#!/usr/bin/env bash
# Memory over a mixed run: onboardd's resident set sampled every 10 s during
# DURATION seconds (default 600) of the mixed scenario at concurrency 16.
# Usage: deploy/loadtest/soak.sh [DURATION]
set -euo pipefail
source "$(dirname "$0")/common.sh"
duration=${1:-600}
start_onboardd soak
"$load" -s "$url_ipc" "${key[@]}" --cohort 2020-11 --scenario submit -c 16 -n 1000 --json >/dev/null
"$load" -s "$url_ipc" "${key[@]}" --cohort 2020-11 --scenario mixed -c 16 -d "$duration" >"$work/mixed.txt" &
loader=$!
echo "seconds rss_kib"
t=0
while kill -0 $loader 2>/dev/null; do
	echo "$t $(awk '/VmRSS/ {print $2}' /proc/"$server_pid"/status)"
	sleep 10
	t=$((t + 10))
done
wait $loader || true
cat "$work/mixed.txt"

#!/usr/bin/env bash
# Where a durable Submit's CPU goes, by onboardd thread: onboard-load's submit scenario at
# concurrency 64 for 8 s against an onboardd with --workers WORKERS (default: its own), and the
# CPU seconds each kind of thread (ob-writer, ob-worker, nng's) used over 4 s of it, read from
# /proc/PID/task/*/stat; then the writes per commit from onboardd's count at exit. DB_DIR puts
# the database elsewhere (/dev/shm: a disk whose fsync costs nothing).
# Usage: BUILD=build-rel deploy/loadtest/threads.sh [WORKERS] [DB_DIR]
set -euo pipefail
source "$(dirname "$0")/common.sh"
args=()
[ -z "${1:-}" ] || args+=(--workers "$1")
db=${2:-$work}/threads-$$.db
trap 'rm -f "$db" "$db"-*; cleanup' EXIT
start_onboardd threads "${args[@]}" --db "$db"
"$load" -s "$url_ipc" "${key[@]}" --cohort 2020-11 --scenario submit -c 64 -d 8s --json \
	>"$work/out.json" &
loader=$!
cpu() { # CPU ticks by thread name, in one read (no thread name here has a space)
	awk '{n[$2] += $14 + $15} END {for (k in n) print k, n[k]}' /proc/"$server_pid"/task/*/stat |
		sort
}
sleep 1
cpu >"$work/a"
sleep 4
cpu >"$work/b"
wait "$loader"
tick=$(getconf CLK_TCK)
echo "# CPU seconds over 4 s of Submit at c=64, load average $(cut -d' ' -f1-3 /proc/loadavg)"
join "$work/a" "$work/b" | awk -v t="$tick" '{printf "%-16s %6.2f\n", $1, ($3 - $2) / t}'
echo "calls/s $(field "$(cat "$work/out.json")" ok_throughput)"
stop_pid "$server_pid"
grep -o 'store: .* per commit)' "$work/threads.log" | tail -1

#!/usr/bin/env bash
# Durable Submits, one commit per call against group commit, and what the store did meanwhile:
# onboard-load's submit scenario at concurrency 64 over ipc for SECONDS, on a fresh database,
# once with --commit-batch 1 and once with group commit, ROUNDS times in turn (the machines are
# shared: compare within a round). Per run: calls a second; commits a second and writes per
# commit from onboardd's own count at exit ("N writes in M commits"); and fsync/fdatasync
# system calls a second, counted by `perf stat` on onboardd's syscall tracepoints when perf
# can (else "-"). With synchronous=FULL each commit syncs the write-ahead log once; a
# checkpoint syncs the database file too. A third run per round is group commit with
# --workers 32, the default before workers were sized by the batch (2 x 64): a write holds its
# worker until its commit, so the workers bound the writes a commit can carry.
# Usage: BUILD=build-rel deploy/loadtest/groupcommit.sh [SECONDS (5)] [ROUNDS (2)]
set -euo pipefail
source "$(dirname "$0")/common.sh"
secs=${1:-5}
rounds=${2:-2}

# run NAME [ONBOARDD ARGS...]: prints "calls/s commits/s writes/commit fsyncs/s".
run() {
	local name=$1
	shift
	start_onboardd "$name" "$@"
	local perf_pid=
	if perf stat -e syscalls:sys_enter_fsync -- true >/dev/null 2>&1; then
		perf stat -x, -o "$work/$name.perf" -e syscalls:sys_enter_fsync \
			-e syscalls:sys_enter_fdatasync -p "$server_pid" 2>/dev/null &
		perf_pid=$!
	fi
	local out
	out=$("$load" -s "$url_ipc" "${key[@]}" --cohort 2020-11 --scenario submit -c 64 \
		-d "${secs}s" --json)
	[ -z "$perf_pid" ] || { kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null || true; }
	stop_pid "$server_pid"
	local calls writes commits syncs=-
	calls=$(field "$out" ok_throughput)
	read -r writes commits < <(sed -n 's/.*store: \([0-9]*\) writes in \([0-9]*\) commits.*/\1 \2/p' \
		"$work/$name.log" | tail -1)
	if [ -n "$perf_pid" ] && [ -s "$work/$name.perf" ]; then
		syncs=$(awk -F, '$3 ~ /sys_enter_f(data)?sync/ {n += $1} END {printf "%.0f", n / '"$secs"'}' \
			"$work/$name.perf")
	fi
	python3 -c 'import sys; c, w, n, s = sys.argv[1:5]; d = float(sys.argv[5])
print("%.0f %.0f %.1f %s" % (float(c), int(n) / d, int(w) / max(int(n), 1), s))' \
		"$calls" "${writes:-0}" "${commits:-0}" "$syncs" "$secs"
}

echo "# durable Submit, ipc, concurrency 64, ${secs} s a run, $(date -u +%FT%TZ), $(nproc) cores"
printf '%-6s %-20s %10s %10s %14s %10s\n' round mode "calls/s" "commits/s" "writes/commit" "fsyncs/s"
for r in $(seq "$rounds"); do
	read -r oc ob ow os < <(run "single-$r" --commit-batch 1)
	read -r gc gb gw gs < <(run "grouped-$r")
	read -r wc wb ww ws < <(run "grouped32-$r" --workers 32)
	printf '%-6s %-20s %10s %10s %14s %10s\n' "$r" "one commit per call" "$oc" "$ob" "$ow" "$os"
	printf '%-6s %-20s %10s %10s %14s %10s\n' "$r" "group commit" "$gc" "$gb" "$gw" "$gs"
	printf '%-6s %-20s %10s %10s %14s %10s\n' "$r" "  with --workers 32" "$wc" "$wb" "$ww" "$ws"
	python3 -c 'import sys; a = [float(x) for x in sys.argv[2:]]
print("%-6s group commit / one commit per call: x%.2f; default workers / 32 workers: x%.2f" % (sys.argv[1], a[1] / a[0], a[1] / a[2]))' "$r" "$oc" "$gc" "$wc"
done

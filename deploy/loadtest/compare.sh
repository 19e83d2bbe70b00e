#!/usr/bin/env bash
# The comparison of issue 5, in one run on this machine: the raw nng REQ/REP
# echo of a same-sized message (the transport's limit) against onboardd's Get
# and durable Submit, over ipc and tcp at concurrency 1, 16 and 64; group
# commit against one commit per call; and Get / GetCohort latency with
# 1,000 against 1,000,000 applications.
#
# Usage: deploy/loadtest/compare.sh [--quick] [--skip-million]
#   --quick         fewer calls per measurement (noisier)
#   --skip-million  leave out the 1,000,000-application part (it loads for minutes)
set -euo pipefail
source "$(dirname "$0")/common.sh"

calls=20000
million=1
for a in "$@"; do
	case $a in
	--quick) calls=5000 ;;
	--skip-million) million=0 ;;
	*) echo "unknown option $a" >&2; exit 2 ;;
	esac
done

# The servers here are this script's own, on databases of their own: reads and writes go to
# the programme's cohort, named (onboard-load would otherwise write into a cohort of its own,
# and GetCohort would read an empty 2020-11).
measure() { # URL SCENARIO CONCURRENCY [EXTRA...] -> JSON
	local url=$1 scen=$2 c=$3
	shift 3
	local n=$calls
	[ "$c" = 1 ] && n=$((calls / 4))
	local auth=("${key[@]}" --cohort 2020-11)
	[ "$scen" = echo ] && auth=()
	"$load" -s "$url" --scenario "$scen" -c "$c" -n "$n" --json "${auth[@]}" "$@"
}

echo "# onboard comparison, $(date -u +%FT%TZ), $(nproc) cores, $(uname -r)"
echo "# payload: a Get reply is ~600 bytes; the echo uses messages of that size"
start_echo
start_onboardd main
"$load" -s "$url_ipc" "${key[@]}" --cohort 2020-11 --scenario submit -c 16 -n 1000 --json >/dev/null # 1,000 applications
reply_bytes=600

printf '\n%-6s %-4s %12s %12s %8s %10s %10s %8s\n' transport c "echo/s" "onboardd/s" ratio "echo p50" "p50" "p50 x"
for transport in ipc tcp; do
	eurl=$echo_ipc url=$url_ipc
	[ $transport = tcp ] && eurl=$echo_tcp url=$url_tcp
	for c in 1 16 64; do
		e=$(measure "$eurl" echo "$c" --echo-bytes $reply_bytes)
		g=$(measure "$url" get "$c")
		et=$(field "$e" ok_throughput) gt=$(field "$g" ok_throughput)
		ep=$(field "$e" latency_us.p50) gp=$(field "$g" latency_us.p50)
		printf '%-6s %-4s %12.0f %12.0f %8.2f %10s %10s %8.2f   Get\n' $transport "$c" "$et" "$gt" \
			"$(python3 -c "print($gt/$et)")" "$ep" "$gp" "$(python3 -c "print($gp/max($ep,1))")"
		s=$(measure "$url" submit "$c")
		st=$(field "$s" ok_throughput) sp=$(field "$s" latency_us.p50)
		printf '%-6s %-4s %12.0f %12.0f %8.2f %10s %10s %8.2f   Submit (durable)\n' $transport "$c" "$et" "$st" \
			"$(python3 -c "print($st/$et)")" "$ep" "$sp" "$(python3 -c "print($sp/max($ep,1))")"
	done
done
stop_pid "$server_pid"

echo
echo "# group commit against one commit per call (ipc, concurrency 64)"
start_onboardd single --commit-batch 1
one=$(measure "$url_ipc" submit 64)
stop_pid "$server_pid"
start_onboardd grouped
grouped=$(measure "$url_ipc" submit 64)
stop_pid "$server_pid"
o=$(field "$one" ok_throughput) g=$(field "$grouped" ok_throughput)
printf 'one commit per call %8.0f/s   group commit %8.0f/s   x %.2f\n' "$o" "$g" "$(python3 -c "print($g/$o)")"
grep -h 'per commit' "$work"/grouped.log | tail -1 || true

[ $million = 1 ] || exit 0
echo
echo "# Get and GetCohort p99 (ipc, concurrency 16): 1,000 against 1,000,000 applications"
start_onboardd small
"$load" -s "$url_ipc" "${key[@]}" --cohort 2020-11 --scenario submit -c 64 -n 1000 --json >/dev/null
g1=$(measure "$url_ipc" get 16) c1=$(measure "$url_ipc" cohort 16)
stop_pid "$server_pid"
start_onboardd large
echo "loading 1,000,000 applications (minutes)..." >&2
"$load" -s "$url_ipc" "${key[@]}" --cohort 2020-11 --scenario submit -c 64 -n 1000000 --json >"$work/load-1m.json"
echo "loaded: $(field "$(cat "$work/load-1m.json")" ok) OK at $(field "$(cat "$work/load-1m.json")" ok_throughput)/s" >&2
g2=$(measure "$url_ipc" get 16) c2=$(measure "$url_ipc" cohort 16)
stop_pid "$server_pid"
for pair in "Get:$g1:$g2" "GetCohort:$c1:$c2"; do
	IFS=: read -r name a b <<<"$pair" || true
done
printf '%-10s %10s %10s %8s\n' method "1k p99" "1M p99" ratio
a=$(field "$g1" latency_us.p99) b=$(field "$g2" latency_us.p99)
printf '%-10s %10s %10s %8.2f\n' Get "$a" "$b" "$(python3 -c "print($b/max($a,1))")"
a=$(field "$c1" latency_us.p99) b=$(field "$c2" latency_us.p99)
printf '%-10s %10s %10s %8.2f\n' GetCohort "$a" "$b" "$(python3 -c "print($b/max($a,1))")"
ls -l "$work/large.db" | awk '{print "database size with 1,000,000 applications: " $5 " bytes"}'

#!/usr/bin/env bash
# callgrind of onboardd, one file per thread: 300 then SUBMITS durable Submits at c=32, then 5,000
# Gets at c=32, in the 2020 lockdown, on a fresh database. Instruction counts do not depend on
# the machine's load, which makes them the figures to compare between builds on a shared machine.
# Usage: BUILD=build-rel deploy/loadtest/profile.sh OUT [SUBMITS (3000)]
# then, per thread (the writer is the file with batch_main in it):
#   callgrind_annotate --inclusive=yes OUT.PID-NN
set -euo pipefail
source "$(dirname "$0")/common.sh"
out=${1:?usage: profile.sh OUT [SUBMITS]}
submits=${2:-3000}
url="ipc://$work/profile.sock"
ONBOARDD_NOW=2020-11-20T10:00:00Z valgrind --tool=callgrind --separate-threads=yes \
	--callgrind-out-file="$out.%p" "$onboardd" --db "$work/profile.db" --listen "$url" \
	--no-access-log 2>"$work/profile.log" &
pid=$!
pids+=($pid)
for _ in $(seq 300); do "$onboard" -s "$url" health >/dev/null 2>&1 && break; sleep 0.2; done
calls() { "$load" -s "$url" --cohort 2020-11 -c 32 --json "$@" | python3 -c \
	'import json, sys; d = json.load(sys.stdin); print(d["ok"], "OK of", d["calls"])'; }
calls --scenario submit -n 300 >/dev/null
echo "submit: $(calls --scenario submit -n "$submits")"
echo "get: $(calls --scenario get -n 5000)"
kill -INT "$pid"
wait "$pid" || true
ls "$out".*

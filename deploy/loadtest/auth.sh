#!/usr/bin/env bash
# The cost of authentication on reads: Get at concurrency 16 over ipc, as the
# trusted local peer (no credential) and with a reviewer key (a session token
# checked on every call), alternated three times in one run.
# Usage: deploy/loadtest/auth.sh [CALLS]
set -euo pipefail
source "$(dirname "$0")/common.sh"
calls=${1:-20000}
"$onboard" keygen --out "$work/reviewer.key" --role reviewer --label bench | tail -1 >"$work/keyring.reviewer"
# Rate limits out of the way: this measures the checks, not the limits.
cat "$work/keyring.reviewer" >>"$work/keyring"
start_onboardd auth
"$load" -s "$url_ipc" "${key[@]}" --cohort 2020-11 --scenario submit -c 16 -n 1000 --json >/dev/null
printf '%-8s %14s %14s %8s\n' round "no auth /s" "token /s" ratio
for round in 1 2 3; do
	a=$("$load" -s "$url_ipc" --scenario get -c 16 -n "$calls" --json)
	b=$("$load" -s "$url_ipc" --key "$work/reviewer.key" --scenario get -c 16 -n "$calls" --json)
	at=$(field "$a" ok_throughput) bt=$(field "$b" ok_throughput)
	printf '%-8s %14.0f %14.0f %8.3f\n' "$round" "$at" "$bt" "$(python3 -c "print($bt/$at)")"
done

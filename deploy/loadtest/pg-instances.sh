#!/usr/bin/env bash
# pg-instances.sh [BUILD_DIR (build)] [SECONDS (3)]: durable Submit through onboard-load against
# one onboardd on PostgreSQL, then against two onboardd on the same database (the calls spread
# over both), each against the shared yardstick's raw echo (refload -> refecho) measured in the
# same run, and SQLite's one instance for comparison (issue 13 §4). From the project root,
# under a private PostgreSQL cluster:
#
#     tools/pgcluster.sh deploy/loadtest/pg-instances.sh build
#
# Every run writes to a new database (or SQLite file) of its own; two rounds, the best of each
# kept, as the yardstick does. Needs ../shared/bench (the yardstick), PGHOST and PGPORT.
set -euo pipefail
build=${1:-build}
secs=${2:-3}
: "${PGHOST:?run under tools/pgcluster.sh}" "${PGPORT:?}"
bench=$(cd "$(dirname "$0")/../../../shared/bench" && pwd)
onboardd=$build/service/onboardd load=$build/client/onboard-load onboard=$build/client/onboard
work=$(mktemp -d /tmp/pg-instances.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"' EXIT
(meson setup "$work/y" "$bench" -Dbuildtype=release && meson compile -C "$work/y") >"$work/y.log" 2>&1 ||
	{ echo "could not build the yardstick: $work/y.log" >&2; exit 1; }

# serve NAME DB ARGS...: onboardd on ipc://$work/NAME.sock over DB, in the 2020 lockdown.
serve() {
	local name=$1 db=$2
	shift 2
	"$onboardd" --listen "ipc://$work/$name.sock" --db "$db" --no-access-log \
		--now 2020-11-20T10:00:00Z "$@" 2>"$work/$name.log" &
	pids+=($!)
	for _ in $(seq 100); do
		"$onboard" -s "ipc://$work/$name.sock" health >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	cat "$work/$name.log" >&2
	exit 1
}
# pgdb NAME: a new migrated database and its key file; prints its URL.
pgdb() {
	createdb "$1"
	local url="postgresql://onboard@/$1?host=$PGHOST&port=$PGPORT"
	"$onboardd" migrate --db "$url" --master-key "$work/$1.key" >/dev/null 2>&1
	echo "$url"
}
# submit URL...: the durable Submit rate of onboard-load spread over the URLs (2 connections,
# each to every URL); onboard-load fails when a call does.
submit() {
	local args=() u
	for u in "$@"; do args+=(-s "$u"); done
	"$load" "${args[@]}" --connections 2 --scenario submit -c 64 -d "$secs" --json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["ok_throughput"])'
}
stop_all() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	pids=()
}

"$work/y/refecho" "ipc://$work/echo.sock" -n 128 -lifetime 600 &
echo_pid=$!
trap 'kill "$echo_pid" 2>/dev/null; for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait; rm -rf "$work"' EXIT
sleep 0.5
head -c 374 /dev/zero | tr '\0' x >"$work/echo.bin" # refecho sends any request back as it is
e=() q=() one=() two=()
for round in 1 2; do
	e+=("$("$work/y/refload" "ipc://$work/echo.sock" "$work/echo.bin" -c 64 -d "$secs" |
		sed -n 's/.*rate=\([0-9.]*\).*/\1/p')")
	serve "sq$round" "$work/sq$round.db"
	q+=("$(submit "ipc://$work/sq$round.sock")")
	stop_all
	url=$(pgdb "one_$round")
	serve "one$round" "$url" --master-key "$work/one_$round.key"
	one+=("$(submit "ipc://$work/one$round.sock")")
	stop_all
	url=$(pgdb "two_$round")
	serve "a$round" "$url" --master-key "$work/two_$round.key"
	serve "b$round" "$url" --master-key "$work/two_$round.key"
	two+=("$(submit "ipc://$work/a$round.sock" "ipc://$work/b$round.sock")")
	stop_all
done
kill "$echo_pid" 2>/dev/null || true
best() { python3 -c 'import sys; print(max(float(x) for x in sys.argv[1:]))' "$@"; }
python3 - "$(best "${e[@]}")" "$(best "${q[@]}")" "$(best "${one[@]}")" "$(best "${two[@]}")" \
	"${one[*]}" "${two[*]}" <<'PY'
import sys
E, Q, P1, P2 = map(float, sys.argv[1:5])
print("raw echo (refload -> refecho)              %9.0f calls/s" % E)
print("submit, SQLite, one onboardd               %9.0f calls/s  x%.3f of echo" % (Q, Q / E))
print("submit, PostgreSQL, one onboardd           %9.0f calls/s  x%.3f of echo" % (P1, P1 / E))
print("submit, PostgreSQL, two onboardd, one db   %9.0f calls/s  x%.3f of echo" % (P2, P2 / E))
print("two instances / one instance (PostgreSQL)  x%.2f   (rounds: one %s; two %s)" % (P2 / P1, sys.argv[5], sys.argv[6]))
PY

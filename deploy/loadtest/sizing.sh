#!/usr/bin/env bash
# sizing.sh: the figures of docs/sizing.md. One onboardd on SQLite, then one and two onboardd
# on one PostgreSQL database, each under onboard-load's submit, get and mixed scenarios for a
# few seconds (ipc, a trusted local peer), and what the databases hold per application after.
# Needs a PostgreSQL cluster: run it under tools/pgcluster.sh, from the top of the tree:
#     tools/pgcluster.sh deploy/loadtest/sizing.sh
# Prints one line per run (throughput and latency of the calls answered OK) and the sizes.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD:-$root/build}
: "${PGHOST:?run under tools/pgcluster.sh}" "${PGPORT:?}"
work=$(mktemp -d /tmp/ob-sizing.XXXXXX)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
flags=(--now 2020-11-16T08:30:00Z --no-access-log --rate-per-key 500000
	--rate-per-address 500000)

# serve NAME ARGS...: onboardd on ipc://$work/NAME.sock, once it serves.
serve() {
	local name=$1
	shift
	"$build/service/onboardd" --listen "ipc://$work/$name.sock" "$@" "${flags[@]}" \
		>"$work/$name.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do
		grep -q "serving" "$work/$name.log" && return 0
		sleep 0.1
	done
	cat "$work/$name.log" >&2
	exit 1
}

# run LABEL SCENARIO CONCURRENCY SECONDS SOCKET...: one onboard-load run and its line.
run() {
	local label=$1 scenario=$2 c=$3 secs=$4 servers=()
	shift 4
	for s in "$@"; do servers+=(-s "ipc://$work/$s.sock"); done
	"$build/client/onboard-load" --no-progress --format json "${servers[@]}" \
		--connections $# --scenario "$scenario" -c "$c" -d "${secs}s" >"$work/run.json"
	python3 - "$work/run.json" "$label" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
l = j["latency_us"]
print("%-28s %7.0f calls/s  p50 %6.1f ms  p99 %6.1f ms  %d of %d OK" % (
    sys.argv[2], j["ok_throughput"], l["p50"] / 1000, l["p99"] / 1000, j["ok"], j["calls"]))
PY
}

scenarios() { # LABEL SOCKET...
	run "$1 submit (c=32)" submit 32 10 "${@:2}"
	run "$1 get (c=16)" get 16 8 "${@:2}"
	run "$1 mixed (c=32)" mixed 32 8 "${@:2}"
}

serve sqlite --db "$work/sqlite/onboard.db"
scenarios "SQLite, one onboardd:" sqlite
kill "${pids[0]}"
wait "${pids[0]}" || true
db=$work/sqlite/onboard.db
echo "SQLite: $(du -b "$db" | cut -f1) bytes for" \
	"$(sqlite3 "$db" 'SELECT count(*) FROM application') applications"

createdb ob_sizing
url="postgresql://$PGUSER@/ob_sizing?host=$PGHOST&port=$PGPORT"
"$build/service/onboardd" migrate --db "$url" --master-key "$work/pg.key" >/dev/null 2>&1
serve pg1 --db "$url" --master-key "$work/pg.key"
serve pg2 --db "$url" --master-key "$work/pg.key"
scenarios "PostgreSQL, one onboardd:" pg1
scenarios "PostgreSQL, two onboardd:" pg1 pg2
echo "PostgreSQL: $(psql -d ob_sizing -Atc 'SELECT pg_database_size(current_database())')" \
	"bytes for $(psql -d ob_sizing -Atc 'SELECT count(*) FROM application') applications" \
	"(an empty database: $(psql -d postgres -Atc "SELECT pg_database_size('postgres')"))"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"

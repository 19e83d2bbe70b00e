# Shared by the load-test scripts: paths, a server in a temporary directory,
# and JSON field extraction without jq.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD:-$root/build}
onboardd=$build/service/onboardd
onboard=$build/client/onboard
load=$build/client/onboard-load
echo_server=$build/client/onboard-echo
for b in "$onboardd" "$onboard" "$load" "$echo_server"; do
	[ -x "$b" ] || { echo "missing $b: run 'meson setup build && meson compile -C build' first" >&2; exit 1; }
done
work=$(mktemp -d /tmp/onboard-load.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# An admin key for the runs over tcp, where no peer is trusted without one;
# the ipc runs use it too, so that both pay for the same checks.
"$onboard" keygen --out "$work/admin.key" --role admin --label loadtest | tail -1 >"$work/keyring"
key=(--key "$work/admin.key")

# start_onboardd NAME [ARGS...]: starts onboardd with its own db; sets $url_ipc and $url_tcp.
# Its programme clock is in the November 2020 lockdown (--now), as ./demo.sh's: the default
# cohort takes submissions during the lockdown only.
start_onboardd() {
	local name=$1
	shift
	local port=$((20000 + RANDOM % 20000))
	url_ipc="ipc://$work/$name.sock"
	url_tcp="tcp://127.0.0.1:$port"
	"$onboardd" --listen "$url_ipc" --listen "$url_tcp" --db "$work/$name.db" --no-access-log \
		--keyring "$work/keyring" --rate-per-key 500000 --rate-per-address 500000 \
		--now 2020-11-16T08:30:00Z "$@" \
		2>>"$work/$name.log" &
	pids+=($!)
	server_pid=$!
	for _ in $(seq 100); do
		"$onboard" -s "$url_ipc" --timeout 1s health >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "onboardd did not start; see $work/$name.log" >&2
	exit 1
}

start_echo() {
	local port=$((20000 + RANDOM % 20000))
	echo_ipc="ipc://$work/echo.sock"
	echo_tcp="tcp://127.0.0.1:$port"
	"$echo_server" "$echo_ipc" 64 &
	pids+=($!)
	"$echo_server" "$echo_tcp" 64 &
	pids+=($!)
	sleep 0.3
}

stop_pid() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# field JSON KEY: a number from onboard-load --json output (latency keys as latency_us.p50).
field() {
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); k=sys.argv[2].split(".")
for p in k: d=d[p]
print(d)' "$1" "$2"
}

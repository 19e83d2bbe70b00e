#!/usr/bin/env bash
# cli_codes.sh: the onboard CLI against a server that answers status codes outside the
# contract (tests/support/fakesrv.c, what /work/shared/repro/codesrv.py does over tcp).
# Whatever the code, the CLI says UNKNOWN and exits 64 + 2: never 0 (64 + -64, or 64 + 192
# = 256, which the shell sees as 0), never a crash on the reply it does not have.
#
# Needs ONBOARD_CLI and ONBOARD_FAKESRV (meson test sets both).
set -uo pipefail

: "${ONBOARD_CLI:?path of the onboard CLI}"
: "${ONBOARD_FAKESRV:?path of onboard-fakesrv}"

base=${TMPDIR:-/tmp}
[ ${#base} -le 64 ] || base=/tmp # an ipc:// path must fit in sun_path
dir=$(mktemp -d "$base/ob-codes-XXXXXX")
pid=
failures=0

stop_server() {
	if [ -n "$pid" ]; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		pid=
	fi
}
cleanup() {
	stop_server
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# start_server CODE: onboard-fakesrv on a new socket answering CODE; sets $url. Waits for its
# "ready" line (it prints it once it listens), polling every 20 ms for up to 10 s.
n=0
start_server() {
	n=$((n + 1))
	url="ipc://$dir/s$n.sock"
	"$ONBOARD_FAKESRV" "$url" "$1" >"$dir/ready$n" 2>"$dir/fakesrv$n.log" &
	pid=$!
	for _ in $(seq 500); do
		grep -q '^ready$' "$dir/ready$n" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.02
	done
	cat "$dir/fakesrv$n.log" >&2
	echo "FAIL: onboard-fakesrv $1 did not start" >&2
	exit 1
}

# check NAME CODE WANT_RC ARGS...: runs the CLI against a server answering CODE and checks
# its exit status and that stderr names the status as WANT_NAME.
check() {
	local name=$1 code=$2 want=$3 want_name=$4
	shift 4
	start_server "$code"
	local rc=0
	"$ONBOARD_CLI" --server "$url" --timeout 5s "$@" >"$dir/out" 2>"$dir/err" || rc=$?
	stop_server
	if [ "$rc" -ne "$want" ]; then
		fail "$name (server code $code): exit status $rc, expected $want"
		sed 's/^/  stdout: /' "$dir/out" >&2
		sed 's/^/  stderr: /' "$dir/err" >&2
		return
	fi
	if ! grep -q "$want_name" "$dir/err"; then
		fail "$name (server code $code): stderr does not say $want_name"
		sed 's/^/  stderr: /' "$dir/err" >&2
		return
	fi
	echo "ok: $name, server code $code: exit $rc, $want_name"
}

printf 'siren,legal_name\n732829320,Boulangerie Martin\n' >"$dir/one.csv"
for code in -64 17 192 1000; do
	# one command of each kind: cli_call (health, get, export), the generic call, import
	check "health" "$code" 66 UNKNOWN health
	check "get" "$code" 66 UNKNOWN get 01HF0000000000000000000000
	check "export" "$code" 66 UNKNOWN export
	check "call" "$code" 66 UNKNOWN call /onboard.v1.Health/Check '{}'
	check "import" "$code" 66 UNKNOWN import "$dir/one.csv"
done
# A code of the contract is as it was: 64 + 5 NOT_FOUND.
check "health" 5 69 NOT_FOUND health

if [ "$failures" -ne 0 ]; then
	echo "$failures check(s) failed" >&2
	exit 1
fi
echo "all status code checks passed"

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

. "$(dirname "$0")/lib.sh"
lib_init ob-codes

# check NAME CODE WANT_RC WANT_NAME ARGS...: runs the CLI against a new server answering CODE
# and checks its exit status and that stderr names the status as WANT_NAME.
n=0
check() {
	local name=$1 code=$2 want=$3 want_name=$4
	shift 4
	n=$((n + 1))
	url="ipc://$dir/s$n.sock"
	fakesrv_start "$url" "$code"
	run_says "$name, server code $code: exit $want, $want_name" "$want" "$want_name" \
		"$ONBOARD_CLI" --server "$url" --timeout 5s "$@"
	proc_kill
}

printf 'siren,legal_name\n732829320,Boulangerie Martin\n' >"$dir/one.csv"
for code in -64 17 192 1000; do
	# one command of each kind: cli_call (health, get, export), the generic call, import
	check "health" "$code" 66 UNKNOWN health
	check "get" "$code" 66 UNKNOWN get 01HF0000000000000000000000
	check "export" "$code" 66 UNKNOWN export
	check "call" "$code" 66 UNKNOWN call /onboard.v1.Health/Check '{}'
	# import reports each line's refusal on stdout, with the code's name
	url="ipc://$dir/imp$code.sock"
	fakesrv_start "$url" "$code"
	run "import, server code $code: exit 66" 66 "$ONBOARD_CLI" --server "$url" --timeout 5s \
		import "$dir/one.csv" && expect "import, server code $code: says UNKNOWN" \
		"line 2: 732829320 refused UNKNOWN" "$out"
	proc_kill
done
# A code of the contract is as it was: 64 + 5 NOT_FOUND.
check "health" 5 69 NOT_FOUND health

finish "cli_codes"

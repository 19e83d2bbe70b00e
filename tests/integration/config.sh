#!/usr/bin/env bash
# config.sh: onboardd's configuration as an operator sets it, against real onboardd processes:
# every option of `onboardd --help` names its ONBOARDD_* variable; the variables configure a
# server (repeatable ones with spaces), the command line wins over them, a bad value or an
# unknown ONBOARDD_ variable stops the start naming the variable; --log-level; and the access
# log: the caller's key id, a request id made when the caller sent none (the one the caller
# gets back), and --access-log-sample, which keeps every failed call.
#
# Needs ONBOARDD and ONBOARD_CLI (meson test sets both).
set -uo pipefail

. "$(dirname "$0")/lib.sh"
lib_init_ipc ob-config

# lines_matching FILE REGEX: how many lines of FILE match.
lines_matching() {
	local n
	n=$(grep -cE -- "$2" "$1" 2>/dev/null) || true
	echo "${n:-0}"
}

# ---- --help lists every option with its variable ----------------------------------------------
if run "onboardd --help" 0 "$ONBOARDD" --help; then
	printf '%s\n' "$out" >"$dir/help"
	options=$(grep -oE -- '^  (-[a-z], )?    --(\[no-\])?[a-z-]+' "$dir/help" | grep -oE -- '[a-z][a-z-]+$' |
		grep -vxE 'help|version')
	checks=$((checks + 1))
	[ "$(echo "$options" | wc -l)" -ge 25 ] || fail "--help lists only: $options"
	for o in $options; do
		var=ONBOARDD_$(echo "$o" | tr 'a-z-' 'A-Z_')
		checks=$((checks + 1))
		grep -qxE -- " +\\\$$var" "$dir/help" || fail "--help does not name \$$var for --$o"
	done
fi

# ---- the environment configures a server ------------------------------------------------------
# Two listen URLs from one variable, the database, JSON logs: all from the environment.
export ONBOARDD_LISTEN="$url ipc://$dir/second.sock"
export ONBOARDD_DB="$dir/env.db" ONBOARDD_LOG_FORMAT=json ONBOARDD_ACCESS_LOG=no
log=$dir/env.log
"$ONBOARDD" >"$log" 2>&1 &
pid=$!
lib_pids+=("$pid")
wait_for_line "$log" '"onboardd .* serving"' "$pid" || die "onboardd configured by the environment did not start: $(cat "$log")"
run "the first ONBOARDD_LISTEN URL serves" 0 ob health || true
run "the second ONBOARDD_LISTEN URL serves" 0 "$ONBOARD_CLI" -s "ipc://$dir/second.sock" health || true
checks=$((checks + 1))
[ -s "$dir/env.db" ] || fail "ONBOARDD_DB: no database at $dir/env.db"
expect_clean_stop
checks=$((checks + 1))
[ "$(lines_matching "$log" '^\{"time":')" -eq "$(wc -l <"$log")" ] ||
	fail "ONBOARDD_LOG_FORMAT=json: not every line is JSON: $(head -3 "$log")"
checks=$((checks + 1))
[ "$(lines_matching "$log" '"method":')" -eq 0 ] || fail "ONBOARDD_ACCESS_LOG=no: access lines were logged"
unset ONBOARDD_LISTEN ONBOARDD_DB ONBOARDD_LOG_FORMAT ONBOARDD_ACCESS_LOG

# The command line wins: a variable naming another database is not used when --db is given,
# and a variable's value is not even read then.
log=$dir/wins.log
ONBOARDD_DB="$dir/not-this.db" ONBOARDD_WORKERS=0 onboardd_start "$url" --db "$dir/this.db" --workers 2
checks=$((checks + 1))
[ -s "$dir/this.db" ] && [ ! -e "$dir/not-this.db" ] || fail "--db did not win over ONBOARDD_DB"
expect_clean_stop

# A bad value, and a variable that is no option, stop the start with the variable's name.
run_says "a bad ONBOARDD_WORKERS" 2 "ONBOARDD_WORKERS='0': --workers takes 1 to 256" \
	env ONBOARDD_WORKERS=0 "$ONBOARDD" --listen "$url" --db "$dir/x.db" || true
run_says "a bad ONBOARDD_TRUST_LOCAL" 2 "ONBOARDD_TRUST_LOCAL='maybe'" \
	env ONBOARDD_TRUST_LOCAL=maybe "$ONBOARDD" --listen "$url" --db "$dir/x.db" || true
run_says "a misspelt variable" 2 "ONBOARDD_WORKER in the environment is no option" \
	env ONBOARDD_WORKER=4 "$ONBOARDD" --listen "$url" --db "$dir/x.db" || true
run_says "too many ONBOARDD_LISTEN URLs" 2 "ONBOARDD_LISTEN=" \
	env ONBOARDD_LISTEN="$(printf "ipc://$dir/%d.sock " $(seq 17))" "$ONBOARDD" --db "$dir/x.db" || true
checks=$((checks + 1))
[ ! -e "$dir/x.db" ] || fail "a refused configuration created the database"

# ---- --log-level ------------------------------------------------------------------------------
# warn: no info line (the start and the stop are info), but the access log is apart.
log=$dir/level.log
ONBOARDD_LOG_LEVEL=warn "$ONBOARDD" --listen "$url" --db "$dir/level.db" >"$log" 2>&1 &
pid=$!
lib_pids+=("$pid")
for _ in $(seq 500); do
	ob health >/dev/null 2>&1 && break
	sleep 0.02
done
run "health with --log-level warn" 0 ob health || true
expect_clean_stop
checks=$((checks + 1))
[ "$(lines_matching "$log" ' info ')" -eq 0 ] || fail "--log-level warn logged info lines: $(grep ' info ' "$log" | head -3)"
checks=$((checks + 1))
[ "$(lines_matching "$log" 'method="/onboard.v1.Health/Check"')" -ge 1 ] ||
	fail "--log-level warn dropped the access log"
run_says "a bad --log-level" 2 "--log-level takes debug, info, warn or error" \
	"$ONBOARDD" --log-level verbose || true

# ---- the access log: who, and a request id --------------------------------------------------
log=$dir/access.log
onboardd_start "$url" --db "$dir/access.db"
run "a call with a request id" 69 ob -H request-id=ops-check-1 get 01ARZ3NDEKTSV4RRFFQ69G5FAV || true
run "a call without one" 69 ob --json get 01ARZ3NDEKTSV4RRFFQ69G5FAV || true
made=$(python3 -c 'import json, sys; print(json.loads(sys.stdin.readline())["request_id"])' <"$dir/err" 2>/dev/null)
checks=$((checks + 1))
[[ $made =~ ^[0-9a-f]{16}$ ]] || fail "the reply carries no request id made by the server: $(cat "$dir/err")"
expect_clean_stop
checks=$((checks + 1))
[ "$(lines_matching "$log" 'request_id="ops-check-1" peer="ipc:pid=[0-9]+" key_id="local"$')" -eq 1 ] ||
	fail "no access line with the caller's request id and key id: $(grep method= "$log")"
checks=$((checks + 1))
[ "$(lines_matching "$log" "status=NOT_FOUND .* request_id=\"$made\" .* key_id=\"local\"\$")" -eq 1 ] ||
	fail "the request id the caller got back ($made) is not the one logged: $(grep method= "$log")"
checks=$((checks + 1))
[ "$(lines_matching "$log" 'method=.* request_id="" ')" -eq 0 ] || fail "an access line without a request id"

# ---- --access-log-sample: one success in N, every failure -----------------------------------
log=$dir/sample.log
onboardd_start "$url" --db "$dir/sample.db" --access-log-sample 3
for _ in $(seq 9); do ob health >/dev/null; done
for _ in 1 2; do ob get 01ARZ3NDEKTSV4RRFFQ69G5FAV >/dev/null 2>&1; done
expect_clean_stop
checks=$((checks + 1))
[ "$(lines_matching "$log" 'method="/onboard.v1.Health/Check" status=OK')" -eq 3 ] ||
	fail "--access-log-sample 3 of 9 successes: $(grep -c 'status=OK' "$log") lines"
checks=$((checks + 1))
[ "$(lines_matching "$log" 'status=NOT_FOUND')" -eq 2 ] || fail "--access-log-sample dropped a failed call"

finish config

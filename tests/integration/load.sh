#!/usr/bin/env bash
# load.sh: onboard-load against real servers: onboardd on a private database, onboard-echo,
# and onboard-fakesrv answering the codes it is given.
#
# What it shows: a write scenario run without --cohort creates a load-test cohort of its own
# and leaves every existing cohort as it was (counted before and after every run); naming
# one with --cohort writes there; a caller who may not create cohorts gets a clear refusal
# and the run does not start; drop-cohort.sh removes a load-test cohort while onboardd runs
# and refuses any other; failed calls give a non-zero exit and are counted by status and
# message; the open loop makes exactly the calls its schedule holds; every format is read
# back by a real reader.
#
# Needs ONBOARDD, ONBOARD_CLI, ONBOARD_LOAD, ONBOARD_ECHO and ONBOARD_FAKESRV (meson test sets
# them), python3, sqlite3 and openssl.
set -uo pipefail

: "${ONBOARD_LOAD:?path of onboard-load}" "${ONBOARD_ECHO:?path of onboard-echo}"
: "${ONBOARD_FAKESRV:?path of onboard-fakesrv}"

. "$(dirname "$0")/lib.sh"
lib_init_ipc ob-load
drop_cohort=$(cd "$(dirname "$0")/../.." && pwd)/deploy/loadtest/drop-cohort.sh
# On a date inside 2020-11's submission window, so that runs that name it may write there.
now=(--now 2020-11-20T10:00:00Z)
onboardd_start "$url" --db "$dir/onboard.db" --no-access-log "${now[@]}"

load() { "$ONBOARD_LOAD" -s "$url" "$@"; }
# py EXPR: a Python expression over the JSON report in $dir/out (as d).
py() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$dir/out" "$1"; }
# cohorts: the ids of the server's cohorts, one line.
cohorts() { "$ONBOARD_CLI" -s "$url" --json cohort --list | python3 -c 'import json, sys; print(" ".join(sorted(c["id"] for c in json.load(sys.stdin)["cohorts"])))'; }
# standing ID: applications, seats held, waitlist, and how many of each state.
standing() {
	"$ONBOARD_CLI" -s "$url" --json --emit-defaults cohort "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["applications"], d["seatsHeld"], d["waitlistLength"], sorted((c["key"], c["count"]) for c in d["byState"]))'
}
# untouched WHAT: 2020-11 is as it was, and no cohort appeared but those listed in $made.
untouched() {
	expect_eq "$(standing 2020-11)" "$real_before" "$1: the cohort 2020-11"
	expect_eq "$(cohorts)" "$(echo "$cohorts_before" "${made[@]}" | tr ' ' '\n' | sed '/^$/d' | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')" "$1: the cohorts"
}
made=()

# --- a named cohort is written into ----------------------------------------------
if run "submit into 2020-11, named" 0 load --cohort 2020-11 --scenario submit -n 30 -c 4 --json; then
	expect_eq "$(py 'd["ok"], d["cohort"]["id"], d["cohort"]["created"]')" "(30, '2020-11', False)" "named cohort"
fi
real_before=$(standing 2020-11)
cohorts_before=$(cohorts)
expect "2020-11 holds the 30" "30 30 0" "$real_before"

# --- a write scenario without --cohort makes its own ---------------------------
if run_says "submit, no cohort named" 0 "a load-test cohort created for this run" \
	load --scenario submit -n 200 -c 8 --json; then
	expect_eq "$(py 'd["calls"], d["ok"], d["failed"], d["cohort"]["created"]')" "(200, 200, 0, True)" "submit"
	first=$(py 'd["cohort"]["id"]')
	made+=("$first")
	expect "the removal is said" "drop-cohort.sh DB $first" "$err"
	expect "the removal is in the report" "drop-cohort.sh DB $first" "$(py 'd["cohort"]["remove"]')"
	expect "the new cohort holds the 200" "200 " "$(standing "$first")"
	[[ $first =~ ^load-[0-9]{8}-[0-9]{6}-[0-9a-f]{4}$ ]] || fail "cohort id '$first'"
fi
untouched "submit"

for scenario in "mixed -d 1 -c 8" "webinar-burst -n 100"; do
	# shellcheck disable=SC2086 # the scenario's words
	if run "$scenario, no cohort named" 0 load --scenario $scenario --json; then
		made+=("$(py 'd["cohort"]["id"]')")
		expect_eq "$(py 'd["failed"] == 0 and d["calls"] > 0 and d["cohort"]["created"]')" True "$scenario"
	fi
	untouched "$scenario"
done

# Reads make no cohort: get reads the applications there are.
if run "get, no cohort named" 0 load --scenario get -n 300 -c 8 --json; then
	expect_eq "$(py 'd["ok"], d["cohort"]')" "(300, {'id': '', 'created': False})" "get"
fi
untouched "get"

# --- --call with a template ---------------------------------------------------------
data='{"cohortId":"{{cohort}}","company":{"siren":"{{siren}}","siret":"{{siret}}",
 "legalName":"Shop {{seq}}","legalForm":"LEGAL_FORM_EI","nafCode":"47.91B","employees":3,"turnoverEur":"100000",
 "balanceSheetEur":"50000","address":{"street":"1 rue de la Paix","postalCode":"75002",
 "city":"Paris"}},"contact":{"name":"Camille Martin","email":"c{{seq}}@example.fr",
 "phone":"0612345678"},"channel":"CHANNEL_MARKETPLACE","acceptsTerms":true}'
if run "--call SubmitApplication with placeholders" 0 \
	load --call /onboard.v1.Onboarding/SubmitApplication --data "$data" -n 50 -c 4 --json; then
	id=$(py 'd["cohort"]["id"]')
	made+=("$id")
	expect_eq "$(py 'd["ok"]')" 50 "--call"
	n=$("$ONBOARD_CLI" -s "$url" --json list --cohort "$id" --all | python3 -c '
import json, sys
apps = json.load(sys.stdin)["applications"]
print(len(apps), len({a["company"]["siren"] for a in apps}))')
	expect_eq "$n" "50 50" "50 applications, 50 SIRENs"
fi
run_says "--call SubmitApplication without a cohort" 2 "writes into the server's default cohort" \
	load --call /onboard.v1.Onboarding/SubmitApplication --data '{"company":{"siren":"{{siren}}"}}' || true
untouched "--call"

# --- failed calls -----------------------------------------------------------------
run "--call of an application that does not exist" 1 \
	load --call /onboard.v1.Onboarding/GetApplication --data '{"id":"01ARZ3NDEKTSV4RRFFQ69G5FAV"}' -n 20 -c 2 --json || true
expect_eq "$(py '[(e["code"], e["count"], e["local"]) for e in d["errors"]], d["ok"], d["codes"]')" \
	"([('NOT_FOUND', 20, False)], 0, {'NOT_FOUND': 20})" "NOT_FOUND counted by status and message"
run_says "no server there" 3 "cannot connect" "$ONBOARD_LOAD" -s "ipc://$dir/none.sock" --scenario cohort -n 1 || true

# --- a caller who may not create cohorts -------------------------------------------
"$ONBOARD_CLI" keygen --out "$dir/applicant.key" --role applicant --label load | sed -n '/^keyring line:$/{n;p}' >"$dir/keyring"
"$ONBOARD_CLI" keygen --out "$dir/admin.key" --role admin --label load | sed -n '/^keyring line:$/{n;p}' >>"$dir/keyring"
url2="ipc://$dir/keyed.sock"
main_pid=$pid
log=$dir/keyed.log onboardd_start "$url2" --db "$dir/keyed.db" --no-access-log "${now[@]}" \
	--trust-local no --keyring "$dir/keyring"
keyed_pid=$pid
pid=$main_pid
run_says "an applicant's submit run without --cohort" 3 "cannot create a throw-away load-test cohort: PERMISSION_DENIED" \
	"$ONBOARD_LOAD" -s "$url2" --key "$dir/applicant.key" --scenario submit -n 10 || true
expect "the refusal says what to do" "--cohort ID" "$err"
keyed() { "$ONBOARD_CLI" -s "$url2" --key "$dir/admin.key" --json --emit-defaults cohort 2020-11 | python3 -c 'import json, sys; print(json.load(sys.stdin)["applications"])'; }
expect_eq "$(keyed)" 0 "nothing written after the refusal"
# Named, the applicant writes there: the lanes carry the session token of the login.
if run "an applicant's submit run into 2020-11, named" 0 \
	"$ONBOARD_LOAD" -s "$url2" --key "$dir/applicant.key" --cohort 2020-11 --scenario submit -n 10 -c 2 --json; then
	expect_eq "$(py 'd["ok"]')" 10 "the applicant's submits"
fi
expect_eq "$(keyed)" 10 "the applicant's 10 in 2020-11"
# An admin gets a cohort of its own over the same --trust-local no server.
if run "an admin's submit run" 0 "$ONBOARD_LOAD" -s "$url2" --key "$dir/admin.key" --scenario submit -n 10 --json; then
	expect_eq "$(py 'd["ok"], d["cohort"]["created"]')" "(10, True)" "the admin's submits"
fi
expect_eq "$(keyed)" 10 "2020-11 untouched by the admin's run"
pid=$keyed_pid onboardd_stop
pid=$main_pid

# --- over TLS, client certificate and key: one self-signed certificate serves as the CA, the
# server's and the client's (mbedTLS matches the URL's host against the DNS names) ---------
if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-keyout "$dir/tls.key" -out "$dir/tls.pem" -subj "/CN=127.0.0.1" \
	-addext "subjectAltName=DNS:127.0.0.1,DNS:localhost" >"$dir/openssl.log" 2>&1; then
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	tls="tls+tcp://127.0.0.1:$port"
	log=$dir/tls.log onboardd_start "$tls" --db "$dir/tls.db" --no-access-log --keyring "$dir/keyring" \
		--tls-cert "$dir/tls.pem" --tls-key "$dir/tls.key" --tls-ca "$dir/tls.pem"
	tls_pid=$pid
	pid=$main_pid
	tls_load() { "$ONBOARD_LOAD" -s "$tls" --key "$dir/admin.key" --scenario cohort -n 200 -c 8 --json "$@"; }
	if run "over TLS with a client certificate" 0 tls_load --tls-ca "$dir/tls.pem" \
		--tls-cert "$dir/tls.pem" --tls-key "$dir/tls.key" --connections 2; then
		expect_eq "$(py 'd["ok"], d["connections"]')" "(200, 2)" "TLS"
	fi
	run_says "over TLS without --tls-ca" 3 "needs a CA file" tls_load || true
	run "over TLS without the client certificate the server requires" 3 tls_load --tls-ca "$dir/tls.pem" || true
	pid=$tls_pid onboardd_stop
	pid=$main_pid
else
	cat "$dir/openssl.log" >&2
	fail "openssl could not make a certificate"
fi

# --- removing a load-test cohort --------------------------------------------------
run "drop-cohort.sh refuses a cohort that is not a load test" 2 "$drop_cohort" "$dir/onboard.db" 2020-11 || true
if run "drop-cohort.sh ${made[0]}, onboardd running" 0 "$drop_cohort" "$dir/onboard.db" "${made[0]}"; then
	expect "drop-cohort.sh says what it removed" "removed cohort ${made[0]} and its 200 applications" "$out"
fi
made=("${made[@]:1}")
untouched "drop-cohort.sh"
cli cohort "$first"
expect_rc 69 "the dropped cohort is NOT_FOUND"
run "drop-cohort.sh of a cohort already gone" 1 "$drop_cohort" "$dir/onboard.db" "$first" || true
# What it left is whole: a submit into the cohort that stays still works.
run "a run after the drop" 0 load --cohort 2020-11 --scenario mixed -n 200 -c 4 --json || true
real_before=$(standing 2020-11)

# --- onboard-echo: the closed and the open loop --------------------------------------
echo_url="ipc://$dir/echo.sock"
"$ONBOARD_ECHO" "$echo_url" 64 &
lib_pids+=($!)
for _ in $(seq 100); do [ -S "$dir/echo.sock" ] && break; sleep 0.05; done
if run "echo, closed loop" 0 "$ONBOARD_LOAD" -s "$echo_url" --scenario echo --echo-bytes 374 -n 2000 -c 16 --connections 2 --json; then
	expect_eq "$(py 'd["calls"], d["ok"], d["cohort"], d["connections"]')" "(2000, 2000, None, 2)" "echo"
fi
# The schedule of an open loop holds rate x duration calls, whatever the replies.
if run "echo, open loop" 0 "$ONBOARD_LOAD" -s "$echo_url" --scenario echo --rate 400 -d 1 -c 4 --json; then
	expect_eq "$(py 'd["calls"], d["ok"], d["loop"], d["rate"]')" "(400, 400, 'open', 400)" "open loop"
fi
if run "echo, open loop with a warm-up" 0 "$ONBOARD_LOAD" -s "$echo_url" --scenario echo --rate 500 --warmup 0.5s -n 100 -c 4 --json; then
	expect_eq "$(py 'd["calls"], d["warmup_seconds"]')" "(100, 0.5)" "warm-up calls are not counted"
fi

# --- the formats, from a real run ------------------------------------------------------
if run "--format csv" 0 "$ONBOARD_LOAD" -s "$echo_url" --scenario echo -n 500 --format csv; then
	expect_eq "$(python3 -c 'import csv, sys; r = list(csv.DictReader(open(sys.argv[1]))); print(len(r), r[0]["calls"], r[0]["scenario"])' "$dir/out")" \
		"1 500 echo" "csv"
fi
if run "--format hdr -o FILE" 0 "$ONBOARD_LOAD" -s "$echo_url" --scenario echo -n 500 --format hdr -o "$dir/run.hgrm"; then
	expect_eq "$out" "" "stdout with -o"
	expect_eq "$(grep -c '^#\[' "$dir/run.hgrm")" 3 "the percentile distribution's footer"
	expect_eq "$(awk 'NF == 3 && $2 == "1.000000000000" {print $3}' "$dir/run.hgrm")" 500 "its 100% line"
fi
if run "--progress" 0 "$ONBOARD_LOAD" -s "$echo_url" --scenario echo -d 2.5 -c 4 --progress --json; then
	expect "a progress line every second" "calls/s  OK 100.0%" "$err"
fi
if run "text" 0 "$ONBOARD_LOAD" -s "$echo_url" --scenario echo -n 100; then
	expect "the text summary" "Status code distribution:" "$out"
	expect "the text summary" "Latency distribution:" "$out"
fi

# --- servers that answer what they are told ----------------------------------------------
for code in 14 192; do
	fake="ipc://$dir/fake-$code.sock"
	fakesrv_start "$fake" "$code"
	run "a server answering code $code" 1 "$ONBOARD_LOAD" -s "$fake" --scenario cohort -n 20 -c 4 --json || true
	want=UNAVAILABLE
	[ "$code" = 192 ] && want=UNKNOWN
	expect_eq "$(py 'd["codes"], d["ok"]')" "({'$want': 20}, 0)" "code $code counted as $want"
	proc_kill
done
# Two servers: the calls of one socket are spread over both (each answers a code of its own).
fakesrv_start "ipc://$dir/fake-a.sock" 5
fake_a=$pid
fakesrv_start "ipc://$dir/fake-b.sock" 7
run "two servers" 1 "$ONBOARD_LOAD" -s "ipc://$dir/fake-a.sock" -s "ipc://$dir/fake-b.sock" \
	--scenario cohort -n 200 -c 8 --json || true
expect_eq "$(py 'sorted(d["codes"]), sum(d["codes"].values())')" "(['NOT_FOUND', 'PERMISSION_DENIED'], 200)" \
	"both servers answered"
proc_kill
pid=$fake_a proc_kill
pid=$main_pid

# --- ^C: the figures so far ------------------------------------------------------------
# SIGINT once the run is under way (its first progress line), not after a guessed second: on a
# loaded machine the connection and the preparation can take longer, and the run must still
# have calls to report.
"$ONBOARD_LOAD" -s "$echo_url" --scenario echo -d 60 -c 4 --progress --json >"$dir/out" 2>"$dir/err" &
loader=$!
lib_pids+=("$loader")
wait_for_line "$dir/err" "calls/s" "$loader" || fail "onboard-load showed no progress line (status $?)"
kill -INT "$loader"
lib_wait "$loader" "onboard-load after SIGINT"
lib_forget "$loader"
checks=$((checks + 1))
[ "$wait_rc" = 0 ] || fail "an interrupted run exited $wait_rc"
expect_eq "$(py 'd["interrupted"], d["calls"] > 0, d["failed"]')" "(True, True, 0)" "an interrupted run reports"

# A ^C before the run begins is not lost: onboard-load started with & by a script has SIGINT
# ignored until it sets its handler, and it once set it only after connecting and preparing,
# so a ^C that came while it connected (seconds, on a loaded machine) was dropped and the run
# went on for its whole --duration. Here the connection is held open by a proxy that relays
# to onboard-echo only once the ^C has been sent.
cat >"$dir/gate.py" <<'PY'
import os, socket, sys, threading
front, back, opened = sys.argv[1:4]
ls = socket.socket(socket.AF_UNIX)
ls.bind(front)
ls.listen(8)
print("listening", flush=True)
def pipe(a, b):
    while data := a.recv(65536):
        b.sendall(data)
    b.shutdown(socket.SHUT_WR)
while True:
    c, _ = ls.accept()
    print("accepted", flush=True)
    while not os.path.exists(opened):  # the harness creates it after the ^C
        threading.Event().wait(0.02)
    u = socket.socket(socket.AF_UNIX)
    u.connect(back)
    for a, b in ((c, u), (u, c)):
        threading.Thread(target=pipe, args=(a, b), daemon=True).start()
PY
python3 "$dir/gate.py" "$dir/gate.sock" "$dir/echo.sock" "$dir/gate.open" >"$dir/gate.log" 2>&1 &
lib_pids+=($!)
wait_for_line "$dir/gate.log" "^listening" "$!" || fail "the gate proxy did not start"
"$ONBOARD_LOAD" -s "ipc://$dir/gate.sock" --scenario echo -d 60 -c 4 --json >"$dir/out" 2>"$dir/err" &
loader=$!
lib_pids+=("$loader")
wait_for_line "$dir/gate.log" "^accepted" "$loader" || fail "onboard-load did not connect to the gate"
kill -INT "$loader"
touch "$dir/gate.open"
lib_wait "$loader" "onboard-load after a SIGINT while it connected"
lib_forget "$loader"
checks=$((checks + 1))
[ "$wait_rc" = 0 ] || { fail "a run interrupted while connecting exited $wait_rc"; cat "$dir/err" >&2; }
expect_eq "$(py 'd["interrupted"], d["failed"]')" "(True, 0)" "a ^C while connecting ends the run as it starts"

untouched "the end"
expect_clean_stop
finish "load"

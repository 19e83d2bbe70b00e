#!/usr/bin/env bash
# The wall clock stepping back (issue 15, part 2), injected into onboardd by libobfault.so:
# CLOCK_REALTIME reads an hour earlier, and the waits armed on it last an hour longer, as
# after `date -s`. Nothing of onboardd's own timing may follow the wall clock: the reapers
# of both faces still close an idle connection after --idle-timeout (they waited on the wall
# clock, and slept an hour more after such a step); writes go on and are acknowledged; a
# retry with the same idempotency-key still gets its original reply; health serves; and back
# on time, nothing acknowledged is missing.
set -uo pipefail
. "$(dirname "$0")/faults_lib.sh"
fault_init ob-fault-clock
# Both faces: nng's on $url, HTTP's on a free port of the loopback.
for attempt in $(seq 20); do
	http_port=$((20000 + RANDOM % 20000))
	shim_try_start --idle-timeout 1 --http "http://127.0.0.1:$http_port" && break
done
[ -n "${pid:-}" ] || die "no free port for --http"

submit_ok 1 clock-1 "a write on time"
first=$(json 'j["id"]')
first_at=$(json 'j["submittedAt"]')

# idle_closed ipc|http: a connection that says hello (nng: the SP hello; HTTP: a GET of
# /healthz) and then nothing is closed by the server within 10 s (the idle timeout is 1 s;
# the reapers look every 250 ms). Prints closed or open.
idle_closed() {
	python3 - "$1" "${url#ipc://}" "$http_port" <<'EOF'
import socket, sys
if sys.argv[1] == "ipc":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[2])
    s.sendall(b"\0SP\0\0\x30\0\0")  # the SP hello of a REQ socket
else:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[3])))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: onboardd\r\n\r\n")
s.settimeout(10)
try:
    while s.recv(4096):  # the server's hello or answer, then nothing until it closes
        pass
    print("closed")
except socket.timeout:
    print("open")
EOF
}

expect_eq "$(idle_closed ipc)" closed "an idle connection is closed, on time"
expect_eq "$(idle_closed http)" closed "an idle HTTP connection is closed, on time"

fault_set "clock_ms -3600000"
expect_eq "$(idle_closed ipc)" closed "an idle connection is closed after the clock stepped back"
expect_eq "$(idle_closed http)" closed "an idle HTTP connection too"
checks=$((checks + 1))
serves || fail "health says SERVING after the clock stepped back"
submit_ok 2 clock-2 "a write an hour in the past"
checks=$((checks + 1))
[[ "$(json 'j["submittedAt"]')" < "$first_at" ]] ||
	fail "the write after the step is dated before the first one: the shim stepped nothing"
submit 1 clock-1
expect_rc 0 "the first write's key, after the step"
expect_eq "$(json 'j["id"]')" "$first" "the same key still gets the original reply"
expect_eq "$(sql "SELECT count(*) FROM idempotency WHERE key LIKE '%/clock-1'")" 1 \
	"the key's record is kept"

fault_set
submit_ok 3 clock-3 "a write once the clock is right again"
submit 2 clock-2
expect_rc 0 "the key of the write made in the past, back on time"

expect_acked
expect_db_ok
expect_clean_stop
finish fault-clock

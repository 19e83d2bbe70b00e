#!/usr/bin/env bash
# The wall clock stepping back (issue 15, part 2), injected into onboardd by libobfault.so:
# CLOCK_REALTIME reads an hour earlier, and the waits armed on it last an hour longer, as
# after `date -s`. Nothing of onboardd's own timing may follow the wall clock: the reaper
# still closes an idle connection after --idle-timeout (it waited on the wall clock, and
# slept an hour more after such a step); writes go on and are acknowledged; a retry with
# the same idempotency-key still gets its original reply; health serves; and back on time,
# nothing acknowledged is missing.
set -uo pipefail
. "$(dirname "$0")/faults_lib.sh"
fault_init ob-fault-clock
shim_start --idle-timeout 1

submit_ok 1 clock-1 "a write on time"
first=$(json 'j["id"]')
first_at=$(json 'j["submittedAt"]')

# idle_closed: a connection that says hello and then nothing is closed by the server within
# 10 s (the idle timeout is 1 s; the reaper looks every 250 ms). Prints closed or open.
idle_closed() {
	python3 - "${url#ipc://}" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"\0SP\0\0\x30\0\0")  # the SP hello of a REQ socket
s.settimeout(10)
try:
    got = s.recv(8)  # the server's hello
    while got:
        got = s.recv(64)
    print("closed")
except socket.timeout:
    print("open")
EOF
}

expect_eq "$(idle_closed)" closed "an idle connection is closed, on time"

fault_set "clock_ms -3600000"
expect_eq "$(idle_closed)" closed "an idle connection is closed after the clock stepped back"
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

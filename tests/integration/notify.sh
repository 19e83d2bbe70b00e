#!/usr/bin/env bash
# notify.sh: onboardd under a fake systemd. A python3 process binds the AF_UNIX datagram socket
# that $NOTIFY_SOCKET names (as systemd does for Type=notify) and writes down every message;
# onboardd runs with $WATCHDOG_USEC. Checked: READY=1 once it serves (health answers SERVING by
# then); RELOADING=1 then READY=1 around a SIGHUP; WATCHDOG=1 while the service works, none
# while its store cannot be reached (the database file moved away), and again once it can;
# STOPPING=1 on SIGTERM. The same with an abstract socket name ('@').
#
# Needs ONBOARDD and ONBOARD_CLI (meson test sets both) and python3.
set -uo pipefail

. "$(dirname "$0")/lib.sh"
lib_init_ipc ob-notify

# mark NAME TEXT: sends TEXT to the fake systemd at NAME, as onboardd would. Datagrams on one
# socket are read in the order they were sent, so once TEXT is written down, every message sent
# before it is too.
mark() {
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(sys.argv[2].encode(), sys.argv[1])' "$1" "$2"
}


# ---- a path socket: the life of the service --------------------------------------------------
msgs=$dir/messages
fake_systemd "$dir/notify" "$msgs"
NOTIFY_SOCKET=$dir/notify WATCHDOG_USEC=200000 onboardd_start "$url" --db "$dir/onboard.db"
checks=$((checks + 1))
wait_count "$msgs" '^READY=1' 1 || fail "no READY=1 once serving: $(cat "$msgs")"
checks=$((checks + 1))
[ "$(head -1 "$msgs")" = "READY=1|STATUS=serving" ] || fail "the first message is not READY=1: $(head -1 "$msgs")"
run "health when READY=1 was sent" 0 ob health && expect "health" SERVING "$out"

# The watchdog pings while the service works.
checks=$((checks + 1))
wait_count "$msgs" '^WATCHDOG=1$' 2 || fail "no WATCHDOG=1 with WATCHDOG_USEC set: $(cat "$msgs")"

# SIGHUP: RELOADING=1 (with the monotonic time), then READY=1 again.
before=$(count "$msgs" '^READY=1')
kill -HUP "$pid"
checks=$((checks + 1))
wait_count "$msgs" '^READY=1' $((before + 1)) || fail "no READY=1 after the reload: $(cat "$msgs")"
checks=$((checks + 1))
grep -vx 'WATCHDOG=1' "$msgs" | grep -E -A1 '^RELOADING=1\|MONOTONIC_USEC=[0-9]+$' | tail -1 |
	grep -qx 'READY=1|STATUS=serving' || fail "RELOADING=1 then READY=1 expected: $(cat "$msgs")"

# The store cannot be reached: no ping between two marks sent while the watchdog says, three
# times, that it does not answer.
store_away "$dir/onboard.db"
checks=$((checks + 1))
wait_for_line "$log" 'watchdog: the service does not work' "$pid" || fail "the watchdog did not notice the store gone"
mark "$dir/notify" MARK-GONE
for _ in 1 2 3; do
	lib_skip=$(wc -l <"$log")
	wait_for_line "$log" 'watchdog: the store does not answer' "$pid"
done
lib_skip=0
mark "$dir/notify" MARK-BACK
checks=$((checks + 1))
wait_count "$msgs" '^MARK-BACK$' 1 || fail "the fake systemd lost a mark"
checks=$((checks + 1))
[ "$(sed -n '/^MARK-GONE$/,/^MARK-BACK$/p' "$msgs" | grep -c '^WATCHDOG=1$')" -eq 0 ] ||
	fail "WATCHDOG=1 was sent while the store was gone: $(cat "$msgs")"
pings=$(count "$msgs" '^WATCHDOG=1$')
store_back "$dir/onboard.db"
checks=$((checks + 1))
wait_count "$msgs" '^WATCHDOG=1$' $((pings + 1)) || fail "no WATCHDOG=1 once the store is back"
checks=$((checks + 1))
wait_for_line "$log" 'watchdog: the service works again' "$pid" || fail "the watchdog did not log the recovery"

# SIGTERM: STOPPING=1, and a clean exit.
expect_clean_stop
checks=$((checks + 1))
wait_count "$msgs" '^STOPPING=1' 1 || fail "no STOPPING=1 on SIGTERM: $(cat "$msgs")"

# ---- an abstract socket name, and no watchdog without WATCHDOG_USEC ---------------------------
msgs=$dir/abstract
name="@onboard-test-notify-$$-$RANDOM"
fake_systemd "$name" "$msgs"
log=$dir/abstract.log
NOTIFY_SOCKET=$name onboardd_start "$url" --db "$dir/onboard.db"
checks=$((checks + 1))
wait_count "$msgs" '^READY=1' 1 || fail "no READY=1 on an abstract socket: $(cat "$msgs")"
expect_clean_stop
checks=$((checks + 1))
wait_count "$msgs" '^STOPPING=1' 1 || fail "no STOPPING=1 on an abstract socket"
checks=$((checks + 1))
[ "$(count "$msgs" '^WATCHDOG=1$')" -eq 0 ] || fail "WATCHDOG=1 without WATCHDOG_USEC"

# ---- without NOTIFY_SOCKET nothing is sent, and nothing fails ---------------------------------
log=$dir/plain.log
onboardd_start "$url" --db "$dir/onboard.db"
expect_clean_stop
checks=$((checks + 1))
[ "$(count "$log" 'cannot notify')" -eq 0 ] || fail "onboardd tried to notify without NOTIFY_SOCKET"

finish notify

#!/usr/bin/env bash
# fsync failing and fsync slow (issue 15, part 2), injected into onboardd by libobfault.so:
#
# - fsync fails: writes are refused UNAVAILABLE with a retry-after (not INTERNAL), and say to
#   try again with the same idempotency-key; reads and health go on; once the fault is
#   lifted the same calls go through, with nothing restarted. A kill -9 right after a failed
#   commit, whose transaction may still be in the WAL, loses nothing acknowledged, and the
#   refused write's retry gives one application, whether the restart recovered it or not.
# - fsync slow (7 s a call): the write that reached the disk waits and is acknowledged; the
#   writes queued behind it are refused UNAVAILABLE after 5 s (store/sqlite.c, QUEUE_WAIT_MS)
#   instead of holding every worker; health and reads answer meanwhile.
# - Health tells the truth: NOT_SERVING while writes fail (through the nng face, /readyz with
#   the reason, and the STATUS= line systemd shows), SERVING again by itself once the fault
#   clears, without a write of a client's (onboardd tries one of its own).
set -uo pipefail
. "$(dirname "$0")/faults_lib.sh"
fault_init ob-fault-fsync
systemd_start
for _ in 1 2 3 4 5; do
	http="http://127.0.0.1:$(free_port)"
	NOTIFY_SOCKET=$dir/notify shim_try_start --http "$http" && break
	grep -q "cannot serve HTTP" "$log" || die "onboardd exited: $(tail -5 "$log")"
done
[ -n "${pid:-}" ] || die "no free port for --http"
expect_status '^STATUS=serving$' "systemd told it serves"

submit_ok 1 fsync-1 "a write before any fault"

# --- fsync fails ---------------------------------------------------------------------------
fault_set "fsync fail"
submit 2 fsync-2
expect_retry "a write while fsync fails" UNAVAILABLE
expect_err "same idempotency-key" "the refusal says how to try again"
submit 3 fsync-3
expect_retry "another write while fsync fails" UNAVAILABLE
cli get "${acked_ids[0]}"
expect_rc 0 "reads go on while fsync fails"
expect_health NOT_SERVING "writes fail: fsync fails"
checks=$((checks + 1))
ready=$(curl -s -w ' %{http_code}' "$http/readyz")
[[ $ready =~ ^not\ ready:\ writes\ fail.*\ 503$ ]] ||
	fail "/readyz while fsync fails: '$ready', expected 503 with the reason"
expect_status '^STATUS=not serving: writes fail' "systemd told why"
expect_eq "$(logged "writes fail")" 1 "the log says health went NOT_SERVING and why"

fault_set
expect_health SERVING "fsync works again: back by itself, no client writing"
checks=$((checks + 1))
ready=$(curl -s -w ' %{http_code}' "$http/readyz")
[ "$ready" = "ready
 200" ] || fail "/readyz once fsync works: '$ready'"
expect_status '^STATUS=serving$' "systemd told it serves again"
submit_ok 2 fsync-2 "the refused write, again with its key, once fsync works"
submit_ok 3 fsync-3 "the other refused write"
submit_ok 4 fsync-4 "a new write"
expect_eq "$(logged "obfault: injected")" 1 "the shim failed fsync calls"

# --- a crash after a failed commit ---------------------------------------------------------
fault_set "fsync fail"
submit 5 fsync-5
expect_retry "a write whose commit fails, before a crash" UNAVAILABLE
proc_kill
fault_set
shim_start
submit_ok 5 fsync-5 "its key after the restart: applied once, recovered or not"
expect_eq "$(sql "SELECT count(*) FROM application WHERE siren = '$(siren 5)'")" 1 \
	"one application for the refused write and its retry"

# --- fsync slow ----------------------------------------------------------------------------
fault_set "fsync sleep" "fsync_ms 7000"
# The first write takes the writer into a 7 s fsync; the second queues behind it.
company_args 10
"$ONBOARD_CLI" -s "$url" --json --timeout 30s -H idempotency-key=fsync-10 submit \
	"${company[@]}" >"$dir/slow.out" 2>"$dir/slow.err" &
slow=$!
wait_for_line "$log" "obfault: fsync sleep" "$pid" || fail "the shim did not start sleeping"
submit 11 fsync-11 --timeout 30s
expect_retry "a write queued behind a stuck fsync" UNAVAILABLE
expect_eq "$(logged "the disk is slow or stuck")" 1 "the log says why"
checks=$((checks + 1))
[ -n "$(health_now)" ] || fail "health answers while the disk is slow"
cli get "${acked_ids[0]}"
expect_rc 0 "reads answer while the disk is slow"
slow_rc=0
wait "$slow" || slow_rc=$?
expect_eq "$slow_rc" 0 "the write that reached the slow disk is acknowledged"
if [ "$slow_rc" -eq 0 ]; then
	acked_ns+=(10)
	acked_ids+=("$(json_in "$dir/slow.out" 'j["id"]')")
fi
fault_set
submit_ok 11 fsync-11 "the refused write goes through once the disk is quick"
expect_health SERVING "the disk quick again"

expect_acked
expect_db_ok
expect_clean_stop
finish fault-fsync

#!/usr/bin/env bash
# RotateKeys is idempotent (issue 15): the same idempotency-key replayed gets the original
# reply and rotates once, also across a kill -9 between the rotation and its reply.
#
# - Twice with one key: the same reply, one new line in the master key file, one audit event.
# - Cut short: under libobfault.so every sync takes 1.5 s, so that once the new key is in the
#   key file the re-wrap's commit and the reply are still that far away; onboardd is killed
#   with SIGKILL the moment the line appears. After the restart the same key gets a reply that
#   names that key (no other line added), the data keys are re-wrapped under it, and a third
#   call replays that reply as it is. Every contact reads back.
set -uo pipefail
. "$(dirname "$0")/faults_lib.sh"
fault_init ob-rotate
shim_start
keyfile=$dir/master.key

for n in 1 2 3; do
	submit_ok "$n" "rot-submit-$n" "application $n"
done

# key_lines: the master keys of the key file (its lines but comments, blanks and the index).
key_lines() {
	grep -cvE '^[[:space:]]*(#|$|index )' "$keyfile"
}

# rotate KEY: onboard admin rotate-keys with idempotency-key KEY (cli: $rc, $dir/out).
rotate() {
	cli -H "idempotency-key=$1" admin rotate-keys
}

# audited: how many keys.rotate events the audit trail holds (one JSON event a line).
audited() {
	"$ONBOARD_CLI" -s "$url" --json admin audit --all 2>/dev/null | grep -c '"keys.rotate"'
}

# --- twice with one key ---------------------------------------------------------------------
before=$(key_lines)
rotate rot-1
expect_rc 0 "a rotation"
cp "$dir/out" "$dir/first.out"
expect_out "re-wrapped" "it says what it re-wrapped"
rotate rot-1
expect_rc 0 "the same rotation again, with its key"
expect_eq "$(cat "$dir/out")" "$(cat "$dir/first.out")" "the repeat gets the original reply"
expect_eq "$(key_lines)" $((before + 1)) "one key added for the two calls"
expect_eq "$(audited)" 1 "one rotation audited"
rotate rot-2
expect_rc 0 "a rotation with another key"
expect_eq "$(key_lines)" $((before + 2)) "another key rotates again"

# --- a kill -9 between the rotation and the reply --------------------------------------------
before=$(key_lines)
fault_set "fsync sleep" "fsync_ms 1500"
"$ONBOARD_CLI" -s "$url" --timeout 60s -H idempotency-key=rot-cut admin rotate-keys \
	>"$dir/cut.out" 2>"$dir/cut.err" &
caller=$!
lib_pids+=("$caller")
for _ in $(seq 1000); do
	[ "$(key_lines)" -gt "$before" ] && break
	sleep 0.01
done
proc_kill
checks=$((checks + 1))
[ "$(key_lines)" -eq $((before + 1)) ] || fail "the cut rotation's key is not in the file"
# The caller would wait for onboardd's return and send its call again (the library does, with
# the same key); this test sends the retry itself.
kill -KILL "$caller" 2>/dev/null
wait "$caller" 2>/dev/null
lib_forget "$caller"
checks=$((checks + 1))
grep -q "re-wrapped" "$dir/cut.out" && fail "the cut rotation's caller got a reply: not cut"
new_kid=$(grep -vE '^[[:space:]]*(#|$|index )' "$keyfile" | tail -1 | cut -d' ' -f1)

fault_set
shim_start
rotate rot-cut
expect_rc 0 "the cut rotation's retry with its key"
cp "$dir/out" "$dir/retry.out"
expect_out "active master key $new_kid;" "the retry names the key the cut rotation published"
expect_eq "$(key_lines)" $((before + 1)) "the retry added no key"
rotate rot-cut
expect_rc 0 "once more with its key"
expect_eq "$(cat "$dir/out")" "$(cat "$dir/retry.out")" "the next repeat gets the retry's reply"
expect_eq "$(key_lines)" $((before + 1)) "still one key for the cut rotation"
expect_eq "$(sql "SELECT count(*) FROM contact WHERE dk_wrapped IS NOT NULL")" 3 \
	"three data keys"
expect_acked
expect_db_ok
expect_clean_stop
finish rotate

#!/usr/bin/env bash
# The database or its WAL made read-only (issue 15, part 2), by chattr +i, which holds even
# for root and for the files onboardd already has open (a file system remounted read-only
# after errors does the same): on an ext4 file system of its own (a loop device), so that
# the test does not depend on what $TMPDIR is (tmpfs lets open files be written). Needs root
# (mount, chattr).
#
# - The WAL read-only: writes are refused UNAVAILABLE with a retry-after; reads go on; once
#   writable again the same calls go through by themselves. Health says NOT_SERVING
#   meanwhile, with the reason in systemd's STATUS=, and SERVING by itself once writable.
# - The database file read-only: writes go on, into the WAL (the checkpoint waits); a
#   restart then refuses to start, saying so, changing nothing; writable again, onboardd
#   starts with every acknowledged write.
set -uo pipefail
. "$(dirname "$0")/faults_lib.sh"
need_root "chattr +i on a tmpfs of the test's own"
fault_init ob-fault-readonly
mount_fs ext4 64m
systemd_start
NOTIFY_SOCKET=$dir/notify onboardd_start "$url" --db "$db" --no-access-log
submit_ok 1 ro-1 "a write before any fault"

# --- the WAL ------------------------------------------------------------------------------
chattr +i "$db-wal" || die "chattr +i $db-wal"
submit 2 ro-2
expect_retry "a write while the WAL is read-only" UNAVAILABLE
expect_err "same idempotency-key" "the refusal says how to try again"
cli get "${acked_ids[0]}"
expect_rc 0 "reads go on while the WAL is read-only"
expect_health NOT_SERVING "writes fail: the WAL is read-only"
expect_status '^STATUS=not serving: writes fail' "systemd told why"
chattr -i "$db-wal"
expect_health SERVING "the WAL writable again: back by itself"
expect_status '^STATUS=serving$' "systemd told it serves again"
submit_ok 2 ro-2 "the refused write once the WAL is writable"

# --- the database file ----------------------------------------------------------------------
chattr +i "$db" || die "chattr +i $db"
submit_ok 3 ro-3 "a write while the database file is read-only: into the WAL"
submit_ok 4 ro-4 "another one"
expect_acked
onboardd_stop
expect_eq "$stop_rc" 0 "onboardd stops cleanly with its database read-only"
sum=$(cat "$db" "$db-wal" 2>/dev/null | sha256sum)
checks=$((checks + 1))
if onboardd_try_start "$url" --db "$db" --no-access-log; then
	fail "onboardd started on a read-only database"
	onboardd_stop
fi
expect_eq "$(logged "cannot")" 1 "the refusal to start says why"
expect_eq "$(cat "$db" "$db-wal" 2>/dev/null | sha256sum)" "$sum" "the refused start changed nothing"
chattr -i "$db"
onboardd_start "$url" --db "$db" --no-access-log
submit_ok 5 ro-5 "a write once the database file is writable"
expect_acked
expect_db_ok
expect_clean_stop
finish fault-readonly

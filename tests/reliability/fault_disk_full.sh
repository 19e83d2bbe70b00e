#!/usr/bin/env bash
# The disk full (issue 15, part 2): onboardd's database on a 4 MiB tmpfs of the test's own,
# which a file then fills. Writes are refused RESOURCE_EXHAUSTED with a retry-after (never
# INTERNAL) while reads and health go on; a kill -9 and a restart on the full disk lose
# nothing acknowledged; once the file is removed the refused writes go through with their
# keys, without a restart. Health says NOT_SERVING while writes are refused, and SERVING
# again by itself once there is room. Needs root (mount).
set -uo pipefail
. "$(dirname "$0")/faults_lib.sh"
need_root "a tmpfs of the test's own"
fault_init ob-fault-full
mount_fs tmpfs 4m
onboardd_start "$url" --db "$db" --no-access-log

for n in 1 2 3; do
	submit_ok "$n" "full-$n" "write $n before the disk fills"
done
dd if=/dev/zero of="$mnt/filler" bs=64k 2>/dev/null
expect_eq "$(df --output=avail "$mnt" | tail -1 | tr -d ' ')" 0 "the file system is full"

# The WAL may still have room in blocks it holds: write until a write needs a new one.
refused=
for n in $(seq 10 200); do
	submit "$n" "full-$n"
	case $rc in
	0) acked "$n" ;;
	72)
		refused=$n
		break
		;;
	*)
		fail_last "a write on a full disk is acknowledged or RESOURCE_EXHAUSTED"
		break
		;;
	esac
done
checks=$((checks + 1))
[ -n "$refused" ] || fail "no write was refused on the full disk"
expect_retry "a write on the full disk" RESOURCE_EXHAUSTED
expect_err "disk is full" "the refusal says why"
submit "$refused" "full-$refused"
expect_retry "its retry while the disk is still full" RESOURCE_EXHAUSTED
cli get "${acked_ids[0]}"
expect_rc 0 "reads go on on a full disk"
expect_health NOT_SERVING "writes fail on a full disk"

proc_kill
onboardd_start "$url" --db "$db" --no-access-log
checks=$((checks + 1))
serves || fail "onboardd restarts on the full disk"
expect_acked
submit "$refused" "full-$refused"
expect_retry "the refused write after the restart, the disk still full" RESOURCE_EXHAUSTED
expect_health NOT_SERVING "the restarted server's writes fail on the full disk"

rm -f "$mnt/filler"
expect_health SERVING "room again: back by itself, before any client writes"
submit_ok "$refused" "full-$refused" "the refused write with its key once there is room"
submit_ok 300 full-300 "a new write"
expect_acked
expect_db_ok
expect_clean_stop
finish fault-disk-full

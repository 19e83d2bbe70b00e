#!/usr/bin/env bash
# The master-key file unreadable at start (issue 15, part 2). onboardd must not start without
# the keys of the contacts it holds, nor make new ones that would read none of them: it
# exits non-zero naming the file and the reason, and changes nothing on disk. Started again
# by its supervisor (systemd's Restart=on-failure, played here by a loop), it serves as soon
# as the file can be read, with every contact readable. The same for a key file gone from
# beside its database.
#
# A file root cannot read does not exist: as root, onboardd runs as nobody (setpriv) in
# directories of nobody's, the CLI told to expect that uid (ONBOARD_SERVER_UID).
set -uo pipefail
. "$(dirname "$0")/faults_lib.sh"
fault_init ob-fault-master-key
data=$dir/data
run=$dir/run
mkdir -m 0700 "$data" "$run"
db=$data/onboard.db
key=$data/master.key
url="ipc://$run/onboardd.sock"
if [ "$(id -u)" -eq 0 ]; then
	chmod 0711 "$dir"
	chown 65534:65534 "$data" "$run"
	real=$ONBOARDD
	ONBOARDD=$dir/onboardd-as-nobody
	printf '#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups %q "$@"\n' \
		"$real" >"$ONBOARDD"
	chmod 0755 "$ONBOARDD"
	export ONBOARD_SERVER_UID=65534
fi

onboardd_start "$url" --db "$db" --no-access-log
for n in 1 2 3; do
	submit_ok "$n" "key-$n" "write $n"
done
expect_clean_stop
# fingerprint: the files beside the database, their sizes and times, and its bytes.
fingerprint() {
	ls -l --time-style=+%s.%N "$data" | sha256sum
	cat "$db"* | sha256sum
}

# supervise WHAT: starts onboardd as a supervisor would, every 0.2 s until it serves, and
# runs WHAT before the third start: the fault lifted by someone meanwhile. Fails unless the
# first two starts were refused and the third one serves.
supervise() {
	local attempt
	for attempt in 1 2 3; do
		[ "$attempt" -eq 3 ] && eval "$1"
		if onboardd_try_start "$url" --db "$db" --no-access-log; then
			expect_eq "$attempt" 3 "onboardd serves once the key file is back, not before"
			return
		fi
		sleep 0.2
	done
	fail "onboardd did not serve once the key file was back"
}

# --- unreadable -----------------------------------------------------------------------------
chmod 0000 "$key"
before=$(fingerprint)
checks=$((checks + 1))
if onboardd_try_start "$url" --db "$db" --no-access-log; then
	fail "onboardd started without reading its master key file"
	onboardd_stop
fi
expect_eq "$(logged "$key: ")" 1 "the refusal names the key file"
expect_eq "$(logged "ermission denied")" 1 "and says why"
expect_eq "$(fingerprint)" "$before" "a refused start changes nothing on disk"
supervise 'chmod 0600 "$key"'
expect_acked
expect_clean_stop

# --- missing ------------------------------------------------------------------------------
mv "$key" "$dir/master.key.backup"
before=$(fingerprint)
checks=$((checks + 1))
if onboardd_try_start "$url" --db "$db" --no-access-log; then
	fail "onboardd started without its master key file"
	onboardd_stop
fi
expect_eq "$(logged "restore the key file")" 1 "the refusal says to restore the key file"
expect_eq "$(fingerprint)" "$before" "no new key file was made beside the database"
supervise 'mv "$dir/master.key.backup" "$key"'
expect_acked
submit_ok 4 key-4 "a write once the key file is back"
expect_db_ok
expect_clean_stop
finish fault-master-key

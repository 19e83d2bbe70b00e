#!/usr/bin/env bash
# instances.sh: one onboardd per SQLite file. A second onboardd on the database another one
# serves refuses to start (exit status not 0, before it listens) and names the process that
# holds it; the first goes on serving; once the first has stopped, or died of SIGKILL, the
# file can be served again (the kernel drops the lock with its holder). Another file beside
# it is another programme and starts.
#
# Needs ONBOARDD and ONBOARD_CLI (meson test sets both).
set -uo pipefail

: "${ONBOARDD:?path of onboardd}" "${ONBOARD_CLI:?path of the onboard CLI}"

. "$(dirname "$0")/lib.sh"
lib_init ob-instances
db=$dir/onboard.db

onboardd_start "ipc://$dir/a.sock" --db "$db"
first=$pid

# The second instance on the same file: refused, naming the first.
log=$dir/second.log
checks=$((checks + 1))
if onboardd_try_start "ipc://$dir/b.sock" --db "$db"; then
	fail "a second onboardd started on $db"
	onboardd_stop
else
	echo "ok: a second onboardd on the same file does not start"
fi
expect "the refusal names the other process" "in use by another onboardd, process $first" \
	"$(cat "$log")"
checks=$((checks + 1))
if [ -S "$dir/b.sock" ]; then
	fail "the refused instance left a listening socket"
else
	echo "ok: the refused instance never listened"
fi
run "the first still serves" 0 "$ONBOARD_CLI" --server "ipc://$dir/a.sock" --timeout 10s health

# Another file is another programme: it starts beside the first.
log=$dir/other.log
pid=
onboardd_start "ipc://$dir/c.sock" --db "$dir/other.db"
expect_clean_stop

# After SIGKILL the lock goes with its holder: the file serves again.
kill -KILL "$first"
wait "$first" 2>/dev/null || true
lib_forget "$first"
log=$dir/third.log
onboardd_start "ipc://$dir/d.sock" --db "$db"
run "the file serves again after SIGKILL of its holder" 0 \
	"$ONBOARD_CLI" --server "ipc://$dir/d.sock" --timeout 10s health
expect_clean_stop

finish "instances"

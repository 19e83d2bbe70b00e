#!/usr/bin/env bash
# cli_peer.sh: the onboard CLI refuses an ipc socket served by another user than the expected
# one (--server-uid, $ONBOARD_SERVER_UID; by default its own, or root) and a default socket
# directory in /tmp that someone else made. The library's side is in test_peer.c.
#
# Needs root (CI runs the tests as root): the foreign server is onboard-fakesrv --uid 65534,
# and the default directory is checked as an unused uid with setpriv. Without root the test
# is skipped (77): that is about the account running it, not about the CLI, whose missing or
# broken checks fail it. Needs ONBOARD_CLI and ONBOARD_FAKESRV (meson test sets both).
set -uo pipefail

: "${ONBOARD_CLI:?path of the onboard CLI}"
: "${ONBOARD_FAKESRV:?path of onboard-fakesrv}"

if [ "$(id -u)" -ne 0 ]; then
	echo "cli_peer: skipped: the environment is not root, which a server run by another user needs"
	exit 77
fi

. "$(dirname "$0")/lib.sh"
nobody=65534
# Under /tmp, not $TMPDIR: every directory on the way must be open to nobody.
lib_init ob-cli-peer /tmp
chmod 711 "$dir"
mkdir -m 700 "$dir/nobody"
chown "$nobody:$nobody" "$dir/nobody"

# start_nobody NAME: a server run by nobody on $dir/nobody/NAME.sock, answering OK.
start_nobody() {
	fakesrv_start "ipc://$dir/nobody/$1.sock" 0 --uid "$nobody"
}
# Two of them: one that the CLI refuses, one that it is told to take. A server whose
# connection a client refused (hung up on at once) sometimes answered no later connection
# (about 1 run in 30 here), which looks like nng 1.5.2's ipc listener bug that onboardd's
# watchdog works around (nng issue #1518): a server that was refused is not asked again.
start_nobody refused
start_nobody taken
url="ipc://$dir/nobody/refused.sock"
taken="ipc://$dir/nobody/taken.sock"

ob() { "$ONBOARD_CLI" --server "$url" --timeout 5s "$@"; }

run_says "a socket served by nobody is refused" 1 \
	"onboard: the server socket at $dir/nobody/refused.sock is served by uid $nobody, expected 0" \
	ob health
run_says "the same with a call" 1 "is served by uid $nobody, expected 0" \
	ob call /onboard.v1.Health/Check '{}'
run_says "--server-uid of another user still refuses nobody" 1 "expected 1 (or root)" \
	"$ONBOARD_CLI" --server-uid 1 --server "$url" health
run_says "--server-uid names the server's user" 0 "" \
	"$ONBOARD_CLI" --server-uid "$nobody" --server "$taken" call /onboard.v1.Health/Check '{}'
run_says "so does \$ONBOARD_SERVER_UID" 0 "" \
	env ONBOARD_SERVER_UID="$nobody" "$ONBOARD_CLI" --server "$taken" call /onboard.v1.Health/Check '{}'
if [ "$(id -u nobody 2>/dev/null)" = "$nobody" ]; then
	run_says "a user name" 0 "" \
		"$ONBOARD_CLI" --server-uid nobody --server "$taken" call /onboard.v1.Health/Check '{}'
fi
run_says "an unknown user is a usage error" 2 "--server-uid needs a user name or a uid" \
	"$ONBOARD_CLI" --server-uid no-such-user-onboard health
run_says "so is a bad \$ONBOARD_SERVER_UID" 2 "ONBOARD_SERVER_UID is not a user" \
	env ONBOARD_SERVER_UID=no-such-user-onboard "$ONBOARD_CLI" health

# The default socket directory, /tmp/onboard-$UID without $XDG_RUNTIME_DIR, made by nobody
# for a user who has none: the CLI, run as that user, refuses it. Needs a CLI that user can
# run, which is not so when the build tree is in a directory closed to others: that is about
# the environment, and only then are these checks left out (said in the output). Whether the
# user can run it is asked of test(1), not of the CLI, so that a CLI that fails cannot pass
# for an environment that does not allow it.
uid=$((2000000000 + $$ % 100000))
while getent passwd "$uid" >/dev/null || [ -e "/tmp/onboard-$uid" ] || [ -L "/tmp/onboard-$uid" ]; do
	uid=$((uid + 1))
done
as_user() {
	env -u XDG_RUNTIME_DIR -u ONBOARD_SERVER setpriv --reuid "$uid" --regid "$uid" --clear-groups "$@"
}
if ! as_user test -x "$ONBOARD_CLI"; then
	echo "cli_peer: the default directory's checks left out: the environment does not let uid $uid run $ONBOARD_CLI"
else
	tmp_default=/tmp/onboard-$uid
	lib_remove+=("$tmp_default")
	mkdir -m 700 "$tmp_default"
	chown "$nobody:$nobody" "$tmp_default"
	run_says "a default socket directory made by someone else is refused" 1 \
		"onboard: the socket directory $tmp_default belongs to uid $nobody, not to you (uid $uid)" \
		as_user "$ONBOARD_CLI" --timeout 2s health
	# The user's own: accepted, and then nothing listens there (a local error all the same,
	# but about the connection).
	chown "$uid:$uid" "$tmp_default"
	run_says "the user's own directory is taken" 1 "cannot connect to ipc://$tmp_default/onboardd.sock" \
		as_user "$ONBOARD_CLI" --timeout 2s health
	# An explicit --server is the user's choice: its directory is not checked (the peer is).
	chown "$nobody:$nobody" "$tmp_default"
	run_says "an explicit --server is not the default" 1 "cannot connect to ipc://$tmp_default/onboardd.sock" \
		as_user "$ONBOARD_CLI" --timeout 2s --server "ipc://$tmp_default/onboardd.sock" health
fi

finish "cli_peer"

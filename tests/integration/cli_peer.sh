#!/usr/bin/env bash
# cli_peer.sh: the onboard CLI refuses an ipc socket served by another user than the expected
# one (--server-uid, $ONBOARD_SERVER_UID; by default its own, or root) and a default socket
# directory in /tmp that someone else made. The library's side is in test_peer.c.
#
# Needs root (CI runs the tests as root): the foreign server is onboard-fakesrv --uid 65534,
# and the default directory is checked as an unused uid with setpriv. Skipped (77) otherwise.
# Needs ONBOARD_CLI and ONBOARD_FAKESRV (meson test sets both).
set -uo pipefail

: "${ONBOARD_CLI:?path of the onboard CLI}"
: "${ONBOARD_FAKESRV:?path of onboard-fakesrv}"

if [ "$(id -u)" -ne 0 ]; then
	echo "cli_peer: skipped, needs root (a server run by another user)"
	exit 77
fi

nobody=65534
# Under /tmp, not $TMPDIR: every directory on the way must be open to nobody.
dir=$(mktemp -d /tmp/ob-cli-peer-XXXXXX)
chmod 711 "$dir"
mkdir -m 700 "$dir/nobody"
chown "$nobody:$nobody" "$dir/nobody"
pids=()
tmp_default=
failures=0

cleanup() {
	for pid in "${pids[@]}"; do
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	rm -rf "$dir"
	if [ -n "$tmp_default" ]; then
		rm -rf "$tmp_default"
	fi
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# run NAME WANT_RC TEXT CMD...: runs CMD, checks its exit status and that TEXT is in its
# stderr (when TEXT is not empty).
run() {
	local name=$1 want=$2 text=$3
	shift 3
	local rc=0
	"$@" >"$dir/out" 2>"$dir/err" || rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "$name: exit status $rc, expected $want"
		sed 's/^/  stdout: /' "$dir/out" >&2
		sed 's/^/  stderr: /' "$dir/err" >&2
		return
	fi
	if [ -n "$text" ] && ! grep -qF -- "$text" "$dir/err"; then
		fail "$name: stderr does not say '$text'"
		sed 's/^/  stderr: /' "$dir/err" >&2
		return
	fi
	echo "ok: $name"
}

# start_nobody NAME: a server run by nobody on $dir/nobody/NAME.sock, answering OK; waits for
# its "ready" line (printed once it listens), polling every 20 ms for up to 10 s.
start_nobody() {
	"$ONBOARD_FAKESRV" --uid "$nobody" "ipc://$dir/nobody/$1.sock" 0 >"$dir/$1.ready" \
		2>"$dir/$1.log" &
	pids+=($!)
	for _ in $(seq 500); do
		grep -q '^ready$' "$dir/$1.ready" 2>/dev/null && return
		kill -0 "$!" 2>/dev/null || break
		sleep 0.02
	done
	cat "$dir/$1.log" >&2
	echo "FAIL: onboard-fakesrv did not start" >&2
	exit 1
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

run "a socket served by nobody is refused" 1 \
	"onboard: the server socket at $dir/nobody/refused.sock is served by uid $nobody, expected 0" \
	ob health
run "the same with a call" 1 "is served by uid $nobody, expected 0" \
	ob call /onboard.v1.Health/Check '{}'
run "--server-uid of another user still refuses nobody" 1 "expected 1 (or root)" \
	"$ONBOARD_CLI" --server-uid 1 --server "$url" health
run "--server-uid names the server's user" 0 "" \
	"$ONBOARD_CLI" --server-uid "$nobody" --server "$taken" call /onboard.v1.Health/Check '{}'
run "so does \$ONBOARD_SERVER_UID" 0 "" \
	env ONBOARD_SERVER_UID="$nobody" "$ONBOARD_CLI" --server "$taken" call /onboard.v1.Health/Check '{}'
if [ "$(id -u nobody 2>/dev/null)" = "$nobody" ]; then
	run "a user name" 0 "" \
		"$ONBOARD_CLI" --server-uid nobody --server "$taken" call /onboard.v1.Health/Check '{}'
fi
run "an unknown user is a usage error" 2 "--server-uid needs a user name or a uid" \
	"$ONBOARD_CLI" --server-uid no-such-user-onboard health
run "so is a bad \$ONBOARD_SERVER_UID" 2 "ONBOARD_SERVER_UID is not a user" \
	env ONBOARD_SERVER_UID=no-such-user-onboard "$ONBOARD_CLI" health

# The default socket directory, /tmp/onboard-$UID without $XDG_RUNTIME_DIR, made by nobody
# for a user who has none: the CLI, run as that user, refuses it. Needs setpriv and a CLI
# that user can run (not so when the tree is in a directory closed to others).
uid=$((2000000000 + $$ % 100000))
while getent passwd "$uid" >/dev/null || [ -e "/tmp/onboard-$uid" ] || [ -L "/tmp/onboard-$uid" ]; do
	uid=$((uid + 1))
done
as_user() {
	env -u XDG_RUNTIME_DIR -u ONBOARD_SERVER setpriv --reuid "$uid" --regid "$uid" --clear-groups "$@"
}
if ! command -v setpriv >/dev/null || ! as_user "$ONBOARD_CLI" --help >/dev/null 2>&1; then
	echo "cli_peer: the default directory's check skipped: setpriv cannot run the CLI as uid $uid"
else
	tmp_default=/tmp/onboard-$uid
	mkdir -m 700 "$tmp_default"
	chown "$nobody:$nobody" "$tmp_default"
	run "a default socket directory made by someone else is refused" 1 \
		"onboard: the socket directory $tmp_default belongs to uid $nobody, not to you (uid $uid)" \
		as_user "$ONBOARD_CLI" --timeout 2s health
	# The user's own: accepted, and then nothing listens there (a local error all the same,
	# but about the connection).
	chown "$uid:$uid" "$tmp_default"
	run "the user's own directory is taken" 1 "cannot connect to ipc://$tmp_default/onboardd.sock" \
		as_user "$ONBOARD_CLI" --timeout 2s health
	# An explicit --server is the user's choice: its directory is not checked (the peer is).
	chown "$nobody:$nobody" "$tmp_default"
	run "an explicit --server is not the default" 1 "cannot connect to ipc://$tmp_default/onboardd.sock" \
		as_user "$ONBOARD_CLI" --timeout 2s --server "ipc://$tmp_default/onboardd.sock" health
fi

if [ "$failures" -ne 0 ]; then
	echo "$failures check(s) failed" >&2
	exit 1
fi
echo "all peer checks passed"

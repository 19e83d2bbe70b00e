#!/usr/bin/env bash
# The keyring replaced by a broken file before SIGHUP (issue 15, part 2). A reload that
# fails keeps the keyring in force: the keys in it go on logging in and calling, a key
# only the broken file names does not get in, the log says what happened; a good file and
# another SIGHUP bring the new keys in, with nothing restarted. A start on a broken
# keyring is refused, saying so.
set -uo pipefail
. "$(dirname "$0")/faults_lib.sh"
fault_init ob-fault-keyring
keyring=$dir/keyring

# keygen NAME ROLE: a key file $dir/NAME.key; its keyring line in $dir/NAME.line.
keygen() {
	run "keygen $1" 0 "$ONBOARD_CLI" keygen --out "$dir/$1.key" --role "$2" --label "$1" &&
		sed -n '/^keyring line:$/{n;p}' "$dir/out" >"$dir/$1.line"
}

# as NAME ARGS...: the CLI with key NAME (cli: $rc, $dir/out, $dir/err).
as() {
	local name=$1
	shift
	cli --key "$dir/$name.key" "$@"
}

# reloads: how many keyring reloads the log shows, and of them how many failed.
reloads() {
	grep -c 'keyring-reload' "$log" || true
}

# sighup: SIGHUP to onboardd, and a wait for the reload's line in the log.
sighup() {
	local before
	before=$(reloads)
	kill -HUP "$pid"
	lib_skip=0
	local i
	for i in $(seq 500); do
		[ "$(reloads)" -gt "$before" ] && return 0
		sleep 0.02
	done
	die "no keyring reload logged within 10 s of SIGHUP"
}

keygen first reviewer
keygen second reviewer
cp "$dir/first.line" "$keyring"
chmod 0600 "$keyring"
onboardd_start "$url" --db "$db" --keyring "$keyring" --trust-local no

as first whoami
expect_rc 0 "the first key gets in"
as second whoami
expect_rc 80 "the second key is not in the keyring yet: UNAUTHENTICATED"

# A broken file that also names the second key: none of it may count.
{
	cat "$dir/second.line"
	echo "this is not a keyring line"
} >"$keyring.new" && mv "$keyring.new" "$keyring"
sighup
expect_eq "$(logged "keyring-reload-failed")" 1 "the failed reload is logged"
expect_eq "$(logged "the previous keyring stays in force")" 1 "and what it means"
as first whoami
expect_rc 0 "the first key still gets in after the failed reload"
as second whoami
expect_rc 80 "a key of the broken file does not"
checks=$((checks + 1))
serves || fail "health says SERVING after a failed reload"

cat "$dir/first.line" "$dir/second.line" >"$keyring.new" && mv "$keyring.new" "$keyring"
sighup
as second whoami
expect_rc 0 "a good keyring and SIGHUP: the second key gets in, nothing restarted"
as first whoami
expect_rc 0 "and the first one still does"
expect_clean_stop

echo "not a keyring" >"$keyring"
checks=$((checks + 1))
if onboardd_try_start "$url" --db "$db" --keyring "$keyring" --trust-local no; then
	fail "onboardd started on a broken keyring"
	onboardd_stop
fi
expect_eq "$(logged "$keyring")" 1 "the refusal to start names the keyring"
finish fault-keyring

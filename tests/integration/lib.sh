# shellcheck shell=bash disable=SC2034
# (SC2034: out, err, rc and the others are set here for the scripts that source this file.)
# lib.sh: what the shell harnesses share (cli.sh, cli_apps.sh, cli_codes.sh, cli_parse.sh,
# cli_peer.sh, privacy.sh, tls.sh). Sourced, never run:
#
#     set -uo pipefail            # or -euo: every function here works under set -e too
#     . "$(dirname "$0")/lib.sh"
#     lib_init_ipc ob-cli         # a private directory $dir, cleaned up however the script ends,
#                                 # and $url, an ipc socket in it
#     onboardd_start "$url" --db "$dir/onboard.db"
#     run "health" 0 "$ONBOARD_CLI" --server "$url" health && expect "health" SERVING "$out"
#     finish "cli"                # the count of failures decides the exit status
#
# Two ways to check a command, use whichever reads better:
#   run NAME WANT CMD...   runs CMD, checks its exit status at once; $out and $err hold what it
#                          printed. Returns 1 (having said so) when the status differs, so
#                          that `if run ...; then expect ...; fi` checks output only then.
#   cli ARGS...            runs the CLI against $url and keeps its status in $rc; then
#                          expect_rc, expect_out, expect_err, expect_eq check it, each
#                          failure showing the command, its status and its output.
# Every check counts in $checks and every failure in $failures; a failure does not stop the
# script (die does). Processes started here (onboardd, onboard-fakesrv) are killed on exit.

# ---- the private directory and the end of the script ---------------------------------------

dir=
failures=0
checks=0
lib_pids=()      # processes to kill on exit
lib_remove=()    # more paths to remove on exit

# lib_init NAME [BASE]: makes $dir, BASE/NAME-XXXXXX (BASE: $TMPDIR when it is short enough for
# an ipc:// path in sun_path, /tmp otherwise), and arranges for lib_cleanup to run on exit,
# including an exit on a signal (meson's timeout, ^C, a closed pipe).
lib_init() {
	local base=${2:-${TMPDIR:-/tmp}}
	[ ${#base} -le 64 ] || base=/tmp
	dir=$(mktemp -d "$base/$1-XXXXXX") || exit 1
	trap lib_cleanup EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 141' PIPE
	trap 'exit 143' TERM
}

# lib_init_ipc NAME: how the harnesses of one onboardd on an ipc socket begin: checks that meson
# gave ONBOARDD and ONBOARD_CLI, lib_init NAME, and $url, the socket in $dir for onboardd_start.
lib_init_ipc() {
	: "${ONBOARDD:?path of onboardd}" "${ONBOARD_CLI:?path of the onboard CLI}"
	lib_init "$1"
	url="ipc://$dir/onboardd.sock"
}

# ob ARGS...: the CLI against $url with a 10 s timeout, its output as it is (cli keeps it in
# files instead). A script that calls the CLI otherwise defines its own ob after sourcing.
ob() { "$ONBOARD_CLI" --server "$url" --timeout 10s "$@"; }

# lib_pg_database PREFIX: a new database PREFIX_PID in the cluster of tools/pgcluster.sh
# ($PGHOST, $PGPORT; createdb), its name in $name and a postgresql:// URL of it in $pgurl,
# with a password that the cluster ignores (trust) and that no log may show.
lib_pg_database() {
	name=$1_$$
	createdb "$name" || die "createdb $name failed"
	pgurl="postgresql://onboard:s3cret-word@/$name?host=$PGHOST&port=$PGPORT"
}

# expect_pg_sealed REGEX: no contact of the database $name shows REGEX (a name or an e-mail
# address in clear): personal data is sealed in PostgreSQL as in SQLite.
expect_pg_sealed() {
	checks=$((checks + 1))
	if psql -d "$name" -Atc "SELECT encode(name, 'escape') || encode(email, 'escape') FROM contact WHERE name IS NOT NULL" |
		grep -q "$1"; then
		fail "a contact is in clear in PostgreSQL"
	else
		echo "ok: the contacts are sealed in PostgreSQL"
	fi
}

# lib_cleanup: kills what is still running, then removes $dir and the paths in lib_remove.
lib_cleanup() {
	local p
	for p in "${lib_pids[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
		lib_wait "$p" "a process left running at exit"
	done
	lib_pids=()
	for p in "${lib_remove[@]}"; do
		rm -rf "$p"
	done
	if [ -n "$dir" ]; then
		rm -rf "$dir"
	fi
	return 0
}

# lib_forget PID: PID has been reaped, lib_cleanup need not kill it.
lib_forget() {
	local p keep=()
	for p in "${lib_pids[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	lib_pids=("${keep[@]}")
}

# ---- verdicts --------------------------------------------------------------------------------

# fail MESSAGE: one failed check; the script goes on.
fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
	return 0
}

# die MESSAGE: the harness itself cannot go on (a server that does not start, a tool that
# fails): the test fails now.
die() {
	echo "FAIL: $*" >&2
	exit 1
}

# finish NAME: the summary; exits 1 when a check failed.
finish() {
	if [ "$failures" -ne 0 ]; then
		echo "$1: $failures of $checks check(s) failed" >&2
		exit 1
	fi
	echo "$1: all $checks checks passed"
	exit 0
}

# ---- processes -------------------------------------------------------------------------------

# Every wait for a process here ends after $lib_bound seconds (LIB_WAIT_S, default 120): far
# beyond a clean stop on a loaded machine (onboardd drains for 10 s at most), and well inside
# meson's timeout, so that a process that hangs is named, with what its threads were doing,
# by the test itself instead of a silent meson timeout.
lib_bound=${LIB_WAIT_S:-120}

# lib_alive PID: PID exists and is not a zombie (bash reaps its children as they end, but
# only between commands).
lib_alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat:0:1}" != Z ]
}

# lib_backtraces PID WHAT: to stderr, what a process that hung is doing: its command line and
# each thread's backtrace (gdb, when installed; else each thread's kernel wait channel), then
# the same for its children.
lib_backtraces() {
	local p=$1 t kid
	echo "HANG: $2: pid $p still running after $lib_bound s: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" >&2
	if command -v gdb >/dev/null 2>&1; then
		timeout 120 gdb -batch -nx -iex 'set auto-load python-scripts off' -p "$p" -ex 'info threads' -ex 'thread apply all bt' \
			</dev/null 2>&1 | grep -Ev '^\[(New LWP|Thread debugging|Inferior)|^Using host' | sed 's/^/  /' >&2
	else
		for t in "/proc/$p/task"/*; do
			echo "  thread ${t##*/} ($(cat "$t/comm" 2>/dev/null)): waits in $(cat "$t/wchan" 2>/dev/null)" >&2
		done
	fi
	for kid in $(pgrep -P "$p" 2>/dev/null); do
		lib_backtraces "$kid" "a child of $p"
	done
}

# lib_wait PID WHAT: waits for PID, a child of this shell, for at most $lib_bound s, and puts
# its exit status in $wait_rc. When it is still running then, it is a hang: a failed check
# saying which process (WHAT) hung, with its threads' backtraces (lib_backtraces); then it and
# its children are killed and reaped. Returns 0 either way (works under set -e).
wait_rc=0
lib_wait() {
	local p=$1 end=$((SECONDS + lib_bound))
	# By the clock, not by counting polls: on a loaded machine each poll takes far longer.
	while [ "$SECONDS" -lt "$end" ] && lib_alive "$p"; do
		sleep 0.05
	done
	if lib_alive "$p"; then
		lib_backtraces "$p" "$2"
		pkill -KILL -P "$p" 2>/dev/null || true
		kill -KILL "$p" 2>/dev/null || true
		fail "$2: pid $p did not exit within $lib_bound s (killed; backtraces above)"
	fi
	wait_rc=0
	wait "$p" 2>/dev/null || wait_rc=$?
	return 0
}

# wait_for_line FILE REGEX PID: waits until a line of FILE after its first $lib_skip lines
# (0 unless set) matches REGEX, polling every 20 ms for up to 10 s. Returns 0 when one does, 1
# when PID exited first, 2 after 10 s.
lib_skip=0
lib_now=2020-11-16T08:30:00Z
wait_for_line() {
	local i
	for i in $(seq 500); do
		# No grep -q: it would leave sed to die of SIGPIPE, which pipefail reports.
		if sed -n "$((lib_skip + 1)),\$p" "$1" 2>/dev/null | grep -E -- "$2" >/dev/null; then
			return 0
		fi
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.02
	done
	return 2
}

# lib_pg_args ARGS...: onboardd's arguments ARGS in $pg_args, each --db PATH of a SQLite file
# made a PostgreSQL database of its own when the script runs under tools/pgcluster.sh
# ($ONBOARD_TEST_PG set: the suite integration-pg), as support/testsrv.c does for the tests in
# C. The database is named after PATH, so that a restart on PATH serves the same one; it is
# made and migrated by `onboardd migrate` on first use, which also makes the key file every
# start then reads: --master-key if ARGS give it, else master.key beside PATH, where the
# SQLite store keeps it. Without $ONBOARD_TEST_PG, ARGS as they are; also when the script sets
# LIB_KEEP_SQLITE=1 (a test of the pg suite that compares a SQLite store with PostgreSQL, such
# as copy.sh, and names its PostgreSQL databases itself).
lib_pg_args() {
	pg_args=("$@")
	[ -n "${ONBOARD_TEST_PG:-}" ] && [ -z "${LIB_KEEP_SQLITE:-}" ] || return 0
	local i path='' at='' eq='' key='' name
	for i in "${!pg_args[@]}"; do
		case ${pg_args[$i]} in
		--db) at=$((i + 1)) path=${pg_args[$at]:-} eq= ;;
		--db=*) at=$i path=${pg_args[$i]#--db=} eq=--db= ;;
		--master-key) key=${pg_args[$((i + 1))]:-} ;;
		--master-key=*) key=${pg_args[$i]#--master-key=} ;;
		esac
	done
	case $path in '' | postgres://* | postgresql://*) return 0 ;; esac
	name=$(lib_pg_name "$path")
	local pgurl="postgresql://onboard@/$name?host=$PGHOST&port=$PGPORT"
	pg_args[at]=$eq$pgurl
	if [ -z "$key" ]; then
		key=$(dirname "$path")/master.key
		pg_args+=(--master-key "$key")
	fi
	if [ "$(psql -d postgres -Atc "SELECT count(*) FROM pg_database WHERE datname = '$name'")" != 1 ]; then
		mkdir -p "$(dirname "$key")"
		createdb "$name" || die "createdb $name failed"
		# Without the ONBOARDD_* variables a test sets for the server it starts.
		local unset=() v
		for v in $(compgen -e); do
			case $v in ONBOARDD_*) unset+=(-u "$v") ;; esac
		done
		env "${unset[@]}" "$ONBOARDD" migrate --db "$pgurl" --master-key "$key" >>"$log" 2>&1 ||
			die "onboardd migrate --db $pgurl failed (log: $log)"
	fi
}

# store_away PATH / store_back PATH: the store of the onboardd serving --db PATH cannot be
# reached / can again: the SQLite file moved to PATH.away and back, or its PostgreSQL database
# (lib_pg_args) closed to new connections, superusers' too, and opened again.
store_away() {
	if [ -n "${ONBOARD_TEST_PG:-}" ]; then
		psql -d postgres -qc "ALTER DATABASE $(lib_pg_name "$1") ALLOW_CONNECTIONS false"
	else
		mv "$1" "$1.away"
	fi
}
store_back() {
	if [ -n "${ONBOARD_TEST_PG:-}" ]; then
		psql -d postgres -qc "ALTER DATABASE $(lib_pg_name "$1") ALLOW_CONNECTIONS true"
	else
		mv "$1.away" "$1"
	fi
}

# lib_pg_name PATH: the name of the PostgreSQL database that stands for the SQLite file PATH.
lib_pg_name() {
	echo "ob_$(printf %s "$1" | md5sum | cut -c1-24)"
}

# onboardd_try_start URL ARGS...: starts "$ONBOARDD --listen URL ARGS..." with stdout and
# stderr appended to $log (default $dir/onboardd.log) and waits until it logs that it serves.
# Without --now in ARGS, the programme's clock starts at $lib_now, in the November 2020
# lockdown as ./demo.sh has it (the default cohort takes submissions during the lockdown
# only; logins keep the real clock).
# Sets $pid. Returns 0 when it serves, 1 when it exited first ($pid is then empty and $log
# says why); dies when it neither serves nor exits within 10 s.
onboardd_try_start() {
	: "${ONBOARDD:?the path of onboardd (meson test sets it)}"
	log=${log:-$dir/onboardd.log}
	local url=$1
	shift
	lib_skip=0
	if [ -f "$log" ]; then
		lib_skip=$(wc -l <"$log")
	fi
	local now=(--now "$lib_now") arg
	for arg in "$@"; do
		case $arg in --now | --now=*) now=() ;; esac
	done
	lib_pg_args "$@"
	"$ONBOARDD" --listen "$url" "${pg_args[@]}" "${now[@]}" >>"$log" 2>&1 </dev/null &
	pid=$!
	lib_pids+=("$pid")
	local found=0
	wait_for_line "$log" "onboardd .* serving" "$pid" || found=$?
	lib_skip=0
	case $found in
	0) return 0 ;;
	1)
		wait "$pid" 2>/dev/null || true
		lib_forget "$pid"
		pid=
		return 1
		;;
	esac
	cat "$log" >&2
	die "onboardd did not start within 10 s"
}

# onboardd_start URL ARGS...: onboardd_try_start, and the test fails when onboardd does not
# serve.
onboardd_start() {
	onboardd_try_start "$@" && return 0
	cat "$log" >&2
	die "onboardd exited before serving"
}

# onboardd_start_http http|https SOCKET_URL ARGS...: onboardd_try_start SOCKET_URL ARGS... with
# --http on a free port of 127.0.0.1, on another port when that one was taken meanwhile. Sets
# $port, $base (SCHEME://127.0.0.1:PORT) and $pid; the test fails when onboardd does not serve.
onboardd_start_http() {
	local scheme=$1 sock=$2 _
	shift 2
	for _ in 1 2 3 4 5; do
		port=$(free_port)
		base="$scheme://127.0.0.1:$port"
		onboardd_try_start "$sock" "$@" --http "$base" && return 0
		grep -q "cannot serve HTTP" "$log" || { cat "$log" >&2; die "onboardd exited"; }
	done
	die "no free port for --http $scheme://"
}

# onboardd_stop: SIGTERM to $pid and its exit status in $stop_rc (0 after a clean drain; a
# failed check and backtraces when it does not exit within $lib_bound s, lib_wait).
# Returns 0; expect_clean_stop is the check.
onboardd_stop() {
	stop_rc=0
	[ -n "${pid:-}" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	lib_wait "$pid" "onboardd after SIGTERM"
	stop_rc=$wait_rc
	lib_forget "$pid"
	pid=
	return 0
}

# expect_clean_stop: onboardd_stop, and a check that onboardd drained and exited 0.
expect_clean_stop() {
	onboardd_stop
	checks=$((checks + 1))
	if [ "$stop_rc" -ne 0 ]; then
		fail "onboardd exited with status $stop_rc after SIGTERM"
		cat "$log" >&2
	else
		echo "ok: SIGTERM exits 0"
	fi
}

# fakesrv_start URL CODE [--uid UID]: onboard-fakesrv on URL answering every call with CODE
# (run as UID with --uid, which needs root), its "ready" line and log in $dir. Sets $pid once
# it listens; the test fails when it does not start.
lib_fakesrvs=0
fakesrv_start() {
	: "${ONBOARD_FAKESRV:?the path of onboard-fakesrv (meson test sets it)}"
	local url=$1 code=$2
	shift 2
	lib_fakesrvs=$((lib_fakesrvs + 1))
	local ready=$dir/fakesrv-$lib_fakesrvs.ready flog=$dir/fakesrv-$lib_fakesrvs.log
	"$ONBOARD_FAKESRV" "$@" "$url" "$code" >"$ready" 2>"$flog" &
	pid=$!
	lib_pids+=("$pid")
	wait_for_line "$ready" '^ready$' "$pid" && return 0
	cat "$flog" >&2
	die "onboard-fakesrv $url $code did not start"
}

# proc_kill: SIGKILL to $pid, reaped.
proc_kill() {
	[ -n "${pid:-}" ] || return 0
	kill -KILL "$pid" 2>/dev/null || true
	lib_wait "$pid" "a process after SIGKILL"
	lib_forget "$pid"
	pid=
	return 0
}

# ---- checks, first way: run NAME WANT CMD... -------------------------------------------------

# run NAME WANT CMD...: runs CMD (stdin as the script's), stdout and stderr in $dir/out and
# $dir/err and in $out and $err, and checks that it exits WANT. Returns 1 when it does not.
run() {
	local name=$1 want=$2
	shift 2
	local status=0
	"$@" >"$dir/out" 2>"$dir/err" || status=$?
	out=$(cat "$dir/out")
	err=$(cat "$dir/err")
	checks=$((checks + 1))
	if [ "$status" -ne "$want" ]; then
		fail "$name: exit status $status, expected $want"
		sed 's/^/  stdout: /' "$dir/out" >&2
		sed 's/^/  stderr: /' "$dir/err" >&2
		return 1
	fi
	echo "ok: $name"
}

# run_says NAME WANT TEXT CMD...: run, and TEXT (when not empty) is in its stderr.
run_says() {
	local name=$1 want=$2 text=$3
	shift 3
	run "$name" "$want" "$@" || return 1
	[ -z "$text" ] && return 0
	checks=$((checks + 1))
	if ! grep -qF -- "$text" "$dir/err"; then
		fail "$name: stderr does not say '$text'"
		sed 's/^/  stderr: /' "$dir/err" >&2
		return 1
	fi
}

# expect NAME TEXT HAYSTACK: HAYSTACK contains TEXT.
expect() {
	checks=$((checks + 1))
	case "$3" in
	*"$2"*) ;;
	*) fail "$1: expected to find '$2' in: $3" ;;
	esac
}

# ---- checks, second way: cli ARGS... then expect_* -------------------------------------------

# cli ARGS...: runs the CLI against $url; stdout in $dir/out, stderr in $dir/err, status in $rc.
cli() {
	: "${ONBOARD_CLI:?the path of the onboard CLI (meson test sets it)}"
	rc=0
	"$ONBOARD_CLI" -s "$url" "$@" >"$dir/out" 2>"$dir/err" || rc=$?
	last="onboard $*"
}

# fail_last MESSAGE: a failed check about the last cli command, shown with it.
fail_last() {
	fail "$1"
	{
		echo "  command: ${last:-}"
		echo "  exit status: ${rc:-}"
		sed 's/^/  stdout: /' "$dir/out" | head -20
		sed 's/^/  stderr: /' "$dir/err" | head -20
	} >&2
}

# expect_rc WANT WHAT: the last command exited WANT.
expect_rc() {
	checks=$((checks + 1))
	[ "$rc" -eq "$1" ] || fail_last "$2: exit status $rc, want $1"
}

# expect_out REGEX WHAT / expect_err REGEX WHAT: a line of its stdout / stderr matches.
expect_out() {
	checks=$((checks + 1))
	grep -qE -- "$1" "$dir/out" || fail_last "$2: no line of stdout matches /$1/"
}
expect_err() {
	checks=$((checks + 1))
	grep -qE -- "$1" "$dir/err" || fail_last "$2: no line of stderr matches /$1/"
}

# expect_eq GOT WANT WHAT
expect_eq() {
	checks=$((checks + 1))
	[ "$1" = "$2" ] || fail_last "$3: got '$1', want '$2'"
}

# json_in FILE EXPR: evaluates a Python expression over the JSON in FILE (as j); fails,
# printing nothing, when FILE holds anything but one JSON value.
json_in() {
	python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$1" "$2" 2>/dev/null
}

# json EXPR: json_in over the last stdout.
json() {
	json_in "$dir/out" "$1"
}

# expect_json NAME FILE EXPR WANT: EXPR over the JSON in FILE (as j) prints WANT.
expect_json() {
	checks=$((checks + 1))
	local got
	got=$(json_in "$2" "$3") || got="not JSON: $(head -c 300 "$2")"
	[ "$got" = "$4" ] || fail "$1: $3 is '$got', expected '$4'"
}

# applications [COHORT]: how many applications the cohort (by default the server's default
# one) of the server at $url has.
applications() {
	: "${ONBOARD_CLI:?the path of the onboard CLI (meson test sets it)}"
	"$ONBOARD_CLI" -s "$url" --json cohort ${1:+"$1"} >"$dir/standing.json" &&
		json_in "$dir/standing.json" 'j.get("applications", 0)'
}

# free_port: a TCP port of 127.0.0.1 the kernel found free a moment ago (a random one without
# python3); the caller retries when it is taken before it binds it.
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 40000))
}

# fake_systemd NAME FILE: binds NAME ('@' first: abstract) and appends each datagram to FILE as
# one line, its newlines as '|'. Prints "ready" to FILE.ready once bound.
fake_systemd() {
	python3 - "$1" "$2" <<'PY' &
import socket, sys
name, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + name[1:] if name.startswith("@") else name)
open(out + ".ready", "w").write("ready\n")
with open(out, "a", buffering=1) as f:
    while True:
        f.write(s.recv(4096).decode().replace("\n", "|") + "\n")
PY
	lib_pids+=("$!")
	local fake=$!
	wait_for_line "$2.ready" '^ready$' "$fake" || die "the fake systemd did not start"
}

# count FILE REGEX: the messages of FILE that match.
count() {
	local n
	n=$(grep -cE -- "$2" "$1" 2>/dev/null) || true
	echo "${n:-0}"
}

# wait_count FILE REGEX N: waits (10 s at most) until N messages of FILE match; 0 when they do.
wait_count() {
	local i
	for i in $(seq 500); do
		[ "$(count "$1" "$2")" -ge "$3" ] && return 0
		sleep 0.02
	done
	return 1
}

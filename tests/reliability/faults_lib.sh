# shellcheck shell=bash disable=SC2034
# faults_lib.sh: what the fault tests share (fault_*.sh), on top of tests/integration/lib.sh,
# whose run/cli/expect_* checks and onboardd_start they use. Sourced, never run:
#
#     set -uo pipefail
#     . "$(dirname "$0")/faults_lib.sh"
#     fault_init ob-fault-fsync            # $dir, $url, $db, $ctl
#     shim_start                           # onboardd under libobfault.so
#     submit 1 key-1; expect_rc 0 "a write"; acked 1
#     fault_set "fsync fail"               # the shim's control file (faultshim.c)
#     submit 2 key-2; expect_retry "a write while fsync fails" UNAVAILABLE
#     fault_set                            # no fault
#     expect_acked; expect_db_ok
#     finish fault-fsync
#
# Every fault test ends the same way: each write the service acknowledged (acked N) reads
# back with its contact through the service (expect_acked), and the database passes
# PRAGMA integrity_check (expect_db_ok).
#
# Environment (meson sets it): ONBOARDD, ONBOARD_CLI, OB_FAULT_SHIM (libobfault.so).

. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

# fault_init NAME: lib_init, and where the server lives: $url, $db, $ctl (the shim's control
# file, absent: no fault).
fault_init() {
	: "${ONBOARDD:?}" "${ONBOARD_CLI:?}" "${OB_FAULT_SHIM:?the path of libobfault.so}"
	lib_init "$1"
	trap fault_cleanup EXIT
	fault_mounts=()
	url="ipc://$dir/onboardd.sock"
	db="$dir/onboard.db"
	ctl="$dir/faults"
	acked_ns=()
	acked_ids=()
}

# fault_cleanup: lib_cleanup, with the file systems mounted here detached first (lazily: the
# server lib_cleanup kills may still hold files there).
fault_cleanup() {
	local m
	for m in "${fault_mounts[@]}"; do
		umount -l "$m" 2>/dev/null || true
	done
	lib_cleanup
}

# mount_fs TYPE SIZE: a file system of the test's own at $dir/mnt, and $db in it (the master
# key beside it): a tmpfs, or ext4 on a loop device (its file in $dir), which enforces
# chattr +i on files already open where tmpfs does not. Needs root (need_root first).
mount_fs() {
	mnt=$dir/mnt
	mkdir -p "$mnt" || die "mkdir $mnt"
	if [ "$1" = tmpfs ]; then
		mount -t tmpfs -o "size=$2,mode=0700" ob-fault "$mnt" || die "cannot mount a tmpfs"
	else
		truncate -s "$2" "$dir/fs.img" && mkfs.ext4 -q -F "$dir/fs.img" &&
			mount -o loop "$dir/fs.img" "$mnt" || die "cannot mount $1 on a loop device"
	fi
	fault_mounts+=("$mnt")
	db=$mnt/onboard.db
}

# need_root WHAT: exits 77 (meson's skip) unless root, saying why: mounts and chattr need it,
# as the tests of another uid do elsewhere; CI runs as root.
need_root() {
	[ "$(id -u)" -eq 0 ] && return 0
	echo "SKIP: $1 needs root" >&2
	exit 77
}

# fault_set [LINE...]: the shim's faults are LINEs from now on (none: no fault). The file is
# replaced at once, and the shim reads it within 10 ms of its next call.
fault_set() {
	printf '%s\n' "$@" >"$ctl.new" && mv "$ctl.new" "$ctl"
	sleep 0.05
}

# shim_start ARGS...: onboardd on $url and $db under libobfault.so, reading $ctl; with ARGS.
# The sanitizers want their runtime first among the libraries: told not to check.
# shim_try_start: the same, returning 1 when onboardd exits instead (onboardd_try_start).
shim_start() {
	LD_PRELOAD=$OB_FAULT_SHIM OB_FAULT_FILE=$ctl \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		onboardd_start "$url" --db "$db" --no-access-log "$@"
}
shim_try_start() {
	LD_PRELOAD=$OB_FAULT_SHIM OB_FAULT_FILE=$ctl \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		onboardd_try_start "$url" --db "$db" --no-access-log "$@"
}

# siren N: the SIREN of company N of the tests' series (support/testdata.c): the 8 digits of
# N + 1 and a Luhn key.
siren() {
	local s i d sum=0
	s=$(printf '%08d' $((($1 + 1) % 100000000)))
	for i in 0 1 2 3 4 5 6 7; do
		d=${s:i:1}
		if [ $((i % 2)) -eq 1 ]; then
			d=$((d * 2))
			[ "$d" -gt 9 ] && d=$((d - 9))
		fi
		sum=$((sum + d))
	done
	echo "$s$(((10 - sum % 10) % 10))"
}

# company_args N: the options of `onboard submit` for company N, in the array $company.
company_args() {
	company=(--siren "$(siren "$1")" --legal-name "Boutique $1" --legal-form ei
		--naf 47.91B --employees 3 --turnover-eur 150000 --balance-eur 60000
		--address "$(($1 % 200 + 1)) rue de la Roquette" --postal-code 75011 --city Paris
		--contact-name "Camille Martin $1" --email "contact$1@boutique-$1.fr"
		--phone "01 23 45 67 89" --channel marketplace --category mode --accept-terms)
}

# submit N KEY [OPTION...]: submits company N with idempotency-key KEY (cli: $rc, $dir/out
# holds the Application as JSON, $dir/err the refusal).
submit() {
	local n=$1 key=$2
	shift 2
	company_args "$n"
	cli --json -H "idempotency-key=$key" "$@" submit "${company[@]}"
}

# acked N: the last submit (of company N) was acknowledged: its id is kept for expect_acked.
acked() {
	acked_ns+=("$1")
	acked_ids+=("$(json 'j["id"]')")
}

# submit_ok N KEY WHAT: submit, which must be acknowledged (then acked N).
submit_ok() {
	submit "$1" "$2"
	expect_rc 0 "$3"
	[ "$rc" -eq 0 ] && acked "$1"
	return 0
}

# expect_retry WHAT CODE: the last cli call was refused with CODE (UNAVAILABLE or
# RESOURCE_EXHAUSTED) and a retry-after.
expect_retry() {
	local want=78
	[ "$2" = RESOURCE_EXHAUSTED ] && want=72
	expect_rc "$want" "$1"
	expect_json "$1: the code" "$dir/err" 'j["code"]' "$2"
	expect_json "$1: a retry-after" "$dir/err" 'j.get("retry_after_ms", 0) > 0' True
}

# expect_acked: every acknowledged submission reads back through the service, with its
# contact (a contact that does not open would be DATA_LOSS).
expect_acked() {
	local i
	for i in "${!acked_ids[@]}"; do
		cli --json get "${acked_ids[$i]}"
		expect_rc 0 "acknowledged application ${acked_ids[$i]} reads back"
		[ "$rc" -eq 0 ] &&
			expect_eq "$(json 'j["contact"]["name"]')" "Camille Martin ${acked_ns[$i]}" \
				"the contact of ${acked_ids[$i]}"
	done
	echo "ok: ${#acked_ids[@]} acknowledged writes read back"
}

# sql QUERY: QUERY on $db, read-only (onboardd may be running; nothing is written).
sql() {
	sqlite3 -readonly -batch -noheader "$db" "$1"
}

# expect_db_ok: PRAGMA integrity_check says ok.
expect_db_ok() {
	checks=$((checks + 1))
	local got
	got=$(sql "PRAGMA integrity_check" 2>&1)
	[ "$got" = ok ] || fail "integrity_check of $db: $got"
}

# logged TEXT: 1 when the server's log holds TEXT, else 0.
logged() {
	if grep -qF -- "$1" "$log"; then echo 1; else echo 0; fi
}

# serves: Health says SERVING within 2 s.
serves() {
	"$ONBOARD_CLI" -s "$url" --timeout 2s health 2>/dev/null | grep -qx SERVING
}

# health_now: what Health says now (SERVING, NOT_SERVING...), or nothing without an answer.
health_now() {
	"$ONBOARD_CLI" -s "$url" --timeout 2s health 2>/dev/null
}

# expect_health WANT WHAT: Health says WANT within 10 s, with no write of the test's meanwhile:
# onboardd keeps its answer a second, and finds by itself that writes work again.
expect_health() {
	checks=$((checks + 1))
	local i got
	for i in $(seq 100); do
		got=$(health_now)
		[ "$got" = "$1" ] && return 0
		sleep 0.1
	done
	fail "$2: health says '$got', expected $1"
}

# systemd_start: a fake systemd (lib.sh's fake_systemd) at $dir/notify, its messages in
# $msgs; start onboardd with NOTIFY_SOCKET=$dir/notify for it to hear them.
systemd_start() {
	msgs=$dir/notify.msgs
	fake_systemd "$dir/notify" "$msgs"
}

# expect_status REGEX WHAT: the last STATUS= onboardd told systemd matches REGEX, within 10 s.
expect_status() {
	checks=$((checks + 1))
	local i last
	for i in $(seq 100); do
		last=$(grep -oE 'STATUS=[^|]*' "$msgs" 2>/dev/null | tail -1)
		[[ $last =~ $1 ]] && return 0
		sleep 0.1
	done
	fail "$2: systemd was told '$last', expected $1"
}

#!/usr/bin/env bash
# backup.sh: `onboard admin backup FILE` as an operator uses it against a real onboardd: the
# copy and its reminder (the master key file is not in it), in text and JSON; the paths it
# refuses, each with its status and a violation of "path" (relative, '..', missing directory,
# a directory others can write to, an existing file: never overwritten); a sticky directory
# such as /tmp is fine; a caller who is not an administrator is refused; the audit trail
# records every attempt; and the restore: onboardd --db COPY --master-key KEYFILE serves the
# copy, contacts readable. (test_backup.c takes a backup under load and compares it.)
#
# Needs ONBOARDD and ONBOARD_CLI (meson test sets both) and python3.
set -uo pipefail

. "$(dirname "$0")/lib.sh"
lib_init_ipc ob-backup

# A keyring with a reviewer's key, for the refusal below.
run "keygen" 0 ob keygen --out "$dir/reviewer.key" --role reviewer --label "backup test" || exit 1
sed -n '/^keyring line:$/{n;p}' "$dir/out" >"$dir/keyring"

mkdir -p "$dir/data"
onboardd_start "$url" --db "$dir/data/onboard.db" --keyring "$dir/keyring"
run "submit" 0 ob submit --siren 732829320 --legal-name "Boulangerie Martin" --legal-form ei --naf 10.71C \
	--employees 4 --turnover-eur 350000 --balance-eur 120000 --address "12 rue de la Paix" \
	--postal-code 75002 --city Paris --contact-name "Claire Martin" --email claire@example.fr \
	--phone "01 23 45 67 89" --channel marketplace --category bakery --accept-terms || true

# ---- a backup, and what it says ------------------------------------------------------------
mkdir -m 700 "$dir/backups"
copy=$dir/backups/onboard-1.db
if run "admin backup" 0 ob admin backup "$copy"; then
	expect "admin backup names the file" "backup written on the server: $copy" "$out"
	expect "admin backup counts the applications" "1 application, " "$out"
	expect "admin backup reminds of the master key" \
		"REMINDER: the master key file is NOT in the backup" "$out"
fi
checks=$((checks + 1))
[ "$(stat -c %a "$copy" 2>/dev/null)" = 600 ] || fail "the copy is not mode 0600: $(stat -c %a "$copy")"
checks=$((checks + 1))
[ ! -e "$copy.partial" ] || fail "the copy's .partial file was left behind"
if run "admin backup --json" 0 ob --json admin backup "$dir/backups/onboard-2.db"; then
	checks=$((checks + 1))
	python3 -c '
import json, sys
r = json.loads(sys.argv[1])
assert r["applications"] == "1", r
assert r["masterKeyId"] in r["reminder"], r
assert "NOT in the backup" in r["reminder"], r
' "$out" || fail "admin backup --json: $out"
fi

# ---- refused paths ---------------------------------------------------------------------------
# refused NAME STATUS PATH DESCRIPTION: the backup to PATH exits STATUS with a violation of
# "path" saying DESCRIPTION.
refused() {
	run_says "$1" "$2" "$4" ob admin backup "$3" && expect "$1: a violation of path" "  path: " "$err"
}
refused "a relative path" 67 backups/x.db "must be absolute"
refused "a '..' component" 67 "$dir/backups/../x.db" "must not hold empty, '.' or '..'"
refused "a directory" 67 "$dir/backups/" "names a directory"
refused "a missing directory" 67 "$dir/nowhere/x.db" "its directory does not exist"
mkdir -m 777 "$dir/open"
refused "a directory others can write to" 67 "$dir/open/x.db" "or others could"
refused "an existing file" 70 "$copy" "never overwrites"
run_says "an empty path" 67 "path: is required" ob admin backup "" || true
run_says "no FILE" 2 "FILE" ob admin backup || true
checks=$((checks + 1))
[ -z "$(ls -A "$dir/open")" ] || fail "a refused backup left files: $(ls -A "$dir/open")"
# A sticky directory that everyone can write to, as /tmp, is fine: nobody can swap our file.
mkdir -m 1777 "$dir/sticky"
run "a sticky directory" 0 ob admin backup "$dir/sticky/x.db" || true

# Only administrators: a reviewer's key is refused.
run_says "a reviewer" 71 "PERMISSION_DENIED" ob --key "$dir/reviewer.key" admin backup \
	"$dir/backups/reviewer.db" || true
checks=$((checks + 1))
[ ! -e "$dir/backups/reviewer.db" ] || fail "a reviewer made a backup"

# ---- the audit trail -------------------------------------------------------------------------
if run "admin audit" 0 ob admin audit --all; then
	checks=$((checks + 1))
	[ "$(grep -c 'store.backup .* applications, .* bytes, key k[0-9]*: ' <<<"$out")" -eq 3 ] ||
		fail "the audit trail does not record the 3 backups: $out"
	checks=$((checks + 1))
	[ "$(grep -c 'store.backup .* failed (' <<<"$out")" -ge 6 ] ||
		fail "the audit trail does not record the refused backups: $out"
fi
expect_clean_stop

# ---- the restore: onboardd on the copy with the master key file ------------------------------
log=$dir/restore.log
onboardd_start "ipc://$dir/restored.sock" --db "$copy" --master-key "$dir/data/master.key"
if run "get from the restored copy" 0 "$ONBOARD_CLI" -s "ipc://$dir/restored.sock" --json \
	get --siren 732829320; then
	expect "the restored contact" '"email": "claire@example.fr"' "$out"
	expect "the restored contact" '"name": "Claire Martin"' "$out"
fi
expect_clean_stop
# Without its master key file, onboardd refuses the copy rather than making new keys.
run_says "the copy without its key file" 1 "master key file" \
	"$ONBOARDD" --listen "ipc://$dir/nokey.sock" --db "$dir/backups/onboard-2.db" || true

finish backup

#!/usr/bin/env bash
# Personal data at rest, end to end: a real onboardd with its own database and
# master key file in a private temporary directory, applications submitted
# through the onboard CLI, and then the bytes of the database, its write-ahead
# log and the server's log searched for every name, e-mail and phone submitted
# (as typed, lowercased, and in E.164), also when review notes and withdrawal
# reasons name them. Also: the key file is created 0600;
# `onboard admin export-contact` finds a contact by e-mail in any case;
# `onboard admin erase` erases for good and keeps the record; `onboard admin
# rotate-keys` re-wraps while serving and the data reads after a restart; the
# audit trail records all of it without personal data.
#
# Environment: ONBOARDD and ONBOARD_CLI, the paths of the binaries. Needs
# python3 (to read JSON). Never skipped: without the master key file or
# `onboard admin`, the checks that need them fail.
set -u

. "$(dirname "$0")/lib.sh"
lib_init_ipc onboard-privacy
start() {
	onboardd_start "$url" --db "$dir/onboard.db" --now 2020-11-20T10:00:00Z
}

# The personal data submitted below: every string that must never be on disk in clear.
names=("Zoé Confidentielle" "Yann Secretissime" "Xavière Discrète")
emails=("Zoe.Confidentielle@Exemple.fr" "yann.secretissime@exemple.fr" "ZOE.CONFIDENTIELLE@exemple.FR")
phones=("06 12 34 56 78" "07.98.76.54.32" "+33 6 11 22 33 44")
e164=("+33612345678" "+33798765432" "+33611223344")
sirens=(732829320 552100554 542065479)

# absent WHAT: none of the personal data is in the files, nor in the server's log. On
# PostgreSQL (the suite integration-pg) the files are the database's own in the private
# cluster, after a checkpoint, and the cluster's WAL.
absent() {
	local files=("$log") f p
	for f in "$dir/onboard.db" "$dir/onboard.db-wal"; do
		[ -e "$f" ] && files+=("$f")
	done
	if [ -n "${ONBOARD_TEST_PG:-}" ]; then
		psql -d postgres -qc CHECKPOINT
		files+=("$PGHOST/data/pg_wal" "$PGHOST/data/base/$(psql -d postgres -Atc \
			"SELECT oid FROM pg_database WHERE datname = '$(lib_pg_name "$dir/onboard.db")'")")
	fi
	for p in "${names[@]}" "${emails[@]}" "${phones[@]}" "${e164[@]}"; do
		checks=$((checks + 1))
		if grep -r -q -a -F -i -- "$p" "${files[@]}"; then
			fail "$1: '$p' is in $(grep -r -l -a -F -i -- "$p" "${files[@]}" | head -3)"
		fi
	done
	for p in "${e164[@]}"; do # the digits alone
		checks=$((checks + 1))
		if grep -r -q -a -F -- "${p#+}" "${files[@]}"; then
			fail "$1: '${p#+}' is in $(grep -r -l -a -F -- "${p#+}" "${files[@]}" | head -3)"
		fi
	done
}

start

# --- the master key file ---------------------------------------------------
checks=$((checks + 1))
mode=$(stat -c %a "$dir/master.key" 2>/dev/null)
[ "$mode" = 600 ] || fail "master.key mode is '$mode', want 600"
checks=$((checks + 1))
grep -q "back it up" "$log" || fail "no log line tells to back up the key file"

# --- submit ----------------------------------------------------------------
ids=()
for i in 0 1 2; do
	cli submit --siren "${sirens[$i]}" --legal-name "Maison $i" --legal-form ei --naf 47.91B \
		--employees 3 --turnover-eur 150000 --balance-eur 60000 --address "$i rue du Test" \
		--postal-code 75011 --city Paris --contact-name "${names[$i]}" --email "${emails[$i]}" \
		--phone "${phones[$i]}" --channel both --accept-terms
	expect_rc 0 "submit $i"
	ids+=("$(grep -oE '[0-9A-Z]{26}' "$dir/out" | head -1)")
done
cli --json get "${ids[1]}"
expect_rc 0 "get decrypts"
expect_eq "$(json 'j["contact"]["email"]')" "${emails[1]}" "the e-mail reads back as typed"
expect_eq "$(json 'j["contact"]["phone"]')" "${e164[1]}" "the phone reads back in E.164"
absent "after the submissions"

# --- notes and reasons people type -----------------------------------------
# A reviewer's note and a seller's withdrawal reason naming the contacts: kept,
# shown in clear to those who may read them, never on disk in clear.
cli review "${ids[0]}" start --note "called ${names[0]} on ${phones[0]}"
expect_rc 0 "review with a note"
cli review "${ids[1]}" start --note "wrote to ${emails[1]}, then called ${e164[1]}"
expect_rc 0 "another review with a note"
cli withdraw "${ids[1]}" --reason "${names[1]} (${phones[1]}) is closing the shop"
expect_rc 0 "withdraw with a reason"
cli --json get "${ids[1]}"
expect_eq "$(json 'j["history"][-2]["reason"]')" "start: wrote to ${emails[1]}, then called ${e164[1]}" \
	"the review note reads back"
# The local administrator is staff: it withdraws on the company's request.
expect_eq "$(json 'j["history"][-1]["reason"]')" \
	"withdrawn on the company's request: ${names[1]} (${phones[1]}) is closing the shop" \
	"the withdrawal reason reads back"
absent "after the notes and reasons"

# --- export ----------------------------------------------------------------
cli admin export-contact --email "  zoe.CONFIDENTIELLE@EXEMPLE.fr "
expect_rc 0 "export-contact by e-mail"
expect_eq "$(json 'len(j["applications"])')" 2 "both applications of the contact, any case"
expect_eq "$(json 'j["applications"][0]["id"]')" "${ids[0]}" "in submission order"
expect_eq "$(json 'j["applications"][1]["contact"]["email"]')" "${emails[2]}" "with the contact"
expect_eq "$(json 'len(j["applications"][0]["history"])')" 2 "with the history"
cli admin export-contact "${ids[1]}"
expect_rc 0 "export-contact by id"
expect_eq "$(json 'j["applications"][0]["contact"]["name"]')" "${names[1]}" "by id, decrypted"
cli admin export-contact
expect_rc 2 "export-contact without ID or --email is a usage error"

# --- erase -----------------------------------------------------------------
cli admin erase "${ids[0]}" --reason "ticket 2020-17"
expect_rc 0 "erase"
expect_out "personal data erased" "erase says so"
cli --json get "${ids[0]}"
expect_rc 0 "an erased application is still there"
expect_eq "$(json 'j.get("contactErased")')" True "marked erased"
expect_eq "$(json 'j.get("contact", {}).get("email", "")')" "" "its e-mail is gone"
expect_eq "$(json 'j["state"]')" APPLICATION_STATE_UNDER_REVIEW "its state stays"
expect_eq "$(json 'j["history"][-1]["reason"]')" "personal data erased: ticket 2020-17" \
	"the history says why"
expect_eq "$(json 'j["history"][1]["reason"]')" "start: [erased]" "the review note went with it"
cli admin erase "${ids[0]}"
expect_rc 0 "erasing again changes nothing and succeeds"
cli admin erase 01ARZ3NDEKTSV4RRFFQ69G5FAV
expect_rc 69 "erasing an unknown application is NOT_FOUND"
cli admin export-contact --email "${emails[0]}"
expect_rc 0 "export-contact after erasure"
expect_eq "$(json 'len(j.get("applications", []))')" 1 "the erased one is not found by e-mail"
cli --json cohort
expect_eq "$(json 'j["applications"]')" 3 "the statistics keep the erased application"
absent "after the erasure"

# --- rotate ----------------------------------------------------------------
cli admin rotate-keys
expect_rc 0 "rotate-keys"
expect_out "2 data keys re-wrapped" "the two live data keys are re-wrapped"
checks=$((checks + 1))
[ "$(grep -cvE '^(#|index |$)' "$dir/master.key")" -eq 2 ] ||
	fail "the key file does not hold two master keys"
cli --json get "${ids[2]}"
expect_eq "$(json 'j["contact"]["name"]')" "${names[2]}" "readable after the rotation"
onboardd_stop
start
cli --json get "${ids[2]}"
expect_rc 0 "get after a restart"
expect_eq "$(json 'j["contact"]["name"]')" "${names[2]}" "readable after a restart"
absent "after the rotation and a restart"

# --- audit -----------------------------------------------------------------
cli admin audit --all
expect_rc 0 "audit"
expect_out "contact\.erase +[^ ]+ +[^ ]+ +application ${ids[0]}: erased" "the erasure is audited"
expect_out "contact\.export .*by e-mail: 2 applications" "the export is audited, without the e-mail"
expect_out "keys\.rotate .*active key" "the rotation is audited"
checks=$((checks + 1))
if grep -q -i -F -e "${emails[0]}" -e "${emails[1]}" -e "${names[0]}" "$dir/out"; then
	fail "the audit trail holds personal data"
fi

onboardd_stop
absent "at the end"
finish "privacy"

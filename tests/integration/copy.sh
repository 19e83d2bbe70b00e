#!/usr/bin/env bash
# copy.sh: `onboardd copy` moves a SQLite programme into PostgreSQL (issue 13, section 5).
# A programme is built through a real onboardd on SQLite (submissions into a cohort of four
# seats and its waitlist, reviews up to onboarding, a withdrawal that promotes the head of
# the waitlist and one from the waitlist, a rejection, an erased contact, webinar bookings,
# ad spend, an idempotency key); its answers are written down; the file is copied into a
# PostgreSQL database; an onboardd on the copy, with the SQLite programme's key file, gives
# the same answers byte for byte (get, list, the cohort's standing, the export, contacts
# readable, the erased one still erased, the audit trail), replays the idempotency key with
# the original reply, and numbers a new application after the copied ones. The refusals: a
# file an onboardd serves, a target that holds a programme (unless --replace), usage errors;
# and `onboard admin backup` on PostgreSQL, FAILED_PRECONDITION naming pg_dump.
#
# Needs ONBOARDD and ONBOARD_CLI (meson test sets them), and PGHOST/PGPORT/PGUSER with psql
# and createdb (tools/pgcluster.sh sets them), and sqlite3 for the source's row counts.
set -uo pipefail

: "${ONBOARDD:?path of onboardd}" "${PGHOST:?run under tools/pgcluster.sh}" "${PGPORT:?}"

. "$(dirname "$0")/lib.sh"
lib_init ob-copy
lib_pg_database ob_copy
db=$dir/sq/onboard.db

# expect_same NAME FILE1 FILE2: the two files are the same, byte for byte.
expect_same() {
	checks=$((checks + 1))
	if cmp -s "$2" "$3"; then
		echo "ok: $1"
	else
		fail "$1: they differ"
		diff "$2" "$3" | cut -c1-200 | head -10 >&2
	fi
}

# keyed_submit: the same submission with the same idempotency key, on the server at $url.
keyed_submit() {
	cli -H idempotency-key=copy-key-1 submit --siren 732829320 --legal-name "Boulangerie Martin" \
		--legal-form ei --naf 10.71C --employees 4 --turnover-eur 350000 --balance-eur 120000 \
		--address "12 rue de la Paix" --postal-code 75002 --city Paris \
		--contact-name "Claire Martin" --email claire@example.fr --phone "01 23 45 67 89" \
		--channel marketplace --category bakery --accept-terms --cohort copy-1
}

# The SQLite side stays SQLite although the script runs under tools/pgcluster.sh (lib.sh).
LIB_KEEP_SQLITE=1

# ---- a programme on SQLite ------------------------------------------------------------------
onboardd_start "ipc://$dir/sq.sock" --db "$db"
url="ipc://$dir/sq.sock"
cli cohort --create --id copy-1 --name "Copied cohort" --capacity 4
expect_rc 0 "a cohort of four seats"
head -13 "$(dirname "$0")/../../deploy/sample/companies.csv" >"$dir/twelve.csv"
cli import "$dir/twelve.csv" --cohort copy-1 --quiet
expect_rc 0 "twelve companies: four seats, eight waitlisted"
cli list --cohort copy-1 --json
read -ra ids <<<"$(json '" ".join(a["id"] for a in j["applications"])')"
[ ${#ids[@]} -eq 12 ] || die "expected 12 applications, got ${#ids[@]}"
cli review "${ids[0]}" start
cli review "${ids[0]}" approve --note "dossier complet, appelé le 06 12 34 56 78"
expect_rc 0 "an approval: benefits, an advisor, a webinar"
cli review "${ids[0]}" onboard
cli adspend "${ids[0]}" --amount 12.50 --reference camp-1
expect_rc 0 "ad credit spent"
cli webinar book "${ids[1]}" --topic marketplace
expect_rc 0 "a webinar booked"
cli withdraw "${ids[2]}" --reason "changed its mind"
expect_rc 0 "a seat freed: the head of the waitlist promoted"
cli withdraw "${ids[8]}" --reason "found another marketplace"
expect_rc 0 "a withdrawal from the middle of the waitlist"
cli review "${ids[3]}" reject --reason ineligible
cli review "${ids[4]}" start --note "rappeler Manon au 06 11 22 33 44"
cli admin erase "${ids[4]}" --reason "ticket 2020-17"
expect_rc 0 "a contact erased"
keyed_submit
expect_rc 0 "a submission with an idempotency key"
cp "$dir/out" "$dir/keyed.first"

# answers DIR: what the server at $url says about the programme, one file per question.
answers() {
	mkdir -p "$1"
	local id
	for id in "${ids[@]}"; do
		"$ONBOARD_CLI" -s "$url" get "$id" --json >"$1/get-$id" 2>&1
		# The export says when it was made: the one line that must differ.
		"$ONBOARD_CLI" -s "$url" admin export-contact "$id" 2>&1 |
			grep -v '"exportedAt"' >"$1/contact-$id"
	done
	"$ONBOARD_CLI" -s "$url" list --cohort copy-1 --json >"$1/list" 2>&1
	"$ONBOARD_CLI" -s "$url" cohort copy-1 --json >"$1/cohort" 2>&1
	"$ONBOARD_CLI" -s "$url" cohort --json >"$1/cohort-default" 2>&1
	"$ONBOARD_CLI" -s "$url" cohort --list --json >"$1/cohorts" 2>&1
	"$ONBOARD_CLI" -s "$url" export --cohort copy-1 >"$1/export.csv" 2>&1
	"$ONBOARD_CLI" -s "$url" advisor list --cohort copy-1 --json >"$1/advisors" 2>&1
	"$ONBOARD_CLI" -s "$url" webinar sessions --from 2020-11-16 --to 2020-11-20 \
		--cohort copy-1 --json >"$1/sessions" 2>&1
}
answers "$dir/before"
expect "the contact is readable on SQLite" "claire@example.fr" "$(cat "$dir"/before/contact-* "$dir/before/list")"
expect "the erased contact reads as erased" "erased" "$(cat "$dir/before/contact-${ids[4]}")"

"$ONBOARD_CLI" -s "$url" admin audit --all --json >"$dir/audit.sqlite" 2>&1
run_says "no copy of a file onboardd serves" 1 "in use by another onboardd" \
	"$ONBOARDD" copy --from "$db" --to "$pgurl"
expect_clean_stop

# ---- the copy -------------------------------------------------------------------------------
run "copy the SQLite programme into PostgreSQL" 0 "$ONBOARDD" copy --from "$db" --to "$pgurl"
cp "$dir/out" "$dir/copy.out"
expect "the copy says it was one transaction" "in one transaction" "$out"
checks=$((checks + 1))
if grep -q "s3cret-word" "$dir/out" "$dir/err"; then
	fail "the URL's password reached the output"
else
	echo "ok: the URL is not printed"
fi
tables=$(sqlite3 "$db" "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
for t in $tables; do
	want=$(sqlite3 "$db" "SELECT count(*) FROM \"$t\"")
	expect_eq "$(psql -d "$name" -Atc "SELECT count(*) FROM \"$t\"")" "$want" "rows of $t in PostgreSQL"
	expect "the report counts $t" "$(printf '  %-18s %10s rows' "$t" "$want")" "$(cat "$dir/copy.out")"
done
kid=$(sqlite3 "$db" "SELECT dk_kid FROM contact WHERE dk_kid IS NOT NULL LIMIT 1")
expect "the report names the master key" "sealed contacts under master key $kid" "$(cat "$dir/copy.out")"
sealed="dk_wrapped name email phone email_index"
psql -d "$name" -Atc "SELECT app_seq, coalesce(dk_kid, '-'), $(for c in $sealed; do printf "coalesce(encode(%s, 'hex'), '-'), " "$c"; done) erased_at FROM contact ORDER BY app_seq" >"$dir/sealed.pg"
sqlite3 -separator '|' "$db" "SELECT app_seq, coalesce(dk_kid, '-'), $(for c in $sealed; do printf "iif(%s IS NULL, '-', lower(hex(%s))), " "$c" "$c"; done) erased_at FROM contact ORDER BY app_seq" >"$dir/sealed.sqlite"
expect_same "the sealed bytes and wrapped keys are the SQLite file's, byte for byte" \
	"$dir/sealed.sqlite" "$dir/sealed.pg"
erased_notes=$(sqlite3 "$db" "SELECT count(*) FROM history WHERE note IS NOT NULL AND length(note) = 0")
checks=$((checks + 1))
[ "$erased_notes" -gt 0 ] || fail "the programme has no erased note to copy"
expect_eq "$(psql -d "$name" -Atc "SELECT count(*) FROM history WHERE note IS NOT NULL AND length(note) = 0")" \
	"$erased_notes" \
	"erased notes stay empty blobs, not NULL"
expect_pg_sealed "claire@example.fr\\|Claire Martin"

# ---- the same answers from PostgreSQL -------------------------------------------------------
log=$dir/pg.log onboardd_start "ipc://$dir/pg.sock" --db "$pgurl" --master-key "$dir/sq/master.key"
url="ipc://$dir/pg.sock"
"$ONBOARD_CLI" -s "$url" admin audit --all --json >"$dir/audit.pg" 2>&1
expect_same "the same audit trail from PostgreSQL" "$dir/audit.sqlite" "$dir/audit.pg"
answers "$dir/after"
for f in "$dir"/before/*; do
	expect_same "the same answer from PostgreSQL: ${f##*/}" "$f" "$dir/after/${f##*/}"
done
keyed_submit
expect_rc 0 "the idempotency key replayed on PostgreSQL"
expect_eq "$(cat "$dir/out")" "$(cat "$dir/keyed.first")" "the replay is the original reply"
maxseq=$(sqlite3 "$db" "SELECT max(seq) FROM application")
sed -n '1p;14p' "$(dirname "$0")/../../deploy/sample/companies.csv" >"$dir/newcomer.csv"
newcomer=$(sed -n '2s/,.*//p' "$dir/newcomer.csv")
cli import "$dir/newcomer.csv" --cohort copy-1
expect_rc 0 "a new submission on the copy"
expect_out "WAITLISTED" "the copied cohort is full: the newcomer waits"
expect_eq "$(psql -d "$name" -Atc "SELECT seq FROM application WHERE siren = '$newcomer'")" \
	"$((maxseq + 1))" "the new application is numbered after the copied ones"
# Backups of a PostgreSQL programme are PostgreSQL's: the call says so, and writes nothing.
mkdir -m 700 "$dir/backups"
cli admin backup "$dir/backups/pg.db"
expect_rc 73 "admin backup on PostgreSQL: FAILED_PRECONDITION"
expect_err "pg_dump" "the refusal names PostgreSQL's own tools"
expect_err "master key file" "and reminds of the master key file"
expect_eq "$(ls -A "$dir/backups")" "" "no file was written"
expect_clean_stop

# ---- a target that holds a programme --------------------------------------------------------
run_says "a target that holds a programme is refused" 1 "already holds a programme" \
	"$ONBOARDD" copy --from "$db" --to "$pgurl"
expect_eq "$(psql -d "$name" -Atc "SELECT count(*) FROM application")" "$((maxseq + 1))" \
	"the refused copy changed nothing"
run "--replace copies over it" 0 "$ONBOARDD" copy --from "$db" --to "$pgurl" --replace &&
	expect "the report says it replaced" "replacing what it held" "$out"
expect_eq "$(psql -d "$name" -Atc "SELECT count(*) FROM application WHERE siren = '$newcomer'")" \
	"0" "what the target held is gone"
expect_eq "$(psql -d "$name" -Atc "SELECT count(*) FROM application")" \
	"$(sqlite3 "$db" "SELECT count(*) FROM application")" "the programme is the SQLite file's again"

# ---- usage ----------------------------------------------------------------------------------
run_says "no --to" 2 "--to URL" "$ONBOARDD" copy --from "$db"
run_says "a target that is not PostgreSQL" 2 "postgresql://" "$ONBOARDD" copy --from "$db" \
	--to "$dir/other.db"
run_says "no such SQLite file" 1 "no SQLite database" "$ONBOARDD" copy \
	--from "$dir/none.db" --to "$pgurl"
run "copy --help" 0 "$ONBOARDD" copy --help && expect "the help names --replace" "--replace" "$out"

dropdb "$name" || true
finish "copy"

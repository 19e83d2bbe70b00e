#!/usr/bin/env bash
# The programme's rules of issue 10 through a real onboardd and the CLI: a company applies
# again after a rejection or a withdrawal; a waitlisted application is rejected in line; a
# reviewer withdraws on a company's request, with a reason; the figures and the legal form;
# the submission and approval windows (onboardd restarted on other dates with --now); each
# benefit once per company across two cohorts; excluded NAF divisions; the webinar's lead
# time; webinars booked, moved and cancelled; advisors added, assigned and reassigned; the standing over live applications and onboarded sellers; a cohort's dates refused
# or derived; the terms' version.
#
# Environment: ONBOARDD and ONBOARD_CLI (meson test sets them). Needs python3.
set -u

. "$(dirname "$0")/lib.sh"
lib_init_ipc onboard-rules

# A reviewer's key in the server's keyring; the local administrator needs none.
"$ONBOARD_CLI" keygen --out "$dir/reviewer.key" --role reviewer --label "rules test" >"$dir/out" ||
	die "keygen failed"
sed -n '/^keyring line:$/{n;p}' "$dir/out" >"$dir/keyring"
[ -s "$dir/keyring" ] || die "keygen printed no keyring line"

# serve [NOW]: onboardd on the same database, its clock at NOW (default: lib.sh's, in the
# lockdown); stops the one running first.
serve() {
	onboardd_stop
	onboardd_start "$url" --db "$dir/db.sqlite" --no-access-log --keyring "$dir/keyring" \
		${1:+--now "$1"}
}
serve

# company SIREN [FLAGS...]: the flags of a valid TPE of Paris, an EI, then FLAGS.
company() {
	local siren=$1
	shift
	args=(--siren "$siren" --legal-name "Atelier $siren" --legal-form ei --naf 47.91B
		--employees 2 --turnover-eur 90000 --balance-eur 40000 --address "5 rue du Port"
		--postal-code 75011 --city Paris --contact-name "Lou Martin" --email lou@example.fr
		--phone "01 99 00 12 34" --channel marketplace --accept-terms "$@")
}
# submit SIREN [FLAGS...]: submits it; $app gets the id.
submit() {
	company "$@"
	cli submit "${args[@]}"
	app=$(grep -oE '[0-9A-Z]{26}' "$dir/out" | head -1)
}
# violations: the fields of the JSON error on stderr, space-separated.
violations() {
	python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
print(" ".join(v["field"] for v in j.get("field_violations", [])))' "$dir/err" 2>/dev/null
}
jsonf() { python3 -c 'import json, sys; print(eval(sys.argv[2], {"j": json.load(open(sys.argv[1]))}))' "$dir/out" "$1" 2>/dev/null; }

cli health
expect_rc 0 "the server serves"
[ "$rc" -eq 0 ] || { cat "$log"; exit 1; }

# --- a rejected or withdrawn application does not block a new one -----------------
submit 732829320
expect_rc 0 "a first application"
first=$app
cli review "$first" reject --reason ineligible
expect_rc 0 "rejected"
submit 732829320
expect_rc 0 "the same company applies again after the rejection"
second=$app
[ "$second" != "$first" ] || fail_last "the new application has the old one's id"
submit 732829320
expect_rc 70 "while that one is live, not a third"
expect_err "$second" "the refusal names the live application"
cli withdraw "$second" --reason "the company asked by e-mail"
expect_rc 0 "withdrawn"
submit 732829320
expect_rc 0 "and again after the withdrawal"
third=$app
cli get --siren 732829320
expect_out "^Application +$third" "get --siren finds the live one"
cli --json get "$first"
expect_eq "$(jsonf 'j["state"]')" APPLICATION_STATE_REJECTED "the first stays, rejected"
expect_eq "$(jsonf 'len(j["history"])')" 2 "with its history"
cli --json get "$second"
expect_eq "$(jsonf 'j["history"][-1]["reason"]')" \
	"withdrawn on the company's request: the company asked by e-mail" "the second stays too"

# --- a waitlisted application rejected; a reviewer withdraws with a reason -----------
cli cohort --create --id tiny --name "Tiny" --capacity 1
expect_rc 0 "a cohort of one seat"
submit 443061841 --cohort tiny
holder=$app
submit 552100554 --cohort tiny
expect_out "WAITLISTED, waitlist position 1" "the second waits"
waiting=$app
submit 625308291 --cohort tiny
expect_out "waitlist position 2" "the third waits behind it"
third_in_line=$app
cli review "$waiting" reject --reason fraud --note "forged Kbis"
expect_rc 0 "a reviewer rejects a waitlisted application"
expect_out "REJECTED, no seat" "rejected without taking the seat"
cli get "$third_in_line"
expect_out "waitlist position 1" "the next one moves up"
cli cohort tiny
expect_out "^Seats +1 / 1 held" "the seat holder keeps it"
expect_out "^Waitlist +1$" "one left in line"

rev=(--key "$dir/reviewer.key")
cli "${rev[@]}" withdraw "$third_in_line"
expect_rc 67 "a reviewer withdraws only with a reason"
cli "${rev[@]}" --json withdraw "$third_in_line"
expect_eq "$(violations)" reason "the violation names the reason"
cli "${rev[@]}" withdraw "$third_in_line" --reason "called: no longer interested"
expect_rc 0 "a reviewer withdraws on the company's request"
cli --json get "$third_in_line"
expect_eq "$(jsonf 'j["history"][-1]["reason"]')" \
	"withdrawn on the company's request: called: no longer interested" "recorded as such"
expect_eq "$(jsonf 'j["history"][-1]["actor"] != "local"')" True "under the reviewer's key"
cli "${rev[@]}" submit "${args[@]}"
expect_rc 71 "a reviewer still does not submit"

# --- the figures and the legal form ------------------------------------------------
cli --json submit --siren 289906083 --legal-name "Sans Chiffres" --naf 47.91B \
	--address "1 rue" --postal-code 75011 --city Paris --contact-name "A B" \
	--email a.b@example.fr --phone "01 99 00 12 35" --channel both --accept-terms
expect_rc 67 "without legal form nor figures"
expect_eq "$(violations)" \
	"company.legal_form company.employees company.turnover_eur company.balance_sheet_eur" \
	"each is named"
submit 708101118 --legal-form sarl
expect_rc 67 "a SARL without its VAT number"
expect_err "vat_number: is required for a SARL" "the VAT number is required of it"
cli submit --siren 708101118 --legal-name "Atelier 708101118" --legal-form micro --naf 47.91B \
	--employees 0 --turnover-eur 35000 --address "5 rue du Port" --postal-code 75011 \
	--city Paris --contact-name "Lou Martin" --email lou@example.fr --phone "01 99 00 12 34" \
	--channel marketplace --accept-terms
expect_rc 0 "a micro-entrepreneur without a balance sheet"
cli get --siren 708101118
expect_out "^Company +Atelier 708101118, MICRO_ENTREPRENEUR" "get shows the legal form"
expect_out "^Size +TPE: .*no balance sheet" "and that there is no balance sheet"
cli export
expect_eq "$(python3 -c 'import csv, sys
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8")):
    if r["siren"] == "708101118":
        print(repr((r["legal_form"], r["employees"], r["balance_eur"])))' "$dir/out")" \
	"('micro', '0', '')" "export writes the form, a 0 given and a figure not given"
submit 261352413 --employees 0 --turnover-eur 0 --balance-eur 0
expect_rc 0 "0, 0 and 0 given are figures"

# --- excluded NAF divisions ------------------------------------------------------
submit 919559914 --naf 84.11Z
expect_rc 73 "the default cohort does not take public administration"
expect_err "NAF division 84" "the refusal names the division"
cli cohort --create --id bad-naf --name "Bad" --exclude-naf 4
expect_rc 67 "a division NAF does not have"
expect_err "excluded_naf_divisions: 04 is not a division" "is refused"
cli cohort --create --id bad-naf --name "Bad" --exclude-naf 100
expect_rc 2 "a number that is no division is refused before sending"

# --- a cohort's dates: refused when they contradict, derived when not set ----------
cli --json cohort --create --id backwards --name "Backwards" --lockdown-start 2021-04-03 \
	--lockdown-end 2021-03-01 --fee-waiver-until 2021-02-01
expect_rc 67 "a lockdown that ends before it starts, a waiver that ends before both"
expect_eq "$(violations)" "cohort.lockdown_end cohort.fee_waiver_until" "both are named"
cli --json cohort --create --id 2021-04 --name "April 2021" --lockdown-start 2021-04-03 \
	--lockdown-end 2021-05-31
expect_rc 0 "a cohort given its lockdown only"
expect_eq "$(jsonf 'j["feeWaiverUntil"]')" 2021-08-31 "the waiver ends three months after"
expect_eq "$(jsonf '(j["windowOpens"], j["windowCloses"])')" \
	"('2021-04-02T22:00:00.000Z', '2021-05-31T22:00:00.000Z')" "submissions during the lockdown"
expect_eq "$(jsonf 'j["approvalCloses"]')" 2021-08-31T22:00:00.000Z "approvals to the waiver's end"
expect_eq "$(jsonf '(j["webinarLeadMinutes"], j["milestoneDate"], j["termsVersion"])')" \
	"(120, '2021-05-31', '2021-04-03')" "the lead time, the milestone, the terms"
cli cohort
expect_out "^Windows +submissions 2020-10-29 23:00 UTC to 2020-12-15 23:00 UTC" \
	"cohort shows the submission window"
expect_out "approvals +2020-10-29 23:00 UTC to 2021-03-15 23:00 UTC" "and the approval window"
expect_out "^Webinar +10:00 Paris, 100 seats, at least 120 min after approval, business days" \
	"the webinar's lead time and days"
expect_out "^Milestone +live before 2020-12-04; terms version 2020-10-30" "milestone and terms"
expect_out "^Excluded NAF +84 \(divisions\)" "the excluded divisions"

# --- the terms ---------------------------------------------------------------------
submit 123456782 --terms-version 2019-01-01
expect_rc 67 "another version than the cohort's"
expect_err "terms_version: cohort 2020-11 presents version 2020-10-30" "names the cohort's"
submit 123456782 --terms-accepted-at 2020-11-10T09:15:00Z
expect_rc 0 "accepted a few days before"
cli get "$app"
expect_out "^Terms +version 2020-10-30, accepted 2020-11-10 09:15 UTC" "get shows them"
printf 'siren,legal_name,legal_form,naf,employees,turnover_eur,balance_eur,address,postal_code,city,contact_name,email,phone,channel,terms_accepted_at\n' >"$dir/terms.csv"
printf '412345670,Import Terms,ei,47.91B,1,10000,5000,1 rue,75011,Paris,C D,c.d@example.fr,01 99 00 12 36,both,2020-11-02\n' >>"$dir/terms.csv"
cli import "$dir/terms.csv" --terms-version 2020-10-29
expect_rc 67 "an import of companies that accepted another version"
cli import "$dir/terms.csv" --terms-version 2020-10-30
expect_rc 0 "an import says which version its companies accepted"
cli --json get --siren 412345670
expect_eq "$(jsonf '(j["termsVersion"], j["termsAcceptedAt"])')" \
	"('2020-10-30', '2020-11-02T00:00:00.000Z')" "recorded on the application"

# --- each benefit once per company, across cohorts -----------------------------------
cli cohort --create --id 2021-01 --name "January 2021" --lockdown-start 2020-11-01 \
	--lockdown-end 2021-01-20 --ad-credit 300
expect_rc 0 "a second cohort, 300 EUR of ad credit"
submit 552100554
cli review "$app" start
cli review "$app" approve
expect_rc 0 "approved in 2020-11"
expect_out "ad credit 200\.00 EUR" "with 200 EUR of ad credit"
submit 552100554 --cohort 2021-01
cli review "$app" start
cli --json review "$app" approve
expect_rc 0 "the same company approved in 2021-01"
expect_eq "$(jsonf 'j["benefits"]["adCreditCents"]')" 10000 "only what is left of the credit"
expect_eq "$(jsonf '(j["benefits"].get("webinarAt"), j["benefits"].get("advisor"))')" \
	"(None, None)" "no second webinar seat nor advisor"
expect_eq "$(jsonf 'j["benefits"]["feeWaiverFrom"]')" 2021-03-16 \
	"the waiver after the months already waived"
expect_eq "$(jsonf '"each benefit once per company" in j["benefits"]["note"] and "cohort 2020-11" in j["benefits"]["note"]')" \
	True "and it says so"

# --- the standing over live applications and onboarded sellers ---------------------
cli cohort --create --id stats --name "Statistics" --capacity 10
submit 842316903 --cohort stats --export
a1=$app
submit 306174533 --cohort stats
a2=$app
submit 519004121 --cohort stats --export
a3=$app
for id in "$a1" "$a2"; do
	cli review "$id" start
	cli review "$id" approve
	cli review "$id" onboard
	expect_rc 0 "onboarded"
done
cli review "$a3" reject --reason incomplete
cli --json --emit-defaults cohort stats
expect_eq "$(jsonf '(j["applications"], j["liveApplications"], j["exporters"])')" "(3, 2, 1)" \
	"the rejected one counts no more"
expect_eq "$(jsonf '(j["onboarded"], j["onboardedExporters"], j["exportShare"])')" "(2, 1, 0.5)" \
	"the export share is the onboarded sellers'"
expect_eq "$(jsonf 'j["liveBeforeMilestone"]')" 2 "both went live before 4 December"
expect_eq "$(jsonf 'sum(c["count"] for c in j["bySize"])')" 2 "by size: the live ones"
cli cohort stats
expect_out "^Onboarded +2 sellers live, of which 1 export: 50\.0% \(target 70%\)" \
	"cohort shows the share against the target"

# --- ad credit spent: by the ads service, once, within what is left and not expired ---
"$ONBOARD_CLI" keygen --out "$dir/ads.key" --role ads --label "ads service" >"$dir/out" ||
	die "keygen failed"
sed -n '/^keyring line:$/{n;p}' "$dir/out" >>"$dir/keyring"
serve
ads=(--key "$dir/ads.key")
cli cohort --create --id spend --name "Spending" --capacity 10
submit 261973069 --cohort spend --postal-code 29200 --city Brest --naf 10.71C
spent=$app
cli review "$spent" start
cli --json review "$spent" approve
expect_eq "$(jsonf '(j["benefits"]["adCreditLeftCents"], j["benefits"]["adCreditExpires"])')" \
	"('20000', '2021-03-15')" "the credit left and its last day, the waiver's"
cli "${ads[@]}" -H idempotency-key=spend-1 adspend "$spent" --amount 50 --reference cmp:42
expect_rc 0 "the ads service records 50 EUR spent"
expect_out "ad credit 200\.00 EUR \(50\.00 EUR used, 150\.00 EUR left until 2021-03-15\)" \
	"get shows what is left and until when"
cli "${ads[@]}" -H idempotency-key=spend-1 --json adspend "$spent" --amount 50 --reference cmp:42
expect_eq "$(jsonf 'j["benefits"]["adCreditUsedCents"]')" 5000 "a resent record spends nothing more"
cli "${ads[@]}" adspend "$spent" --amount 150.01
expect_rc 73 "not more than the credit left"
expect_err "more than the 150\.00 EUR of ad credit" "the refusal says what is left"
cli "${ads[@]}" --json call /onboard.v1.Onboarding/RecordAdSpend \
	"{\"id\": \"$spent\", \"amountCents\": \"-5\", \"reference\": \"a b\"}"
expect_rc 67 "a negative amount and a reference with a space"
expect_eq "$(violations)" "amount_cents reference" "each is named"
cli "${rev[@]}" adspend "$spent" --amount 1
expect_rc 71 "a reviewer does not record spending"
cli "${ads[@]}" get "$spent"
expect_rc 71 "the ads service reads no application"
cli --json get "$spent"
expect_eq "$(jsonf 'j["history"][-1]["reason"]')" "ad credit spent: 50.00 EUR: cmp:42" \
	"the history records the spending and its reference"
cli withdraw "$spent" --reason "closing the shop"
cli --json get "$spent"
expect_eq "$(jsonf '(j["benefits"]["adCreditCents"], j["benefits"]["adCreditUsedCents"], j["benefits"].get("adCreditLeftCents"))')" \
	"('5000', '5000', None)" "withdrawn, it shows the 50 EUR it spent, and nothing left"
cli "${ads[@]}" adspend "$spent" --amount 1
expect_rc 73 "nothing is spent after a withdrawal"
expect_err "revoked" "the refusal says why"
submit 140260662 --cohort spend --export --postal-code 29200 --city Brest --naf 10.71C
cli review "$app" start
cli review "$app" approve
cli review "$app" onboard
cli "${ads[@]}" adspend "$app" --amount 20
app_onboarded=$app
submit 175006691 --cohort spend --naf 62.01Z
cli --json --emit-defaults cohort spend
expect_eq "$(jsonf 'j["benefits"]')" \
	"{'granted': 2, 'feeWaivedCents': '19500', 'adCreditGrantedCents': '25000', 'adCreditUsedCents': '7000'}" \
	"the cohort's totals: fees waived, credit granted (less what a withdrawal took back) and spent"
expect_eq "$(jsonf 'sorted((c["key"], c["count"]) for c in j["byDepartement"])')" \
	"[('29', 1), ('75', 1)]" "by département: the live ones"
expect_eq "$(jsonf 'sorted((c["key"], c["count"]) for c in j["byNafSection"])')" \
	"[('C', 1), ('J', 1)]" "by NAF section"
expect_eq "$(jsonf 'sorted((c["key"], c["count"]) for c in j["byRegionState"])')" \
	"[('Bretagne/ONBOARDED', 1), ('Bretagne/WITHDRAWN', 1), ('Île-de-France/SUBMITTED', 1)]" \
	"by region and state: every application"
cli cohort spend
expect_out "^Benefits +2 granted: 195\.00 EUR of fees waived, 250\.00 EUR of ad credit, 70\.00 EUR spent" \
	"onboard cohort shows the totals"
expect_out "^NAF sections +C " "and the reports"
expect_out "^Region/state +Bretagne: ONBOARDED 1, WITHDRAWN 1" "state within each region"

# --- webinars as bookings: before approval, moved, cancelled, kept by the approval ---
# The clock: Monday 16 November 2020, 09:30 in Paris; the lead time makes Tuesday's the next.
submit 812345676
web=$app
cli webinar book "$web" --topic webshop
expect_rc 0 "an applicant's company books before approval"
expect_out "^webinar: 2020-11-17 09:00 UTC, webshop" "the reply shows the booking"
cli --json get "$web"
expect_eq "$(jsonf '(j["webinar"]["sessionAt"], j["webinar"]["topic"])')" \
	"('2020-11-17T09:00:00.000Z', 'WEBINAR_TOPIC_OWN_WEBSHOP')" "the next session past the lead time"
cli --json webinar sessions --from 2020-11-17 --to 2020-11-17 --topic webshop
expect_eq "$(jsonf '[(s["seats"], s["booked"], s["seatsLeft"]) for s in j["sessions"]]')" \
	"[(100, 1, 99)]" "its seat is counted, 99 left"
cli webinar book "$web" --topic marketplace --at 2020-11-18T10:00:00Z
expect_rc 67 "a time that is no session"
cli --json webinar book "$web" --topic marketplace --at 2020-11-18T10:00:00Z
expect_eq "$(violations)" "session_at" "the violation names session_at"
cli webinar book "$web" --topic marketplace --at 2020-11-21T09:00:00Z
expect_rc 67 "a Saturday has no session"
# booked DAY TOPIC: the seats booked in that session (other companies' too).
booked() {
	cli --json webinar sessions --from "$1" --to "$1" --topic "$2"
	jsonf 'j["sessions"][0].get("booked", 0)'
}
wed=$(booked 2020-11-18 marketplace)
cli webinar book "$web" --topic marketplace --at 2020-11-18T09:00:00Z
expect_rc 0 "moved to Wednesday's marketplace session"
expect_eq "$(booked 2020-11-17 webshop)" 0 "Tuesday's seat freed"
expect_eq "$(booked 2020-11-18 marketplace)" $((wed + 1)) "Wednesday's taken"
cli webinar attended "$web" "${rev[@]}"
expect_rc 73 "attendance before the session"
cli webinar cancel "$web"
expect_rc 0 "cancelled"
cli webinar cancel "$web"
expect_rc 73 "nothing left to cancel"
cli webinar book "$web" --topic marketplace --at 2020-11-19T09:00:00Z
thu=$(booked 2020-11-19 marketplace)
cli review "$web" start
cli --json review "$web" approve
expect_rc 0 "approved"
expect_eq "$(jsonf 'j["benefits"]["webinarAt"]')" 2020-11-19T09:00:00.000Z \
	"the approval keeps the session booked before it"
expect_eq "$(booked 2020-11-19 marketplace)" "$thu" "and takes no second seat"
cli get "$web"
expect_out "^Webinar +.*marketplace" "get shows the booking"

# --- advisors as people: added, assigned by region and load, listed, reassigned ------
cli --json advisor add --name "Jeanne Martin" --region "Île-de-France" --language fr \
	--language EN --capacity 2
expect_rc 0 "an administrator adds an advisor"
jeanne=$(jsonf 'j["number"]')
expect_eq "$(jsonf '(j["languages"], j["capacity"], j.get("active"))')" "(['fr', 'en'], 2, True)" \
	"the advisor as stored"
cli --json advisor add --name "Paul Le Goff" --region Bretagne --language br --language fr
paul=$(jsonf 'j["number"]')
expect_eq "$((paul - jeanne))" 1 "numbers follow each other"
cli --json advisor add --name "Jo" --region Bretagn --language xx --capacity 3
expect_rc 67 "an unknown region and language"
expect_eq "$(violations)" "region languages" "the violations name them"
cli advisor add --name "Jo" --region any --language fr --capacity 1001
expect_rc 2 "a capacity over 1000 is a usage error"
cli "${rev[@]}" advisor add --name "Jo" --region any --language fr
expect_rc 71 "reviewers do not add advisors"
submit 523456788
adv_app=$app
cli review "$adv_app" start
cli --json review "$adv_app" approve
expect_eq "$(jsonf '(j["benefits"]["advisor"], j["benefits"]["advisorName"])')" \
	"($jeanne, 'Jeanne Martin')" "the approval assigns the Paris company its region's advisor"
expect_eq "$(jsonf '"advisor assigned: #'"$jeanne"' Jeanne Martin (Île-de-France)" in j["history"][-1]["reason"]')" \
	True "the history says which"
cli get "$adv_app"
expect_out "advisor #$jeanne Jeanne Martin" "get shows the advisor's name"
# load NUMBER: the advisor's load in the default cohort's list.
load() {
	cli --json advisor list
	jsonf '[a.get("load", 0) for a in j["advisors"] if a["number"] == '"$1"'][0]'
}
expect_eq "$(load "$jeanne")" 1 "the list shows the load"
cli "${rev[@]}" advisor reassign "$adv_app" --to "$paul" --note "closer to the workshop"
expect_rc 0 "a reviewer reassigns to a named advisor"
expect_out "^advisor: #$paul Paul Le Goff" "the reply names the new advisor"
expect_eq "$(load "$jeanne") $(load "$paul")" "0 1" "the loads moved"
cli --json get "$adv_app"
expect_eq "$(jsonf '[h["reason"] for h in j["history"] if "reassigned" in h["reason"]]')" \
	"['advisor reassigned: #$paul Paul Le Goff (Bretagne), was #$jeanne: closer to the workshop']" \
	"the history records it with the note"
cli advisor update "$jeanne" --inactive
expect_rc 0 "an advisor set inactive"
cli "${rev[@]}" advisor reassign "$adv_app" --to "$jeanne"
expect_rc 73 "not to an inactive advisor"
cli advisor update "$paul" --capacity 1
expect_rc 0 "a capacity down to the load"
cli advisor update "$paul" --capacity 1 --inactive --active
expect_rc 2 "--active and --inactive together"
cli --json advisor update 99999
expect_rc 2 "a number out of range is a usage error"
cli --json advisor reassign "$adv_app" --to 9999
expect_rc 67 "not to an advisor the cohort lacks"
expect_eq "$(violations)" "advisor" "the violation names the advisor"

# --- the windows, and the webinar's lead time: onboardd on other dates -------------
submit 130512890
expect_rc 0 "submitted in November"
late=$app
cli review "$late" start
submit 471258368
lead=$app
cli review "$lead" start
serve 2019-06-01T12:00:00Z
submit 634198253
expect_rc 73 "a submission in 2019"
expect_err "takes submissions from 2020-10-30 00:00 to 2020-12-16 00:00, Paris time" \
	"names the window"
serve 2021-04-10T12:00:00Z
submit 634198253
expect_rc 73 "a submission in April 2021"
cli review "$late" approve
expect_rc 73 "an approval in April 2021"
expect_err "approvals from 2020-10-30 00:00 to 2021-03-16 00:00, Paris time" \
	"names the approval window"
cli --json get "$late"
expect_eq "$(jsonf '(j["state"], j.get("benefits"))')" "('APPLICATION_STATE_UNDER_REVIEW', None)" \
	"nothing granted"
cli "${ads[@]}" adspend "$app_onboarded" --amount 1
expect_rc 73 "the credit expired with the waiver"
expect_err "expired at the end of 2021-03-15" "the refusal names its last day"
# Monday 23 November, 09:59:57 in Paris: not the session three seconds later.
serve 2020-11-23T08:59:57Z
cli --json review "$lead" approve
expect_rc 0 "approved just before 10:00"
expect_eq "$(jsonf 'j["benefits"]["webinarAt"]')" 2020-11-24T09:00:00.000Z \
	"the webinar is the next business day's, past the lead time"

expect_clean_stop
finish "rules"

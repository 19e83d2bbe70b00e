#!/usr/bin/env bash
# The onboard CLI's programme commands (submit, get, list, review, withdraw,
# cohort, import, export) against a real onboardd with its own database in a
# private temporary directory: outputs, exit codes, and that importing the
# same file twice creates nothing twice.
#
# Environment: ONBOARDD and ONBOARD_CLI, the paths of the binaries; SAMPLE,
# the CSV to import (default: deploy/sample/companies.csv of this tree).
# Needs python3 (to read JSON and CSV).
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
sample=${SAMPLE:-$root/deploy/sample/companies.csv}

. "$(dirname "$0")/lib.sh"
lib_init_ipc onboard-cli-apps
onboardd_start "$url" --db "$dir/db.sqlite" --no-access-log

cli health
expect_rc 0 "the server serves"
[ "$rc" -eq 0 ] || { cat "$log"; exit 1; }

# --- help ----------------------------------------------------------------
for cmd in submit get list review withdraw cohort import export; do
	cli "$cmd" --help
	expect_rc 0 "$cmd --help"
	expect_out "^Usage: onboard $cmd" "$cmd --help prints the usage"
done
cli list --bogus
expect_rc 2 "an unknown flag is a usage error"
expect_err "unknown option '--bogus'" "the usage error names the flag"

# --- submit ----------------------------------------------------------------
company=(--siren 123456782 --siret 12345678200010 --legal-name "Boulangerie Test SARL"
	--legal-form sarl --trade-name "Au Pain d'Essai" --naf 10.71C --vat FR11123456782 --employees 4
	--turnover-eur 180000 --balance-eur 90000 --address "12 rue des Lilas"
	--postal-code 75011 --city Paris --contact-name "Marie Essai"
	--email marie.essai@example.fr --phone "01 99 00 12 34" --channel marketplace
	--export --category food --category pastry)
cli submit "${company[@]}" --accept-terms
expect_rc 0 "submit with flags"
expect_out "^application [0-9A-Z]{26}: SUBMITTED, seat held" "submit prints the id, state and seat"
id=$(grep -oE '[0-9A-Z]{26}' "$dir/out" | head -1)

cli submit "${company[@]}" --accept-terms
expect_rc 70 "the same SIREN again is ALREADY_EXISTS"
expect_err "ALREADY_EXISTS" "the refusal is printed"

cli submit --siren 123456789 --legal-name "Mauvais SARL" --naf 47.91B --address "1 rue" \
	--postal-code 75011 --city Paris --contact-name "X Y" --email not-an-email \
	--phone "01 99 00 12 35" --channel both --accept-terms
expect_rc 67 "a bad SIREN and a bad e-mail are INVALID_ARGUMENT"
expect_err "^  company\.siren: " "the SIREN's violation is on its own line"
expect_err "^  contact\.email: " "the e-mail's violation is on its own line"

cli submit --siren 625308291 --legal-name "Sans Conditions SAS" --naf 47.91B \
	--address "2 rue" --postal-code 69003 --city Lyon --contact-name "A B" \
	--email a.b@example.fr --phone "04 65 71 00 01" --channel webshop
expect_rc 67 "without --accept-terms the server refuses"
expect_err "accepts_terms" "the terms are named"

cat >"$dir/app.json" <<'EOF'
{"company": {"siren": "625308291", "legalName": "Fichier JSON SAS", "nafCode": "47.91A",
  "legalForm": "LEGAL_FORM_SAS", "vatNumber": "FR78625308291",
  "employees": 12, "turnoverEur": "3000000", "balanceSheetEur": "1500000",
  "address": {"street": "3 place des Écoles", "postalCode": "20200", "city": "Bastia"}},
 "contact": {"name": "Jean Fichier", "email": "jean.fichier@example.com", "phone": "0696 12 34 56"},
 "channel": "CHANNEL_BOTH", "productCategories": ["home"]}
EOF
cli --json submit --file "$dir/app.json" --accept-terms
expect_rc 0 "submit --file"
expect_eq "$(json 'j["state"]')" APPLICATION_STATE_SUBMITTED "submit --json prints the Application"
expect_eq "$(json 'j["sizeCategory"]')" SIZE_CATEGORY_PME "the server sizes the company"
id2=$(json 'j["id"]')
cli submit --file "$dir/app.json" --siren 123456782
expect_rc 2 "--file with field flags is a usage error"

# --- get and list --------------------------------------------------------
cli get "$id"
expect_rc 0 "get by id"
expect_out "^Application +$id" "get shows the id"
expect_out "SIREN 123456782" "get shows the SIREN"
expect_out "^Size +TPE" "get shows the size"
expect_out "^Region +.*de-France \(departement 75\)" "get shows the region"
expect_out "^State +SUBMITTED \(seat held\)" "get shows the state"
expect_out "^History .*-> SUBMITTED" "get shows the history"
cli get --siren 625308291
expect_rc 0 "get by SIREN"
expect_out "^Application +$id2" "get --siren finds the application"
expect_out "departement 2B" "Bastia is in Haute-Corse"
cli get 01AAAAAAAAAAAAAAAAAAAAAAAA
expect_rc 69 "get of an unknown id is NOT_FOUND"
cli get
expect_rc 2 "get needs an id"

cli list
expect_rc 0 "list"
expect_out "^$id +123456782 +Boulangerie Test SARL +SUBMITTED +TPE +75 " "list shows the application"
cli list --page-size 1
expect_rc 0 "list one page"
expect_out "^next page: --page-token " "list gives the next page's token"
token=$(sed -n 's/^next page: --page-token //p' "$dir/out")
cli list --page-size 1 --page-token "$token"
expect_rc 0 "list the next page"
expect_out "^$id2 " "the next page holds the second application"
cli --json list --all --page-size 1
expect_rc 0 "list --all --json"
expect_eq "$(json 'len(j["applications"])')" 2 "--all --json merges the pages"
cli list --state under-review
expect_out "^no applications" "a filter that selects nothing"
cli list --state sleeping
expect_rc 2 "an unknown state is a usage error"

# --- review and withdraw ----------------------------------------------------
cli review "$id" start --version 1
expect_rc 0 "review start at version 1"
expect_out "UNDER_REVIEW.*version 2" "start moves to UNDER_REVIEW"
cli review "$id" approve --version 1
expect_rc 74 "a stale --version is ABORTED"
cli review "$id" onboard
expect_rc 73 "an illegal transition is FAILED_PRECONDITION"
expect_err "UNDER_REVIEW" "the refusal names the current state"
cli review "$id" reject
expect_rc 2 "reject needs --reason"
cli review "$id" approve --note "dossier complet"
expect_rc 0 "approve without --version reads the current one"
expect_out "APPROVED" "approve moves to APPROVED"
expect_out "^benefits: fee waiver " "approve shows the benefits"
expect_out "ad credit 200\.00 EUR" "the ad credit of the default cohort"
cli get "$id"
expect_out "^Benefits +fee waiver" "get shows the benefits"
expect_out "dossier complet" "the note is in the history"

# The local administrator is staff: a withdrawal on the company's request needs a reason.
cli withdraw "$id2"
expect_rc 67 "staff withdraw only with a reason"
expect_err "^  reason: is required" "the reason is named"
cli withdraw "$id2" --version 9 --reason "asked by phone"
expect_rc 74 "withdraw with a stale version"
cli withdraw "$id2" --reason "changed its mind"
expect_rc 0 "withdraw"
expect_out "WITHDRAWN, no seat" "withdraw frees the seat"
cli withdraw "$id2" --reason "asked again"
expect_rc 73 "withdrawing twice is FAILED_PRECONDITION"

# --- cohorts -------------------------------------------------------------
cli cohort
expect_rc 0 "cohort"
expect_out "^Seats +1 / 800 held, 799 free" "cohort shows the seats against the capacity"
expect_out "^By state .*APPROVED 1" "cohort counts by state"
cli cohort --list
expect_rc 0 "cohort --list"
expect_out "^2020-11 " "the default cohort is listed"
cli cohort --create --id tiny --name "Tiny test cohort" --capacity 1
expect_rc 0 "cohort --create"
cli cohort --create --id tiny --name "Tiny test cohort"
expect_rc 70 "creating it again is ALREADY_EXISTS"
cli submit "${company[@]}" --accept-terms --cohort tiny
expect_rc 0 "submit to the small cohort"
cli submit --siren 625308291 --legal-name "Fichier JSON SAS" --naf 47.91A --address "3 place" \
	--legal-form sas --vat FR78625308291 --employees 12 --turnover-eur 3000000 \
	--balance-eur 1500000 --postal-code 20200 --city Bastia --contact-name "Jean Fichier" \
	--email jean.fichier@example.com --phone "0696 12 34 56" --channel both --accept-terms \
	--cohort tiny
expect_rc 0 "submit beyond the capacity"
expect_out "WAITLISTED, waitlist position 1" "the second waits in line"
cli cohort tiny --capacity 2
expect_rc 0 "cohort --capacity"
expect_out "^Seats +2 / 2 held, 0 free" "raising the capacity promotes from the waitlist"
cli cohort tiny --capacity 1
expect_rc 73 "the capacity cannot go below the seats held"
cli cohort nosuch
expect_rc 69 "an unknown cohort is NOT_FOUND"

# --- import ------------------------------------------------------------------
expected=$(python3 -c 'import csv, sys
print(sum(1 for r in csv.DictReader(open(sys.argv[1], encoding="utf-8")) if int(r["employees"]) < 250))' \
	"$sample")
refused=$(python3 -c 'import csv, sys
print(sum(1 for r in csv.DictReader(open(sys.argv[1], encoding="utf-8")) if int(r["employees"]) >= 250))' \
	"$sample")
before=$(applications)
cli import "$sample"
expect_rc 73 "import: the ETI lines make it exit 64 + FAILED_PRECONDITION"
expect_out "^summary: $((expected + refused)) lines, $expected created \($expected SUBMITTED\), 0 already imported, $refused refused \($refused FAILED_PRECONDITION\)" \
	"the import summary"
expect_out "^line [0-9]+: [0-9]{9} refused FAILED_PRECONDITION: .*ETI" "an ETI line is refused"
expect_eq "$(applications)" "$((before + expected))" "the import created one application a line"

cli import "$sample" --quiet
expect_rc 73 "import again"
expect_out "^summary: .* 0 created \(none\), $expected already imported, $refused refused" \
	"nothing is created twice"
expect_eq "$(applications)" "$((before + expected))" "the count of applications is unchanged"

printf '\xef\xbb\xbfSIREN,Legal_Name,naf,address,postal_code,city,contact_name,email,phone,channel,export,categories,accepts_terms,Legal-Form,vat,employees,turnover_eur,balance_eur\r\n' >"$dir/small.csv"
printf '708101118,"Le ""Quai"", Atelier SARL",47.91B,"1 quai, bis",29200,Brest,Anne Quai,anne.quai@example.fr,02 61 91 00 01,both,yes, art ; crafts ;,,SARL,FR68708101118,2,90000,40000\r\n' >>"$dir/small.csv"
printf ',,,,,,,,,,,,,,,,,\r\n' >>"$dir/small.csv"
printf '289906083,Sans Termes SAS,47.91B,2 rue,29200,Brest,Paul Terme,paul.terme@example.fr,02 61 91 00 02,both,no,,false,sas,FR62289906083,1,50000,20000\r\n' >>"$dir/small.csv"
printf '123456782,Autre Boulangerie SARL,10.71C,3 rue,75011,Paris,Luc Autre,luc.autre@example.fr,01 99 00 00 03,webshop,no,food,,sarl,FR11123456782,3,100000,50000\r\n' >>"$dir/small.csv"
printf '261352413,Employes SARL,10.71C,3 rue,75011,Paris,Luc Autre,luc.autre@example.fr,01 99 00 00 03,webshop,maybe,food,,sarl,FR43261352413,3,100000,50000\r\n' >>"$dir/small.csv"
cli import "$dir/small.csv"
expect_rc 67 "the first refused line decides the exit status"
expect_out "^line 2: 708101118 created SUBMITTED" "BOM, CRLF, quotes and any column order"
expect_out "^line 4: 289906083 refused INVALID_ARGUMENT" "accepts_terms false is refused"
expect_out "^    accepts_terms: " "the violation names the column"
expect_out "^line 5: 123456782 refused ALREADY_EXISTS" "a SIREN that applied otherwise"
expect_out "^line 6: 261352413 refused INVALID_ARGUMENT: checked before sending" "a bad cell"
expect_out "^    export: must be true or false" "the bad cell is named"
expect_out "^summary: 4 lines, 1 created" "the blank line is skipped"
cli get --siren 708101118
expect_out 'Le "Quai", Atelier SARL' "quoted cells keep their commas and quotes"

expect_out "^Categories +art, crafts" "categories are split on ';' and trimmed"

# The same line twice in one file: the server replays its first reply (Response.replayed),
# and import says which line it repeats, without listing the cohort first.
head -2 "$dir/small.csv" >"$dir/twice.csv"
sed -n 2p "$dir/small.csv" >>"$dir/twice.csv"
cli import "$dir/twice.csv"
expect_rc 0 "a file that repeats a line imported before"
expect_out "^line 2: 708101118 already imported \(" "a line imported by an earlier run is a replay"
expect_out "^line 3: 708101118 already imported \(.*, as line 2\)" "its repeat names the line it repeats"
expect_out "^summary: 2 lines, 0 created \(none\), 2 already imported, 0 refused" "nothing created"

printf 'siren,legal_name,colour\n708101118,X,red\n' >"$dir/unknown.csv"
cli import "$dir/unknown.csv"
expect_rc 1 "an unknown column"
expect_err "unknown column 'colour'" "the unknown column is named"
printf 'siren,legal_name\n708101118\n' >"$dir/ragged.csv"
cli import "$dir/ragged.csv"
expect_rc 1 "a line with a missing cell"
expect_err "line 2: 1 cells, but the header names 2" "the short line is named"
printf 'siren,legal_name\n708101118,"unterminated\n' >"$dir/open.csv"
cli import "$dir/open.csv"
expect_rc 1 "an unterminated quote"
expect_err "line 2: a quoted field opened on this line is never closed" "the quote's line"

# --- export ------------------------------------------------------------------
# A company whose text a spreadsheet would run as formulas (the server takes them: they are
# printable text): export neutralises them, import of the export gives them back unchanged.
cli submit --siren 412345670 --legal-name '=HYPERLINK("http://evil.example/?x","Relevé")' \
	--trade-name '@SUM(1+1)' --naf 47.91B --address '-1+2 rue des Formules' \
	--legal-form ei --employees 1 --turnover-eur 10000 --balance-eur 5000 \
	--postal-code 29200 --city Brest --contact-name "+cmd|' /C calc'!A0" \
	--email formule@example.fr --phone "02 61 91 00 09" --channel both --accept-terms
expect_rc 0 "a company with formula-like text"
total=$(applications)
cli export --cohort 2020-11
expect_rc 0 "export"
expect_eq "$(head -1 "$dir/out")" \
	"siren,siret,legal_name,trade_name,naf,vat,employees,turnover_eur,balance_eur,address,postal_code,city,contact_name,email,phone,channel,export,categories,cohort,legal_form,terms_version,terms_accepted_at,id,state,size,departement,region,submitted_at,version" \
	"the export's header"
expect_eq "$(python3 -c 'import csv, sys; print(len(list(csv.reader(open(sys.argv[1], encoding="utf-8")))) - 1)' "$dir/out")" \
	"$total" "one CSV record per application"
expect_eq "$(grep -c '' "$dir/out")" "$((total + 1))" "one line per application"
expect_out '^708101118,,"Le ""Quai"", Atelier SARL",' "the export quotes what needs it"
expect_out '^412345670,,"'"'"'=HYPERLINK\(""http://evil.example/\?x"",""Relevé""\)","'"'"'@SUM\(1\+1\)",' \
	"formulas are written with a quote in front, and quoted"
expect_out ',"'"'"'-1\+2 rue des Formules",29200,Brest,"'"'"'\+cmd\|'"'"' /C calc'"'"'!A0",formule@example.fr,\+33261910009,both,' \
	"the address and contact too, but not the E.164 phone"
# No cell of the whole export starts a formula, but E.164 phones (checked by Python's reader).
checks=$((checks + 1))
formulas=$(python3 -c 'import csv, re, sys
for row in csv.reader(open(sys.argv[1], encoding="utf-8", newline="")):
    for cell in row:
        if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not re.fullmatch(r"\+[0-9]{8,15}", cell):
            print(repr(cell))' "$dir/out")
[ -z "$formulas" ] || fail_last "cells that start a formula: $formulas"
cp "$dir/out" "$dir/export.csv"

cli cohort --create --id copy --name "Copy of the default cohort" --capacity 1000
expect_rc 0 "a cohort to import the export into"
cli import "$dir/export.csv" --cohort copy --quiet
expect_rc 0 "an export imports back, into another cohort"
expect_eq "$(applications copy)" "$total" "the copy holds every application"
cli get --siren 412345670 --cohort copy
expect_out '^Company +=HYPERLINK\("http://evil.example/\?x","Relevé"\), EI \(trading as @SUM\(1\+1\)\)$' \
	"import takes the export's quote off"
expect_out "^Contact +\\+cmd\\|' /C calc'!A0 <formule@example.fr>, \\+33261910009$" \
	"and the contact's"
cli export --cohort copy
# The company's line, up to its cohort, is the same in both exports: import took off exactly
# the quotes export added, no more.
company_line() {
	python3 -c 'import csv, sys
for row in csv.reader(open(sys.argv[1], encoding="utf-8", newline="")):
    if row[0] == "412345670":
        print(row[:18])' "$1"
}
expect_eq "$(company_line "$dir/out")" "$(company_line "$dir/export.csv")" "the formulas round-trip"
cli export --cohort copy --state submitted --size tpe
expect_rc 0 "export with filters"
expect_eq "$(tail -n +2 "$dir/out" | cut -d, -f1 | grep -c .)" \
	"$(tail -n +2 "$dir/out" | grep -c ',SUBMITTED,TPE,')" "the filters apply"

finish "cli_apps"

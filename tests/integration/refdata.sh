#!/usr/bin/env bash
# The reference data through the real service (issue 10): onboardd refuses a
# NAF code that is not a sub-class of NAF rev. 2, a postal code outside La
# Poste's base or SIRENE's territory, a city the postal code does not serve
# and an overseas number outside its territory's ranges, each with
# INVALID_ARGUMENT and a violation on the right field; what it accepts is
# normalised, placed by the data (departement, region) and shown with its NAF
# label by get and list.
#
# Environment: ONBOARDD and ONBOARD_CLI, the paths of the binaries. Needs python3.
set -u

. "$(dirname "$0")/lib.sh"
lib_init_ipc onboard-refdata
onboardd_start "$url" --db "$dir/db.sqlite" --no-access-log

cli health
expect_rc 0 "the server serves"
[ "$rc" -eq 0 ] || { cat "$log"; exit 1; }

# submit SIREN NAF POSTAL CITY PHONE: one application, the other fields valid.
submit() {
	cli submit --siren "$1" --legal-name "Comptoir $1" --legal-form ei --employees 2 \
		--turnover-eur 90000 --balance-eur 40000 --naf "$2" --address "5 rue du Port" \
		--postal-code "$3" --city "$4" --contact-name "Lou Martin" --email lou@example.fr \
		--phone "$5" --channel marketplace --accept-terms
}

# --- accepted, normalised and placed by the data -----------------------------
submit 732829320 4791b 75007 "Paris Cedex 07" "+590 690 12 34 56"
expect_rc 0 "a compact lower-case NAF code, a CEDEX city, a Guadeloupe mobile"
id=$(grep -oE '[0-9A-Z]{26}' "$dir/out" | head -1)
cli --json get "$id"
expect_rc 0 "get --json"
expect_eq "$(json 'j["company"]["nafCode"]')" 47.91B "the NAF code is stored in its written form"
expect_eq "$(json 'j["nafLabel"]')" "Vente à distance sur catalogue spécialisé" \
	"the NAF label comes from NAF rev. 2"
expect_eq "$(json 'j["company"]["address"]["departement"]')" 75 "the departement is the data's"
expect_eq "$(json 'j["company"]["address"]["region"]')" "Île-de-France" "and so is the region"
expect_eq "$(json 'j["contact"]["phone"]')" "+590690123456" "the phone keeps its territory's code"
cli get "$id"
expect_out "NAF 47\.91B \(Vente à distance sur catalogue spécialisé\)" "get prints the NAF label"
cli list
expect_out "^$id .* 47\.91B Vente à distance sur catalogue" "list prints the NAF label"

submit 625308291 10.71C 20000 AJACCIO "+262 639 12 34 56"
expect_rc 0 "Ajaccio, a Mayotte mobile"
cli --json get --siren 625308291
expect_eq "$(json 'j["company"]["address"]["departement"]')" 2A "Ajaccio is in Corse-du-Sud"
expect_eq "$(json 'j["company"]["address"]["region"]')" Corse "in the region Corse"

submit 552100554 47.91A 97133 "St Barthelemy" "05 90 27 12 34"
expect_rc 0 "Saint-Barthelemy, in SIRENE's territory"
cli --json get --siren 552100554
expect_eq "$(json 'j["company"]["address"]["departement"]')" 977 "Saint-Barthelemy is 977"
expect_eq "$(json 'j["company"]["address"].get("region", "")')" "" "and in no region"

submit 443061841 47.91B 13344 "Marseille Cedex 20" "04 91 12 34 56"
expect_rc 0 "a CEDEX code the open data does not carry, with its city written CEDEX"
cli --json get --siren 443061841
expect_eq "$(json 'j["company"]["address"]["postalCode"]')" 13344 "the CEDEX code is kept"
expect_eq "$(json 'j["company"]["address"]["departement"]')" 13 "its departement is its prefix's"

# --- refused, with the field and the reason ------------------------------------
submit 356000000 47.91B 75700 Paris "01 23 45 67 89"
expect_rc 67 "an unknown code without CEDEX in the city is INVALID_ARGUMENT"
expect_err "^  company\.address\.postal_code: 75700 is not a postal code of La Poste's base" \
	"75700 without CEDEX is not a postal code"

submit 356000000 47.91B 75700 "Lyon Cedex" "01 23 45 67 89"
expect_rc 67 "a CEDEX city of another departement is INVALID_ARGUMENT"
expect_err "^  company\.address\.city: is not a commune of postal code 75700" \
	"the violation is on the city"

submit 356000000 99.99Z 75007 Paris "01 23 45 67 89"
expect_rc 67 "a NAF code outside NAF rev. 2 is INVALID_ARGUMENT"
expect_err "^  company\.naf_code: 99\.99Z is not one of the 732 sub-classes of NAF rev\. 2" \
	"the NAF code's violation"

submit 356000000 47.91B 98000 Monaco "01 23 45 67 89"
expect_rc 67 "Monaco is INVALID_ARGUMENT"
expect_err "^  company\.address\.postal_code: 98000 is outside SIRENE's territory" \
	"Monaco is outside SIRENE's territory"

submit 356000000 47.91B 20700 Ajaccio "01 23 45 67 89"
expect_rc 67 "20700 is INVALID_ARGUMENT"
expect_err "^  company\.address\.postal_code: 20700 is not a postal code of La Poste's base" \
	"20700 is not a postal code"

submit 356000000 47.91B 75007 Lyon "01 23 45 67 89"
expect_rc 67 "a city the postal code does not serve is INVALID_ARGUMENT"
expect_err "^  company\.address\.city: is not a commune of postal code 75007" \
	"the violation is on the city"

submit 356000000 47.91B 75007 Paris "+590 1 23 45 67 89"
expect_rc 67 "a Paris number behind +590 is INVALID_ARGUMENT"
expect_err "^  contact\.phone: does not belong to the numbering plan of \+590 \(Guadeloupe" \
	"the violation names the territory"

submit 356000000 47.91B 75007 Paris "+262 590 12 34 56"
expect_rc 67 "a Guadeloupe number behind +262 is INVALID_ARGUMENT"
expect_err "^  contact\.phone: does not belong to the numbering plan of \+262" "and +262's"

cli get --siren 356000000
expect_rc 69 "nothing refused was stored"

finish "refdata"

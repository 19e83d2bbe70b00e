#!/usr/bin/env bash
# cli_parse.sh: the rules of the onboard CLI's one parser, seen from a shell against a real
# onboardd: global options after the command, --name=value, durations and numbers refused
# before anything is sent, --version on every program, help COMMAND, errors as JSON on stderr
# under --json, --emit-defaults, and the bash completion written from the command table.
# The parser's own unit tests are tests/unit/test_cli_parse.c; this is what a script sees.
#
# Needs ONBOARDD, ONBOARD_CLI, ONBOARD_LOAD and ONBOARD_ECHO (meson test sets them), python3.
set -uo pipefail

: "${ONBOARD_LOAD:?path of onboard-load}" "${ONBOARD_ECHO:?path of onboard-echo}"

. "$(dirname "$0")/lib.sh"
lib_init_ipc ob-parse

ob() { "$ONBOARD_CLI" --server "$url" "$@"; }

onboardd_start "$url" --db "$dir/onboard.db" --no-access-log
run "onboardd serves" 0 ob health || exit 1

# --- global options after the command -------------------------------------
if run "health --json: --json after the command is the global option" 0 \
	"$ONBOARD_CLI" health --json --server "$url"; then
	expect_json "health --json" "$dir/out" 'j["status"]' SERVING
fi
run "get ID --server URL: --server after the operand" 69 \
	"$ONBOARD_CLI" get 01ARZ3NDEKTSV4RRFFQ69G5FAV --server "$url" || true
expect "get after --server" "NOT_FOUND" "$err"
run "options of the command and global ones mixed" 0 \
	"$ONBOARD_CLI" list --all --timeout 5s --state submitted -s "$url" --page-size 10 || true
run "a global option between a group and its subcommand" 0 \
	"$ONBOARD_CLI" admin --server "$url" audit --page-size 1 || true

# --- --name=value ------------------------------------------------------------
run "--timeout=2s --server=URL" 0 "$ONBOARD_CLI" --timeout=2s health --server="$url" || true
run "--page-size=1 --state=submitted,approved" 0 ob list --page-size=1 --state=submitted,approved ||
	true
run "--json=yes: a flag takes no value" 2 ob health --json=yes || true
expect "--json=yes" "--json takes no value" "$err"

# --- durations, accepted and refused ------------------------------------------
for d in 500ms 2s 1m 1.5s 3 1h; do
	run "--timeout $d" 0 ob --timeout "$d" health || true
done
for d in 2x -1s 0 0s 1e3 nan 25h 0.5ms 2S "2 s" ""; do
	if run "--timeout '$d' is refused" 2 ob health --timeout "$d"; then
		expect "--timeout '$d'" "--timeout takes a duration such as 500ms, 5s or 1m" "$err"
	fi
done

# --- numbers with garbage are refused, and nothing is sent --------------------
before=$(applications)
company=(--siren 732829320 --legal-name "Boulangerie Martin" --naf 10.71C --address "12 rue"
	--postal-code 75002 --city Paris --contact-name "Claire Martin" --email c@example.fr
	--phone "01 23 45 67 89" --channel marketplace --accept-terms)
for n in 4x -4 +4 " 4" 4.0 0x4 4294967296; do
	if run "submit --employees '$n' is refused" 2 ob submit "${company[@]}" --employees "$n"; then
		expect "--employees '$n'" "--employees takes a whole number" "$err"
	fi
done
run "submit --turnover-eur 9223372036854775808 (over int64)" 2 \
	ob submit "${company[@]}" --turnover-eur 9223372036854775808 || true
for n in 2x 0 501 -1; do
	run "list --page-size '$n' is refused" 2 ob list --page-size "$n" || true
done
run "review --version 0 is refused" 2 ob review 01ARZ3NDEKTSV4RRFFQ69G5FAV start --version 0 || true
run "cohort --create --monthly-fee 39.999 is refused" 2 \
	ob cohort --create --id x --name X --monthly-fee 39.999 || true
[ "$(applications)" = "$before" ] || fail "a refused command line submitted something"
echo "ok: nothing was sent for a refused command line"

# --- --version on every program -------------------------------------------------
for prog in "$ONBOARD_CLI" "$ONBOARD_LOAD" "$ONBOARD_ECHO" "$ONBOARDD"; do
	name=$(basename "$prog")
	if run "$name --version" 0 "$prog" --version; then
		[[ $out =~ ^$name\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "$name --version printed '$out'"
	fi
done
run "onboard --version after a command" 0 "$ONBOARD_CLI" health --version || true
expect "health --version" "onboard " "$out"
# review's --version is the application's version, not the program's.
run "review ID start --version 3 is the application's version" 69 \
	ob review 01ARZ3NDEKTSV4RRFFQ69G5FAV start --version 3 || true

# --- help COMMAND and COMMAND --help ---------------------------------------------
"$ONBOARD_CLI" get --help >"$dir/get-help" 2>&1
if run "help get" 0 "$ONBOARD_CLI" help get; then
	cmp -s "$dir/out" "$dir/get-help" || fail "help get differs from get --help"
	expect "help get" "Usage: onboard get ID" "$out"
fi
if run "help admin erase" 0 "$ONBOARD_CLI" help admin erase; then
	expect "help admin erase" "Usage: onboard admin erase ID" "$out"
fi
run "help" 0 "$ONBOARD_CLI" help || true
expect "help" "Commands:" "$out"
run "help of an unknown command" 2 "$ONBOARD_CLI" help nosuch || true
run "--help before the command" 0 "$ONBOARD_CLI" --help review || true
expect "--help review" "Usage: onboard review ID ACTION" "$out"

# --- errors as JSON on stderr under --json -----------------------------------------
if run "--json get of an unknown id" 69 ob --json get 01ARZ3NDEKTSV4RRFFQ69G5FAV; then
	[ -z "$out" ] || fail "--json get of an unknown id printed on stdout: $out"
	[ "$(grep -c '' "$dir/err")" = 1 ] || fail "the JSON error is not one line: $err"
	expect_json "JSON NOT_FOUND" "$dir/err" 'j["code"]' NOT_FOUND
	expect_json "JSON NOT_FOUND message" "$dir/err" '"no application" in j["message"]' True
	expect_json "JSON NOT_FOUND violations" "$dir/err" 'j["field_violations"]' '[]'
fi
if run "--json submit with invalid fields" 67 ob submit --json --siren 123456789 --accept-terms; then
	expect_json "JSON field violations" "$dir/err" \
		'[v["field"] for v in j["field_violations"]][0]' company.siren
	expect_json "JSON field violations" "$dir/err" \
		'all(v["description"] for v in j["field_violations"])' True
	expect_json "JSON INVALID_ARGUMENT" "$dir/err" 'j["code"]' INVALID_ARGUMENT
fi
if run "--json usage error" 2 ob list --page-size 0 --json; then
	expect_json "JSON usage error" "$dir/err" '(j["code"], j["usage"])' \
		"('INVALID_ARGUMENT', True)"
fi
if run "--json local error" 1 "$ONBOARD_CLI" --json --timeout 1s --server "ipc://$dir/nobody.sock" \
	health; then
	expect_json "JSON local error" "$dir/err" '(j["code"], j["local"])' "('UNAVAILABLE', True)"
	expect_json "JSON local error" "$dir/err" '"nobody.sock" in j["message"]' True
fi
if run "--json call of an unknown method" 76 ob --json call /onboard.v1.Onboarding/Nope '{}'; then
	expect_json "JSON UNIMPLEMENTED" "$dir/err" 'j["code"]' UNIMPLEMENTED
fi
run "without --json, errors stay text" 69 ob get 01ARZ3NDEKTSV4RRFFQ69G5FAV || true
expect "text error" "onboard: NOT_FOUND: " "$err"

# --- --emit-defaults ----------------------------------------------------------------
run "an empty cohort" 0 ob cohort --create --id empty --name "Empty cohort" --capacity 5 || true
if run "--json cohort empty" 0 ob --json cohort empty; then
	expect_json "without --emit-defaults" "$dir/out" 'j.get("applications")' None
fi
if run "--json --emit-defaults cohort empty" 0 ob --json cohort empty --emit-defaults; then
	expect_json "--emit-defaults applications" "$dir/out" 'j["applications"]' 0
	expect_json "--emit-defaults seats" "$dir/out" '(j["seatsHeld"], j["waitlistLength"])' "(0, 0)"
	expect_json "--emit-defaults lists" "$dir/out" 'j["byState"]' '[]'
fi
if run "--json --emit-defaults list --cohort empty" 0 ob --json --emit-defaults list --cohort empty; then
	expect_json "--emit-defaults strings" "$dir/out" 'j["nextPageToken"]' ''
fi
if run "call --emit-defaults" 0 ob call --emit-defaults /onboard.v1.Onboarding/GetCohort \
	'{"id":"empty"}'; then
	expect_json "call --emit-defaults" "$dir/out" 'j["exporters"]' 0
fi

# --- bash completion from the table ---------------------------------------------------
if run "completion bash" 0 "$ONBOARD_CLI" completion bash; then
	cp "$dir/out" "$dir/completion.bash"
	bash -n "$dir/completion.bash" || fail "the completion script is not valid bash"
	"$ONBOARD_CLI" --help | sed -n '/^Commands:/,/^$/p' |
		awk 'NF > 1 && $1 != "Commands:" { print $1 }' >"$dir/commands"
	[ -s "$dir/commands" ] || fail "--help lists no commands"
	while read -r cmd; do
		grep -q "^_onboard_commands='.*\b$cmd\b" "$dir/completion.bash" ||
			fail "the completion does not list $cmd"
	done <"$dir/commands"
	# complete WORDS...: what the script offers for the last word.
	complete_words() {
		bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _onboard
			echo "${COMPREPLY[*]}"' _ "$dir/completion.bash" "$@"
	}
	got=$(complete_words onboard "")
	[ "$got" = "$(tr '\n' ' ' <"$dir/commands" | sed 's/ $//')" ] ||
		fail "onboard <TAB> offers '$got'"
	[ "$(complete_words onboard --json sub)" = submit ] || fail "onboard --json sub<TAB>"
	[ "$(complete_words onboard list --state u)" = under-review ] ||
		fail "onboard list --state u<TAB>"
	[ "$(complete_words onboard -s X review ID a)" = approve ] || fail "onboard review ID a<TAB>"
	[ "$(complete_words onboard admin er)" = erase ] || fail "onboard admin er<TAB>"
	[ "$(complete_words onboard admin erase --rea)" = --reason ] ||
		fail "onboard admin erase --rea<TAB>"
	[ "$(complete_words onboard call /onboard.v1.Health/)" = /onboard.v1.Health/Check ] ||
		fail "onboard call /onboard.v1.Health/<TAB>"
	echo "ok: the completion offers the table's commands, options and words"
fi
run "completion of another shell" 2 "$ONBOARD_CLI" completion fish || true

finish "cli_parse"

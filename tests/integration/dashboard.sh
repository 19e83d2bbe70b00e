#!/usr/bin/env bash
# The dashboard (dashboard/, served by onboardd at /) in Debian's headless chromium, driven by
# playwright-core (tests/dashboard, pinned in its package-lock.json; tools/install-deps.sh
# installs both). A cohort is seeded over two programme days through the CLI; the figures the
# page must show are computed here from the seeded applications, one by one (not from the
# cohort's counters, which the page reads); then tests/dashboard/dashboard.mjs checks them in
# the page, approves an application through the page (after a change behind its back, which
# the page must refuse as the CLI does) and checks with the CLI that it took, and lets a session
# token expire, which must return the page to its sign-in. Screenshots land in
# $ONBOARD_DASHBOARD_OUT (the build directory).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
lib_init ob-dash

: "${ONBOARD_DASHBOARD_OUT:?where the screenshots go (meson test sets it)}"
py=/usr/bin/python3
node_dir=$(cd "$here/../dashboard" && pwd)
chromium=${CHROMIUM:-$(command -v chromium || true)}
[ -n "$chromium" ] || die "no chromium: tools/install-deps.sh installs Debian's"
[ -f "$node_dir/node_modules/playwright-core/package.json" ] ||
	die "tests/dashboard/node_modules is missing: tools/install-deps.sh runs npm ci there"
mkdir -p "$ONBOARD_DASHBOARD_OUT"

sock="ipc://$dir/onboardd.sock"
ob() { "$ONBOARD_CLI" --timeout 10s --server "$sock" "$@"; }

# ---- keys: a reviewer, and a reviewer whose key expires during the test ------------------
for k in reviewer brief; do
	run "keygen $k" 0 ob keygen --out "$dir/$k.key" --role reviewer --label "dashboard $k" || exit 1
	sed -n '/^keyring line:$/{n;p}' "$dir/out" >"$dir/$k.line"
done
cat "$dir/reviewer.line" "$dir/brief.line" >"$dir/keyring"

# ---- day 1: the first companies, in a cohort of 60 seats ---------------------------------
# (The sample's companies accepted the terms by 15 November; a few of them are not eligible,
# which the import refuses: what the cohort holds is read back below, not assumed.)
sample=$here/../../deploy/sample/companies.csv
head -n 31 "$sample" >"$dir/day1.csv"
{ head -n 1 "$sample" && sed -n 32,81p "$sample"; } >"$dir/day2.csv"
onboardd_start "$sock" --db "$dir/onboard.db" --now 2020-11-16T09:00:00Z
run "capacity 60" 0 ob cohort 2020-11 --capacity 60 || exit 1
ob import "$dir/day1.csv" --terms-version 2020-10-30 >"$dir/import1.log" 2>&1
onboardd_stop

# ---- day 2: more companies than seats (a waitlist), the HTTP face, reviews ---------------
onboardd_start_http http "$sock" --db "$dir/onboard.db" --now 2020-11-18T10:00:00Z \
	--keyring "$dir/keyring" --trust-local yes
ob import "$dir/day2.csv" --terms-version 2020-10-30 >"$dir/import2.log" 2>&1

ids() { ob list --cohort 2020-11 --state "$1" --all | grep -oE '^[0-9A-Z]{26}'; }
mapfile -t sub < <(ids submitted)
[ "${#sub[@]}" -ge 6 ] || die "the seeding left ${#sub[@]} submitted applications, want 6"
# A: in review; B: approved and onboarded; C: rejected (a seat frees: the first in line
# takes it); D: approved with its ad credit partly spent. The page later works on the 5th.
run "start A" 0 ob review "${sub[0]}" start
for s in start approve onboard; do run "$s B" 0 ob review "${sub[1]}" $s; done
run "reject C" 0 ob review "${sub[2]}" reject --reason incomplete --note "no Kbis"
for s in start approve; do run "$s D" 0 ob review "${sub[3]}" $s; done
run "ad spend D" 0 ob adspend "${sub[3]}" --amount 12.50 --reference dash-1
target=${sub[4]}

# What the page must show, from the applications one by one.
ob --json list --cohort 2020-11 --all >"$dir/apps.json" || die "cannot list the cohort"
ob --json cohort 2020-11 >"$dir/cohort.json" || die "cannot read the cohort"
$py - "$dir/apps.json" "$dir/cohort.json" "$target" >"$dir/expected.json" <<'PY' || die "cannot compute the figures"
import collections, datetime, json, sys
apps = json.load(open(sys.argv[1])).get("applications", [])
cohort = json.load(open(sys.argv[2]))["cohort"]
state = lambda a: a["state"].replace("APPLICATION_STATE_", "")
live = [a for a in apps if state(a) not in ("REJECTED", "WITHDRAWN")]
seated = ("SUBMITTED", "UNDER_REVIEW", "NEEDS_INFO", "APPROVED", "ONBOARDED")
def paris_day(t):  # November: Paris is UTC+1
    return (datetime.datetime.fromisoformat(t.replace("Z", "+00:00")) + datetime.timedelta(hours=1)).date().isoformat()
review = [a for a in apps if state(a) in ("SUBMITTED", "UNDER_REVIEW", "NEEDS_INFO")]
regions = collections.Counter(a["company"]["address"]["region"] for a in live)
busiest = max(sorted(collections.Counter(a["company"]["address"]["region"] for a in review).items()), key=lambda kv: kv[1])
json.dump({
    "capacity": int(cohort["capacity"]),
    "seatsHeld": sum(state(a) in seated for a in apps),
    "waitlist": sum(state(a) == "WAITLISTED" for a in apps),
    "applications": len(apps),
    "states": collections.Counter(state(a) for a in apps),
    "regions": regions,
    "perDay": collections.Counter(paris_day(a["submittedAt"]) for a in apps),
    "granted": sum(state(a) in ("APPROVED", "ONBOARDED") for a in apps),
    "toReview": len(review),
    "oldestToReview": review[0]["id"],
    "busiestRegion": busiest[0], "busiestRegionCount": busiest[1],
    "target": sys.argv[3],
}, sys.stdout)
PY
echo "expected: $(cat "$dir/expected.json")"
expect "a waitlist to show" '"waitlist": ' "$(grep -v '"waitlist": 0' "$dir/expected.json")"

# ---- the short-lived key: valid for 30 s from now, then its token is refused --------------
# 30 s: the login, chromium's start and the sign-in must all fit before it expires; with 15 s
# a loaded machine (the ASan build beside it) once ran out, and the page went back to its
# sign-in before it showed the cohort. The page test waits for the expiry, whatever it is.
expires=$(($(date +%s) + 30))
awk -v na="$(date -u -d "@$expires" +%Y-%m-%dT%H:%M:%SZ)" '{$5 = na; print}' "$dir/brief.line" >"$dir/brief.expiring"
cat "$dir/reviewer.line" "$dir/brief.expiring" >"$dir/keyring.new" && mv "$dir/keyring.new" "$dir/keyring"
before=$(grep -c 'keyring-reload' "$log" || true)
kill -HUP "$pid"
reloaded=false
for _ in $(seq 500); do
	[ "$(grep -c 'keyring-reload' "$log" || true)" -gt "$before" ] && reloaded=true && break
	sleep 0.02
done
$reloaded || die "no keyring reload logged within 10 s of SIGHUP"
run "login --print-token" 0 ob --key "$dir/brief.key" login --print-token || exit 1
# The token goes to curl and to the browser test in files ($dir is the user's alone), never on
# a command line, which any local user can read in /proc; dashboard.mjs checks that none holds it.
cp "$dir/out" "$dir/brief.token"
brief_token=$(cat "$dir/brief.token")
printf 'Authorization: Bearer %s\n' "$brief_token" >"$dir/brief.header"
expect "a token" 'ob1.' "$brief_token"
run "login without a key" 2 ob login && expect "login without a key says why" "needs a key" "$err"
run "login for another server" 80 ob --key "$dir/reviewer.key" login --audience http://elsewhere.example &&
	expect "login for another server says why" "signed for another server" "$err"
hcall_headers() { curl -sS -D - -o /dev/null "$@"; }
expect "RPC replies are not cached" "Cache-Control: no-store" \
	"$(hcall_headers -X POST -H 'Content-Type: application/json' -H @"$dir/brief.header" --data '{}' "$base/onboard.v1.Auth/WhoAmI")"

# ---- the page ----------------------------------------------------------------------------
ln -s "$node_dir/node_modules" "$dir/node_modules"
cp "$node_dir/dashboard.mjs" "$dir/"
run "the dashboard in chromium" 0 env CHROMIUM="$chromium" ONBOARD_CLI="$ONBOARD_CLI" \
	node "$dir/dashboard.mjs" --base "$base" --server "$sock" --expected "$dir/expected.json" \
	--key "$dir/reviewer.key" --brief-token-file "$dir/brief.token" --brief-expires "$((expires * 1000))" \
	--out "$ONBOARD_DASHBOARD_OUT"
cat "$dir/out"
[ -s "$dir/err" ] && cat "$dir/err" >&2
expect_clean_stop
# The session token signed the page in, called WhoAmI and every read of the page: neither the
# log nor the database (its WAL included) holds it.
checks=$((checks + 1))
if grep -l -F -- "$brief_token" "$log" "$dir"/onboard.db* >"$dir/holders" 2>/dev/null; then
	fail "the session token is stored in: $(tr '\n' ' ' <"$dir/holders")"
fi
finish "dashboard"

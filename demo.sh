#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install what is missing, build,
# start onboardd on the embedded SQLite store (var/onboard.db), import the
# sample of 300 fictional companies into the November 2020 cohort, and print
# the cohort's standing against its 800 seats. onboardd keeps running
# afterwards so that you can try the CLI and the dashboard in a browser (its address is printed
# last: http://127.0.0.1:8080/, or $ONBOARD_DASHBOARD_PORT); `./demo.sh stop` stops it.
# Running it again imports nothing twice.
set -euo pipefail
cd "$(dirname "$0")"

pidfile=var/onboardd.pid
if [ "${1:-}" = "stop" ]; then
	if [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null; then
		echo "onboardd stopped"
	else
		echo "onboardd is not running"
	fi
	rm -f "$pidfile"
	exit 0
fi

tools/install-deps.sh
[ -d build ] || meson setup build -Dbuildtype=release
meson compile -C build >/dev/null

mkdir -p var
onboard=build/client/onboard
# The dashboard is for reviewers: a reviewer's key, made once, in the keyring onboardd reads.
# Callers over HTTP are never trusted as local, so the page signs in with this key (or with a
# token of it); the CLI on this machine still goes in as the local administrator.
port=${ONBOARD_DASHBOARD_PORT:-8080}
if [ ! -f var/reviewer.key ]; then
	"$onboard" keygen --out var/reviewer.key --role reviewer --label "demo reviewer" |
		sed -n '/^keyring line:$/{n;p}' >>var/keyring
fi
if ! [ -f "$pidfile" ] || ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
	# Detached from this terminal and its pipes, so that the script can end.
	# --now: the demo rehearses November 2020, so that dates, the fee waiver and
	# the webinars are those of the programme. Leave it out to run on real time.
	nohup build/service/onboardd --db var/onboard.db --now 2020-11-16T08:30:00Z \
		--keyring var/keyring --http "http://127.0.0.1:$port" </dev/null >/dev/null 2>>var/onboardd.log &
	echo $! >"$pidfile"
	for _ in $(seq 100); do
		"$onboard" --timeout 1s health >/dev/null 2>&1 && break
		sleep 0.1
	done
fi
"$onboard" health >/dev/null || { echo "onboardd did not start; see var/onboardd.log" >&2; exit 1; }
echo "onboardd is running (pid $(cat "$pidfile")), log in var/onboardd.log"
echo

echo "== importing deploy/sample/companies.csv (terms version 2020-10-30)"
# The sample's companies accepted version 2020-10-30 of the programme's terms, on the
# date of their terms_accepted_at column.
"$onboard" import deploy/sample/companies.csv --terms-version 2020-10-30 | tail -n 5 || true
echo
# The programme's advisors are people: a few of them, each with a region, the languages they
# speak and how many companies they follow at once. An approval assigns the least loaded one of
# the company's region who speaks French (else one of any region). The cohort's 300 numbered
# placeholders ("Advisor N", any region) remain, behind these. Added once.
if ! "$onboard" advisor list | grep -q "Camille Durand"; then
	echo "== advisors of the November 2020 cohort"
	"$onboard" advisor add --name "Camille Durand" --region "Île-de-France" --language fr --language en --capacity 40 >/dev/null
	"$onboard" advisor add --name "Yann Le Gall" --region Bretagne --language fr --language br --capacity 25 >/dev/null
	"$onboard" advisor add --name "Inès Benali" --region "Auvergne-Rhône-Alpes" --language fr --language ar --capacity 30 >/dev/null
	"$onboard" advisor add --name "Léa Moreau" --region "Pays de la Loire" --language fr --capacity 20 >/dev/null
	"$onboard" advisor add --name "Marius Rossi" --region "Provence-Alpes-Côte d'Azur" --language fr --language it --capacity 30 >/dev/null
	"$onboard" advisor list | grep -E "NUMBER|Camille|Yann|Inès|Léa|Marius"
	echo
fi
# One company through the programme's second pass: it books a webinar on how to join before
# its approval, the approval keeps that seat and grants the benefits, and the ads service
# (here the local administrator, who may) records ad credit it spent. On a second run the
# company is already approved: those steps say so and the demo goes on.
app=$("$onboard" list --state submitted --page-size 1 | grep -oE '[0-9A-Z]{26}' | head -n 1 || true)
if [ -n "$app" ]; then
	echo "== a webinar booked before approval, then the approval, then ad credit spent ($app)"
	"$onboard" webinar sessions --from 2020-11-17 --to 2020-11-18
	"$onboard" webinar book "$app" --topic marketplace --at 2020-11-17T09:00:00Z || true
	"$onboard" review "$app" start >/dev/null || true
	"$onboard" review "$app" approve || true
	"$onboard" adspend "$app" --amount 25 --reference demo-campaign-1 || true
	"$onboard" get "$app" | grep -E '^(Application|State|Region|Webinar|Benefits| )' || true
	echo
fi
echo "== the November 2020 cohort"
"$onboard" cohort 2020-11
echo
echo "Try: $onboard list --state submitted --page-size 5"
echo "     $onboard get --siren <SIREN>       $onboard review <ID> start"
echo "     $onboard webinar sessions --from 2020-11-17 --to 2020-11-20"
echo "     $onboard webinar book <ID> --topic webshop   $onboard adspend <ID> --amount 10"
echo "     $onboard advisor list              $onboard advisor reassign <ID> --to <NUMBER>"
echo "Stop the service with: ./demo.sh stop"
echo
echo "The dashboard: http://127.0.0.1:$port/"
echo "  sign in with the key file var/reviewer.key (the page signs the login), or paste the token of"
echo "  $onboard --key var/reviewer.key login --print-token"

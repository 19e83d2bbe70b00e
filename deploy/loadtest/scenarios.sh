#!/usr/bin/env bash
# The standard scenarios against a running onboardd (default address, or ONBOARD_SERVER): the
# 10:00 webinar burst, a partner import, dashboards polling, and a mixed day.
#
# They write into one throw-away load-test cohort, which the first run creates (that takes
# an admin: the local administrator on the ipc socket, or ONBOARD_KEY naming an admin's key),
# never into the programme's cohorts; the end says how to remove it. Extra arguments go to
# every run (-s URL, --key FILE...).
set -euo pipefail
load=${LOAD:-$(dirname "$0")/../../build/client/onboard-load}
work=$(mktemp -d /tmp/onboard-scenarios.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "== webinar ends: 500 companies submit at once"
"$load" "$@" --scenario webinar-burst -n 500 --json >"$work/burst.json"
cohort=$(python3 - "$work/burst.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
l = d["latency_us"]
print("%d calls, %d OK, p50 %.1f ms, p99 %.1f ms" % (d["calls"], d["ok"], l["p50"] / 1e3,
      l["p99"] / 1e3), file=sys.stderr)
print(d["cohort"]["id"])
PY
)
echo "== a partner imports 5,000 rows, 8 at a time"
"$load" "$@" --cohort "$cohort" --scenario submit -c 8 -n 5000
echo "== dashboards poll the cohort, 200 calls a second for 10 s (open loop)"
"$load" "$@" --cohort "$cohort" --scenario cohort -c 8 --rate 200 -d 10
echo "== a mixed day, 30 s"
"$load" "$@" --cohort "$cohort" --scenario mixed -c 16 -d 30
echo
echo "The scenarios wrote into the load-test cohort $cohort. Remove it on the server's host:"
echo "  deploy/loadtest/drop-cohort.sh DB $cohort    (DB: onboardd's --db)"

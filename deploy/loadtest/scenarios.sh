#!/usr/bin/env bash
# The standard scenarios against a running onboardd (default address, or
# ONBOARD_SERVER): the 10:00 webinar burst, a partner import, dashboards
# polling, and a mixed day.
set -euo pipefail
load=${LOAD:-$(dirname "$0")/../../build/client/onboard-load}
echo "== webinar ends: 500 companies submit at once"
"$load" --scenario webinar-burst -n 500
echo "== a partner imports 5,000 rows, 8 at a time"
"$load" --scenario submit -c 8 -n 5000
echo "== dashboards poll the cohort, 200 calls a second for 10 s (open loop)"
"$load" --scenario cohort -c 8 --rate 200 -d 10
echo "== a mixed day, 30 s"
"$load" --scenario mixed -c 16 -d 30

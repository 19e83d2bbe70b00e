#!/usr/bin/env bash
# Instructions per GetApplication from a profile.sh run: each function's inclusive count,
# summed over the threads that served Gets (the files with ob_domain_get in them: Gets run
# on the thread that read them), divided by the number of calls of ob_domain_get there.
# Usage: BUILD=build-rel deploy/loadtest/profile.sh OUT 1
#        deploy/loadtest/per_get.sh OUT [FUNCTION...]
set -euo pipefail
out=${1:?usage: per_get.sh OUT [FUNCTION...]}
shift
[ $# -gt 0 ] || set -- rx_cb run_call get ob_domain_get sq_app_get sq_step_row sq_read_app \
	sq_read_contact sq_col_text sqlite3_reset ob_dom_decorate sq_history_load sq_booking_get \
	sq_begin sq_rollback ob_pb_application ob_pb_application_borrowing \
	protobuf_c_message_get_packed_size protobuf_c_message_pack malloc free
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
gets=0
for f in "$out".[0-9]*; do
	grep -q ob_domain_get "$f" || continue
	callgrind_annotate --inclusive=yes --threshold=100 "$f" >>"$tmp"
	n=$(callgrind_annotate --tree=calling --threshold=100 "$f" |
		sed -n 's/.*> .*:ob_domain_get (\([0-9,]*\)x).*/\1/p' | tr -d , |
		awk '{n += $1} END {print n + 0}')
	gets=$((gets + n))
done
[ "$gets" -gt 0 ] || { echo "no Gets in $out.*" >&2; exit 1; }
echo "Gets: $gets"
for fn in "$@"; do
	awk -v fn="$fn" -v n="$gets" '{ c = $1; gsub(",", "", c) }
		index($0, ":" fn " [") { s += c } END { printf "%-36s %8.0f\n", fn, s / n }' "$tmp"
done

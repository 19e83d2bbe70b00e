#!/usr/bin/env bash
# drop-cohort.sh: removes the throw-away cohorts onboard-load creates ("load-..."), with
# everything that belongs to them, from onboardd's SQLite database. The contract has no
# method that deletes a cohort (a real one must not vanish), so this is done on the server's
# host, as onboardd's user, with the sqlite3 command.
#
# Usage: deploy/loadtest/drop-cohort.sh DB COHORT...
#   DB      onboardd's database (its --db; var/onboard.db by default)
#   COHORT  ids of load-test cohorts, as onboard-load printed them: only ids that start with
#           "load-" are taken, so that a typo cannot remove the programme's cohort
#
# What goes, in one transaction: the cohort's applications and every row that hangs off them
# (the tables with an app_seq column: contact, history, idempotency records), every row
# keyed by the cohort (the tables with a cohort_id column: counters, waitlist, webinar and
# advisor bookings), and the cohort. The audit trail stays. The tables are found from the
# schema, so that tables added later are covered by the same rule. onboardd may keep
# running: it reads cohorts and counters from the database on every call, and SQLite's
# locking orders this writer with its own (a busy database is waited for up to 10 s).
set -euo pipefail

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
	exit 2
}
[ $# -ge 2 ] || usage
db=$1
shift
[ -f "$db" ] || { echo "drop-cohort.sh: no database at $db" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "drop-cohort.sh: needs the sqlite3 command (apt-get install sqlite3)" >&2; exit 1; }
for id in "$@"; do
	[[ $id =~ ^load-[a-z0-9-]{1,27}$ ]] ||
		{ echo "drop-cohort.sh: '$id' is not a load-test cohort id (load-...); nothing removed" >&2; exit 2; }
done

# The tables by the column that ties their rows to a cohort, from the schema.
tables_with() {
	sqlite3 "$db" "SELECT m.name FROM sqlite_schema m JOIN pragma_table_info(m.name) p
		WHERE m.type = 'table' AND p.name = '$1' AND m.name NOT IN ('application', 'audit')
		ORDER BY m.name"
}
mapfile -t by_app < <(tables_with app_seq)
mapfile -t by_cohort < <(tables_with cohort_id)

status=0
for id in "$@"; do
	# The id matched the pattern above: no quote can be in it.
	sql=".timeout 10000
PRAGMA foreign_keys = ON;
PRAGMA secure_delete = ON;
BEGIN IMMEDIATE;
CREATE TEMP TABLE gone AS SELECT seq FROM application WHERE cohort_id = '$id';"
	for t in "${by_app[@]}"; do
		sql+="
DELETE FROM \"$t\" WHERE app_seq IN (SELECT seq FROM gone);"
	done
	sql+="
DELETE FROM application WHERE cohort_id = '$id';"
	for t in "${by_cohort[@]}"; do
		sql+="
DELETE FROM \"$t\" WHERE cohort_id = '$id';"
	done
	sql+="
DELETE FROM cohort WHERE id = '$id';
SELECT changes() || ' ' || (SELECT count(*) FROM gone);
COMMIT;"
	if ! out=$(sqlite3 -bail "$db" <<<"$sql" 2>&1); then
		echo "drop-cohort.sh: $id: $out" >&2
		status=1
		continue
	fi
	read -r found apps <<<"$(tail -1 <<<"$out")"
	if [ "$found" = 1 ]; then
		echo "removed cohort $id and its $apps applications"
	else
		echo "drop-cohort.sh: no cohort $id in $db" >&2
		status=1
	fi
done
exit $status

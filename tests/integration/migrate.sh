#!/usr/bin/env bash
# migrate.sh: `onboardd migrate` applies the schema and exits without serving, on PostgreSQL
# (a postgresql:// URL: the private cluster tools/pgcluster.sh started for this script) and
# on SQLite (a path). Serving from PostgreSQL is refused in words until its store is written
# (issue 13); the URL, which may hold a password, is never logged.
#
# Needs ONBOARDD (meson test sets it), and PGHOST/PGPORT/PGUSER with psql and createdb
# (tools/pgcluster.sh sets them).
set -uo pipefail

: "${ONBOARDD:?path of onboardd}" "${PGHOST:?run under tools/pgcluster.sh}" "${PGPORT:?}"

. "$(dirname "$0")/lib.sh"
lib_init ob-migrate
name=ob_migrate_$$
createdb "$name" || die "createdb $name failed"
pgurl="postgresql://onboard:s3cret-word@/$name?host=$PGHOST&port=$PGPORT"

run "migrate a new PostgreSQL database" 0 "$ONBOARDD" migrate --db "$pgurl" &&
	expect "migrate says the version" "PostgreSQL schema is at version 1; not serving" \
		"$(cat "$dir/err" "$dir/out")"
expect_eq "$(psql -d "$name" -Atc 'SELECT max(version), count(*) FROM schema_migration')" \
	"1|1" "schema_migration records version 1"
run "migrate again: nothing to do" 0 "$ONBOARDD" migrate --db "$pgurl"
expect_eq "$(psql -d "$name" -Atc 'SELECT count(*) FROM schema_migration')" "1" \
	"no migration applied twice"
checks=$((checks + 1))
if grep -q "s3cret-word" "$dir/out" "$dir/err"; then
	fail "the URL's password reached the log"
else
	echo "ok: the URL is not logged"
fi

run_says "serving from PostgreSQL is refused" 1 "serving from PostgreSQL is not written yet" \
	"$ONBOARDD" --listen "ipc://$dir/pg.sock" --db "$pgurl"
checks=$((checks + 1))
[ -S "$dir/pg.sock" ] && fail "onboardd listened on PostgreSQL" || echo "ok: it never listened"

run "no server there" 1 "$ONBOARDD" migrate \
	--db "postgresql:///$name?host=$dir&port=1&connect_timeout=2"

# SQLite: the file is made and migrated, nothing listens, and it serves afterwards.
run "migrate a new SQLite file" 0 "$ONBOARDD" migrate --listen "ipc://$dir/a.sock" \
	--db "$dir/data/onboard.db" &&
	expect "migrate says it does not serve" "is up to date; not serving" "$(cat "$dir/err" "$dir/out")"
checks=$((checks + 1))
if [ -f "$dir/data/onboard.db" ] && [ ! -S "$dir/a.sock" ]; then
	echo "ok: the file exists and nothing listened"
else
	fail "migrate on SQLite: file or socket wrong"
fi
onboardd_start "ipc://$dir/b.sock" --db "$dir/data/onboard.db"
expect_clean_stop

dropdb "$name" || true
finish "migrate"

#!/usr/bin/env bash
# migrate.sh: `onboardd migrate` applies the schema and exits without serving, on PostgreSQL
# (a postgresql:// URL: the private cluster tools/pgcluster.sh started for this script) and
# on SQLite (a path); the URL, which may hold a password, is never logged. Serving from
# PostgreSQL needs the key file every instance shares (--master-key, which migrate creates);
# two instances on one database then serve one programme.
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
	expect "migrate says the version" "PostgreSQL schema is at version 4; not serving" \
		"$(cat "$dir/err" "$dir/out")"
expect_eq "$(psql -d "$name" -Atc 'SELECT max(version), count(*) FROM schema_migration')" \
	"4|4" "schema_migration records versions 1 to 4"
run "migrate again: nothing to do" 0 "$ONBOARDD" migrate --db "$pgurl"
expect_eq "$(psql -d "$name" -Atc 'SELECT count(*) FROM schema_migration')" "4" \
	"no migration applied twice"
checks=$((checks + 1))
if grep -q "s3cret-word" "$dir/out" "$dir/err"; then
	fail "the URL's password reached the log"
else
	echo "ok: the URL is not logged"
fi

run_says "serving from PostgreSQL needs a key file" 1 "needs --master-key FILE" \
	"$ONBOARDD" --listen "ipc://$dir/pg.sock" --db "$pgurl"
run_says "a serving instance never makes the key file" 1 "does not exist" \
	"$ONBOARDD" --listen "ipc://$dir/pg.sock" --db "$pgurl" --master-key "$dir/shared.key"
checks=$((checks + 1))
[ -S "$dir/pg.sock" ] && fail "onboardd listened without keys" || echo "ok: it never listened"
run "migrate creates the shared key file" 0 "$ONBOARDD" migrate --db "$pgurl" \
	--master-key "$dir/shared.key"
expect_eq "$(stat -c %a "$dir/shared.key")" "600" "the key file is the owner's alone"

# Two instances on one database: what one takes, the other sees.
onboardd_start "ipc://$dir/pg1.sock" --db "$pgurl" --master-key "$dir/shared.key" --db-pool 2
pid1=$pid
log=$dir/onboardd2.log onboardd_start "ipc://$dir/pg2.sock" --db "$pgurl" \
	--master-key "$dir/shared.key"
pid2=$pid
url="ipc://$dir/pg1.sock"
cli submit --siren 732829320 --legal-name "Boulangerie Martin" --legal-form ei --naf 10.71C \
	--employees 4 --turnover-eur 350000 --balance-eur 120000 --address "12 rue de la Paix" \
	--postal-code 75002 --city Paris --contact-name "Claire Martin" --email claire@example.fr \
	--phone "01 23 45 67 89" --channel marketplace --category bakery --accept-terms
expect_rc 0 "submit through the first instance"
url="ipc://$dir/pg2.sock"
cli list
expect_rc 0 "list through the second instance"
expect_out "732829320" "the second instance lists the first's application"
cli submit --siren 732829320 --legal-name "Boulangerie Martin" --legal-form ei --naf 10.71C \
	--employees 4 --turnover-eur 350000 --balance-eur 120000 --address "12 rue de la Paix" \
	--postal-code 75002 --city Paris --contact-name "Claire Martin" --email claire@example.fr \
	--phone "01 23 45 67 89" --channel marketplace --category bakery --accept-terms
expect_rc 70 "the same SIREN through the second instance" # ALREADY_EXISTS (64 + 6): the other instance's application, decided by the database
expect_eq "$(psql -d "$name" -Atc "SELECT count(*) FROM application WHERE siren = '732829320'")" \
	"1" "one application in the shared database"
checks=$((checks + 1))
if psql -d "$name" -Atc "SELECT encode(name, 'escape') || encode(email, 'escape') FROM contact" |
	grep -q "claire@example.fr\|Claire Martin"; then
	fail "the contact is in clear in PostgreSQL"
else
	echo "ok: the contact is sealed in PostgreSQL"
fi
pid=$pid2
expect_clean_stop
pid=$pid1
expect_clean_stop

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

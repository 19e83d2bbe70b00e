/*
 * The PostgreSQL store's schema and migrations (store/pg.h), on a real server: the private
 * cluster of tools/pgcluster.sh, a database of its own per test (support/testpg.h).
 *   - a new database gets the whole schema, recorded as versions 1..N;
 *   - migrating again changes nothing;
 *   - instances that start together (eight threads, eight connections) apply each migration
 *     exactly once and all see the finished schema;
 *   - the database itself keeps one live application per SIREN and cohort (the partial
 *     unique index), and a rejected one leaves room for a new one;
 *   - a schema newer than the program is refused, and a server that cannot be reached is
 *     OB_EUNAVAIL, not a crash;
 *   - which --db values name PostgreSQL.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "store/pg.h"
#include "store/pg_impl.h"
#include "testpg.h"

static int setup(void **state)
{
	static ob_test_pg db;
	if (ob_test_pg_create(&db) != 0)
		return -1;
	*state = &db;
	return 0;
}

static int teardown(void **state)
{
	ob_test_pg_drop(*state);
	return 0;
}

static long long query_int(ob_test_pg *db, const char *sql)
{
	PGconn *c = ob_test_pg_connect(db);
	assert_non_null(c);
	long long v = ob_test_pg_int(c, sql);
	PQfinish(c);
	return v;
}

/* Runs sql; returns its SQLSTATE ("" on success) in state[6]. */
static void exec_state(PGconn *c, const char *sql, char state[6])
{
	PGresult *r = PQexec(c, sql);
	const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	snprintf(state, 6, "%s", PQresultStatus(r) == PGRES_COMMAND_OK ? "" : s != NULL ? s : "?");
	PQclear(r);
}

/* db migrated, and a connection to it (PQfinish it). */
static PGconn *migrated(ob_test_pg *db)
{
	unsigned v = 0;
	assert_int_equal(ob_store_pg_migrate(db->conninfo, &v), OB_OK);
	PGconn *c = ob_test_pg_connect(db);
	assert_non_null(c);
	return c;
}

static void test_new_database_gets_schema(void **state)
{
	ob_test_pg *db = *state;
	unsigned v = 0;
	assert_int_equal(ob_store_pg_migrate(db->conninfo, &v), OB_OK);
	assert_true(v >= 1);
	assert_int_equal(query_int(db, "SELECT count(*) FROM schema_migration"), v);
	assert_int_equal(query_int(db, "SELECT max(version) FROM schema_migration"), v);
	/* Every table of the SQLite schema is there. */
	assert_int_equal(query_int(db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
	                               " AND tablename IN ('cohort', 'application', 'contact',"
	                               " 'waitlist_left', 'history', 'counter', 'webinar_session',"
	                               " 'webinar_booking', 'advisor', 'idempotency', 'audit')"),
	                 11);

	/* Again: nothing to do, nothing recorded twice. */
	unsigned again = 0;
	assert_int_equal(ob_store_pg_migrate(db->conninfo, &again), OB_OK);
	assert_int_equal(again, v);
	assert_int_equal(query_int(db, "SELECT count(*) FROM schema_migration"), v);
}

typedef struct {
	const char *conninfo;
	ob_err err;
	unsigned version;
} migrator;

static void *migrate_main(void *arg)
{
	migrator *m = arg;
	m->err = ob_store_pg_migrate(m->conninfo, &m->version);
	return NULL;
}

static void test_instances_migrate_together(void **state)
{
	ob_test_pg *db = *state;
	enum { N = 8 };
	migrator m[N];
	pthread_t th[N];
	for (int i = 0; i < N; i++) {
		m[i] = (migrator){.conninfo = db->conninfo, .err = OB_EINTERNAL};
		assert_int_equal(pthread_create(&th[i], NULL, migrate_main, &m[i]), 0);
	}
	for (int i = 0; i < N; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (int i = 0; i < N; i++) {
		assert_int_equal(m[i].err, OB_OK);
		assert_int_equal(m[i].version, m[0].version);
	}
	assert_true(m[0].version >= 1);
	assert_int_equal(query_int(db, "SELECT count(*) FROM schema_migration"), m[0].version);
}

#define COHORT_SQL                                                                                 \
	"INSERT INTO cohort (id, name, capacity, window_opens, window_closes, window_enforced,"    \
	" lockdown_start, lockdown_end, fee_waiver_until, monthly_fee_cents, ad_credit_cents,"     \
	" webinar_hour, webinar_minute, webinar_seats, advisor_pool, eligible_sizes, created_at)"  \
	" VALUES ('2020-11', 'Lockdown', 800, 0, 0, 1, '2020-10-30', '2020-12-15', '2021-03-15',"  \
	" 3900, 20000, 10, 0, 100, 300, 3, 0)"

/* An application of SIREN 732829320 in cohort 2020-11 in state st. */
static void insert_app(PGconn *c, const char *id, int st, char sqlstate[6])
{
	char sql[1024];
	snprintf(sql, sizeof(sql),
	         "INSERT INTO application (id, cohort_id, state, version, siren, siret, legal_name,"
	         " trade_name, naf, vat, employees, turnover_eur, balance_eur, street, postal_code,"
	         " city, departement, region, channel, exports, categories, size, submitted_at,"
	         " updated_at, rejection) VALUES ('%s', '2020-11', %d, 1, '732829320',"
	         " '73282932000074', 'Boulangerie Martin', '', '10.71C', '', 4, 350000, 120000,"
	         " '12 rue de la Paix', '75002', 'Paris', '75', 'IDF', 1, 0, 'bakery', 1, 0, 0, 0)",
	         id, st);
	exec_state(c, sql, sqlstate);
}

static void test_one_live_application_per_siren(void **state)
{
	PGconn *c = migrated(*state);
	char st[6];
	exec_state(c, COHORT_SQL, st);
	assert_string_equal(st, "");
	insert_app(c, "A1", 1, st); /* SUBMITTED */
	assert_string_equal(st, "");
	insert_app(c, "A2", 1, st); /* a second live one: refused by the database */
	assert_string_equal(st, "23505");
	assert_int_equal(pg_from_sqlstate(st), OB_EEXIST);
	exec_state(c, "UPDATE application SET state = 7 WHERE id = 'A1'", st); /* REJECTED */
	assert_string_equal(st, "");
	insert_app(c, "A3", 1, st); /* applies again */
	assert_string_equal(st, "");
	assert_int_equal(ob_test_pg_int(c, "SELECT count(*) FROM application"), 2);
	PQfinish(c);
}

static void test_newer_schema_refused(void **state)
{
	ob_test_pg *db = *state;
	unsigned v = 0;
	PGconn *c = migrated(db);
	char st[6];
	exec_state(c, "INSERT INTO schema_migration (version) VALUES (1000)", st);
	assert_string_equal(st, "");
	PQfinish(c);
	assert_int_equal(ob_store_pg_migrate(db->conninfo, &v), OB_ECORRUPT);
	assert_int_equal(v, 1000);
}

static void test_unreachable_is_unavailable(void **state)
{
	ob_test_pg *db = *state;
	char conninfo[600];
	/* The cluster's socket directory, another port: no server there. */
	snprintf(conninfo, sizeof(conninfo), "%s port=1 connect_timeout=2", db->conninfo);
	unsigned v = 7;
	assert_int_equal(ob_store_pg_migrate(conninfo, &v), OB_EUNAVAIL);
	assert_int_equal(v, 0);
	assert_int_equal(
	        ob_store_pg_migrate("dbname=ob_no_such_database_here host=/nonexistent", &v),
	        OB_EUNAVAIL);
}

static void test_which_db_is_pg(void **state)
{
	(void)state;
	assert_true(ob_store_is_pg("postgresql://onboard@db/onboard"));
	assert_true(ob_store_is_pg("postgres://localhost/onboard"));
	assert_false(ob_store_is_pg("var/onboard.db"));
	assert_false(ob_store_is_pg("/srv/postgresql://x.db"));
	assert_false(ob_store_is_pg("postgresql:/x"));
	assert_false(ob_store_is_pg(""));
	assert_false(ob_store_is_pg(NULL));
}

/* SQLSTATEs as the store's callers see them: a serialization failure or a deadlock can be
 * run again, a unique violation is a conflict, a lost connection or a database that takes
 * no writes for now (read-only, shutting down) is unavailability. */
static void test_sqlstates(void **state)
{
	(void)state;
	assert_int_equal(pg_from_sqlstate("00000"), OB_OK);
	assert_int_equal(pg_from_sqlstate("23505"), OB_EEXIST);
	assert_int_equal(pg_from_sqlstate("40001"), OB_EUNAVAIL);
	assert_int_equal(pg_from_sqlstate("40P01"), OB_EUNAVAIL);
	assert_int_equal(pg_from_sqlstate("08006"), OB_EUNAVAIL);
	assert_int_equal(pg_from_sqlstate("57P01"), OB_EUNAVAIL);
	assert_int_equal(pg_from_sqlstate("57P03"), OB_EUNAVAIL);
	/* Writes refused for now: read-only, no connection slot left, a lock_timeout. */
	assert_int_equal(pg_from_sqlstate("25006"), OB_EUNAVAIL);
	assert_int_equal(pg_from_sqlstate("53300"), OB_EUNAVAIL);
	assert_int_equal(pg_from_sqlstate("55P03"), OB_EUNAVAIL);
	/* The rest of those classes are the statement's own fault. */
	assert_int_equal(pg_from_sqlstate("25001"), OB_EIO);
	assert_int_equal(pg_from_sqlstate("55000"), OB_EIO);
	assert_int_equal(pg_from_sqlstate("53100"), OB_ENOSPC);
	assert_int_equal(pg_from_sqlstate("54000"), OB_ETOOBIG);
	assert_int_equal(pg_from_sqlstate("XX001"), OB_ECORRUPT);
	assert_int_equal(pg_from_sqlstate("42P01"), OB_EIO);
	assert_int_equal(pg_from_sqlstate(NULL), OB_EUNAVAIL);
	assert_int_equal(pg_from_sqlstate("4"), OB_EUNAVAIL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_new_database_gets_schema, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_instances_migrate_together, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_one_live_application_per_siren, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_unreachable_is_unavailable, setup, teardown),
	        cmocka_unit_test(test_which_db_is_pg),
	        cmocka_unit_test(test_sqlstates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

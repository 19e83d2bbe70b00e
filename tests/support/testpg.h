/*
 * testpg.h: a database of its own for a test, in the private PostgreSQL cluster that
 * tools/pgcluster.sh starts for the test program and names in $ONBOARD_TEST_PG (a libpq
 * conninfo of its "postgres" database).
 *
 *     ob_test_pg db;
 *     if (ob_test_pg_create(&db) != 0)      CREATE DATABASE ob_test_PID_N
 *             return -1;
 *     ... ob_store_pg_migrate(db.conninfo, &v) ...
 *     ob_test_pg_drop(&db);
 *
 * No cmocka, as testdomain.h. Any thread.
 */
#ifndef OB_TESTS_TESTPG_H
#define OB_TESTS_TESTPG_H

#include <stddef.h>

/* libpq-fe.h's own declaration of PGconn, so that testsrv.h can hold an ob_test_pg without
 * making every program that starts a server find libpq's headers. */
typedef struct pg_conn PGconn;

typedef struct ob_test_pg {
	char name[64];      /* the database's name, "" once dropped */
	char conninfo[512]; /* $ONBOARD_TEST_PG with dbname=NAME */
} ob_test_pg;

/* Creates a new empty database with a name unique to this process and call. Returns 0, or -1
 * after saying why on stderr: no $ONBOARD_TEST_PG (the program was not run under
 * tools/pgcluster.sh, as meson runs it) or the cluster refused. */
int ob_test_pg_create(ob_test_pg *db);

/* Whether the program runs under tools/pgcluster.sh ($ONBOARD_TEST_PG is set): the tests'
 * servers and domains are then on PostgreSQL. */
int ob_test_pg_enabled(void);

/* Writes db as a postgresql:// URL, as onboardd's --db takes it (the cluster's socket
 * directory and port from $PGHOST and $PGPORT, which tools/pgcluster.sh sets), into
 * url[n]. Returns 0, or -1 after saying why. */
int ob_test_pg_url(const ob_test_pg *db, char *url, size_t n);

/* A connection to db, or NULL after saying why; the caller PQfinish'es it. */
PGconn *ob_test_pg_connect(const ob_test_pg *db);

/* Runs sql on c and returns the first column of its first row as a number, or -1 (said on
 * stderr) when it fails or returns no row. */
long long ob_test_pg_int(PGconn *c, const char *sql);

/* Lets new connections into db (allow 1) or refuses them all, superusers' too (allow 0:
 * ALTER DATABASE ... ALLOW_CONNECTIONS false), as a database that cannot be reached; the
 * connections already open stay. Returns 0, or -1 after saying why. */
int ob_test_pg_allow_connections(const ob_test_pg *db, int allow);

/* Drops db (closing what is still connected to it); accepts one already dropped. */
void ob_test_pg_drop(ob_test_pg *db);

#endif

#include "testpg.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include <libpq-fe.h>

static atomic_uint counter;

/* Runs sql on the cluster's "postgres" database; 0 or -1 after saying why. */
static int admin_exec(const char *sql)
{
	const char *base = getenv("ONBOARD_TEST_PG");
	if (base == NULL || base[0] == '\0') {
		fprintf(stderr, "testpg: ONBOARD_TEST_PG is not set: run the test under "
		                "tools/pgcluster.sh (meson test does)\n");
		return -1;
	}
	PGconn *c = PQconnectdb(base);
	int rc = -1;
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "testpg: cannot connect to %s: %s", base, PQerrorMessage(c));
	} else {
		PGresult *r = PQexec(c, sql);
		if (PQresultStatus(r) == PGRES_COMMAND_OK)
			rc = 0;
		else
			fprintf(stderr, "testpg: %s: %s", sql, PQerrorMessage(c));
		PQclear(r);
	}
	PQfinish(c);
	return rc;
}

int ob_test_pg_create(ob_test_pg *db)
{
	memset(db, 0, sizeof(*db));
	snprintf(db->name, sizeof(db->name), "ob_test_%ld_%u", (long)getpid(),
	         atomic_fetch_add(&counter, 1));
	char sql[128];
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db->name);
	if (admin_exec(sql) != 0) {
		db->name[0] = '\0';
		return -1;
	}
	snprintf(db->conninfo, sizeof(db->conninfo), "%s dbname=%s", getenv("ONBOARD_TEST_PG"),
	         db->name);
	return 0;
}

int ob_test_pg_enabled(void)
{
	const char *pg = getenv("ONBOARD_TEST_PG");
	return pg != NULL && pg[0] != '\0';
}

int ob_test_pg_url(const ob_test_pg *db, char *url, size_t n)
{
	const char *host = getenv("PGHOST"), *port = getenv("PGPORT");
	if (host == NULL || port == NULL || db->name[0] == '\0') {
		fprintf(stderr, "testpg: no $PGHOST and $PGPORT, or no database: run the test "
		                "under tools/pgcluster.sh\n");
		return -1;
	}
	int len =
	        snprintf(url, n, "postgresql://onboard@/%s?host=%s&port=%s", db->name, host, port);
	if (len < 0 || (size_t)len >= n) {
		fprintf(stderr, "testpg: the URL of %s is too long\n", db->name);
		return -1;
	}
	return 0;
}

PGconn *ob_test_pg_connect(const ob_test_pg *db)
{
	PGconn *c = PQconnectdb(db->conninfo);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "testpg: cannot connect to %s: %s", db->name, PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

long long ob_test_pg_int(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	long long v = -1;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
		v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	else
		fprintf(stderr, "testpg: %s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	return v;
}

int ob_test_pg_allow_connections(const ob_test_pg *db, int allow)
{
	char sql[160];
	snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS %s", db->name,
	         allow ? "true" : "false");
	return admin_exec(sql);
}

void ob_test_pg_drop(ob_test_pg *db)
{
	if (db->name[0] == '\0')
		return;
	char sql[128];
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", db->name);
	(void)admin_exec(sql);
	db->name[0] = '\0';
}

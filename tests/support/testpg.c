#include "testpg.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

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

void ob_test_pg_drop(ob_test_pg *db)
{
	if (db->name[0] == '\0')
		return;
	char sql[128];
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", db->name);
	(void)admin_exec(sql);
	db->name[0] = '\0';
}

/*
 * crash_pg.c: the crash campaign against PostgreSQL (onboard-crash --pg): a database of its
 * own in the private cluster of tools/pgcluster.sh, the checks' queries through libpq, and
 * the cluster's crash and restart.
 *
 * The queries are crash_checks.c's and the kinds' (crash_writes.c), written for both
 * databases: their ?1, ?2, ?3 become $1, $2, $3, typed text, integer and integer, so that a
 * query that does not use one of them still prepares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "crash.h"
#include "testpg.h"

enum { TEXTOID = 25, INT4OID = 23 };

bool cr_is_pg(const char *db)
{
	return db != NULL && strncmp(db, "postgresql://", 13) == 0;
}

int cr_pg_database(char *url, size_t size)
{
	ob_test_pg db;
	const char *host = getenv("PGHOST"), *port = getenv("PGPORT"), *user = getenv("PGUSER");
	if (host == NULL || port == NULL || user == NULL) {
		fprintf(stderr, "onboard-crash: --pg needs PGHOST, PGPORT and PGUSER: run it under "
		                "tools/pgcluster.sh\n");
		return -1;
	}
	if (ob_test_pg_create(&db) != 0)
		return -1;
	/* amcheck, for the checks of the indexes (cr_pg_integrity). */
	PGconn *c = ob_test_pg_connect(&db);
	PGresult *r = c != NULL ? PQexec(c, "CREATE EXTENSION IF NOT EXISTS amcheck") : NULL;
	bool ok = r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		fprintf(stderr, "onboard-crash: CREATE EXTENSION amcheck: %s\n",
		        c != NULL ? PQerrorMessage(c) : "no connection");
	PQclear(r);
	PQfinish(c);
	snprintf(url, size, "postgresql://%s@/%s?host=%s&port=%s", user, db.name, host, port);
	return ok ? 0 : -1;
}

int cr_pg_restart(void)
{
	const char *cmd = getenv("PGCLUSTER_RESTART");
	if (cmd == NULL) {
		fprintf(stderr, "onboard-crash: no PGCLUSTER_RESTART: run it under "
		                "tools/pgcluster.sh\n");
		return -1;
	}
	int rc = system(cmd);
	if (rc != 0)
		fprintf(stderr, "onboard-crash: %s exited with %d\n", cmd, rc);
	return rc == 0 ? 0 : -1;
}

int cr_pg_open(cr_check *x, const char *url)
{
	x->pg = PQconnectdb(url);
	PGresult *r = NULL;
	if (PQstatus(x->pg) == CONNECTION_OK)
		r = PQexec(x->pg, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
	bool ok = r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	if (!ok) {
		cr_report(x->m, CR_UNEXPECTED, "%s: cannot open the PostgreSQL database: %s",
		          x->what, PQerrorMessage(x->pg));
		PQfinish(x->pg);
		x->pg = NULL;
		return -1;
	}
	return 0;
}

void cr_pg_close(cr_check *x)
{
	if (x->pg == NULL)
		return;
	PQclear(PQexec(x->pg, "COMMIT"));
	PQfinish(x->pg);
	x->pg = NULL;
}

/* The statement of sql, prepared once per check under the name of its slot (cached by the
 * literal's address, as crash_checks.c caches SQLite's). NULL, said, when it cannot be. */
static const char *prepared(cr_check *x, const char *sql)
{
	static const Oid types[3] = {TEXTOID, INT4OID, INT4OID};
	size_t i = 0;
	for (; i < CR_PG_STATEMENTS && x->pg_sql[i] != NULL; i++)
		if (x->pg_sql[i] == sql)
			return x->pg_names[i];
	if (i == CR_PG_STATEMENTS)
		return NULL;
	char *text = strdup(sql);
	if (text == NULL)
		return NULL;
	for (char *p = text; *p != '\0'; p++)
		if (*p == '?' && p[1] >= '1' && p[1] <= '3')
			*p = '$';
	snprintf(x->pg_names[i], sizeof(x->pg_names[i]), "q%zu", i);
	PGresult *r = PQprepare(x->pg, x->pg_names[i], text, 3, types);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	free(text);
	if (!ok)
		return NULL;
	x->pg_sql[i] = sql;
	return x->pg_names[i];
}

/* Runs sql with its three parameters; NULL (the caller reports) when it fails. */
static PGresult *run(cr_check *x, const char *sql, const char *text, int a, int b)
{
	const char *name = prepared(x, sql);
	if (name == NULL)
		return NULL;
	char sa[16], sb[16];
	snprintf(sa, sizeof(sa), "%d", a);
	snprintf(sb, sizeof(sb), "%d", b);
	const char *values[3] = {text, sa, sb};
	PGresult *r = PQexecPrepared(x->pg, name, 3, values, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		return r;
	PQclear(r);
	return NULL;
}

int cr_pg_count(cr_check *x, const char *sql, const char *text, int a, int b)
{
	PGresult *r = run(x, sql, text, a, b);
	int n = -1;
	if (r != NULL && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
		n = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (n < 0)
		cr_report(x->m, CR_UNEXPECTED, "%s: %s: %s", x->what, sql, PQerrorMessage(x->pg));
	return n;
}

bool cr_pg_strings(cr_check *x, const char *sql, const char *text, cr_string_fn each, void *ctx)
{
	PGresult *r = run(x, sql, text, 0, 0);
	if (r == NULL) {
		cr_report(x->m, CR_UNEXPECTED, "%s: %s: %s", x->what, sql, PQerrorMessage(x->pg));
		return false;
	}
	bool ok = true;
	for (int i = 0; ok && i < PQntuples(r); i++)
		ok = each(ctx, PQgetvalue(r, i, 0));
	PQclear(r);
	return ok;
}

/* PostgreSQL's counterpart of PRAGMA integrity_check: amcheck's bt_index_check of every
 * B-tree index of the schema, with heapallindexed (every row of the table is in the index),
 * which raises an error on the first inconsistency. */
static const char q_indexes[] = "SELECT count(bt_index_check(c.oid, true)) FROM pg_index i"
                                " JOIN pg_class c ON c.oid = i.indexrelid"
                                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                                " JOIN pg_am am ON am.oid = c.relam"
                                " WHERE n.nspname = current_schema() AND am.amname = 'btree'";

void cr_pg_integrity(cr_check *x)
{
	int n = cr_pg_count(x, q_indexes, NULL, 0, 0);
	if (n == 0)
		cr_report(x->m, CR_UNEXPECTED, "%s: no index to check", x->what);
}
